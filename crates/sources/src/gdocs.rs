//! Google Docs: a service-account OAuth token (RS256 JWT bearer grant, cached), then
//! `documents.get`, converted to Markdown.

use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::Value;

use crate::error::{SourceError, snippet, status_and_text};
use crate::{SourceKind, SourceSettings};

/// The only scope we ask for.
pub const SCOPE: &str = "https://www.googleapis.com/auth/documents.readonly";
/// Google's token endpoint, used when the credentials name none.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// A cached token is renewed this long before it expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

const KIND: SourceKind = SourceKind::GoogleDocs;

/// The parts of a service-account key file we use.
#[derive(Clone)]
pub(crate) struct ServiceAccount {
    pub client_email: String,
    pub token_uri: String,
    pub key_id: Option<String>,
    pub key: EncodingKey,
}

impl ServiceAccount {
    /// Reads service-account JSON. Error messages never contain the key.
    pub fn from_json(text: &str) -> Result<ServiceAccount, String> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| format!("not valid JSON (line {}, column {})", e.line(), e.column()))?;
        let field = |name: &str| v.get(name).and_then(Value::as_str).map(str::trim);
        let client_email = field("client_email")
            .filter(|s| !s.is_empty())
            .ok_or("the service-account JSON has no client_email")?;
        let private_key = field("private_key")
            .filter(|s| !s.is_empty())
            .ok_or("the service-account JSON has no private_key")?;
        let key = EncodingKey::from_rsa_pem(private_key.as_bytes()).map_err(|e| {
            format!("private_key is not a PEM RSA private key (PKCS#8 'BEGIN PRIVATE KEY'): {e}")
        })?;
        Ok(ServiceAccount {
            client_email: client_email.to_string(),
            token_uri: field("token_uri")
                .filter(|s| !s.is_empty())
                .unwrap_or(DEFAULT_TOKEN_URI)
                .to_string(),
            key_id: field("private_key_id")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            key,
        })
    }

    /// Loads the account from `GOOGLE_CREDENTIALS_JSON` (inline JSON or a file path).
    pub async fn load(settings: &SourceSettings) -> Result<ServiceAccount, SourceError> {
        let not_configured = |reason: String| SourceError::NotConfigured { kind: KIND, reason };
        let Some(value) = settings.google_credentials_json.as_deref().map(str::trim) else {
            return Err(not_configured(
                "set GOOGLE_CREDENTIALS_JSON to a service-account key (the JSON text or the path of the JSON file), and share the document with its client_email".into(),
            ));
        };
        if value.starts_with('{') {
            return ServiceAccount::from_json(value)
                .map_err(|r| not_configured(format!("GOOGLE_CREDENTIALS_JSON: {r}")));
        }
        let text = tokio::fs::read_to_string(value).await.map_err(|e| {
            not_configured(format!(
                "GOOGLE_CREDENTIALS_JSON is neither JSON nor a readable file ({value}: {e})"
            ))
        })?;
        ServiceAccount::from_json(&text)
            .map_err(|r| not_configured(format!("GOOGLE_CREDENTIALS_JSON file {value}: {r}")))
    }

    /// The signed assertion for the JWT-bearer grant.
    pub fn assertion(&self, now: i64) -> Result<String, SourceError> {
        #[derive(Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            scope: &'a str,
            aud: &'a str,
            iat: i64,
            exp: i64,
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.key_id.clone();
        let claims = Claims {
            iss: &self.client_email,
            scope: SCOPE,
            aud: &self.token_uri,
            iat: now,
            exp: now + 3600,
        };
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| SourceError::NotConfigured {
            kind: KIND,
            reason: format!("could not sign the token request with private_key: {e}"),
        })
    }
}

/// An access token and when to stop using it.
#[derive(Clone)]
pub(crate) struct CachedToken {
    pub access_token: String,
    pub renew_at: Instant,
}

/// Exchanges a fresh assertion for an access token.
pub(crate) async fn mint_token(
    client: &reqwest::Client,
    settings: &SourceSettings,
) -> Result<CachedToken, SourceError> {
    let account = ServiceAccount::load(settings).await?;
    let assertion = account.assertion(chrono::Utc::now().timestamp())?;
    let endpoint = settings
        .google_token_url
        .clone()
        .unwrap_or_else(|| account.token_uri.clone());
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
        .append_pair("assertion", &assertion)
        .finish();
    let target = "the OAuth token endpoint".to_string();
    let request = client
        .post(&endpoint)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body);
    let (status, text) = status_and_text(request, KIND, &target, settings.timeout).await?;
    let json: Option<Value> = serde_json::from_str(&text).ok();
    if !status.is_success() {
        // {"error":"invalid_grant","error_description":"Invalid JWT Signature."}
        let error = json
            .as_ref()
            .and_then(|j| j.get("error"))
            .and_then(Value::as_str);
        let description = json
            .as_ref()
            .and_then(|j| j.get("error_description"))
            .and_then(Value::as_str);
        if status.is_client_error() {
            let detail = match (error, description) {
                (Some(e), Some(d)) => format!("{e}: {d}"),
                (Some(e), None) => e.to_string(),
                (None, Some(d)) => d.to_string(),
                (None, None) => format!("the token endpoint answered {status}: {}", snippet(&text)),
            };
            return Err(SourceError::Auth { kind: KIND, detail });
        }
        return Err(SourceError::Upstream {
            kind: KIND,
            status: status.as_u16(),
            target,
            detail: description
                .or(error)
                .map(str::to_string)
                .unwrap_or_else(|| snippet(&text)),
        });
    }
    // {"access_token":"ya29…","expires_in":3599,"token_type":"Bearer"}
    let access_token = json
        .as_ref()
        .and_then(|j| j.get("access_token"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| SourceError::Malformed {
            kind: KIND,
            target: target.clone(),
            detail: "the token answer has no access_token".into(),
        })?;
    let expires_in = json
        .as_ref()
        .and_then(|j| j.get("expires_in"))
        .and_then(Value::as_u64)
        .unwrap_or(3600);
    let lifetime = Duration::from_secs(expires_in).saturating_sub(EXPIRY_MARGIN);
    Ok(CachedToken {
        access_token: access_token.to_string(),
        renew_at: Instant::now() + lifetime,
    })
}

/// The outcome of one `documents.get`.
pub(crate) enum DocAnswer {
    Document(Value),
    /// 401: the token was refused; the caller may renew it once.
    Unauthorized(String),
}

/// `GET {base}/v1/documents/{id}` with the token.
pub(crate) async fn get_document(
    client: &reqwest::Client,
    settings: &SourceSettings,
    token: &str,
    id: &str,
) -> Result<DocAnswer, SourceError> {
    let target = format!("document {id}");
    let url = format!(
        "{}/v1/documents/{id}",
        settings.google_docs_base_url.trim_end_matches('/')
    );
    let request = client.get(&url).bearer_auth(token);
    let (status, text) = status_and_text(request, KIND, &target, settings.timeout).await?;
    if !status.is_success() {
        // {"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND"}}
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|j| {
                j.pointer("/error/message")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| snippet(&text));
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Ok(DocAnswer::Unauthorized(message));
        }
        let detail = if status == reqwest::StatusCode::FORBIDDEN {
            format!("{message} (share the document with the service account's client_email)")
        } else {
            message
        };
        return Err(SourceError::Upstream {
            kind: KIND,
            status: status.as_u16(),
            target,
            detail,
        });
    }
    serde_json::from_str(&text)
        .map(DocAnswer::Document)
        .map_err(|e| SourceError::Malformed {
            kind: KIND,
            target,
            detail: format!("the answer is not JSON ({e})"),
        })
}

/// Converts a Docs API `Document` to Markdown in the authoring format: heading styles become
/// `#` prefixes, bulleted paragraphs `- ` items (indented by nesting level), table cells one
/// line per paragraph, links `[text](url)`, bold runs `**…**`. Paragraphs are separated by a
/// blank line, except consecutive list items. The document title becomes `# title` when the
/// body has no top-level heading of its own.
pub fn document_to_markdown(doc: &Value) -> String {
    let mut blocks: Vec<Block> = Vec::new();
    if let Some(content) = doc.pointer("/body/content").and_then(Value::as_array) {
        collect(content, &mut blocks);
    }
    let mut out = String::new();
    let has_h1 = blocks.iter().any(|b| b.text.starts_with("# "));
    if let Some(title) = doc.get("title").and_then(Value::as_str).map(str::trim)
        && !title.is_empty()
        && !has_h1
    {
        out.push_str("# ");
        out.push_str(title);
        out.push('\n');
    }
    let mut prev_list = false;
    for b in &blocks {
        let tight = prev_list && b.list;
        if !out.is_empty() && !tight {
            out.push('\n');
        }
        out.push_str(&b.text);
        out.push('\n');
        prev_list = b.list;
    }
    out
}

struct Block {
    text: String,
    list: bool,
}

fn collect(content: &[Value], out: &mut Vec<Block>) {
    for element in content {
        if let Some(p) = element.get("paragraph") {
            if let Some(b) = paragraph(p) {
                out.push(b);
            }
        } else if let Some(rows) = element
            .pointer("/table/tableRows")
            .and_then(Value::as_array)
        {
            for row in rows {
                let cells = row.get("tableCells").and_then(Value::as_array);
                for cell in cells.into_iter().flatten() {
                    if let Some(inner) = cell.get("content").and_then(Value::as_array) {
                        collect(inner, out);
                    }
                }
            }
        }
        // sectionBreak and tableOfContents carry no document text.
    }
}

fn paragraph(p: &Value) -> Option<Block> {
    let style = p
        .pointer("/paragraphStyle/namedStyleType")
        .and_then(Value::as_str)
        .unwrap_or("NORMAL_TEXT");
    let heading = match style {
        "TITLE" | "HEADING_1" => Some("# "),
        "HEADING_2" => Some("## "),
        "HEADING_3" => Some("### "),
        "HEADING_4" | "HEADING_5" | "HEADING_6" => Some("#### "),
        _ => None,
    };
    let mut text = String::new();
    for el in p
        .get("elements")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(run) = el.get("textRun") {
            let content = run.get("content").and_then(Value::as_str).unwrap_or("");
            let style = run.get("textStyle");
            let link = style
                .and_then(|s| s.pointer("/link/url"))
                .and_then(Value::as_str);
            let bold = heading.is_none()
                && style
                    .and_then(|s| s.get("bold"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
            text.push_str(&styled(content, bold, link));
        } else if let Some(rich) = el.get("richLink") {
            let props = rich.get("richLinkProperties");
            let uri = props.and_then(|p| p.get("uri")).and_then(Value::as_str);
            let title = props
                .and_then(|p| p.get("title"))
                .and_then(Value::as_str)
                .or(uri);
            if let Some(title) = title {
                text.push_str(&styled(title, false, uri));
            }
        }
    }
    // Docs ends every paragraph with '\n' and writes soft line breaks as '\u{b}'.
    let text = text
        .trim_end_matches(['\n', '\r'])
        .replace('\u{b}', "\n")
        .trim_end()
        .to_string();
    if text.trim().is_empty() {
        return None;
    }
    if let Some(prefix) = heading {
        let text = if text.starts_with('#') {
            text
        } else {
            format!("{prefix}{}", text.trim_start())
        };
        return Some(Block { text, list: false });
    }
    if let Some(bullet) = p.get("bullet") {
        let level = bullet
            .get("nestingLevel")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .min(8) as usize;
        let body = text.trim_start();
        let body = body
            .strip_prefix("- ")
            .or_else(|| body.strip_prefix("* "))
            .unwrap_or(body);
        return Some(Block {
            text: format!("{}- {body}", "  ".repeat(level)),
            list: true,
        });
    }
    let list = {
        let t = text.trim_start();
        t.starts_with("- ") || t.starts_with("* ")
    };
    Some(Block { text, list })
}

/// Wraps a run in `**…**` and/or `[…](url)`, keeping its surrounding spaces outside.
fn styled(content: &str, bold: bool, link: Option<&str>) -> String {
    let core = content.trim();
    if core.is_empty() || (!bold && link.is_none()) {
        return content.to_string();
    }
    let start = content.len() - content.trim_start().len();
    let end = start + core.len();
    let mut inner = core.to_string();
    if bold && !core.starts_with("**") {
        inner = format!("**{inner}**");
    }
    if let Some(url) = link {
        inner = format!("[{inner}]({url})");
    }
    format!("{}{inner}{}", &content[..start], &content[end..])
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    fn para(style: &str, text: &str) -> Value {
        json!({"paragraph": {
            "elements": [{"startIndex": 1, "endIndex": 5, "textRun": {"content": format!("{text}\n"), "textStyle": {}}}],
            "paragraphStyle": {"namedStyleType": style, "direction": "LEFT_TO_RIGHT"}
        }})
    }

    fn bullet(text: &str, level: u64) -> Value {
        let mut p = para("NORMAL_TEXT", text);
        p["paragraph"]["bullet"] =
            json!({"listId": "kix.list1", "nestingLevel": level, "textStyle": {}});
        p
    }

    fn doc(content: Vec<Value>) -> Value {
        json!({"documentId": "abc", "title": "Living doc", "body": {"content": content}})
    }

    #[test]
    fn headings_bullets_and_blank_lines() {
        let d = doc(vec![
            json!({"endIndex": 1, "sectionBreak": {"sectionStyle": {}}}),
            para("TITLE", "Halcytone Living Document"),
            para("NORMAL_TEXT", ""),
            para("HEADING_2", "[Breathscape] Recent Updates"),
            para("HEADING_3", "Sleep Sessions arrive"),
            bullet("**Date:** 2026-11-18", 0),
            bullet("**Content:** Sleep Sessions are here.", 0),
            bullet("nested point", 1),
            para("NORMAL_TEXT", "You will find them under Evening."),
            para("HEADING_5", "Small print"),
        ]);
        let md = document_to_markdown(&d);
        assert_eq!(
            md,
            "# Halcytone Living Document\n\n## [Breathscape] Recent Updates\n\n### Sleep Sessions arrive\n\n- **Date:** 2026-11-18\n- **Content:** Sleep Sessions are here.\n  - nested point\n\nYou will find them under Evening.\n\n#### Small print\n"
        );
    }

    #[test]
    fn title_is_added_only_without_a_top_heading() {
        let md = document_to_markdown(&doc(vec![para("HEADING_2", "[Tips] Breathing")]));
        assert!(
            md.starts_with("# Living doc\n\n## [Tips] Breathing\n"),
            "{md}"
        );
    }

    #[test]
    fn typed_markdown_is_not_prefixed_twice() {
        let md = document_to_markdown(&doc(vec![
            para("HEADING_2", "## [Hardware] Progress"),
            para("NORMAL_TEXT", "### Typed item"),
            bullet("- Date: 2026-01-02", 0),
        ]));
        assert!(md.contains("\n## [Hardware] Progress\n"), "{md}");
        assert!(!md.contains("## ##"), "{md}");
        assert!(md.contains("\n### Typed item\n"), "{md}");
        assert!(md.contains("\n- Date: 2026-01-02\n"), "{md}");
    }

    #[test]
    fn runs_are_concatenated_with_links_and_bold() {
        let d = doc(vec![json!({"paragraph": {
            "elements": [
                {"textRun": {"content": "Read the ", "textStyle": {}}},
                {"textRun": {"content": "release notes", "textStyle": {"link": {"url": "https://halcytone.com/n"}, "underline": true}}},
                {"textRun": {"content": " now. ", "textStyle": {}}},
                {"textRun": {"content": "Date:", "textStyle": {"bold": true}}},
                {"textRun": {"content": " soon\u{b}second line\n", "textStyle": {}}}
            ],
            "paragraphStyle": {"namedStyleType": "NORMAL_TEXT"}
        }})]);
        let md = document_to_markdown(&d);
        assert!(
            md.ends_with("Read the [release notes](https://halcytone.com/n) now. **Date:** soon\nsecond line\n"),
            "{md}"
        );
    }

    #[test]
    fn tables_flatten_to_lines() {
        let cell = |t: &str| json!({"content": [para("NORMAL_TEXT", t)]});
        let d = doc(vec![
            para("HEADING_2", "[Hardware] Specs"),
            json!({"table": {"rows": 1, "columns": 2, "tableRows": [
                {"tableCells": [cell("Battery"), cell("9 days")]}
            ]}}),
        ]);
        let md = document_to_markdown(&d);
        assert!(md.contains("\nBattery\n\n9 days\n"), "{md}");
    }

    #[test]
    fn empty_documents_give_only_the_title() {
        assert_eq!(document_to_markdown(&doc(vec![])), "# Living doc\n");
        assert_eq!(document_to_markdown(&json!({})), "");
    }

    #[test]
    fn service_account_errors_do_not_leak_the_key() {
        let e = ServiceAccount::from_json(r#"{"client_email":"a@b","private_key":"TOPSECRET"}"#)
            .err()
            .unwrap();
        assert!(e.contains("private_key") && !e.contains("TOPSECRET"), "{e}");
        let e = ServiceAccount::from_json(r#"{"private_key":"x"}"#)
            .err()
            .unwrap();
        assert!(e.contains("client_email"), "{e}");
        let e = ServiceAccount::from_json("{not json").err().unwrap();
        assert!(e.contains("not valid JSON"), "{e}");
    }
}
