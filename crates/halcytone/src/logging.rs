//! Logging: human-readable lines on stderr, and for the long-running services also JSON
//! lines in `logs/app.log` (rotated by size: `app.log.1` … `app.log.N`), which the
//! troubleshooting guide greps. Every line inside a request carries its `correlation_id`.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// A log file that starts a new file when it grows past `max_bytes`, keeping `keep` old ones.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    file: File,
    written: u64,
}

impl RotatingFile {
    pub fn open(path: &Path, max_bytes: u64, keep: usize) -> io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let written = file.metadata()?.len();
        Ok(RotatingFile {
            path: path.to_path_buf(),
            max_bytes,
            keep,
            file,
            written,
        })
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        for i in (1..self.keep).rev() {
            let from = self.path.with_extension(format!("log.{i}"));
            if from.exists() {
                std::fs::rename(&from, self.path.with_extension(format!("log.{}", i + 1)))?;
            }
        }
        if self.keep > 0 {
            std::fs::rename(&self.path, self.path.with_extension("log.1"))?;
        }
        self.file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&self.path)?;
        self.written = 0;
        Ok(())
    }
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written > 0 && self.written + buf.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        let n = self.file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Shares one rotating file between threads.
#[derive(Debug, Clone)]
pub struct SharedFile(Arc<Mutex<RotatingFile>>);

pub struct FileGuard<'a>(std::sync::MutexGuard<'a, RotatingFile>);

impl Write for FileGuard<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<'a> MakeWriter<'a> for SharedFile {
    type Writer = FileGuard<'a>;
    fn make_writer(&'a self) -> Self::Writer {
        FileGuard(
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

/// Adds the request's correlation id (a task-local set by the API's edge middleware) and, when
/// tracing is on, the trace id to every line logged while handling it — without a tracing span per request, which would cost a
/// fifth of the throughput of the lightest routes.
struct WithCorrelation<F> {
    inner: F,
    json: bool,
}

impl<S, N, F> FormatEvent<S, N> for WithCorrelation<F>
where
    F: FormatEvent<S, N>,
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        let mut extra: Vec<(&str, String)> = Vec::new();
        let id = halcytone_http::correlation::current();
        if !id.is_empty() && !line.contains("correlation_id") {
            extra.push(("correlation_id", id));
        }
        if let Some(trace) = halcytone_telemetry::current() {
            extra.push(("trace_id", trace.trace_id_hex()));
        }
        for (key, value) in extra.into_iter().rev() {
            if self.json && line.starts_with('{') {
                line.insert_str(1, &format!("\"{key}\":\"{value}\","));
            } else {
                let end = line.trim_end_matches('\n').len();
                line.insert_str(end, &format!(" {key}={value}"));
            }
        }
        writer.write_str(&line)
    }
}

fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_env("LOG_LEVEL").unwrap_or_else(|_| EnvFilter::new(default))
}

/// Logging for one-shot commands: stderr only.
pub fn init_cli(verbose: bool) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(if verbose { "debug" } else { "warn" }))
        .with_writer(io::stderr)
        .try_init();
}

/// JSON lines into `file`, each with the correlation id of its request.
fn json_file_layer<S>(file: SharedFile) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
        .event_format(WithCorrelation {
            inner: tracing_subscriber::fmt::format()
                .json()
                .with_current_span(true)
                .with_span_list(false),
            json: true,
        })
        .with_writer(file)
}

/// The log file `name` under `dir`, rotated by `LOG_MAX_BYTES` and `LOG_MAX_FILES`.
fn log_file(dir: &Path, name: &str) -> io::Result<SharedFile> {
    let max_bytes = std::env::var("LOG_MAX_BYTES")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|n| *n >= 4096)
        .unwrap_or(10 * 1024 * 1024);
    let keep = std::env::var("LOG_MAX_FILES")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(5);
    Ok(SharedFile(Arc::new(Mutex::new(RotatingFile::open(
        &dir.join(name),
        max_bytes,
        keep,
    )?))))
}

/// The log targets of the mock CRM (with its SMTP capture and bounce feed) and of the mock
/// Platform; `halcytone up` names its own lines about each mock `mock_crm` / `mock_platform`.
const CRM_TARGETS: [&str; 4] = [
    "mock_crm",
    "halcytone_mocks::crm",
    "halcytone_mocks::smtp",
    "halcytone_mocks::bounces",
];
const PLATFORM_TARGETS: [&str; 2] = ["mock_platform", "halcytone_mocks::platform"];

fn targets(names: &[&str]) -> tracing_subscriber::filter::Targets {
    names
        .iter()
        .fold(tracing_subscriber::filter::Targets::new(), |t, name| {
            t.with_target(*name, tracing::Level::INFO)
        })
}

/// Logging for services: stderr plus JSON lines in `dir/app.log`. With `mock_logs` (the
/// mocks run in this process, as under `halcytone up`) each mock's lines also go to
/// `crm-mock.log` and `platform-mock.log`, where they are when the mocks run on their own.
pub fn init_service(dir: &Path, verbose: bool, mock_logs: bool) -> io::Result<PathBuf> {
    let path = dir.join("app.log");
    let file = log_file(dir, "app.log")?;
    let (crm_log, platform_log) = if mock_logs {
        (
            Some(log_file(dir, "crm-mock.log")?),
            Some(log_file(dir, "platform-mock.log")?),
        )
    } else {
        (None, None)
    };
    let default = if verbose {
        "debug"
    } else {
        "info,sqlx=warn,hyper=warn,tower_http=warn"
    };
    // LOG_LEVEL filters the terminal; the file keeps `info` (LOG_FILE_LEVEL) so the
    // troubleshooting guide's searches by correlation id always find the lines.
    let file_filter = EnvFilter::try_from_env("LOG_FILE_LEVEL").unwrap_or_else(|_| {
        EnvFilter::new(if verbose {
            "debug"
        } else {
            "info,sqlx=warn,hyper=warn"
        })
    });
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&io::stderr()))
                .event_format(WithCorrelation {
                    inner: tracing_subscriber::fmt::format()
                        .with_target(false)
                        .compact(),
                    json: false,
                })
                .with_filter(filter(default)),
        )
        .with(json_file_layer(file).with_filter(file_filter))
        .with(crm_log.map(|f| json_file_layer(f).with_filter(targets(&CRM_TARGETS))))
        .with(platform_log.map(|f| json_file_layer(f).with_filter(targets(&PLATFORM_TARGETS))))
        .try_init();
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_n_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let mut f = RotatingFile::open(&path, 100, 2).unwrap();
        for _ in 0..10 {
            f.write_all(&[b'x'; 60]).unwrap();
        }
        assert!(path.exists());
        assert!(dir.path().join("app.log.1").exists());
        assert!(dir.path().join("app.log.2").exists());
        assert!(!dir.path().join("app.log.3").exists());
        assert!(std::fs::metadata(&path).unwrap().len() <= 100);
    }
}
