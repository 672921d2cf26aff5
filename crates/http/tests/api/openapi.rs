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

/// Paths the docs name that belong to other services: Prometheus and Alertmanager.
const NOT_OURS: [&str; 3] = ["/api/v1/targets", "/api/v1/query", "/api/v2/alerts"];

/// The API paths (`/api/v1/…`, `/api/v2/…`, `/ws/…`) a Markdown text names, with whether each
/// is a prefix (`/api/v1/cache/*`). Query strings and trailing punctuation are left out.
fn named_paths(text: &str) -> Vec<(String, bool)> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_{}<>$:.-/".contains(c);
    let mut out = Vec::new();
    for start in ["/api/v1/", "/api/v2/", "/ws/"] {
        for (at, _) in text.match_indices(start) {
            let rest = &text[at..];
            let end = rest.find(|c: char| !allowed(c)).unwrap_or(rest.len());
            let path = rest[..end].trim_end_matches(['.', ':', '-']);
            let prefix = rest[end..].starts_with('*');
            let path = path.trim_end_matches('/');
            if path.len() > start.len() || prefix {
                out.push((at, path.to_string(), prefix));
            }
        }
    }
    out.sort();
    out.into_iter()
        .map(|(_, path, prefix)| (path, prefix))
        .collect()
}

/// Whether a path the docs name is one of `paths`: equal segment by segment, where a
/// parameter on either side (`{id}`, `<id>`, `$ID`, `:id`) stands for any segment.
fn documented(paths: &[Vec<String>], path: &str, prefix: bool) -> bool {
    let wanted: Vec<&str> = path.trim_matches('/').split('/').collect();
    let param = |s: &str| s.starts_with(['{', '<', '$', ':']);
    paths.iter().any(|p| {
        let fits = if prefix {
            p.len() > wanted.len()
        } else {
            p.len() == wanted.len()
        };
        fits && p
            .iter()
            .zip(&wanted)
            .all(|(a, b)| a == b || param(a) || param(b))
    })
}

/// Every route the README and docs/ name exists in the API's OpenAPI document or in one of
/// the mocks' (the mock CRM and mock Platform serve their own).
#[tokio::test]
async fn every_route_the_docs_name_is_in_an_openapi_document() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let mut paths: Vec<Vec<String>> = Vec::new();
    for base in [
        app.base.clone(),
        app.crm.as_str().trim_end_matches('/').to_string(),
        app.platform.as_str().trim_end_matches('/').to_string(),
    ] {
        let doc =
            halcytone_testkit::http::get_json(&app.http, format!("{base}/openapi.json")).await;
        for p in doc["paths"].as_object().unwrap().keys() {
            paths.push(p.trim_matches('/').split('/').map(str::to_string).collect());
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let mut missing = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for (path, prefix) in named_paths(line) {
                if NOT_OURS.contains(&path.as_str()) {
                    continue;
                }
                checked += 1;
                if !documented(&paths, &path, prefix) {
                    missing.push(format!("{}:{}: {path}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        checked > 100,
        "the docs name {checked} routes; the scan finds too few"
    );
    assert!(
        missing.is_empty(),
        "routes the docs name that no OpenAPI document has:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_docs_scan_reads_paths_as_written() {
    assert_eq!(
        named_paths("see `POST /api/v2/jobs/{job_id}/retry`, /api/v1/cache/* and /ws/jobs."),
        [
            ("/api/v2/jobs/{job_id}/retry".to_string(), false),
            ("/api/v1/cache".to_string(), true),
            ("/ws/jobs".to_string(), false),
        ]
    );
    let paths = vec![vec![
        "api".into(),
        "v2".into(),
        "jobs".into(),
        "{id}".into(),
    ]];
    assert!(documented(&paths, "/api/v2/jobs/job_42", false));
    assert!(documented(&paths, "/api/v2/jobs", true));
    assert!(!documented(&paths, "/api/v2/jobz/1", false));
}
