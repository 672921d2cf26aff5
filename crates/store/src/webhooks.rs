//! Outbound webhooks: the endpoints a team registers and the messages owed to each.
//!
//! A message is written once per endpoint that wants its event (`(endpoint, message id)` is
//! unique, so writing it twice writes nothing new). Any replica's dispatcher claims due
//! messages for a short lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL), sends them and records
//! the attempt: delivered, due again later, or given up. Nothing is kept in memory only, so a
//! restart loses no message and a crashed sender's lease simply runs out.

use crate::StoreError;
use async_trait::async_trait;
use serde::Serialize;

/// A registered endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    /// The signing secret as stored (sealed when the store's caller seals it).
    #[serde(skip)]
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_until_ms`.
    #[serde(skip)]
    pub previous_secret: Option<String>,
    pub previous_until_ms: Option<i64>,
    /// Whether the last message given up on failed (cleared by the next delivery).
    pub failing: bool,
    pub last_error: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// One message owed to one endpoint, and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookDelivery {
    pub endpoint_id: String,
    pub message_id: String,
    pub event: String,
    /// The body, exactly as sent and signed.
    pub payload: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_ms: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    /// Every attempt: `{at_ms, status, error, ms}`.
    pub attempt_log: serde_json::Value,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// What one attempt at a delivery came to.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    /// `delivered`, `pending` (due again at `next_attempt_ms`) or `failed` (given up).
    pub state: &'a str,
    pub next_attempt_ms: i64,
    pub status: Option<i64>,
    pub error: Option<&'a str>,
    /// The attempt as the delivery log shows it.
    pub entry: serde_json::Value,
}

/// Attempts a delivery's log keeps (the oldest are dropped first).
pub const ATTEMPT_LOG_MAX: usize = 50;

#[async_trait]
pub trait Webhooks: Send + Sync {
    async fn create_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError>;
    /// Every endpoint, oldest first.
    async fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>, StoreError>;
    async fn webhook_endpoint(&self, id: &str) -> Result<Option<WebhookEndpoint>, StoreError>;
    /// Deletes an endpoint and the messages owed to it; false when there was none.
    async fn delete_webhook_endpoint(&self, id: &str) -> Result<bool, StoreError>;
    /// Replaces the signing secret; the old one keeps signing until `previous_until_ms`.
    async fn rotate_webhook_secret(
        &self,
        id: &str,
        secret: &str,
        previous_until_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Marks an endpoint failing (with the last error) or healthy again.
    async fn set_webhook_failing(
        &self,
        id: &str,
        failing: bool,
        last_error: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError>;
    /// Owes `message_id` to each of `endpoint_ids`, due now; an endpoint already owed that
    /// message keeps its row. Returns how many rows were written.
    async fn owe_webhook_message(
        &self,
        endpoint_ids: &[String],
        message_id: &str,
        event: &str,
        payload: &str,
        now_ms: i64,
    ) -> Result<u64, StoreError>;
    /// Claims up to `limit` due messages (pending and due, lease free) until `now + lease`.
    async fn claim_webhook_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>, StoreError>;
    /// Records an attempt at a claimed delivery and frees its lease.
    async fn record_webhook_attempt(
        &self,
        endpoint_id: &str,
        message_id: &str,
        attempt: &Attempt<'_>,
        now_ms: i64,
    ) -> Result<(), StoreError>;
    /// An endpoint's deliveries, newest first, and how many there are.
    async fn webhook_deliveries(
        &self,
        endpoint_id: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<WebhookDelivery>, i64), StoreError>;
    async fn webhook_delivery(
        &self,
        endpoint_id: &str,
        message_id: &str,
    ) -> Result<Option<WebhookDelivery>, StoreError>;
    /// Makes a delivery due again now (its log kept); false when there is none.
    async fn redeliver_webhook(
        &self,
        endpoint_id: &str,
        message_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
}

/// The columns read back, as literals so every statement stays a static string.
macro_rules! endpoint_columns {
    () => {
        "id, url, events, description, secret, previous_secret, previous_until_ms, failing, last_error, created_ms, updated_ms"
    };
}
macro_rules! delivery_columns {
    () => {
        "endpoint_id, message_id, event, payload, state, attempts, next_attempt_ms, last_status, last_error, attempt_log, created_ms, updated_ms"
    };
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// Both backends run the same SQL; PostgreSQL also skips rows other replicas hold.
macro_rules! webhooks_impl {
    ($ty:ty, $row:ty, $lock:literal) => {
        fn endpoint_from(r: &$row) -> Result<WebhookEndpoint, StoreError> {
            use sqlx::Row;
            let events: String = r.try_get("events")?;
            Ok(WebhookEndpoint {
                id: r.try_get("id")?,
                url: r.try_get("url")?,
                events: serde_json::from_str(&events).map_err(|e| corrupt("webhook events", e))?,
                description: r.try_get("description")?,
                secret: r.try_get("secret")?,
                previous_secret: r.try_get("previous_secret")?,
                previous_until_ms: r.try_get("previous_until_ms")?,
                failing: r.try_get::<i64, _>("failing")? != 0,
                last_error: r.try_get("last_error")?,
                created_ms: r.try_get("created_ms")?,
                updated_ms: r.try_get("updated_ms")?,
            })
        }

        fn delivery_from(r: &$row) -> Result<WebhookDelivery, StoreError> {
            use sqlx::Row;
            let log: String = r.try_get("attempt_log")?;
            Ok(WebhookDelivery {
                endpoint_id: r.try_get("endpoint_id")?,
                message_id: r.try_get("message_id")?,
                event: r.try_get("event")?,
                payload: r.try_get("payload")?,
                state: r.try_get("state")?,
                attempts: r.try_get("attempts")?,
                next_attempt_ms: r.try_get("next_attempt_ms")?,
                last_status: r.try_get("last_status")?,
                last_error: r.try_get("last_error")?,
                attempt_log: serde_json::from_str(&log)
                    .map_err(|e| corrupt("webhook attempt log", e))?,
                created_ms: r.try_get("created_ms")?,
                updated_ms: r.try_get("updated_ms")?,
            })
        }

        #[async_trait]
        impl Webhooks for $ty {
            async fn create_webhook_endpoint(&self, e: &WebhookEndpoint) -> Result<(), StoreError> {
                let events = serde_json::to_string(&e.events).map_err(|e| corrupt("events", e))?;
                sqlx::query(concat!("INSERT INTO webhook_endpoints (", endpoint_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
                .bind(&e.id)
                .bind(&e.url)
                .bind(events)
                .bind(&e.description)
                .bind(&e.secret)
                .bind(&e.previous_secret)
                .bind(e.previous_until_ms)
                .bind(i64::from(e.failing))
                .bind(&e.last_error)
                .bind(e.created_ms)
                .bind(e.updated_ms)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>, StoreError> {
                let rows = sqlx::query(concat!("SELECT ", endpoint_columns!(), " FROM webhook_endpoints ORDER BY created_ms, id"))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(endpoint_from).collect()
            }

            async fn webhook_endpoint(&self, id: &str) -> Result<Option<WebhookEndpoint>, StoreError> {
                let row = sqlx::query(concat!("SELECT ", endpoint_columns!(), " FROM webhook_endpoints WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(endpoint_from).transpose()
            }

            async fn delete_webhook_endpoint(&self, id: &str) -> Result<bool, StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("DELETE FROM webhook_deliveries WHERE endpoint_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let gone = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(gone > 0)
            }

            async fn rotate_webhook_secret(
                &self,
                id: &str,
                secret: &str,
                previous_until_ms: i64,
                now_ms: i64,
            ) -> Result<bool, StoreError> {
                let n = sqlx::query(
                    "UPDATE webhook_endpoints SET previous_secret = secret, secret = $1, previous_until_ms = $2, updated_ms = $3 WHERE id = $4",
                )
                .bind(secret)
                .bind(previous_until_ms)
                .bind(now_ms)
                .bind(id)
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(n > 0)
            }

            async fn set_webhook_failing(
                &self,
                id: &str,
                failing: bool,
                last_error: Option<&str>,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "UPDATE webhook_endpoints SET failing = $1, last_error = COALESCE($2, last_error), updated_ms = $3 WHERE id = $4",
                )
                .bind(i64::from(failing))
                .bind(last_error)
                .bind(now_ms)
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn owe_webhook_message(
                &self,
                endpoint_ids: &[String],
                message_id: &str,
                event: &str,
                payload: &str,
                now_ms: i64,
            ) -> Result<u64, StoreError> {
                let mut written = 0;
                for id in endpoint_ids {
                    written += sqlx::query(
                        "INSERT INTO webhook_deliveries (endpoint_id, message_id, event, payload, state, next_attempt_ms, created_ms, updated_ms) VALUES ($1, $2, $3, $4, 'pending', $5, $5, $5) ON CONFLICT (endpoint_id, message_id) DO NOTHING",
                    )
                    .bind(id)
                    .bind(message_id)
                    .bind(event)
                    .bind(payload)
                    .bind(now_ms)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                }
                Ok(written)
            }

            async fn claim_webhook_deliveries(
                &self,
                now_ms: i64,
                lease_ms: i64,
                limit: i64,
            ) -> Result<Vec<WebhookDelivery>, StoreError> {
                let rows = sqlx::query(concat!("UPDATE webhook_deliveries SET lease_until_ms = $1 \
                     WHERE seq IN (SELECT seq FROM webhook_deliveries \
                        WHERE state = 'pending' AND next_attempt_ms <= $2 \
                        AND (lease_until_ms IS NULL OR lease_until_ms < $2) \
                        ORDER BY next_attempt_ms LIMIT $3 ", $lock, ") \
                     RETURNING ", delivery_columns!()))
                .bind(now_ms + lease_ms)
                .bind(now_ms)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(delivery_from).collect()
            }

            async fn record_webhook_attempt(
                &self,
                endpoint_id: &str,
                message_id: &str,
                a: &Attempt<'_>,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                // Only the holder of the lease records an attempt, so the log is read and
                // written back without a transaction (on SQLite two transactions that read and
                // then write would refuse each other).
                let log: Option<String> = sqlx::query_scalar(
                    "SELECT attempt_log FROM webhook_deliveries WHERE endpoint_id = $1 AND message_id = $2",
                )
                .bind(endpoint_id)
                .bind(message_id)
                .fetch_optional(&self.pool)
                .await?;
                let Some(log) = log else {
                    return Ok(());
                };
                let mut log: Vec<serde_json::Value> =
                    serde_json::from_str(&log).map_err(|e| corrupt("webhook attempt log", e))?;
                log.push(a.entry.clone());
                if log.len() > ATTEMPT_LOG_MAX {
                    log.drain(..log.len() - ATTEMPT_LOG_MAX);
                }
                let log = serde_json::Value::Array(log).to_string();
                sqlx::query(
                    "UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, next_attempt_ms = $2, lease_until_ms = NULL, last_status = $3, last_error = $4, attempt_log = $5, updated_ms = $6 WHERE endpoint_id = $7 AND message_id = $8",
                )
                .bind(a.state)
                .bind(a.next_attempt_ms)
                .bind(a.status)
                .bind(a.error)
                .bind(log)
                .bind(now_ms)
                .bind(endpoint_id)
                .bind(message_id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn webhook_deliveries(
                &self,
                endpoint_id: &str,
                limit: i64,
                offset: i64,
            ) -> Result<(Vec<WebhookDelivery>, i64), StoreError> {
                let rows = sqlx::query(concat!("SELECT ", delivery_columns!(), " FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY seq DESC LIMIT $2 OFFSET $3"))
                .bind(endpoint_id)
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.pool)
                .await?;
                let total: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = $1",
                )
                .bind(endpoint_id)
                .fetch_one(&self.pool)
                .await?;
                Ok((rows.iter().map(delivery_from).collect::<Result<_, _>>()?, total))
            }

            async fn webhook_delivery(
                &self,
                endpoint_id: &str,
                message_id: &str,
            ) -> Result<Option<WebhookDelivery>, StoreError> {
                let row = sqlx::query(concat!("SELECT ", delivery_columns!(), " FROM webhook_deliveries WHERE endpoint_id = $1 AND message_id = $2"))
                .bind(endpoint_id)
                .bind(message_id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(delivery_from).transpose()
            }

            async fn redeliver_webhook(
                &self,
                endpoint_id: &str,
                message_id: &str,
                now_ms: i64,
            ) -> Result<bool, StoreError> {
                let n = sqlx::query(
                    "UPDATE webhook_deliveries SET state = 'pending', next_attempt_ms = $1, lease_until_ms = NULL, updated_ms = $1 WHERE endpoint_id = $2 AND message_id = $3",
                )
                .bind(now_ms)
                .bind(endpoint_id)
                .bind(message_id)
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(n > 0)
            }
        }
    };
}

mod sqlite {
    use super::*;
    webhooks_impl!(crate::SqliteStore, sqlx::sqlite::SqliteRow, "");
}

mod postgres {
    use super::*;
    webhooks_impl!(
        crate::PostgresStore,
        sqlx::postgres::PgRow,
        "FOR UPDATE SKIP LOCKED"
    );
}
