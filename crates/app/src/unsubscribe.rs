//! One-click unsubscribe (RFC 8058): every SMTP message of a job's send carries, in
//! `List-Unsubscribe`, a link of its own — `PUBLIC_BASE_URL/u/<token>` — and
//! `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. The token names the send and the
//! address and is signed with `UNSUBSCRIBE_SECRET` (HMAC-SHA256), so it cannot be made for
//! another address or send. A `POST` to the link puts the address on the suppression list; a
//! `GET` only shows a page asking to confirm (mail scanners follow links, they do not post).

use crate::error::{AppError, AppResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use halcytone_store::Store;
use halcytone_store::ledger::SendKey;
use halcytone_store::suppressions::{NewSuppression, SuppressionReason};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use url::Url;

/// What a token names: one recipient of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The job that started the send (the first of its retry chain).
    pub job_id: String,
    /// The send's target (`email`, `email:v1`).
    pub target: String,
    /// As the ledger keeps it: trimmed and lower-cased.
    pub email: String,
}

/// Makes and checks one-click links.
#[derive(Clone)]
pub struct OneClick {
    base: Url,
    secret: Vec<u8>,
}

impl std::fmt::Debug for OneClick {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OneClick")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// The longest token accepted (a send id, a target and an address, encoded, and a MAC).
const MAX_TOKEN: usize = 1024;

impl OneClick {
    /// Links under `base` (the API's public URL) signed with `secret`.
    pub fn new(base: Url, secret: &str) -> OneClick {
        OneClick {
            base,
            secret: secret.as_bytes().to_vec(),
        }
    }

    /// From the settings: both `PUBLIC_BASE_URL` and `UNSUBSCRIBE_SECRET` are needed.
    pub fn from_settings(m: &crate::settings::mailing::MailingSettings) -> Option<OneClick> {
        Some(OneClick::new(
            m.public_base_url.clone()?,
            m.unsubscribe_secret.as_deref()?,
        ))
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()))
    }

    pub fn token(&self, c: &Claims) -> String {
        let payload = format!("{}\n{}\n{}", c.job_id, c.target, c.email);
        let mut mac = self.mac();
        mac.update(b"unsubscribe\n");
        mac.update(payload.as_bytes());
        format!(
            "{}.{}",
            B64.encode(payload.as_bytes()),
            B64.encode(mac.finalize().into_bytes())
        )
    }

    /// The recipient's link: `<base>/u/<token>`.
    pub fn url(&self, c: &Claims) -> String {
        self.link(&self.token(c))
    }

    /// The address of a token's page under the public base — with its path, so a page served
    /// behind a proxy at `https://example.com/news/` posts its form back there.
    pub fn link(&self, token: &str) -> String {
        format!("{}/u/{token}", self.base.as_str().trim_end_matches('/'))
    }

    /// What a token names, when it is well-formed and its signature is ours.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        if token.len() > MAX_TOKEN {
            return None;
        }
        let (payload, sig) = token.split_once('.')?;
        let payload = B64.decode(payload).ok()?;
        let sig = B64.decode(sig).ok()?;
        let mut mac = self.mac();
        mac.update(b"unsubscribe\n");
        mac.update(&payload);
        mac.verify_slice(&sig).ok()?;
        let text = String::from_utf8(payload).ok()?;
        let mut parts = text.splitn(3, '\n');
        Some(Claims {
            job_id: parts.next()?.to_string(),
            target: parts.next()?.to_string(),
            email: parts.next()?.to_string(),
        })
    }
}

/// What an unsubscribe did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Unsubscribed {
    pub email: String,
    /// False when the address was on the suppression list already.
    pub newly_suppressed: bool,
}

/// The recipient a token names, when it is ours and that recipient was on that send's list;
/// anything else is "not found" (a forged token, or one for an address the send never had).
pub async fn recipient(
    store: &dyn Store,
    one_click: Option<&OneClick>,
    token: &str,
) -> AppResult<Claims> {
    let unknown = || AppError::NotFound("this unsubscribe link is not valid".into());
    let claims = one_click
        .and_then(|o| o.verify(token))
        .ok_or_else(unknown)?;
    let send = SendKey {
        job_id: &claims.job_id,
        target: &claims.target,
    };
    store
        .delivery(send, &claims.email)
        .await?
        .ok_or_else(unknown)?;
    Ok(claims)
}

/// `POST /u/{token}`: suppresses the address the token names.
pub async fn unsubscribe(
    store: &dyn Store,
    one_click: Option<&OneClick>,
    token: &str,
    now_ms: i64,
) -> AppResult<Unsubscribed> {
    let claims = recipient(store, one_click, token).await?;
    let source = format!("unsubscribe:{}", claims.job_id);
    let added = store
        .suppress(
            &[NewSuppression {
                email: &claims.email,
                reason: SuppressionReason::Unsubscribe,
                source: Some(&source),
                detail: Some("one-click unsubscribe (List-Unsubscribe-Post)"),
            }],
            now_ms,
        )
        .await?;
    tracing::info!(event = "unsubscribed", job = %claims.job_id, target = %claims.target, "a recipient unsubscribed with one click");
    Ok(Unsubscribed {
        email: claims.email,
        newly_suppressed: added > 0,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn links_keep_the_path_of_the_public_base() {
        let o = OneClick::new(Url::parse("https://example.com/news/").unwrap(), "s3cret");
        assert_eq!(o.link("tok"), "https://example.com/news/u/tok");
        let root = OneClick::new(Url::parse("https://example.com").unwrap(), "s3cret");
        assert_eq!(root.link("tok"), "https://example.com/u/tok");
    }

    fn one_click() -> OneClick {
        OneClick::new(
            Url::parse("https://news.example.com/").unwrap(),
            "0123456789abcdef0123",
        )
    }

    fn claims() -> Claims {
        Claims {
            job_id: "job_1".into(),
            target: "email".into(),
            email: "ana@example.com".into(),
        }
    }

    #[test]
    fn a_token_reads_back_and_its_url_is_under_the_public_base() {
        let o = one_click();
        let url = o.url(&claims());
        assert!(url.starts_with("https://news.example.com/u/"), "{url}");
        let token = url.rsplit('/').next().unwrap();
        assert_eq!(o.verify(token), Some(claims()));
    }

    #[test]
    fn a_changed_address_another_secret_or_garbage_does_not_verify() {
        let o = one_click();
        let token = o.token(&claims());
        let (_, sig) = token.split_once('.').unwrap();
        let forged = format!("{}.{sig}", B64.encode("job_1\nemail\nbob@example.com"));
        assert_eq!(o.verify(&forged), None);
        let other = OneClick::new(
            Url::parse("https://x.example").unwrap(),
            "another secret 1234",
        );
        assert_eq!(other.verify(&token), None);
        for junk in ["", ".", "a.b", "!!!.???", &"a".repeat(5000)] {
            assert_eq!(o.verify(junk), None, "{junk}");
        }
    }
}
