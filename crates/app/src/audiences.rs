//! Audiences you bring: named lists of people imported from CSV and kept in the store, beside
//! the CRM's own subscriber list. This module owns creating and listing them, the streaming
//! CSV import (read in chunks, never whole; bad rows refused with their line, good ones
//! written), and reading an audience back as the subscriber objects the email publisher
//! understands.

use crate::error::{AppError, AppResult, Found};
use crate::queue::{iso, now_ms};
use halcytone_store::Store;
use halcytone_store::audiences::{Audience, Member, MemberRow, member_email};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// Rows written per transaction.
pub const CHUNK_ROWS: usize = 1_000;
/// Refusals listed in an import's answer (all are counted).
pub const REFUSALS_LISTED: usize = 20;
/// The longest record read; past it the import stops (an unclosed quote swallows the file).
pub const MAX_RECORD_BYTES: u64 = 1024 * 1024;
/// Statuses a member may have; an empty cell is `active`.
pub const STATUSES: [&str; 5] = ["active", "unsubscribed", "bounced", "complained", "pending"];
/// Subscriber fields an attribute column may not overwrite.
const RESERVED: [&str; 10] = [
    "id",
    "email",
    "name",
    "first_name",
    "last_name",
    "status",
    "tags",
    "engagement",
    "audience_id",
    "created_at",
];
const MAX_TEXT: usize = 200;
const MAX_ATTRIBUTE: usize = 2_000;
const MAX_TAGS: usize = 100;
const MAX_COLUMNS: usize = 200;

/// An audience as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AudienceView {
    pub id: String,
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
    /// People in it, whatever their status.
    pub members: i64,
}

impl From<&Audience> for AudienceView {
    fn from(a: &Audience) -> Self {
        AudienceView {
            id: a.id.clone(),
            name: a.name.clone(),
            created_at: iso(a.created_ms).unwrap_or_default(),
            members: a.members,
        }
    }
}

/// A new audience.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AudienceRequest {
    #[schema(required = true, schema_with = crate::schema::line_100)]
    pub name: Option<String>,
}

/// A row an import did not write, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Refusal {
    /// The file's line where the row starts (the header is line 1).
    pub line: u64,
    /// The address as the row gave it (possibly empty).
    pub email: String,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub audience_id: String,
    /// Rows read (the header and blank rows not counted).
    pub rows: u64,
    /// People new to the audience.
    pub imported: u64,
    /// People already in the audience, whose row was replaced.
    pub updated: u64,
    /// Rows whose address an earlier row of the same file gave: they replace that row's
    /// values and are counted once, as that row was.
    pub repeated: u64,
    /// Rows not written.
    pub refused: u64,
    /// The first refused rows with their line and reason.
    pub refusals: Vec<Refusal>,
    /// People in the audience after the import.
    pub members: i64,
}

/// A name: trimmed, 1 to 100 characters, one line.
fn audience_name(name: Option<&str>) -> AppResult<String> {
    let name = name.map(str::trim).unwrap_or_default();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "name",
            "name: 1 to 100 characters, one line",
        ));
    }
    Ok(name.to_string())
}

/// Creates an empty audience; a name in use is a conflict.
pub async fn create(store: &dyn Store, body: AudienceRequest) -> AppResult<AudienceView> {
    let name = audience_name(body.name.as_deref())?;
    let id = format!("aud_{}", uuid::Uuid::new_v4().simple());
    match store.create_audience(&id, &name, now_ms()).await? {
        Some(a) => Ok(AudienceView::from(&a)),
        None => Err(AppError::Conflict(format!(
            "an audience named {name:?} already exists"
        ))),
    }
}

/// The audience of this name, created when there is none; true when it was created.
pub async fn find_or_create(store: &dyn Store, name: &str) -> AppResult<(AudienceView, bool)> {
    let name = audience_name(Some(name))?;
    if let Some(a) = store.audience_by_name(&name).await? {
        return Ok((AudienceView::from(&a), false));
    }
    match create(
        store,
        AudienceRequest {
            name: Some(name.clone()),
        },
    )
    .await
    {
        Ok(a) => Ok((a, true)),
        // Created by someone else meanwhile.
        Err(AppError::Conflict(_)) => {
            let a = store
                .audience_by_name(&name)
                .await?
                .found("audience", &name)?;
            Ok((AudienceView::from(&a), false))
        }
        Err(e) => Err(e),
    }
}

/// Every audience, by name.
pub async fn list(store: &dyn Store) -> AppResult<Vec<AudienceView>> {
    Ok(store
        .audiences()
        .await?
        .iter()
        .map(AudienceView::from)
        .collect())
}

/// One audience with its member count; an unknown id is not found.
pub async fn get(store: &dyn Store, id: &str) -> AppResult<AudienceView> {
    let a = store.audience(id).await?.found("audience", id)?;
    Ok(AudienceView::from(&a))
}

/// The audience a send names, checked before its job is queued: it exists and has members.
pub async fn for_send(state: &crate::core::Core, id: &str) -> AppResult<String> {
    let a = state.store.audience(id).await?.ok_or_else(|| {
        AppError::invalid(
            "audience_id",
            format!("audience_id: no audience {id} (GET /api/v2/audiences lists them)"),
        )
    })?;
    if a.members == 0 {
        return Err(AppError::invalid(
            "audience_id",
            format!(
                "audience_id: audience {id} ({}) has no members; import a CSV first (POST /api/v2/audiences/{id}/subscribers/import)",
                a.name
            ),
        ));
    }
    Ok(a.id)
}

/// Every active member of an audience as subscriber objects, page by page, for a send.
pub async fn active_subscribers(store: Arc<dyn Store>, id: &str) -> AppResult<Vec<Value>> {
    let mut pages = ActiveSubscribers::open(store, id, 5_000).await?;
    let mut all = Vec::new();
    while let Some(page) = pages.next_page().await? {
        all.extend(page);
    }
    Ok(all)
}

/// Checks an address; answers it trimmed and lower-cased, or why it cannot be sent to.
pub fn parse_email(raw: &str) -> Result<String, &'static str> {
    let e = raw.trim();
    if e.is_empty() {
        return Err("no address");
    }
    if e.chars().count() > 254 {
        return Err("longer than 254 characters");
    }
    if e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains a space or a control character");
    }
    if e.chars().any(|c| "\"(),:;<>[\\]".contains(c)) {
        return Err("contains a character an address cannot hold");
    }
    let Some((local, domain)) = e.split_once('@') else {
        return Err("has no @");
    };
    if domain.contains('@') {
        return Err("has more than one @");
    }
    if local.is_empty() {
        return Err("nothing before the @");
    }
    if local.chars().count() > 64 {
        return Err("more than 64 characters before the @");
    }
    if !domain.contains('.') {
        return Err("the domain has no dot");
    }
    if domain.starts_with(['.', '-'])
        || domain.ends_with(['.', '-'])
        || domain.contains("..")
        || domain.split('.').any(|label| label.is_empty())
    {
        return Err("the domain is malformed");
    }
    Ok(member_email(e))
}

/// What each column of the file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Email,
    Name,
    FirstName,
    LastName,
    Tags,
    Status,
    Attribute(String),
    /// A column without a name: its cells are ignored.
    Ignored,
}

/// Reads the header row: an `email` column is required; `name`, `first_name`, `last_name`,
/// `tags` and `status` are known (any case, spaces or dashes for underscores); others are
/// attributes.
fn columns(header: &csv_async::ByteRecord) -> AppResult<Vec<Column>> {
    let bad = |message: String| AppError::invalid("header", format!("header: {message}"));
    if header.len() > MAX_COLUMNS {
        return Err(bad(format!(
            "{} columns; at most {MAX_COLUMNS}",
            header.len()
        )));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(header.len());
    for (i, raw) in header.iter().enumerate() {
        let raw = if i == 0 {
            raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
        } else {
            raw
        };
        let Ok(text) = std::str::from_utf8(raw) else {
            return Err(bad(format!("column {} is not UTF-8 text", i + 1)));
        };
        let text = text.trim();
        if text.is_empty() {
            out.push(Column::Ignored);
            continue;
        }
        if text.chars().count() > 100 || text.chars().any(char::is_control) {
            return Err(bad(format!(
                "column {}: a name of 1 to 100 characters, one line",
                i + 1
            )));
        }
        let key = text.to_lowercase().replace([' ', '-'], "_");
        if !seen.insert(key.clone()) {
            return Err(bad(format!("the column {text:?} appears twice")));
        }
        out.push(match key.as_str() {
            "email" | "e_mail" | "email_address" => Column::Email,
            "name" => Column::Name,
            "first_name" => Column::FirstName,
            "last_name" => Column::LastName,
            "tags" => Column::Tags,
            "status" => Column::Status,
            _ if RESERVED.contains(&key.as_str()) => {
                return Err(bad(format!(
                    "the column {text:?} would overwrite a subscriber field; rename it"
                )));
            }
            _ => Column::Attribute(text.to_string()),
        });
    }
    if !out.contains(&Column::Email) {
        let found: Vec<String> = header
            .iter()
            .filter_map(|c| std::str::from_utf8(c).ok())
            .map(|c| c.trim().to_string())
            .collect();
        return Err(bad(if found.iter().all(String::is_empty) {
            "the file is empty; its first line must name the columns, one of them email".into()
        } else {
            format!(
                "no email column (the first line names: {})",
                found.join(", ")
            )
        }));
    }
    Ok(out)
}

/// A cell as text: trimmed, empty as none, at most `max` characters, no control characters
/// (a line break inside quotes is one).
fn cell(what: &str, raw: &[u8], max: usize) -> Result<Option<String>, String> {
    let text = std::str::from_utf8(raw).map_err(|_| format!("{what}: not UTF-8 text"))?;
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > max {
        return Err(format!("{what}: more than {max} characters"));
    }
    if text.chars().any(char::is_control) {
        return Err(format!("{what}: holds a control character or a line break"));
    }
    Ok(Some(text.to_string()))
}

/// Tags separated by `;` or `|`, trimmed, each once.
fn tags(raw: Option<String>) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for t in raw.iter().flat_map(|r| r.split([';', '|'])) {
        let t = t.trim();
        if t.is_empty() || out.iter().any(|o| o == t) {
            continue;
        }
        if t.chars().count() > 100 {
            return Err("tags: a tag longer than 100 characters".into());
        }
        out.push(t.to_string());
    }
    if out.len() > MAX_TAGS {
        return Err(format!("tags: more than {MAX_TAGS}"));
    }
    Ok(out)
}

/// One row as a member, or the address it gave and why it is refused.
fn member(columns: &[Column], record: &csv_async::ByteRecord) -> Result<Member, (String, String)> {
    let raw_email = columns
        .iter()
        .position(|c| *c == Column::Email)
        .and_then(|i| record.get(i))
        .map(|e| String::from_utf8_lossy(e).trim().to_string())
        .unwrap_or_default();
    let refuse = |reason: String| (raw_email.clone(), reason);
    if record.len() > columns.len()
        && record
            .iter()
            .skip(columns.len())
            .any(|f| !f.trim_ascii().is_empty())
    {
        return Err(refuse(format!(
            "{} cells, but the header names {} columns",
            record.len(),
            columns.len()
        )));
    }
    let email = parse_email(&raw_email).map_err(|why| refuse(format!("email: {why}")))?;
    let mut m = Member {
        email,
        name: None,
        first_name: None,
        last_name: None,
        tags: Vec::new(),
        status: "active".into(),
        attributes: Map::new(),
    };
    for (column, raw) in columns.iter().zip(record.iter()) {
        match column {
            Column::Email | Column::Ignored => {}
            Column::Name => m.name = cell("name", raw, MAX_TEXT).map_err(refuse)?,
            Column::FirstName => {
                m.first_name = cell("first_name", raw, MAX_TEXT).map_err(refuse)?;
            }
            Column::LastName => m.last_name = cell("last_name", raw, MAX_TEXT).map_err(refuse)?,
            Column::Tags => {
                m.tags = tags(cell("tags", raw, MAX_ATTRIBUTE).map_err(refuse)?).map_err(refuse)?;
            }
            Column::Status => {
                if let Some(s) = cell("status", raw, MAX_TEXT).map_err(refuse)? {
                    let s = s.to_lowercase();
                    if !STATUSES.contains(&s.as_str()) {
                        return Err(refuse(format!(
                            "status: {s:?} is not one of {}",
                            STATUSES.join(", ")
                        )));
                    }
                    m.status = s;
                }
            }
            Column::Attribute(key) => {
                if let Some(v) = cell(key, raw, MAX_ATTRIBUTE).map_err(refuse)? {
                    m.attributes.insert(key.clone(), Value::String(v));
                }
            }
        }
    }
    Ok(m)
}

/// Counts the bytes read and stops a record that grows past [`MAX_RECORD_BYTES`], so a
/// line without an end (an unclosed quote) cannot make the import hold the whole body.
#[derive(Debug)]
struct Guarded<R> {
    inner: R,
    read: u64,
    /// Where the last complete record ended.
    mark: u64,
}

impl<R> Guarded<R> {
    fn overlong(&self) -> bool {
        self.read.saturating_sub(self.mark) > MAX_RECORD_BYTES
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Guarded<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.overlong() {
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "record too long",
            )));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before) as u64;
        self.read += n;
        polled
    }
}

/// The rows of one chunk, each address once (a repeat replaces the earlier row's values).
#[derive(Debug, Default)]
struct Chunk {
    /// Addresses first seen in this file.
    fresh: Vec<Member>,
    /// Addresses an earlier chunk of the file gave already.
    again: Vec<Member>,
    /// Where each address of the chunk is: (in `again`, index).
    at: HashMap<String, (bool, usize)>,
}

impl Chunk {
    fn len(&self) -> usize {
        self.fresh.len() + self.again.len()
    }
}

/// Imports a CSV into an audience, reading `reader` a chunk of [`CHUNK_ROWS`] rows at a time
/// (each chunk written in its own transactions: a body cut short keeps the whole chunks
/// written before the cut, not the rows of the chunk it cut; importing it again is harmless). The first line names the columns and must have
/// `email` (or `e-mail`, `email address`). Rows with a malformed address or cell are refused with their line; an address
/// repeated in the file counts once, its later row winning. `progress`, when given, counts
/// the rows read as they are read.
pub async fn import_csv<R>(
    store: &dyn Store,
    audience_id: &str,
    reader: R,
    progress: Option<&AtomicU64>,
) -> AppResult<ImportReport>
where
    R: AsyncRead + Unpin + Send,
{
    store
        .audience(audience_id)
        .await?
        .found("audience", audience_id)?;
    let mut csv = csv_async::AsyncReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .create_reader(Guarded {
            inner: reader,
            read: 0,
            mark: 0,
        });
    // `line`: where the row being read starts.
    let unreadable = |csv: &csv_async::AsyncReader<Guarded<R>>, line: u64, e: csv_async::Error| {
        if csv.get_ref().overlong() {
            AppError::invalid(
                "body",
                format!(
                    "body: line {line}: a row longer than {MAX_RECORD_BYTES} bytes (an unclosed quote?); nothing after it was read"
                ),
            )
        } else {
            AppError::invalid("body", format!("body: reading stopped at line {line}: {e}"))
        }
    };
    let header = match csv.byte_headers().await {
        Ok(h) => h.clone(),
        Err(e) => return Err(unreadable(&csv, 1, e)),
    };
    let columns = columns(&header)?;
    let mut next_line = csv.position().line();
    let mark = csv.position().byte();
    csv.get_mut().mark = mark;

    let now = now_ms();
    let mut report = ImportReport {
        audience_id: audience_id.to_string(),
        ..ImportReport::default()
    };
    // Addresses seen so far, as 64-bit hashes: 8 bytes an address, not the address.
    let hasher = std::collections::hash_map::RandomState::new();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut chunk = Chunk::default();
    let mut record = csv_async::ByteRecord::new();
    loop {
        let more = match csv.read_byte_record(&mut record).await {
            Ok(more) => more,
            // The chunks written before the fault are kept; the rows of this one are not.
            Err(e) => return Err(unreadable(&csv, next_line, e)),
        };
        next_line = csv.position().line();
        let mark = csv.position().byte();
        csv.get_mut().mark = mark;
        if !more {
            break;
        }
        if record.iter().all(|f| f.trim_ascii().is_empty()) {
            continue;
        }
        report.rows += 1;
        if let Some(p) = progress {
            p.store(report.rows, Ordering::Relaxed);
        }
        let line = record.position().map_or(0, csv_async::Position::line);
        match member(&columns, &record) {
            Err((email, reason)) => {
                report.refused += 1;
                if report.refusals.len() < REFUSALS_LISTED {
                    report.refusals.push(Refusal {
                        line,
                        email: email.chars().take(254).collect(),
                        reason,
                    });
                }
            }
            Ok(m) => {
                let first_time = seen.insert(hasher.hash_one(&m.email));
                if !first_time {
                    report.repeated += 1;
                }
                match chunk.at.get(&m.email).copied() {
                    Some((false, i)) => chunk.fresh[i] = m,
                    Some((true, i)) => chunk.again[i] = m,
                    None if first_time => {
                        chunk.at.insert(m.email.clone(), (false, chunk.fresh.len()));
                        chunk.fresh.push(m);
                    }
                    None => {
                        chunk.at.insert(m.email.clone(), (true, chunk.again.len()));
                        chunk.again.push(m);
                    }
                }
                if chunk.len() >= CHUNK_ROWS {
                    write(store, audience_id, &mut chunk, now, &mut report).await?;
                }
            }
        }
    }
    write(store, audience_id, &mut chunk, now, &mut report).await?;
    report.members = store.member_count(audience_id).await?;
    Ok(report)
}

/// Writes a chunk and empties it: addresses new to the file are counted, repeats are not.
async fn write(
    store: &dyn Store,
    audience_id: &str,
    chunk: &mut Chunk,
    now: i64,
    report: &mut ImportReport,
) -> AppResult<()> {
    let Chunk { fresh, again, at } = std::mem::take(chunk);
    drop(at);
    let (inserted, updated) = store.upsert_members(audience_id, &fresh, now).await?;
    report.imported += inserted;
    report.updated += updated;
    store.upsert_members(audience_id, &again, now).await?;
    Ok(())
}

/// A member's subscriber id: stable for the audience and address, safe in a Message-ID.
pub fn member_id(audience_id: &str, email: &str) -> String {
    let hash = halcytone_store::sha256_hex(&format!("{audience_id}\n{email}"));
    format!("mbr_{}", &hash[..24])
}

/// A member as a subscriber object of the CRM's shape (`id`, `email`, `name`, `first_name`,
/// `last_name`, `status`, `tags`, `created_at`, `audience_id`, and the attributes), which
/// `halcytone_audience::Subscriber::from_json` and the email publishers read.
pub fn subscriber_json(audience_id: &str, row: &MemberRow) -> Value {
    let m = &row.member;
    let mut o: Map<String, Value> = m
        .attributes
        .iter()
        .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let joined = [m.first_name.as_deref(), m.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let name = m
        .name
        .clone()
        .or_else(|| (!joined.is_empty()).then_some(joined));
    let text = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
    o.insert("id".into(), member_id(audience_id, &m.email).into());
    o.insert("email".into(), m.email.clone().into());
    o.insert("name".into(), text(&name));
    o.insert("first_name".into(), text(&m.first_name));
    o.insert("last_name".into(), text(&m.last_name));
    o.insert("status".into(), m.status.clone().into());
    o.insert("tags".into(), m.tags.clone().into());
    o.insert("created_at".into(), iso(row.created_ms).into());
    o.insert("audience_id".into(), audience_id.into());
    Value::Object(o)
}

/// The active members of an audience as subscriber objects ([`subscriber_json`]), a page at a
/// time in address order, for a send to walk without holding the whole list.
#[derive(Debug)]
pub struct ActiveSubscribers {
    store: Arc<dyn Store>,
    audience_id: String,
    page_size: i64,
    after: Option<String>,
    done: bool,
}

impl ActiveSubscribers {
    /// Pages of up to `page_size` (1 to 10,000) rows of `audience_id`; an unknown audience is
    /// not found.
    pub async fn open(
        store: Arc<dyn Store>,
        audience_id: &str,
        page_size: i64,
    ) -> AppResult<ActiveSubscribers> {
        store
            .audience(audience_id)
            .await?
            .found("audience", audience_id)?;
        Ok(ActiveSubscribers {
            store,
            audience_id: audience_id.to_string(),
            page_size: page_size.clamp(1, 10_000),
            after: None,
            done: false,
        })
    }

    /// The next non-empty page of active subscribers, or `None` at the end.
    pub async fn next_page(&mut self) -> AppResult<Option<Vec<Value>>> {
        while !self.done {
            let rows = self
                .store
                .members_page(&self.audience_id, self.after.as_deref(), self.page_size)
                .await?;
            self.done = (rows.len() as i64) < self.page_size;
            self.after = rows.last().map(|r| r.member.email.clone());
            let page: Vec<Value> = rows
                .iter()
                .filter(|r| r.member.status == "active")
                .map(|r| subscriber_json(&self.audience_id, r))
                .collect();
            if !page.is_empty() {
                return Ok(Some(page));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_and_kept_lower_cased() {
        assert_eq!(
            parse_email("  Ann@Example.COM "),
            Ok("ann@example.com".into())
        );
        for (bad, why) in [
            ("", "no address"),
            ("ann.example.com", "has no @"),
            ("ann@example", "the domain has no dot"),
            ("@example.com", "nothing before the @"),
            ("a@b@example.com", "has more than one @"),
            (
                "ann smith@example.com",
                "contains a space or a control character",
            ),
            ("ann@example..com", "the domain is malformed"),
            ("ann@.example.com", "the domain is malformed"),
            (
                "<ann@example.com>",
                "contains a character an address cannot hold",
            ),
        ] {
            assert_eq!(parse_email(bad), Err(why), "{bad}");
        }
    }

    fn record(cells: &[&str]) -> csv_async::ByteRecord {
        csv_async::ByteRecord::from(cells.to_vec())
    }

    #[test]
    fn the_header_needs_an_email_column_and_names_the_rest() {
        let c = columns(&record(&[
            "\u{feff}E-Mail",
            "First Name",
            "TAGS",
            "",
            "plan",
        ]))
        .unwrap_or_default();
        assert_eq!(
            c,
            [
                Column::Email,
                Column::FirstName,
                Column::Tags,
                Column::Ignored,
                Column::Attribute("plan".into())
            ]
        );
        for (header, needle) in [
            (vec!["name", "plan"], "no email column"),
            (vec![""], "the file is empty"),
            (vec!["email", "Email"], "appears twice"),
            (vec!["email", "id"], "would overwrite"),
        ] {
            match columns(&record(&header)) {
                Err(AppError::Invalid { field, message }) => {
                    assert_eq!(field, "header");
                    assert!(message.contains(needle), "{message}");
                }
                other => unreachable!("{header:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn rows_become_members_or_say_why_not() {
        let c = columns(&record(&["email", "name", "tags", "status", "plan"])).unwrap_or_default();
        let m = member(&c, &record(&[" Ann@X.io ", "Ann", "a; b|a", "", "pro"]));
        let m = m.unwrap_or_else(|e| unreachable!("{e:?}"));
        assert_eq!(m.email, "ann@x.io");
        assert_eq!(m.tags, ["a", "b"]);
        assert_eq!(m.status, "active");
        assert_eq!(m.attributes["plan"], "pro");
        let short = member(&c, &record(&["bob@x.io"])).unwrap_or_else(|e| unreachable!("{e:?}"));
        assert_eq!(short.name, None, "missing cells are empty");
        for (row, reason) in [
            (vec!["bob", "", "", "", ""], "email: has no @"),
            (vec!["bob@x.io", "", "", "gone", ""], "status: \"gone\""),
            (vec!["bob@x.io", "", "", "", "", "extra"], "6 cells"),
            (
                vec!["bob@x.io", "a\nb", "", "", ""],
                "name: holds a control",
            ),
        ] {
            match member(&c, &record(&row)) {
                Err((_, why)) => assert!(why.contains(reason), "{why}"),
                Ok(m) => unreachable!("{row:?}: {m:?}"),
            }
        }
    }

    #[test]
    fn members_read_as_subscribers_the_publisher_understands() {
        let row = MemberRow {
            member: Member {
                email: "ann@x.io".into(),
                name: None,
                first_name: Some("Ann".into()),
                last_name: Some("Lee".into()),
                tags: vec!["beta".into()],
                status: "active".into(),
                attributes: [("plan".to_string(), Value::from("pro"))]
                    .into_iter()
                    .collect(),
            },
            created_ms: 0,
            updated_ms: 0,
        };
        let v = subscriber_json("aud_1", &row);
        let s = halcytone_audience::Subscriber::from_json(&v).unwrap_or_default();
        assert_eq!(s.email, "ann@x.io");
        assert_eq!(s.first_name.as_deref(), Some("Ann"));
        assert_eq!(s.tags, ["beta"]);
        assert_eq!(s.attributes["plan"], "pro");
        assert_eq!(v["name"], "Ann Lee");
        assert_eq!(v["id"], member_id("aud_1", "ann@x.io"));
        assert!(s.id.starts_with("mbr_"));
    }
}
