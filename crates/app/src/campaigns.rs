//! Email campaigns: every newsletter send is recorded under its campaign id (a plain send, an
//! A/B variant, the A/B remainder), and its figures — sent, delivered, opened, clicked,
//! unsubscribed, bounced — are pulled from the CRM and stored.

use crate::error::Found;
use halcytone_publish::{CampaignFigures, Outcome, Publishing, TargetResult};
use halcytone_store::{CampaignStats, EmailCampaign, Store, StoreError};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The CRM's figures as stored.
pub fn stats(f: &CampaignFigures) -> CampaignStats {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    CampaignStats {
        sent: n(f.sent),
        delivered: n(f.delivered),
        opened: n(f.opened),
        clicked: n(f.clicked),
        unsubscribed: n(f.unsubscribed),
        bounced: n(f.bounced),
    }
}

/// What a job's email lines say about each campaign: subject, variant, recipients sent.
#[derive(Debug)]
pub struct Sent {
    pub job_id: String,
    pub ab_test_id: Option<String>,
    pub segment_id: Option<String>,
}

/// Records the campaigns of a publish's email lines that went out (recipients counted over
/// the succeeded batches). `subject_of` names each group's subject by its variant label.
pub async fn record(
    store: &dyn Store,
    sent: &Sent,
    lines: &[TargetResult],
    subject_of: impl Fn(Option<&str>) -> String,
    now_ms: i64,
) -> Result<(), StoreError> {
    let mut by_campaign: BTreeMap<&str, (Option<String>, i64)> = BTreeMap::new();
    for l in lines
        .iter()
        .filter(|l| l.channel == "email" && l.outcome == Outcome::Succeeded)
    {
        let Some(c) = l.campaign.as_deref() else {
            continue;
        };
        // `email:v1:batch-2` → `v1`; `email:batch-2` → none.
        let parts: Vec<&str> = l.target.split(':').collect();
        let variant = (parts.len() == 3).then(|| parts[1].to_string());
        let entry = by_campaign.entry(c).or_insert((variant, 0));
        entry.1 += l.recipients.unwrap_or(0) as i64;
    }
    for (campaign, (variant, recipients)) in by_campaign {
        store
            .record_campaign(&EmailCampaign {
                campaign_id: campaign.to_string(),
                job_id: sent.job_id.clone(),
                ab_test_id: sent.ab_test_id.clone(),
                subject: subject_of(variant.as_deref()),
                variant,
                segment_id: sent.segment_id.clone(),
                recipients,
                stats: None,
                fetched_ms: None,
                created_ms: now_ms,
            })
            .await?;
    }
    Ok(())
}

/// Pulls a campaign's figures from the CRM and stores them.
pub async fn refresh(
    store: &dyn Store,
    publishing: &Publishing,
    campaign_id: &str,
    correlation_id: &str,
    now_ms: i64,
) -> Result<Result<CampaignStats, halcytone_publish::client::CallError>, StoreError> {
    match publishing
        .campaign_figures(campaign_id, correlation_id)
        .await
    {
        Ok(f) => {
            let s = stats(&f);
            store.set_campaign_stats(campaign_id, &s, now_ms).await?;
            Ok(Ok(s))
        }
        Err(e) => Ok(Err(e)),
    }
}

/// What one pass of the refresher did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPass {
    /// Campaigns whose figures were pulled and stored.
    pub refreshed: usize,
    /// Whether the pass stopped at a CRM that could not answer (the rest wait for the next).
    pub stopped: bool,
}

/// Pulls the figures of every campaign sent in the last `days` days whose figures were never
/// pulled or are older than `stale`, oldest figures first (at most 500 campaigns a pass). A CRM
/// that cannot answer ends the pass; the next pass tries again.
pub async fn refresh_stale(
    store: &dyn Store,
    publishing: &Publishing,
    now_ms: i64,
    stale: Duration,
    days: i64,
) -> Result<RefreshPass, StoreError> {
    let stale_ms = i64::try_from(stale.as_millis()).unwrap_or(i64::MAX);
    let mut due: Vec<EmailCampaign> = store
        .campaigns(now_ms - days * 86_400_000, 500)
        .await?
        .into_iter()
        .filter(|c| c.fetched_ms.is_none_or(|f| now_ms - f >= stale_ms))
        .collect();
    due.sort_by_key(|c| (c.fetched_ms.unwrap_or(i64::MIN), c.created_ms));
    let correlation_id = format!("analytics-refresh-{}", uuid::Uuid::new_v4().simple());
    let mut pass = RefreshPass::default();
    for c in &due {
        match refresh(store, publishing, &c.campaign_id, &correlation_id, now_ms).await? {
            Ok(_) => pass.refreshed += 1,
            Err(e) => {
                tracing::warn!(campaign_id = %c.campaign_id, error = %e, "the CRM's analytics could not be read; the next pass tries again");
                pass.stopped = true;
                break;
            }
        }
    }
    Ok(pass)
}

/// The refresher looks for due campaigns at least this often, so a new campaign's first
/// figures arrive within minutes even with an hourly refresh.
const LOOK_EVERY: Duration = Duration::from_secs(5 * 60);

/// Pulls the figures of recent campaigns ([`refresh_stale`]) whose figures are older than
/// `every`, or that were never pulled; it looks every `every` or every five minutes, whichever
/// is shorter, and the first time at once.
pub fn spawn_refresher(
    store: Arc<dyn Store>,
    publishing: Arc<Publishing>,
    every: Duration,
    days: i64,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every.min(LOOK_EVERY));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let now = chrono::Utc::now().timestamp_millis();
            match refresh_stale(store.as_ref(), &publishing, now, every, days).await {
                Ok(p) if p.refreshed > 0 || p.stopped => {
                    tracing::info!(
                        refreshed = p.refreshed,
                        stopped = p.stopped,
                        "campaign figures refreshed"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "campaign figures could not be refreshed"),
            }
        }
    })
}

fn rate(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// A campaign as the API shows it.
pub fn campaign_json(c: &EmailCampaign) -> Value {
    let figures = c.stats.map(|s| {
        json!({
            "sent": s.sent,
            "delivered": s.delivered,
            "opened": s.opened,
            "clicked": s.clicked,
            "unsubscribed": s.unsubscribed,
            "bounced": s.bounced,
            "open_rate": rate(s.opened, s.delivered),
            "click_rate": rate(s.clicked, s.delivered),
            "bounce_rate": rate(s.bounced, s.sent),
        })
    });
    json!({
        "campaign_id": c.campaign_id,
        "job_id": c.job_id,
        "ab_test_id": c.ab_test_id,
        "variant": c.variant,
        "subject": c.subject,
        "segment_id": c.segment_id,
        "recipients": c.recipients,
        "figures": figures,
        "fetched_at": c.fetched_ms.and_then(crate::queue::iso),
        "created_at": crate::queue::iso(c.created_ms),
    })
}

/// Totals over campaigns (those with figures).
pub fn totals_json(all: &[EmailCampaign]) -> Value {
    let mut t = CampaignStats::default();
    let mut with = 0;
    for s in all.iter().filter_map(|c| c.stats) {
        with += 1;
        t.sent += s.sent;
        t.delivered += s.delivered;
        t.opened += s.opened;
        t.clicked += s.clicked;
        t.unsubscribed += s.unsubscribed;
        t.bounced += s.bounced;
    }
    json!({
        "campaigns": all.len(),
        "campaigns_with_figures": with,
        "recipients": all.iter().map(|c| c.recipients).sum::<i64>(),
        "sent": t.sent,
        "delivered": t.delivered,
        "opened": t.opened,
        "clicked": t.clicked,
        "unsubscribed": t.unsubscribed,
        "bounced": t.bounced,
        "open_rate": rate(t.opened, t.delivered),
        "click_rate": rate(t.clicked, t.delivered),
    })
}

/// The campaigns sent in the last `days` (1–365, default 30; at most `limit`, 1–500, default
/// 100) with their totals.
pub async fn summary(
    core: &crate::Core,
    days: Option<i64>,
    limit: Option<i64>,
) -> Result<Value, crate::AppError> {
    let days = days.unwrap_or(30);
    if !(1..=365).contains(&days) {
        return Err(crate::AppError::invalid("days", "days: 1 to 365"));
    }
    let limit = limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(crate::AppError::invalid("limit", "limit: 1 to 500"));
    }
    let since = crate::queue::now_ms() - days * 86_400_000;
    let all = core.store.campaigns(since, limit).await?;
    Ok(json!({
        "period_days": days,
        "totals": totals_json(&all),
        "campaigns": all.iter().map(campaign_json).collect::<Vec<_>>(),
    }))
}

/// One campaign we sent; an unknown id is not found.
pub async fn load(core: &crate::Core, id: &str) -> Result<EmailCampaign, crate::AppError> {
    core.store.campaign(id).await?.found("campaign", id)
}

/// Pulls one of our campaigns' figures from the CRM now and answers it as stored.
pub async fn refresh_now(core: &crate::Core, id: &str) -> Result<Value, crate::AppError> {
    // Only campaigns we sent are asked about, so the id is one of ours.
    load(core, id).await?;
    refresh(
        core.store.as_ref(),
        &core.publishing,
        id,
        &halcytone_telemetry::correlation::current(),
        crate::queue::now_ms(),
    )
    .await?
    .map_err(|e| crate::AppError::Upstream(format!("the CRM's analytics of {id}: {e}")))?;
    Ok(campaign_json(&load(core, id).await?))
}
