//! Validation: what is wrong or risky in a living document and in the content composed
//! from it. Every issue has a severity, a stable code, a message and a location.

pub mod channels;
pub mod document;

use crate::compose::Bundle;
use crate::model::LivingDocument;
pub(crate) use crate::words::has_phrase;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// Where an issue is: a source line and item for document issues, a channel for content ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub location: Location,
}

impl Issue {
    pub fn new(
        severity: Severity,
        code: &'static str,
        message: impl Into<String>,
        location: Location,
    ) -> Issue {
        Issue {
            severity,
            code,
            message: message.into(),
            location,
        }
    }
}

/// All issues of one run, sorted by line (issues without a line last), then severity.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub valid: bool,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub issues: Vec<Issue>,
}

impl Report {
    pub fn from_issues(mut issues: Vec<Issue>) -> Report {
        issues.sort_by(|a, b| {
            let key = |i: &Issue| {
                (
                    i.location.line.is_none(),
                    i.location.line,
                    std::cmp::Reverse(i.severity),
                )
            };
            key(a).cmp(&key(b))
        });
        let count = |s: Severity| issues.iter().filter(|i| i.severity == s).count();
        Report {
            valid: count(Severity::Error) == 0,
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            infos: count(Severity::Info),
            issues,
        }
    }

    pub fn has_errors(&self) -> bool {
        self.errors > 0
    }
}

/// Checks the document (relative to `now`) and, when given, the content composed from it.
pub fn validate(doc: &LivingDocument, bundle: Option<&Bundle>, now: DateTime<Utc>) -> Report {
    let mut issues = document::check(doc, now);
    if let Some(b) = bundle {
        issues.extend(channels::check(b));
    }
    Report::from_issues(issues)
}
