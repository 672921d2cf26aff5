//! Social posts drawn as each network draws its own: the author's header (a neutral avatar of
//! initials, name, handle, a relative time), the text with its line breaks, hashtags, mentions
//! and addresses coloured as the network colours them and the rest hidden behind "see more"
//! past the network's fold, a link card under the post, the length against the network's
//! limit, and the network's action bar as plain glyphs.
//!
//! Both consoles build a [`Post`] from a [`Draft`] — the API's preview from the composed
//! bundle, the mock Platform from a capture — and include `social_post.html` inside their own
//! card; the look is `assets/social.css`. A network without a look of its own (one added
//! later) gets the generic one. Text is only split into [`Segment`]s here, never marked up:
//! the template escapes every segment, and nothing in a post becomes a link.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One glyph of a network's action bar and what it stands for.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Action {
    pub glyph: &'static str,
    pub label: &'static str,
}

/// Where a network cuts a long text with "see more": after so many characters or lines.
#[derive(Debug, Clone, Copy)]
struct Fold {
    chars: usize,
    lines: usize,
    label: &'static str,
}

/// How one network draws a post.
#[derive(Debug)]
struct Look {
    /// The network's key in the product (`twitter`, …); the card's class is `card-{key}`.
    key: &'static str,
    /// `x` (avatar beside the text, threads joined by a line), `feed` (header above the text,
    /// action bar under a rule) or `photo` (a square media area, the caption under it).
    layout: &'static str,
    actions: &'static [Action],
    fold: Option<Fold>,
    /// What the header says for a post made just now.
    now: &'static str,
}

const fn act(glyph: &'static str, label: &'static str) -> Action {
    Action { glyph, label }
}

const LOOKS: &[Look] = &[
    Look {
        key: "twitter",
        layout: "x",
        actions: &[
            act("💬", "Reply"),
            act("🔁", "Repost"),
            act("♡", "Like"),
            act("📊", "Views"),
        ],
        fold: None,
        now: "now",
    },
    Look {
        key: "linkedin",
        layout: "feed",
        actions: &[
            act("👍", "Like"),
            act("💬", "Comment"),
            act("🔁", "Repost"),
            act("➤", "Send"),
        ],
        fold: Some(Fold {
            chars: 210,
            lines: 3,
            label: "…see more",
        }),
        now: "now",
    },
    Look {
        key: "facebook",
        layout: "feed",
        actions: &[act("👍", "Like"), act("💬", "Comment"), act("↪", "Share")],
        fold: Some(Fold {
            chars: 480,
            lines: 5,
            label: "… See more",
        }),
        now: "Just now",
    },
    Look {
        key: "instagram",
        layout: "photo",
        actions: &[
            act("♡", "Like"),
            act("💬", "Comment"),
            act("➤", "Share"),
            act("🔖", "Save"),
        ],
        fold: Some(Fold {
            chars: 125,
            lines: 2,
            label: "… more",
        }),
        now: "Just now",
    },
];

/// The look of a network without one of its own.
const GENERIC: Look = Look {
    key: "other",
    layout: "feed",
    actions: &[act("💬", "Reply"), act("🔁", "Share"), act("♡", "Like")],
    fold: None,
    now: "now",
};

fn look(key: &str) -> &'static Look {
    LOOKS.iter().find(|l| l.key == key).unwrap_or(&GENERIC)
}

/// A run of a post's text: plain (`class` none), or a `hashtag`, `mention` or `url`, which
/// the network colours. The text is as written; the template escapes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub text: String,
    pub class: Option<&'static str>,
}

impl Segment {
    fn plain(text: &str) -> Segment {
        Segment {
            text: text.to_string(),
            class: None,
        }
    }
}

fn word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Where the address starting at byte `at` of `text` ends (`http://` or `https://`, then
/// anything but white space, less trailing punctuation and an unmatched closing bracket).
fn url_end(text: &str, at: usize) -> Option<usize> {
    let rest = text.get(at..)?;
    let scheme = ["https://", "http://"].into_iter().find(|s| {
        rest.get(..s.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(s))
    })?;
    let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let mut url = rest.get(..len)?;
    loop {
        let trimmed = url.trim_end_matches(['.', ',', ';', ':', '!', '?', '\'', '"']);
        let trimmed = match trimmed.chars().last() {
            Some(close @ (')' | ']')) => {
                let open = if close == ')' { '(' } else { '[' };
                let opens = trimmed.matches(open).count();
                let closes = trimmed.matches(close).count();
                if closes > opens {
                    &trimmed[..trimmed.len() - 1]
                } else {
                    trimmed
                }
            }
            _ => trimmed,
        };
        if trimmed.len() == url.len() {
            break;
        }
        url = trimmed;
    }
    (url.len() > scheme.len()).then_some(at + url.len())
}

/// Splits `text` into plain runs, hashtags (`#` after a non-word character, then word
/// characters, not all digits), mentions (`@` after a non-word character, then word
/// characters) and `http(s)://` addresses. Joined again, the segments are `text`.
pub fn segments(text: &str) -> Vec<Segment> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out: Vec<Segment> = Vec::new();
    let mut plain_start = 0;
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let prev = i.checked_sub(1).map(|p| chars[p].1);
        let after_break = prev.is_none_or(|p| !word(p) && p != '&');
        let found = match c {
            'h' | 'H' if after_break => url_end(text, at).map(|end| (end, "url")),
            '#' | '@' if after_break => {
                let end = chars[i + 1..]
                    .iter()
                    .find(|(_, c)| !word(*c))
                    .map_or(text.len(), |(b, _)| *b);
                let name = text.get(at + 1..end).unwrap_or_default();
                let all_digits = name.chars().all(|c| c.is_ascii_digit());
                let class = if c == '#' { "hashtag" } else { "mention" };
                let numeric_tag = c == '#' && all_digits;
                (!name.is_empty() && !numeric_tag).then_some((end, class))
            }
            _ => None,
        };
        let Some((end, class)) = found else {
            i += 1;
            continue;
        };
        if at > plain_start {
            out.push(Segment::plain(
                text.get(plain_start..at).unwrap_or_default(),
            ));
        }
        out.push(Segment {
            text: text.get(at..end).unwrap_or_default().to_string(),
            class: Some(class),
        });
        plain_start = end;
        while i < chars.len() && chars[i].0 < end {
            i += 1;
        }
    }
    if plain_start < text.len() {
        out.push(Segment::plain(text.get(plain_start..).unwrap_or_default()));
    }
    out
}

/// The addresses (`http(s)://…`) in `text`, in order.
pub fn urls(text: &str) -> impl Iterator<Item = String> {
    segments(text)
        .into_iter()
        .filter(|s| s.class == Some("url"))
        .map(|s| s.text)
}

/// Where a text folds: the character index before which it is shown, if it folds at all.
fn fold_at(segments: &[Segment], fold: Fold) -> Option<usize> {
    let text: String = segments.iter().map(|s| s.text.as_str()).collect();
    let chars: Vec<char> = text.chars().collect();
    let by_lines = chars
        .iter()
        .enumerate()
        .filter(|(_, c)| **c == '\n')
        .nth(fold.lines.saturating_sub(1))
        .map_or(chars.len(), |(i, _)| i);
    let mut cut = fold.chars.min(by_lines);
    if chars[cut.min(chars.len())..]
        .iter()
        .all(|c| c.is_whitespace())
    {
        return None;
    }
    // Back to a space when one is near, so no word is cut in two.
    if !chars[cut].is_whitespace()
        && let Some(space) = (cut.saturating_sub(20)..cut)
            .rev()
            .find(|i| chars[*i].is_whitespace())
    {
        cut = space;
    }
    // Never inside a hashtag, mention or address: before it.
    let mut start = 0;
    for s in segments {
        let len = s.text.chars().count();
        if s.class.is_some() && start < cut && cut < start + len {
            cut = start;
        }
        start += len;
    }
    // The shown text ends with its last word; the space after it opens the rest.
    while cut > 0 && chars[cut - 1].is_whitespace() {
        cut -= 1;
    }
    (cut > 0).then_some(cut)
}

/// `segments` split at character index `cut`.
fn split_at(segments: Vec<Segment>, cut: usize) -> (Vec<Segment>, Vec<Segment>) {
    let (mut shown, mut more) = (Vec::new(), Vec::new());
    let mut start = 0;
    for s in segments {
        let len = s.text.chars().count();
        if start + len <= cut {
            shown.push(s);
        } else if start >= cut {
            more.push(s);
        } else {
            let byte = s
                .text
                .char_indices()
                .nth(cut - start)
                .map_or(s.text.len(), |(b, _)| b);
            shown.push(Segment::plain(&s.text[..byte]));
            more.push(Segment::plain(&s.text[byte..]));
        }
        start += len;
    }
    (shown, more)
}

/// Who a post is from, as the header shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Author {
    /// The display name (a page's or company's name).
    pub name: String,
    /// The handle without `@`: the name's letters and digits, lower case.
    pub username: String,
    /// One or two letters for the avatar.
    pub initials: String,
}

impl Author {
    /// The author called `name`; a blank name is [`Author::neutral`].
    pub fn named(name: &str) -> Author {
        let name = name.trim();
        if name.is_empty() {
            return Author::neutral();
        }
        let username: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let initials: String = name
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .take(2)
            .flat_map(char::to_uppercase)
            .collect();
        Author {
            name: name.to_string(),
            username: if username.is_empty() {
                "brand".into()
            } else {
                username
            },
            initials,
        }
    }

    /// An author no configuration names: "Your brand".
    pub fn neutral() -> Author {
        Author::named("Your brand")
    }
}

/// When a post was made, as the header shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct When {
    /// `now`, `5m`, `3h`, `2d` or a date; a post made just now says what its network says.
    pub label: String,
    /// The RFC 3339 time, for `<time datetime>`.
    pub datetime: Option<String>,
    /// The time in full, for a tooltip.
    pub title: Option<String>,
    #[serde(skip)]
    just_now: bool,
}

impl When {
    /// A post not made yet, as it would look once posted: "now".
    pub fn now() -> When {
        When {
            label: "now".into(),
            datetime: None,
            title: None,
            just_now: true,
        }
    }

    /// A post made at `rfc3339`, seen at `now`: minutes, hours or days ago within a week,
    /// else its date; text that is not a time is shown as it is.
    pub fn at(rfc3339: &str, now: DateTime<Utc>) -> When {
        let Ok(at) = DateTime::parse_from_rfc3339(rfc3339) else {
            return When {
                label: rfc3339.to_string(),
                datetime: None,
                title: None,
                just_now: false,
            };
        };
        let at = at.with_timezone(&Utc);
        let secs = (now - at).num_seconds();
        let label = match secs {
            0..60 => None,
            60..3_600 => Some(format!("{}m", secs / 60)),
            3_600..86_400 => Some(format!("{}h", secs / 3_600)),
            86_400..604_800 => Some(format!("{}d", secs / 86_400)),
            _ => Some(at.format("%b %-d, %Y").to_string()),
        };
        When {
            just_now: label.is_none(),
            label: label.unwrap_or_else(|| "now".into()),
            datetime: Some(rfc3339.to_string()),
            title: Some(crate::display_time(rfc3339)),
        }
    }
}

/// The card a network draws under a post that carries a link: the linked page's title and
/// description when known, else the address's domain and path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkCard {
    pub url: String,
    /// The host, without `www.`.
    pub domain: String,
    /// Path and query (empty for the site's root).
    pub path: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Where the console shows the linked page itself (a path of the console), if it does.
    pub href: Option<String>,
}

impl LinkCard {
    /// The card of an `http(s)` address; anything else has none.
    pub fn of(url: &str) -> Option<LinkCard> {
        let parsed = url::Url::parse(url.trim()).ok()?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return None;
        }
        let host = parsed.host_str()?;
        let mut path = parsed.path().trim_end_matches('/').to_string();
        if let Some(q) = parsed.query() {
            path.push('?');
            path.push_str(q);
        }
        Some(LinkCard {
            url: url.trim().to_string(),
            domain: host.strip_prefix("www.").unwrap_or(host).to_string(),
            path,
            title: None,
            description: None,
            href: None,
        })
    }

    /// The last non-empty segment of the path (a web post's slug).
    pub fn slug(&self) -> Option<&str> {
        self.path
            .split(['?', '#'])
            .next()
            .and_then(|p| p.rsplit('/').find(|s| !s.is_empty()))
    }

    /// The card with the linked page's `title` and `description`, shown by the console at
    /// `href`.
    pub fn page(
        self,
        title: impl Into<String>,
        description: Option<String>,
        href: Option<String>,
    ) -> LinkCard {
        let title = title.into();
        LinkCard {
            title: (!title.trim().is_empty()).then_some(title),
            description: description.filter(|d| !d.trim().is_empty()),
            href,
            ..self
        }
    }
}

/// One part of a post (one post of a thread).
#[derive(Debug, Clone, Serialize)]
pub struct Part {
    pub number: usize,
    pub of: usize,
    /// The text before the network's fold, and after it.
    pub shown: Vec<Segment>,
    pub more: Vec<Segment>,
    /// The length as the network counts it, and its limit when known.
    pub length: usize,
    pub limit: Option<usize>,
    pub over: bool,
    pub over_by: usize,
    /// Whether the link card goes under this part: the one whose text has the link, else
    /// the first.
    pub link_here: bool,
}

/// A post ready for `social_post.html`.
#[derive(Debug, Clone, Serialize)]
pub struct Post {
    /// Unique in the page: the prefix of the ids in the card.
    pub dom_id: String,
    /// The network's name, and its key (`card-{key}`; `other` for a network without a look).
    pub network: String,
    pub key: &'static str,
    pub layout: &'static str,
    pub author: Author,
    pub when: When,
    pub parts: Vec<Part>,
    /// `characters` or `weighted characters`.
    pub unit: &'static str,
    pub link: Option<LinkCard>,
    /// What the media area says (the `photo` layout): no image, or the images not loaded.
    pub media: String,
    pub actions: &'static [Action],
    pub more_label: &'static str,
    pub over: bool,
}

/// What a console knows of a post.
#[derive(Debug, Clone)]
pub struct Draft {
    pub dom_id: String,
    /// The network's key in the product (`twitter`, `linkedin`, …), and its name.
    pub network_key: String,
    pub network: String,
    pub author: Author,
    pub when: When,
    /// Each part's text as published, and its length as the network counts it.
    pub parts: Vec<(String, usize)>,
    pub limit: Option<usize>,
    pub unit: &'static str,
    pub link: Option<LinkCard>,
    /// Addresses of the attached images (never loaded).
    pub media: Vec<String>,
}

impl Draft {
    /// The post drawn in its network's look.
    pub fn post(self) -> Post {
        let look = look(&self.network_key);
        let of = self.parts.len();
        let link_part = self
            .link
            .as_ref()
            .and_then(|l| self.parts.iter().position(|(t, _)| t.contains(&l.url)))
            .unwrap_or(0);
        let parts: Vec<Part> = self
            .parts
            .into_iter()
            .enumerate()
            .map(|(i, (text, length))| {
                let all = segments(&text);
                let cut = look.fold.and_then(|f| fold_at(&all, f));
                let (shown, more) = match cut {
                    Some(cut) => split_at(all, cut),
                    None => (all, Vec::new()),
                };
                let over_by = self.limit.map_or(0, |l| length.saturating_sub(l));
                Part {
                    number: i + 1,
                    of,
                    shown,
                    more,
                    length,
                    limit: self.limit,
                    over: over_by > 0,
                    over_by,
                    link_here: self.link.is_some() && i == link_part,
                }
            })
            .collect();
        let media = match self.media.len() {
            0 => "No image attached".to_string(),
            1 => "1 image attached (not loaded)".to_string(),
            n => format!("{n} images attached (not loaded)"),
        };
        let mut when = self.when;
        if when.just_now {
            when.label = look.now.to_string();
        }
        Post {
            dom_id: self.dom_id,
            network: self.network,
            key: look.key,
            layout: look.layout,
            author: self.author,
            when,
            over: parts.iter().any(|p| p.over),
            parts,
            unit: self.unit,
            link: self.link,
            media,
            actions: look.actions,
            more_label: look.fold.map_or("", |f| f.label),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(text: &str) -> Vec<(String, &'static str)> {
        segments(text)
            .into_iter()
            .filter_map(|s| s.class.map(|c| (s.text, c)))
            .collect()
    }

    fn joined(segments: &[Segment]) -> String {
        segments.iter().map(|s| s.text.as_str()).collect()
    }

    #[test]
    fn hashtags_mentions_and_addresses_are_found_and_the_text_is_kept_whole() {
        let text = "Breathe #Halcytone with @coach_1, see https://halcytone.com/a#frag. &#39; #2026 #呼吸 a@b.com (https://x.com/p_(1)) #a_b!";
        assert_eq!(
            classes(text),
            vec![
                ("#Halcytone".into(), "hashtag"),
                ("@coach_1".into(), "mention"),
                ("https://halcytone.com/a#frag".into(), "url"),
                ("#呼吸".into(), "hashtag"),
                ("https://x.com/p_(1)".into(), "url"),
                ("#a_b".into(), "hashtag"),
            ]
        );
        assert_eq!(joined(&segments(text)), text);
        assert!(segments("").is_empty());
        for junk in [
            "#",
            "##",
            "# #",
            "a#",
            "#é",
            "@",
            "http://",
            "https:// x",
            "xhttp://a",
        ] {
            assert_eq!(joined(&segments(junk)), junk);
        }
        assert!(classes("xhttp://a.b").is_empty());
        assert!(classes("@ a@b").is_empty());
    }

    #[test]
    fn hostile_text_is_never_an_address() {
        let text = "<script>alert(1)</script> javascript:alert(1) data:text/html,x";
        assert!(classes(text).is_empty());
        assert_eq!(urls(text).count(), 0);
        assert_eq!(
            urls("a https://a.example/x and http://b.example.").collect::<Vec<_>>(),
            vec!["https://a.example/x", "http://b.example"]
        );
    }

    #[test]
    fn a_long_text_folds_at_a_space_and_never_inside_a_tag() {
        let fold = Fold {
            chars: 20,
            lines: 3,
            label: "more",
        };
        let text = "one two three four five six seven";
        let (shown, more) = split_at(segments(text), fold_at(&segments(text), fold).unwrap());
        assert_eq!(joined(&shown), "one two three four");
        assert_eq!(joined(&more), " five six seven");
        // Short texts and trailing space do not fold.
        assert_eq!(fold_at(&segments("short"), fold), None);
        assert_eq!(fold_at(&segments("short    \n\n   "), fold), None);
        // Lines fold too: three shown.
        let lines = "a\nb\nc\nd";
        let (shown, more) = split_at(segments(lines), fold_at(&segments(lines), fold).unwrap());
        assert_eq!(
            (joined(&shown).as_str(), joined(&more).as_str()),
            ("a\nb\nc", "\nd")
        );
        // A hashtag across the fold goes after it whole.
        let tagged = "abc(#abcdefghijklmnopqrstuvwxyz)";
        let cut = fold_at(&segments(tagged), fold).unwrap();
        let (shown, more) = split_at(segments(tagged), cut);
        assert_eq!(joined(&shown), "abc(");
        assert_eq!(more[0].class, Some("hashtag"));
        assert_eq!(joined(&more), "#abcdefghijklmnopqrstuvwxyz)");
    }

    #[test]
    fn authors_get_a_handle_and_initials() {
        assert_eq!(
            Author::named("Halcytone"),
            Author {
                name: "Halcytone".into(),
                username: "halcytone".into(),
                initials: "H".into()
            }
        );
        let neutral = Author::named("  ");
        assert_eq!(
            (neutral.name.as_str(), neutral.username.as_str()),
            ("Your brand", "yourbrand")
        );
        assert_eq!(neutral.initials, "YB");
        assert_eq!(Author::named("呼吸 ラボ").username, "brand");
    }

    #[test]
    fn times_are_relative_within_a_week() {
        let now = DateTime::parse_from_rfc3339("2026-01-12T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let label = |at: &str| When::at(at, now).label;
        assert_eq!(label("2026-01-12T09:59:30Z"), "now");
        assert_eq!(label("2026-01-12T09:55:00Z"), "5m");
        assert_eq!(label("2026-01-12T07:00:00Z"), "3h");
        assert_eq!(label("2026-01-10T10:00:00Z"), "2d");
        assert_eq!(label("2026-01-05T10:00:00Z"), "Jan 5, 2026");
        assert_eq!(label("2026-02-01T10:00:00Z"), "Feb 1, 2026");
        assert_eq!(label("yesterday"), "yesterday");
        let when = When::at("2026-01-12T09:59:30Z", now);
        assert_eq!(when.title.as_deref(), Some("2026-01-12 09:59:30 UTC"));
    }

    #[test]
    fn link_cards_show_the_domain_and_path_or_the_page() {
        let card = LinkCard::of("https://www.halcytone.com/updates/calm-week?ref=x").unwrap();
        assert_eq!(card.domain, "halcytone.com");
        assert_eq!(card.path, "/updates/calm-week?ref=x");
        assert_eq!(card.slug(), Some("calm-week"));
        assert_eq!(LinkCard::of("https://halcytone.com/").unwrap().path, "");
        assert_eq!(LinkCard::of("https://halcytone.com/").unwrap().slug(), None);
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "not a url",
            "mailto:a@b.c",
        ] {
            assert_eq!(LinkCard::of(bad), None, "{bad}");
        }
        let page = card.page("Calm week", Some(" ".into()), Some("/posts/web/1".into()));
        assert_eq!(page.title.as_deref(), Some("Calm week"));
        assert_eq!(page.description, None);
    }

    fn draft(key: &str, parts: Vec<(String, usize)>, link: Option<&str>) -> Draft {
        Draft {
            dom_id: "card-1".into(),
            network_key: key.into(),
            network: key.into(),
            author: Author::neutral(),
            when: When::now(),
            parts,
            limit: Some(280),
            unit: "characters",
            link: link.and_then(LinkCard::of),
            media: Vec::new(),
        }
    }

    #[test]
    fn posts_count_against_the_limit_and_carry_the_link_card_where_the_link_is() {
        let parts = vec![
            ("first".to_string(), 300),
            ("see https://a.example/p".to_string(), 27),
        ];
        let post = draft("twitter", parts, Some("https://a.example/p")).post();
        assert_eq!((post.key, post.layout, post.over), ("twitter", "x", true));
        assert_eq!((post.parts[0].over_by, post.parts[1].over), (20, false));
        assert!(!post.parts[0].link_here && post.parts[1].link_here);
        let facebook = draft("facebook", vec![("hi".into(), 2)], None).post();
        assert_eq!(facebook.when.label, "Just now");
        assert!(!facebook.parts[0].link_here);
        let mastodon = draft(
            "mastodon",
            vec![("hi".into(), 2)],
            Some("https://a.example/"),
        )
        .post();
        assert_eq!((mastodon.key, mastodon.layout), ("other", "feed"));
        assert!(
            mastodon.parts[0].link_here,
            "a link not in the text goes under the first part"
        );
    }
}

#[cfg(test)]
mod rendered {
    use super::*;

    /// Each network's card from fixed posts, as both consoles include it.
    fn render(posts: &[Post]) -> String {
        let env = crate::templates(&[(
            "cards.html",
            "{% for post in posts %}<article class=\"card social-card card-{{ post.key }}\">\n{% include \"social_post.html\" %}\n</article>\n{% endfor %}",
        )]);
        env.get_template("cards.html")
            .unwrap()
            .render(minijinja::context! { posts => minijinja::value::Serde(posts) })
            .unwrap()
    }

    fn post(key: &str, name: &str, parts: &[&str], limit: usize, link: Option<LinkCard>) -> Post {
        Draft {
            dom_id: format!("card-{key}"),
            network_key: key.into(),
            network: name.into(),
            author: Author::named("Halcytone"),
            when: When::now(),
            parts: parts
                .iter()
                .map(|t| (t.to_string(), t.chars().count()))
                .collect(),
            limit: Some(limit),
            unit: "characters",
            link,
            media: Vec::new(),
        }
        .post()
    }

    #[test]
    fn every_network_draws_its_own_card() {
        let url = "https://halcytone.com/updates/calm-week";
        let page = || {
            LinkCard::of(url).map(|l| {
                l.page(
                    "Calm week | Halcytone",
                    Some("Quiet mode, a new sensor and a breathing tip.".into()),
                    Some("#web-heading".into()),
                )
            })
        };
        let posts = [
            post(
                "twitter",
                "X",
                &[
                    "Breathe with @halcytone #Breathwork\n\nQuiet mode is here.",
                    &format!("Read more {url}"),
                ],
                280,
                page(),
            ),
            post(
                "linkedin",
                "LinkedIn",
                &[&format!(
                    "This month at Halcytone\n\nQuiet mode dims the screen and slows the pacing cues after eight in the evening, so a last session before bed stays calm and the night starts quietly.\n\nRead it all: {url}\n\n#Halcytone #Breathwork"
                )],
                3000,
                page(),
            ),
            post(
                "facebook",
                "Facebook",
                &["Hello, breathing community!"],
                63_206,
                LinkCard::of("https://example.org/some/long/path?with=query"),
            ),
            post(
                "instagram",
                "Instagram",
                &[
                    "Box breathing in four steps\n1. In for four\n2. Hold for four\n\n#Breathwork #Calm",
                ],
                2200,
                None,
            ),
            post(
                "mastodon",
                "mastodon",
                &["<script>alert(1)</script> javascript:alert(1) is not a link"],
                20,
                LinkCard::of("javascript:alert(1)"),
            ),
        ];
        let html = render(&posts);
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
            "{html}"
        );
        assert!(!html.contains("href=\"javascript"), "{html}");
        assert!(html.contains("over by 39"), "{html}");
        insta::assert_snapshot!(html);
    }
}
