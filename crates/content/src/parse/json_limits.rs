//! Limits on JSON documents, checked in one pass before parsing: a document larger than
//! [`MAX_JSON_BYTES`] or nested deeper than [`MAX_JSON_DEPTH`] is refused with an error that
//! names the limit (and, for depth, the line), so no JSON document costs more than linear
//! time and bounded memory to read. A living document is four levels deep
//! (`{"categories": {"tips": [{…}]}}`, a list of channels one more).

use super::ParseError;

/// Largest JSON document read, in bytes.
pub const MAX_JSON_BYTES: usize = 8 * 1024 * 1024;

/// Deepest nesting of objects and arrays accepted.
pub const MAX_JSON_DEPTH: usize = 32;

/// Checks `text` against both limits. Syntax errors are left to the parser.
pub fn check(text: &str) -> Result<(), ParseError> {
    if text.len() > MAX_JSON_BYTES {
        return Err(ParseError::TooLarge {
            bytes: text.len(),
            limit: MAX_JSON_BYTES,
        });
    }
    let mut depth = 0_usize;
    let mut line = 1_usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in text.as_bytes() {
        if b == b'\n' {
            line += 1;
        }
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(ParseError::TooDeep {
                        line,
                        limit: MAX_JSON_DEPTH,
                    });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_documents_pass() {
        assert_eq!(
            check(r#"{"categories": {"tips": [{"title": "[{x", "channels": ["email"]}]}}"#),
            Ok(())
        );
        // Brackets inside strings, escaped quotes included, do not count.
        let inside = format!(r#"{{"t": "\"{}"}}"#, "[".repeat(100));
        assert_eq!(check(&inside), Ok(()));
    }

    #[test]
    fn deep_nesting_is_refused_with_its_line() {
        let deep = format!("{{\n\"a\": {}{}}}", "[".repeat(40), "]".repeat(40));
        assert_eq!(
            check(&deep),
            Err(ParseError::TooDeep {
                line: 2,
                limit: MAX_JSON_DEPTH
            })
        );
        let ok = format!("{{\"a\": {}{}}}", "[".repeat(31), "]".repeat(31));
        assert_eq!(check(&ok), Ok(()));
    }

    #[test]
    fn oversize_documents_are_refused() {
        let big = " ".repeat(MAX_JSON_BYTES + 1);
        assert!(matches!(check(&big), Err(ParseError::TooLarge { .. })));
    }
}
