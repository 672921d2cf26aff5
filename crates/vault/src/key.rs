use crate::VaultError;
use aws_lc_rs::{digest, hkdf, pbkdf2};
use std::fmt;
use std::num::NonZeroU32;

/// The shortest `API_KEY_ENCRYPTION_KEY` accepted (the seeds' example has 30 characters).
pub const MIN_PASSPHRASE_CHARS: usize = 16;

/// From this length a passphrase is taken to carry a key's worth of entropy and goes
/// through HKDF alone; a shorter one is stretched with PBKDF2 and warned about.
pub const STRONG_PASSPHRASE_CHARS: usize = 32;

const SALT: &[u8] = b"halcytone/credentials/v1";
const INFO: &[u8] = b"aes-256-gcm data key";

/// PBKDF2-HMAC-SHA256 rounds for a short passphrase (OWASP's 2023 figure is 600,000 for
/// user passwords; a configuration secret is derived once at start, so we take the same).
const STRETCH_ROUNDS: u32 = 600_000;

/// A 256-bit data key and its short public id (the first 8 hex digits of a SHA-256 over the
/// key, so the id says which key sealed a value without revealing anything usable).
#[derive(Clone)]
pub struct DataKey {
    bytes: [u8; 32],
    id: String,
    weak: bool,
}

impl DataKey {
    /// Derives the data key from an operator's passphrase (`var` names it in errors).
    pub fn derive(var: &'static str, passphrase: &str) -> Result<Self, VaultError> {
        let len = passphrase.chars().count();
        if len < MIN_PASSPHRASE_CHARS {
            return Err(VaultError::ShortKey {
                var,
                min: MIN_PASSPHRASE_CHARS,
                len,
            });
        }
        let mut bytes = [0u8; 32];
        let weak = len < STRONG_PASSPHRASE_CHARS;
        if weak {
            // Too little entropy for HKDF alone: make each guess cost 600,000 rounds.
            let rounds = NonZeroU32::new(STRETCH_ROUNDS).ok_or(VaultError::Crypto)?;
            pbkdf2::derive(
                pbkdf2::PBKDF2_HMAC_SHA256,
                rounds,
                SALT,
                passphrase.as_bytes(),
                &mut bytes,
            );
        } else {
            hkdf::Salt::new(hkdf::HKDF_SHA256, SALT)
                .extract(passphrase.as_bytes())
                .expand(&[INFO], hkdf::HKDF_SHA256)
                .and_then(|okm| okm.fill(&mut bytes))
                .map_err(|_| VaultError::Crypto)?;
        }
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(b"halcytone key id\0");
        ctx.update(&bytes);
        let id = ctx.finish().as_ref()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(DataKey { bytes, id, weak })
    }

    /// Whether the key came from a passphrase shorter than [`STRONG_PASSPHRASE_CHARS`]
    /// (stretched, accepted, but worth replacing).
    pub fn is_weak(&self) -> bool {
        self.weak
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey").field("id", &self.id).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_passphrase_gives_the_same_key_and_another_a_different_one() {
        let a = DataKey::derive("K", "correct horse battery staple, 32+ chars")
            .unwrap_or_else(|e| unreachable!("{e}"));
        let b = DataKey::derive("K", "correct horse battery staple, 32+ chars")
            .unwrap_or_else(|e| unreachable!("{e}"));
        let c = DataKey::derive("K", "correct horse battery staple, 32+ chars!")
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(a.id(), b.id());
        assert_eq!(a.bytes(), b.bytes());
        assert_ne!(a.id(), c.id());
        assert_eq!(a.id().len(), 8);
        assert_eq!(format!("{a:?}"), format!("DataKey {{ id: {:?} }}", a.id()));
    }

    #[test]
    fn short_passphrases_are_refused_with_the_variable_name() {
        let e = DataKey::derive("API_KEY_ENCRYPTION_KEY", "too short").unwrap_err();
        assert_eq!(
            e.to_string(),
            "API_KEY_ENCRYPTION_KEY is too short: it needs at least 16 characters (it has 9)"
        );
    }

    #[test]
    fn the_seeds_thirty_character_key_is_stretched_and_marked_weak() {
        // The example .env of the earlier service.
        let seed = DataKey::derive("K", "production-encryption-key-2025")
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert!(seed.is_weak());
        let again = DataKey::derive("K", "production-encryption-key-2025")
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(seed.bytes(), again.bytes());
        // Stretching and HKDF give different keys; a long passphrase keeps its HKDF key.
        let long = DataKey::derive("K", "production-encryption-key-2025!!")
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert!(!long.is_weak());
        assert_ne!(seed.bytes(), long.bytes());
    }
}
