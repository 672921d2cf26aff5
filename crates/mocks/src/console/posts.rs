//! The mock Platform's pages: the overview at `/`, the list of web posts, and one web post
//! (title, slug, meta description, JSON-LD, SEO score, tags, and its HTML in a sandboxed
//! iframe served by [`web_html`]).

use super::message::captured_html;
use super::page::{self, ConsoleError, display_time, or_dash, or_untitled};
use super::params::{Params, flash, list_context, list_filters};
use super::social;
use crate::state::{MockKind, MockState};
use crate::store::{ConsoleQuery, PostRow};
use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;
use serde_json::Value;

/// Posts per page.
pub const PAGE_SIZE: i64 = 50;

/// Posts of each kind on the overview.
const OVERVIEW: i64 = 10;

/// Search engines show about this many characters of a meta description.
const META_DESCRIPTION_LIMIT: usize = 160;

#[derive(Debug, Serialize)]
struct Row {
    href: String,
    title: String,
    slug: String,
    status: String,
    campaign: String,
    seo_score: String,
    tags: Vec<String>,
    time: String,
    datetime: String,
}

fn row(r: PostRow) -> Row {
    Row {
        href: format!("/posts/web/{}", page::encode(&r.id)),
        title: or_untitled(r.title, "(untitled)"),
        slug: or_dash(r.slug),
        status: or_dash(r.status),
        campaign: or_dash(r.campaign),
        seo_score: or_dash(r.seo_score),
        tags: r
            .tags
            .and_then(|t| serde_json::from_str::<Vec<Value>>(&t).ok())
            .unwrap_or_default()
            .iter()
            .map(|t| t.as_str().map_or_else(|| t.to_string(), str::to_string))
            .collect(),
        time: display_time(&r.created_at),
        datetime: r.created_at,
    }
}

fn platform_only(state: &MockState) -> Result<(), ConsoleError> {
    match state.kind {
        MockKind::Platform => Ok(()),
        MockKind::Crm => Err(ConsoleError::elsewhere("Web and social posts", state.kind)),
    }
}

/// `/` on the Platform: counts and the latest web and social posts.
pub async fn overview(state: &MockState, params: &Params) -> Result<Response, ConsoleError> {
    let live_after = state.store.latest_capture_seq(None).await?;
    let query = |kind: &str| ConsoleQuery {
        kind: kind.into(),
        limit: OVERVIEW,
        ..ConsoleQuery::default()
    };
    let web: Vec<Row> = state
        .store
        .post_rows(&query("content"))
        .await?
        .into_iter()
        .map(row)
        .collect();
    let web_total = state.store.console_count(&query("content")).await?;
    let social_total = state.store.console_count(&query("social")).await?;
    let social = social::latest(state, OVERVIEW).await?;
    let ctx = context! {
        web => Serde(&web),
        web_total,
        social => Serde(&social),
        social_total,
        live_after,
        flash => Serde(flash(params)),
    };
    page::html(state, "platform_home.html", "home", "Overview", ctx)
}

/// `GET /posts/web`: web posts, newest first, searchable by title or campaign.
pub async fn web_list(
    State(state): State<MockState>,
    params: Params,
) -> Result<Response, ConsoleError> {
    platform_only(&state)?;
    let (q, campaign, page_no) = list_filters(&params)?;
    let live_after = state.store.latest_capture_seq(Some("content")).await?;
    let query = page::list_query("content", q.clone(), campaign.clone(), page_no, PAGE_SIZE);
    let mut rows = state.store.post_rows(&query).await?;
    let has_older = page::older_page(&mut rows, PAGE_SIZE);
    let total = state.store.console_count(&query).await?;
    let rows: Vec<Row> = rows.into_iter().map(row).collect();
    let filters = [("q", q.as_deref()), ("campaign", campaign.as_deref())];
    let ctx = context! {
        rows => Serde(&rows),
        total,
        q => q.as_deref(),
        campaign => campaign.as_deref(),
        ..list_context("/posts/web", &filters, page_no, has_older, live_after, &params)
    };
    page::html(&state, "web_list.html", "web", "Web posts", ctx)
}

async fn web_record(state: &MockState, id: &str) -> Result<crate::store::Record, ConsoleError> {
    platform_only(state)?;
    match state.store.get(Some("content"), id).await? {
        Some(r) if r.captured => Ok(r),
        _ => Err(ConsoleError::not_found(format!(
            "No web post has the id '{id}'. It may have been deleted, pruned or reset."
        ))),
    }
}

/// JSON-LD as indented text: a JSON value as it is, a string parsed when it holds JSON.
fn pretty_json_ld(v: &Value) -> Option<String> {
    let value = match v {
        Value::Null => return None,
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(parsed) => parsed,
            Err(_) => return Some(s.clone()),
        },
        other => other.clone(),
    };
    serde_json::to_string_pretty(&value).ok()
}

/// `GET /posts/web/{id}`.
pub async fn web_post(
    State(state): State<MockState>,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let r = web_record(&state, &id).await?;
    let req = &r.request;
    let meta = &req["metadata"];
    let str_of = |v: &Value| v.as_str().map(str::to_string);
    let title = or_untitled(
        r.subject.clone().or_else(|| str_of(&req["title"])),
        "(untitled)",
    );
    let description = str_of(&meta["meta_description"]);
    let description_length = description.as_ref().map(|d| d.chars().count());
    let tags: Vec<String> = req["tags"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let scalar = |v: &Value| match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    };
    let ctx = context! {
        title => title.clone(),
        slug => str_of(&req["slug"]),
        status => r.status.clone(),
        url => str_of(&r.response["url"]),
        content_type => str_of(&req["content_type"]),
        campaign => r.campaign.clone(),
        excerpt => str_of(&req["excerpt"]),
        description,
        description_length,
        description_limit => META_DESCRIPTION_LIMIT,
        description_over => description_length.is_some_and(|n| n > META_DESCRIPTION_LIMIT),
        json_ld => pretty_json_ld(&meta["json_ld"]),
        seo_score => scalar(&meta["seo_score"]),
        reading_time => scalar(&meta["reading_time_minutes"]),
        tags,
        updated => r.updated_at.as_deref().map(display_time),
        markdown => str_of(&req["content"]),
        ..page::capture_facts("/posts/web", &r, req["html"].is_string())
    };
    page::html(&state, "web_post.html", "web", &title, ctx)
}

/// `GET /posts/web/{id}/html`: the post's captured HTML, under a sandbox policy.
pub async fn web_html(
    State(state): State<MockState>,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let r = web_record(&state, &id).await?;
    Ok(captured_html(&r.request["html"]))
}
