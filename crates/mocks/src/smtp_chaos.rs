//! Chaos on the SMTP capture, as fault rules are on the HTTP mocks: a seeded share of
//! recipients refused at `RCPT TO` (with a 4xx or 5xx reply), a slow answer to `DATA`, and a
//! share of messages whose connection is dropped before the answer. Which recipients are
//! refused depends only on the seed and the address, so a rehearsal can say in advance who
//! will be refused (and a test can check that exactly they were reported failed).
//!
//! Set at start from `MOCK_SMTP_REJECT_PERCENT`, `MOCK_SMTP_REJECT_CODE`,
//! `MOCK_SMTP_SLOW_DATA_MS`, `MOCK_SMTP_DROP_PERCENT` (seeded by `MOCK_SEED`), or at run time
//! with `PUT /api/v1/smtp/chaos` on the mock CRM.

use crate::error::{MockError, MockResult};
use crate::state::MockState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};

/// What the SMTP capture does wrong, on purpose.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpChaos {
    /// Recipients refused at RCPT TO, in percent (0–100), chosen by seed and address.
    pub reject_percent: u8,
    /// The reply code of a refusal: 450, 451, 452 (try later) or 550, 551, 552, 553, 554
    /// (final). Default 550.
    pub reject_code: u16,
    /// Milliseconds to wait before answering the end of DATA (at most 120000).
    pub slow_data_ms: u64,
    /// Messages whose connection is closed before DATA is answered, in percent (0–100).
    pub drop_percent: u8,
    /// What chooses the refused recipients and dropped messages.
    pub seed: u64,
}

const CODES: [u16; 8] = [450, 451, 452, 550, 551, 552, 553, 554];

impl SmtpChaos {
    /// Checks the values; a 0 code means the default, 550.
    pub fn checked(mut self) -> Result<SmtpChaos, String> {
        if self.reject_code == 0 {
            self.reject_code = 550;
        }
        if self.reject_percent > 100 {
            return Err("reject_percent: from 0 to 100".into());
        }
        if self.drop_percent > 100 {
            return Err("drop_percent: from 0 to 100".into());
        }
        if !CODES.contains(&self.reject_code) {
            return Err(format!(
                "reject_code: one of {}",
                CODES.map(|c| c.to_string()).join(", ")
            ));
        }
        if self.slow_data_ms > 120_000 {
            return Err("slow_data_ms: at most 120000".into());
        }
        Ok(self)
    }

    /// From `MOCK_SMTP_REJECT_PERCENT`, `MOCK_SMTP_REJECT_CODE`, `MOCK_SMTP_SLOW_DATA_MS` and
    /// `MOCK_SMTP_DROP_PERCENT`, seeded by `seed`; a bad value is named.
    pub fn from_vars(get: &dyn Fn(&str) -> Option<String>, seed: u64) -> Result<SmtpChaos, String> {
        fn num<T: std::str::FromStr>(
            get: &dyn Fn(&str) -> Option<String>,
            name: &str,
        ) -> Result<Option<T>, String> {
            match get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
            {
                None => Ok(None),
                Some(v) => v
                    .parse::<T>()
                    .map(Some)
                    .map_err(|_| format!("{name}={v:?}: a whole number")),
            }
        }
        let chaos = SmtpChaos {
            reject_percent: num(get, "MOCK_SMTP_REJECT_PERCENT")?.unwrap_or(0),
            reject_code: num(get, "MOCK_SMTP_REJECT_CODE")?.unwrap_or(0),
            slow_data_ms: num(get, "MOCK_SMTP_SLOW_DATA_MS")?.unwrap_or(0),
            drop_percent: num(get, "MOCK_SMTP_DROP_PERCENT")?.unwrap_or(0),
            seed,
        };
        chaos.checked().map_err(|e| format!("MOCK_SMTP_{e}"))
    }

    pub fn is_calm(&self) -> bool {
        self.reject_percent == 0 && self.slow_data_ms == 0 && self.drop_percent == 0
    }

    /// Whether `address` is refused (the same answer for the same seed and address, in any
    /// letter case).
    pub fn rejects(&self, address: &str) -> bool {
        self.reject_percent > 0
            && draw(self.seed, "rcpt", &address.trim().to_ascii_lowercase())
                < u64::from(self.reject_percent)
    }

    /// The reply to a refused recipient.
    pub fn refusal(&self, address: &str) -> String {
        if self.reject_code >= 500 {
            format!(
                "{} 5.1.1 <{address}>: mailbox unavailable (mock chaos)",
                self.reject_code
            )
        } else {
            format!(
                "{} 4.2.1 <{address}>: mailbox busy, try again later (mock chaos)",
                self.reject_code
            )
        }
    }

    /// Whether the `n`th message of this capture's life has its connection dropped.
    pub fn drops(&self, n: u64) -> bool {
        self.drop_percent > 0
            && draw(self.seed, "drop", &n.to_string()) < u64::from(self.drop_percent)
    }
}

/// A number from 0 to 99 fixed by the seed, the purpose and the value.
fn draw(seed: u64, purpose: &str, value: &str) -> u64 {
    let digest = Sha256::digest(format!("{seed}:{purpose}:{value}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % 100
}

/// Messages that reached DATA since the capture started (for the drop draw).
#[derive(Debug, Default)]
pub struct DataCount(AtomicU64);

impl DataCount {
    pub fn next(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// `GET /api/v1/smtp/chaos`: what the capture does now.
pub async fn get(State(state): State<MockState>) -> Json<SmtpChaos> {
    Json(state.smtp_chaos.read().await.clone())
}

/// `PUT /api/v1/smtp/chaos`: replaces it (an empty body calms it).
pub async fn put(
    State(state): State<MockState>,
    crate::body::Body(chaos): crate::body::Body<SmtpChaos>,
) -> MockResult<Json<SmtpChaos>> {
    let chaos = chaos
        .checked()
        .map_err(|e| MockError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, e))?;
    *state.smtp_chaos.write().await = chaos.clone();
    tracing::info!(target: "halcytone_mocks::smtp", ?chaos, "smtp chaos set");
    Ok(Json(chaos))
}

/// `DELETE /api/v1/smtp/chaos`: no more chaos.
pub async fn delete(State(state): State<MockState>) -> Json<SmtpChaos> {
    let calm = SmtpChaos::default();
    *state.smtp_chaos.write().await = calm.clone();
    Json(calm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_and_the_address_choose_who_is_refused() {
        let chaos = SmtpChaos {
            reject_percent: 20,
            seed: 7,
            ..SmtpChaos::default()
        }
        .checked()
        .unwrap();
        let refused: Vec<usize> = (0..1000)
            .filter(|i| chaos.rejects(&format!("reader{i:05}@example.com")))
            .collect();
        assert!(
            (150..250).contains(&refused.len()),
            "about a fifth: {}",
            refused.len()
        );
        assert!(
            chaos.rejects(&format!("READER{:05}@Example.com", refused[0])),
            "any case"
        );
        let other = SmtpChaos {
            seed: 8,
            ..chaos.clone()
        };
        assert_ne!(
            refused,
            (0..1000)
                .filter(|i| other.rejects(&format!("reader{i:05}@example.com")))
                .collect::<Vec<_>>()
        );
        assert!(chaos.refusal("a@b").starts_with("550 5.1.1"));
        assert!(!SmtpChaos::default().rejects("a@b"));
    }

    #[test]
    fn bad_values_are_named() {
        let bad = |c: SmtpChaos| c.checked().unwrap_err();
        assert!(
            bad(SmtpChaos {
                reject_percent: 101,
                ..SmtpChaos::default()
            })
            .starts_with("reject_percent")
        );
        assert!(
            bad(SmtpChaos {
                reject_code: 250,
                ..SmtpChaos::default()
            })
            .starts_with("reject_code")
        );
        assert!(
            bad(SmtpChaos {
                slow_data_ms: 999_999,
                ..SmtpChaos::default()
            })
            .starts_with("slow_data_ms")
        );
        assert_eq!(SmtpChaos::default().checked().unwrap().reject_code, 550);
    }
}
