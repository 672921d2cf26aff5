//! The social networks we write for and their limits — the one table every composer,
//! validator and publisher reads.

use crate::model::UnknownValue;
use crate::social::weighted_length::weighted_len;
use serde::Serialize;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Twitter,
    Linkedin,
    Facebook,
    Instagram,
}

/// How a network counts the length of a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LengthRule {
    /// twitter-text weighting: most CJK and emoji count 2, every URL counts 23.
    Weighted,
    /// Unicode scalar values.
    Chars,
}

/// Limits and habits of one network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PlatformSpec {
    pub platform: Platform,
    pub display_name: &'static str,
    pub max_length: usize,
    pub length_rule: LengthRule,
    /// Hashtags we attach to a generated post.
    pub hashtags: usize,
    /// Hashtags above which validation warns.
    pub max_hashtags: usize,
    pub max_media: usize,
    /// Whether links in the text are clickable (Instagram captions are not).
    pub links_clickable: bool,
}

/// Every supported network. Sources: X counts 280 weighted characters (URLs 23);
/// LinkedIn posts 3,000 characters; Facebook posts 63,206; Instagram captions 2,200
/// with at most 30 hashtags.
pub const PLATFORMS: [PlatformSpec; 4] = [
    PlatformSpec {
        platform: Platform::Twitter,
        display_name: "X (Twitter)",
        max_length: 280,
        length_rule: LengthRule::Weighted,
        hashtags: 2,
        max_hashtags: 3,
        max_media: 4,
        links_clickable: true,
    },
    PlatformSpec {
        platform: Platform::Linkedin,
        display_name: "LinkedIn",
        max_length: 3000,
        length_rule: LengthRule::Chars,
        hashtags: 5,
        max_hashtags: 5,
        max_media: 9,
        links_clickable: true,
    },
    PlatformSpec {
        platform: Platform::Facebook,
        display_name: "Facebook",
        max_length: 63_206,
        length_rule: LengthRule::Chars,
        hashtags: 3,
        max_hashtags: 5,
        max_media: 10,
        links_clickable: true,
    },
    PlatformSpec {
        platform: Platform::Instagram,
        display_name: "Instagram",
        max_length: 2200,
        length_rule: LengthRule::Chars,
        hashtags: 10,
        max_hashtags: 30,
        max_media: 10,
        links_clickable: false,
    },
];

impl Platform {
    pub const ALL: [Platform; 4] = [
        Platform::Twitter,
        Platform::Linkedin,
        Platform::Facebook,
        Platform::Instagram,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Twitter => "twitter",
            Platform::Linkedin => "linkedin",
            Platform::Facebook => "facebook",
            Platform::Instagram => "instagram",
        }
    }

    pub fn spec(self) -> &'static PlatformSpec {
        // The table holds one row per variant, in declaration order.
        &PLATFORMS[self as usize]
    }
}

impl PlatformSpec {
    /// The length of `text` as this network counts it.
    pub fn length(&self, text: &str) -> usize {
        match self.length_rule {
            LengthRule::Weighted => weighted_len(text),
            LengthRule::Chars => text.chars().count(),
        }
    }
}

impl_display_by_name!(Platform);

impl FromStr for Platform {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        let wanted = if wanted == "x" {
            "twitter".to_string()
        } else {
            wanted
        };
        UnknownValue::pick("platform", s, &wanted, Self::ALL, Self::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_match_variants() {
        for p in Platform::ALL {
            assert_eq!(p.spec().platform, p);
        }
    }

    #[test]
    fn x_alias_and_errors() {
        assert_eq!("X".parse::<Platform>(), Ok(Platform::Twitter));
        assert!("myspace".parse::<Platform>().is_err());
    }
}
