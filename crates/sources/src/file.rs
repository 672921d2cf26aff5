//! `file:` documents: the configured path, or per-request paths inside `LIVING_DOC_DIR`.

use std::path::{Component, Path, PathBuf};

use crate::error::SourceError;
use crate::{FetchedFormat, SourceKind};

/// Reads a document file. `configured` paths (from `LIVING_DOC_ID`) are trusted; per-request
/// paths must resolve inside `root`.
pub(crate) async fn read(
    raw: &str,
    configured: bool,
    root: Option<&Path>,
) -> Result<(String, FetchedFormat), SourceError> {
    let path = if configured {
        PathBuf::from(raw)
    } else {
        inside_root(raw, root).await?
    };
    let io = |e: std::io::Error| SourceError::Io {
        path: raw.to_string(),
        detail: e.to_string(),
    };
    let bytes = tokio::fs::read(&path).await.map_err(io)?;
    let text = String::from_utf8(bytes).map_err(|e| SourceError::Malformed {
        kind: SourceKind::File,
        target: raw.to_string(),
        detail: format!(
            "the file is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })?;
    Ok((text, format_for(&path)))
}

/// The format a file's extension announces.
pub(crate) fn format_for(path: &Path) -> FetchedFormat {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("md" | "markdown") => FetchedFormat::Markdown,
        Some("json") => FetchedFormat::Json,
        Some("txt" | "text") => FetchedFormat::Text,
        _ => FetchedFormat::Auto,
    }
}

/// Resolves a per-request path against the root and refuses anything that lands outside it,
/// through `..` or through a symbolic link. A path that is outside the root is refused
/// whether or not it exists, so callers cannot probe the rest of the disk.
async fn inside_root(raw: &str, root: Option<&Path>) -> Result<PathBuf, SourceError> {
    let Some(root) = root else {
        return Err(SourceError::Forbidden(
            "per-request file: documents need LIVING_DOC_DIR, the directory they must live in; it is not set, so only the configured LIVING_DOC_ID file can be read".into(),
        ));
    };
    let root = tokio::fs::canonicalize(root)
        .await
        .map_err(|e| SourceError::NotConfigured {
            kind: SourceKind::File,
            reason: format!("LIVING_DOC_DIR {} cannot be used: {e}", root.display()),
        })?;
    let outside = || {
        SourceError::Forbidden(format!(
            "file:{raw} is outside LIVING_DOC_DIR; per-request files must live inside that directory"
        ))
    };
    let joined = normalize(&root.join(raw));
    if !joined.starts_with(&root) {
        return Err(outside());
    }
    match tokio::fs::canonicalize(&joined).await {
        Ok(real) if real.starts_with(&root) => Ok(real),
        Ok(_) => Err(outside()),
        Err(e) => Err(SourceError::Io {
            path: raw.to_string(),
            detail: e.to_string(),
        }),
    }
}

/// Removes `.` and `..` components without touching the disk.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        assert_eq!(format_for(Path::new("a/doc.md")), FetchedFormat::Markdown);
        assert_eq!(
            format_for(Path::new("doc.MARKDOWN")),
            FetchedFormat::Markdown
        );
        assert_eq!(format_for(Path::new("doc.json")), FetchedFormat::Json);
        assert_eq!(format_for(Path::new("doc.txt")), FetchedFormat::Text);
        assert_eq!(format_for(Path::new("doc")), FetchedFormat::Auto);
        assert_eq!(format_for(Path::new("doc.html")), FetchedFormat::Auto);
    }

    #[test]
    fn normalizes_dot_dot() {
        assert_eq!(
            normalize(Path::new("/r/a/../b/./c")),
            PathBuf::from("/r/b/c")
        );
        assert_eq!(normalize(Path::new("/r/../../etc")), PathBuf::from("/etc"));
    }
}
