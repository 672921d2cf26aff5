//! Generation for the API: the living document (configured, or sent inline), parsed and
//! composed into every requested channel, validated, and shaped as the API answers it.

use crate::core::Core;
use crate::error::AppError;
use chrono::{DateTime, TimeZone, Utc};
use halcytone_content::{
    Bundle, Channel, ComposeOptions, EmailTemplate, LivingDocument, Platform, Report, SourceFormat,
    Stop, Tone, compose, parse, session, validate,
};
use serde_json::{Value, json};
use std::sync::Arc;

/// A living document's text and where it came from.
#[derive(Debug, Clone)]
pub struct DocumentText {
    pub label: String,
    pub text: String,
    pub format: Option<SourceFormat>,
}

/// What to compose.
#[derive(Debug, Clone)]
pub struct Request {
    pub channels: Vec<Channel>,
    pub platforms: Vec<Platform>,
    pub tone: Option<Tone>,
    pub template: Option<EmailTemplate>,
    pub seo: bool,
    pub validate: bool,
    /// Per-reader and per-segment words in the newsletter.
    pub personalization: Option<halcytone_content::Personalization>,
}

impl Default for Request {
    fn default() -> Self {
        Request {
            channels: Channel::ALL.to_vec(),
            platforms: Platform::ALL.to_vec(),
            tone: None,
            template: None,
            seo: true,
            validate: true,
            personalization: None,
        }
    }
}

/// An id a caller may give (a segment, a subscriber): trimmed, `None` when absent or blank.
pub fn given_id(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|s| !s.is_empty())
}

/// The tone a caller named, if any; an unknown one is an error naming `tone`.
pub fn parse_tone(raw: Option<&str>) -> crate::error::AppResult<Option<Tone>> {
    raw.map(|t| {
        t.parse::<Tone>()
            .map_err(|e| AppError::invalid("tone", format!("tone: {e}")))
    })
    .transpose()
}

/// The newsletter template a caller named (`template_style`), if any.
pub fn parse_template(raw: Option<&str>) -> crate::error::AppResult<Option<EmailTemplate>> {
    raw.map(|t| {
        t.parse::<EmailTemplate>()
            .map_err(|e| AppError::invalid("template_style", format!("template_style: {e}")))
    })
    .transpose()
}

/// Today, 00:00 UTC: the reference time of generation, so a day's previews are identical.
pub fn today() -> DateTime<Utc> {
    let now = Utc::now();
    Utc.from_utc_datetime(&now.date_naive().and_time(chrono::NaiveTime::MIN))
}

/// A `document_format` as a request gives it (an error names the field).
pub fn parse_format(format: Option<&str>) -> Result<Option<SourceFormat>, AppError> {
    format
        .map(str::parse::<SourceFormat>)
        .transpose()
        .map_err(|e| AppError::invalid("document_format", e.to_string()))
}

/// An inline document from a request body: text, or a JSON document given as an object.
pub fn inline(value: &Value, format: Option<&str>) -> Result<DocumentText, AppError> {
    let format = parse_format(format)?;
    let (text, format) = match value {
        Value::String(s) => (s.clone(), format),
        Value::Object(_) | Value::Array(_) => (value.to_string(), Some(SourceFormat::Json)),
        _ => {
            return Err(AppError::invalid(
                "document",
                "document: expected the living document as text, or a JSON object",
            ));
        }
    };
    if text.trim().is_empty() {
        return Err(AppError::invalid("document", "document: is empty"));
    }
    Ok(DocumentText {
        label: "inline".into(),
        text,
        format,
    })
}

/// Parses a document (a Halcytone Live session JSON included); problems name the line.
fn parse_document(doc: &DocumentText, now: DateTime<Utc>) -> Result<LivingDocument, AppError> {
    if doc.format.is_none_or(|f| f == SourceFormat::Json) && session::looks_like_session(&doc.text)
    {
        let s = session::parse(&doc.text, now)
            .map_err(|e| AppError::invalid("document", format!("document ({}): {e}", doc.label)))?;
        return Ok(session::to_document(&s));
    }
    parse(&doc.text, doc.format).map_err(|e| {
        let at = e.line().map(|l| format!(" line {l}")).unwrap_or_default();
        AppError::invalid("document", format!("document ({}){at}: {e}", doc.label))
    })
}

/// A document read and composed: what [`produce`] returns.
#[derive(Debug)]
pub struct Produced {
    pub document: LivingDocument,
    pub bundle: Bundle,
    pub report: Option<Report>,
}

/// Parses and composes (and validates when asked) off the request executor, within the time
/// budget (`GENERATION_TIMEOUT_SECONDS`). At most `GENERATION_CONCURRENCY` generations run at
/// once on blocking threads, so /health and /ready keep answering while they do; waiting for
/// a turn counts against the budget. Past the budget the work is told to stop and the
/// request gets 503 with `Retry-After`.
pub async fn produce(
    state: &Core,
    doc: &DocumentText,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Produced, AppError> {
    let label = doc.label.clone();
    let doc = doc.clone();
    let req = req.clone();
    let worker_state = state.clone();
    let started = std::time::Instant::now();
    let produced = off_executor(state, move |stop| {
        let document = parse_document(&doc, now)?;
        if stop.is_stopped() {
            return Err(AppError::Internal("generation stopped".into()));
        }
        let (bundle, report) = generate_until(&worker_state, &document, &req, now, stop)?;
        Ok(Produced {
            document,
            bundle,
            report,
        })
    })
    .await;
    // One line per generation (the runbooks grep for `content_generation`).
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let dry_run = state.publishing.settings.dry_run;
    match &produced {
        Ok(p) => tracing::info!(
            event = "content_generation",
            document = %label,
            items = p.bundle.document.items,
            social_posts = p.bundle.social.len(),
            dry_run,
            ms,
            "content generated"
        ),
        Err(e) => tracing::warn!(
            event = "content_generation",
            document = %label,
            dry_run,
            ms,
            error = %e,
            "content generation failed"
        ),
    }
    produced
}

/// Parses a document off the executor, within the time budget.
pub async fn read_document(
    state: &Core,
    doc: &DocumentText,
    now: DateTime<Utc>,
) -> Result<LivingDocument, AppError> {
    let doc = doc.clone();
    off_executor(state, move |_| parse_document(&doc, now)).await
}

/// Composes an already parsed document off the executor, within the time budget. The
/// document is shared, so composing one document many ways (a batch) copies it never.
pub async fn compose_parsed(
    state: &Core,
    doc: Arc<LivingDocument>,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<(Bundle, Option<Report>), AppError> {
    let req = req.clone();
    let worker_state = state.clone();
    off_executor(state, move |stop| {
        generate_until(&worker_state, &doc, &req, now, stop)
    })
    .await
}

/// Runs CPU-heavy `work` on a blocking thread, one of `GENERATION_CONCURRENCY`, within
/// `GENERATION_TIMEOUT_SECONDS`. On time-out the work's [`Stop`] flag is set (it stops at
/// its next check and its result is dropped) and 503 is answered.
async fn off_executor<T: Send + 'static>(
    state: &Core,
    work: impl FnOnce(&Stop) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let budget = state.config.generation_timeout;
    let deadline = tokio::time::Instant::now() + budget;
    let timed_out = || AppError::GenerationTimeout {
        budget_ms: budget.as_millis(),
        retry_after: budget.as_secs().clamp(1, 30),
    };
    let permit =
        match tokio::time::timeout_at(deadline, state.generation_slots.clone().acquire_owned())
            .await
        {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(AppError::Unavailable("the service is shutting down".into())),
            Err(_) => {
                state.app_metrics.generation_timed_out();
                return Err(timed_out());
            }
        };
    let stop = Stop::new();
    let flag = stop.clone();
    let task = tokio::task::spawn_blocking(move || {
        // The slot stays taken until the work has really ended, stopped or not.
        let _permit = permit;
        work(&flag)
    });
    match tokio::time::timeout_at(deadline, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(AppError::Internal(format!("generation failed: {e}"))),
        Err(_) => {
            stop.stop();
            state.app_metrics.generation_timed_out();
            tracing::warn!(
                budget_ms = budget.as_millis() as u64,
                "content generation exceeded its time budget and was stopped"
            );
            Err(timed_out())
        }
    }
}

/// Composes (and validates when asked) a parsed document on the calling thread, until `stop`
/// is set; [`produce`] and [`compose_parsed`] run it off the executor.
fn generate_until(
    state: &Core,
    doc: &LivingDocument,
    req: &Request,
    now: DateTime<Utc>,
    stop: &Stop,
) -> Result<(Bundle, Option<Report>), AppError> {
    let mut opts = ComposeOptions::new(now);
    opts.stop = stop.clone();
    opts.channels = req.channels.clone();
    opts.platforms = req.platforms.clone();
    opts.tone = req.tone;
    opts.template = req.template;
    opts.brand = (*state.brand).clone();
    opts.personalization = req.personalization.clone();
    let started = std::time::Instant::now();
    let bundle = compose(doc, &opts, &state.templates).map_err(|e| {
        state.app_metrics.generation_failed();
        match e {
            halcytone_content::ComposeError::Template(t) => AppError::Internal(t.to_string()),
            halcytone_content::ComposeError::Stopped => {
                AppError::Internal("generation stopped".into())
            }
            other => AppError::invalid("document", other.to_string()),
        }
    })?;
    let names: Vec<&str> = req.channels.iter().map(|c| c.as_str()).collect();
    state
        .app_metrics
        .generated(&names, started.elapsed().as_secs_f64());
    if stop.is_stopped() {
        return Err(AppError::Internal("generation stopped".into()));
    }
    let report = req.validate.then(|| validate(doc, Some(&bundle), now));
    Ok((bundle, report))
}

/// The channels' content as the API returns it: `newsletter`, `web_update` and
/// `social_posts`, each with the fields of the earlier API plus ours.
pub fn content_json(bundle: &Bundle, seo: bool) -> Value {
    let newsletter = bundle.newsletter.as_ref().map(|n| {
        let mut v = json!(n);
        v["html_content"] = json!(n.html);
        v["text_content"] = json!(n.text);
        v
    });
    let web = bundle.web.as_ref().map(|w| {
        let mut v = json!(w);
        v["content"] = json!(w.markdown);
        v["reading_time"] = json!(w.reading_time_minutes);
        if !seo && let Some(o) = v.as_object_mut() {
            o.remove("seo");
            o.remove("json_ld");
        }
        v
    });
    let social: Vec<Value> = bundle
        .social
        .iter()
        .map(|p| {
            let mut v = json!(p);
            v["content"] = json!(p.posts.first().cloned().unwrap_or_default());
            v["fits_limit"] = json!(p.lengths.iter().all(|l| *l <= p.limit));
            v["media_urls"] = json!([]);
            v
        })
        .collect();
    json!({
        "newsletter": newsletter,
        "web_update": web,
        "social_posts": social,
    })
}

/// The document-and-options key of a generation (cache key, content id).
/// A short hash of a document's text (cache tags name documents by it).
pub fn document_hash(doc: &DocumentText) -> String {
    let mut h = halcytone_store::sha256_hex(&doc.text);
    h.truncate(16);
    h
}

pub fn key(doc: &DocumentText, req: &Request, extra: &str) -> String {
    let opts = format!(
        "{:?}|{:?}|{:?}|{:?}|{}|{}|{}|{:?}",
        req.channels,
        req.platforms,
        req.tone,
        req.template,
        req.seo,
        req.validate,
        extra,
        doc.format
    );
    let mut text = String::with_capacity(doc.text.len() + opts.len() + 1);
    text.push_str(&doc.text);
    text.push('\u{0}');
    text.push_str(&opts);
    halcytone_store::sha256_hex(&text)
}
