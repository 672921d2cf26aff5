//! Which living document to read: `gdocs:ID`, `notion:ID`, `url:https://…`, `file:path`.

use crate::error::SourceError;

/// The kind of place a living document is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    File,
    Url,
    GoogleDocs,
    Notion,
}

impl SourceKind {
    const ALL: [SourceKind; 4] = [
        SourceKind::File,
        SourceKind::Url,
        SourceKind::GoogleDocs,
        SourceKind::Notion,
    ];

    /// The kind `name` (any letter case, blanks around ignored) spells, as `spells` decides;
    /// else the name as it was compared.
    fn named(name: &str, spells: impl Fn(SourceKind, &str) -> bool) -> Result<Self, String> {
        let name = name.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|k| spells(*k, &name))
            .ok_or(name)
    }

    /// The configuration spelling: `file`, `url`, `google_docs`, `notion`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::File => "file",
            SourceKind::Url => "url",
            SourceKind::GoogleDocs => "google_docs",
            SourceKind::Notion => "notion",
        }
    }

    /// The name used in messages.
    pub fn display_name(self) -> &'static str {
        match self {
            SourceKind::File => "file",
            SourceKind::Url => "URL",
            SourceKind::GoogleDocs => "Google Docs",
            SourceKind::Notion => "Notion",
        }
    }

    /// The prefix of a per-request reference: `file`, `url`, `gdocs`, `notion`.
    pub fn prefix(self) -> &'static str {
        match self {
            SourceKind::GoogleDocs => "gdocs",
            other => other.as_str(),
        }
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A living document: its kind and the id within that kind (document id, database id,
/// URL or path).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceRef {
    pub kind: SourceKind,
    pub id: String,
}

const ACCEPTED: &str =
    "use gdocs:<document id>, notion:<database id>, url:https://… or file:<path>";

/// The Notion id that means "the configured NOTION_DATABASE_ID".
pub(crate) const NOTION_DEFAULT: &str = "default";

impl SourceRef {
    /// Reads a per-request reference: `gdocs:ID`, `notion:ID` (database id, or `default`),
    /// `url:https://…` or `file:path`.
    pub fn parse(s: &str) -> Result<SourceRef, SourceError> {
        let s = s.trim();
        let Some((prefix, rest)) = s.split_once(':') else {
            return Err(SourceError::BadReference(format!(
                "'{}' has no source prefix; {ACCEPTED}",
                shorten(s)
            )));
        };
        let kind = SourceKind::named(prefix, |k, name| k.prefix() == name).map_err(|other| {
            SourceError::BadReference(format!(
                "unknown source prefix '{}'; {ACCEPTED}",
                shorten(&other)
            ))
        })?;
        let id = rest.trim();
        if id.is_empty() {
            return Err(SourceError::BadReference(format!(
                "'{}:' needs an id after the colon; {ACCEPTED}",
                kind.prefix()
            )));
        }
        Self::build(kind, id)
    }

    /// Reads the configured document: `LIVING_DOC_TYPE` (`file`, `url`, `google_docs` or
    /// `gdocs`, `notion`) and `LIVING_DOC_ID`. For Notion an empty id means
    /// `NOTION_DATABASE_ID`.
    pub fn configured(kind: &str, id: &str) -> Result<SourceRef, SourceError> {
        let id = id.trim();
        let spells = |k: SourceKind, name: &str| k.as_str() == name || k.prefix() == name;
        let kind = SourceKind::named(kind, spells).map_err(|other| {
            SourceError::BadReference(format!(
                "LIVING_DOC_TYPE '{}' is not one of file, url, google_docs (or gdocs), notion",
                shorten(&other)
            ))
        })?;
        if id.is_empty() {
            if kind == SourceKind::Notion {
                return Ok(SourceRef {
                    kind,
                    id: NOTION_DEFAULT.into(),
                });
            }
            return Err(SourceError::BadReference(format!(
                "LIVING_DOC_TYPE={} needs LIVING_DOC_ID (the {})",
                kind.as_str(),
                match kind {
                    SourceKind::File => "path of the Markdown, text or JSON file",
                    SourceKind::Url => "http(s) URL of the raw document",
                    _ => "Google Docs document id",
                }
            )));
        }
        Self::build(kind, id)
    }

    /// The reference as the caller would write it: `gdocs:ID`, `notion:ID`, `url:…`,
    /// `file:path`. A password inside a URL is replaced by `***`.
    pub fn label(&self) -> String {
        let id = match self.kind {
            SourceKind::Url => redact_url(&self.id),
            _ => self.id.clone(),
        };
        format!("{}:{}", self.kind.prefix(), id)
    }

    fn build(kind: SourceKind, id: &str) -> Result<SourceRef, SourceError> {
        let id = match kind {
            SourceKind::GoogleDocs => google_doc_id(id)?,
            SourceKind::Notion => notion_id(id)?,
            SourceKind::Url => {
                let url = url::Url::parse(id).map_err(|e| {
                    SourceError::BadReference(format!("'{}' is not a URL: {e}", shorten(id)))
                })?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(SourceError::BadReference(format!(
                        "url: references must use http or https, not '{}'",
                        url.scheme()
                    )));
                }
                if url.host().is_none() {
                    return Err(SourceError::BadReference(format!(
                        "'{}' has no host",
                        shorten(id)
                    )));
                }
                url.to_string()
            }
            SourceKind::File => {
                if id.contains('\0') {
                    return Err(SourceError::BadReference(
                        "file: paths cannot contain NUL characters".into(),
                    ));
                }
                id.to_string()
            }
        };
        Ok(SourceRef { kind, id })
    }
}

/// Accepts a bare document id or a `https://docs.google.com/document/d/ID/edit` link.
fn google_doc_id(id: &str) -> Result<String, SourceError> {
    let id = match id.find("/document/d/") {
        Some(at) => id[at + "/document/d/".len()..]
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default(),
        None => id,
    };
    if !id.is_empty()
        && id.len() <= 200
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(id.to_string())
    } else {
        Err(SourceError::BadReference(format!(
            "'{}' is not a Google Docs document id (letters, digits, '-' and '_', as in docs.google.com/document/d/<id>/edit)",
            shorten(id)
        )))
    }
}

/// Accepts a database id (with or without dashes), `default`, or a notion.so link whose
/// path ends in the 32-hex-digit id.
pub(crate) fn notion_id(id: &str) -> Result<String, SourceError> {
    let plain = |s: &str| {
        !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if plain(id) {
        return Ok(id.to_string());
    }
    if id.starts_with("https://") || id.starts_with("http://") {
        let path = id.split(['?', '#']).next().unwrap_or_default();
        let last = path.trim_end_matches('/').rsplit(['/', '-']).next();
        if let Some(last) =
            last.filter(|l| l.len() == 32 && l.chars().all(|c| c.is_ascii_hexdigit()))
        {
            return Ok(last.to_string());
        }
    }
    Err(SourceError::BadReference(format!(
        "'{}' is not a Notion database id (32 hexadecimal digits, dashes allowed)",
        shorten(id)
    )))
}

/// Replaces the password of a URL by `***` for labels and logs.
fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_string(),
    }
}

/// Keeps echoed input short in messages.
fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn bad(s: &str) -> String {
        match SourceRef::parse(s) {
            Err(SourceError::BadReference(m)) => m,
            other => panic!("expected BadReference for {s:?}, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_four_prefixes() {
        let r = SourceRef::parse("gdocs:1AbC-d_9").unwrap();
        assert_eq!(
            (r.kind, r.id.as_str()),
            (SourceKind::GoogleDocs, "1AbC-d_9")
        );
        assert_eq!(r.label(), "gdocs:1AbC-d_9");

        let r = SourceRef::parse("notion:0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(r.kind, SourceKind::Notion);
        assert_eq!(r.label(), "notion:0123456789abcdef0123456789abcdef");

        let r = SourceRef::parse("url:https://example.com/doc.md").unwrap();
        assert_eq!(r.kind, SourceKind::Url);
        assert_eq!(r.id, "https://example.com/doc.md");
        assert_eq!(r.label(), "url:https://example.com/doc.md");

        let r = SourceRef::parse(" file:notes/week.md ").unwrap();
        assert_eq!((r.kind, r.id.as_str()), (SourceKind::File, "notes/week.md"));
        assert_eq!(r.label(), "file:notes/week.md");
    }

    #[test]
    fn prefix_is_case_insensitive() {
        assert_eq!(
            SourceRef::parse("GDOCS:abc").unwrap().kind,
            SourceKind::GoogleDocs
        );
    }

    #[test]
    fn refuses_unknown_or_missing_prefix_naming_the_accepted_ones() {
        for s in [
            "drive:abc",
            "abc",
            "https://example.com/doc.md",
            "google_docs:abc",
            "",
        ] {
            let m = bad(s);
            assert!(
                m.contains("gdocs:")
                    && m.contains("notion:")
                    && m.contains("url:")
                    && m.contains("file:"),
                "{s:?}: {m}"
            );
        }
    }

    #[test]
    fn refuses_empty_ids() {
        for s in ["gdocs:", "notion:  ", "url:", "file:"] {
            assert!(bad(s).contains("needs an id"), "{s}");
        }
    }

    #[test]
    fn refuses_ids_that_could_escape_the_api_path() {
        bad("gdocs:../../v1/users");
        bad("gdocs:abc?alt=media");
        bad("notion:../pages/x");
        bad("notion:abc/def");
    }

    #[test]
    fn url_references_must_be_http() {
        assert!(bad("url:ftp://example.com/x").contains("http or https"));
        assert!(bad("url:file:///etc/passwd").contains("http or https"));
        assert!(bad("url:not a url").contains("not a URL"));
    }

    #[test]
    fn google_links_and_notion_links_give_their_ids() {
        let r = SourceRef::parse("gdocs:https://docs.google.com/document/d/1xYz_AB-c/edit?tab=t.0")
            .unwrap();
        assert_eq!(r.id, "1xYz_AB-c");
        let r = SourceRef::parse(
            "notion:https://www.notion.so/team/Living-doc-0123456789abcdef0123456789abcdef?v=1",
        )
        .unwrap();
        assert_eq!(r.id, "0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn label_hides_url_passwords() {
        let r = SourceRef::parse("url:https://user:hunter2@example.com/doc.md").unwrap();
        assert_eq!(r.label(), "url:https://user:***@example.com/doc.md");
        assert!(!r.label().contains("hunter2"));
    }

    #[test]
    fn configured_kinds() {
        assert_eq!(
            SourceRef::configured("google_docs", "abc").unwrap().kind,
            SourceKind::GoogleDocs
        );
        assert_eq!(
            SourceRef::configured("GDOCS", "abc").unwrap().kind,
            SourceKind::GoogleDocs
        );
        assert_eq!(
            SourceRef::configured("file", "/srv/doc.md").unwrap().id,
            "/srv/doc.md"
        );
        assert_eq!(
            SourceRef::configured("url", "http://x.test/a")
                .unwrap()
                .kind,
            SourceKind::Url
        );
        let n = SourceRef::configured("notion", "").unwrap();
        assert_eq!((n.kind, n.id.as_str()), (SourceKind::Notion, "default"));
        match SourceRef::configured("internal", "x") {
            Err(SourceError::BadReference(m)) => assert!(m.contains("LIVING_DOC_TYPE"), "{m}"),
            other => panic!("{other:?}"),
        }
        match SourceRef::configured("file", " ") {
            Err(SourceError::BadReference(m)) => assert!(m.contains("LIVING_DOC_ID"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn kind_spellings() {
        let all = [
            SourceKind::File,
            SourceKind::Url,
            SourceKind::GoogleDocs,
            SourceKind::Notion,
        ];
        let names: Vec<_> = all.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, ["file", "url", "google_docs", "notion"]);
    }
}
