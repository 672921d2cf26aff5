//! The delivery ledger: one row per send and recipient, so that what a send did to each
//! person survives a crash, a retry and a takeover by another replica.
//!
//! The rule a sender follows: [`Ledger::begin_delivery`] before the provider is called (it
//! marks the row `sending`, and only while the sender's job is still held by its worker),
//! [`Ledger::finish_delivery`] after. A recipient marked `delivered` is never begun again. A
//! row found still `sending` when a send begins it was in flight when an earlier worker
//! stopped: it is sent again and marked `uncertain` (the provider may or may not have taken
//! the first copy; the Message-ID is the same, so a receiving system can tell).

use crate::StoreError;
use async_trait::async_trait;
use serde::Serialize;
use std::collections::BTreeMap;

/// Where a recipient's message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Listed, not yet tried.
    Pending,
    /// Handed to the provider; no answer recorded yet.
    Sending,
    /// The provider accepted it.
    Delivered,
    /// The provider refused it, or it could not be reached (`retryable` says whether a later
    /// attempt may succeed).
    Failed,
    /// Never sent: the address is malformed or missing.
    Refused,
    /// Never sent: the address is on the suppression list.
    Suppressed,
    /// Delivered, then bounced back by the receiving system.
    Bounced,
    /// Delivered, then reported as spam by the recipient.
    Complained,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 8] = [
        DeliveryState::Pending,
        DeliveryState::Sending,
        DeliveryState::Delivered,
        DeliveryState::Failed,
        DeliveryState::Refused,
        DeliveryState::Suppressed,
        DeliveryState::Bounced,
        DeliveryState::Complained,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sending => "sending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::Refused => "refused",
            DeliveryState::Suppressed => "suppressed",
            DeliveryState::Bounced => "bounced",
            DeliveryState::Complained => "complained",
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryState> {
        DeliveryState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The worker that must still hold a job for its send to go on.
#[derive(Debug, Clone, Copy)]
pub struct Holder<'a> {
    pub job_id: &'a str,
    pub worker: &'a str,
}

/// One send: a job (the first of a retry chain) and one of its targets (`email`, `email:v1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendKey<'a> {
    pub job_id: &'a str,
    pub target: &'a str,
}

/// One message about to be handed to the provider.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryStart<'a> {
    pub send: SendKey<'a>,
    /// The address as the list gave it; stored trimmed and lower-cased, one row per address.
    pub email: &'a str,
    pub subscriber_id: Option<&'a str>,
    pub message_id: &'a str,
    /// `None`: no job to hold (a direct publish); the row is begun unconditionally.
    pub holder: Option<Holder<'a>>,
}

/// What [`Ledger::begin_delivery`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begun {
    /// Marked `sending`: send it. `uncertain` when an earlier attempt was left in flight.
    Send { attempt: i64, uncertain: bool },
    /// Already delivered: do not send.
    Delivered,
    /// Ended otherwise (refused, suppressed, or failed for good): do not send.
    Ended(DeliveryState),
    /// The sender's job is no longer held by its worker: stop the send.
    NotHeld,
}

/// How one message ended.
#[derive(Debug, Clone, Copy)]
pub enum Finish<'a> {
    Delivered { provider_id: &'a str },
    Failed { reason: &'a str, retryable: bool },
}

/// One recipient's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub job_id: String,
    pub target: String,
    pub email: String,
    pub subscriber_id: Option<String>,
    pub message_id: String,
    pub state: DeliveryState,
    pub attempts: i64,
    pub uncertain: bool,
    pub retryable: bool,
    pub provider_id: Option<String>,
    pub reason: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A send's rows counted by state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryCounts {
    pub total: i64,
    pub by_state: BTreeMap<DeliveryState, i64>,
    /// Sent again after an attempt was left in flight.
    pub uncertain: i64,
}

impl DeliveryCounts {
    pub fn of(&self, state: DeliveryState) -> i64 {
        self.by_state.get(&state).copied().unwrap_or(0)
    }
}

fn state_of(text: &str) -> Result<DeliveryState, StoreError> {
    DeliveryState::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("delivery state '{text}'")))
}

/// The ledger's address form: trimmed and lower-cased.
pub fn ledger_email(email: &str) -> String {
    email.trim().to_lowercase()
}

#[async_trait]
pub trait Ledger: Send + Sync {
    /// Marks a recipient `sending` (listing it if new) unless it is delivered or ended, and
    /// only while `holder` still holds its job. An address on the suppression list is marked
    /// `suppressed` instead (in the same statement) and not sent.
    async fn begin_delivery(&self, d: &DeliveryStart<'_>, now_ms: i64)
    -> Result<Begun, StoreError>;
    /// Records how a begun message ended. A delivered row stays delivered.
    async fn finish_delivery(
        &self,
        send: SendKey<'_>,
        email: &str,
        finish: Finish<'_>,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Lists a recipient that cannot be sent to (a malformed address), with the reason.
    async fn refuse_delivery(
        &self,
        send: SendKey<'_>,
        email: &str,
        subscriber_id: Option<&str>,
        reason: &str,
        now_ms: i64,
    ) -> Result<(), StoreError>;
    async fn delivery_counts(&self, send: SendKey<'_>) -> Result<DeliveryCounts, StoreError>;
    /// One recipient's row of a send.
    async fn delivery(
        &self,
        send: SendKey<'_>,
        email: &str,
    ) -> Result<Option<Delivery>, StoreError>;
    /// The rows of every target of a job, counted together.
    async fn job_delivery_counts(&self, job_id: &str) -> Result<DeliveryCounts, StoreError>;
    /// A send's rows in address order after `after` (keyset paging), optionally one state.
    async fn deliveries(
        &self,
        send: SendKey<'_>,
        state: Option<DeliveryState>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError>;
}

/// Both backends run the same SQL (numbered parameters, `ON CONFLICT … DO UPDATE … WHERE`,
/// `RETURNING`); only the row type differs.
macro_rules! ledger_impl {
    ($ty:ty, $row:ty) => {
        impl $ty {
            /// A job's rows (one target's, when given) counted by state.
            async fn counts(&self, job_id: &str, target: Option<&str>) -> Result<DeliveryCounts, StoreError> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT state, COUNT(*) AS n, SUM(CASE WHEN uncertain = 1 THEN 1 ELSE 0 END) AS u
                     FROM deliveries WHERE job_id = $1 AND ($2 IS NULL OR target = $2) GROUP BY state",
                )
                .bind(job_id)
                .bind(target)
                .fetch_all(&self.pool)
                .await?;
                let mut counts = DeliveryCounts::default();
                for row in rows {
                    let state: String = row.try_get("state")?;
                    let n: i64 = row.try_get("n")?;
                    counts.total += n;
                    counts.uncertain += row.try_get::<Option<i64>, _>("u")?.unwrap_or(0);
                    counts.by_state.insert(state_of(&state)?, n);
                }
                Ok(counts)
            }

            fn delivery_from_row(row: &$row) -> Result<Delivery, StoreError> {
                use sqlx::Row;
                let state: String = row.try_get("state")?;
                Ok(Delivery {
                    job_id: row.try_get("job_id")?,
                    target: row.try_get("target")?,
                    email: row.try_get("email")?,
                    subscriber_id: row.try_get("subscriber_id")?,
                    message_id: row.try_get("message_id")?,
                    state: state_of(&state)?,
                    attempts: row.try_get("attempts")?,
                    uncertain: row.try_get::<i64, _>("uncertain")? != 0,
                    retryable: row.try_get::<i64, _>("retryable")? != 0,
                    provider_id: row.try_get("provider_id")?,
                    reason: row.try_get("reason")?,
                    created_ms: row.try_get("created_ms")?,
                    updated_ms: row.try_get("updated_ms")?,
                })
            }
        }

        #[async_trait]
        impl Ledger for $ty {
            async fn begin_delivery(
                &self,
                d: &DeliveryStart<'_>,
                now_ms: i64,
            ) -> Result<Begun, StoreError> {
                use sqlx::Row;
                let email = ledger_email(d.email);
                let (job, worker) = match d.holder {
                    Some(h) => (Some(h.job_id), Some(h.worker)),
                    None => (None, None),
                };
                let row = sqlx::query(
                    "INSERT INTO deliveries (job_id, target, email, subscriber_id, message_id, state, attempts, uncertain, retryable, reason, holder, created_ms, updated_ms)
                     SELECT $1, $8, $2, $3, $4, CASE WHEN s.email IS NULL THEN 'sending' ELSE 'suppressed' END,
                            CASE WHEN s.email IS NULL THEN 1 ELSE 0 END, 0, 0,
                            CASE WHEN s.email IS NULL THEN NULL ELSE 'suppressed: ' || s.reason END, $6, $7, $7
                     FROM (SELECT 1 AS one) AS o LEFT JOIN suppressions s ON s.email = $2
                     WHERE $5 IS NULL OR EXISTS (SELECT 1 FROM jobs WHERE id = $5 AND worker = $6 AND status = 'in_progress')
                     ON CONFLICT (job_id, target, email) DO UPDATE SET
                         state = excluded.state,
                         attempts = deliveries.attempts + excluded.attempts,
                         uncertain = CASE WHEN deliveries.state = 'sending' AND excluded.state = 'sending' THEN 1 ELSE deliveries.uncertain END,
                         reason = excluded.reason,
                         message_id = excluded.message_id,
                         holder = excluded.holder,
                         updated_ms = excluded.updated_ms
                     WHERE deliveries.state IN ('pending', 'sending')
                        OR (deliveries.state = 'failed' AND deliveries.retryable = 1)
                     RETURNING attempts, uncertain, state",
                )
                .bind(d.send.job_id)
                .bind(&email)
                .bind(d.subscriber_id)
                .bind(d.message_id)
                .bind(job)
                .bind(worker)
                .bind(now_ms)
                .bind(d.send.target)
                .fetch_optional(&self.pool)
                .await?;
                if let Some(row) = row {
                    let state: String = row.try_get("state")?;
                    if state == "suppressed" {
                        return Ok(Begun::Ended(DeliveryState::Suppressed));
                    }
                    return Ok(Begun::Send {
                        attempt: row.try_get("attempts")?,
                        uncertain: row.try_get::<i64, _>("uncertain")? != 0,
                    });
                }
                let state: Option<String> =
                    sqlx::query_scalar("SELECT state FROM deliveries WHERE job_id = $1 AND target = $2 AND email = $3")
                        .bind(d.send.job_id)
                        .bind(d.send.target)
                        .bind(&email)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(match state.as_deref().and_then(DeliveryState::parse) {
                    Some(DeliveryState::Delivered) => Begun::Delivered,
                    Some(DeliveryState::Pending | DeliveryState::Sending) | None => Begun::NotHeld,
                    Some(s) => Begun::Ended(s),
                })
            }

            async fn finish_delivery(
                &self,
                send: SendKey<'_>,
                email: &str,
                finish: Finish<'_>,
                now_ms: i64,
            ) -> Result<bool, StoreError> {
                let email = ledger_email(email);
                let query = match finish {
                    Finish::Delivered { provider_id } => sqlx::query(
                        "UPDATE deliveries SET state = 'delivered', provider_id = $4, reason = NULL, retryable = 0, updated_ms = $5
                         WHERE job_id = $1 AND target = $2 AND email = $3 AND state <> 'delivered'",
                    )
                    .bind(send.job_id)
                    .bind(send.target)
                    .bind(email)
                    .bind(provider_id)
                    .bind(now_ms),
                    Finish::Failed { reason, retryable } => sqlx::query(
                        "UPDATE deliveries SET state = 'failed', reason = $4, retryable = $5, updated_ms = $6
                         WHERE job_id = $1 AND target = $2 AND email = $3 AND state = 'sending'",
                    )
                    .bind(send.job_id)
                    .bind(send.target)
                    .bind(email)
                    .bind(reason)
                    .bind(i64::from(retryable))
                    .bind(now_ms),
                };
                Ok(query.execute(&self.pool).await?.rows_affected() == 1)
            }

            async fn refuse_delivery(
                &self,
                send: SendKey<'_>,
                email: &str,
                subscriber_id: Option<&str>,
                reason: &str,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO deliveries (job_id, target, email, subscriber_id, message_id, state, reason, created_ms, updated_ms)
                     VALUES ($1, $6, $2, $3, '', 'refused', $4, $5, $5)
                     ON CONFLICT (job_id, target, email) DO NOTHING",
                )
                .bind(send.job_id)
                .bind(ledger_email(email))
                .bind(subscriber_id)
                .bind(reason)
                .bind(now_ms)
                .bind(send.target)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn delivery_counts(&self, send: SendKey<'_>) -> Result<DeliveryCounts, StoreError> {
                self.counts(send.job_id, Some(send.target)).await
            }

            async fn delivery(
                &self,
                send: SendKey<'_>,
                email: &str,
            ) -> Result<Option<Delivery>, StoreError> {
                let row = sqlx::query(
                    "SELECT * FROM deliveries WHERE job_id = $1 AND target = $2 AND email = $3",
                )
                .bind(send.job_id)
                .bind(send.target)
                .bind(ledger_email(email))
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(Self::delivery_from_row).transpose()
            }

            async fn job_delivery_counts(&self, job_id: &str) -> Result<DeliveryCounts, StoreError> {
                self.counts(job_id, None).await
            }

            async fn deliveries(
                &self,
                send: SendKey<'_>,
                state: Option<DeliveryState>,
                after: Option<&str>,
                limit: i64,
            ) -> Result<Vec<Delivery>, StoreError> {
                let rows = sqlx::query(
                    "SELECT * FROM deliveries
                     WHERE job_id = $1 AND target = $5 AND ($2 IS NULL OR state = $2) AND ($3 IS NULL OR email > $3)
                     ORDER BY email LIMIT $4",
                )
                .bind(send.job_id)
                .bind(state.map(DeliveryState::as_str))
                .bind(after)
                .bind(limit.clamp(1, 10_000))
                .bind(send.target)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::delivery_from_row).collect()
            }
        }
    };
}

ledger_impl!(crate::SqliteStore, sqlx::sqlite::SqliteRow);
ledger_impl!(crate::PostgresStore, sqlx::postgres::PgRow);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_back_by_name() {
        for s in DeliveryState::ALL {
            assert_eq!(DeliveryState::parse(s.as_str()), Some(s));
        }
        assert_eq!(DeliveryState::parse("Delivered"), None);
    }

    #[test]
    fn addresses_are_kept_trimmed_and_lower_cased() {
        assert_eq!(ledger_email("  Ana@Example.COM "), "ana@example.com");
    }
}
