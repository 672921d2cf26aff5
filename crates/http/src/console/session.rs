//! Console sessions: after a sign-in with an API key, the browser holds only a random 256-bit
//! session id in the `halcytone_ui` cookie (HttpOnly, SameSite=Strict, Path=/ui). The server
//! keeps, under the SHA-256 of that id, the key's id and scopes and a CSRF token — never the
//! key itself. A session ends at sign-out, after 8 hours without a request, or at its first
//! request after its key is revoked (see `guard::viewer`).

use crate::auth::Caller;
use axum::http::{HeaderMap, HeaderValue, header};
use halcytone_store::{Scope, sha256_hex};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// The cookie that carries the session id.
pub const COOKIE: &str = "halcytone_ui";

/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::from_secs(8 * 60 * 60);

/// Above this many sessions, expired ones are dropped before a new one is made.
const PRUNE_ABOVE: usize = 10_000;

/// A signed-in console user.
#[derive(Debug, Clone)]
pub struct Session {
    pub key_id: String,
    pub scopes: Vec<Scope>,
    /// Put in every form as the hidden field `csrf` and checked on every POST.
    pub csrf: String,
    last_seen: Instant,
}

impl Session {
    /// The caller the API's review and job functions see.
    pub fn caller(&self) -> Caller {
        Caller {
            key_id: self.key_id.clone(),
            scopes: self.scopes.clone(),
            limits: Default::default(),
        }
    }

    pub fn allows(&self, needed: Scope) -> bool {
        self.scopes.iter().any(|s| *s >= needed)
    }

    /// Whether `token` (a form's `csrf` field) is this session's, compared in constant time.
    pub fn csrf_matches(&self, token: Option<&str>) -> bool {
        token.is_some_and(|t| bool::from(t.as_bytes().ct_eq(self.csrf.as_bytes())))
    }

    /// The scopes as one line: `read, write`.
    pub fn scope_names(&self) -> String {
        self.scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Every live session, by the SHA-256 of its id.
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

/// 32 random bytes from the operating system, as 64 hex digits.
fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl Sessions {
    /// Starts a session for `caller`; returns its id (for the cookie) and the session.
    pub fn start(&self, caller: &Caller) -> Result<(String, Session), getrandom::Error> {
        let id = random_token()?;
        let session = Session {
            key_id: caller.key_id.clone(),
            scopes: caller.scopes.clone(),
            csrf: random_token()?,
            last_seen: Instant::now(),
        };
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= PRUNE_ABOVE {
            map.retain(|_, s| s.last_seen.elapsed() < IDLE);
        }
        map.insert(sha256_hex(&id), session.clone());
        Ok((id, session))
    }

    /// The live session `id` names, its idle time restarted; an expired one is removed.
    pub fn get(&self, id: &str) -> Option<Session> {
        let key = sha256_hex(id);
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let expired = map.get(&key)?.last_seen.elapsed() >= IDLE;
        if expired {
            map.remove(&key);
            return None;
        }
        let s = map.get_mut(&key)?;
        s.last_seen = Instant::now();
        Some(s.clone())
    }

    /// Ends the session `id` (nothing happens when there is none).
    pub fn end(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&sha256_hex(id));
    }

    /// How many sessions are held (live or not yet pruned).
    pub fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The session id the request's `Cookie` headers carry, if any.
pub fn cookie_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether the browser reached us over HTTPS (directly or through a proxy that says so).
fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// The `Set-Cookie` value that hands the browser session `id`.
pub fn set_cookie(id: &str, request: &HeaderMap) -> Option<HeaderValue> {
    let secure = if over_https(request) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/ui{secure}"
    ))
    .ok()
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("halcytone_ui=; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller {
            key_id: "key_1".into(),
            scopes: vec![Scope::Read, Scope::Write],
            limits: Default::default(),
        }
    }

    #[test]
    fn a_session_holds_the_key_id_and_scopes_and_ends() {
        let sessions = Sessions::default();
        let (id, s) = sessions.start(&caller()).unwrap();
        assert_eq!(id.len(), 64);
        assert_eq!(s.csrf.len(), 64);
        assert_ne!(id, s.csrf);
        let found = sessions.get(&id).unwrap();
        assert_eq!(found.key_id, "key_1");
        assert!(found.allows(Scope::Write) && !found.allows(Scope::Admin));
        assert!(found.csrf_matches(Some(&s.csrf)));
        assert!(!found.csrf_matches(Some("nope")) && !found.csrf_matches(None));
        assert_eq!(found.scope_names(), "read, write");
        // The map is keyed by a hash: the id itself is not stored.
        assert!(!sessions.map.lock().unwrap().contains_key(&id));
        sessions.end(&id);
        assert!(sessions.get(&id).is_none());
        assert!(sessions.is_empty());
    }

    #[test]
    fn an_idle_session_expires() {
        let sessions = Sessions::default();
        let (id, _) = sessions.start(&caller()).unwrap();
        if let Some(s) = sessions.map.lock().unwrap().values_mut().next() {
            s.last_seen = Instant::now()
                .checked_sub(IDLE + Duration::from_secs(1))
                .unwrap();
        }
        assert!(sessions.get(&id).is_none());
        assert!(sessions.is_empty(), "an expired session is removed");
    }

    #[test]
    fn the_cookie_is_read_and_written() {
        let id = "a".repeat(64);
        let mut h = HeaderMap::new();
        assert_eq!(cookie_id(&h), None);
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; {COOKIE}={id}")).unwrap(),
        );
        assert_eq!(cookie_id(&h), Some(id.as_str()));
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("halcytone_ui=short"),
        );
        assert_eq!(cookie_id(&h), None, "a malformed id is ignored");
        let c = set_cookie(&id, &HeaderMap::new()).unwrap();
        let c = c.to_str().unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Path=/ui"));
        assert!(!c.contains("Secure"));
        let mut https = HeaderMap::new();
        https.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(
            set_cookie(&id, &https)
                .unwrap()
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }
}
