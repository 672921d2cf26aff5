//! Server time of the mock CRM's inbox over 10,000 captured emails: stores them in a
//! temporary SQLite file (as `halcytone mock crm` would), then renders the first inbox page
//! 20 times and prints the median and the maximum. The target is 100 ms.
//!
//! `cargo bench -p halcytone-mocks --bench inbox`

use halcytone_mocks::console::{Params, inbox_html};
use halcytone_mocks::state::{MockConfig, MockKind, MockState};
use halcytone_mocks::store::{NewRecord, Store};
use serde_json::json;
use std::time::{Duration, Instant};

const CAPTURES: usize = 10_000;
const RUNS: usize = 20;
const RECIPIENTS: usize = 100;

type Error = Box<dyn std::error::Error>;

/// A newsletter-sized capture: about 12 KB of HTML, its text, 100 batch recipients.
fn capture(i: usize) -> NewRecord {
    let html = format!(
        "<!doctype html><html><body>{}</body></html>",
        "<p>Breathe in for four, hold for seven, out for eight. <a href=\"https://halcytone.com/x\">More</a></p>"
            .repeat(120)
    );
    let recipients: Vec<_> = (0..RECIPIENTS)
        .map(|r| {
            let n = i * RECIPIENTS + r;
            json!({ "email": format!("subscriber{n}@example.com"), "name": format!("Subscriber {n}"),
                    "merge_vars": { "first_name": format!("Subscriber{n}"), "subscriber_id": format!("sub_{n:06}") } })
        })
        .collect();
    let campaign = format!("halcytone-v{}", i / 500);
    NewRecord {
        id: format!("bench-{i:06}"),
        kind: "email",
        captured: true,
        subject: Some(format!("Weekly breath update #{i}")),
        campaign: Some(campaign.clone()),
        channel: Some("email".into()),
        status: Some("sent".into()),
        idempotency_key: Some(format!("v{i}:email:batch-1")),
        correlation_id: Some(format!("corr-{i}")),
        created_at: format!(
            "2026-01-{:02}T10:{:02}:{:02}.000Z",
            1 + i / 1440 % 28,
            i / 60 % 60,
            i % 60
        ),
        request: json!({
            "subject": format!("Weekly breath update #{i}"),
            "html_content": html,
            "text_content": "Breathe in for four, hold for seven, out for eight.\n".repeat(60),
            "recipients": recipients,
            "campaign_id": campaign,
            "sender_email": "noreply@halcytone.com",
            "metadata": { "template": "modern", "tone": "professional", "batch": 1, "variant": if i.is_multiple_of(2) { "A" } else { "B" } },
        }),
        response: json!({ "batch_id": format!("bench-{i:06}"), "status": "sent", "accepted": RECIPIENTS, "rejected": 0 }),
        raw: None,
    }
}

async fn fill(store: &Store) -> Result<(), Error> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..CAPTURES {
        let store = store.clone();
        tasks.spawn(async move { store.commit(Some(&capture(i)), None, 1_000_000).await });
        if tasks.len() >= 512
            && let Some(done) = tasks.join_next().await
        {
            done??;
        }
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// Renders the inbox with `query` `RUNS` times; returns (median, max).
async fn time(state: &MockState, query: &[(&str, &str)]) -> Result<(Duration, Duration), Error> {
    let params = Params::new(
        query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    let _warm = inbox_html(state, &params).await?;
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        let html = inbox_html(state, &params).await?;
        times.push(started.elapsed());
        std::hint::black_box(html);
    }
    times.sort();
    Ok((times[RUNS / 2], times[RUNS - 1]))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("mock-crm.db")).await?;
    let started = Instant::now();
    fill(&store).await?;
    let bytes = std::fs::metadata(dir.path().join("mock-crm.db"))?.len()
        + std::fs::metadata(dir.path().join("mock-crm.db-wal")).map_or(0, |m| m.len());
    println!(
        "stored {CAPTURES} captured emails ({RECIPIENTS} recipients, ~12 KB HTML each; {} MB on disk) in {:.1} s",
        bytes / 1_000_000,
        started.elapsed().as_secs_f64()
    );
    let mut config = MockConfig::new(MockKind::Crm);
    config.retention = 1_000_000;
    let state = halcytone_mocks::state(MockKind::Crm, config, store).await?;
    for (label, query) in [
        ("first page", &[][..]),
        ("page 100 (the oldest)", &[("page", "100")][..]),
        ("campaign filter", &[("campaign", "halcytone-v3")][..]),
        ("search, subject hit", &[("q", "update #9999")][..]),
        (
            "search, recipient address",
            &[("q", "subscriber17@example.com")][..],
        ),
    ] {
        let (median, max) = time(&state, query).await?;
        println!(
            "inbox {label:<40} median {:>7.2} ms  max {:>7.2} ms  ({RUNS} renders)",
            median.as_secs_f64() * 1000.0,
            max.as_secs_f64() * 1000.0
        );
    }
    Ok(())
}
