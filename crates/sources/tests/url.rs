#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `url:` documents against wiremock (a plain web server serving a raw document) and, for
//! a body without Content-Length, a hand-written HTTP/1.1 server.

use std::time::{Duration, Instant};

use halcytone_sources::{FetchedFormat, SourceError, SourceRef, SourceSettings, Sources};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DOC: &str = "# Living doc\n\n## [Tips] Breathing\n\n### Box breathing\n- **Date:** 2026-11-06\n- **Content:** Four counts.\n";

fn open_settings() -> SourceSettings {
    SourceSettings {
        url_allow_private: true,
        timeout: Duration::from_secs(5),
        ..SourceSettings::default()
    }
}

fn url_ref(url: &str) -> SourceRef {
    SourceRef::parse(&format!("url:{url}")).unwrap()
}

async fn fetch(
    settings: SourceSettings,
    url: &str,
) -> Result<halcytone_sources::Fetched, SourceError> {
    Sources::new(settings)
        .unwrap()
        .fetch(&url_ref(url), false)
        .await
}

/// Fetches `url` with private addresses allowed, expecting it to fail.
async fn open_fetch_error(url: &str) -> SourceError {
    fetch(open_settings(), url).await.unwrap_err()
}

/// A server answering every GET with `answer`.
async fn answering_every_get(answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}

/// `GET from` answers `status` with `Location: to`.
async fn redirect(server: &MockServer, from: &str, status: u16, to: &str) {
    Mock::given(method("GET"))
        .and(path(from))
        .respond_with(ResponseTemplate::new(status).insert_header("location", to))
        .mount(server)
        .await;
}

/// A raw document server: `GET /doc.md` → 200, `Content-Type: text/markdown`, the text.
async fn doc_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/doc.md"))
        .respond_with(
            // set_body_raw: set_body_string would force text/plain.
            ResponseTemplate::new(200).set_body_raw(DOC, "text/markdown; charset=utf-8"),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn loopback_is_refused_by_default_without_a_request() {
    let server = doc_server().await;
    let err = fetch(
        SourceSettings::default(),
        &format!("{}/doc.md", server.uri()),
    )
    .await
    .unwrap_err();
    match &err {
        SourceError::Forbidden(m) => {
            assert!(m.contains("127.0.0.1") && m.contains("loopback"), "{m}");
            assert!(m.contains("URL_SOURCE_ALLOW_PRIVATE"), "{m}");
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
    assert!(err.is_caller_error());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_host_name_resolving_to_loopback_is_refused() {
    // Checked in the resolver the connection uses, so it cannot be rebound afterwards.
    let server = doc_server().await;
    let port = server.address().port();
    let err = fetch(
        SourceSettings::default(),
        &format!("http://localhost:{port}/doc.md"),
    )
    .await
    .unwrap_err();
    match &err {
        SourceError::Forbidden(m) => assert!(m.contains("loopback"), "{m}"),
        other => panic!("expected Forbidden, got {other:?}"),
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn private_address_is_refused_before_connecting() {
    let settings = SourceSettings {
        timeout: Duration::from_secs(3),
        ..SourceSettings::default()
    };
    let started = Instant::now();
    let err = fetch(settings, "http://10.1.2.3/doc.md").await.unwrap_err();
    match &err {
        SourceError::Forbidden(m) => {
            assert!(m.contains("10.1.2.3") && m.contains("private"), "{m}")
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "it tried to connect"
    );
}

#[tokio::test]
async fn allowed_when_private_addresses_are_allowed() {
    let server = doc_server().await;
    let fetched = fetch(open_settings(), &format!("{}/doc.md", server.uri()))
        .await
        .unwrap();
    assert_eq!(fetched.text, DOC);
    assert_eq!(fetched.format, FetchedFormat::Markdown);
    assert_eq!(fetched.label, format!("url:{}/doc.md", server.uri()));
}

#[tokio::test]
async fn content_types_give_formats() {
    let server = MockServer::start().await;
    for (p, ct, want) in [
        ("/a.json", "application/json", FetchedFormat::Json),
        ("/a.txt", "text/plain; charset=utf-8", FetchedFormat::Auto),
        ("/a.bin", "application/octet-stream", FetchedFormat::Auto),
    ] {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_raw("{\"content\": []}", ct))
            .mount(&server)
            .await;
        let fetched = fetch(open_settings(), &format!("{}{p}", server.uri()))
            .await
            .unwrap();
        assert_eq!(fetched.format, want, "{ct}");
    }
}

#[tokio::test]
async fn oversize_body_is_too_large() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/big.md"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(5000)))
        .mount(&server)
        .await;
    let settings = SourceSettings {
        url_max_bytes: 1000,
        ..open_settings()
    };
    let err = fetch(settings.clone(), &format!("{}/big.md", server.uri()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SourceError::TooLarge { limit: 1000, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("URL_SOURCE_MAX_BYTES"), "{err}");
    // Exactly at the limit is fine.
    Mock::given(method("GET"))
        .and(path("/exact.md"))
        .respond_with(ResponseTemplate::new(200).set_body_string("y".repeat(1000)))
        .mount(&server)
        .await;
    let ok = fetch(settings, &format!("{}/exact.md", server.uri()))
        .await
        .unwrap();
    assert_eq!(ok.text.len(), 1000);
}

/// Serves one response with no Content-Length (body until the connection closes), so only
/// the streaming cap can stop it. `None` streams without end until the client hangs up.
async fn unsized_server(body_len: Option<usize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = sock.read(&mut buf).await;
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n";
        let _ = sock.write_all(head.as_bytes()).await;
        let chunk = vec![b'z'; 1024];
        let mut sent = 0;
        while body_len.is_none_or(|n| sent < n) {
            if sock.write_all(&chunk).await.is_err() {
                break;
            }
            sent += chunk.len();
        }
        let _ = sock.shutdown().await;
    });
    format!("http://{addr}/stream.txt")
}

#[tokio::test]
async fn streamed_body_without_length_is_capped() {
    // An endless body: reading must stop at the cap, long before the 5 s timeout.
    let url = unsized_server(None).await;
    let settings = SourceSettings {
        url_max_bytes: 10_000,
        ..open_settings()
    };
    let err = fetch(settings, &url).await.unwrap_err();
    assert!(
        matches!(err, SourceError::TooLarge { limit: 10_000, .. }),
        "{err:?}"
    );

    let url = unsized_server(Some(2048)).await;
    let fetched = fetch(open_settings(), &url).await.unwrap();
    assert_eq!(fetched.text.len(), 2048);
}

#[tokio::test]
async fn slow_server_is_a_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/slow.md"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(DOC)
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let settings = SourceSettings {
        timeout: Duration::from_secs(1),
        ..open_settings()
    };
    let started = Instant::now();
    let err = fetch(settings, &format!("{}/slow.md", server.uri()))
        .await
        .unwrap_err();
    assert!(matches!(err, SourceError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(2500));
    assert!(err.to_string().contains("within 1 s"), "{err}");
}

#[tokio::test]
async fn server_error_is_upstream_with_status() {
    let server =
        answering_every_get(ResponseTemplate::new(500).set_body_string("database on fire")).await;
    let err = open_fetch_error(&format!("{}/doc.md", server.uri())).await;
    match &err {
        SourceError::Upstream { status, detail, .. } => {
            assert_eq!(*status, 500);
            assert_eq!(detail, "database on fire");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_caller_error());
}

#[tokio::test]
async fn html_page_is_malformed() {
    let sign_in = ResponseTemplate::new(200).set_body_raw(
        "<html><body>Sign in</body></html>",
        "text/html; charset=utf-8",
    );
    let server = answering_every_get(sign_in).await;
    let err = open_fetch_error(&format!("{}/doc", server.uri())).await;
    match &err {
        SourceError::Malformed { detail, .. } => {
            assert!(
                detail.contains("HTML") && detail.contains("raw Markdown"),
                "{detail}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn redirects_are_followed_up_to_three_times_and_rechecked() {
    let server = doc_server().await;
    let base = server.uri();
    // /r1 → /r2 → /r3 → /doc.md: three redirects, allowed.
    for (from, to) in [("/r1", "/r2"), ("/r2", "/r3"), ("/r3", "/doc.md")] {
        redirect(&server, from, 302, to).await;
    }
    let fetched = fetch(open_settings(), &format!("{base}/r1")).await.unwrap();
    assert_eq!(fetched.text, DOC);

    // /r0 → /r1 → …: four redirects, refused.
    redirect(&server, "/r0", 301, "/r1").await;
    let err = open_fetch_error(&format!("{base}/r0")).await;
    match &err {
        SourceError::Upstream { status, detail, .. } => {
            assert_eq!(*status, 302);
            assert!(detail.contains("more than 3 redirects"), "{detail}");
        }
        other => panic!("{other:?}"),
    }

    // A redirect to another scheme is refused even when private addresses are allowed.
    redirect(&server, "/to-file", 302, "file:///etc/passwd").await;
    let err = open_fetch_error(&format!("{base}/to-file")).await;
    assert!(matches!(err, SourceError::Forbidden(_)), "{err:?}");
}
