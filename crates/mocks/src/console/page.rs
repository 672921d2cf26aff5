//! Rendering: the template environment (every template autoescaped as HTML), the layout every
//! page shares, the HTML error page, and small formatting helpers.

use crate::state::{MockKind, MockState};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value, context};
use std::sync::LazyLock;

/// The console's templates, embedded at build time.
const TEMPLATES: &[(&str, &str)] = halcytone_webpage::embed_templates!(
    "templates/console":
    "base.html",
    "pager.html",
    "list_page.html",
    "live_banner.html",
    "search_field.html",
    "filter_actions.html",
    "no_match.html",
    "html_preview.html",
    "reset_form.html",
    "social_card.html",
    "inbox.html",
    "message.html",
    "platform_home.html",
    "web_list.html",
    "web_post.html",
    "social.html",
    "faults.html",
    "error.html"
);

static ENV: LazyLock<Environment<'static>> =
    LazyLock::new(|| halcytone_webpage::templates(TEMPLATES));

pub use halcytone_webpage::query::encode;

/// Why a console page could not be shown; answered as an HTML page.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("{1}")]
    Status(StatusCode, String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("template error: {0}")]
    Template(#[from] minijinja::Error),
}

impl ConsoleError {
    pub fn not_found(message: impl Into<String>) -> Self {
        ConsoleError::Status(StatusCode::NOT_FOUND, message.into())
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        ConsoleError::Status(StatusCode::BAD_REQUEST, message.into())
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        ConsoleError::Status(StatusCode::FORBIDDEN, message.into())
    }
    /// A page that lives on the other mock.
    pub fn elsewhere(what: &str, kind: MockKind) -> Self {
        let other = match kind {
            MockKind::Crm => "mock Platform (port 8002)",
            MockKind::Platform => "mock CRM (port 8001)",
        };
        Self::not_found(format!("{what} are shown by the console of the {other}."))
    }
}

impl From<crate::error::MockError> for ConsoleError {
    fn from(e: crate::error::MockError) -> Self {
        match e {
            crate::error::MockError::Status { status, detail } => {
                ConsoleError::Status(status, detail)
            }
            crate::error::MockError::Store(e) => ConsoleError::Store(e),
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            ConsoleError::Status(status, message) => (status, message),
            ConsoleError::Store(e) => {
                tracing::error!(error = %e, "console: the capture store failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The mock's capture store failed; see its log.".to_string(),
                )
            }
            ConsoleError::Template(e) => halcytone_webpage::unrendered(&e, "see the mock's log"),
        };
        let layout = context! { mock => "Mock service", crm => false, platform => false };
        halcytone_webpage::error_page(&ENV, status, layout, context! { message })
    }
}

/// Renders `template` inside the layout: `section` marks the current navigation entry.
pub fn render(
    state: &MockState,
    template: &str,
    section: &str,
    title: &str,
    ctx: Value,
) -> Result<String, ConsoleError> {
    let layout = context! {
        mock => match state.kind {
            MockKind::Crm => "Mock CRM",
            MockKind::Platform => "Mock Platform",
        },
        crm => state.kind == MockKind::Crm,
        platform => state.kind == MockKind::Platform,
    };
    Ok(halcytone_webpage::render(
        &ENV, template, section, title, layout, ctx,
    )?)
}

/// [`render`] as an HTML answer.
pub fn html(
    state: &MockState,
    template: &str,
    section: &str,
    title: &str,
    ctx: Value,
) -> Result<Response, ConsoleError> {
    Ok(Html(render(state, template, section, title, ctx)?).into_response())
}

pub use halcytone_webpage::display_time;

/// A stored text as a page shows it: `—` when there is none.
pub fn or_dash(text: Option<String>) -> String {
    text.unwrap_or_else(|| "—".into())
}

/// A title or subject as a page shows it: `fallback` when there is none or it is blank.
pub fn or_untitled(text: Option<String>, fallback: &str) -> String {
    text.filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| fallback.into())
}

/// What the page of the capture `r` at `{base}/{id}` shows of it besides its content: its
/// id, when it was captured, and links to its HTML alone (when `has_html`) and its JSON.
pub fn capture_facts(base: &str, r: &crate::store::Record, has_html: bool) -> Value {
    let encoded = encode(&r.id);
    context! {
        id => r.id.clone(),
        time => display_time(&r.created_at),
        datetime => r.created_at.clone(),
        has_html,
        html_href => format!("{base}/{encoded}/html"),
        json_href => format!("/api/v1/captures/{encoded}"),
    }
}

/// A number of bytes as people read it.
pub fn display_size(bytes: usize) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

impl From<halcytone_webpage::query::BadValue> for ConsoleError {
    fn from(e: halcytone_webpage::query::BadValue) -> Self {
        ConsoleError::bad_request(e.0)
    }
}

/// The query for page `page_no` of a console list of `kind`: one row more than `page_size`,
/// so [`older_page`] can tell whether an older page exists.
pub fn list_query(
    kind: &str,
    q: Option<String>,
    campaign: Option<String>,
    page_no: i64,
    page_size: i64,
) -> crate::store::ConsoleQuery {
    crate::store::ConsoleQuery {
        kind: kind.into(),
        q,
        campaign,
        limit: page_size + 1,
        offset: (page_no - 1) * page_size,
        ..crate::store::ConsoleQuery::default()
    }
}

/// Drops the look-ahead row of a [`list_query`] page; whether there was one.
pub fn older_page<T>(rows: &mut Vec<T>, page_size: i64) -> bool {
    let has_older = rows.len() as i64 > page_size;
    rows.truncate(page_size as usize);
    has_older
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        for (name, _) in TEMPLATES {
            assert!(ENV.get_template(name).is_ok(), "{name} compiles");
        }
    }

    #[test]
    fn helpers_format() {
        assert_eq!(or_dash(None), "—");
        assert_eq!(or_untitled(Some(" ".into()), "(untitled)"), "(untitled)");
        assert_eq!(or_untitled(Some("Hi".into()), "(untitled)"), "Hi");
        assert_eq!(display_size(10), "10 B");
        assert_eq!(display_size(2048), "2.0 KB");
        assert_eq!(encode("a b&c/é"), "a%20b%26c%2F%C3%A9");
    }
}
