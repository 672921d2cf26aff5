//! Browser tests of the consoles: `halcytone up` as an operator runs it, driven by a real
//! Chromium through playwright-core (e2e/consoles.mjs). Screenshots land in
//! target/e2e-screenshots.
//!
//! Needs Node.js, `npm ci --prefix e2e` and Debian's chromium (`CHROMIUM`, default
//! /usr/bin/chromium). Without them the test says what is missing and passes, unless
//! `HALCYTONE_E2E=required` (set by .ci/run), which makes a missing piece a failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::Proc;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What is missing to run a browser, if anything.
fn missing(chromium: &Path) -> Option<String> {
    if !chromium.exists() {
        return Some(format!(
            "no browser at {} (apt-get install chromium, or set CHROMIUM)",
            chromium.display()
        ));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("no node on PATH".into());
    }
    if !workspace()
        .join("e2e/node_modules/playwright-core/package.json")
        .exists()
    {
        return Some("playwright-core is not installed (npm ci --prefix e2e)".into());
    }
    None
}

/// Starts `halcytone up` on free ports in `dir`, reviews required; returns it with the API's
/// address.
fn up(dir: &Path) -> (Proc, String) {
    common::up(dir, &[("APPROVAL_REQUIRED", "true")])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consoles_work_in_a_real_browser() {
    let chromium =
        PathBuf::from(std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    if let Some(why) = missing(&chromium) {
        assert_ne!(
            std::env::var("HALCYTONE_E2E").as_deref(),
            Ok("required"),
            "browser tests are required here but cannot run: {why}"
        );
        eprintln!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_up, api) = up(dir.path());
    let key = std::fs::read_to_string(dir.path().join("data/api-key.txt")).unwrap();
    let key = key.trim().to_string();
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status: serde_json::Value = loop {
        if let Ok(r) = http
            .get(format!("{api}/api/v1/services/status"))
            .bearer_auth(&key)
            .send()
            .await
            && r.status().is_success()
        {
            break r.json().await.unwrap();
        }
        assert!(Instant::now() < deadline, "halcytone up did not answer");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let url = |name: &str| {
        status["service_info"][name]["url"]
            .as_str()
            .unwrap()
            .trim_end_matches('/')
            .to_string()
    };
    let keys: Vec<String> = ["e2e-writer", "e2e-reviewer"]
        .iter()
        .map(|name| {
            let out = Command::new(env!("CARGO_BIN_EXE_halcytone"))
                .args(["keys", "create", "--name", name, "--scopes", "read,write"])
                .current_dir(dir.path())
                .env("DATABASE_URL", "sqlite://data/halcytone.db")
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        })
        .collect();
    let shots = workspace().join("target/e2e-screenshots");
    let out = tokio::process::Command::new("node")
        .arg(workspace().join("e2e/consoles.mjs"))
        .env("HALCYTONE_API", &api)
        .env("HALCYTONE_KEY", &key)
        .env("WRITER_KEY", &keys[0])
        .env("REVIEWER_KEY", &keys[1])
        .env("MOCK_CRM", url("crm"))
        .env("MOCK_PLATFORM", url("platform"))
        .env("SCREENSHOT_DIR", &shots)
        .env("CHROMIUM", &chromium)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(240), out)
        .await
        .expect("the browser run took over 4 minutes")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(
        out.status.success(),
        "browser steps failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("browser tests passed"), "{stdout}");
    for shot in [
        "inbox.png",
        "message.png",
        "message-html-part.png",
        "inbox-search.png",
        "message-tab-source.png",
        "message-dark-320.png",
        "social-cards.png",
        "ui-reviews.png",
    ] {
        assert!(shots.join(shot).exists(), "screenshot {shot}");
    }
}
