//! Social captures as the network would show them: one card per post in the network's own
//! look (`halcytone_webpage::social`: avatar, name, relative time, action bar), its parts in
//! order (1/n), hashtags, mentions and addresses coloured, each part's length as the network
//! counts it against its limit (X weighs URLs as 23 and CJK and emoji as 2:
//! `networks::weighted_length`), and a link card: the title and meta description of the web
//! post the link names when this mock captured it (found by the link's last path segment,
//! the post's slug or id), else the address's domain and path.

use super::page::{self, ConsoleError, display_time, or_dash};
use super::params::{Params, list_context};
use crate::state::{MockKind, MockState};
use crate::store::{ConsoleQuery, Filter, Record};
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use halcytone_webpage::social::{Author, Draft, LinkCard, Post, When, urls};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// Cards per page.
pub const PAGE_SIZE: i64 = 50;

/// The newest web posts searched for the one a card links to.
const LINKED_POSTS_SEARCHED: i64 = 500;

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

/// One captured post: the post as its network draws it, and what the mock knows of the
/// capture.
#[derive(Debug, Serialize)]
pub struct Card {
    id: String,
    via: String,
    status: String,
    url: Option<String>,
    campaign: Option<String>,
    tone: Option<String>,
    reply_to: Option<String>,
    time: String,
    datetime: String,
    post: Post,
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

/// The link a capture carries: the Platform API's `metadata.link`, the Graph API's `link`,
/// else the last address in its text (X and LinkedIn draw their card from it).
fn link_of(req: &Value, texts: &[String]) -> Option<String> {
    req["metadata"]["link"]
        .as_str()
        .or_else(|| req["link"].as_str())
        .map(str::to_string)
        .or_else(|| texts.iter().flat_map(|t| urls(t)).last())
}

/// One capture as a card, its time relative to `now`.
pub fn card(r: &Record, now: DateTime<Utc>) -> Card {
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
    let link = link_of(req, &texts).and_then(|l| LinkCard::of(&l));
    let parts = texts
        .into_iter()
        .map(|text| {
            let length = match network {
                Some(n) if n.weighted => crate::networks::weighted_length(&text),
                _ => text.chars().count(),
            };
            (text, length)
        })
        .collect();
    let via = match req["via"].as_str() {
        Some("x-api-v2") => "X API v2 (POST /2/tweets)".to_string(),
        Some("linkedin-posts-api") => "LinkedIn Posts API (POST /rest/posts)".to_string(),
        Some(other) => other.to_string(),
        None => "Platform API (POST /api/v1/social/post)".to_string(),
    };
    let post = Draft {
        dom_id: format!("card-{}", r.id),
        network_key: key.clone(),
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
        // The mock knows no account: the post is shown as a neutral brand's.
        author: Author::neutral(),
        when: When::at(&r.created_at, now),
        parts,
        limit: network.map(|n| n.limit),
        unit: if network.is_some_and(|n| n.weighted) {
            "weighted characters"
        } else {
            "characters"
        },
        link,
        media: req["media_urls"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
    }
    .post();
    Card {
        id: r.id.clone(),
        via,
        status: or_dash(r.status.clone()),
        url: r.response["url"].as_str().map(str::to_string),
        campaign: r.campaign.clone(),
        tone: req["metadata"]["tone"].as_str().map(str::to_string),
        reply_to: req["in_reply_to"].as_str().map(str::to_string),
        time: display_time(&r.created_at),
        datetime: r.created_at.clone(),
        post,
    }
}

/// `records` as cards, each link card with the title and meta description of the captured
/// web post it names (by slug or id, among the newest [`LINKED_POSTS_SEARCHED`]) and a link to
/// that post's page.
pub async fn cards_of(state: &MockState, records: &[Record]) -> Result<Vec<Card>, ConsoleError> {
    let now = Utc::now();
    let mut cards: Vec<Card> = records.iter().map(|r| card(r, now)).collect();
    if cards.iter().all(|c| c.post.link.is_none()) {
        return Ok(cards);
    }
    let rows = state
        .store
        .post_rows(&ConsoleQuery {
            kind: "content".into(),
            limit: LINKED_POSTS_SEARCHED,
            ..ConsoleQuery::default()
        })
        .await?;
    let mut pages: HashMap<String, Option<(String, Option<String>)>> = HashMap::new();
    for c in &mut cards {
        let Some(link) = c.post.link.take() else {
            continue;
        };
        let found = link.slug().and_then(|slug| {
            rows.iter()
                .find(|r| r.slug.as_deref() == Some(slug) || r.id == slug)
        });
        let Some(row) = found else {
            c.post.link = Some(link);
            continue;
        };
        if !pages.contains_key(&row.id) {
            let page = state.store.get(Some("content"), &row.id).await?.map(|r| {
                let req = &r.request;
                let title = r
                    .subject
                    .clone()
                    .or_else(|| req["title"].as_str().map(str::to_string));
                let description = req["metadata"]["meta_description"]
                    .as_str()
                    .or_else(|| req["excerpt"].as_str())
                    .map(str::to_string);
                (title.unwrap_or_default(), description)
            });
            pages.insert(row.id.clone(), page);
        }
        c.post.link = Some(match pages.get(&row.id).cloned().flatten() {
            Some((title, description)) => link.page(
                title,
                description,
                Some(format!("/posts/web/{}", page::encode(&row.id))),
            ),
            None => link,
        });
    }
    Ok(cards)
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
    cards_of(state, &records).await
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
    let cards = cards_of(&state, &records).await?;
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

    #[test]
    fn the_link_is_the_metadata_s_the_graph_api_s_or_the_last_in_the_text() {
        let texts = [
            "a https://one.example/x".to_string(),
            "b https://two.example/y.".to_string(),
        ];
        let link = |req: Value, texts: &[String]| link_of(&req, texts);
        let meta = serde_json::json!({ "metadata": { "link": "https://m.example/" }, "link": "https://g.example/" });
        assert_eq!(link(meta, &texts).as_deref(), Some("https://m.example/"));
        let graph = serde_json::json!({ "link": "https://g.example/" });
        assert_eq!(link(graph, &texts).as_deref(), Some("https://g.example/"));
        let text = serde_json::json!({});
        assert_eq!(
            link(text.clone(), &texts).as_deref(),
            Some("https://two.example/y")
        );
        assert_eq!(link(text, &[]), None);
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
