//! Encryption at rest for the credentials Halcytone keeps in its database: the CRM and
//! Platform API keys an operator stores through the API or the CLI, and (later) the social
//! networks' OAuth tokens.
//!
//! Each value is sealed with AES-256-GCM under a data key derived (HKDF-SHA256) from
//! `API_KEY_ENCRYPTION_KEY`. The credential's name is the associated data, so a sealed value
//! copied into another row does not open. A sealed value names the key that sealed it, so
//! after a rotation the old key (`API_KEY_ENCRYPTION_KEY_PREVIOUS`) still opens what it
//! sealed until everything has been sealed again under the new one.
//!
//! This crate does no I/O: the store keeps the sealed text, the binary supplies the keys.

mod error;
mod key;
mod keyring;
mod secret;

pub use error::VaultError;
pub use key::{DataKey, MIN_PASSPHRASE_CHARS, STRONG_PASSPHRASE_CHARS};
pub use keyring::{Keyring, Sealed};
pub use secret::Secret;
