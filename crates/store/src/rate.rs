//! Shared send rates: a token bucket per name in the database, refilled at `rate` tokens a
//! second up to `burst`, from which every process takes with one atomic statement. Replicas
//! sharing a database therefore pace together: N of them send no faster than the configured
//! rate, not N times it.

use crate::StoreError;
use async_trait::async_trait;

/// What one take of tokens came to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grant {
    /// Whole tokens granted (0 to what was asked).
    pub granted: u32,
    /// Tokens left in the bucket after the take (a fraction when it ran dry).
    pub left: f64,
}

#[async_trait]
pub trait RateBuckets: Send + Sync {
    /// Takes up to `want` whole tokens from bucket `name` (created full), after refilling it
    /// at `rate` a second up to `burst` for the time since its last take.
    async fn take_tokens(
        &self,
        name: &str,
        want: u32,
        rate: f64,
        burst: f64,
        now_ms: i64,
    ) -> Result<Grant, StoreError>;
}

/// One statement per backend; they differ only in the names of the scalar functions.
macro_rules! rate_impl {
    ($ty:ty, $least:literal, $greatest:literal, $floor_open:literal, $floor_close:literal) => {
        #[async_trait]
        impl RateBuckets for $ty {
            async fn take_tokens(
                &self,
                name: &str,
                want: u32,
                rate: f64,
                burst: f64,
                now_ms: i64,
            ) -> Result<Grant, StoreError> {
                use sqlx::Row;
                let burst = burst.max(1.0);
                sqlx::query(
                    "INSERT INTO rate_buckets (name, tokens, last_grant, updated_ms) VALUES ($1, $2, 0, $3)
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(name)
                .bind(burst)
                .bind(now_ms)
                .execute(&self.pool)
                .await?;
                // Every expression reads the row as it was, so `avail` is computed once per
                // column from the same values.
                let avail = format!(
                    "{least}($4, tokens + {greatest}(0, $5 - updated_ms) * $3 / 1000.0)",
                    least = $least,
                    greatest = $greatest
                );
                let grant = format!(
                    "{least}($2, {fo}{avail}{fc})",
                    least = $least,
                    fo = $floor_open,
                    fc = $floor_close
                );
                let sql = format!(
                    "UPDATE rate_buckets SET
                         last_grant = {grant},
                         tokens = {avail} - {grant},
                         updated_ms = {greatest}(updated_ms, $5)
                     WHERE name = $1
                     RETURNING last_grant, tokens",
                    greatest = $greatest
                );
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(name)
                    .bind(f64::from(want))
                    .bind(rate.max(0.0))
                    .bind(burst)
                    .bind(now_ms)
                    .fetch_one(&self.pool)
                    .await?;
                let granted: f64 = row.try_get("last_grant")?;
                Ok(Grant {
                    granted: granted.clamp(0.0, f64::from(want)) as u32,
                    left: row.try_get("tokens")?,
                })
            }
        }
    };
}

rate_impl!(crate::SqliteStore, "MIN", "MAX", "CAST(", " AS INTEGER)");
rate_impl!(crate::PostgresStore, "LEAST", "GREATEST", "FLOOR(", ")");
