//! What a query or path parameter accepts, declared once beside its route, so the OpenAPI
//! document tells a caller (and a schema-driven fuzzer) the same rule the handler applies.
//! Value lists come from the domain's own enums (`Tone::ALL`, `Template::ALL`…) rather than
//! from copied strings.

use serde_json::{Value, json};

/// The values a parameter accepts.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// Any text.
    Text,
    /// `true` or `false`.
    Flag,
    /// A whole number in `min..=max`.
    Whole { min: i64, max: i64 },
    /// One of the names a domain enum gives.
    OneOf(fn() -> Vec<&'static str>),
    /// Repeatable: each value one of the names.
    Many(fn() -> Vec<&'static str>),
    /// An RFC 3339 date-time (2026-12-01T10:00 is taken as UTC); blank for the default.
    Timestamp,
    /// One line of at most `max` characters (blank means none).
    Line { max: u32 },
    /// Must be `true` (a confirmation).
    True,
    /// 1 to `max` characters of `A–Z a–z 0–9 _ - .` (session and client ids).
    Token { max: u32 },
}

/// One documented parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub about: &'static str,
    pub shape: Shape,
    pub required: bool,
}

impl Param {
    const fn new(name: &'static str, shape: Shape, about: &'static str) -> Self {
        Param {
            name,
            about,
            shape,
            required: false,
        }
    }
    pub const fn text(name: &'static str, about: &'static str) -> Self {
        Self::new(name, Shape::Text, about)
    }
    pub const fn flag(name: &'static str, about: &'static str) -> Self {
        Self::new(name, Shape::Flag, about)
    }
    /// A confirmation: required, and only `true` will do.
    pub const fn must_be_true(name: &'static str, about: &'static str) -> Self {
        Self::new(name, Shape::True, about).required()
    }
    pub const fn whole(name: &'static str, min: i64, max: i64, about: &'static str) -> Self {
        Self::new(name, Shape::Whole { min, max }, about)
    }
    pub const fn one_of(
        name: &'static str,
        values: fn() -> Vec<&'static str>,
        about: &'static str,
    ) -> Self {
        Self::new(name, Shape::OneOf(values), about)
    }
    pub const fn many(
        name: &'static str,
        values: fn() -> Vec<&'static str>,
        about: &'static str,
    ) -> Self {
        Self::new(name, Shape::Many(values), about)
    }
    pub const fn line(name: &'static str, max: u32, about: &'static str) -> Self {
        Self::new(name, Shape::Line { max }, about)
    }
    pub const fn timestamp(name: &'static str, about: &'static str) -> Self {
        Self::new(name, Shape::Timestamp, about)
    }
    pub const fn token(name: &'static str, max: u32, about: &'static str) -> Self {
        Self::new(name, Shape::Token { max }, about)
    }
    /// The route refuses a request without it.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The JSON Schema of one value.
    pub fn schema(&self) -> Value {
        match self.shape {
            Shape::Text => json!({ "type": "string" }),
            Shape::Flag => json!({ "type": "boolean" }),
            Shape::Line { max } => json!({
                "type": "string",
                "maxLength": max,
                "pattern": "^[^\\x00-\\x1f\\x7f-\\x9f]*$",
            }),
            Shape::True => json!({ "type": "boolean", "enum": [true] }),
            Shape::Whole { min, max } => {
                json!({ "type": "integer", "minimum": min, "maximum": max })
            }
            Shape::OneOf(values) => json!({ "type": "string", "enum": values() }),
            Shape::Many(values) => json!({
                "type": "array",
                "items": { "type": "string", "enum": values() },
                "minItems": 1,
            }),
            Shape::Timestamp => json!({ "anyOf": [
                { "type": "string", "format": "date-time" },
                { "type": "string", "pattern": "^\\s*$" },
            ] }),
            Shape::Token { max } => json!({
                "type": "string",
                "minLength": 1,
                "maxLength": max,
                "pattern": "^[A-Za-z0-9_.-]+$",
            }),
        }
    }

    /// The OpenAPI parameter object (`location` is `query` or `path`).
    pub fn document(&self, location: &str) -> Value {
        let mut p = json!({
            "name": self.name,
            "in": location,
            "required": self.required || location == "path",
            "description": self.about,
            "schema": self.schema(),
        });
        if matches!(self.shape, Shape::Many(_)) {
            p["style"] = json!("form");
            p["explode"] = json!(true);
        }
        p
    }
}

/// Newsletter tones (`halcytone_content::Tone`).
pub fn tones() -> Vec<&'static str> {
    halcytone_content::Tone::ALL
        .iter()
        .map(|t| t.as_str())
        .collect()
}

/// Newsletter templates (`halcytone_content::EmailTemplate`).
pub fn templates() -> Vec<&'static str> {
    halcytone_content::EmailTemplate::ALL
        .iter()
        .map(|t| t.as_str())
        .collect()
}

/// Social networks (`halcytone_content::Platform`).
pub fn platforms() -> Vec<&'static str> {
    halcytone_content::Platform::ALL
        .iter()
        .map(|p| p.as_str())
        .collect()
}

/// Channel names a send accepts (`halcytone_app::targets::NAMES`).
pub fn targets() -> Vec<&'static str> {
    halcytone_app::targets::NAMES.to_vec()
}

/// Job states (`halcytone_store::JobStatus`).
pub fn job_statuses() -> Vec<&'static str> {
    halcytone_store::JobStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect()
}

/// Roles in a live session (`halcytone_app::live::hub::Role`).
pub fn roles() -> Vec<&'static str> {
    halcytone_app::live::hub::Role::ALL
        .iter()
        .map(|r| r.as_str())
        .collect()
}

/// The periods a batch covers.
pub fn periods() -> Vec<&'static str> {
    vec!["day", "week", "month"]
}

/// The three channel groups a batch or a session summary composes (`Channel`).
pub fn channel_groups() -> Vec<&'static str> {
    halcytone_content::Channel::ALL
        .iter()
        .map(|c| c.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_lists_follow_the_domain_enums() {
        assert_eq!(
            tones(),
            ["professional", "encouraging", "medical_scientific"]
        );
        assert!(templates().contains(&"breathscape"));
        assert_eq!(platforms().len(), halcytone_content::Platform::ALL.len());
    }

    #[test]
    fn a_repeatable_parameter_is_an_exploded_array() {
        let p = Param::many("channels", channel_groups, "repeatable").required();
        let d = p.document("query");
        assert_eq!(d["schema"]["type"], "array");
        assert_eq!(d["explode"], true);
        assert_eq!(d["required"], true);
        let w = Param::whole("limit", 1, 500, "default 50").document("query");
        assert_eq!(w["schema"]["maximum"], 500);
        assert_eq!(w["required"], false);
    }
}
