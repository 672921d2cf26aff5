//! `halcytone dkim generate|record`: a new DKIM signing key and the DNS TXT record that
//! publishes its public half; the record of the key configured for SMTP mail.

use crate::cli::{DkimCommand, DkimGenerateArgs};
use crate::output::outln;
use anyhow::{Result, anyhow, bail};
use halcytone_publish::dkim::{DkimAlgorithm, DkimKey, txt_record, valid_name, write_key_file};
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(cmd: DkimCommand) -> Result<ExitCode> {
    match cmd {
        DkimCommand::Generate(args) => generate(&args),
        DkimCommand::Record => record(),
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The domain of SMTP_FROM, when it is a mailbox.
fn from_domain() -> Option<String> {
    halcytone_publish::dkim::mailbox_domain(&env("SMTP_FROM")?)
}

fn generate(args: &DkimGenerateArgs) -> Result<ExitCode> {
    let algorithm = DkimAlgorithm::parse(&args.algorithm).ok_or_else(|| {
        anyhow!(
            "--algorithm {:?}: use rsa (2048 bits, the default) or ed25519",
            args.algorithm
        )
    })?;
    let selector = args.selector.trim().to_ascii_lowercase();
    if !valid_name(&selector) {
        bail!(
            "--selector {:?}: a DNS label (letters, digits, hyphens), e.g. halcytone or news2025",
            args.selector
        );
    }
    let domain = args
        .domain
        .clone()
        .or_else(|| env("DKIM_DOMAIN"))
        .or_else(from_domain)
        .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
        .ok_or_else(|| {
            anyhow!("--domain: required (the domain that signs, e.g. example.com; DKIM_DOMAIN or SMTP_FROM give a default)")
        })?;
    if !valid_name(&domain) || !domain.contains('.') {
        bail!("--domain {domain:?}: a domain name such as example.com");
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("dkim").join(format!("{selector}.pem")));
    let (key, pem) = DkimKey::generate(algorithm)?;
    write_key_file(&out, &pem)?;
    eprintln!(
        "wrote {} ({} {} bits, PKCS#8 PEM, readable by you only); publish this record, then set\n  DKIM_PRIVATE_KEY_FILE={} DKIM_SELECTOR={selector} DKIM_DOMAIN={domain}",
        out.display(),
        match algorithm {
            DkimAlgorithm::Rsa => "RSA",
            DkimAlgorithm::Ed25519 => "Ed25519",
        },
        key.bits(),
        out.display(),
    );
    outln!("{}", txt_record(&selector, &domain, &key.record_value()));
    Ok(ExitCode::SUCCESS)
}

fn record() -> Result<ExitCode> {
    let get = |name: &str| env(name);
    let dkim = halcytone_publish::settings::dkim(&get, from_domain().as_deref())
        .map_err(|e| anyhow!("{e}"))?
        .ok_or_else(|| {
            anyhow!(
                "no DKIM key is configured: set DKIM_PRIVATE_KEY (PEM) or DKIM_PRIVATE_KEY_FILE (halcytone dkim generate makes one; halcytone up keeps its own in data/dkim/halcytone.pem)"
            )
        })?;
    eprintln!(
        "{} key, {} bits, selector {}, domain {}",
        dkim.key.algorithm().key_type(),
        dkim.key.bits(),
        dkim.selector,
        dkim.domain
    );
    outln!("{}", dkim.txt_record());
    Ok(ExitCode::SUCCESS)
}
