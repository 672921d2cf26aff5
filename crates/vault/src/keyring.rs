use crate::{DataKey, Secret, VaultError};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The prefix of every sealed value; a later format gets a new one.
const FORMAT: &str = "hv1";

/// A sealed credential as stored: `hv1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub text: String,
    pub key_id: String,
}

/// The current key, which seals, and the previous keys, which only open.
#[derive(Debug, Clone)]
pub struct Keyring {
    current: DataKey,
    previous: Vec<DataKey>,
}

impl Keyring {
    pub fn new(current: DataKey, previous: Vec<DataKey>) -> Self {
        Keyring { current, previous }
    }

    /// From `API_KEY_ENCRYPTION_KEY` and, during a rotation, `API_KEY_ENCRYPTION_KEY_PREVIOUS`
    /// (the key being retired; any character may appear in either). `Ok(None)` when no key
    /// is configured: credentials then cannot be stored.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Option<Keyring>, VaultError> {
        let Some(current) = get("API_KEY_ENCRYPTION_KEY").filter(|v| !v.trim().is_empty()) else {
            return Ok(None);
        };
        let current = DataKey::derive("API_KEY_ENCRYPTION_KEY", current.trim())?;
        if current.is_weak() {
            tracing::warn!(
                key_id = current.id(),
                "API_KEY_ENCRYPTION_KEY has fewer than 32 characters: it is stretched with PBKDF2 and accepted, but a longer random key (openssl rand -base64 32) is stronger"
            );
        }
        let previous = get("API_KEY_ENCRYPTION_KEY_PREVIOUS")
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .map(|p| DataKey::derive("API_KEY_ENCRYPTION_KEY_PREVIOUS", &p))
            .transpose()?
            .into_iter()
            .collect();
        Ok(Some(Keyring::new(current, previous)))
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        self.current.id()
    }

    /// Ids of the keys that still open older values.
    pub fn previous_ids(&self) -> Vec<&str> {
        self.previous.iter().map(DataKey::id).collect()
    }

    /// Seals `value` for the credential `name` under the current key, with a fresh random
    /// nonce.
    pub fn seal(&self, name: &str, value: &Secret) -> Result<Sealed, VaultError> {
        let key = cipher(&self.current)?;
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| VaultError::Crypto)?;
        let mut body = value.expose().as_bytes().to_vec();
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), aad(name), &mut body)
            .map_err(|_| VaultError::Crypto)?;
        let mut raw = nonce.to_vec();
        raw.extend_from_slice(&body);
        Ok(Sealed {
            text: format!(
                "{FORMAT}:{}:{}",
                self.current.id(),
                URL_SAFE_NO_PAD.encode(raw)
            ),
            key_id: self.current.id().to_string(),
        })
    }

    /// Opens a sealed value of the credential `name` with whichever configured key sealed it.
    pub fn open(&self, name: &str, sealed: &str) -> Result<Secret, VaultError> {
        let malformed = |why| VaultError::Malformed {
            name: name.to_string(),
            why,
        };
        let mut parts = sealed.splitn(3, ':');
        let (Some(format), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("expected hv1:<key id>:<data>"));
        };
        if format != FORMAT {
            return Err(malformed("unknown format"));
        }
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id() == key_id)
            .ok_or_else(|| VaultError::UnknownKey {
                name: name.to_string(),
                key_id: key_id.to_string(),
            })?;
        let raw = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| malformed("the data is not base64url"))?;
        if raw.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(malformed("the data is too short"));
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| VaultError::Crypto)?;
        let mut rest = rest.to_vec();
        let tampered = || VaultError::Tampered {
            name: name.to_string(),
            key_id: key_id.to_string(),
        };
        let plain = cipher(key)?
            .open_in_place(nonce, aad(name), &mut rest)
            .map_err(|_| tampered())?;
        let text = String::from_utf8(plain.to_vec()).map_err(|_| tampered())?;
        Ok(Secret::new(text))
    }

    /// Whether a sealed value should be sealed again under the current key (a rotation is
    /// under way, or the value is in an older format).
    pub fn needs_reseal(&self, sealed: &str) -> bool {
        let prefix = format!("{FORMAT}:{}:", self.current.id());
        !sealed.starts_with(&prefix)
    }
}

fn cipher(key: &DataKey) -> Result<LessSafeKey, VaultError> {
    UnboundKey::new(&AES_256_GCM, key.bytes())
        .map(LessSafeKey::new)
        .map_err(|_| VaultError::Crypto)
}

fn aad(name: &str) -> Aad<Vec<u8>> {
    Aad::from(format!("halcytone credential {name}").into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "old passphrase that is long enough for the key";
    const NEW: &str = "new passphrase that is long enough for the key";

    fn ring(current: &str, previous: &[&str]) -> Keyring {
        let key = |p: &str| DataKey::derive("K", p).unwrap_or_else(|e| unreachable!("{e}"));
        Keyring::new(key(current), previous.iter().map(|p| key(p)).collect())
    }

    fn ok<T>(r: Result<T, VaultError>) -> T {
        r.unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn a_value_round_trips_and_the_stored_text_hides_it() {
        let k = ring(NEW, &[]);
        let secret = Secret::new("crm-live-key-0123456789");
        let sealed = ok(k.seal("crm_api_key", &secret));
        assert!(sealed.text.starts_with(&format!("hv1:{}:", k.current_id())));
        assert!(!sealed.text.contains("crm-live"));
        assert_eq!(ok(k.open("crm_api_key", &sealed.text)), secret);
        // A fresh nonce each time: sealing twice never gives the same text.
        assert_ne!(ok(k.seal("crm_api_key", &secret)).text, sealed.text);
    }

    #[test]
    fn a_value_moved_to_another_name_or_altered_does_not_open() {
        let k = ring(NEW, &[]);
        let sealed = ok(k.seal("crm_api_key", &Secret::new("abc"))).text;
        assert!(matches!(
            k.open("platform_api_key", &sealed),
            Err(VaultError::Tampered { .. })
        ));
        // A character well inside the data: every one of its bits is used (the last one
        // may carry unused padding bits).
        let mut altered = sealed.clone().into_bytes();
        let inside = altered.len() - 8;
        altered[inside] = if altered[inside] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap_or_default();
        assert!(matches!(
            k.open("crm_api_key", &altered),
            Err(VaultError::Tampered { .. })
        ));
        for bad in ["", "hv1:", "hv2:abcd:AAAA", "hv1:zzzz:AAAA"] {
            assert!(k.open("crm_api_key", bad).is_err(), "{bad}");
        }
        assert!(matches!(
            k.open("crm_api_key", &format!("hv1:{}:!!", k.current_id())),
            Err(VaultError::Malformed { .. })
        ));
    }

    #[test]
    fn rotation_opens_old_values_with_the_previous_key_and_reseals_under_the_new() {
        let before = ring(OLD, &[]);
        let sealed = ok(before.seal("platform_api_key", &Secret::new("p-123"))).text;
        let during = ring(NEW, &[OLD]);
        assert!(during.needs_reseal(&sealed));
        let opened = ok(during.open("platform_api_key", &sealed));
        let resealed = ok(during.seal("platform_api_key", &opened)).text;
        assert!(!during.needs_reseal(&resealed));
        // After the rotation the old key is gone and the new text still opens.
        let after = ring(NEW, &[]);
        assert_eq!(
            ok(after.open("platform_api_key", &resealed)).expose(),
            "p-123"
        );
        let e = after.open("platform_api_key", &sealed).unwrap_err();
        assert!(e.to_string().contains(before.current_id()), "{e}");
        assert!(matches!(e, VaultError::UnknownKey { .. }));
    }

    #[test]
    fn keys_come_from_the_environment() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(ok(Keyring::from_vars(vars(&[]))).is_none());
        let k = ok(Keyring::from_vars(vars(&[
            ("API_KEY_ENCRYPTION_KEY", NEW),
            ("API_KEY_ENCRYPTION_KEY_PREVIOUS", OLD),
        ])))
        .unwrap_or_else(|| unreachable!());
        assert_eq!(k.previous_ids(), [ring(OLD, &[]).current_id()]);
        let e = Keyring::from_vars(vars(&[
            ("API_KEY_ENCRYPTION_KEY", NEW),
            ("API_KEY_ENCRYPTION_KEY_PREVIOUS", "short"),
        ]))
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("API_KEY_ENCRYPTION_KEY_PREVIOUS is too short")
        );
    }
}
