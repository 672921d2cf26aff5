//! Feeds of the published web posts: Atom 1.0 (RFC 4287, written by `atom_syndication`) and
//! JSON Feed 1.1, newest first, each entry with its title, summary, link, times and categories.

use atom_syndication::{
    CategoryBuilder, EntryBuilder, FeedBuilder, FixedDateTime, LinkBuilder, PersonBuilder, Text,
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// The feed itself: whose it is and where it lives.
#[derive(Debug, Clone)]
pub struct FeedInfo {
    pub title: String,
    pub description: String,
    /// The website the posts are on.
    pub site_url: String,
    /// This feed's own address (Atom `rel="self"`, JSON Feed `feed_url`).
    pub feed_url: String,
    pub author: String,
}

/// One published post.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEntry {
    /// Stable across updates of the post (its address).
    pub id: String,
    pub title: String,
    pub url: String,
    pub summary: String,
    pub published: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub categories: Vec<String>,
}

fn fixed(t: DateTime<Utc>) -> FixedDateTime {
    t.fixed_offset()
}

/// The Atom document of `entries` (given newest first). An empty feed is still valid: its
/// `updated` is `now`.
pub fn atom(info: &FeedInfo, entries: &[FeedEntry], now: DateTime<Utc>) -> String {
    let updated = entries.iter().map(|e| e.updated).max().unwrap_or(now);
    let author = PersonBuilder::default()
        .name(info.author.clone())
        .uri(Some(info.site_url.clone()))
        .build();
    let items = entries
        .iter()
        .map(|e| {
            EntryBuilder::default()
                .id(e.id.clone())
                .title(Text::plain(e.title.clone()))
                .updated(fixed(e.updated))
                .published(Some(fixed(e.published)))
                .summary(Some(Text::plain(e.summary.clone())))
                .link(
                    LinkBuilder::default()
                        .href(e.url.clone())
                        .rel("alternate")
                        .mime_type(Some("text/html".to_string()))
                        .build(),
                )
                .categories(
                    e.categories
                        .iter()
                        .map(|c| CategoryBuilder::default().term(c.clone()).build())
                        .collect::<Vec<_>>(),
                )
                .build()
        })
        .collect::<Vec<_>>();
    let feed = FeedBuilder::default()
        .id(info.feed_url.clone())
        .title(Text::plain(info.title.clone()))
        .subtitle(Some(Text::plain(info.description.clone())))
        .updated(fixed(updated))
        .author(author)
        .link(
            LinkBuilder::default()
                .href(info.feed_url.clone())
                .rel("self")
                .mime_type(Some("application/atom+xml".to_string()))
                .build(),
        )
        .link(
            LinkBuilder::default()
                .href(info.site_url.clone())
                .rel("alternate")
                .mime_type(Some("text/html".to_string()))
                .build(),
        )
        .entries(items)
        .build();
    feed.to_string()
}

/// The JSON Feed 1.1 document of `entries` (given newest first).
pub fn json_feed(info: &FeedInfo, entries: &[FeedEntry]) -> Value {
    let iso = |t: &DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": info.title,
        "description": info.description,
        "home_page_url": info.site_url,
        "feed_url": info.feed_url,
        "authors": [{ "name": info.author, "url": info.site_url }],
        "items": entries.iter().map(|e| json!({
            "id": e.id,
            "url": e.url,
            "title": e.title,
            "summary": e.summary,
            "content_text": e.summary,
            "date_published": iso(&e.published),
            "date_modified": iso(&e.updated),
            "tags": e.categories,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> FeedInfo {
        FeedInfo {
            title: "Halcytone updates".into(),
            description: "News from Halcytone".into(),
            site_url: "https://halcytone.example".into(),
            feed_url: "https://halcytone.example/feed.atom".into(),
            author: "Halcytone".into(),
        }
    }

    #[test]
    fn entries_are_written_escaped_with_their_times_and_categories() {
        let t = DateTime::parse_from_rfc3339("2026-11-24T09:00:00Z")
            .unwrap()
            .to_utc();
        let e = FeedEntry {
            id: "https://halcytone.example/updates/a".into(),
            title: "Sleep <Sessions> & more".into(),
            url: "https://halcytone.example/updates/a".into(),
            summary: "Ten minutes".into(),
            published: t,
            updated: t,
            categories: vec!["app".into()],
        };
        let xml = atom(&info(), std::slice::from_ref(&e), t);
        assert!(xml.contains("Sleep &lt;Sessions&gt; &amp; more"), "{xml}");
        assert!(
            xml.contains("<updated>2026-11-24T09:00:00+00:00</updated>"),
            "{xml}"
        );
        assert!(xml.contains(r#"<category term="app"/>"#), "{xml}");
        let parsed: atom_syndication::Feed = xml.parse().unwrap();
        assert_eq!(parsed.entries().len(), 1);
        let j = json_feed(&info(), &[e]);
        assert_eq!(j["items"][0]["date_published"], "2026-11-24T09:00:00Z");
        assert_eq!(j["version"], "https://jsonfeed.org/version/1.1");
    }
}
