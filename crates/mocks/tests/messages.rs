//! The mock CRM's message page and inbox search over real HTTP on a random port: every tab,
//! the `.eml` download parsed back, attachments, remote images blocked then shown, body
//! search (console and `GET /api/v1/messages`) with its mistakes told, and unknown ids.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use halcytone_mocks::console::{CAPTURED_CSP, IMAGES_BLOCKED_CSP, PAGE_CSP};
use halcytone_mocks::state::{MockConfig, MockKind, MockState};
use halcytone_mocks::store::{ConsoleQuery, NewRecord, Store};
use halcytone_testkit::text::assert_contains_all;
use mail_parser::{MessageParser, MimeHeaders};
use reqwest::StatusCode;
use serde_json::{Value, json};

mod common;

struct Crm {
    base: String,
    http: reqwest::Client,
    state: MockState,
    _served: common::Served,
}

async fn crm_over(store: Store) -> Crm {
    let mut config = MockConfig::new(MockKind::Crm);
    config.seed = 11;
    let state = halcytone_mocks::state(MockKind::Crm, config, store)
        .await
        .unwrap();
    let served = common::serve_app(state.clone()).await;
    Crm {
        base: served.base.clone(),
        http: reqwest::Client::new(),
        state,
        _served: served,
    }
}

async fn crm() -> Crm {
    crm_over(Store::in_memory().await.unwrap()).await
}

/// Minijinja escapes `/` in text and attributes; tests read paths unescaped.
fn unslash(html: &str) -> String {
    html.replace("&#x2f;", "/")
}

impl Crm {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// A console page that must answer 200 with HTML and the console's policy.
    async fn page(&self, path: &str) -> String {
        let resp = self.get(path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.headers()["content-type"], "text/html; charset=utf-8");
        assert_eq!(resp.headers()["content-security-policy"], PAGE_CSP);
        unslash(&resp.text().await.unwrap())
    }

    async fn send(&self, body: Value) -> String {
        common::send_email(&self.http, &self.base, &body).await
    }
}

const SUBJECT: &str = "Atmen — wöchentlich ✓";
const TEXT: &str = "Breathe in for four.\nHold for seven.\nThe lighthouse word is only here.";
const HTML: &str = "<!doctype html><html><head><title>Week</title></head><body>\
    <p>Calm <b>pacing</b> with a <em>zephyr</em> of air.</p>\
    <img src=\"https://images.example/hero.png\" alt=\"Hero\" width=\"600\">\
    <img src='http://track.example/open.gif' width=1 height=1>\
    <a href=\"https://halcytone.com/news\">News</a></body></html>";

fn newsletter() -> Value {
    json!({
        "subject": SUBJECT,
        "html_content": HTML,
        "text_content": TEXT,
        "campaign_id": "camp-eml",
        "recipients": ["reader1@example.com", "reader2@example.com"],
        "sender_email": "noreply@halcytone.com",
        "metadata": { "template": "modern" },
    })
}

#[tokio::test]
async fn every_tab_of_the_message_page_renders() {
    let m = crm().await;
    let id = m.send(newsletter()).await;
    let base = format!("/messages/{id}");

    let html = m.page(&base).await;
    assert_contains_all(
        &html,
        &[
            "<h1>Atmen — wöchentlich ✓</h1>",
            "aria-label=\"Views of this email\"",
            &format!("<a class=\"download\" href=\"{base}.eml\" download>Download .eml</a>"),
            "<summary>Recipients (2)</summary>",
            &format!("<iframe class=\"preview preview-full\" sandbox=\"\" src=\"{base}/html\""),
            "2 remote image(s) blocked.",
            &format!("<a class=\"images-toggle\" href=\"{base}?images=1\">Show them</a>"),
            &format!("href=\"{base}?width=320\">320 px</a>"),
            &format!("<a class=\"dark-toggle\" href=\"{base}?dark=1\">Preview in dark mode</a>"),
        ],
    );
    assert!(
        html.contains(&format!(
            "<a href=\"{base}\" aria-current=\"page\">HTML</a>"
        )),
        "{html}"
    );
    for (tab, says) in [
        (
            "text",
            vec!["<pre class=\"text-part\">Breathe in for four.\nHold for seven."],
        ),
        (
            "source",
            vec![
                "<pre class=\"source message-source\">",
                "Content-Type: multipart/alternative;",
                "Subject: Atmen =?utf-8?b?",
                "<pre class=\"source html-source\">&lt;!doctype html&gt;",
            ],
        ),
        (
            "headers",
            vec![
                "<th scope=\"row\">MIME-Version</th><td>1.0</td>",
                "<th scope=\"row\">X-Campaign-ID</th><td>camp-eml</td>",
                "<dt>template</dt><dd>modern</dd>",
            ],
        ),
        (
            "links",
            vec!["<code>https://halcytone.com/news</code>", "Links (1)"],
        ),
        (
            "checks",
            vec!["Plain-text part</strong>: present", "HTML size</strong>"],
        ),
    ] {
        let page = m.page(&format!("{base}?tab={tab}")).await;
        assert_contains_all(&page, &says);
        assert!(
            page.contains(&format!("href=\"{base}?tab={tab}\" aria-current=\"page\"")),
            "{tab} is the current tab: {page}"
        );
        assert!(
            !page.contains("<iframe"),
            "{tab}: only the HTML tab has the frame"
        );
    }
    // The preview's width and theme are kept from tab to tab.
    let narrow = m.page(&format!("{base}?width=320&dark=1")).await;
    assert_contains_all(
        &narrow,
        &[
            "class=\"preview preview-320 preview-dark\"",
            &format!("src=\"{base}/html?dark=1\""),
            &format!("href=\"{base}?tab=text&amp;width=320&amp;dark=1\""),
            "Back to light",
        ],
    );
    let dark = m
        .get(&format!("{base}/html?dark=1"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        dark.ends_with("</style>") && dark.contains("invert(1)"),
        "{dark}"
    );

    let bad = m.get(&format!("{base}?tab=raw")).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("tab: &#x27;raw&#x27; is not one of")
    );
}

#[tokio::test]
async fn the_eml_of_an_api_capture_parses_back_to_what_was_captured() {
    let m = crm().await;
    let id = m.send(newsletter()).await;
    let resp = m.get(&format!("/messages/{id}.eml")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "message/rfc822");
    let disposition = resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with(&format!("attachment; filename=\"{id}.eml\"")),
        "{disposition}"
    );
    let bytes = resp.bytes().await.unwrap().to_vec();
    assert!(bytes.is_ascii(), "non-ASCII headers are RFC 2047-encoded");
    let again = m
        .get(&format!("/messages/{id}.eml"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes, again.to_vec(), "the same bytes each time");

    let message = MessageParser::default().parse(&bytes).unwrap();
    let root = message.root_part();
    let ct = root.content_type().unwrap();
    assert_eq!(
        (ct.ctype(), ct.subtype()),
        ("multipart", Some("alternative"))
    );
    let boundary = ct.attribute("boundary").unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains(&format!("--{boundary}--")));
    assert_eq!(message.subject(), Some(SUBJECT));
    let raw_subject = String::from_utf8_lossy(&bytes)
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .unwrap()
        .to_string();
    assert!(raw_subject.contains("=?utf-8?b?"), "{raw_subject}");
    assert_eq!(message.text_body.len(), 1);
    assert_eq!(message.html_body.len(), 1);
    assert_eq!(message.body_text(0).unwrap().replace("\r\n", "\n"), TEXT);
    assert_eq!(message.body_html(0).unwrap().replace("\r\n", "\n"), HTML);
    let to: Vec<_> = message
        .to()
        .unwrap()
        .iter()
        .filter_map(|a| a.address())
        .collect();
    assert_eq!(to, ["reader1@example.com", "reader2@example.com"]);
    assert_eq!(
        message.from().unwrap().first().unwrap().address(),
        Some("noreply@halcytone.com")
    );
    assert_eq!(
        message.header_raw("X-Campaign-ID").map(str::trim),
        Some("camp-eml")
    );
}

const SMTP_MESSAGE: &str = "From: =?utf-8?q?Halcyt=C3=B6ne?= <newsletter@example.com>\r\n\
To: subscriber1@example.com\r\n\
Subject: =?utf-8?b?QXRtZW4g4oCUIHcgU01UUA==?=\r\n\
Message-ID: <eml.smtp.1@example.com>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\
\r\n\
--outer\r\n\
Content-Type: multipart/alternative; boundary=\"inner\"\r\n\
\r\n\
--inner\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Hello over SMTP\r\n\
--inner\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<p>Hello over SMTP</p><img src=\"https://cdn.example/a.png\">\r\n\
--inner--\r\n\
--outer\r\n\
Content-Type: text/calendar; name=\"session.ics\"\r\n\
Content-Disposition: attachment; filename=\"session.ics\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
QkVHSU46VkNBTEVOREFS\r\n\
--outer--\r\n";

#[tokio::test]
async fn an_smtp_capture_downloads_its_exact_bytes_and_its_attachments() {
    let m = crm().await;
    let id = common::capture_smtp(&m.state, SMTP_MESSAGE).await;
    let resp = m.get(&format!("/messages/{id}.eml")).await;
    assert_eq!(resp.headers()["content-type"], "message/rfc822");
    assert_eq!(
        resp.bytes().await.unwrap(),
        SMTP_MESSAGE.as_bytes(),
        "exactly the DATA"
    );

    let page = m.page(&format!("/messages/{id}")).await;
    let href = format!("/messages/{id}/attachments/0");
    assert_contains_all(
        &page,
        &[
            "<h1>Atmen — w SMTP</h1>",
            "Attachments (1)",
            &format!("<a href=\"{href}\" download>session.ics</a>"),
            "text/calendar, 15 B",
            "1 remote image(s) blocked.",
        ],
    );
    let headers = m.page(&format!("/messages/{id}?tab=headers")).await;
    assert!(
        headers
            .contains("<th scope=\"row\">Message-ID</th><td>&lt;eml.smtp.1@example.com&gt;</td>"),
        "{headers}"
    );
    let source = m.page(&format!("/messages/{id}?tab=source")).await;
    assert!(source.contains("QkVHSU46VkNBTEVOREFS"), "{source}");

    let file = m.get(&href).await;
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.headers()["content-type"], "text/calendar");
    assert!(
        file.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"session.ics\"")
    );
    assert_eq!(file.bytes().await.unwrap(), &b"BEGIN:VCALENDAR"[..]);
    for missing in ["1", "x", "99999999999999999999"] {
        let resp = m
            .get(&format!("/messages/{id}/attachments/{missing}"))
            .await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{missing}");
    }
}

#[tokio::test]
async fn remote_images_are_blocked_until_shown() {
    let m = crm().await;
    let id = m.send(newsletter()).await;
    let blocked = m.get(&format!("/messages/{id}/html")).await;
    assert_eq!(
        blocked.headers()["content-security-policy"],
        IMAGES_BLOCKED_CSP
    );
    assert!(!IMAGES_BLOCKED_CSP.contains("http"));
    let body = blocked.text().await.unwrap();
    assert!(
        !body.contains("images.example") && !body.contains("track.example"),
        "{body}"
    );
    assert!(body.contains("<img src=\"data:image/gif;base64,"), "{body}");
    assert!(
        body.contains("<a href=\"https://halcytone.com/news\">"),
        "links stay: {body}"
    );

    let page = m.page(&format!("/messages/{id}?images=1")).await;
    assert_contains_all(
        &page,
        &[
            "2 remote image(s) shown.",
            &format!("src=\"/messages/{id}/html?images=1\""),
            &format!("<a class=\"images-toggle\" href=\"/messages/{id}\">Block them</a>"),
        ],
    );
    let shown = m.get(&format!("/messages/{id}/html?images=1")).await;
    assert_eq!(shown.headers()["content-security-policy"], CAPTURED_CSP);
    assert_eq!(shown.text().await.unwrap(), HTML, "exactly as captured");
}

#[tokio::test]
async fn unknown_messages_are_404_pages_and_404_json() {
    let m = crm().await;
    for path in [
        "/messages/nope",
        "/messages/nope.eml",
        "/messages/nope/html",
        "/messages/nope/attachments/0",
        "/messages/%3Cscript%3E?tab=source",
    ] {
        let resp = m.get(path).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            resp.headers()["content-type"],
            "text/html; charset=utf-8",
            "{path}"
        );
        let body = resp.text().await.unwrap();
        assert!(
            body.contains("No captured email has the id"),
            "{path}: {body}"
        );
        assert!(!body.contains("<script>"), "{path}: {body}");
    }
    let resp = m.get("/api/v1/messages/nope").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({ "detail": "Message not found" })
    );
}

#[tokio::test]
async fn body_search_finds_words_only_in_the_body_with_filters_in_the_url() {
    let m = crm().await;
    let id = m.send(newsletter()).await;
    let mut other = newsletter();
    other["subject"] = json!("Lighthouse in the subject only");
    other["text_content"] = json!("Nothing to see.");
    other["html_content"] = json!("<p>Plain</p>");
    other["campaign_id"] = json!("camp-other");
    other["recipients"] = json!(["someone@example.org"]);
    let other_id = m.send(other).await;

    // "zephyr" is only in the HTML, "pacing" only in the HTML's text, "four" only in the text part.
    for q in [
        "zephyr",
        "pacing",
        "four",
        "text:lighthouse",
        "html:zeph*",
        "%22hold+for+seven%22",
    ] {
        let page = m.page(&format!("/?q={q}")).await;
        assert!(page.contains(SUBJECT), "{q}: {page}");
        assert!(
            !page.contains("Lighthouse in the subject only"),
            "{q}: {page}"
        );
        let api: Value = m
            .get(&format!("/api/v1/messages?q={q}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(api["count"], 1, "{q}: {api}");
        assert_eq!(api["messages"][0]["id"], id.as_str(), "{q}: {api}");
    }
    // Not the markup: tag and attribute names are not words of the email.
    let api: Value = m.get("/api/v1/messages?q=href").await.json().await.unwrap();
    assert_eq!(api["count"], 0, "{api}");
    let both: Value = m
        .get("/api/v1/messages?q=lighthouse")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(both["count"], 2, "{both}");
    assert_eq!(both["searched"], json!(["subject", "text", "html"]));

    let page = m.page("/?q=lighthouse&campaign=camp-other&recipient=SOMEONE&since=2000-01-01&until=2999-12-31").await;
    assert!(
        page.contains("Lighthouse in the subject only") && !page.contains(SUBJECT),
        "{page}"
    );
    assert_contains_all(
        &page,
        &[
            "value=\"lighthouse\"",
            "value=\"SOMEONE\"",
            "value=\"2000-01-01\"",
            "value=\"2999-12-31\"",
            "Searches the words of the subject, the text part and the HTML part",
        ],
    );
    for (query, expected) in [
        ("q=lighthouse&recipient=reader2", &id),
        ("q=lighthouse&campaign=camp-other", &other_id),
    ] {
        let api: Value = m
            .get(&format!("/api/v1/messages?{query}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(api["count"], 1, "{query}: {api}");
        assert_eq!(&api["messages"][0]["id"], expected.as_str(), "{query}");
        assert_eq!(
            api["messages"][0]["eml"],
            format!("/messages/{expected}.eml")
        );
    }
    let future: Value = m
        .get("/api/v1/messages?q=lighthouse&since=2999-01-01")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(future["count"], 0);
    let past = m.get("/?until=2000-01-01").await.text().await.unwrap();
    assert!(
        past.contains("No captured email matches these filters"),
        "{past}"
    );
}

#[tokio::test]
async fn a_search_the_index_cannot_read_is_told_not_a_500() {
    let m = crm().await;
    m.send(newsletter()).await;
    for q in [
        "%22unclosed",
        "reader%40example.com",
        "camp-7",
        "a+OR",
        "*",
        "NEAR(",
        "nosuch:word",
        "%3Cscript%3E",
    ] {
        let resp = m.get(&format!("/?q={q}")).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{q}");
        let page = resp.text().await.unwrap();
        assert!(page.contains("class=\"flash flash-error search-error\" role=\"alert\">q: the search could not be read"), "{q}: {page}");
        assert!(!page.contains("<script>"), "{q}");

        let resp = m.get(&format!("/api/v1/messages?q={q}")).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{q}");
        let body: Value = resp.json().await.unwrap();
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .starts_with("q: the search could not be read"),
            "{q}: {body}"
        );
    }
    for (query, says) in [
        (
            "since=yesterday",
            "since: &#x27;yesterday&#x27; is not a date",
        ),
        ("until=2026-02-30", "until: &#x27;2026-02-30&#x27;"),
    ] {
        let resp = m.get(&format!("/?{query}")).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(resp.text().await.unwrap().contains(says), "{query}");
    }
    for query in ["since=yesterday", "limit=0", "nope=1"] {
        let resp = m.get(&format!("/api/v1/messages?{query}")).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
    }
}

fn email(i: usize, body_word: &str) -> NewRecord {
    NewRecord {
        id: format!("email-{i:06}"),
        kind: "email",
        captured: true,
        subject: Some(format!("Weekly update {i}")),
        campaign: Some(format!("camp-{}", i % 10)),
        channel: Some("email".into()),
        status: Some("sent".into()),
        created_at: format!("2026-01-05T10:{:02}:{:02}.000Z", i / 60 % 60, i % 60),
        request: json!({
            "subject": format!("Weekly update {i}"),
            "html_content": format!("<p>Breathe slowly, {body_word} number {i}.</p>"),
            "text_content": format!("Breathe slowly, {body_word} number {i}."),
            "recipients": [format!("reader{i}@example.com")],
        }),
        response: json!({ "message_id": format!("email-{i:06}"), "recipients_count": 1 }),
        ..NewRecord::default()
    }
}

/// How many emails a body search of the inbox finds (its first page of ten).
async fn inbox_search(store: &Store, words: &str) -> usize {
    let query = ConsoleQuery {
        kind: "email".into(),
        search: Some(words.into()),
        limit: 10,
        ..ConsoleQuery::default()
    };
    store.inbox_rows(&query).await.unwrap().len()
}

/// Emails the index does not hold yet (captured before it existed, or not yet reached by
/// the background indexer) are indexed before a search reads it.
#[tokio::test]
async fn captures_not_yet_indexed_are_indexed_before_a_search() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mock-crm.db");
    {
        let store = Store::open(&path).await.unwrap();
        store
            .commit(Some(&email(1, "heron")), None, 100)
            .await
            .unwrap();
    }
    // As a database from before migration 0005 would be: nothing in the index.
    {
        use sqlx::ConnectOptions;
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .connect()
            .await
            .unwrap();
        sqlx::query("DELETE FROM message_search")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("UPDATE meta SET value = 0 WHERE key = 'search:upto'")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let store = Store::open(&path).await.unwrap();
    assert_eq!(inbox_search(&store, "heron").await, 1);
    // And pruned captures leave it.
    for i in 2..=4 {
        store
            .commit(Some(&email(i, "heron")), None, 1)
            .await
            .unwrap();
    }
    let m = crm_over(store).await;
    let api: Value = m
        .get("/api/v1/messages?q=heron")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api["count"], 1, "only the retained capture: {api}");
    assert_eq!(api["messages"][0]["id"], "email-000004");
}

/// Writes do not wait for the body-search index: captures are indexed once writes are quiet,
/// without a search asking, and pruning what was never indexed leaves the index alone.
#[tokio::test]
async fn captures_are_indexed_in_the_background_once_writes_are_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mock-crm.db");
    let store = Store::open(&path).await.unwrap();
    for i in 1..=5 {
        store
            .commit(Some(&email(i, "heron")), None, 3)
            .await
            .unwrap();
    }
    let indexed = || async {
        use sqlx::ConnectOptions;
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .connect()
            .await
            .unwrap();
        let upto: i64 = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'search:upto'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        let rows: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM message_search WHERE message_search MATCH 'heron'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        (upto, rows)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let (upto, rows) = loop {
        let (upto, rows) = indexed().await;
        if upto > 0 || std::time::Instant::now() > deadline {
            break (upto, rows);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    // Retention 3: the first two captures were pruned (seq 1 and 2) before the index saw them.
    assert_eq!(upto, 5, "the quiet writer indexed up to the newest capture");
    assert_eq!(rows, 3, "only the retained captures are indexed");
    assert_eq!(inbox_search(&store, "heron").await, 3);
}

/// A search over 100,000 captured emails answers a page in well under a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_search_over_100000_captures_stays_fast() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("mock-crm.db")).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100_000 {
        let store = store.clone();
        let word = if i % 1000 == 7 { "rarebird" } else { "calm" };
        tasks.spawn(async move { store.commit(Some(&email(i, word)), None, 1_000_000).await });
        while tasks.len() >= 512 {
            tasks.join_next().await.unwrap().unwrap().unwrap();
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap().unwrap();
    }
    // Captures are indexed after the fact (by the first search, or when writes are quiet).
    let started = std::time::Instant::now();
    store.index_for_search().await.unwrap();
    eprintln!("indexing 100,000 captures took {:?}", started.elapsed());
    for (search, expected) in [
        ("rarebird", 51),
        ("calm", 51),
        ("breathe AND calm", 51),
        ("nothing", 0),
    ] {
        let query = ConsoleQuery {
            kind: "email".into(),
            search: Some(search.into()),
            campaign: Some("camp-7".into()),
            limit: 51,
            ..ConsoleQuery::default()
        };
        let started = std::time::Instant::now();
        let rows = store.inbox_rows(&query).await.unwrap();
        let count = store.console_count(&query).await.unwrap();
        let took = started.elapsed();
        assert_eq!(rows.len(), expected, "{search}");
        assert!(count >= rows.len() as i64, "{search}");
        assert!(
            took < std::time::Duration::from_millis(1500),
            "{search}: a page and its count took {took:?}"
        );
        eprintln!("{search}: {} rows, {count} in all, {took:?}", rows.len());
    }
}
