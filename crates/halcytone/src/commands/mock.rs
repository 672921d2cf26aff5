//! `halcytone mock crm|platform`: one mock service, in the foreground, until Ctrl-C or SIGTERM.
//! The mock CRM also runs its SMTP capture (MOCK_SMTP_PORT, default 1025) beside it.

use crate::cli::MockArgs;
use anyhow::{Context, Result, bail};
use halcytone_mocks::state::{MockConfig, MockKind};
use halcytone_mocks::store::Store;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

pub fn run(args: &MockArgs) -> Result<ExitCode> {
    let kind = match args.service.trim().to_ascii_lowercase().as_str() {
        "crm" => MockKind::Crm,
        "platform" => MockKind::Platform,
        other => bail!("unknown mock '{other}'; mocks: crm, platform"),
    };
    if args.subscribers.is_some() && kind != MockKind::Crm {
        bail!("--subscribers: only the mock CRM has subscribers");
    }
    if args.retention < 1 {
        bail!("--retention (MOCK_CAPTURE_RETENTION): must be at least 1");
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(serve(kind, args))?;
    Ok(ExitCode::SUCCESS)
}

/// The hosts a mock's checks may resolve links against besides the stack's own services:
/// `LINK_CHECK_ALLOW_HOSTS`, comma-separated `host` or `host:port`.
pub fn link_allow_hosts() -> Vec<String> {
    std::env::var("LINK_CHECK_ALLOW_HOSTS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_string)
        .collect()
}

async fn serve(kind: MockKind, args: &MockArgs) -> Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create data directory {}", args.data_dir.display()))?;
    let db = args.data_dir.join(kind.database_file());
    let store = Store::open(&db)
        .await
        .with_context(|| format!("cannot open capture database {}", db.display()))?;
    let mut config = MockConfig::new(kind);
    config.seed = args.seed;
    config.smtp_chaos =
        halcytone_mocks::smtp_chaos::SmtpChaos::from_vars(&|n| std::env::var(n).ok(), args.seed)
            .map_err(|e| anyhow::anyhow!(e))?;
    config.retention = args.retention;
    config.link_hosts = link_allow_hosts();
    if let Some(ms) = args.slow_delay_ms {
        config.slow_delay = Duration::from_millis(ms);
    }
    config.events = event_sink()?;
    let port = args.port.unwrap_or(kind.default_port());
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), port))
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}:{port} (is another process using it?)",
                args.host
            )
        })?;
    let addr = listener.local_addr()?;
    eprintln!(
        "{} listening on http://{addr} (captures in {})",
        kind.service_name(),
        db.display()
    );
    tracing::info!(service = kind.service_name(), %addr, "listening");
    // After the line above, which scripts and tests read for the HTTP address.
    // Its own pages are a link its checks may resolve.
    config.link_hosts.push(addr.to_string());
    let smtp = match kind {
        MockKind::Crm => {
            let listener = bind_smtp(&args.host, args.smtp_port).await?;
            config.smtp_port = Some(listener.local_addr()?.port());
            config.dkim = dkim_keys()?;
            Some(listener)
        }
        MockKind::Platform => None,
    };
    let state = halcytone_mocks::state(kind, config, store)
        .await
        .with_context(|| format!("cannot prepare {}", db.display()))?;
    if let Some(file) = &args.subscribers {
        load_subscribers(&state, file).await?;
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let smtp = match smtp {
        Some(listener) => {
            eprintln!(
                "{} SMTP capture listening on smtp://{} (no TLS; any credentials)",
                kind.service_name(),
                listener.local_addr()?
            );
            Some(tokio::spawn(halcytone_mocks::smtp::serve(
                listener,
                state.clone(),
                until(stopped.clone()),
            )))
        }
        None => None,
    };
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    halcytone_mocks::serve(listener, halcytone_mocks::app(state), until(stopped)).await?;
    if let Some(smtp) = smtp {
        let _ = smtp.await;
    }
    eprintln!("{} stopped", kind.service_name());
    Ok(())
}

/// The DKIM key the SMTP capture verifies against: the one configured for sending
/// (DKIM_PRIVATE_KEY or DKIM_PRIVATE_KEY_FILE, DKIM_SELECTOR, DKIM_DOMAIN or SMTP_FROM's
/// domain), if any. Signatures by any other key are recorded as failing for want of it.
fn dkim_keys() -> Result<halcytone_mocks::dkim::DkimKeys> {
    let get = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
    let from = get("SMTP_FROM").and_then(|f| halcytone_publish::dkim::mailbox_domain(&f));
    let mut keys = halcytone_mocks::dkim::DkimKeys::new();
    match halcytone_publish::settings::dkim(&get, from.as_deref())
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        Some(d) => {
            keys.add(&d.selector, &d.domain, &d.key.record_value());
            eprintln!(
                "mock-crm SMTP capture verifies DKIM signatures against {}",
                d.record_name()
            );
        }
        None => eprintln!(
            "mock-crm SMTP capture knows no DKIM key (DKIM_PRIVATE_KEY_FILE names the sender's): signed mail is recorded as dkim fail"
        ),
    }
    Ok(keys)
}

/// Adds the people of a CSV file to the mock CRM's subscribers, naming refused rows FILE:LINE.
async fn load_subscribers(state: &halcytone_mocks::state::MockState, file: &Path) -> Result<()> {
    let shown = file.display();
    let reader = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("--subscribers {shown}: cannot open it"))?;
    let out = state
        .imported
        .write()
        .await
        .import(tokio::io::BufReader::new(reader))
        .await
        .map_err(|e| anyhow::anyhow!("--subscribers {shown}: {e}"))?;
    for r in &out.refusals {
        eprintln!("{shown}:{}: refused {:?}: {}", r.line, r.email, r.reason);
    }
    eprintln!(
        "mock-crm: {} people imported from {shown} ({} updated, {} refused); {} subscribers in all",
        out.imported, out.updated, out.refused, out.total
    );
    Ok(())
}

/// The SMTP capture's listener on `host`: on `port` when one was asked for (an error when it
/// is taken), else on 1025 (Mailpit's port), or on a free port when 1025 is taken — so two
/// mock CRMs, or one beside Mailpit, still start. The address is printed either way.
pub async fn bind_smtp(host: &str, port: Option<u16>) -> Result<tokio::net::TcpListener> {
    if let Some(port) = port {
        return tokio::net::TcpListener::bind((host, port))
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {host}:{port} for the mock CRM's SMTP capture (is another process using it? choose another with --smtp-port / MOCK_SMTP_PORT)"
                )
            });
    }
    let default = halcytone_mocks::smtp::DEFAULT_PORT;
    match tokio::net::TcpListener::bind((host, default)).await {
        Ok(l) => Ok(l),
        Err(e) => {
            let l = tokio::net::TcpListener::bind((host, 0))
                .await
                .with_context(|| format!("cannot listen on {host} for the SMTP capture"))?;
            eprintln!(
                "note: port {default} is taken ({e}); the SMTP capture listens on {} instead (set MOCK_SMTP_PORT to choose)",
                l.local_addr()?
            );
            Ok(l)
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Where the SMTP capture reports seeded bounces and complaints: `MOCK_EVENTS_URL` (the API's
/// `/api/v2/email-events`) signed with `EMAIL_EVENTS_SECRET`; both or neither.
pub fn event_sink() -> Result<Option<halcytone_mocks::bounces::EventSink>> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    match (var("MOCK_EVENTS_URL"), var("EMAIL_EVENTS_SECRET")) {
        (None, _) => Ok(None),
        (Some(url), Some(secret)) => {
            let parsed = url::Url::parse(url.trim())
                .map_err(|e| anyhow::anyhow!("MOCK_EVENTS_URL={url:?}: not a URL ({e})"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                bail!("MOCK_EVENTS_URL={url:?}: must be an http(s) URL");
            }
            Ok(Some(halcytone_mocks::bounces::EventSink {
                url: parsed.to_string(),
                secret,
            }))
        }
        (Some(_), None) => {
            bail!(
                "MOCK_EVENTS_URL is set but EMAIL_EVENTS_SECRET is not: the events must be signed"
            )
        }
    }
}
