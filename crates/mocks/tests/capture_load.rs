//! The mock CRM's capture under load: 50,000 sends at once over real HTTP into a file-backed
//! store (WAL, the single grouped writer), and every one of them kept. Rates live in
//! `scripts/bench.sh`, not here: this test only counts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use halcytone_mocks::state::{MockConfig, MockKind};
use halcytone_mocks::store::{Filter, Store};
use std::collections::HashSet;
use std::sync::Arc;

mod common;

const SENDS: usize = 50_000;
/// Requests in flight at once (each task holds a connection while it waits).
const IN_FLIGHT: usize = 256;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_thousand_concurrent_sends_are_all_captured() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("mock-crm.db")).await.unwrap();
    let mut config = MockConfig::new(MockKind::Crm);
    config.retention = 2 * SENDS as i64;
    let state = halcytone_mocks::state(MockKind::Crm, config, store.clone())
        .await
        .unwrap();
    let served = common::serve_app(state).await;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(IN_FLIGHT)
        .build()
        .unwrap();
    let url = format!("{}/api/v1/email/send", served.base);
    let gate = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));

    // Every send is spawned at once; the semaphore only bounds the open sockets.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..SENDS {
        let (http, url, gate) = (http.clone(), url.clone(), gate.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await.unwrap();
            let body = serde_json::json!({
                "subject": format!("load {i:05}"),
                "html_content": "<p>Hello</p>",
                "text_content": "Hello",
                "campaign_id": "load",
                "recipients": [format!("reader{i}@example.com")],
            });
            let resp = http.post(&url).json(&body).send().await.unwrap();
            (i, resp.status().as_u16())
        });
    }
    let mut refused = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (i, status) = done.unwrap();
        if status != 200 {
            refused.push((i, status));
        }
    }
    assert!(
        refused.is_empty(),
        "refused sends: {:?}",
        &refused[..refused.len().min(10)]
    );

    // Every answer came after its capture was committed: all 50,000 are there, once each.
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.of("email"), SENDS as i64, "{counts:?}");
    // Read back page by page (the store answers at most 1,000 records a call).
    let mut subjects = HashSet::new();
    let mut offset = 0;
    loop {
        let (records, total) = store
            .list(&Filter {
                kinds: vec!["email".into()],
                captured_only: true,
                limit: 1000,
                offset,
                ..Filter::default()
            })
            .await
            .unwrap();
        assert_eq!(total, SENDS as i64);
        if records.is_empty() {
            break;
        }
        offset += records.len() as i64;
        for r in records {
            assert!(
                subjects.insert(r.subject.clone().unwrap()),
                "{:?} captured twice",
                r.subject
            );
        }
    }
    let missing: Vec<usize> = (0..SENDS)
        .filter(|i| !subjects.contains(&format!("load {i:05}")))
        .collect();
    assert!(
        missing.is_empty(),
        "{} sends missing, first {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert_eq!(subjects.len(), SENDS);
}
