//! One captured email: summary, recipients, headers, checks, the HTML part in a sandboxed
//! iframe (served by [`html`] under a `sandbox` CSP), the text part and the links of the HTML.

use super::links::{Link, links};
use super::page::{self, ConsoleError, display_size, or_dash, or_untitled};
use crate::state::{MockKind, MockState};
use crate::store::Record;
use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;
use serde_json::Value;

/// Recipients listed on the page; the rest are counted.
const RECIPIENTS_SHOWN: usize = 50;

/// Gmail clips a message whose HTML is larger than this.
const CLIP_BYTES: usize = 102 * 1024;

#[derive(Debug, Serialize)]
struct Recipient {
    email: String,
    name: Option<String>,
}

#[derive(Debug, Serialize)]
struct Pair {
    name: String,
    value: String,
}

#[derive(Debug, Serialize)]
struct Check {
    name: &'static str,
    ok: bool,
    detail: String,
}

fn pair(name: &str, value: impl Into<String>) -> Pair {
    Pair {
        name: name.to_string(),
        value: value.into(),
    }
}

/// A JSON value as one line of text: strings as they are, anything else as JSON.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

/// The captured email `id`, or a 404 page.
async fn email(state: &MockState, id: &str) -> Result<Record, ConsoleError> {
    if state.kind != MockKind::Crm {
        return Err(ConsoleError::elsewhere("Captured emails", state.kind));
    }
    match state.store.get(Some("email"), id).await? {
        Some(r) if r.captured => Ok(r),
        _ => Err(ConsoleError::not_found(format!(
            "No captured email has the id '{id}'. It may have been pruned or reset."
        ))),
    }
}

/// `GET /messages/{id}`.
pub async fn view(
    State(state): State<MockState>,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let r = email(&state, &id).await?;
    let req = &r.request;
    let smtp = req["transport"] == "smtp";
    let str_of = |k: &str| req[k].as_str().map(str::to_string);
    let subject = or_untitled(
        r.subject.clone().or_else(|| str_of("subject")),
        "(no subject)",
    );
    let from = or_dash(str_of("from").or_else(|| str_of("sender_email")));
    let html = str_of("html_content");
    let text = str_of("text_content");

    // Recipients: batch objects, addresses (single send, SMTP), or none (every subscriber).
    let listed: Vec<Recipient> = req["recipients"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|r| match r {
                    Value::String(e) => Some(Recipient {
                        email: e.clone(),
                        name: None,
                    }),
                    Value::Object(o) => Some(Recipient {
                        email: o.get("email").map(text_of).unwrap_or_default(),
                        name: o.get("name").and_then(Value::as_str).map(str::to_string),
                    }),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let recipient_count = r.response["recipients_count"]
        .as_u64()
        .or(r.response["accepted"].as_u64())
        .unwrap_or(listed.len() as u64);
    let no_list = req["recipients"].is_null() && !smtp;
    let recipients: Vec<&Recipient> = listed.iter().take(RECIPIENTS_SHOWN).collect();

    // Headers: what the request carried, then an SMTP message's own header lines.
    let mut headers = vec![
        pair("Idempotency-Key", or_dash(r.idempotency_key.clone())),
        pair("X-Correlation-ID", or_dash(r.correlation_id.clone())),
    ];
    if let Some(list) = req["headers"].as_array() {
        headers.extend(
            list.iter()
                .map(|h| pair(&text_of(&h["name"]), text_of(&h["value"]))),
        );
    }
    let envelope: Vec<Pair> = if smtp {
        let e = &req["envelope"];
        vec![
            pair("MAIL FROM", text_of(&e["mail_from"])),
            pair(
                "RCPT TO",
                format!(
                    "{} address(es)",
                    e["rcpt_to"].as_array().map_or(0, Vec::len)
                ),
            ),
            pair("HELO", text_of(&e["helo"])),
            pair("Peer", text_of(&e["peer"])),
            pair("AUTH user", text_of(&req["auth_username"])),
        ]
    } else {
        Vec::new()
    };
    let metadata: Vec<Pair> = req["metadata"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| pair(k, text_of(v))).collect())
        .unwrap_or_default();

    let found: Vec<Link> = html.as_deref().map(links).unwrap_or_default();
    let blocked = found.iter().filter(|l| l.blocked).count();
    let html_size = html.as_ref().map_or(0, String::len);
    let mut checks = vec![
        Check {
            name: "Plain-text part",
            ok: text.as_deref().is_some_and(|t| !t.trim().is_empty()),
            detail: match &text {
                Some(t) if !t.trim().is_empty() => "present".into(),
                _ => "missing: some clients and spam filters expect one".into(),
            },
        },
        Check {
            name: "HTML size",
            ok: html_size <= CLIP_BYTES,
            detail: format!(
                "{} ({} is where Gmail clips a message)",
                display_size(html_size),
                display_size(CLIP_BYTES)
            ),
        },
        Check {
            name: "Link schemes",
            ok: blocked == 0,
            detail: if blocked == 0 {
                format!(
                    "{} link(s), all http, https, mailto, tel or relative",
                    found.len()
                )
            } else {
                format!("{blocked} link(s) use a blocked scheme")
            },
        },
    ];
    if smtp {
        let dkim = &req["dkim"];
        let about = match (dkim["domain"].as_str(), dkim["selector"].as_str()) {
            (Some(d), Some(s)) => format!(
                " (d={d}, s={s}, {})",
                dkim["algorithm"].as_str().unwrap_or("?")
            ),
            _ => String::new(),
        };
        checks.push(Check {
            name: "DKIM signature",
            ok: dkim["result"] == "pass",
            detail: match dkim["result"].as_str() {
                Some("pass") => format!("pass{about}: verified against the stack's public key"),
                Some("fail") => format!(
                    "fail{about}: {}",
                    dkim["reason"].as_str().unwrap_or("did not verify")
                ),
                Some("none") => {
                    "none: the message is not signed (set DKIM_PRIVATE_KEY or DKIM_PRIVATE_KEY_FILE)"
                        .into()
                }
                _ => "not checked (captured before DKIM verification)".into(),
            },
        });
        checks.push(Check {
            name: "List-Unsubscribe",
            ok: req["list_unsubscribe"].is_string(),
            detail: match req["list_unsubscribe"].as_str() {
                Some(v) => v.to_string(),
                None => "missing: bulk senders must offer one-click unsubscribe".into(),
            },
        });
    }

    let transport = if smtp {
        "SMTP"
    } else if r.response.get("batch_id").is_some() {
        "HTTP API, batch"
    } else {
        "HTTP API, single send"
    };
    let ctx = context! {
        subject => subject.clone(),
        from,
        campaign => or_dash(r.campaign.clone()),
        transport,
        status => r.status.clone(),
        dkim => req["dkim"]["result"].as_str(),
        duplicate_of => r.response["duplicate_of"].as_str().map(|first| context! {
            id => first,
            href => format!("/messages/{}", page::encode(first)),
        }),
        html_size => html.as_ref().map(|h| display_size(h.len())),
        text_size => text.as_ref().map(|t| display_size(t.len())),
        raw_size => req["size"].as_u64().map(|n| display_size(usize::try_from(n).unwrap_or(usize::MAX))),
        recipients => Serde(&recipients),
        recipient_count,
        more_recipients => recipient_count.saturating_sub(recipients.len() as u64),
        no_list,
        headers => Serde(&headers),
        envelope => Serde(&envelope),
        metadata => Serde(&metadata),
        checks => Serde(&checks),
        text,
        links => Serde(&found),
        ..page::capture_facts("/messages", &r, html.is_some())
    };
    page::html(&state, "message.html", "inbox", &subject, ctx)
}

/// `GET /messages/{id}/html`: the captured HTML exactly as sent, under a sandbox policy.
pub async fn html(
    State(state): State<MockState>,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let r = email(&state, &id).await?;
    Ok(captured_html(&r.request["html_content"]))
}

/// What the frame shows for a capture without HTML.
pub const NO_HTML: &str =
    "<!doctype html><meta charset=\"utf-8\"><p>This capture has no HTML part.</p>";

/// Captured HTML (or [`NO_HTML`] when `html` is not text) as an answer that can do nothing
/// but show itself.
pub fn captured_html(html: &serde_json::Value) -> Response {
    halcytone_webpage::sandboxed(html.as_str().unwrap_or(NO_HTML).to_string())
}
