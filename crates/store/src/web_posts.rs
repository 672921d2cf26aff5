//! The web posts a job published, kept for the feeds (`/feed.atom`, `/feed.json`).

use crate::StoreError;
use async_trait::async_trait;

/// One published post.
#[derive(Debug, Clone, PartialEq)]
pub struct WebPostRecord {
    pub slug: String,
    pub title: String,
    pub url: String,
    pub summary: String,
    pub tags: Vec<String>,
    pub job_id: String,
    pub dry_run: bool,
    /// When it was first published.
    pub published_ms: i64,
    /// When it was last published.
    pub updated_ms: i64,
}

#[async_trait]
pub trait WebPosts: Send + Sync {
    /// Records a post as published at `now_ms`: a new slug is added; a known one keeps its
    /// first publication time and takes the rest.
    async fn record_web_post(&self, post: &WebPostRecord) -> Result<(), StoreError>;
    /// The posts published in dry run or not, most recently updated first.
    async fn web_posts(&self, dry_run: bool, limit: i64) -> Result<Vec<WebPostRecord>, StoreError>;
}

macro_rules! web_posts_impl {
    ($ty:ty) => {
        #[async_trait]
        impl WebPosts for $ty {
            async fn record_web_post(&self, p: &WebPostRecord) -> Result<(), StoreError> {
                let tags = serde_json::to_string(&p.tags)
                    .map_err(|e| StoreError::Corrupt(format!("tags: {e}")))?;
                sqlx::query(
                    "INSERT INTO web_posts (slug, title, url, summary, tags, job_id, dry_run, published_ms, updated_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (slug) DO UPDATE SET title = excluded.title, url = excluded.url, \
                     summary = excluded.summary, tags = excluded.tags, job_id = excluded.job_id, \
                     dry_run = excluded.dry_run, updated_ms = excluded.updated_ms",
                )
                .bind(&p.slug)
                .bind(&p.title)
                .bind(&p.url)
                .bind(&p.summary)
                .bind(tags)
                .bind(&p.job_id)
                .bind(i64::from(p.dry_run))
                .bind(p.published_ms)
                .bind(p.updated_ms)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn web_posts(
                &self,
                dry_run: bool,
                limit: i64,
            ) -> Result<Vec<WebPostRecord>, StoreError> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT slug, title, url, summary, tags, job_id, dry_run, published_ms, updated_ms \
                     FROM web_posts WHERE dry_run = $1 ORDER BY updated_ms DESC, slug LIMIT $2",
                )
                .bind(i64::from(dry_run))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        let tags: String = r.try_get("tags")?;
                        Ok(WebPostRecord {
                            slug: r.try_get("slug")?,
                            title: r.try_get("title")?,
                            url: r.try_get("url")?,
                            summary: r.try_get("summary")?,
                            tags: serde_json::from_str(&tags)
                                .map_err(|e| StoreError::Corrupt(format!("web post tags: {e}")))?,
                            job_id: r.try_get("job_id")?,
                            dry_run: r.try_get::<i64, _>("dry_run")? != 0,
                            published_ms: r.try_get("published_ms")?,
                            updated_ms: r.try_get("updated_ms")?,
                        })
                    })
                    .collect()
            }
        }
    };
}

web_posts_impl!(crate::SqliteStore);
web_posts_impl!(crate::PostgresStore);
