//! The publishers against both mocks on random ports: the whole sample, retries, idempotency,
//! seeded faults, and the dry-run egress guard.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use halcytone_content::{Channel, ComposeOptions, Templates, compose, parse};
use halcytone_mocks::state::{MockConfig, MockKind};
use halcytone_publish::retry::RetryPolicy;
use halcytone_publish::{Outcome, Publishing, Settings};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use url::Url;

mod common;

use common::{bundle, get};

struct Mock {
    url: Url,
    _running: halcytone_mocks::LocalMock,
}

async fn mock(kind: MockKind) -> Mock {
    let m = halcytone_mocks::spawn_local(kind, MockConfig::new(kind))
        .await
        .unwrap();
    Mock {
        url: Url::parse(&m.url).unwrap(),
        _running: m,
    }
}

fn settings(crm: &Url, platform: &Url) -> Settings {
    Settings {
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        },
        email_rate: 1000.0,
        web_rate: 1000.0,
        social_rate: 1000.0,
        ..Settings::rehearsal(crm, platform)
    }
}

async fn put(url: &Url, path: &str, body: Value) {
    let status = reqwest::Client::new()
        .put(url.join(path).unwrap())
        .json(&body)
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "{path}: {status}");
}

#[tokio::test]
async fn the_sample_is_published_and_captured_exactly_as_composed() {
    let (crm, platform) = (mock(MockKind::Crm).await, mock(MockKind::Platform).await);
    let p = Publishing::new(settings(&crm.url, &platform.url)).unwrap();
    let b = bundle();
    let report = p.publish(&b, &Channel::ALL, "corr-sample").await;
    assert!(report.all_succeeded(), "{report:#?}");
    assert_eq!(report.skipped, 0);

    let n = b.newsletter.as_ref().unwrap();
    let emails = get(&crm.url, "api/v1/captures?kind=email&limit=100").await;
    let subs = get(
        &crm.url,
        "api/v1/users/subscribers?status=active&newsletter_opt_in=true&limit=1",
    )
    .await;
    let expected_batches = (subs["total"].as_u64().unwrap() as usize).div_ceil(500);
    assert_eq!(emails["total"].as_u64().unwrap() as usize, expected_batches);
    let mut recipients = 0;
    for e in emails["captures"].as_array().unwrap() {
        assert_eq!(e["request"]["subject"], n.subject.as_str());
        assert_eq!(e["request"]["html_content"], n.html.as_str());
        assert_eq!(e["request"]["text_content"], n.text.as_str());
        assert_eq!(e["correlation_id"], "corr-sample");
        recipients += e["request"]["recipients"].as_array().unwrap().len();
    }
    assert_eq!(
        recipients as u64,
        subs["total"].as_u64().unwrap(),
        "every opted-in subscriber once"
    );

    let w = b.web.as_ref().unwrap();
    let web = get(&platform.url, "api/v1/captures?kind=content").await;
    assert_eq!(web["total"], 1);
    let req = &web["captures"][0]["request"];
    assert_eq!(req["title"], w.title.as_str());
    assert_eq!(req["content"], w.markdown.as_str());
    assert_eq!(req["html"], w.body_html.as_str());
    assert_eq!(req["slug"], w.slug.as_str());
    assert_eq!(
        req["metadata"]["meta_description"],
        w.meta_description.as_str()
    );

    for post in &b.social {
        let caps = get(
            &platform.url,
            &format!("api/v1/captures?channel=social:{}", post.platform),
        )
        .await;
        assert_eq!(caps["total"], 1, "{}", post.platform);
        let req = &caps["captures"][0]["request"];
        assert_eq!(req["content"], post.posts[0].as_str());
        let thread: Vec<String> = req["thread"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(thread, post.posts[1..].to_vec());
        assert_eq!(req["hashtags"], json!(post.hashtags));
    }
    let twitter = report
        .targets
        .iter()
        .find(|t| t.target == "social:twitter")
        .unwrap();
    assert!(
        twitter
            .url
            .as_deref()
            .unwrap()
            .starts_with("https://x.com/")
    );

    // Running again with the same content replays every answer and captures nothing new.
    let again = p.publish(&b, &Channel::ALL, "corr-again").await;
    assert!(again.all_succeeded(), "{again:#?}");
    assert_eq!(
        get(&crm.url, "api/v1/captures").await["total"]
            .as_u64()
            .unwrap() as usize,
        expected_batches
    );
    assert_eq!(
        get(&platform.url, "api/v1/captures").await["total"],
        1 + b.social.len()
    );
    for (first, second) in report.targets.iter().zip(&again.targets) {
        assert_eq!(first.external_id, second.external_id, "{}", first.target);
    }
}

#[tokio::test]
async fn only_transient_failures_are_retried() {
    let (crm, platform) = (mock(MockKind::Crm).await, mock(MockKind::Platform).await);
    let b = bundle();
    for (status, transient) in [
        (500, true),
        (503, true),
        (408, true),
        (429, true),
        (400, false),
        (403, false),
        (422, false),
    ] {
        put(&platform.url, "api/v1/faults", json!({ "route": "POST /api/v1/content/publish", "status": status, "probability": 1.0 })).await;
        let p = Publishing::new(settings(&crm.url, &platform.url)).unwrap();
        let report = p.publish(&b, &[Channel::Web], "corr-retry").await;
        let web = report.targets.iter().find(|t| t.channel == "web").unwrap();
        assert_eq!(web.outcome, Outcome::Failed, "{status}");
        assert_eq!(web.upstream_status, Some(status));
        assert!(
            web.reason.as_deref().unwrap().contains("injected fault"),
            "{web:?}"
        );
        assert_eq!(web.attempts, if transient { 3 } else { 1 }, "{status}");
    }
    assert_eq!(
        get(&platform.url, "api/v1/captures").await["total"],
        0,
        "failed publishes capture nothing"
    );
    // A transient failure that clears in time ends in success.
    put(&platform.url, "api/v1/faults", json!({ "route": "POST /api/v1/content/publish", "status": 503, "probability": 0.5, "seed": 3 })).await;
    let p = Publishing::new(settings(&crm.url, &platform.url)).unwrap();
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let report = p.publish(&b, &[Channel::Web], "c").await;
        outcomes.push(
            report
                .targets
                .iter()
                .find(|t| t.channel == "web")
                .unwrap()
                .outcome,
        );
    }
    assert!(outcomes.contains(&Outcome::Succeeded));
}

#[tokio::test]
async fn subject_triggers_reach_the_publisher_with_their_status() {
    let (crm, platform) = (mock(MockKind::Crm).await, mock(MockKind::Platform).await);
    let doc = parse("## [Breathscape] Updates\n### Invalid sensor readings fixed\n<!-- featured: true -->\n- **Content:** We fixed a bug that produced invalid readings.\n", None).unwrap();
    let b = compose(
        &doc,
        &ComposeOptions::new(chrono::Utc::now()),
        &Templates::defaults(),
    )
    .unwrap();
    assert!(
        b.newsletter
            .as_ref()
            .unwrap()
            .subject
            .to_lowercase()
            .contains("invalid")
    );
    let report = Publishing::new(settings(&crm.url, &platform.url))
        .unwrap()
        .publish(&b, &[Channel::Email, Channel::Web], "c")
        .await;
    for email in report.targets.iter().filter(|t| t.channel == "email") {
        assert_eq!(
            (email.outcome, email.upstream_status, email.attempts),
            (Outcome::Failed, Some(400), 1),
            "{email:?}"
        );
    }
    let web = report.targets.iter().find(|t| t.channel == "web").unwrap();
    assert_eq!(
        (web.outcome, web.upstream_status, web.attempts),
        (Outcome::Failed, Some(400), 1),
        "{web:?}"
    );
    assert!(
        web.reason.as_deref().unwrap().contains("Validation error"),
        "{web:?}"
    );
}

async fn faulty_run(seed: u64) -> Vec<(String, Outcome, Option<u16>)> {
    let (crm, platform) = (mock(MockKind::Crm).await, mock(MockKind::Platform).await);
    for route in ["POST /api/v1/social/post", "POST /api/v1/content/publish"] {
        put(
            &platform.url,
            "api/v1/faults",
            json!({ "route": route, "status": 503, "probability": 0.3, "seed": seed }),
        )
        .await;
    }
    put(&crm.url, "api/v1/faults", json!({ "route": "POST /api/v1/email/batch", "status": 500, "probability": 0.3, "seed": seed })).await;
    let p = Publishing::new(settings(&crm.url, &platform.url)).unwrap();
    let report = p.publish(&bundle(), &Channel::ALL, "corr-faults").await;
    for t in &report.targets {
        match t.outcome {
            Outcome::Succeeded => assert!(t.external_id.is_some(), "{t:?}"),
            Outcome::Failed => assert!(t.reason.is_some() && t.upstream_status.is_some(), "{t:?}"),
            Outcome::Skipped => panic!("nothing is skipped: {t:?}"),
        }
    }
    report
        .targets
        .into_iter()
        .map(|t| (t.target, t.outcome, t.upstream_status))
        .collect()
}

#[tokio::test]
async fn seeded_faults_end_every_target_and_repeat_exactly() {
    let a = faulty_run(99).await;
    assert_eq!(a, faulty_run(99).await, "same seed, same outcome");
}

#[tokio::test]
async fn dry_run_never_connects_outside_the_mocks() {
    let (crm, platform) = (mock(MockKind::Crm).await, mock(MockKind::Platform).await);
    // A listener standing in for a real platform, counting every connection it accepts.
    let outside = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let outside_url = Url::parse(&format!("http://{}/", outside.local_addr().unwrap())).unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = outside.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    // Misconfigured: web and social point at the outside host while dry run is on.
    let mut s = settings(&crm.url, &platform.url);
    s.platform_url = outside_url.clone();
    let p = Publishing::new(s).unwrap();
    let report = p.publish(&bundle(), &Channel::ALL, "corr-egress").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "no connection reached the outside host"
    );
    for t in report.targets.iter().filter(|t| t.channel != "email") {
        assert_eq!(t.outcome, Outcome::Failed, "{t:?}");
        assert!(
            t.reason.as_deref().unwrap().contains("dry run: refused"),
            "{t:?}"
        );
        assert_eq!(t.attempts, 0);
    }
    assert!(
        report
            .targets
            .iter()
            .filter(|t| t.channel == "email")
            .all(|t| t.outcome == Outcome::Succeeded)
    );
    assert_eq!(p.client.guard.refused(), 1 + bundle().social.len() as u64);
}
