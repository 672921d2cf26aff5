//! Reading a living document from disk, with messages that name the file and the problem.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use std::path::Path;

/// Reads `path` as UTF-8 text. Errors say which file and, for bad encoding, where.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .context("cannot read standard input")?;
        buf
    } else {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
    };
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        bail!(
            "{}: the file is UTF-16 encoded; save it as UTF-8",
            path.display()
        );
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let prefix = &e.as_bytes()[..valid];
            let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
            let column = prefix.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
            bail!(
                "{}:{line}: the file is not valid UTF-8 (bad byte at column {column}); save it as UTF-8",
                path.display()
            )
        }
    }
}

/// `--now`: an RFC 3339 time or a date (midnight UTC); default: today at 00:00 UTC, so that
/// runs on the same day give identical output.
pub fn reference_time(raw: Option<&str>) -> Result<DateTime<Utc>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Utc::now()
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map(|d| d.and_utc())
            .unwrap_or_else(Utc::now)),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .or_else(|_| {
                NaiveDate::parse_from_str(s, "%Y-%m-%d").map(|d| {
                    d.and_hms_opt(0, 0, 0)
                        .map(|t| t.and_utc())
                        .unwrap_or_default()
                })
            })
            .map_err(|_| {
                anyhow::anyhow!("--now '{s}' is not an RFC 3339 time or a YYYY-MM-DD date")
            }),
    }
}
