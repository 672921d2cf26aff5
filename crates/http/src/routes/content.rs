//! Content routes: generation (v1 and v2; a preview needs no key, publishing needs `write`
//! and runs as a job), the preview, validation, social previews, and the read-only
//! catalogues of templates, content types and validation rules.

use super::{Entry, Param, READ, original_shape, params, route};
use crate::auth::{Access, Caller, require};
use crate::body::{JsonBody, RawBody};
use crate::cache;
use crate::error::{ApiError, ApiResult};
use crate::generation::{self, DocumentText, Request};
use crate::http::query::QueryArgs;
use crate::publish;
use crate::queue;
use crate::state::AppState;
use axum::Extension;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{SecondsFormat, Utc};
use halcytone_content::platform::PLATFORMS;
use halcytone_content::{Channel, EmailTemplate, Platform, Tone};
use halcytone_store::Scope;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Vec<Entry> {
    let gen_query = [
        Param::one_of("template_style", params::templates, "newsletter template"),
        Param::many("social_platforms", params::platforms, "default all"),
        Param::flag("seo_optimize", "default true"),
        Param::flag("validate_content", "default true"),
    ];
    vec![
        route("post", "/api/v1/generate-content", Access::PreviewOrWrite, "content", "Generate every channel; with preview_only nothing is published (no key needed), otherwise a publish job runs (write scope)", post(generate_v1))
            .carries_document()
            .accepted_while_running()
            .body::<GenerateBody>("{send_email, publish_web, generate_social, tone, preview_only, include_preview, document, document_format}"),
        route("post", "/api/v2/generate-content", Access::PreviewOrWrite, "content", "Generate with templates, SEO and chosen networks; preview_only needs no key, publishing needs write and runs as a job", post(generate_v2))
            .carries_document()
            .query(gen_query)
            .accepted_while_running()
            .body_with("{send_email, publish_web, generate_social, preview_only, include_preview, tone, template_style, social_platforms, seo_optimize, validate_content, document, document_format}, or the earlier API's {content: {type, title, content, …}, send_email, publish_web, generate_social, tone, preview_only, include_preview, override_validation}", generate_v2_bodies),
        route("get", "/api/v1/preview", READ, "content", "Preview of every channel from the configured living document", get(preview))
            .query([Param::one_of("tone", params::tones, "tone of voice"), Param::one_of("template_style", params::templates, "newsletter template")]),
        route("get", "/api/v1/status", READ, "content", "What this service is configured to do", get(status)),
        route("post", "/api/v2/validate-content", READ, "content", "Validate the configured living document, or one sent inline", post(validate_content))
            .carries_document()
            .body_with("{document, document_format} (both optional), or the earlier API's {content: {type, title, content, …}, validate_before_publish, override_validation}", validate_bodies),
        route("post", "/api/v2/content/validate", READ, "content", "Validate a living document sent as content (the dashboard client's shape); strict counts warnings as failures", post(validate_client))
            .carries_document()
            .body::<ClientValidateBody>("{content, content_type?, strict?}"),
        route("get", "/api/v2/templates", Access::Public, "catalogue", "Newsletter templates, tones and social networks with their limits", get(templates)),
        route("get", "/api/v2/content-types", Access::Public, "catalogue", "Content types, channels, templates, networks and priorities", get(content_types)),
        route("get", "/api/v2/validation-rules", Access::Public, "catalogue", "The limits validation applies", get(validation_rules)),
        route("get", "/api/v2/social-preview/{platform}", READ, "content", "The post generated for one network, with its length and whether it fits", get(social_preview))
            .query([Param::one_of("tone", params::tones, "tone of voice")])
            .path_param(Param::one_of("platform", params::platforms, "the network"))
            .errors(&[(422, "Unknown network")]),
    ]
}

/// Ours or the earlier API's shape (a `content` object): either is accepted.
fn generate_v2_bodies(c: &mut super::Components) -> Value {
    json!({ "anyOf": [
        super::schema_of::<GenerateBody>(c),
        super::schema_of::<original_shape::OriginalGenerateBody>(c),
    ]})
}

fn validate_bodies(c: &mut super::Components) -> Value {
    json!({ "anyOf": [
        super::schema_of::<ValidateBody>(c),
        super::schema_of::<original_shape::OriginalValidateBody>(c),
    ]})
}

/// The body of both generate routes (v1 ignores the v2-only fields' absence).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub(super) struct GenerateBody {
    send_email: Option<bool>,
    publish_web: Option<bool>,
    generate_social: Option<bool>,
    pub(super) preview_only: bool,
    include_preview: Option<bool>,
    #[schema(schema_with = halcytone_app::schema::tone)]
    tone: Option<String>,
    #[schema(schema_with = halcytone_app::schema::template)]
    template_style: Option<String>,
    #[schema(schema_with = halcytone_app::schema::platforms)]
    social_platforms: Option<Vec<String>>,
    seo_optimize: Option<bool>,
    validate_content: Option<bool>,
    /// The living document itself (text, or a JSON document); default: the configured one.
    document: Option<Value>,
    #[schema(schema_with = halcytone_app::schema::document_format)]
    document_format: Option<String>,
    /// A source to fetch the document from (`gdocs:…`, `notion:…`, `url:…`, `file:…`).
    document_id: Option<String>,
    /// Publish even when validation reports errors.
    force: bool,
    /// Publish unapproved content (admin keys only; audited) when APPROVAL_REQUIRED is on.
    force_publish: bool,
    // Accepted from the earlier API; they change nothing here.
    invalidate_cache: Option<bool>,
    cache_targets: Option<Vec<String>>,
    tone_combination: Option<String>,
    per_channel_tones: Option<Value>,
    force_refresh: Option<bool>,
}

pub use crate::generation::{parse_template, parse_tone};

fn parse_platforms(names: &[String]) -> ApiResult<Vec<Platform>> {
    let mut out = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let p = n.parse::<Platform>().map_err(|e| {
            ApiError::invalid(
                format!("social_platforms[{i}]"),
                format!("social_platforms[{i}]: {e}"),
            )
        })?;
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

pub(super) struct Plan {
    req: Request,
    doc: DocumentText,
    preview_only: bool,
    include_preview: bool,
    force: bool,
    force_publish: bool,
    template_name: &'static str,
}

pub(super) async fn plan(
    state: &AppState,
    body: GenerateBody,
    query: &QueryArgs,
    v2: bool,
) -> ApiResult<Plan> {
    let mut req = Request::default();
    let mut channels = Vec::new();
    if body.send_email.unwrap_or(true) {
        channels.push(Channel::Email);
    }
    if body.publish_web.unwrap_or(true) {
        channels.push(Channel::Web);
    }
    if body.generate_social.unwrap_or(true) {
        channels.push(Channel::Social);
    }
    if channels.is_empty() {
        return Err(ApiError::invalid(
            "send_email",
            "send_email, publish_web and generate_social are all false: nothing to generate",
        ));
    }
    req.channels = channels;
    req.tone = parse_tone(body.tone.as_deref())?;
    let template_raw = body
        .template_style
        .clone()
        .or_else(|| query.last("template_style").map(str::to_string));
    req.template = parse_template(template_raw.as_deref())?;
    // Both versions honour the networks named in the body (v2 also reads the query).
    let from_query: Vec<String> = query.all("social_platforms").map(str::to_string).collect();
    let names = body
        .social_platforms
        .clone()
        .or((!from_query.is_empty()).then_some(from_query));
    if let Some(names) = names {
        req.platforms = parse_platforms(&names)?;
        if req.platforms.is_empty() && req.channels.contains(&Channel::Social) {
            return Err(ApiError::invalid(
                "social_platforms",
                "social_platforms: name at least one network",
            ));
        }
    }
    if v2 {
        req.seo = body
            .seo_optimize
            .or(query.boolean("seo_optimize")?)
            .unwrap_or(true);
        req.validate = body
            .validate_content
            .or(query.boolean("validate_content")?)
            .unwrap_or(true);
    }
    let doc = crate::documents::requested(
        body.document.as_ref(),
        body.document_format.as_deref(),
        body.document_id.as_deref(),
        state,
    )
    .await?;
    Ok(Plan {
        template_name: req.template.unwrap_or(EmailTemplate::Modern).as_str(),
        req,
        doc,
        preview_only: body.preview_only,
        include_preview: body.include_preview.unwrap_or(true),
        force: body.force,
        force_publish: body.force_publish,
    })
}

fn json_bytes((cached, hit): (cache::Cached, bool), request: &HeaderMap) -> Response {
    cache::serve::respond_cached(&cached, hit, request)
}

fn now_iso() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Generates the preview answer (from the cache when the same document and options were
/// generated today).
pub(super) async fn preview_answer(
    state: &AppState,
    p: &Plan,
    version: &str,
    fresh: bool,
) -> ApiResult<(cache::Cached, bool)> {
    let as_of = generation::today();
    let key = generation::key(&p.doc, &p.req, &format!("{version}|{}", as_of.timestamp()));
    let cache_key = format!("preview:{version}:{key}");
    if fresh {
        state.cache.note_bypass();
    } else if let Some(hit) = state.cache.get(&cache_key) {
        return Ok((hit, true));
    }
    let generation::Produced { bundle, report, .. } =
        generation::produce(state, &p.doc, &p.req, as_of).await?;
    let mut body = generation::content_json(&bundle, p.req.seo);
    let tone_system = json!({
        "enabled": true,
        "selected_tone": p.req.tone.map(Tone::as_str),
        "per_channel": {
            "email": bundle.newsletter.as_ref().map(|n| n.tone.as_str()),
            "web": bundle.web.as_ref().map(|w| w.tone.as_str()),
            "social": bundle.social.first().map(|s| s.tone.as_str()),
        },
    });
    body["status"] = json!("preview");
    body["content_id"] = json!(format!("cv_{}", &key[..16]));
    body["published_to"] = json!([]);
    body["document"] = json!(bundle.document);
    body["as_of"] = json!(bundle.as_of);
    body["results"] = json!({
        "template_style": p.template_name,
        "seo_enabled": p.req.seo,
        "content_validated": p.req.validate,
        "platforms": p.req.platforms,
        "tone_system": tone_system,
    });
    body["validation"] = json!(report);
    body["errors"] = json!(
        report
            .as_ref()
            .map(|r| r
                .issues
                .iter()
                .filter(|i| i.severity == halcytone_content::Severity::Error)
                .map(|i| i.message.clone())
                .collect::<Vec<_>>())
            .unwrap_or_default()
    );
    body["generated_at"] = json!(now_iso());
    if version == "preview" {
        body["preview_generated_at"] = body["generated_at"].clone();
    }
    let cached = cache::Cached::new(cache::serve::to_bytes(&body)?, "application/json");
    state.cache.put(
        cache_key,
        cached.clone(),
        vec![
            "preview".into(),
            format!("document:{}", generation::document_hash(&p.doc)),
        ],
        None,
    );
    Ok((cached, false))
}

/// `Cache-Control: no-cache` asks for a freshly generated answer.
fn wants_fresh(headers: &HeaderMap) -> bool {
    cache::serve::bypass(headers)
}

async fn generate(
    state: AppState,
    caller: Option<Caller>,
    body: GenerateBody,
    query: QueryArgs,
    v2: bool,
    fresh: bool,
) -> ApiResult<Response> {
    let p = plan(&state, body, &query, v2).await?;
    let version = if v2 { "v2" } else { "v1" };
    if p.preview_only {
        return Ok(json_bytes(
            preview_answer(&state, &p, version, fresh).await?,
            &HeaderMap::new(),
        ));
    }
    require(caller.as_ref(), Scope::Write)?;
    let publish::Published { made, job } = publish::compose_and_publish(
        &state,
        caller.as_ref(),
        p.doc.clone(),
        &p.req,
        p.force,
        p.force_publish,
    )
    .await?;
    let generation::Produced { bundle, report, .. } = made;
    let published_to: Vec<&String> = job
        .channels
        .iter()
        .filter(|c| {
            job.results
                .get(c.as_str())
                .and_then(|r| r.get("status"))
                .and_then(Value::as_str)
                == Some("success")
        })
        .collect();
    let status = queue::outcome_word(&job);
    let mut body = if p.include_preview {
        generation::content_json(&bundle, p.req.seo)
    } else {
        json!({})
    };
    body["status"] = json!(status);
    body["job_id"] = json!(job.id);
    body["job"] = queue::job_json(&job);
    body["content_id"] = json!(format!("cv_{}", &bundle.document.content_hash[..16]));
    body["published_to"] = json!(published_to);
    body["results"] = job.results.clone();
    body["errors"] = json!(job.errors);
    body["validation"] = json!(report);
    body["dry_run"] = json!(state.publishing.settings.dry_run);
    body["generated_at"] = json!(now_iso());
    let code = if job.status.is_terminal() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::ACCEPTED
    };
    Ok((code, Json(body)).into_response())
}

/// The body of a generate request, judged only once the caller may send it: without a key
/// only a preview (`"preview_only": true`) is allowed, so anything else is a 401 before any
/// field is read.
fn generate_body(caller: Option<&Caller>, raw: &[u8]) -> ApiResult<GenerateBody> {
    if caller.is_none() && !crate::body::asks_preview_only(raw) {
        return Err(ApiError::MissingKey);
    }
    crate::body::parse(raw)
}

async fn generate_v1(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
    RawBody(raw): RawBody,
) -> ApiResult<Response> {
    let caller = caller.map(|c| c.0);
    let body = generate_body(caller.as_ref(), &raw)?;
    let fresh = wants_fresh(&headers);
    generate(state, caller, body, QueryArgs::default(), false, fresh).await
}

async fn generate_v2(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    RawBody(raw): RawBody,
) -> ApiResult<Response> {
    let caller = caller.map(|c| c.0);
    let query = QueryArgs::parse(query.as_deref());
    let fresh = wants_fresh(&headers);
    if original_shape::is_original(&raw) {
        return generate_original(state, caller, &raw, query, fresh).await;
    }
    let body = generate_body(caller.as_ref(), &raw)?;
    generate(state, caller, body, query, true, fresh).await
}

/// A generate request in the earlier API's shape: its content object is the document, and
/// the answer carries the earlier `validation_result` beside ours.
async fn generate_original(
    state: AppState,
    caller: Option<Caller>,
    raw: &[u8],
    query: QueryArgs,
    fresh: bool,
) -> ApiResult<Response> {
    if caller.is_none() && !original_shape::asks_preview_only(raw) {
        return Err(ApiError::MissingKey);
    }
    let o = original_shape::generate(raw, Utc::now())?;
    let result = o.read.validation_result();
    let body = GenerateBody {
        send_email: Some(o.send_email),
        publish_web: Some(o.publish_web),
        generate_social: Some(o.generate_social),
        preview_only: o.preview_only,
        include_preview: o.include_preview,
        tone: o.tone,
        template_style: o.read.template,
        document: Some(o.read.document),
        document_format: Some("json".into()),
        force: o.force,
        invalidate_cache: o.invalidate_cache,
        validate_content: o.validate,
        ..GenerateBody::default()
    };
    let response = generate(state, caller, body, query, true, fresh).await?;
    with_field(response, "validation_result", result).await
}

/// Adds one field to a JSON answer, keeping its status and headers.
async fn with_field(response: Response, key: &str, value: Value) -> ApiResult<Response> {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|e| ApiError::Internal(format!("reading the answer: {e}")))?;
    let mut answer: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::Internal(format!("the answer is not JSON: {e}")))?;
    answer[key] = value;
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Ok((parts, Json(answer)).into_response())
}

async fn preview(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let query = QueryArgs::parse(query.as_deref());
    let body = GenerateBody {
        tone: query.last("tone").map(str::to_string),
        template_style: query.last("template_style").map(str::to_string),
        preview_only: true,
        ..GenerateBody::default()
    };
    let p = plan(&state, body, &QueryArgs::default(), true).await?;
    Ok(json_bytes(
        preview_answer(&state, &p, "preview", wants_fresh(&headers)).await?,
        &headers,
    ))
}

async fn status(State(state): State<AppState>) -> Json<Value> {
    let s = &state.publishing.settings;
    let source = match &state.config.document {
        crate::config::DocumentSource::File(p) => {
            json!({ "type": "file", "id": p.display().to_string() })
        }
        crate::config::DocumentSource::Inline { label, .. } => {
            json!({ "type": "bundled", "id": label })
        }
        crate::config::DocumentSource::Remote(r) => {
            json!({ "type": r.kind.as_str(), "id": r.label() })
        }
        crate::config::DocumentSource::None => json!(null),
    };
    Json(json!({
        "service": state.config.service_name,
        "version": state.config.version,
        "environment": state.config.environment,
        "dry_run": s.dry_run,
        "document_source": source,
        "crm_configured": true,
        "crm_url": s.crm_url.as_str(),
        "platform_configured": true,
        "platform_url": s.platform_url.as_str(),
        "ai_enabled": false,
        "social_platforms": Platform::ALL.map(Platform::as_str),
        "channels": ["email", "web", "social"],
        "database": state.store.backend(),
    }))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
struct ValidateBody {
    document: Option<Value>,
    #[schema(schema_with = halcytone_app::schema::document_format)]
    document_format: Option<String>,
    document_id: Option<String>,
    /// Treat warnings as failures.
    strict: bool,
}

/// The dashboard client's validation request: the document as `content`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
struct ClientValidateBody {
    /// The living document: text (Markdown, JSON or freeform), or a JSON document.
    #[schema(required = true)]
    content: Option<Value>,
    /// What the content is (update, blog, announcement, session); echoed in the answer.
    #[schema(schema_with = halcytone_app::schema::content_type)]
    content_type: Option<String>,
    /// Treat warnings as failures.
    strict: bool,
}

async fn validate_client(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<ClientValidateBody>,
) -> ApiResult<Json<Value>> {
    let content_type = body
        .content_type
        .as_deref()
        .map(|c| {
            c.parse::<halcytone_content::ContentType>()
                .map_err(|e| ApiError::invalid("content_type", format!("content_type: {e}")))
        })
        .transpose()?;
    let Some(content) = body.content.filter(|c| !c.is_null()) else {
        return Err(ApiError::invalid(
            "content",
            "content: send the living document to validate",
        ));
    };
    let mut answer = validate(
        &state,
        ValidateBody {
            document: Some(content),
            strict: body.strict,
            ..ValidateBody::default()
        },
    )
    .await?;
    if let Some(c) = content_type {
        answer["content_type"] = json!(c.as_str());
    }
    Ok(Json(answer))
}

async fn validate_content(
    State(state): State<AppState>,
    RawBody(raw): RawBody,
) -> ApiResult<Json<Value>> {
    if !original_shape::is_original(&raw) {
        let body: ValidateBody = crate::body::parse(&raw)?;
        return Ok(Json(validate(&state, body).await?));
    }
    // The earlier shape: the content's own rules first, then the document it stands for.
    let read = original_shape::validate(&raw, Utc::now())?;
    let mut answer = validate(
        &state,
        ValidateBody {
            document: Some(read.document.clone()),
            document_format: Some("json".into()),
            ..ValidateBody::default()
        },
    )
    .await?;
    let joined = |ours: &[String], theirs: &Value| -> Vec<Value> {
        ours.iter()
            .map(|s| json!(s))
            .chain(theirs.as_array().into_iter().flatten().cloned())
            .collect()
    };
    answer["issues"] = json!(joined(&read.issues, &answer["issues"]));
    answer["warnings"] = json!(joined(&read.warnings, &answer["warnings"]));
    answer["content_type"] = json!(read.content_type);
    answer["enhanced_metadata"] = read.metadata;
    Ok(Json(answer))
}

/// Validates the requested document: what validation found, a summary and what to do.
async fn validate(state: &AppState, body: ValidateBody) -> ApiResult<Value> {
    let doc = crate::documents::requested(
        body.document.as_ref(),
        body.document_format.as_deref(),
        body.document_id.as_deref(),
        state,
    )
    .await?;
    let as_of = generation::today();
    let generation::Produced { bundle, report, .. } =
        generation::produce(state, &doc, &Request::default(), as_of).await?;
    let report = report.unwrap_or_default();
    let has = |code: &str| report.issues.iter().any(|i| i.code.contains(code));
    let is_valid = if body.strict {
        report.errors + report.warnings == 0
    } else {
        !report.has_errors()
    };
    let messages = |sev: halcytone_content::Severity| -> Vec<String> {
        report
            .issues
            .iter()
            .filter(|i| i.severity == sev)
            .map(|i| i.message.clone())
            .collect()
    };
    Ok(json!({
        "is_valid": is_valid,
        "document_id": doc.label,
        "content_type": "mixed",
        "issues": messages(halcytone_content::Severity::Error),
        "warnings": messages(halcytone_content::Severity::Warning),
        "report": report,
        "summary": {
            "items": bundle.document.items,
            "sections": bundle.document.sections,
            "title": bundle.document.title,
            "errors": report.errors,
            "warnings": report.warnings,
            "infos": report.infos,
        },
        "recommendations": {
            "add_more_content": bundle.document.items < 3,
            "refresh_stale": has("stale"),
            "fix_duplicates": has("duplicate"),
        },
    }))
}

async fn templates(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    cache::serve::json(
        &state.cache,
        "templates".into(),
        || vec!["static".into(), "templates".into()],
        None,
        cache::serve::bypass(&headers),
        &headers,
        || async { cache::serve::to_bytes(&templates_json()) },
    )
    .await
}

fn templates_json() -> Value {
    let describe = |t: EmailTemplate| match t {
        EmailTemplate::Modern => (
            "Modern Newsletter",
            "Header band, section cards and a call-to-action button",
            "Monthly newsletters, product updates",
        ),
        EmailTemplate::Minimal => (
            "Minimal Design",
            "Clean typography in a single column",
            "Weekly updates, text-heavy content",
        ),
        EmailTemplate::Plain => (
            "Plain",
            "Almost no styling; reads like a personal email",
            "Transactional emails, system notices",
        ),
        EmailTemplate::Breathscape => (
            "Breathscape",
            "Calm palette with a breathing prompt for the Breathscape community",
            "Wellness tips, session recaps",
        ),
    };
    let email: Vec<Value> = EmailTemplate::ALL
        .iter()
        .map(|t| {
            let (name, description, best_for) = describe(*t);
            json!({ "id": t.as_str(), "name": name, "description": description, "best_for": best_for, "formats": ["html", "text"] })
        })
        .collect();
    let social: serde_json::Map<String, Value> = PLATFORMS
        .iter()
        .map(|s| {
            (
                s.platform.as_str().to_string(),
                json!({
                    "name": s.display_name,
                    "character_limit": s.max_length,
                    "length_rule": s.length_rule,
                    "hashtags": s.hashtags,
                    "max_hashtags": s.max_hashtags,
                    "max_media": s.max_media,
                    "links_clickable": s.links_clickable,
                }),
            )
        })
        .collect();
    json!({
        "email_templates": email,
        "web_templates": [{ "id": "post", "name": "Web post", "description": "Markdown and HTML body, table of contents, SEO metadata and JSON-LD" }],
        "social_platforms": social,
        "tones": Tone::ALL.map(Tone::as_str),
        "default_template": EmailTemplate::Modern.as_str(),
    })
}

async fn content_types() -> Json<Value> {
    Json(json!({
        "content_types": {
            "update": { "description": "Weekly product updates and progress reports", "required_fields": ["title", "content"], "optional_fields": ["tags", "excerpt", "featured", "priority"], "channels": ["email", "web", "social"] },
            "blog": { "description": "Educational content and thought leadership", "required_fields": ["title", "content", "category"], "optional_fields": ["tags", "seo_description", "reading_time", "target_keywords"], "channels": ["web", "social", "email"] },
            "announcement": { "description": "Major news, product launches and events", "required_fields": ["title", "content"], "optional_fields": ["urgency", "call_to_action", "expires_at", "media_contact"], "channels": ["email", "web", "social"] },
            "session": { "description": "Halcytone Live session summaries", "required_fields": ["session_id", "title", "session_date", "session_duration"], "optional_fields": ["participant_count", "breathing_techniques", "average_hrv_improvement", "key_achievements"], "channels": ["email", "web", "social"] },
        },
        "channels": ["email", "web", "social"],
        "sync_channels": ["email", "website", "web", "social", "social_twitter", "social_linkedin", "social_facebook", "social_instagram", "twitter", "x", "linkedin", "facebook", "instagram"],
        "templates": EmailTemplate::ALL.map(EmailTemplate::as_str),
        "tones": Tone::ALL.map(Tone::as_str),
        "social_platforms": Platform::ALL.map(Platform::as_str),
        "priority_levels": [1, 2, 3, 4, 5],
    }))
}

async fn validation_rules() -> Json<Value> {
    let limits: serde_json::Map<String, Value> = PLATFORMS
        .iter()
        .map(|s| (s.platform.as_str().to_string(), json!(s.max_length)))
        .collect();
    let hashtags: serde_json::Map<String, Value> = PLATFORMS
        .iter()
        .map(|s| (s.platform.as_str().to_string(), json!(s.max_hashtags)))
        .collect();
    Json(json!({
        "title": { "min_length": 1, "max_length": 200, "required": true },
        "content": { "min_length": 10, "required": true },
        "channels": { "allowed_values": ["email", "web", "social"], "default": ["email", "web", "social"] },
        "priority": { "allowed_values": [1, 2, 3, 4, 5], "default": 3 },
        "social_platforms": { "character_limits": limits, "hashtag_limits": hashtags, "twitter_counting": "weighted: URLs count 23, most emoji and CJK count 2" },
        "newsletter": { "subject_min_length": 10, "subject_max_length": 100, "preview_text_max_length": 150 },
        "seo": { "title_max_length": 60, "description_min_length": 120, "description_max_length": 160, "max_tags": 10 },
        "dates": { "format": "YYYY-MM-DD", "stale_after_days": 30 },
    }))
}

async fn social_preview(
    State(state): State<AppState>,
    Path(platform): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let p = platform
        .parse::<Platform>()
        .map_err(|e| ApiError::invalid("platform", format!("platform: {e}")))?;
    let query = QueryArgs::parse(query.as_deref());
    let req = Request {
        channels: vec![Channel::Social],
        platforms: vec![p],
        tone: parse_tone(query.last("tone"))?,
        validate: false,
        ..Request::default()
    };
    let doc = crate::documents::configured(&state).await?;
    let as_of = generation::today();
    let key = format!(
        "social-preview:{}:{}",
        p.as_str(),
        generation::key(&doc, &req, &as_of.timestamp().to_string())
    );
    let tags = || {
        vec![
            "preview".into(),
            "social".into(),
            format!("document:{}", generation::document_hash(&doc)),
        ]
    };
    cache::serve::json(
        &state.cache,
        key,
        tags,
        None,
        cache::serve::bypass(&headers),
        &headers,
        || async { cache::serve::to_bytes(&social_preview_json(&state, &doc, &req, p).await?) },
    )
    .await
}

async fn social_preview_json(
    state: &AppState,
    doc: &DocumentText,
    req: &Request,
    p: Platform,
) -> ApiResult<Value> {
    let as_of = generation::today();
    let bundle = generation::produce(state, doc, req, as_of).await?.bundle;
    let Some(post) = bundle.social.iter().find(|s| s.platform == p) else {
        return Err(ApiError::NotFound(format!(
            "the living document has nothing to post on {p}"
        )));
    };
    let mut v = json!(post);
    let longest = post.lengths.iter().copied().max().unwrap_or(0);
    v["content"] = json!(post.posts.first().cloned().unwrap_or_default());
    v["preview"] = json!({
        "character_count": post.lengths.first().copied().unwrap_or(0),
        "longest_post": longest,
        "post_count": post.posts.len(),
        "platform_limit": post.limit,
        "fits_limit": post.lengths.iter().all(|l| *l <= post.limit),
        "requires_media": p == Platform::Instagram,
    });
    Ok(v)
}
