//! The OpenAPI document as served: compared with the committed snapshot, so a change to a
//! route, a status it may answer or a content type shows up in review. Accept a deliberate
//! change with `cargo insta review` (or `INSTA_UPDATE=always`).

use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn the_served_document_matches_the_snapshot() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let a = app.get("/openapi.json", None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let mut doc = a.body.clone();
    // The build's version is the only part that changes without a change to the API.
    doc["info"]["version"] = serde_json::json!("<version>");
    insta::assert_json_snapshot!("openapi", doc);
    // Every operation declares the error body for its failures, and /metrics its text type.
    let metrics = &doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"];
    assert!(
        metrics
            .get("text/plain; version=0.0.4; charset=utf-8")
            .is_some()
    );
    // Request bodies are described by their types; only the two that take any JSON object
    // (an announcement, a broadcast) are bare objects, and imports are CSV text.
    let free_form = ["/api/v2/live-announce", "/ws/sessions/{id}/broadcast"];
    let schemas = &doc["components"]["schemas"];
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            if let Some(body) = op.get("requestBody") {
                if let Some(csv) = body["content"].get("text/csv") {
                    assert_eq!(csv["schema"]["type"], "string", "{method} {path}");
                    assert!(path.ends_with("/import"), "{method} {path}");
                    continue;
                }
                let schema = &body["content"]["application/json"]["schema"];
                if free_form.contains(&path.as_str()) {
                    assert_eq!(schema["type"], "object", "{method} {path}");
                } else {
                    // One type, or alternatives (ours and the earlier API's shape), each a type.
                    let one = [schema.clone()];
                    let alternatives = schema["anyOf"].as_array().map_or(&one[..], |a| &a[..]);
                    for alternative in alternatives {
                        let name = alternative["$ref"].as_str().unwrap_or_default();
                        let name = name.trim_start_matches("#/components/schemas/");
                        assert!(
                            schemas[name]["properties"].is_object(),
                            "{method} {path}: the body has no schema from its type"
                        );
                    }
                }
            }
            for p in op["parameters"].as_array().unwrap() {
                assert!(
                    p["schema"].is_object() && p["schema"] != serde_json::json!({}),
                    "{method} {path}: parameter {} has no schema",
                    p["name"]
                );
            }
            for (code, r) in op["responses"].as_object().unwrap() {
                if code.starts_with('4') || code.starts_with('5') {
                    assert_eq!(
                        r["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/Error",
                        "{method} {path} {code}"
                    );
                }
            }
        }
    }
}
