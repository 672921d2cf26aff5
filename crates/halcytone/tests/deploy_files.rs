//! The deployment and monitoring files, checked as files (no Docker engine runs here): every
//! YAML and JSON file parses; compose files mount only paths that exist; Kubernetes manifests
//! have their required fields; and every metric an alert rule or a Grafana panel queries is
//! really exported by the API or a mock (scraped from the running services), or comes from
//! Prometheus itself or node-exporter.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use halcytone_testkit::http::{get_text, send_for_json};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut v: serde_yaml::Value = serde_yaml::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()));
    // Compose files share settings through `<<: *anchor` merge keys.
    v.apply_merge()
        .unwrap_or_else(|e| panic!("{}: merge keys: {e}", path.display()));
    serde_json::to_value(v).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn files(dir: &Path, ext: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(files(&p, ext));
        } else if ext.iter().any(|e| p.extension().is_some_and(|x| x == *e)) {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn every_yaml_and_json_file_parses() {
    let deploy = repo().join("deploy");
    let mut n = 0;
    for f in files(&deploy, &["yml", "yaml"]) {
        // Kubernetes files may hold several documents.
        let text = std::fs::read_to_string(&f).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let _: Value = serde::Deserialize::deserialize(doc)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        }
        n += 1;
    }
    for f in files(&deploy, &["json"]) {
        let text = std::fs::read_to_string(&f).unwrap();
        let _: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        n += 1;
    }
    assert!(n >= 15, "only {n} files under deploy/");
}

#[test]
fn compose_files_mount_existing_paths_and_build_the_dockerfile() {
    let root = repo();
    for name in [
        "docker-compose.yml",
        "docker-compose.mocks.yml",
        "docker-compose.monitoring.yml",
        "docker-compose.dev.yml",
    ] {
        let doc = yaml(&root.join(name));
        let services = doc["services"]
            .as_object()
            .unwrap_or_else(|| panic!("{name}: no services"));
        assert!(!services.is_empty());
        for (svc, def) in services {
            assert!(
                def["image"].is_string() || def["build"].is_object() || def["build"].is_string(),
                "{name}: {svc} has neither image nor build"
            );
            for v in def["volumes"].as_array().into_iter().flatten() {
                let Some(spec) = v.as_str() else { continue };
                let source = spec.split(':').next().unwrap();
                if source.starts_with("./") || source.starts_with("../") {
                    assert!(
                        root.join(source).exists(),
                        "{name}: {svc} mounts {source}, which does not exist"
                    );
                }
            }
        }
    }
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    for needle in ["FROM ", "USER ", "HEALTHCHECK", "cargo build --release"] {
        assert!(dockerfile.contains(needle), "Dockerfile lacks {needle}");
    }
}

/// The seed README's `docker-compose -f docker-compose.dev.yml up`: the dry-run stack of
/// `halcytone up` in one container, on the seed ports, under the names the monitoring scrapes.
#[test]
fn the_dev_compose_file_runs_halcytone_up_where_the_monitoring_finds_it() {
    let root = repo();
    let doc = yaml(&root.join("docker-compose.dev.yml"));
    let app = &doc["services"]["app"];
    assert_eq!(app["build"]["dockerfile"], "Dockerfile");
    let command: Vec<&str> = app["command"]
        .as_array()
        .expect("docker-compose.dev.yml: app has no command list")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(command.first(), Some(&"up"), "{command:?}");
    for (flag, value) in [
        ("--host", "0.0.0.0"),
        ("--port", "8000"),
        ("--crm-port", "8001"),
        ("--platform-port", "8002"),
    ] {
        let at = command.iter().position(|c| *c == flag);
        assert_eq!(
            at.map(|i| command[i + 1]),
            Some(value),
            "{flag} {value} missing from {command:?}"
        );
    }
    // The document it serves is in the mounted samples folder.
    let doc_at = command.iter().position(|c| *c == "--document").unwrap();
    let document = command[doc_at + 1];
    let mounts: Vec<&str> = app["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let samples = mounts
        .iter()
        .find(|m| m.starts_with("./samples:"))
        .expect("./samples is not mounted");
    let target = samples.split(':').nth(1).unwrap();
    let inside = document.strip_prefix(&format!("{target}/")).unwrap();
    assert!(root.join("samples").join(inside).is_file(), "{document}");
    let ports: Vec<&str> = app["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for p in ["8000:8000", "8001:8001", "8002:8002"] {
        assert!(ports.contains(&p), "{p} not published: {ports:?}");
    }
    assert_eq!(doc["networks"]["default"]["name"], "halcytone");
    let aliases = &app["networks"]["default"]["aliases"];
    for name in ["mock-crm", "mock-platform"] {
        assert!(
            aliases
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == name)),
            "app is not reachable as {name}: {aliases}"
        );
    }
    // Prometheus' compose targets are these names and ports.
    let prom =
        std::fs::read_to_string(root.join("deploy/monitoring/prometheus/prometheus.yml")).unwrap();
    for target in ["app:8000", "mock-crm:8001", "mock-platform:8002"] {
        assert!(
            prom.contains(target),
            "prometheus.yml does not scrape {target}"
        );
    }
}

/// The seed README's `docker-compose -f monitoring/docker-compose.monitoring.yml up -d`.
#[test]
fn the_seed_path_of_the_monitoring_compose_file_includes_the_real_one() {
    let root = repo();
    let doc = yaml(&root.join("monitoring/docker-compose.monitoring.yml"));
    let include = doc["include"]
        .as_array()
        .expect("monitoring/docker-compose.monitoring.yml includes nothing");
    assert_eq!(include.len(), 1);
    let path = include[0]["path"].as_str().unwrap();
    let target = root.join("monitoring").join(path);
    assert_eq!(
        target.canonicalize().unwrap(),
        root.join("docker-compose.monitoring.yml")
            .canonicalize()
            .unwrap()
    );
}

#[test]
fn kubernetes_manifests_have_their_required_fields() {
    let dir = repo().join("deploy/kubernetes");
    let mut kinds = BTreeSet::new();
    for f in files(&dir, &["yml", "yaml"]) {
        let text = std::fs::read_to_string(&f).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v: Value = serde::Deserialize::deserialize(doc).unwrap();
            if v.is_null() {
                continue;
            }
            let kind = v["kind"]
                .as_str()
                .unwrap_or_else(|| panic!("{}: a document without kind", f.display()));
            assert!(
                v["apiVersion"].is_string(),
                "{}: {kind} without apiVersion",
                f.display()
            );
            assert!(
                v["metadata"]["name"].is_string(),
                "{}: {kind} without metadata.name",
                f.display()
            );
            if kind == "Deployment" {
                let c = &v["spec"]["template"]["spec"]["containers"][0];
                assert!(
                    c["image"].is_string(),
                    "{}: container without image",
                    f.display()
                );
                if v["metadata"]["name"] == "halcytone" {
                    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                        assert!(
                            c[probe]["httpGet"]["path"].is_string(),
                            "{}: {probe} missing",
                            f.display()
                        );
                    }
                }
            }
            kinds.insert(kind.to_string());
        }
    }
    for k in [
        "Deployment",
        "Service",
        "ConfigMap",
        "Secret",
        "HorizontalPodAutoscaler",
    ] {
        assert!(
            kinds.contains(k),
            "no {k} under deploy/kubernetes: {kinds:?}"
        );
    }
}

/// Metric names used by a PromQL expression (functions, keywords, labels and literals removed).
fn metric_names(expr: &str) -> BTreeSet<String> {
    // Keywords followed by a label list, e.g. `by (job)`.
    const LABEL_LIST_WORDS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    // Other keywords, aggregations and literals (LABEL_LIST_WORDS are handled before these).
    const WORDS: &[&str] = &[
        "bool",
        "and",
        "or",
        "unless",
        "offset",
        "sum",
        "avg",
        "min",
        "max",
        "count",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
        "le",
        "inf",
        "nan",
    ];
    // Drop strings, label matchers and range selectors.
    let mut cleaned = String::new();
    let (mut depth_brace, mut in_str, mut depth_bracket) = (0, None::<char>, 0);
    for ch in expr.chars() {
        match (in_str, ch) {
            (Some(q), c) if c == q => in_str = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => in_str = Some(ch),
            (None, '{') => depth_brace += 1,
            (None, '}') => depth_brace -= 1,
            (None, '[') => depth_bracket += 1,
            (None, ']') => depth_bracket -= 1,
            (None, c) if depth_brace == 0 && depth_bracket == 0 => cleaned.push(c),
            _ => {}
        }
    }
    // Drop `by (...)`, `without (...)`, `on (...)`, `ignoring (...)`, `group_left (...)` label lists.
    let mut out = BTreeSet::new();
    let chars: Vec<char> = cleaned.chars().collect();
    let mut i = 0;
    let mut skip_next_parens = false;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            let is_call = j < chars.len() && chars[j] == '(';
            let lower = word.to_ascii_lowercase();
            if LABEL_LIST_WORDS.contains(&lower.as_str()) {
                skip_next_parens = true;
            } else if !is_call
                && !WORDS.contains(&lower.as_str())
                && !word.chars().all(|c| c.is_ascii_digit())
            {
                out.insert(word);
            }
            continue;
        }
        if c == '(' && skip_next_parens {
            skip_next_parens = false;
            while i < chars.len() && chars[i] != ')' {
                i += 1;
            }
        }
        if c.is_ascii_digit() {
            // Numbers and durations (5m, 1e3).
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    out
}

#[test]
fn metric_names_are_read_from_promql() {
    let names = metric_names(
        r#"histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{job="halcytone", route!~"/health"}[5m]))) > 2"#,
    );
    assert_eq!(
        names,
        BTreeSet::from(["http_request_duration_seconds_bucket".to_string()])
    );
    let names = metric_names(
        "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes > 0.95 and on(instance) up == 1",
    );
    assert_eq!(names.len(), 3, "{names:?}");
}

/// Every PromQL expression of the alert rules and dashboards.
fn expressions() -> Vec<(String, String)> {
    let root = repo().join("deploy/monitoring");
    let mut out = Vec::new();
    let rules = yaml(&root.join("prometheus/alerts.yml"));
    for g in rules["groups"].as_array().unwrap() {
        for r in g["rules"].as_array().unwrap() {
            out.push((
                format!(
                    "alert {}",
                    r["alert"].as_str().or(r["record"].as_str()).unwrap_or("?")
                ),
                r["expr"].as_str().unwrap().to_string(),
            ));
        }
    }
    fn walk(v: &Value, file: &str, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(m) => {
                if let (Some(Value::String(e)), Some(_)) = (
                    m.get("expr"),
                    m.get("refId")
                        .or(m.get("datasource"))
                        .or(Some(&Value::Null)),
                ) {
                    out.push((format!("dashboard {file}"), e.clone()));
                }
                for x in m.values() {
                    walk(x, file, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, file, out)),
            _ => {}
        }
    }
    for f in files(&root.join("grafana/dashboards"), &["json"]) {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        walk(&v, &f.file_name().unwrap().to_string_lossy(), &mut out);
    }
    out
}

/// The `/metrics` text of the API and both mocks of `halcytone up` after traffic that makes
/// every labelled series appear (a preview, a publish job to email, web and X).
async fn expositions_after_traffic() -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let (_up, api) = common::up(dir.path(), &[]);
    let key = std::fs::read_to_string(dir.path().join("data/api-key.txt")).unwrap();
    let key = key.trim();
    let http = reqwest::Client::new();
    send_for_json(
        http.post(format!("{api}/api/v2/generate-content"))
            .body(r#"{"preview_only":true}"#),
    )
    .await;
    let job = send_for_json(
        http.post(format!("{api}/api/v2/content/sync"))
            .bearer_auth(key)
            .body(r#"{"channels":["email","website","social_twitter"]}"#),
    )
    .await;
    let id = job["job_id"].as_str().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let j = send_for_json(http.get(format!("{api}/api/v2/jobs/{id}")).bearer_auth(key)).await;
        if ["completed", "partial", "failed"].contains(&j["status"].as_str().unwrap_or_default()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job did not finish: {j}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let status = send_for_json(
        http.get(format!("{api}/api/v1/services/status"))
            .bearer_auth(key),
    )
    .await;
    let mock = |name: &str| {
        status["service_info"][name]["url"]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} url in {status}"))
            .trim_end_matches('/')
            .to_string()
    };
    let mut out = Vec::new();
    for url in [
        format!("{api}/metrics"),
        format!("{}/metrics", mock("crm")),
        format!("{}/metrics", mock("platform")),
    ] {
        let text = get_text(&http, &url).await;
        out.push((url, text));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_and_dashboards_use_only_metrics_the_services_export() {
    let mut exported = BTreeSet::new();
    for (_, text) in expositions_after_traffic().await {
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let name: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            exported.insert(name);
        }
    }
    let outside = |n: &str| {
        n == "up"
            || n == "ALERTS"
            || n.starts_with("node_")
            || n.starts_with("prometheus_")
            || n.starts_with("scrape_")
    };
    let exprs = expressions();
    assert!(exprs.len() >= 30, "only {} expressions found", exprs.len());
    let mut missing = Vec::new();
    for (where_, e) in &exprs {
        for name in metric_names(e) {
            if !exported.contains(&name) && !outside(&name) {
                missing.push(format!("{where_}: {name} (in `{}`)", e.replace('\n', " ")));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "queried but never exported:\n{}",
        missing.join("\n")
    );
    let rules = yaml(&repo().join("deploy/monitoring/prometheus/alerts.yml"));
    let names: BTreeSet<&str> = rules["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| {
            g["rules"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|r| r["alert"].as_str())
        })
        .collect();
    for alert in [
        "HalcytoneServiceDown",
        "CriticalResponseTime",
        "HighErrorRate",
        "CriticalMemoryUsage",
        "MockCRMServiceDown",
        "MockPlatformServiceDown",
        "HighResponseTime",
        "HighCPUUsage",
        "HighMemoryUsage",
        "DryRunModeDisabled",
        "NoContentGenerationActivity",
        "ContentGenerationFailures",
        "MockServiceInteractionFailure",
    ] {
        assert!(names.contains(alert), "alert {alert} is missing");
    }
}

/// `promtool`, when installed (CI installs Debian's `prometheus` package); `None` skips.
fn promtool() -> Option<std::process::Command> {
    let found = std::process::Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        eprintln!("skipped: promtool is not installed (apt-get install prometheus)");
        return None;
    }
    let mut c = std::process::Command::new("promtool");
    c.current_dir(repo().join("deploy/monitoring/prometheus"));
    Some(c)
}

fn run_ok(mut c: std::process::Command, args: &[&str]) {
    let out = c.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "promtool {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn promtool_accepts_the_configs_rules_and_alert_unit_tests() {
    if promtool().is_none() {
        return;
    }
    run_ok(
        promtool().unwrap(),
        &["check", "config", "--syntax-only", "prometheus.yml"],
    );
    run_ok(
        promtool().unwrap(),
        &["check", "config", "--syntax-only", "prometheus.local.yml"],
    );
    run_ok(promtool().unwrap(), &["check", "rules", "alerts.yml"]);
    // Unit tests: each alert fires on synthetic series and stays silent on healthy ones.
    run_ok(promtool().unwrap(), &["test", "rules", "alerts.test.yml"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exposition_passes_promtool_check_metrics() {
    if promtool().is_none() {
        return;
    }
    for (url, text) in expositions_after_traffic().await {
        let mut child = promtool()
            .unwrap()
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{url}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
