//! `halcytone validate FILE`: prints `FILE:LINE: severity: message` and exits 1 on any error.

use super::{Loaded, load, position};
use crate::cli::ValidateArgs;
use crate::input;
use crate::output::outln;
use anyhow::Result;
use halcytone_content::{ComposeOptions, Templates, compose, validate};
use std::process::ExitCode;

pub fn run(args: &ValidateArgs) -> Result<ExitCode> {
    let now = input::reference_time(args.source.now.as_deref())?;
    let file = &args.source.file;
    let doc = match load(&args.source, now)? {
        Loaded::Document(doc) => doc,
        Loaded::Unreadable { line, message } => {
            outln!("{}error: {message}", position(file, line));
            return Ok(ExitCode::from(1));
        }
    };
    // Compose too, so channel limits (subject, SEO, post lengths) are checked as well.
    let bundle = compose(&doc, &ComposeOptions::new(now), &Templates::defaults()).ok();
    let report = validate(&doc, bundle.as_ref(), now);
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for issue in &report.issues {
            let mut where_ = String::new();
            if let Some(c) = &issue.location.channel {
                where_ = format!(" ({c}");
                if let Some(p) = &issue.location.platform {
                    where_.push_str(&format!("/{p}"));
                }
                where_.push(')');
            }
            outln!(
                "{}{}: {}{where_} [{}]",
                position(file, issue.location.line),
                issue.severity,
                issue.message,
                issue.code
            );
        }
        eprintln!(
            "{}: {} error(s), {} warning(s), {} note(s)",
            file.display(),
            report.errors,
            report.warnings,
            report.infos
        );
    }
    Ok(if report.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
