//! The web console of both mocks over real HTTP on random ports: the inbox and its search,
//! hostile captures, web and social posts, the faults and reset forms, and live events.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use halcytone_mocks::console::{CAPTURED_CSP, IMAGES_BLOCKED_CSP, PAGE_CSP, Params, inbox_html};
use halcytone_mocks::state::{MockConfig, MockKind, MockState};
use halcytone_mocks::store::{NewRecord, Store};
use halcytone_testkit::http::{get, get_json};
use halcytone_testkit::text::assert_contains_all;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::time::Duration;

mod common;

struct TestMock {
    base: String,
    http: reqwest::Client,
    state: MockState,
    _served: common::Served,
}

async fn state(kind: MockKind) -> MockState {
    let mut config = MockConfig::new(kind);
    config.seed = 7;
    halcytone_mocks::state(kind, config, Store::in_memory().await.unwrap())
        .await
        .unwrap()
}

async fn serve(state: MockState) -> TestMock {
    let served = common::serve_app(state.clone()).await;
    TestMock {
        base: served.base.clone(),
        // Redirects are checked, not followed.
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        state,
        _served: served,
    }
}

async fn spawn(kind: MockKind) -> TestMock {
    serve(state(kind).await).await
}

/// A form value as a browser encodes it.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Minijinja escapes `/` in text and attributes; tests read paths unescaped.
fn unslash(html: &str) -> String {
    html.replace("&#x2f;", "/")
}

impl TestMock {
    async fn page(&self, path: &str) -> (StatusCode, HeaderMap, String) {
        let resp = get(&self.http, format!("{}{path}", self.base)).await;
        let (status, headers) = (resp.status(), resp.headers().clone());
        (status, headers, resp.text().await.unwrap())
    }

    /// A page that must answer 200 with HTML and the console's security headers.
    async fn ok(&self, path: &str) -> String {
        let (status, headers, body) = self.page(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(
            headers["content-type"], "text/html; charset=utf-8",
            "{path}"
        );
        assert_eq!(headers["content-security-policy"], PAGE_CSP, "{path}");
        assert_eq!(headers["x-frame-options"], "SAMEORIGIN", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        body
    }

    async fn post_json(&self, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap()
    }

    async fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> (StatusCode, String, String) {
        let body: Vec<String> = form
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect();
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.join("&"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let location = resp
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, location, resp.text().await.unwrap())
    }
}

fn batch(subject: &str, campaign: &str) -> Value {
    json!({
        "subject": subject,
        "html_content": "<p>Hello *|FIRST_NAME|*</p><a href=\"https://halcytone.com/news\">News</a>",
        "text_content": "Hello",
        "campaign_id": campaign,
        "recipients": [
            { "email": "reader1@example.com", "name": "Reader One", "merge_vars": { "first_name": "Reader" } },
            { "email": "reader2@example.com", "name": "Reader Two", "merge_vars": {} }
        ],
        "metadata": { "template": "modern", "tone": "professional", "batch": 1, "variant": "B" }
    })
}

#[tokio::test]
async fn the_inbox_lists_a_batch_email_and_search_finds_it() {
    let m = spawn(MockKind::Crm).await;
    let empty = m.ok("/").await;
    assert!(empty.contains("No email captured yet"), "{empty}");
    m.post_json(
        "/api/v1/email/batch",
        batch("Weekly breath update", "camp-7"),
    )
    .await;
    m.post_json(
        "/api/v1/email/send",
        json!({ "subject": "Another letter", "html_content": "<p>x</p>" }),
    )
    .await;

    let inbox = m.ok("/").await;
    assert_contains_all(
        &inbox,
        &[
            "Weekly breath update",
            "camp-7",
            "Another letter",
            "<h1>Inbox</h1>",
        ],
    );
    assert!(
        inbox.contains("<td class=\"num\" data-label=\"Recipients\">2</td>"),
        "two recipients: {inbox}"
    );
    assert!(
        inbox.contains("<td data-label=\"Variant\">B</td>"),
        "variant B: {inbox}"
    );
    assert!(
        inbox.contains("<td class=\"num\" data-label=\"Recipients\">1000</td>"),
        "a send without a list: {inbox}"
    );
    assert!(inbox.contains("Showing 1–2 of 2 emails"), "{inbox}");

    for query in [
        "q=WEEKLY",
        // Only in the bodies of the batch email.
        "q=hello",
        "q=%22breath+update%22",
        "recipient=reader2%40example.com",
        "recipient=READER2",
        "campaign=camp-7",
    ] {
        let found = m.ok(&format!("/?{query}")).await;
        assert!(found.contains("Weekly breath update"), "{query}: {found}");
        assert!(!found.contains("Another letter"), "{query}: {found}");
    }
    let none = m.ok("/?q=no+such+thing").await;
    assert!(!none.contains("Weekly breath update"), "{none}");
    assert!(
        none.contains("No captured email matches these filters"),
        "{none}"
    );
    assert!(
        none.contains("value=\"no such thing\""),
        "the search is kept: {none}"
    );
}

#[tokio::test]
async fn bad_values_and_unknown_ids_answer_html_pages() {
    let m = spawn(MockKind::Crm).await;
    for (path, status, says) in [
        (
            "/?page=0",
            StatusCode::BAD_REQUEST,
            "page: &#x27;0&#x27; is not a page number",
        ),
        (
            "/?page=abc",
            StatusCode::BAD_REQUEST,
            "page: &#x27;abc&#x27;",
        ),
        (
            "/messages/nope",
            StatusCode::NOT_FOUND,
            "No captured email has the id",
        ),
        (
            "/messages/nope/html",
            StatusCode::NOT_FOUND,
            "No captured email has the id",
        ),
        ("/posts/web", StatusCode::NOT_FOUND, "mock Platform"),
        (
            "/console/events?kind=contact",
            StatusCode::BAD_REQUEST,
            "kind: &#x27;contact&#x27;",
        ),
        (
            "/console/events?after=-1",
            StatusCode::BAD_REQUEST,
            "after:",
        ),
    ] {
        let (got, headers, body) = m.page(path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(
            headers["content-type"], "text/html; charset=utf-8",
            "{path}"
        );
        assert_eq!(headers["content-security-policy"], PAGE_CSP, "{path}");
        assert!(body.contains(says), "{path}: {says} in {body}");
        assert!(body.contains("<main id=\"main\""), "{path}");
    }
    let p = spawn(MockKind::Platform).await;
    let (got, _, body) = p.page("/messages/x").await;
    assert_eq!(got, StatusCode::NOT_FOUND);
    assert!(body.contains("mock CRM"), "{body}");
    let (got, _, body) = p.page("/posts/social?network=mastodon").await;
    assert_eq!(got, StatusCode::BAD_REQUEST);
    assert!(body.contains("network:"), "{body}");
}

const HOSTILE_SUBJECT: &str = "<script>window.pwned=1</script>";
const HOSTILE_HTML: &str = "<p>Hi</p><script>window.pwned=1</script><a href=\"javascript:alert(1)\">x</a><div style=\"width:expression(alert(1))\">y</div><a href=\"https://halcytone.com/ok\">ok</a>";

#[tokio::test]
async fn a_hostile_capture_is_escaped_and_its_html_sandboxed() {
    let m = spawn(MockKind::Crm).await;
    let sent = m
        .post_json(
            "/api/v1/email/send",
            json!({ "subject": HOSTILE_SUBJECT, "html_content": HOSTILE_HTML, "text_content": "</pre><script>window.pwned=1</script>" }),
        )
        .await;
    let id = sent["message_id"].as_str().unwrap();

    let inbox = m.ok("/").await;
    assert!(!inbox.contains("<script>window"), "{inbox}");
    assert!(
        inbox.contains("&lt;script&gt;window.pwned=1&lt;"),
        "{inbox}"
    );

    let page = m.ok(&format!("/messages/{id}")).await;
    let lower = page.to_lowercase();
    assert!(!lower.contains("<script>window"), "{page}");
    assert!(!lower.contains("href=\"javascript:"), "{page}");
    assert!(
        !lower.contains("expression("),
        "the HTML is only in the frame: {page}"
    );
    assert!(
        !lower.contains("allow-scripts") && !lower.contains("allow-same-origin"),
        "{page}"
    );
    let page = unslash(&page);
    assert!(
        page.contains(&format!(
            "<iframe class=\"preview preview-full\" sandbox=\"\" src=\"/messages/{id}/html\""
        )),
        "{page}"
    );
    // Scripts come only from the console itself.
    assert!(!page.contains("<script>"), "{page}");
    let links = unslash(&m.ok(&format!("/messages/{id}?tab=links")).await);
    assert!(
        links.contains("<code>javascript:alert(1)</code>"),
        "{links}"
    );
    assert!(links.contains("blocked scheme"), "{links}");
    assert!(
        links.contains("<code>https://halcytone.com/ok</code>"),
        "{links}"
    );
    let checks = m.ok(&format!("/messages/{id}?tab=checks")).await;
    assert!(
        checks.contains("1 link(s) use a blocked scheme"),
        "{checks}"
    );
    for tab in ["source", "text", "headers"] {
        let page = m
            .ok(&format!("/messages/{id}?tab={tab}"))
            .await
            .to_lowercase();
        assert!(!page.contains("<script>window"), "{tab}: {page}");
        assert!(!page.contains("</pre><script>"), "{tab}: {page}");
    }

    // No remote image in it: served exactly as captured, under the policy that loads none.
    let (status, headers, body) = m.page(&format!("/messages/{id}/html")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, HOSTILE_HTML, "served exactly as captured");
    assert_eq!(headers["content-security-policy"], IMAGES_BLOCKED_CSP);
    assert!(IMAGES_BLOCKED_CSP.starts_with("sandbox;"));
    let (_, headers, body) = m.page(&format!("/messages/{id}/html?images=1")).await;
    assert_eq!(body, HOSTILE_HTML);
    assert_eq!(headers["content-security-policy"], CAPTURED_CSP);
    assert!(CAPTURED_CSP.starts_with("sandbox;"));
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn the_message_view_shows_recipients_headers_text_and_checks() {
    let m = spawn(MockKind::Crm).await;
    let mut body = batch("Breathe — weekly", "camp-9");
    body["recipients"] = json!(
        (0..60)
            .map(|i| json!({ "email": format!("r{i}@example.com"), "name": format!("R {i}") }))
            .collect::<Vec<_>>()
    );
    let resp = m
        .http
        .post(format!("{}/api/v1/email/batch", m.base))
        .header("Idempotency-Key", "v1:email:batch-1")
        .header("X-Correlation-ID", "corr-123")
        .json(&body)
        .send()
        .await
        .unwrap();
    let id = resp.json::<Value>().await.unwrap()["batch_id"]
        .as_str()
        .unwrap()
        .to_string();
    let page = unslash(&m.ok(&format!("/messages/{id}")).await);
    assert_contains_all(
        &page,
        &[
            "<h1>Breathe — weekly</h1>",
            "noreply@halcytone.com",
            "Recipients (60)",
            "R 0 &lt;r0@example.com&gt;",
            "R 49 &lt;r49@example.com&gt;",
            "… and 10 more.",
            "HTTP API, batch",
        ],
    );
    let tab = |t: &'static str| {
        let m = &m;
        let id = id.clone();
        async move { unslash(&m.ok(&format!("/messages/{id}?tab={t}")).await) }
    };
    assert_contains_all(
        &tab("headers").await,
        &[
            "v1:email:batch-1",
            "corr-123",
            "<dt>template</dt><dd>modern</dd>",
            "<dt>variant</dt><dd>B</dd>",
            "<th scope=\"row\">MIME-Version</th><td>1.0</td>",
        ],
    );
    assert!(
        tab("text")
            .await
            .contains("<pre class=\"text-part\">Hello</pre>")
    );
    assert!(
        tab("links")
            .await
            .contains("<code>https://halcytone.com/news</code>")
    );
    assert!(
        !page.contains("r50@example.com"),
        "only the first 50 are listed"
    );
}

const SMTP_MESSAGE: &str = "From: Halcytone <newsletter@example.com>\r\n\
To: Subscriber One <subscriber1@example.com>\r\n\
Subject: Breathe over SMTP\r\n\
Message-ID: <halcytone.smtp.1@example.com>\r\n\
X-Mailer: halcytone-test\r\n\
X-Campaign-ID: halcytone-smtp\r\n\
List-Unsubscribe: <https://halcytone.com/unsubscribe?u=1>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<p>Hello over SMTP</p>\r\n";

#[tokio::test]
async fn an_smtp_capture_shows_its_headers_and_envelope_and_a_resend_is_marked() {
    let m = spawn(MockKind::Crm).await;
    let id = common::capture_smtp(&m.state, SMTP_MESSAGE).await;
    let inbox = m.ok("/").await;
    assert!(
        inbox.contains("Breathe over SMTP") && inbox.contains("halcytone-smtp"),
        "{inbox}"
    );
    let page = unslash(&m.ok(&format!("/messages/{id}")).await);
    assert_contains_all(
        &page,
        &[
            "Halcytone &lt;newsletter@example.com&gt;",
            "SMTP",
            "subscriber1@example.com",
        ],
    );
    let tabs = unslash(
        &[
            m.ok(&format!("/messages/{id}?tab=headers")).await,
            m.ok(&format!("/messages/{id}?tab=checks")).await,
            m.ok(&format!("/messages/{id}?tab=text")).await,
        ]
        .concat(),
    );
    assert_contains_all(
        &tabs,
        &[
            "<th scope=\"row\">X-Mailer</th><td>halcytone-test</td>",
            "<dt>MAIL FROM</dt><dd>bounce@example.com</dd>",
            "<dt>HELO</dt><dd>client.example</dd>",
            "List-Unsubscribe</strong>: &lt;https://halcytone.com/unsubscribe?u=1&gt;",
            "This email has no text part.",
        ],
    );

    // The same message sent again: listed and marked as a duplicate of the first.
    let again =
        halcytone_mocks::smtp::capture(&m.state, &common::smtp_envelope(), SMTP_MESSAGE.as_bytes())
            .await
            .unwrap();
    let halcytone_mocks::smtp::Captured::Duplicate { id: second, first } = again else {
        panic!("{again:?}");
    };
    assert_eq!(first, id);
    let inbox = m.ok("/").await;
    assert_eq!(inbox.matches("Breathe over SMTP").count(), 2, "{inbox}");
    assert_eq!(inbox.matches(">duplicate</span>").count(), 1, "{inbox}");
    let page = unslash(&m.ok(&format!("/messages/{second}")).await);
    assert!(page.contains(&format!("href=\"/messages/{id}\"")), "{page}");
}

#[tokio::test]
async fn social_cards_count_like_each_network_and_flag_long_posts() {
    let m = spawn(MockKind::Platform).await;
    let long = "Breathe slowly and steadily. ".repeat(11); // 318 characters once trimmed
    for post in [
        json!({ "platform": "twitter", "content": long.trim_end() }),
        json!({ "platform": "twitter", "content": "呼吸 https://halcytone.com/a/very/long/path/indeed", "thread": ["Part two, #calm"], "hashtags": ["#Halcytone", "Breathwork"] }),
        json!({ "platform": "linkedin", "content": "A calm update" }),
    ] {
        m.post_json("/api/v1/social/post", post).await;
    }

    let page = m.ok("/posts/social").await;
    assert_contains_all(
        &page,
        &[
            "318 / 280 weighted characters <span class=\"badge badge-bad\">over by 38</span>",
            // 呼吸 (4) + space + URL (23) + "\n\n#Halcytone #Breathwork" (24).
            "52 / 280 weighted characters",
            "<span class=\"part-number\">1/2</span>",
            "<span class=\"part-number\">2/2</span>",
            "<span class=\"hashtag\">#Halcytone</span> <span class=\"hashtag\">#Breathwork</span>",
            "Part two, <span class=\"hashtag\">#calm</span>",
            "13 / 3000 characters",
            "<span class=\"network\">LinkedIn</span>",
            "<span class=\"network\">X</span> thread of 2",
            "3 social posts.",
            // Each in its network's card, with its header and action bar.
            "<article class=\"card social-card card-twitter\"",
            "<article class=\"card social-card card-linkedin\"",
            "<strong class=\"post-name\">Your brand</strong> <span class=\"post-handle\">@yourbrand</span>",
            "<span class=\"action-label\">Repost</span>",
            "<span class=\"action-label\">Send</span>",
            // A link the mock holds no web post for: its domain and path.
            "<p class=\"link-card-title link-card-path\">halcytone.com&#x2f;a&#x2f;very&#x2f;long&#x2f;path&#x2f;indeed</p>",
        ],
    );
    assert_eq!(page.matches(">over limit</span>").count(), 1, "{page}");
    assert_eq!(page.matches(">over by ").count(), 1, "{page}");
    let linkedin = m.ok("/posts/social?network=linkedin").await;
    assert!(
        linkedin.contains("A calm update") && !linkedin.contains("呼吸"),
        "{linkedin}"
    );
    let overview = m.ok("/").await;
    assert!(
        overview.contains("Social posts (3)") && overview.contains("A calm update"),
        "{overview}"
    );
}

#[tokio::test]
async fn social_link_cards_show_the_captured_web_post_and_hostile_posts_stay_inert() {
    let m = spawn(MockKind::Platform).await;
    let web = m
        .post_json(
            "/api/v1/content/publish",
            json!({
                "title": "Calm <week>",
                "content": "# Calm week",
                "slug": "calm-week",
                "metadata": { "meta_description": "Quiet mode, a new sensor & a breathing tip." },
            }),
        )
        .await;
    let web_id = web["content_id"].as_str().unwrap().to_string();
    let link = "https://halcytone.com/updates/calm-week";
    for post in [
        json!({ "platform": "facebook", "content": "This week at Halcytone", "metadata": { "link": link } }),
        json!({ "platform": "linkedin", "content": "<script>window.pwned=1</script> tap javascript:alert(1) or <a href=\"javascript:alert(2)\">here</a>", "metadata": { "link": "javascript:alert(3)" } }),
    ] {
        m.post_json("/api/v1/social/post", post).await;
    }
    // X's own API: the card comes from the address in the text; and a network added later.
    for (id, request) in [
        (
            "x-native",
            json!({ "platform": "twitter", "via": "x-api-v2", "content": format!("Read it {link}") }),
        ),
        (
            "later",
            json!({ "platform": "mastodon-like", "content": "A network added later" }),
        ),
    ] {
        let record = social_record(id, "2026-01-05T10:00:00.000Z", request);
        m.state
            .store
            .commit(Some(&record), None, 100_000)
            .await
            .unwrap();
    }

    let page = unslash(&m.ok("/posts/social").await);
    let page_link = format!(
        "<p class=\"link-card-title\"><a href=\"/posts/web/{web_id}\">Calm &lt;week&gt;</a></p>"
    );
    assert_eq!(page.matches(&page_link).count(), 2, "{page}");
    assert_contains_all(
        &page,
        &[
            "<p class=\"link-card-description\">Quiet mode, a new sensor &amp; a breathing tip.</p>",
            "<p class=\"link-card-domain\">halcytone.com</p>",
            "<article class=\"card social-card card-facebook\"",
            "<time datetime=\"2026-01-05T10:00:00.000Z\" title=\"2026-01-05 10:00:00 UTC\">Jan 5, 2026</time>",
            // A network without a look of its own gets the generic card.
            "<article class=\"card social-card card-other\"",
            "<span class=\"network\">mastodon-like</span>",
            "&lt;script&gt;window.pwned=1&lt;/script&gt; tap javascript:alert(1) or &lt;a href=&quot;javascript:alert(2)&quot;&gt;here&lt;/a&gt;",
        ],
    );
    assert!(!page.contains("<script>window"), "{page}");
    assert!(!page.contains("href=\"javascript"), "{page}");
    let linkedin = page.split("card-linkedin").nth(1).unwrap();
    let linkedin = linkedin.split("</article>").next().unwrap();
    assert!(
        !linkedin.contains("link-card"),
        "no card for a javascript: link: {linkedin}"
    );
    let overview = unslash(&m.ok("/").await);
    assert!(overview.contains(&page_link), "{overview}");
}

/// A captured social post made at `at`.
fn social_record(id: &str, at: &str, request: Value) -> NewRecord {
    let platform = request["platform"].as_str().unwrap_or_default().to_string();
    NewRecord {
        id: id.into(),
        kind: "social",
        captured: true,
        subject: request["content"].as_str().map(str::to_string),
        channel: Some(format!("social:{platform}")),
        status: Some("posted".into()),
        created_at: at.into(),
        response: json!({ "post_id": id, "platform": platform, "url": format!("https://x.com/halcytone/status/{id}") }),
        request,
        ..NewRecord::default()
    }
}

#[tokio::test]
async fn a_social_page_renders_as_its_snapshot() {
    let state = state(MockKind::Platform).await;
    let web = NewRecord {
        id: "content-0001".into(),
        kind: "content",
        captured: true,
        subject: Some("Sleep Sessions arrive | Halcytone".into()),
        channel: Some("web".into()),
        status: Some("published".into()),
        created_at: "2026-01-05T09:00:00.000Z".into(),
        request: json!({ "title": "Sleep Sessions arrive | Halcytone", "content": "# Sleep", "slug": "sleep-sessions",
                         "metadata": { "meta_description": "Ten-minute guided wind-downs that follow your breathing." } }),
        response: json!({ "content_id": "content-0001", "url": "https://halcytone.com/content/content-0001" }),
        ..NewRecord::default()
    };
    state.store.commit(Some(&web), None, 100_000).await.unwrap();
    let link = "https://halcytone.com/updates/sleep-sessions";
    let long = "Slow breathing, step by step, for anyone who needs a calmer evening. ".repeat(5);
    for (id, request) in [
        (
            "social-0001",
            json!({ "platform": "twitter", "content": "🌿 Sleep Sessions are here, with @halcytone", "thread": [format!("Read more {link}")], "hashtags": ["#Halcytone"], "metadata": { "tone": "encouraging", "link": link } }),
        ),
        (
            "social-0002",
            json!({ "platform": "linkedin", "content": format!("Product update:\n\n{long}\n\nDetails: {link}"), "metadata": { "link": link } }),
        ),
        (
            "social-0003",
            json!({ "platform": "facebook", "content": "Hello, breathing community!", "metadata": { "link": "https://example.org/elsewhere?x=1" } }),
        ),
        (
            "social-0004",
            json!({ "platform": "instagram", "content": format!("💡 Box breathing\n1. In for four\n2. Hold for four\n{long}"), "hashtags": ["#Breathwork"], "media_urls": ["https://cdn.example/a.jpg"] }),
        ),
    ] {
        let record = social_record(id, "2026-01-05T10:00:00.000Z", request);
        state
            .store
            .commit(Some(&record), None, 100_000)
            .await
            .unwrap();
    }
    let m = serve(state).await;
    let html = m.ok("/posts/social").await;
    insta::assert_snapshot!(html);
}

#[tokio::test]
async fn web_posts_show_seo_fields_and_their_sandboxed_html() {
    let m = spawn(MockKind::Platform).await;
    let description = "d".repeat(170);
    let published = m
        .post_json(
            "/api/v1/content/publish",
            json!({
                "title": "Breathing <b>news</b>",
                "content": "# Breathing news",
                "html": "<h1>Breathing news</h1><script>window.pwned=1</script>",
                "slug": "breathing-news",
                "tags": ["breathing", "news"],
                "metadata": {
                    "meta_description": description,
                    "json_ld": { "@type": "BlogPosting", "headline": "</script><script>alert(1)</script>" },
                    "seo_score": 87,
                    "campaign_id": "halcytone-v1"
                }
            }),
        )
        .await;
    let id = published["content_id"].as_str().unwrap();
    let list = unslash(&m.ok("/posts/web").await);
    assert_contains_all(
        &list,
        &[
            "Breathing &lt;b&gt;news&lt;/b&gt;",
            "breathing-news",
            "<td class=\"num\" data-label=\"SEO\">87</td>",
            "breathing, news",
        ],
    );
    let page = m.ok(&format!("/posts/web/{id}")).await;
    assert!(
        !page.contains("<script>alert") && !page.contains("<script>window"),
        "{page}"
    );
    let page = unslash(&page);
    assert_contains_all(
        &page,
        &[
            "170 / 160 characters <span class=\"badge badge-bad\">over limit</span>",
            "&quot;@type&quot;: &quot;BlogPosting&quot;",
            "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;",
            "<dt>SEO score</dt><dd>87</dd>",
            "<li>breathing</li><li>news</li>",
            &format!("sandbox=\"\" src=\"/posts/web/{id}/html\""),
            "<code>breathing-news</code>",
        ],
    );
    let (status, headers, body) = m.page(&format!("/posts/web/{id}/html")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-security-policy"], CAPTURED_CSP);
    assert!(body.contains("<h1>Breathing news</h1>"));
    let overview = m.ok("/").await;
    assert!(overview.contains("Web posts (1)"), "{overview}");
}

#[tokio::test]
async fn the_faults_form_round_trips_and_refuses_other_sites() {
    let m = spawn(MockKind::Crm).await;
    let page = m.ok("/faults").await;
    assert!(page.contains("No fault rule is active"), "{page}");
    assert!(
        unslash(&page).contains("<option value=\"POST /api/v1/email/send\""),
        "{page}"
    );

    let set = [
        ("action", "set"),
        ("route", "POST /api/v1/email/send"),
        ("status", "502"),
        ("probability", "1"),
        ("latency_ms", ""),
        ("seed", "3"),
    ];
    for hostile in [
        [("Origin", "http://evil.example")],
        [("Sec-Fetch-Site", "cross-site")],
    ] {
        let (status, _, body) = m.post_form("/faults", &set, &hostile).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    let origin = m.base.clone();
    let (status, location, _) = m
        .post_form(
            "/faults",
            &set,
            &[
                ("Origin", origin.as_str()),
                ("Sec-Fetch-Site", "same-origin"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/faults?ok=fault-set");
    let rules = get_json(&m.http, format!("{}/api/v1/faults", m.base)).await;
    assert_eq!(
        rules["faults"][0]["route"], "POST /api/v1/email/send",
        "{rules}"
    );
    assert_eq!(rules["faults"][0]["status"], 502);
    assert_eq!(rules["faults"][0]["seed"], 3);
    let failed = m
        .http
        .post(format!("{}/api/v1/email/send", m.base))
        .json(&json!({ "subject": "x", "html_content": "y" }))
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), StatusCode::BAD_GATEWAY);
    let page = unslash(&m.ok("/faults?ok=fault-set").await);
    assert!(page.contains("The fault rule was saved."), "{page}");
    assert!(
        page.contains("<td><code>POST /api/v1/email/send</code></td>"),
        "{page}"
    );
    assert!(
        page.contains("<td class=\"num\" data-label=\"Status\">502</td>"),
        "{page}"
    );

    let (status, location, _) = m
        .post_form(
            "/faults",
            &[
                ("action", "set"),
                ("route", "POST /api/v1/email/send"),
                ("status", "200"),
            ],
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location.starts_with("/faults?error=status%3A"),
        "{location}"
    );
    let shown = m.ok(&location).await;
    assert!(
        shown.contains("status: must be an HTTP error status"),
        "{shown}"
    );
    let (_, location, _) = m
        .post_form("/faults", &[("action", "set"), ("route", "GET /nope")], &[])
        .await;
    assert!(location.contains("error=no%20route"), "{location}");

    let (_, location, _) = m
        .post_form(
            "/faults",
            &[("action", "remove"), ("route", "POST /api/v1/email/send")],
            &[],
        )
        .await;
    assert_eq!(location, "/faults?ok=fault-removed");
    m.post_form("/faults", &set, &[]).await;
    let (_, location, _) = m.post_form("/faults", &[("action", "clear")], &[]).await;
    assert_eq!(location, "/faults?ok=faults-cleared");
    assert!(m.ok("/faults").await.contains("No fault rule is active"));
    let (status, _, _) = m.post_form("/faults", &[("action", "explode")], &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn reset_empties_the_inbox() {
    let m = spawn(MockKind::Crm).await;
    m.post_json("/api/v1/email/batch", batch("To be cleared", "camp-1"))
        .await;
    assert!(m.ok("/").await.contains("To be cleared"));
    let (status, location, _) = m
        .post_form("/reset", &[("back", "https://evil.example/")], &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/?ok=reset", "only console pages are followed");
    let inbox = m.ok(&location).await;
    assert!(!inbox.contains("To be cleared"), "{inbox}");
    assert!(inbox.contains("No email captured yet"), "{inbox}");
    assert!(
        inbox.contains("Captures, idempotency keys, fault rules and the journal were cleared.")
    );
    let (_, location, _) = m.post_form("/reset", &[("back", "/faults")], &[]).await;
    assert_eq!(location, "/faults?ok=reset");
    let (status, _, _) = m
        .post_form("/reset", &[], &[("Origin", "http://evil.example")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let p = spawn(MockKind::Platform).await;
    p.post_json(
        "/api/v1/social/post",
        json!({ "platform": "facebook", "content": "Gone soon" }),
    )
    .await;
    let (_, location, _) = p
        .post_form("/reset", &[("back", "/posts/social")], &[])
        .await;
    assert_eq!(location, "/posts/social?ok=reset");
    assert!(
        p.ok("/posts/social")
            .await
            .contains("No social post captured yet")
    );
}

#[tokio::test]
async fn live_events_stream_counts_new_captures() {
    let m = spawn(MockKind::Crm).await;
    let inbox = m.ok("/").await;
    assert!(inbox.contains("data-live-after=\"0\""), "{inbox}");
    assert!(unslash(&inbox).contains("<script src=\"/console/live.js\" defer></script>"));
    let mut events = get(
        &m.http,
        format!("{}/console/events?after=0&kind=email", m.base),
    )
    .await;
    assert_eq!(events.status(), StatusCode::OK);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let mut seen = String::new();
    let mut next = async |seen: &mut String, want: &str| {
        while !seen.contains(want) {
            let chunk = tokio::time::timeout(Duration::from_secs(5), events.chunk())
                .await
                .expect("an event within 5 s")
                .unwrap()
                .expect("the stream stays open");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    next(&mut seen, "\"new\":0").await;
    assert!(seen.contains("event: captures"), "{seen}");
    m.post_json("/api/v1/email/batch", batch("Live one", "camp-1"))
        .await;
    next(&mut seen, "\"new\":1").await;

    for (path, kind) in [
        ("/console/live.js", "text/javascript; charset=utf-8"),
        ("/console/style.css", "text/css; charset=utf-8"),
    ] {
        let (status, headers, body) = m.page(path).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["content-type"], kind);
        assert!(body.len() > 100);
    }
}

/// Console pages are not journalled: the journal shows what clients sent.
#[tokio::test]
async fn console_requests_stay_out_of_the_journal() {
    let m = spawn(MockKind::Crm).await;
    m.ok("/").await;
    m.ok("/faults").await;
    let journal = get_json(&m.http, format!("{}/api/v1/journal", m.base)).await;
    let text = journal.to_string();
    assert!(!text.contains("\"path\":\"/faults\""), "{text}");
}

async fn commit(store: &Store, i: usize, variant: Option<&str>) {
    let mut metadata = json!({ "template": "modern", "batch": 1 });
    if let Some(v) = variant {
        metadata["variant"] = json!(v);
    }
    let record = NewRecord {
        id: format!("email-{i:04}"),
        kind: "email",
        captured: true,
        subject: Some(format!("Weekly update {i} <b>&</b>")),
        campaign: Some(format!("halcytone-v{}", i % 2)),
        channel: Some("email".into()),
        status: Some("sent".into()),
        created_at: format!("2026-01-05T10:{:02}:00.000Z", i % 60),
        request: json!({ "subject": format!("Weekly update {i}"), "html_content": "<p>x</p>",
                         "recipients": [{ "email": "a@example.com" }, { "email": "b@example.com" }],
                         "metadata": metadata }),
        response: json!({ "batch_id": format!("email-{i:04}"), "accepted": 2 }),
        ..NewRecord::default()
    };
    store.commit(Some(&record), None, 100_000).await.unwrap();
}

#[tokio::test]
async fn the_inbox_pages_by_fifty() {
    let state = state(MockKind::Crm).await;
    for i in 0..120 {
        commit(&state.store, i, None).await;
    }
    let m = serve(state).await;
    let rows = |html: &str| {
        unslash(html)
            .matches("<td class=\"subject\"><a href=\"/messages/email-")
            .count()
    };
    let first = unslash(&m.ok("/").await);
    assert!(
        first.contains("Weekly update 119") && !first.contains("Weekly update 69 "),
        "newest first"
    );
    let third = unslash(&m.ok("/?page=3").await);
    assert!(third.contains("Showing 101–120 of 120 emails"), "{third}");
    // Each page: its rows, the one link it has and the one it has not.
    for (page, count, link, no_link) in [
        (
            &first,
            50,
            "<a href=\"/?page=2\" rel=\"next\">Older →</a>",
            "rel=\"prev\"",
        ),
        (
            &third,
            20,
            "<a href=\"/?page=2\" rel=\"prev\">← Newer</a>",
            "rel=\"next\"",
        ),
    ] {
        assert_eq!(rows(page), count, "{page}");
        assert!(page.contains(link), "{page}");
        assert!(!page.contains(no_link), "{page}");
    }
    let filtered = unslash(&m.ok("/?campaign=halcytone-v1&page=2").await);
    assert_eq!(rows(&filtered), 10);
    assert!(
        filtered.contains("<a href=\"/?campaign=halcytone-v1\" rel=\"prev\">"),
        "{filtered}"
    );
    let beyond = m.ok("/?page=9").await;
    assert_eq!(rows(&beyond), 0);
    assert!(beyond.contains("There is no page 9"), "{beyond}");
}

#[tokio::test]
async fn an_inbox_page_renders_as_its_snapshot() {
    let state = state(MockKind::Crm).await;
    for (i, variant) in [(1, None), (2, Some("A")), (3, Some("B"))] {
        commit(&state.store, i, variant).await;
    }
    let html = inbox_html(&state, &Params::default()).await.unwrap();
    insta::assert_snapshot!(html);
}
