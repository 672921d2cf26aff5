//! Which items each channel carries, in which order, and the headings they appear under.

use crate::content_type;
use crate::model::{Category, Channel, ContentType, Item, LivingDocument, Section};

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
    /// The heading of its section when that heading names no category (`## Community
    /// corner`): the item is shown under it rather than merged into a category.
    pub heading: Option<&'a str>,
}

impl Picked<'_> {
    /// Shown first: featured items and announcements.
    pub fn stands_out(&self) -> bool {
        self.item.featured() || self.content_type == ContentType::Announcement
    }

    /// Whether it belongs to the vision part (a vision section; not an uncategorised one).
    fn is_vision(&self) -> bool {
        self.category == Category::Vision && self.heading.is_none()
    }
}

/// Items shown together under one heading: a category's, or an uncategorised section's own.
#[derive(Debug, Clone)]
pub struct Group<'a> {
    pub category: Category,
    /// The section's own heading (uncategorised sections); `None` for a category.
    pub heading: Option<&'a str>,
    pub items: Vec<Picked<'a>>,
}

impl Group<'_> {
    /// The heading shown: the section's own, else the category's.
    pub fn title(&self) -> &str {
        self.heading.unwrap_or(default_heading(self.category))
    }
}

/// A channel's items: an optional highlight and the rest grouped under their headings.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    pub highlight: Option<Picked<'a>>,
    /// Breathscape, hardware and tips in that order, then each uncategorised section in
    /// document order, each with its items (highlight excluded).
    pub groups: Vec<Group<'a>>,
    /// The vision items.
    pub vision: Vec<Picked<'a>>,
}

/// Whether a section's heading names no category, so its items keep that heading.
fn uncategorised(section: &Section) -> bool {
    !section.category_explicit
        && !section.heading.trim().is_empty()
        && crate::parse::category::classify_heading(&section.heading)
            .0
            .is_none()
}

/// `items` (vision ones left out) under their headings, in the plan's order; within a group
/// the items keep the order they come in.
fn grouped<'a>(items: impl Iterator<Item = Picked<'a>> + Clone) -> Vec<Group<'a>> {
    let mut groups = Vec::new();
    for category in [Category::Breathscape, Category::Hardware, Category::Tips] {
        let members: Vec<Picked<'a>> = items
            .clone()
            .filter(|p| p.heading.is_none() && p.category == category)
            .collect();
        if !members.is_empty() {
            groups.push(Group {
                category,
                heading: None,
                items: members,
            });
        }
    }
    // Uncategorised sections, in the order they first appear in the document.
    let mut named: Vec<(usize, &'a str, Category)> = Vec::new();
    for p in items.clone() {
        if let Some(h) = p.heading {
            match named.iter_mut().find(|(_, name, _)| *name == h) {
                Some(entry) => entry.0 = entry.0.min(p.order),
                None => named.push((p.order, h, p.category)),
            }
        }
    }
    named.sort_by_key(|(first, _, _)| *first);
    for (_, heading, category) in named {
        groups.push(Group {
            category,
            heading: Some(heading),
            items: items
                .clone()
                .filter(|p| p.heading == Some(heading))
                .collect(),
        });
    }
    groups
}

impl<'a> Plan<'a> {
    /// Picks the items allowed on `channel`; ordered by priority, then document order.
    pub fn for_channel(doc: &'a LivingDocument, channel: Channel) -> Plan<'a> {
        let mut picked: Vec<Picked<'a>> = Vec::new();
        let mut order = 0;
        for section in &doc.sections {
            let heading = uncategorised(section).then_some(section.heading.trim());
            for item in &section.items {
                if item.allows(channel) && !is_blank(item) {
                    picked.push(Picked {
                        item,
                        category: section.category,
                        content_type: content_type::resolve(item),
                        order,
                        heading,
                    });
                }
                order += 1;
            }
        }
        picked.sort_by_key(|p| (p.item.priority(), p.order));
        let highlight = picked
            .iter()
            .filter(|p| !p.is_vision())
            .min_by_key(|p| (!p.stands_out(), p.item.priority(), p.order))
            .copied();
        let rest = picked
            .iter()
            .copied()
            .filter(|p| !p.is_vision())
            .filter(|p| highlight.is_none_or(|h| h.order != p.order));
        let groups = grouped(rest);
        let vision = picked.iter().filter(|p| p.is_vision()).copied().collect();
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
            .chain(self.groups.iter().flat_map(|g| g.items.iter()))
    }

    /// The groups with the highlight leading its own group (as a web page lists them).
    pub fn sections(&self) -> Vec<Group<'a>> {
        grouped(self.news().copied().collect::<Vec<_>>().into_iter())
    }

    pub fn is_empty(&self) -> bool {
        self.highlight.is_none() && self.groups.is_empty() && self.vision.is_empty()
    }

    /// How many items of a category the plan holds (uncategorised sections' items are not
    /// counted under the category their words suggest).
    pub fn count(&self, category: Category) -> usize {
        let in_groups: usize = self
            .groups
            .iter()
            .filter(|g| g.heading.is_none() && g.category == category)
            .map(|g| g.items.len())
            .sum();
        let in_highlight = usize::from(
            self.highlight
                .is_some_and(|h| h.heading.is_none() && h.category == category),
        );
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

    #[test]
    fn an_uncategorised_section_keeps_its_heading_and_titles() {
        let doc = markdown::parse(
            "## [Breathscape] App\n### Sessions\nx\n## Community corner\n### Meetup\nOur vision and mission met in Lisbon.\n### Picnic\nz\n## Our vision\n### Calm\nv\n",
        );
        let plan = Plan::for_channel(&doc, Channel::Email);
        let headings: Vec<&str> = plan.groups.iter().map(Group::title).collect();
        assert_eq!(headings, ["Community corner"]);
        let titles: Vec<&str> = plan.groups[0]
            .items
            .iter()
            .map(|p| p.item.title.as_str())
            .collect();
        assert_eq!(titles, ["Meetup", "Picnic"]);
        assert_eq!(
            plan.vision.len(),
            1,
            "only the vision section's item is vision"
        );
        assert_eq!(plan.count(Category::Vision), 1);
        let sections: Vec<String> = plan
            .sections()
            .iter()
            .map(|g| g.title().to_string())
            .collect();
        assert_eq!(sections, ["Breathscape updates", "Community corner"]);
    }
}
