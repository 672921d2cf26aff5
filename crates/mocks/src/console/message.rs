//! One captured email: its facts, recipients and attachments above tabs (`?tab=`, rendered on
//! the server, so they work without JavaScript) for the HTML part in a sandboxed iframe
//! (served by [`html`] under a `sandbox` CSP, remote images blocked until asked for, in a
//! chosen width and optionally as a dark-mode mail app shows it), the text part, the message
//! and HTML source, the headers, the links of the HTML and the checks. `GET /messages/{id}.eml`
//! downloads the message ([`crate::eml`]), `/messages/{id}/attachments/{n}` an attachment.

use super::images::{BLOCKED_CSP, remote_images};
use super::page::{self, ConsoleError, display_size, display_time, or_dash, or_untitled};
use super::params::Params;
use crate::eml;
use crate::state::{MockKind, MockState};
use crate::store::Record;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use halcytone_mailcheck::links::{Link, links};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;
use serde_json::Value;

/// Recipients listed on the page; the rest are counted.
const RECIPIENTS_SHOWN: usize = 50;

/// Gmail clips a message whose HTML is larger than this.
const CLIP_BYTES: usize = 102 * 1024;

/// The tabs of the page: `?tab=` value and label; the first is the default.
const TABS: [(&str, &str); 6] = [
    ("html", "HTML"),
    ("text", "Text"),
    ("source", "Source"),
    ("headers", "Headers"),
    ("links", "Links"),
    ("checks", "Checks"),
];

/// Widths of the HTML preview (`?width=`), in CSS pixels; `full` is the page's width.
const WIDTHS: [&str; 4] = ["320", "480", "600", "full"];

/// Source shown on the page at most, per part; the `.eml` download has it all.
const SOURCE_SHOWN: usize = 512 * 1024;

/// Appended to the HTML in the dark-mode preview: the page inverted (its images inverted back),
/// as mail apps that force a dark theme show a message that does not style one itself.
const DARK_STYLE: &str = "<style>/* halcytone mock console: dark-mode preview */\
html{background:#121212 !important}\
body{filter:invert(1) hue-rotate(180deg)}\
img,picture,video,[background]{filter:invert(1) hue-rotate(180deg)}</style>";

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
struct Choice {
    label: String,
    href: String,
    current: bool,
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

/// How the page is viewed: the tab, and the HTML preview's width, theme and images.
#[derive(Debug, Clone)]
struct View {
    id: String,
    tab: &'static str,
    width: &'static str,
    dark: bool,
    images: bool,
}

impl View {
    fn read(id: &str, params: &Params) -> Result<View, ConsoleError> {
        let tab_names: Vec<&str> = TABS.iter().map(|(t, _)| *t).collect();
        let pick = |found: Option<String>, from: &[&'static str], default: &'static str| {
            found
                .and_then(|v| from.iter().find(|c| **c == v).copied())
                .unwrap_or(default)
        };
        Ok(View {
            id: id.to_string(),
            tab: pick(params.choice("tab", &tab_names)?, &tab_names, "html"),
            width: pick(params.choice("width", &WIDTHS)?, &WIDTHS, "full"),
            dark: params.choice("dark", &["0", "1"])?.as_deref() == Some("1"),
            images: params.choice("images", &["0", "1"])?.as_deref() == Some("1"),
        })
    }

    /// `path` with this view's preview settings that differ from the defaults.
    fn with(&self, path: &str, tab: Option<&str>) -> String {
        let on = |b: bool| b.then_some("1");
        halcytone_webpage::query::href(
            path,
            &[
                ("tab", tab.filter(|t| *t != "html")),
                ("width", Some(self.width).filter(|w| *w != "full")),
                ("dark", on(self.dark)),
                ("images", on(self.images)),
            ],
        )
    }

    fn page_href(&self) -> String {
        format!("/messages/{}", page::encode(&self.id))
    }

    /// This page with `change` applied to the view.
    fn href(&self, change: impl FnOnce(&mut View)) -> String {
        let mut v = self.clone();
        change(&mut v);
        v.with(&v.page_href(), Some(v.tab))
    }

    /// The frame's address: the HTML with this view's theme and images.
    fn frame_href(&self) -> String {
        let mut v = self.clone();
        v.width = "full";
        v.with(&format!("{}/html", self.page_href()), None)
    }
}

/// `GET /messages/{id}` (and `GET /messages/{id}.eml`, the download).
pub async fn view(
    State(state): State<MockState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, ConsoleError> {
    if let Some(id) = id.strip_suffix(".eml") {
        return download(&state, id).await;
    }
    let r = email(&state, &id).await?;
    let v = View::read(&id, &params)?;
    let req = &r.request;
    let smtp = req["transport"] == "smtp";
    let raw = if smtp {
        state.store.raw_message(r.seq).await?
    } else {
        None
    };
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

    // Attachments: the parts of a kept SMTP message besides its bodies.
    let attachments: Vec<minijinja::Value> = match &raw {
        Some(bytes) => eml::attachments(bytes)
            .into_iter()
            .map(|a| {
                context! {
                    name => a.name.clone().unwrap_or_else(|| format!("attachment-{}", a.index + 1)),
                    content_type => a.content_type,
                    size => display_size(a.size),
                    inline => a.inline,
                    href => format!("{}/attachments/{}", v.page_href(), a.index),
                }
            })
            .collect(),
        None => req["parts"]
            .as_array()
            .map(|parts| {
                parts
                    .iter()
                    .filter(|p| p["attachment"] == true)
                    .map(|p| context! {
                        name => "(not kept)",
                        content_type => text_of(&p["content_type"]),
                        size => display_size(p["size"].as_u64().map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX))),
                        inline => false,
                        href => None::<String>,
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };

    let found: Vec<Link> = html.as_deref().map(links).unwrap_or_default();
    let blocked = found.iter().filter(|l| l.blocked).count();
    let checks = checks(req, smtp, html.as_deref(), text.as_deref(), &found, blocked);
    let (report, checked_at) = crate::checks::of(&state, &r).await?;
    let errors = report["counts"]["error"].as_u64().unwrap_or(0);
    // The report covers the size and the links' schemes too: each finding counts once.
    let warnings = checks
        .iter()
        .filter(|c| !c.ok && !matches!(c.name, "HTML size" | "Link schemes"))
        .count() as u64
        + report["counts"]["warning"].as_u64().unwrap_or(0);
    let remote = html
        .as_deref()
        .map_or(0, |h| remote_images(h, false).remote);

    let tabs: Vec<Choice> = TABS
        .iter()
        .map(|(tab, label)| Choice {
            label: match *tab {
                "links" => format!("{label} ({})", found.len()),
                "checks" if errors > 0 => {
                    format!("{label} ({errors} error(s), {warnings} warning(s))")
                }
                "checks" if warnings > 0 => format!("{label} ({warnings} warning(s))"),
                _ => (*label).to_string(),
            },
            href: v.href(|x| x.tab = tab),
            current: v.tab == *tab,
        })
        .collect();

    let mut ctx = context! {
        subject => subject.clone(),
        from,
        campaign => or_dash(r.campaign.clone()),
        transport => if smtp {
            "SMTP"
        } else if r.response.get("batch_id").is_some() {
            "HTTP API, batch"
        } else {
            "HTTP API, single send"
        },
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
        attachments,
        eml_href => format!("{}.eml", v.page_href()),
        raw_kept => raw.is_some() || !smtp,
        tabs => Serde(&tabs),
        tab => v.tab,
        ..page::capture_facts("/messages", &r, html.is_some())
    };
    let extra = match v.tab {
        "html" => {
            let widths: Vec<Choice> = WIDTHS
                .iter()
                .map(|w| Choice {
                    label: if *w == "full" {
                        "Full width".into()
                    } else {
                        format!("{w} px")
                    },
                    href: v.href(|x| x.width = w),
                    current: v.width == *w,
                })
                .collect();
            context! {
                frame_href => v.frame_href(),
                frame_class => format!("preview preview-{}{}", v.width, if v.dark { " preview-dark" } else { "" }),
                widths => Serde(&widths),
                dark => v.dark,
                dark_href => v.href(|x| x.dark = !x.dark),
                remote,
                images_shown => v.images,
                images_href => v.href(|x| x.images = !x.images),
            }
        }
        "text" => context! { text },
        "source" => {
            let bytes = eml::message_bytes(&r, raw.clone()).map_err(|e| {
                ConsoleError::Status(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
            })?;
            context! {
                message_source => shown(&String::from_utf8_lossy(&bytes)),
                message_size => display_size(bytes.len()),
                html_source => html.as_deref().map(shown),
            }
        }
        "headers" => {
            let message_headers: Vec<Pair> = match (&raw, smtp) {
                (Some(bytes), _) => eml::headers(bytes),
                (None, true) => req["headers"]
                    .as_array()
                    .map(|list| {
                        list.iter()
                            .map(|h| (text_of(&h["name"]), text_of(&h["value"])))
                            .collect()
                    })
                    .unwrap_or_default(),
                (None, false) => eml::message_bytes(&r, None)
                    .map(|b| eml::headers(&b))
                    .unwrap_or_default(),
            }
            .into_iter()
            .map(|(name, value)| Pair { name, value })
            .collect();
            let request_headers = vec![
                pair("Idempotency-Key", or_dash(r.idempotency_key.clone())),
                pair("X-Correlation-ID", or_dash(r.correlation_id.clone())),
            ];
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
            context! {
                message_headers => Serde(&message_headers),
                request_headers => Serde(&request_headers),
                envelope => Serde(&envelope),
                metadata => Serde(&metadata),
            }
        }
        "links" => {
            // The report lists the same hrefs in the same order, with what resolving found.
            let statuses = report["links"].as_array().cloned().unwrap_or_default();
            let links: Vec<minijinja::Value> = found
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let s = statuses.get(i);
                    context! {
                        element => &l.element,
                        href => &l.href,
                        status => s.and_then(|s| s["status"].as_str()).unwrap_or("unchecked"),
                        level => s.and_then(|s| s["level"].as_str()).unwrap_or("info"),
                        detail => s.and_then(|s| s["detail"].as_str()).unwrap_or(""),
                    }
                })
                .collect();
            context! { links }
        }
        _ => context! {
            checks => Serde(&checks),
            report => Serde(&report),
            checked_at => display_time(&checked_at),
            checks_json => format!("/api/v1/messages/{}/checks", page::encode(&r.id)),
        },
    };
    ctx = context! { ..extra, ..ctx };
    page::html(&state, "message.html", "inbox", &subject, ctx)
}

/// At most [`SOURCE_SHOWN`] bytes of `source` (cut at a character), with a note when cut.
fn shown(source: &str) -> minijinja::Value {
    let mut cut = source.len().min(SOURCE_SHOWN);
    while !source.is_char_boundary(cut) {
        cut -= 1;
    }
    context! {
        text => &source[..cut],
        truncated => cut < source.len(),
    }
}

/// The checks of a captured email: a text part, the HTML's size against Gmail's clipping,
/// the links' schemes, and for SMTP its DKIM signature and `List-Unsubscribe`.
fn checks(
    req: &Value,
    smtp: bool,
    html: Option<&str>,
    text: Option<&str>,
    found: &[Link],
    blocked: usize,
) -> Vec<Check> {
    let html_size = html.map_or(0, str::len);
    let mut checks = vec![
        Check {
            name: "Plain-text part",
            ok: text.is_some_and(|t| !t.trim().is_empty()),
            detail: match text {
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
    checks
}

/// `GET /messages/{id}.eml`: the message a recipient would get, as a download.
async fn download(state: &MockState, id: &str) -> Result<Response, ConsoleError> {
    let r = email(state, id).await?;
    let raw = state.store.raw_message(r.seq).await?;
    let bytes = eml::message_bytes(&r, raw)
        .map_err(|e| ConsoleError::Status(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(attachment_response(
        "message/rfc822",
        &format!("{id}.eml"),
        bytes,
    ))
}

/// `GET /messages/{id}/attachments/{index}`: one attachment of a kept SMTP message.
pub async fn attachment(
    State(state): State<MockState>,
    Path((id, index)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let r = email(&state, &id).await?;
    let missing = || {
        ConsoleError::not_found(format!(
            "The email '{id}' has no attachment '{index}' (attachments are numbered from 0)."
        ))
    };
    let n: usize = index.parse().map_err(|_| missing())?;
    let raw = state.store.raw_message(r.seq).await?.ok_or_else(missing)?;
    let (about, bytes) = eml::attachment(&raw, n).ok_or_else(missing)?;
    let name = about
        .name
        .unwrap_or_else(|| format!("attachment-{}", n + 1));
    Ok(attachment_response(&about.content_type, &name, bytes))
}

/// A download: `bytes` as `content_type` (`application/octet-stream` when it is not a valid
/// header), never shown inline, under a sandbox policy should a browser open it anyway.
fn attachment_response(content_type: &str, name: &str, bytes: Vec<u8>) -> Response {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        page::encode(name)
    );
    let mut response = (StatusCode::OK, bytes).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(d) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, d);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `GET /messages/{id}/html`: the captured HTML under a sandbox policy. Its remote images are
/// blocked (by the policy, and replaced with a blank image) unless `images=1`; `dark=1`
/// previews it in a dark theme. With `images=1` and no theme it is exactly as sent.
pub async fn html(
    State(state): State<MockState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, ConsoleError> {
    let r = email(&state, &id).await?;
    let v = View::read(&id, &params)?;
    let Some(html) = r.request["html_content"].as_str() else {
        return Ok(captured_html(&Value::Null));
    };
    let mut html = if v.images {
        html.to_string()
    } else {
        remote_images(html, true).html
    };
    if v.dark {
        html.push_str(DARK_STYLE);
    }
    let mut response = halcytone_webpage::sandboxed(html);
    if !v.images {
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(BLOCKED_CSP),
        );
    }
    Ok(response)
}

/// What the frame shows for a capture without HTML.
pub const NO_HTML: &str =
    "<!doctype html><meta charset=\"utf-8\"><p>This capture has no HTML part.</p>";

/// Captured HTML (or [`NO_HTML`] when `html` is not text) as an answer that can do nothing
/// but show itself.
pub fn captured_html(html: &serde_json::Value) -> Response {
    halcytone_webpage::sandboxed(html.as_str().unwrap_or(NO_HTML).to_string())
}
