//! The response cache: hits and misses on repeated previews, the dashboard's statistics and
//! invalidation, the v1 invalidation routes, the signed webhook, and invalidation after a
//! publish.

use crate::both_backends;
use crate::helpers::{ADMIN_KEY, Backend, TestApp, config, spawn_app_with};
use halcytone_http::cache::signature::sign;
use reqwest::StatusCode;
use serde_json::Value;

const SECRET: &str = "webhook-secret-for-tests-0123";

fn cache_header(a: &crate::helpers::Answer) -> String {
    a.headers
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// One GET of the preview with `accept_encoding`: its status, x-cache, content-encoding, vary
/// and raw body (reqwest here does not decode).
async fn preview_encoded(
    app: &TestApp,
    accept_encoding: &str,
) -> (String, String, String, Vec<u8>) {
    let r = app
        .http
        .get(format!("{}/api/v1/preview", app.base))
        .bearer_auth(&app.read_key)
        .header("accept-encoding", accept_encoding)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let h = |n: &str| {
        r.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (cache, encoding, vary) = (h("x-cache"), h("content-encoding"), h("vary"));
    (cache, encoding, vary, r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn a_cached_preview_is_sent_compressed_as_each_client_accepts() {
    use std::io::Read;
    let app = crate::helpers::spawn_app(Backend::Sqlite).await.unwrap();
    let (cache, encoding, vary, plain) = preview_encoded(&app, "identity").await;
    assert_eq!((cache.as_str(), encoding.as_str()), ("MISS", ""));
    assert!(vary.contains("accept-encoding"), "{vary}");
    let (cache, encoding, _, gz) = preview_encoded(&app, "gzip, deflate").await;
    assert_eq!((cache.as_str(), encoding.as_str()), ("HIT", "gzip"));
    let mut back = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!(back, plain, "the gzip copy is the cached body");
    let (cache, encoding, _, br) = preview_encoded(&app, "gzip, br").await;
    assert_eq!((cache.as_str(), encoding.as_str()), ("HIT", "br"));
    let mut back = Vec::new();
    brotli::Decompressor::new(&br[..], 4096)
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!(back, plain, "the brotli copy is the cached body");
    assert!(gz.len() * 4 < plain.len() && br.len() * 4 < plain.len());
    // The same copy again, and the body as stored to a client that accepts neither.
    let (_, _, _, gz_again) = preview_encoded(&app, "gzip").await;
    assert_eq!(gz_again, gz);
    let (_, encoding, _, again) = preview_encoded(&app, "br;q=0, gzip;q=0").await;
    assert_eq!((encoding.as_str(), again), ("", plain));
}

both_backends!(
    repeated_previews_hit_and_the_dashboard_sees_the_rate,
    |app: TestApp| async move {
        let first = app.get_as_reader("/api/v1/preview").await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        assert_eq!(cache_header(&first), "MISS");
        for _ in 0..3 {
            let again = app.get_as_reader("/api/v1/preview").await;
            assert_eq!(cache_header(&again), "HIT");
            assert_eq!(again.body["content_id"], first.body["content_id"]);
        }
        let s = app.get_as_reader("/api/v2/cache/stats").await;
        assert_eq!(s.status, StatusCode::OK, "{}", s.text);
        for f in ["hit_rate", "miss_rate", "memory_usage_mb"] {
            assert!(s.body[f].is_f64(), "{f} is a number: {}", s.text);
        }
        for f in [
            "hits",
            "misses",
            "evictions",
            "total_keys",
            "bypassed",
            "avg_ttl_seconds",
            "oldest_key_age_seconds",
        ] {
            assert!(s.body[f].is_u64(), "{f} is a count: {}", s.text);
        }
        assert_eq!(s.body["hits"], 3);
        assert_eq!(s.body["misses"], 1);
        assert!((s.body["hit_rate"].as_f64().unwrap() - 0.75).abs() < 1e-9);
        assert!(s.body["total_keys"].as_u64().unwrap() >= 1);
        for t in ["local", "redis", "api"] {
            assert!(
                s.body["cache_targets"][t]["enabled"].is_boolean(),
                "{t}: {}",
                s.text
            );
            assert!(s.body["cache_targets"][t]["hit_rate"].is_f64());
            assert!(s.body["cache_targets"][t]["total_keys"].is_u64());
        }
        // The Prometheus counters agree.
        app.assert_metric("halcytone_cache_hits_total 3").await;
        // A no-cache request recomputes.
        let fresh = app
            .http
            .get(format!("{}/api/v1/preview", app.base))
            .bearer_auth(&app.read_key)
            .header("Cache-Control", "no-cache")
            .send()
            .await
            .unwrap();
        assert_eq!(fresh.headers()["x-cache"], "MISS");
    }
);

both_backends!(
    dashboard_invalidation_by_pattern_keys_and_tags,
    |app: TestApp| async move {
        let key = Some(app.write_key.as_str());
        app.get_as_reader("/api/v1/preview").await;
        app.get("/api/v2/templates", None).await;
        let a = app
            .post(
                "/api/v2/cache/invalidate",
                key,
                r#"{"pattern": "preview:*"}"#,
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body["invalidated"], 1);
        assert_eq!(
            cache_header(&app.get_as_reader("/api/v1/preview").await),
            "MISS"
        );
        assert_eq!(
            cache_header(&app.get("/api/v2/templates", None).await),
            "HIT"
        );
        let a = app
            .post(
                "/api/v2/cache/invalidate",
                key,
                r#"{"cache_keys": ["templates"]}"#,
            )
            .await;
        assert_eq!(a.body["invalidated"], 1, "{}", a.text);
        assert_eq!(
            cache_header(&app.get("/api/v2/templates", None).await),
            "MISS"
        );
        let a = app
            .post("/api/v2/cache/invalidate", key, r#"{"tags": ["preview"]}"#)
            .await;
        assert_eq!(a.body["invalidated"], 1, "{}", a.text);
        // Bad input names the field and changes nothing.
        let before = app.get("/api/v2/cache/stats", key).await.body["total_keys"].clone();
        let e = app.post("/api/v2/cache/invalidate", key, "{}").await;
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", e.text);
        assert_eq!(e.body["error"]["field"], "pattern");
        let e = app
            .post("/api/v2/cache/invalidate", key, r#"{"cache_keys": [""]}"#)
            .await;
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", e.text);
        assert_eq!(e.body["error"]["field"], "cache_keys[0]");
        assert_eq!(
            app.get("/api/v2/cache/stats", key).await.body["total_keys"],
            before
        );
        // Clear empties everything; a read key may not.
        assert_eq!(
            app.post("/api/v2/cache/clear", Some(&app.read_key), "")
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let c = app.post("/api/v2/cache/clear", key, "").await;
        assert_eq!(c.status, StatusCode::OK, "{}", c.text);
        assert_eq!(c.body["success"], true);
        assert_eq!(
            app.get("/api/v2/cache/stats", key).await.body["total_keys"],
            0
        );
    }
);

both_backends!(
    v1_routes_validate_record_and_clear,
    |app: TestApp| async move {
        let key = Some(app.write_key.as_str());
        app.get_as_reader("/api/v1/preview").await;
        let e = app
            .post(
                "/api/v1/cache/invalidate",
                key,
                r#"{"keys": ["x"], "targets": ["varnish"]}"#,
            )
            .await;
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.body["error"]["field"], "targets[0]");
        let r = app
            .post(
                "/api/v1/cache/invalidate",
                key,
                r#"{"patterns": ["preview:*"], "targets": ["local", "redis"], "reason": "test"}"#,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["status"], "partial");
        assert_eq!(r.body["targets_processed"]["local"], true);
        assert_eq!(r.body["targets_processed"]["redis"], false);
        assert_eq!(r.body["keys_invalidated"], 1);
        assert!(r.body["errors"][0].as_str().unwrap().contains("redis"));
        let h = app.get_as_reader("/api/v1/cache/history?limit=5").await;
        assert_eq!(h.status, StatusCode::OK, "{}", h.text);
        assert_eq!(h.body["history"][0]["request_id"], r.body["request_id"]);
        assert!(
            h.body["history"][0]["actor"]
                .as_str()
                .unwrap()
                .starts_with("api_key:")
        );
        assert_eq!(h.body["history"][0]["request"]["reason"], "test");
        let health = app.get_as_reader("/api/v1/cache/health").await;
        assert_eq!(health.body["overall_health"], "healthy");
        assert_eq!(health.body["targets"]["cdn"]["configured"], false);
        let stats = app.get_as_reader("/api/v1/cache/stats").await;
        assert_eq!(stats.body["total_requests"], 1, "{}", stats.text);
        assert_eq!(stats.body["webhook_configured"], false);
        // clear-all: admin only, and only with confirm=true.
        assert_eq!(
            app.delete("/api/v1/cache/clear-all?confirm=true", key)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let no = app.delete("/api/v1/cache/clear-all", Some(ADMIN_KEY)).await;
        assert_eq!(no.status, StatusCode::BAD_REQUEST);
        assert!(no.text.contains("confirm=true"));
        let yes = app
            .delete("/api/v1/cache/clear-all?confirm=true", Some(ADMIN_KEY))
            .await;
        assert_eq!(yes.status, StatusCode::OK, "{}", yes.text);
        assert_eq!(yes.body["warning"], "All cache data has been cleared");
        // Without a webhook secret, the webhook takes an API key instead.
        let w = app
            .post("/api/v1/cache/webhook", None, r#"{"event": "deployment"}"#)
            .await;
        assert_eq!(w.status, StatusCode::UNAUTHORIZED);
        let w = app
            .post("/api/v1/cache/webhook", key, r#"{"event": "deployment"}"#)
            .await;
        assert_eq!(w.status, StatusCode::OK, "{}", w.text);
        assert_eq!(w.body["webhook_event"], "deployment");
    }
);

async fn signed(
    app: &TestApp,
    path: &str,
    body: &str,
    ts: i64,
    sig: Option<String>,
) -> crate::helpers::Answer {
    let mut req = app
        .http
        .post(format!("{}{path}", app.base))
        .header("Content-Type", "application/json")
        .header("X-Timestamp", ts.to_string())
        .body(body.to_string());
    if let Some(s) = sig {
        req = req.header("X-Signature", s);
    }
    crate::helpers::Answer::read(req.send().await.unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_webhook_invalidates_and_unsigned_or_replayed_ones_get_401() {
    let mut c = config();
    c.cache.webhook_secret = Some(SECRET.into());
    let app = spawn_app_with(Backend::Sqlite, c).await.unwrap();
    app.get_as_reader("/api/v1/preview").await;
    let body = r#"{"event": "content_updated", "patterns": ["preview:*"]}"#;
    let now = chrono::Utc::now().timestamp();
    let count = |app: &TestApp| {
        let store = app.store.clone();
        async move { store.invalidation_count().await.unwrap() }
    };
    // Unsigned, badly signed, stale: 401 and nothing recorded or dropped.
    let unsigned = signed(&app, "/api/v1/cache/webhook", body, now, None).await;
    assert_eq!(
        unsigned.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        unsigned.text
    );
    assert_eq!(unsigned.body["error"]["code"], "bad_signature");
    let wrong = signed(
        &app,
        "/api/v1/cache/webhook",
        body,
        now,
        Some(sign(b"another-secret-entirely", now, body.as_bytes())),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let old = now - 400;
    let stale = signed(
        &app,
        "/api/v1/cache/webhook",
        body,
        old,
        Some(sign(SECRET.as_bytes(), old, body.as_bytes())),
    )
    .await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
    assert!(stale.text.contains("300"), "{}", stale.text);
    // An API key does not replace the signature once a secret is configured.
    let keyed = app
        .post("/api/v1/cache/webhook", Some(ADMIN_KEY), body)
        .await;
    assert_eq!(keyed.status, StatusCode::UNAUTHORIZED);
    assert_eq!(count(&app).await, 0);
    assert_eq!(
        cache_header(&app.get_as_reader("/api/v1/preview").await),
        "HIT"
    );
    // The test route checks without using the signature up.
    let sig = sign(SECRET.as_bytes(), now, body.as_bytes());
    let t = signed(
        &app,
        "/api/v1/cache/webhook/test",
        body,
        now,
        Some(sig.clone()),
    )
    .await;
    assert_eq!(t.body["signature_valid"], true, "{}", t.text);
    assert_eq!(t.body["webhook_secret_configured"], true);
    // Signed: accepted and the preview is dropped.
    let ok = signed(&app, "/api/v1/cache/webhook", body, now, Some(sig.clone())).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.body["webhook_event"], "content_updated");
    assert_eq!(ok.body["keys_invalidated"], 1);
    assert_eq!(
        cache_header(&app.get_as_reader("/api/v1/preview").await),
        "MISS"
    );
    assert_eq!(count(&app).await, 1);
    // The same signature again: replayed.
    let again = signed(&app, "/api/v1/cache/webhook", body, now, Some(sig)).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert!(again.text.contains("replayed"), "{}", again.text);
    assert_eq!(count(&app).await, 1);
}

both_backends!(
    a_publish_drops_cached_content_versions,
    |app: TestApp| async move {
        let key = Some(app.read_key.as_str());
        let job = app
            .sync(r#"{"channels": ["email"], "schedule_time": "2999-01-01T00:00:00Z"}"#)
            .await;
        assert_eq!(job.status, StatusCode::ACCEPTED, "{}", job.text);
        let first = app.get("/api/v2/content", key).await;
        assert_eq!(cache_header(&first), "MISS");
        assert_eq!(first.body["versions"][0]["status"], "scheduled");
        assert_eq!(cache_header(&app.get("/api/v2/content", key).await), "HIT");
        // Publishing (another job) changes what the list says, so the cached list goes.
        let now = app.sync(r#"{"channels": ["email"]}"#).await;
        let id = now.body["job_id"].as_str().unwrap().to_string();
        app.wait_job(&id).await;
        let mut list = Value::Null;
        for _ in 0..100 {
            let a = app.get("/api/v2/content", key).await;
            if a.body["versions"][0]["status"] == "published" {
                list = a.body;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(list["total"], 2, "{list}");
        // The finished publish is in the invalidation history.
        let mut found = false;
        for _ in 0..100 {
            let h = app.get("/api/v1/cache/history", key).await;
            if h.body["history"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["actor"] == format!("publish:{id}"))
            {
                found = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(found, "publish invalidation recorded");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cdn_purge_goes_through_the_guarded_client() {
    use wiremock::matchers::{body_json, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let cdn = MockServer::start().await;
    // Cloudflare's purge API: POST /zones/{zone}/purge_cache {"files": [...]} with a bearer
    // token, answering {"success": true, ...}.
    Mock::given(method("POST"))
        .and(path("/client/v4/zones/zone-1/purge_cache"))
        .and(header("authorization", "Bearer cdn-token-for-tests"))
        .and(body_json(
            serde_json::json!({"files": ["https://halcytone.com/updates/x"]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"success": true, "errors": [], "result": {"id": "zone-1"}}),
        ))
        .expect(1)
        .mount(&cdn)
        .await;
    let mut c = config();
    c.cache.cdn = Some(halcytone_http::cache::settings::CdnConfig {
        kind: "cloudflare".into(),
        base_url: url::Url::parse(&format!("{}/client/v4/", cdn.uri())).unwrap(),
        zone_id: "zone-1".into(),
        api_key: Some("cdn-token-for-tests".into()),
    });
    // Dry run (the test app's default): the CDN is not a mock, so the guard refuses it.
    let app = spawn_app_with(Backend::Sqlite, c).await.unwrap();
    let r = app
        .post(
            "/api/v1/cache/invalidate",
            Some(&app.write_key),
            r#"{"targets": ["local", "cdn"], "keys": ["https://halcytone.com/updates/x"]}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "partial", "{}", r.text);
    assert_eq!(r.body["targets_processed"]["cdn"], false);
    assert!(
        r.body["errors"][0]
            .as_str()
            .unwrap()
            .contains("dry run: refused"),
        "{}",
        r.text
    );
    app.assert_metric("halcytone_egress_blocked_total 1").await;
    assert_eq!(
        app.get_as_reader("/api/v1/cache/health").await.body["targets"]["cdn"]["configured"],
        true
    );
    // Live (no dry run): the same invalidation reaches the CDN once, with its token.
    let mut live = crate::helpers::settings(&app.crm, &app.platform);
    live.dry_run = false;
    let invalidator = halcytone_http::cache::invalidation::Invalidator::new(
        app.state.cache.clone(),
        app.state.config.cache.cdn.clone(),
        std::sync::Arc::new(halcytone_publish::Publishing::new(live).unwrap()),
        app.store.clone(),
    );
    let req = halcytone_http::cache::invalidation::Request {
        targets: vec!["cdn".into()],
        keys: vec!["https://halcytone.com/updates/x".into(), "templates".into()],
        ..Default::default()
    };
    let out = invalidator.run(&req, "test", "corr-1").await;
    assert_eq!(out["status"], "success", "{out}");
}

/// An invalidation asked of one replica reaches the others (PostgreSQL `NOTIFY`): the preview
/// cached on replica B is recomputed after replica A is asked to drop it.
#[tokio::test]
async fn an_invalidation_on_one_replica_drops_the_answer_cached_on_another() {
    let Some(mut a) = spawn_app_with(Backend::Postgres, config()).await else {
        return;
    };
    let b = a.replica(config()).await;
    let preview_on_b = || async {
        let r = a
            .http
            .get(format!("{b}/api/v1/preview"))
            .bearer_auth(&a.read_key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.headers()["x-cache"].to_str().unwrap().to_string()
    };
    preview_on_b().await;
    assert_eq!(preview_on_b().await, "HIT", "B caches its preview");
    let done = a
        .post(
            "/api/v2/cache/invalidate",
            Some(&a.write_key),
            r#"{"pattern": "preview:*"}"#,
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    // The notification arrives within moments; B recomputes once it has.
    let mut seen = Vec::new();
    for _ in 0..100 {
        let cache = preview_on_b().await;
        let missed = cache == "MISS";
        seen.push(cache);
        if missed {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(seen.last().map(String::as_str), Some("MISS"), "{seen:?}");
}
