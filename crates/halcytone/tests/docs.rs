//! The dry-run guide's commands work: every block marked `sh runnable` in
//! docs/dry-run-guide.md runs, in order and in one shell, against a fresh `halcytone up`
//! (its ports swapped for free ones), and must exit 0.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn runnable_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match &mut current {
            None if line.trim() == "```sh runnable" => current = Some(String::new()),
            Some(b) if line.trim() == "```" => {
                blocks.push(std::mem::take(b));
                current = None;
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    blocks
}

#[test]
fn the_dry_run_guide_commands_run_against_halcytone_up() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let guide = std::fs::read_to_string(root.join("docs/dry-run-guide.md")).unwrap();
    let blocks = runnable_blocks(&guide);
    assert!(blocks.len() >= 5, "only {} runnable blocks", blocks.len());
    if Command::new("jq").arg("--version").output().is_err() {
        eprintln!("skipped: the guide's commands use jq (apt-get install jq)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (api, crm, platform) = (free_port(), free_port(), free_port());
    let mut up = Command::new(env!("CARGO_BIN_EXE_halcytone"))
        .args([
            "up",
            "--port",
            &api.to_string(),
            "--crm-port",
            &crm.to_string(),
            "--platform-port",
            &platform.to_string(),
        ])
        .current_dir(dir.path())
        .env_remove("API_KEY")
        .env("LOG_DIR", dir.path().join("logs"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(up.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains("Stop with Ctrl-C") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    // `halcytone` in the guide is this binary.
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_halcytone"), bin.join("halcytone")).unwrap();
    let mut script = String::from("set -euo pipefail\n");
    for (i, b) in blocks.iter().enumerate() {
        let b = b
            .replace("localhost:8000", &format!("127.0.0.1:{api}"))
            .replace("localhost:8001", &format!("127.0.0.1:{crm}"))
            .replace("localhost:8002", &format!("127.0.0.1:{platform}"));
        script.push_str(&format!("echo '### block {}' >&2\n{b}\n", i + 1));
    }
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .output()
        .unwrap();
    let _ = Command::new("kill")
        .args(["-TERM", &up.id().to_string()])
        .status();
    let _ = up.wait();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "a runnable block of docs/dry-run-guide.md failed (last marker below):\n{stderr}\nstdout:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\"dry_run\": true"), "{stdout}");
}
