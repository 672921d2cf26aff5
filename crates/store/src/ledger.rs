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

/// One recipient of [`Ledger::begin_deliveries`].
#[derive(Debug, Clone, Copy)]
pub struct Addressed<'a> {
    pub email: &'a str,
    pub subscriber_id: Option<&'a str>,
    pub message_id: &'a str,
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
    async fn begin_delivery(
        &self,
        d: &DeliveryStart<'_>,
        now_ms: i64,
    ) -> Result<Begun, StoreError> {
        let one = Addressed {
            email: d.email,
            subscriber_id: d.subscriber_id,
            message_id: d.message_id,
        };
        let begun = self
            .begin_deliveries(d.send, d.holder, &[one], now_ms)
            .await?;
        Ok(begun.first().copied().unwrap_or(Begun::NotHeld))
    }
    /// [`Ledger::begin_delivery`] for several recipients of one send, in one statement (one
    /// round trip): one answer per recipient, in order. An address given twice in one call is
    /// begun once; its later places answer `Ended(Sending)` (in flight: do not send it again).
    async fn begin_deliveries(
        &self,
        send: SendKey<'_>,
        holder: Option<Holder<'_>>,
        each: &[Addressed<'_>],
        now_ms: i64,
    ) -> Result<Vec<Begun>, StoreError>;
    /// Records how a begun message ended. A delivered row stays delivered.
    async fn finish_delivery(
        &self,
        send: SendKey<'_>,
        email: &str,
        finish: Finish<'_>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .finish_deliveries(send, &[(email, finish)], now_ms)
            .await?
            == 1)
    }
    /// [`Ledger::finish_delivery`] for several recipients of one send (the delivered ones in
    /// one statement). Answers how many rows changed.
    async fn finish_deliveries(
        &self,
        send: SendKey<'_>,
        done: &[(&str, Finish<'_>)],
        now_ms: i64,
    ) -> Result<u64, StoreError>;
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
            async fn begin_deliveries(
                &self,
                send: SendKey<'_>,
                holder: Option<Holder<'_>>,
                each: &[Addressed<'_>],
                now_ms: i64,
            ) -> Result<Vec<Begun>, StoreError> {
                use sqlx::Row;
                use std::collections::HashMap;
                if each.is_empty() {
                    return Ok(Vec::new());
                }
                // One row per address: a repeated one is begun once (its first place).
                let emails: Vec<String> = each.iter().map(|a| ledger_email(a.email)).collect();
                let mut first: HashMap<&str, usize> = HashMap::with_capacity(each.len());
                for (i, e) in emails.iter().enumerate() {
                    first.entry(e.as_str()).or_insert(i);
                }
                let unique: Vec<usize> = (0..each.len())
                    .filter(|i| first.get(emails[*i].as_str()) == Some(i))
                    .collect();
                let (job, worker) = match holder {
                    Some(h) => (Some(h.job_id), Some(h.worker)),
                    None => (None, None),
                };
                // Statements of their own, not one transaction: a SQLite write lock held across
                // round trips starves the other writers (the job's heartbeat) under load.
                let mut sql = String::from(
                    "INSERT INTO deliveries (job_id, target, email, subscriber_id, message_id, state, attempts, uncertain, retryable, reason, holder, created_ms, updated_ms)
                     SELECT $1, $2, v.column1, v.column2, v.column3, CASE WHEN s.email IS NULL THEN 'sending' ELSE 'suppressed' END,
                            CASE WHEN s.email IS NULL THEN 1 ELSE 0 END, 0, 0,
                            CASE WHEN s.email IS NULL THEN NULL ELSE 'suppressed: ' || s.reason END, $4, $5, $5
                     FROM (VALUES ",
                );
                for (n, _) in unique.iter().enumerate() {
                    let p = 6 + 3 * n;
                    if n > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!("(${p}, ${}, ${})", p + 1, p + 2));
                }
                sql.push_str(
                    ") AS v LEFT JOIN suppressions s ON s.email = v.column1
                     WHERE $3 IS NULL OR EXISTS (SELECT 1 FROM jobs WHERE id = $3 AND worker = $4 AND status = 'in_progress')
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
                     RETURNING email, attempts, uncertain, state",
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(send.job_id)
                    .bind(send.target)
                    .bind(job)
                    .bind(worker)
                    .bind(now_ms);
                for i in &unique {
                    q = q
                        .bind(emails[*i].as_str())
                        .bind(each[*i].subscriber_id)
                        .bind(each[*i].message_id);
                }
                let mut found: HashMap<String, Begun> = HashMap::with_capacity(unique.len());
                for row in q.fetch_all(&self.pool).await? {
                    let state: String = row.try_get("state")?;
                    let begun = if state == "suppressed" {
                        Begun::Ended(DeliveryState::Suppressed)
                    } else {
                        Begun::Send {
                            attempt: row.try_get("attempts")?,
                            uncertain: row.try_get::<i64, _>("uncertain")? != 0,
                        }
                    };
                    found.insert(row.try_get("email")?, begun);
                }
                // The rows left as they were: delivered, ended, or not held.
                let missing: Vec<&str> = unique
                    .iter()
                    .map(|i| emails[*i].as_str())
                    .filter(|e| !found.contains_key(*e))
                    .collect();
                if !missing.is_empty() {
                    let marks: Vec<String> = (0..missing.len()).map(|n| format!("${}", n + 3)).collect();
                    let sql = format!(
                        "SELECT email, state FROM deliveries WHERE job_id = $1 AND target = $2 AND email IN ({})",
                        marks.join(", ")
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(send.job_id).bind(send.target);
                    for e in &missing {
                        q = q.bind(*e);
                    }
                    let mut states: HashMap<String, String> = HashMap::new();
                    for row in q.fetch_all(&self.pool).await? {
                        states.insert(row.try_get("email")?, row.try_get("state")?);
                    }
                    for e in missing {
                        let begun = match states.get(e).map(String::as_str).and_then(DeliveryState::parse) {
                            Some(DeliveryState::Delivered) => Begun::Delivered,
                            Some(DeliveryState::Pending | DeliveryState::Sending) | None => Begun::NotHeld,
                            Some(s) => Begun::Ended(s),
                        };
                        found.insert(e.to_string(), begun);
                    }
                }
                Ok((0..each.len())
                    .map(|i| {
                        if first.get(emails[i].as_str()) == Some(&i) {
                            found.get(&emails[i]).copied().unwrap_or(Begun::NotHeld)
                        } else {
                            Begun::Ended(DeliveryState::Sending)
                        }
                    })
                    .collect())
            }

            async fn finish_deliveries(
                &self,
                send: SendKey<'_>,
                done: &[(&str, Finish<'_>)],
                now_ms: i64,
            ) -> Result<u64, StoreError> {
                let mut changed = 0;
                let delivered: Vec<(String, &str)> = done
                    .iter()
                    .filter_map(|(email, f)| match f {
                        Finish::Delivered { provider_id } => Some((ledger_email(email), *provider_id)),
                        Finish::Failed { .. } => None,
                    })
                    .collect();
                if !delivered.is_empty() {
                    // `email IN (…)` keeps to the ledger's unique index (a join on a VALUES
                    // list lets SQLite walk the whole send instead).
                    let mut cases = String::new();
                    let mut marks = Vec::with_capacity(delivered.len());
                    for n in 0..delivered.len() {
                        let p = 4 + 2 * n;
                        cases.push_str(&format!(" WHEN ${p} THEN ${}", p + 1));
                        marks.push(format!("${p}"));
                    }
                    let sql = format!(
                        "UPDATE deliveries SET state = 'delivered', provider_id = CASE email{cases} END, reason = NULL, retryable = 0, updated_ms = $3
                         WHERE job_id = $1 AND target = $2 AND email IN ({}) AND state <> 'delivered'",
                        marks.join(", ")
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(send.job_id)
                        .bind(send.target)
                        .bind(now_ms);
                    for (email, provider_id) in &delivered {
                        q = q.bind(email.as_str()).bind(*provider_id);
                    }
                    changed += q.execute(&self.pool).await?.rows_affected();
                }
                for (email, finish) in done {
                    let Finish::Failed { reason, retryable } = finish else {
                        continue;
                    };
                    changed += sqlx::query(
                        "UPDATE deliveries SET state = 'failed', reason = $4, retryable = $5, updated_ms = $6
                         WHERE job_id = $1 AND target = $2 AND email = $3 AND state = 'sending'",
                    )
                    .bind(send.job_id)
                    .bind(send.target)
                    .bind(ledger_email(email))
                    .bind(*reason)
                    .bind(i64::from(*retryable))
                    .bind(now_ms)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                }
                Ok(changed)
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
