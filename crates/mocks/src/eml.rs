//! A captured email as the message a recipient would get (`GET /messages/{id}.eml`), and the
//! attachments in it.
//!
//! An SMTP capture is its DATA, byte for byte, as the store kept it. An HTTP-API capture has no
//! message on the wire, so one is built from the captured request with lettre, as the CRM
//! would send it: `multipart/alternative` with the text part then the HTML part (only the HTML
//! part when no text was sent), non-ASCII headers RFC 2047-encoded, and everything that would
//! otherwise vary fixed by the capture: `Date` is when it was captured, `Message-ID` and the
//! MIME boundary derive from its id and content. Downloading it twice gives the same bytes.

use crate::store::Record;
use lettre::message::header::{self, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Mailboxes, MultiPart, SinglePart};
use lettre::{Address, Message};
use mail_parser::{MessageParser, MimeHeaders};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The sender of a request without `sender_email` (the CRM's default).
const DEFAULT_SENDER: &str = "noreply@halcytone.com";

/// The domain of the `Message-ID`s built for HTTP-API captures (`.invalid` never resolves).
const MESSAGE_ID_DOMAIN: &str = "mock-crm.halcytone.invalid";

/// Why no message could be built.
#[derive(Debug, thiserror::Error)]
#[error("the message could not be built: {0}")]
pub struct BuildError(String);

/// The bytes of the capture `record`: `raw` (its SMTP DATA) when the store kept it, else a
/// message built from the captured request.
pub fn message_bytes(record: &Record, raw: Option<Vec<u8>>) -> Result<Vec<u8>, BuildError> {
    match raw {
        Some(raw) => Ok(raw),
        None => build(record),
    }
}

fn mailbox(email: &str, name: Option<&str>) -> Option<Mailbox> {
    let address: Address = email.trim().parse().ok()?;
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    Some(Mailbox::new(name, address))
}

/// A MIME boundary that appears in neither part.
fn boundary(id: &str, text: &str, html: &str) -> String {
    (0u32..)
        .map(|n| {
            let mut h = Sha256::new();
            h.update(id.as_bytes());
            h.update([0]);
            h.update(text.as_bytes());
            h.update([0]);
            h.update(html.as_bytes());
            h.update(n.to_be_bytes());
            let hex: String = h
                .finalize()
                .iter()
                .take(15)
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("=_halcytone_{hex}")
        })
        .find(|b| !text.contains(b.as_str()) && !html.contains(b.as_str()))
        .unwrap_or_default()
}

/// The message of an HTTP-API capture (or of an SMTP capture stored before raw messages were
/// kept, rebuilt from what was captured).
fn build(record: &Record) -> Result<Vec<u8>, BuildError> {
    let req = &record.request;
    let field = |k: &str| req[k].as_str().filter(|s| !s.is_empty());
    let from = field("sender_email")
        .and_then(|s| mailbox(s, None))
        .or_else(|| field("from").and_then(|f| f.parse().ok()))
        .or_else(|| mailbox(DEFAULT_SENDER, None))
        .ok_or_else(|| BuildError("no sender".into()))?;
    let to: Vec<Mailbox> = req["recipients"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|r| match r {
                    Value::String(e) => mailbox(e, None),
                    Value::Object(o) => mailbox(
                        o.get("email").and_then(Value::as_str).unwrap_or_default(),
                        o.get("name").and_then(Value::as_str),
                    ),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let subject = record
        .subject
        .clone()
        .or_else(|| field("subject").map(str::to_string))
        .unwrap_or_default();
    let date = chrono::DateTime::parse_from_rfc3339(&record.created_at)
        .map(std::time::SystemTime::from)
        .unwrap_or(std::time::UNIX_EPOCH);
    let message_id = field("message_id")
        .map(str::to_string)
        .unwrap_or_else(|| format!("<{}@{MESSAGE_ID_DOMAIN}>", record.id));
    let envelope_to: Vec<Address> = if to.is_empty() {
        vec![from.email.clone()]
    } else {
        to.iter().map(|m| m.email.clone()).collect()
    };
    let envelope = lettre::address::Envelope::new(Some(from.email.clone()), envelope_to)
        .map_err(|e| BuildError(e.to_string()))?;
    let mut builder = Message::builder()
        .from(from)
        .subject(subject)
        .date(date)
        .message_id(Some(message_id))
        .envelope(envelope);
    builder = if to.is_empty() {
        // Sent to every subscriber: no list to show.
        builder.raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("To"),
            "undisclosed-recipients:;".into(),
        ))
    } else {
        builder.mailbox(header::To::from(to.into_iter().collect::<Mailboxes>()))
    };
    if let Some(campaign) = &record.campaign {
        builder = builder.raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Campaign-ID"),
            campaign.clone(),
        ));
    }
    let html = field("html_content").unwrap_or_default().to_string();
    let message = match field("text_content") {
        Some(text) => builder.multipart(
            MultiPart::alternative()
                .boundary(boundary(&record.id, text, &html))
                .singlepart(SinglePart::plain(text.to_string()))
                .singlepart(SinglePart::html(html)),
        ),
        None => builder.singlepart(SinglePart::html(html)),
    };
    Ok(message.map_err(|e| BuildError(e.to_string()))?.formatted())
}

/// One MIME part of a message besides its text and HTML bodies.
#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    /// Its place among the message's attachments (0, 1, …), as `/attachments/{index}` uses.
    pub index: usize,
    pub name: Option<String>,
    pub content_type: String,
    pub size: usize,
    /// Shown in the message (`Content-Disposition: inline`, e.g. an image the HTML uses).
    pub inline: bool,
}

/// Attachments listed at most.
pub const MAX_ATTACHMENTS: usize = 100;

fn content_type(part: &mail_parser::MessagePart<'_>) -> String {
    part.content_type()
        .map(|c| match c.subtype() {
            Some(sub) => format!("{}/{}", c.ctype(), sub),
            None => c.ctype().to_string(),
        })
        .unwrap_or_else(|| "application/octet-stream".into())
        .to_ascii_lowercase()
}

/// The attachments of a raw message.
pub fn attachments(raw: &[u8]) -> Vec<Attachment> {
    let Some(message) = MessageParser::default().parse(raw) else {
        return Vec::new();
    };
    message
        .attachments()
        .take(MAX_ATTACHMENTS)
        .enumerate()
        .map(|(index, part)| Attachment {
            index,
            name: part.attachment_name().map(str::to_string),
            content_type: content_type(part),
            size: part.contents().len(),
            inline: part.content_disposition().is_some_and(|d| d.is_inline()),
        })
        .collect()
}

/// Attachment `index` of a raw message: what it is and its decoded bytes.
pub fn attachment(raw: &[u8], index: usize) -> Option<(Attachment, Vec<u8>)> {
    if index >= MAX_ATTACHMENTS {
        return None;
    }
    let message = MessageParser::default().parse(raw)?;
    let part = message.attachments().nth(index)?;
    let about = Attachment {
        index,
        name: part.attachment_name().map(str::to_string),
        content_type: content_type(part),
        size: part.contents().len(),
        inline: part.content_disposition().is_some_and(|d| d.is_inline()),
    };
    Some((about, part.contents().to_vec()))
}

/// The header lines of a message, unfolded, in order (at most 500).
pub fn headers(raw: &[u8]) -> Vec<(String, String)> {
    let Some(message) = MessageParser::default().parse_headers(raw) else {
        return Vec::new();
    };
    let Some(root) = message.parts.first() else {
        return Vec::new();
    };
    root.headers()
        .iter()
        .take(500)
        .map(|h| {
            let value = raw
                .get(h.offset_start() as usize..h.offset_end() as usize)
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            (h.name().to_string(), crate::smtp::unfold(&value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn record(request: Value) -> Record {
        Record {
            seq: 1,
            id: "email_1".into(),
            kind: "email".into(),
            captured: true,
            subject: request["subject"].as_str().map(str::to_string),
            campaign: Some("camp-1".into()),
            channel: Some("email".into()),
            status: Some("sent".into()),
            idempotency_key: None,
            correlation_id: None,
            created_at: "2026-01-05T10:00:00.000Z".into(),
            updated_at: None,
            request,
            response: json!({}),
        }
    }

    #[test]
    fn an_api_capture_becomes_a_stable_multipart_message() {
        let r = record(json!({
            "subject": "Atmen — wöchentlich",
            "html_content": "<p>Hallo</p>",
            "text_content": "Hallo\nWelt",
            "recipients": [{ "email": "a@example.com", "name": "Zoë" }, "b@example.com", "not an address"],
            "sender_email": "noreply@halcytone.com",
        }));
        let bytes = message_bytes(&r, None).unwrap();
        assert_eq!(
            bytes,
            message_bytes(&r, None).unwrap(),
            "the same bytes each time"
        );
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("Subject: Atmen =?utf-8?b?"), "{text}");
        assert!(text.is_ascii(), "headers and parts are 7-bit: {text}");
        assert!(text.contains("multipart/alternative"), "{text}");
        assert!(
            text.contains("Message-ID: <email_1@mock-crm.halcytone.invalid>"),
            "{text}"
        );
        assert!(
            text.contains("Date: Mon, 05 Jan 2026 10:00:00 +0000"),
            "{text}"
        );
        let parsed = MessageParser::default().parse(&bytes).unwrap();
        assert_eq!(parsed.subject(), Some("Atmen — wöchentlich"));
        assert_eq!(parsed.body_html(0).unwrap(), "<p>Hallo</p>");
        assert_eq!(
            parsed.body_text(0).unwrap().replace("\r\n", "\n"),
            "Hallo\nWelt"
        );
        let to: Vec<_> = parsed.to().unwrap().iter().collect();
        assert_eq!(to.len(), 2);
        assert_eq!(to[0].name(), Some("Zoë"));
        assert!(attachments(&bytes).is_empty());
    }

    #[test]
    fn a_send_to_every_subscriber_is_undisclosed_and_html_alone_is_one_part() {
        let r = record(json!({ "subject": "Hi", "html_content": "<p>x</p>", "recipients": null }));
        let text = String::from_utf8(message_bytes(&r, None).unwrap()).unwrap();
        assert!(text.contains("To: undisclosed-recipients:;"), "{text}");
        assert!(text.contains("Content-Type: text/html"), "{text}");
        assert!(!text.contains("multipart"), "{text}");
    }

    #[test]
    fn raw_bytes_are_kept_and_attachments_found() {
        let raw = b"From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"plan.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n".to_vec();
        let r = record(json!({}));
        assert_eq!(message_bytes(&r, Some(raw.clone())).unwrap(), raw);
        let found = attachments(&raw);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name.as_deref(), Some("plan.pdf"));
        assert_eq!(found[0].content_type, "application/pdf");
        let (about, bytes) = attachment(&raw, 0).unwrap();
        assert_eq!((about.size, bytes.as_slice()), (5, &b"%PDF-"[..]));
        assert!(attachment(&raw, 1).is_none());
        assert_eq!(headers(&raw)[1], ("Subject".into(), "x".into()));
        for junk in [
            &b""[..],
            b"\r\n",
            b"From",
            b"Content-Type: multipart/mixed; boundary=\r\n\r\n--",
        ] {
            let _ = (attachments(junk), attachment(junk, 0), headers(junk));
        }
    }
}
