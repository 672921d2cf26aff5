//! EMAIL_TRANSPORT=smtp against the mock CRM and its SMTP capture on random ports: the message
//! a subscriber gets, one message per subscriber through `Publishing`, no second capture on a
//! re-run, the dry-run egress guard for SMTP, and an unreachable relay.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use halcytone_content::Channel;
use halcytone_mocks::dkim::DkimKeys;
use halcytone_mocks::state::{MockConfig, MockKind};
use halcytone_mocks::store::Store;
use halcytone_publish::dkim::{DkimAlgorithm, DkimKey};
use halcytone_publish::retry::RetryPolicy;
use halcytone_publish::smtp::EmailTransport;
use halcytone_publish::smtp::{Recipient, SmtpSender};
use halcytone_publish::{Outcome, PublishReport, Publishing, Settings, TargetResult};
use halcytone_testkit::json::strings_at;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use url::Url;

mod common;

use common::{bundle, get};

/// The mock CRM (HTTP and SMTP capture) and the mock Platform, on port 0.
struct Mocks {
    crm: Url,
    platform: Url,
    smtp_port: u16,
    _stop: tokio::sync::watch::Sender<bool>,
}

async fn mocks() -> Mocks {
    mocks_with(DkimKeys::new()).await
}

/// [`mocks`] whose SMTP capture knows these DKIM key records.
async fn mocks_with(dkim: DkimKeys) -> Mocks {
    let (stop, rx) = tokio::sync::watch::channel(false);
    let until = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let smtp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let smtp_port = smtp.local_addr().unwrap().port();
    let mut config = MockConfig::new(MockKind::Crm);
    config.smtp_port = Some(smtp_port);
    config.dkim = dkim;
    let state = halcytone_mocks::state(MockKind::Crm, config, Store::in_memory().await.unwrap())
        .await
        .unwrap();
    let crm_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let crm = Url::parse(&format!("http://{}/", crm_listener.local_addr().unwrap())).unwrap();
    tokio::spawn(halcytone_mocks::serve(
        crm_listener,
        halcytone_mocks::app(state.clone()),
        until(rx.clone()),
    ));
    tokio::spawn(halcytone_mocks::smtp::serve(smtp, state, until(rx.clone())));
    let platform_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let platform = Url::parse(&format!(
        "http://{}/",
        platform_listener.local_addr().unwrap()
    ))
    .unwrap();
    let router = halcytone_mocks::router(
        MockKind::Platform,
        MockConfig::new(MockKind::Platform),
        Store::in_memory().await.unwrap(),
    )
    .await
    .unwrap();
    tokio::spawn(halcytone_mocks::serve(platform_listener, router, until(rx)));
    Mocks {
        crm,
        platform,
        smtp_port,
        _stop: stop,
    }
}

/// Dry-run settings with EMAIL_TRANSPORT=smtp, read as the binary reads them.
fn settings(m: &Mocks, extra: &[(&str, &str)]) -> Settings {
    let smtp_port = m.smtp_port.to_string();
    let mut vars: HashMap<String, String> = [
        ("DRY_RUN_MODE", "true"),
        ("MOCK_CRM_BASE_URL", m.crm.as_str()),
        ("MOCK_PLATFORM_BASE_URL", m.platform.as_str()),
        ("MOCK_SMTP_PORT", smtp_port.as_str()),
        ("EMAIL_TRANSPORT", "smtp"),
        // Ignored in dry run: the mock capture is used instead, without TLS.
        ("SMTP_HOST", "smtp.example.com"),
        ("SMTP_TLS", "tls"),
        ("SMTP_USERNAME", "newsletter-bot"),
        ("SMTP_PASSWORD", "real-secret"),
        ("SMTP_FROM", "Halcytone <newsletter@example.com>"),
        ("EMAIL_BATCH_SIZE", "250"),
        ("EMAIL_RATE_PER_SECOND", "100000"),
        ("PUBLISH_RETRY_BASE_MS", "1"),
    ]
    .into_iter()
    .chain(extra.iter().copied())
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    vars.retain(|_, v| !v.is_empty());
    Settings::from_vars(&|k| vars.get(k).cloned(), false).unwrap()
}

/// The email targets of `report`, in order.
fn email_targets(report: &PublishReport) -> Vec<&TargetResult> {
    report
        .targets
        .iter()
        .filter(|t| t.channel == "email")
        .collect()
}

/// The first email target's reason names the cause (`cause`); the last was not attempted.
fn assert_first_fails_and_the_rest_wait(email: &[&TargetResult], cause: &str) {
    let first = email[0].reason.as_deref().unwrap();
    assert!(first.contains(cause), "{first}");
    let last = email.last().unwrap().reason.as_deref().unwrap();
    assert!(last.contains("not attempted"), "{last}");
}

async fn opted_in(crm: &Url) -> Vec<Value> {
    let subs = get(
        crm,
        "api/v1/users/subscribers?status=active&newsletter_opt_in=true&limit=1000",
    )
    .await;
    subs["subscribers"].as_array().unwrap().clone()
}

/// The acceptance test: what one subscriber receives, as the SMTP capture saw it.
#[tokio::test]
async fn a_subscriber_gets_a_multipart_message_with_both_parts_and_list_unsubscribe() {
    let m = mocks().await;
    let p = Publishing::new(settings(&m, &[("EMAIL_BATCH_SIZE", "1000")])).unwrap();
    let b = bundle();
    let n = b.newsletter.as_ref().unwrap();
    let report = p.publish(&b, &[Channel::Email], "corr-smtp-1").await;
    assert!(report.all_succeeded(), "{report:#?}");

    let first = opted_in(&m.crm).await.remove(0);
    let (id, email) = (
        first["id"].as_str().unwrap(),
        first["email"].as_str().unwrap(),
    );
    let caps = get(&m.crm, "api/v1/captures?kind=email&limit=1000").await;
    let cap = caps["captures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["request"]["envelope"]["rcpt_to"][0] == email)
        .expect("a capture for the first subscriber");
    let r = &cap["request"];
    assert_eq!(r["transport"], "smtp");
    assert_eq!(r["envelope"]["mail_from"], "newsletter@example.com");
    assert_eq!(r["envelope"]["rcpt_to"], serde_json::json!([email]));
    assert_eq!(r["auth_username"], "newsletter-bot");
    assert!(
        !cap.to_string().contains("real-secret"),
        "the real SMTP password never reaches the mock"
    );
    assert_eq!(r["subject"], n.subject.as_str());
    assert_eq!(r["from"], "Halcytone <newsletter@example.com>");
    assert!(
        r["to"].as_str().unwrap().contains(&format!("<{email}>")),
        "{}",
        r["to"]
    );
    let version: String = b.document.content_hash.chars().take(16).collect();
    assert_eq!(
        r["message_id"],
        format!("<halcytone.{version}.{id}@example.com>")
    );
    assert_eq!(
        r["list_unsubscribe"],
        format!(
            "<https://halcytone.com/unsubscribe?u={id}>, <mailto:unsubscribe@example.com?subject=unsubscribe>"
        )
    );
    assert_eq!(r["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
    let header_names: HashSet<&str> = strings_at(&r["headers"], "name").into_iter().collect();
    for h in ["Date", "Message-ID", "MIME-Version", "Content-Type"] {
        assert!(header_names.contains(h), "{h} in {header_names:?}");
    }
    assert_eq!(
        strings_at(&r["parts"], "content_type"),
        ["multipart/alternative", "text/plain", "text/html"]
    );
    assert_eq!(r["parts"][1]["charset"], "utf-8");
    assert_eq!(r["parts"][2]["charset"], "utf-8");
    // Both parts arrive exactly as composed (line endings aside).
    let crlf = |s: &str| s.replace("\r\n", "\n");
    assert_eq!(
        crlf(r["text_content"].as_str().unwrap()).trim_end(),
        crlf(&n.text).trim_end()
    );
    assert_eq!(
        crlf(r["html_content"].as_str().unwrap()).trim_end(),
        crlf(&n.html).trim_end()
    );
    assert_eq!(cap["campaign"], format!("halcytone-{version}"));
    assert_eq!(cap["correlation_id"], "corr-smtp-1");
}

#[tokio::test]
async fn publishing_sends_one_message_per_subscriber_and_a_rerun_sends_none_again() {
    let m = mocks().await;
    let subscribers = opted_in(&m.crm).await;
    let total = subscribers.len();
    assert!(total > 500, "the mock CRM's opted-in list: {total}");
    let p = Publishing::new(settings(&m, &[])).unwrap();
    let b = bundle();
    let started = Instant::now();
    let report = p.publish(&b, &[Channel::Email], "corr-smtp-all").await;
    assert!(report.all_succeeded(), "{report:#?}");
    let email = email_targets(&report);
    let names: Vec<&str> = email.iter().map(|t| t.target.as_str()).collect();
    let expected: Vec<String> = (1..=total.div_ceil(250))
        .map(|i| format!("email:batch-{i}"))
        .collect();
    assert_eq!(names, expected);
    let mut sent = 0;
    for t in &email {
        assert_eq!(t.outcome, Outcome::Succeeded);
        let counts = t.external_id.as_deref().unwrap();
        let n: usize = counts
            .strip_prefix("smtp:sent=")
            .and_then(|c| c.strip_suffix(",failed=0"))
            .unwrap()
            .parse()
            .unwrap();
        sent += n;
    }
    assert_eq!(sent, total);
    eprintln!("{total} messages over SMTP in {:?}", started.elapsed());

    let caps = get(&m.crm, "api/v1/captures?kind=email&limit=1000").await;
    assert_eq!(caps["total"].as_u64().unwrap() as usize, total);
    let recipients: HashSet<String> = caps["captures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let r = &c["request"];
            assert_eq!(r["envelope"]["rcpt_to"].as_array().unwrap().len(), 1);
            assert!(r["text_content"].is_string() && r["html_content"].is_string());
            r["envelope"]["rcpt_to"][0].as_str().unwrap().to_string()
        })
        .collect();
    let wanted: HashSet<String> = subscribers
        .iter()
        .map(|s| s["email"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(recipients, wanted, "every opted-in subscriber exactly once");

    // A retried job in the same process: nothing is sent again.
    let again = p.publish(&b, &[Channel::Email], "corr-smtp-retry").await;
    assert!(again.all_succeeded(), "{again:#?}");
    let caps = get(&m.crm, "api/v1/captures?kind=email&limit=1").await;
    assert_eq!(caps["total"].as_u64().unwrap() as usize, total);
    // From a new process without a job (so without a ledger in the store, and no memory of
    // the first run), the relay gets every message again: the capture shows each resend as
    // a duplicate of the first, as the subscriber would see it.
    let fresh = Publishing::new(settings(&m, &[])).unwrap();
    let third = fresh.publish(&b, &[Channel::Email], "corr-smtp-new").await;
    assert!(third.all_succeeded(), "{third:#?}");
    let caps = get(&m.crm, "api/v1/captures?kind=email&limit=1").await;
    assert_eq!(caps["total"].as_u64().unwrap() as usize, 2 * total);
    let dups = get(
        &m.crm,
        "api/v1/captures?kind=email&status=duplicate&limit=1",
    )
    .await;
    assert_eq!(dups["total"].as_u64().unwrap() as usize, total);
}

#[tokio::test]
async fn dry_run_refuses_a_non_mock_smtp_host_without_connecting() {
    let m = mocks().await;
    // A listener standing in for a real relay, counting every connection it accepts.
    let outside = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let outside_port = outside.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let seen = connections.clone();
    tokio::spawn(async move {
        while let Ok((_s, _)) = outside.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    let mut s = settings(&m, &[]);
    let EmailTransport::Smtp(smtp) = &mut s.email_transport else {
        panic!("smtp expected");
    };
    // As if the relay had been pointed elsewhere behind the settings' back.
    smtp.host = "127.0.0.1".into();
    smtp.port = outside_port;
    let p = Publishing::new(s).unwrap();
    let report = p.publish(&bundle(), &[Channel::Email], "corr-egress").await;
    let email = email_targets(&report);
    assert!(!email.is_empty());
    for t in &email {
        assert_eq!(t.outcome, Outcome::Failed, "{t:?}");
        assert!(!t.retryable, "a refusal will not pass later: {t:?}");
        let reason = t.reason.as_deref().unwrap();
        assert!(
            reason.contains(&format!(
                "dry run: refused to contact 127.0.0.1:{outside_port}"
            )),
            "{reason}"
        );
        assert!(
            t.external_id
                .as_deref()
                .unwrap()
                .starts_with("smtp:sent=0,failed="),
            "{t:?}"
        );
    }
    assert_eq!(p.client.guard.refused(), 1, "counted once for the send");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(connections.load(Ordering::SeqCst), 0, "never connected");
    let caps = get(&m.crm, "api/v1/captures?kind=email").await;
    assert_eq!(caps["total"], 0);
}

#[tokio::test]
async fn an_unreachable_relay_fails_every_batch_with_the_reason_and_stops_trying() {
    let m = mocks().await;
    // A port with nothing listening.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_port = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    let p = Publishing::new(settings(&m, &[("MOCK_SMTP_PORT", &closed_port)])).unwrap();
    let started = Instant::now();
    let report = p.publish(&bundle(), &[Channel::Email], "corr-down").await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "gives up quickly"
    );
    let email = email_targets(&report);
    assert!(email.len() > 1);
    for t in &email {
        assert_eq!(t.outcome, Outcome::Failed, "{t:?}");
        assert!(t.retryable, "a relay that is down may be up later: {t:?}");
        let reason = t.reason.as_deref().unwrap();
        assert!(reason.contains("recipients failed (0 sent)"), "{reason}");
        assert!(
            t.external_id
                .as_deref()
                .unwrap()
                .starts_with("smtp:sent=0,failed=")
        );
    }
    assert_first_fails_and_the_rest_wait(&email, &format!("smtp 127.0.0.1:{closed_port}"));
}

#[tokio::test]
async fn live_starttls_is_required_and_nothing_is_sent_to_a_relay_without_it() {
    let m = mocks().await;
    let port = m.smtp_port.to_string();
    // Live mode against the capture (it is local): the relay offers no STARTTLS.
    let live = |tls: &'static str| {
        let vars: HashMap<String, String> = [
            ("CRM_BASE_URL", m.crm.as_str()),
            ("PLATFORM_BASE_URL", m.platform.as_str()),
            ("EMAIL_TRANSPORT", "smtp"),
            ("SMTP_HOST", "127.0.0.1"),
            ("SMTP_PORT", port.as_str()),
            ("SMTP_TLS", tls),
            ("SMTP_USERNAME", "newsletter-bot"),
            ("SMTP_PASSWORD", "real-secret"),
            ("SMTP_FROM", "newsletter@example.com"),
            ("EMAIL_RATE_PER_SECOND", "100000"),
            ("PUBLISH_RETRY_BASE_MS", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Settings::from_vars(&|k| vars.get(k).cloned(), false).unwrap()
    };
    let p = Publishing::new(live("starttls")).unwrap();
    let report = p
        .publish(&bundle(), &[Channel::Email], "corr-starttls")
        .await;
    let email = email_targets(&report);
    assert!(!email.is_empty());
    for t in &email {
        assert_eq!(t.outcome, Outcome::Failed, "{t:?}");
        assert!(
            !t.retryable,
            "no STARTTLS will not appear by retrying: {t:?}"
        );
    }
    assert_first_fails_and_the_rest_wait(&email, "STARTTLS");
    let caps = get(&m.crm, "api/v1/captures?kind=email").await;
    assert_eq!(caps["total"], 0, "nothing was sent without TLS");
    assert_eq!(p.client.guard.refused(), 0, "live mode: no egress guard");
}

/// Sends `message` (CRLF lines) to the SMTP capture on `port` for `rcpt`, as any client would.
async fn send_raw(port: u16, rcpt: &str, message: &str) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let mut expect = async |code: &str| loop {
        let mut line = String::new();
        r.read_line(&mut line).await.unwrap();
        assert!(line.starts_with(code), "expected {code}, got {line:?}");
        if line.as_bytes().get(3) == Some(&b' ') {
            break;
        }
    };
    expect("220").await;
    let mut data = String::new();
    for line in message.trim_end_matches("\r\n").split("\r\n") {
        if line.starts_with('.') {
            data.push('.');
        }
        data.push_str(line);
        data.push_str("\r\n");
    }
    for (command, code) in [
        ("EHLO test.local".to_string(), "250"),
        ("MAIL FROM:<newsletter@example.com>".to_string(), "250"),
        (format!("RCPT TO:<{rcpt}>"), "250"),
        ("DATA".to_string(), "354"),
        (format!("{data}."), "250"),
        ("QUIT".to_string(), "221"),
    ] {
        w.write_all(format!("{command}\r\n").as_bytes())
            .await
            .unwrap();
        expect(code).await;
    }
}

/// The `dkim` verdict of every email capture, by its first envelope recipient.
async fn dkim_by_recipient(crm: &Url) -> HashMap<String, Value> {
    let caps = get(crm, "api/v1/captures?kind=email&limit=1000").await;
    caps["captures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["request"]["envelope"]["rcpt_to"][0]
                    .as_str()
                    .unwrap()
                    .to_string(),
                c["request"]["dkim"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_message_is_dkim_signed_and_the_capture_records_pass() {
    // Ed25519 here (hundreds of messages); RSA, the default, in the test below.
    let (key, pem) = DkimKey::generate(DkimAlgorithm::Ed25519).unwrap();
    let mut keys = DkimKeys::new();
    keys.add("halcytone", "example.com", &key.record_value());
    let m = mocks_with(keys).await;
    let p = Publishing::new(settings(&m, &[("DKIM_PRIVATE_KEY", pem.expose())])).unwrap();
    let report = p.publish(&bundle(), &[Channel::Email], "corr-dkim-1").await;
    assert!(report.all_succeeded(), "{report:#?}");

    let verdicts = dkim_by_recipient(&m.crm).await;
    assert_eq!(verdicts.len(), opted_in(&m.crm).await.len());
    for (rcpt, d) in &verdicts {
        assert_eq!(d["result"], "pass", "{rcpt}: {d}");
    }
    let d = verdicts.values().next().unwrap();
    assert_eq!(d["domain"], "example.com");
    assert_eq!(d["selector"], "halcytone");
    assert_eq!(d["algorithm"], "ed25519-sha256");
    let signed = d["signed_headers"].as_str().unwrap();
    for h in [
        "from",
        "subject",
        "message-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
    ] {
        assert!(signed.split(':').any(|s| s == h), "{h} in {signed}");
    }

    // The capture's own page and the console show the verdict too.
    let caps = get(&m.crm, "api/v1/captures?kind=email&limit=1").await;
    let id = caps["captures"][0]["id"].as_str().unwrap().to_string();
    let one = get(&m.crm, &format!("api/v1/captures/{id}")).await;
    assert_eq!(one["request"]["dkim"]["result"], "pass");
    // The verdict is among the message page's checks (its Checks tab).
    let page = reqwest::get(m.crm.join(&format!("messages/{id}?tab=checks")).unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("DKIM signature"), "{page}");
    assert!(
        page.contains("d=example.com, s=halcytone, ed25519-sha256"),
        "{page}"
    );
}

#[tokio::test]
async fn a_message_changed_after_signing_fails_and_an_unsigned_one_is_none() {
    let (key, pem) = DkimKey::generate(DkimAlgorithm::Rsa).unwrap();
    let mut keys = DkimKeys::new();
    keys.add("halcytone", "example.com", &key.record_value());
    let m = mocks_with(keys).await;
    let sender_for = |extra: &[(&str, &str)]| {
        let s = settings(&m, extra);
        let EmailTransport::Smtp(smtp) = &s.email_transport else {
            panic!("smtp expected")
        };
        SmtpSender::new(smtp.as_ref().clone(), RetryPolicy::default()).unwrap()
    };
    let signer = sender_for(&[("DKIM_PRIVATE_KEY", pem.expose())]);
    let unsigned = sender_for(&[]);
    let b = bundle();
    let n = b.newsletter.as_ref().unwrap();
    let message = |sender: &SmtpSender, k: u32| {
        let r = Recipient {
            id: Some(format!("sub_{k}")),
            email: format!("reader{k}@example.net"),
            name: None,
        };
        let m = sender
            .message(n, &r, ("v1", "campaign-1"), "corr-1", None)
            .unwrap();
        String::from_utf8(m.formatted()).unwrap()
    };

    // As signed; with an unsigned header changed (still passes).
    let intact =
        message(&signer, 1).replacen("X-Campaign-ID: campaign-1", "X-Campaign-ID: other", 1);
    assert!(intact.contains("X-Campaign-ID: other"));
    send_raw(m.smtp_port, "reader1@example.net", &intact).await;
    // The body changed after signing.
    let original = message(&signer, 2);
    let head_end = original.find("\r\n\r\n").unwrap() + 4;
    let (head, body) = original.split_at(head_end);
    let part_start = body.find("\r\n\r\n").unwrap() + 4;
    let tampered = format!(
        "{head}{}Edited. {}",
        &body[..part_start],
        &body[part_start..]
    );
    send_raw(m.smtp_port, "reader2@example.net", &tampered).await;
    // A signed header changed after signing.
    let original = message(&signer, 3);
    let readdressed = original.replacen("To: reader3@example.net", "To: someone@example.net", 1);
    assert_ne!(readdressed, original);
    send_raw(m.smtp_port, "reader3@example.net", &readdressed).await;
    // Not signed at all.
    send_raw(m.smtp_port, "reader4@example.net", &message(&unsigned, 4)).await;

    let v = dkim_by_recipient(&m.crm).await;
    let one = &v["reader1@example.net"];
    assert_eq!(one["result"], "pass", "{one}");
    assert_eq!(one["algorithm"], "rsa-sha256");
    let two = &v["reader2@example.net"];
    assert_eq!(two["result"], "fail", "{two}");
    assert!(
        two["reason"]
            .as_str()
            .unwrap()
            .contains("body hash mismatch"),
        "{two}"
    );
    let three = &v["reader3@example.net"];
    assert_eq!(three["result"], "fail", "{three}");
    assert!(
        three["reason"]
            .as_str()
            .unwrap()
            .contains("does not verify"),
        "{three}"
    );
    let four = &v["reader4@example.net"];
    assert_eq!(four["result"], "none", "{four}");
    assert!(!message(&unsigned, 5).contains("DKIM-Signature"));
}
