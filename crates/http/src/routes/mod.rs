//! Every route of the API in one table: method, path, the access it needs, and what the
//! OpenAPI document says about it. The router, the auth guard of each route and
//! `/openapi.json` are all built from this table, so they cannot disagree — and the auth
//! test walks the same table.

pub mod ab_tests;
pub mod audiences;
pub mod batch;
pub mod batch_generate;
pub mod cache;
pub mod content;
pub mod credentials;
pub mod email_analytics;
pub mod feeds;
pub mod health;
pub mod jobs;
pub mod live;
pub mod meta;
pub mod metrics;
pub mod newsletter;
pub mod operations;
pub mod original_shape;
pub mod params;
pub mod personalization;
pub mod review;
pub mod schedules;
pub mod segments;
pub mod social;
pub mod suppressions;
pub mod versions;
pub mod webhooks;

use crate::auth::{self, Access};
use crate::error::ApiError;
use crate::state::AppState;
use crate::{correlation, http};
use axum::Router;
use axum::routing::MethodRouter;
use halcytone_store::Scope;
pub use params::Param;

/// One documented route.
#[derive(Debug, Clone)]
pub struct RouteDoc {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    pub tag: &'static str,
    pub summary: &'static str,
    pub query: Vec<Param>,
    /// Path parameters with a rule narrower than "any text" (the rest are plain strings).
    pub path_params: Vec<Param>,
    /// A description of the JSON body, when it takes one.
    pub body: Option<&'static str>,
    /// The JSON Schema of that body, from its request type.
    pub body_schema: Option<BodySchema>,
    /// The body's media type: `application/json`, or `text/csv` for an import.
    pub body_media: &'static str,
    pub ok: u16,
    /// Another success a route may answer (202 when its job is still running).
    pub also_ok: Option<(u16, &'static str)>,
    pub errors: &'static [(u16, &'static str)],
    /// Which body limit applies (see [`BodyClass`]).
    pub body_class: BodyClass,
}

/// Writes the schemas a request type needs into `components` and answers the schema (or
/// the reference) of the body itself.
pub type BodySchema = fn(&mut Components) -> serde_json::Value;

/// Named schemas collected for the document's `components.schemas`.
pub type Components = Vec<(
    String,
    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
)>;

/// The body schema of a request type that derives `utoipa::ToSchema`.
pub fn schema_of<T: utoipa::ToSchema>(components: &mut Components) -> serde_json::Value {
    T::schemas(components);
    components.push((T::name().into_owned(), T::schema()));
    serde_json::json!({ "$ref": format!("#/components/schemas/{}", T::name()) })
}

/// A body that may be any JSON object.
pub fn any_object(_: &mut Components) -> serde_json::Value {
    serde_json::json!({ "type": "object" })
}

/// The body limits a route can have, each set by its own variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyClass {
    /// `MAX_BODY_BYTES`: ordinary JSON requests.
    Standard,
    /// `MAX_DOCUMENT_BYTES`: requests that carry a living document.
    Document,
    /// `MAX_WEBHOOK_BYTES`: inbound webhooks.
    Webhook,
    /// `MAX_IMPORT_BYTES`: CSV imports, streamed rather than read whole.
    Import,
}

impl BodyClass {
    /// The limit in bytes and the variable that sets it.
    pub fn limit(self, config: &crate::config::ServerConfig) -> (usize, &'static str) {
        match self {
            BodyClass::Standard => (config.max_body_bytes, "MAX_BODY_BYTES"),
            BodyClass::Document => (config.max_document_bytes, "MAX_DOCUMENT_BYTES"),
            BodyClass::Webhook => (config.max_webhook_bytes, "MAX_WEBHOOK_BYTES"),
            BodyClass::Import => (config.max_import_bytes, "MAX_IMPORT_BYTES"),
        }
    }
}

#[derive(Debug)]
pub struct Entry {
    pub doc: RouteDoc,
    pub handler: MethodRouter<AppState>,
}

/// Starts a table entry.
pub fn route(
    method: &'static str,
    path: &'static str,
    access: Access,
    tag: &'static str,
    summary: &'static str,
    handler: MethodRouter<AppState>,
) -> Entry {
    Entry {
        doc: RouteDoc {
            method,
            path,
            access,
            tag,
            summary,
            query: Vec::new(),
            path_params: Vec::new(),
            body: None,
            body_schema: None,
            body_media: "application/json",
            ok: 200,
            also_ok: None,
            errors: &[],
            body_class: if access == Access::Signed {
                BodyClass::Webhook
            } else {
                BodyClass::Standard
            },
        },
        handler,
    }
}

impl Entry {
    pub fn query(mut self, q: impl IntoIterator<Item = Param>) -> Self {
        self.doc.query = q.into_iter().collect();
        self
    }
    /// Narrows what a path parameter accepts.
    pub fn path_param(mut self, p: Param) -> Self {
        self.doc.path_params.push(p);
        self
    }
    /// A JSON body of type `T` (its schema comes from the type).
    pub fn body<T: utoipa::ToSchema>(self, description: &'static str) -> Self {
        self.body_with(description, schema_of::<T>)
    }
    /// A JSON body whose schema `schema` writes.
    pub fn body_with(mut self, description: &'static str, schema: BodySchema) -> Self {
        self.doc.body = Some(description);
        self.doc.body_schema = Some(schema);
        self
    }
    /// A `text/csv` body, streamed into the handler under `MAX_IMPORT_BYTES`.
    pub fn csv_body(mut self, description: &'static str) -> Self {
        self.doc.body = Some(description);
        self.doc.body_schema = Some(|_| serde_json::json!({ "type": "string" }));
        self.doc.body_media = "text/csv";
        self.doc.body_class = BodyClass::Import;
        self
    }
    /// Narrows the schema of a body declared before (a CSV that must hold something).
    pub fn body_schema(mut self, schema: BodySchema) -> Self {
        self.doc.body_schema = Some(schema);
        self
    }
    /// 202: the job is queued or still running when the request's time budget ends.
    pub fn accepted_while_running(self) -> Self {
        self.also_ok(
            202,
            "The job was queued (scheduled) or is still running when the request's time budget ended; follow it at /api/v2/jobs/{job_id}",
        )
    }
    /// A second success status the route answers, and when.
    pub fn also_ok(mut self, status: u16, description: &'static str) -> Self {
        self.doc.also_ok = Some((status, description));
        self
    }
    pub fn ok(mut self, status: u16) -> Self {
        self.doc.ok = status;
        self
    }
    pub fn errors(mut self, errors: &'static [(u16, &'static str)]) -> Self {
        self.doc.errors = errors;
        self
    }
    /// The route carries a living document (the larger `MAX_DOCUMENT_BYTES` limit).
    pub fn carries_document(mut self) -> Self {
        self.doc.body_class = BodyClass::Document;
        self
    }
}

pub const READ: Access = Access::Key(Scope::Read);
pub const WRITE: Access = Access::Key(Scope::Write);
pub const ADMIN: Access = Access::Key(Scope::Admin);

/// The whole table.
pub fn table() -> Vec<Entry> {
    let mut t = Vec::new();
    t.extend(meta::routes());
    t.extend(health::routes());
    t.extend(metrics::routes());
    t.extend(content::routes());
    t.extend(jobs::routes());
    t.extend(newsletter::routes());
    t.extend(batch::routes());
    t.extend(batch_generate::routes());
    t.extend(versions::routes());
    t.extend(review::routes());
    t.extend(schedules::routes());
    t.extend(operations::routes());
    t.extend(cache::routes());
    t.extend(credentials::routes());
    t.extend(social::routes());
    t.extend(segments::routes());
    t.extend(audiences::routes());
    t.extend(suppressions::routes());
    t.extend(webhooks::routes());
    t.extend(feeds::routes());
    t.extend(ab_tests::routes());
    t.extend(email_analytics::routes());
    t.extend(personalization::routes());
    t.extend(crate::ws::jobs::routes());
    t.extend(crate::ws::live::routes());
    t.extend(live::routes());
    t
}

/// Documentation of every route (for `/openapi.json` and tests).
pub fn docs() -> Vec<RouteDoc> {
    table().into_iter().map(|e| e.doc).collect()
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route; see /docs for the API".into())
}

async fn method_not_allowed() -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
    (
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(serde_json::json!({
            "detail": "this method is not allowed on this route; see /docs",
            "error": { "code": "method_not_allowed", "field": null },
            "correlation_id": correlation::current(),
        })),
    )
}

/// The API router with every layer.
pub fn router(state: AppState) -> Router {
    let mut r: Router<AppState> = Router::new();
    for e in table() {
        // The body limit sits inside the key check: a caller without a key learns nothing
        // about the body, and nothing of it is read before the key is known.
        let (limit, setting) = e.doc.body_class.limit(&state.config);
        let handler = e
            .handler
            .layer(axum::extract::DefaultBodyLimit::max(limit))
            .layer(axum::middleware::from_fn_with_state(
                http::limits::BodyLimitSetting { limit, setting },
                http::limits::body_limit,
            ));
        r = if matches!(e.doc.access, Access::Public | Access::Signed) {
            r.route(e.doc.path, handler)
        } else {
            let guard =
                axum::middleware::from_fn_with_state((state.clone(), e.doc.access), auth::guard);
            r.route(e.doc.path, handler.layer(guard))
        };
    }
    r.merge(crate::console::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.max_body_bytes,
        ))
        // A handler that panics answers a JSON 500 (and is logged) instead of dropping the
        // connection; the edge layer outside it still counts and traces that answer.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            http::edge::panicked,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::edge::middleware,
        ))
        // gzip or brotli when the client asks (Accept-Encoding); small bodies stay as they are.
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(http::cors::layer(&state.config.cors))
        .with_state(state)
        .merge(meta::swagger_ui())
}
