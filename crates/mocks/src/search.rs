//! Body search over captured emails: what is indexed (the subject, the text part and the
//! visible text of the HTML part, in the SQLite FTS5 table `message_search` of migration
//! `0005_messages`), how a search query's mistakes are told back, and the date bounds the
//! inbox and `GET /api/v1/messages` accept.

use serde_json::Value;

/// The fields a search reads, as the console and the API name them.
pub const SEARCHED: [&str; 3] = ["subject", "text", "html"];

/// What one email contributes to the index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchText {
    pub subject: String,
    pub text: String,
    /// The HTML part's visible text (tags, comments, scripts and styles left out).
    pub html: String,
}

impl SearchText {
    /// The searchable text of an email capture's `request` (HTTP API or SMTP) and subject.
    pub fn of(subject: Option<&str>, request: &Value) -> SearchText {
        let field = |k: &str| request[k].as_str().unwrap_or_default();
        SearchText {
            subject: subject.unwrap_or_else(|| field("subject")).to_string(),
            text: field("text_content").to_string(),
            html: html_text(field("html_content")),
        }
    }
}

/// The text a reader sees in `html`: tags become spaces, comments and the content of
/// `script`, `style` and `head`-only elements (`title` is kept) are dropped, and character
/// references are decoded. Linear in the input; never panics.
pub fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        push_text(&mut out, &rest[..lt]);
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |e| &after[e + 3..]);
            continue;
        }
        let name: String = rest[1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        // The end of the tag: the first `>` outside quotes.
        let mut quote = None;
        let mut end = rest.len();
        for (i, c) in rest.char_indices().skip(1) {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '>') => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &rest[end..];
        out.push(' ');
        if matches!(name.as_str(), "script" | "style") {
            let close = format!("</{name}");
            rest = find_ascii_ci(rest, &close).map_or("", |i| &rest[i..]);
        }
    }
    push_text(&mut out, rest);
    out
}

fn push_text(out: &mut String, text: &str) {
    if !text.is_empty() {
        out.push_str(&halcytone_mailcheck::markup::decode_references(text));
    }
}

/// Where `needle` (ASCII) first occurs in `haystack`, ignoring ASCII case.
fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The sentence that tells a user why SQLite could not read their search, when `message`
/// (a SQLite error) is about the query rather than the database.
pub fn query_problem(message: &str) -> Option<String> {
    let about_query = [
        "fts5:",
        "unterminated string",
        "no such column",
        "unknown special query",
    ]
    .iter()
    .any(|p| message.starts_with(p));
    about_query.then(|| {
        format!(
            "q: the search could not be read ({message}). Search for words, \"a phrase in double quotes\", word*, \
             a OR b, a NOT b, or subject:, text: or html: before a word; put a word with - or @ in double quotes"
        )
    })
}

/// A `since` or `until` value (RFC 3339, or a date `YYYY-MM-DD`) in the stored form of
/// `created_at` (UTC, milliseconds, `Z`). A date is the start of that day for `since` and
/// its last millisecond for `until`.
pub fn time_bound(field: &str, value: &str) -> Result<String, String> {
    use chrono::{NaiveDate, SecondsFormat, Utc};
    let value = value.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(t
            .with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::Millis, true));
    }
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        let shown: String = value.chars().take(60).collect();
        format!("{field}: '{shown}' is not a date (YYYY-MM-DD) or an RFC 3339 time")
    })?;
    let time = if field == "until" {
        date.and_hms_milli_opt(23, 59, 59, 999)
    } else {
        date.and_hms_milli_opt(0, 0, 0, 0)
    };
    time.map(|t| t.and_utc().to_rfc3339_opts(SecondsFormat::Millis, true))
        .ok_or_else(|| format!("{field}: '{value}' is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn html_text_keeps_what_a_reader_sees() {
        let html = "<!doctype html><html><head><title>Week 5</title><style>p{color:red}</style></head>\
            <body><!-- hidden --><p class=\"a>b\">Breathe&nbsp;in &amp; out</p><script>var secret=1</script>\
            <a href=\"https://x\">More</a></body></html>";
        let text = html_text(html);
        let words: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(words, ["Week", "5", "Breathe", "in", "&", "out", "More"]);
        for junk in [
            "<", "<!--", "<script>", "<p", "<p \"", "&#", "é<é>é", "<style", "</",
        ] {
            let _ = html_text(junk);
        }
    }

    #[test]
    fn search_text_reads_both_transports() {
        let t = SearchText::of(
            None,
            &json!({ "subject": "S", "text_content": "T", "html_content": "<b>H</b>" }),
        );
        assert_eq!(
            (t.subject.as_str(), t.text.as_str(), t.html.trim()),
            ("S", "T", "H")
        );
        let none = SearchText::of(Some("X"), &json!({}));
        assert_eq!(none.subject, "X");
    }

    #[test]
    fn query_problems_are_told_and_others_are_not() {
        let told = query_problem("fts5: syntax error near \"@\"").unwrap();
        assert!(
            told.starts_with("q: the search could not be read"),
            "{told}"
        );
        assert!(query_problem("no such column: 7").is_some());
        assert!(query_problem("database is locked").is_none());
    }

    #[test]
    fn bounds_accept_dates_and_times() {
        assert_eq!(
            time_bound("since", "2026-01-05").unwrap(),
            "2026-01-05T00:00:00.000Z"
        );
        assert_eq!(
            time_bound("until", "2026-01-05").unwrap(),
            "2026-01-05T23:59:59.999Z"
        );
        assert_eq!(
            time_bound("since", "2026-01-05T10:00:00+01:00").unwrap(),
            "2026-01-05T09:00:00.000Z"
        );
        let bad = time_bound("until", "yesterday").unwrap_err();
        assert!(bad.starts_with("until: 'yesterday'"), "{bad}");
    }
}
