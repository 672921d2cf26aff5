//! Who is calling: the identity an accepted API key stands for, with its scopes and budgets.
//! The edge resolves a presented key to a caller; use cases check the scopes they need.

use halcytone_store::{KeyLimits, Scope};

/// Who is calling, when a key was presented and accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Key id (`env:API_KEY` for the configured key); used for audit and rate limits.
    pub key_id: String,
    pub scopes: Vec<Scope>,
    /// The key's own request budgets (empty: the service's).
    pub limits: KeyLimits,
}

impl Caller {
    pub fn allows(&self, needed: Scope) -> bool {
        self.scopes.iter().any(|s| *s >= needed)
    }
}

/// The caller, when there is one and its key has the `needed` scope.
pub fn require(caller: Option<&Caller>, needed: Scope) -> Result<&Caller, crate::AppError> {
    match caller {
        None => Err(crate::AppError::Unauthenticated),
        Some(c) if c.allows(needed) => Ok(c),
        Some(_) => Err(crate::AppError::MissingScope(needed.as_str())),
    }
}
