//! Merge tags: `*|FIRST_NAME|*` in a newsletter is replaced, per recipient, by that
//! recipient's value. The CRM does this for a batch (each recipient's `merge_vars`); the SMTP
//! transport and the personalised preview do it here, with the same rules.
//!
//! A tag is `*|` + upper-case letters, digits or `_` + `|*`. A tag with no value is left as
//! written, so a typo shows in the preview instead of vanishing. Values are escaped for HTML
//! when the content is HTML.

use crate::Subscriber;
use std::collections::BTreeMap;

/// The merge tag of the recipient's first name.
pub const FIRST_NAME: &str = "FIRST_NAME";

/// The value of every merge tag for one recipient.
pub type MergeVars = BTreeMap<String, String>;

/// A recipient's merge values: `FIRST_NAME` (the fallback when the CRM has none), `LAST_NAME`
/// and `EMAIL`.
pub fn vars_for(subscriber: &Subscriber, first_name_fallback: &str) -> MergeVars {
    let first = subscriber
        .first_name
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .unwrap_or(first_name_fallback);
    let mut vars = MergeVars::new();
    vars.insert(FIRST_NAME.into(), first.to_string());
    vars.insert(
        "LAST_NAME".into(),
        subscriber
            .last_name
            .as_deref()
            .unwrap_or("")
            .trim()
            .to_string(),
    );
    vars.insert("EMAIL".into(), subscriber.email.trim().to_string());
    vars
}

/// How substituted values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    Html,
    Text,
}

fn escape_html(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
}

/// `content` with every known tag replaced by its value.
pub fn apply(content: &str, vars: &MergeVars, escape: Escape) -> String {
    let mut out = String::with_capacity(content.len());
    let mut rest = content;
    while let Some(start) = rest.find("*|") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let name_len = after
            .bytes()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
            .count();
        let name = &after[..name_len];
        match (after[name_len..].starts_with("|*"), vars.get(name)) {
            (true, Some(value)) if name_len > 0 => {
                match escape {
                    Escape::Html => escape_html(value, &mut out),
                    Escape::Text => out.push_str(value),
                }
                rest = &after[name_len + 2..];
            }
            _ => {
                out.push_str("*|");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The tags `content` uses, each once, in order of first use.
pub fn tags_in(content: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = content;
    while let Some(start) = rest.find("*|") {
        let after = &rest[start + 2..];
        let n = after
            .bytes()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
            .count();
        if n > 0 && after[n..].starts_with("|*") && !found.iter().any(|f| f == &after[..n]) {
            found.push(after[..n].to_string());
        }
        rest = after;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(first: Option<&str>) -> Subscriber {
        Subscriber {
            id: "sub_1".into(),
            email: "ann@example.com".into(),
            first_name: first.map(str::to_string),
            ..Subscriber::default()
        }
    }

    #[test]
    fn first_names_fall_back_and_values_are_escaped_in_html() {
        let v = vars_for(&sub(Some("  Ann ")), "there");
        assert_eq!(apply("Hi *|FIRST_NAME|*,", &v, Escape::Html), "Hi Ann,");
        let v = vars_for(&sub(Some("")), "there");
        assert_eq!(apply("Hi *|FIRST_NAME|*,", &v, Escape::Text), "Hi there,");
        let v = vars_for(&sub(None), "friend");
        assert_eq!(v[FIRST_NAME], "friend");
        let v = vars_for(&sub(Some("<b>Bo</b> & \"Co\"")), "there");
        assert_eq!(
            apply("<p>*|FIRST_NAME|*</p>", &v, Escape::Html),
            "<p>&lt;b&gt;Bo&lt;/b&gt; &amp; &quot;Co&quot;</p>"
        );
        assert_eq!(
            apply("*|FIRST_NAME|*", &v, Escape::Text),
            "<b>Bo</b> & \"Co\""
        );
    }

    #[test]
    fn unknown_or_broken_tags_stay_as_written() {
        let v = vars_for(&sub(Some("Ann")), "there");
        for s in [
            "*|NOPE|*",
            "*|first_name|*",
            "*||*",
            "*|FIRST_NAME",
            "a *| b",
            "*|*|FIRST_NAME|*",
            "ends with *|",
            "é*|FIRST_NAME|*é",
        ] {
            let out = apply(s, &v, Escape::Html);
            assert_eq!(out.replace("Ann", "*|FIRST_NAME|*"), s, "{s}");
        }
        assert_eq!(
            tags_in("*|FIRST_NAME|* *|X_1|* *|FIRST_NAME|* *|bad|*"),
            vec!["FIRST_NAME", "X_1"]
        );
    }
}
