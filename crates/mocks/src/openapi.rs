//! The OpenAPI 3.1 description of each mock, served at `/openapi.json`, and Swagger UI at
//! `/docs` (bundled in the binary; no outside requests).

use crate::state::{MockKind, MockState};
use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value, json};

/// The `body` of an operation that takes CSV text rather than a JSON schema.
const CSV_BODY: &str = "SubscribersCsv";

/// One documented operation.
struct Op {
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
    query: &'static [(&'static str, &'static str)],
    ok: u16,
    errors: &'static [(u16, &'static str)],
}

const fn op(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
) -> Op {
    Op {
        method,
        path,
        tag,
        summary,
        body: None,
        query: &[],
        ok: 200,
        errors: &[],
    }
}

const BAD_BODY: &[(u16, &str)] = &[
    (400, "Malformed JSON"),
    (422, "A field is missing or invalid; `detail` names it"),
];

/// The networks' token refresh, refused.
const BAD_REFRESH: &[(u16, &str)] = &[(
    400,
    "Not a refresh_token grant, no client_id, or a refresh token starting with \"revoked\"",
)];

/// A network's post without a usable bearer token.
const NO_TOKEN: (u16, &str) = (
    401,
    "No bearer token, or one starting with \"expired\" or \"revoked\"",
);

fn shared_ops() -> Vec<Op> {
    vec![
        Op {
            query: &[
                ("kind", "email, content or social (comma-separated)"),
                ("q", "text in the subject or title"),
                ("campaign", "campaign id"),
                ("channel", "email, web or social:<network>"),
                ("status", "sent, duplicate (a repeated SMTP Message-ID), …"),
                ("since", "RFC 3339"),
                ("until", "RFC 3339"),
                ("limit", "1–1000, default 50"),
                ("offset", "default 0"),
            ],
            errors: &[(422, "A time is not RFC 3339")],
            ..op(
                "get",
                "/api/v1/captures",
                "captures",
                "Search captured messages, newest first",
            )
        },
        Op {
            errors: &[(404, "No such capture")],
            ..op(
                "get",
                "/api/v1/captures/{id}",
                "captures",
                "One capture with its full request payload",
            )
        },
        op(
            "get",
            "/api/v1/faults",
            "faults",
            "Fault rules in force and the routes that accept them",
        ),
        Op {
            body: Some("FaultRule"),
            errors: &[
                (404, "Unknown route; `detail` lists the valid ones"),
                (422, "Status, probability or latency out of range"),
            ],
            ..op(
                "put",
                "/api/v1/faults",
                "faults",
                "Set the fault rule of one route",
            )
        },
        Op {
            query: &[("route", "remove only this route's rule")],
            errors: &[(404, "No rule on that route")],
            ..op("delete", "/api/v1/faults", "faults", "Remove fault rules")
        },
        Op {
            query: &[("limit", "entries, default 100, at most 1000")],
            ..op(
                "get",
                "/api/v1/journal",
                "journal",
                "The latest requests: method, path, status, latency, correlation id",
            )
        },
        op(
            "get",
            "/metrics",
            "operations",
            "Prometheus metrics (text exposition format)",
        ),
        op(
            "delete",
            "/api/v1/test-data",
            "operations",
            "Clear captures, records, idempotency keys, faults and the journal",
        ),
    ]
}

fn crm_ops() -> Vec<Op> {
    vec![
        op(
            "get",
            "/health",
            "operations",
            "Liveness and capture-store check; smtp_port is the SMTP capture's port when it runs",
        ),
        op(
            "get",
            "/api/v1/smtp/chaos",
            "faults",
            "What the SMTP capture does wrong on purpose: reject_percent, reject_code, slow_data_ms, drop_percent, seed",
        ),
        Op {
            body: Some("SmtpChaos"),
            errors: &[(422, "A value out of range; detail names it")],
            ..op(
                "put",
                "/api/v1/smtp/chaos",
                "faults",
                "Set SMTP chaos: refuse a seeded share of recipients at RCPT TO (reject_code 450-452 or 550-554), answer DATA slowly, drop a seeded share of connections before DATA is answered",
            )
        },
        op(
            "delete",
            "/api/v1/smtp/chaos",
            "faults",
            "No more SMTP chaos",
        ),
        Op {
            body: Some("EmailRequest"),
            errors: &[
                (400, "Malformed JSON, or subject contains \"invalid\""),
                (408, "Subject contains \"timeout\""),
                (409, "Same Idempotency-Key still in progress"),
                (422, "Missing or invalid field"),
                (500, "Subject contains \"error\""),
            ],
            ..op(
                "post",
                "/api/v1/email/send",
                "email",
                "Send one email (captured). Subject \"slow\" delays the answer",
            )
        },
        Op {
            body: Some("BatchRequest"),
            errors: &[
                (400, "Malformed JSON, or subject contains \"invalid\""),
                (408, "Subject contains \"timeout\""),
                (422, "Missing or invalid field"),
                (500, "Subject contains \"error\""),
            ],
            ..op(
                "post",
                "/api/v1/email/batch",
                "email",
                "Send one email to a batch of recipients (captured once)",
            )
        },
        Op {
            errors: &[(404, "Email not found")],
            ..op(
                "get",
                "/api/v1/email/{message_id}/status",
                "email",
                "Delivery events of a sent email (fixed by seed)",
            )
        },
        Op {
            query: &[(
                "recipient",
                "an address the email went to (default: the first)",
            )],
            errors: &[(404, "Email not found, or not a recipient of it")],
            ..op(
                "get",
                "/api/v1/email/{message_id}/render",
                "email",
                "The copy one recipient receives: merge tags filled from their merge_vars",
            )
        },
        Op {
            query: &[
                ("limit", "1–1000"),
                ("offset", ""),
                ("status", "active, unsubscribed or all"),
                ("newsletter_opt_in", "true or false"),
            ],
            ..op(
                "get",
                "/api/v1/users/subscribers",
                "subscribers",
                "The virtual list of 1000 subscribers, then the people imported from CSV",
            )
        },
        Op {
            body: Some(CSV_BODY),
            errors: &[
                (413, "Body over 64 MiB"),
                (415, "Not Content-Type: text/csv"),
                (
                    422,
                    "No email column on the first line, or CSV that cannot be read; `detail` names the line",
                ),
            ],
            ..op(
                "post",
                "/api/v1/subscribers/import",
                "subscribers",
                "Add people from a CSV (first line: email, first_name, last_name, name, tags separated by ; or |, status active|unsubscribed, newsletter_opt_in, other columns into metadata) after the virtual list, as sub_1000, sub_1001, …; an address imported before is updated, a virtual subscriber's refused. Answers {imported, updated, refused, refusals: [{line, email, reason}] (the first 20), total}",
            )
        },
        Op {
            body: Some("ContactRequest"),
            ok: 201,
            errors: BAD_BODY,
            ..op("post", "/api/v1/contacts", "contacts", "Create a contact")
        },
        Op {
            query: &[("limit", ""), ("offset", "")],
            ..op("get", "/api/v1/contacts", "contacts", "Created contacts")
        },
        op(
            "get",
            "/api/v1/contacts/count",
            "contacts",
            "Contact totals",
        ),
        Op {
            body: Some("CampaignRequest"),
            ok: 201,
            errors: BAD_BODY,
            ..op(
                "post",
                "/api/v1/campaigns",
                "campaigns",
                "Create a campaign",
            )
        },
        Op {
            errors: &[(404, "Campaign not found")],
            ..op(
                "get",
                "/api/v1/campaigns/{id}/analytics",
                "campaigns",
                "Sends counted from captures; engagement fixed by seed",
            )
        },
        Op {
            query: &[("days", "1–365, default 7")],
            ..op(
                "get",
                "/api/v1/reports/emails",
                "reports",
                "Captured emails by day and top subjects",
            )
        },
        op("get", "/api/v1/stats", "operations", "Counters of the mock"),
        Op {
            query: &[
                (
                    "q",
                    "words of the subject, text part and HTML part (SQLite FTS5: \"a phrase\", word*, a OR b, a NOT b, subject:/text:/html: word)",
                ),
                ("campaign", "campaign id"),
                ("recipient", "part of a recipient's address"),
                (
                    "since",
                    "RFC 3339, or YYYY-MM-DD (from the start of that day)",
                ),
                ("until", "RFC 3339, or YYYY-MM-DD (to the end of that day)"),
                ("limit", "1–1000, default 50"),
                ("offset", "default 0"),
            ],
            errors: &[(
                422,
                "A search the index cannot read (`detail` starts with \"q:\" and says why), a bad time, limit or offset",
            )],
            ..op(
                "get",
                "/api/v1/messages",
                "captures",
                "Captured emails, newest first, searched as the console's inbox searches them",
            )
        },
        Op {
            errors: &[(404, "Message not found")],
            ..op(
                "get",
                "/api/v1/messages/{id}",
                "captures",
                "One captured email, with the addresses of its console page, .eml download and checks",
            )
        },
        Op {
            errors: &[(404, "Message not found")],
            ..op(
                "get",
                "/api/v1/messages/{id}/checks",
                "captures",
                "The checks of one captured email: html_compatibility (caniemail data), links (resolved only against the allowed hosts), images and alt text, size_bytes against Gmail's clipping, spam score; with the worst finding",
            )
        },
    ]
}

fn platform_ops() -> Vec<Op> {
    vec![
        op(
            "get",
            "/health",
            "operations",
            "Liveness and capture-store check",
        ),
        op(
            "get",
            "/feed.atom",
            "content",
            "The captured web posts as an Atom 1.0 feed, newest first: what the website's feed would list",
        ),
        op(
            "get",
            "/feed.json",
            "content",
            "The captured web posts as a JSON Feed 1.1, newest first",
        ),
        Op {
            errors: &[
                (400, "No text, not JSON, or a reply to an unknown post"),
                NO_TOKEN,
                (403, "More than 280 weighted characters"),
            ],
            ..op(
                "post",
                "/2/tweets",
                "x",
                "X API v2 create post ({text, reply?: {in_reply_to_tweet_id}}); 201 {data: {id, text}}; captured as social",
            )
        },
        Op {
            errors: BAD_REFRESH,
            ..op(
                "post",
                "/2/oauth2/token",
                "x",
                "X OAuth 2.0 token refresh (form); a new access and refresh token every time",
            )
        },
        Op {
            errors: &[
                NO_TOKEN,
                (400, "No X-Restli-Protocol-Version: 2.0.0, or not JSON"),
                (422, "Bad author URN or commentary"),
                (426, "No LinkedIn-Version (YYYYMM)"),
            ],
            ..op(
                "post",
                "/rest/posts",
                "linkedin",
                "LinkedIn Posts API create post; 201 with the URN in x-restli-id; captured as social",
            )
        },
        Op {
            errors: BAD_REFRESH,
            ..op(
                "post",
                "/oauth/v2/accessToken",
                "linkedin",
                "LinkedIn OAuth token refresh (form)",
            )
        },
        Op {
            errors: &[(
                400,
                "Graph API error {error: {message, type, code}}: code 190 for no token or one starting with \"expired\" or \"revoked\"; 100 for a non-numeric Page id, no message or link, or a message over 63,206 characters; 2500 for a bad version",
            )],
            ..op(
                "post",
                "/{version}/{page_id}/feed",
                "facebook",
                "Facebook Graph API Page post (form: message, link; bearer token or access_token); 200 {id: \"<page>_<post>\"}; captured as social",
            )
        },
        Op {
            body: Some("PublishRequest"),
            errors: &[
                (
                    400,
                    "Malformed JSON, or title contains \"error\" or \"invalid\"",
                ),
                (403, "Title contains \"forbidden\""),
                (408, "Title contains \"timeout\""),
                (422, "Missing or invalid field"),
            ],
            ..op(
                "post",
                "/api/v1/content/publish",
                "content",
                "Publish web content (captured). Title \"slow\" delays, \"draft\" stores a draft",
            )
        },
        Op {
            query: &[
                ("content_type", ""),
                ("status", ""),
                ("limit", ""),
                ("offset", ""),
            ],
            ..op("get", "/api/v1/content", "content", "List content")
        },
        Op {
            errors: &[(404, "Content not found")],
            ..op(
                "get",
                "/api/v1/content/{id}",
                "content",
                "One content record",
            )
        },
        Op {
            body: Some("ContentUpdate"),
            errors: &[(404, "Content not found"), (422, "Invalid field")],
            ..op("put", "/api/v1/content/{id}", "content", "Update content")
        },
        Op {
            errors: &[(404, "Content not found")],
            ..op(
                "delete",
                "/api/v1/content/{id}",
                "content",
                "Delete content",
            )
        },
        Op {
            body: Some("SocialRequest"),
            errors: &[
                (400, "Unsupported platform"),
                (403, "A post contains \"banned\""),
                (422, "Missing or invalid field"),
            ],
            ..op(
                "post",
                "/api/v1/social/post",
                "social",
                "Post to a network (captured); `thread` holds later parts",
            )
        },
        Op {
            errors: &[(404, "Social post not found")],
            ..op(
                "get",
                "/api/v1/social/{post_id}",
                "social",
                "One social post",
            )
        },
        op(
            "get",
            "/api/v1/analytics",
            "analytics",
            "Totals of content and social posts",
        ),
        Op {
            errors: &[(404, "Content not found")],
            ..op(
                "get",
                "/api/v1/analytics/content/{id}",
                "analytics",
                "Content analytics (fixed by seed)",
            )
        },
        Op {
            errors: &[(404, "Social post not found")],
            ..op(
                "get",
                "/api/v1/analytics/social/{post_id}",
                "analytics",
                "Social analytics (fixed by seed)",
            )
        },
        Op {
            body: Some("Webhook"),
            errors: &[(404, "Content not found"), (422, "Unknown event_type")],
            ..op(
                "post",
                "/api/v1/webhooks/content",
                "content",
                "content.published, content.updated or content.archived",
            )
        },
        op("get", "/api/v1/stats", "operations", "Counters of the mock"),
    ]
}

fn schemas() -> Value {
    let s = |props: Value, required: &[&str]| json!({ "type": "object", "properties": props, "required": required });
    let string = json!({ "type": "string" });
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    json!({
        "Error": s(json!({ "detail": { "type": "string", "description": "What went wrong, naming the field when there is one" } }), &["detail"]),
        "EmailRequest": s(json!({ "subject": string, "html_content": string, "text_content": string, "recipients": strings, "campaign_id": string, "sender_email": { "type": "string", "format": "email" }, "metadata": { "type": "object" } }), &["subject", "html_content"]),
        "BatchRequest": s(json!({ "subject": string, "html_content": string, "text_content": string, "campaign_id": string, "sender_email": string, "metadata": { "type": "object" },
            "recipients": { "type": "array", "minItems": 1, "maxItems": 1000, "items": s(json!({ "email": string, "name": string, "merge_vars": { "type": "object" } }), &["email"]) } }), &["subject", "html_content", "recipients"]),
        "ContactRequest": s(json!({ "email": string, "first_name": string, "last_name": string, "tags": strings, "metadata": { "type": "object" } }), &["email"]),
        "CampaignRequest": s(json!({ "name": string, "description": string, "tags": strings, "metadata": { "type": "object" } }), &["name"]),
        "PublishRequest": s(json!({ "title": string, "content": string, "content_type": { "type": "string", "default": "web_update" }, "html": string, "excerpt": string, "slug": string, "tags": strings, "metadata": { "type": "object" }, "publish_immediately": { "type": "boolean", "default": true }, "scheduled_at": { "type": "string", "format": "date-time" } }), &["title", "content"]),
        "ContentUpdate": s(json!({ "title": string, "content": string, "tags": strings, "metadata": { "type": "object" } }), &[]),
        "SocialRequest": s(json!({ "platform": { "type": "string", "enum": ["twitter", "linkedin", "facebook", "instagram"] }, "content": string, "thread": strings, "hashtags": strings, "media_urls": strings, "scheduled_at": { "type": "string", "format": "date-time" }, "metadata": { "type": "object" } }), &["platform", "content"]),
        "Webhook": s(json!({ "event_type": { "type": "string", "enum": ["content.published", "content.updated", "content.archived"] }, "content_id": string, "data": { "type": "object" } }), &["event_type", "content_id"]),
        "SmtpChaos": s(json!({ "reject_percent": { "type": "integer", "minimum": 0, "maximum": 100, "default": 0 }, "reject_code": { "type": "integer", "enum": [450, 451, 452, 550, 551, 552, 553, 554], "default": 550 }, "slow_data_ms": { "type": "integer", "minimum": 0, "maximum": 120000, "default": 0 }, "drop_percent": { "type": "integer", "minimum": 0, "maximum": 100, "default": 0 }, "seed": { "type": "integer", "minimum": 0, "default": 0 } }), &[]),
        "FaultRule": s(json!({ "route": { "type": "string", "example": "POST /api/v1/email/send" }, "status": { "type": "integer", "minimum": 400, "maximum": 599, "default": 503 }, "probability": { "type": "number", "minimum": 0, "maximum": 1, "default": 1 }, "latency_ms": { "type": "integer", "minimum": 0, "maximum": 60000, "default": 0 }, "seed": { "type": "integer", "minimum": 0, "default": 0 } }), &["route"]),
    })
}

/// The OpenAPI document of one mock.
pub fn document(kind: MockKind) -> Value {
    let (title, description, ops) = match kind {
        MockKind::Crm => (
            "Halcytone mock CRM",
            "Stands in for the email CRM during a dry run: captures every email it accepts and simulates failures.",
            crm_ops(),
        ),
        MockKind::Platform => (
            "Halcytone mock Platform",
            "Stands in for the web and social platform during a dry run: captures every post it accepts and simulates failures.",
            platform_ops(),
        ),
    };
    let mut paths = Map::new();
    for o in ops.into_iter().chain(shared_ops()) {
        let mut params: Vec<Value> = o
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        params.extend(o.query.iter().map(|(name, desc)| json!({ "name": name, "in": "query", "required": false, "description": desc, "schema": { "type": "string" } })));
        let csv = o.body == Some(CSV_BODY);
        if o.method == "post" && o.body.is_some() && !csv {
            params.push(json!({ "name": "Idempotency-Key", "in": "header", "required": false, "description": "The same key returns the first answer and captures nothing new", "schema": { "type": "string", "maxLength": 255 } }));
        }
        params.push(json!({ "name": "X-Correlation-ID", "in": "header", "required": false, "description": "Echoed back and recorded in the journal", "schema": { "type": "string" } }));
        let mut responses = Map::new();
        let media = match o.path {
            "/feed.atom" => {
                json!({ "application/atom+xml; charset=utf-8": { "schema": { "type": "string" } } })
            }
            "/feed.json" => {
                json!({ "application/feed+json; charset=utf-8": { "schema": { "type": "object" } } })
            }
            _ => json!({ "application/json": { "schema": { "type": "object" } } }),
        };
        responses.insert(
            o.ok.to_string(),
            json!({ "description": "Success", "content": media }),
        );
        for (status, why) in o.errors {
            responses.insert(status.to_string(), json!({ "description": why, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }));
        }
        responses.insert("503".into(), json!({ "description": "Injected fault (see /api/v1/faults); may carry Retry-After", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }));
        let mut operation = json!({ "tags": [o.tag], "summary": o.summary, "parameters": params, "responses": responses });
        if csv {
            operation["requestBody"] = json!({ "required": true, "content": { "text/csv": { "schema": { "type": "string" } } } });
        } else if let Some(body) = o.body {
            operation["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{body}") } } } });
        }
        let entry = paths.entry(o.path.to_string()).or_insert_with(|| json!({}));
        entry[o.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": title, "version": env!("CARGO_PKG_VERSION"), "description": description, "license": { "name": "MIT" } },
        "paths": paths,
        "components": { "schemas": schemas() },
    })
}

pub async fn serve(State(state): State<MockState>) -> Json<Value> {
    Json(document(state.kind))
}

/// Swagger UI at `/docs`, reading `/openapi.json`, with a viewport for phones; every asset comes
/// from the binary.
pub fn swagger_ui() -> axum::Router {
    halcytone_webpage::swagger_ui(
        utoipa_swagger_ui::SwaggerUi::new("/docs")
            .config(utoipa_swagger_ui::Config::new(["/openapi.json"]).validator_url("none"))
            .into(),
    )
}
