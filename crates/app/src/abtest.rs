//! A/B subject tests on the newsletter: a request's `ab_test` checked and stored, the test
//! group fixed and split over the variants on the first send, and — after the wait — the
//! winner chosen from the CRM's open rates and sent to everyone else.
//!
//! Two jobs carry a test: the one that sends the variants (phase `test`), and the one it
//! queues for `decide_after` later (phase `remainder`). Both read and write the stored test,
//! so a retry or a restart picks up where the last attempt stopped.

use crate::error::AppError;
use crate::worker::{AbPhase, AbRef, JobSpec, PublishSpec};
use halcytone_audience::{Assignment, VariantStats, pick_winner, split};
use halcytone_publish::{AbGroup, AbSend, Members, Outcome, Publishing, SegmentFilter};
use halcytone_store::{AbTest, Job, NewJob, Store, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashSet;

/// At most this many subject variants.
pub const MAX_VARIANTS: usize = 5;
/// The longest wait before the winner is chosen: a week.
pub const MAX_DECIDE_AFTER_MINUTES: u64 = 7 * 24 * 60;

/// `ab_test` in a send request.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AbTestBody {
    /// Two to five subject lines, each different.
    #[schema(schema_with = crate::schema::subjects)]
    pub subjects: Vec<String>,
    /// Share of the audience in the test group, in (0, 1]; default 0.2.
    #[schema(exclusive_minimum = 0.0, maximum = 1.0)]
    pub test_fraction: Option<f64>,
    /// Minutes between the variants' send and the choice of the winner; default 240.
    #[schema(maximum = 10080)]
    pub decide_after_minutes: Option<u64>,
}

/// A checked `ab_test`.
#[derive(Debug, Clone, PartialEq)]
pub struct AbTestPlan {
    pub subjects: Vec<String>,
    pub test_fraction: f64,
    pub decide_after_ms: i64,
}

/// Checks `ab_test`; every error names the field.
pub fn check(body: AbTestBody) -> Result<AbTestPlan, AppError> {
    if body.subjects.len() < 2 {
        return Err(AppError::invalid(
            "ab_test.subjects",
            format!(
                "ab_test.subjects: an A/B test needs at least two subject lines (got {})",
                body.subjects.len()
            ),
        ));
    }
    if body.subjects.len() > MAX_VARIANTS {
        return Err(AppError::invalid(
            "ab_test.subjects",
            format!("ab_test.subjects: at most {MAX_VARIANTS} subject lines"),
        ));
    }
    let mut subjects: Vec<String> = Vec::new();
    for (i, s) in body.subjects.iter().enumerate() {
        let field = format!("ab_test.subjects[{i}]");
        let s = s.trim();
        if s.is_empty() || s.chars().count() > 200 || s.chars().any(char::is_control) {
            return Err(AppError::invalid(
                &field,
                format!("{field}: a subject is 1 to 200 characters on one line"),
            ));
        }
        if subjects
            .iter()
            .any(|o| o.to_lowercase() == s.to_lowercase())
        {
            return Err(AppError::invalid(
                &field,
                format!("{field}: {s:?} is already a variant; each subject must differ"),
            ));
        }
        subjects.push(s.to_string());
    }
    let fraction = body.test_fraction.unwrap_or(0.2);
    if !(fraction.is_finite() && fraction > 0.0 && fraction <= 1.0) {
        return Err(AppError::invalid(
            "ab_test.test_fraction",
            "ab_test.test_fraction: a share of the audience above 0 and at most 1 (0.2 tests on a fifth)",
        ));
    }
    let minutes = body.decide_after_minutes.unwrap_or(240);
    if minutes > MAX_DECIDE_AFTER_MINUTES {
        return Err(AppError::invalid(
            "ab_test.decide_after_minutes",
            format!("ab_test.decide_after_minutes: at most {MAX_DECIDE_AFTER_MINUTES} (a week)"),
        ));
    }
    Ok(AbTestPlan {
        subjects,
        test_fraction: fraction,
        decide_after_ms: (minutes * 60_000) as i64,
    })
}

/// A new test, stored before its job is queued (the job's id is filled in afterwards).
pub fn new_test(plan: &AbTestPlan, segment_id: Option<String>, now_ms: i64) -> AbTest {
    AbTest {
        id: format!("ab_{}", uuid::Uuid::new_v4().simple()),
        job_id: String::new(),
        remainder_job_id: None,
        segment_id,
        subjects: plan.subjects.clone(),
        test_fraction: plan.test_fraction,
        decide_after_ms: plan.decide_after_ms,
        status: "testing".into(),
        assignment: None,
        winner: None,
        results: json!({}),
        reason: None,
        created_ms: now_ms,
        updated_ms: now_ms,
        decided_ms: None,
    }
}

/// The label of variant `i`: `v1`, `v2`, …
pub fn label(i: usize) -> String {
    format!("v{}", i + 1)
}

/// A test as the API shows it.
pub fn test_json(t: &AbTest) -> Value {
    let sizes: Vec<usize> = t
        .assignment
        .as_ref()
        .map(|a| a.iter().map(Vec::len).collect())
        .unwrap_or_default();
    json!({
        "ab_test_id": t.id,
        "status": t.status,
        "subjects": t.subjects,
        "test_fraction": t.test_fraction,
        "decide_after_minutes": t.decide_after_ms / 60_000,
        "segment_id": t.segment_id,
        "job_id": t.job_id,
        "remainder_job_id": t.remainder_job_id,
        "test_group_sizes": sizes,
        "winner": t.winner.map(|w| json!({
            "variant": w,
            "label": label(w as usize),
            "subject": t.subjects.get(w as usize),
        })),
        "results": t.results,
        "reason": t.reason,
        "created_at": crate::queue::iso(t.created_ms),
        "updated_at": crate::queue::iso(t.updated_ms),
        "decided_at": t.decided_ms.and_then(crate::queue::iso),
    })
}

/// What one phase of a test decided before publishing.
#[derive(Debug)]
pub enum Prepared {
    /// Send these groups; the CRM's subscriber list when it was just fetched (to split).
    Send(Box<AbTest>, AbSend, Option<Vec<Value>>),
    /// Nothing left to send: the job ends with this note.
    Done(String),
    /// The phase cannot go on now: the reason, and whether a later attempt may succeed.
    Stop(String, bool),
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Prepares the phase `r` of a test: for `test`, the groups (fixed on the first attempt and
/// stored); for `remainder`, the winner from the CRM's figures and the rest of the audience.
pub async fn prepare(
    store: &dyn Store,
    publishing: &Publishing,
    r: &AbRef,
    segment: Option<&SegmentFilter>,
    correlation_id: &str,
) -> Result<Prepared, StoreError> {
    let Some(mut t) = store.ab_test(&r.id).await? else {
        return Ok(Prepared::Stop(
            format!("A/B test {} is no longer stored", r.id),
            false,
        ));
    };
    match r.phase {
        AbPhase::Test => {
            let mut fetched = None;
            if t.assignment.is_none() {
                let all = match publishing.subscribers(correlation_id).await {
                    Ok(all) => all,
                    Err(e) => {
                        let retry = e.is_retryable();
                        return Ok(Prepared::Stop(
                            format!("the CRM's subscriber list: {e}"),
                            retry,
                        ));
                    }
                };
                let ids: Vec<&str> = all
                    .iter()
                    .filter(|p| segment.is_none_or(|s| s.admits(p)))
                    .filter_map(|p| p.get("id").and_then(Value::as_str))
                    .collect();
                let mut groups = vec![Vec::new(); t.subjects.len()];
                for (id, a) in ids
                    .iter()
                    .zip(split(&t.id, &ids, t.subjects.len(), t.test_fraction))
                {
                    if let Assignment::Test(v) = a {
                        groups[v].push((*id).to_string());
                    }
                }
                t.assignment = Some(groups);
                t.updated_ms = now_ms();
                store.update_ab_test(&t).await?;
                fetched = Some(all);
            }
            let groups = t
                .assignment
                .clone()
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(i, ids)| AbGroup {
                    label: label(i),
                    subject: t.subjects[i].clone(),
                    members: Members::Only(ids.into_iter().collect()),
                })
                .collect();
            let send = AbSend {
                test_id: t.id.clone(),
                groups,
            };
            Ok(Prepared::Send(Box::new(t), send, fetched))
        }
        AbPhase::Remainder => {
            if t.status == "completed" {
                return Ok(Prepared::Done(format!(
                    "A/B test {} already sent its winner",
                    t.id
                )));
            }
            if t.winner.is_none() {
                match decide(store, publishing, &mut t, correlation_id).await? {
                    Ok(()) => {}
                    Err((reason, retry)) => return Ok(Prepared::Stop(reason, retry)),
                }
            }
            let winner = t.winner.unwrap_or(0).max(0) as usize;
            let tested: HashSet<String> =
                t.assignment.iter().flatten().flatten().cloned().collect();
            if t.test_fraction >= 1.0 {
                t.status = "completed".into();
                t.updated_ms = now_ms();
                store.update_ab_test(&t).await?;
                return Ok(Prepared::Done(format!(
                    "winner {} chosen; the test group was the whole audience, so there is no remainder to send",
                    label(winner)
                )));
            }
            let send = AbSend {
                test_id: t.id.clone(),
                groups: vec![AbGroup {
                    label: "rest".into(),
                    subject: t.subjects.get(winner).cloned().unwrap_or_default(),
                    members: Members::AllBut(tested),
                }],
            };
            Ok(Prepared::Send(Box::new(t), send, None))
        }
    }
}

/// Marks a test failed with the reason.
pub async fn fail(store: &dyn Store, id: &str, reason: &str) -> Result<(), StoreError> {
    if let Some(mut t) = store.ab_test(id).await? {
        t.status = "failed".into();
        t.reason = Some(reason.to_string());
        t.updated_ms = now_ms();
        store.update_ab_test(&t).await?;
    }
    Ok(())
}

/// Pulls each variant's figures from the CRM, stores them, and picks the winner by open rate.
async fn decide(
    store: &dyn Store,
    publishing: &Publishing,
    t: &mut AbTest,
    correlation_id: &str,
) -> Result<Result<(), (String, bool)>, StoreError> {
    let mut stats = Vec::new();
    let mut variants = Vec::new();
    for (i, subject) in t.subjects.iter().enumerate() {
        let campaign = t.results["variants"][i]["campaign_id"]
            .as_str()
            .map(str::to_string);
        let Some(campaign) = campaign else {
            stats.push(VariantStats {
                variant: i,
                delivered: 0,
                opened: 0,
            });
            variants.push(json!({ "label": label(i), "subject": subject, "recipients": 0 }));
            continue;
        };
        let figures = match publishing.campaign_figures(&campaign, correlation_id).await {
            Ok(f) => f,
            Err(e) => {
                return Ok(Err((
                    format!("analytics of {campaign} from the CRM: {e}"),
                    e.is_retryable(),
                )));
            }
        };
        store
            .set_campaign_stats(&campaign, &crate::campaigns::stats(&figures), now_ms())
            .await?;
        stats.push(VariantStats {
            variant: i,
            delivered: figures.delivered,
            opened: figures.opened,
        });
        let mut v = t.results["variants"][i].clone();
        v["delivered"] = json!(figures.delivered);
        v["opened"] = json!(figures.opened);
        v["open_rate"] = json!(stats[i].open_rate());
        variants.push(v);
    }
    let Some(w) = pick_winner(&stats) else {
        return Ok(Err((
            format!(
                "A/B test {}: no variant was delivered to anyone, so there is no winner",
                t.id
            ),
            false,
        )));
    };
    let now = now_ms();
    t.winner = Some(w.variant as i64);
    t.results["variants"] = json!(variants);
    t.results["decision"] = json!({
        "winner": label(w.variant),
        "subject": t.subjects.get(w.variant),
        "open_rate": w.open_rate,
        "z": w.z,
        "significant_at_95": w.significant,
        "metric": "open_rate",
    });
    t.status = "sending_winner".into();
    t.decided_ms = Some(now);
    t.updated_ms = now;
    store.update_ab_test(t).await?;
    Ok(Ok(()))
}

/// After the phase's publish: record the groups' campaigns on the test, and move it on — to
/// `waiting` with the remainder job queued (test phase), or to `completed`; or to `failed`
/// when the email did not go out and no retry will follow.
pub async fn after_publish(
    store: &dyn Store,
    job: &Job,
    spec: &PublishSpec,
    mut t: AbTest,
    phase: AbPhase,
    lines: &[halcytone_publish::TargetResult],
    final_attempt: bool,
) -> Result<(), StoreError> {
    let email: Vec<_> = lines.iter().filter(|l| l.channel == "email").collect();
    let failed = email.iter().find(|l| l.outcome == Outcome::Failed);
    let now = now_ms();
    if let Some(f) = failed {
        if final_attempt {
            t.status = "failed".into();
            t.reason = f.reason.clone();
            t.updated_ms = now;
            store.update_ab_test(&t).await?;
        }
        return Ok(());
    }
    match phase {
        AbPhase::Test => {
            let mut variants = Vec::new();
            for (i, subject) in t.subjects.iter().enumerate() {
                let prefix = format!("email:{}:", label(i));
                let mine: Vec<_> = email
                    .iter()
                    .filter(|l| l.target.starts_with(&prefix))
                    .collect();
                variants.push(json!({
                    "label": label(i),
                    "subject": subject,
                    "campaign_id": mine.iter().find_map(|l| l.campaign.clone()),
                    "recipients": mine.iter().filter_map(|l| l.recipients).sum::<usize>(),
                }));
            }
            t.results["variants"] = json!(variants);
            if t.remainder_job_id.is_none() {
                let mut next = spec.clone();
                next.targets = vec!["email".into()];
                next.ab_test = Some(AbRef {
                    id: t.id.clone(),
                    phase: AbPhase::Remainder,
                });
                let payload = JobSpec::Publish(Box::new(next)).to_payload();
                let run_at = now + t.decide_after_ms;
                let queued = store
                    .enqueue(
                        NewJob {
                            document_id: job.document_id.clone(),
                            channels: vec!["email".into()],
                            payload,
                            run_at_ms: run_at,
                            scheduled_ms: Some(run_at),
                            max_attempts: job.max_attempts,
                            correlation_id: job.correlation_id.clone(),
                            retry_of: None,
                            batch_id: None,
                        },
                        now,
                    )
                    .await?;
                tracing::info!(ab_test = %t.id, remainder_job = %queued.id, run_at, "A/B test variants sent; the winner is chosen later");
                t.remainder_job_id = Some(queued.id);
            }
            // A repeated test job (a retry) never moves a test back.
            if t.status == "testing" {
                t.status = "waiting".into();
            }
        }
        AbPhase::Remainder => {
            let rest: Vec<_> = email
                .iter()
                .filter(|l| l.target.starts_with("email:rest"))
                .collect();
            t.results["remainder"] = json!({
                "campaign_id": rest.iter().find_map(|l| l.campaign.clone()),
                "recipients": rest.iter().filter_map(|l| l.recipients).sum::<usize>(),
            });
            t.status = "completed".into();
        }
    }
    t.updated_ms = now;
    store.update_ab_test(&t).await?;
    Ok(())
}
