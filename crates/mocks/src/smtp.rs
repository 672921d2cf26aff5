//! The mock CRM's SMTP capture (port 1025 by default, Mailpit's): a small SMTP server that
//! accepts every message, as a real relay would, and stores it as an `email` capture of the
//! mock CRM, so a dry run with `EMAIL_TRANSPORT=smtp` shows exactly what would have been sent.
//!
//! It speaks enough of RFC 5321 for any client: EHLO/HELO, MAIL, RCPT (at most 1000), DATA
//! with dot-unstuffing, RSET, NOOP, QUIT and AUTH PLAIN / LOGIN (any credentials; the
//! username is recorded, the password never). No STARTTLS. Oversize messages get 552, a bad
//! sequence 503, an unknown command 502, a line over 4096 bytes 500, and an idle connection
//! is closed after a minute. Nothing it reads can make it panic.
//!
//! Every accepted message is captured, as a recipient's mailbox would keep it. A message whose
//! `Message-ID` was captured before is captured again marked as a duplicate of the first
//! (`status: "duplicate"`, `duplicate_of`), and counted, so a rehearsal shows a resend exactly
//! as the recipient would notice it.
//!
//! Every captured message carries the verdict of its DKIM check (`dkim`: `pass`, `fail` with
//! the reason, or `none`), against the key records the capture was given (see [`crate::dkim`]).

use crate::state::MockState;
use crate::store::NewRecord;
use base64::Engine;
use mail_parser::{MessageParser, MimeHeaders, PartType};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Mailpit's port, so tools that expect a local catcher find this one.
pub const DEFAULT_PORT: u16 = 1025;

/// The name the capture gives itself in its greeting.
const SERVER_NAME: &str = "mock-crm.halcytone.local";

/// What a session may send.
#[derive(Debug, Clone)]
pub struct SmtpLimits {
    /// Largest message (after dot-unstuffing), advertised as `SIZE`.
    pub max_message: usize,
    /// Recipients per message.
    pub max_recipients: usize,
    /// Longest line, without its line ending.
    pub max_line: usize,
    /// Silence after which the connection is closed with 421.
    pub idle: Duration,
    /// Sessions at once; more are answered 421 and closed.
    pub max_sessions: usize,
}

impl Default for SmtpLimits {
    fn default() -> Self {
        SmtpLimits {
            max_message: 10 * 1024 * 1024,
            max_recipients: 1000,
            max_line: 4096,
            idle: Duration::from_secs(60),
            max_sessions: 100,
        }
    }
}

/// Serves SMTP on `listener` with the default limits, capturing into `state`'s store, until
/// `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: MockState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, SmtpLimits::default(), shutdown).await
}

/// [`serve`] with explicit limits (tests use a short idle time and small sizes).
pub async fn serve_with(
    listener: TcpListener,
    state: MockState,
    limits: SmtpLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = Arc::new(limits);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_sessions.max(1)));
    let mut sessions = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a little, keep serving.
                        tracing::warn!(error = %e, "smtp accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    sessions.spawn(async move {
                        let mut stream = stream;
                        let _ = stream.write_all(b"421 4.7.0 too many connections, try again later\r\n").await;
                    });
                    continue;
                };
                let (state, limits) = (state.clone(), limits.clone());
                sessions.spawn(async move {
                    let _slot = slot;
                    if let Err(e) = session(stream, peer, &state, &limits).await {
                        tracing::debug!(%peer, error = %e, "smtp session ended with an error");
                    }
                });
            }
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
    sessions.shutdown().await;
    Ok(())
}

/// One line read from the client.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    /// Without its line ending (CRLF, or a bare LF).
    Text(Vec<u8>),
    /// Longer than the limit; it was read and thrown away.
    TooLong,
    /// The client closed the connection (a partial last line is dropped).
    Eof,
}

/// Reads one line of at most `max` bytes without ever holding more than that.
async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R, max: usize) -> std::io::Result<Line> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(Line::Eof);
        }
        let (chunk, done) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (&available[..i], i + 1),
            None => (available, available.len()),
        };
        let ended = done > chunk.len();
        if !too_long {
            // The CR before the LF may be the chunk's last byte: allow one byte for it.
            if line.len() + chunk.len() > max + 1 {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        reader.consume(done);
        if ended {
            if too_long {
                return Ok(Line::TooLong);
            }
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.len() > max {
                return Ok(Line::TooLong);
            }
            return Ok(Line::Text(line));
        }
    }
}

/// The envelope and state of the transaction in progress.
#[derive(Debug, Default)]
struct Transaction {
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

#[derive(Debug)]
struct Session<'a, R, W> {
    reader: R,
    writer: W,
    peer: SocketAddr,
    state: &'a MockState,
    limits: &'a SmtpLimits,
    helo: Option<String>,
    auth_username: Option<String>,
    tx: Transaction,
}

/// What a command asks of the session loop.
enum Next {
    Continue,
    Close,
}

async fn session(
    stream: TcpStream,
    peer: SocketAddr,
    state: &MockState,
    limits: &SmtpLimits,
) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    let mut s = Session {
        reader: BufReader::new(read),
        writer: write,
        peer,
        state,
        limits,
        helo: None,
        auth_username: None,
        tx: Transaction::default(),
    };
    s.reply(&format!(
        "220 {SERVER_NAME} ESMTP Halcytone mock CRM SMTP capture ready"
    ))
    .await?;
    loop {
        let Some(line) = s.next_line().await? else {
            return Ok(());
        };
        let line = match line {
            Line::Text(l) => l,
            Line::TooLong => {
                s.reply(&format!(
                    "500 5.5.2 line too long (at most {} bytes)",
                    s.limits.max_line
                ))
                .await?;
                continue;
            }
            Line::Eof => return Ok(()),
        };
        if let Next::Close = s.command(&line).await? {
            return Ok(());
        }
    }
}

impl<R: AsyncBufRead + Unpin, W: AsyncWrite + Unpin> Session<'_, R, W> {
    /// One reply, in one write (two small writes would wait on the peer's delayed ACK).
    async fn reply(&mut self, text: &str) -> std::io::Result<()> {
        let mut out = String::with_capacity(text.len() + 2);
        out.push_str(text);
        out.push_str("\r\n");
        self.writer.write_all(out.as_bytes()).await?;
        self.writer.flush().await
    }

    /// The next line, or `None` after answering an idle timeout with 421.
    async fn next_line(&mut self) -> std::io::Result<Option<Line>> {
        match tokio::time::timeout(
            self.limits.idle,
            read_line(&mut self.reader, self.limits.max_line),
        )
        .await
        {
            Ok(line) => line.map(Some),
            Err(_) => {
                let _ = self
                    .reply(&format!(
                        "421 4.4.2 {SERVER_NAME} idle for too long, closing connection"
                    ))
                    .await;
                Ok(None)
            }
        }
    }

    async fn command(&mut self, line: &[u8]) -> std::io::Result<Next> {
        let text = String::from_utf8_lossy(line);
        let text = text.trim();
        let (verb, args) = match text.split_once(' ') {
            Some((v, a)) => (v, a.trim()),
            None => (text, ""),
        };
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => self.ehlo(args, true).await?,
            "HELO" => self.ehlo(args, false).await?,
            "MAIL" => self.mail(args).await?,
            "RCPT" => self.rcpt(args).await?,
            "DATA" => return self.data(args).await,
            "RSET" => {
                self.tx = Transaction::default();
                self.reply("250 2.0.0 OK").await?;
            }
            "NOOP" => self.reply("250 2.0.0 OK").await?,
            "QUIT" => {
                self.reply(&format!("221 2.0.0 {SERVER_NAME} closing connection"))
                    .await?;
                return Ok(Next::Close);
            }
            "AUTH" => return self.auth(args).await,
            "" => self.reply("500 5.5.2 empty command").await?,
            _ => {
                self.reply("502 5.5.1 command not implemented").await?;
            }
        }
        Ok(Next::Continue)
    }

    async fn ehlo(&mut self, domain: &str, extended: bool) -> std::io::Result<()> {
        if domain.is_empty() {
            return self
                .reply("501 5.5.4 a domain or address is required")
                .await;
        }
        self.helo = Some(domain.chars().take(255).collect());
        self.tx = Transaction::default();
        if extended {
            let max = self.limits.max_message;
            self.reply(&format!(
                "250-{SERVER_NAME} greets {domain}\r\n250-SIZE {max}\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN"
            ))
            .await
        } else {
            self.reply(&format!("250 {SERVER_NAME} greets {domain}"))
                .await
        }
    }

    async fn mail(&mut self, args: &str) -> std::io::Result<()> {
        if self.helo.is_none() {
            return self.reply("503 5.5.1 send EHLO or HELO first").await;
        }
        if self.tx.mail_from.is_some() {
            return self
                .reply("503 5.5.1 a transaction is already open; RSET first")
                .await;
        }
        let Some((address, params)) = path(args, "FROM:") else {
            return self.reply("501 5.5.4 syntax: MAIL FROM:<address>").await;
        };
        for p in params.split_whitespace() {
            if let Some(size) = p
                .split_once('=')
                .filter(|(k, _)| k.eq_ignore_ascii_case("SIZE"))
                .map(|(_, v)| v)
            {
                match size.parse::<u64>() {
                    Ok(n) if n > self.limits.max_message as u64 => {
                        return self
                            .reply(&format!(
                                "552 5.3.4 message size exceeds the limit of {} bytes",
                                self.limits.max_message
                            ))
                            .await;
                    }
                    Ok(_) => {}
                    Err(_) => return self.reply("501 5.5.4 SIZE must be a number").await,
                }
            }
        }
        self.tx.mail_from = Some(address);
        self.reply("250 2.1.0 OK").await
    }

    async fn rcpt(&mut self, args: &str) -> std::io::Result<()> {
        if self.tx.mail_from.is_none() {
            return self.reply("503 5.5.1 send MAIL FROM first").await;
        }
        let Some((address, _)) = path(args, "TO:") else {
            return self.reply("501 5.5.4 syntax: RCPT TO:<address>").await;
        };
        if address.is_empty() {
            return self
                .reply("501 5.1.3 a recipient address is required")
                .await;
        }
        let refusal = {
            let chaos = self.state.smtp_chaos.read().await;
            chaos.rejects(&address).then(|| chaos.refusal(&address))
        };
        if let Some(refusal) = refusal {
            return self.reply(&refusal).await;
        }
        if self.tx.rcpt_to.len() >= self.limits.max_recipients {
            return self
                .reply(&format!(
                    "452 4.5.3 too many recipients (at most {} per message)",
                    self.limits.max_recipients
                ))
                .await;
        }
        self.tx.rcpt_to.push(address);
        self.reply("250 2.1.5 OK").await
    }

    async fn data(&mut self, args: &str) -> std::io::Result<Next> {
        if !args.is_empty() {
            self.reply("501 5.5.4 DATA takes no arguments").await?;
            return Ok(Next::Continue);
        }
        if self.tx.mail_from.is_none() || self.tx.rcpt_to.is_empty() {
            self.reply("503 5.5.1 send MAIL FROM and RCPT TO first")
                .await?;
            return Ok(Next::Continue);
        }
        self.reply("354 end data with <CR><LF>.<CR><LF>").await?;
        // One deadline for the whole message (a timer per line would cost more than the line).
        let body = tokio::time::timeout(self.limits.idle, self.read_body()).await;
        let Ok(body) = body else {
            let _ = self
                .reply(&format!(
                    "421 4.4.2 {SERVER_NAME} message not received in time, closing connection"
                ))
                .await;
            return Ok(Next::Close);
        };
        let Some((message, oversize, long_line)) = body? else {
            return Ok(Next::Close);
        };
        let tx = std::mem::take(&mut self.tx);
        let (slow, drop) = {
            let chaos = self.state.smtp_chaos.read().await;
            let n = self.state.smtp_data.next();
            (chaos.slow_data_ms, chaos.drops(n))
        };
        if slow > 0 {
            tokio::time::sleep(Duration::from_millis(slow)).await;
        }
        if drop {
            // Chaos: the connection goes before the answer; nothing was captured.
            tracing::info!(target: "halcytone_mocks::smtp", peer = %self.peer, "smtp chaos: connection dropped before DATA was answered");
            return Ok(Next::Close);
        }
        if oversize {
            self.reply(&format!(
                "552 5.3.4 message exceeds the limit of {} bytes",
                self.limits.max_message
            ))
            .await?;
        } else if long_line {
            self.reply(&format!(
                "500 5.5.2 message has a line over {} bytes",
                self.limits.max_line
            ))
            .await?;
        } else {
            let envelope = Envelope {
                mail_from: tx.mail_from.unwrap_or_default(),
                rcpt_to: tx.rcpt_to,
                helo: self.helo.clone(),
                auth_username: self.auth_username.clone(),
                peer: self.peer.to_string(),
            };
            match capture(self.state, &envelope, &message).await {
                Ok(Captured::New(id)) => {
                    if let Some(sink) = &self.state.config.events
                        && envelope.rcpt_to.iter().any(|t| crate::bounces::seeded(t))
                    {
                        let message_id = message_id_of(&message);
                        let events = crate::bounces::events_for(
                            &envelope.rcpt_to,
                            message_id.as_deref(),
                            &id,
                        );
                        crate::bounces::report(sink, events);
                    }
                    self.reply(&format!("250 2.0.0 OK: queued as {id}")).await?
                }
                Ok(Captured::Duplicate { id, first }) => {
                    self.reply(&format!(
                        "250 2.0.0 OK: queued as {id}, a duplicate of {first} (same Message-ID)"
                    ))
                    .await?
                }
                Err(e) => {
                    tracing::error!(error = %e, "smtp capture failed");
                    self.reply("451 4.3.0 the capture store failed; try again later")
                        .await?
                }
            }
        }
        Ok(Next::Continue)
    }

    /// The message after DATA, up to the lone "." line, dot-unstuffed, with CRLF line ends;
    /// whether it went over the size limit (then nothing is kept) or had an over-long line.
    /// `None` when the client closed the connection first.
    async fn read_body(&mut self) -> std::io::Result<Option<(Vec<u8>, bool, bool)>> {
        let mut message = Vec::new();
        let (mut oversize, mut long_line) = (false, false);
        loop {
            let line = match read_line(&mut self.reader, self.limits.max_line).await? {
                Line::Eof => return Ok(None),
                Line::TooLong => {
                    long_line = true;
                    continue;
                }
                Line::Text(l) => l,
            };
            if line == b"." {
                return Ok(Some((message, oversize, long_line)));
            }
            // Dot-unstuffing (RFC 5321 4.5.2): a leading period is removed.
            let line = line.strip_prefix(b".").unwrap_or(&line);
            if oversize || message.len() + line.len() + 2 > self.limits.max_message {
                oversize = true;
                message = Vec::new();
                continue;
            }
            message.extend_from_slice(line);
            message.extend_from_slice(b"\r\n");
        }
    }

    async fn auth(&mut self, args: &str) -> std::io::Result<Next> {
        if self.helo.is_none() {
            self.reply("503 5.5.1 send EHLO first").await?;
            return Ok(Next::Continue);
        }
        if self.auth_username.is_some() {
            self.reply("503 5.5.1 already authenticated").await?;
            return Ok(Next::Continue);
        }
        if self.tx.mail_from.is_some() {
            self.reply("503 5.5.1 AUTH is not allowed during a mail transaction")
                .await?;
            return Ok(Next::Continue);
        }
        let (mechanism, initial) = match args.split_once(' ') {
            Some((m, i)) => (m, Some(i.trim())),
            None => (args, None),
        };
        let username = match mechanism.to_ascii_uppercase().as_str() {
            "PLAIN" => {
                let response = match self.respond(initial, "334 ").await? {
                    Answer::Text(r) => r,
                    Answer::Cancelled => return self.cancelled().await,
                    Answer::Closed => return Ok(Next::Close),
                };
                // authzid NUL authcid NUL password: only the authcid is kept.
                decode(&response).and_then(|raw| {
                    let mut fields = raw.split(|b| *b == 0);
                    match (fields.next(), fields.next(), fields.next(), fields.next()) {
                        (Some(_), Some(user), Some(_), None) => Some(text(user)),
                        _ => None,
                    }
                })
            }
            "LOGIN" => {
                let user = match self.respond(initial, "334 VXNlcm5hbWU6").await? {
                    Answer::Text(u) => u,
                    Answer::Cancelled => return self.cancelled().await,
                    Answer::Closed => return Ok(Next::Close),
                };
                let Some(user) = decode(&user).map(|u| text(&u)) else {
                    self.reply("501 5.5.2 the username is not base64").await?;
                    return Ok(Next::Continue);
                };
                // The password is read and dropped: never decoded, never stored.
                match self.respond(None, "334 UGFzc3dvcmQ6").await? {
                    Answer::Text(_) => Some(user),
                    Answer::Cancelled => return self.cancelled().await,
                    Answer::Closed => return Ok(Next::Close),
                }
            }
            "" => {
                self.reply("501 5.5.4 syntax: AUTH mechanism").await?;
                return Ok(Next::Continue);
            }
            _ => {
                self.reply("504 5.5.4 unrecognized authentication mechanism; use PLAIN or LOGIN")
                    .await?;
                return Ok(Next::Continue);
            }
        };
        match username {
            Some(user) => {
                self.auth_username = Some(user);
                self.reply("235 2.7.0 authentication successful (any credentials are accepted)")
                    .await?;
            }
            None => {
                self.reply("501 5.5.2 cannot decode the credentials")
                    .await?;
            }
        }
        Ok(Next::Continue)
    }

    /// The client's answer in an AUTH exchange: the initial response when it came with the
    /// command, otherwise the line after `prompt`; `*` cancels.
    async fn respond(&mut self, initial: Option<&str>, prompt: &str) -> std::io::Result<Answer> {
        let line = match initial {
            Some(r) => r.to_string(),
            None => {
                self.reply(prompt).await?;
                match self.challenge().await? {
                    Some(r) => r,
                    None => return Ok(Answer::Closed),
                }
            }
        };
        Ok(if line == "*" {
            Answer::Cancelled
        } else {
            Answer::Text(line)
        })
    }

    async fn cancelled(&mut self) -> std::io::Result<Next> {
        self.reply("501 5.7.0 authentication cancelled").await?;
        Ok(Next::Continue)
    }

    /// One line of an AUTH exchange; `None` when the connection closed or went idle.
    async fn challenge(&mut self) -> std::io::Result<Option<String>> {
        match self.next_line().await? {
            Some(Line::Text(l)) => Ok(Some(String::from_utf8_lossy(&l).trim().to_string())),
            Some(Line::TooLong) => Ok(Some(String::new())),
            Some(Line::Eof) | None => Ok(None),
        }
    }
}

/// What a client answered to an AUTH prompt.
enum Answer {
    Text(String),
    Cancelled,
    Closed,
}

fn decode(b64: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// Client-supplied bytes as bounded text.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(256).collect()
}

/// `FROM:<address> PARAMS` (or `TO:`): the address, without angle brackets, and the rest.
fn path(args: &str, keyword: &str) -> Option<(String, String)> {
    let head = args.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = args.get(keyword.len()..)?.trim_start();
    let (address, params) = if let Some(inner) = rest.strip_prefix('<') {
        let end = inner.find('>')?;
        (inner.get(..end)?, inner.get(end + 1..)?)
    } else {
        // Lenient: a bare address.
        match rest.split_once(' ') {
            Some((a, p)) => (a, p),
            None => (rest, ""),
        }
    };
    if address.contains(char::is_whitespace) || address.len() > 320 {
        return None;
    }
    Some((address.to_string(), params.trim().to_string()))
}

/// The `Message-ID` header of a message, if it has one.
fn message_id_of(message: &[u8]) -> Option<String> {
    MessageParser::default()
        .parse_headers(message)
        .and_then(|m| m.message_id().map(|id| format!("<{id}>")))
}

/// Who sent a message and to whom, as the SMTP session said.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub helo: Option<String>,
    pub auth_username: Option<String>,
    pub peer: String,
}

/// What happened to an accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Captured {
    /// Stored under this id.
    New(String),
    /// Stored under `id`, marked as a duplicate: its Message-ID was captured before as `first`.
    Duplicate { id: String, first: String },
}

/// Route under which SMTP Message-IDs are remembered in the idempotency table.
const ROUTE: &str = "SMTP DATA";

/// Stores `message` as an `email` capture; a repeated Message-ID is marked a duplicate.
pub async fn capture(
    state: &MockState,
    envelope: &Envelope,
    message: &[u8],
) -> Result<Captured, crate::store::StoreError> {
    let mut request = describe(envelope, message);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    request["dkim"] = json!(crate::dkim::verify(message, &state.config.dkim, now));
    let message_id = request["message_id"]
        .as_str()
        .map(|m| {
            m.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .trim()
        })
        .filter(|m| !m.is_empty())
        .map(|m| format!("smtp:{m}"))
        .filter(|k| k.len() <= 255);
    let Some(key) = message_id else {
        return store(state, envelope, message, request, None, None).await;
    };
    // The same Message-ID on two connections at once: the second waits for the first (for at
    // most 5 s, so a session that died holding the key cannot block the others for ever),
    // then finds it captured.
    for _ in 0..500 {
        if state.claim(&key) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let result = async {
        let first = first_capture(state, &key).await?;
        let remember = first.is_none().then_some(key.as_str());
        store(state, envelope, message, request, remember, first).await
    }
    .await;
    state.release(&key);
    result
}

/// The id of the first capture of a Message-ID (as its idempotency key), if any.
async fn first_capture(
    state: &MockState,
    key: &str,
) -> Result<Option<String>, crate::store::StoreError> {
    Ok(state.store.idempotent(key).await?.map(|stored| {
        stored.body["message_id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }))
}

/// Stores one capture; `key` is remembered for the first of a Message-ID, `first` names the
/// capture a duplicate repeats.
async fn store(
    state: &MockState,
    envelope: &Envelope,
    message: &[u8],
    mut request: Value,
    key: Option<&str>,
    first: Option<String>,
) -> Result<Captured, crate::store::StoreError> {
    let id = state.next_id("email");
    let now = crate::now();
    let status = if first.is_some() { "duplicate" } else { "sent" };
    let mut response = json!({
        "message_id": id,
        "status": status,
        "transport": "smtp",
        "recipients_count": envelope.rcpt_to.len(),
        "timestamp": now,
    });
    if let Some(first) = &first {
        request["duplicate_of"] = json!(first);
        response["duplicate_of"] = json!(first);
    }
    let header = |name: &str| {
        request["headers"].as_array().and_then(|hs| {
            hs.iter()
                .find(|h| {
                    h["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                })
                .and_then(|h| h["value"].as_str())
                .map(str::to_string)
        })
    };
    let record = NewRecord {
        id: id.clone(),
        kind: "email",
        captured: true,
        subject: request["subject"].as_str().map(str::to_string),
        campaign: header("X-Campaign-ID"),
        channel: Some("email".into()),
        status: Some(status.into()),
        idempotency_key: key.map(str::to_string),
        correlation_id: header("X-Correlation-ID"),
        created_at: now,
        request,
        response: response.clone(),
        raw: Some(message.to_vec()),
    };
    let remember = key.map(|k| (k, ROUTE, 250u16, &response));
    state
        .store
        .commit(Some(&record), remember, state.config.retention)
        .await?;
    state.metrics.captured("email");
    Ok(match first {
        Some(first) => {
            state.metrics.duplicate("email");
            Captured::Duplicate { id, first }
        }
        None => Captured::New(id),
    })
}

/// Unfolds a raw header value: line breaks and the whitespace after them become one space.
pub(crate) fn unfold(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut lines = raw.split('\n');
    if let Some(first) = lines.next() {
        out.push_str(first.trim_end_matches('\r'));
    }
    for l in lines {
        let l = l.trim_end_matches('\r');
        let l = l.trim_start_matches([' ', '\t']);
        if !l.is_empty() {
            out.push(' ');
            out.push_str(l);
        }
    }
    out.trim().to_string()
}

/// The capture's `request`: envelope, headers, text and HTML parts, parts list and size.
pub fn describe(envelope: &Envelope, message: &[u8]) -> Value {
    let parsed = MessageParser::default().parse(message);
    let mut headers = Vec::new();
    let mut text_content = None;
    let mut html_content = None;
    let mut parts = Vec::new();
    let mut subject = None;
    if let Some(m) = &parsed {
        if let Some(root) = m.parts.first() {
            for h in root.headers() {
                let raw = message
                    .get(h.offset_start() as usize..h.offset_end() as usize)
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                headers.push(json!({ "name": h.name(), "value": unfold(&raw) }));
            }
        }
        subject = m.subject().map(str::to_string);
        for part in &m.parts {
            let content_type = part
                .content_type()
                .map(|c| match c.subtype() {
                    Some(sub) => format!("{}/{}", c.ctype(), sub),
                    None => c.ctype().to_string(),
                })
                .unwrap_or_else(|| "text/plain".into())
                .to_ascii_lowercase();
            let attachment = part
                .content_disposition()
                .is_some_and(|d| d.is_attachment());
            let size = match &part.body {
                PartType::Multipart(_) => {
                    part.raw_end_offset().saturating_sub(part.raw_body_offset()) as usize
                }
                _ => part.len(),
            };
            parts.push(json!({
                "content_type": content_type,
                "size": size,
                "charset": part.content_type().and_then(|c| c.attribute("charset")),
                "attachment": attachment,
            }));
            match &part.body {
                PartType::Html(t) if html_content.is_none() && !attachment => {
                    html_content = Some(t.to_string());
                }
                PartType::Text(t)
                    if text_content.is_none() && !attachment && content_type == "text/plain" =>
                {
                    text_content = Some(t.to_string());
                }
                _ => {}
            }
        }
    }
    let header = |name: &str| -> Value {
        headers
            .iter()
            .find(|h| {
                h["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .map_or(Value::Null, |h| h["value"].clone())
    };
    json!({
        "transport": "smtp",
        "envelope": {
            "mail_from": envelope.mail_from,
            "rcpt_to": envelope.rcpt_to,
            "helo": envelope.helo,
            "peer": envelope.peer,
        },
        "auth_username": envelope.auth_username,
        "recipients": envelope.rcpt_to,
        "sender_email": envelope.mail_from,
        "subject": subject.map_or(header("Subject"), Value::from),
        "from": header("From"),
        "to": header("To"),
        "message_id": header("Message-ID"),
        "list_unsubscribe": header("List-Unsubscribe"),
        "list_unsubscribe_post": header("List-Unsubscribe-Post"),
        "headers": headers,
        "text_content": text_content,
        "html_content": html_content,
        "parts": parts,
        "size": message.len(),
        "parsed": parsed.is_some(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    async fn lines(input: &[u8], max: usize) -> Vec<Line> {
        let mut r = BufReader::with_capacity(8, input);
        let mut out = Vec::new();
        loop {
            let l = read_line(&mut r, max).await.unwrap();
            let eof = l == Line::Eof;
            out.push(l);
            if eof {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn lines_are_bounded_and_endings_stripped() {
        let got = lines(b"abc\r\nde\n0123456789abcdef\r\nx\r\n12345678\r\ntail", 8).await;
        assert_eq!(
            got,
            vec![
                Line::Text(b"abc".to_vec()),
                Line::Text(b"de".to_vec()),
                Line::TooLong,
                Line::Text(b"x".to_vec()),
                Line::Text(b"12345678".to_vec()),
                Line::Eof,
            ]
        );
    }

    #[test]
    fn paths_parse_leniently_and_never_panic() {
        assert_eq!(
            path("FROM:<a@b.c> SIZE=10 BODY=8BITMIME", "FROM:"),
            Some(("a@b.c".into(), "SIZE=10 BODY=8BITMIME".into()))
        );
        assert_eq!(
            path("from: <>", "FROM:"),
            Some((String::new(), String::new()))
        );
        assert_eq!(
            path("TO:x@y.z", "TO:"),
            Some(("x@y.z".into(), String::new()))
        );
        assert_eq!(path("TO:<x@y.z", "TO:"), None);
        for junk in ["", "F", "FROM", "é:<>", "FROM:<a b>", "TO:é", "FRÖM:<x>"] {
            let _ = path(junk, "FROM:");
        }
    }

    #[test]
    fn headers_unfold() {
        assert_eq!(
            unfold(" <https://x/u?u=1>,\r\n <mailto:u@x>\r\n"),
            "<https://x/u?u=1>, <mailto:u@x>"
        );
    }
}
