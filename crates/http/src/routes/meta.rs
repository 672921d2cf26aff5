//! `/` (what this service is), `/openapi.json` (built from the route table) and `/docs`
//! (Swagger UI bundled in the binary; no outside requests).

use super::{Entry, RouteDoc, docs, route};
use crate::auth::Access;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Map, Value, json};

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "get",
            "/",
            Access::Public,
            "meta",
            "What this service is, and where its documentation lives",
            get(root),
        ),
        route(
            "get",
            "/openapi.json",
            Access::Public,
            "meta",
            "This OpenAPI 3.1 document",
            get(openapi),
        ),
    ]
}

async fn root(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "service": "Halcytone Content Generator",
        "name": state.config.service_name,
        "version": state.config.version,
        "status": "operational",
        "environment": state.config.environment,
        "dry_run": state.publishing.settings.dry_run,
        "docs": "/docs",
        "openapi": "/openapi.json",
        "health": "/health",
        "metrics": "/metrics",
    }))
}

async fn openapi(State(state): State<AppState>) -> Json<Value> {
    Json(document(&state.config.version))
}

pub fn swagger_ui() -> utoipa_swagger_ui::SwaggerUi {
    utoipa_swagger_ui::SwaggerUi::new("/docs")
        .config(utoipa_swagger_ui::Config::new(["/openapi.json"]).validator_url("none"))
}

fn operation(d: &RouteDoc) -> Value {
    let mut params: Vec<Value> = d
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect();
    params.extend(d.query.iter().map(|(name, desc)| {
        json!({ "name": name, "in": "query", "required": false, "description": desc, "schema": { "type": "string" } })
    }));
    params.push(json!({ "name": "X-Correlation-ID", "in": "header", "required": false, "description": "Echoed back and written in every log line of the request; generated when absent", "schema": { "type": "string", "maxLength": 128 } }));
    let mut responses = Map::new();
    let success = match (d.ok, d.path) {
        // A WebSocket upgrade has no body.
        (101, _) => json!({ "description": "Switching to the WebSocket protocol" }),
        (_, "/metrics") => {
            json!({ "description": "Prometheus text exposition (JSON when the request's Accept asks for it)", "content": {
            "text/plain; version=0.0.4; charset=utf-8": { "schema": { "type": "string" } },
            "application/json": { "schema": { "type": "object" } },
        } })
        }
        _ => {
            json!({ "description": "Success", "content": { "application/json": { "schema": { "type": "object" } } } })
        }
    };
    responses.insert(d.ok.to_string(), success);
    let mut errors: Vec<(u16, &str)> = d.errors.to_vec();
    if d.ok == 101 {
        errors.push((400, "Not a WebSocket upgrade request"));
    }
    if !d.query.is_empty() {
        errors.push((400, "A query string that cannot be read"));
        errors.push((
            422,
            "A query parameter has a wrong value; `error.field` names it",
        ));
    }
    if d.path.contains('{') {
        errors.push((404, "Nothing has this id"));
        errors.push((
            422,
            "An id in the path is not well formed; `error.field` names it",
        ));
    }
    if d.body.is_some() {
        errors.push((400, "Malformed JSON"));
        errors.push((413, "Body larger than MAX_BODY_BYTES"));
        errors.push((
            422,
            "A field has a wrong type or value; `error.field` names it",
        ));
    }
    match d.access {
        Access::Public => {}
        Access::Signed => {
            errors.push((401, "Missing, wrong, stale or replayed X-Signature"));
        }
        Access::Key(_) | Access::PreviewOrWrite => {
            errors.push((401, "No API key, or an unknown or revoked one"));
            errors.push((403, "The key lacks the scope this route needs"));
            errors.push((429, "Per-key rate limit exceeded; see Retry-After"));
        }
    }
    for (status, why) in errors {
        responses.entry(status.to_string()).or_insert_with(|| {
            json!({ "description": why, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
        });
    }
    let mut op = json!({
        "tags": [d.tag],
        "summary": d.summary,
        "operationId": format!("{}_{}", d.method, d.path.trim_matches('/').replace(['/', '{', '}', '-', '.'], "_")),
        "parameters": params,
        "responses": responses,
    });
    match d.access {
        Access::Public => op["security"] = json!([]),
        Access::Signed => {
            op["security"] = json!([]);
            op["x-signature"] = json!(
                "X-Signature: sha256=<hex HMAC-SHA256(CACHE_WEBHOOK_SECRET, \"<X-Timestamp>.<body>\")>; a write key when no secret is configured"
            );
        }
        Access::Key(scope) => {
            op["security"] = json!([{ "bearer": [] }, { "apiKey": [] }]);
            op["x-required-scope"] = json!(scope.as_str());
        }
        Access::PreviewOrWrite => {
            op["security"] = json!([{}, { "bearer": [] }, { "apiKey": [] }]);
            op["x-required-scope"] = json!("write (none for preview_only)");
        }
    }
    if let Some(body) = d.body {
        op["requestBody"] = json!({ "required": false, "description": body, "content": { "application/json": { "schema": { "type": "object" } } } });
    }
    op
}

/// The OpenAPI 3.1 document of every route in the table.
pub fn document(version: &str) -> Value {
    let mut paths = Map::new();
    for d in docs() {
        let entry = paths.entry(d.path.to_string()).or_insert_with(|| json!({}));
        entry[d.method] = operation(&d);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Halcytone API",
            "version": version,
            "description": "Turns the living document into newsletter, web and social content and publishes it as durable jobs. In dry run every publish goes to the mock CRM and mock Platform.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key> (a key in quotes is accepted)" },
                "apiKey": { "type": "apiKey", "in": "header", "name": "X-API-Key" },
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["detail", "error", "correlation_id"],
                    "properties": {
                        "detail": { "type": "string", "description": "A sentence for people" },
                        "error": { "type": "object", "properties": { "code": { "type": "string" }, "field": { "type": ["string", "null"] } } },
                        "correlation_id": { "type": "string" },
                    },
                },
            },
        },
    })
}
