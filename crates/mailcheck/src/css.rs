//! What a style sheet or a `style` attribute uses, as far as email clients differ on it:
//! properties, at-rules and media features, selectors and pseudo-classes, value functions,
//! units, `display` values, `!important`, custom properties and comments. A scanner, not a
//! CSS parser: it tolerates anything and reads each byte a bounded number of times.

use std::collections::BTreeSet;

/// Everything of CSS a message's HTML uses (see [`sheet`] and [`declarations`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CssUse {
    /// Property names, lower-cased (`border-radius`); custom properties are not listed.
    pub properties: BTreeSet<String>,
    /// At-rules without the `@` (`media`, `font-face`, `import`, `keyframes`, `supports`).
    pub at_rules: BTreeSet<String>,
    /// Media features named in `@media` preludes (`prefers-color-scheme`, `hover`, …).
    pub media_features: BTreeSet<String>,
    /// Pseudo-classes (`hover`, `not`, `nth-child`) and pseudo-elements (`before`).
    pub pseudo_classes: BTreeSet<String>,
    pub pseudo_elements: BTreeSet<String>,
    /// Kinds of selector: `type`, `class`, `id`, `attribute`, `universal`, `descendant`,
    /// `child`, `adjacent-sibling`, `general-sibling`, `grouping`, `chaining`.
    pub selectors: BTreeSet<&'static str>,
    /// Functions in values (`calc`, `var`, `linear-gradient`, `rgba`, …), lower-cased.
    pub functions: BTreeSet<String>,
    /// Units of lengths (`px`, `em`, `%` as `percent`, …).
    pub units: BTreeSet<String>,
    /// Values given to `display`.
    pub display: BTreeSet<String>,
    /// Font family names given, lower-cased.
    pub font_families: BTreeSet<String>,
    pub important: bool,
    pub custom_properties: bool,
    pub comments: bool,
    /// A rule inside a rule's block (CSS nesting).
    pub nesting: bool,
}

const UNITS: &[&str] = &[
    "px", "em", "rem", "ex", "ch", "vh", "vw", "vmin", "vmax", "pt", "pc", "cm", "mm", "in",
];

/// Depth of nested blocks read at most; deeper ones are skipped.
const MAX_DEPTH: usize = 8;

/// Reads a style sheet (the text of a `<style>` element).
pub fn sheet(css: &str, out: &mut CssUse) {
    let css = strip_comments(css, out);
    rules(&css, out, 0);
}

/// Reads declarations (a `style` attribute, or a rule's block).
pub fn declarations(css: &str, out: &mut CssUse) {
    let css = strip_comments(css, out);
    block(&css, out);
}

fn strip_comments(css: &str, out: &mut CssUse) -> String {
    let mut s = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        out.comments = true;
        s.push_str(&rest[..start]);
        s.push(' ');
        rest = rest[start + 2..]
            .find("*/")
            .map_or("", |end| &rest[start + 2 + end + 2..]);
    }
    s.push_str(rest);
    s
}

/// The index of the `}` closing a block whose `{` is just before `from`, or the end.
fn closing(css: &str, from: usize) -> usize {
    let mut depth = 1usize;
    let mut quote: Option<char> = None;
    for (i, c) in css[from..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '{') => depth += 1,
            (None, '}') => {
                depth -= 1;
                if depth == 0 {
                    return from + i;
                }
            }
            _ => {}
        }
    }
    css.len()
}

fn rules(css: &str, out: &mut CssUse, depth: usize) {
    let mut rest = css;
    loop {
        rest = rest.trim_start();
        let Some(p) = rest.find(['{', ';', '}']) else {
            return;
        };
        let prelude = rest[..p].trim();
        match rest.as_bytes()[p] {
            b'{' => {
                let end = closing(rest, p + 1);
                let body = &rest[p + 1..end];
                rule(prelude, body, out, depth);
                rest = rest.get(end + 1..).unwrap_or("");
            }
            b';' => {
                if let Some(at) = prelude.strip_prefix('@') {
                    out.at_rules.insert(at_name(at));
                }
                rest = &rest[p + 1..];
            }
            _ => rest = &rest[p + 1..],
        }
    }
}

fn at_name(at: &str) -> String {
    at.split(|c: char| c.is_whitespace() || c == '(' || c == '{')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn rule(prelude: &str, body: &str, out: &mut CssUse, depth: usize) {
    if depth >= MAX_DEPTH {
        return;
    }
    if let Some(at) = prelude.strip_prefix('@') {
        let name = at_name(at);
        match name.as_str() {
            "media" => {
                media_features(at, out);
                rules(body, out, depth + 1);
            }
            "supports" | "container" | "layer" | "document" | "-moz-document" => {
                rules(body, out, depth + 1)
            }
            "keyframes" | "-webkit-keyframes" => {
                // Its blocks are keyframe selectors (`from`, `50%`) over declarations.
                let mut kf = CssUse::default();
                rules(body, &mut kf, depth + 1);
                out.properties.extend(kf.properties);
                out.functions.extend(kf.functions);
                out.units.extend(kf.units);
            }
            _ => block(body, out),
        }
        out.at_rules.insert(name);
        return;
    }
    selectors(prelude, out);
    if body.contains('{') {
        out.nesting = true;
        let flat: String = declarations_only(body);
        block(&flat, out);
        rules(body, out, depth + 1);
    } else {
        block(body, out);
    }
}

/// A block's own declarations, without the nested rules in it.
fn declarations_only(body: &str) -> String {
    let mut s = String::new();
    let mut rest = body;
    while let Some(open) = rest.find('{') {
        // The nested rule's selector is the text after the last `;` before its `{`.
        let head = &rest[..open];
        s.push_str(head.rfind(';').map_or("", |semi| &head[..=semi]));
        let end = closing(rest, open + 1);
        rest = rest.get(end + 1..).unwrap_or("");
    }
    s.push_str(rest);
    s
}

fn media_features(prelude: &str, out: &mut CssUse) {
    for part in prelude.split('(').skip(1) {
        let name = part
            .split([':', ')'])
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let name = name
            .trim_start_matches("-webkit-")
            .trim_start_matches("min-")
            .trim_start_matches("max-")
            .trim_start_matches("-webkit-min-")
            .to_string();
        if !name.is_empty() {
            out.media_features.insert(name);
        }
    }
}

fn block(body: &str, out: &mut CssUse) {
    for decl in split_top(body, ';') {
        let Some((prop, value)) = decl.split_once(':') else {
            continue;
        };
        let prop = prop.trim().to_ascii_lowercase();
        if prop.is_empty() || prop.contains(char::is_whitespace) {
            continue;
        }
        if prop.starts_with("--") {
            out.custom_properties = true;
        } else {
            out.properties.insert(prop.clone());
        }
        value_use(&prop, value, out);
    }
}

/// `s` split at `sep` outside parentheses and quotes.
fn split_top(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth = depth.saturating_sub(1),
            (None, c) if c == sep && depth == 0 => {
                parts.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn value_use(prop: &str, value: &str, out: &mut CssUse) {
    let lower = value.to_ascii_lowercase();
    if lower.contains("!important") {
        out.important = true;
    }
    let v = lower.replace("!important", "");
    let v = v.trim();
    if prop == "display" {
        out.display.insert(v.to_string());
    }
    if prop == "font-family" || prop == "font" {
        for f in v.split(',') {
            out.font_families
                .insert(f.trim().trim_matches(['"', '\'']).to_string());
        }
    }
    let bytes = v.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_alphabetic() || b == b'-' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'-') {
                i += 1;
            }
            if bytes.get(i) == Some(&b'(') {
                out.functions.insert(v[start..i].to_string());
                if &v[start..i] == "var" {
                    out.custom_properties = true;
                }
                if &v[start..i] == "url" {
                    // Skip the URL: its text is not CSS.
                    i = v[i..].find(')').map_or(bytes.len(), |e| i + e + 1);
                }
            }
            continue;
        }
        if b.is_ascii_digit() || (b == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            // Not the digits of a hex colour or of an identifier.
            let in_word = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'#');
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'%') {
                i += 1;
            }
            let unit = &v[start..i];
            if !in_word {
                if unit == "%" {
                    out.units.insert("percent".into());
                } else if UNITS.contains(&unit) {
                    out.units.insert(unit.to_string());
                }
            }
            continue;
        }
        i += 1;
    }
}

fn selectors(prelude: &str, out: &mut CssUse) {
    let list = split_top(prelude, ',');
    if list.len() > 1 {
        out.selectors.insert("grouping");
    }
    for sel in list {
        selector(sel.trim(), out);
    }
}

fn selector(sel: &str, out: &mut CssUse) {
    let bytes = sel.as_bytes();
    let mut i = 0;
    // Simple selectors in the current compound, and whether a combinator is pending.
    let mut in_compound = 0usize;
    let mut pending_space = false;
    let ident_end = |from: usize| {
        let mut j = from;
        while j < bytes.len()
            && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'-' || bytes[j] == b'_')
        {
            j += 1;
        }
        j
    };
    while i < bytes.len() {
        let b = bytes[i];
        let combinator = match b {
            b'>' => Some("child"),
            b'+' => Some("adjacent-sibling"),
            b'~' => Some("general-sibling"),
            _ => None,
        };
        if let Some(kind) = combinator {
            out.selectors.insert(kind);
            pending_space = false;
            in_compound = 0;
            i += 1;
            continue;
        }
        if b.is_ascii_whitespace() {
            if in_compound > 0 {
                pending_space = true;
            }
            i += 1;
            continue;
        }
        if pending_space {
            out.selectors.insert("descendant");
            pending_space = false;
            in_compound = 0;
        }
        let simple = match b {
            b'.' => {
                i = ident_end(i + 1);
                "class"
            }
            b'#' => {
                i = ident_end(i + 1);
                "id"
            }
            b'*' => {
                i += 1;
                "universal"
            }
            b'[' => {
                i = sel[i..].find(']').map_or(bytes.len(), |e| i + e + 1);
                "attribute"
            }
            b':' => {
                let element = bytes.get(i + 1) == Some(&b':');
                let start = i + 1 + usize::from(element);
                let end = ident_end(start);
                let name = sel[start..end].to_ascii_lowercase();
                i = end;
                if bytes.get(i) == Some(&b'(') {
                    let close = sel[i..].find(')').map_or(bytes.len(), |e| i + e + 1);
                    if name == "not" || name == "has" || name == "is" || name == "where" {
                        let inner = &sel[i + 1..close.saturating_sub(1).max(i + 1)];
                        selector(inner, out);
                    }
                    i = close;
                }
                // The old one-colon pseudo-elements.
                let legacy = matches!(
                    name.as_str(),
                    "before" | "after" | "first-line" | "first-letter"
                );
                if !name.is_empty() {
                    if element || legacy {
                        out.pseudo_elements.insert(name);
                    } else {
                        out.pseudo_classes.insert(name);
                    }
                }
                in_compound += 1;
                continue;
            }
            c if c.is_ascii_alphabetic() => {
                i = ident_end(i);
                "type"
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.selectors.insert(simple);
        in_compound += 1;
        if in_compound > 1 {
            out.selectors.insert("chaining");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of_sheet(css: &str) -> CssUse {
        let mut u = CssUse::default();
        sheet(css, &mut u);
        u
    }

    #[test]
    fn a_sheet_is_read_for_its_rules_selectors_and_values() {
        let u = of_sheet(
            "/* c */ @import url(x.css); body, td > p.lead:hover { Margin: 0 auto; \
             padding: 1.5em 10%; color: rgba(0,0,0,.5) !important; --x: 1px }\n\
             @media (prefers-color-scheme: dark) and (max-width: 600px) { .a ~ b { display: flex } }\n\
             @font-face { font-family: 'X'; src: url(a;b.woff) }\n\
             a::before { width: calc(100% - 2px); background: #fff linear-gradient(#000, #111) }",
        );
        assert!(u.comments && u.important && u.custom_properties);
        for p in [
            "margin",
            "padding",
            "color",
            "display",
            "font-family",
            "src",
            "width",
        ] {
            assert!(u.properties.contains(p), "{p}: {:?}", u.properties);
        }
        assert_eq!(
            u.at_rules,
            ["font-face", "import", "media"].map(String::from).into()
        );
        assert!(u.media_features.contains("prefers-color-scheme"));
        assert!(u.media_features.contains("width"));
        assert!(u.pseudo_classes.contains("hover"));
        assert!(u.pseudo_elements.contains("before"));
        for s in [
            "type",
            "class",
            "child",
            "grouping",
            "chaining",
            "general-sibling",
        ] {
            assert!(u.selectors.contains(s), "{s}: {:?}", u.selectors);
        }
        for f in ["rgba", "calc", "linear-gradient", "url"] {
            assert!(u.functions.contains(f), "{f}");
        }
        assert!(u.units.contains("em") && u.units.contains("percent") && u.units.contains("px"));
        assert!(!u.units.contains("f"), "hex colours are not units");
        assert!(u.display.contains("flex"));
    }

    #[test]
    fn a_style_attribute_is_read_as_declarations() {
        let mut u = CssUse::default();
        declarations(
            "font-family: system-ui, sans-serif; border-radius:4px",
            &mut u,
        );
        assert!(u.font_families.contains("system-ui"));
        assert!(u.properties.contains("border-radius"));
    }

    #[test]
    fn nested_rules_are_noticed() {
        let u = of_sheet(".card { color: red; & .title { font-weight: bold } }");
        assert!(u.nesting);
        assert!(u.properties.contains("color") && u.properties.contains("font-weight"));
    }

    #[test]
    fn junk_never_panics() {
        for junk in [
            "",
            "{",
            "}",
            "@",
            "@media",
            "@media (",
            "a{",
            "a{b:",
            ":",
            "::",
            "a:not(",
            "[x",
            "/*",
            "é{é:é}",
            "{{{{{{{{{{{{{{",
            "a{b:url(",
            "1.",
        ] {
            let _ = of_sheet(junk);
            let mut u = CssUse::default();
            declarations(junk, &mut u);
        }
    }
}
