//! `halcytone generate FILE`: renders every channel to files or to JSON on stdout.

use super::{Loaded, load, position};
use crate::cli::{BrandArgs, ComposeArgs, GenerateArgs};
use crate::input;
use crate::output::outln;
use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use halcytone_content::templates::DEFAULTS;
use halcytone_content::{
    Brand, Bundle, Channel, ComposeOptions, EmailTemplate, LivingDocument, Platform, Templates,
    Tone, compose, validate,
};
use std::path::Path;
use std::process::ExitCode;

pub fn run(args: &GenerateArgs) -> Result<ExitCode> {
    let (doc, bundle, now) = prepare(&args.compose)?;
    let file = &args.compose.source.file;
    let report = validate(&doc, Some(&bundle), now);
    if report.errors + report.warnings > 0 {
        eprintln!(
            "{}: {} error(s), {} warning(s); run `halcytone validate {}` for details",
            file.display(),
            report.errors,
            report.warnings,
            file.display()
        );
    }
    if let Some(dir) = &args.out {
        write_files(dir, &bundle)?;
        eprintln!("wrote {} files to {}", count_files(&bundle), dir.display());
    }
    if args.json || args.out.is_none() {
        outln!("{}", serde_json::to_string_pretty(&bundle)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads the document and composes it as the arguments say.
pub fn prepare(args: &ComposeArgs) -> Result<(LivingDocument, Bundle, DateTime<Utc>)> {
    let now = input::reference_time(args.source.now.as_deref())?;
    let mut opts = ComposeOptions::new(now);
    opts.brand = brand(&args.brand)?;
    opts.channels = parse_list::<Channel>(&args.channels, "--channels")?;
    opts.platforms = parse_list::<Platform>(&args.platforms, "--platforms")?;
    opts.tone = args
        .tone
        .as_deref()
        .map(str::parse::<Tone>)
        .transpose()
        .map_err(|e| anyhow!("--tone: {e}"))?;
    opts.template = args
        .template
        .as_deref()
        .map(str::parse::<EmailTemplate>)
        .transpose()
        .map_err(|e| anyhow!("--template: {e}"))?;
    let templates = match &args.templates {
        Some(dir) => load_templates(dir)?,
        None => Templates::defaults(),
    };
    let file = &args.source.file;
    let doc = match load(&args.source, now)? {
        Loaded::Document(doc) => doc,
        Loaded::Unreadable { line, message } => {
            bail!("{}{message}", position(file, line));
        }
    };
    let bundle =
        compose(&doc, &opts, &templates).map_err(|e| anyhow!("{}{e}", position(file, None)))?;
    Ok((doc, bundle, now))
}

/// The brand settings; every link must be an absolute http(s) URL.
pub fn brand(args: &BrandArgs) -> Result<Brand> {
    for (flag, url) in [
        ("--website-url (WEBSITE_URL)", &args.website_url),
        ("--unsubscribe-url (UNSUBSCRIBE_URL)", &args.unsubscribe_url),
        ("--preferences-url (PREFERENCES_URL)", &args.preferences_url),
    ] {
        let lower = url.trim().to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"));
        if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
            bail!("{flag}: '{url}' must be an absolute http:// or https:// URL");
        }
    }
    Ok(Brand {
        name: args.brand_name.trim().to_string(),
        tagline: args.brand_tagline.trim().to_string(),
        website_url: args.website_url.trim().to_string(),
        unsubscribe_url: args.unsubscribe_url.trim().to_string(),
        preferences_url: args.preferences_url.trim().to_string(),
        postal_address: args.postal_address.trim().to_string(),
    })
}

fn parse_list<T>(values: &[String], flag: &str) -> Result<Vec<T>>
where
    T: std::str::FromStr + PartialEq,
    T::Err: std::fmt::Display,
{
    let mut out = Vec::new();
    for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        let parsed = v.parse::<T>().map_err(|e| anyhow!("{flag}: {e}"))?;
        if !out.contains(&parsed) {
            out.push(parsed);
        }
    }
    if out.is_empty() {
        bail!("{flag}: name at least one value");
    }
    Ok(out)
}

/// Reads every known template name present under `dir`; other files are reported, not used.
fn load_templates(dir: &Path) -> Result<Templates> {
    if !dir.is_dir() {
        bail!("--templates: {} is not a directory", dir.display());
    }
    let mut overrides = Vec::new();
    for (name, _) in DEFAULTS {
        let path = dir.join(name);
        if path.is_file() {
            let source = input::read_text(&path)?;
            overrides.push((name.to_string(), source));
        }
    }
    if overrides.is_empty() {
        bail!(
            "--templates: {} holds none of the template files ({})",
            dir.display(),
            DEFAULTS.map(|(n, _)| n).join(", ")
        );
    }
    Templates::with_overrides(overrides).map_err(|e| anyhow!("--templates {}: {e}", dir.display()))
}

fn count_files(b: &Bundle) -> usize {
    1 + b.newsletter.as_ref().map_or(0, |_| 2)
        + b.web.as_ref().map_or(0, |_| 3)
        + b.social.iter().map(|p| p.posts.len()).sum::<usize>()
}

/// Writes one output file; text always ends with a newline.
fn write(dir: &Path, name: &str, contents: &str) -> Result<()> {
    let path = dir.join(name);
    let mut text = contents.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn write_files(dir: &Path, bundle: &Bundle) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if let Some(n) = &bundle.newsletter {
        write(dir, "newsletter.html", &n.html)?;
        write(dir, "newsletter.txt", &n.text)?;
    }
    if let Some(w) = &bundle.web {
        write(dir, "web.md", &w.markdown)?;
        write(dir, "web.html", &w.html)?;
        write(dir, "web.json", &serde_json::to_string_pretty(w)?)?;
    }
    for post in &bundle.social {
        let name = post.platform.as_str();
        if post.is_thread() {
            for i in 0..post.posts.len() {
                write(
                    dir,
                    &format!("social-{name}-{}.txt", i + 1),
                    &post.published_text(i),
                )?;
            }
        } else {
            write(dir, &format!("social-{name}.txt"), &post.published_text(0))?;
        }
    }
    write(dir, "bundle.json", &serde_json::to_string_pretty(bundle)?)
}
