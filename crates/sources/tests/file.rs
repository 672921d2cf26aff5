#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `file:` documents: the configured path, and per-request paths confined to LIVING_DOC_DIR.

use std::path::Path;

use halcytone_sources::{FetchedFormat, SourceError, SourceRef, SourceSettings, Sources};

const DOC: &str = "# Doc\n\n## [Vision] Mission\n\n### Why\n- **Content:** Calm.\n";

/// tmp/root/notes/week.md (inside) and tmp/outside.md (outside the root).
fn layout() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("notes")).unwrap();
    std::fs::write(root.join("notes/week.md"), DOC).unwrap();
    std::fs::write(root.join("data.json"), "{\"content\": []}").unwrap();
    std::fs::write(tmp.path().join("outside.md"), "secret").unwrap();
    (tmp, root)
}

fn sources(root: Option<&Path>) -> Sources {
    Sources::new(SourceSettings {
        file_root: root.map(Path::to_path_buf),
        ..SourceSettings::default()
    })
    .unwrap()
}

async fn per_request(s: &Sources, path: &str) -> Result<halcytone_sources::Fetched, SourceError> {
    s.fetch(&SourceRef::parse(&format!("file:{path}")).unwrap(), false)
        .await
}

fn assert_forbidden(result: Result<halcytone_sources::Fetched, SourceError>) -> String {
    match result {
        Err(e @ SourceError::Forbidden(_)) => {
            assert!(e.is_caller_error());
            e.to_string()
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
}

#[tokio::test]
async fn configured_path_is_read_wherever_it_is() {
    let (tmp, _root) = layout();
    let path = tmp.path().join("root/notes/week.md");
    // No LIVING_DOC_DIR at all: the configured document is still readable.
    let r = SourceRef::configured("file", path.to_str().unwrap()).unwrap();
    let fetched = sources(None).fetch(&r, true).await.unwrap();
    assert_eq!(fetched.text, DOC);
    assert_eq!(fetched.format, FetchedFormat::Markdown);
    assert_eq!(fetched.label, format!("file:{}", path.display()));
}

#[tokio::test]
async fn per_request_files_need_living_doc_dir() {
    let (tmp, _root) = layout();
    let path = tmp.path().join("root/notes/week.md");
    let m = assert_forbidden(per_request(&sources(None), path.to_str().unwrap()).await);
    assert!(m.contains("LIVING_DOC_DIR"), "{m}");
}

#[tokio::test]
async fn per_request_paths_inside_the_root_are_read() {
    let (_tmp, root) = layout();
    let s = sources(Some(&root));
    let fetched = per_request(&s, "notes/week.md").await.unwrap();
    assert_eq!(fetched.text, DOC);
    assert_eq!(fetched.label, "file:notes/week.md");
    // An absolute path inside the root, and a detour that stays inside.
    let abs = root.join("notes/week.md");
    assert_eq!(
        per_request(&s, abs.to_str().unwrap()).await.unwrap().text,
        DOC
    );
    assert_eq!(
        per_request(&s, "notes/../notes/./week.md")
            .await
            .unwrap()
            .text,
        DOC
    );
    let json = per_request(&s, "data.json").await.unwrap();
    assert_eq!(json.format, FetchedFormat::Json);
}

#[tokio::test]
async fn per_request_paths_outside_the_root_are_forbidden() {
    let (tmp, root) = layout();
    let s = sources(Some(&root));
    let m = assert_forbidden(per_request(&s, "../outside.md").await);
    assert!(m.contains("outside LIVING_DOC_DIR"), "{m}");
    assert_forbidden(per_request(&s, "notes/../../outside.md").await);
    assert_forbidden(per_request(&s, "../../../../../../etc/passwd").await);
    let outside = tmp.path().join("outside.md");
    assert_forbidden(per_request(&s, outside.to_str().unwrap()).await);
    assert_forbidden(per_request(&s, "/etc/passwd").await);
    // Outside and missing: still Forbidden, so callers cannot probe for files.
    assert_forbidden(per_request(&s, "../no-such-file.md").await);
    assert_forbidden(per_request(&s, "/definitely/not/here.md").await);
}

#[cfg(unix)]
#[tokio::test]
async fn symlinks_out_of_the_root_are_forbidden() {
    let (tmp, root) = layout();
    std::os::unix::fs::symlink(tmp.path().join("outside.md"), root.join("link.md")).unwrap();
    std::os::unix::fs::symlink(tmp.path(), root.join("up")).unwrap();
    let s = sources(Some(&root));
    assert_forbidden(per_request(&s, "link.md").await);
    assert_forbidden(per_request(&s, "up/outside.md").await);
}

#[tokio::test]
async fn missing_file_is_an_io_error_naming_the_path() {
    let (tmp, root) = layout();
    let s = sources(Some(&root));
    match per_request(&s, "notes/missing.md").await {
        Err(e @ SourceError::Io { .. }) => {
            assert!(!e.is_caller_error());
            let m = e.to_string();
            assert!(m.contains("notes/missing.md"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    let missing = tmp.path().join("gone.md");
    let r = SourceRef::configured("file", missing.to_str().unwrap()).unwrap();
    match s.fetch(&r, true).await {
        Err(SourceError::Io { path, detail }) => {
            assert_eq!(path, missing.to_str().unwrap());
            assert!(!detail.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn non_utf8_files_are_malformed() {
    let (_tmp, root) = layout();
    std::fs::write(root.join("latin1.txt"), [b'c', b'a', b'f', 0xe9]).unwrap();
    match per_request(&sources(Some(&root)), "latin1.txt").await {
        Err(SourceError::Malformed { detail, .. }) => assert!(detail.contains("UTF-8"), "{detail}"),
        other => panic!("{other:?}"),
    }
}
