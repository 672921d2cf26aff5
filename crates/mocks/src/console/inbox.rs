//! The mock CRM's inbox: captured emails, newest first, 50 a page. `q` searches the words of
//! the subject, text part and HTML part (SQLite FTS5, [`crate::search`]); `recipient`,
//! `campaign`, `since` and `until` filter. Only the listed columns are read, one page at a
//! time (`Store::inbox_rows`). A search SQLite cannot read is shown on the page (400), never
//! a 500. Each row shows the worst finding of the message's checks ([`crate::checks`]).

use super::page::{self, ConsoleError, display_time, or_dash, or_untitled};
use super::params::{Params, list_context, list_filters};
use crate::state::{MockKind, MockState};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

/// Emails per page.
pub const PAGE_SIZE: i64 = 50;

/// Campaigns offered in the filter.
const CAMPAIGNS: i64 = 200;

#[derive(Debug, Serialize)]
struct Row {
    href: String,
    subject: String,
    campaign: String,
    time: String,
    datetime: String,
    recipients: String,
    variant: String,
    /// The capture this one repeats, when it is a resend.
    duplicate_of: Option<String>,
    /// The worst finding of its checks.
    worst: Option<crate::checks::Worst>,
    checks_href: String,
}

#[derive(Debug, Serialize)]
struct Campaign {
    name: String,
    count: Option<i64>,
    selected: bool,
}

/// The inbox page: `q`, `campaign` and `page` from the query string.
pub async fn page(state: &MockState, params: &Params) -> Result<Response, ConsoleError> {
    let (status, html) = inbox(state, params).await?;
    Ok((status, Html(html)).into_response())
}

/// The inbox page as HTML (also what `benches/inbox.rs` times).
pub async fn inbox_html(state: &MockState, params: &Params) -> Result<String, ConsoleError> {
    Ok(inbox(state, params).await?.1)
}

/// A date filter, read as [`crate::search::time_bound`] reads it.
fn bound(params: &Params, field: &str) -> Result<(Option<String>, Option<String>), ConsoleError> {
    let given = params.text(field)?;
    let stored = given
        .as_deref()
        .map(|v| crate::search::time_bound(field, v))
        .transpose()
        .map_err(ConsoleError::bad_request)?;
    Ok((given, stored))
}

async fn inbox(state: &MockState, params: &Params) -> Result<(StatusCode, String), ConsoleError> {
    if state.kind != MockKind::Crm {
        return Err(ConsoleError::elsewhere("Captured emails", state.kind));
    }
    let (q, campaign, page_no) = list_filters(params)?;
    let recipient = params.text("recipient")?;
    let (since, since_bound) = bound(params, "since")?;
    let (until, until_bound) = bound(params, "until")?;
    // Read before the rows, so a capture stored meanwhile is announced rather than missed.
    let live_after = state.store.latest_capture_seq(Some("email")).await?;
    let query = crate::store::ConsoleQuery {
        search: q.clone(),
        recipient: recipient.clone(),
        since: since_bound,
        until: until_bound,
        ..page::list_query("email", None, campaign.clone(), page_no, PAGE_SIZE)
    };
    let (mut rows, search_error) = match state.store.inbox_rows(&query).await {
        Ok(rows) => (rows, None),
        Err(crate::store::StoreError::Search(why)) => (Vec::new(), Some(why)),
        Err(e) => return Err(e.into()),
    };
    let has_older = page::older_page(&mut rows, PAGE_SIZE);
    // Matching recipients reads every address list: those searches are not counted.
    let total = match (&recipient, &search_error) {
        (None, None) => Some(state.store.console_count(&query).await?),
        _ => None,
    };
    let mut campaigns: Vec<Campaign> = state
        .store
        .console_campaigns("email", CAMPAIGNS)
        .await?
        .into_iter()
        .map(|(name, count)| Campaign {
            selected: campaign.as_deref() == Some(name.as_str()),
            name,
            count: Some(count),
        })
        .collect();
    // A campaign typed into the URL that the list does not offer stays selected.
    if let Some(c) = &campaign
        && !campaigns.iter().any(|x| x.selected)
    {
        campaigns.insert(
            0,
            Campaign {
                name: c.clone(),
                count: None,
                selected: true,
            },
        );
    }
    let first = (page_no - 1) * PAGE_SIZE + 1;
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let mut worst = crate::checks::worst_of(state, &seqs).await?;
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|r| Row {
            worst: worst.remove(&r.seq),
            checks_href: format!("/messages/{}?tab=checks", page::encode(&r.id)),
            href: format!("/messages/{}", page::encode(&r.id)),
            subject: or_untitled(r.subject, "(no subject)"),
            campaign: or_dash(r.campaign),
            time: display_time(&r.created_at),
            datetime: r.created_at,
            recipients: r.recipients.map_or_else(|| "—".into(), |n| n.to_string()),
            variant: or_dash(r.variant),
            duplicate_of: r.duplicate_of,
        })
        .collect();
    let filters = [
        ("q", q.as_deref()),
        ("recipient", recipient.as_deref()),
        ("campaign", campaign.as_deref()),
        ("since", since.as_deref()),
        ("until", until.as_deref()),
    ];
    let ctx = context! {
        rows => Serde(&rows),
        first,
        last => first + rows.len() as i64 - 1,
        total,
        q => q.as_deref(),
        recipient => recipient.as_deref(),
        since => since.as_deref(),
        until => until.as_deref(),
        search_error => search_error.as_deref(),
        searched => crate::search::SEARCHED.join(", "),
        campaign => campaign.as_deref(),
        campaigns => Serde(&campaigns),
        ..list_context("/", &filters, page_no, has_older, live_after, params)
    };
    let status = if search_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        page::render(state, "inbox.html", "inbox", "Inbox", ctx)?,
    ))
}
