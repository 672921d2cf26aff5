//! Helpers shared by the binary's process-level tests.

#![allow(dead_code)]

use std::process::Child;

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
