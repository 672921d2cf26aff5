//! Parsers that turn living-document text into a [`LivingDocument`].
//!
//! The format is detected from the text (or forced by the caller): JSON when it opens with
//! `{`, Markdown when it has `#` headings or `**Date:**`-style metadata, freeform otherwise.

pub mod category;
pub mod flags;
pub mod freeform;
pub mod json;
pub mod json_limits;
pub mod markdown;

use crate::model::{LivingDocument, SourceFormat};
use std::borrow::Cow;

/// Why a document could not be read at all. Softer problems become notes on the document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the document is empty")]
    Empty,
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    InvalidJson {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("unexpected JSON layout: {message}")]
    JsonShape { message: String },
    #[error("JSON nested deeper than {limit} levels at line {line}")]
    TooDeep { line: usize, limit: usize },
    #[error("JSON document of {bytes} bytes is larger than the limit of {limit} bytes")]
    TooLarge { bytes: usize, limit: usize },
}

impl ParseError {
    /// The 1-based source line the error points at, when it has one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ParseError::InvalidJson { line, .. } | ParseError::TooDeep { line, .. } => Some(*line),
            _ => None,
        }
    }
}

/// `text` in normalization form C, borrowed when it already is.
pub fn nfc(text: &str) -> Cow<'_, str> {
    use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => Cow::Borrowed(text),
        IsNormalized::No | IsNormalized::Maybe => Cow::Owned(text.nfc().collect()),
    }
}

/// Picks the format a text is most likely written in.
pub fn detect(text: &str) -> SourceFormat {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        return SourceFormat::Json;
    }
    let markdownish = text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("# ")
            || l.starts_with("## ")
            || l.starts_with("### ")
            || l.starts_with("<!--")
            || l.contains("**Date:**")
            || l.contains("**Content:**")
    });
    if markdownish {
        SourceFormat::Markdown
    } else {
        SourceFormat::Freeform
    }
}

/// Parses `text` in `format`, or in the detected format when `format` is `None`.
///
/// The text is put in Unicode normalization form C first (without copying when it already
/// is, as nearly all text is), so every later pass sees one spelling of each character:
/// `e` + U+0301 and `é` count, compare and cut alike, and X's counting (which is done on
/// NFC) can measure a piece of a post without normalizing the whole text again.
pub fn parse(text: &str, format: Option<SourceFormat>) -> Result<LivingDocument, ParseError> {
    let text = nfc(text);
    let text = text.as_ref();
    if text
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .is_empty()
    {
        return Err(ParseError::Empty);
    }
    match format.unwrap_or_else(|| detect(text)) {
        SourceFormat::Markdown => Ok(markdown::parse(text)),
        SourceFormat::Json => json::parse(text),
        SourceFormat::Freeform => Ok(freeform::parse(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection() {
        assert_eq!(detect("  {\"categories\": {}}"), SourceFormat::Json);
        assert_eq!(detect("## [Tips] x\n### y"), SourceFormat::Markdown);
        assert_eq!(
            detect("Title\nBody text [with] brackets"),
            SourceFormat::Freeform
        );
    }

    #[test]
    fn text_is_read_in_nfc() {
        let doc = parse("Cafe\u{301} notes\nThe cafe\u{301} opens.", None)
            .unwrap_or_else(|e| panic!("{e}"));
        let item = &doc.sections[0].items[0];
        assert_eq!(item.title, "Caf\u{e9} notes");
        assert_eq!(item.content, "The caf\u{e9} opens.");
        assert!(matches!(nfc("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn blank_text_is_empty() {
        assert_eq!(parse(" \n\t\n", None), Err(ParseError::Empty));
        assert_eq!(parse("\u{feff}", None), Err(ParseError::Empty));
    }
}
