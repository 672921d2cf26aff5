//! Freeform text: paragraphs separated by blank lines; a paragraph's first line is its title.

use super::category;
use crate::compose::sections::default_heading;
use crate::model::{Item, ItemLines, LivingDocument, Section, SourceFormat};

/// Longest title kept from a paragraph's first line; the rest moves into the content.
const MAX_TITLE_CHARS: usize = 100;

pub fn parse(text: &str) -> LivingDocument {
    let mut doc = LivingDocument::empty(SourceFormat::Freeform);
    let mut paragraph: Vec<(usize, &str)> = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let line = line.strip_prefix('\u{feff}').unwrap_or(line);
        if line.trim().is_empty() {
            flush(&mut doc, &mut paragraph);
        } else {
            paragraph.push((idx + 1, line.trim()));
        }
    }
    flush(&mut doc, &mut paragraph);
    doc
}

fn flush(doc: &mut LivingDocument, paragraph: &mut Vec<(usize, &str)>) {
    let Some(&(start, first)) = paragraph.first() else {
        return;
    };
    let rest: Vec<&str> = paragraph[1..].iter().map(|(_, l)| *l).collect();
    let (title, overflow) = split_title(first);
    let mut content = String::new();
    if let Some(o) = overflow {
        content.push_str(o);
    }
    for line in &rest {
        if !content.is_empty() {
            content.push('\n');
        }
        content.push_str(line);
    }
    if content.is_empty() {
        content = first.to_string();
    }
    let all: String = paragraph.iter().map(|(_, l)| format!("{l} ")).collect();
    let category = category::from_text(&all);
    let mut item = Item::new(title, content);
    item.lines = ItemLines {
        start,
        title: start,
        date: 0,
        content: paragraph.get(1).map_or(start, |(n, _)| *n),
    };
    match doc.sections.iter_mut().find(|s| s.category == category) {
        Some(section) => section.items.push(item),
        None => doc.sections.push(Section {
            heading: default_heading(category).to_string(),
            category,
            category_explicit: false,
            line: start,
            items: vec![item],
        }),
    }
    paragraph.clear();
}

/// Cuts an over-long first line at a word boundary; returns (title, rest of the line).
fn split_title(line: &str) -> (String, Option<&str>) {
    if line.chars().count() <= MAX_TITLE_CHARS {
        return (line.to_string(), None);
    }
    let cut = line
        .char_indices()
        .nth(MAX_TITLE_CHARS)
        .map_or(line.len(), |(i, _)| i);
    let head = &line[..cut];
    let at = head.rfind(' ').filter(|&i| i > 0).unwrap_or(cut);
    (line[..at].trim().to_string(), Some(line[at..].trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Category;

    #[test]
    fn paragraphs_become_items_grouped_by_category() {
        let doc = parse(
            "Box breathing\nInhale for four, hold, exhale.\n\nSensor update\nThe wearable battery lasts two weeks.\n\nAnother breathing tip\nPractice daily.\n",
        );
        assert_eq!(doc.sections.len(), 2);
        assert_eq!(doc.sections[0].category, Category::Tips);
        assert_eq!(doc.sections[0].items.len(), 2);
        assert_eq!(doc.sections[1].items[0].lines.start, 4);
        assert_eq!(
            doc.sections[1].items[0].content,
            "The wearable battery lasts two weeks."
        );
    }

    #[test]
    fn one_line_paragraph_is_both_title_and_content() {
        let doc = parse("We believe in breathing.");
        assert_eq!(doc.sections[0].items[0].content, "We believe in breathing.");
    }

    #[test]
    fn long_first_lines_are_cut_at_a_word() {
        let long = "word ".repeat(40);
        let (t, rest) = split_title(long.trim());
        assert!(t.chars().count() <= MAX_TITLE_CHARS);
        assert!(rest.is_some());
    }
}
