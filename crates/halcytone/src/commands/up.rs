//! `halcytone up`: the whole dry-run stack in one process — API, mock CRM (with its SMTP
//! capture), mock Platform, job worker, SQLite under ./data and the bundled sample living
//! document — with a banner that says where everything is and what to try.

use super::generate::brand;
use super::mock::shutdown_signal;
use crate::cli::UpArgs;
use crate::output::outln;
use crate::samples;
use anyhow::{Context, Result, anyhow};
use halcytone_content::Templates;
use halcytone_http::{Application, DocumentSource, ServerConfig};
use halcytone_mocks::dkim::DkimKeys;
use halcytone_mocks::state::{MockConfig, MockKind};
use halcytone_publish::smtp::EmailTransport;
use halcytone_publish::{Publishing, Settings};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::watch;

async fn bind(host: &str, port: u16, what: &str) -> Result<TcpListener> {
    TcpListener::bind((host, port)).await.with_context(|| {
        format!("cannot listen on {host}:{port} for the {what} (is another process using it? choose another port with --help)")
    })
}

/// Starts one mock on `listener` (and the CRM's SMTP capture on `smtp`, capturing into the
/// same store); they stop when `stop` turns true.
async fn start_mock(
    kind: MockKind,
    listener: TcpListener,
    smtp: Option<TcpListener>,
    data_dir: &Path,
    mut config: MockConfig,
    stop: watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<std::io::Result<()>>> {
    let db = data_dir.join(kind.database_file());
    halcytone_store::check_sqlite_file(&db)?;
    let store = halcytone_mocks::store::Store::open(&db)
        .await
        .with_context(|| format!("cannot open capture database {}", db.display()))?;
    config.smtp_port = match &smtp {
        Some(l) => Some(l.local_addr()?.port()),
        None => None,
    };
    let state = halcytone_mocks::state(kind, config, store)
        .await
        .with_context(|| format!("cannot prepare {}", db.display()))?;
    let until = |mut stop: watch::Receiver<bool>| async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    let smtp = smtp.map(|l| {
        tokio::spawn(halcytone_mocks::smtp::serve(
            l,
            state.clone(),
            until(stop.clone()),
        ))
    });
    let http = tokio::spawn(halcytone_mocks::serve(
        listener,
        halcytone_mocks::app(state),
        until(stop),
    ));
    Ok(tokio::spawn(async move {
        let served = http.await.map_err(std::io::Error::other)?;
        if let Some(smtp) = smtp {
            smtp.await.map_err(std::io::Error::other)??;
        }
        served
    }))
}

/// The address to reach a listener bound to `addr` at: itself, or loopback for a wildcard
/// (`0.0.0.0`, `::`) bind, which is no address to send anyone to.
fn reachable(addr: std::net::SocketAddr) -> std::net::SocketAddr {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            std::net::SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            std::net::SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

/// A mock's settings from MOCK_SEED, MOCK_CAPTURE_RETENTION and MOCK_SLOW_DELAY_MS, as
/// `halcytone mock` reads them.
fn mock_config(kind: MockKind) -> Result<MockConfig> {
    let mut config = MockConfig::new(kind);
    let num = |name: &str| -> Result<Option<u64>> {
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| anyhow!("{name}={v:?}: a whole number"))
            })
            .transpose()
    };
    if let Some(seed) = num("MOCK_SEED")? {
        config.seed = seed;
    }
    if let Some(r) = num("MOCK_CAPTURE_RETENTION")? {
        if r < 1 {
            return Err(anyhow!("MOCK_CAPTURE_RETENTION: must be at least 1"));
        }
        config.retention = i64::try_from(r).unwrap_or(i64::MAX);
    }
    if let Some(ms) = num("MOCK_SLOW_DELAY_MS")? {
        config.slow_delay = std::time::Duration::from_millis(ms);
    }
    config.smtp_chaos =
        halcytone_mocks::smtp_chaos::SmtpChaos::from_vars(&|n| std::env::var(n).ok(), config.seed)
            .map_err(|e| anyhow!(e))?;
    config.link_hosts = super::mock::link_allow_hosts();
    Ok(config)
}

pub fn run(args: &UpArgs) -> Result<ExitCode> {
    let brand = brand(&args.brand)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let started = Instant::now();
        let tracing_on = super::start_tracing("halcytone")?;
        std::fs::create_dir_all(&args.data_dir)
            .with_context(|| format!("cannot create data directory {}", args.data_dir.display()))?;
        // Held until the services stop: a second server on this directory is refused.
        let _lock = crate::data_lock::acquire(&args.data_dir, "halcytone up")?;
        let crm_listener = bind(&args.host, args.crm_port, "mock CRM").await?;
        let smtp_listener = super::mock::bind_smtp(&args.host, args.smtp_port).await?;
        let platform_listener = bind(&args.host, args.platform_port, "mock Platform").await?;
        let api_listener = bind(&args.host, args.port, "API").await?;
        let crm_addr = crm_listener.local_addr()?;
        let smtp_addr = smtp_listener.local_addr()?;
        let platform_addr = platform_listener.local_addr()?;
        // Links (in mail, on pages) and the API's calls to the mocks use an address one can
        // reach: a wildcard bind (`--host 0.0.0.0`) is reached on loopback.
        let public_url = format!("http://{}", reachable(api_listener.local_addr()?));
        // Kept in the data directory, so links in earlier rehearsals' mail keep working.
        let unsubscribe_secret = secret_from("UNSUBSCRIBE_SECRET", &args.data_dir)?;
        let events_secret = secret_from("EMAIL_EVENTS_SECRET", &args.data_dir)?;
        // The SMTP capture reports seeded bounces and complaints to this API.
        let events = halcytone_mocks::bounces::EventSink {
            url: format!("{public_url}/api/v2/email-events"),
            secret: events_secret.clone(),
        };

        // Dry run always, against the mocks about to start; everything else from the environment
        // (SMTP mail is signed with the stack's own DKIM key when none is configured).
        let own_dkim = own_dkim_key(&args.data_dir)?;
        let own_dkim_file = own_dkim.as_ref().map(|p| p.display().to_string());
        let crm_url = format!("http://{}", reachable(crm_addr));
        let platform_url = format!("http://{}", reachable(platform_addr));
        let smtp_port = smtp_addr.port().to_string();
        let get = |name: &str| match name {
            "DRY_RUN_MODE" => Some("true".to_string()),
            "MOCK_CRM_BASE_URL" => Some(crm_url.clone()),
            "MOCK_PLATFORM_BASE_URL" => Some(platform_url.clone()),
            "MOCK_SMTP_PORT" => Some(smtp_port.clone()),
            "PUBLIC_BASE_URL" => std::env::var("PUBLIC_BASE_URL")
                .ok()
                .or_else(|| Some(public_url.clone())),
            "UNSUBSCRIBE_SECRET" => Some(unsubscribe_secret.clone()),
            "EMAIL_EVENTS_SECRET" => Some(events_secret.clone()),
            "LIVING_DOC_TYPE" | "LIVING_DOC_ID" => None,
            "DKIM_PRIVATE_KEY_FILE" if own_dkim_file.is_some() => own_dkim_file.clone(),
            other => std::env::var(other).ok(),
        };
        let mut config =
            ServerConfig::from_vars(&get).map_err(|e| anyhow!("configuration: {e}"))?;
        let settings =
            Settings::from_vars(&get, true).map_err(|e| anyhow!("configuration: {e}"))?;
        let settings_email = match &settings.email_transport {
            EmailTransport::Smtp(smtp) => Some(smtp.from.to_string()),
            EmailTransport::Crm => None,
        };
        // The capture verifies signatures against the public key the publisher signs with.
        let mut dkim_keys = DkimKeys::new();
        let dkim_line = match &settings.email_transport {
            EmailTransport::Smtp(smtp) => match &smtp.dkim {
                Some(d) => {
                    dkim_keys.add(&d.selector, &d.domain, &d.key.record_value());
                    let source = own_dkim
                        .as_ref()
                        .map_or("DKIM_PRIVATE_KEY[_FILE]".to_string(), |p| p.display().to_string());
                    Some(format!(
                        "signed as {} ({} key {source}; the capture verifies it)",
                        d.record_name(),
                        d.key.algorithm().key_type()
                    ))
                }
                None => None,
            },
            EmailTransport::Crm => None,
        };
        let (stop_mocks, mocks_stop) = watch::channel(false);
        // The checks of captured mail resolve links against the stack's own services (and the
        // hosts in LINK_CHECK_ALLOW_HOSTS), never the internet.
        let stack_hosts: Vec<String> = [crm_addr, platform_addr, api_listener.local_addr()?]
            .into_iter()
            .map(|a| reachable(a).to_string())
            .collect();
        let mut crm_config = mock_config(MockKind::Crm)?;
        crm_config.dkim = dkim_keys;
        crm_config.events = Some(events);
        crm_config.link_hosts.extend(stack_hosts);
        let crm = start_mock(
            MockKind::Crm,
            crm_listener,
            Some(smtp_listener),
            &args.data_dir,
            crm_config,
            mocks_stop.clone(),
        )
        .await?;
        let platform = start_mock(
            MockKind::Platform,
            platform_listener,
            None,
            &args.data_dir,
            mock_config(MockKind::Platform)?,
            mocks_stop,
        )
        .await?;

        let document_line = match &args.document {
            Some(path) => {
                std::fs::metadata(path).with_context(|| {
                    format!("cannot read the living document {}", path.display())
                })?;
                config.document = DocumentSource::File(path.clone());
                path.display().to_string()
            }
            None if matches!(config.document, DocumentSource::Remote(_)) => {
                match &config.document {
                    DocumentSource::Remote(r) => format!("{} (LIVING_DOC_TYPE)", r.label()),
                    _ => String::new(),
                }
            }
            None => {
                config.document = DocumentSource::Inline {
                    label: "sample:living-document.md".into(),
                    text: samples::LIVING_DOCUMENT_MD.to_string(),
                };
                "the bundled sample (halcytone sample markdown prints it)".to_string()
            }
        };
        let key_file = args.data_dir.join("api-key.txt");
        let key_line = match &config.api_key {
            Some(_) => {
                // A key file from an earlier run would mislead the scripts that read it.
                let _ = std::fs::remove_file(&key_file);
                "from API_KEY".to_string()
            }
            None => {
                let key = format!("hk_dev_{}", uuid::Uuid::new_v4().simple());
                write_key(&key_file, &key)?;
                config.api_key = Some(key.clone());
                format!(
                    "{key}  (admin, this run only; also in {})",
                    key_file.display()
                )
            }
        };
        let key_for_curl = config.api_key.clone().unwrap_or_default();
        let db_path = args.data_dir.join("halcytone.db");
        let store = halcytone_store::SqliteStore::open(&db_path)
            .await
            .with_context(|| format!("cannot open the database {}", db_path.display()))?;
        let app = Application::build(
            config,
            Arc::new(store),
            Arc::new(Publishing::new(settings)?),
            Arc::new(Templates::defaults()),
            brand,
            api_listener,
        )?;
        let api_addr = app.addr;
        let (stop_api, mut api_stop) = watch::channel(false);
        let api = tokio::spawn(app.run(async move {
            let _ = api_stop.wait_for(|s| *s).await;
        }));
        let email_line = match (&settings_email, &dkim_line) {
            (Some(from), Some(dkim)) => format!("EMAIL_TRANSPORT=smtp from {from}: one message per subscriber into the SMTP capture,\n                 DKIM {dkim}"),
            (Some(from), None) => format!("EMAIL_TRANSPORT=smtp from {from}: one message per subscriber into the SMTP capture (unsigned)"),
            (None, _) => "EMAIL_TRANSPORT=crm: batches through the mock CRM's API".to_string(),
        };
        // A closed standard output (`halcytone up | head`) does not stop the services.
        if let Err(e) = banner(
            api_addr,
            crm_addr,
            smtp_addr,
            platform_addr,
            &email_line,
            &db_path,
            &document_line,
            &key_line,
            &key_for_curl,
            started,
        ) {
            tracing::warn!(error = %e, "the start-up banner could not be printed");
        }
        // Each mock's own log (logs/crm-mock.log, logs/platform-mock.log) says where it
        // listens, as it does when the mock runs alone.
        tracing::info!(target: "mock_crm", event = "listening", service = "mock-crm", addr = %crm_addr, port = crm_addr.port(), smtp_port = smtp_addr.port(), "mock CRM server listening on http://{crm_addr} (port {}), SMTP capture on port {}", crm_addr.port(), smtp_addr.port());
        tracing::info!(target: "mock_platform", event = "listening", service = "mock-platform", addr = %platform_addr, port = platform_addr.port(), "mock Platform server listening on http://{platform_addr} (port {})", platform_addr.port());
        // The runbooks grep the log for startup/ready/listening lines.
        tracing::info!(event = "ready", api = %api_addr, crm = %crm_addr, smtp = %smtp_addr, platform = %platform_addr, dry_run = true, "halcytone up: startup complete, ready; API, mock CRM and mock Platform listening");

        shutdown_signal().await;
        eprintln!("stopping: finishing requests and the job in hand…");
        let _ = stop_api.send(true);
        let _ = api.await;
        let _ = stop_mocks.send(true);
        let _ = crm.await;
        let _ = platform.await;
        if tracing_on {
            halcytone_telemetry::shutdown().await;
        }
        eprintln!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// The dry run's own DKIM key when SMTP mail goes out (EMAIL_TRANSPORT=smtp) and no key is
/// configured: made once (RSA 2048) and kept in DATA/dkim/SELECTOR.pem (selector DKIM_SELECTOR,
/// `halcytone` by default), so a rehearsal shows DKIM working with no set-up.
fn own_dkim_key(data_dir: &Path) -> Result<Option<PathBuf>> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
    let smtp = var("EMAIL_TRANSPORT").is_some_and(|v| v.trim().eq_ignore_ascii_case("smtp"));
    if !smtp || var("DKIM_PRIVATE_KEY").is_some() || var("DKIM_PRIVATE_KEY_FILE").is_some() {
        return Ok(None);
    }
    let selector = var("DKIM_SELECTOR")
        .unwrap_or_else(|| halcytone_publish::dkim::DEFAULT_SELECTOR.to_string());
    if !halcytone_publish::dkim::valid_name(&selector) {
        // The settings reader names the bad DKIM_SELECTOR.
        return Ok(None);
    }
    let path = data_dir.join("dkim").join(format!("{selector}.pem"));
    let (_, made) = halcytone_publish::dkim::load_or_create(&path)
        .map_err(|e| anyhow!("the dry run's DKIM key: {e}"))?;
    if made {
        eprintln!(
            "made a DKIM key for the dry run: {} (kept for the next runs)",
            path.display()
        );
    }
    Ok(Some(path))
}

/// The variable `name` when set, else a secret kept in the data directory (made on first use).
fn secret_from(name: &str, data_dir: &Path) -> Result<String> {
    if let Some(v) = std::env::var(name).ok().filter(|v| !v.trim().is_empty()) {
        return Ok(v.trim().to_string());
    }
    let file = data_dir.join(format!("{}.secret", name.to_ascii_lowercase()));
    if let Ok(v) = std::fs::read_to_string(&file)
        && v.trim().len() >= 16
    {
        return Ok(v.trim().to_string());
    }
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    write_key(&file, &secret)?;
    Ok(secret)
}

fn write_key(path: &Path, key: &str) -> Result<()> {
    std::fs::write(path, format!("{key}\n"))
        .with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn banner(
    api: SocketAddr,
    crm: SocketAddr,
    smtp: SocketAddr,
    platform: SocketAddr,
    email: &str,
    db: &Path,
    document: &str,
    key: &str,
    key_for_curl: &str,
    started: Instant,
) -> std::io::Result<()> {
    outln!(
        "\nHalcytone is up in dry run: every publish goes to the mock services ({:.0} ms)\n\n  \
         API            http://{api}   console /ui · docs /docs · health /health · metrics /metrics\n  \
         mock CRM       http://{crm}   inbox / · captured email: /api/v1/captures\n  \
         SMTP capture   smtp://{smtp}   no TLS, any login; messages appear in the CRM's captures\n  \
         mock Platform  http://{platform}   posts / · captured posts: /api/v1/captures\n  \
         email          {email}\n  \
         database       sqlite://{}\n  \
         document       {document}\n  \
         API key        {key}\n\n\
         Preview every channel (no key needed):\n  \
         curl -s -X POST http://{api}/api/v2/generate-content -d '{{\"preview_only\":true}}'\n\n\
         Publish through a job, then look at what the mocks captured:\n  \
         curl -s -X POST http://{api}/api/v2/content/sync -H 'Authorization: Bearer {key_for_curl}' \\\n       \
         -d '{{\"channels\":[\"email\",\"website\",\"social_twitter\"]}}'\n  \
         curl -s http://{api}/api/v2/jobs -H 'Authorization: Bearer {key_for_curl}'\n  \
         curl -s http://{crm}/api/v1/captures\n\n\
         In a browser: the inbox at http://{crm}/, the console at http://{api}/ui\n\n\
         Stop with Ctrl-C.\n",
        started.elapsed().as_secs_f64() * 1000.0,
        db.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_bind_is_reached_on_loopback() {
        let at = |a: &str| reachable(a.parse().unwrap()).to_string();
        assert_eq!(at("0.0.0.0:8000"), "127.0.0.1:8000");
        assert_eq!(at("[::]:8001"), "[::1]:8001");
        assert_eq!(at("192.168.1.5:8002"), "192.168.1.5:8002");
    }
}
