//! Audiences you bring: named lists of people (imported from CSV by the application), kept
//! beside the CRM's own subscriber list. One row per audience and address; the address is
//! kept trimmed and lower-cased ([`member_email`]), so importing a person again updates
//! their row instead of adding a second one.

use crate::StoreError;
use async_trait::async_trait;
use serde::Serialize;
use serde_json::{Map, Value};

/// A named list of people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Audience {
    pub id: String,
    pub name: String,
    pub created_ms: i64,
    /// How many people it holds, whatever their status.
    pub members: i64,
}

/// One person of an audience, as an import gives them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    /// Stored trimmed and lower-cased.
    pub email: String,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub tags: Vec<String>,
    /// `active`, `unsubscribed`, …
    pub status: String,
    /// The import's other columns.
    pub attributes: Map<String, Value>,
}

/// A stored member and when the row was first written and last changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberRow {
    #[serde(flatten)]
    pub member: Member,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// The audience's address form: trimmed and lower-cased.
pub fn member_email(email: &str) -> String {
    email.trim().to_lowercase()
}

#[async_trait]
pub trait Audiences: Send + Sync {
    /// Stores a new, empty audience; `None` when the name is taken.
    async fn create_audience(
        &self,
        id: &str,
        name: &str,
        now_ms: i64,
    ) -> Result<Option<Audience>, StoreError>;
    async fn audience(&self, id: &str) -> Result<Option<Audience>, StoreError>;
    async fn audience_by_name(&self, name: &str) -> Result<Option<Audience>, StoreError>;
    /// Every audience, by name.
    async fn audiences(&self) -> Result<Vec<Audience>, StoreError>;
    /// Adds or replaces members (by address) in one transaction; returns how many rows were
    /// inserted and how many updated. An address given twice is written twice, the later
    /// winning (callers that count people collapse repeats first).
    async fn upsert_members(
        &self,
        audience_id: &str,
        members: &[Member],
        now_ms: i64,
    ) -> Result<(u64, u64), StoreError>;
    /// Members in address order after `after_email` (keyset paging), at most `limit`.
    async fn members_page(
        &self,
        audience_id: &str,
        after_email: Option<&str>,
        limit: i64,
    ) -> Result<Vec<MemberRow>, StoreError>;
    async fn member_count(&self, audience_id: &str) -> Result<i64, StoreError>;
}

/// An audience query: its columns and member count, then `$rest` (a literal, so the SQL stays
/// static).
macro_rules! select_audiences {
    ($rest:literal) => {
        concat!(
            "SELECT a.id, a.name, a.created_ms, (SELECT COUNT(*) FROM audience_members m WHERE m.audience_id = a.id) AS members FROM audiences a ",
            $rest
        )
    };
}

/// Both backends run the same SQL; only the row type differs.
macro_rules! audiences_impl {
    ($ty:ty, $row:ty) => {
        impl $ty {
            fn audience_from_row(row: &$row) -> Result<Audience, StoreError> {
                use sqlx::Row;
                Ok(Audience {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    created_ms: row.try_get("created_ms")?,
                    members: row.try_get("members")?,
                })
            }

            fn member_from_row(row: &$row) -> Result<MemberRow, StoreError> {
                use sqlx::Row;
                let tags: String = row.try_get("tags")?;
                let attributes: String = row.try_get("attributes")?;
                Ok(MemberRow {
                    member: Member {
                        email: row.try_get("email")?,
                        name: row.try_get("name")?,
                        first_name: row.try_get("first_name")?,
                        last_name: row.try_get("last_name")?,
                        tags: serde_json::from_str(&tags)
                            .map_err(|e| StoreError::Corrupt(format!("member tags: {e}")))?,
                        status: row.try_get("status")?,
                        attributes: serde_json::from_str(&attributes).map_err(|e| {
                            StoreError::Corrupt(format!("member attributes: {e}"))
                        })?,
                    },
                    created_ms: row.try_get("created_ms")?,
                    updated_ms: row.try_get("updated_ms")?,
                })
            }
        }

        #[async_trait]
        impl Audiences for $ty {
            async fn create_audience(
                &self,
                id: &str,
                name: &str,
                now_ms: i64,
            ) -> Result<Option<Audience>, StoreError> {
                let done = sqlx::query(
                    "INSERT INTO audiences (id, name, created_ms) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING",
                )
                .bind(id)
                .bind(name)
                .bind(now_ms)
                .execute(&self.pool)
                .await?;
                Ok((done.rows_affected() == 1).then(|| Audience {
                    id: id.to_string(),
                    name: name.to_string(),
                    created_ms: now_ms,
                    members: 0,
                }))
            }

            async fn audience(&self, id: &str) -> Result<Option<Audience>, StoreError> {
                let row = sqlx::query(select_audiences!("WHERE a.id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(Self::audience_from_row).transpose()
            }

            async fn audience_by_name(&self, name: &str) -> Result<Option<Audience>, StoreError> {
                let row = sqlx::query(select_audiences!("WHERE a.name = $1"))
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(Self::audience_from_row).transpose()
            }

            async fn audiences(&self) -> Result<Vec<Audience>, StoreError> {
                let rows = sqlx::query(select_audiences!("ORDER BY a.name"))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::audience_from_row).collect()
            }

            async fn upsert_members(
                &self,
                audience_id: &str,
                members: &[Member],
                now_ms: i64,
            ) -> Result<(u64, u64), StoreError> {
                let (mut inserted, mut updated) = (0, 0);
                if members.is_empty() {
                    return Ok((0, 0));
                }
                let mut tx = self.pool.begin().await?;
                for m in members {
                    let email = member_email(&m.email);
                    let tags = serde_json::to_string(&m.tags)
                        .map_err(|e| StoreError::Corrupt(format!("member tags: {e}")))?;
                    let attributes = serde_json::to_string(&m.attributes)
                        .map_err(|e| StoreError::Corrupt(format!("member attributes: {e}")))?;
                    // Insert first: a row another import adds meanwhile is then updated, never
                    // refused as a duplicate key.
                    let added = sqlx::query(
                        "INSERT INTO audience_members (audience_id, email, name, first_name, last_name, tags, status, attributes, created_ms, updated_ms)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
                         ON CONFLICT (audience_id, email) DO NOTHING",
                    )
                    .bind(audience_id)
                    .bind(&email)
                    .bind(&m.name)
                    .bind(&m.first_name)
                    .bind(&m.last_name)
                    .bind(&tags)
                    .bind(&m.status)
                    .bind(&attributes)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                    if added.rows_affected() == 1 {
                        inserted += 1;
                        continue;
                    }
                    sqlx::query(
                        "UPDATE audience_members SET name = $3, first_name = $4, last_name = $5, tags = $6, status = $7, attributes = $8, updated_ms = $9
                         WHERE audience_id = $1 AND email = $2",
                    )
                    .bind(audience_id)
                    .bind(&email)
                    .bind(&m.name)
                    .bind(&m.first_name)
                    .bind(&m.last_name)
                    .bind(&tags)
                    .bind(&m.status)
                    .bind(&attributes)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                    updated += 1;
                }
                tx.commit().await?;
                Ok((inserted, updated))
            }

            async fn members_page(
                &self,
                audience_id: &str,
                after_email: Option<&str>,
                limit: i64,
            ) -> Result<Vec<MemberRow>, StoreError> {
                let rows = sqlx::query(
                    "SELECT * FROM audience_members
                     WHERE audience_id = $1 AND ($2 IS NULL OR email > $2)
                     ORDER BY email LIMIT $3",
                )
                .bind(audience_id)
                .bind(after_email)
                .bind(limit.clamp(1, 10_000))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::member_from_row).collect()
            }

            async fn member_count(&self, audience_id: &str) -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM audience_members WHERE audience_id = $1",
                )
                .bind(audience_id)
                .fetch_one(&self.pool)
                .await?)
            }
        }
    };
}

audiences_impl!(crate::SqliteStore, sqlx::sqlite::SqliteRow);
audiences_impl!(crate::PostgresStore, sqlx::postgres::PgRow);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_kept_trimmed_and_lower_cased() {
        assert_eq!(member_email("  Ana@Example.COM "), "ana@example.com");
    }
}
