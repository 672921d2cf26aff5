//! A tolerant scanner of HTML as it appears in email: tags with their attributes, text,
//! comments and the raw text of `<style>` and `<script>`, in document order. Not an HTML
//! parser (no tree, no implied end tags), which is all a check needs; it never panics and
//! reads every byte once, whatever it is given.

/// One piece of the document, as [`walk`] meets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token<'a> {
    /// A start tag (`<a href=…>`, `<br/>`): its lower-cased name and attributes (names
    /// lower-cased, values as written, character references not yet decoded).
    Start {
        name: String,
        attrs: Vec<(String, String)>,
    },
    /// An end tag's lower-cased name.
    End(String),
    /// Text between tags, as written.
    Text(&'a str),
    /// The inside of `<!-- … -->`.
    Comment(&'a str),
    /// `<!DOCTYPE …>` (or any other `<!…>` declaration): its inside.
    Declaration(&'a str),
    /// The content of a `<style>` or `<script>` element, which is not markup.
    Raw { element: String, text: &'a str },
}

/// Calls `visit` with each token of `html`, in order.
pub fn walk<'a>(html: &'a str, mut visit: impl FnMut(Token<'a>)) {
    let bytes = html.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let Some(lt) = find(bytes, i, b"<") else {
            visit(Token::Text(&html[i..]));
            break;
        };
        if lt > i {
            visit(Token::Text(&html[i..lt]));
        }
        i = lt + 1;
        let rest = &bytes[i..];
        if rest.starts_with(b"!--") {
            let end = find(bytes, i + 3, b"-->");
            visit(Token::Comment(
                html.get(i + 3..end.unwrap_or(bytes.len()))
                    .unwrap_or_default(),
            ));
            i = end.map_or(bytes.len(), |e| e + 3);
            continue;
        }
        if rest.first() == Some(&b'!') {
            let end = find(bytes, i, b">").unwrap_or(bytes.len());
            visit(Token::Declaration(html.get(i + 1..end).unwrap_or_default()));
            i = (end + 1).min(bytes.len());
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let name_start = i + usize::from(closing);
        if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            // A lone `<` is text.
            visit(Token::Text(&html[lt..name_start.min(bytes.len())]));
            i = name_start;
            continue;
        }
        let name_end = scan(bytes, name_start, |b| {
            b.is_ascii_whitespace() || b == b'>' || b == b'/'
        });
        let name = html
            .get(name_start..name_end)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let (attrs, end) = attributes(html, name_end);
        i = end;
        if closing {
            visit(Token::End(name));
            continue;
        }
        let raw = name == "script" || name == "style";
        visit(Token::Start {
            name: name.clone(),
            attrs,
        });
        if raw {
            let close = format!("</{name}");
            let stop = find_ascii_ci(bytes, i, close.as_bytes()).unwrap_or(bytes.len());
            visit(Token::Raw {
                element: name.clone(),
                text: html.get(i..stop).unwrap_or_default(),
            });
            i = stop;
        }
    }
}

/// The value of attribute `name` among `attrs`, character references decoded.
pub fn attr(attrs: &[(String, String)], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| decode_references(v))
}

/// The attributes of a tag whose name ends at `from`, and where the tag ends.
pub fn attributes(html: &str, from: usize) -> (Vec<(String, String)>, usize) {
    let bytes = html.as_bytes();
    let mut attrs = Vec::new();
    let mut i = from;
    loop {
        i = scan(bytes, i, |b| !(b.is_ascii_whitespace() || b == b'/'));
        match bytes.get(i) {
            None => return (attrs, bytes.len()),
            Some(b'>') => return (attrs, i + 1),
            Some(_) => {}
        }
        let name_end = scan(bytes, i + 1, |b| {
            b.is_ascii_whitespace() || matches!(b, b'=' | b'>' | b'/')
        });
        let name = html
            .get(i..name_end)
            .unwrap_or_default()
            .to_ascii_lowercase();
        i = scan(bytes, name_end, |b| !b.is_ascii_whitespace());
        if bytes.get(i) != Some(&b'=') {
            attrs.push((name, String::new()));
            continue;
        }
        i = scan(bytes, i + 1, |b| !b.is_ascii_whitespace());
        let value = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let end = find(bytes, i + 1, &[q]).unwrap_or(bytes.len());
                let v = html.get(i + 1..end).unwrap_or_default();
                i = (end + 1).min(bytes.len());
                v
            }
            _ => {
                let end = scan(bytes, i, |b| b.is_ascii_whitespace() || b == b'>');
                let v = html.get(i..end).unwrap_or_default();
                i = end;
                v
            }
        };
        attrs.push((name, value.to_string()));
    }
}

/// The first index at or after `from` whose byte satisfies `stop` (or the length).
pub fn scan(bytes: &[u8], from: usize, stop: impl Fn(u8) -> bool) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| rest.iter().position(|b| stop(*b)))
        .map_or(bytes.len(), |p| from + p)
}

/// Where `needle` next stands at or after `from`.
pub fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// [`find`] in any ASCII letter case.
pub fn find_ascii_ci(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}

/// Decodes character references as a browser does in an attribute: numeric ones (with or
/// without `;`) and the named ones (with `;`) that can hide a scheme or that text uses most.
pub fn decode_references(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        match reference(rest) {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character a reference at the start of `s` (which starts with `&`) stands for, and its
/// length in bytes.
fn reference(s: &str) -> Option<(char, usize)> {
    let body = s.get(1..)?;
    if let Some(num) = body.strip_prefix('#') {
        let (digits, radix, skip) = match num.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16, 3),
            None => (num, 10, 2),
        };
        let len = digits
            .find(|c: char| !c.is_digit(radix))
            .unwrap_or(digits.len());
        if len == 0 {
            return None;
        }
        let value = u32::from_str_radix(&digits[..len], radix).unwrap_or(0xFFFD);
        let c = char::from_u32(value)
            .filter(|c| *c != '\0')
            .unwrap_or('\u{FFFD}');
        let semi = usize::from(digits[len..].starts_with(';'));
        return Some((c, skip + len + semi));
    }
    const NAMED: &[(&str, char)] = &[
        ("amp;", '&'),
        ("lt;", '<'),
        ("gt;", '>'),
        ("quot;", '"'),
        ("apos;", '\''),
        ("colon;", ':'),
        ("Tab;", '\t'),
        ("NewLine;", '\n'),
        ("sol;", '/'),
        ("nbsp;", '\u{A0}'),
    ];
    NAMED
        .iter()
        .find(|(name, _)| body.starts_with(name))
        .map(|(name, c)| (*c, 1 + name.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(html: &str) -> Vec<Token<'_>> {
        let mut out = Vec::new();
        walk(html, |t| out.push(t));
        out
    }

    #[test]
    fn tags_text_comments_and_raw_text_come_in_order() {
        let html = "<!DOCTYPE html><P Class=a>Hi &amp; <b>there</b><!-- c --><style>a>b{}</style> 1 < 2</p>";
        let t = tokens(html);
        assert_eq!(t[0], Token::Declaration("DOCTYPE html"));
        assert_eq!(
            t[1],
            Token::Start {
                name: "p".into(),
                attrs: vec![("class".into(), "a".into())]
            }
        );
        assert_eq!(t[2], Token::Text("Hi &amp; "));
        assert_eq!(t[4], Token::Text("there"));
        assert_eq!(t[5], Token::End("b".into()));
        assert_eq!(t[6], Token::Comment(" c "));
        assert_eq!(
            t[8],
            Token::Raw {
                element: "style".into(),
                text: "a>b{}"
            }
        );
        assert!(t.contains(&Token::Text("<")));
        assert_eq!(t.last(), Some(&Token::End("p".into())));
    }

    #[test]
    fn junk_never_panics() {
        for junk in [
            "", "<", "</", "<!", "<!--", "<a", "<a b='", "<style>", "<é>", "</é", "&#", "<!x",
            "<<<>>>", "<a\u{0}>",
        ] {
            let _ = tokens(junk);
            let _ = decode_references(junk);
        }
        assert_eq!(decode_references("&#99999999;"), "\u{FFFD}");
        assert_eq!(decode_references("a&amp;b&x"), "a&b&x");
    }
}
