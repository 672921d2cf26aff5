//! Social accounts through the API with dry run off and X played by a wiremock server (shapes
//! documented in crates/publish/tests/social.rs): connect an account, watch a refused refresh
//! mark it "reconnect needed" (the metric, and the alert rule evaluated by promtool on the
//! scraped value), keep its tokens, then reconnect and post a thread for real.

use crate::both_backends;
use crate::helpers::{ADMIN_KEY, Backend, TestApp, config, spawn_app_with_settings};
use halcytone_http::social::tokens::StoreTokens;
use halcytone_publish::social::{Network, SocialSettings, TokenStore};
use halcytone_vault::{DataKey, Keyring, Secret};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use url::Url;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn keyring() -> Keyring {
    Keyring::new(
        DataKey::derive(
            "API_KEY_ENCRYPTION_KEY",
            "a passphrase of thirty-two characters or more",
        )
        .unwrap(),
        vec![],
    )
}

/// Connects (or reconnects) the `network` account with the admin key.
async fn connect(app: &TestApp, network: &str, account: Value) -> crate::helpers::Answer {
    let path = format!("/api/v2/social/accounts/{network}");
    app.put_json(&path, Some(ADMIN_KEY), &account).await
}

async fn gauge(app: &TestApp) -> String {
    let m = app.get("/metrics", None).await;
    m.text
        .lines()
        .find(|l| l.starts_with("halcytone_social_account_reconnect_needed{network=\"x\"}"))
        .unwrap_or_else(|| panic!("no reconnect gauge for x in:\n{}", m.text))
        .to_string()
}

/// Evaluates the shipped alert rule with promtool on a series holding `value` (the scraped
/// gauge); true when SocialAccountReconnectNeeded fires. `None` without promtool.
fn alert_fires(value: &str) -> Option<bool> {
    if std::process::Command::new("promtool")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped the promtool check: promtool is not installed");
        return None;
    }
    let rules =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/monitoring/prometheus/alerts.yml");
    let dir = tempfile::tempdir().unwrap();
    let expected = "
          - exp_labels: {severity: warning, service: halcytone, category: social, network: x}
            exp_annotations:
              summary: \"The x account needs reconnecting\"
              description: \"Halcytone could not refresh the x account's access token, so posts to x fail. GET /api/v2/social/accounts shows why; connect it again with PUT /api/v2/social/accounts/x and fresh tokens.\"
              runbook_url: \"docs/monitoring-runbook.md#socialaccountreconnectneeded\"";
    let test = format!(
        "rule_files: [{rules}]\nevaluation_interval: 15s\ntests:\n  - interval: 15s\n    input_series:\n      - series: 'halcytone_social_account_reconnect_needed{{job=\"halcytone\",instance=\"app:8000\",network=\"x\"}}'\n        values: \"{value}x10\"\n    alert_rule_test:\n      - eval_time: 2m\n        alertname: SocialAccountReconnectNeeded\n        exp_alerts:{expected}\n",
        rules = rules.display()
    );
    let file = dir.path().join("social.test.yml");
    std::fs::write(&file, test).unwrap();
    let out = std::process::Command::new("promtool")
        .args(["test", "rules"])
        .arg(&file)
        .output()
        .unwrap();
    Some(out.status.success())
}

async fn a_refused_refresh_needs_a_reconnect(backend: Backend) {
    let x = MockServer::start().await;
    let mut c = config();
    c.keyring = Some(keyring());
    let mut social =
        SocialSettings::default().routed_to(&Url::parse(&format!("{}/", x.uri())).unwrap());
    social.x.client_id = Some("x-client".into());
    c.social = social;
    let Some(app) = spawn_app_with_settings(backend, c, |s| {
        s.dry_run = false;
        s.mock_urls.clear();
    })
    .await
    else {
        return;
    };
    // Bad input names the field; nothing is stored.
    for (network, body, field) in [
        (
            "x",
            json!({"account_id": "@halcytone", "access_token": "t"}),
            "account_id",
        ),
        ("x", json!({"account_id": "42"}), "access_token"),
        (
            "x",
            json!({"account_id": "42", "access_token": "t", "expires_in": 5}),
            "expires_in",
        ),
        (
            "x",
            json!({"account_id": "42", "access_token": "t", "refresh_token": "a b\n"}),
            "refresh_token",
        ),
        (
            "facebook",
            json!({"account_id": "my-page", "access_token": "t"}),
            "account_id",
        ),
        (
            "facebook",
            json!({"account_id": "104000000000001", "access_token": "t", "refresh_token": "r"}),
            "refresh_token",
        ),
    ] {
        let case = format!("{network}: {body}");
        connect(&app, network, body)
            .await
            .assert_invalid_field(field, case);
    }
    let a = connect(
        &app,
        "linkedin",
        json!({"account_id": "urn:li:company:1", "access_token": "t"}),
    )
    .await;
    assert_eq!(a.body["error"]["field"], "account_id", "{}", a.text);
    let a = connect(&app, "instagram", json!({})).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.text.contains("no live adapter"), "{}", a.text);

    let a = app
        .put_json(
            "/api/v2/social/accounts/x",
            Some(&app.write_key),
            &json!({}),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "connecting needs admin");
    assert!(app.store.credentials().await.unwrap().is_empty());

    // Connected; the tokens are sealed and never shown.
    let a = connect(&app, "x", json!({"account_id": "42", "username": "@halcytone", "access_token": "access-revoked-0001", "refresh_token": "refresh-revoked-0001", "expires_in": 7200}))
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["username"], "halcytone");
    assert_eq!(a.body["posts_via"], "direct");
    assert!(!a.text.contains("revoked-0001"));
    let row = app.store.credential("social:x").await.unwrap().unwrap();
    assert!(!row.sealed.contains("revoked-0001") && !row.meta.to_string().contains("revoked-0001"));
    assert_eq!(
        gauge(&app).await,
        "halcytone_social_account_reconnect_needed{network=\"x\"} 0"
    );

    // X refuses the token and the refresh.
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .and(header("authorization", "Bearer access-revoked-0001"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"title": "Unauthorized", "status": 401, "detail": "Unauthorized"}),
        ))
        .expect(1)
        .mount(&x)
        .await;
    Mock::given(method("POST"))
        .and(path("/2/oauth2/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_request", "error_description": "Value passed for the token was invalid."})))
        .expect(1)
        .mount(&x)
        .await;
    let s = app.sync(r#"{"channels":["social_twitter"]}"#).await;
    assert_eq!(s.status, StatusCode::ACCEPTED, "{}", s.text);
    let job = app.wait_job(s.body["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert!(job.to_string().contains("needs reconnecting"), "{job}");
    let list = app.get_as_reader("/api/v2/social/accounts").await;
    let xa = &list.body["accounts"][0];
    assert_eq!(xa["reconnect_needed"], true, "{xa}");
    assert!(
        xa["last_error"]
            .as_str()
            .unwrap()
            .contains("Value passed for the token was invalid."),
        "{xa}"
    );
    let line = gauge(&app).await;
    assert_eq!(
        line,
        "halcytone_social_account_reconnect_needed{network=\"x\"} 1"
    );
    if let Some(fires) = alert_fires(line.rsplit(' ').next().unwrap()) {
        assert!(
            fires,
            "SocialAccountReconnectNeeded does not fire on the scraped value"
        );
    }
    if let Some(fires) = alert_fires("0") {
        assert!(!fires, "and it stays silent on 0");
    }
    // The stored tokens were kept.
    let vault = StoreTokens::new(app.store.clone(), app.state.config.keyring.clone());
    let held = vault.load(Network::X).await.unwrap().unwrap();
    assert_eq!(held.tokens.access_token.expose(), "access-revoked-0001");
    assert_eq!(
        held.tokens.refresh_token.as_ref().map(Secret::expose),
        Some("refresh-revoked-0001")
    );

    // Reconnected: the sample's X post goes to X directly, nothing to the Platform.
    let n = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(2000));
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .and(header("authorization", "Bearer access-fresh-0002"))
        .respond_with(move |_: &wiremock::Request| {
            let id = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            ResponseTemplate::new(201)
                .set_body_json(json!({"data": {"id": id.to_string(), "text": "…"}}))
        })
        .mount(&x)
        .await;
    let a = connect(&app, "twitter", json!({"account_id": "42", "username": "halcytone", "access_token": "access-fresh-0002", "refresh_token": "refresh-fresh-0002", "expires_in": 7200}))
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(
        gauge(&app).await,
        "halcytone_social_account_reconnect_needed{network=\"x\"} 0"
    );
    let s = app.sync(r#"{"channels":["social_twitter"]}"#).await;
    let job = app.wait_job(s.body["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "completed", "{job}");
    let tweets = x
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/2/tweets")
        .count();
    assert!(
        tweets >= 2,
        "the sample's X post went out directly ({tweets} requests in all)"
    );
    assert!(
        job.to_string()
            .contains("https://x.com/halcytone/status/2001"),
        "{job}"
    );
    assert!(
        app.captures(&app.platform, "social").await.is_empty(),
        "nothing went to the Platform"
    );
    let audit = app.store.audit_log(50).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "social.connected"));
    assert!(
        audit
            .iter()
            .all(|e| !e.detail.contains("0001") && !e.detail.contains("0002"))
    );
    let d = app
        .delete("/api/v2/social/accounts/x", Some(ADMIN_KEY))
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    assert_eq!(d.body["now"]["posts_via"], "platform");
}

both_backends!(fn a_refused_refresh_needs_a_reconnect);

/// In dry run the adapters run against the mock Platform, which plays the networks: posts
/// are captured, an expired token is refreshed by the mock's token endpoint, a revoked one
/// ends in "reconnect needed", and no connection leaves for a real network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_rehearses_the_live_adapters_against_the_mock_platform() {
    let mut c = config();
    c.keyring = Some(keyring());
    c.social.x.client_id = Some("rehearsal".into());
    c.social.linkedin.client_id = Some("rehearsal".into());
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, c)
        .await
        .unwrap();
    // X with an expired token (the mock refreshes it), LinkedIn healthy.
    let a = connect(&app, "x", json!({"account_id": "42", "username": "halcytone", "access_token": "expired-token-1", "refresh_token": "refresh-1"})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(
        a.body["posts_via"],
        "direct (dry run: the mock Platform plays the network)"
    );
    for (network, account) in [
        (
            "linkedin",
            json!({"account_id": "urn:li:organization:2414183", "access_token": "li-token-1"}),
        ),
        (
            "facebook",
            json!({"account_id": "104000000000001", "access_token": "page-token-1"}),
        ),
    ] {
        let a = connect(&app, network, account).await;
        assert_eq!(a.status, StatusCode::OK, "{network}: {}", a.text);
    }
    let s = app
        .sync(r#"{"channels":["social_twitter","social_linkedin","social_facebook"]}"#)
        .await;
    let job = app.wait_job(s.body["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "completed", "{job}");
    let captures = app.captures(&app.platform, "social").await;
    let via = |v: &str| captures.iter().filter(|c| c["request"]["via"] == v).count();
    assert!(via("x-api-v2") >= 1, "{captures:?}");
    assert_eq!(via("linkedin-posts-api"), 1, "{captures:?}");
    assert_eq!(via("facebook-graph-api"), 1, "{captures:?}");
    let page_post = captures
        .iter()
        .find(|c| c["request"]["via"] == "facebook-graph-api")
        .unwrap();
    assert_eq!(page_post["request"]["page_id"], "104000000000001");
    assert_eq!(page_post["request"]["graph_version"], "v21.0");
    assert_eq!(
        captures.len(),
        via("x-api-v2") + 2,
        "nothing through /api/v1/social/post"
    );
    let held = StoreTokens::new(app.store.clone(), app.state.config.keyring.clone())
        .load(Network::X)
        .await
        .unwrap()
        .unwrap();
    assert!(
        held.tokens
            .access_token
            .expose()
            .starts_with("mock-x-access-"),
        "refreshed by the mock"
    );
    assert!(
        held.tokens
            .refresh_token
            .as_ref()
            .unwrap()
            .expose()
            .starts_with("mock-x-refresh-"),
        "rotated"
    );
    // The rehearsal's posts count against the rehearsal's quota, never the live one.
    let rehearsed = app
        .store
        .social_posts_since("x", "dry_run", 0)
        .await
        .unwrap();
    assert_eq!(rehearsed.len(), via("x-api-v2"), "one record per post");
    // How many posts on `network` the store recorded in `mode` (dry_run or live).
    let recorded = async |network: &str, mode: &str| {
        let posts = app.store.social_posts_since(network, mode, 0).await;
        posts.unwrap().len()
    };
    assert_eq!(recorded("linkedin", "dry_run").await, 1);
    assert_eq!(recorded("facebook", "dry_run").await, 1);
    assert_eq!(recorded("x", "live").await, 0);
    // Nothing left for a real network.
    app.assert_metric("halcytone_egress_blocked_total 0").await;
    // A revoked account: the rehearsal ends in "reconnect needed".
    connect(&app, "x", json!({"account_id": "42", "access_token": "revoked-token-2", "refresh_token": "revoked-refresh-2"})).await;
    let s = app.sync(r#"{"channels":["social_twitter"]}"#).await;
    let job = app.wait_job(s.body["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(
        gauge(&app).await,
        "halcytone_social_account_reconnect_needed{network=\"x\"} 1"
    );
}
