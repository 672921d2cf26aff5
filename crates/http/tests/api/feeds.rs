//! The feeds of published web posts, read back by a feed parser after a dry-run publish.

use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_publish_appears_in_both_feeds() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    // Before anything is published: a valid, empty feed.
    let empty = app.get("/feed.atom", None).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
    let feed = feed_rs::parser::parse(empty.text.as_bytes()).unwrap();
    assert!(feed.entries.is_empty());
    let job = app.publish(r#"{"channels":["website"]}"#).await;
    let web = app.captures(&app.platform, "content").await;
    assert_eq!(web.len(), 1, "the mock Platform captured the post");
    let title = web[0]["request"]["title"].as_str().unwrap().to_string();
    let a = app.get("/feed.atom", None).await;
    assert_eq!(
        a.header("content-type"),
        "application/atom+xml; charset=utf-8"
    );
    let feed = feed_rs::parser::parse(a.text.as_bytes()).unwrap();
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
    assert_eq!(feed.entries.len(), 1, "{}", a.text);
    let entry = &feed.entries[0];
    assert_eq!(entry.title.as_ref().unwrap().content, title);
    assert!(
        entry.links[0]
            .href
            .starts_with("https://halcytone.com/updates/"),
        "{entry:?}"
    );
    assert!(entry.updated.is_some() && entry.published.is_some());
    assert!(
        entry
            .summary
            .as_ref()
            .is_some_and(|s| !s.content.is_empty())
    );
    assert!(
        !entry.categories.is_empty(),
        "the post's tags are its categories"
    );
    assert!(
        feed.links
            .iter()
            .any(|l| l.rel.as_deref() == Some("self") && l.href.ends_with("/feed.atom"))
    );
    let j = app.get("/feed.json", None).await;
    assert_eq!(
        j.header("content-type"),
        "application/feed+json; charset=utf-8"
    );
    let feed = feed_rs::parser::parse(j.text.as_bytes()).unwrap();
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::JSON);
    assert_eq!(feed.entries[0].title.as_ref().unwrap().content, title);
    assert_eq!(j.body["version"], "https://jsonfeed.org/version/1.1");
    // The mock Platform mirrors it: the post it captured, in its own feed.
    let mirror = app
        .http
        .get(app.platform.join("feed.atom").unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mirror = feed_rs::parser::parse(mirror.as_bytes()).unwrap();
    assert_eq!(mirror.entries.len(), 1);
    assert_eq!(mirror.entries[0].title.as_ref().unwrap().content, title);
    // Published again (a new job for the same post): one entry, updated, first time kept.
    app.publish(r#"{"channels":["website"]}"#).await;
    let again = feed_rs::parser::parse(app.get("/feed.atom", None).await.text.as_bytes()).unwrap();
    assert_eq!(again.entries.len(), 1);
    assert_eq!(again.entries[0].published, entry.published);
    assert!(again.entries[0].updated >= entry.updated);
    assert_eq!(job["status"], "completed");
}
