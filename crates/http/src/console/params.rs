//! Query strings and form bodies of console requests, read by hand so a bad value is a 400
//! page that names the parameter; the `next` target of a sign-in (console paths only); the
//! flash message a form's redirect carries; and links that keep a list's filters.

use super::page::UiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
pub use halcytone_webpage::query::{encode, href};
use serde::Serialize;

/// Longest flash message shown.
const MAX_FLASH: usize = 300;

/// Decoded `name=value` pairs of a query string or a form body (the last of a repeated name
/// wins), read with the shared checks of `halcytone_webpage::query`.
pub use halcytone_webpage::query::Query as Params;

/// The message a form's redirect left in `params` (`ok` or `error`), shortened.
pub fn flash(params: &Params) -> Flash {
    let cut = |s: &str| s.chars().take(MAX_FLASH).collect::<String>();
    Flash {
        ok: params.get("ok").map(cut),
        error: params.get("error").map(cut),
    }
}

/// The `{id}` of a console path; one that cannot be decoded is a 400 page.
#[derive(Debug, Clone)]
pub struct Id(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(id)| Id(id))
            .map_err(|e| {
                UiError::bad_request(format!("The address cannot be read: {}", e.body_text()))
            })
    }
}

/// A message left by a form's redirect; escaped like everything else on the page.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Flash {
    pub ok: Option<String>,
    pub error: Option<String>,
}

/// Where a sign-in may send the browser: a console path (`/ui` or below it), never another
/// site (`//host`, `https://…`), a backslash trick, a `..` step or a control character.
pub fn safe_next(raw: Option<&str>) -> String {
    let fallback = || "/ui".to_string();
    let Some(next) = raw.map(str::trim).filter(|n| !n.is_empty()) else {
        return fallback();
    };
    let inside = next == "/ui" || next.starts_with("/ui/") || next.starts_with("/ui?");
    let path = next.split(['?', '#']).next().unwrap_or_default();
    let bad = next.len() > 500
        || next.contains('\\')
        || next.contains("//")
        || path.split('/').any(|seg| seg == ".." || seg == ".")
        || path.to_ascii_lowercase().contains("%2e")
        || path.to_ascii_lowercase().contains("%2f")
        || path.to_ascii_lowercase().contains("%5c")
        || next.chars().any(char::is_control);
    if inside && !bad {
        next.to_string()
    } else {
        fallback()
    }
}

/// A form's answer to an API call: back to `back` with the outcome as its flash message — a
/// refusal of the API's rules included — or, for an unknown id or a server failure, an
/// error page.
pub fn answer(
    back: &str,
    r: Result<String, crate::error::ApiError>,
) -> Result<axum::response::Response, UiError> {
    use crate::error::ApiError;
    match r {
        Ok(m) => Ok(back_to(back, Ok(m))),
        Err(e @ (ApiError::Internal(_) | ApiError::NotFound(_))) => Err(e.into()),
        Err(e) => Ok(back_to(back, Err(e.to_string()))),
    }
}

/// The 303 answer of a form: back to `path` with the outcome as its flash message.
pub fn back_to(path: &str, outcome: Result<String, String>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (name, message) = match outcome {
        Ok(m) => ("ok", m),
        Err(m) => ("error", m),
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    axum::response::Redirect::to(&format!("{path}{sep}{name}={}", encode(&message))).into_response()
}

/// Links to the newer and older pages of a list.
#[derive(Debug, Clone, Serialize)]
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub newer: Option<String>,
    pub older: Option<String>,
}

impl Pager {
    /// The pager of page `page` of `total` rows, `size` a page, keeping `filters`.
    pub fn new(
        path: &str,
        filters: &[(&str, Option<&str>)],
        page: i64,
        size: i64,
        total: i64,
    ) -> Pager {
        let link = |p: i64| {
            let n = p.to_string();
            let mut all = filters.to_vec();
            if p > 1 {
                all.push(("page", Some(n.as_str())));
            }
            href(path, &all)
        };
        let pages = ((total + size - 1) / size).max(1);
        Pager {
            page,
            pages,
            newer: (page > 1).then(|| link(page - 1)),
            older: (page < pages).then(|| link(page + 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_in_the_console() {
        for ok in [
            "/ui",
            "/ui/jobs",
            "/ui/jobs?status=failed&page=2",
            "/ui?x=1",
        ] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/ui//evil.example",
            "/\\evil.example",
            "/ui\\..\\api",
            "/uievil",
            "/api/v2/jobs",
            "/ui/../api",
            "/ui/%2e%2e/api",
            "/ui/%2F%2Fevil",
            "javascript:alert(1)",
            "/ui/\nSet-Cookie: x",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/ui", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/ui");
    }

    #[test]
    fn values_are_checked() {
        let p = Params::parse(b"page=0&status=nope&q=a+b&q=c&blank=%20");
        assert!(p.page().is_err());
        assert!(p.choice("status", &["failed"]).is_err());
        assert_eq!(p.get("q"), Some("c"));
        assert_eq!(p.get("blank"), None);
        assert_eq!(Params::parse(b"").page().ok(), Some(1));
    }

    #[test]
    fn pager_links_keep_filters() {
        let p = Pager::new(
            "/ui/jobs",
            &[("status", Some("failed")), ("x", None)],
            2,
            25,
            60,
        );
        assert_eq!(p.pages, 3);
        assert_eq!(p.newer.as_deref(), Some("/ui/jobs?status=failed"));
        assert_eq!(p.older.as_deref(), Some("/ui/jobs?status=failed&page=3"));
        let one = Pager::new("/ui/jobs", &[], 1, 25, 0);
        assert_eq!((one.pages, one.newer, one.older), (1, None, None));
    }
}
