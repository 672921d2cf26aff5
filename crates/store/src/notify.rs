//! Events between processes sharing a database. On PostgreSQL they go through
//! `LISTEN`/`NOTIFY` (a payload of a few hundred bytes: ids, not documents); on SQLite, one
//! process owns the file, so there is nobody to tell and [`Notifications::listen`] answers
//! `None`.

use crate::StoreError;
use async_trait::async_trait;
use tokio::sync::mpsc;

/// How many notifications wait for a slow reader before new ones are dropped.
const BUFFER: usize = 4096;

#[async_trait]
pub trait Notifications: Send + Sync {
    /// Tells every listener of `channel` (including this process's) `payload`.
    async fn notify(&self, channel: &str, payload: &str) -> Result<(), StoreError>;
    /// The payloads sent on `channel` from now on; `None` where the backend has no other
    /// processes to hear from. The listening connection reconnects by itself; what is sent
    /// while it is down is lost.
    async fn listen(&self, channel: &str) -> Result<Option<mpsc::Receiver<String>>, StoreError>;
}

#[async_trait]
impl Notifications for crate::SqliteStore {
    async fn notify(&self, _: &str, _: &str) -> Result<(), StoreError> {
        Ok(())
    }

    async fn listen(&self, _: &str) -> Result<Option<mpsc::Receiver<String>>, StoreError> {
        Ok(None)
    }
}

#[async_trait]
impl Notifications for crate::PostgresStore {
    async fn notify(&self, channel: &str, payload: &str) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn listen(&self, channel: &str) -> Result<Option<mpsc::Receiver<String>>, StoreError> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
        listener.listen(channel).await?;
        let (tx, rx) = mpsc::channel(BUFFER);
        let channel = channel.to_string();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(n) => {
                        if tx.is_closed() {
                            return;
                        }
                        // A full buffer drops this one rather than holding the connection up.
                        let _ = tx.try_send(n.payload().to_string());
                    }
                    Err(e) => {
                        if tx.is_closed() {
                            return;
                        }
                        tracing::warn!(channel = %channel, error = %e, "listening for notifications failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(Some(rx))
    }
}
