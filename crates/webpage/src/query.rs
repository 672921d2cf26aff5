//! Query strings and form bodies of console pages, read by hand so that a bad value becomes a
//! page naming the parameter and the problem, and links that keep a list's filters.

/// Highest page number accepted.
pub const MAX_PAGE: i64 = 100_000;
/// Longest free text accepted.
pub const MAX_TEXT: usize = 200;

/// A parameter with a value the page cannot use; the text names it and says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadValue(pub String);

/// Decoded `name=value` pairs; the last of a repeated name wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

/// A value as it is quoted back in a message: at most 60 characters.
fn shorten(v: &str) -> String {
    if v.chars().count() > 60 {
        format!("{}…", v.chars().take(60).collect::<String>())
    } else {
        v.to_string()
    }
}

impl Query {
    pub fn new(pairs: Vec<(String, String)>) -> Query {
        Query(pairs)
    }

    /// Reads `application/x-www-form-urlencoded` text (a query string or a form body).
    pub fn parse(raw: &[u8]) -> Query {
        Query(url::form_urlencoded::parse(raw).into_owned().collect())
    }

    /// The last value given for `name`, as it was given.
    pub fn last(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The trimmed value of `name`; absent and blank are the same.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.last(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// Free text of at most [`MAX_TEXT`] characters.
    pub fn text(&self, name: &str) -> Result<Option<String>, BadValue> {
        match self.get(name) {
            Some(v) if v.chars().count() > MAX_TEXT => {
                Err(BadValue(format!("{name}: at most {MAX_TEXT} characters")))
            }
            v => Ok(v.map(str::to_string)),
        }
    }

    /// A value that must be one of `allowed`.
    pub fn choice(&self, name: &str, allowed: &[&str]) -> Result<Option<String>, BadValue> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
            Some(v) => Err(BadValue(format!(
                "{name}: '{}' is not one of {}",
                shorten(v),
                allowed.join(", ")
            ))),
        }
    }

    /// `page`: 1 when absent, else a whole number from 1 to [`MAX_PAGE`].
    pub fn page(&self) -> Result<i64, BadValue> {
        match self.get("page") {
            None => Ok(1),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|p| (1..=MAX_PAGE).contains(p))
                .ok_or_else(|| {
                    BadValue(format!(
                        "page: '{}' is not a page number (a whole number from 1 to {MAX_PAGE})",
                        shorten(v)
                    ))
                }),
        }
    }

    /// A whole number of at least 0, when given.
    pub fn count(&self, name: &str) -> Result<Option<i64>, BadValue> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .map(Some)
                .ok_or_else(|| {
                    BadValue(format!(
                        "{name}: '{}' is not a whole number ≥ 0",
                        shorten(v)
                    ))
                }),
        }
    }
}

/// The query string of a console request (an undecodable byte reads as U+FFFD, so this never
/// fails).
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Query {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Query::parse(
            parts.uri.query().unwrap_or_default().as_bytes(),
        ))
    }
}

/// Percent-encodes `s` for a query value or a path segment (all but RFC 3986's unreserved).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `path?name=value&…` with the pairs that have a value; `path` alone when none do.
pub fn href(path: &str, pairs: &[(&str, Option<&str>)]) -> String {
    let q: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", encode(v))))
        .collect();
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", q.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_and_named() {
        let q = Query::parse(b"page=0&status=nope&q=a+b&q=c&blank=%20&n=-1");
        assert_eq!(
            q.page(),
            Err(BadValue(
                "page: '0' is not a page number (a whole number from 1 to 100000)".into()
            ))
        );
        assert!(q.choice("status", &["failed"]).is_err());
        assert_eq!(q.get("q"), Some("c"));
        assert_eq!(q.all("q").collect::<Vec<_>>(), ["a b", "c"]);
        assert_eq!(q.last("blank"), Some(" "));
        assert_eq!(q.get("blank"), None);
        assert!(q.count("n").is_err());
        assert_eq!(Query::parse(b"").page(), Ok(1));
        let long = Query::new(vec![("q".into(), "x".repeat(201))]);
        assert!(long.text("q").is_err());
        let e = Query::new(vec![("status".into(), "y".repeat(500))])
            .choice("status", &["a"])
            .unwrap_err();
        assert!(e.0.chars().count() < 100, "{e}");
    }

    #[test]
    fn links_keep_the_filters_that_are_set() {
        assert_eq!(encode("a b&c/é"), "a%20b%26c%2F%C3%A9");
        assert_eq!(
            href("/ui/jobs", &[("status", Some("failed")), ("x", None)]),
            "/ui/jobs?status=failed"
        );
        assert_eq!(href("/", &[("q", None)]), "/");
    }
}
