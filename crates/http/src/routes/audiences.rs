//! Audiences you bring (`/api/v2/audiences`): named lists of people, filled by importing a
//! CSV (`text/csv`) that is streamed into the store a chunk of rows at a time — never held
//! whole — under `MAX_IMPORT_BYTES`, with the rows refused and why.

use super::{Entry, READ, WRITE, route};
use crate::body::BodyLimit;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use futures_util::StreamExt;
use halcytone_app::audiences::{self, AudienceRequest, AudienceView, ImportReport};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "post",
            "/api/v2/audiences",
            WRITE,
            "audiences",
            "Create an audience: a named, empty list of people to import into",
            post(create),
        )
        .body::<AudienceRequest>("{name}: 1 to 100 characters, unique")
        .ok(201)
        .errors(&[(409, "The name is taken")]),
        route(
            "get",
            "/api/v2/audiences",
            READ,
            "audiences",
            "Every audience, by name, with its member count",
            get(list),
        ),
        route(
            "get",
            "/api/v2/audiences/{id}",
            READ,
            "audiences",
            "One audience with its member count",
            get(show),
        )
        .errors(&[(404, "Unknown audience")]),
        route(
            "post",
            "/api/v2/audiences/{id}/subscribers/import",
            WRITE,
            "audiences",
            "Import people from a CSV body (Content-Type: text/csv). The first line names the columns: email (required), name, first_name, last_name, tags (separated by ; or |), status (active, unsubscribed, bounced, complained, pending; default active); any other column is kept as an attribute. A person already in the audience is updated. Answers the counts: imported (new), updated, repeated (an address given again in the file counts once, its later row winning), refused with the first 20 refusals' line and reason, and the members after the import",
            post(import),
        )
        .csv_body("CSV, UTF-8, with a header line")
        .errors(&[
            (404, "Unknown audience"),
            (
                422,
                "The first line names no email column (or a column twice), or the body stops being readable CSV (a row over 1 MiB, an unclosed quote); `error.field` says which: header or body",
            ),
        ]),
    ]
}

/// Every audience.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct AudienceList {
    audiences: Vec<AudienceView>,
    total: usize,
}

async fn create(
    State(state): State<AppState>,
    crate::body::JsonBody(body): crate::body::JsonBody<AudienceRequest>,
) -> ApiResult<(StatusCode, Json<AudienceView>)> {
    Ok((
        StatusCode::CREATED,
        Json(audiences::create(state.store.as_ref(), body).await?),
    ))
}

async fn list(State(state): State<AppState>) -> ApiResult<Json<AudienceList>> {
    let audiences = audiences::list(state.store.as_ref()).await?;
    Ok(Json(AudienceList {
        total: audiences.len(),
        audiences,
    }))
}

async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<AudienceView>> {
    Ok(Json(audiences::get(state.store.as_ref(), &id).await?))
}

/// Whether the body is declared CSV (`text/csv`, any parameters).
pub(super) fn is_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv"))
}

/// Why a streamed body stopped early.
const CUT_TOO_LARGE: u8 = 1;
const CUT_IDLE: u8 = 2;

/// The request body as a byte reader that stops with an error past `limit` bytes or when no
/// byte arrives for `idle`, recording which in `cut`.
fn body_reader(
    body: Body,
    limit: usize,
    idle: Duration,
    cut: Arc<AtomicU8>,
) -> impl tokio::io::AsyncRead + Unpin + Send {
    let stream = futures_util::stream::unfold(
        (body.into_data_stream(), 0usize, false),
        move |(mut data, mut total, stopped)| {
            let cut = cut.clone();
            async move {
                if stopped {
                    return None;
                }
                let stop = |why: u8, e: std::io::Error| {
                    cut.store(why, Ordering::Relaxed);
                    Err(e)
                };
                let item = match tokio::time::timeout(idle, data.next()).await {
                    Err(_) => stop(
                        CUT_IDLE,
                        std::io::Error::new(std::io::ErrorKind::TimedOut, "the body stopped"),
                    ),
                    Ok(None) => return None,
                    Ok(Some(Err(e))) => Err(std::io::Error::other(e)),
                    Ok(Some(Ok(bytes))) => {
                        total = total.saturating_add(bytes.len());
                        if total > limit {
                            stop(
                                CUT_TOO_LARGE,
                                std::io::Error::new(
                                    std::io::ErrorKind::InvalidData,
                                    "the body is over its limit",
                                ),
                            )
                        } else {
                            Ok(bytes)
                        }
                    }
                };
                let stopped = item.is_err();
                Some((item, (data, total, stopped)))
            }
        },
    );
    tokio_util::io::StreamReader::new(Box::pin(stream))
}

/// Streams a CSV body into the audience. The key was checked (and a declared length over the
/// limit refused) before this runs; the audience and the content type are checked before any
/// of the body is read.
async fn import(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    limit: Option<axum::Extension<BodyLimit>>,
    body: Body,
) -> ApiResult<Json<ImportReport>> {
    audiences::get(state.store.as_ref(), &id).await?;
    if !is_csv(&headers) {
        return Err(ApiError::UnsupportedMediaType(
            "send the file as Content-Type: text/csv (UTF-8, with a header line naming an email column)".into(),
        ));
    }
    let limit = import_limit(&state, limit);
    let (reader, cut) = limited_reader(&state, body, limit.limit);
    let report = audiences::import_csv(state.store.as_ref(), &id, reader, None).await;
    finish_import(report, &cut, limit, state.config.request_timeout)
}

/// The limit of a streamed import: the route's, else `MAX_IMPORT_BYTES`.
pub(super) fn import_limit(
    state: &AppState,
    limit: Option<axum::Extension<BodyLimit>>,
) -> BodyLimit {
    limit.map_or(
        BodyLimit {
            limit: state.config.max_import_bytes,
            setting: "MAX_IMPORT_BYTES",
        },
        |l| l.0,
    )
}

/// The body as a reader cut at `limit` bytes or after a request timeout without a byte; the
/// flag says which cut it.
pub(super) fn limited_reader(
    state: &AppState,
    body: Body,
    limit: usize,
) -> (
    impl tokio::io::AsyncRead + Unpin + Send + use<>,
    Arc<AtomicU8>,
) {
    let cut = Arc::new(AtomicU8::new(0));
    let reader = body_reader(body, limit, state.config.request_timeout, cut.clone());
    (reader, cut)
}

/// An import's answer: its report, or why the body was cut (413, 408) or refused.
pub(super) fn finish_import<T>(
    report: Result<T, halcytone_app::error::AppError>,
    cut: &AtomicU8,
    limit: BodyLimit,
    idle: Duration,
) -> ApiResult<Json<T>> {
    match (report, cut.load(Ordering::Relaxed)) {
        (Ok(r), _) => Ok(Json(r)),
        (Err(_), CUT_TOO_LARGE) => Err(ApiError::TooLarge {
            limit: limit.limit,
            setting: limit.setting,
        }),
        (Err(_), CUT_IDLE) => Err(ApiError::Timeout(idle.as_secs())),
        (Err(e), _) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn only_text_csv_is_read() {
        let mut h = HeaderMap::new();
        assert!(!is_csv(&h));
        for (value, csv) in [
            ("text/csv", true),
            ("Text/CSV; charset=utf-8", true),
            ("application/json", false),
            ("text/csv-schema", false),
        ] {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            assert_eq!(is_csv(&h), csv, "{value}");
        }
    }

    #[tokio::test]
    async fn a_body_past_its_limit_stops_the_reader_and_says_why() {
        use tokio::io::AsyncReadExt;
        let cut = Arc::new(AtomicU8::new(0));
        let mut r = body_reader(
            Body::from("x".repeat(100)),
            10,
            Duration::from_secs(5),
            cut.clone(),
        );
        let mut out = Vec::new();
        assert!(r.read_to_end(&mut out).await.is_err());
        assert_eq!(cut.load(Ordering::Relaxed), CUT_TOO_LARGE);
        let cut = Arc::new(AtomicU8::new(0));
        let mut r = body_reader(Body::from("a,b\n"), 10, Duration::from_secs(5), cut.clone());
        let mut out = Vec::new();
        r.read_to_end(&mut out).await.unwrap_or_default();
        assert_eq!(out, b"a,b\n");
        assert_eq!(cut.load(Ordering::Relaxed), 0);
    }
}
