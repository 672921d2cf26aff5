//! JSON Schemas for request fields whose rule is narrower than their Rust type (a `String`
//! that must be a tone, one line of at most 200 characters…). The request types name these
//! with `#[schema(schema_with = …)]`, so the OpenAPI document states the rule the use case
//! checks; the value lists come from the domain's enums.

use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{KnownFormat, RefOr};

/// Text on one line: no control characters, and something other than spaces.
pub const ONE_LINE: &str = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$";

fn nullable(t: Type) -> utoipa::openapi::schema::SchemaType {
    utoipa::openapi::schema::SchemaType::from_iter([t, Type::Null])
}

/// A string, or null.
fn optional_string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(nullable(Type::String))
}

fn names(values: impl IntoIterator<Item = &'static str>) -> RefOr<Schema> {
    let mut list: Vec<serde_json::Value> = values.into_iter().map(Into::into).collect();
    list.push(serde_json::Value::Null);
    optional_string().enum_values(Some(list)).into()
}

/// An array of names from `values`: at least `min` of them, or null when `optional`.
fn list_of(
    values: impl IntoIterator<Item = &'static str>,
    min: usize,
    optional: bool,
) -> RefOr<Schema> {
    let values: Vec<&'static str> = values.into_iter().collect();
    let b = ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(values)),
        )
        .min_items((min > 0).then_some(min));
    if optional {
        b.schema_type(nullable(Type::Array)).into()
    } else {
        b.into()
    }
}

/// A string whose only rule is `pattern`.
fn matching(pattern: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
}

fn line(max: usize, optional: bool) -> ObjectBuilder {
    let b = ObjectBuilder::new()
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(ONE_LINE));
    if optional {
        b.schema_type(nullable(Type::String))
    } else {
        b.schema_type(Type::String)
    }
}

/// A tone of voice (`Tone`), or null for the default.
pub fn tone() -> RefOr<Schema> {
    names(halcytone_content::Tone::ALL.map(|t| t.as_str()))
}

/// A newsletter template (`EmailTemplate`), or null for the default.
pub fn template() -> RefOr<Schema> {
    names(halcytone_content::EmailTemplate::ALL.map(|t| t.as_str()))
}

/// A content type (`ContentType`), or null.
pub fn content_type() -> RefOr<Schema> {
    names(halcytone_content::ContentType::ALL.map(|t| t.as_str()))
}

/// A living-document format (or its short names md, text, txt), or null to tell from the text.
pub fn document_format() -> RefOr<Schema> {
    names(
        halcytone_content::SourceFormat::ALL
            .map(|f| f.as_str())
            .into_iter()
            .chain(["md", "text", "txt"]),
    )
}

/// The channels of a send: at least one name from [`crate::targets::NAMES`].
pub fn targets() -> RefOr<Schema> {
    list_of(crate::targets::NAMES, 1, false)
}

/// An RFC 3339 instant; empty or null for none.
pub fn instant() -> RefOr<Schema> {
    AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        )
        .item(matching(r"^\s*$"))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(
            "RFC 3339 (2026-12-01T10:00:00Z; 2026-12-01T10:00 is taken as UTC); empty or null for none",
        ))
        .into()
}

/// Cache targets to invalidate (`cache::invalidation::TARGETS`), or null for `local`.
pub fn cache_targets() -> RefOr<Schema> {
    list_of(crate::cache::invalidation::TARGETS, 1, true)
}

/// Cache keys, patterns or tags: up to 1,000 of 1 to 512 characters, or null.
pub fn cache_entries() -> RefOr<Schema> {
    ArrayBuilder::new()
        .schema_type(nullable(Type::Array))
        .items(text(512))
        .max_items(Some(1000))
        .into()
}

/// An optional note of at most 500 characters.
pub fn optional_text_500() -> RefOr<Schema> {
    optional_string().max_length(Some(500)).into()
}

/// Text with something other than spaces in it, 1 to `max` characters.
fn text(max: usize) -> ObjectBuilder {
    matching(r"\S").min_length(Some(1)).max_length(Some(max))
}

/// Required text of 1 to 1000 characters (a rejection's reason).
pub fn text_1000() -> RefOr<Schema> {
    text(1000).into()
}

/// Required text, not only spaces (an HTML body).
pub fn some_text() -> RefOr<Schema> {
    matching(r"\S").into()
}

/// Optional channels of a draft or schedule: names from [`crate::targets::NAMES`].
pub fn optional_targets() -> RefOr<Schema> {
    list_of(crate::targets::NAMES, 1, true)
}

/// Social networks (`Platform`), or null for all.
pub fn platforms() -> RefOr<Schema> {
    list_of(
        halcytone_content::Platform::ALL.map(|p| p.as_str()),
        0,
        true,
    )
}

/// An email address (`local@domain.tld`), or null.
pub fn optional_email() -> RefOr<Schema> {
    optional_string()
        .pattern(Some(r"^[^@\s]+@[^@\s]*\.[^@\s]*$"))
        .into()
}

/// One character an address may hold (what `audiences::parse_email` accepts).
const ADDRESS_CHAR: &str = r#"[^@\s\x00-\x1f\x7f-\x9f"(),:;<>\[\\\]]"#;
/// One character of a domain: an address character but a dot.
const DOMAIN_CHAR: &str = r#"[^@.\s\x00-\x1f\x7f-\x9f"(),:;<>\[\\\]]"#;
/// A domain's first or last character: a domain character but a hyphen.
const DOMAIN_EDGE: &str = r#"[^@.\-\s\x00-\x1f\x7f-\x9f"(),:;<>\[\\\]]"#;

/// A required email address, stated as `audiences::parse_email` checks it: 1 to 64
/// characters before the @, a domain of two or more labels that neither starts nor ends with
/// a dot or a hyphen, no spaces inside, at most 254 characters.
pub fn email() -> RefOr<Schema> {
    let d = DOMAIN_CHAR;
    let e = DOMAIN_EDGE;
    let pattern =
        format!(r"^[ \t\r\n]*{ADDRESS_CHAR}{{1,64}}@{e}{d}*(\.{d}+)*\.{d}*{e}[ \t\r\n]*$");
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .min_length(Some(3))
        .max_length(Some(254))
        .into()
}

/// A suppression's reason, or null for `manual`.
pub fn suppression_reason() -> RefOr<Schema> {
    names(["bounce", "complaint", "unsubscribe", "manual"])
}

/// An empty object, or null (a field kept from the earlier API that takes no value yet).
pub fn empty_object() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(nullable(Type::Object))
        .max_properties(Some(0))
        .into()
}

/// An optional cache key pattern of 1 to 512 characters.
pub fn optional_pattern() -> RefOr<Schema> {
    optional_string()
        .min_length(Some(1))
        .max_length(Some(512))
        .pattern(Some(r"\S"))
        .into()
}

/// A required line of at most 200 characters.
pub fn line_200() -> RefOr<Schema> {
    line(200, false).into()
}

/// An optional line of at most 200 characters.
pub fn optional_line_200() -> RefOr<Schema> {
    line(200, true).into()
}

/// A required line of at most 100 characters.
pub fn line_100() -> RefOr<Schema> {
    line(100, false).into()
}

/// An optional line of at most 50 characters (blank means none).
pub fn optional_line_50() -> RefOr<Schema> {
    optional_string()
        .max_length(Some(50))
        .pattern(Some(r"^[^\x00-\x1f\x7f-\x9f]*$"))
        .into()
}

/// Two to five different subject lines.
pub fn subjects() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(line(200, false))
        .min_items(Some(2))
        .max_items(Some(5))
        .unique_items(true)
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: RefOr<Schema>) -> serde_json::Value {
        serde_json::to_value(s).unwrap_or_default()
    }

    #[test]
    fn value_lists_come_from_the_domain() {
        let t = json(tone());
        assert_eq!(
            t["enum"],
            serde_json::json!(["professional", "encouraging", "medical_scientific", null])
        );
        assert_eq!(json(targets())["items"]["enum"][0], "email");
        assert_eq!(json(subjects())["minItems"], 2);
    }
}
