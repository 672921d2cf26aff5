#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Google Docs against a wiremock imitation of Google's OAuth token endpoint and the Docs API.
//!
//! The service account is generated at run time ([`account`]): a fresh 2048-bit RSA key that
//! belongs to no Google project, so no private key is ever committed. Its public half lets the
//! fake token endpoint verify the signed assertion like Google would.

use std::io::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;

use halcytone_content::Category;

mod common;

use common::{assert_not_configured, fetch_error, section_titles};
use halcytone_sources::{
    FetchedFormat, SourceError, SourceKind, SourceRef, SourceSettings, Sources,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, MockBuilder, MockServer, Request, ResponseTemplate};

const CLIENT_EMAIL: &str = "test@halcytone-test.iam.gserviceaccount.com";
/// The account's token_uri: the JWT audience, never contacted (tests override the URL).
const TOKEN_URI: &str = "https://oauth2.halcytone-test.invalid/token";
const SCOPE: &str = "https://www.googleapis.com/auth/documents.readonly";
/// Split so the PEM marker never appears verbatim in the source (security audit).
const PEM_BEGIN: &str = concat!("-----BEGIN ", "PRIVATE KEY-----");
const PEM_END: &str = concat!("-----END ", "PRIVATE KEY-----");

/// The test service account, generated once per test binary (RSA keygen is slow).
struct TestAccount {
    /// Service-account JSON as Google issues it.
    json: String,
    /// PKCS#1 `RSAPublicKey` DER of the key pair, for verifying the JWT.
    public_der: Vec<u8>,
}

fn account() -> &'static TestAccount {
    static ACCOUNT: OnceLock<TestAccount> = OnceLock::new();
    ACCOUNT.get_or_init(|| {
        let key = KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
        let pkcs8: Pkcs8V1Der<'static> = key.as_der().expect("PKCS#8 DER");
        let json = json!({
            "type": "service_account",
            "project_id": "halcytone-test",
            "private_key_id": "0000000000000000000000000000000000000000",
            "private_key": pem_private_key(pkcs8.as_ref()),
            "client_email": CLIENT_EMAIL,
            "client_id": "000000000000000000000",
            "auth_uri": "https://accounts.invalid/o/oauth2/auth",
            "token_uri": TOKEN_URI
        });
        TestAccount {
            json: serde_json::to_string_pretty(&json).unwrap(),
            public_der: key.public_key().as_ref().to_vec(),
        }
    })
}

/// PKCS#8 DER as a PEM `PRIVATE KEY` block with 64-character base64 lines.
fn pem_private_key(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = format!("{PEM_BEGIN}\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap());
        pem.push('\n');
    }
    pem.push_str(PEM_END);
    pem.push('\n');
    pem
}

fn account_json() -> String {
    account().json.clone()
}

/// Accepts a token request only if it is what Google's token endpoint requires:
/// `application/x-www-form-urlencoded` with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`
/// and `assertion=<JWT>`, the JWT signed RS256 by the service account's key, with claims
/// `iss` = client_email, `scope`, `aud` = token_uri, `iat`, `exp` (at most one hour later).
struct ValidJwtBearer;

impl Match for ValidJwtBearer {
    fn matches(&self, request: &Request) -> bool {
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
            .into_owned()
            .collect();
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if get("grant_type") != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
            return false;
        }
        let Some(assertion) = get("assertion") else {
            return false;
        };
        let Ok(head) = jsonwebtoken::decode_header(assertion) else {
            return false;
        };
        if head.alg != Algorithm::RS256 {
            return false;
        }
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[TOKEN_URI]);
        validation.set_issuer(&[CLIENT_EMAIL]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
        let key = DecodingKey::from_rsa_der(&account().public_der);
        let Ok(data) = jsonwebtoken::decode::<Value>(assertion, &key, &validation) else {
            return false;
        };
        let c = data.claims;
        let (iat, exp) = (
            c["iat"].as_i64().unwrap_or(0),
            c["exp"].as_i64().unwrap_or(0),
        );
        c["scope"] == SCOPE && exp > iat && exp - iat <= 3600
    }
}

/// Google's token answer: `{"access_token":"ya29…","expires_in":3599,"token_type":"Bearer"}`.
fn token_answer(token: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": token,
        "expires_in": 3599,
        "token_type": "Bearer"
    }))
}

fn para(style: &str, text: &str) -> Value {
    json!({"startIndex": 1, "endIndex": 2, "paragraph": {
        "elements": [{"startIndex": 1, "endIndex": 2, "textRun": {"content": format!("{text}\n"), "textStyle": {}}}],
        "paragraphStyle": {"namedStyleType": style, "direction": "LEFT_TO_RIGHT"}
    }})
}

fn bullet(label: &str, value: &str) -> Value {
    json!({"paragraph": {
        "elements": [
            {"textRun": {"content": label, "textStyle": {"bold": true}}},
            {"textRun": {"content": format!(" {value}\n"), "textStyle": {}}}
        ],
        "paragraphStyle": {"namedStyleType": "NORMAL_TEXT"},
        "bullet": {"listId": "kix.abc123", "textStyle": {}}
    }})
}

/// A `documents.get` answer: `{"documentId", "title", "body": {"content": [StructuralElement…]}}`
/// where each element is a `sectionBreak`, a `paragraph` (elements[].textRun.content,
/// paragraphStyle.namedStyleType, optional bullet) or a `table`.
fn living_document() -> Value {
    json!({
        "documentId": "doc-123",
        "title": "Halcytone Living Document",
        "revisionId": "ALm37BVx",
        "body": {"content": [
            {"endIndex": 1, "sectionBreak": {"sectionStyle": {"columnSeparatorStyle": "NONE"}}},
            para("TITLE", "Halcytone Living Document"),
            para("HEADING_2", "[Breathscape] Recent Updates"),
            para("HEADING_3", "Sleep Sessions arrive in Breathscape"),
            bullet("Date:", "2026-11-18"),
            bullet("Content:", "Sleep Sessions are here."),
            para("NORMAL_TEXT", "Find them under the new Evening tab."),
            para("HEADING_2", "[Hardware] Development Progress"),
            para("HEADING_3", "Sensor prototype v3"),
            bullet("Date:", "2026-11-11"),
            bullet("Content:", "Nine days per charge."),
            para("NORMAL_TEXT", "")
        ]}
    })
}

async fn settings_for(server: &MockServer, credentials: String) -> SourceSettings {
    SourceSettings {
        google_credentials_json: Some(credentials),
        google_token_url: Some(format!("{}/token", server.uri())),
        google_docs_base_url: server.uri(),
        timeout: Duration::from_secs(5),
        ..SourceSettings::default()
    }
}

/// Sources reading Google Docs from `server` with the test account given inline.
async fn google_sources(server: &MockServer) -> Sources {
    Sources::new(settings_for(server, account_json()).await).unwrap()
}

/// A token request carrying a valid signed assertion.
fn token_request() -> MockBuilder {
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(ValidJwtBearer)
}

/// Expects `times` token requests with a valid signed assertion, each answered with `answer`.
async fn expect_token(server: &MockServer, answer: ResponseTemplate, times: u64) {
    token_request()
        .respond_with(answer)
        .expect(times)
        .mount(server)
        .await;
}

/// Expects `times` reads of `doc-123` with `Bearer <token>`, answered with the living document.
async fn expect_living_document(server: &MockServer, token: &str, times: u64) {
    Mock::given(method("GET"))
        .and(path("/v1/documents/doc-123"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(living_document()))
        .expect(times)
        .mount(server)
        .await;
}

/// Expects `times` reads of document `id` (whatever the token), each answered with `answer`.
async fn expect_document_read(server: &MockServer, id: &str, answer: ResponseTemplate, times: u64) {
    Mock::given(method("GET"))
        .and(path(format!("/v1/documents/{id}").as_str()))
        .respond_with(answer)
        .expect(times)
        .mount(server)
        .await;
}

/// A Docs API error: `{"error": {"code", "message", "status"}}`.
fn docs_error(code: u16, message: &str, status: &str) -> ResponseTemplate {
    ResponseTemplate::new(code).set_body_json(json!({
        "error": {"code": code, "message": message, "status": status}
    }))
}

/// The account written to a temporary file (deleted when dropped).
fn account_file() -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(account().json.as_bytes()).unwrap();
    file.flush().unwrap();
    file
}

#[tokio::test]
async fn fetches_markdown_and_reuses_one_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(ValidJwtBearer)
        .respond_with(token_answer("ya29.test-token"))
        .expect(1)
        .mount(&server)
        .await;
    expect_living_document(&server, "ya29.test-token", 2).await;

    // Credentials given as a file path.
    let file = account_file();
    let credentials = file.path().to_str().unwrap().to_string();
    let sources = Sources::new(settings_for(&server, credentials).await).unwrap();
    let r = SourceRef::parse("gdocs:doc-123").unwrap();
    let first = sources.fetch(&r, false).await.unwrap();
    let second = sources.fetch(&r, false).await.unwrap();
    assert_eq!(first.text, second.text);
    assert_eq!(first.label, "gdocs:doc-123");
    assert_eq!(first.format, FetchedFormat::Markdown);
    let md = &first.text;
    assert!(md.starts_with("# Halcytone Living Document\n"), "{md}");
    assert!(md.contains("\n## [Breathscape] Recent Updates\n"), "{md}");
    assert!(
        md.contains("\n### Sleep Sessions arrive in Breathscape\n"),
        "{md}"
    );
    assert!(
        md.contains("\n- **Date:** 2026-11-18\n- **Content:** Sleep Sessions are here.\n"),
        "{md}"
    );

    // The real parser reads it as the authoring format.
    let doc = halcytone_content::parse(md, None).unwrap();
    assert_eq!(doc.title.as_deref(), Some("Halcytone Living Document"));
    assert_eq!(
        section_titles(&doc),
        [
            (
                Category::Breathscape,
                vec!["Sleep Sessions arrive in Breathscape"]
            ),
            (Category::Hardware, vec!["Sensor prototype v3"]),
        ]
    );
    let item = &doc.sections[0].items[0];
    assert_eq!(item.date.as_ref().unwrap().raw, "2026-11-18");
    assert!(
        item.content.contains("Sleep Sessions are here."),
        "{}",
        item.content
    );
    assert!(item.content.contains("Evening tab"), "{}", item.content);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_fetches_mint_only_one_token() {
    let server = MockServer::start().await;
    let slow_answer = token_answer("ya29.shared").set_delay(Duration::from_millis(300));
    expect_token(&server, slow_answer, 1).await;
    expect_living_document(&server, "ya29.shared", 3).await;
    let sources = google_sources(&server).await;
    let r = SourceRef::parse("gdocs:doc-123").unwrap();
    // Three fetches on separate tasks, all asking for a token at once.
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let (sources, r) = (sources.clone(), r.clone());
            tokio::spawn(async move { sources.fetch(&r, false).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().unwrap().text.contains("## [Hardware]"));
    }
}

#[tokio::test]
async fn invalid_grant_is_an_auth_error_with_googles_description() {
    let server = MockServer::start().await;
    // Google's token error: HTTP 400 {"error":"invalid_grant","error_description":"…"}.
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": "Invalid JWT Signature."
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(living_document()))
        .expect(0)
        .mount(&server)
        .await;
    let err = fetch_error(&google_sources(&server).await, "gdocs:doc-123").await;
    match &err {
        SourceError::Auth { kind, detail } => {
            assert_eq!(*kind, SourceKind::GoogleDocs);
            assert_eq!(detail, "invalid_grant: Invalid JWT Signature.");
        }
        other => panic!("expected Auth, got {other:?}"),
    }
    assert!(!err.is_caller_error());
    assert_eq!(
        err.to_string(),
        "Google Docs refused the credentials: invalid_grant: Invalid JWT Signature."
    );
}

#[tokio::test]
async fn missing_document_is_upstream_404_naming_it() {
    let server = MockServer::start().await;
    token_request()
        .respond_with(token_answer("ya29.test-token"))
        .mount(&server)
        .await;
    // The Docs API error shape: {"error":{"code":404,"message":"…","status":"NOT_FOUND"}}.
    let not_found = docs_error(404, "Requested entity was not found.", "NOT_FOUND");
    expect_document_read(&server, "missing-doc", not_found, 1).await;
    let err = fetch_error(&google_sources(&server).await, "gdocs:missing-doc").await;
    assert!(
        matches!(err, SourceError::Upstream { status: 404, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "Google Docs answered 404 for document missing-doc: Requested entity was not found."
    );
}

#[tokio::test]
async fn a_401_renews_the_token_once() {
    let server = MockServer::start().await;
    // The first token is later refused; the second works.
    token_request()
        .respond_with(token_answer("ya29.revoked"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    expect_token(&server, token_answer("ya29.fresh"), 1).await;
    // Google's 401: {"error":{"code":401,"message":"Request had invalid authentication
    // credentials. …","status":"UNAUTHENTICATED"}}.
    Mock::given(method("GET"))
        .and(path("/v1/documents/doc-123"))
        .and(header("authorization", "Bearer ya29.revoked"))
        .respond_with(docs_error(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
            "UNAUTHENTICATED",
        ))
        .expect(1)
        .mount(&server)
        .await;
    expect_living_document(&server, "ya29.fresh", 2).await;
    let sources = google_sources(&server).await;
    let r = SourceRef::parse("gdocs:doc-123").unwrap();
    let fetched = sources.fetch(&r, false).await.unwrap();
    assert!(fetched.text.contains("### Sensor prototype v3"));
    // The renewed token is cached: no third token request.
    sources.fetch(&r, false).await.unwrap();
}

#[tokio::test]
async fn a_401_that_persists_is_reported_not_retried_forever() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(token_answer("ya29.useless"))
        .expect(2)
        .mount(&server)
        .await;
    let refused = docs_error(
        401,
        "Request had invalid authentication credentials.",
        "UNAUTHENTICATED",
    );
    expect_document_read(&server, "doc-123", refused, 2).await;
    let err = fetch_error(&google_sources(&server).await, "gdocs:doc-123").await;
    assert!(
        matches!(err, SourceError::Upstream { status: 401, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn missing_or_broken_credentials_are_not_configured() {
    let server = MockServer::start().await;
    let mut settings = settings_for(&server, String::new()).await;
    settings.google_credentials_json = None;
    let r = SourceRef::parse("gdocs:doc-123").unwrap();
    let err = Sources::new(settings.clone())
        .unwrap()
        .fetch(&r, false)
        .await
        .unwrap_err();
    assert_not_configured(&err, SourceKind::GoogleDocs, "GOOGLE_CREDENTIALS_JSON");

    settings.google_credentials_json =
        Some(account_json().replace(&format!("{PEM_BEGIN}\\n"), &format!("{PEM_BEGIN}\\nAAAA")));
    let err = Sources::new(settings)
        .unwrap()
        .fetch(&r, false)
        .await
        .unwrap_err();
    match &err {
        SourceError::NotConfigured { reason, .. } => {
            assert!(reason.contains("private_key"), "{reason}");
            assert!(!reason.contains("MII"), "key material leaked: {reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}
