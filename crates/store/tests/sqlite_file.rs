//! The SQLite file a store opens: a file that exists but is empty or is not a database is
//! refused with its name, and left as it was; a missing file is created.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use halcytone_store::{SqliteStore, Store, StoreError};

#[tokio::test]
async fn an_empty_file_is_refused_by_name_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("halcytone.db");
    std::fs::write(&path, b"").unwrap();
    match SqliteStore::open(&path).await {
        Err(e @ StoreError::NotADatabase { .. }) => {
            let text = e.to_string();
            assert!(text.contains(&path.display().to_string()), "{text}");
            assert!(text.contains("empty"), "{text}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "untouched");
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("halcytone.db");
    std::fs::write(&path, b"these are my notes, not a database\n").unwrap();
    let e = SqliteStore::open(&path).await.unwrap_err();
    assert!(e.to_string().contains("SQLite header"), "{e}");
    std::fs::write(&path, b"SQLite").unwrap();
    let e = SqliteStore::open(&path).await.unwrap_err();
    assert!(e.to_string().contains("only 6 bytes"), "{e}");
}

#[tokio::test]
async fn a_missing_file_is_created_and_opens_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("halcytone.db");
    let s = SqliteStore::open(&path).await.unwrap();
    s.ping().await.unwrap();
    drop(s);
    let again = SqliteStore::open(&path).await.unwrap();
    assert!(!again.migrations().await.unwrap().is_empty());
}
