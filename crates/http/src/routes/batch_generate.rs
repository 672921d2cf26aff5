//! `POST /api/v2/batch/generate` (the dashboard client's batch): several generate requests
//! in one call, in order or in parallel, optionally stopping at the first failure. Every
//! request is composed as a preview; nothing is published (publishing is a job:
//! `/api/v2/content/sync`).

use super::content::{GenerateBody, Plan, plan, preview_answer};
use super::{Entry, READ, route};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::http::query::QueryArgs;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

/// Most requests one batch may hold.
pub const MAX_REQUESTS: usize = 10;

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "post",
            "/api/v2/batch/generate",
            READ,
            "batch",
            "Generate several previews in one call (in order, or in parallel), each answered with its result or its error; fail_fast stops at the first failure",
            post(generate),
        )
        .carries_document()
        .body::<BatchGenerate>("{requests: [generate-content bodies, 1 to 10], parallel?, fail_fast?}"),
    ]
}

/// The dashboard client's batch request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct BatchGenerate {
    /// One to ten generate-content bodies (each a JSON object).
    #[schema(min_items = 1, max_items = 10, value_type = Vec<GenerateBody>)]
    requests: Vec<serde_json::Map<String, Value>>,
    /// Run the requests at the same time (still within GENERATION_CONCURRENCY).
    #[serde(default)]
    parallel: bool,
    /// Stop at the first failure; the requests not run are answered `skipped`.
    #[serde(default)]
    fail_fast: bool,
}

/// One planned request's answer: its preview, or the error body and status the single route
/// would have answered.
async fn one(state: AppState, p: Plan) -> Result<Value, Value> {
    let run = async {
        let (cached, _) = preview_answer(&state, &p, "preview", false).await?;
        let bytes = cached.body;
        serde_json::from_slice::<Value>(&bytes)
            .map_err(|e| ApiError::Internal(format!("preview answer: {e}")))
    };
    run.await.map_err(|e| {
        let mut v = serde_json::to_value(e.body()).unwrap_or_else(|_| json!({}));
        v["status_code"] = json!(e.status().as_u16());
        v
    })
}

/// An error of request `i`'s fields, named as a field of the batch.
fn of_request(i: usize, e: ApiError) -> ApiError {
    match e {
        ApiError::Invalid { field, message } => ApiError::invalid(
            format!("requests[{i}].{field}"),
            format!("requests[{i}].{message}"),
        ),
        other => other,
    }
}

async fn generate(
    State(state): State<AppState>,
    JsonBody(batch): JsonBody<BatchGenerate>,
) -> ApiResult<Json<Value>> {
    let n = batch.requests.len();
    if n == 0 || n > MAX_REQUESTS {
        return Err(ApiError::invalid(
            "requests",
            format!("requests: 1 to {MAX_REQUESTS} generate requests (got {n})"),
        ));
    }
    // Every request is read and planned first: a malformed one refuses the batch (422 naming
    // requests[i].field); what fails while composing is that request's result.
    let mut requests = Vec::with_capacity(n);
    for (i, r) in batch.requests.into_iter().enumerate() {
        let mut body: GenerateBody =
            serde_path_to_error::deserialize(Value::Object(r)).map_err(|e| {
                let field = format!("requests[{i}].{}", e.path());
                let message = e.into_inner().to_string();
                ApiError::invalid(field.clone(), format!("{field}: {message}"))
            })?;
        body.preview_only = true;
        let p = plan(&state, body, &QueryArgs::default(), true)
            .await
            .map_err(|e| of_request(i, e))?;
        requests.push(p);
    }
    let mut results: Vec<Option<Result<Value, Value>>> = vec![None; n];
    if batch.parallel {
        let mut set = tokio::task::JoinSet::new();
        for (i, body) in requests.into_iter().enumerate() {
            let state = state.clone();
            set.spawn(async move { (i, one(state, body).await) });
        }
        while let Some(done) = set.join_next().await {
            let Ok((i, r)) = done else { continue };
            let failed = r.is_err();
            results[i] = Some(r);
            if failed && batch.fail_fast {
                set.abort_all();
            }
        }
    } else {
        for (i, body) in requests.into_iter().enumerate() {
            let r = one(state.clone(), body).await;
            let failed = r.is_err();
            results[i] = Some(r);
            if failed && batch.fail_fast {
                break;
            }
        }
    }
    let mut answered = Vec::with_capacity(n);
    let (mut ok, mut failed, mut skipped) = (0, 0, 0);
    for (i, r) in results.into_iter().enumerate() {
        answered.push(match r {
            Some(Ok(v)) => {
                ok += 1;
                json!({ "index": i, "status": "success", "result": v })
            }
            Some(Err(e)) => {
                failed += 1;
                json!({ "index": i, "status": "failed", "error": e })
            }
            None => {
                skipped += 1;
                json!({ "index": i, "status": "skipped" })
            }
        });
    }
    Ok(Json(json!({
        "total": n,
        "succeeded": ok,
        "failed": failed,
        "skipped": skipped,
        "parallel": batch.parallel,
        "fail_fast": batch.fail_fast,
        "results": answered,
    })))
}
