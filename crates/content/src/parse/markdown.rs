//! The authoring format: `## [Category] Heading` sections, `### Title` items,
//! `- **Date:**` / `- **Title:**` / `- **Content:**` metadata and `<!-- flag: value -->` comments.

use super::{category, flags};
use crate::model::{
    Category, Flags, Item, ItemDate, ItemLines, LivingDocument, ParseNote, Section, SourceFormat,
};

/// Parses Markdown. Never fails: what it cannot use becomes a [`ParseNote`].
pub fn parse(text: &str) -> LivingDocument {
    let mut p = Parser {
        doc: LivingDocument::empty(SourceFormat::Markdown),
        item: None,
        pending_flags: Flags::default(),
        in_fence: false,
        comment: None,
        unresolved: Vec::new(),
    };
    for (idx, line) in text.lines().enumerate() {
        p.line(idx + 1, line);
    }
    if let Some((start, body)) = p.comment.take() {
        p.doc.notes.push(ParseNote {
            line: start,
            code: "unclosed_comment",
            message: "HTML comment is never closed with '-->'".into(),
        });
        p.comment_done(start, &body);
    }
    p.finish_item();
    p.assign_uncategorized();
    p.doc
}

struct OpenItem {
    item: Item,
    /// Lines of content, with "" for a paragraph break.
    body: Vec<String>,
}

struct Parser {
    doc: LivingDocument,
    item: Option<OpenItem>,
    /// Flags written in a section before its next item; they apply to that item.
    pending_flags: Flags,
    in_fence: bool,
    /// An HTML comment spanning lines: start line and collected text.
    comment: Option<(usize, String)>,
    /// Sections whose heading named no category.
    unresolved: Vec<usize>,
}

/// A metadata line such as `- **Date:** 2025-01-15`: returns (key, value).
fn metadata(line: &str) -> Option<(String, &str)> {
    let l = line.trim_start();
    let l = l
        .strip_prefix("- ")
        .or_else(|| l.strip_prefix("* "))
        .unwrap_or(l)
        .trim_start();
    let (key, value) = if let Some(rest) = l.strip_prefix("**") {
        let end = rest.find("**")?;
        let inner = &rest[..end];
        let after = &rest[end + 2..];
        // `**Date:** x` or `**Date**: x`
        if let Some(k) = inner.strip_suffix(':') {
            (k, after)
        } else {
            (inner, after.trim_start().strip_prefix(':')?)
        }
    } else {
        let (k, v) = l.split_once(':')?;
        (k, v)
    };
    let key = key.trim().to_ascii_lowercase();
    matches!(key.as_str(), "date" | "title" | "content").then(|| (key, value.trim()))
}

impl Parser {
    fn line(&mut self, n: usize, raw: &str) {
        let line = raw.strip_prefix('\u{feff}').unwrap_or(raw);
        if let Some((start, mut body)) = self.comment.take() {
            if let Some(end) = line.find("-->") {
                body.push('\n');
                body.push_str(&line[..end]);
                self.comment_done(start, &body);
            } else {
                body.push('\n');
                body.push_str(line);
                self.comment = Some((start, body));
            }
            return;
        }
        let trimmed = line.trim();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            self.in_fence = !self.in_fence;
            self.body_line(n, line);
            return;
        }
        if self.in_fence {
            self.body_line(n, line);
            return;
        }
        if let Some(rest) = trimmed.strip_prefix("<!--") {
            if let Some(end) = rest.find("-->") {
                self.comment_done(n, &rest[..end]);
            } else {
                self.comment = Some((n, rest.to_string()));
            }
            return;
        }
        if let Some(heading) = heading(trimmed, 1) {
            if self.doc.sections.is_empty() && self.item.is_none() && self.doc.title.is_none() {
                self.doc.title = Some(heading.to_string());
            } else {
                self.body_line(n, line);
            }
            return;
        }
        if let Some(heading) = heading(trimmed, 2) {
            self.finish_item();
            self.start_section(n, heading);
            return;
        }
        if let Some(title) = heading(trimmed, 3) {
            self.finish_item();
            self.start_item(n, title);
            return;
        }
        let Some(open) = self.item.as_mut() else {
            if !trimmed.is_empty() && !self.doc.sections.is_empty() {
                self.doc.notes.push(ParseNote {
                    line: n,
                    code: "text_outside_item",
                    message: "text between a section heading and its first '###' item is not part of any item".into(),
                });
            }
            return;
        };
        if let Some((key, value)) = metadata(line) {
            match key.as_str() {
                "date" => {
                    open.item.date = Some(ItemDate::parse(value));
                    open.item.lines.date = n;
                }
                "title" => {
                    if !value.is_empty() {
                        open.item.title = value.to_string();
                        open.item.lines.title = n;
                    }
                }
                _ => {
                    open.item.lines.content = n;
                    if !open.body.is_empty() && open.body.last().is_some_and(|l| !l.is_empty()) {
                        open.body.push(String::new());
                    }
                    if !value.is_empty() {
                        open.body.push(value.to_string());
                    }
                }
            }
            return;
        }
        self.body_line(n, line);
    }

    fn body_line(&mut self, n: usize, line: &str) {
        let Some(open) = self.item.as_mut() else {
            return;
        };
        let text = line.trim_end();
        if text.trim().is_empty() {
            if open.body.last().is_some_and(|l| !l.is_empty()) {
                open.body.push(String::new());
            }
            return;
        }
        if open.item.lines.content == 0 {
            open.item.lines.content = n;
        }
        open.body.push(text.to_string());
    }

    fn comment_done(&mut self, line: usize, body: &str) {
        let Some(pairs) = flags::pairs(body) else {
            return;
        };
        for (key, value) in pairs {
            let target = match self.item.as_mut() {
                Some(open) => &mut open.item.flags,
                None if self.doc.sections.is_empty() => &mut self.doc.flags,
                None => &mut self.pending_flags,
            };
            if let Some(note) = flags::apply(target, key, value, line) {
                self.doc.notes.push(note);
            }
        }
    }

    fn start_section(&mut self, n: usize, heading: &str) {
        let (category, explicit, heading) = category::classify_heading(heading);
        self.pending_flags = Flags::default();
        self.doc.sections.push(Section {
            heading,
            // A heading that names no category is resolved from its items' words at the end.
            category: category.unwrap_or(Category::Breathscape),
            category_explicit: explicit,
            line: n,
            items: Vec::new(),
        });
        if category.is_none() {
            self.unresolved.push(self.doc.sections.len() - 1);
        }
    }

    fn start_item(&mut self, n: usize, title: &str) {
        if self.doc.sections.is_empty() {
            self.doc.sections.push(Section {
                heading: String::new(),
                category: Category::Breathscape,
                category_explicit: false,
                line: n,
                items: Vec::new(),
            });
            self.unresolved.push(0);
        }
        let mut item = Item::new(title, "");
        item.flags = std::mem::take(&mut self.pending_flags);
        item.lines = ItemLines {
            start: n,
            title: n,
            date: 0,
            content: 0,
        };
        self.item = Some(OpenItem {
            item,
            body: Vec::new(),
        });
    }

    fn finish_item(&mut self) {
        let Some(OpenItem { mut item, mut body }) = self.item.take() else {
            return;
        };
        while body.last().is_some_and(String::is_empty) {
            body.pop();
        }
        let mut content = String::new();
        for line in &body {
            if line.is_empty() {
                content.push_str("\n\n");
            } else {
                if !content.is_empty() && !content.ends_with("\n\n") {
                    content.push('\n');
                }
                content.push_str(line);
            }
        }
        item.content = content;
        if let Some(section) = self.doc.sections.last_mut() {
            section.items.push(item);
        }
    }

    /// Sections whose heading named no category take the category their items' words suggest.
    fn assign_uncategorized(&mut self) {
        for &idx in &self.unresolved {
            let Some(section) = self.doc.sections.get_mut(idx) else {
                continue;
            };
            let text: String = section
                .items
                .iter()
                .map(|i| format!("{} {} ", i.title, i.content))
                .collect();
            section.category = category::from_text(&format!("{} {text}", section.heading));
        }
    }
}

/// `## Heading` at exactly `level` (`###` is not a `##`); returns the trimmed heading text.
fn heading(line: &str, level: usize) -> Option<&str> {
    let hashes = line.chars().take_while(|&c| c == '#').count();
    if hashes != level {
        return None;
    }
    let rest = &line[level..];
    if rest.is_empty() {
        return Some("");
    }
    rest.starts_with([' ', '\t'])
        .then(|| rest.trim().trim_end_matches('#').trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContentType;

    const DOC: &str = "# Living doc\n<!-- template: minimal -->\n\n## [Breathscape] Recent Updates\n\n### Sleep mode\n<!-- type: announcement; featured: true -->\n- **Date:** 2026-11-18\n- **Content:** First line\ncontinues here.\n\nSecond paragraph.\n\n### Second\n- **Date:** nope\n- **Content:** Body two.\n\n## Breathing Techniques\n### Box breathing\n- **Title:** Box breathing, step by step\n- **Content:** Inhale for four.\n";

    #[test]
    fn reads_sections_items_metadata_and_flags() {
        let doc = parse(DOC);
        assert_eq!(doc.title.as_deref(), Some("Living doc"));
        assert_eq!(doc.flags.template.as_deref(), Some("minimal"));
        assert_eq!(doc.sections.len(), 2);
        let s = &doc.sections[0];
        assert_eq!(s.category, Category::Breathscape);
        assert_eq!(s.heading, "Recent Updates");
        assert_eq!(s.items.len(), 2);
        let first = &s.items[0];
        assert_eq!(first.title, "Sleep mode");
        assert_eq!(
            first.content,
            "First line\ncontinues here.\n\nSecond paragraph."
        );
        assert_eq!(first.flags.content_type, Some(ContentType::Announcement));
        assert_eq!(first.lines.start, 6);
        assert_eq!(first.lines.date, 8);
        assert!(first.date.as_ref().and_then(|d| d.value).is_some());
        assert_eq!(s.items[1].date.as_ref().and_then(|d| d.value), None);
        assert_eq!(doc.sections[1].category, Category::Tips);
        assert_eq!(
            doc.sections[1].items[0].title,
            "Box breathing, step by step"
        );
    }

    #[test]
    fn triple_hash_is_an_item_not_a_section() {
        let doc = parse("## Updates\n### One\nBody\n### Two\nBody\n");
        assert_eq!(doc.sections.len(), 1);
        assert_eq!(doc.item_count(), 2);
    }

    #[test]
    fn headings_inside_code_fences_are_content() {
        let doc = parse("## [Tips] T\n### One\n```\n## not a section\n```\n");
        assert_eq!(doc.sections.len(), 1);
        assert!(
            doc.sections[0].items[0]
                .content
                .contains("## not a section")
        );
    }

    #[test]
    fn multi_line_comments_and_notes() {
        let doc =
            parse("## [Tips] T\n### One\n<!--\ntype: blog\ncolour: red\n-->\nBody text here\n");
        let item = &doc.sections[0].items[0];
        assert_eq!(item.flags.content_type, Some(ContentType::Blog));
        assert_eq!(item.content, "Body text here");
        assert_eq!(doc.notes.len(), 1);
        assert_eq!(doc.notes[0].code, "unknown_flag");
    }

    #[test]
    fn heading_levels_are_exact() {
        assert_eq!(heading("## A", 2), Some("A"));
        assert_eq!(heading("### A", 2), None);
        assert_eq!(heading("##A", 2), None);
        assert_eq!(heading("## A ##", 2), Some("A"));
    }
}
