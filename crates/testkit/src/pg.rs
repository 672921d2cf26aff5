//! A PostgreSQL schema of a test's own on the server named by `HALCYTONE_TEST_DATABASE_URL`.

/// The variable naming the PostgreSQL server the tests may use.
pub const DATABASE_URL_VAR: &str = "HALCYTONE_TEST_DATABASE_URL";

/// A new, empty schema; dropped (best effort) with the value.
#[derive(Debug)]
pub struct ScratchSchema {
    /// The server's URL with `search_path` set to the schema: what the code under test connects to.
    pub url: String,
    /// The schema's name (`t_<uuid>`).
    pub name: String,
    server: String,
}

impl ScratchSchema {
    /// Creates the schema; `None` when `HALCYTONE_TEST_DATABASE_URL` is not set.
    pub async fn create() -> Option<ScratchSchema> {
        let server = std::env::var(DATABASE_URL_VAR).ok()?;
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(&server).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&admin)
            .await
            .unwrap();
        let sep = if server.contains('?') { '&' } else { '?' };
        Some(ScratchSchema {
            url: format!("{server}{sep}options=-csearch_path%3D{name}"),
            name,
            server,
        })
    }
}

impl Drop for ScratchSchema {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Best effort, on a runtime of its own: the test's runtime may be shutting down.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(pool) = sqlx::PgPool::connect(&server).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS {name} CASCADE"
                    )))
                    .execute(&pool)
                    .await;
                }
            });
        })
        .join();
    }
}
