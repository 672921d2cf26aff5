//! `halcytone jobs watch JOB_ID`: a job followed until it ends, in the database `DATABASE_URL`
//! names. A send shows its recipients as its delivery ledger counts them (the same figures as
//! the job's `recipients` in the API).

use crate::cli::DatabaseArgs;
use anyhow::{Context, Result, anyhow};
use halcytone_store::{Job, JobStatus, Store};
use serde_json::Value;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

/// How often the job is read again.
const EVERY: Duration = Duration::from_millis(500);

pub fn watch(job_id: &str, db: &DatabaseArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let store = super::database::open(db).await?;
        follow(store.as_ref(), job_id).await
    })
}

async fn follow(store: &dyn Store, job_id: &str) -> Result<ExitCode> {
    let terminal = std::io::stderr().is_terminal();
    let bar = if terminal {
        recipients_bar()
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut last_line = String::new();
    loop {
        let job = read(store, job_id).await?;
        let recipients = halcytone_app::deliveries::recipients(store, &job)
            .await
            .map_err(|e| anyhow!("job {job_id}: {e}"))?;
        let line = describe(&job, recipients.as_ref());
        if job.status.is_terminal() {
            bar.finish_and_clear();
            println!("{line}");
            return Ok(if job.status == JobStatus::Completed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        match (&recipients, terminal) {
            (Some(r), true) => {
                let n = |k: &str| r[k].as_u64().unwrap_or(0);
                bar.set_length(n("total"));
                bar.set_position(n("total").saturating_sub(n("pending") + n("sending")));
                bar.set_message(line);
            }
            (None, true) => bar.set_message(line),
            (_, false) if line != last_line => {
                eprintln!("{line}");
                last_line = line;
            }
            _ => {}
        }
        tokio::time::sleep(EVERY).await;
    }
}

async fn read(store: &dyn Store, job_id: &str) -> Result<Job> {
    store
        .job(job_id)
        .await
        .map_err(|e| anyhow!("job {job_id}: {e}"))?
        .ok_or_else(|| anyhow!("job {job_id}: no such job in this database"))
}

/// One line about `job`: its status and, for a send, its recipients.
fn describe(job: &Job, recipients: Option<&Value>) -> String {
    let mut line = format!("job {}: {}", job.id, job.status);
    if let Some(r) = recipients {
        let n = |k: &str| r[k].as_u64().unwrap_or(0);
        line.push_str(&format!(
            "; {} of {} recipients sent, {} failed, {} suppressed, {} pending",
            n("sent"),
            n("total"),
            n("failed") + n("refused"),
            n("suppressed"),
            n("pending") + n("sending"),
        ));
        if let Some(rate) = r["rate_per_second"].as_f64() {
            line.push_str(&format!(", {rate:.0}/s"));
        }
        if let Some(eta) = r["eta_seconds"].as_i64() {
            line.push_str(&format!(", about {eta} s left"));
        }
    }
    if let Some(e) = job
        .last_error
        .as_deref()
        .filter(|_| job.status.is_terminal())
    {
        line.push_str(&format!("; last error: {e}"));
    }
    line
}

/// The bar of a send's recipients (its length is set once the ledger is read).
fn recipients_bar() -> indicatif::ProgressBar {
    crate::progress::styled(indicatif::ProgressBar::new(0), "{msg}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(status: JobStatus) -> Job {
        Job {
            id: "job_1".into(),
            document_id: "doc".into(),
            channels: vec!["email".into()],
            status,
            attempts: 1,
            max_attempts: 3,
            run_at_ms: 0,
            lease_until_ms: None,
            worker: None,
            created_ms: 0,
            started_ms: None,
            completed_ms: None,
            scheduled_ms: None,
            payload: json!({}),
            results: json!({}),
            errors: Vec::new(),
            last_error: None,
            correlation_id: "c".into(),
            retry_of: None,
            batch_id: None,
        }
    }

    #[test]
    fn a_send_is_described_by_its_recipients() {
        let r = json!({
            "total": 20000, "sent": 1200, "failed": 3, "refused": 1, "suppressed": 5,
            "pending": 18790, "sending": 1, "rate_per_second": 1601.4, "eta_seconds": 12,
        });
        assert_eq!(
            describe(&job(JobStatus::InProgress), Some(&r)),
            "job job_1: in_progress; 1200 of 20000 recipients sent, 4 failed, 5 suppressed, 18791 pending, 1601/s, about 12 s left"
        );
        assert_eq!(
            describe(&job(JobStatus::Pending), None),
            "job job_1: pending"
        );
    }
}
