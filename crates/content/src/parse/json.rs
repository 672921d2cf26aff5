//! Structured JSON: `{"title": …, "categories": {"tips": [ {title, content, date, …} ]}}`,
//! or the categories at the top level (`{"breathscape": [...], "tips": [...]}`).

use super::{ParseError, category, flags};
use crate::model::{
    Category, Flags, Item, ItemDate, ItemLines, LivingDocument, ParseNote, Section, SourceFormat,
};
use serde_json::{Map, Value};

/// Item fields that are not flags.
const ITEM_FIELDS: [&str; 3] = ["title", "content", "date"];
/// Top-level keys that are document metadata rather than categories.
const DOC_KEYS: [&str; 2] = ["title", "categories"];

pub fn parse(text: &str) -> Result<LivingDocument, ParseError> {
    super::json_limits::check(text)?;
    let value: Value = serde_json::from_str(text).map_err(|e| ParseError::InvalidJson {
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })?;
    let Value::Object(root) = value else {
        return Err(ParseError::JsonShape {
            message: "the top level must be an object with a \"categories\" object".into(),
        });
    };
    let mut doc = LivingDocument::empty(SourceFormat::Json);
    let mut locator = Locator::new(text);
    doc.title = root
        .get("title")
        .and_then(Value::as_str)
        .map(str::to_string);

    let (categories, nested) = match root.get("categories") {
        Some(Value::Object(c)) => (c.clone(), true),
        Some(_) => {
            return Err(ParseError::JsonShape {
                message: "\"categories\" must be an object of category name to item list".into(),
            });
        }
        None => (root.clone(), false),
    };
    if nested {
        for (key, value) in &root {
            if DOC_KEYS.contains(&key.as_str()) {
                continue;
            }
            apply_flag_value(&mut doc.flags, key, value, 1, &mut doc.notes);
        }
    }

    // Known categories first, in their canonical order, then any others.
    let mut names: Vec<&String> = categories.keys().collect();
    names.sort_by_key(|k| Category::from_name(k).map_or(usize::MAX, |c| c as usize));

    for name in names {
        if !nested && DOC_KEYS.contains(&name.as_str()) {
            continue;
        }
        let Some(Value::Array(items)) = categories.get(name) else {
            doc.notes.push(ParseNote {
                line: locator.key_line(name),
                code: "invalid_field",
                message: format!("category \"{name}\" must be a list of items"),
            });
            continue;
        };
        let explicit = Category::from_name(name);
        for (idx, raw) in items.iter().enumerate() {
            let Value::Object(fields) = raw else {
                doc.notes.push(ParseNote {
                    line: locator.key_line(name),
                    code: "invalid_field",
                    message: format!("{name}[{idx}] must be an object with title and content"),
                });
                continue;
            };
            let item = read_item(fields, &mut locator, &mut doc.notes);
            let category = explicit.unwrap_or_else(|| {
                category::from_heading(name).unwrap_or_else(|| {
                    category::from_text(&format!("{} {}", item.title, item.content))
                })
            });
            push_item(&mut doc, category, name, explicit.is_some(), item);
        }
    }
    Ok(doc)
}

fn push_item(doc: &mut LivingDocument, category: Category, name: &str, explicit: bool, item: Item) {
    if let Some(section) = doc.sections.iter_mut().find(|s| s.category == category) {
        section.items.push(item);
        return;
    }
    doc.sections.push(Section {
        heading: if explicit {
            crate::compose::sections::default_heading(category).to_string()
        } else {
            name.to_string()
        },
        category,
        category_explicit: explicit,
        line: item.lines.start,
        items: vec![item],
    });
}

fn read_item(
    fields: &Map<String, Value>,
    locator: &mut Locator,
    notes: &mut Vec<ParseNote>,
) -> Item {
    // Escapes (`\u0301`) can spell text outside NFC that the document's own text was not.
    let text = |k: &str| {
        let raw = fields.get(k).map(value_text).unwrap_or_default();
        super::nfc(&raw).into_owned()
    };
    let title = text("title");
    let line = locator.item_line(&title, fields.get("content").and_then(Value::as_str));
    let mut item = Item::new(title, normalize_paragraphs(&text("content")));
    item.lines = ItemLines {
        start: line,
        title: line,
        date: line,
        content: line,
    };
    if let Some(d) = fields.get("date").filter(|v| !v.is_null()) {
        item.date = Some(ItemDate::parse(&value_text(d)));
    }
    for (key, value) in fields {
        if ITEM_FIELDS.contains(&key.as_str()) {
            continue;
        }
        apply_flag_value(&mut item.flags, key, value, line, notes);
    }
    item
}

fn apply_flag_value(
    flags: &mut Flags,
    key: &str,
    value: &Value,
    line: usize,
    notes: &mut Vec<ParseNote>,
) {
    if value.is_null() {
        return;
    }
    let text = match value {
        Value::Array(list) => list.iter().map(value_text).collect::<Vec<_>>().join(", "),
        other => value_text(other),
    };
    if let Some(note) = flags::apply(flags, key, &text, line) {
        notes.push(note);
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Single newlines inside JSON content stay; runs of blank lines become one paragraph break.
fn normalize_paragraphs(s: &str) -> String {
    s.replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Finds source lines for JSON values (serde_json keeps no positions): each item's title
/// is searched in the text after the previous match.
/// Finds the source line of keys and items by searching the text in order. Line numbers
/// come from a table of line starts; every search draws on one budget (a few passes over
/// the text), after which lines are reported as unknown (0), so locating stays linear
/// however many items a document has or however its strings are escaped.
struct Locator<'a> {
    text: &'a str,
    from: usize,
    /// Byte offset of every line start.
    line_starts: Vec<usize>,
    /// Bytes the searches may still scan.
    budget: usize,
}

impl<'a> Locator<'a> {
    fn new(text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Locator {
            text,
            from: 0,
            line_starts,
            budget: text.len().saturating_mul(4).saturating_add(1 << 16),
        }
    }

    fn line_at(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    fn find(&mut self, needle: &str) -> Option<usize> {
        let hay = self.text.get(self.from..)?;
        if self.budget == 0 {
            return None;
        }
        let found = hay.find(needle);
        let scanned = found.map_or(hay.len(), |rel| rel + needle.len());
        self.budget = self.budget.saturating_sub(scanned);
        let at = self.from + found?;
        self.from = at + needle.len();
        Some(self.line_at(at))
    }

    fn item_line(&mut self, title: &str, content: Option<&str>) -> usize {
        let key = if title.is_empty() {
            content.unwrap_or_default()
        } else {
            title
        };
        let needle = serde_json::to_string(key).unwrap_or_default();
        if needle.len() <= 2 {
            return self.line_at(self.from.min(self.text.len()));
        }
        self.find(&needle).unwrap_or(0)
    }

    fn key_line(&mut self, key: &str) -> usize {
        let needle = format!("\"{key}\"");
        let saved = self.from;
        self.from = 0;
        let line = self.find(&needle).unwrap_or(0);
        self.from = saved;
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContentType;

    #[test]
    fn reads_categories_items_and_flags() {
        let text = r#"{
  "title": "Week 47",
  "categories": {
    "tips": [{"title": "Box breathing", "content": "Inhale four, hold four."}],
    "breathscape": [
      {"title": "Sleep mode", "content": "A new mode.", "date": "2026-11-18",
       "type": "announcement", "featured": true, "priority": 1, "channels": ["email", "web"]}
    ],
    "misc stuff": [{"title": "New sensor battery", "content": "The wearable battery lasts longer."}]
  }
}"#;
        let doc = parse(text).expect("parses");
        assert_eq!(doc.title.as_deref(), Some("Week 47"));
        assert_eq!(doc.sections[0].category, Category::Breathscape);
        let sleep = &doc.sections[0].items[0];
        assert_eq!(sleep.flags.content_type, Some(ContentType::Announcement));
        assert_eq!(sleep.flags.priority, Some(1));
        assert_eq!(sleep.lines.start, 6);
        let hw = doc
            .items_in(Category::Hardware)
            .next()
            .expect("categorised by words");
        assert_eq!(hw.title, "New sensor battery");
        assert!(doc.notes.is_empty(), "{:?}", doc.notes);
    }

    #[test]
    fn nested_categories_are_accepted() {
        let doc =
            parse(r#"{"vision": [{"title": "Why", "content": "Because breathing matters."}]}"#)
                .expect("parses");
        assert_eq!(doc.sections[0].category, Category::Vision);
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = parse("{\n  \"title\": oops\n}").expect_err("invalid");
        match err {
            ParseError::InvalidJson { line, .. } => assert_eq!(line, 2),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn bad_field_types_become_notes() {
        let doc = parse(
            r#"{"categories": {"tips": [{"title": "T", "content": "C", "priority": "high"}, 3]}}"#,
        )
        .expect("parses");
        assert_eq!(doc.notes.len(), 2);
    }
}
