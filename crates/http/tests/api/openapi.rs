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
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
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
