//! The live X, LinkedIn and Facebook adapters against wiremock servers that answer like the real APIs.
//!
//! Shapes used (from the networks' API references):
//! - X `POST /2/tweets`, `Authorization: Bearer <user token>`, body `{"text": "…"}` or
//!   `{"text": "…", "reply": {"in_reply_to_tweet_id": "<id>"}}`; 201
//!   `{"data": {"id": "1850000000000000001", "text": "…"}}`; 401
//!   `{"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}`;
//!   429 with `x-rate-limit-reset: <epoch seconds>`.
//! - X `POST /2/oauth2/token`, form `grant_type=refresh_token&refresh_token=…&client_id=…`
//!   (HTTP Basic for confidential clients); 200 `{"token_type": "bearer", "expires_in": 7200,
//!   "access_token": "…", "scope": "tweet.write users.read offline.access", "refresh_token": "…"}`
//!   (a new refresh token every time: the old one stops working); 400
//!   `{"error": "invalid_request", "error_description": "Value passed for the token was invalid."}`.
//! - LinkedIn `POST /rest/posts` with `LinkedIn-Version: YYYYMM` and
//!   `X-Restli-Protocol-Version: 2.0.0`, body `{author, commentary, visibility, distribution,
//!   lifecycleState, isReshareDisabledByAuthor}`; 201, empty body, the post URN in `x-restli-id`.
//! - LinkedIn `POST /oauth/v2/accessToken`, form with `client_id` and `client_secret`; 200
//!   `{"access_token": "…", "expires_in": 5183999, "refresh_token": "…",
//!   "refresh_token_expires_in": 31535999}`.
//! - Facebook Graph API `POST /v21.0/{page-id}/feed`, form `message=…&link=…`, authorised by
//!   the Page access token; 200 `{"id": "<page-id>_<post-id>"}`; an expired or revoked token is
//!   400 `{"error": {"message": "Error validating access token: …", "type": "OAuthException",
//!   "code": 190, "error_subcode": 463, "fbtrace_id": "…"}}`; a rate limit is code 4, 17, 32 or
//!   613. A Page token has no refresh token.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use halcytone_content::compose::social::SocialPost;
use halcytone_content::platform::Platform;
use halcytone_content::tone::Tone;
use halcytone_publish::client::HttpClient;
use halcytone_publish::egress::EgressGuard;
use halcytone_publish::publishers::BoxFuture;
use halcytone_publish::report::{Outcome, TargetResult};
use halcytone_publish::retry::RetryPolicy;
use halcytone_publish::social::{
    Account, AccountInfo, AccountStatus, LiveSocial, Network, SocialSettings, TokenStore,
    TokenStoreError, Tokens,
};
use halcytone_vault::Secret;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, Respond, ResponseTemplate};

/// Accounts in memory, with the same revision rule as the database.
#[derive(Debug, Default)]
struct Memory {
    accounts: Mutex<HashMap<Network, Account>>,
    sent: Mutex<Vec<(Network, i64)>>,
}

impl Memory {
    /// A store holding `account`.
    fn with(account: Account) -> Arc<Memory> {
        let m = Memory::default();
        m.accounts
            .lock()
            .unwrap()
            .insert(account.info.network, account);
        Arc::new(m)
    }

    fn get(&self, n: Network) -> Account {
        self.accounts.lock().unwrap().get(&n).cloned().unwrap()
    }
}

impl TokenStore for Memory {
    fn load(&self, n: Network) -> BoxFuture<'_, Result<Option<Account>, TokenStoreError>> {
        Box::pin(async move { Ok(self.accounts.lock().unwrap().get(&n).cloned()) })
    }
    fn save_refreshed<'a>(
        &'a self,
        n: Network,
        revision: i64,
        tokens: &'a Tokens,
        now_ms: i64,
    ) -> BoxFuture<'a, Result<bool, TokenStoreError>> {
        Box::pin(async move {
            let mut all = self.accounts.lock().unwrap();
            let Some(a) = all.get_mut(&n) else {
                return Ok(false);
            };
            if a.revision != revision {
                return Ok(false);
            }
            a.tokens = tokens.clone();
            a.info.expires_at_ms = tokens.expires_at_ms;
            a.info.refreshed_ms = Some(now_ms);
            a.revision += 1;
            Ok(true)
        })
    }
    fn mark_reconnect<'a>(
        &'a self,
        n: Network,
        revision: i64,
        reason: &'a str,
        _now_ms: i64,
    ) -> BoxFuture<'a, Result<(), TokenStoreError>> {
        Box::pin(async move {
            let mut all = self.accounts.lock().unwrap();
            if let Some(a) = all.get_mut(&n)
                && a.revision == revision
            {
                a.info.status = AccountStatus::ReconnectNeeded;
                a.info.last_error = Some(reason.to_string());
                a.revision += 1;
            }
            Ok(())
        })
    }
    fn sent_since(
        &self,
        n: Network,
        since_ms: i64,
    ) -> BoxFuture<'_, Result<Vec<i64>, TokenStoreError>> {
        Box::pin(async move {
            let sent = self.sent.lock().unwrap();
            Ok(sent
                .iter()
                .filter(|(net, at)| *net == n && *at > since_ms)
                .map(|(_, at)| *at)
                .collect())
        })
    }
    fn record_sent<'a>(
        &'a self,
        n: Network,
        _post_id: &'a str,
        sent_ms: i64,
    ) -> BoxFuture<'a, Result<(), TokenStoreError>> {
        Box::pin(async move {
            self.sent.lock().unwrap().push((n, sent_ms));
            Ok(())
        })
    }
}

fn account(
    n: Network,
    id: &str,
    access: &str,
    refresh: Option<&str>,
    expires: Option<i64>,
) -> Account {
    Account {
        info: AccountInfo {
            network: n,
            account_id: id.into(),
            username: (n == Network::X).then(|| "halcytone".to_string()),
            status: AccountStatus::Connected,
            last_error: None,
            expires_at_ms: expires,
            connected_ms: 0,
            refreshed_ms: None,
        },
        tokens: Tokens {
            access_token: Secret::new(access),
            refresh_token: refresh.map(Secret::new),
            expires_at_ms: expires,
        },
        revision: 1,
    }
}

fn post(platform: Platform, parts: &[&str]) -> SocialPost {
    SocialPost {
        platform,
        tone: Tone::Professional,
        kind: if parts.len() > 1 { "thread" } else { "post" },
        posts: parts.iter().map(|p| p.to_string()).collect(),
        hashtags: vec!["#Breathing".into()],
        lengths: parts.iter().map(|p| p.chars().count()).collect(),
        limit: 280,
        link: None,
    }
}

fn client(guard: EgressGuard) -> HttpClient {
    HttpClient::new(
        guard,
        RetryPolicy {
            max_attempts: 1,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        },
        Duration::from_secs(5),
    )
    .unwrap()
}

fn settings(server: &MockServer) -> SocialSettings {
    let base = Url::parse(&format!("{}/", server.uri())).unwrap();
    let mut s = SocialSettings::default().routed_to(&base);
    s.x.client_id = Some("x-client".into());
    s.x.client_secret = Some(Secret::new("x-secret"));
    s.linkedin.client_id = Some("li-client".into());
    s.linkedin.client_secret = Some(Secret::new("li-secret"));
    s.max_rate_limit_wait = Duration::from_secs(5);
    s
}

fn live(server: &MockServer, store: Arc<Memory>) -> LiveSocial {
    LiveSocial::new(settings(server), store)
}

/// A mock for `POST route` (more matchers and the answer are added by the caller).
fn post_to(route: &str) -> MockBuilder {
    Mock::given(method("POST")).and(path(route))
}

/// Expects `times` requests matching `mock`, each answered `status` with the JSON `body` (the
/// server checks the count when dropped).
async fn expect_json(server: &MockServer, times: u64, mock: MockBuilder, status: u16, body: Value) {
    mock.respond_with(ResponseTemplate::new(status).set_body_json(body))
        .expect(times)
        .mount(server)
        .await;
}

/// Expects `times` posts to `/2/tweets` authorised by `Bearer <access>`, answered like X (ids
/// 1001, 1002, …); the returned responder remembers the bodies.
async fn expect_tweets(server: &MockServer, access: &str, times: u64) -> Tweets {
    let tweets = Tweets::default();
    post_to("/2/tweets")
        .and(header("authorization", format!("Bearer {access}").as_str()))
        .respond_with(tweets.clone())
        .expect(times)
        .mount(server)
        .await;
    tweets
}

/// A store holding the X account `42` (@halcytone) with these tokens and no expiry.
fn x_store(access: &str, refresh: &str) -> Arc<Memory> {
    Memory::with(account(Network::X, "42", access, Some(refresh), None))
}

/// A store holding the Facebook Page `104000000000001` with this Page token.
fn facebook_store(token: &str) -> Arc<Memory> {
    Memory::with(account(Network::Facebook, FACEBOOK_PAGE, token, None, None))
}

const FACEBOOK_PAGE: &str = "104000000000001";

/// Publishes `parts` on `platform` through an open client (key "k", correlation "c"); panics
/// if the network is not handled live.
async fn publish_live(social: &LiveSocial, platform: Platform, parts: &[&str]) -> TargetResult {
    social
        .publish(
            &client(EgressGuard::open()),
            &post(platform, parts),
            "k",
            "c",
        )
        .await
        .expect("handled live")
}

/// Answers `POST /2/tweets` with ids 1001, 1002, … and remembers the bodies.
#[derive(Clone, Default)]
struct Tweets {
    n: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Respond for Tweets {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
        self.bodies.lock().unwrap().push(body.clone());
        let id = 1001 + self.n.fetch_add(1, Ordering::SeqCst);
        ResponseTemplate::new(201)
            .set_body_json(json!({ "data": { "id": id.to_string(), "text": body["text"] } }))
    }
}

#[tokio::test]
async fn a_post_and_a_three_part_thread_publish_on_x() {
    let server = MockServer::start().await;
    let tweets = expect_tweets(&server, "access-1", 4).await;
    let store = x_store("access-1", "refresh-1");
    let social = live(&server, store.clone());
    let c = client(EgressGuard::open());
    let single = social
        .publish(
            &c,
            &post(Platform::Twitter, &["One calm breath."]),
            "k1",
            "corr-1",
        )
        .await
        .expect("handled live");
    assert_eq!(single.outcome, Outcome::Succeeded, "{single:?}");
    assert_eq!(single.external_id.as_deref(), Some("1001"));
    assert_eq!(
        single.url.as_deref(),
        Some("https://x.com/halcytone/status/1001")
    );
    let thread = social
        .publish(
            &c,
            &post(
                Platform::Twitter,
                &["1/3 First.", "2/3 Second.", "3/3 Third."],
            ),
            "k2",
            "corr-2",
        )
        .await
        .unwrap();
    assert_eq!(thread.outcome, Outcome::Succeeded, "{thread:?}");
    assert_eq!(
        thread.external_id.as_deref(),
        Some("1002"),
        "the thread's first post"
    );
    let bodies = tweets.bodies.lock().unwrap().clone();
    assert_eq!(
        bodies[0],
        json!({ "text": "One calm breath.\n\n#Breathing" })
    );
    assert_eq!(
        bodies[1],
        json!({ "text": "1/3 First.\n\n#Breathing" }),
        "hashtags on the first part only"
    );
    assert_eq!(bodies[2]["reply"]["in_reply_to_tweet_id"], "1002");
    assert_eq!(bodies[3]["reply"]["in_reply_to_tweet_id"], "1003");
    assert_eq!(bodies[3]["text"], "3/3 Third.");
    assert_eq!(social.health()[0].1.posts, 4);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_rotated_refresh_token_is_stored() {
    let server = MockServer::start().await;
    // The old access token is refused; the new one works.
    let refused = json!({
        "title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"
    });
    let old_bearer = header("authorization", "Bearer access-old");
    expect_json(
        &server,
        1,
        post_to("/2/tweets").and(old_bearer),
        401,
        refused,
    )
    .await;
    expect_tweets(&server, "access-new", 1).await;
    // X's token endpoint: HTTP Basic with the client id and secret ("x-client:x-secret").
    let refresh = post_to("/2/oauth2/token")
        .and(header("authorization", "Basic eC1jbGllbnQ6eC1zZWNyZXQ="))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=refresh-old"));
    let rotated = json!({
        "token_type": "bearer", "expires_in": 7200, "access_token": "access-new",
        "scope": "tweet.write users.read offline.access", "refresh_token": "refresh-new"
    });
    expect_json(&server, 1, refresh, 200, rotated).await;
    let store = x_store("access-old", "refresh-old");
    let social = live(&server, store.clone());
    let r = publish_live(&social, Platform::Twitter, &["Hello."]).await;
    assert_eq!(r.outcome, Outcome::Succeeded, "{r:?}");
    let a = store.get(Network::X);
    assert_eq!(a.tokens.access_token.expose(), "access-new");
    assert_eq!(
        a.tokens.refresh_token.as_ref().map(Secret::expose),
        Some("refresh-new"),
        "X rotates refresh tokens: the new one is kept"
    );
    assert!(a.tokens.expires_at_ms.is_some());
    assert_eq!(a.info.status, AccountStatus::Connected);
    assert_eq!(social.health()[0].1.refreshes, 1);
}

#[tokio::test]
async fn a_token_about_to_expire_is_refreshed_before_posting() {
    let server = MockServer::start().await;
    expect_tweets(&server, "access-new", 1).await;
    // No refresh token comes back: the one held stays.
    let no_refresh_token = json!({
        "token_type": "bearer", "expires_in": 7200, "access_token": "access-new", "refresh_token": ""
    });
    expect_json(
        &server,
        1,
        post_to("/2/oauth2/token"),
        200,
        no_refresh_token,
    )
    .await;
    let soon = chrono::Utc::now().timestamp_millis() + 10_000;
    let store = Memory::with(account(
        Network::X,
        "42",
        "access-old",
        Some("refresh-kept"),
        Some(soon),
    ));
    let r = publish_live(&live(&server, store.clone()), Platform::Twitter, &["Hi."]).await;
    assert_eq!(r.outcome, Outcome::Succeeded, "{r:?}");
    let a = store.get(Network::X);
    assert_eq!(
        a.tokens.refresh_token.as_ref().map(Secret::expose),
        Some("refresh-kept")
    );
}

#[tokio::test]
async fn a_refused_refresh_marks_the_account_and_keeps_its_tokens() {
    let server = MockServer::start().await;
    let unauthorized = json!({"title": "Unauthorized", "status": 401, "detail": "Unauthorized"});
    expect_json(&server, 1, post_to("/2/tweets"), 401, unauthorized).await;
    let invalid = json!({
        "error": "invalid_request", "error_description": "Value passed for the token was invalid."
    });
    expect_json(&server, 1, post_to("/2/oauth2/token"), 400, invalid).await;
    let store = x_store("access-revoked", "refresh-revoked");
    let social = live(&server, store.clone());
    let c = client(EgressGuard::open());
    let r = social
        .publish(&c, &post(Platform::Twitter, &["Hello."]), "k", "c")
        .await
        .unwrap();
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(!r.retryable, "only a new connection helps");
    let reason = r.reason.unwrap();
    assert!(
        reason.contains("x account @halcytone needs reconnecting"),
        "{reason}"
    );
    assert!(
        reason.contains("Value passed for the token was invalid."),
        "{reason}"
    );
    let a = store.get(Network::X);
    assert_eq!(a.info.status, AccountStatus::ReconnectNeeded);
    assert_eq!(
        a.tokens.access_token.expose(),
        "access-revoked",
        "the stored tokens are kept"
    );
    assert_eq!(
        a.tokens.refresh_token.as_ref().map(Secret::expose),
        Some("refresh-revoked")
    );
    let (_, h) = &social.health()[0];
    assert!(h.reconnect_needed && h.refresh_failures == 1, "{h:?}");
    // The next post does not call X at all.
    let again = social
        .publish(&c, &post(Platform::Twitter, &["Hello again."]), "k", "c")
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::Failed);
    assert_eq!(again.attempts, 0);
}

#[tokio::test]
async fn a_linkedin_post_carries_the_author_urn_and_protocol_headers() {
    let server = MockServer::start().await;
    post_to("/rest/posts")
        .and(header("authorization", "Bearer li-access"))
        .and(header("x-restli-protocol-version", "2.0.0"))
        .and(header("linkedin-version", "202501"))
        .and(body_string_contains(
            "\"author\":\"urn:li:organization:2414183\"",
        ))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("x-restli-id", "urn:li:share:7250000000000000000"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let store = Memory::with(account(
        Network::Linkedin,
        "urn:li:organization:2414183",
        "li-access",
        Some("li-refresh"),
        None,
    ));
    let r = publish_live(
        &live(&server, store),
        Platform::Linkedin,
        &["Breathscape 2.4 is out (with a calmer timer)."],
    )
    .await;
    assert_eq!(r.outcome, Outcome::Succeeded, "{r:?}");
    assert_eq!(
        r.external_id.as_deref(),
        Some("urn:li:share:7250000000000000000")
    );
    assert_eq!(
        r.url.as_deref(),
        Some("https://www.linkedin.com/feed/update/urn:li:share:7250000000000000000/")
    );
    let sent: Value =
        serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(sent["visibility"], "PUBLIC");
    assert_eq!(sent["lifecycleState"], "PUBLISHED");
    assert_eq!(
        sent["commentary"], "Breathscape 2.4 is out \\(with a calmer timer\\).\n\n#Breathing",
        "little-text characters are escaped"
    );
}

#[tokio::test]
async fn a_429_waits_for_its_reset_once_then_posts() {
    let server = MockServer::start().await;
    let reset = chrono::Utc::now().timestamp() + 1;
    post_to("/2/tweets")
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-rate-limit-reset", reset.to_string().as_str())
                .set_body_json(json!({"title": "Too Many Requests", "status": 429, "detail": "Too Many Requests"})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    post_to("/2/tweets")
        .respond_with(Tweets::default())
        .mount(&server)
        .await;
    let r = publish_live(
        &live(&server, x_store("a", "r")),
        Platform::Twitter,
        &["Hi."],
    )
    .await;
    assert_eq!(r.outcome, Outcome::Succeeded, "{r:?}");
    assert_eq!(r.attempts, 2);
}

#[tokio::test]
async fn the_quota_is_checked_before_anything_is_sent() {
    let server = MockServer::start().await;
    post_to("/2/tweets")
        .respond_with(Tweets::default())
        .expect(2)
        .mount(&server)
        .await;
    let store = x_store("a", "r");
    let mut s = settings(&server);
    s.x.per_hour = 3;
    // Two publishers sharing one store, as the API process and a worker share the database:
    // the second sees the first one's posts.
    let api = LiveSocial::new(s.clone(), store.clone());
    let social = LiveSocial::new(s, store.clone());
    let c = client(EgressGuard::open());
    let ok = api
        .publish(&c, &post(Platform::Twitter, &["1/2 a", "2/2 b"]), "k", "c")
        .await
        .unwrap();
    assert_eq!(ok.outcome, Outcome::Succeeded);
    assert_eq!(store.sent.lock().unwrap().len(), 2, "both posts recorded");
    let refused = social
        .publish(&c, &post(Platform::Twitter, &["1/2 c", "2/2 d"]), "k", "c")
        .await
        .unwrap();
    assert_eq!(refused.outcome, Outcome::Failed);
    let reason = refused.reason.unwrap();
    assert!(
        reason.starts_with("X hourly quota of 3 posts reached; 2 post(s) fit in "),
        "{reason}"
    );
    assert!(reason.ends_with("(nothing was sent)"), "{reason}");
    assert!(social.health()[0].1.quota_wait_seconds > 3000.0);
}

#[tokio::test]
async fn a_facebook_page_post_is_one_message_with_its_link() {
    let server = MockServer::start().await;
    let feed = post_to("/v21.0/104000000000001/feed")
        .and(header("authorization", "Bearer page-token"))
        .and(body_string_contains("message=1%2F2+First+part."))
        .and(body_string_contains("%0A%0A2%2F2+Second+part."))
        .and(body_string_contains(
            "link=https%3A%2F%2Fhalcytone.example%2Fupdates",
        ));
    expect_json(&server, 1, feed, 200, json!({"id": "104000000000001_991"})).await;
    let store = facebook_store("page-token");
    let social = live(&server, store.clone());
    let mut p = post(Platform::Facebook, &["1/2 First part.", "2/2 Second part."]);
    p.link = Some("https://halcytone.example/updates".into());
    let r = social
        .publish(&client(EgressGuard::open()), &p, "k", "c")
        .await
        .unwrap();
    assert_eq!(r.outcome, Outcome::Succeeded, "{r:?}");
    assert_eq!(r.target, "social:facebook");
    assert_eq!(r.external_id.as_deref(), Some("104000000000001_991"));
    assert_eq!(
        r.url.as_deref(),
        Some("https://www.facebook.com/104000000000001_991")
    );
    assert_eq!(store.sent.lock().unwrap().len(), 1, "one post counted");
}

#[tokio::test]
async fn an_expired_page_token_needs_a_reconnect_without_a_refresh_call() {
    let server = MockServer::start().await;
    let expired = json!({"error": {
        "message": "Error validating access token: Session has expired on Tuesday, 01-Dec-26 10:00:00 PST.",
        "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "A1b2C3"
    }});
    expect_json(
        &server,
        1,
        post_to("/v21.0/104000000000001/feed"),
        400,
        expired,
    )
    .await;
    let store = facebook_store("page-token-old");
    let r = publish_live(
        &live(&server, store.clone()),
        Platform::Facebook,
        &["Hello."],
    )
    .await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(!r.retryable);
    let reason = r.reason.unwrap();
    assert!(
        reason.contains("facebook account 104000000000001 needs reconnecting"),
        "{reason}"
    );
    assert!(reason.contains("has no refresh token"), "{reason}");
    let a = store.get(Network::Facebook);
    assert_eq!(a.info.status, AccountStatus::ReconnectNeeded);
    assert_eq!(a.tokens.access_token.expose(), "page-token-old", "kept");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "no token endpoint was asked");
}

#[tokio::test]
async fn a_facebook_rate_limit_fails_with_the_graph_message() {
    let server = MockServer::start().await;
    post_to("/v21.0/104000000000001/feed")
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {
            "message": "(#32) Page request limit reached", "type": "OAuthException", "code": 32
        }})))
        .mount(&server)
        .await;
    let r = publish_live(
        &live(&server, facebook_store("t")),
        Platform::Facebook,
        &["Hello."],
    )
    .await;
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(r.retryable, "a later retry may fit");
    assert_eq!(r.upstream_status, Some(403));
    let reason = r.reason.unwrap();
    assert!(
        reason.contains("facebook rate limit reached (403: (#32) Page request limit reached)"),
        "{reason}"
    );
}

#[tokio::test]
async fn instagram_and_unconnected_networks_go_through_the_platform() {
    let server = MockServer::start().await;
    let social = live(&server, Arc::new(Memory::default()));
    let c = client(EgressGuard::open());
    for platform in [Platform::Instagram, Platform::Facebook] {
        assert!(
            social
                .publish(&c, &post(platform, &["x"]), "k", "c")
                .await
                .is_none()
        );
    }
    assert!(
        social
            .publish(&c, &post(Platform::Twitter, &["x"]), "k", "c")
            .await
            .is_none()
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn in_dry_run_the_real_networks_are_never_reached() {
    let mock = Url::parse("http://127.0.0.1:9/").unwrap();
    let store = x_store("a", "r");
    // Settings still pointing at api.x.com, a client guarded for the mock only.
    let social = LiveSocial::new(SocialSettings::default(), store);
    let r = social
        .publish(
            &client(EgressGuard::only(&[&mock])),
            &post(Platform::Twitter, &["x"]),
            "k",
            "c",
        )
        .await
        .unwrap();
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(r.reason.unwrap().contains("api.x.com"));
}
