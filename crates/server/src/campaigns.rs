//! Email campaigns: every newsletter send is recorded under its campaign id (a plain send, an
//! A/B variant, the A/B remainder), and its figures — sent, delivered, opened, clicked,
//! unsubscribed, bounced — are pulled from the CRM and stored.

use halcytone_publish::{CampaignFigures, Outcome, Publishing, TargetResult};
use halcytone_store::{CampaignStats, EmailCampaign, Store, StoreError};
use serde_json::{Value, json};
use std::collections::BTreeMap;

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
