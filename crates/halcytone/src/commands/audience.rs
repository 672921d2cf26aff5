//! `halcytone audience import FILE --name NAME` and `halcytone audience list`: audiences you
//! bring, in the database `DATABASE_URL` names.

use crate::cli::AudienceCommand;
use crate::output::{out, outln};
use anyhow::{Context, Result, anyhow};
use halcytone_app::AppError;
use halcytone_app::audiences::{self, ImportReport};
use std::io::IsTerminal;
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
    let size = reader.metadata().await.map(|m| m.len()).unwrap_or(0);
    // On a terminal, a bar over the file's bytes with the rows read, the rate and the time
    // left; elsewhere (a log, a pipe) one line a second.
    let terminal = std::io::stderr().is_terminal();
    let bar = if terminal {
        progress_bar(size, indicatif::ProgressDrawTarget::stderr())
    } else {
        indicatif::ProgressBar::hidden()
    };
    let ticker = {
        let rows = rows.clone();
        let shown = shown.clone();
        let bar = bar.clone();
        tokio::spawn(async move {
            let every = if terminal { 200 } else { 1_000 };
            let mut tick = tokio::time::interval(Duration::from_millis(every));
            tick.tick().await;
            let mut last = 0;
            loop {
                tick.tick().await;
                let n = rows.load(Ordering::Relaxed);
                if terminal {
                    bar.set_message(format!("{n} rows"));
                } else if n != last {
                    eprintln!("{shown}: {n} rows read");
                    last = n;
                }
            }
        })
    };
    let result = audiences::import_csv(
        store,
        &audience.id,
        tokio::io::BufReader::new(bar.wrap_async_read(reader)),
        Some(&rows),
    )
    .await;
    ticker.abort();
    bar.finish_and_clear();
    let report = result.map_err(|e| in_file(&shown, e))?;
    print_report(&shown, &report)?;
    Ok(ExitCode::SUCCESS)
}

/// The bar of an import of `size` bytes, drawn to `target`.
fn progress_bar(size: u64, target: indicatif::ProgressDrawTarget) -> indicatif::ProgressBar {
    let bar = crate::progress::styled(
        indicatif::ProgressBar::with_draw_target(Some(size), target),
        "{bytes}/{total_bytes} {msg} ({bytes_per_sec}, {eta} left)",
    );
    bar.set_message("0 rows");
    bar
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::Mutex;

    /// A terminal that keeps what is written to it.
    #[derive(Debug, Default, Clone)]
    struct Screen(Arc<Mutex<String>>);

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            120
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            let mut screen = self.0.lock().unwrap();
            screen.push_str(s);
            screen.push('\n');
            Ok(())
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.0.lock().unwrap().clear();
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The bar shows how much of the file is read, the rows, and the time left.
    #[test]
    fn the_bar_shows_the_bytes_read_and_the_rows() {
        let screen = Screen::default();
        let bar = progress_bar(
            2_000,
            indicatif::ProgressDrawTarget::term_like(Box::new(screen.clone())),
        );
        bar.set_position(500);
        bar.set_message("12 rows");
        bar.force_draw();
        let shown = screen.0.lock().unwrap().clone();
        for part in ["[========>", " 25% ", "500 B/1.95 KiB", "12 rows", "left)"] {
            assert!(shown.contains(part), "{part:?} in {shown:?}");
        }
    }
}
