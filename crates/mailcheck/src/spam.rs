//! A small built-in spam score in the manner of SpamAssassin: rules over the subject, the
//! text, the HTML and the links, each adding its score when it fires; 5.0 or more is what
//! SpamAssassin's default `required_score` treats as spam. The rules and their scores are
//! Halcytone's own, chosen for newsletters (they are not SpamAssassin's rule set); they
//! point at what a filter would hold against a message, not at what one will decide.

use crate::document::Document;
use crate::report::Level;
use serde::Serialize;

/// The score from which a message is called spam.
pub const THRESHOLD: f32 = 5.0;
/// The score from which it is a warning.
const SUSPECT: f32 = 2.5;

/// Phrases filters weigh against a message, lower-case.
const PHRASES: &[&str] = &[
    "100% free",
    "act now",
    "buy now",
    "cash bonus",
    "click here",
    "double your",
    "earn money",
    "extra income",
    "free gift",
    "guaranteed",
    "limited time offer",
    "no credit check",
    "no obligation",
    "risk-free",
    "this is not spam",
    "winner",
    "you have been selected",
    "100% satisfied",
];

/// Hosts of link shorteners, which hide where a link goes.
const SHORTENERS: &[&str] = &[
    "bit.ly",
    "tinyurl.com",
    "goo.gl",
    "ow.ly",
    "t.co",
    "is.gd",
    "buff.ly",
    "cutt.ly",
    "rb.gy",
    "shorturl.at",
];

/// A rule that fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub rule: &'static str,
    pub score: f32,
    pub description: String,
}

/// The score of a message and the rules that made it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spam {
    pub score: f32,
    pub threshold: f32,
    /// `ham`, `suspect` or `spam`.
    pub verdict: &'static str,
    pub level: Level,
    /// Which engine scored it.
    pub engine: &'static str,
    pub rules: Vec<Hit>,
}

/// What the rules read besides the HTML.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts<'a> {
    pub subject: Option<&'a str>,
    pub text: Option<&'a str>,
    /// Whether the message has a `List-Unsubscribe` header; `None` when its headers are not
    /// known (an email sent through the CRM's API, which adds its own).
    pub list_unsubscribe: Option<bool>,
}

/// Scores the message.
pub fn score(doc: Option<&Document>, facts: Facts<'_>) -> Spam {
    let mut hits = Vec::new();
    let mut hit = |rule: &'static str, score: f32, description: String| {
        hits.push(Hit {
            rule,
            score,
            description,
        });
    };
    let subject = facts.subject.unwrap_or("").trim();
    if subject.is_empty() {
        hit("MISSING_SUBJECT", 1.0, "the message has no subject".into());
    }
    let letters: Vec<char> = subject.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() >= 10 && letters.iter().all(|c| !c.is_lowercase()) {
        hit("SUBJ_ALL_CAPS", 1.5, "the subject is in capitals".into());
    }
    if subject.matches('!').count() >= 2 {
        hit("SUBJ_EXCLAIM", 1.0, "the subject has several '!'".into());
    }
    let text_part = facts.text.map(str::trim).filter(|t| !t.is_empty());
    if doc.is_some() && text_part.is_none() {
        hit("MIME_HTML_ONLY", 1.2, "HTML with no plain-text part".into());
    }
    let body = match (doc, text_part) {
        (Some(d), _) => d.text.to_lowercase(),
        (None, Some(t)) => t.to_lowercase(),
        (None, None) => String::new(),
    };
    let phrases: Vec<&str> = PHRASES
        .iter()
        .copied()
        .filter(|p| body.contains(p) || subject.to_lowercase().contains(p))
        .collect();
    if !phrases.is_empty() {
        let score = (0.6 * phrases.len() as f32).min(3.0);
        hit(
            "SPAMMY_PHRASES",
            score,
            format!("phrases filters distrust: {}", phrases.join(", ")),
        );
    }
    if body.matches('!').count() >= 10 {
        hit("EXCESS_EXCLAIM", 0.8, "ten or more '!' in the text".into());
    }
    if let Some(d) = doc {
        if !d.images.is_empty() && d.text_chars < 400 {
            hit(
                "HTML_IMAGE_RATIO",
                1.5,
                format!(
                    "{} image(s) and only {} characters of text",
                    d.images.len(),
                    d.text_chars
                ),
            );
        }
        let shortened = d
            .anchors
            .iter()
            .filter_map(|a| host(&a.link.href))
            .filter(|h| SHORTENERS.contains(&h.as_str()))
            .count();
        if shortened > 0 {
            hit(
                "URL_SHORTENER",
                1.0,
                format!("{shortened} link(s) through a URL shortener"),
            );
        }
        if d.anchors
            .iter()
            .filter_map(|a| host(&a.link.href))
            .any(|h| h.parse::<std::net::IpAddr>().is_ok() || h.starts_with('['))
        {
            hit(
                "NUMERIC_HOST_LINK",
                1.5,
                "a link goes to a bare IP address".into(),
            );
        }
        let mismatched: Vec<String> = d
            .anchors
            .iter()
            .filter_map(|a| {
                let shown = host(a.text.trim())?;
                let real = host(&a.link.href)?;
                (shown.contains('.') && shown != real && !real.ends_with(&format!(".{shown}")))
                    .then(|| format!("'{shown}' goes to '{real}'"))
            })
            .collect();
        if !mismatched.is_empty() {
            hit(
                "LINK_TEXT_MISMATCH",
                2.0,
                format!("link text names another host: {}", mismatched.join("; ")),
            );
        }
        if d.elements.contains("script") {
            hit("HTML_SCRIPT", 1.0, "the HTML has a <script>".into());
        }
        if d.elements.contains("form") {
            hit("HTML_FORM", 0.5, "the HTML has a <form>".into());
        }
    }
    if facts.list_unsubscribe == Some(false) {
        hit(
            "NO_LIST_UNSUBSCRIBE",
            1.0,
            "bulk mail without a List-Unsubscribe header".into(),
        );
    }
    let score = (hits.iter().map(|h| h.score).sum::<f32>() * 10.0).round() / 10.0;
    let (verdict, level) = if score >= THRESHOLD {
        ("spam", Level::Error)
    } else if score >= SUSPECT {
        ("suspect", Level::Warning)
    } else if score > 0.0 {
        ("ham", Level::Info)
    } else {
        ("ham", Level::Ok)
    };
    Spam {
        score,
        threshold: THRESHOLD,
        verdict,
        level,
        engine: "halcytone built-in rules",
        rules: hits,
    }
}

/// The lower-cased host of an absolute http(s) URL, or of text that reads as one
/// (`www.example.com/x`).
fn host(s: &str) -> Option<String> {
    let s = s.trim();
    let parsed = url::Url::parse(s)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .or_else(|| {
            (s.starts_with("www.") && !s.contains(char::is_whitespace))
                .then(|| url::Url::parse(&format!("https://{s}")).ok())
                .flatten()
        })?;
    let h = parsed.host_str()?.to_ascii_lowercase();
    Some(h.strip_prefix("www.").map(str::to_string).unwrap_or(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(s: &Spam) -> Vec<&'static str> {
        s.rules.iter().map(|h| h.rule).collect()
    }

    #[test]
    fn a_plain_newsletter_scores_low() {
        let d = Document::read("<p>This week: calmer breathing sessions and a new guide.</p>");
        let s = score(
            Some(&d),
            Facts {
                subject: Some("Breathscape weekly: calmer sessions"),
                text: Some("This week: calmer breathing sessions and a new guide."),
                list_unsubscribe: Some(true),
            },
        );
        assert_eq!(s.verdict, "ham");
        assert!(s.score < 2.5, "{s:?}");
    }

    #[test]
    fn spammy_signals_add_up_to_spam() {
        let d = Document::read(
            "<img src=\"https://x.example/a.png\"><p>ACT NOW, 100% free, you are a winner!</p>\
             <a href=\"https://bit.ly/x\">www.bank.example</a><a href=\"http://10.0.0.1/\">x</a>",
        );
        let s = score(
            Some(&d),
            Facts {
                subject: Some("YOU WON A FREE PRIZE!!"),
                text: None,
                list_unsubscribe: Some(false),
            },
        );
        for r in [
            "SUBJ_ALL_CAPS",
            "SUBJ_EXCLAIM",
            "MIME_HTML_ONLY",
            "SPAMMY_PHRASES",
            "HTML_IMAGE_RATIO",
            "URL_SHORTENER",
            "NUMERIC_HOST_LINK",
            "LINK_TEXT_MISMATCH",
            "NO_LIST_UNSUBSCRIBE",
        ] {
            assert!(rules(&s).contains(&r), "{r}: {s:?}");
        }
        assert_eq!(s.verdict, "spam");
        assert_eq!(s.level, Level::Error);
    }
}
