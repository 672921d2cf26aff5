//! Halcytone's content engine: the living-document model, its parsers, composition of every
//! channel (newsletter, web post, social posts) in a tone and template, and validation.
//!
//! Pure by design — no I/O, no clock, no randomness. Callers pass the text, the templates
//! and "now"; the same inputs always produce byte-identical output.
#![forbid(unsafe_code)]

pub mod approval;
pub mod compose;
pub mod content_type;
pub mod json_numbers;
pub mod model;
pub mod parse;
pub mod platform;
pub mod session;
pub mod social;
pub mod stop;
pub mod templates;
pub mod text;
pub mod tone;
pub mod validate;

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
