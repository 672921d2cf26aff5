//! Halcytone's content engine: the living-document model, its parsers, composition of every
//! channel (newsletter, web post, social posts) in a tone and template, and validation.
//!
//! Pure by design — no I/O, no clock, no randomness. Callers pass the text, the templates
//! and "now"; the same inputs always produce byte-identical output.
#![forbid(unsafe_code)]

/// `Display` for closed sets of values: each writes its name (`as_str`).
macro_rules! impl_display_by_name {
    ($($ty:ty),+ $(,)?) => {
        $(
            impl ::std::fmt::Display for $ty {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }
        )+
    };
}

/// `FromStr` for a closed set of values: the one of `ALL` whose name (`as_str`) is the text
/// in any letter case, blanks around ignored; else an `UnknownValue` naming `$field`.
macro_rules! impl_from_str_by_name {
    ($ty:ty, $field:literal) => {
        impl ::std::str::FromStr for $ty {
            type Err = $crate::model::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim().to_ascii_lowercase();
                $crate::model::UnknownValue::pick($field, s, &wanted, Self::ALL, Self::as_str)
            }
        }
    };
}

pub mod approval;
pub mod compose;
pub mod content_type;
pub mod feed;
pub mod json_numbers;
pub mod model;
pub mod parse;
pub mod platform;
pub mod session;
pub mod social;
pub mod stop;
pub mod strict;
pub mod templates;
pub mod text;
pub mod tone;
pub mod validate;
pub mod vars;
mod words;

pub use compose::{
    Brand, Bundle, ComposeError, ComposeOptions, EmailTemplate, Personalization, compose,
};
pub use model::{Category, Channel, ContentType, LivingDocument, SourceFormat, UnknownValue};
pub use parse::{ParseError, parse};
pub use platform::Platform;
pub use stop::Stop;
pub use templates::Templates;
pub use tone::Tone;
pub use validate::{Issue, Report, Severity, validate};

/// What the unit tests share.
#[cfg(test)]
pub(crate) mod test_support {
    use chrono::{DateTime, TimeZone, Utc};

    /// The fixed "now" of the tests: 2026-11-24 12:00 UTC.
    pub(crate) fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0)
            .single()
            .unwrap_or_default()
    }
}
