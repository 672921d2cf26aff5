//! `/` (what this service is), `/openapi.json` (built from the route table) and `/docs`
//! (Swagger UI bundled in the binary; no outside requests).

use super::{Components, Entry, Param, RouteDoc, docs, route};
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

/// Swagger UI at `/docs`, reading `/openapi.json`, with a viewport for phones.
pub fn swagger_ui() -> axum::Router {
    halcytone_webpage::swagger_ui(
        utoipa_swagger_ui::SwaggerUi::new("/docs")
            .config(utoipa_swagger_ui::Config::new(["/openapi.json"]).validator_url("none"))
            .into(),
    )
}

fn operation(d: &RouteDoc, components: &mut Components) -> Value {
    let mut params: Vec<Value> = d
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| match d.path_params.iter().find(|p| p.name == name) {
            Some(p) => p.document("path"),
            None => Param::text(name, "").document("path"),
        })
        .collect();
    params.extend(d.query.iter().map(|p| p.document("query")));
    params.push(json!({ "name": "X-Correlation-ID", "in": "header", "required": false, "description": "Echoed back and written in every log line of the request. Up to 128 characters of A–Z a–z 0–9 . _ : -; any other value (or none) is replaced by a generated id", "schema": { "type": "string" } }));
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
        (204, _) => json!({ "description": "Done; no content" }),
        (_, "/feed.atom") => {
            json!({ "description": "Atom 1.0 feed of the published web posts", "content": {
            "application/atom+xml; charset=utf-8": { "schema": { "type": "string" } },
        } })
        }
        (_, "/feed.json") => {
            json!({ "description": "JSON Feed 1.1 of the published web posts", "content": {
            "application/feed+json; charset=utf-8": { "schema": { "type": "object" } },
        } })
        }
        _ => {
            json!({ "description": "Success", "content": { "application/json": { "schema": { "type": "object" } } } })
        }
    };
    responses.insert(d.ok.to_string(), success);
    if let Some((status, why)) = d.also_ok {
        responses.insert(
            status.to_string(),
            json!({ "description": why, "content": { "application/json": { "schema": { "type": "object" } } } }),
        );
    }
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
    if d.body.is_some() && d.body_media == "text/csv" {
        errors.push((413, "Body larger than MAX_IMPORT_BYTES"));
        errors.push((415, "The body is not sent as Content-Type: text/csv"));
    } else if d.body.is_some() {
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
        let schema = d
            .body_schema
            .map_or_else(|| json!({ "type": "object" }), |f| f(components));
        // An empty JSON body reads as `{}`: it may be left out unless the type requires a field.
        let required =
            d.body_media != "application/json" || has_required_fields(&schema, components);
        op["requestBody"] = json!({ "required": required, "description": body, "content": { d.body_media: { "schema": schema } } });
    }
    op
}

/// The OpenAPI 3.1 document of every route in the table.
pub fn document(version: &str) -> Value {
    let mut paths = Map::new();
    let mut components = Components::new();
    for d in docs() {
        let entry = paths.entry(d.path.to_string()).or_insert_with(|| json!({}));
        entry[d.method] = operation(&d, &mut components);
    }
    super::schema_of::<crate::error::ErrorBody>(&mut components);
    let mut schemas = Map::new();
    for (name, schema) in components {
        schemas
            .entry(name)
            .or_insert_with(|| serde_json::to_value(schema).unwrap_or(Value::Null));
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
            "schemas": schemas,
        },
    })
}

/// Whether `schema` (or the component it refers to) requires any field.
fn has_required_fields(schema: &Value, components: &Components) -> bool {
    let resolved = match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            components
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, s)| serde_json::to_value(s).ok())
                .unwrap_or(Value::Null)
        }
        None => schema.clone(),
    };
    resolved["required"]
        .as_array()
        .is_some_and(|r| !r.is_empty())
}
