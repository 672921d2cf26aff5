//! The suppression list (`/api/v2/suppressions`), the intake of provider events that fills it
//! (`/api/v2/email-events`, signed), and the one-click unsubscribe links every SMTP message
//! carries (`/u/{token}`: a page on `GET`, the unsubscribe itself on `POST`, RFC 8058).

use super::{Entry, Param, READ, WRITE, route};
use crate::auth::Access;
use crate::error::{ApiError, ApiResult};
use crate::http::query::QueryArgs;
use crate::state::AppState;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use halcytone_app::suppressions::{
    self, EventsReport, Sns, SuppressRequest, SuppressionImport, SuppressionPage,
};
use halcytone_app::unsubscribe::{self, Unsubscribed};
use serde_json::Value;
use std::sync::LazyLock;

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "get",
            "/api/v2/suppressions",
            READ,
            "suppressions",
            "The suppression list in address order: addresses no send reaches again, with why (bounce, complaint, unsubscribe, manual), where it came from and when",
            get(list),
        )
        .query([
            Param::one_of("reason", reasons, "only this reason"),
            Param::text("after", "the next_after of the previous page"),
            Param::whole("limit", 1, 1000, "default 100"),
        ]),
        route(
            "post",
            "/api/v2/suppressions",
            WRITE,
            "suppressions",
            "Suppress one address (201; 200 when it was suppressed already, keeping its first reason)",
            post(add),
        )
        .body::<SuppressRequest>("{email, reason?: bounce|complaint|unsubscribe|manual, detail?}")
        .ok(201)
        .also_ok(200, "The address was on the list already: answered as stored, unchanged"),
        route(
            "post",
            "/api/v2/suppressions/import",
            WRITE,
            "suppressions",
            "Import addresses to suppress: a CSV with an email column (and optional reason, detail) or one address a line; streamed, under MAX_IMPORT_BYTES. Answers the rows, added, already suppressed and refused (with the first 20 lines and reasons)",
            post(import),
        )
        .csv_body("CSV with an email column, or one address a line")
        .body_schema(|_| serde_json::json!({ "type": "string", "pattern": "@" }))
        .errors(&[(
            422,
            "The body stops being readable CSV, or holds no address at all (no @)",
        )]),
        route(
            "get",
            "/api/v2/suppressions/{email}",
            READ,
            "suppressions",
            "One suppressed address",
            get(show),
        )
        .errors(&[(404, "The address is not suppressed")]),
        route(
            "delete",
            "/api/v2/suppressions/{email}",
            WRITE,
            "suppressions",
            "Take an address off the suppression list: later sends reach it again",
            axum::routing::delete(remove),
        )
        .ok(204)
        .errors(&[(404, "The address is not suppressed")]),
        route(
            "post",
            "/api/v2/email-events",
            Access::Signed,
            "suppressions",
            "Provider events: bounces, complaints, unsubscribes. Signed like the cache webhook: X-Timestamp (Unix seconds) and X-Signature: sha256=HMAC-SHA256(EMAIL_EVENTS_SECRET, \"<timestamp>.<body>\"). The body is one event, an array, or {events: [...]}, each {type: bounce|soft_bounce|complaint|unsubscribe, email, message_id?, bounce_type?: hard|soft, reason?, id?}. A hard bounce or complaint suppresses the address and marks its message bounced or complained in the delivery ledger; each event id is taken in once",
            post(events),
        )
        .body::<suppressions::EventsBody>(
            "{events: [{type, email, message_id?, bounce_type?, reason?, id?}]}, one such event, or an array of them",
        )
        .errors(&[
            (401, "No EMAIL_EVENTS_SECRET configured, or a missing, wrong, stale or replayed signature: nothing changed"),
            (422, "The body is not an event, a list of events or {events: [...]}"),
        ]),
        route(
            "post",
            "/api/v2/email-events/sns",
            Access::Signed,
            "suppressions",
            "Amazon SES bounce and complaint notifications delivered by SNS (subscribe this URL with ?token=EMAIL_EVENTS_SECRET). The SNS message signature is checked too (SignatureVersion 1 or 2, against the certificate pinned by SNS_SIGNING_CERT_FILE or fetched from the https://sns.<region>.amazonaws.com SigningCertURL; SNS_VERIFY_SIGNATURES=false turns it off). A SubscriptionConfirmation is answered with its SubscribeURL for the operator to open",
            post(sns),
        )
        .query([Param::text("token", "EMAIL_EVENTS_SECRET").required()])
        .body::<suppressions::SnsMessage>(
            "an SNS message: Type Notification with an SES Bounce or Complaint in Message",
        )
        .errors(&[
            (401, "No EMAIL_EVENTS_SECRET configured, a wrong token, or an SNS signature that does not verify: nothing changed"),
            (422, "Not an SNS Notification carrying an SES Bounce or Complaint"),
        ]),
        route(
            "get",
            "/u/{token}",
            Access::Public,
            "suppressions",
            "The one-click unsubscribe link of a message (List-Unsubscribe): a page that asks to confirm; nothing changes on GET",
            get(confirm_page),
        )
        .errors(&[(404, "A forged token, or one for an address its send never had")]),
        route(
            "post",
            "/u/{token}",
            Access::Public,
            "suppressions",
            "One-click unsubscribe (RFC 8058: List-Unsubscribe=One-Click): puts the address on the suppression list; answers JSON, or a page when the client accepts HTML",
            post(one_click),
        )
        .errors(&[(404, "A forged token, or one for an address its send never had: nothing changed")]),
    ]
}

fn reasons() -> Vec<&'static str> {
    halcytone_store::suppressions::SuppressionReason::ALL
        .iter()
        .map(|r| r.as_str())
        .collect()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn list(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<SuppressionPage>> {
    let p = QueryArgs::parse(q.as_deref());
    let reason = suppressions::parse_reason(p.last("reason"))?;
    let limit = p.int("limit", 100, 1, 1000)?;
    let after = p.last("after").filter(|a| !a.is_empty());
    Ok(Json(
        suppressions::list(state.store.as_ref(), reason, after, limit).await?,
    ))
}

async fn add(
    State(state): State<AppState>,
    crate::body::JsonBody(body): crate::body::JsonBody<SuppressRequest>,
) -> ApiResult<Response> {
    let (stored, new) = suppressions::add(state.store.as_ref(), &body, now_ms()).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(stored)).into_response())
}

async fn show(State(state): State<AppState>, Path(email): Path<String>) -> ApiResult<Response> {
    let s = suppressions::get(state.store.as_ref(), &email).await?;
    Ok(Json(s).into_response())
}

async fn remove(State(state): State<AppState>, Path(email): Path<String>) -> ApiResult<StatusCode> {
    suppressions::remove(state.store.as_ref(), &email).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn import(
    State(state): State<AppState>,
    headers: HeaderMap,
    limit: Option<axum::Extension<crate::body::BodyLimit>>,
    body: Body,
) -> ApiResult<Json<SuppressionImport>> {
    if !super::audiences::is_csv(&headers) {
        return Err(ApiError::UnsupportedMediaType(
            "send the list as Content-Type: text/csv (a header line naming an email column, or one address a line)".into(),
        ));
    }
    let limit = super::audiences::import_limit(&state, limit);
    let (reader, cut) = super::audiences::limited_reader(&state, body, limit.limit);
    let report = suppressions::import(state.store.as_ref(), reader, now_ms()).await;
    super::audiences::finish_import(report, &cut, limit, state.config.request_timeout)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The secret events are signed with, or 401 when none is configured.
fn events_secret(state: &AppState) -> ApiResult<&str> {
    state
        .config
        .mailing
        .events_secret
        .as_deref()
        .ok_or_else(|| {
            ApiError::BadSignature(
                "this server takes no email events: EMAIL_EVENTS_SECRET is not set".into(),
            )
        })
}

async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Json<EventsReport>> {
    let secret = events_secret(&state)?;
    state
        .webhook_signatures
        .verify(
            secret.as_bytes(),
            header(&headers, "x-signature"),
            header(&headers, "x-timestamp"),
            &bytes,
            chrono::Utc::now().timestamp(),
        )
        .map_err(|e| ApiError::BadSignature(e.to_string()))?;
    // One event, a list of them, or {events: [...]}: any JSON value, read by the use case.
    let body: Value =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let list = suppressions::generic_events(&body)?;
    Ok(Json(
        suppressions::take_in(state.store.as_ref(), &state.app_metrics, list, now_ms()).await?,
    ))
}

async fn sns(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    bytes: Bytes,
) -> ApiResult<Json<EventsReport>> {
    use subtle::ConstantTimeEq;
    let secret = events_secret(&state)?;
    let p = QueryArgs::parse(q.as_deref());
    let token = p.last("token").unwrap_or_default();
    if !bool::from(token.as_bytes().ct_eq(secret.as_bytes())) {
        return Err(ApiError::BadSignature(
            "token: missing or wrong (subscribe the URL with ?token=EMAIL_EVENTS_SECRET)".into(),
        ));
    }
    let body: Value = crate::body::parse(&bytes)?;
    if state.config.mailing.sns_verify {
        halcytone_app::sns_signature::verify(
            &body,
            state.config.mailing.sns_signing_cert.as_deref(),
            state.publishing.settings.dry_run,
        )
        .await
        .map_err(|e| ApiError::BadSignature(format!("SNS signature: {e}")))?;
    }
    match suppressions::sns_events(&body)? {
        Sns::Confirm(url) => {
            tracing::warn!(event = "sns_subscription", subscribe_url = %url, "an SNS subscription waits for confirmation: open its SubscribeURL");
            Ok(Json(EventsReport {
                note: Some(format!(
                    "SNS subscription confirmation received; open {url} to confirm it (this server does not call out)"
                )),
                ..EventsReport::default()
            }))
        }
        Sns::Events(list) => Ok(Json(
            suppressions::take_in(state.store.as_ref(), &state.app_metrics, list, now_ms()).await?,
        )),
    }
}

static PAGES: LazyLock<minijinja::Environment<'static>> = LazyLock::new(|| {
    halcytone_webpage::templates(halcytone_webpage::embed_templates!(
        "templates/public": "unsubscribe.html"
    ))
});

fn page(title: &str, email: &str, action: &str, done: bool) -> Response {
    let ctx = minijinja::context! { title, email, action, done };
    match PAGES
        .get_template("unsubscribe.html")
        .and_then(|t| t.render(ctx))
    {
        Ok(html) => ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => halcytone_webpage::unrendered(&e, "the server log says why").into_response(),
    }
}

fn wants_html(headers: &HeaderMap) -> bool {
    header(headers, "accept").is_some_and(|a| a.contains("text/html"))
}

/// A page that asks to confirm: mail scanners open links, so a `GET` changes nothing.
async fn confirm_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Response> {
    let one_click = state.one_click.as_deref();
    let claims = unsubscribe::recipient(state.store.as_ref(), one_click, &token).await?;
    // The form posts back under the public base (with its path, behind a proxy).
    let action = one_click.map_or_else(|| format!("/u/{token}"), |o| o.link(&token));
    Ok(page("Unsubscribe", &claims.email, &action, false))
}

async fn one_click(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let one_click = state.one_click.as_deref();
    let done: Unsubscribed =
        unsubscribe::unsubscribe(state.store.as_ref(), one_click, &token, now_ms()).await?;
    if wants_html(&headers) {
        return Ok(page("Unsubscribed", &done.email, "", true));
    }
    Ok(Json(done).into_response())
}
