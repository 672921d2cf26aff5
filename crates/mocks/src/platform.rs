//! The mock Platform (port 8002): web content (publish, read, update, delete, list), social
//! posts, analytics, content webhooks and stats, with the seeds' triggers on titles and posts.

use crate::body::Body;
use crate::body::Params;
use crate::crm::require;
use crate::error::{MockError, MockResult};
use crate::idempotency::{self, Outcome};
use crate::now;
use crate::seeded;
use crate::state::MockState;
use crate::store::{Filter, NewRecord};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

/// Networks the social endpoint accepts.
pub const SOCIAL_PLATFORMS: [&str; 4] = ["twitter", "linkedin", "facebook", "instagram"];

pub const FAULT_ROUTES: &[&str] = &[
    "GET /health",
    "POST /api/v1/content/publish",
    "GET /api/v1/content",
    "GET /api/v1/content/{id}",
    "PUT /api/v1/content/{id}",
    "DELETE /api/v1/content/{id}",
    "POST /api/v1/social/post",
    "GET /api/v1/social/{post_id}",
    "GET /api/v1/analytics",
    "GET /api/v1/analytics/content/{id}",
    "GET /api/v1/analytics/social/{post_id}",
    "POST /api/v1/webhooks/content",
    "GET /api/v1/stats",
    // X, LinkedIn and Facebook Pages, played by the mock Platform (networks.rs).
    "POST /2/tweets",
    "POST /2/oauth2/token",
    "POST /rest/posts",
    "POST /oauth/v2/accessToken",
    "POST /{version}/{page_id}/feed",
];

pub fn routes() -> Router<MockState> {
    Router::new()
        .route("/health", get(health))
        .route("/api/v1/content/publish", post(publish))
        .route("/api/v1/content", get(list_content))
        .route(
            "/api/v1/content/{id}",
            get(get_content).put(update_content).delete(delete_content),
        )
        .route("/api/v1/social/post", post(social_post))
        .route("/api/v1/social/{post_id}", get(get_social))
        .route("/api/v1/analytics", get(analytics_overview))
        .route("/api/v1/analytics/content/{id}", get(content_analytics))
        .route("/api/v1/analytics/social/{post_id}", get(social_analytics))
        .route("/api/v1/webhooks/content", post(webhook))
        .route("/api/v1/stats", get(stats))
        .route("/feed.atom", get(feed_atom))
        .route("/feed.json", get(feed_json))
        .route("/api/v1/test-data", delete(crate::crm::reset))
        .merge(crate::networks::routes())
}

async fn health(State(state): State<MockState>) -> Json<Value> {
    Json(json!({
        "status": if state.store.ping().await { "healthy" } else { "degraded" },
        "service": "mock-platform",
        "version": env!("CARGO_PKG_VERSION"),
        "timestamp": now(),
        "uptime_seconds": state.started.elapsed().as_secs(),
    }))
}

fn simulated(state: &MockState, status: StatusCode, detail: &str) -> MockError {
    state
        .counters
        .simulated_errors
        .fetch_add(1, Ordering::Relaxed);
    MockError::new(status, detail)
}

#[derive(Debug, Deserialize)]
pub struct PublishRequest {
    title: String,
    content: String,
    #[serde(default = "default_content_type")]
    content_type: String,
    #[serde(default)]
    excerpt: Option<String>,
    #[serde(default)]
    slug: Option<String>,
    #[serde(default)]
    html: Option<String>,
    #[serde(default)]
    metadata: Value,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default = "yes")]
    publish_immediately: bool,
    #[serde(default)]
    scheduled_at: Option<String>,
}

fn default_content_type() -> String {
    "web_update".into()
}
fn yes() -> bool {
    true
}

/// The seeds' title triggers that fail a publish, checked in order.
const FAILING_TITLES: [(&str, StatusCode, &str); 4] = [
    ("error", StatusCode::BAD_REQUEST, "Invalid content format"),
    (
        "invalid",
        StatusCode::BAD_REQUEST,
        "Validation error: the content failed the platform's checks",
    ),
    (
        "forbidden",
        StatusCode::FORBIDDEN,
        "Content violates platform policies",
    ),
    ("timeout", StatusCode::REQUEST_TIMEOUT, "Publishing timeout"),
];

async fn publish(
    State(state): State<MockState>,
    headers: HeaderMap,
    Body(req): Body<PublishRequest>,
) -> MockResult<Response> {
    require("title", &req.title)?;
    require("content", &req.content)?;
    if let Some(at) = &req.scheduled_at
        && chrono::DateTime::parse_from_rfc3339(at).is_err()
    {
        return Err(MockError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("scheduled_at: '{at}' is not an RFC 3339 time"),
        ));
    }
    idempotency::once(&state, &headers, "POST /api/v1/content/publish", || async {
        let t = req.title.to_lowercase();
        if let Some((_, status, detail)) = FAILING_TITLES.iter().find(|(w, ..)| t.contains(w)) {
            return Err(simulated(&state, *status, detail));
        }
        if t.contains("slow") {
            tokio::time::sleep(state.config.slow_delay).await;
        }
        let status = if t.contains("draft") {
            "draft"
        } else if !req.publish_immediately && req.scheduled_at.is_some() {
            "scheduled"
        } else {
            "published"
        };
        let id = state.next_id("content");
        let at = now();
        let body = json!({
            "content_id": id,
            "url": format!("https://halcytone.com/content/{id}"),
            "status": status,
            "published_at": (status == "published").then_some(&at),
            "scheduled_at": req.scheduled_at,
        });
        let request = json!({
            "title": req.title,
            "content": req.content,
            "content_type": req.content_type,
            "excerpt": req.excerpt,
            "slug": req.slug,
            "html": req.html,
            "metadata": req.metadata,
            "tags": req.tags,
            "publish_immediately": req.publish_immediately,
            "scheduled_at": req.scheduled_at,
        });
        let record = NewRecord {
            subject: Some(req.title.clone()),
            campaign: metadata_campaign(&req.metadata),
            channel: Some("web".into()),
            status: Some(status.into()),
            created_at: at,
            ..idempotency::capture("content", id, &headers, request, body.clone())
        };
        Ok(Outcome::new(StatusCode::OK, body, record))
    })
    .await
}

/// The campaign a post names in its `metadata.campaign_id`.
fn metadata_campaign(metadata: &Value) -> Option<String> {
    metadata
        .get("campaign_id")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// A stored content record as the API shows it: the request fields plus id, status and times.
fn content_view(r: &crate::store::Record) -> Value {
    let mut v = r.request.clone();
    v["content_id"] = json!(r.id);
    v["status"] = json!(r.status);
    v["url"] = r.response["url"].clone();
    v["created_at"] = json!(r.created_at);
    v["updated_at"] = json!(r.updated_at);
    v["published_at"] = r.response["published_at"].clone();
    v
}

async fn get_content(
    State(state): State<MockState>,
    Path(id): Path<String>,
) -> MockResult<Json<Value>> {
    let r = state.record("content", &id, "Content").await?;
    Ok(Json(content_view(&r)))
}

#[derive(Debug, Deserialize)]
pub struct UpdateRequest {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default)]
    tags: Option<Vec<String>>,
}

async fn update_content(
    State(state): State<MockState>,
    Path(id): Path<String>,
    Body(req): Body<UpdateRequest>,
) -> MockResult<Json<Value>> {
    let r = state.record("content", &id, "Content").await?;
    let mut request = r.request.clone();
    if let Some(t) = req.title {
        require("title", &t)?;
        request["title"] = json!(t);
    }
    if let Some(c) = req.content {
        request["content"] = json!(c);
    }
    if let Some(m) = req.metadata {
        request["metadata"] = m;
    }
    if let Some(t) = req.tags {
        request["tags"] = json!(t);
    }
    state.store.update(&id, None, &request, &r.response).await?;
    let r = state.record("content", &id, "Content").await?;
    Ok(Json(content_view(&r)))
}

async fn delete_content(
    State(state): State<MockState>,
    Path(id): Path<String>,
) -> MockResult<Json<Value>> {
    if state.store.delete("content", &id).await? {
        Ok(Json(
            json!({ "status": "success", "message": "Content deleted" }),
        ))
    } else {
        Err(MockError::not_found("Content"))
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    content_type: Option<String>,
    status: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn list_content(
    State(state): State<MockState>,
    Params(q): Params<ListQuery>,
) -> MockResult<Json<Value>> {
    let filter = Filter {
        kinds: vec!["content".into()],
        status: q.status.clone(),
        limit: 1000,
        ..Filter::default()
    };
    let (records, _) = state.store.list(&filter).await?;
    let matching: Vec<Value> = records
        .iter()
        .map(content_view)
        .filter(|v| {
            q.content_type
                .as_ref()
                .is_none_or(|t| v["content_type"] == t.as_str())
        })
        .collect();
    let limit = q.limit.unwrap_or(50).clamp(1, 1000) as usize;
    let offset = q.offset.unwrap_or(0).max(0) as usize;
    Ok(Json(json!({
        "content": matching.iter().skip(offset).take(limit).collect::<Vec<_>>(),
        "total": matching.len(),
        "limit": limit,
        "offset": offset,
        "filters": { "content_type": q.content_type, "status": q.status },
    })))
}

#[derive(Debug, Deserialize)]
pub struct SocialRequest {
    platform: String,
    content: String,
    #[serde(default)]
    media_urls: Vec<String>,
    #[serde(default)]
    scheduled_at: Option<String>,
    #[serde(default)]
    hashtags: Vec<String>,
    /// Later parts of a thread, posted as replies.
    #[serde(default)]
    thread: Vec<String>,
    #[serde(default)]
    metadata: Value,
}

fn post_url(platform: &str, id: &str) -> String {
    match platform {
        "twitter" => format!("https://x.com/halcytone/status/{id}"),
        "linkedin" => format!("https://www.linkedin.com/company/halcytone/posts/{id}"),
        "facebook" => format!("https://www.facebook.com/halcytone/posts/{id}"),
        _ => format!("https://www.instagram.com/p/{id}"),
    }
}

async fn social_post(
    State(state): State<MockState>,
    headers: HeaderMap,
    Body(req): Body<SocialRequest>,
) -> MockResult<Response> {
    let platform = req.platform.trim().to_lowercase();
    if !SOCIAL_PLATFORMS.contains(&platform.as_str()) {
        return Err(simulated(
            &state,
            StatusCode::BAD_REQUEST,
            &format!(
                "Unsupported platform '{}'; supported: {}",
                req.platform,
                SOCIAL_PLATFORMS.join(", ")
            ),
        ));
    }
    require("content", &req.content)?;
    idempotency::once(&state, &headers, "POST /api/v1/social/post", || async {
        let all = std::iter::once(&req.content).chain(req.thread.iter());
        if all.into_iter().any(|p| p.to_lowercase().contains("banned")) {
            return Err(simulated(
                &state,
                StatusCode::FORBIDDEN,
                "Content violates platform policies",
            ));
        }
        let id = state.next_id("social");
        let status = if req.scheduled_at.is_some() {
            "scheduled"
        } else {
            "posted"
        };
        let at = now();
        let body = json!({
            "post_id": id,
            "platform": platform,
            "url": post_url(&platform, &id),
            "status": status,
            "posted_at": (status == "posted").then_some(&at),
            "thread_length": 1 + req.thread.len(),
        });
        let request = json!({
            "platform": platform,
            "content": req.content,
            "thread": req.thread,
            "media_urls": req.media_urls,
            "scheduled_at": req.scheduled_at,
            "hashtags": req.hashtags,
            "metadata": req.metadata,
        });
        let record = NewRecord {
            subject: Some(req.content.chars().take(200).collect()),
            campaign: metadata_campaign(&req.metadata),
            channel: Some(format!("social:{platform}")),
            status: Some(status.into()),
            created_at: at,
            ..idempotency::capture("social", id, &headers, request, body.clone())
        };
        Ok(Outcome::new(StatusCode::OK, body, record))
    })
    .await
}

async fn get_social(
    State(state): State<MockState>,
    Path(id): Path<String>,
) -> MockResult<Json<Value>> {
    let r = state.record("social", &id, "Social post").await?;
    let mut v = r.request.clone();
    v["post_id"] = json!(r.id);
    v["status"] = json!(r.status);
    v["url"] = r.response["url"].clone();
    v["created_at"] = json!(r.created_at);
    Ok(Json(v))
}

async fn content_analytics(
    State(state): State<MockState>,
    Path(id): Path<String>,
) -> MockResult<Json<Value>> {
    state.record("content", &id, "Content").await?;
    let s = state.config.seed;
    let n = |what: &str, lo, hi| seeded::range(s, &[what, &id], lo, hi);
    let views = n("views", 500, 5000);
    let unique = views * n("unique", 600, 900) / 1000;
    let organic = n("organic", 30, 50);
    let social = n("social", 10, 30);
    let direct = n("direct", 5, 20);
    Ok(Json(json!({
        "content_id": id,
        "views": views,
        "unique_views": unique,
        "engagement_rate": n("engagement", 10, 90) as f64 / 1000.0,
        "avg_time_on_page": n("time", 30, 300),
        "bounce_rate": n("bounce", 200, 700) as f64 / 1000.0,
        "social_shares": n("shares", 0, 80),
        "comments": n("comments", 0, 25),
        "likes": n("likes", 0, 200),
        "traffic_sources": { "organic": organic, "social": social, "direct": direct, "referral": 100 - organic - social - direct },
        "last_updated": now(),
    })))
}

async fn social_analytics(
    State(state): State<MockState>,
    Path(id): Path<String>,
) -> MockResult<Json<Value>> {
    let r = state.record("social", &id, "Social post").await?;
    let platform = r.request["platform"]
        .as_str()
        .unwrap_or("twitter")
        .to_string();
    let (likes, shares, comments) = match platform.as_str() {
        "twitter" => (50, 10, 5),
        "linkedin" => (20, 5, 8),
        "facebook" => (30, 15, 12),
        _ => (80, 10, 15),
    };
    let s = state.config.seed;
    let n = |what: &str, hi| seeded::range(s, &[what, &id], 0, hi);
    let impressions = 100 + n("impressions", 4900);
    let reach = impressions * (500 + n("reach", 400)) / 1000;
    let (l, sh, c, clicks) = (
        n("likes", likes),
        n("shares", shares),
        n("comments", comments),
        n("clicks", 60),
    );
    let engagement = l + sh + c + clicks;
    Ok(Json(json!({
        "post_id": id,
        "platform": platform,
        "impressions": impressions,
        "reach": reach,
        "engagement": engagement,
        "likes": l,
        "shares": sh,
        "comments": c,
        "clicks": clicks,
        "engagement_rate": engagement as f64 / impressions as f64,
        "last_updated": now(),
    })))
}

async fn analytics_overview(State(state): State<MockState>) -> MockResult<Json<Value>> {
    let counts = state.store.counts().await?;
    let count = |k: &str| counts.of(k);
    Ok(Json(json!({
        "content_published": count("content"),
        "social_posts": count("social"),
        "timestamp": now(),
    })))
}

#[derive(Debug, Deserialize)]
pub struct WebhookRequest {
    event_type: String,
    content_id: String,
    #[serde(default)]
    data: Value,
}

async fn webhook(
    State(state): State<MockState>,
    Body(req): Body<WebhookRequest>,
) -> MockResult<Json<Value>> {
    let r = state.record("content", &req.content_id, "Content").await?;
    let mut response = r.response.clone();
    let status = match req.event_type.as_str() {
        "content.published" => {
            response["published_at"] = json!(now());
            Some("published")
        }
        "content.updated" => None,
        "content.archived" => Some("archived"),
        other => {
            return Err(MockError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "event_type: unknown '{other}'; expected content.published, content.updated or content.archived"
                ),
            ));
        }
    };
    let mut request = r.request.clone();
    if !req.data.is_null() {
        request["webhook_data"] = req.data;
    }
    state
        .store
        .update(&req.content_id, status, &request, &response)
        .await?;
    Ok(Json(
        json!({ "status": "success", "message": "Webhook processed" }),
    ))
}

async fn stats(State(state): State<MockState>) -> MockResult<Json<Value>> {
    let (records, _) = state
        .store
        .list(&Filter {
            kinds: vec!["content".into()],
            limit: 1000,
            ..Filter::default()
        })
        .await?;
    let mut by_type: std::collections::BTreeMap<String, u64> = Default::default();
    for r in &records {
        *by_type
            .entry(
                r.request["content_type"]
                    .as_str()
                    .unwrap_or("web_update")
                    .to_string(),
            )
            .or_default() += 1;
    }
    let accepted = state.store.accepted_counts().await?;
    let retained = state.store.counts().await?;
    let count = |k: &str| accepted.of(k).max(retained.of(k));
    Ok(Json(json!({
        "service": "mock-platform",
        "uptime": "healthy",
        "uptime_seconds": state.started.elapsed().as_secs(),
        "content_published": count("content"),
        "social_posts": count("social"),
        "content_retained": retained.of("content"),
        "social_posts_retained": retained.of("social"),
        "total_requests": state.counters.requests.load(Ordering::Relaxed),
        "content_by_type": by_type,
        "simulated_errors": state.counters.simulated_errors.load(Ordering::Relaxed),
        "faults_injected": state.counters.faults_injected.load(Ordering::Relaxed),
        "timestamp": now(),
    })))
}

/// The posts this mock captured, newest first, as feed entries: what the website's feed would
/// list had the rehearsal been live (the API's own `/feed.atom` lists the same posts).
async fn feed_entries(state: &MockState) -> MockResult<Vec<halcytone_content::feed::FeedEntry>> {
    use chrono::{DateTime, Utc};
    let filter = Filter {
        kinds: vec!["content".into()],
        limit: 50,
        ..Filter::default()
    };
    let (records, _) = state.store.list(&filter).await?;
    let time = |v: &Value| {
        v.as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    Ok(records
        .iter()
        .map(|r| {
            let v = content_view(r);
            let created = time(&json!(r.created_at)).unwrap_or_default();
            let published = time(&v["published_at"]).unwrap_or(created);
            let updated = r
                .updated_at
                .as_ref()
                .and_then(|u| time(&json!(u)))
                .unwrap_or(published);
            let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            let url = text("url");
            halcytone_content::feed::FeedEntry {
                id: if url.is_empty() {
                    format!("urn:halcytone-mock:{}", r.id)
                } else {
                    url.clone()
                },
                title: text("title"),
                summary: text("excerpt"),
                url,
                published,
                updated: updated.max(published),
                categories: v["tags"]
                    .as_array()
                    .map(|t| {
                        t.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect())
}

fn feed_info(headers: &HeaderMap, file: &str) -> halcytone_content::feed::FeedInfo {
    let origin = halcytone_webpage::request_origin(headers);
    halcytone_content::feed::FeedInfo {
        title: "Halcytone mock Platform: published posts".into(),
        description: "What the website would show: the posts this mock captured".into(),
        site_url: "https://halcytone.com".into(),
        feed_url: format!("{origin}/{file}"),
        author: "Halcytone".into(),
    }
}

async fn feed_atom(State(state): State<MockState>, headers: HeaderMap) -> MockResult<Response> {
    use axum::response::IntoResponse;
    let entries = feed_entries(&state).await?;
    let xml = halcytone_content::feed::atom(
        &feed_info(&headers, "feed.atom"),
        &entries,
        chrono::Utc::now(),
    );
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/atom+xml; charset=utf-8",
        )],
        xml,
    )
        .into_response())
}

async fn feed_json(State(state): State<MockState>, headers: HeaderMap) -> MockResult<Response> {
    use axum::response::IntoResponse;
    let entries = feed_entries(&state).await?;
    let body = halcytone_content::feed::json_feed(&feed_info(&headers, "feed.json"), &entries);
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/feed+json; charset=utf-8",
        )],
        body.to_string(),
    )
        .into_response())
}
