//! `halcytone up`: the whole dry-run stack in one process — API, mock CRM, mock Platform,
//! job worker, SQLite under ./data and the bundled sample living document — with a banner
//! that says where everything is and what to try.

use super::generate::brand;
use super::mock::shutdown_signal;
use crate::cli::UpArgs;
use crate::samples;
use anyhow::{Context, Result, anyhow};
use halcytone_content::Templates;
use halcytone_mocks::state::{MockConfig, MockKind};
use halcytone_publish::{Publishing, Settings};
use halcytone_server::{Application, DocumentSource, ServerConfig};
use std::net::SocketAddr;
use std::path::Path;
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

/// Starts one mock on `listener`; it stops when `stop` turns true.
async fn start_mock(
    kind: MockKind,
    listener: TcpListener,
    data_dir: &Path,
    stop: watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<std::io::Result<()>>> {
    let db = data_dir.join(kind.database_file());
    let store = halcytone_mocks::store::Store::open(&db)
        .await
        .with_context(|| format!("cannot open capture database {}", db.display()))?;
    let router = halcytone_mocks::router(kind, mock_config(kind)?, store)
        .await
        .with_context(|| format!("cannot prepare {}", db.display()))?;
    let mut stop = stop;
    Ok(tokio::spawn(halcytone_mocks::serve(
        listener,
        router,
        async move {
            let _ = stop.wait_for(|s| *s).await;
        },
    )))
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
        let crm_listener = bind(&args.host, args.crm_port, "mock CRM").await?;
        let platform_listener = bind(&args.host, args.platform_port, "mock Platform").await?;
        let api_listener = bind(&args.host, args.port, "API").await?;
        let crm_addr = crm_listener.local_addr()?;
        let platform_addr = platform_listener.local_addr()?;

        let (stop_mocks, mocks_stop) = watch::channel(false);
        let crm = start_mock(
            MockKind::Crm,
            crm_listener,
            &args.data_dir,
            mocks_stop.clone(),
        )
        .await?;
        let platform = start_mock(
            MockKind::Platform,
            platform_listener,
            &args.data_dir,
            mocks_stop,
        )
        .await?;

        // Dry run always, against the mocks just started; everything else from the environment.
        let crm_url = format!("http://{crm_addr}");
        let platform_url = format!("http://{platform_addr}");
        let get = |name: &str| match name {
            "DRY_RUN_MODE" => Some("true".to_string()),
            "MOCK_CRM_BASE_URL" => Some(crm_url.clone()),
            "MOCK_PLATFORM_BASE_URL" => Some(platform_url.clone()),
            "LIVING_DOC_TYPE" | "LIVING_DOC_ID" => None,
            other => std::env::var(other).ok(),
        };
        let mut config =
            ServerConfig::from_vars(&get).map_err(|e| anyhow!("configuration: {e}"))?;
        let settings =
            Settings::from_vars(&get, true).map_err(|e| anyhow!("configuration: {e}"))?;
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
        banner(
            api_addr,
            crm_addr,
            platform_addr,
            &db_path,
            &document_line,
            &key_line,
            &key_for_curl,
            started,
        );
        tracing::info!(api = %api_addr, crm = %crm_addr, platform = %platform_addr, "halcytone up");

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
    platform: SocketAddr,
    db: &Path,
    document: &str,
    key: &str,
    key_for_curl: &str,
    started: Instant,
) {
    println!(
        "\nHalcytone is up in dry run: every publish goes to the mock services ({:.0} ms)\n\n  \
         API            http://{api}   docs /docs · health /health · metrics /metrics\n  \
         mock CRM       http://{crm}   captured email: /api/v1/captures\n  \
         mock Platform  http://{platform}   captured posts: /api/v1/captures\n  \
         database       sqlite://{}\n  \
         document       {document}\n  \
         API key        {key}\n\n\
         Preview every channel (no key needed):\n  \
         curl -s -X POST http://{api}/api/v2/generate-content -d '{{\"preview_only\":true}}'\n\n\
         Publish through a job, then look at what the mocks captured:\n  \
         curl -s -X POST http://{api}/api/v2/content/sync -H 'Authorization: Bearer {key_for_curl}' \\\n       \
         -d '{{\"document_id\":\"weekly\",\"channels\":[\"email\",\"website\",\"social_twitter\"]}}'\n  \
         curl -s http://{api}/api/v2/jobs -H 'Authorization: Bearer {key_for_curl}'\n  \
         curl -s http://{crm}/api/v1/captures\n\n\
         Stop with Ctrl-C.\n",
        started.elapsed().as_secs_f64() * 1000.0,
        db.display()
    );
}
