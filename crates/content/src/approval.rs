//! The approval rules: which level of review a document needs (from its items' type,
//! priority, featured flag and urgency), how many approvals each level takes, and which
//! moves between review states are allowed. Pure: callers bring the identities and clocks.
//!
//! | level | when | approvals |
//! |---|---|---|
//! | L1 | standard updates, priority 3–5, not featured | 1 (auto when validation passes) |
//! | L2 | featured items, blog posts, priority 2 (the weekly update) | 2 distinct approvers |
//! | L3 | announcements | 3 distinct approvers, at least one with admin rights |
//! | L4 | priority 1 with critical urgency (critical communications) | 2 distinct admins |

use crate::model::{ContentType, Flags, LivingDocument, Urgency};
use serde::Serialize;

/// A review level, L1 (lightest) to L4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Level {
    L1,
    L2,
    L3,
    L4,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::L1 => "L1",
            Level::L2 => "L2",
            Level::L3 => "L3",
            Level::L4 => "L4",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s.trim().to_ascii_uppercase().as_str() {
            "L1" => Some(Level::L1),
            "L2" => Some(Level::L2),
            "L3" => Some(Level::L3),
            "L4" => Some(Level::L4),
            _ => None,
        }
    }

    /// Approvals this level takes: (distinct approvers, of whom admins).
    pub fn requirement(self) -> Requirement {
        match self {
            Level::L1 => Requirement {
                approvers: 1,
                admins: 0,
            },
            Level::L2 => Requirement {
                approvers: 2,
                admins: 0,
            },
            Level::L3 => Requirement {
                approvers: 3,
                admins: 1,
            },
            Level::L4 => Requirement {
                approvers: 2,
                admins: 2,
            },
        }
    }

    /// Who reviews at this level, in the words of the editorial process.
    pub fn reviewers(self) -> &'static str {
        match self {
            Level::L1 => "content editor (self-approval; automatic when validation passes)",
            Level::L2 => "senior editor and marketing",
            Level::L3 => "marketing manager, department head and an executive",
            Level::L4 => "executive team",
        }
    }
}

/// How many approvals a level needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Requirement {
    pub approvers: usize,
    pub admins: usize,
}

/// One approval already given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval<'a> {
    pub by: &'a str,
    pub admin: bool,
}

impl Requirement {
    /// Whether the approvals (distinct approvers counted once) meet the requirement.
    pub fn met_by(&self, approvals: &[Approval<'_>]) -> bool {
        let mut seen: Vec<&str> = Vec::new();
        let mut admins = 0;
        for a in approvals {
            if !seen.contains(&a.by) {
                seen.push(a.by);
                if a.admin {
                    admins += 1;
                }
            }
        }
        seen.len() >= self.approvers && admins >= self.admins
    }
}

/// The level one item needs, and why.
fn item_level(flags: &Flags, doc: &Flags) -> (Level, &'static str) {
    let kind = flags.content_type.or(doc.content_type);
    let priority = flags.priority.or(doc.priority).unwrap_or(3);
    let featured = flags.featured.or(doc.featured).unwrap_or(false);
    let urgency = flags.urgency.or(doc.urgency);
    if priority == 1 && urgency == Some(Urgency::Critical) {
        return (Level::L4, "priority 1 with critical urgency");
    }
    if kind == Some(ContentType::Announcement) {
        return (Level::L3, "an announcement");
    }
    if featured {
        return (Level::L2, "a featured item");
    }
    if kind == Some(ContentType::Blog) {
        return (Level::L2, "a blog post");
    }
    if priority <= 2 {
        return (Level::L2, "priority 1–2");
    }
    (Level::L1, "a standard update")
}

/// The level a whole document needs: its most demanding item's, with that item's title and
/// the reason.
pub fn required_level(doc: &LivingDocument) -> (Level, Option<String>) {
    let mut best = (Level::L1, None);
    for item in doc.sections.iter().flat_map(|s| s.items.iter()) {
        let (level, why) = item_level(&item.flags, &doc.flags);
        if level > best.0 {
            best = (level, Some(format!("\"{}\" is {why}", item.title)));
        }
    }
    best
}

/// Where a content version is in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    Draft,
    InReview,
    Approved,
    Rejected,
    /// Handed to the publisher (a job exists); the job's status says the rest.
    Scheduled,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Draft => "draft",
            ReviewState::InReview => "in_review",
            ReviewState::Approved => "approved",
            ReviewState::Rejected => "rejected",
            ReviewState::Scheduled => "scheduled",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewState> {
        match s {
            "draft" => Some(ReviewState::Draft),
            "in_review" => Some(ReviewState::InReview),
            "approved" => Some(ReviewState::Approved),
            "rejected" => Some(ReviewState::Rejected),
            "scheduled" => Some(ReviewState::Scheduled),
            _ => None,
        }
    }
}

/// What a reviewer or editor does to a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Submit,
    Approve,
    Reject,
    Schedule,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Schedule => "schedule",
        }
    }
}

/// Whether `action` may be taken in `state`; the error says why not.
pub fn allowed(state: ReviewState, action: Action) -> Result<(), String> {
    use Action::*;
    use ReviewState::*;
    match (state, action) {
        (Draft | Rejected, Submit) => Ok(()),
        (InReview, Approve | Reject) => Ok(()),
        (Approved, Schedule) => Ok(()),
        (Approved, Reject) => Ok(()),
        (Scheduled, a) => Err(format!(
            "the version is already with the publisher (scheduled or published); it cannot be {}",
            past(a)
        )),
        (s, a) => Err(format!(
            "a version that is {} cannot be {}; {}",
            s.as_str(),
            past(a),
            hint(s)
        )),
    }
}

fn past(a: Action) -> &'static str {
    match a {
        Action::Submit => "submitted",
        Action::Approve => "approved",
        Action::Reject => "rejected",
        Action::Schedule => "scheduled",
    }
}

fn hint(s: ReviewState) -> &'static str {
    match s {
        ReviewState::Draft => "submit it for review first",
        ReviewState::InReview => "it is waiting for approvals",
        ReviewState::Approved => "schedule it, or reject it",
        ReviewState::Rejected => {
            "make a new version with the changes (POST /api/v2/content), or resubmit this one as it is"
        }
        ReviewState::Scheduled => "it is with the publisher",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn level_of(md: &str) -> Level {
        let doc = parse(md, None).unwrap_or_else(|e| unreachable!("{e}"));
        required_level(&doc).0
    }

    const ITEM: &str = "- **Date:** 2026-11-20\n- **Content:** A plain update with enough words to be a real item of news.\n";

    #[test]
    fn levels_follow_type_priority_featured_and_urgency() {
        let plain = format!("## [Breathscape] Updates\n\n### Plain\n{ITEM}");
        assert_eq!(level_of(&plain), Level::L1);
        let featured =
            format!("## [Breathscape] Updates\n\n### F\n<!-- featured: true -->\n{ITEM}");
        assert_eq!(level_of(&featured), Level::L2);
        let weekly = format!("## [Breathscape] Updates\n\n### W\n<!-- priority: 2 -->\n{ITEM}");
        assert_eq!(level_of(&weekly), Level::L2);
        let blog = format!("## [Tips] Tips\n\n### B\n<!-- type: blog -->\n{ITEM}");
        assert_eq!(level_of(&blog), Level::L2);
        let news = format!(
            "## [Breathscape] Updates\n\n### A\n<!-- type: announcement; priority: 2 -->\n{ITEM}"
        );
        assert_eq!(level_of(&news), Level::L3);
        let critical = format!(
            "## [Breathscape] Updates\n\n### C\n<!-- priority: 1; urgency: critical -->\n{ITEM}"
        );
        assert_eq!(level_of(&critical), Level::L4);
        // The most demanding item decides, and is named.
        let mixed = format!("{plain}\n### Also featured\n<!-- featured: true -->\n{ITEM}");
        let doc = parse(&mixed, None).unwrap_or_else(|e| unreachable!("{e}"));
        let (level, why) = required_level(&doc);
        assert_eq!(level, Level::L2);
        assert!(why.unwrap_or_default().contains("Also featured"));
    }

    #[test]
    fn requirements_count_distinct_approvers_and_admins() {
        let a = |by, admin| Approval { by, admin };
        let cases: [(Level, &[Approval], bool); 7] = [
            (Level::L1, &[a("k1", false)], true),
            (Level::L2, &[a("k1", false), a("k1", false)], false),
            (Level::L2, &[a("k1", false), a("k2", false)], true),
            (
                Level::L3,
                &[a("k1", false), a("k2", false), a("k3", false)],
                false,
            ),
            (
                Level::L3,
                &[a("k1", false), a("k2", false), a("k3", true)],
                true,
            ),
            (Level::L4, &[a("k1", true), a("k2", false)], false),
            (Level::L4, &[a("k1", true), a("k2", true)], true),
        ];
        for (level, approvals, met) in cases {
            assert_eq!(
                level.requirement().met_by(approvals),
                met,
                "{level:?} {approvals:?}"
            );
        }
    }

    #[test]
    fn only_the_documented_moves_are_allowed() {
        use Action::*;
        use ReviewState::*;
        assert!(allowed(Draft, Submit).is_ok());
        assert!(allowed(Rejected, Submit).is_ok());
        assert!(allowed(InReview, Approve).is_ok());
        assert!(allowed(InReview, Reject).is_ok());
        assert!(allowed(Approved, Schedule).is_ok());
        for (s, a) in [
            (Draft, Approve),
            (Draft, Schedule),
            (InReview, Schedule),
            (InReview, Submit),
            (Approved, Approve),
            (Rejected, Approve),
            (Scheduled, Approve),
            (Scheduled, Reject),
            (Scheduled, Schedule),
        ] {
            let e = allowed(s, a);
            assert!(e.is_err(), "{s:?} {a:?}");
        }
        assert!(
            allowed(Draft, Approve)
                .unwrap_err()
                .contains("submit it for review first")
        );
        assert_eq!(ReviewState::parse("in_review"), Some(InReview));
        assert_eq!(Level::parse("l3"), Some(Level::L3));
    }
}
