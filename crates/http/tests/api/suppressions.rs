//! Bounces, complaints and one-click unsubscribe, end to end: an audience sent over SMTP to
//! the mock capture, which reports the seeded bounce and complaint to the API's signed event
//! intake; the suppression list fills; a recipient unsubscribes with the link in their
//! message's `List-Unsubscribe` header; the next send skips and counts every suppressed
//! address. Bad input — a bad signature, a forged token — changes nothing.

use crate::helpers::{ADMIN_KEY, Backend, SAMPLE};
use halcytone_content::{Brand, Templates};
use halcytone_http::{Application, DocumentSource, ServerConfig};
use halcytone_mocks::bounces::EventSink;
use halcytone_mocks::state::{MockConfig, MockKind};
use halcytone_publish::{Publishing, Settings};
use halcytone_store::{PostgresStore, SqliteStore, Store};
use halcytone_testkit::pg::ScratchSchema;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

const EVENTS_SECRET: &str = "events-secret-0123456789";

struct Stack {
    base: String,
    crm: String,
    http: reqwest::Client,
    _store: Arc<dyn Store>,
    _mocks: Vec<halcytone_mocks::LocalMock>,
    _stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
    _schema: Option<ScratchSchema>,
}

/// The API sending over SMTP to the mock capture, whose seeded bounces and complaints come
/// back to the API signed with [`EVENTS_SECRET`].
async fn stack(backend: Backend) -> Option<Stack> {
    let dir = tempfile::tempdir().unwrap();
    let (store, schema): (Arc<dyn Store>, _) = match backend {
        Backend::Sqlite => (
            Arc::new(SqliteStore::open(&dir.path().join("h.db")).await.unwrap()),
            None,
        ),
        Backend::Postgres => {
            let schema = ScratchSchema::create().await?;
            let store = PostgresStore::connect(&schema.url).await.unwrap();
            (Arc::new(store), Some(schema))
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut crm_config = MockConfig::new(MockKind::Crm);
    crm_config.smtp_port = Some(0);
    crm_config.events = Some(EventSink {
        url: format!("{base}/api/v2/email-events"),
        secret: EVENTS_SECRET.into(),
    });
    let crm = halcytone_mocks::spawn_local(MockKind::Crm, crm_config)
        .await
        .unwrap();
    let platform =
        halcytone_mocks::spawn_local(MockKind::Platform, MockConfig::new(MockKind::Platform))
            .await
            .unwrap();
    let smtp_port = crm.smtp_port.unwrap().to_string();
    let vars: HashMap<&str, &str> = [
        ("DRY_RUN_MODE", "true"),
        ("MOCK_CRM_BASE_URL", crm.url.as_str()),
        ("MOCK_PLATFORM_BASE_URL", platform.url.as_str()),
        ("MOCK_SMTP_PORT", smtp_port.as_str()),
        ("EMAIL_TRANSPORT", "smtp"),
        ("SMTP_HOST", "127.0.0.1"),
        ("SMTP_FROM", "Halcytone <newsletter@example.com>"),
        ("PUBLISH_RETRY_BASE_MS", "1"),
    ]
    .into_iter()
    .collect();
    let settings = Settings::from_vars(&|k| vars.get(k).map(|v| v.to_string()), false).unwrap();
    let mut config = ServerConfig::local();
    config.api_key = Some(ADMIN_KEY.into());
    config.document = DocumentSource::Inline {
        label: "sample".into(),
        text: SAMPLE.into(),
    };
    config.mailing.public_base_url = Some(base.parse().unwrap());
    config.mailing.unsubscribe_secret = Some("unsubscribe-secret-0123456789".into());
    config.mailing.events_secret = Some(EVENTS_SECRET.into());
    let app = Application::build(
        config,
        store.clone(),
        Arc::new(Publishing::new(settings).unwrap()),
        Arc::new(Templates::defaults()),
        Brand::default(),
        listener,
    )
    .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    Some(Stack {
        base,
        crm: crm.url.clone(),
        http: reqwest::Client::new(),
        _store: store,
        _mocks: vec![crm, platform],
        _stop: stop,
        _dir: dir,
        _schema: schema,
    })
}

impl Stack {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(ADMIN_KEY);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(reqwest::Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    /// Sends the newsletter to the audience and waits for the job; answers its JSON.
    async fn send(&self, audience: &str) -> Value {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/api/v2/content/sync",
                Some(json!({ "channels": ["email"], "audience_id": audience })),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let id = body["job_id"].as_str().unwrap().to_string();
        for _ in 0..400 {
            let job = self.get(&format!("/api/v2/jobs/{id}")).await;
            if ["completed", "failed", "partial"].contains(&job["status"].as_str().unwrap_or("")) {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("job {id} did not finish");
    }

    /// The capture's email messages to `to`.
    async fn captured_to(&self, to: &str) -> Vec<Value> {
        let url = format!(
            "{}/api/v1/captures?kind=email&limit=1000",
            self.crm.trim_end_matches('/')
        );
        let v: Value = self
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["captures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["request"]["recipients"][0] == to)
            .cloned()
            .collect()
    }

    /// POSTs `csv` to `path` as `text/csv` (no content type when `None`).
    async fn post_csv(&self, path: &str, csv: Option<&str>) -> reqwest::Response {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(ADMIN_KEY);
        if let Some(csv) = csv {
            req = req.header("content-type", "text/csv").body(csv.to_string());
        }
        req.send().await.unwrap()
    }

    /// POSTs provider events signed at `timestamp` with [`EVENTS_SECRET`].
    async fn post_events(&self, body: &str, timestamp: i64) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v2/email-events", self.base))
            .header("content-type", "application/json")
            .header("x-timestamp", timestamp.to_string())
            .header("x-signature", sign(timestamp, body))
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    async fn suppressed(&self) -> Vec<(String, String)> {
        let page = self.get("/api/v2/suppressions?limit=100").await;
        page["suppressions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["email"].as_str().unwrap().to_string(),
                    s["reason"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

fn sign(timestamp: i64, body: &str) -> String {
    halcytone_mocks::bounces::sign(EVENTS_SECRET, timestamp, body.as_bytes())
}

async fn bounces_complaints_and_one_click_unsubscribe(backend: Backend) {
    let Some(s) = stack(backend).await else {
        eprintln!("skipped: set HALCYTONE_TEST_DATABASE_URL to run on PostgreSQL");
        return;
    };
    let (status, made) = s
        .call(
            reqwest::Method::POST,
            "/api/v2/audiences",
            Some(json!({"name": "Rehearsal"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let audience = made["id"].as_str().unwrap().to_string();
    let csv = "email,name\nana@example.com,Ana\nbob@example.com,Bob\nbounce-1@example.com,B\ncomplaint-1@example.com,C\nsoftbounce-1@example.com,S\n";
    let imported = s
        .post_csv(
            &format!("/api/v2/audiences/{audience}/subscribers/import"),
            Some(csv),
        )
        .await;
    assert_eq!(imported.status(), StatusCode::OK);

    // Bad input changes nothing: a wrong signature, an unsigned event, a forged token.
    let event = json!({"type": "bounce", "email": "bob@example.com"}).to_string();
    let now = chrono::Utc::now().timestamp();
    for (sig, ts) in [
        (Some("sha256=00".to_string()), Some(now)),
        (Some(sign(now, "another body")), Some(now)),
        (Some(sign(now - 3600, &event)), Some(now - 3600)),
        (None, None),
    ] {
        let mut req = s
            .http
            .post(format!("{}/api/v2/email-events", s.base))
            .header("content-type", "application/json")
            .body(event.clone());
        if let Some(sig) = sig {
            req = req.header("x-signature", sig);
        }
        if let Some(ts) = ts {
            req = req.header("x-timestamp", ts.to_string());
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    for forged in ["abc.def", "eyJqb2IiOiJ4In0.AAAA", ""] {
        let r = s
            .http
            .post(format!("{}/u/{forged}", s.base))
            .send()
            .await
            .unwrap();
        assert!(
            [StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&r.status()),
            "{forged}: {}",
            r.status()
        );
    }
    assert!(s.suppressed().await.is_empty());

    // The first send reaches everyone; the capture reports the seeded bounce and complaint.
    let job = s.send(&audience).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["recipients"]["sent"], 5, "{job}");
    let mut suppressed = Vec::new();
    for _ in 0..200 {
        suppressed = s.suppressed().await;
        if suppressed.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        suppressed,
        vec![
            ("bounce-1@example.com".to_string(), "bounce".to_string()),
            (
                "complaint-1@example.com".to_string(),
                "complaint".to_string()
            ),
        ],
        "a soft bounce does not suppress"
    );
    let job = s
        .get(&format!("/api/v2/jobs/{}", job["job_id"].as_str().unwrap()))
        .await;
    assert_eq!(job["recipients"]["bounced"], 1, "{job}");
    assert_eq!(job["recipients"]["complained"], 1, "{job}");
    assert_eq!(job["recipients"]["sent"], 5, "bounced mail was sent: {job}");
    // The returns are counted in the recipients metric by how the message ended.
    let metrics = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        r#"halcytone_recipients_total{state="bounced"} 1"#,
        r#"halcytone_recipients_total{state="complained"} 1"#,
    ] {
        assert!(metrics.contains(line), "no {line} in:\n{metrics}");
    }

    // A provider's redelivery of an event is taken in once.
    let again = json!({"id": "evt-1", "type": "complaint", "email": "bob@example.com"}).to_string();
    // (Signed at another second: the same signature twice is a replay, refused before.)
    let base = chrono::Utc::now().timestamp();
    for (accepted, ago) in [(1, 0), (0, 1)] {
        let ts = base - ago;
        let r: Value = s.post_events(&again, ts).await.json().await.unwrap();
        assert_eq!(r["accepted"], accepted, "{r}");
    }
    let (status, _) = s
        .call(
            reqwest::Method::DELETE,
            "/api/v2/suppressions/bob@example.com",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Ana unsubscribes with the link in her message's List-Unsubscribe header.
    let ana = s.captured_to("ana@example.com").await;
    assert_eq!(ana.len(), 1);
    let header = ana[0]["request"]["list_unsubscribe"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        ana[0]["request"]["list_unsubscribe_post"],
        "List-Unsubscribe=One-Click"
    );
    let link = header
        .split(['<', '>'])
        .find(|p| p.starts_with("http"))
        .unwrap()
        .to_string();
    assert!(link.starts_with(&format!("{}/u/", s.base)), "{header}");
    let page = s.http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("ana@example.com") && html.contains("method=\"post\""),
        "{html}"
    );
    assert!(
        !s.suppressed()
            .await
            .iter()
            .any(|(e, _)| e == "ana@example.com"),
        "GET changes nothing"
    );
    let done: Value = s
        .http
        .post(&link)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(done["email"], "ana@example.com", "{done}");
    // A token of this send for an address it never had is refused like a forged one.
    let forged = link.replace("/u/", "/u/x");
    let r = s.http.post(&forged).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // The next send skips and counts the three suppressed addresses.
    let job = s.send(&audience).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["recipients"]["sent"], 2, "{job}");
    assert_eq!(job["recipients"]["suppressed"], 3, "{job}");
    for (to, copies) in [
        ("ana@example.com", 1),
        ("bounce-1@example.com", 1),
        ("complaint-1@example.com", 1),
        ("bob@example.com", 2),
        ("softbounce-1@example.com", 2),
    ] {
        assert_eq!(s.captured_to(to).await.len(), copies, "{to}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suppression_loop_on_sqlite() {
    bounces_complaints_and_one_click_unsubscribe(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suppression_loop_on_postgres() {
    bounces_complaints_and_one_click_unsubscribe(Backend::Postgres).await;
}

/// The list's own API: a bad address or reason is a 422 naming the field; an import must say
/// it is CSV; a file of addresses suppresses the good lines and reports the bad ones by line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suppression_list_input_rules_and_import() {
    let s = stack(Backend::Sqlite).await.unwrap();
    let post = reqwest::Method::POST;
    for (body, field) in [
        (json!({ "email": "" }), "email"),
        (json!({ "email": "not-an-address" }), "email"),
        (json!({ "email": "a@example.com", "reason": "" }), "reason"),
        (
            json!({ "email": "a@example.com", "reason": "BOUNCE" }),
            "reason",
        ),
    ] {
        let (status, answer) = s
            .call(post.clone(), "/api/v2/suppressions", Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    let (status, _) = s
        .call(
            post.clone(),
            "/api/v2/suppressions",
            Some(json!({ "email": " Mixed@Example.com ", "reason": "complaint" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    for query in ["?reason=", "?reason=Bounce"] {
        let (status, answer) = s
            .call(
                reqwest::Method::GET,
                &format!("/api/v2/suppressions{query}"),
                None,
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {answer}"
        );
    }
    let url = "/api/v2/suppressions/import";
    let bare = s.post_csv(url, None).await;
    assert_eq!(bare.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let nothing = s.post_csv(url, Some("{}")).await;
    assert_eq!(nothing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // An @ somewhere, but no line an address: the wrong file, refused whole.
    let wrong = s
        .post_csv(url, Some("[[1, false], {\"a@\": null}]\n@@\n"))
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let why: Value = wrong.json().await.unwrap();
    assert!(
        why["detail"]
            .as_str()
            .unwrap()
            .starts_with("body: no line holds an address (2 refused"),
        "{why}"
    );
    let again = s
        .call(
            post.clone(),
            "/api/v2/suppressions",
            Some(json!({ "email": "mixed@example.com" })),
        )
        .await;
    assert_eq!(again.0, StatusCode::OK, "{}", again.1);
    assert_eq!(again.1["reason"], "complaint", "the first reason stays");
    let csv = "email,reason\nfirst@example.com,bounce\nmixed@example.com,\nno-at-sign,manual\n";
    let imported: Value = s.post_csv(url, Some(csv)).await.json().await.unwrap();
    assert_eq!(imported["rows"], 3, "{imported}");
    assert_eq!(imported["added"], 1, "{imported}");
    assert_eq!(imported["already"], 1, "{imported}");
    assert_eq!(imported["refused"], 1, "{imported}");
    let refusal = imported["refusals"][0].as_str().unwrap_or_default();
    assert_eq!(refusal, "line 4: has no @", "{imported}");
    // A provider may send its events as a bare JSON array.
    let events =
        json!([{ "type": "complaint", "email": "array@example.com", "id": "evt-array-1" }])
            .to_string();
    let taken = s.post_events(&events, chrono::Utc::now().timestamp()).await;
    assert_eq!(
        taken.status(),
        StatusCode::OK,
        "{}",
        taken.text().await.unwrap()
    );
    let mut listed = s.suppressed().await;
    listed.sort();
    assert_eq!(
        listed,
        [
            ("array@example.com".to_string(), "complaint".to_string()),
            ("first@example.com".to_string(), "bounce".to_string()),
            ("mixed@example.com".to_string(), "complaint".to_string()),
        ]
    );
}
