//! Query parameters of console pages: parsed by hand so a bad value is a 400 page that says
//! what is wrong, and links between pages (pager, flash messages) keep the filters.

use super::page::ConsoleError;
use serde::Serialize;

/// The query string of a console page, as name/value pairs (the last of a repeated name wins),
/// read with the shared checks of `halcytone_webpage::query`.
pub use halcytone_webpage::query::Query as Params;

/// A console list's search (`q`), `campaign` and `page`.
pub fn list_filters(
    params: &Params,
) -> Result<(Option<String>, Option<String>, i64), ConsoleError> {
    Ok((params.text("q")?, params.text("campaign")?, params.page()?))
}

/// The flash message a form redirect left: a fixed sentence for `ok`, the text of `error`.
pub fn flash(params: &Params) -> Flash {
    let ok = params.get("ok").and_then(|code| match code {
        "reset" => Some("Captures, idempotency keys, fault rules and the journal were cleared."),
        "fault-set" => Some("The fault rule was saved."),
        "fault-removed" => Some("The fault rule was removed."),
        "faults-cleared" => Some("Every fault rule was removed."),
        _ => None,
    });
    Flash {
        ok,
        error: params
            .get("error")
            .map(|e| e.chars().take(500).collect::<String>()),
    }
}

/// What a list page at `path` shows besides its rows: whether `filters` narrow it, the pager
/// of page `page_no` (`has_older`: whether an older page exists), the link that reloads the
/// list, the capture its "new captures" banner counts from, and the flash message.
pub fn list_context(
    path: &str,
    filters: &[(&str, Option<&str>)],
    page_no: i64,
    has_older: bool,
    live_after: i64,
    params: &Params,
) -> minijinja::Value {
    minijinja::context! {
        filtered => filters.iter().any(|(_, v)| v.is_some()),
        pager => minijinja::value::Serde(Pager::new(path, filters, page_no, has_older)),
        live_after,
        refresh_href => href(path, filters, None),
        flash => minijinja::value::Serde(flash(params)),
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
    let page = page.map(|p| p.to_string());
    let mut all = filters.to_vec();
    all.push(("page", page.as_deref()));
    halcytone_webpage::query::href(path, &all)
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
