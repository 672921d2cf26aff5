//! The suppression list and the provider events that fill it.
//!
//! An address on the list is never sent to again: the delivery ledger checks it in the same
//! statement that begins each recipient (see [`crate::ledger`]), so a suppressed recipient is
//! recorded `suppressed` and skipped. Hard bounces, complaints and one-click unsubscribes add
//! to it; an operator can add, remove and import. Provider events are kept by their id, so an
//! event delivered twice is taken in once.

use crate::StoreError;
use crate::ledger::{DeliveryState, ledger_email};
use async_trait::async_trait;
use serde::Serialize;

/// Why an address is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    /// A hard (permanent) bounce: the mailbox does not exist or refuses mail for good.
    Bounce,
    /// The recipient marked a message as spam.
    Complaint,
    /// The recipient unsubscribed (one-click or otherwise).
    Unsubscribe,
    /// Added by an operator, one by one or by import.
    Manual,
}

impl SuppressionReason {
    pub const ALL: [SuppressionReason; 4] = [
        SuppressionReason::Bounce,
        SuppressionReason::Complaint,
        SuppressionReason::Unsubscribe,
        SuppressionReason::Manual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionReason::Bounce => "bounce",
            SuppressionReason::Complaint => "complaint",
            SuppressionReason::Unsubscribe => "unsubscribe",
            SuppressionReason::Manual => "manual",
        }
    }

    pub fn parse(text: &str) -> Option<SuppressionReason> {
        SuppressionReason::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// One address to suppress.
#[derive(Debug, Clone, Copy)]
pub struct NewSuppression<'a> {
    /// Stored trimmed and lower-cased, like the ledger's addresses.
    pub email: &'a str,
    pub reason: SuppressionReason,
    /// Where it came from: `event:<id>`, `unsubscribe:<send>`, `api`, `import`.
    pub source: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// One suppressed address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub email: String,
    pub reason: SuppressionReason,
    pub source: Option<String>,
    pub detail: Option<String>,
    pub created_ms: i64,
}

/// One provider event (a bounce, a complaint, an unsubscribe), kept by its id.
#[derive(Debug, Clone, Copy)]
pub struct EmailEvent<'a> {
    pub id: &'a str,
    /// `bounce`, `soft_bounce`, `complaint`, `unsubscribe`.
    pub kind: &'a str,
    pub email: &'a str,
    pub message_id: Option<&'a str>,
    pub detail: Option<&'a str>,
}

#[async_trait]
pub trait Suppressions: Send + Sync {
    /// Adds addresses to the list in one transaction; an address already listed keeps its
    /// first reason. Returns how many were new.
    async fn suppress(&self, list: &[NewSuppression<'_>], now_ms: i64) -> Result<u64, StoreError>;
    /// Takes an address off the list; false when it was not listed.
    async fn unsuppress(&self, email: &str) -> Result<bool, StoreError>;
    async fn suppression(&self, email: &str) -> Result<Option<Suppression>, StoreError>;
    /// The list in address order after `after` (keyset paging), optionally one reason.
    async fn suppressions(
        &self,
        reason: Option<SuppressionReason>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Suppression>, StoreError>;
    async fn suppression_count(&self, reason: Option<SuppressionReason>)
    -> Result<i64, StoreError>;
    /// Keeps a provider event; false when an event with this id was taken in before.
    async fn record_email_event(&self, e: &EmailEvent<'_>, now_ms: i64)
    -> Result<bool, StoreError>;
    /// Sets the ledger state of the messages with this Message-ID to this address (a bounce
    /// or complaint after delivery); returns the rows changed.
    async fn mark_delivery(
        &self,
        message_id: &str,
        email: &str,
        state: DeliveryState,
        reason: &str,
        now_ms: i64,
    ) -> Result<u64, StoreError>;
}

fn reason_of(text: &str) -> Result<SuppressionReason, StoreError> {
    SuppressionReason::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("suppression reason '{text}'")))
}

/// Both backends run the same SQL; only the row type differs.
macro_rules! suppressions_impl {
    ($ty:ty, $row:ty) => {
        impl $ty {
            fn suppression_from_row(row: &$row) -> Result<Suppression, StoreError> {
                use sqlx::Row;
                let reason: String = row.try_get("reason")?;
                Ok(Suppression {
                    email: row.try_get("email")?,
                    reason: reason_of(&reason)?,
                    source: row.try_get("source")?,
                    detail: row.try_get("detail")?,
                    created_ms: row.try_get("created_ms")?,
                })
            }
        }

        #[async_trait]
        impl Suppressions for $ty {
            async fn suppress(
                &self,
                list: &[NewSuppression<'_>],
                now_ms: i64,
            ) -> Result<u64, StoreError> {
                let mut tx = self.pool.begin().await?;
                let mut added = 0;
                for s in list {
                    added += sqlx::query(
                        "INSERT INTO suppressions (email, reason, source, detail, created_ms)
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING",
                    )
                    .bind(ledger_email(s.email))
                    .bind(s.reason.as_str())
                    .bind(s.source)
                    .bind(s.detail)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                }
                tx.commit().await?;
                Ok(added)
            }

            async fn unsuppress(&self, email: &str) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM suppressions WHERE email = $1")
                    .bind(ledger_email(email))
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn suppression(&self, email: &str) -> Result<Option<Suppression>, StoreError> {
                let row = sqlx::query("SELECT * FROM suppressions WHERE email = $1")
                    .bind(ledger_email(email))
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::suppression_from_row).transpose()
            }

            async fn suppressions(
                &self,
                reason: Option<SuppressionReason>,
                after: Option<&str>,
                limit: i64,
            ) -> Result<Vec<Suppression>, StoreError> {
                let rows = sqlx::query(
                    "SELECT * FROM suppressions
                     WHERE ($1 IS NULL OR reason = $1) AND ($2 IS NULL OR email > $2)
                     ORDER BY email LIMIT $3",
                )
                .bind(reason.map(SuppressionReason::as_str))
                .bind(after)
                .bind(limit.clamp(1, 10_000))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::suppression_from_row).collect()
            }

            async fn suppression_count(
                &self,
                reason: Option<SuppressionReason>,
            ) -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM suppressions WHERE ($1 IS NULL OR reason = $1)",
                )
                .bind(reason.map(SuppressionReason::as_str))
                .fetch_one(&self.pool)
                .await?)
            }

            async fn record_email_event(
                &self,
                e: &EmailEvent<'_>,
                now_ms: i64,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "INSERT INTO email_events (id, kind, email, message_id, detail, received_ms)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
                )
                .bind(e.id)
                .bind(e.kind)
                .bind(ledger_email(e.email))
                .bind(e.message_id)
                .bind(e.detail)
                .bind(now_ms)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn mark_delivery(
                &self,
                message_id: &str,
                email: &str,
                state: DeliveryState,
                reason: &str,
                now_ms: i64,
            ) -> Result<u64, StoreError> {
                let done = sqlx::query(
                    "UPDATE deliveries SET state = $3, reason = $4, updated_ms = $5
                     WHERE message_id = $1 AND email = $2 AND state IN ('delivered', 'sending', 'bounced')",
                )
                .bind(message_id)
                .bind(ledger_email(email))
                .bind(state.as_str())
                .bind(reason)
                .bind(now_ms)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }
        }
    };
}

suppressions_impl!(crate::SqliteStore, sqlx::sqlite::SqliteRow);
suppressions_impl!(crate::PostgresStore, sqlx::postgres::PgRow);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_back_by_name() {
        for r in SuppressionReason::ALL {
            assert_eq!(SuppressionReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(SuppressionReason::parse("Bounce"), None);
    }
}
