//! End-to-end tests of the `halcytone` binary: generate, validate, and their error messages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use halcytone_testkit::http::get_json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The binary under test, not yet started.
fn halcytone_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_halcytone"))
}

fn halcytone(args: &[&str]) -> Output {
    halcytone_command()
        .args(args)
        .current_dir(repo())
        .env_remove("HALCYTONE_NOW")
        .output()
        .unwrap_or_else(|e| panic!("cannot run halcytone: {e}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts that what `o` printed on stderr contains `text`.
#[track_caller]
fn assert_stderr_contains(o: &Output, text: &str) {
    assert!(stderr(o).contains(text), "{}", stderr(o));
}

/// Asserts that `o` exited with `code` and printed `text` on stderr.
#[track_caller]
fn assert_exit_and_stderr(o: &Output, code: i32, text: &str) {
    assert_eq!(o.status.code(), Some(code), "{}", stderr(o));
    assert_stderr_contains(o, text);
}

/// Asserts that `o` exited with `code` and printed `text` on stdout.
#[track_caller]
fn assert_exit_and_stdout(o: &Output, code: i32, text: &str) {
    assert_eq!(o.status.code(), Some(code), "{}", stdout(o));
    assert_stdout_contains(o, text);
}

/// Asserts that what `o` printed on stdout contains `text`.
#[track_caller]
fn assert_stdout_contains(o: &Output, text: &str) {
    assert!(stdout(o).contains(text), "{}", stdout(o));
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(Result::ok)
        .map(|e| {
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn sample_generates_every_channel_identically_twice() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for dir in [&a, &b] {
        let o = halcytone(&[
            "generate",
            "samples/living-document.md",
            "--out",
            &dir.to_string_lossy(),
        ]);
        assert!(o.status.success(), "generate failed: {}", stderr(&o));
    }
    let (fa, fb) = (files(&a), files(&b));
    let names: Vec<&str> = fa.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "newsletter.html",
        "newsletter.txt",
        "web.md",
        "web.html",
        "web.json",
        "bundle.json",
        "social-linkedin.txt",
        "social-facebook.txt",
        "social-instagram.txt",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    assert!(
        names.iter().any(|n| n.starts_with("social-twitter")),
        "{names:?}"
    );
    assert_eq!(fa, fb, "two runs must be byte-identical");
}

#[test]
fn generate_prints_json_without_out() {
    let o = halcytone(&[
        "generate",
        "samples/living-document.md",
        "--channels",
        "social",
        "--platforms",
        "x",
        "--now",
        "2026-11-24",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["social"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["social"][0]["platform"], "twitter");
    assert!(v.get("newsletter").is_none());
    assert_eq!(v["as_of"], "2026-11-24T00:00:00Z");
}

#[test]
fn other_formats_and_sessions_generate() {
    for file in [
        "samples/living-document.json",
        "samples/living-document.txt",
        "samples/session.json",
    ] {
        let o = halcytone(&["generate", file, "--now", "2026-11-24T12:00:00Z"]);
        assert!(o.status.success(), "{file}: {}", stderr(&o));
    }
    let o = halcytone(&[
        "generate",
        "samples/session.json",
        "--now",
        "2026-11-24T12:00:00Z",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}"));
    let subject = v["newsletter"]["subject"].as_str().unwrap_or_default();
    assert!(subject.starts_with("Session summary: "), "{subject}");
}

/// A document with one of each defect `fixture_lines` finds, from the repository's root.
const INVALID_DOCUMENT: &str = "crates/halcytone/tests/fixtures/invalid-document.md";

/// `halcytone validate <file> <extra>… --now 2026-11-24`.
fn validate_on_2026_11_24(file: &str, extra: &[&str]) -> Output {
    let mut args = vec!["validate", file];
    args.extend_from_slice(extra);
    args.extend(["--now", "2026-11-24"]);
    halcytone(&args)
}

#[test]
fn validate_reports_each_problem_with_its_line_and_exits_1() {
    let o = validate_on_2026_11_24(INVALID_DOCUMENT, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    for (code, line) in fixture_lines() {
        let wanted = format!("{INVALID_DOCUMENT}:{line}: error:");
        assert!(
            out.lines()
                .any(|l| l.starts_with(&wanted) && l.ends_with(&format!("[{code}]"))),
            "expected {code} at line {line} in:\n{out}"
        );
    }
}

/// Where the defects of `fixtures/invalid-document.md` are (found by reading the file).
fn fixture_lines() -> Vec<(&'static str, usize)> {
    let text =
        std::fs::read_to_string(repo().join(INVALID_DOCUMENT)).unwrap_or_else(|e| panic!("{e}"));
    let lines: Vec<&str> = text.lines().collect();
    let find = |pred: &dyn Fn(&str) -> bool| {
        lines
            .iter()
            .position(|l| pred(l))
            .map(|i| i + 1)
            .unwrap_or(0)
    };
    let bad_date = find(&|l: &str| l.contains("**Date:** 2026-13-45"));
    let long_title = find(&|l: &str| l.starts_with("### ") && l.len() > 204);
    let mut seen = Vec::new();
    let mut duplicate = 0;
    for (i, l) in lines.iter().enumerate() {
        if let Some(t) = l.strip_prefix("### ") {
            if seen.contains(&t) {
                duplicate = i + 1;
            }
            seen.push(t);
        }
    }
    assert!(
        bad_date > 0 && long_title > 0 && duplicate > 0,
        "fixture lost a defect"
    );
    vec![
        ("invalid_date", bad_date),
        ("title_too_long", long_title),
        ("duplicate_item", duplicate),
    ]
}

#[test]
fn validate_passes_the_sample() {
    let o = validate_on_2026_11_24("samples/living-document.md", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn validate_json_report() {
    let o = validate_on_2026_11_24(INVALID_DOCUMENT, &["--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["valid"], false);
    assert!(v["errors"].as_u64().unwrap_or(0) >= 3);
}

#[test]
fn clear_messages_for_bad_input() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let missing = tmp.path().join("nope.md");
    let o = halcytone(&["generate", &missing.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot read") && stderr(&o).contains("nope.md"),
        "{}",
        stderr(&o)
    );

    let empty = tmp.path().join("empty.md");
    std::fs::write(&empty, "  \n\n").unwrap_or_else(|e| panic!("{e}"));
    let o = halcytone(&["validate", &empty.to_string_lossy()]);
    assert_exit_and_stdout(&o, 1, "the document is empty");

    let latin1 = tmp.path().join("latin1.md");
    std::fs::write(&latin1, b"## [Tips] T\n### Caf\xe9\n").unwrap_or_else(|e| panic!("{e}"));
    let o = halcytone(&["generate", &latin1.to_string_lossy()]);
    assert_exit_and_stderr(&o, 2, "latin1.md:2: the file is not valid UTF-8");

    let bad_json = tmp.path().join("bad.json");
    std::fs::write(
        &bad_json,
        "{\n \"categories\": {\n  \"tips\": [oops]\n }\n}",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let o = halcytone(&["validate", &bad_json.to_string_lossy()]);
    assert_exit_and_stdout(&o, 1, "bad.json:3: error: invalid JSON");

    let o = halcytone(&["generate", "samples/living-document.md", "--tone", "casual"]);
    assert_exit_and_stderr(&o, 2, "professional, encouraging, medical_scientific");

    let o = halcytone(&[
        "generate",
        "samples/living-document.md",
        "--template",
        "fancy",
    ]);
    assert_stderr_contains(&o, "modern, minimal, plain, breathscape");
}

#[test]
fn template_directory_overrides_a_default() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path().join("tpl/newsletter");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("minimal.html"), "<p>Custom: {{ subject }}</p>")
        .unwrap_or_else(|e| panic!("{e}"));
    let out = tmp.path().join("out");
    let o = halcytone(&[
        "generate",
        "samples/living-document.md",
        "--template",
        "minimal",
        "--templates",
        &tmp.path().join("tpl").to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(out.join("newsletter.html")).unwrap_or_default();
    assert!(html.starts_with("<p>Custom: "), "{html}");

    std::fs::write(dir.join("minimal.html"), "{% if %}").unwrap_or_else(|e| panic!("{e}"));
    let o = halcytone(&[
        "generate",
        "samples/living-document.md",
        "--templates",
        &tmp.path().join("tpl").to_string_lossy(),
    ]);
    assert_exit_and_stderr(&o, 2, "newsletter/minimal.html");
}

#[test]
fn brand_links_come_from_configuration_and_must_be_http() {
    let o = halcytone_command()
        .args([
            "generate",
            "samples/living-document.md",
            "--channels",
            "email",
            "--now",
            "2026-11-24",
        ])
        .current_dir(repo())
        .env("UNSUBSCRIBE_URL", "https://news.example.org/leave")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let text = v["newsletter"]["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("Unsubscribe: https://news.example.org/leave"),
        "{text}"
    );

    let o = halcytone(&[
        "generate",
        "samples/living-document.md",
        "--unsubscribe-url",
        "javascript:alert(1)",
    ]);
    assert_exit_and_stderr(&o, 2, "must be an absolute http");
}

#[test]
fn bundled_sample_pipes_into_generate() {
    let sample = halcytone(&["sample"]);
    assert!(sample.status.success());
    let on_disk = std::fs::read(repo().join("samples/living-document.md")).unwrap();
    assert_eq!(sample.stdout, on_disk, "the binary ships the sample");
    let mut child = halcytone_command()
        .args(["generate", "-", "--channels", "web", "--now", "2026-11-24"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &sample.stdout).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        v["web"]["title"]
            .as_str()
            .unwrap_or_default()
            .contains("Sleep Sessions")
    );
    assert_eq!(halcytone(&["sample", "nope"]).status.code(), Some(2));
}

/// Starts `halcytone mock <service>` on a free port; returns the child and its base URL.
fn start_mock(service: &str, data_dir: &Path) -> (std::process::Child, String) {
    start_mock_with(service, data_dir, &[])
}

/// [`start_mock`] with more arguments.
fn start_mock_with(service: &str, data_dir: &Path, more: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = halcytone_command()
        .args([
            "mock",
            service,
            "--port",
            "0",
            "--data-dir",
            &data_dir.to_string_lossy(),
        ])
        .args(more)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

fn stop(mut child: std::process::Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "mock should stop cleanly on SIGTERM: {status:?}"
    );
}

#[test]
fn mock_services_run_from_the_binary_and_keep_captures_across_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let send = |url: String, subject: &'static str| {
        let http = http.clone();
        async move {
            http.post(format!("{url}/api/v1/email/send"))
                .json(&serde_json::json!({ "subject": subject, "html_content": "<p>x</p>" }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let (crm, url) = start_mock("crm", tmp.path());
    rt.block_on(async {
        let health = get_json(&http, format!("{url}/health")).await;
        assert_eq!(health["service"], "mock-crm");
        assert_eq!(send(url.clone(), "First weekly issue").await, 200);
    });
    stop(crm);
    assert!(tmp.path().join("mock-crm.db").exists());
    let (crm, url) = start_mock("crm", tmp.path());
    rt.block_on(async {
        assert_eq!(
            send(url.clone(), "Second weekly issue").await,
            200,
            "new run, new ids"
        );
        let caps = get_json(&http, format!("{url}/api/v1/captures")).await;
        assert_eq!(caps["total"], 2, "captures survive a restart");
    });
    stop(crm);
    let (platform, url) = start_mock("platform", tmp.path());
    rt.block_on(async {
        let health = get_json(&http, format!("{url}/health")).await;
        assert_eq!(health["service"], "mock-platform");
    });
    stop(platform);
    assert_eq!(halcytone(&["mock", "erp"]).status.code(), Some(2));
}

#[test]
fn publish_in_dry_run_reaches_the_mocks_and_reports_every_target() {
    let tmp = tempfile::tempdir().unwrap();
    let (crm, crm_url) = start_mock("crm", tmp.path());
    let (platform, platform_url) = start_mock("platform", tmp.path());
    let run = |extra: &[&str]| {
        halcytone_command()
            .args([
                "publish",
                "samples/living-document.md",
                "--now",
                "2026-11-24",
            ])
            .args(extra)
            .current_dir(repo())
            .env("DRY_RUN_MODE", "true")
            .env("MOCK_CRM_BASE_URL", &crm_url)
            .env("MOCK_PLATFORM_BASE_URL", &platform_url)
            .env("PUBLISH_RETRY_BASE_MS", "5")
            .output()
            .unwrap()
    };
    let o = run(&[]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("Dry run:"), "{out}");
    assert!(out.contains("social:instagram"), "{out}");
    assert!(out.contains("0 failed, 0 skipped"), "{out}");
    let o = run(&["--json", "--channels", "web"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["succeeded"], 1);
    assert_eq!(v["skipped"], 2);
    stop(crm);
    stop(platform);
    // With the mocks gone every target fails with the reason, and the exit code says so.
    let o = run(&["--channels", "web"]);
    assert_exit_and_stdout(&o, 1, "could not be reached");
    // Invalid documents are not published.
    let o = halcytone_command()
        .args(["publish", INVALID_DOCUMENT, "--dry-run"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert_exit_and_stderr(&o, 1, "nothing was published");
}

/// The binary run with `args` against the database `url` (`DATABASE_URL`).
fn on_database(url: &str, args: &[&str]) -> std::process::Output {
    halcytone_command()
        .args(args)
        .env("DATABASE_URL", url)
        .output()
        .unwrap()
}

#[test]
fn migrate_and_keys_work_on_a_fresh_sqlite_database() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("db/halcytone.db").display());
    let run = |args: &[&str]| on_database(&url, args);
    let o = run(&["migrate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The newest migration is the number of SQLite migration files.
    let newest = std::fs::read_dir(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../store/migrations/sqlite"),
    )
    .unwrap()
    .count();
    assert!(
        stdout(&o).contains("sqlite database")
            && stdout(&o).contains(&format!("at migration {newest}")),
        "{}",
        stdout(&o)
    );
    let o = run(&[
        "keys",
        "create",
        "--name",
        "dashboard",
        "--scopes",
        "read,write",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).trim().starts_with("hk_"), "{}", stdout(&o));
    let id = stderr(&o).split_whitespace().nth(1).unwrap().to_string();
    let secret = stdout(&o).trim().to_string();
    let listed = run(&["keys", "list"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let line = stdout(&listed)
        .lines()
        .find(|l| l.starts_with(&id))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("{id} listed: {}", stdout(&listed)));
    assert!(line.contains("dashboard") && line.contains("read,write") && line.ends_with("active"));
    assert!(!stdout(&listed).contains(&secret), "never the secret");
    assert!(run(&["keys", "revoke", &id]).status.success());
    let listed = stdout(&run(&["keys", "list"]));
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(&id) && l.contains("revoked 20")),
        "{listed}"
    );
    assert_eq!(
        run(&["keys", "revoke", &id]).status.code(),
        Some(2),
        "already revoked"
    );
    let o = run(&["keys", "create", "--name", "x", "--scopes", "root"]);
    assert_stderr_contains(&o, "unknown scope 'root'");
    let o = halcytone_command()
        .args(["migrate", "--database-url", "mysql://x"])
        .output()
        .unwrap();
    assert_exit_and_stderr(&o, 2, "use sqlite://PATH or postgres://");
}

#[test]
fn worker_drains_the_queue_into_the_mocks() {
    use halcytone_store::{NewJob, SqliteStore, Store};
    let tmp = tempfile::tempdir().unwrap();
    let db_path = tmp.path().join("halcytone.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sample = std::fs::read_to_string(repo().join("samples/living-document.md")).unwrap();
    let job_id = rt.block_on(async {
        let store = SqliteStore::open(&db_path).await.unwrap();
        let (doc, _) = store
            .put_document("file:samples/living-document.md", "markdown", &sample, 0)
            .await
            .unwrap();
        let spec = halcytone_http::worker::JobSpec::Publish(Box::new(
            halcytone_http::worker::PublishSpec::new(
                vec!["email".into(), "web".into(), "social".into()],
                1_795_500_000_000,
            ),
        ));
        let job = NewJob {
            document_id: doc.id,
            channels: spec.targets().to_vec(),
            payload: spec.to_payload(),
            run_at_ms: 0,
            scheduled_ms: None,
            max_attempts: 3,
            correlation_id: "corr-cli-worker".into(),
            retry_of: None,
            batch_id: None,
        };
        store.enqueue(job, 0).await.unwrap().id
    });
    let (crm, crm_url) = start_mock("crm", tmp.path());
    let (platform, platform_url) = start_mock("platform", tmp.path());
    let o = halcytone_command()
        .args(["worker", "--drain", "--dry-run"])
        .env("DATABASE_URL", format!("sqlite://{}", db_path.display()))
        .env("MOCK_CRM_BASE_URL", &crm_url)
        .env("MOCK_PLATFORM_BASE_URL", &platform_url)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_stderr_contains(&o, &format!("{job_id}: completed"));
    assert_stderr_contains(&o, "queue drained: 1 job(s) run");
    stop(crm);
    stop(platform);
    let job = rt.block_on(async {
        SqliteStore::open(&db_path)
            .await
            .unwrap()
            .job(&job_id)
            .await
            .unwrap()
            .unwrap()
    });
    assert_eq!(
        job.results["social"]["publishes"].as_array().unwrap().len(),
        4
    );
}

fn config_check(vars: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = halcytone_command();
    cmd.args(["config", "check"])
        .current_dir(dir.path())
        .env_clear();
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn config_check_explains_every_bad_value_and_hides_secrets() {
    let o = config_check(&[
        ("DRY_RUN_MODE", "true"),
        ("CRM_API_KEY", "crm-key-that-must-not-show"),
        ("MAX_BODY_BYTES", "4096"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("dry run on"));
    // The settings in force are listed, a secret by its length only.
    assert!(out.contains("  MAX_BODY_BYTES=\"4096\""), "{out}");
    assert!(
        out.contains("  CRM_API_KEY=(26 characters, hidden)"),
        "{out}"
    );
    assert!(out.contains("  REQUEST_TIMEOUT (default)"), "{out}");
    assert!(!out.contains("must-not-show"), "{out}");
    let o = config_check(&[
        ("DRY_RUN_MODE", "maybe"),
        ("REQUEST_TIMEOUT", "-1"),
        ("RATE_LIMIT_PER_MINUTE", "lots"),
        ("ENVIRONMENT", "production"),
        ("API_KEY", "change-me-please-0000"),
        ("LOG_LEVEL", "loud=="),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    for name in [
        "DRY_RUN_MODE=\"maybe\"",
        "CRM_BASE_URL",
        "PLATFORM_BASE_URL",
        "REQUEST_TIMEOUT=\"-1\"",
        "RATE_LIMIT_PER_MINUTE=\"lots\"",
        "API_KEY=(21 characters, hidden)",
        "CRM_API_KEY: required in production",
        "LOG_LEVEL",
    ] {
        assert!(out.contains(name), "{name} in:\n{out}");
    }
    assert!(
        !out.contains("change-me"),
        "secrets are never printed:\n{out}"
    );
    let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(
        errors
            .iter()
            .filter(|l| l.contains("REQUEST_TIMEOUT"))
            .count(),
        1,
        "one error line per variable:\n{out}"
    );
}

#[test]
fn production_refuses_dry_run_mock_services_and_any_origin() {
    let o = config_check(&[
        ("ENVIRONMENT", "production"),
        ("USE_MOCK_SERVICES", "true"),
        ("CORS_ORIGINS", "*"),
        ("API_KEY", "q8Zr4LmN2vXp7TgK1sHc9WfB3yJd6UeA"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("error  CORS_ORIGINS=\"*\""), "{out}");
    assert!(out.contains("not the mock services"), "{out}");
    assert!(
        !out.contains("error  API_KEY=("),
        "a real-looking key is accepted:\n{out}"
    );
    assert!(out.contains("  API_KEY=(32 characters, hidden)"), "{out}");
}

#[test]
fn credentials_are_set_from_stdin_listed_masked_and_rotated() {
    use std::io::Write;
    use std::process::Stdio;
    const OLD: &str = "first encryption passphrase, long enough to use";
    const NEW: &str = "second encryption passphrase, long enough to use";
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("halcytone.db").display());
    let run = |args: &[&str], keys: &[(&str, &str)], input: Option<&str>| {
        let mut cmd = halcytone_command();
        cmd.args(args)
            .current_dir(tmp.path())
            .env("DATABASE_URL", &url)
            .env_remove("API_KEY_ENCRYPTION_KEY")
            .env_remove("API_KEY_ENCRYPTION_KEY_PREVIOUS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in keys {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.unwrap_or("").as_bytes()).unwrap();
        drop(stdin);
        child.wait_with_output().unwrap()
    };
    let old = [("API_KEY_ENCRYPTION_KEY", OLD)];
    let o = run(
        &["credentials", "set", "crm_api_key"],
        &[],
        Some("crm-live-key-0001-abcd\n"),
    );
    assert_eq!(o.status.code(), Some(2), "no key, no storing");
    assert_stderr_contains(&o, "API_KEY_ENCRYPTION_KEY is not set");
    let o = run(&["credentials", "set", "crm_api_key"], &old, Some(" x\n"));
    assert_stderr_contains(
        &o,
        "crm_api_key: the value has leading or trailing whitespace",
    );
    let o = run(&["credentials", "set", "password"], &old, Some("x\n"));
    assert_stderr_contains(&o, "known: crm_api_key, platform_api_key");
    let o = run(
        &["credentials", "set", "crm_api_key"],
        &old,
        Some("crm-live-key-0001-abcd\n"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_stdout_contains(&o, "stored crm_api_key (****abcd)");
    let raw = std::fs::read(tmp.path().join("halcytone.db")).unwrap();
    let wal = std::fs::read(tmp.path().join("halcytone.db-wal")).unwrap_or_default();
    for bytes in [&raw, &wal] {
        assert!(
            !String::from_utf8_lossy(bytes).contains("crm-live-key-0001"),
            "the database file holds the plaintext"
        );
    }
    let o = run(&["credentials", "list"], &old, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("****abcd") && stdout(&o).contains(": opens"),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("crm-live-key"), "{}", stdout(&o));
    // Rotation: the new key with the old one as previous seals everything again.
    let both = [
        ("API_KEY_ENCRYPTION_KEY", NEW),
        ("API_KEY_ENCRYPTION_KEY_PREVIOUS", OLD),
    ];
    let o = run(&["credentials", "list"], &both, None);
    assert_stdout_contains(&o, "sealed with an older key");
    let o = run(&["credentials", "rotate"], &both, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_stdout_contains(&o, "resealed 1 (crm_api_key)");
    let o = run(
        &["credentials", "list"],
        &[("API_KEY_ENCRYPTION_KEY", NEW)],
        None,
    );
    assert!(o.status.success(), "{}", stdout(&o));
    let o = run(&["credentials", "list"], &old, None);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the old key alone no longer opens it"
    );
    assert_stdout_contains(&o, "DOES NOT OPEN");
    let o = run(&["credentials", "delete", "crm_api_key"], &old, None);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["credentials", "delete", "crm_api_key"], &old, None);
    assert_stderr_contains(&o, "crm_api_key is not stored");
}

/// Runs `halcytone args…`, reads the first bytes it prints, then closes the pipe, as
/// `halcytone … | head -c 100` would; returns the exit status and what it said on stderr.
fn into_closed_pipe(args: &[&str]) -> (std::process::ExitStatus, String) {
    use std::io::Read;
    let mut child = halcytone_command()
        .args(args)
        .current_dir(repo())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run halcytone: {e}"));
    let mut head = [0_u8; 100];
    let mut stdout = child.stdout.take().unwrap();
    stdout.read_exact(&mut head).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    (out.status, stderr(&out))
}

#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    // Large enough that its output overflows the pipe before the reader goes.
    let doc = dir.path().join("long.md");
    let mut text = String::from("# Notes\n\n## [Tips] Tips\n\n");
    for i in 0..400 {
        text.push_str(&format!(
            "### Tip {i}\n\nBreathe in for four counts and out for six, {i} times a day.\n\n"
        ));
    }
    std::fs::write(&doc, text).unwrap();
    let doc = doc.to_string_lossy().into_owned();
    for args in [
        vec!["generate", doc.as_str()],
        vec!["validate", "--json", doc.as_str()],
    ] {
        let (status, err) = into_closed_pipe(&args);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_ne!(status.code(), Some(101), "{args:?}: {err}");
        assert!(
            matches!(status.code(), Some(0 | 141 | 1)),
            "{args:?}: {status:?} {err}"
        );
        assert!(!err.contains("Broken pipe"), "{args:?} said: {err}");
    }
}

#[test]
fn a_bad_dot_env_line_is_reported_with_its_number_and_the_rest_still_loads() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "DRY_RUN_MODE=true\nthis line is not a setting\nSERVICE_NAME=from-dot-env\n",
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_halcytone"));
    cmd.args(["config", "check"])
        .current_dir(dir.path())
        .env_clear();
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    let o = cmd.output().unwrap();
    let out = stdout(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        err.contains("warning: .env:2: cannot read this line"),
        "{err}"
    );
    assert!(
        out.contains("error  .env:2: cannot read this line"),
        "{out}"
    );
    // The line after the bad one was read.
    assert!(out.contains("  SERVICE_NAME=\"from-dot-env\""), "{out}");
}

#[test]
fn audiences_are_imported_from_csv_and_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("halcytone.db").display());
    let run = |args: &[&str]| on_database(&url, args);
    let csv = tmp.path().join("people.csv");
    std::fs::write(
        &csv,
        "email,name,tags,plan\nann@example.com,Ann,beta,pro\nnot-an-address,Bob,,\nANN@example.com,Annie,,team\ncleo@example.com,Cleo,news;beta,\n",
    )
    .unwrap();
    let file = csv.to_str().unwrap();
    let o = run(&["audience", "import", file, "--name", "Clinic list"]);
    assert_exit_and_stdout(
        &o,
        0,
        "4 rows read: 2 imported, 0 updated, 1 repeated, 1 refused; the audience has 2 members",
    );
    assert_stderr_contains(&o, "created audience \"Clinic list\"");
    assert_stderr_contains(
        &o,
        &format!("{file}:3: refused \"not-an-address\": email: has no @"),
    );
    // The same name again imports into the same audience.
    let o = run(&["audience", "import", file, "--name", "Clinic list"]);
    assert_exit_and_stdout(&o, 0, "0 imported, 2 updated");
    assert_stderr_contains(&o, "importing into audience \"Clinic list\"");
    let o = run(&["audience", "list"]);
    assert_exit_and_stdout(&o, 0, "Clinic list\t2\t");

    // Errors name the file, and the line where there is one.
    let bad = tmp.path().join("bad.csv");
    std::fs::write(&bad, "name,plan\nAnn,pro\n").unwrap();
    let bad = bad.to_str().unwrap();
    let o = run(&["audience", "import", bad, "--name", "Clinic list"]);
    assert_exit_and_stderr(&o, 2, &format!("{bad}:1: no email column"));
    let missing = tmp.path().join("missing.csv");
    let missing = missing.to_str().unwrap();
    let o = run(&["audience", "import", missing, "--name", "Clinic list"]);
    assert_exit_and_stderr(&o, 2, &format!("{missing}: cannot open it"));
    let o = run(&["audience", "import", file, "--name", " "]);
    assert_exit_and_stderr(&o, 2, "--name: 1 to 100 characters");
}

#[test]
fn the_mock_crm_lists_people_loaded_from_a_csv_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("people.csv");
    std::fs::write(
        &csv,
        "email,first_name,tags\nann@clinic.example,Ann,beta|vip\n",
    )
    .unwrap();
    let (crm, url) = start_mock_with("crm", tmp.path(), &["--subscribers", csv.to_str().unwrap()]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let subs = get_json(
            &http,
            format!("{url}/api/v1/users/subscribers?status=all&offset=1000"),
        )
        .await;
        assert_eq!(subs["total"], 1001, "{subs}");
        assert_eq!(subs["subscribers"][0]["id"], "sub_1000", "{subs}");
        assert_eq!(
            subs["subscribers"][0]["tags"],
            serde_json::json!(["beta", "vip"])
        );
    });
    stop(crm);
    let missing = tmp.path().join("missing.csv");
    let o = halcytone(&[
        "mock",
        "crm",
        "--port",
        "0",
        "--data-dir",
        &tmp.path().to_string_lossy(),
        "--subscribers",
        missing.to_str().unwrap(),
    ]);
    assert_exit_and_stderr(&o, 2, "--subscribers");
    assert_stderr_contains(&o, "missing.csv: cannot open it");
}

/// The quoted strings of a zone-file TXT line, joined.
fn txt_value(line: &str) -> (Vec<String>, String) {
    let strings: Vec<String> = line
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    let joined = strings.concat();
    (strings, joined)
}

#[test]
fn dkim_generate_writes_a_key_and_prints_its_record_and_record_reads_it_back() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("keys/news.pem");
    let key_arg = key.to_string_lossy().into_owned();
    let o = halcytone(&[
        "dkim",
        "generate",
        "--selector",
        "news2026",
        "--domain",
        "Example.com",
        "--out",
        &key_arg,
    ]);
    assert_exit_and_stdout(
        &o,
        0,
        "news2026._domainkey.example.com. IN TXT \"v=DKIM1; k=rsa; p=",
    );
    assert_stderr_contains(&o, "DKIM_PRIVATE_KEY_FILE=");
    let printed = stdout(&o).trim().to_string();
    let (strings, value) = txt_value(&printed);
    assert!(
        strings.len() >= 2,
        "an RSA 2048 record needs two strings: {printed}"
    );
    assert!(strings.iter().all(|s| s.len() <= 255), "{printed}");
    assert_eq!(strings[0].len(), 255, "{printed}");
    assert!(value.len() > 390, "{value}");
    let pem = std::fs::read_to_string(&key).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // A key file is never replaced.
    let again = halcytone(&[
        "dkim",
        "generate",
        "--domain",
        "example.com",
        "--out",
        &key_arg,
    ]);
    assert_exit_and_stderr(&again, 2, "is not replaced");
    assert_eq!(std::fs::read_to_string(&key).unwrap(), pem);

    // `dkim record` prints the same record for the configured key.
    let record = halcytone_command()
        .args(["dkim", "record"])
        .current_dir(repo())
        .env("DKIM_PRIVATE_KEY_FILE", &key)
        .env("DKIM_SELECTOR", "news2026")
        .env("SMTP_FROM", "Halcytone <newsletter@example.com>")
        .output()
        .unwrap();
    assert_exit_and_stdout(&record, 0, &printed);

    // Ed25519: one short string; the domain from SMTP_FROM.
    let ed = tmp.path().join("ed.pem");
    let o = halcytone_command()
        .args(["dkim", "generate", "--algorithm", "ed25519", "--out"])
        .arg(&ed)
        .current_dir(repo())
        .env("SMTP_FROM", "Halcytone <newsletter@mail.example.org>")
        .output()
        .unwrap();
    assert_exit_and_stdout(
        &o,
        0,
        "halcytone._domainkey.mail.example.org. IN TXT \"v=DKIM1; k=ed25519; p=",
    );
    let (strings, _) = txt_value(stdout(&o).trim());
    assert_eq!(strings.len(), 1);
}

#[test]
fn dkim_commands_explain_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("k.pem").to_string_lossy().into_owned();
    let o = halcytone(&[
        "dkim",
        "generate",
        "--domain",
        "example.com",
        "--algorithm",
        "dsa",
        "--out",
        &out,
    ]);
    assert_exit_and_stderr(&o, 2, "--algorithm");
    let o = halcytone(&[
        "dkim",
        "generate",
        "--domain",
        "not a domain",
        "--out",
        &out,
    ]);
    assert_exit_and_stderr(&o, 2, "--domain");
    let o = halcytone_command()
        .args(["dkim", "generate", "--out", &out])
        .current_dir(repo())
        .env_remove("SMTP_FROM")
        .env_remove("DKIM_DOMAIN")
        .output()
        .unwrap();
    assert_exit_and_stderr(&o, 2, "--domain: required");

    let record = |file: &std::path::Path| {
        halcytone_command()
            .args(["dkim", "record"])
            .current_dir(repo())
            .env("DKIM_PRIVATE_KEY_FILE", file)
            .env("DKIM_DOMAIN", "example.com")
            .output()
            .unwrap()
    };
    let missing = tmp.path().join("missing.pem");
    let o = record(&missing);
    assert_exit_and_stderr(&o, 2, "DKIM_PRIVATE_KEY_FILE");
    assert_stderr_contains(&o, "cannot read");
    let junk = tmp.path().join("junk.pem");
    std::fs::write(&junk, "not a key at all").unwrap();
    let o = record(&junk);
    assert_exit_and_stderr(&o, 2, "not a PEM private key");
    let o = halcytone_command()
        .args(["dkim", "record"])
        .current_dir(repo())
        .env_remove("DKIM_PRIVATE_KEY")
        .env_remove("DKIM_PRIVATE_KEY_FILE")
        .output()
        .unwrap();
    assert_exit_and_stderr(&o, 2, "no DKIM key is configured");
}

#[test]
fn jobs_watch_follows_a_job_to_its_end() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("halcytone.db");
    let url = format!("sqlite://{}", path.display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let id = rt.block_on(async {
        use halcytone_store::Store;
        let store = halcytone_store::SqliteStore::open(&path).await.unwrap();
        let job = store
            .enqueue(
                halcytone_store::NewJob {
                    document_id: "doc".into(),
                    channels: vec!["email".into()],
                    payload: serde_json::json!({}),
                    run_at_ms: 0,
                    scheduled_ms: None,
                    max_attempts: 3,
                    correlation_id: "corr-watch".into(),
                    retry_of: None,
                    batch_id: None,
                },
                0,
            )
            .await
            .unwrap();
        store.cancel(&job.id, 1).await.unwrap();
        job.id
    });
    // A job that ended otherwise than completed: its line, and exit 1.
    let o = on_database(&url, &["jobs", "watch", &id]);
    assert_exit_and_stdout(&o, 1, &format!("job {id}: cancelled"));
    // An unknown job is an error naming it.
    let o = on_database(&url, &["jobs", "watch", "job_nope"]);
    assert_exit_and_stderr(&o, 2, "job job_nope: no such job in this database");
}
