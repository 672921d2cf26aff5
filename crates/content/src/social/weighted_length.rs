//! X (Twitter) "weighted length": counting characters the way X does, and
//! cutting text so that it fits.
//!
//! This module owns everything about *how long a post is on X*: the
//! twitter-text v3 weighting rules, the URL scanner those rules need (every
//! URL costs [`X_URL_WEIGHT`] whatever its real length), emoji detection, and
//! the truncation helpers that guarantee a generated post stays within
//! [`X_MAX_WEIGHTED`]. Per-network limits and thread splitting live elsewhere
//! ([`crate::platform`], [`super::thread`]); they call into this module.
//!
//! # Rules (twitter-text v3 configuration)
//!
//! * `maxWeightedTweetLength` 280, `scale` 100, `defaultWeight` 200,
//!   `transformedURLLength` 23, `emojiParsingEnabled` true. This module works
//!   in units of `scale`, so a code point weighs 1 or 2, a URL 23, an emoji 2.
//! * Code points in U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F and
//!   U+2032–U+2037 weigh 1; every other code point weighs 2. So `é` is 1,
//!   `你`/`한`/`こ` are 2, `—` (U+2014) is 1 but `…` (U+2026) is 2.
//! * [`weighted_len`] NFC-normalizes the text first, as twitter-text does.
//! * Each URL (see [`find_urls`]) weighs 23.
//! * Each emoji weighs 2 however many code points it is made of: a grapheme
//!   cluster counts as an emoji when it holds an `Extended_Pictographic` code
//!   point (compact table below), a regional indicator (flags are a pair of
//!   them) or is a keycap sequence (`[0-9#*]` + optional U+FE0F + U+20E3).
//!   ZWJ, U+FE0E/U+FE0F, skin-tone modifiers and tag characters inside such a
//!   cluster are part of the emoji and cost nothing extra; any other code
//!   point in the cluster (a stray combining mark, a Prepend character) is
//!   counted on its own, as twitter-text would after its emoji match.
//! * A lone `©`/`®` without U+FE0F is counted as an emoji (2), as
//!   twitter-text's emoji parser does, although its code point alone would
//!   weigh 1. Over-counting is the safe direction for a length limit.
//!
//! # Deliberate deviations from twitter-text
//!
//! Most lean towards over-counting, the safe side of a length limit. The two
//! that can under-count (unknown ZWJ chains, bare domains on unlisted TLDs)
//! need text that generated posts do not contain in practice:
//!
//! * Emoji are recognised by `Extended_Pictographic` ranges, not by the list of
//!   recommended (RGI) sequences. A ZWJ chain X does not know (e.g. two
//!   arbitrary pictographs joined by ZWJ) counts 2 here but more on X; a
//!   non-emoji pictograph followed by U+FE0F counts 2 here, up to 4 on X.
//!   Emoji in current use (RGI sequences) are counted as X counts them.
//! * URLs with a scheme accept any host (twitter-text also requires a known
//!   TLD); their body stops at whitespace and at any character twitter-text
//!   would not put in a URL (CJK, emoji, `…`, `<`, `>`, `"`, …), so text
//!   glued to a URL, common in Japanese, is still counted.
//! * Bare domains are recognised for a fixed list of common TLDs (a superset
//!   of the required com, org, net, io, co, app, dev, ai, me, info, health,
//!   uk, de, fr, eu, us, ca). twitter-text knows every TLD, so a bare domain
//!   with an unlisted TLD is counted at its raw length here.
//! * A bare domain may start after any character twitter-text accepts before
//!   a URL (start of text, whitespace, `(`, quotes, non-ASCII letters, ...),
//!   not only after whitespace or `(`; it may not follow an ASCII letter or
//!   digit, `@` (e-mail), `$`, `#`, `-`, `_`, `.` or `/`.
//! * twitter-text does not link a protocol-less two-label domain on a
//!   country-code TLD without a path (`halcytone.io` stays text, weighing
//!   12); this module counts it as a URL (23), the conservative choice.
//! * As in twitter-text, a bare domain only takes a path that starts with
//!   `/` (`halcytone.com?x=1` is the URL `halcytone.com` followed by text).

use std::ops::{ControlFlow, Range};

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
use unicode_segmentation::{GraphemeCursor, UnicodeSegmentation};

/// Maximum weighted length of one post on X.
pub const X_MAX_WEIGHTED: usize = 280;

/// Weight of any URL on X.
pub const X_URL_WEIGHT: usize = 23;

/// Weight of one emoji (twitter-text `defaultWeight` 200 / `scale` 100).
const EMOJI_WEIGHT: usize = 2;

/// What [`truncate_weighted_with_ellipsis`] appends (weighs 2 on X).
const ELLIPSIS: &str = "\u{2026}";

/// Weighted length of `text` as X counts it.
///
/// The text is NFC-normalized first (without allocating when it already is
/// NFC), then URLs weigh [`X_URL_WEIGHT`], emoji 2, and every other code
/// point 1 or 2 according to the twitter-text v3 ranges (see the module docs).
#[must_use]
pub fn weighted_len(text: &str) -> usize {
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => raw_weighted_len(text),
        IsNormalized::No | IsNormalized::Maybe => {
            let normalized: String = text.nfc().collect();
            raw_weighted_len(&normalized)
        }
    }
}

/// Byte ranges of the URLs found in `text` (after no normalization — on the input as given).
///
/// Two kinds are recognised:
///
/// * `http://` or `https://` (any letter case) followed by URL characters:
///   printable ASCII except `<>"{}\^` and backtick, Latin letters with
///   accents, Cyrillic, U+2013 and combining diacritics. Whitespace or any
///   other character ends the URL. The scheme may not directly follow an ASCII
///   letter or digit, `@`, `$` or `#`.
/// * Bare domains such as `halcytone.com` or `halcytone.com/updates?x=1`:
///   dot-separated labels of `[A-Za-z0-9-]` ending in a known TLD, at a word
///   start (not after an ASCII letter or digit, `@`, `$`, `#`, `-`, `_`, `.`
///   or `/`), not followed by `@` or `+`, with an optional `:port` and an
///   optional path that starts with `/`.
///
/// Trailing punctuation (`.,;:!?)]'"` and a few more that cannot end a URL)
/// is not part of the URL; a closing parenthesis is kept while the URL has an
/// unmatched opening one. The ranges are sorted, disjoint, non-empty and lie
/// on `char` boundaries.
#[must_use]
pub fn find_urls(text: &str) -> Vec<Range<usize>> {
    let mut urls = Vec::new();
    let mut prev: Option<char> = None;
    let mut pos = 0;
    while let Some(c) = text.get(pos..).and_then(|rest| rest.chars().next()) {
        if let Some(end) = url_end_at(text, pos, c, prev) {
            urls.push(pos..end);
            prev = text.get(..end).and_then(|head| head.chars().next_back());
            pos = end;
            continue;
        }
        prev = Some(c);
        pos += c.len_utf8();
    }
    urls
}

/// Longest prefix of `text` whose weighted length is <= `max`, cut at a grapheme boundary,
/// never inside a URL (a URL that does not fit is dropped whole), preferring to cut at the
/// last whitespace if one exists in the last 30% of the prefix; trailing whitespace trimmed.
///
/// * When the whole text fits (`weighted_len(text) <= max`) it is returned
///   unchanged, trailing whitespace included; trimming applies to cuts only.
/// * "The last 30% of the prefix" is measured in weighted length: with a
///   longest fitting prefix of weight `W`, the cut moves back to the last
///   whitespace whose preceding text weighs at least `0.7 * W`. When the text
///   right after the longest prefix is whitespace, that prefix already ends a
///   word and is kept as is.
/// * Weights used to choose the cut are computed per grapheme (and per URL)
///   on the text *as given*, while [`weighted_len`] counts the NFC form. For
///   NFC text (what the composers produce) the two agree. For other text the
///   candidate is re-measured with [`weighted_len`] and, if it does not fit,
///   cut further back (by bisection) to a prefix that does, so `weighted_len(truncate_weighted(text, max)) <= max` always.
#[must_use]
pub fn truncate_weighted(text: &str, max: usize) -> &str {
    // Units (graphemes and whole URLs) up to and including the first one that
    // overflows `max`; `cum[k]` is the weight of the first `k` units. Only
    // that much of the text is visited.
    let mut units: Vec<Unit> = Vec::new();
    let mut cum: Vec<usize> = vec![0];
    let mut total = 0_usize;
    let mut overflowed = false;
    // A grapheme cluster longer than this cannot fit (every code point but an emoji's
    // joiners weighs at least 1), so the walk need not find where it ends.
    let unit_cap = max.saturating_add(1).saturating_mul(8).saturating_add(64);
    for_each_unit_capped(text, unit_cap, |unit| {
        total += unit.weight;
        units.push(unit);
        cum.push(total);
        if total > max {
            overflowed = true;
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    // The whole text fits when its NFC form does. Units are weighed as given, so
    // for text that is not NFC the exact measure decides; for NFC text (what the
    // composers produce) the visited prefix already weighs more than `max`.
    let visited = units.last().map_or(0, |unit| unit.end);
    let whole_fits = if overflowed {
        weighted_len(text.get(..visited).unwrap_or("")) <= max && weighted_len(text) <= max
    } else {
        weighted_len(text) <= max
    };
    if whole_fits {
        return text;
    }

    // Number of units of the longest prefix that fits (`cum[0] == 0` always does).
    let longest = cum.iter().rposition(|&w| w <= max).unwrap_or(0);
    let prefix = |kept: usize| -> &str {
        let end = kept
            .checked_sub(1)
            .and_then(|last| units.get(last))
            .map_or(0, |unit| unit.end);
        text.get(..end).unwrap_or("").trim_end()
    };
    let fits = |kept: usize| weighted_len(prefix(kept)) <= max;

    let preferred = prefer_whitespace_cut(&units, &cum, longest);
    if fits(preferred) {
        return prefix(preferred);
    }
    // Only reachable for non-NFC input, or when the cut itself created a URL
    // (`halcytone.comfort` → `halcytone.com`): bisect for a prefix that fits
    // when re-measured. Zero units (the empty string) always fits.
    let (mut lo, mut hi) = (0, preferred);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let preferred = prefer_whitespace_cut(&units, &cum, lo);
    if fits(preferred) {
        prefix(preferred)
    } else {
        prefix(lo)
    }
}

/// The longest prefix of `text` whose code points weigh at most `max` together (at least one
/// code point when `text` is not empty), cut between code points. For text whose first
/// grapheme cluster alone outweighs `max` (a base with thousands of combining marks), where
/// [`truncate_weighted`] keeps nothing; costs only what it takes.
#[must_use]
pub fn truncate_code_points(text: &str, max: usize) -> &str {
    let mut total = 0;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        total += char_weight(c);
        if total > max && i > 0 {
            break;
        }
        end = i + c.len_utf8();
    }
    text.get(..end).unwrap_or(text)
}

/// Like `truncate_weighted`, but when it had to cut, appends "…" and keeps the total within `max`.
///
/// The ellipsis (U+2026) weighs 2, so the text is cut to `max - 2` first;
/// trailing whitespace and `,` `;` `:` before the ellipsis are dropped. If
/// `max` is below 2 there is no room for an ellipsis and the result is plain
/// [`truncate_weighted`]. If nothing of the text fits beside the ellipsis the
/// result is `"…"` alone. When the whole text fits it is returned unchanged.
#[must_use]
pub fn truncate_weighted_with_ellipsis(text: &str, max: usize) -> String {
    if weighted_len(text) <= max {
        return text.to_owned();
    }
    let ellipsis_weight = weighted_len(ELLIPSIS);
    let Some(mut budget) = max.checked_sub(ellipsis_weight) else {
        return truncate_weighted(text, max).to_owned();
    };
    loop {
        let head = truncate_weighted(text, budget)
            .trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':'));
        let mut out = String::with_capacity(head.len() + ELLIPSIS.len());
        out.push_str(head);
        out.push_str(ELLIPSIS);
        if weighted_len(&out) <= max {
            return out;
        }
        // Defensive: the ellipsis changed how the head is counted. Shrink.
        if budget == 0 {
            return truncate_weighted(text, max).to_owned();
        }
        budget = budget.min(weighted_len(head)).saturating_sub(1);
    }
}

// ---------------------------------------------------------------------------
// Counting units
// ---------------------------------------------------------------------------

/// One indivisible piece of text: a whole URL or one grapheme cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Unit {
    /// Byte offset of the first byte.
    start: usize,
    /// Byte offset one past the last byte.
    end: usize,
    /// Weight in X units (1 = one ASCII character).
    weight: usize,
    /// The unit is a grapheme that starts with whitespace.
    space: bool,
}

/// Weighted length of `text` taken as it is (no normalization).
fn raw_weighted_len(text: &str) -> usize {
    let mut total = 0_usize;
    for_each_unit(text, |unit| {
        total += unit.weight;
        ControlFlow::Continue(())
    });
    total
}

/// Calls `f` with the units of `text` in order: each URL as one unit, and
/// every grapheme cluster of the text between URLs as one unit. The units
/// tile the text exactly.
///
/// URLs are recognised while walking, at each code point (the rules of
/// [`find_urls`]), so the walk costs only what it visits: a caller that
/// stops after the first `k` units pays for those `k`, not for the whole text
/// (cutting a long text into posts stays linear).
fn for_each_unit(text: &str, f: impl FnMut(Unit) -> ControlFlow<()>) {
    for_each_unit_capped(text, usize::MAX, f);
}

/// [`for_each_unit`], with grapheme clusters longer than `unit_cap` bytes cut at the cap
/// (a pathological cluster — a base and thousands of combining marks — is then visited only
/// as far as the caller needs).
fn for_each_unit_capped(text: &str, unit_cap: usize, mut f: impl FnMut(Unit) -> ControlFlow<()>) {
    let bytes = text.as_bytes();
    let mut pos = 0;
    let mut prev: Option<char> = None;
    while pos < text.len() {
        let end = grapheme_end(text, pos, unit_cap);
        let grapheme = text.get(pos..end).unwrap_or("");
        let mut url = None;
        for (k, c) in grapheme.char_indices() {
            if let Some(url_end) = url_end_at(text, pos + k, c, prev) {
                url = Some((pos + k, url_end));
                break;
            }
            prev = Some(c);
        }
        match url {
            None => {
                let unit = match bytes.get(pos) {
                    // One ASCII byte (the common case): weight 1.
                    Some(&b) if end == pos + 1 && b.is_ascii() => Unit {
                        start: pos,
                        end,
                        weight: 1,
                        space: char::from(b).is_whitespace(),
                    },
                    _ => grapheme_unit(pos, grapheme),
                };
                if f(unit).is_break() {
                    return;
                }
                pos = end;
            }
            Some((start, url_end)) => {
                // Graphemes end where a URL starts, as they would in the gap before it.
                let gap = text.get(pos..start).unwrap_or("");
                if gap_units(pos, gap, &mut f).is_break() {
                    return;
                }
                let unit = Unit {
                    start,
                    end: url_end,
                    weight: X_URL_WEIGHT,
                    space: false,
                };
                if f(unit).is_break() {
                    return;
                }
                prev = text
                    .get(..url_end)
                    .and_then(|head| head.chars().next_back());
                pos = url_end;
            }
        }
    }
}

/// End of the grapheme cluster that starts at `pos` (a cluster boundary), looking at most
/// `cap` bytes ahead.
fn grapheme_end(text: &str, pos: usize, cap: usize) -> usize {
    let bytes = text.as_bytes();
    // Between two ASCII characters there is always a boundary, except inside CR LF.
    if let Some(&b) = bytes.get(pos)
        && b.is_ascii()
        && b != b'\r'
        && bytes.get(pos + 1).is_none_or(u8::is_ascii)
    {
        return pos + 1;
    }
    let mut limit = pos.saturating_add(cap.max(4)).min(text.len());
    while !text.is_char_boundary(limit) {
        limit += 1;
    }
    let chunk = text.get(..limit).unwrap_or(text);
    let mut cursor = GraphemeCursor::new(pos, chunk.len(), true);
    match cursor.next_boundary(chunk, 0) {
        Ok(Some(end)) if end > pos => end,
        // Unreachable with the whole text as the chunk; step one character to be safe.
        _ => text
            .get(pos..)
            .and_then(|rest| rest.chars().next())
            .map_or(text.len(), |c| pos + c.len_utf8()),
    }
}

/// The end of a URL starting at `pos` (whose code point is `c`, after `prev`), if one does.
fn url_end_at(text: &str, pos: usize, c: char, prev: Option<char>) -> Option<usize> {
    if !c.is_ascii_alphanumeric() {
        return None;
    }
    scheme_url_end(text, pos, prev).or_else(|| bare_domain_url_end(text, pos, prev))
}

fn grapheme_unit(start: usize, grapheme: &str) -> Unit {
    Unit {
        start,
        end: start + grapheme.len(),
        weight: grapheme_weight(grapheme),
        space: grapheme.chars().next().is_some_and(char::is_whitespace),
    }
}

/// The grapheme units of `gap` (text with no URL in it) starting at byte `start`.
fn gap_units(
    start: usize,
    gap: &str,
    f: &mut impl FnMut(Unit) -> ControlFlow<()>,
) -> ControlFlow<()> {
    for (offset, grapheme) in gap.grapheme_indices(true) {
        f(grapheme_unit(start + offset, grapheme))?;
    }
    ControlFlow::Continue(())
}

/// Where to cut, in units, given that the first `keep` units are the longest
/// prefix that fits: at `keep` when that already ends a word, else at the last
/// whitespace unit in the last 30% (by weight) of the prefix, else at `keep`.
fn prefer_whitespace_cut(units: &[Unit], cum: &[usize], keep: usize) -> usize {
    let Some(prefix) = units.get(..keep) else {
        return keep;
    };
    let next_is_space = units.get(keep).is_none_or(|unit| unit.space);
    let last_is_space = prefix.last().is_some_and(|unit| unit.space);
    if keep == 0 || next_is_space || last_is_space {
        return keep;
    }
    let total = cum.get(keep).copied().unwrap_or(0);
    match prefix.iter().rposition(|unit| unit.space) {
        Some(space) if cum.get(space).copied().unwrap_or(0) * 10 >= total * 7 => space,
        _ => keep,
    }
}

// ---------------------------------------------------------------------------
// Character and emoji weights
// ---------------------------------------------------------------------------

/// Weight of one code point outside URLs and emoji (twitter-text v3 ranges).
const fn char_weight(c: char) -> usize {
    match c as u32 {
        0x0000..=0x10FF | 0x2000..=0x200D | 0x2010..=0x201F | 0x2032..=0x2037 => 1,
        _ => 2,
    }
}

/// Weight of one grapheme cluster outside URLs.
fn grapheme_weight(grapheme: &str) -> usize {
    let keycap = is_keycap(grapheme);
    let emoji = keycap
        || grapheme
            .chars()
            .any(|c| is_pictographic(c) || is_regional_indicator(c));
    if !emoji {
        return grapheme.chars().map(char_weight).sum();
    }
    // The emoji itself costs 2; code points that are not part of an emoji
    // sequence (a combining mark after it, a Prepend before it) cost extra.
    let extra: usize = grapheme
        .chars()
        .enumerate()
        .filter(|&(index, c)| {
            !(is_pictographic(c)
                || is_regional_indicator(c)
                || is_emoji_component(c)
                || (keycap && index == 0))
        })
        .map(|(_, c)| char_weight(c))
        .sum();
    EMOJI_WEIGHT + extra
}

/// `[0-9#*]`, optional U+FE0F, then U+20E3 COMBINING ENCLOSING KEYCAP.
fn is_keycap(grapheme: &str) -> bool {
    let mut chars = grapheme.chars();
    let base = chars
        .next()
        .is_some_and(|c| matches!(c, '0'..='9' | '#' | '*'));
    let next = match chars.next() {
        Some('\u{FE0F}') => chars.next(),
        other => other,
    };
    base && next == Some('\u{20E3}')
}

/// U+1F1E6–U+1F1FF; two of them make a flag.
const fn is_regional_indicator(c: char) -> bool {
    matches!(c, '\u{1F1E6}'..='\u{1F1FF}')
}

/// Code points that only ever extend an emoji: ZWJ, variation selectors 15
/// and 16, the keycap mark, skin-tone modifiers and tag characters.
const fn is_emoji_component(c: char) -> bool {
    matches!(
        c,
        '\u{200D}'
            | '\u{FE0E}'
            | '\u{FE0F}'
            | '\u{20E3}'
            | '\u{1F3FB}'..='\u{1F3FF}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// Whether `c` is (close to) `Extended_Pictographic`, by a compact table.
fn is_pictographic(c: char) -> bool {
    let cp = c as u32;
    PICTOGRAPHIC
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Sorted, disjoint, inclusive ranges covering Unicode's `Extended_Pictographic`
/// property. Whole blocks are used where that keeps the table short (e.g.
/// Miscellaneous Symbols and Dingbats U+2600–U+27BF, U+1F000–U+1F0FF): every
/// extra code point there weighs 2 on its own anyway, so widening only changes
/// how a following ZWJ/VS16 is grouped. Regional indicators, skin-tone
/// modifiers and keycaps are handled separately.
const PICTOGRAPHIC: &[(u32, u32)] = &[
    (0x00A9, 0x00A9),   // ©
    (0x00AE, 0x00AE),   // ®
    (0x203C, 0x203C),   // ‼
    (0x2049, 0x2049),   // ⁉
    (0x2122, 0x2122),   // ™
    (0x2139, 0x2139),   // ℹ
    (0x2194, 0x2199),   // ↔ … ↙
    (0x21A9, 0x21AA),   // ↩ ↪
    (0x231A, 0x231B),   // ⌚ ⌛
    (0x2328, 0x2328),   // ⌨
    (0x2388, 0x2388),   // ⎈
    (0x23CF, 0x23CF),   // ⏏
    (0x23E9, 0x23F3),   // ⏩ … ⏳
    (0x23F8, 0x23FA),   // ⏸ ⏹ ⏺
    (0x24C2, 0x24C2),   // Ⓜ
    (0x25AA, 0x25AB),   // ▪ ▫
    (0x25B6, 0x25B6),   // ▶
    (0x25C0, 0x25C0),   // ◀
    (0x25FB, 0x25FE),   // ◻ … ◾
    (0x2600, 0x27BF),   // Miscellaneous Symbols, Dingbats
    (0x2934, 0x2935),   // ⤴ ⤵
    (0x2B05, 0x2B07),   // ⬅ ⬆ ⬇
    (0x2B1B, 0x2B1C),   // ⬛ ⬜
    (0x2B50, 0x2B50),   // ⭐
    (0x2B55, 0x2B55),   // ⭕
    (0x3030, 0x3030),   // 〰
    (0x303D, 0x303D),   // 〽
    (0x3297, 0x3297),   // ㊗
    (0x3299, 0x3299),   // ㊙
    (0x1F000, 0x1F0FF), // Mahjong, domino, playing cards
    (0x1F10D, 0x1F10F),
    (0x1F12F, 0x1F12F),
    (0x1F16C, 0x1F171), // … 🅰 🅱
    (0x1F17E, 0x1F17F), // 🅾 🅿
    (0x1F18E, 0x1F18E), // 🆎
    (0x1F191, 0x1F19A), // 🆑 … 🆚
    (0x1F1AD, 0x1F1E5), // up to the regional indicators
    (0x1F201, 0x1F20F), // 🈁 🈂 …
    (0x1F21A, 0x1F21A), // 🈚
    (0x1F22F, 0x1F22F), // 🈯
    (0x1F232, 0x1F23A), // 🈲 … 🈺
    (0x1F23C, 0x1F23F),
    (0x1F249, 0x1F3FA), // … weather, food, sport, buildings (stops before skin tones)
    (0x1F400, 0x1F64F), // animals, objects, faces
    (0x1F680, 0x1F6FF), // transport and map symbols
    (0x1F774, 0x1F77F),
    (0x1F7D5, 0x1F7FF), // geometric shapes extended (coloured circles/squares)
    (0x1F80C, 0x1F80F),
    (0x1F848, 0x1F84F),
    (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F),
    (0x1F8AE, 0x1F8FF),
    (0x1F90C, 0x1F93A), // supplemental symbols and pictographs …
    (0x1F93C, 0x1F945),
    (0x1F947, 0x1FAFF), // … and symbols and pictographs extended-A
    (0x1FC00, 0x1FFFD), // reserved for future emoji
];

// ---------------------------------------------------------------------------
// URL scanner
// ---------------------------------------------------------------------------

/// Characters that may not directly precede a URL with a scheme.
fn blocks_scheme_url(prev: char) -> bool {
    prev.is_ascii_alphanumeric()
        || matches!(
            prev,
            '@' | '\u{FF20}' | '$' | '#' | '\u{FF03}' | '\u{202A}'..='\u{202E}'
        )
}

/// Characters that may not directly precede a bare domain.
fn blocks_bare_url(prev: char) -> bool {
    blocks_scheme_url(prev) || matches!(prev, '-' | '_' | '.' | '/')
}

/// Characters a URL body may contain.
const fn is_url_char(c: char) -> bool {
    match c {
        '<' | '>' | '"' | '{' | '}' | '\\' | '^' | '`' => false,
        '!'..='~'
        | '\u{00C0}'..='\u{00D6}'
        | '\u{00D8}'..='\u{00F6}'
        | '\u{00F8}'..='\u{024F}'
        | '\u{0300}'..='\u{036F}'
        | '\u{0400}'..='\u{04FF}'
        | '\u{1E00}'..='\u{1EFF}'
        | '\u{2013}' => true,
        _ => false,
    }
}

/// Characters dropped from the end of a URL (a `)` only when unbalanced).
const fn is_trailing_url_punct(c: char) -> bool {
    matches!(
        c,
        '.' | ','
            | ';'
            | ':'
            | '!'
            | '?'
            | ')'
            | ']'
            | '\''
            | '"'
            | '('
            | '['
            | '*'
            | '@'
            | '|'
            | '~'
            | '$'
            | '%'
    )
}

/// Length in bytes of the run of URL characters at the start of `s`.
fn url_body_len(s: &str) -> usize {
    s.char_indices()
        .find(|&(_, c)| !is_url_char(c))
        .map_or(s.len(), |(index, _)| index)
}

/// Length in bytes of `body` once trailing punctuation is removed.
fn trim_url_tail(body: &str) -> usize {
    let mut opens = body.matches('(').count();
    let mut closes = body.matches(')').count();
    let mut kept = body;
    while let Some(last) = kept.chars().next_back() {
        if !is_trailing_url_punct(last) || (last == ')' && opens >= closes) {
            break;
        }
        match last {
            ')' => closes = closes.saturating_sub(1),
            '(' => opens = opens.saturating_sub(1),
            _ => {}
        }
        kept = kept.get(..kept.len() - last.len_utf8()).unwrap_or("");
    }
    kept.len()
}

/// `s` without the ASCII prefix `prefix`, compared case-insensitively.
fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// End (byte offset in `text`) of an `http(s)://` URL starting at `start`.
fn scheme_url_end(text: &str, start: usize, prev: Option<char>) -> Option<usize> {
    if prev.is_some_and(blocks_scheme_url) {
        return None;
    }
    let rest = text.get(start..)?;
    let after_scheme = strip_prefix_ignore_case(rest, "https://")
        .or_else(|| strip_prefix_ignore_case(rest, "http://"))?;
    let body = after_scheme.get(..url_body_len(after_scheme))?;
    let kept = trim_url_tail(body);
    if kept == 0 {
        return None;
    }
    Some(start + (rest.len() - after_scheme.len()) + kept)
}

/// End (byte offset in `text`) of a bare domain URL starting at `start`.
fn bare_domain_url_end(text: &str, start: usize, prev: Option<char>) -> Option<usize> {
    if prev.is_some_and(blocks_bare_url) {
        return None;
    }
    let rest = text.get(start..)?;
    let run = rest
        .bytes()
        .take_while(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        .count();
    let host = rest.get(..run)?.trim_end_matches('.');
    let (_, tld) = host.rsplit_once('.')?;
    let labels_ok = host
        .split('.')
        .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
    if !labels_ok || !is_known_tld(tld) {
        return None;
    }

    let mut end = start + host.len();
    let after = text.get(end..)?;
    if after.starts_with(['@', '+']) {
        return None; // e-mail address or similar
    }
    // Optional port.
    if let Some(port) = after.strip_prefix(':') {
        let digits = port.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            end += 1 + digits;
        }
    }
    // Optional path (a query or fragment without a path is not taken).
    let after = text.get(end..)?;
    if after.starts_with('/') {
        let body = after.get(..url_body_len(after))?;
        end += trim_url_tail(body);
    }
    Some(end)
}

/// Top-level domains recognised in bare domains (compared case-insensitively).
const KNOWN_TLDS: &[&str] = &[
    "ai", "app", "art", "at", "au", "be", "biz", "blog", "br", "ca", "ch", "cloud", "club", "cn",
    "co", "com", "cz", "de", "design", "dev", "digital", "dk", "edu", "email", "es", "eu", "fi",
    "fm", "fr", "fun", "gg", "gov", "gr", "health", "hk", "ie", "in", "info", "io", "it", "jp",
    "kr", "life", "link", "live", "ly", "me", "media", "mil", "mx", "net", "news", "nl", "no",
    "nz", "online", "org", "page", "pl", "pro", "pt", "ru", "se", "sg", "shop", "site", "social",
    "store", "team", "tech", "today", "tv", "tw", "uk", "us", "world", "xyz",
];

fn is_known_tld(tld: &str) -> bool {
    KNOWN_TLDS
        .iter()
        .any(|known| known.eq_ignore_ascii_case(tld))
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn urls_of(text: &str) -> Vec<&str> {
        find_urls(text)
            .into_iter()
            .map(|range| text.get(range).unwrap())
            .collect()
    }

    // --- weighted_len: hand-checked values -------------------------------

    #[test]
    fn ascii_and_empty() {
        assert_eq!(weighted_len(""), 0);
        assert_eq!(weighted_len("hello"), 5);
        assert_eq!(weighted_len(&"a".repeat(281)), 281);
        assert_eq!(weighted_len(&"a".repeat(280)), X_MAX_WEIGHTED);
    }

    #[test]
    fn emoji_weigh_two() {
        assert_eq!(weighted_len("😀"), 2);
        assert_eq!(weighted_len("👍🏽"), 2); // skin tone
        assert_eq!(weighted_len("👨‍👩‍👧"), 2); // ZWJ family
        assert_eq!(weighted_len("🇫🇷"), 2); // flag
        assert_eq!(weighted_len("1️⃣"), 2); // keycap with VS16
        assert_eq!(weighted_len("#\u{20E3}"), 2); // keycap without VS16
        assert_eq!(weighted_len("❤️"), 2); // VS16 presentation
        assert_eq!(
            weighted_len("🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}"),
            2
        );
        assert_eq!(weighted_len("🏳️‍🌈"), 2);
        assert_eq!(weighted_len("😀😀 ok"), 7);
    }

    #[test]
    fn text_symbols_documented_choice() {
        // © without VS16: counted as an emoji (2), like twitter-text's parser.
        assert_eq!(weighted_len("©"), 2);
        assert_eq!(weighted_len("©️"), 2);
        // Digits and `#` alone are plain text.
        assert_eq!(weighted_len("1#*"), 3);
        // A combining mark after an emoji is counted on its own.
        assert_eq!(weighted_len("😀\u{0301}"), 3);
    }

    #[test]
    fn cjk_and_latin() {
        assert_eq!(weighted_len("你好"), 4);
        assert_eq!(weighted_len("こんにちは"), 10);
        assert_eq!(weighted_len("한"), 2);
        assert_eq!(weighted_len("\u{1112}\u{1161}\u{11AB}"), 2); // jamo, NFC → 한
        assert_eq!(weighted_len("é"), 1);
        assert_eq!(weighted_len("café"), 4);
        assert_eq!(weighted_len("cafe\u{0301}"), 4); // decomposed, NFC makes it 4
        assert_eq!(weighted_len(&"你".repeat(140)), 280);
    }

    #[test]
    fn punctuation_ranges() {
        assert_eq!(weighted_len("—"), 1); // U+2014 inside U+2010–U+201F
        assert_eq!(weighted_len("…"), 2); // U+2026 outside every range
        assert_eq!(weighted_len("\u{201C}quoted\u{201D}"), 8);
        assert_eq!(weighted_len("\u{2032}"), 1);
        assert_eq!(weighted_len("\u{2038}"), 2);
        assert_eq!(weighted_len("\u{200D}"), 1);
        assert_eq!(weighted_len("\u{200E}"), 2);
        assert_eq!(weighted_len("\u{10FF}\u{1100}"), 3);
    }

    #[test]
    fn urls_weigh_23() {
        assert_eq!(
            weighted_len("https://example.com/a/very/long/path?query=1"),
            23
        );
        assert_eq!(weighted_len("see https://a.co now"), 4 + 23 + 4);
        assert_eq!(weighted_len("halcytone.com/updates"), 23);
        assert_eq!(weighted_len("mail me at a@b.com"), 11 + 7);
        assert_eq!(weighted_len("Visit halcytone.com."), 6 + 23 + 1);
        assert_eq!(
            weighted_len("https://halcytone.com/jpをご覧ください"),
            23 + 7 * 2
        );
        assert_eq!(weighted_len("https://halcytone.com/x👇"), 23 + 2);
        assert_eq!(weighted_len("http://"), 7);
    }

    // --- find_urls --------------------------------------------------------

    #[test]
    fn finds_scheme_urls() {
        assert_eq!(urls_of("see https://a.co now"), ["https://a.co"]);
        assert_eq!(urls_of("HTTPS://EXAMPLE.COM/X"), ["HTTPS://EXAMPLE.COM/X"]);
        assert_eq!(urls_of("go to http://x.org/a, then"), ["http://x.org/a"]);
        assert_eq!(urls_of("(https://a.com/x)"), ["https://a.com/x"]);
        assert_eq!(
            urls_of("(see https://en.wikipedia.org/wiki/Foo_(bar)),"),
            ["https://en.wikipedia.org/wiki/Foo_(bar)"]
        );
        assert_eq!(urls_of("\"https://a.com/q?x=1\"!"), ["https://a.com/q?x=1"]);
        assert_eq!(
            urls_of("a https://a.com b https://b.io/c"),
            ["https://a.com", "https://b.io/c"]
        );
        assert_eq!(urls_of("xhttps://a.com"), Vec::<&str>::new());
        assert_eq!(urls_of("https://... http:// https://"), Vec::<&str>::new());
    }

    #[test]
    fn finds_bare_domains() {
        assert_eq!(urls_of("halcytone.com"), ["halcytone.com"]);
        assert_eq!(
            urls_of("at halcytone.com/updates?x=1."),
            ["halcytone.com/updates?x=1"]
        );
        assert_eq!(urls_of("(www.Halcytone.COM)"), ["www.Halcytone.COM"]);
        assert_eq!(
            urls_of("api.halcytone.dev:8443/v1"),
            ["api.halcytone.dev:8443/v1"]
        );
        assert_eq!(urls_of("halcytone.com?x=1"), ["halcytone.com"]);
        assert_eq!(urls_of("詳細はhalcytone.comで"), ["halcytone.com"]);
    }

    #[test]
    fn rejects_non_urls() {
        let none = Vec::<&str>::new();
        assert_eq!(urls_of("mail me at a@b.com"), none);
        assert_eq!(urls_of("john.doe@halcytone.com"), none);
        assert_eq!(urls_of("halcytone.com@x"), none);
        assert_eq!(urls_of("e.g. this, i.e. that, 3.14, v1.2.3"), none);
        assert_eq!(urls_of("file.txt and notes.md"), none);
        assert_eq!(urls_of("path/halcytone.com"), none);
        assert_eq!(urls_of("-halcytone.com _halcytone.com"), none);
        assert_eq!(urls_of("halcytone..com .com com."), none);
    }

    #[test]
    fn url_ranges_are_on_char_boundaries() {
        let text = "é https://ex.com/é… 你halcytone.io/ü)";
        for range in find_urls(text) {
            assert!(text.get(range).is_some());
        }
        assert_eq!(urls_of(text), ["https://ex.com/é", "halcytone.io/ü"]);
    }

    // --- truncate_weighted ------------------------------------------------

    #[test]
    fn truncate_returns_fitting_text_unchanged() {
        assert_eq!(truncate_weighted("hello world ", 20), "hello world ");
        assert_eq!(truncate_weighted("", 0), "");
        assert_eq!(truncate_weighted("abc", 3), "abc");
    }

    #[test]
    fn truncate_cuts_at_whitespace() {
        assert_eq!(truncate_weighted("hello world foo", 13), "hello world");
        assert_eq!(truncate_weighted("hello world foo", 11), "hello world");
        assert_eq!(truncate_weighted("hello world foo", 12), "hello world");
        // Whitespace too far back (before the last 30%): hard cut.
        assert_eq!(
            truncate_weighted("aaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 20),
            "aaaa bbbbbbbbbbbbbbb"
        );
        // Whitespace within the last 30%: cut there.
        assert_eq!(
            truncate_weighted("aaaaaaaaaaaaaaaa bbbbbbbbbb", 20),
            "aaaaaaaaaaaaaaaa"
        );
        assert_eq!(truncate_weighted("one two", 0), "");
    }

    #[test]
    fn truncate_never_splits_emoji() {
        assert_eq!(truncate_weighted("ab😀", 3), "ab");
        assert_eq!(truncate_weighted("ab👨‍👩‍👧cd", 4), "ab👨‍👩‍👧");
        assert_eq!(truncate_weighted("ab👨‍👩‍👧cd", 3), "ab");
        assert_eq!(truncate_weighted("🇫🇷🇩🇪", 3), "🇫🇷");
        assert_eq!(truncate_weighted("你好世界", 5), "你好");
    }

    #[test]
    fn truncate_never_splits_url() {
        let text = "read https://example.com/a/very/long/path now";
        assert_eq!(truncate_weighted(text, 20), "read");
        assert_eq!(truncate_weighted(text, 27), "read");
        assert_eq!(
            truncate_weighted(text, 28),
            "read https://example.com/a/very/long/path"
        );
        assert_eq!(truncate_weighted("https://example.com/x", 22), "");
        assert_eq!(truncate_weighted("go halcytone.com/updates", 10), "go");
    }

    #[test]
    fn truncate_result_fits() {
        let text = "Halcytone 🌿 update: 新しいガイド is live — read it at https://halcytone.com/updates/2025/spring-guide … and share with friends 👨‍👩‍👧 🇫🇷!";
        for max in 0..=weighted_len(text) + 2 {
            let cut = truncate_weighted(text, max);
            assert!(weighted_len(cut) <= max, "max {max}: {cut:?}");
            assert!(text.starts_with(cut));
            if cut.len() < text.len() {
                assert_eq!(cut, cut.trim_end());
            }
        }
    }

    #[test]
    fn truncate_handles_non_nfc_input() {
        // U+0958 weighs 1 as given but NFC decomposes it into two code points.
        let text = "\u{0958}".repeat(10);
        assert_eq!(weighted_len(&text), 20);
        let cut = truncate_weighted(&text, 10);
        assert!(weighted_len(cut) <= 10);
        assert_eq!(cut, "\u{0958}".repeat(5));
        // Decomposed accents: weights per grapheme on the input are higher than
        // after NFC, which only makes the cut more conservative.
        let cut = truncate_weighted("cafe\u{0301} cafe\u{0301} cafe\u{0301}", 9);
        assert!(weighted_len(cut) <= 9);
        assert_eq!(cut, "cafe\u{0301} caf");
    }

    #[test]
    fn truncate_rechecks_urls_created_by_the_cut() {
        // "halcytone.comfort" is no URL, but the prefix "halcytone.com" is.
        let text = "see halcytone.comfort zone";
        let cut = truncate_weighted(text, 17);
        assert!(weighted_len(cut) <= 17, "{cut:?}");
    }

    // --- truncate_weighted_with_ellipsis ------------------------------------

    #[test]
    fn ellipsis_only_when_cut() {
        assert_eq!(truncate_weighted_with_ellipsis("hello", 5), "hello");
        assert_eq!(
            truncate_weighted_with_ellipsis("hello world foo", 13),
            "hello world…"
        );
        assert_eq!(weighted_len("hello world…"), 13);
        assert_eq!(truncate_weighted_with_ellipsis("hello, world", 9), "hello…");
        assert_eq!(
            truncate_weighted_with_ellipsis("https://example.com/x y", 10),
            "…"
        );
        // No room for the ellipsis.
        assert_eq!(truncate_weighted_with_ellipsis("hello", 1), "h");
        assert_eq!(truncate_weighted_with_ellipsis("hello", 0), "");
    }

    #[test]
    fn ellipsis_result_fits() {
        let text = "Breathe in 🌬️ for four, hold for seven, out for eight. Repeat 4× — see https://halcytone.com/breathing 你好 🇫🇷";
        for max in 0..=weighted_len(text) + 2 {
            let out = truncate_weighted_with_ellipsis(text, max);
            assert!(weighted_len(&out) <= max, "max {max}: {out:?}");
        }
    }

    #[test]
    fn pictographic_table_is_sorted_and_disjoint() {
        for pair in PICTOGRAPHIC.windows(2) {
            let [(lo_a, hi_a), (lo_b, _)] = [pair[0], pair[1]];
            assert!(lo_a <= hi_a && hi_a < lo_b, "{pair:x?}");
        }
    }

    // --- properties -----------------------------------------------------------

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        fn pieces() -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                Just("a"),
                Just("word"),
                Just(" "),
                Just("\n"),
                Just("é"),
                Just("e\u{0301}"),
                Just("\u{0958}"),
                Just("你"),
                Just("—"),
                Just("…"),
                Just("."),
                Just(")"),
                Just("("),
                Just("@"),
                Just("😀"),
                Just("👍🏽"),
                Just("👨‍👩‍👧"),
                Just("🇫🇷"),
                Just("1️⃣"),
                Just("https://"),
                Just("https://example.com/path"),
                Just("halcytone.com"),
                Just("/updates"),
                Just(".com"),
            ];
            prop::collection::vec(piece, 0..120).prop_map(|parts| parts.concat())
        }

        /// The units as the first version listed them: every URL found over the whole
        /// text first, then the graphemes of each gap between them.
        fn reference_units(text: &str) -> Vec<Unit> {
            let mut out = Vec::new();
            let mut pos = 0;
            let tail = text.len()..text.len();
            for url in find_urls(text).into_iter().chain(std::iter::once(tail)) {
                let gap = text.get(pos..url.start).unwrap_or("");
                let _ = gap_units(pos, gap, &mut |u| {
                    out.push(u);
                    ControlFlow::Continue(())
                });
                if url.start < url.end {
                    out.push(Unit {
                        start: url.start,
                        end: url.end,
                        weight: X_URL_WEIGHT,
                        space: false,
                    });
                }
                pos = url.end;
            }
            out
        }

        fn walked_units(text: &str) -> Vec<Unit> {
            let mut out = Vec::new();
            for_each_unit(text, |u| {
                out.push(u);
                ControlFlow::Continue(())
            });
            out
        }

        fn check(s: &str, max: usize) -> Result<(), TestCaseError> {
            prop_assert_eq!(walked_units(s), reference_units(s));
            let total = weighted_len(s);
            let cut = truncate_weighted(s, max);
            prop_assert!(weighted_len(cut) <= max);
            prop_assert!(s.starts_with(cut));
            if total <= max {
                prop_assert_eq!(cut, s);
            }
            let with = truncate_weighted_with_ellipsis(s, max);
            prop_assert!(weighted_len(&with) <= max);
            for range in find_urls(s) {
                prop_assert!(range.start < range.end);
                prop_assert!(s.get(range).is_some());
            }
            Ok(())
        }

        proptest! {
            #[test]
            fn arbitrary_strings(s in any::<String>(), max in 0_usize..400) {
                check(&s, max)?;
            }

            #[test]
            fn printable_strings(s in "\\PC{0,400}", max in 0_usize..400) {
                check(&s, max)?;
            }

            #[test]
            fn url_and_emoji_mixes(s in pieces(), max in 0_usize..400) {
                check(&s, max)?;
            }
        }
    }
}
