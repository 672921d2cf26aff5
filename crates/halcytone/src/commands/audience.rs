//! `halcytone audience import FILE --name NAME` and `halcytone audience list`: audiences you
//! bring, in the database `DATABASE_URL` names.

use crate::cli::AudienceCommand;
use crate::output::{out, outln};
use anyhow::{Context, Result, anyhow};
use halcytone_app::AppError;
use halcytone_app::audiences::{self, ImportReport};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub fn run(cmd: AudienceCommand) -> Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        match cmd {
            AudienceCommand::Import { file, name, db } => {
                let store = super::database::open(&db).await?;
                import(store.as_ref(), &file, &name).await
            }
            AudienceCommand::List { db } => {
                let store = super::database::open(&db).await?;
                let all = audiences::list(store.as_ref())
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
                if all.is_empty() {
                    eprintln!(
                        "no audiences; import one with `halcytone audience import FILE.csv --name NAME`"
                    );
                }
                let mut table = String::from("ID\tNAME\tMEMBERS\tCREATED\n");
                for a in &all {
                    table.push_str(&format!(
                        "{}\t{}\t{}\t{}\n",
                        a.id, a.name, a.members, a.created_at
                    ));
                }
                out!("{table}");
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

async fn import(store: &dyn halcytone_store::Store, file: &Path, name: &str) -> Result<ExitCode> {
    let shown = file.display().to_string();
    let reader = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("{shown}: cannot open it"))?;
    let (audience, created) =
        audiences::find_or_create(store, name)
            .await
            .map_err(|e| match e {
                AppError::Invalid { message, .. } => anyhow!("--{message}"),
                e => anyhow!("{e}"),
            })?;
    eprintln!(
        "{} audience {:?} ({}, {} members); importing {shown}",
        if created { "created" } else { "importing into" },
        audience.name,
        audience.id,
        audience.members
    );
    let rows = Arc::new(AtomicU64::new(0));
    let ticker = {
        let rows = rows.clone();
        let shown = shown.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            let mut last = 0;
            loop {
                tick.tick().await;
                let n = rows.load(Ordering::Relaxed);
                if n != last {
                    eprintln!("{shown}: {n} rows read");
                    last = n;
                }
            }
        })
    };
    let result = audiences::import_csv(
        store,
        &audience.id,
        tokio::io::BufReader::new(reader),
        Some(&rows),
    )
    .await;
    ticker.abort();
    let report = result.map_err(|e| in_file(&shown, e))?;
    print_report(&shown, &report)?;
    Ok(ExitCode::SUCCESS)
}

/// An import error naming the file (and the line, which the message carries).
fn in_file(file: &str, e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid { field, message } => {
            let rest = message
                .strip_prefix(&format!("{field}: "))
                .unwrap_or(&message);
            if field == "header" {
                anyhow!("{file}:1: {rest}")
            } else {
                anyhow!("{file}: {rest}")
            }
        }
        e => anyhow!("{file}: {e}"),
    }
}

fn print_report(file: &str, r: &ImportReport) -> Result<()> {
    for refusal in &r.refusals {
        eprintln!(
            "{file}:{}: refused {:?}: {}",
            refusal.line, refusal.email, refusal.reason
        );
    }
    if r.refused > r.refusals.len() as u64 {
        eprintln!(
            "{file}: … and {} more refused rows",
            r.refused - r.refusals.len() as u64
        );
    }
    outln!(
        "{file}: {} rows read: {} imported, {} updated, {} repeated, {} refused; the audience has {} members",
        r.rows,
        r.imported,
        r.updated,
        r.repeated,
        r.refused,
        r.members
    );
    Ok(())
}
