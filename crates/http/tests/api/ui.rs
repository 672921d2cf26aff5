//! The web console at `/ui`: sign-in and sessions, CSRF and cross-site refusals, the preview
//! with its sandboxed frames and escaped document text, jobs with retry and cancel, and the
//! review queue with approve and reject — driven as a browser without JavaScript would.

use crate::both_backends;
use crate::helpers::*;
use halcytone_http::console::{PAGE_CSP, SANDBOX_CSP};
use halcytone_store::Scope;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::json;

/// A browser with no JavaScript: follows no redirect by itself, keeps the session cookie.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    /// Asserts that the page redirects to a location starting with `prefix`.
    #[track_caller]
    fn assert_location_starts_with(&self, prefix: &str) {
        let location = self.location();
        assert!(location.starts_with(prefix), "{location}");
    }

    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The CSRF token the page's forms carry.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no CSRF field in {}", self.body));
        let rest = &self.body[at + 19..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

impl Browser {
    fn new(app: &TestApp) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.base.clone(),
            cookie: None,
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = match &self.cookie {
            Some(c) => req.header("Cookie", c),
            None => req,
        };
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        if let Some(c) = headers.get(SET_COOKIE).and_then(|v| v.to_str().ok()) {
            let pair = c.split(';').next().unwrap().to_string();
            self.cookie = (!pair.ends_with('=')).then_some(pair);
        }
        // minijinja writes "/" as "&#x2f;" in escaped text; a browser reads it as "/".
        Page {
            status,
            headers,
            body: resp.text().await.unwrap().replace("&#x2f;", "/"),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    /// Posts a form from this site (`Origin` and `Sec-Fetch-Site` as a browser sends them),
    /// plus any `extra` headers.
    /// Submits a form from this site as a browser does (no extra headers).
    async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post(path, fields, &[]).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)], extra: &[(&str, &str)]) -> Page {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let host = self.base.trim_start_matches("http://").to_string();
        let mut headers = HeaderMap::new();
        headers.insert("origin", format!("http://{host}").parse().unwrap());
        headers.insert("sec-fetch-site", "same-origin".parse().unwrap());
        for (k, v) in extra {
            headers.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .headers(headers)
            .body(body);
        self.send(req).await
    }

    async fn login(&mut self, key: &str, next: &str) -> Page {
        self.submit("/ui/login", &[("api_key", key), ("next", next)])
            .await
    }
}

/// A signed-in browser and the CSRF token of its session.
async fn signed_in(app: &TestApp, key: &str) -> (Browser, String) {
    let mut b = Browser::new(app);
    let p = b.login(key, "/ui").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let csrf = b.get("/ui").await.csrf();
    (b, csrf)
}

fn assert_console_headers(p: &Page) {
    let h = |name: &str| p.headers.get(name).and_then(|v| v.to_str().ok());
    assert_eq!(h("content-security-policy"), Some(PAGE_CSP));
    assert_eq!(h("x-frame-options"), Some("SAMEORIGIN"));
    assert_eq!(h("x-content-type-options"), Some("nosniff"));
    assert_eq!(h("referrer-policy"), Some("same-origin"));
    assert_eq!(h("cache-control"), Some("no-store"));
    assert!(
        h("x-correlation-id").is_some(),
        "the edge middleware applies"
    );
}

async fn pending_job(app: &TestApp) -> String {
    let a = app
        .sync(r#"{"channels":["email"],"schedule_time":"2099-01-01T00:00:00Z"}"#)
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.text);
    a.body["job_id"].as_str().unwrap().to_string()
}

async fn sqlite() -> TestApp {
    spawn_app(Backend::Sqlite).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_key_is_401_with_the_form_again_and_no_cookie() {
    let app = sqlite().await;
    let mut b = Browser::new(&app);
    let p = b.login("hk_wrong-key-typed-here", "/ui/jobs").await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(p.headers.get(SET_COOKIE).is_none());
    assert!(
        p.body.contains("not valid or has been revoked"),
        "{}",
        p.body
    );
    assert!(p.body.contains(r#"name="api_key""#), "the form again");
    assert!(p.body.contains(r#"value="/ui/jobs""#), "next is kept");
    assert!(
        !p.body.contains("hk_wrong-key-typed-here"),
        "the key is not echoed"
    );
    assert_console_headers(&p);
    let empty = b.login("", "/ui").await;
    assert_eq!(empty.status, StatusCode::UNAUTHORIZED);
    assert!(b.cookie.is_none());
    // Not signed in, a listing sends the browser to the sign-in form and back.
    let p = b.get("/ui/jobs?status=failed").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(
        p.location(),
        "/ui/login?next=%2Fui%2Fjobs%3Fstatus%3Dfailed"
    );
}

both_backends!(
    the_write_key_signs_in_and_sees_jobs_made_through_the_api,
    |app: TestApp| async move {
        let job = app.sync(r#"{"channels":["email","website"]}"#).await.body["job_id"]
            .as_str()
            .unwrap()
            .to_string();
        app.wait_job(&job).await;
        let mut b = Browser::new(&app);
        let p = b.login(&app.write_key, "/ui/jobs").await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        assert_eq!(p.location(), "/ui/jobs");
        let cookie = p.headers.get(SET_COOKIE).unwrap().to_str().unwrap();
        assert!(cookie.starts_with("halcytone_ui="), "{cookie}");
        for attr in ["HttpOnly", "SameSite=Strict", "Path=/ui"] {
            assert!(cookie.contains(attr), "{cookie} has {attr}");
        }
        assert!(!cookie.contains(&app.write_key));
        let list = b.get("/ui/jobs").await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        assert!(list.body.contains(&job), "{}", list.body);
        assert_console_headers(&list);
        let completed = b.get("/ui/jobs?status=completed").await;
        assert!(completed.body.contains(&job));
        let failed = b.get("/ui/jobs?status=failed").await;
        assert!(!failed.body.contains(&job));
        let detail = b.get(&format!("/ui/jobs/{job}")).await;
        assert_eq!(detail.status, StatusCode::OK);
        let api = app.get_as_reader(&format!("/api/v2/jobs/{job}")).await;
        assert!(
            detail
                .body
                .contains(api.body["correlation_id"].as_str().unwrap())
        );
        assert!(detail.body.contains("email:batch-1") || detail.body.contains("email"));
        for bad in [
            "/ui/jobs?status=bogus",
            "/ui/jobs?page=0",
            "/ui/jobs?page=x",
        ] {
            let p = b.get(bad).await;
            assert_eq!(p.status, StatusCode::BAD_REQUEST, "{bad}");
            assert!(p.body.contains("<h1>400"), "an HTML page: {}", p.body);
        }
        let missing = b.get("/ui/jobs/job_nope").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(missing.body.contains("job_nope"));
        // Signing out ends the session: the old cookie no longer opens a page.
        let csrf = list.csrf();
        let old = b.cookie.clone();
        let out = b.submit("/ui/logout", &[("csrf", &csrf)]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        out.assert_location_starts_with("/ui/login");
        b.cookie = old;
        assert_eq!(b.get("/ui/jobs").await.status, StatusCode::SEE_OTHER);
    }
);

both_backends!(
    revoking_a_key_ends_its_console_sessions,
    |app: TestApp| async move {
        let (key, secret) = app
            .store
            .create_api_key("reviewer", &[Scope::Write], 0)
            .await
            .unwrap();
        let (mut b, csrf) = signed_in(&app, &secret).await;
        let (mut other, _) = signed_in(&app, &app.write_key).await;
        assert_eq!(b.get("/ui/jobs").await.status, StatusCode::OK);
        // Revoked through the store, as `halcytone keys revoke` does from another process.
        assert!(app.store.revoke_api_key(&key.id, 1).await.unwrap());
        let p = b.get("/ui/jobs").await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        assert_eq!(p.location(), "/ui/login?next=%2Fui%2Fjobs");
        let job = pending_job(&app).await;
        let cancel = b
            .submit(&format!("/ui/jobs/{job}/cancel"), &[("csrf", &csrf)])
            .await;
        assert_eq!(cancel.status, StatusCode::SEE_OTHER);
        cancel.assert_location_starts_with("/ui/login");
        let api = app.get_as_reader(&format!("/api/v2/jobs/{job}")).await;
        assert_eq!(
            api.body["status"], "pending",
            "the revoked session changed nothing"
        );
        // Signing in again with the revoked key is refused; other keys' sessions go on.
        assert_eq!(
            b.login(&secret, "/ui").await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(other.get("/ui/jobs").await.status, StatusCode::OK);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_without_the_token_or_from_another_site_are_refused() {
    let app = sqlite().await;
    let job = pending_job(&app).await;
    let (mut b, csrf) = signed_in(&app, &app.write_key).await;
    let cancel = format!("/ui/jobs/{job}/cancel");
    let p = b.submit(&cancel, &[]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "no token");
    let p = b
        .submit(&cancel, &[("csrf", "0".repeat(64).as_str())])
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "a wrong token");
    // The right token from another site: refused whichever header says so.
    for (header, why, page_says) in [
        (
            ("Origin", "http://evil.example"),
            "another origin",
            Some("another site"),
        ),
        (("Sec-Fetch-Site", "cross-site"), "a cross-site fetch", None),
    ] {
        let p = b.post(&cancel, &[("csrf", &csrf)], &[header]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{why}");
        if let Some(text) = page_says {
            assert!(p.body.contains(text), "{}", p.body);
        }
    }
    let p = b
        .post(
            "/ui/login",
            &[("api_key", &app.write_key)],
            &[("Origin", "https://evil.example")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "a cross-site sign-in");
    let api = app.get_as_reader(&format!("/api/v2/jobs/{job}")).await;
    assert_eq!(api.body["status"], "pending", "nothing was cancelled");
    // Another session's token does not do either.
    let (_, other) = signed_in(&app, &app.write_key).await;
    let p = b.submit(&cancel, &[("csrf", &other)]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    // A post with no session goes to the sign-in form.
    let mut anonymous = Browser::new(&app);
    let p = anonymous.submit(&cancel, &[("csrf", &csrf)]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    p.assert_location_starts_with("/ui/login?next=");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_and_cancel_buttons_do_what_the_api_does() {
    let app = sqlite().await;
    let job = pending_job(&app).await;
    let (mut reader, reader_csrf) = signed_in(&app, &app.read_key).await;
    let page = reader.get(&format!("/ui/jobs/{job}")).await;
    assert!(page.body.contains("needs a key with the write scope"));
    let p = reader
        .submit(&format!("/ui/jobs/{job}/cancel"), &[("csrf", &reader_csrf)])
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "read scope cannot cancel");

    let (mut b, csrf) = signed_in(&app, &app.write_key).await;
    // Retrying a pending job: the API's refusal, as a flash message.
    let early = b
        .submit(&format!("/ui/jobs/{job}/retry"), &[("csrf", &csrf)])
        .await;
    assert_eq!(early.status, StatusCode::SEE_OTHER);
    assert!(early.location().contains("?error="), "{}", early.location());
    assert!(
        b.get(early.location())
            .await
            .body
            .contains("only failed, partial or cancelled jobs can")
    );
    let page = b.get(&format!("/ui/jobs/{job}")).await;
    assert!(
        page.body
            .contains(&format!(r#"action="/ui/jobs/{job}/cancel""#))
    );
    assert!(
        !page
            .body
            .contains(&format!(r#"action="/ui/jobs/{job}/retry""#))
    );
    let p = b
        .submit(&format!("/ui/jobs/{job}/cancel"), &[("csrf", &csrf)])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    p.assert_location_starts_with(&format!("/ui/jobs/{job}?ok="));
    let api = app.get_as_reader(&format!("/api/v2/jobs/{job}")).await;
    assert_eq!(api.body["status"], "cancelled");
    let shown = b.get(p.location()).await;
    assert!(shown.body.contains("was cancelled"), "the flash message");
    let p = b
        .submit(&format!("/ui/jobs/{job}/retry"), &[("csrf", &csrf)])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let new_id = p
        .location()
        .trim_start_matches("/ui/jobs/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(new_id, job);
    let new = app.get_as_reader(&format!("/api/v2/jobs/{new_id}")).await;
    assert_eq!(new.status, StatusCode::OK, "{}", new.text);
    assert_eq!(new.body["metadata"]["retry_of"], job.as_str());
    let shown = b.get(p.location()).await;
    assert!(shown.body.contains("Retry of"));
    let unknown = b
        .submit("/ui/jobs/job_nope/retry", &[("csrf", &csrf)])
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_never_leaves_the_console() {
    let app = sqlite().await;
    for evil in [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "/ui/../api/v2/jobs",
        "/api/v2/jobs",
    ] {
        let mut b = Browser::new(&app);
        let p = b.login(&app.read_key, evil).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER);
        assert_eq!(p.location(), "/ui", "{evil}");
        let form = Browser::new(&app)
            .get(&format!("/ui/login?next={}", evil.replace('/', "%2F")))
            .await;
        assert!(form.body.contains(r#"name="next" value="/ui""#), "{evil}");
    }
    let mut b = Browser::new(&app);
    let p = b.login(&app.read_key, "/ui/reviews").await;
    assert_eq!(p.location(), "/ui/reviews");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_never_appears_in_a_page() {
    let app = sqlite().await;
    let job = pending_job(&app).await;
    let mut b = Browser::new(&app);
    let p = b.login(ADMIN_KEY, "/ui").await;
    let cookie = p.headers.get(SET_COOKIE).unwrap().to_str().unwrap();
    assert!(!cookie.contains(ADMIN_KEY));
    for path in [
        "/ui".to_string(),
        "/ui/login".into(),
        "/ui/preview".into(),
        "/ui/jobs".into(),
        format!("/ui/jobs/{job}"),
        "/ui/reviews".into(),
        "/ui/nothing-here".into(),
        "/ui/jobs?page=-1".into(),
    ] {
        let p = b.get(&path).await;
        assert!(p.status.as_u16() < 500, "{path}: {}", p.body);
        assert!(!p.body.contains(ADMIN_KEY), "{path} shows the key");
        if p.status.is_success() {
            assert!(
                p.body.contains("env:API_KEY"),
                "{path} names the key by its id"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_and_errors_are_html_pages() {
    let app = sqlite().await;
    let mut b = Browser::new(&app);
    let p = b.get("/ui").await;
    assert_eq!(p.status, StatusCode::OK);
    assert_console_headers(&p);
    assert!(p.body.contains("dry run"));
    assert!(p.body.contains("sqlite"));
    assert!(
        p.body.contains(&format!(r#"href="{}""#, app.crm)),
        "mock CRM console link"
    );
    assert!(p.body.contains(&format!(r#"href="{}""#, app.platform)));
    assert!(p.body.contains(r##"<a class="skip-link" href="#main">"##));
    assert!(p.body.contains("<main") && p.body.contains("<nav"));
    let css = b.get("/ui/style.css").await;
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(css.body.contains(":focus-visible"));
    let (mut signed, _) = signed_in(&app, &app.read_key).await;
    let undecodable = signed.get("/ui/jobs/%FF").await;
    assert_eq!(undecodable.status, StatusCode::BAD_REQUEST);
    assert!(undecodable.body.contains("<h1>400"), "{}", undecodable.body);
    let missing = b.get("/ui/nothing-here").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("<h1>404"));
    assert_console_headers(&missing);
    let wrong = b.submit("/ui/preview", &[]).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong.body.contains("<h1>405"));
    // The API keeps its JSON answers.
    let api = app.get("/api/v2/nothing", None).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert!(api.body["detail"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preview_shows_every_channel_with_sandboxed_html() {
    let app = sqlite().await;
    let mut b = Browser::new(&app);
    let p = b.get("/ui/preview").await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert_console_headers(&p);
    assert!(
        p.body
            .contains(r#"<iframe class="preview" sandbox="" src="/ui/preview/newsletter.html""#),
        "{}",
        p.body
    );
    assert!(p.body.contains(r#"sandbox="" src="/ui/preview/web.html""#));
    for network in ["X (Twitter)", "LinkedIn", "Facebook", "Instagram"] {
        assert!(p.body.contains(network), "{network}");
    }
    assert!(p.body.contains("/ 280"), "the X limit");
    assert!(p.body.contains("SEO score"));
    let html = b.get("/ui/preview/newsletter.html").await;
    assert_eq!(html.status, StatusCode::OK);
    assert_eq!(
        html.headers["content-security-policy"].to_str().unwrap(),
        SANDBOX_CSP
    );
    assert!(html.body.contains("<html") || html.body.contains("<table"));
    let web = b.get("/ui/preview/web.html?tone=encouraging").await;
    assert_eq!(
        web.headers["content-security-policy"].to_str().unwrap(),
        SANDBOX_CSP
    );
    let chosen = b
        .get("/ui/preview?tone=encouraging&template_style=minimal")
        .await;
    assert!(
        chosen
            .body
            .contains("/ui/preview/newsletter.html?tone=encouraging&amp;template_style=minimal")
    );
    assert!(chosen.body.contains(r#"<option value="minimal" selected>"#));
    let bad = b.get("/ui/preview?tone=shouty").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("tone: &#x27;shouty&#x27; is not one of") || bad.body.contains("tone:"),
        "{}",
        bad.body
    );
    let bad = b
        .get("/ui/preview/newsletter.html?template_style=fancy")
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_markup_is_escaped_in_the_preview() {
    let doc = "# Weekly\n\n## [Breathscape] Updates\n\n### Launch <script>window.pwned=1</script>\n- **Date:** 2026-11-20\n- **Content:** Read [the notes](javascript:alert(1)) and <script>window.pwned=1</script> before the session; a plain update with enough words.\n";
    let mut config = config();
    config.document = halcytone_http::DocumentSource::Inline {
        label: "hostile".into(),
        text: doc.into(),
    };
    let app = spawn_app_with(Backend::Sqlite, config).await.unwrap();
    let mut b = Browser::new(&app);
    let p = b.get("/ui/preview").await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(!p.body.contains("<script>window.pwned"), "{}", p.body);
    assert!(!p.body.contains("<script"), "no script element at all");
    assert!(!p.body.contains(r#"href="javascript:"#));
    assert!(
        p.body
            .contains("&lt;script&gt;window.pwned=1&lt;/script&gt;"),
        "the title is shown, escaped"
    );
    // The generated HTML itself is only served under the sandbox policy.
    let html = b.get("/ui/preview/newsletter.html").await;
    assert_eq!(
        html.headers["content-security-policy"].to_str().unwrap(),
        SANDBOX_CSP
    );
}

/// An L2 document (a featured item): two reviewers, neither of them the submitter.
const L2_DOC: &str = "# Weekly\n\n## [Breathscape] Updates\n\n### Something new\n<!-- featured: true -->\n- **Date:** 2026-11-20\n- **Content:** A plain update with enough words in it to be a real item of news for the week.\n";

/// With `APPROVAL_REQUIRED`, on SQLite and (when configured) PostgreSQL.
async fn approval_app(backend: Backend) -> Option<TestApp> {
    let mut config = config();
    config.approval_required = true;
    spawn_app_with(backend, config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_is_approved_from_the_console_sqlite() {
    approve_from_the_console(approval_app(Backend::Sqlite).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_is_approved_from_the_console_postgres() {
    if let Some(app) = approval_app(Backend::Postgres).await {
        approve_from_the_console(app).await;
    }
}

async fn approve_from_the_console(app: TestApp) {
    let submitter = app.write_key.clone();
    let v = app
        .post_json(
            "/api/v2/content",
            Some(&submitter),
            &json!({ "document": L2_DOC, "channels": ["email", "website"], "submit": true }),
        )
        .await;
    assert_eq!(v.status, StatusCode::CREATED, "{}", v.text);
    assert_eq!(v.body["status"], "in_review");
    assert_eq!(v.body["review"]["level"], "L2");
    let id = v.body["content_id"].as_str().unwrap().to_string();
    let approve = format!("/ui/reviews/{id}/approve");

    // The submitter cannot approve their own L2 version: the API's message is shown.
    let (mut own, own_csrf) = signed_in(&app, &submitter).await;
    let p = own.submit(&approve, &[("csrf", &own_csrf)]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    p.assert_location_starts_with("/ui/reviews?error=");
    let shown = own.get(p.location()).await;
    assert!(shown.body.contains("you submitted it"), "{}", shown.body);

    // The admin sees it waiting, with its level and who submitted it, and approves.
    let (mut admin, admin_csrf) = signed_in(&app, ADMIN_KEY).await;
    let list = admin.get("/ui/reviews").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains(&id) && list.body.contains("L2"));
    assert!(list.body.contains("0 of 2"), "{}", list.body);
    let p = admin
        .submit(&approve, &[("csrf", &admin_csrf), ("note", "fine by me")])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    p.assert_location_starts_with("/ui/reviews?ok=");
    let api = app.get_as_reader(&format!("/api/v2/content/{id}")).await;
    assert_eq!(api.body["status"], "in_review");
    assert_eq!(api.body["review"]["approvals"][0]["by"], "env:API_KEY");
    assert_eq!(api.body["review"]["approvals"][0]["note"], "fine by me");

    // A reject without a reason is refused with the API's rule.
    let p = admin
        .submit(
            &format!("/ui/reviews/{id}/reject"),
            &[("csrf", &admin_csrf)],
        )
        .await;
    assert!(
        admin
            .get(p.location())
            .await
            .body
            .contains("reason: say why")
    );

    // The version's page shows its content, the newsletter in a sandboxed frame.
    let page = admin.get(&format!("/ui/reviews/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&format!(
        r#"sandbox="" src="/ui/reviews/{id}/newsletter.html""#
    )));
    let html = admin
        .get(&format!("/ui/reviews/{id}/newsletter.html"))
        .await;
    assert_eq!(
        html.headers["content-security-policy"].to_str().unwrap(),
        SANDBOX_CSP
    );
    assert_eq!(
        admin.get("/ui/reviews/cv_nope").await.status,
        StatusCode::NOT_FOUND
    );

    // A second reviewer, from the version's page: approved.
    let second_key = app.new_writer_key("second").await;
    let (mut second, second_csrf) = signed_in(&app, &second_key).await;
    let back = format!("/ui/reviews/{id}");
    let p = second
        .submit(&approve, &[("csrf", &second_csrf), ("back", &back)])
        .await;
    p.assert_location_starts_with(&format!("{back}?ok="));
    let api = app.get_as_reader(&format!("/api/v2/content/{id}")).await;
    assert_eq!(api.body["status"], "approved", "{}", api.text);
    let decided = second.get("/ui/reviews").await;
    assert!(decided.body.contains("Recently decided") && decided.body.contains(&id));
    assert!(
        decided.body.contains("requires approval"),
        "APPROVAL_REQUIRED is said"
    );
}
