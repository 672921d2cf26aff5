//! HTML and CSS support across email clients, from a vendored copy of the caniemail.com data
//! (`data/caniemail.json`, MIT; see `data/README.md` for its version and how to refresh it).
//!
//! Every feature the data describes is matched against what the message uses
//! ([`Document`]); a used feature that some of the clients most people read mail in do not
//! support, or support only in part, is a finding with those clients named. It is a warning
//! when at least a quarter of the clients checked lack it entirely, otherwise information.

use crate::document::Document;
use crate::report::Level;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const DATA: &str = include_str!("../data/caniemail.json");

/// Client families checked: the mail apps and webmails most readers use.
const FAMILIES: &[&str] = &[
    "apple-mail",
    "gmail",
    "outlook",
    "yahoo",
    "samsung-email",
    "thunderbird",
    "aol",
    "protonmail",
    "fastmail",
    "hey",
];

/// Share of the clients checked that lack a feature from which the finding is a warning.
const WARNING_SHARE: f64 = 0.25;

#[derive(Debug, Deserialize)]
struct Data {
    source: String,
    licence: String,
    api_version: String,
    last_update_date: String,
    nicenames: Nicenames,
    features: Vec<Feature>,
}

#[derive(Debug, Deserialize)]
struct Nicenames {
    family: BTreeMap<String, String>,
    platform: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Feature {
    slug: String,
    title: String,
    url: String,
    category: String,
    /// `family/platform` → the latest test's result (`y`, `n`, `a`, `u`, with `#n` notes).
    stats: BTreeMap<String, String>,
    notes: BTreeMap<String, String>,
}

fn data() -> Option<&'static Data> {
    static PARSED: OnceLock<Option<Data>> = OnceLock::new();
    PARSED
        .get_or_init(|| match serde_json::from_str(DATA) {
            Ok(d) => Some(d),
            Err(e) => {
                tracing::error!(error = %e, "the vendored caniemail data does not parse");
                None
            }
        })
        .as_ref()
}

/// Where the support data comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataInfo {
    pub source: String,
    pub version: String,
    pub updated: String,
    pub licence: String,
}

/// A client that lacks a feature, or has it in part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientSupport {
    /// As people name it: "Outlook Windows", "Gmail Android".
    pub client: String,
    /// `none` or `partial`.
    pub support: &'static str,
    /// The data's notes on this result.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A feature the message uses that not every client supports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompatFinding {
    pub feature: String,
    pub title: String,
    pub category: String,
    pub url: String,
    pub level: Level,
    pub clients_checked: usize,
    pub supported: usize,
    pub partial: usize,
    pub unsupported: usize,
    /// Share of the clients checked that support it fully, 0–100.
    pub support_percent: u8,
    pub clients: Vec<ClientSupport>,
}

/// The findings of the message against the data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Compat {
    pub data: DataInfo,
    /// Features the message uses that the data knows (supported everywhere or not).
    pub features_used: usize,
    pub findings: Vec<CompatFinding>,
}

/// The version of the vendored data.
pub fn data_info() -> DataInfo {
    match data() {
        Some(d) => DataInfo {
            source: d.source.clone(),
            version: d.api_version.clone(),
            updated: d.last_update_date.clone(),
            licence: d.licence.clone(),
        },
        None => DataInfo {
            source: "unavailable".into(),
            version: String::new(),
            updated: String::new(),
            licence: String::new(),
        },
    }
}

/// The compatibility findings of `doc`, the least supported first.
pub fn check(doc: &Document) -> Compat {
    let mut findings = Vec::new();
    let mut used = 0;
    if let Some(data) = data() {
        for f in &data.features {
            if !uses(&f.slug, doc) {
                continue;
            }
            used += 1;
            if let Some(finding) = evaluate(data, f) {
                findings.push(finding);
            }
        }
    }
    findings.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then(a.support_percent.cmp(&b.support_percent))
            .then(a.feature.cmp(&b.feature))
    });
    Compat {
        data: data_info(),
        features_used: used,
        findings,
    }
}

fn evaluate(data: &Data, f: &Feature) -> Option<CompatFinding> {
    let (mut supported, mut partial, mut unsupported) = (0, 0, 0);
    let mut clients = Vec::new();
    for (key, result) in &f.stats {
        let Some((family, platform)) = key.split_once('/') else {
            continue;
        };
        if !FAMILIES.contains(&family) {
            continue;
        }
        let support = match result.chars().next() {
            Some('y') => {
                supported += 1;
                continue;
            }
            Some('a') => {
                partial += 1;
                "partial"
            }
            Some('n') => {
                unsupported += 1;
                "none"
            }
            _ => continue,
        };
        let notes = result
            .split_whitespace()
            .filter_map(|n| n.strip_prefix('#'))
            .filter_map(|n| f.notes.get(n).cloned())
            .collect();
        clients.push(ClientSupport {
            client: client_name(data, family, platform),
            support,
            notes,
        });
    }
    let checked = supported + partial + unsupported;
    if clients.is_empty() || checked == 0 {
        return None;
    }
    clients.sort_by(|a, b| a.support.cmp(b.support).then(a.client.cmp(&b.client)));
    let share = unsupported as f64 / checked as f64;
    Some(CompatFinding {
        feature: f.slug.clone(),
        title: f.title.clone(),
        category: f.category.clone(),
        url: f.url.clone(),
        level: if share >= WARNING_SHARE {
            Level::Warning
        } else {
            Level::Info
        },
        clients_checked: checked,
        supported,
        partial,
        unsupported,
        support_percent: u8::try_from(supported * 100 / checked).unwrap_or(100),
        clients,
    })
}

fn client_name(data: &Data, family: &str, platform: &str) -> String {
    let family = data
        .nicenames
        .family
        .get(family)
        .map_or(family, String::as_str);
    let platform = data
        .nicenames
        .platform
        .get(platform)
        .map_or(platform, String::as_str);
    format!("{family} {platform}")
}

/// Whether the message uses the feature `slug` names.
pub fn uses(slug: &str, d: &Document) -> bool {
    if let Some(rest) = slug.strip_prefix("html-") {
        return uses_html(rest, d);
    }
    if let Some(rest) = slug.strip_prefix("css-") {
        return uses_css(rest, d);
    }
    if let Some(format) = slug.strip_prefix("image-") {
        return d.image_formats.contains(format);
    }
    false
}

fn any_element(d: &Document, names: &[&str]) -> bool {
    names.iter().any(|n| d.elements.contains(*n))
}

fn uses_html(rest: &str, d: &Document) -> bool {
    const ATTRIBUTES: &[&str] = &[
        "align",
        "background",
        "cellpadding",
        "cellspacing",
        "height",
        "width",
        "valign",
        "lang",
        "dir",
        "role",
        "hidden",
        "required",
        "target",
        "srcset",
        "popover",
    ];
    if ATTRIBUTES.contains(&rest) || rest.starts_with("aria-") {
        return d.attributes.contains(rest);
    }
    match rest {
        "loading-attribute" => d.attributes.contains("loading"),
        "inert-attribute" => d.attributes.contains("inert"),
        "h1-h6" => any_element(d, &["h1", "h2", "h3", "h4", "h5", "h6"]),
        "lists" => any_element(d, &["ul", "ol", "dl"]),
        "semantics" => any_element(
            d,
            &[
                "article",
                "aside",
                "details",
                "figcaption",
                "figure",
                "footer",
                "header",
                "main",
                "mark",
                "nav",
                "section",
                "summary",
                "time",
            ],
        ),
        "comments" => d.comments,
        "doctype" => d.doctype,
        "image-maps" => any_element(d, &["map", "area"]),
        "meta-color-scheme" => d.meta_names.contains("color-scheme"),
        "mailto-links" => d
            .anchors
            .iter()
            .any(|a| a.link.scheme.as_deref() == Some("mailto")),
        "anchor-links" => d.anchors.iter().any(|a| a.link.href.starts_with('#')),
        "button-reset" => d.button_types.contains("reset"),
        "button-submit" => d.button_types.contains("submit"),
        _ => match rest.strip_prefix("input-") {
            Some(kind) => d.input_types.contains(kind),
            None => d.elements.contains(rest),
        },
    }
}

fn uses_css(rest: &str, d: &Document) -> bool {
    let c = &d.css;
    let prop = |p: &str| c.properties.contains(p);
    let props_starting = |p: &str| c.properties.iter().any(|x| x.starts_with(p));
    if let Some(at) = rest.strip_prefix("at-media-") {
        return c.media_features.iter().any(|f| f.ends_with(at));
    }
    if let Some(at) = rest.strip_prefix("at-") {
        return c.at_rules.contains(at);
    }
    if let Some(p) = rest.strip_prefix("pseudo-class-") {
        return c.pseudo_classes.contains(p);
    }
    if let Some(p) = rest.strip_prefix("pseudo-element-") {
        return c.pseudo_elements.contains(p);
    }
    if let Some(s) = rest.strip_prefix("selector-") {
        return c.selectors.contains(s);
    }
    if let Some(u) = rest.strip_prefix("unit-") {
        return c.units.contains(u) || (u == "calc" && c.functions.contains("calc"));
    }
    if let Some(f) = rest.strip_prefix("function-") {
        return c.functions.contains(f);
    }
    if let Some(v) = rest.strip_prefix("display-") {
        return c
            .display
            .iter()
            .any(|d| d == v || d == &format!("inline-{v}"));
    }
    match rest {
        "important" => c.important,
        "variables" => c.custom_properties,
        "comments" => c.comments,
        "nesting" => c.nesting,
        "rgb" | "rgba" | "linear-gradient" | "radial-gradient" | "conic-gradient" => {
            c.functions.contains(rest)
        }
        "modern-color" => ["hwb", "lab", "lch", "oklab", "oklch", "color"]
            .iter()
            .any(|f| c.functions.contains(*f)),
        "sytem-ui" | "system-ui" => c.font_families.contains("system-ui"),
        "left-right-top-bottom" => ["left", "right", "top", "bottom"].iter().any(|p| prop(p)),
        "block-inline-size" => prop("block-size") || prop("inline-size"),
        "border-inline-block" => prop("border-inline") || prop("border-block"),
        "border-inline-block-individual" | "border-inline-block-longhand" => {
            props_starting("border-inline-") || props_starting("border-block-")
        }
        "border-radius-logical" => c
            .properties
            .iter()
            .any(|p| p.starts_with("border-start-") || p.starts_with("border-end-")),
        "margin-inline-block" => prop("margin-inline") || prop("margin-block"),
        "margin-inline-start-end" => prop("margin-inline-start") || prop("margin-inline-end"),
        "margin-block-start-end" => prop("margin-block-start") || prop("margin-block-end"),
        "padding-inline-block" => prop("padding-inline") || prop("padding-block"),
        "padding-inline-start-end" => prop("padding-inline-start") || prop("padding-inline-end"),
        "padding-block-start-end" => prop("padding-block-start") || prop("padding-block-end"),
        "column-layout-properties" => props_starting("column-") || prop("columns"),
        "grid-template" => props_starting("grid-template"),
        "scroll-snap" => props_starting("scroll-snap"),
        _ => prop(rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(html: &str) -> Vec<CompatFinding> {
        check(&Document::read(html)).findings
    }

    #[test]
    fn the_vendored_data_parses_and_says_its_version() {
        let info = data_info();
        assert_eq!(info.licence, "MIT");
        assert!(
            !info.version.is_empty() && !info.updated.is_empty(),
            "{info:?}"
        );
        assert!(data().is_some_and(|d| d.features.len() > 250));
    }

    #[test]
    fn a_feature_outlook_lacks_is_found_with_the_clients_named() {
        let found = findings(
            "<div style=\"display:flex; background-image: linear-gradient(red, blue)\">x</div>",
        );
        let flex = found
            .iter()
            .find(|f| f.feature == "css-display-flex")
            .expect("display:flex is a finding");
        assert!(flex.unsupported > 0);
        assert!(
            flex.clients
                .iter()
                .any(|c| c.client.starts_with("Outlook") && c.support == "none"),
            "{flex:?}"
        );
        assert!(flex.support_percent < 100);
    }

    #[test]
    fn plain_markup_that_every_client_supports_has_no_finding() {
        let found = findings("<p>Hello <strong>there</strong></p>");
        assert!(
            found.iter().all(|f| f.feature != "html-p"),
            "paragraphs work everywhere: {found:?}"
        );
    }

    #[test]
    fn slugs_map_to_what_the_message_uses() {
        let d = Document::read(
            "<!doctype html><table cellpadding=0><tr><td><h2 lang=en>T</h2>\
             <a href=\"mailto:a@b.example\">m</a><a href=\"#x\">x</a>\
             <img src=\"a.webp\" loading=lazy></td></tr></table>\
             <style>@media (prefers-color-scheme: dark){a:hover{color:red}}</style>",
        );
        for slug in [
            "html-doctype",
            "html-table",
            "html-cellpadding",
            "html-h1-h6",
            "html-lang",
            "html-mailto-links",
            "html-anchor-links",
            "html-loading-attribute",
            "image-webp",
            "css-at-media",
            "css-at-media-prefers-color-scheme",
            "css-pseudo-class-hover",
            "css-color",
        ] {
            assert!(uses(slug, &d), "{slug}");
        }
        for slug in ["html-video", "css-display-grid", "image-gif", "amp"] {
            assert!(!uses(slug, &d), "{slug}");
        }
    }
}
