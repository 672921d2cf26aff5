//! Tones of voice and the words each one uses: greetings, introductions, calls to action,
//! emoji policy per channel, and the disclaimers a medical-scientific voice adds.

use crate::model::UnknownValue;
use crate::platform::Platform;
use serde::Serialize;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    Professional,
    Encouraging,
    MedicalScientific,
}

impl Tone {
    pub const ALL: [Tone; 3] = [
        Tone::Professional,
        Tone::Encouraging,
        Tone::MedicalScientific,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tone::Professional => "professional",
            Tone::Encouraging => "encouraging",
            Tone::MedicalScientific => "medical_scientific",
        }
    }
}

impl_display_by_name!(Tone);

impl FromStr for Tone {
    type Err = UnknownValue;
    /// A name in any letter case, with `-` for `_` (`medical-scientific`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        UnknownValue::pick("tone", s, &wanted, Self::ALL, Self::as_str)
    }
}

/// Where a piece of content goes, for choosing its tone and emoji policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "channel", content = "platform")]
pub enum Target {
    Email,
    Web,
    Social(Platform),
}

/// The tone used when the caller names none: the first tone each channel allows
/// (email and community networks encourage; the web and LinkedIn stay professional).
pub fn auto_tone(target: Target) -> Tone {
    match target {
        Target::Email => Tone::Encouraging,
        Target::Web => Tone::Professional,
        Target::Social(Platform::Linkedin) => Tone::Professional,
        Target::Social(_) => Tone::Encouraging,
    }
}

/// The tone for `target`: the explicit one when given, else the document's, else automatic.
pub fn select(explicit: Option<Tone>, document: Option<Tone>, target: Target) -> Tone {
    explicit.or(document).unwrap_or_else(|| auto_tone(target))
}

/// Whether emoji may appear in content for `target` in `tone`.
pub fn allows_emoji(tone: Tone, target: Target) -> bool {
    match tone {
        Tone::Encouraging => !matches!(target, Target::Web | Target::Social(Platform::Linkedin)),
        Tone::Professional => matches!(target, Target::Social(Platform::Instagram)),
        Tone::MedicalScientific => false,
    }
}

/// The words a newsletter uses around the document's items.
#[derive(Debug, Clone, Serialize)]
pub struct NewsletterVoice {
    pub greeting: String,
    pub intro: String,
    pub sign_off: &'static str,
    pub signature: String,
    pub disclaimer: Option<&'static str>,
    pub use_emoji: bool,
}

/// A call to action in a tone.
#[derive(Debug, Clone, Serialize)]
pub struct CallToAction {
    pub heading: &'static str,
    pub text: String,
    pub button_text: &'static str,
    pub url: String,
}

pub const MEDICAL_DISCLAIMER: &str = "This material is general information about breathing practice and our products. It is not medical advice and does not replace care from a qualified clinician; talk to one before changing how you manage a health condition.";
pub const MEDICAL_DISCLAIMER_SHORT: &str = "General information, not medical advice.";

pub fn newsletter_voice(
    tone: Tone,
    brand: &str,
    month_year: &str,
    item_count: usize,
) -> NewsletterVoice {
    let use_emoji = allows_emoji(tone, Target::Email);
    match tone {
        Tone::Professional => NewsletterVoice {
            greeting: "Hello,".into(),
            intro: format!(
                "This is the {brand} update for {month_year}: {item_count} items covering product releases, hardware progress and practical guidance, summarised for a quick read."
            ),
            sign_off: "Kind regards,",
            signature: format!("The {brand} team"),
            disclaimer: None,
            use_emoji,
        },
        Tone::Encouraging => NewsletterVoice {
            greeting: "Hi there, fellow breather!".into(),
            intro: format!(
                "Take a slow breath in — here is what we have been building for you in {month_year}: {item_count} small steps forward, and every one of them is about helping you feel calmer and more at home in your breath."
            ),
            sign_off: "Breathe easy,",
            signature: format!("Everyone at {brand}"),
            disclaimer: None,
            use_emoji,
        },
        Tone::MedicalScientific => NewsletterVoice {
            greeting: "Dear reader,".into(),
            intro: format!(
                "This {month_year} bulletin reports {item_count} developments in the {brand} programme. Where we describe effects of breathing techniques, we state what was measured and under which conditions; observations from small groups are labelled as such."
            ),
            sign_off: "With regards,",
            signature: format!("{brand} research and product team"),
            disclaimer: Some(MEDICAL_DISCLAIMER),
            use_emoji,
        },
    }
}

/// The greeting of a personalised newsletter: the reader's first name as a merge tag
/// (`*|FIRST_NAME|*`), filled per recipient.
pub fn personal_greeting(tone: Tone) -> String {
    match tone {
        Tone::Professional => "Hello *|FIRST_NAME|*,".into(),
        Tone::Encouraging => "Hi *|FIRST_NAME|*, fellow breather!".into(),
        Tone::MedicalScientific => "Dear *|FIRST_NAME|*,".into(),
    }
}

pub fn newsletter_cta(tone: Tone, website_url: &str) -> CallToAction {
    let url = format!("{}/app", website_url.trim_end_matches('/'));
    match tone {
        Tone::Professional => CallToAction {
            heading: "See the release notes",
            text: "The latest Breathscape build is available now for iOS and Android.".into(),
            button_text: "Get the update",
            url,
        },
        Tone::Encouraging => CallToAction {
            heading: "Ready for your next calm minute?",
            text: "Open Breathscape and try one of this week's exercises — five minutes is plenty to start.".into(),
            button_text: "Start breathing",
            url,
        },
        Tone::MedicalScientific => CallToAction {
            heading: "Review the details",
            text: "Full notes on methods, device accuracy and known limitations are published on our website.".into(),
            button_text: "Read the technical notes",
            url: format!("{}/research", website_url.trim_end_matches('/')),
        },
    }
}

/// Short description under a section heading, by tone.
pub fn section_blurb(tone: Tone, category: crate::model::Category) -> &'static str {
    use crate::model::Category::*;
    match (tone, category) {
        (Tone::Professional, Breathscape) => "What changed in the app this period.",
        (Tone::Professional, Hardware) => "Progress on the Halcytone sensor and its firmware.",
        (Tone::Professional, Tips) => "Practical techniques, with the steps to follow.",
        (Tone::Professional, Vision) => "Where the company is heading and why.",
        (Tone::Encouraging, Breathscape) => "Fresh in the app, made with you in mind.",
        (Tone::Encouraging, Hardware) => "A peek inside the workshop.",
        (Tone::Encouraging, Tips) => "Little practices you can try today.",
        (Tone::Encouraging, Vision) => "Why we do this, together.",
        (Tone::MedicalScientific, Breathscape) => {
            "Software changes, with what they measure and how."
        }
        (Tone::MedicalScientific, Hardware) => "Sensor development, validation and test results.",
        (Tone::MedicalScientific, Tips) => "Breathing protocols, described step by step.",
        (Tone::MedicalScientific, Vision) => "Our research priorities.",
    }
}

/// The first words of a web post's introduction.
pub fn web_intro(tone: Tone, brand: &str, month_year: &str) -> String {
    match tone {
        Tone::Professional => format!(
            "A summary of {brand} news for {month_year}: app releases, hardware milestones and techniques worth adopting."
        ),
        Tone::Encouraging => format!(
            "Here is everything new at {brand} in {month_year} — small improvements that add up to calmer days."
        ),
        Tone::MedicalScientific => format!(
            "This report summarises {brand} developments for {month_year}, including measurement methods and the limits of what the data shows."
        ),
    }
}

/// Words that open a social post, by tone and whether emoji are allowed.
pub fn social_opener(tone: Tone, emoji: bool) -> &'static str {
    match (tone, emoji) {
        (Tone::Professional, _) => "Product update:",
        (Tone::Encouraging, true) => "🌿 Good news for your breath:",
        (Tone::Encouraging, false) => "Good news for your breath:",
        (Tone::MedicalScientific, _) => "Research note:",
    }
}

/// The closing call to action of a social post.
pub fn social_cta(tone: Tone, platform: Platform) -> &'static str {
    match (tone, platform) {
        (_, Platform::Instagram) => "Link in bio.",
        (Tone::Professional, _) => "Details:",
        (Tone::Encouraging, _) => "Come breathe with us:",
        (Tone::MedicalScientific, _) => "Methods and limitations:",
    }
}

/// A question that invites replies on community networks.
pub fn social_question(tone: Tone) -> &'static str {
    match tone {
        Tone::Professional => "Which of these matters most to your team?",
        Tone::Encouraging => "Which one will you try first? Tell us below!",
        Tone::MedicalScientific => {
            "Questions about the methods? Ask below and we will answer with sources."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_tone_lists_valid_ones() {
        let err = "casual".parse::<Tone>().expect_err("unknown");
        let msg = err.to_string();
        assert!(
            msg.contains("professional, encouraging, medical_scientific"),
            "{msg}"
        );
    }

    #[test]
    fn automatic_tone_per_channel() {
        assert_eq!(auto_tone(Target::Email), Tone::Encouraging);
        assert_eq!(auto_tone(Target::Web), Tone::Professional);
        assert_eq!(
            auto_tone(Target::Social(Platform::Linkedin)),
            Tone::Professional
        );
        assert_eq!(
            auto_tone(Target::Social(Platform::Twitter)),
            Tone::Encouraging
        );
        assert_eq!(
            select(Some(Tone::MedicalScientific), None, Target::Web),
            Tone::MedicalScientific
        );
    }

    #[test]
    fn medical_voice_never_uses_emoji_and_always_disclaims() {
        for t in [
            Target::Email,
            Target::Web,
            Target::Social(Platform::Instagram),
        ] {
            assert!(!allows_emoji(Tone::MedicalScientific, t));
        }
        assert!(
            newsletter_voice(Tone::MedicalScientific, "H", "May 2026", 3)
                .disclaimer
                .is_some()
        );
    }
}
