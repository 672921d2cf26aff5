//! `spawn_app()`: the real API on 127.0.0.1:0 with a temporary database (SQLite, or a fresh
//! PostgreSQL schema), real mock CRM and Platform on random ports, and the embedded worker.
//! `TestApp` has one method per thing a test does over HTTP.

use halcytone_content::{Brand, Templates};
use halcytone_http::{Application, DocumentSource, ServerConfig};
use halcytone_mocks::state::{MockConfig, MockKind};
use halcytone_publish::{Publishing, Settings};
use halcytone_store::{PostgresStore, Scope, SqliteStore, Store};
use halcytone_testkit::http::{get_json, set_mock_fault};
use halcytone_testkit::pg::ScratchSchema;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

pub const SAMPLE: &str = include_str!("../../../../samples/living-document.md");
pub const ADMIN_KEY: &str = "test-admin-key-0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub crm: Url,
    pub platform: Url,
    pub store: Arc<dyn Store>,
    pub http: reqwest::Client,
    /// A read-only key and a write key made through the store.
    pub read_key: String,
    pub write_key: String,
    /// The running app's state (for driving the scheduler at a chosen time).
    pub state: halcytone_http::AppState,
    _dir: tempfile::TempDir,
    _stops: Vec<tokio::sync::oneshot::Sender<()>>,
    _mocks: Vec<halcytone_mocks::LocalMock>,
    _schema: Option<ScratchSchema>,
}

async fn mock(kind: MockKind, mocks: &mut Vec<halcytone_mocks::LocalMock>) -> Url {
    let m = halcytone_mocks::spawn_local(kind, MockConfig::new(kind))
        .await
        .unwrap();
    let url = Url::parse(&m.url).unwrap();
    mocks.push(m);
    url
}

pub fn settings(crm: &Url, platform: &Url) -> Settings {
    Settings::rehearsal(crm, platform)
}

pub fn config() -> ServerConfig {
    let mut c = ServerConfig::local();
    c.api_key = Some(ADMIN_KEY.into());
    c.document = DocumentSource::Inline {
        label: "sample".into(),
        text: SAMPLE.into(),
    };
    c
}

/// Starts the app; `None` when the PostgreSQL backend is asked for but not configured.
pub async fn spawn_app_with(backend: Backend, config: ServerConfig) -> Option<TestApp> {
    spawn_app_with_settings(backend, config, |_| {}).await
}

/// Starts the app with its publish settings adjusted by `tweak` (e.g. dry run off).
pub async fn spawn_app_with_settings(
    backend: Backend,
    config: ServerConfig,
    tweak: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    let mut mocks = Vec::new();
    let crm = mock(MockKind::Crm, &mut mocks).await;
    let platform = mock(MockKind::Platform, &mut mocks).await;
    let dir = tempfile::tempdir().unwrap();
    let (store, schema): (Arc<dyn Store>, _) = match backend {
        Backend::Sqlite => (
            Arc::new(SqliteStore::open(&dir.path().join("h.db")).await.unwrap()),
            None,
        ),
        Backend::Postgres => {
            let Some(schema) = ScratchSchema::create().await else {
                eprintln!(
                    "skipped: set HALCYTONE_TEST_DATABASE_URL to run the API suite on PostgreSQL"
                );
                return None;
            };
            (
                Arc::new(PostgresStore::connect(&schema.url).await.unwrap()),
                Some(schema),
            )
        }
    };
    let (_, read_key) = store
        .create_api_key("reader", &[Scope::Read], 0)
        .await
        .unwrap();
    let (_, write_key) = store
        .create_api_key("writer", &[Scope::Read, Scope::Write], 0)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = Application::build(
        config,
        store.clone(),
        Arc::new({
            let mut s = settings(&crm, &platform);
            tweak(&mut s);
            Publishing::new(s).unwrap()
        }),
        Arc::new(Templates::defaults()),
        Brand::default(),
        listener,
    )
    .unwrap();
    let base = format!("http://{}", app.addr);
    let state = app.state.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run(async {
        let _ = rx.await;
    }));
    let stops = vec![tx];
    Some(TestApp {
        base,
        crm,
        platform,
        store,
        http: reqwest::Client::new(),
        read_key,
        write_key,
        state,
        _dir: dir,
        _stops: stops,
        _mocks: mocks,
        _schema: schema,
    })
}

impl TestApp {
    /// Another API process on the same database and mocks, with its own worker, caches and
    /// job events (as a second replica has); answers its base URL. It stops with this app.
    pub async fn replica(&mut self, config: ServerConfig) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let app = Application::build(
            config,
            self.store.clone(),
            Arc::new(Publishing::new(settings(&self.crm, &self.platform)).unwrap()),
            Arc::new(Templates::defaults()),
            Brand::default(),
            listener,
        )
        .unwrap();
        let base = format!("http://{}", app.addr);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run(async {
            let _ = rx.await;
        }));
        self._stops.push(tx);
        base
    }
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, config()).await
}

/// A response: status, headers and the body parsed as JSON (or as a JSON string).
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    /// Reads a response whole: its body as JSON, or else as a JSON string of its text.
    pub async fn read(resp: reqwest::Response) -> Answer {
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    /// The header `name` as text (it must be there).
    #[track_caller]
    pub fn header(&self, name: &str) -> &str {
        self.headers[name].to_str().unwrap()
    }

    /// Asserts a 422 whose error names `field`; `case` says which request it answered.
    #[track_caller]
    pub fn assert_invalid_field(&self, field: &str, case: impl std::fmt::Display) {
        assert_eq!(
            self.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{case}: {}",
            self.text
        );
        assert_eq!(self.body["error"]["field"], field, "{case}: {}", self.text);
    }
}

impl TestApp {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&str>,
    ) -> Answer {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        Answer::read(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> Answer {
        self.call(Method::GET, path, key, None).await
    }

    /// GETs `path` with the read key.
    pub async fn get_as_reader(&self, path: &str) -> Answer {
        self.get(path, Some(&self.read_key)).await
    }

    pub async fn post(&self, path: &str, key: Option<&str>, body: &str) -> Answer {
        self.call(Method::POST, path, key, Some(body)).await
    }

    /// POSTs `body` as JSON.
    pub async fn post_json(&self, path: &str, key: Option<&str>, body: &Value) -> Answer {
        self.post(path, key, &body.to_string()).await
    }

    /// PUTs `body` as JSON.
    pub async fn put_json(&self, path: &str, key: Option<&str>, body: &Value) -> Answer {
        self.call(Method::PUT, path, key, Some(&body.to_string()))
            .await
    }

    pub async fn delete(&self, path: &str, key: Option<&str>) -> Answer {
        self.call(Method::DELETE, path, key, None).await
    }

    /// A new read-write API key named `name`, made through the store; its secret.
    pub async fn new_writer_key(&self, name: &str) -> String {
        self.store
            .create_api_key(name, &[Scope::Read, Scope::Write], 0)
            .await
            .unwrap()
            .1
    }

    /// POSTs each body to `path` with the read key: each must be a 422 naming its field
    /// (`None`: a 422 whatever the field).
    pub async fn refuses_bodies(&self, path: &str, cases: &[(&str, Option<&str>)]) {
        for (body, field) in cases {
            let a = self.post(path, Some(&self.read_key), body).await;
            assert_eq!(a.status, 422, "{path} {body}: {}", a.text);
            if let Some(field) = field {
                assert_eq!(a.body["error"]["field"], *field, "{path} {body}");
            }
        }
    }

    /// POSTs `path` with an empty body and the write key.
    pub async fn post_as_writer(&self, path: &str) -> Answer {
        self.post(path, Some(&self.write_key), "").await
    }

    /// How many publish jobs the store holds.
    pub async fn jobs_count(&self) -> i64 {
        let filter = halcytone_store::JobFilter {
            limit: 1,
            ..Default::default()
        };
        self.store.jobs(&filter).await.unwrap().1
    }

    pub async fn sync(&self, body: &str) -> Answer {
        self.post("/api/v2/content/sync", Some(&self.write_key), body)
            .await
    }

    /// Polls a job until it is terminal (or 20 s pass).
    pub async fn wait_job(&self, id: &str) -> Value {
        for _ in 0..800 {
            let a = self
                .get(&format!("/api/v2/jobs/{id}"), Some(&self.read_key))
                .await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.text);
            if matches!(
                a.body["status"].as_str(),
                Some("completed" | "partial" | "failed" | "cancelled")
            ) {
                return a.body;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("job {id} did not finish");
    }

    /// Syncs with `body` (which must be queued) and waits for the job, which must complete;
    /// the finished job.
    pub async fn publish(&self, body: &str) -> Value {
        let a = self.sync(body).await;
        assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.text);
        let job = self.wait_job(a.body["job_id"].as_str().unwrap()).await;
        assert_eq!(job["status"], "completed", "{job}");
        job
    }

    /// Asserts that the `/metrics` exposition holds `line` (a series and its value).
    pub async fn assert_metric(&self, line: &str) {
        let m = self.get("/metrics", None).await;
        assert!(m.text.contains(line), "no {line} in:\n{}", m.text);
    }

    /// The JSON a mock answers at `path` (relative to its base URL).
    pub async fn mock_json(&self, mock: &Url, path: &str) -> Value {
        get_json(&self.http, mock.join(path).unwrap()).await
    }

    /// Every recipient of the emails the mock CRM captured, in capture order.
    pub async fn emailed_recipients(&self) -> Vec<Value> {
        self.captures(&self.crm, "email")
            .await
            .iter()
            .flat_map(|c| {
                c["request"]["recipients"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect()
    }

    /// What a mock captured, by kind (email, content, social).
    pub async fn captures(&self, mock: &Url, kind: &str) -> Vec<Value> {
        let url = mock
            .join(&format!("api/v1/captures?kind={kind}&limit=1000"))
            .unwrap();
        let v: Value = get_json(&self.http, url).await;
        v["captures"].as_array().cloned().unwrap_or_default()
    }

    /// Sets a fault rule on a mock (`PUT /api/v1/faults`).
    pub async fn set_fault(&self, mock: &Url, rule: Value) {
        set_mock_fault(&self.http, mock, &rule).await;
    }

    /// Clears every fault rule of a mock.
    pub async fn clear_faults(&self, mock: &Url) {
        let r = self
            .http
            .delete(mock.join("api/v1/faults").unwrap())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
}

/// A WebSocket connection to the app.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl TestApp {
    /// `path` (with its query) on this app as a WebSocket URL.
    pub fn ws_url(&self, path: &str) -> String {
        format!("{}{path}", self.base.replace("http://", "ws://"))
    }

    /// Opens a WebSocket at `path` (with its query); the upgrade must be accepted.
    pub async fn ws(&self, path: &str) -> Ws {
        tokio_tungstenite::connect_async(self.ws_url(path))
            .await
            .unwrap()
            .0
    }

    /// Opens a WebSocket at `path` presenting `key` as a bearer token; the upgrade must be
    /// accepted.
    pub async fn ws_with_bearer(&self, path: &str, key: &str) -> Ws {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = self.ws_url(path).into_client_request().unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {key}").parse().unwrap());
        tokio_tungstenite::connect_async(req).await.unwrap().0
    }
}

/// The next text message of `ws` as JSON, pings and pongs skipped, within 10 s; a close frame
/// as `{"closed": [code, reason]}`, and Null when the connection ends.
pub async fn next_json(ws: &mut Ws) -> Value {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
        {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).unwrap(),
            Some(Ok(Message::Close(f))) => {
                return serde_json::json!({
                    "closed": f.map(|f| (u16::from(f.code), f.reason.to_string()))
                });
            }
            Some(Ok(_)) => continue,
            None | Some(Err(_)) => return Value::Null,
        }
    }
}

/// A Notion database page (category "App") as the database query returns it.
pub fn notion_app_page(created: &str, title: &str, content: &str, date: &str) -> Value {
    serde_json::json!({
        "object": "page",
        "id": "p1",
        "created_time": created,
        "properties": {
            "Name": {"type": "title", "title": [{"plain_text": title}]},
            "Content": {"type": "rich_text", "rich_text": [{"plain_text": content}]},
            "Category": {"type": "select", "select": {"name": "App"}},
            "Date": {"type": "date", "date": {"start": date}}
        }
    })
}

/// A Notion "query a database" request for database `db`, with Notion's version header.
pub fn notion_query(db: &str) -> wiremock::MockBuilder {
    use wiremock::matchers::{header, method, path};
    wiremock::Mock::given(method("POST"))
        .and(path(format!("/v1/databases/{db}/query").as_str()))
        .and(header("notion-version", "2022-06-28"))
}

/// Notion's answer to a database query: `pages`, and no more after them.
pub fn notion_results(pages: &[Value]) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "object": "list", "results": pages, "has_more": false, "next_cursor": null
    }))
}

/// The test configuration with the Notion API at `server`, called with the key `key`.
pub fn notion_config(server: &wiremock::MockServer, key: &str) -> ServerConfig {
    let mut c = config();
    c.sources.notion_api_key = Some(key.into());
    c.sources.notion_base_url = server.uri();
    c
}

/// Runs a test body once on SQLite and once on PostgreSQL (when configured).
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite)
                    .await
                    .unwrap();
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) =
                    $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await
                {
                    ($body)(app).await;
                }
            }
        }
    };
    // `both_backends!(fn name)`: runs `async fn name(backend: Backend)`, which starts its own
    // app (and returns when PostgreSQL is not configured), once on each backend.
    (fn $name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await;
            }
        }
    };
}
