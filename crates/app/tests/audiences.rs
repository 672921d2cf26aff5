//! Audiences imported from CSV, on SQLite and PostgreSQL: counts of a file with bad, repeated
//! and extra cells across several chunks, a second import that updates, a row without an end
//! that stops the import keeping the whole chunks before it, and the active members read
//! back page by page as subscriber objects.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use halcytone_app::AppError;
use halcytone_app::audiences::{
    self, ActiveSubscribers, AudienceRequest, CHUNK_ROWS, REFUSALS_LISTED,
};
use halcytone_store::{PostgresStore, SqliteStore, Store};
use halcytone_testkit::pg::ScratchSchema;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

struct Db {
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
    _schema: Option<ScratchSchema>,
}

async fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("h.db")).await.unwrap();
    Db {
        store: Arc::new(store),
        _dir: Some(dir),
        _schema: None,
    }
}

async fn postgres() -> Option<Db> {
    let Some(schema) = ScratchSchema::create().await else {
        eprintln!("skipped: set HALCYTONE_TEST_DATABASE_URL to run on PostgreSQL");
        return None;
    };
    let store = PostgresStore::connect(&schema.url).await.unwrap();
    Some(Db {
        store: Arc::new(store),
        _dir: None,
        _schema: Some(schema),
    })
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test] async fn $name() { super::$name(super::sqlite().await.store).await; })*
        }
        mod on_postgres {
            $(#[tokio::test] async fn $name() {
                if let Some(db) = super::postgres().await { super::$name(db.store.clone()).await; }
            })*
        }
    };
}

both!(
    a_large_file_is_imported_in_chunks_with_its_refusals,
    a_row_without_an_end_stops_the_import_and_keeps_what_came_before,
    bad_headers_and_names_are_refused_before_anything_is_written,
);

async fn new_audience(store: &dyn Store, name: &str) -> String {
    audiences::create(
        store,
        AudienceRequest {
            name: Some(name.into()),
        },
    )
    .await
    .unwrap()
    .id
}

/// 2,600 rows: person i has address pI@example.com; every 100th row is malformed; row 2,550
/// repeats person 10 (an earlier chunk) and row 5 person 4 (the same chunk); every 4th person
/// has unsubscribed.
fn big_csv() -> String {
    let mut csv = String::from("Email,First Name,Last Name,Tags,Status,Plan,Team\n");
    for i in 0..2_600u32 {
        let email = match i {
            _ if i % 100 == 99 => format!("broken{i}.example.com"),
            2_550 => "P10@Example.com".into(),
            5 => "p4@example.com".into(),
            _ => format!("p{i}@example.com"),
        };
        let status = if i % 4 == 3 { "unsubscribed" } else { "" };
        csv.push_str(&format!(
            "{email},First{i},Last,beta;news|beta,{status},pro,\"Ops, North\"\n"
        ));
    }
    csv
}

async fn a_large_file_is_imported_in_chunks_with_its_refusals(store: Arc<dyn Store>) {
    const { assert!(CHUNK_ROWS < 2_600, "the file spans several chunks") };
    let id = new_audience(store.as_ref(), "Imported").await;
    let progress = AtomicU64::new(0);
    let csv = big_csv();
    let r = audiences::import_csv(store.as_ref(), &id, csv.as_bytes(), Some(&progress))
        .await
        .unwrap();
    assert_eq!(r.rows, 2_600);
    assert_eq!(progress.load(Ordering::Relaxed), 2_600);
    assert_eq!(r.refused, 26, "{r:?}");
    assert_eq!(r.refusals.len(), REFUSALS_LISTED);
    assert_eq!(r.refusals[0].line, 101, "row 99 is on line 101");
    assert_eq!(r.refusals[0].email, "broken99.example.com");
    assert_eq!(r.refusals[0].reason, "email: has no @");
    assert_eq!(r.repeated, 2);
    assert_eq!(r.imported, 2_600 - 26 - 2);
    assert_eq!(r.updated, 0);
    assert_eq!(r.members, 2_572);
    assert_eq!(
        audiences::get(store.as_ref(), &id).await.unwrap().members,
        2_572
    );

    // The later row of a repeated address wins: p10 took row 2,550's values.
    let mut pages = ActiveSubscribers::open(store.clone(), &id, 500)
        .await
        .unwrap();
    let mut seen = Vec::new();
    while let Some(page) = pages.next_page().await.unwrap() {
        assert!(page.len() <= 500);
        seen.extend(page);
    }
    let p10 = seen
        .iter()
        .find(|s| s["email"] == "p10@example.com")
        .unwrap();
    assert_eq!(p10["first_name"], "First2550");
    assert_eq!(p10["tags"], serde_json::json!(["beta", "news"]));
    assert_eq!(p10["Team"], "Ops, North");
    assert_eq!(p10["name"], "First2550 Last");
    assert!(seen.iter().all(|s| s["status"] == "active"));
    let emails: HashSet<&str> = seen.iter().filter_map(|s| s["email"].as_str()).collect();
    assert_eq!(emails.len(), seen.len(), "each person once");
    let unsubscribed = (0..2_600u32)
        .filter(|i| i % 100 != 99 && i % 4 == 3 && *i != 2_550 && *i != 5)
        .count();
    // p10's last row (2,550) is active, p4's last row (5) is active too.
    assert_eq!(seen.len(), 2_572 - unsubscribed, "only active members");

    // Importing the same file again updates everyone and adds nobody.
    let again = audiences::import_csv(store.as_ref(), &id, csv.as_bytes(), None)
        .await
        .unwrap();
    assert_eq!((again.imported, again.updated), (0, 2_572));
    assert_eq!(again.members, 2_572);
}

async fn a_row_without_an_end_stops_the_import_and_keeps_what_came_before(store: Arc<dyn Store>) {
    let id = new_audience(store.as_ref(), "Cut").await;
    let mut csv = String::from("email,name\n");
    for i in 0..1_500 {
        csv.push_str(&format!("p{i}@example.com,P{i}\n"));
    }
    csv.push_str("late@example.com,\"an unclosed quote");
    csv.push_str(&"x".repeat(2 * 1024 * 1024));
    let e = audiences::import_csv(store.as_ref(), &id, csv.as_bytes(), None)
        .await
        .unwrap_err();
    match e {
        AppError::Invalid { field, message } => {
            assert_eq!(field, "body");
            assert!(message.contains("line 1502"), "{message}");
            assert!(message.contains("unclosed quote"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        store.member_count(&id).await.unwrap(),
        CHUNK_ROWS as i64,
        "the whole chunk before the cut is kept, the rows of the cut one are not"
    );
}

async fn bad_headers_and_names_are_refused_before_anything_is_written(store: Arc<dyn Store>) {
    let id = new_audience(store.as_ref(), "Strict").await;
    for (csv, needle) in [
        ("name,plan\nAnn,pro\n", "no email column"),
        ("", "the file is empty"),
        ("email,EMAIL\na@b.co,a@b.co\n", "appears twice"),
    ] {
        match audiences::import_csv(store.as_ref(), &id, csv.as_bytes(), None).await {
            Err(AppError::Invalid { field, message }) => {
                assert_eq!(field, "header", "{csv:?}");
                assert!(message.contains(needle), "{message}");
            }
            other => panic!("{csv:?}: {other:?}"),
        }
    }
    assert_eq!(store.member_count(&id).await.unwrap(), 0);
    let unknown = audiences::import_csv(store.as_ref(), "aud_nope", &b"email\n"[..], None).await;
    assert!(matches!(unknown, Err(AppError::NotFound(_))), "{unknown:?}");
    let taken = audiences::create(
        store.as_ref(),
        AudienceRequest {
            name: Some(" Strict ".into()),
        },
    )
    .await;
    assert!(matches!(taken, Err(AppError::Conflict(_))), "{taken:?}");
    let blank = audiences::create(store.as_ref(), AudienceRequest { name: None }).await;
    assert!(
        matches!(&blank, Err(AppError::Invalid { field, .. }) if field == "name"),
        "{blank:?}"
    );
    let (found, created) = audiences::find_or_create(store.as_ref(), "Strict")
        .await
        .unwrap();
    assert_eq!((found.id.as_str(), created), (id.as_str(), false));
    let (_, created) = audiences::find_or_create(store.as_ref(), "Fresh")
        .await
        .unwrap();
    assert!(created);
    assert_eq!(audiences::list(store.as_ref()).await.unwrap().len(), 2);
}
