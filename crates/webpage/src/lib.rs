//! What Halcytone's web consoles share — the mock services' console at `/` and the API's at
//! `/ui` — so their look and the rules that keep captured content inert are written once:
//!
//! - [`PAGE_CSP`] and [`security_headers`]: every console page loads scripts, styles and
//!   frames from its own origin only, and is never framed by another site;
//! - [`SANDBOX_CSP`] and [`sandboxed`]: captured or generated HTML is served alone under a
//!   `sandbox` policy (no script, opaque origin) and shown in a `sandbox=""` iframe;
//! - [`same_origin`]: a form post must come from the console's own pages;
//! - [`query`]: query strings and forms read with errors that name the parameter;
//! - [`templates`], [`embed_templates!`], [`render`], [`error_page`] and [`unrendered`]: the
//!   template environment, HTML-escaping every value, with `layout.html`, the page both
//!   consoles' `base.html` extend;
//! - [`stylesheet`]: the look both consoles share, before each console's own rules;
//! - [`social`] and `social_post.html`: a social post drawn as its network draws it;
//! - [`display_time`]: a stored time as people read it.
#![forbid(unsafe_code)]

pub mod query;
pub mod social;

/// The templates every console's environment holds besides its own: `layout.html`, the page
/// both consoles' `base.html` extend (head, header with navigation, flash messages, footer),
/// and `social_post.html`, a [`social::Post`] as its network draws it.
const SHARED_TEMPLATES: &[(&str, &str)] =
    embed_templates!("templates": "layout.html", "social_post.html");

/// The templates named, read from the folder `dir` of the calling crate and embedded at build
/// time, as `(name, source)` pairs for [`templates`]:
/// `embed_templates!("templates/ui": "base.html", "error.html")`.
#[macro_export]
macro_rules! embed_templates {
    ($dir:literal: $($name:literal),+ $(,)?) => {
        &[$((
            $name,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $dir, "/", $name)),
        )),+]
    };
}

/// The template environment of a console: every template is HTML whatever its name, so
/// captured or user-written text is always escaped, and a misspelt variable is an error rather
/// than an empty string. It holds the shared templates, then `sources`. A template that does
/// not compile is logged (each console has a test that compiles all of its templates), and
/// rendering it answers an error.
pub fn templates(sources: &[(&'static str, &'static str)]) -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
    for (name, source) in SHARED_TEMPLATES.iter().chain(sources) {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "a console template does not compile");
        }
    }
    env
}

/// Renders `template` with the layout's values — `section` marks the current navigation
/// entry, `title` names the page, `layout` holds what else the console's `base.html` reads —
/// and the page's own `ctx` (a name in both is the layout's).
pub fn render(
    env: &minijinja::Environment<'_>,
    template: &str,
    section: &str,
    title: &str,
    layout: minijinja::Value,
    ctx: minijinja::Value,
) -> Result<String, minijinja::Error> {
    let page = minijinja::context! { section, title };
    env.get_template(template)?
        .render(minijinja::context! { ..page, ..layout, ..ctx })
}

/// A console's error page: its `error.html` rendered with `status`, the status's name as
/// `title`, `layout` and `ctx`; should that fail, the status and its name as plain text.
pub fn error_page(
    env: &minijinja::Environment<'_>,
    status: StatusCode,
    layout: minijinja::Value,
    ctx: minijinja::Value,
) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let ctx = minijinja::context! { status => status.as_u16(), ..ctx };
    match render(env, "error.html", "", title, layout, ctx) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console: the error page did not render");
            (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("{} {title}", status.as_u16()),
            )
                .into_response()
        }
    }
}

/// What a console answers for a page whose template failed (the cause goes to the log, and
/// `see_log` tells the reader where to find it): a 500 and its message.
pub fn unrendered(e: &minijinja::Error, see_log: &str) -> (StatusCode, String) {
    tracing::error!(error = %e, "console: a page did not render");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("This page could not be rendered; {see_log}."),
    )
}

/// A stored RFC 3339 time as people read it (`2026-01-05 10:00:55 UTC`); other text as it is.
pub fn display_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// The rules both consoles' stylesheets start with (`assets/console.css`).
pub const BASE_CSS: &str = include_str!("../assets/console.css");

/// The look of social posts in both consoles (`assets/social.css`, see [`social`]).
pub const SOCIAL_CSS: &str = include_str!("../assets/social.css");

/// A console's one stylesheet: the shared [`BASE_CSS`] and [`SOCIAL_CSS`], then the console's
/// `own` rules, which may set the custom properties the base reads (`--page-width`,
/// `--card-width`).
pub fn stylesheet(own: &str) -> String {
    format!("{BASE_CSS}\n{SOCIAL_CSS}\n{own}")
}

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// The policy of every console page: nothing from elsewhere, no inline script or style.
pub const PAGE_CSP: &str = "default-src 'self'; frame-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'";

/// The policy of captured or generated HTML: a sandbox (no scripts, an opaque origin) that
/// may only load images and fonts and use inline styles (email HTML is styled inline).
pub const SANDBOX_CSP: &str = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data: https: http:; font-src https: data:";

/// Adds the console headers to an answer; one that set its own policy (sandboxed HTML) keeps
/// it. The referrer is sent to the console's own origin only: a browser then names the origin
/// of its form posts, which [`same_origin`] checks, and never tells another site where a
/// link came from.
pub async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        );
    }
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// HTML served alone under [`SANDBOX_CSP`], for a `sandbox=""` iframe.
pub fn sandboxed(html: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, SANDBOX_CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        html,
    )
        .into_response()
}

/// A form post from another site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrossSite;

/// The address a request reached this service at (`http://` and its `Host`), for links a page
/// or feed gives to itself; a missing or odd `Host` (not a name, an address and a port) gives
/// `http://localhost`.
pub fn request_origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// Whether a form post came from this origin.
///
/// A browser says so in `Sec-Fetch-Site` (`same-origin`, or `none` for something the user did
/// directly) and names the page's origin in `Origin`, which must then be this host. Under a
/// strict referrer policy a browser sends `Origin: null`; that passes only beside
/// `Sec-Fetch-Site: same-origin` or `none`. Tools that send neither header — curl, tests — are
/// let through: they still need whatever else the form asks for (a session and its token on
/// the API's console).
pub fn same_origin(headers: &HeaderMap) -> Result<(), CrossSite> {
    let mut fetch_site = headers.get_all("sec-fetch-site").iter().peekable();
    let vouched = fetch_site.peek().is_some();
    if !fetch_site.all(|s| matches!(s.to_str(), Ok("same-origin" | "none"))) {
        return Err(CrossSite);
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    for origin in headers.get_all(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if origin == "null" && vouched {
            continue;
        }
        let authority = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"));
        if host.is_empty() || authority != Some(host) {
            return Err(CrossSite);
        }
    }
    Ok(())
}

/// The viewport line Swagger UI's own page lacks: without it a phone lays the page out 980 px
/// wide and shrinks it to fit.
pub const VIEWPORT_META: &str =
    r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#;

/// Swagger UI as the API and the mocks mount it at `/docs`: `router` (utoipa-swagger-ui's, which
/// serves the upstream `index.html` unchanged) with [`VIEWPORT_META`] added to the head of each
/// HTML page it answers, so a phone lays it out at its own width.
pub fn swagger_ui(router: axum::Router) -> axum::Router {
    router.layer(axum::middleware::map_response(with_viewport))
}

/// `response` with [`VIEWPORT_META`] after `<head>` when it is an uncompressed HTML page
/// without one; anything else as it is.
async fn with_viewport(response: Response) -> Response {
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !html || response.headers().contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let page = match axum::body::to_bytes(body, 4 << 20).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            tracing::error!(error = %e, "docs: the Swagger UI page could not be read");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let page = if page.contains(r#"name="viewport""#) {
        page
    } else {
        page.replacen("<head>", &format!("<head>\n    {VIEWPORT_META}"), 1)
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(page))
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_origin_is_the_host_header_when_it_is_one() {
        let mut h = HeaderMap::new();
        assert_eq!(request_origin(&h), "http://localhost");
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8000"));
        assert_eq!(request_origin(&h), "http://127.0.0.1:8000");
        h.insert(header::HOST, HeaderValue::from_static("evil.example/<x>"));
        assert_eq!(request_origin(&h), "http://localhost");
    }
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn posts_from_this_origin_pass_and_others_do_not() {
        let host = ("host", "localhost:8000");
        for ok in [
            headers(&[host]),
            headers(&[host, ("origin", "http://localhost:8000")]),
            headers(&[host, ("sec-fetch-site", "same-origin")]),
            headers(&[host, ("sec-fetch-site", "none")]),
            // A browser under a strict referrer policy: the fetch metadata decides.
            headers(&[host, ("origin", "null"), ("sec-fetch-site", "same-origin")]),
        ] {
            assert_eq!(same_origin(&ok), Ok(()), "{ok:?}");
        }
        for bad in [
            headers(&[host, ("origin", "http://evil.example")]),
            headers(&[host, ("origin", "null")]),
            headers(&[host, ("sec-fetch-site", "cross-site")]),
            headers(&[host, ("sec-fetch-site", "same-site")]),
            headers(&[
                host,
                ("sec-fetch-site", "same-origin"),
                ("sec-fetch-site", "cross-site"),
            ]),
            headers(&[("origin", "http://localhost:8000")]),
            // A browser never sends these two together; whoever did is not to be believed.
            headers(&[
                host,
                ("origin", "http://evil.example"),
                ("sec-fetch-site", "same-origin"),
            ]),
        ] {
            assert_eq!(same_origin(&bad), Err(CrossSite), "{bad:?}");
        }
    }

    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(
            display_time("2026-01-05T10:00:55.123Z"),
            "2026-01-05 10:00:55 UTC"
        );
        assert_eq!(display_time("yesterday"), "yesterday");
    }

    #[test]
    fn the_layout_compiles_and_escapes() {
        let env = templates(&[(
            "error.html",
            "{% extends \"layout.html\" %}{% block content %}{{ message }}{% endblock %}",
        )]);
        let page = error_page(
            &env,
            StatusCode::NOT_FOUND,
            minijinja::context! {},
            minijinja::context! { message => "<b>" },
        );
        assert_eq!(page.status(), StatusCode::NOT_FOUND);
        let html = render(
            &env,
            "error.html",
            "",
            "<t>",
            minijinja::context! {},
            minijinja::context! { message => "<b>" },
        )
        .unwrap();
        assert!(html.contains("<title>&lt;t&gt; · </title>"), "{html}");
        assert!(
            html.contains("&lt;b&gt;") && !html.contains("<b>"),
            "{html}"
        );
    }

    #[tokio::test]
    async fn pages_get_the_headers_and_sandboxed_html_keeps_its_policy() {
        let page = security_headers("<p>hi</p>".into_response()).await;
        assert_eq!(page.headers()[header::CONTENT_SECURITY_POLICY], PAGE_CSP);
        assert_eq!(page.headers()[header::REFERRER_POLICY], "same-origin");
        assert_eq!(page.headers()[header::X_FRAME_OPTIONS], "SAMEORIGIN");
        let framed = security_headers(sandboxed("<script>x()</script>".into())).await;
        assert_eq!(
            framed.headers()[header::CONTENT_SECURITY_POLICY],
            SANDBOX_CSP
        );
        assert_eq!(
            framed.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
    }

    #[tokio::test]
    async fn swagger_pages_get_a_viewport_and_other_answers_do_not_change() {
        let body = |r: Response| async move {
            let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
            String::from_utf8(b.to_vec()).unwrap()
        };
        let page =
            "<!DOCTYPE html>\n<html>\n  <head>\n    <meta charset=\"UTF-8\">\n  </head></html>";
        let html = body(with_viewport(Html(page).into_response()).await).await;
        let expected = format!("<head>\n    {VIEWPORT_META}\n    <meta charset");
        assert!(html.contains(&expected), "{html}");
        let again = body(with_viewport(Html(html.clone()).into_response()).await).await;
        assert_eq!(again, html, "a page that has one keeps it");
        let script = ([(header::CONTENT_TYPE, "text/javascript")], "<head>").into_response();
        assert_eq!(body(with_viewport(script).await).await, "<head>");
    }
}
