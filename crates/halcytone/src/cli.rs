//! Command-line arguments.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "halcytone",
    version,
    about = "Turn a living document into newsletter, web and social content"
)]
pub struct Cli {
    /// Log more detail to stderr (LOG_LEVEL overrides).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The whole dry-run stack in one process: API on 8000, mock CRM on 8001, mock Platform
    /// on 8002, the job worker, SQLite under ./data and the bundled sample living document.
    Up(Box<UpArgs>),
    /// The API service and its job worker, configured from the environment and .env.
    Serve(Box<ServeArgs>),
    /// Render every channel of a living document (offline; nothing is sent).
    Generate(Box<GenerateArgs>),
    /// Check a living document and report problems as FILE:LINE: severity: message.
    Validate(ValidateArgs),
    /// Generate, validate and publish: email to the CRM, web and social to the Platform
    /// (the mock services in dry run). Prints what happened to every target.
    Publish(Box<PublishArgs>),
    /// Run publish jobs from the database's queue (several workers may share a PostgreSQL queue).
    Worker(WorkerArgs),
    /// Create or upgrade the database (DATABASE_URL; default sqlite://data/halcytone.db).
    Migrate(DatabaseArgs),
    /// Check the configuration (environment and .env): every bad value with its name and why.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Outbound credentials stored encrypted (API_KEY_ENCRYPTION_KEY): list, set, delete,
    /// and seal again after a key rotation.
    #[command(subcommand)]
    Credentials(CredentialsCommand),
    /// Audiences you bring: import people from a CSV file, list audiences.
    #[command(subcommand)]
    Audience(AudienceCommand),
    /// Publish jobs in the database: follow one as it runs.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Run one mock service: `crm` (port 8001) or `platform` (port 8002).
    Mock(MockArgs),
    /// DKIM keys that sign SMTP mail: make one, print the DNS TXT record to publish.
    #[command(subcommand)]
    Dkim(DkimCommand),
    /// Print a sample shipped inside the binary: markdown (default), json, freeform or session.
    Sample {
        #[arg(default_value = "markdown")]
        kind: String,
    },
}

/// Options shared by generate and validate.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// The living document: Markdown, structured JSON, freeform text, or a Live session JSON
    /// ("-" reads standard input).
    pub file: PathBuf,
    /// Force a format instead of detecting it: markdown, json or freeform.
    #[arg(long)]
    pub format: Option<String>,
    /// Reference time for dates and staleness (RFC 3339 or YYYY-MM-DD). Default: today, 00:00 UTC.
    #[arg(long, env = "HALCYTONE_NOW")]
    pub now: Option<String>,
}

/// What to compose and how; shared by generate and publish.
#[derive(Debug, Args)]
pub struct ComposeArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Channels, comma-separated: email, web, social.
    #[arg(long, value_delimiter = ',', default_value = "email,web,social")]
    pub channels: Vec<String>,
    /// Social networks, comma-separated: twitter (or x), linkedin, facebook, instagram.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "twitter,linkedin,facebook,instagram"
    )]
    pub platforms: Vec<String>,
    /// Tone for every channel: professional, encouraging, medical_scientific. Default: per channel.
    #[arg(long)]
    pub tone: Option<String>,
    /// Newsletter layout: modern, minimal, plain, breathscape.
    #[arg(long)]
    pub template: Option<String>,
    /// Directory whose files replace default templates (e.g. DIR/newsletter/modern.html).
    #[arg(long)]
    pub templates: Option<PathBuf>,
    #[command(flatten)]
    pub brand: BrandArgs,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub compose: ComposeArgs,
    /// Write newsletter.html, newsletter.txt, web.md, web.html, web.json, social-*.txt and bundle.json here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the bundle as JSON on stdout (the default when --out is not given).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    #[command(flatten)]
    pub compose: ComposeArgs,
    /// Publish to the mock services whatever the configuration says (same as DRY_RUN_MODE=true).
    #[arg(long)]
    pub dry_run: bool,
    /// Publish even when validation finds errors.
    #[arg(long)]
    pub force: bool,
    /// Print the per-target report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Names and links printed in every newsletter and post (configuration, not content).
#[derive(Debug, Args)]
#[command(next_help_heading = "Brand")]
pub struct BrandArgs {
    #[arg(long, env = "BRAND_NAME", default_value = "Halcytone")]
    pub brand_name: String,
    #[arg(
        long,
        env = "BRAND_TAGLINE",
        default_value = "Calm, one breath at a time"
    )]
    pub brand_tagline: String,
    /// Website that posts and "read more" links point to.
    #[arg(long, env = "WEBSITE_URL", default_value = "https://halcytone.com")]
    pub website_url: String,
    #[arg(
        long,
        env = "UNSUBSCRIBE_URL",
        default_value = "https://halcytone.com/unsubscribe"
    )]
    pub unsubscribe_url: String,
    #[arg(
        long,
        env = "PREFERENCES_URL",
        default_value = "https://halcytone.com/preferences"
    )]
    pub preferences_url: String,
    /// Postal address required in the footer of commercial email.
    #[arg(
        long,
        env = "POSTAL_ADDRESS",
        default_value = "Halcytone, 100 Example Street, Portland, OR 97201, USA"
    )]
    pub postal_address: String,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Print the report as JSON instead of lines.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MockArgs {
    /// crm or platform.
    pub service: String,
    /// Port to listen on (default 8001 for crm, 8002 for platform; 0 picks a free one).
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to bind; use 0.0.0.0 inside a container.
    #[arg(long, env = "MOCK_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Directory of the capture database (mock-crm.db / mock-platform.db).
    #[arg(long, env = "HALCYTONE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Seed of generated ids and analytics, for reproducible runs.
    #[arg(long, env = "MOCK_SEED", default_value_t = 0)]
    pub seed: u64,
    /// Captures kept; older ones are deleted.
    #[arg(long, env = "MOCK_CAPTURE_RETENTION", default_value_t = 10_000)]
    pub retention: i64,
    /// Delay of the "slow" trigger, in milliseconds (default 2000 for crm, 3000 for platform).
    #[arg(long, env = "MOCK_SLOW_DELAY_MS")]
    pub slow_delay_ms: Option<u64>,
    /// Port of the mock CRM's SMTP capture, beside its HTTP port (the platform has none).
    /// Unset: 1025, or a free port when 1025 is taken; set: that port or an error; 0: a free one.
    #[arg(long, env = "MOCK_SMTP_PORT")]
    pub smtp_port: Option<u16>,
    /// A CSV of people the mock CRM lists after its 1,000 virtual subscribers (first line:
    /// email, first_name, last_name, name, tags, status, newsletter_opt_in; crm only).
    #[arg(long)]
    pub subscribers: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/halcytone.db"
    )]
    pub database_url: String,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print its secret once (only a hash is stored).
    Create {
        /// A name to recognise the key by.
        #[arg(long)]
        name: String,
        /// Comma-separated scopes: read, write, admin.
        #[arg(long, value_delimiter = ',', default_value = "read,write")]
        scopes: Vec<String>,
        #[command(flatten)]
        limits: KeyLimitArgs,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Give a key its own request budgets (replacing any it had); a budget not named uses the
    /// service's (RATE_LIMIT_*), 0 turns one off for this key.
    Limit {
        id: String,
        #[command(flatten)]
        limits: KeyLimitArgs,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Revoke a key by id. Its console sessions end at their next request.
    Revoke {
        id: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List the stored keys: id, name, the secret's first characters, scopes and state
    /// (never the secret).
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// A key's own request budgets.
#[derive(Debug, Clone, Copy, Args)]
pub struct KeyLimitArgs {
    /// Reads (GET, HEAD) per second for this key; 0 = unlimited.
    #[arg(long)]
    pub reads_per_second: Option<u32>,
    /// Reads this key may make at once.
    #[arg(long)]
    pub read_burst: Option<u32>,
    /// Writes per minute for this key; 0 = unlimited.
    #[arg(long)]
    pub writes_per_minute: Option<u32>,
}

impl KeyLimitArgs {
    pub fn limits(&self) -> halcytone_store::KeyLimits {
        halcytone_store::KeyLimits {
            reads_per_second: self.reads_per_second,
            read_burst: self.read_burst,
            writes_per_minute: self.writes_per_minute,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Follow a job until it ends: its status and, for a send, a progress bar of its
    /// recipients (sent, failed, suppressed, rate, time left) on a terminal, or a line a second
    /// elsewhere. Exits 0 when the job completed, 1 when it ended otherwise.
    Watch {
        job_id: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AudienceCommand {
    /// Import people from a CSV file into the audience NAME (created when the name is new).
    /// The first line names the columns: email (required), name, first_name, last_name, tags
    /// (separated by ; or |), status; other columns are kept as attributes. Prints progress
    /// and refused rows (FILE:LINE) to stderr, the counts to stdout.
    Import {
        file: PathBuf,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List the audiences: id, name, members, created.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {
    /// What is stored, under which key, and whether it opens (never the values).
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Store a credential (crm_api_key, platform_api_key), read from standard input so it
    /// never appears in the process list or shell history.
    Set {
        name: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Delete a stored credential (the environment's key is used again).
    Delete {
        name: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Seal every stored credential again under API_KEY_ENCRYPTION_KEY, opening old ones with
    /// API_KEY_ENCRYPTION_KEY_PREVIOUS.
    Rotate {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Exit once the queue has no due job, instead of waiting for more.
    #[arg(long)]
    pub drain: bool,
    /// Publish to the mock services whatever the configuration says.
    #[arg(long)]
    pub dry_run: bool,
    /// Seconds between polls of an empty queue.
    #[arg(long, env = "WORKER_POLL_SECONDS", default_value_t = 1.0)]
    pub poll_seconds: f64,
    #[command(flatten)]
    pub brand: BrandArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Address to bind; 0.0.0.0 inside a container.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,
    #[arg(long, env = "PORT", default_value_t = 8000)]
    pub port: u16,
    /// Publish to the mock services whatever the configuration says.
    #[arg(long)]
    pub dry_run: bool,
    /// Directory of logs/app.log.
    #[arg(long, env = "LOG_DIR", default_value = "logs")]
    pub log_dir: PathBuf,
    #[command(flatten)]
    pub brand: BrandArgs,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Address every service binds.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// API port (0 picks a free one).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    #[arg(long, default_value_t = 8001)]
    pub crm_port: u16,
    #[arg(long, default_value_t = 8002)]
    pub platform_port: u16,
    /// Port of the mock CRM's SMTP capture. Unset: 1025, or a free port when 1025 is taken;
    /// set: that port or an error; 0: a free one.
    #[arg(long, env = "MOCK_SMTP_PORT")]
    pub smtp_port: Option<u16>,
    /// Directory of the databases (halcytone.db, mock-crm.db, mock-platform.db).
    #[arg(long, env = "HALCYTONE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// A living document to serve instead of the bundled sample.
    #[arg(long)]
    pub document: Option<PathBuf>,
    /// Directory of logs/app.log.
    #[arg(long, env = "LOG_DIR", default_value = "logs")]
    pub log_dir: PathBuf,
    #[command(flatten)]
    pub brand: BrandArgs,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Explain every bad or risky value; exit 1 when any is an error.
    Check {
        /// Also open the database (creating and migrating it when it does not exist yet) and
        /// call the CRM's and the Platform's /health.
        #[arg(long)]
        connect: bool,
        #[command(flatten)]
        brand: BrandArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum DkimCommand {
    /// Write a new private key (PKCS#8 PEM, mode 0600) and print its DNS TXT record.
    Generate(DkimGenerateArgs),
    /// Print the DNS TXT record of the configured key (DKIM_PRIVATE_KEY or
    /// DKIM_PRIVATE_KEY_FILE, DKIM_SELECTOR, DKIM_DOMAIN or the domain of SMTP_FROM).
    Record,
}

#[derive(Debug, Args)]
pub struct DkimGenerateArgs {
    /// The selector: the record is published at SELECTOR._domainkey.DOMAIN.
    #[arg(long, default_value = "halcytone")]
    pub selector: String,
    /// The signing domain (d=). Default: DKIM_DOMAIN, else the domain of SMTP_FROM.
    #[arg(long)]
    pub domain: Option<String>,
    /// Where to write the private key (never replaced). Default: dkim/SELECTOR.pem.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// rsa (2048 bits, what every receiver verifies) or ed25519 (RFC 8463).
    #[arg(long, default_value = "rsa")]
    pub algorithm: String,
}
