//! The feeds of published web posts: what a publish job records when its web post goes out,
//! and the entries `/feed.atom` and `/feed.json` list (the posts of this mode: a dry-run server
//! lists what its rehearsals published to the mock Platform, a live one what went live).

use crate::core::Core;
use crate::error::AppResult;
use chrono::{TimeZone, Utc};
use halcytone_content::compose::web::WebPost;
use halcytone_content::feed::{FeedEntry, FeedInfo};
use halcytone_store::web_posts::WebPostRecord;

/// Posts a feed lists at most.
pub const FEED_ENTRIES: i64 = 50;

/// Records the web post a job has just published.
pub async fn record_published(core: &Core, job_id: &str, post: &WebPost) {
    let now = Utc::now().timestamp_millis();
    let record = WebPostRecord {
        slug: post.slug.clone(),
        title: post.title.clone(),
        url: post.url.clone(),
        summary: if post.excerpt.is_empty() {
            post.meta_description.clone()
        } else {
            post.excerpt.clone()
        },
        tags: post.tags.clone(),
        job_id: job_id.to_string(),
        dry_run: core.publishing.settings.dry_run,
        published_ms: now,
        updated_ms: now,
    };
    if let Err(e) = core.store.record_web_post(&record).await {
        tracing::warn!(job = job_id, error = %e, "the published web post was not recorded for the feeds");
    }
}

/// Who the feed is from, and where it lives (`base` is the API's public address).
pub fn info(core: &Core, base: &str, file: &str) -> FeedInfo {
    let brand = &core.brand;
    let base = core
        .config
        .mailing
        .public_base_url
        .as_ref()
        .map_or(base.to_string(), |u| u.as_str().to_string());
    FeedInfo {
        title: format!("{} updates", brand.name),
        description: brand.tagline.clone(),
        site_url: brand.website().to_string(),
        feed_url: format!("{}/{file}", base.trim_end_matches('/')),
        author: brand.name.clone(),
    }
}

/// The newest posts of this mode, as feed entries.
pub async fn entries(core: &Core) -> AppResult<Vec<FeedEntry>> {
    let at = |ms: i64| Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    Ok(core
        .store
        .web_posts(core.publishing.settings.dry_run, FEED_ENTRIES)
        .await?
        .into_iter()
        .map(|p| FeedEntry {
            id: p.url.clone(),
            title: p.title,
            url: p.url,
            summary: p.summary,
            published: at(p.published_ms),
            updated: at(p.updated_ms),
            categories: p.tags,
        })
        .collect())
}
