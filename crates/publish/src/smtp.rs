//! The SMTP email transport (`EMAIL_TRANSPORT=smtp`), for teams without a CRM that sends
//! email: the subscriber list still comes from the CRM, and each subscriber gets their own
//! message through an SMTP relay — multipart/alternative (text, then HTML, UTF-8) with
//! `List-Unsubscribe` and one-click `List-Unsubscribe-Post` (RFC 8058).
//!
//! With DKIM configured (`DKIM_*`, see [`crate::dkim`]) every message is signed before it is
//! sent, the same bytes for every attempt; without it, messages go unsigned.
//!
//! Sent with `lettre` over rustls (aws-lc-rs). In dry run the relay is the mock CRM's SMTP
//! capture, without TLS, and the egress guard refuses any other SMTP host before connecting.
//!
//! Idempotency: every message has a Message-ID made of the content version and the
//! subscriber id, the same for every attempt. A relay does not de-duplicate, so each message
//! goes through a [`DeliveryLedger`]: begun before the relay is called, ended after. A job's
//! send keeps its ledger in the store (a retry, a crash or another replica never sends a
//! delivered recipient again); a publish without a job remembers in memory.

use crate::deliveries::{Begin, DeliveryLedger, MemoryLedger};
use crate::dkim::{DkimKeyError, DkimSettings, DkimSigner};
use crate::egress::EgressGuard;
use crate::group_ledger::{GroupLedger, Queued, QueuedEnd};
use crate::rate_limit::RateLimiter;
use crate::report::{Outcome, TargetResult};
use crate::retry::RetryPolicy;
use halcytone_content::compose::newsletter::Newsletter;
use halcytone_vault::Secret;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, Message};
use serde_json::Value;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use url::Url;

/// How email leaves: through the CRM's batch API (the default) or one SMTP message per
/// subscriber.
#[derive(Debug, Clone, Default)]
pub enum EmailTransport {
    #[default]
    Crm,
    Smtp(Box<SmtpSettings>),
}

/// How the SMTP connection is secured (`SMTP_TLS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    StartTls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
    /// No encryption (a local relay; the dry-run capture).
    None,
}

impl SmtpTls {
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpTls::StartTls => "starttls",
            SmtpTls::Tls => "tls",
            SmtpTls::None => "none",
        }
    }
}

/// The SMTP relay and the sender.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub tls: SmtpTls,
    /// `From:` of every message, and the envelope sender.
    pub from: Mailbox,
    /// For each SMTP command.
    pub timeout: Duration,
    /// Connections one send keeps open to the relay, one message in flight on each
    /// (SMTP_CONNECTIONS): the provider's concurrency limit.
    pub connections: usize,
    /// Used for `List-Unsubscribe` when the newsletter carries no `Unsubscribe: URL` line.
    pub unsubscribe_url: Url,
    /// The mock CRM's SMTP capture (host of MOCK_CRM_BASE_URL, MOCK_SMTP_PORT): the only SMTP
    /// endpoint the egress guard lets through in dry run.
    pub mock: (String, u16),
    /// Signs every message when set (DKIM_SELECTOR, DKIM_DOMAIN, DKIM_PRIVATE_KEY[_FILE]).
    pub dkim: Option<DkimSettings>,
}

/// One subscriber from the CRM's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub id: Option<String>,
    pub email: String,
    pub name: Option<String>,
}

impl Recipient {
    pub fn from_subscriber(s: &Value) -> Option<Recipient> {
        let text = |k: &str| {
            s.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        Some(Recipient {
            id: text("id"),
            email: text("email")?,
            name: text("name").or_else(|| text("first_name")),
        })
    }

    /// The subscriber id as it may appear in a Message-ID and a URL.
    fn key(&self) -> String {
        let raw = self
            .id
            .clone()
            .unwrap_or_else(|| self.email.replace('@', "="));
        raw.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-=".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .take(128)
            .collect()
    }
}

/// Why one message was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    email: String,
    reason: String,
    retryable: bool,
}

/// Why one delivery attempt failed, and whether another may succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SendError {
    reason: String,
    retryable: bool,
}

impl SendError {
    fn transient(reason: String) -> Self {
        SendError {
            reason,
            retryable: true,
        }
    }
}

impl From<lettre::transport::smtp::Error> for SendError {
    /// A 5xx reply is final, and so is a client-side refusal (no STARTTLS offered, no usable
    /// AUTH mechanism); a 4xx, a broken connection or a TLS hiccup may pass later.
    fn from(e: lettre::transport::smtp::Error) -> Self {
        SendError {
            retryable: !e.is_permanent() && !e.is_client(),
            reason: e.to_string(),
        }
    }
}

/// After this many failed attempts in a row the relay is taken to be down or refusing
/// everything, and the remaining recipients are not tried (they are reported failed,
/// retryable).
const GIVE_UP_AFTER: u32 = 5;

/// Messages sent over one connection before it is closed and a new one opened (relays
/// often limit messages per connection).
const MESSAGES_PER_CONNECTION: usize = 100;

/// Sends newsletters over SMTP.
pub struct SmtpSender {
    settings: SmtpSettings,
    tls: Tls,
    credentials: Option<Credentials>,
    hello: ClientId,
    retry: RetryPolicy,
    /// The ledger of sends that bring none (publishes without a job).
    memory: MemoryLedger,
    dkim: Option<DkimSigner>,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSender")
            .field("settings", &self.settings)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// The open connection of one send, reused from message to message.
struct Relay {
    conn: AsyncSmtpConnection,
    messages: usize,
}

/// The SMTP transport could not be set up: its TLS configuration, or its DKIM key.
#[derive(Debug, thiserror::Error)]
pub enum SmtpSetupError {
    #[error("cannot set up the SMTP transport to {host}:{port}: {source}")]
    Tls {
        host: String,
        port: u16,
        source: lettre::transport::smtp::Error,
    },
    #[error("cannot set up DKIM signing: {0}")]
    Dkim(#[from] DkimKeyError),
}

impl BatchTally {
    fn fail(&mut self, email: &str, reason: String, retryable: bool) {
        self.failures.push(Failure {
            email: email.to_string(),
            reason,
            retryable,
        });
    }
}

/// One report line's recipients being sent: what its connections share.
struct Run<'r, 'a> {
    sender: &'r SmtpSender,
    newsletter: &'r Newsletter,
    names: &'r SendNames<'a>,
    limiter: &'r RateLimiter,
    ledger: &'r dyn DeliveryLedger,
    group: GroupLedger<'r>,
    correlation_id: &'r str,
    /// Why nothing may be sent at all (the egress guard), if so.
    refused: Option<&'r str>,
    /// The recipients no connection has taken yet.
    queue: Mutex<std::slice::Iter<'r, &'r Value>>,
    tally: Mutex<BatchTally>,
    /// Failed attempts in a row over every connection; a delivery resets it.
    failed_in_a_row: &'r AtomicU32,
    /// Once given up: why, and whether the job may try again later (for the whole send).
    given_up: &'r Mutex<Option<(String, bool)>>,
}

/// What one batch of recipients came to.
#[derive(Debug, Default)]
struct BatchTally {
    sent: usize,
    /// Sent again after an earlier attempt was left in flight.
    uncertain: usize,
    /// Skipped: on the suppression list.
    suppressed: usize,
    failures: Vec<Failure>,
    max_attempts: u32,
}

impl SmtpSender {
    /// Prepares the TLS parameters and credentials; no connection is made until a send.
    pub fn new(settings: SmtpSettings, retry: RetryPolicy) -> Result<Self, SmtpSetupError> {
        let err = |source| SmtpSetupError::Tls {
            host: settings.host.clone(),
            port: settings.port,
            source,
        };
        let tls = match settings.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::StartTls => {
                Tls::Required(TlsParameters::new(settings.host.clone()).map_err(err)?)
            }
            SmtpTls::Tls => Tls::Wrapper(TlsParameters::new(settings.host.clone()).map_err(err)?),
        };
        let credentials = settings.username.as_ref().map(|user| {
            let password = settings
                .password
                .as_ref()
                .map(|p| p.expose().to_string())
                .unwrap_or_default();
            Credentials::new(user.clone(), password)
        });
        let dkim = settings.dkim.as_ref().map(DkimSigner::new).transpose()?;
        Ok(SmtpSender {
            dkim,
            tls,
            credentials,
            hello: ClientId::default(),
            settings,
            retry,
            memory: MemoryLedger::default(),
        })
    }

    /// A new connection: TLS (from the start, or by a STARTTLS that must succeed), then AUTH
    /// when a username is set.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let (host, port) = (self.settings.host.as_str(), self.settings.port);
        let mut conn = match &self.tls {
            Tls::Wrapper(p) => AsyncSmtpConnection::connect_tokio1(
                (host, port),
                Some(self.settings.timeout),
                &self.hello,
                Some(p.clone()),
                None,
            )
            .await
            .map_err(SendError::from)?,
            _ => {
                // Our own socket, to turn Nagle off: the client writes a message and its final
                // "." separately, which would otherwise wait on the relay's delayed ACK.
                let tcp = tokio::net::TcpStream::connect((host, port))
                    .await
                    .map_err(|e| SendError::transient(format!("cannot connect: {e}")))?;
                let _ = tcp.set_nodelay(true);
                AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello)
                    .await
                    .map_err(SendError::from)?
            }
        };
        if let Tls::Required(p) = &self.tls {
            conn.starttls(p.clone(), &self.hello)
                .await
                .map_err(SendError::from)?;
        }
        if let Some(c) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], c)
                .await
                .map_err(SendError::from)?;
        }
        Ok(conn)
    }

    /// Sends one message over the send's connection, opening one when needed, all within
    /// SMTP_TIMEOUT_SECONDS; a connection that failed or timed out is dropped, so the next
    /// message starts afresh.
    async fn deliver(
        &self,
        relay: &mut Option<Relay>,
        message: &Message,
    ) -> Result<String, SendError> {
        let work = async {
            let mut current = match relay.take() {
                Some(r) if r.messages < MESSAGES_PER_CONNECTION && !r.conn.has_broken() => r,
                Some(mut old) => {
                    let _ = old.conn.quit().await;
                    Relay {
                        conn: self.connect().await?,
                        messages: 0,
                    }
                }
                None => Relay {
                    conn: self.connect().await?,
                    messages: 0,
                },
            };
            let sent = current
                .conn
                .send(message.envelope(), &message.formatted())
                .await;
            current.messages += 1;
            if !current.conn.has_broken() {
                *relay = Some(current);
            }
            sent.map(|r| r.first_line().unwrap_or("accepted").to_string())
                .map_err(SendError::from)
        };
        match tokio::time::timeout(self.settings.timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(SendError::transient(format!(
                "timed out after {} s",
                self.settings.timeout.as_secs()
            ))),
        }
    }

    pub fn settings(&self) -> &SmtpSettings {
        &self.settings
    }

    /// The in-process ledger, for a send that brings none.
    pub fn memory(&self) -> &MemoryLedger {
        &self.memory
    }

    fn domain(&self) -> &str {
        self.settings.from.email.domain()
    }

    /// `<halcytone.VERSION.SUBSCRIBER@DOMAIN>`: the same for every attempt at one message.
    pub fn message_id(&self, version: &str, recipient: &Recipient) -> String {
        format!(
            "<halcytone.{version}.{}@{}>",
            recipient.key(),
            self.domain()
        )
    }

    /// The `List-Unsubscribe` value for one subscriber: the send's signed one-click URL when
    /// there is one (it takes the RFC 8058 `POST`), else the newsletter's unsubscribe link (its
    /// `Unsubscribe: URL` line, else UNSUBSCRIBE_URL) with `u=ID`; then a mailto.
    pub fn list_unsubscribe(
        &self,
        newsletter: &Newsletter,
        recipient: &Recipient,
        one_click: Option<&str>,
    ) -> String {
        let url = match one_click {
            Some(url) => url.to_string(),
            None => {
                let mut url = unsubscribe_link(&newsletter.text)
                    .unwrap_or_else(|| self.settings.unsubscribe_url.clone());
                url.query_pairs_mut().append_pair("u", &recipient.key());
                url.to_string()
            }
        };
        format!(
            "<{url}>, <mailto:unsubscribe@{}?subject=unsubscribe>",
            self.domain()
        )
    }

    /// The message for one subscriber (`one_click`: its signed unsubscribe URL, if any).
    pub fn message(
        &self,
        newsletter: &Newsletter,
        recipient: &Recipient,
        names: (&str, &str),
        correlation_id: &str,
        one_click: Option<&str>,
    ) -> Result<Message, String> {
        let (version, campaign) = names;
        let address: Address = recipient
            .email
            .parse()
            .map_err(|e| format!("not an email address: {e}"))?;
        let to = Mailbox::new(recipient.name.clone(), address);
        let header = |name: &'static str, value: String| {
            HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
        };
        let mut message = Message::builder()
            .from(self.settings.from.clone())
            .to(to)
            .subject(newsletter.subject.clone())
            .date_now()
            .message_id(Some(self.message_id(version, recipient)))
            .raw_header(header(
                "List-Unsubscribe",
                self.list_unsubscribe(newsletter, recipient, one_click),
            ))
            .raw_header(header(
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".into(),
            ))
            .raw_header(header("X-Campaign-ID", campaign.to_string()))
            .raw_header(header("X-Correlation-ID", correlation_id.to_string()))
            .multipart(MultiPart::alternative_plain_html(
                newsletter.text.clone(),
                newsletter.html.clone(),
            ))
            .map_err(|e| format!("cannot build the message: {e}"))?;
        if let Some(signer) = &self.dkim {
            signer.sign(&mut message);
        }
        Ok(message)
    }

    /// Sends `newsletter` to every subscriber, `names.batch_size` to a report line
    /// (`<target>:batch-N`), pacing each message with `limiter` and recording each in
    /// `ledger`. Merge tags are filled per recipient; an address listed twice gets one
    /// message (at its first place).
    ///
    /// SMTP_CONNECTIONS connections send at once, one message in flight on each; what they
    /// begin and end goes to the ledger in groups ([`GroupLedger`]), so after a crash at most
    /// one message per connection is left `sending`.
    #[allow(clippy::too_many_arguments)]
    pub async fn send_all(
        &self,
        newsletter: &Newsletter,
        subscribers: &[Value],
        names: &SendNames<'_>,
        limiter: &RateLimiter,
        guard: &EgressGuard,
        ledger: &dyn DeliveryLedger,
        correlation_id: &str,
    ) -> Vec<TargetResult> {
        let version = names.version;
        let mut seen = std::collections::HashSet::with_capacity(subscribers.len());
        let unique: Vec<&Value> = subscribers
            .iter()
            .filter(|s| match s.get("email").and_then(Value::as_str) {
                Some(email) => seen.insert(email.trim().to_lowercase()),
                None => true,
            })
            .collect();
        drop(seen);
        // One check for the whole send: in dry run only the mock capture may be reached.
        let refused = guard
            .check_smtp(&self.settings.host, self.settings.port)
            .err()
            .map(|e| e.to_string());
        let mut relays: Vec<Option<Relay>> = (0..self.settings.connections.max(1))
            .map(|_| None)
            .collect();
        let failed_in_a_row = AtomicU32::new(0);
        let given_up = Mutex::new(None);
        let mut results = Vec::new();
        for (i, chunk) in unique.chunks(names.batch_size.max(1)).enumerate() {
            let run = Run {
                sender: self,
                newsletter,
                names,
                limiter,
                ledger,
                group: GroupLedger::new(ledger, names.target, names.version),
                correlation_id,
                refused: refused.as_deref(),
                queue: Mutex::new(chunk.iter()),
                tally: Mutex::new(BatchTally::default()),
                failed_in_a_row: &failed_in_a_row,
                given_up: &given_up,
            };
            let connections = async {
                futures_util::future::join_all(relays.iter_mut().map(|r| run.connection(r))).await;
                run.group.close();
            };
            futures_util::future::join(connections, run.group.run()).await;
            let tally = run
                .tally
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut line = report(i + 1, version, names.target, chunk.len(), tally);
            line.recipients = Some(chunk.len());
            results.push(line);
        }
        for r in relays.iter_mut().flatten() {
            let _ = r.conn.quit().await;
        }
        results
    }

    /// One message, retrying transient failures. Returns the outcome (a reason and whether a
    /// later try may succeed) and the attempts made.
    async fn send_one(
        &self,
        relay: &mut Option<Relay>,
        message: &Message,
        limiter: &RateLimiter,
        message_id: &str,
        failed_in_a_row: &AtomicU32,
    ) -> (Result<String, (String, bool)>, u32) {
        let salt = message_id
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        let mut attempt = 0;
        loop {
            attempt += 1;
            limiter.acquire().await;
            let error = match self.deliver(relay, message).await {
                Ok(reply) => {
                    failed_in_a_row.store(0, Ordering::Relaxed);
                    return (Ok(reply), attempt);
                }
                Err(e) => e,
            };
            let in_a_row = failed_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
            let reason = format!(
                "smtp {}:{}: {}",
                self.settings.host, self.settings.port, error.reason
            );
            if !error.retryable || attempt >= self.retry.max_attempts || in_a_row >= GIVE_UP_AFTER {
                return (Err((reason, error.retryable)), attempt);
            }
            let wait = self.retry.backoff(attempt, salt);
            tracing::info!(attempt, wait_ms = wait.as_millis() as u64, error = %reason, "retrying SMTP send");
            tokio::time::sleep(wait).await;
        }
    }
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Run<'_, '_> {
    /// One connection: takes the next recipient until none is left.
    async fn connection(&self, relay: &mut Option<Relay>) {
        loop {
            let next = locked(&self.queue).next().copied();
            let Some(subscriber) = next else {
                return;
            };
            self.one(subscriber, relay).await;
        }
    }

    fn fail(&self, email: &str, reason: String, retryable: bool) {
        locked(&self.tally).fail(email, reason, retryable);
    }

    /// One recipient: refused when the address is unusable; otherwise begun in the ledger,
    /// sent unless the ledger says otherwise, and ended in the ledger.
    async fn one(&self, s: &Value, relay: &mut Option<Relay>) {
        let Some(recipient) = Recipient::from_subscriber(s) else {
            let id = s.get("id").map(Value::to_string).unwrap_or_default();
            self.fail(&id, "the subscriber has no email address".into(), false);
            return;
        };
        let stop = self
            .refused
            .map(|r| (r.to_string(), false))
            .or_else(|| locked(self.given_up).clone());
        if let Some((reason, retryable)) = stop {
            self.fail(&recipient.email, reason, retryable);
            return;
        }
        let names = self.names;
        let vars = crate::publishers::merge_vars(s, names.first_name_fallback);
        let personal = personalize(self.newsletter, &vars);
        let queued = Queued {
            email: recipient.email.clone(),
            subscriber_id: recipient.id.clone(),
            message_id: self.sender.message_id(names.version, &recipient),
        };
        let entry = self.group.entry(&queued);
        let one_click = self.ledger.one_click_url(&entry);
        let built = self.sender.message(
            &personal,
            &recipient,
            (names.version, names.campaign),
            self.correlation_id,
            one_click.as_deref(),
        );
        let message = match built {
            Ok(m) => m,
            Err(reason) => {
                self.ledger.refuse(&entry, &reason).await;
                self.fail(&recipient.email, reason, false);
                return;
            }
        };
        match self.group.begin(queued.clone()).await {
            Begin::Send { uncertain } => locked(&self.tally).uncertain += usize::from(uncertain),
            Begin::Delivered => {
                locked(&self.tally).sent += 1;
                return;
            }
            Begin::Suppressed => {
                locked(&self.tally).suppressed += 1;
                return;
            }
            Begin::Ended => {
                let why =
                    "not sent again: an earlier attempt of this send ended it without delivery";
                self.fail(&recipient.email, why.into(), false);
                return;
            }
            Begin::Stop(reason) => {
                *locked(self.given_up) = Some((reason.clone(), true));
                self.fail(&recipient.email, reason, true);
                return;
            }
        }
        let (outcome, attempts) = self
            .sender
            .send_one(
                relay,
                &message,
                self.limiter,
                &queued.message_id,
                self.failed_in_a_row,
            )
            .await;
        {
            let mut tally = locked(&self.tally);
            tally.max_attempts = tally.max_attempts.max(attempts);
        }
        match outcome {
            Ok(provider_id) => {
                self.group.end(queued, QueuedEnd::Delivered { provider_id });
                locked(&self.tally).sent += 1;
            }
            Err((reason, retryable)) => {
                let how = QueuedEnd::Failed {
                    reason: reason.clone(),
                    retryable,
                };
                self.group.end(queued, how);
                if self.failed_in_a_row.load(Ordering::Relaxed) >= GIVE_UP_AFTER {
                    *locked(self.given_up) = Some((
                        format!(
                            "not attempted: {GIVE_UP_AFTER} SMTP attempts in a row failed (last: {reason})"
                        ),
                        retryable,
                    ));
                }
                self.fail(&recipient.email, reason, retryable);
            }
        }
    }
}

/// The report line of batch `n`: succeeded when every recipient was sent; otherwise failed,
/// with the counts and the first reasons. `external_id` carries the counts either way.
/// How one SMTP send is named and cut.
#[derive(Debug, Clone, Copy)]
pub struct SendNames<'a> {
    pub batch_size: usize,
    /// Part of every Message-ID (with the recipient) and idempotency key.
    pub version: &'a str,
    pub campaign: &'a str,
    /// The report line prefix: `email`, `email:v1`, …
    pub target: &'a str,
    /// Written for `*|FIRST_NAME|*` where the subscriber has none.
    pub first_name_fallback: &'a str,
}

/// The newsletter as one recipient reads it: subject, HTML and text with merge tags filled.
fn personalize(n: &Newsletter, vars: &halcytone_audience::merge::MergeVars) -> Newsletter {
    use halcytone_audience::merge::{Escape, apply};
    Newsletter {
        subject: apply(&n.subject, vars, Escape::Text),
        preview_text: apply(&n.preview_text, vars, Escape::Text),
        html: apply(&n.html, vars, Escape::Html),
        text: apply(&n.text, vars, Escape::Text),
        ..n.clone()
    }
}

fn report(n: usize, version: &str, target: &str, size: usize, tally: BatchTally) -> TargetResult {
    let failed = tally.failures.len();
    let mut counts = format!("smtp:sent={},failed={failed}", tally.sent);
    if tally.uncertain > 0 {
        counts.push_str(&format!(",uncertain={}", tally.uncertain));
    }
    if tally.suppressed > 0 {
        counts.push_str(&format!(",suppressed={}", tally.suppressed));
    }
    let reason = (failed > 0).then(|| {
        let head = format!("{failed} of {size} recipients failed ({} sent)", tally.sent);
        let first = &tally.failures[0].reason;
        if tally.failures.iter().all(|f| &f.reason == first) {
            // One cause for all (a refusal, a relay that is down): say it once.
            return format!("{head}: {first}");
        }
        let shown: Vec<String> = tally
            .failures
            .iter()
            .take(3)
            .map(|f| format!("{}: {}", f.email, f.reason))
            .collect();
        let more = if failed > shown.len() {
            format!("; and {} more", failed - shown.len())
        } else {
            String::new()
        };
        format!("{head}: {}{more}", shown.join("; "))
    });
    TargetResult {
        channel: "email",
        target: format!("{target}:batch-{n}"),
        outcome: if failed == 0 {
            Outcome::Succeeded
        } else {
            Outcome::Failed
        },
        reason,
        retryable: tally.failures.iter().any(|f| f.retryable),
        upstream_status: None,
        attempts: tally.max_attempts,
        external_id: Some(counts),
        url: None,
        idempotency_key: format!("{version}:{target}:batch-{n}"),
        campaign: None,
        recipients: None,
    }
}

/// The `Unsubscribe: URL` line of a newsletter's text part (the bundled templates end with
/// one), when it holds an http(s) URL.
fn unsubscribe_link(text: &str) -> Option<Url> {
    text.lines().find_map(|l| {
        let l = l.trim();
        let rest = l
            .get(..12)?
            .eq_ignore_ascii_case("unsubscribe:")
            .then(|| l.get(12..))??;
        let url = Url::parse(rest.trim()).ok()?;
        matches!(url.scheme(), "http" | "https").then_some(url)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use halcytone_content::{EmailTemplate, Tone};

    fn sender() -> SmtpSender {
        SmtpSender::new(
            SmtpSettings {
                host: "127.0.0.1".into(),
                port: 1025,
                username: None,
                password: None,
                tls: SmtpTls::None,
                from: "Halcytone <newsletter@example.com>".parse().unwrap(),
                timeout: Duration::from_secs(5),
                connections: 4,
                unsubscribe_url: Url::parse("https://halcytone.com/unsubscribe").unwrap(),
                mock: ("127.0.0.1".into(), 1025),
                dkim: None,
            },
            RetryPolicy::default(),
        )
        .unwrap()
    }

    fn newsletter(text: &str) -> Newsletter {
        Newsletter {
            subject: "Breathe — this week".into(),
            preview_text: String::new(),
            template: EmailTemplate::Plain,
            tone: Tone::Professional,
            html: "<p>Hello</p>".into(),
            text: text.into(),
            item_count: 1,
        }
    }

    fn recipient(id: &str) -> Recipient {
        Recipient {
            id: Some(id.into()),
            email: "subscriber1@example.com".into(),
            name: Some("Subscriber One".into()),
        }
    }

    #[test]
    fn the_message_has_both_parts_and_the_list_headers() {
        let s = sender();
        let n = newsletter("Hello\n\nUnsubscribe: https://news.example.org/leave?list=weekly\n");
        let m = s
            .message(
                &n,
                &recipient("sub_0001"),
                ("0123456789abcdef", "halcytone-0123"),
                "corr-1",
                None,
            )
            .unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        for expected in [
            "From: Halcytone <newsletter@example.com>\r\n",
            "To: \"Subscriber One\" <subscriber1@example.com>\r\n",
            "Message-ID: <halcytone.0123456789abcdef.sub_0001@example.com>\r\n",
            "List-Unsubscribe: <https://news.example.org/leave?list=weekly&u=sub_0001>,",
            "<mailto:unsubscribe@example.com?subject=unsubscribe>",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
            "Content-Type: multipart/alternative;",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Type: text/html; charset=utf-8",
            "Date: ",
        ] {
            assert!(raw.contains(expected), "{expected:?} in\n{raw}");
        }
        let plain = raw.find("text/plain").unwrap();
        let html = raw.find("text/html").unwrap();
        assert!(plain < html, "text part first");
    }

    #[test]
    fn without_a_link_in_the_newsletter_the_configured_url_is_used() {
        let s = sender();
        let v = s.list_unsubscribe(&newsletter("no footer"), &recipient("sub 7/é"), None);
        assert_eq!(
            v,
            "<https://halcytone.com/unsubscribe?u=sub-7-->, <mailto:unsubscribe@example.com?subject=unsubscribe>"
        );
        assert!(
            s.message(
                &newsletter("x"),
                &Recipient {
                    email: "not an address".into(),
                    ..recipient("a")
                },
                ("v", "c"),
                "k",
                None
            )
            .is_err()
        );
    }

    #[test]
    fn a_one_click_url_from_the_ledger_comes_first_in_list_unsubscribe() {
        let s = sender();
        let n = newsletter("Hello\n\nUnsubscribe: https://news.example.org/leave\n");
        let one_click = "https://api.example.com/u/abc.def";
        let m = s
            .message(&n, &recipient("sub_1"), ("v", "c"), "k", Some(one_click))
            .unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(
            raw.contains("List-Unsubscribe: <https://api.example.com/u/abc.def>,\r\n <mailto:"),
            "{raw}"
        );
        assert!(!raw.contains("news.example.org/leave?"), "{raw}");
    }
}
