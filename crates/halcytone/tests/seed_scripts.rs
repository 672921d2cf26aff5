//! The scripts and files the seed documents tell a user to run (docs/scripts.md lists them):
//! each exists, answers `--help` with its usage, refuses an unknown option with its usage, and
//! runs for real here, without Docker, on free ports with private data, log and backup
//! directories. Everything a test starts is stopped when it ends, also when it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_halcytone");

/// Shell scripts the seeds name, and the helpers they run.
const SHELL_SCRIPTS: &[&str] = &[
    "scripts/start-all-services.sh",
    "scripts/stop-all-services.sh",
    "scripts/restart-all-services.sh",
    "scripts/health-check.sh",
    "scripts/health-check-all.sh",
    "scripts/health-check-cron.sh",
    "scripts/check-metrics.sh",
    "scripts/send-alert.sh",
    "scripts/smoke-test.sh",
    "scripts/collect-diagnostic-info.sh",
    "scripts/check-configuration.sh",
    "scripts/validate-dry-run.sh",
    "scripts/deploy-dry-run.sh",
    "scripts/backup-system.sh",
    "scripts/restore-backup.sh",
    "scripts/daily-backup.sh",
    "scripts/start-monitoring.sh",
    "scripts/load-test.sh",
    "scripts/start-mock-services.sh",
    "scripts/stop-mock-services.sh",
    "scripts/monitoring-drill.sh",
];

/// Python entry points the seeds name (`python FILE`), and the helpers beside them.
const PYTHON_SCRIPTS: &[&str] = &[
    "mocks/crm_service.py",
    "mocks/platform_service.py",
    "run_dev.py",
    "scripts/start_mock_services.py",
    "scripts/go_live_validation.py",
    "scripts/pre_production_checks.py",
    "scripts/run_performance_baseline.py",
    "scripts/sqlite_backup.py",
    "scripts/load-budgets.py",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    )
}

#[track_caller]
fn assert_ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", show(o));
    text(&o.stdout)
}

#[track_caller]
fn assert_fails(o: &Output, needle: &str) {
    assert!(!o.status.success(), "should have failed:\n{}", show(o));
    let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(all.contains(needle), "no {needle:?} in:\n{}", show(o));
}

/// A GET over plain HTTP/1.0: the status and body, or None when nothing answers.
fn http_get(url: &str) -> Option<(u16, String)> {
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let mut s = TcpStream::connect(host).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").ok()?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).ok()?;
    let status = answer.split_whitespace().nth(1)?.parse().ok()?;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

fn healthy(url: &str) -> bool {
    matches!(http_get(&format!("{url}/health")), Some((200, _)))
}

#[track_caller]
fn wait_healthy(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !healthy(url) {
        assert!(Instant::now() < deadline, "{url}/health never answered");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Is `pid` a running process of the binary under test?
fn ours(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| text(&c).contains(BIN))
        .unwrap_or(false)
}

/// A child killed (SIGKILL) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private environment for the scripts: data, logs and backups in a temporary directory,
/// the API and both mocks on free ports, monitoring addresses where nothing listens, and the
/// binary under test. When dropped, every process of a PID file under its logs is killed.
struct Env {
    dir: tempfile::TempDir,
    api: u16,
    crm: u16,
    platform: u16,
    vars: Vec<(String, String)>,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let (api, crm, platform) = (free_port(), free_port(), free_port());
        let nobody = |p: u16| format!("http://127.0.0.1:{p}");
        let vars = [
            ("HALCYTONE_BIN", BIN.to_string()),
            (
                "HALCYTONE_DATA_DIR",
                dir.path().join("data").display().to_string(),
            ),
            ("LOG_DIR", dir.path().join("logs").display().to_string()),
            (
                "BACKUP_DIR",
                dir.path().join("backups").display().to_string(),
            ),
            ("PORT", api.to_string()),
            ("MOCK_CRM_PORT", crm.to_string()),
            ("MOCK_PLATFORM_PORT", platform.to_string()),
            ("MOCK_SMTP_PORT", "0".to_string()),
            ("PROMETHEUS_URL", nobody(free_port())),
            ("ALERTMANAGER_URL", nobody(free_port())),
            ("GRAFANA_URL", nobody(free_port())),
            ("LOKI_URL", nobody(free_port())),
            ("PYTHONDONTWRITEBYTECODE", "1".to_string()),
            ("LOG_LEVEL", "warn".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Env {
            dir,
            api,
            crm,
            platform,
            vars,
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.api)
    }

    fn crm_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.crm)
    }

    fn platform_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.platform)
    }

    fn set(&mut self, key: &str, value: &str) {
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.to_string(), value.to_string()));
    }

    /// `program args` in the repository root with this environment and no stray configuration.
    fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut c = Command::new(program);
        c.args(args).current_dir(repo()).stdin(Stdio::null());
        for k in [
            "API_URL",
            "CRM_URL",
            "PLATFORM_URL",
            "DATABASE_URL",
            "API_KEY",
            "LIVING_DOC_ID",
            "LIVING_DOC_TYPE",
            "ENVIRONMENT",
            "DRY_RUN_MODE",
            "DRY_RUN",
            "USE_MOCK_SERVICES",
            "MOCK_CRM_BASE_URL",
            "MOCK_PLATFORM_BASE_URL",
            "HALCYTONE_API",
            "DKIM_PRIVATE_KEY_FILE",
            "BACKUP_RETENTION_DAYS",
            "HALCYTONE_TEST_DATABASE_URL",
        ] {
            c.env_remove(k);
        }
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c
    }

    /// Runs a script of the repository (`scripts/x.sh` directly, `*.py` through python3).
    fn run(&self, script: &str, args: &[&str]) -> Output {
        self.run_with(script, args, &[])
    }

    fn run_with(&self, script: &str, args: &[&str], extra: &[(&str, &str)]) -> Output {
        // Backups read, and restores write, the repository's .env and dkim/ unless told
        // otherwise: a test names private ones (unless it names its own, or only asks for help).
        let mut args: Vec<&str> = args.to_vec();
        let private_env = self.path("private.env").display().to_string();
        let private_dkim = self.path("private-dkim").display().to_string();
        let backup = ["backup-system.sh", "restore-backup.sh", "daily-backup.sh"]
            .iter()
            .any(|b| script.ends_with(b));
        let asks_help = args
            .iter()
            .any(|a| *a == "--help" || *a == "--no-such-option");
        if backup && !asks_help {
            if !args.contains(&"--env-file") {
                args.extend_from_slice(&["--env-file", &private_env]);
            }
            if !args.contains(&"--dkim-dir") {
                args.extend_from_slice(&["--dkim-dir", &private_dkim]);
            }
        }
        let args = args.as_slice();
        let path = repo().join(script).display().to_string();
        let mut c = if script.ends_with(".py") {
            let mut c = self.command("python3", &[path.as_str()]);
            c.args(args);
            c
        } else {
            self.command(&path, args)
        };
        for (k, v) in extra {
            c.env(k, v);
        }
        c.output()
            .unwrap_or_else(|e| panic!("cannot run {script}: {e}"))
    }

    /// `halcytone ARGS` with this environment.
    fn halcytone(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let mut c = self.command(BIN, args);
        for (k, v) in extra {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    /// Spawns `program args` with this environment, output discarded.
    fn spawn(&self, program: &str, args: &[&str]) -> Proc {
        Proc(
            self.command(program, args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    }

    fn pid_files(&self) -> Vec<PathBuf> {
        let Ok(dir) = std::fs::read_dir(self.path("logs")) else {
            return Vec::new();
        };
        let mut out: Vec<PathBuf> = dir
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "pid"))
            .collect();
        out.sort();
        out
    }

    fn pid(&self, name: &str) -> u32 {
        let f = self.path(&format!("logs/{name}.pid"));
        std::fs::read_to_string(&f)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()))
            .trim()
            .parse()
            .unwrap()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for f in self.pid_files() {
            let Ok(pid) = std::fs::read_to_string(&f) else {
                continue;
            };
            let Ok(pid) = pid.trim().parse::<u32>() else {
                continue;
            };
            if ours(pid) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }
}

#[test]
fn every_seed_file_answers_help_and_refuses_an_unknown_option() {
    let env = Env::new();
    for script in SHELL_SCRIPTS.iter().chain(PYTHON_SCRIPTS) {
        let path = repo().join(script);
        assert!(path.is_file(), "{script} is missing");
        if script.ends_with(".sh") {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert!(mode & 0o111 != 0, "{script} is not executable");
        }
        let help = env.run(script, &["--help"]);
        let out = assert_ok(&help);
        assert!(
            out.to_lowercase().contains("usage:"),
            "{script} --help prints no usage:\n{}",
            show(&help)
        );
        // Scripts with a required subcommand are given one, so the option is what is refused.
        let mut args: Vec<&str> = match *script {
            "scripts/sqlite_backup.py" => vec!["check", "x.db"],
            "scripts/load-budgets.py" => vec!["previews"],
            _ => vec![],
        };
        args.push("--no-such-option");
        let bad = env.run(script, &args);
        assert!(
            !bad.status.success(),
            "{script} accepted --no-such-option:\n{}",
            show(&bad)
        );
        let err = text(&bad.stderr);
        assert!(
            err.to_lowercase().contains("usage:") && err.contains("--no-such-option"),
            "{script}: the refusal names neither the option nor the usage:\n{}",
            show(&bad)
        );
    }
    // Neither --help nor a refused option started anything.
    assert!(env.pid_files().is_empty(), "{:?}", env.pid_files());
    assert!(!env.path("backups").exists());
}

#[test]
fn start_all_health_check_metrics_smoke_restart_and_stop_all() {
    let env = Env::new();
    // Another process of the same binary, not started by the scripts: stop-all must leave it.
    let other_port = free_port();
    let other_dir = env.path("other");
    let mut other = env.spawn(
        BIN,
        &[
            "mock",
            "platform",
            "--port",
            &other_port.to_string(),
            "--data-dir",
            other_dir.to_str().unwrap(),
        ],
    );
    let other_url = format!("http://127.0.0.1:{other_port}");

    let out = assert_ok(&env.run("scripts/start-all-services.sh", &[]));
    assert!(out.contains("all services healthy"), "{out}");
    for name in ["api", "crm-mock", "platform-mock"] {
        assert!(ours(env.pid(name)), "{name}.pid is not a halcytone process");
    }
    assert!(env.path("data/api-key.txt").is_file());
    // Started twice: nothing new.
    let again = assert_ok(&env.run("scripts/start-all-services.sh", &[]));
    assert!(again.contains("api already running"), "{again}");

    let out = assert_ok(&env.run("scripts/health-check.sh", &[]));
    for (name, url) in [
        ("api", env.api_url()),
        ("mock-crm", env.crm_url()),
        ("mock-platform", env.platform_url()),
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(name) && l.contains(" up ") && l.contains(&url)),
            "{name} is not up at {url}:\n{out}"
        );
    }
    let out = assert_ok(&env.run("scripts/health-check-all.sh", &[]));
    assert!(out.contains("OK    api ready"), "{out}");
    assert!(out.contains("SKIP  prometheus"), "{out}");

    let out = assert_ok(&env.run("scripts/check-metrics.sh", &["--require-dry-run"]));
    assert!(out.contains("halcytone_dry_run_mode 1"), "{out}");
    assert_eq!(out.matches("OK ").count(), 3, "{out}");
    // The API's families are not the mock's: pointed at a mock, the check fails.
    let wrong = env.run_with(
        "scripts/check-metrics.sh",
        &[],
        &[("API_URL", &env.crm_url())],
    );
    assert_fails(&wrong, "MISSING  api");

    let out = assert_ok(&env.run("scripts/smoke-test.sh", &[]));
    assert!(out.contains("smoke test passed"), "{out}");

    let out = assert_ok(&env.run(
        "scripts/collect-diagnostic-info.sh",
        &["--out-dir", env.path("").to_str().unwrap()],
    ));
    let archive = out
        .split_whitespace()
        .find(|w| w.ends_with(".tar.gz"))
        .unwrap_or_else(|| panic!("no archive named in {out}"));
    let listing = Command::new("tar")
        .args(["-tzf", archive])
        .output()
        .unwrap();
    let listing = assert_ok(&listing);
    for f in ["api-health.json", "mock-crm-metrics.txt", "ports.txt"] {
        assert!(listing.contains(f), "{f} not in the archive:\n{listing}");
    }

    let before = env.pid("api");
    let out = assert_ok(&env.run("scripts/restart-all-services.sh", &[]));
    assert!(out.contains("stopped api"), "{out}");
    assert_ne!(env.pid("api"), before, "the API was not restarted");
    assert!(healthy(&env.api_url()));

    let pids: Vec<u32> = ["api", "crm-mock", "platform-mock"]
        .iter()
        .map(|n| env.pid(n))
        .collect();
    let out = assert_ok(&env.run("scripts/stop-all-services.sh", &[]));
    assert_eq!(out.matches("stopped ").count(), 3, "{out}");
    assert!(env.pid_files().is_empty(), "{:?}", env.pid_files());
    for pid in pids {
        assert!(!ours(pid), "pid {pid} still runs after stop-all");
    }
    assert!(!healthy(&env.api_url()) && !healthy(&env.crm_url()));
    assert!(
        other.0.try_wait().unwrap().is_none() && healthy(&other_url),
        "stop-all stopped a halcytone process it did not start"
    );

    let down = env.run("scripts/health-check.sh", &[]);
    assert_eq!(down.status.code(), Some(1), "{}", show(&down));
    assert!(text(&down.stdout).contains("DOWN"), "{}", show(&down));
}

#[test]
fn python_checks_of_a_running_stack_go_live_pre_production_performance() {
    let env = Env::new();
    assert_ok(&env.run("scripts/start-all-services.sh", &[]));

    let out = assert_ok(&env.run("scripts/go_live_validation.py", &[]));
    for check in [
        "configuration",
        "readiness",
        "metrics",
        "dry-run state",
        "preview",
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(check) && l.contains("PASS")),
            "{check} did not pass:\n{out}"
        );
    }
    assert!(out.contains(" 0 failed"), "{out}");
    // The stack is in dry run: expecting it live fails, with the reason in the table.
    let live = env.run(
        "scripts/go_live_validation.py",
        &["--expect-dry-run", "off", "--skip-config"],
    );
    assert_fails(&live, "dry run on (expected off)");

    let production = env.path("production.env");
    std::fs::write(
        &production,
        "API_KEY=q8Zr4LmN2vXp7TgK1sHc9WfB3yJd6UeA\nCRM_BASE_URL=https://crm.invalid\n\
         CRM_API_KEY=crm-token-for-the-test-0001\nPLATFORM_BASE_URL=https://cms.invalid\n\
         PLATFORM_API_KEY=platform-token-for-the-test-0001\nCORS_ORIGINS=https://news.invalid\n",
    )
    .unwrap();
    let out = assert_ok(&env.run(
        "scripts/pre_production_checks.py",
        &[
            "--env-file",
            production.to_str().unwrap(),
            "--expect-dry-run",
            "on",
        ],
    ));
    assert!(out.contains(" 0 failed"), "{out}");
    // Without the production settings, production's configuration check fails.
    let bare = env.run(
        "scripts/pre_production_checks.py",
        &["--expect-dry-run", "on"],
    );
    assert_fails(&bare, "CRM_BASE_URL");

    // Latency targets depend on the machine (tests run in parallel), so only the error rates
    // must pass here; a missed latency target is a FAIL line and exit 1, nothing else.
    let json = env.path("baseline.json");
    let run = env.run(
        "scripts/run_performance_baseline.py",
        &[
            "--type",
            "baseline",
            "--requests",
            "30",
            "--concurrency",
            "4",
            "--output",
            json.to_str().unwrap(),
        ],
    );
    let out = text(&run.stdout);
    for line in out.lines().filter(|l| l.contains(" FAIL ")) {
        assert!(line.contains(": p95 < "), "{}", show(&run));
    }
    assert_eq!(
        run.status.success(),
        !out.contains(" FAIL "),
        "{}",
        show(&run)
    );
    for scenario in ["health", "content", "mocks"] {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("{scenario}: errors <= 1 %")) && l.contains("PASS")),
            "{}",
            show(&run)
        );
    }
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(results["results"].as_array().unwrap().len(), 3);
    assert_eq!(results["results"][1]["scenario"], "content");
    assert_eq!(results["results"][1]["error_rate"], 0.0);

    assert_ok(&env.run("scripts/stop-all-services.sh", &[]));
    let none = env.run("scripts/run_performance_baseline.py", &["--type", "health"]);
    assert_fails(&none, "no answer from");
}

/// `halcytone keys list` of the SQLite database at `db`.
fn keys_on(env: &Env, url: &str) -> String {
    assert_ok(&env.halcytone(&["keys", "list"], &[("DATABASE_URL", url)]))
}

#[test]
fn sqlite_backup_is_online_and_restores_rows_into_a_fresh_data_dir() {
    let mut env = Env::new();
    let data = env.path("data");
    std::fs::create_dir_all(&data).unwrap();
    let url = format!("sqlite://{}/halcytone.db", data.display());
    assert_ok(&env.halcytone(&["migrate"], &[("DATABASE_URL", &url)]));
    assert_ok(&env.halcytone(
        &["keys", "create", "--name", "before-backup"],
        &[("DATABASE_URL", &url)],
    ));
    std::fs::write(
        data.join("api-key.txt"),
        "hk_test_key_for_the_backup_0001\n",
    )
    .unwrap();
    let env_file = env.path(".env");
    std::fs::write(&env_file, "LOG_LEVEL=info\n").unwrap();
    let dkim = env.path("dkim");
    std::fs::create_dir_all(&dkim).unwrap();
    std::fs::write(dkim.join("halcytone.pem"), "not a real key\n").unwrap();
    let (env_arg, dkim_arg) = (env_file.to_str().unwrap(), dkim.to_str().unwrap());

    // A server holds the database (and its directory's lock) while the backup runs.
    let mut serve = env.command(BIN, &["serve", "--dry-run"]);
    serve
        .env("DATABASE_URL", &url)
        .env("API_KEY", "hk_test_key_for_the_backup_0001")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let server = Proc(serve.spawn().unwrap());
    wait_healthy(&env.api_url());
    let backup = env.run(
        "scripts/backup-system.sh",
        &["--env-file", env_arg, "--dkim-dir", dkim_arg],
    );
    let out = assert_ok(&backup);
    let archive = archive_of(&out);
    assert!(out.contains("api_keys 1"), "{out}");
    for f in ["data/api-key.txt", "env/.env", "dkim/halcytone.pem"] {
        assert!(out.contains(f), "{f} not backed up:\n{out}");
    }
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&archive).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the archive is readable by others");
    }
    let refused = env.run("scripts/restore-backup.sh", &["--force"]);
    assert_fails(&refused, "stop it first");
    drop(server);

    // A key made after the backup; the restore must take it away again.
    assert_ok(&env.halcytone(
        &["keys", "create", "--name", "after-backup"],
        &[("DATABASE_URL", &url)],
    ));
    let refused = env.run(
        "scripts/restore-backup.sh",
        &["--env-file", env_arg, "--dkim-dir", dkim_arg],
    );
    assert_fails(&refused, "refusing to overwrite without --force");
    assert!(keys_on(&env, &url).contains("after-backup"));

    // Into a fresh data directory: everything comes back, rows included.
    let fresh = env.path("fresh");
    env.set("HALCYTONE_DATA_DIR", fresh.to_str().unwrap());
    let fresh_env = env.path("fresh.env");
    let fresh_dkim = env.path("fresh-dkim");
    let out = assert_ok(&env.run(
        "scripts/restore-backup.sh",
        &[
            &archive,
            "--env-file",
            fresh_env.to_str().unwrap(),
            "--dkim-dir",
            fresh_dkim.to_str().unwrap(),
        ],
    ));
    assert!(out.contains("integrity check ok"), "{out}");
    assert!(out.contains("restore complete"), "{out}");
    let fresh_url = format!("sqlite://{}/halcytone.db", fresh.display());
    let keys = keys_on(&env, &fresh_url);
    assert!(
        keys.contains("before-backup") && !keys.contains("after-backup"),
        "{keys}"
    );
    assert_eq!(
        std::fs::read_to_string(fresh.join("api-key.txt")).unwrap(),
        "hk_test_key_for_the_backup_0001\n"
    );
    assert_eq!(
        std::fs::read_to_string(&fresh_env).unwrap(),
        "LOG_LEVEL=info\n"
    );
    assert_eq!(
        std::fs::read_to_string(fresh_dkim.join("halcytone.pem")).unwrap(),
        "not a real key\n"
    );

    // Over the original with --force: the later key is gone, the replaced file kept aside.
    env.set("HALCYTONE_DATA_DIR", data.to_str().unwrap());
    assert_ok(&env.run(
        "scripts/restore-backup.sh",
        &[
            &archive,
            "--force",
            "--env-file",
            env_arg,
            "--dkim-dir",
            dkim_arg,
        ],
    ));
    let keys = keys_on(&env, &url);
    assert!(
        keys.contains("before-backup") && !keys.contains("after-backup"),
        "{keys}"
    );
    let kept = std::fs::read_dir(&data).unwrap().flatten().any(|e| {
        e.file_name()
            .to_string_lossy()
            .starts_with("halcytone.db.before-restore-")
    });
    assert!(kept, "the replaced database was not kept");

    // A damaged archive fails verification.
    let work = env.path("damaged");
    std::fs::create_dir_all(&work).unwrap();
    assert_ok(
        &Command::new("tar")
            .args(["-xzf", &archive, "-C", work.to_str().unwrap()])
            .output()
            .unwrap(),
    );
    let top = std::fs::read_dir(&work)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let db = top.join("database/halcytone.db");
    let mut bytes = std::fs::read(&db).unwrap();
    let half = bytes.len() / 2;
    bytes.truncate(half);
    std::fs::write(&db, bytes).unwrap();
    let damaged = env.path("damaged.tar.gz");
    assert_ok(
        &Command::new("tar")
            .args([
                "-czf",
                damaged.to_str().unwrap(),
                "-C",
                work.to_str().unwrap(),
                top.file_name().unwrap().to_str().unwrap(),
            ])
            .output()
            .unwrap(),
    );
    let bad = env.run(
        "scripts/restore-backup.sh",
        &[damaged.to_str().unwrap(), "--verify-only"],
    );
    assert!(!bad.status.success(), "{}", show(&bad));
}

/// A database created for one test on HALCYTONE_TEST_DATABASE_URL's server, dropped after.
struct TestDatabase {
    admin: String,
    name: String,
    url: String,
}

impl TestDatabase {
    fn create(admin: &str, tag: &str) -> TestDatabase {
        let name = format!(
            "halcytone_backup_{tag}_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        let psql = Command::new("psql")
            .args([
                "--no-psqlrc",
                "-qAt",
                admin,
                "-c",
                &format!("CREATE DATABASE {name}"),
            ])
            .output()
            .unwrap();
        assert_ok(&psql);
        let base = admin.split('?').next().unwrap();
        let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
        TestDatabase {
            admin: admin.to_string(),
            name,
            url,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                "--no-psqlrc",
                "-qAt",
                &self.admin,
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}

#[test]
fn postgres_backup_restores_into_another_database() {
    let Ok(admin) = std::env::var("HALCYTONE_TEST_DATABASE_URL") else {
        eprintln!("skipped: set HALCYTONE_TEST_DATABASE_URL to a PostgreSQL server");
        return;
    };
    let env = Env::new();
    let source = TestDatabase::create(&admin, "src");
    let target = TestDatabase::create(&admin, "dst");
    assert_ok(&env.halcytone(&["migrate"], &[("DATABASE_URL", &source.url)]));
    assert_ok(&env.halcytone(
        &["keys", "create", "--name", "pg-backup"],
        &[("DATABASE_URL", &source.url)],
    ));
    for format in ["custom", "plain"] {
        let out = assert_ok(&env.run(
            "scripts/backup-system.sh",
            &["--database-url", &source.url, "--format", format],
        ));
        assert!(out.contains("public.api_keys 1"), "{out}");
        let archive = archive_of(&out);
        let args: &[&str] = if format == "custom" {
            &["--database-url", &target.url]
        } else {
            // The target now holds the first restore: replacing it needs --force.
            let refused = env.run(
                "scripts/restore-backup.sh",
                &[&archive, "--database-url", &target.url],
            );
            assert_fails(&refused, "refusing to overwrite without --force");
            &["--database-url", &target.url, "--force"]
        };
        let mut all = vec![archive.as_str()];
        all.extend_from_slice(args);
        let out = assert_ok(&env.run("scripts/restore-backup.sh", &all));
        assert!(out.contains("restore complete"), "{out}");
        assert!(keys_on(&env, &target.url).contains("pg-backup"));
    }
    // A SQLite archive does not go into PostgreSQL.
    let data = env.path("data");
    std::fs::create_dir_all(&data).unwrap();
    let sqlite = format!("sqlite://{}/halcytone.db", data.display());
    assert_ok(&env.halcytone(&["migrate"], &[("DATABASE_URL", &sqlite)]));
    let out = assert_ok(&env.run("scripts/backup-system.sh", &["--database-url", &sqlite]));
    let archive = archive_of(&out);
    let wrong = env.run(
        "scripts/restore-backup.sh",
        &[&archive, "--database-url", &target.url, "--force"],
    );
    assert_fails(&wrong, "holds a SQLite database");
}

#[test]
fn daily_backup_removes_only_its_own_old_archives() {
    let env = Env::new();
    let data = env.path("data");
    std::fs::create_dir_all(&data).unwrap();
    assert_ok(&env.halcytone(
        &["migrate"],
        &[(
            "DATABASE_URL",
            &format!("sqlite://{}/halcytone.db", data.display()),
        )],
    ));
    let backups = env.path("backups");
    std::fs::create_dir_all(&backups).unwrap();
    let old = backups.join("halcytone-backup-20200101T000000Z.tar.gz");
    let recent = backups.join("halcytone-backup-20991231T000000Z.tar.gz");
    let unrelated = backups.join("notes.tar.gz");
    let forty_days_ago = std::time::SystemTime::now() - Duration::from_secs(40 * 24 * 3600);
    for f in [&old, &recent, &unrelated] {
        std::fs::write(f, b"x").unwrap();
    }
    for f in [&old, &unrelated] {
        std::fs::File::options()
            .write(true)
            .open(f)
            .unwrap()
            .set_modified(forty_days_ago)
            .unwrap();
    }
    let out = assert_ok(&env.run("scripts/daily-backup.sh", &["--keep-days", "30"]));
    assert!(
        out.contains("1 archive(s) older than 30 days removed"),
        "{out}"
    );
    assert!(!old.exists() && recent.exists() && unrelated.exists());
    let made = std::fs::read_dir(&backups)
        .unwrap()
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("halcytone-backup-2") && !n.contains("2099") && !n.contains("2020")
        })
        .count();
    assert_eq!(made, 1, "no new archive");
    let log = std::fs::read_to_string(env.path("logs/backup.log")).unwrap();
    assert!(log.contains("backup ok"), "{log}");

    // A failed backup is logged, exits non-zero and deletes nothing.
    let failed = env.run_with(
        "scripts/daily-backup.sh",
        &["--keep-days", "0"],
        &[("DATABASE_URL", "sqlite:///nonexistent/halcytone.db")],
    );
    assert_fails(&failed, "no database at /nonexistent/halcytone.db");
    assert!(recent.exists());
    let log = std::fs::read_to_string(env.path("logs/backup.log")).unwrap();
    assert!(log.contains("backup FAILED"), "{log}");
}

/// A stand-in Alertmanager: answers `status` to every request and hands each request's first
/// line and body to the returned channel.
fn fake_alertmanager(status: u16) -> (String, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            reader.read_line(&mut first).unwrap();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = line.split_once(':')
                    && k.eq_ignore_ascii_case("content-length")
                {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            if tx.send((first.trim().to_string(), text(&body))).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

#[test]
fn send_alert_posts_to_alertmanager_and_fails_clearly_without_one() {
    let (url, received) = fake_alertmanager(200);
    let env = Env::new();
    let out = assert_ok(&env.run_with(
        "scripts/send-alert.sh",
        &["Service down: mock-crm", "--severity", "critical"],
        &[("ALERTMANAGER_URL", &url)],
    ));
    assert!(out.contains("sent to"), "{out}");
    let (line, body) = received.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(line, "POST /api/v2/alerts HTTP/1.1");
    let alerts: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(alerts[0]["labels"]["alertname"], "HalcytoneManualAlert");
    assert_eq!(alerts[0]["labels"]["severity"], "critical");
    assert_eq!(
        alerts[0]["annotations"]["summary"],
        "Service down: mock-crm"
    );
    assert!(alerts[0]["startsAt"].is_string());

    // --dry-run prints the JSON and sends nothing.
    let out = assert_ok(&env.run_with(
        "scripts/send-alert.sh",
        &["--dry-run", "quoted \"text\""],
        &[("ALERTMANAGER_URL", &url)],
    ));
    let json = &out[out.find('[').unwrap()..];
    let alerts: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(alerts[0]["annotations"]["summary"], "quoted \"text\"");
    assert!(received.recv_timeout(Duration::from_millis(300)).is_err());

    // Nobody listening (the environment's ALERTMANAGER_URL), or a refusal: exit 1, said so.
    let none = env.run("scripts/send-alert.sh", &["test"]);
    assert_fails(&none, "no Alertmanager answered");
    let (refusing, _rx) = fake_alertmanager(400);
    let refused = env.run_with(
        "scripts/send-alert.sh",
        &["test"],
        &[("ALERTMANAGER_URL", &refusing)],
    );
    assert_fails(&refused, "refused the alert (HTTP 400)");
}

#[test]
fn health_check_cron_logs_and_alerts_when_a_service_is_down() {
    let (url, received) = fake_alertmanager(200);
    let env = Env::new();
    let down = env.run_with(
        "scripts/health-check-cron.sh",
        &["--mocks-only"],
        &[("ALERTMANAGER_URL", &url)],
    );
    assert_fails(&down, "DOWN: mock-crm");
    let (_, body) = received.recv_timeout(Duration::from_secs(5)).unwrap();
    let alerts: serde_json::Value = serde_json::from_str(&body).unwrap();
    let summary = alerts[0]["annotations"]["summary"].as_str().unwrap();
    assert!(summary.starts_with("Service down: mock-crm"), "{summary}");
    let log = std::fs::read_to_string(env.path("logs/health-check.log")).unwrap();
    assert!(log.contains(" DOWN: mock-crm ("), "{log}");

    assert_ok(&env.run("scripts/start-mock-services.sh", &[]));
    assert_ok(&env.run_with(
        "scripts/health-check-cron.sh",
        &["--mocks-only"],
        &[("ALERTMANAGER_URL", &url)],
    ));
    let log = std::fs::read_to_string(env.path("logs/health-check.log")).unwrap();
    assert!(
        log.lines()
            .last()
            .unwrap()
            .ends_with("ok: every service answers"),
        "{log}"
    );
    assert!(received.recv_timeout(Duration::from_millis(300)).is_err());
    // The API is required without --mocks-only; --no-alert only logs.
    let api_down = env.run("scripts/health-check-cron.sh", &["--no-alert"]);
    assert_fails(&api_down, "DOWN: api");
    assert_ok(&env.run("scripts/stop-mock-services.sh", &[]));
}

#[test]
fn deploy_dry_run_rehearses_production_and_stops() {
    let env = Env::new();
    let config = env.path("production.env");
    std::fs::write(
        &config,
        "# production, rehearsed in dry run\nENVIRONMENT=production\n\
         API_KEY=\"q8Zr4LmN2vXp7TgK1sHc9WfB3yJd6UeA\"\nCRM_BASE_URL=https://crm.invalid\n\
         CRM_API_KEY=crm-token-for-the-test-0001\nPLATFORM_BASE_URL=https://cms.invalid\n\
         PLATFORM_API_KEY=platform-token-for-the-test-0001\nCORS_ORIGINS=https://news.invalid\n",
    )
    .unwrap();
    let out = assert_ok(&env.run(
        "scripts/deploy-dry-run.sh",
        &["production", "--config", config.to_str().unwrap(), "--stop"],
    ));
    for step in [
        "== configuration (production)",
        "== database migrations",
        "all services healthy",
        "smoke test passed",
        "== stopping the stack",
    ] {
        assert!(out.contains(step), "{step:?} missing:\n{out}");
    }
    assert!(env.pid_files().is_empty(), "{:?}", env.pid_files());
    assert!(!healthy(&env.api_url()));

    // A production configuration without its live upstreams stops before anything starts.
    std::fs::write(&config, "API_KEY=q8Zr4LmN2vXp7TgK1sHc9WfB3yJd6UeA\n").unwrap();
    let refused = env.run(
        "scripts/deploy-dry-run.sh",
        &["production", "--config", config.to_str().unwrap()],
    );
    assert_fails(&refused, "CRM_BASE_URL");
    assert!(env.pid_files().is_empty(), "{:?}", env.pid_files());
}

#[test]
fn python_mock_wrappers_and_run_dev_start_the_binary() {
    let env = Env::new();
    let python = |script: &str, args: &[&str]| -> Proc {
        let path = repo().join(script).display().to_string();
        let mut all = vec![path.as_str()];
        all.extend_from_slice(args);
        env.spawn("python3", &all)
    };
    // No mocks yet: run_dev.py starts the whole stack (`halcytone up`) on the configured ports.
    {
        let mut up = python("run_dev.py", &[]);
        wait_healthy(&env.api_url());
        wait_healthy(&env.crm_url());
        wait_healthy(&env.platform_url());
        assert!(ours(up.0.id()), "run_dev.py did not become halcytone");
        assert!(up.0.try_wait().unwrap().is_none());
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while healthy(&env.crm_url()) {
        assert!(Instant::now() < deadline, "halcytone up did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }

    // The seed's manual start: both mocks from their Python wrappers, then run_dev.py (serve).
    let crm = python("mocks/crm_service.py", &[]);
    let platform = python("mocks/platform_service.py", &[]);
    wait_healthy(&env.crm_url());
    wait_healthy(&env.platform_url());
    assert!(
        ours(crm.0.id()) && ours(platform.0.id()),
        "the wrappers did not exec the binary"
    );
    let serve = python("run_dev.py", &[]);
    wait_healthy(&env.api_url());
    let cmdline = text(&std::fs::read(format!("/proc/{}/cmdline", serve.0.id())).unwrap());
    assert!(cmdline.contains("serve\0--dry-run"), "{cmdline:?}");
    let (_, health) = http_get(&format!("{}/health", env.api_url())).unwrap();
    assert!(
        health.contains(&format!("127.0.0.1:{}", env.crm)),
        "{health}"
    );
    drop((serve, crm, platform));

    // A port of one's own.
    let port = free_port();
    let _other = python("mocks/crm_service.py", &["--port", &port.to_string()]);
    wait_healthy(&format!("http://127.0.0.1:{port}"));
}

#[test]
fn start_mock_services_py_and_make_targets_honour_ports_and_log_dir() {
    let env = Env::new();
    let (crm, platform) = (free_port(), free_port());
    let out = assert_ok(&env.run(
        "scripts/start_mock_services.py",
        &[
            "--crm-port",
            &crm.to_string(),
            "--platform-port",
            &platform.to_string(),
        ],
    ));
    assert!(out.contains("mock services healthy"), "{out}");
    let status = assert_ok(&env.run(
        "scripts/start_mock_services.py",
        &[
            "--status",
            "--crm-port",
            &crm.to_string(),
            "--platform-port",
            &platform.to_string(),
        ],
    ));
    assert_eq!(status.matches(" up ").count(), 2, "{status}");
    assert_ok(&env.run("scripts/start_mock_services.py", &["--stop"]));
    assert!(env.pid_files().is_empty());
    assert!(!healthy(&format!("http://127.0.0.1:{crm}")));

    if Command::new("make").arg("--version").output().is_err() {
        eprintln!("skipped the make targets: make is not installed");
        return;
    }
    let make = |targets: &[&str]| {
        let mut args = vec!["-s", "-C", "."];
        args.extend_from_slice(targets);
        env.command("make", &args).output().unwrap()
    };
    let out = assert_ok(&make(&["mock-start", "mock-status"]));
    assert!(out.contains(&env.crm_url()), "{out}");
    let logs = assert_ok(&make(&["mock-logs"]));
    let crm_log = env.path("logs/crm-mock.log");
    assert!(
        logs.contains(crm_log.to_str().unwrap()),
        "mock-logs ignores LOG_DIR:\n{logs}"
    );
    assert_ok(&make(&["mock-stop"]));
    assert!(env.pid_files().is_empty());
}

#[test]
fn start_monitoring_configures_its_targets_from_the_ports() {
    let env = Env::new();
    let out = env.path("prometheus.yml");
    let config = env
        .command(
            "bash",
            &[
                "-c",
                "source scripts/lib.sh && prometheus_local_config \"$1\"",
                "_",
                out.to_str().unwrap(),
            ],
        )
        .env("PROMETHEUS_PORT", "19990")
        .env_remove("PROMETHEUS_URL")
        .output()
        .unwrap();
    assert_ok(&config);
    let yml = std::fs::read_to_string(&out).unwrap();
    for target in [
        format!("\"127.0.0.1:{}\"", env.api),
        format!("\"127.0.0.1:{}\"", env.crm),
        format!("\"127.0.0.1:{}\"", env.platform),
        "\"127.0.0.1:19990\"".to_string(),
    ] {
        assert!(yml.contains(&target), "{target} not scraped:\n{yml}");
    }
    let rules = repo().join("deploy/monitoring/prometheus/alerts.yml");
    assert!(yml.contains(rules.to_str().unwrap()), "{yml}");
    let parsed: serde_yaml::Value = serde_yaml::from_str(&yml).unwrap();
    assert_eq!(parsed["scrape_configs"].as_sequence().unwrap().len(), 5);

    let stop = assert_ok(&env.run("scripts/start-monitoring.sh", &["stop"]));
    assert!(stop.contains("not started"), "{stop}");
    let unknown = env.run("scripts/start-monitoring.sh", &["reboot"]);
    assert_fails(&unknown, "unknown action: reboot");
    if Command::new("prometheus")
        .arg("--version")
        .output()
        .is_err()
    {
        let start = env.run("scripts/start-monitoring.sh", &[]);
        assert_fails(&start, "prometheus is not installed");
    }
}

#[test]
fn validate_dry_run_publishes_the_sample_into_fresh_mocks() {
    let env = Env::new();
    let out = assert_ok(&env.run("scripts/validate-dry-run.sh", &[]));
    assert!(out.contains("dry run OK"), "{out}");
    // It stopped the mocks it started.
    assert!(env.pid_files().is_empty(), "{:?}", env.pid_files());
    let missing = env.run("scripts/validate-dry-run.sh", &["/nonexistent.md"]);
    assert!(!missing.status.success(), "{}", show(&missing));
}

#[test]
fn check_configuration_explains_a_bad_value() {
    let env = Env::new();
    let out = assert_ok(&env.run_with(
        "scripts/check-configuration.sh",
        &[],
        &[("DRY_RUN_MODE", "true")],
    ));
    assert!(out.contains("dry run on"), "{out}");
    let bad = env.run_with(
        "scripts/check-configuration.sh",
        &[],
        &[("DRY_RUN_MODE", "true"), ("RATE_LIMIT_PER_MINUTE", "lots")],
    );
    assert_fails(&bad, "RATE_LIMIT_PER_MINUTE=\"lots\"");
}

#[test]
fn no_script_hard_codes_a_service_port() {
    let root = repo();
    let mut files = vec![root.join("Makefile"), root.join("run_dev.py")];
    for dir in ["scripts", "mocks"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
            if e.path().is_file() {
                files.push(e.path());
            }
        }
    }
    let ports = ["8000", "8001", "8002", "9090", "9093", "3100", "9100"];
    let mut found = Vec::new();
    for f in files {
        if f.ends_with("scripts/lib.sh") {
            continue;
        }
        let body = std::fs::read_to_string(&f).unwrap();
        for (i, line) in body.lines().enumerate() {
            let digits: Vec<&str> = line
                .split(|c: char| !c.is_ascii_digit())
                .filter(|w| !w.is_empty())
                .collect();
            if digits.iter().any(|d| ports.contains(d)) {
                found.push(format!("{}:{}: {line}", f.display(), i + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "ports belong in scripts/lib.sh (read from the configuration):\n{}",
        found.join("\n")
    );
}

#[test]
fn docs_list_every_seed_file_with_the_test_that_runs_it() {
    let doc = std::fs::read_to_string(repo().join("docs/scripts.md")).unwrap();
    let this = include_str!("seed_scripts.rs");
    let deploy = include_str!("deploy_files.rs");
    let list = &doc[doc
        .find("## The list")
        .expect("docs/scripts.md has no list")..];
    let mut rows = 0;
    for line in list.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        rows += 1;
        let tests = cells.last().unwrap();
        let names: Vec<&str> = tests
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|n| n.contains('_') && n.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .collect();
        assert!(
            !names.is_empty() || tests.contains("help and unknown option only"),
            "no test named in: {line}"
        );
        for name in names {
            assert!(
                this.contains(&format!("fn {name}(")) || deploy.contains(&format!("fn {name}(")),
                "docs/scripts.md names a test that does not exist: {name}"
            );
        }
    }
    assert!(rows >= 25, "only {rows} rows in docs/scripts.md");
    for script in SHELL_SCRIPTS.iter().chain(PYTHON_SCRIPTS) {
        let name = script.rsplit('/').next().unwrap();
        assert!(
            doc.contains(name),
            "docs/scripts.md does not mention {script}"
        );
    }
    for file in [
        "docker-compose.dev.yml",
        "monitoring/docker-compose.monitoring.yml",
    ] {
        assert!(
            doc.contains(file),
            "docs/scripts.md does not mention {file}"
        );
        assert!(repo().join(file).is_file(), "{file} is missing");
    }
}

/// The archive a backup wrote, from its `backup written: PATH …` line.
fn archive_of(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("backup written: "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no archive in {out}"))
        .to_string()
}
