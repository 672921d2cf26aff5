//! Which items each channel carries, in which order, and the headings they appear under.

use crate::content_type;
use crate::model::{Category, Channel, ContentType, Item, LivingDocument};

/// The public heading of a category in generated content.
pub fn default_heading(category: Category) -> &'static str {
    match category {
        Category::Breathscape => "Breathscape updates",
        Category::Hardware => "Hardware development",
        Category::Tips => "Breathing techniques",
        Category::Vision => "Our vision",
    }
}

/// The icon shown beside a heading when the tone allows emoji.
pub fn icon(category: Category) -> &'static str {
    match category {
        Category::Breathscape => "🫁",
        Category::Hardware => "🔧",
        Category::Tips => "💡",
        Category::Vision => "🌱",
    }
}

/// An item chosen for a channel, with what the composer needs to know about it.
#[derive(Debug, Clone, Copy)]
pub struct Picked<'a> {
    pub item: &'a Item,
    pub category: Category,
    pub content_type: ContentType,
    /// Position in the document, for stable ordering.
    pub order: usize,
}

impl Picked<'_> {
    /// Shown first: featured items and announcements.
    pub fn stands_out(&self) -> bool {
        self.item.featured() || self.content_type == ContentType::Announcement
    }
}

/// A channel's items: an optional highlight and the rest grouped by category.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    pub highlight: Option<Picked<'a>>,
    /// Non-vision categories in canonical order, each with its items (highlight excluded).
    pub groups: Vec<(Category, Vec<Picked<'a>>)>,
    /// The vision items.
    pub vision: Vec<Picked<'a>>,
}

impl<'a> Plan<'a> {
    /// Picks the items allowed on `channel`; ordered by priority, then document order.
    pub fn for_channel(doc: &'a LivingDocument, channel: Channel) -> Plan<'a> {
        let mut picked: Vec<Picked<'a>> = doc
            .items()
            .enumerate()
            .filter(|(_, (_, item))| item.allows(channel) && !is_blank(item))
            .map(|(order, (category, item))| Picked {
                item,
                category,
                content_type: content_type::resolve(item),
                order,
            })
            .collect();
        picked.sort_by_key(|p| (p.item.priority(), p.order));
        let highlight = picked
            .iter()
            .filter(|p| p.category != Category::Vision)
            .min_by_key(|p| (!p.stands_out(), p.item.priority(), p.order))
            .copied();
        let mut groups = Vec::new();
        for category in [Category::Breathscape, Category::Hardware, Category::Tips] {
            let items: Vec<Picked<'a>> = picked
                .iter()
                .filter(|p| p.category == category)
                .filter(|p| highlight.is_none_or(|h| h.order != p.order))
                .copied()
                .collect();
            if !items.is_empty() {
                groups.push((category, items));
            }
        }
        let vision = picked
            .iter()
            .filter(|p| p.category == Category::Vision)
            .copied()
            .collect();
        Plan {
            highlight,
            groups,
            vision,
        }
    }

    /// Every picked item except vision ones: the highlight first, then the groups in order.
    pub fn news(&self) -> impl Iterator<Item = &Picked<'a>> {
        self.highlight
            .iter()
            .chain(self.groups.iter().flat_map(|(_, items)| items.iter()))
    }

    pub fn is_empty(&self) -> bool {
        self.highlight.is_none() && self.groups.is_empty() && self.vision.is_empty()
    }

    pub fn count(&self, category: Category) -> usize {
        let in_groups: usize = self
            .groups
            .iter()
            .filter(|(c, _)| *c == category)
            .map(|(_, items)| items.len())
            .sum();
        let in_highlight = usize::from(self.highlight.is_some_and(|h| h.category == category));
        let in_vision = if category == Category::Vision {
            self.vision.len()
        } else {
            0
        };
        in_groups + in_highlight + in_vision
    }
}

fn is_blank(item: &Item) -> bool {
    item.title.trim().is_empty() && item.content.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::markdown;

    #[test]
    fn featured_item_becomes_the_highlight_and_channels_filter() {
        let doc = markdown::parse(
            "## [Breathscape] A\n### Plain\nx\n### Star\n<!-- featured: true -->\ny\n## [Tips] T\n### Web only\n<!-- channels: web -->\nz\n",
        );
        let email = Plan::for_channel(&doc, Channel::Email);
        assert_eq!(email.highlight.map(|h| h.item.title.as_str()), Some("Star"));
        assert_eq!(email.groups.len(), 1);
        assert_eq!(email.count(Category::Tips), 0);
        let web = Plan::for_channel(&doc, Channel::Web);
        assert_eq!(web.count(Category::Tips), 1);
        assert_eq!(web.news().count(), 3);
    }
}
