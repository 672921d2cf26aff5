//! `halcytone publish FILE`: compose, validate, publish, and report every target.

use super::generate::prepare;
use crate::cli::PublishArgs;
use crate::output::outln;
use anyhow::{Context, Result, anyhow};
use halcytone_content::{Channel, validate};
use halcytone_publish::{Outcome, Publishing, Settings};
use std::process::ExitCode;

pub fn run(args: &PublishArgs) -> Result<ExitCode> {
    let (doc, bundle, now) = prepare(&args.compose)?;
    let file = &args.compose.source.file;
    let report = validate(&doc, Some(&bundle), now);
    if report.has_errors() && !args.force {
        eprintln!(
            "{}: {} validation error(s); nothing was published. Run `halcytone validate {}`, or pass --force.",
            file.display(),
            report.errors,
            file.display()
        );
        return Ok(ExitCode::from(1));
    }
    let channels: Vec<Channel> = args
        .compose
        .channels
        .iter()
        .map(|c| c.parse::<Channel>().map_err(|e| anyhow!("--channels: {e}")))
        .collect::<Result<_>>()?;
    let settings = Settings::from_vars(&|name| std::env::var(name).ok(), args.dry_run)
        .map_err(|e| anyhow!("configuration: {e}"))?;
    let dry_run = settings.dry_run;
    let (crm, platform) = (settings.crm_url.clone(), settings.platform_url.clone());
    let publishing = Publishing::new(settings)?;
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let result = runtime.block_on(publishing.publish(&bundle, &channels, &correlation_id));
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        outln!(
            "{} {} (CRM {crm}, Platform {platform})",
            if dry_run { "Dry run:" } else { "LIVE:" },
            file.display()
        );
        for t in &result.targets {
            let (mark, word) = match t.outcome {
                Outcome::Succeeded => ("ok  ", "published"),
                Outcome::Failed => ("FAIL", "failed"),
                Outcome::Skipped => ("skip", "skipped"),
            };
            let detail = match t.outcome {
                Outcome::Succeeded => t.url.clone().or(t.external_id.clone()).unwrap_or_default(),
                _ => t.reason.clone().unwrap_or_default(),
            };
            let attempts = if t.attempts > 1 {
                format!(" after {} attempts", t.attempts)
            } else {
                String::new()
            };
            outln!("  {mark} {:<18} {word}{attempts}  {detail}", t.target);
        }
        outln!(
            "{} succeeded, {} failed, {} skipped",
            result.succeeded,
            result.failed,
            result.skipped
        );
    }
    Ok(if result.all_succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
