//! Query parameters of console pages: parsed by hand so a bad value is a 400 page that says
//! what is wrong, and links between pages (pager, flash messages) keep the filters.

use super::page::{ConsoleError, encode};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Serialize;

/// Longest search text accepted.
const MAX_TEXT: usize = 200;

/// Highest page number accepted.
const MAX_PAGE: i64 = 100_000;

/// The query string of a console page, as name/value pairs (the last of a repeated name wins).
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn new(pairs: Vec<(String, String)>) -> Params {
        Params(pairs)
    }

    /// The trimmed value of `name`; absent and blank are the same.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A free-text parameter of at most 200 characters.
    pub fn text(&self, name: &str) -> Result<Option<String>, ConsoleError> {
        match self.get(name) {
            Some(v) if v.chars().count() > MAX_TEXT => Err(ConsoleError::bad_request(format!(
                "{name}: at most {MAX_TEXT} characters"
            ))),
            v => Ok(v.map(str::to_string)),
        }
    }

    /// A parameter that must be one of `allowed`.
    pub fn choice(&self, name: &str, allowed: &[&str]) -> Result<Option<String>, ConsoleError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
            Some(v) => Err(ConsoleError::bad_request(format!(
                "{name}: '{v}' is not one of {}",
                allowed.join(", ")
            ))),
        }
    }

    /// `page`: 1 when absent, else a whole number from 1 to 100000.
    pub fn page(&self) -> Result<i64, ConsoleError> {
        match self.get("page") {
            None => Ok(1),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|p| (1..=MAX_PAGE).contains(p))
                .ok_or_else(|| {
                    ConsoleError::bad_request(format!(
                        "page: '{v}' is not a page number (a whole number from 1 to {MAX_PAGE})"
                    ))
                }),
        }
    }

    /// A whole number of at least 0, when given.
    pub fn count(&self, name: &str) -> Result<Option<i64>, ConsoleError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .map(Some)
                .ok_or_else(|| {
                    ConsoleError::bad_request(format!("{name}: '{v}' is not a whole number ≥ 0"))
                }),
        }
    }

    /// The flash message a form redirect left: a fixed sentence for `ok`, the text of `error`.
    pub fn flash(&self) -> Flash {
        let ok = self.get("ok").and_then(|code| match code {
            "reset" => {
                Some("Captures, idempotency keys, fault rules and the journal were cleared.")
            }
            "fault-set" => Some("The fault rule was saved."),
            "fault-removed" => Some("The fault rule was removed."),
            "faults-cleared" => Some("Every fault rule was removed."),
            _ => None,
        });
        Flash {
            ok,
            error: self
                .get("error")
                .map(|e| e.chars().take(500).collect::<String>()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(pairs)| Params(pairs))
            .map_err(|e| {
                ConsoleError::bad_request(format!(
                    "the query string cannot be read: {}",
                    e.body_text()
                ))
            })
    }
}

/// A message left by a form's redirect.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Flash {
    pub ok: Option<&'static str>,
    pub error: Option<String>,
}

/// Links to the newer and older pages of a list.
#[derive(Debug, Clone, Serialize)]
pub struct Pager {
    pub page: i64,
    pub newer: Option<String>,
    pub older: Option<String>,
}

impl Pager {
    /// `path` with `filters` (name, value) and the page number; page 1 has no `page`.
    pub fn new(path: &str, filters: &[(&str, Option<&str>)], page: i64, has_older: bool) -> Pager {
        let link = |p: i64| href(path, filters, (p > 1).then_some(p));
        Pager {
            page,
            newer: (page > 1).then(|| link(page - 1)),
            older: has_older.then(|| link(page + 1)),
        }
    }
}

/// `path?name=value&…` with the given filters and page; `path` alone when there are none.
pub fn href(path: &str, filters: &[(&str, Option<&str>)], page: Option<i64>) -> String {
    let mut pairs: Vec<String> = filters
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", encode(v))))
        .collect();
    if let Some(p) = page {
        pairs.push(format!("page={p}"));
    }
    if pairs.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", pairs.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn pages_are_checked() {
        assert_eq!(params(&[]).page().ok(), Some(1));
        assert_eq!(params(&[("page", " 3 ")]).page().ok(), Some(3));
        for bad in ["0", "-1", "x", "1.5", "100001", "99999999999999999999"] {
            let err = params(&[("page", bad)]).page().err().map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|e| e.starts_with("page: ")),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn blank_is_absent_and_the_last_value_wins() {
        let p = params(&[("q", "a"), ("q", "b"), ("campaign", "  ")]);
        assert_eq!(p.get("q"), Some("b"));
        assert_eq!(p.get("campaign"), None);
        assert!(params(&[("q", &"x".repeat(201))]).text("q").is_err());
        assert!(
            params(&[("kind", "nope")])
                .choice("kind", &["email"])
                .is_err()
        );
    }

    #[test]
    fn pager_links_keep_filters() {
        let p = Pager::new("/", &[("q", Some("a b")), ("campaign", None)], 2, true);
        assert_eq!(p.newer.as_deref(), Some("/?q=a%20b"));
        assert_eq!(p.older.as_deref(), Some("/?q=a%20b&page=3"));
        let first = Pager::new("/", &[], 1, false);
        assert_eq!((first.newer, first.older), (None, None));
    }
}
