//! Splitting a long X post into a numbered thread, each part within the weighted limit.

use super::weighted_length::{truncate_code_points, truncate_weighted, weighted_len};

/// Packs `segments` (paragraphs, kept whole when they fit) into posts numbered `1/N `,
/// each at most `max` weighted characters; the first post also leaves `first_reserve`
/// free for the hashtags published with it.
pub fn split(segments: &[String], max: usize, first_reserve: usize) -> Vec<String> {
    let mut prefix = weighted_len("99/99 ");
    loop {
        let posts = pack(segments, max.saturating_sub(prefix), first_reserve);
        let n = posts.len();
        let needed = weighted_len(&format!("{n}/{n} "));
        if needed <= prefix || prefix >= max {
            return posts
                .into_iter()
                .enumerate()
                .map(|(i, p)| format!("{}/{n} {p}", i + 1))
                .collect();
        }
        prefix = needed;
    }
}

/// What joins two pieces in one post.
const GAP: &str = "\n\n";

fn pack(segments: &[String], budget: usize, first_reserve: usize) -> Vec<String> {
    let smallest = budget.saturating_sub(first_reserve).max(1);
    let pieces: Vec<&str> = segments
        .iter()
        .flat_map(|s| pieces(s.trim(), smallest))
        .collect();
    let mut posts: Vec<String> = Vec::new();
    let mut current = String::new();
    // The weight of `current`, kept as it grows: a line break ends every URL and grapheme
    // cluster, so `a\n\nb` weighs `a` + `\n\n` + `b` and nothing is measured twice.
    let mut current_len = 0;
    let gap = weighted_len(GAP);
    for piece in pieces {
        let room = if posts.is_empty() {
            budget.saturating_sub(first_reserve)
        } else {
            budget
        };
        let piece_len = weighted_len(piece);
        if current.is_empty() {
            current.push_str(piece);
            current_len = piece_len;
        } else if current_len + gap + piece_len <= room {
            current.push_str(GAP);
            current.push_str(piece);
            current_len += gap + piece_len;
        } else {
            posts.push(std::mem::take(&mut current));
            current.push_str(piece);
            current_len = piece_len;
        }
    }
    if !current.is_empty() {
        posts.push(current);
    }
    posts
}

/// Cuts `text` into pieces of at most `budget` weighted characters, at word boundaries.
///
/// The text is in NFC (documents are normalized when parsed), so each cut weighs only the
/// piece it takes and splitting stays linear in the text.
fn pieces(text: &str, budget: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut head = truncate_weighted(rest, budget);
        if head.is_empty() {
            // Not even the first grapheme cluster fits (a base with a run of combining
            // marks): cut it between code points, as much as the budget holds.
            head = truncate_code_points(rest, budget);
        }
        out.push(head);
        rest = rest[head.len()..].trim_start();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grapheme_heavier_than_a_post_is_cut_between_code_points() {
        let text = format!("a{}", "\u{0301}".repeat(2_000));
        let parts = pieces(&text, 100);
        assert_eq!(parts.concat(), text.trim());
        assert!(parts.len() <= 21, "{} parts", parts.len());
        assert!(
            parts
                .iter()
                .all(|p| weighted_len(p) <= 100 || p.chars().count() == 1)
        );
    }

    #[test]
    fn every_part_is_numbered_and_within_the_limit() {
        let segments: Vec<String> = (0..12)
            .map(|i| format!("Segment {i}: {}", "word ".repeat(20 + i * 7)))
            .collect();
        let posts = split(&segments, 280, 30);
        assert!(posts.len() > 2);
        let n = posts.len();
        for (i, p) in posts.iter().enumerate() {
            assert!(p.starts_with(&format!("{}/{n} ", i + 1)), "{p}");
            let limit = if i == 0 { 250 } else { 280 };
            assert!(
                weighted_len(p) <= limit,
                "{} > {limit}: {p}",
                weighted_len(p)
            );
        }
    }

    #[test]
    fn a_post_weighs_the_sum_of_its_pieces_and_gaps() {
        // URLs, emoji, accents, CJK and combining marks at the pieces' edges: the weight
        // counted piece by piece is the weight of the joined post.
        let pieces = [
            "see https://example.com/a?b=c",
            "\u{0301}starts with a combining mark",
            "halcytone.com ends here",
            "日本語のテキスト 👋🏽",
            "e\u{0301}",
            "x.com/path.",
        ];
        for a in pieces {
            for b in pieces {
                let joined = format!("{a}{GAP}{b}");
                assert_eq!(
                    weighted_len(&joined),
                    weighted_len(a) + weighted_len(GAP) + weighted_len(b),
                    "{joined:?}"
                );
            }
        }
    }

    #[test]
    fn one_giant_word_still_splits() {
        let posts = split(&["x".repeat(1000)], 280, 0);
        assert!(posts.iter().all(|p| weighted_len(p) <= 280));
        assert_eq!(
            posts
                .iter()
                .map(|p| p.split_once(' ').map_or(0, |(_, t)| t.len()))
                .sum::<usize>(),
            1000
        );
    }
}
