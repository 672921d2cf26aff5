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
        // The newsletter the job sent, checked as the mock inbox checks it.
        assert!(
            detail
                .body
                .contains("<h2 id=\"email-checks-heading\">Newsletter checks</h2>")
                && detail
                    .body
                    .contains("Worst finding: <span class=\"level level-"),
            "{}",
            detail.body
        );
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
        "/ui/schedules".into(),
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
    // Each network's post drawn as the network draws it, as the configured brand's, and the
    // posts that link to the web post carry its title in a link card.
    for network in ["twitter", "linkedin", "facebook", "instagram"] {
        let class = format!("<article class=\"card social-card card-{network}\"");
        assert!(p.body.contains(&class), "{class}");
    }
    for part in [
        "<strong class=\"post-name\">Halcytone</strong>",
        "<ul class=\"post-actions\" aria-hidden=\"true\">",
        "<div class=\"post-media\"><span>No image attached</span></div>",
    ] {
        assert!(p.body.contains(part), "{part}");
    }
    let link_card = "<p class=\"link-card-title\"><a href=\"#web-heading\">";
    assert!(
        p.body.matches(link_card).count() >= 3,
        "X, LinkedIn and Facebook link to the web post"
    );
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
    // The social posts carry the title too: escaped there as well, and nothing in them a link.
    let social = p.body.split("id=\"social-heading\"").nth(1).unwrap();
    assert!(
        social.contains("<p class=\"post-text\">") && social.contains("Launch &lt;script&gt;"),
        "{social}"
    );
    assert!(!social.contains("<a href=\"javascript"), "{social}");
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

/// Makes a schedule through the API; its id.
async fn schedule(app: &TestApp, body: serde_json::Value) -> String {
    let a = app
        .post_json("/api/v2/schedules", Some(&app.write_key), &body)
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body["schedule_id"].as_str().unwrap().to_string()
}

/// The days of a calendar page: each day's date and the markup of its cell.
fn calendar_days(body: &str) -> Vec<(String, String)> {
    let start = body
        .find(r#"<ol class="cal-days">"#)
        .unwrap_or_else(|| panic!("no calendar in {body}"));
    let grid = &body[start..start + body[start..].find("</ol>").unwrap()];
    grid.split(r#"data-date=""#)
        .skip(1)
        .map(|cell| (cell[..10].to_string(), cell[10..].to_string()))
        .collect()
}

/// A schedule's status as the API reads it.
async fn schedule_status(app: &TestApp, id: &str) -> serde_json::Value {
    app.get_as_reader(&format!("/api/v2/schedules/{id}"))
        .await
        .body["status"]
        .clone()
}

const MORNINGS: &str = "Berlin mornings";

both_backends!(
    the_schedules_calendar_shows_each_send_on_its_day,
    |app: TestApp| async move {
        use chrono::{Datelike, NaiveDate, Weekday};
        let id = schedule(
            &app,
            json!({ "name": MORNINGS, "cron": "0 9 * * MON,WED", "timezone": "Europe/Berlin", "channels": ["email"] }),
        )
        .await;
        let once = schedule(
            &app,
            json!({ "name": "Launch day", "scheduled_for": "2031-03-20T16:30:00Z", "channels": ["website"] }),
        )
        .await;
        let job = app
            .sync(r#"{"channels":["email"],"schedule_time":"2031-03-25T12:00:00Z"}"#)
            .await;
        assert_eq!(job.status, StatusCode::ACCEPTED, "{}", job.text);
        let job = job.body["job_id"].as_str().unwrap().to_string();

        let (mut reader, _) = signed_in(&app, &app.read_key).await;
        let p = reader
            .get("/ui/schedules?view=month&date=2031-03-10&tz=Europe/Berlin")
            .await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        assert_console_headers(&p);
        assert!(p.body.contains("March 2031"), "the month's name");
        assert!(
            p.body
                .contains(r#"href="/ui/schedules" aria-current="page""#),
            "the nav link"
        );
        let days = calendar_days(&p.body);
        assert_eq!(days.len(), 42, "six weeks: March 2031 starts on a Saturday");
        assert_eq!(days[0].0, "2031-02-24", "the grid starts on a Monday");
        for (date, cell) in &days {
            let d: NaiveDate = date.parse().unwrap();
            let expected = matches!(d.weekday(), Weekday::Mon | Weekday::Wed);
            assert_eq!(cell.contains(MORNINGS), expected, "{date}: {cell}");
            if expected {
                // 09:00 in Berlin before and after the clocks go forward (30 March 2031).
                assert!(cell.contains(">09:00</time>"), "{date}: {cell}");
                assert!(
                    cell.contains(&format!(r#"href="/ui/schedules/{id}""#)),
                    "{cell}"
                );
            }
            assert_eq!(cell.contains("Launch day"), date == "2031-03-20", "{date}");
            assert_eq!(cell.contains(&job), date == "2031-03-25", "{date}");
        }
        let launch = &days.iter().find(|d| d.0 == "2031-03-20").unwrap().1;
        assert!(
            launch.contains(">17:30</time>"),
            "16:30 UTC is 17:30 CET: {launch}"
        );
        assert!(launch.contains(&format!(r#"href="/ui/schedules/{once}""#)));
        let queued = &days.iter().find(|d| d.0 == "2031-03-25").unwrap().1;
        assert!(
            queued.contains(&format!(r#"href="/ui/jobs/{job}""#)),
            "{queued}"
        );
        assert!(queued.contains(">13:00</time>") && queued.contains("scheduled job"));
        // Previous, next and today keep the view and the zone.
        for link in [
            "/ui/schedules?view=month&amp;date=2031-02-01&amp;tz=Europe%2FBerlin",
            "/ui/schedules?view=month&amp;date=2031-04-01&amp;tz=Europe%2FBerlin",
            "/ui/schedules?view=month&amp;tz=Europe%2FBerlin",
            "/ui/schedules?view=week&amp;date=2031-03-10&amp;tz=Europe%2FBerlin",
        ] {
            assert!(p.body.contains(&format!(r#"href="{link}""#)), "{link}");
        }
        // The list below: both schedules, and no buttons for a key that may only read.
        assert!(p.body.contains("0 9 * * MON,WED") && p.body.contains("Europe/Berlin"));
        assert!(!p.body.contains("/pause\""), "no pause form for a reader");
        assert!(p.body.contains("needs a key with the write scope"));

        // The week of the change, shown in UTC: 09:00 CEST is 07:00 UTC.
        let week = reader.get("/ui/schedules?view=week&date=2031-04-02").await;
        assert_eq!(week.status, StatusCode::OK, "{}", week.body);
        let days = calendar_days(&week.body);
        let dates: Vec<&str> = days.iter().map(|d| d.0.as_str()).collect();
        assert_eq!(
            dates,
            [
                "2031-03-31",
                "2031-04-01",
                "2031-04-02",
                "2031-04-03",
                "2031-04-04",
                "2031-04-05",
                "2031-04-06"
            ]
        );
        assert!(days[0].1.contains(">07:00</time>"), "{}", days[0].1);
        assert!(days[2].1.contains(MORNINGS) && !days[1].1.contains(MORNINGS));

        // One schedule's page: its facts and its next ten times.
        let page = reader.get(&format!("/ui/schedules/{id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains(MORNINGS) && page.body.contains("0 9 * * MON,WED"));
        let upcoming = page.body.split(r#"<ol class="upcoming">"#).nth(1).unwrap();
        let upcoming = &upcoming[..upcoming.find("</ol>").unwrap()];
        assert_eq!(upcoming.matches("<li>").count(), 10, "{upcoming}");
        assert!(
            upcoming.contains(" 09:00 CE"),
            "local times in the zone: {upcoming}"
        );
        assert!(page.body.contains("No run yet."));

        // Unknown schedules are the console's 404; bad values a 400 page naming them.
        let missing = reader.get("/ui/schedules/sch_nope").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(missing.body.contains("<h1>404") && missing.body.contains("sch_nope"));
        for (bad, says) in [
            (
                "tz=Mars/Olympus",
                "tz: timezone: &#x27;Mars/Olympus&#x27; is not an IANA time zone",
            ),
            (
                "date=2031-02-30",
                "date: &#x27;2031-02-30&#x27; is not a day",
            ),
            ("date=next+week", "date: &#x27;next week&#x27; is not a day"),
            ("date=0001-01-01", "date:"),
            (
                "view=year",
                "view: &#x27;year&#x27; is not one of month, week",
            ),
        ] {
            let p = reader.get(&format!("/ui/schedules?{bad}")).await;
            assert_eq!(p.status, StatusCode::BAD_REQUEST, "{bad}");
            assert!(p.body.contains("<h1>400"), "{bad}: {}", p.body);
            assert!(p.body.contains(says), "{bad}: {}", p.body);
        }
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_are_paused_and_resumed_from_the_console() {
    let app = sqlite().await;
    let id = schedule(
        &app,
        json!({ "name": MORNINGS, "cron": "0 9 * * MON,WED", "timezone": "Europe/Berlin" }),
    )
    .await;
    let pause = format!("/ui/schedules/{id}/pause");
    let resume = format!("/ui/schedules/{id}/resume");

    // A key that may only read sees no button, and its post is refused.
    let (mut reader, reader_csrf) = signed_in(&app, &app.read_key).await;
    let page = reader.get(&format!("/ui/schedules/{id}")).await;
    assert!(!page.body.contains(&format!(r#"action="{pause}""#)));
    assert!(page.body.contains("needs a key with the write scope"));
    let p = reader.submit(&pause, &[("csrf", &reader_csrf)]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(
        schedule_status(&app, &id).await,
        "active",
        "the reader changed nothing"
    );

    // A writer pauses from the calendar and comes back to the same view.
    let (mut b, csrf) = signed_in(&app, &app.write_key).await;
    let view = "/ui/schedules?view=week&date=2031-04-02&tz=Europe%2FBerlin";
    let list = b.get(view).await;
    assert!(
        list.body.contains(&format!(r#"action="{pause}""#)),
        "{}",
        list.body
    );
    assert!(list.body.contains(&format!(
        r#"name="back" value="{}""#,
        view.replace('&', "&amp;")
    )));
    assert!(!list.body.contains(&format!(r#"action="{resume}""#)));
    let p = b.submit(&pause, &[("csrf", &csrf), ("back", view)]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    p.assert_location_starts_with(&format!("{view}&ok="));
    assert_eq!(schedule_status(&app, &id).await, "paused");
    let shown = b.get(p.location()).await;
    assert!(shown.body.contains("is paused"), "the flash message");
    assert!(shown.body.contains(&format!(r#"action="{resume}""#)));
    let days = calendar_days(&shown.body);
    assert!(
        days[0].1.contains("cal-paused") && days[0].1.contains("(paused)"),
        "{}",
        days[0].1
    );

    // Resumed from its own page, which it comes back to; resuming it again is refused with
    // the API's reason.
    let back = format!("/ui/schedules/{id}");
    let p = b.submit(&resume, &[("csrf", &csrf), ("back", &back)]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    p.assert_location_starts_with(&format!("{back}?ok="));
    assert_eq!(schedule_status(&app, &id).await, "active");
    let p = b.submit(&resume, &[("csrf", &csrf), ("back", &back)]).await;
    p.assert_location_starts_with(&format!("{back}?error="));
    assert!(
        b.get(p.location())
            .await
            .body
            .contains("only a paused schedule can be resumed")
    );
    // A form cannot send the browser elsewhere; an unknown schedule is a 404 page.
    let p = b
        .submit(
            &pause,
            &[("csrf", &csrf), ("back", "https://evil.example/")],
        )
        .await;
    p.assert_location_starts_with("/ui/schedules?ok=");
    let p = b
        .submit("/ui/schedules/sch_nope/pause", &[("csrf", &csrf)])
        .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    let p = b.submit(&resume, &[]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "no token");
}
