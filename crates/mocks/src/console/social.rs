//! Social captures as the network would show them: one card per post with its parts in
//! order (1/n), hashtags highlighted, and each part's length as the network counts it
//! against its limit (X weighs URLs as 23 and CJK and emoji as 2: `networks::weighted_length`).

use super::page::{self, ConsoleError, display_time, or_dash};
use super::params::{Params, list_context};
use crate::state::{MockKind, MockState};
use crate::store::{Filter, Record};
use axum::extract::State;
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;
use serde_json::Value;

/// Cards per page.
pub const PAGE_SIZE: i64 = 50;

/// A network: its key in captures, its name, its length limit, and whether X's weighting
/// applies.
struct Network {
    key: &'static str,
    name: &'static str,
    limit: usize,
    weighted: bool,
}

const NETWORKS: &[Network] = &[
    Network {
        key: "twitter",
        name: "X",
        limit: 280,
        weighted: true,
    },
    Network {
        key: "linkedin",
        name: "LinkedIn",
        limit: 3000,
        weighted: false,
    },
    Network {
        key: "facebook",
        name: "Facebook",
        limit: 63_206,
        weighted: false,
    },
    Network {
        key: "instagram",
        name: "Instagram",
        limit: 2200,
        weighted: false,
    },
];

/// A run of a post's text: plain, or a hashtag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub text: String,
    pub tag: bool,
}

#[derive(Debug, Serialize)]
pub struct Part {
    number: usize,
    of: usize,
    segments: Vec<Segment>,
    length: usize,
    limit: Option<usize>,
    over: bool,
}

#[derive(Debug, Serialize)]
pub struct Card {
    id: String,
    network: String,
    network_key: String,
    via: String,
    status: String,
    url: Option<String>,
    campaign: Option<String>,
    tone: Option<String>,
    reply_to: Option<String>,
    time: String,
    datetime: String,
    unit: &'static str,
    parts: Vec<Part>,
    over: bool,
}

/// Splits `text` into plain runs and hashtags (`#` after a non-word character, then word
/// characters, not all digits).
pub fn segments(text: &str) -> Vec<Segment> {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out: Vec<Segment> = Vec::new();
    let mut plain_start = 0;
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let starts_tag = c == '#' && (i == 0 || (!word(chars[i - 1].1) && chars[i - 1].1 != '&'));
        if starts_tag {
            let mut j = i + 1;
            while j < chars.len() && word(chars[j].1) {
                j += 1;
            }
            let end = chars.get(j).map_or(text.len(), |(b, _)| *b);
            let tag = text.get(at..end).unwrap_or_default();
            if j > i + 1
                && !tag
                    .get(1..)
                    .unwrap_or_default()
                    .chars()
                    .all(|c| c.is_ascii_digit())
            {
                if at > plain_start {
                    out.push(Segment {
                        text: text.get(plain_start..at).unwrap_or_default().to_string(),
                        tag: false,
                    });
                }
                out.push(Segment {
                    text: tag.to_string(),
                    tag: true,
                });
                plain_start = end;
                i = j;
                continue;
            }
        }
        i += 1;
    }
    if plain_start < text.len() {
        out.push(Segment {
            text: text.get(plain_start..).unwrap_or_default().to_string(),
            tag: false,
        });
    }
    out
}

/// The parts of a captured post as published: the first carries the `hashtags` field
/// (after a blank line, as Halcytone's composer publishes them) unless its text has them all.
fn published_parts(req: &Value) -> Vec<String> {
    let first = req["content"].as_str().unwrap_or_default();
    let hashtags: Vec<String> = req["hashtags"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .map(|t| {
                    if t.starts_with('#') {
                        t.to_string()
                    } else {
                        format!("#{t}")
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let first = if hashtags.is_empty() || hashtags.iter().all(|t| first.contains(t.as_str())) {
        first.to_string()
    } else {
        format!("{first}\n\n{}", hashtags.join(" "))
    };
    std::iter::once(first)
        .chain(
            req["thread"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string),
        )
        .collect()
}

/// One capture as a card.
pub fn card(r: &Record) -> Card {
    let req = &r.request;
    let key = req["platform"]
        .as_str()
        .map(str::to_string)
        .or_else(|| {
            r.channel
                .as_deref()
                .and_then(|c| c.strip_prefix("social:"))
                .map(str::to_string)
        })
        .unwrap_or_default();
    let network = NETWORKS.iter().find(|n| n.key == key);
    let texts = published_parts(req);
    let of = texts.len();
    let parts: Vec<Part> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let length = match network {
                Some(n) if n.weighted => crate::networks::weighted_length(text),
                _ => text.chars().count(),
            };
            let limit = network.map(|n| n.limit);
            Part {
                number: i + 1,
                of,
                segments: segments(text),
                length,
                limit,
                over: limit.is_some_and(|l| length > l),
            }
        })
        .collect();
    let via = match req["via"].as_str() {
        Some("x-api-v2") => "X API v2 (POST /2/tweets)".to_string(),
        Some("linkedin-posts-api") => "LinkedIn Posts API (POST /rest/posts)".to_string(),
        Some(other) => other.to_string(),
        None => "Platform API (POST /api/v1/social/post)".to_string(),
    };
    Card {
        id: r.id.clone(),
        network: network.map_or_else(
            || {
                if key.is_empty() {
                    "Unknown network".into()
                } else {
                    key.clone()
                }
            },
            |n| n.name.to_string(),
        ),
        network_key: network.map_or("other", |n| n.key).to_string(),
        via,
        status: or_dash(r.status.clone()),
        url: r.response["url"].as_str().map(str::to_string),
        campaign: r.campaign.clone(),
        tone: req["metadata"]["tone"].as_str().map(str::to_string),
        reply_to: req["in_reply_to"].as_str().map(str::to_string),
        time: display_time(&r.created_at),
        datetime: r.created_at.clone(),
        unit: if network.is_some_and(|n| n.weighted) {
            "weighted characters"
        } else {
            "characters"
        },
        over: parts.iter().any(|p| p.over),
        parts,
    }
}

/// The newest `n` social captures as cards (the overview).
pub async fn latest(state: &MockState, n: i64) -> Result<Vec<Card>, ConsoleError> {
    let (records, _) = state
        .store
        .list(&Filter {
            kinds: vec!["social".into()],
            captured_only: true,
            limit: n,
            ..Filter::default()
        })
        .await?;
    Ok(records.iter().map(card).collect())
}

/// `GET /posts/social`: cards, newest first, filterable by network and text.
pub async fn cards(
    State(state): State<MockState>,
    params: Params,
) -> Result<Response, ConsoleError> {
    if state.kind != MockKind::Platform {
        return Err(ConsoleError::elsewhere("Web and social posts", state.kind));
    }
    let keys: Vec<&str> = NETWORKS.iter().map(|n| n.key).collect();
    let network = params.choice("network", &keys)?;
    let q = params.text("q")?;
    let page_no = params.page()?;
    let live_after = state.store.latest_capture_seq(Some("social")).await?;
    let (records, total) = state
        .store
        .list(&Filter {
            kinds: vec!["social".into()],
            captured_only: true,
            q: q.clone(),
            channel: network.as_ref().map(|n| format!("social:{n}")),
            limit: PAGE_SIZE,
            offset: (page_no - 1) * PAGE_SIZE,
            ..Filter::default()
        })
        .await?;
    let cards: Vec<Card> = records.iter().map(card).collect();
    let filters = [("network", network.as_deref()), ("q", q.as_deref())];
    let has_older = (page_no - 1) * PAGE_SIZE + (cards.len() as i64) < total;
    let networks: Vec<_> = NETWORKS
        .iter()
        .map(|n| {
            context! {
                key => n.key,
                name => n.name,
                limit => n.limit,
                selected => network.as_deref() == Some(n.key),
            }
        })
        .collect();
    let ctx = context! {
        cards => Serde(&cards),
        total,
        networks,
        network => network.as_deref(),
        q => q.as_deref(),
        ..list_context("/posts/social", &filters, page_no, has_older, live_after, &params)
    };
    page::html(&state, "social.html", "social", "Social posts", ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(text: &str) -> Vec<String> {
        segments(text)
            .into_iter()
            .filter(|s| s.tag)
            .map(|s| s.text)
            .collect()
    }

    #[test]
    fn hashtags_are_found_and_the_text_is_kept_whole() {
        let text = "Breathe #Halcytone, see https://x.com/a#frag &#39; #2026 #呼吸 #a_b!";
        assert_eq!(tags(text), vec!["#Halcytone", "#呼吸", "#a_b"]);
        let joined: String = segments(text).into_iter().map(|s| s.text).collect();
        assert_eq!(joined, text);
        assert!(segments("").is_empty());
        for junk in ["#", "##", "# #", "a#", "#é"] {
            let joined: String = segments(junk).into_iter().map(|s| s.text).collect();
            assert_eq!(joined, junk);
        }
    }

    #[test]
    fn the_first_part_carries_the_hashtags_field() {
        let req =
            serde_json::json!({ "content": "Hello", "hashtags": ["#A", "B"], "thread": ["two"] });
        assert_eq!(published_parts(&req), vec!["Hello\n\n#A #B", "two"]);
        let already = serde_json::json!({ "content": "Hello #A", "hashtags": ["#A"] });
        assert_eq!(published_parts(&already), vec!["Hello #A"]);
    }
}
