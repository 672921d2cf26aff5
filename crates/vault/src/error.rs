/// Why a key could not be made or a value could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("{var} is too short: it needs at least {min} characters (it has {len})")]
    ShortKey {
        var: &'static str,
        min: usize,
        len: usize,
    },
    #[error(
        "credential {name} was sealed with key {key_id}, which is neither API_KEY_ENCRYPTION_KEY nor API_KEY_ENCRYPTION_KEY_PREVIOUS"
    )]
    UnknownKey { name: String, key_id: String },
    #[error("credential {name} is not a sealed value ({why})")]
    Malformed { name: String, why: &'static str },
    #[error(
        "credential {name} does not open with key {key_id}: it was altered, or belongs to another credential"
    )]
    Tampered { name: String, key_id: String },
    #[error("the system random generator or cipher failed")]
    Crypto,
}
