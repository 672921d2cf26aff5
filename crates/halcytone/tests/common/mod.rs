//! Helpers shared by the binary's process-level tests.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `halcytone up` with the API and both mocks on free ports.
pub const UP_ON_FREE_PORTS: [&str; 7] = [
    "up",
    "--port",
    "0",
    "--crm-port",
    "0",
    "--platform-port",
    "0",
];

/// Kills the child (SIGKILL) when dropped, so a failed test leaves nothing running.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads `lines` until one holds an `http://` address (a banner or a "listening" line) and
/// returns the address; panics if `what` ends its output first.
pub fn first_http_address(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    what: &str,
) -> String {
    loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("{what} exited before listening"))
            .unwrap();
        if let Some(u) = line.split_whitespace().find(|w| w.starts_with("http://")) {
            return u.to_string();
        }
    }
}

/// Spawns the binary in `cwd` and returns it with the first `http://` address found on the
/// stream (`stdout` or stderr) — the banner or the "listening" line.
pub fn spawn(
    args: &[&str],
    cwd: &Path,
    env: &[(&str, String)],
    from_stdout: bool,
) -> (Proc, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_halcytone"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("DATABASE_URL")
        .env_remove("API_KEY")
        .env("LOG_DIR", cwd.join("logs"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let (watched, other): (Box<dyn std::io::Read + Send>, Box<dyn std::io::Read + Send>) =
        if from_stdout {
            (Box::new(out), Box::new(err))
        } else {
            (Box::new(err), Box::new(out))
        };
    std::thread::spawn(move || for _ in BufReader::new(other).lines() {});
    let mut lines = BufReader::new(watched).lines();
    let url = first_http_address(&mut lines, &format!("halcytone {args:?}"));
    std::thread::spawn(move || for _ in lines {});
    (Proc(child), url)
}

/// Starts `halcytone up` on free ports (SMTP capture included) in `dir` with `env` added;
/// returns it with the API's address (no trailing slash).
pub fn up(dir: &Path, env: &[(&str, &str)]) -> (Proc, String) {
    let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (*k, (*v).to_string())).collect();
    let mut args = UP_ON_FREE_PORTS.to_vec();
    args.extend_from_slice(&["--smtp-port", "0"]);
    let (p, api) = spawn(&args, dir, &env, true);
    (p, api.trim_end_matches('/').to_string())
}
