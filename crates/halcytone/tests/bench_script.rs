//! `scripts/bench.py` refuses, with a message that says what to do, to run without wrk or on a
//! port that is taken (issue 22's bad input). The benchmark itself is run by hand
//! (`scripts/bench.sh`): its figures are not a test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench.py")
}

fn python() -> String {
    // The interpreter itself, not a shim that needs PATH to find it.
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn without_wrk_it_says_how_to_install_it() {
    // A PATH with nothing on it: no wrk to find.
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(python())
        .arg(script())
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(said.contains("wrk is not installed"), "{said}");
    assert!(said.contains("apt-get install wrk"), "{said}");
}

#[test]
fn a_taken_port_is_named_and_nothing_starts() {
    let dir = tempfile::tempdir().unwrap();
    // A directory with a wrk on it, so the check that follows is the port's.
    let wrk = dir.path().join("wrk");
    std::fs::write(&wrk, "#!/bin/sh\nexit 0\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrk, std::fs::Permissions::from_mode(0o755)).unwrap();
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let out = Command::new(python())
        .arg(script())
        .args(["--port", &port.to_string()])
        .env("PATH", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(said.contains(&format!("port {port}")), "{said}");
    assert!(said.contains("is taken"), "{said}");
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());
}
