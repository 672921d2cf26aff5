//! Publish targets as callers name them — `email`, `web`/`website`, `social`, and
//! `social_twitter`/`twitter`/`x`, `social_linkedin`/`linkedin`, … — and what each means.

use halcytone_content::{Channel, Platform};

/// One requested target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Email,
    Web,
    /// Every social network.
    Social,
    Network(Platform),
}

/// Every accepted spelling, for error messages.
/// Every channel name a send accepts.
pub const NAMES: [&str; 13] = [
    "email",
    "web",
    "website",
    "social",
    "social_twitter",
    "social_linkedin",
    "social_facebook",
    "social_instagram",
    "twitter",
    "x",
    "linkedin",
    "facebook",
    "instagram",
];

pub const VALID: &str = "email, web, website, social, social_twitter, social_linkedin, social_facebook, social_instagram, twitter, x, linkedin, facebook, instagram";

/// Reads one target name; unknown names are an error listing the valid ones.
pub fn parse(name: &str) -> Result<Target, String> {
    let n = name.trim().to_ascii_lowercase();
    let network = n.strip_prefix("social_").unwrap_or(&n);
    match n.as_str() {
        "email" => Ok(Target::Email),
        "web" | "website" => Ok(Target::Web),
        "social" => Ok(Target::Social),
        _ => network
            .parse::<Platform>()
            .map(Target::Network)
            .map_err(|_| format!("unknown channel '{name}'; valid channels: {VALID}")),
    }
}

impl Target {
    pub fn channel(self) -> Channel {
        match self {
            Target::Email => Channel::Email,
            Target::Web => Channel::Web,
            Target::Social | Target::Network(_) => Channel::Social,
        }
    }

    /// Whether a publish report line (`email:batch-2`, `web`, `social:twitter`) belongs here.
    pub fn covers(self, report_target: &str) -> bool {
        match self {
            Target::Email => report_target == "email" || report_target.starts_with("email:"),
            Target::Web => report_target == "web",
            Target::Social => report_target.starts_with("social"),
            Target::Network(p) => report_target == format!("social:{p}"),
        }
    }
}

/// The channels and networks a list of targets needs composed and published.
pub fn plan(targets: &[Target]) -> (Vec<Channel>, Vec<Platform>) {
    let mut channels: Vec<Channel> = Vec::new();
    let mut platforms: Vec<Platform> = Vec::new();
    for t in targets {
        if !channels.contains(&t.channel()) {
            channels.push(t.channel());
        }
        match t {
            Target::Social => {
                for p in Platform::ALL {
                    if !platforms.contains(&p) {
                        platforms.push(p);
                    }
                }
            }
            Target::Network(p) if !platforms.contains(p) => platforms.push(*p),
            _ => {}
        }
    }
    (channels, platforms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_parses_and_the_message_lists_them_all() {
        for n in NAMES {
            assert!(parse(n).is_ok(), "{n}");
        }
        assert_eq!(VALID, NAMES.join(", "));
    }

    #[test]
    fn dashboard_names_are_understood() {
        assert_eq!(parse("website"), Ok(Target::Web));
        assert_eq!(
            parse("social_twitter"),
            Ok(Target::Network(Platform::Twitter))
        );
        assert_eq!(parse("X"), Ok(Target::Network(Platform::Twitter)));
        assert_eq!(parse("linkedin"), Ok(Target::Network(Platform::Linkedin)));
        let err = parse("myspace").unwrap_err();
        assert!(err.contains("social_twitter"), "{err}");
        let (channels, platforms) = plan(&[Target::Email, Target::Network(Platform::Facebook)]);
        assert_eq!(channels, vec![Channel::Email, Channel::Social]);
        assert_eq!(platforms, vec![Platform::Facebook]);
        assert!(Target::Email.covers("email:batch-3"));
        assert!(!Target::Network(Platform::Twitter).covers("social:linkedin"));
    }
}
