//! Outbound credentials stored encrypted: a CRM key stored through the API is sealed in the
//! database, used for the next publish, shown only masked, survives a key rotation, and
//! gives way to the environment's key when deleted. Bad input and a missing encryption key
//! are clear errors.

use crate::both_backends;
use crate::helpers::{ADMIN_KEY, Backend, TestApp, config, spawn_app, spawn_app_with};
use halcytone_http::credentials::{self, Credentials};
use halcytone_vault::{DataKey, Keyring};
use reqwest::StatusCode;
use serde_json::{Value, json};

const OLD: &str = "first encryption passphrase, long enough to use";
const NEW: &str = "second encryption passphrase, long enough to use";
const CRM_KEY: &str = "crm-live-key-0001-abcd";

fn ring(current: &str, previous: &[&str]) -> Keyring {
    let key = |p: &str| DataKey::derive("API_KEY_ENCRYPTION_KEY", p).unwrap();
    Keyring::new(key(current), previous.iter().map(|p| key(p)).collect())
}

async fn put(app: &TestApp, name: &str, key: &str, body: Value) -> crate::helpers::Answer {
    app.put_json(&format!("/api/v2/credentials/{name}"), Some(key), &body)
        .await
}

/// The masked `X-API-Key` the mock CRM saw on its latest newsletter send.
async fn crm_key_seen(app: &TestApp) -> Option<String> {
    let v = app.mock_json(&app.crm, "api/v1/journal?limit=50").await;
    let entries = v["entries"].as_array().cloned().unwrap_or_default();
    let send = entries
        .iter()
        .find(|e| e["method"] == "POST" && e["status"].as_u64().is_some_and(|s| s < 300))
        .unwrap_or_else(|| panic!("no successful POST to the CRM: {v}"));
    send["api_key"].as_str().map(str::to_string)
}

async fn publish_email(app: &TestApp) {
    app.publish(r#"{"channels":["email"]}"#).await;
}

async fn a_stored_key_is_sealed_used_rotated_and_removed(backend: Backend) {
    let mut c = config();
    c.keyring = Some(ring(OLD, &[]));
    let Some(app) = spawn_app_with(backend, c).await else {
        return;
    };
    let list = app.get("/api/v2/credentials", Some(ADMIN_KEY)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.body["encryption"]["configured"], true);
    assert_eq!(
        list.body["encryption"]["key_id"],
        ring(OLD, &[]).current_id()
    );
    assert_eq!(list.body["credentials"][0]["name"], "crm_api_key");
    assert_eq!(list.body["credentials"][0]["source"], "none");
    // Only an admin key may see or change credentials.
    let a = app.get("/api/v2/credentials", Some(&app.write_key)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    let a = put(
        &app,
        "crm_api_key",
        &app.write_key,
        json!({ "value": CRM_KEY }),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);

    // Bad input names the field and stores nothing.
    for (body, needle) in [
        (json!({ "value": "" }), "must not be empty"),
        (json!({ "value": " padded-key-123456" }), "whitespace"),
        (json!({ "value": "two\nlines-123456" }), "control"),
        (json!({ "value": "k".repeat(5000) }), "at most 4096"),
    ] {
        let a = put(&app, "crm_api_key", ADMIN_KEY, body).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
        assert_eq!(a.body["error"]["field"], "value", "{}", a.text);
        assert!(a.text.contains(needle), "{needle}: {}", a.text);
    }
    let a = put(
        &app,
        "crm_api_key",
        ADMIN_KEY,
        json!({ "value": CRM_KEY, "note": 1 }),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    let a = put(
        &app,
        "smtp_password",
        ADMIN_KEY,
        json!({ "value": CRM_KEY }),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.text);
    assert!(
        a.text.contains("crm_api_key, platform_api_key"),
        "{}",
        a.text
    );
    assert!(app.store.credentials().await.unwrap().is_empty());

    // Before: the mock CRM sees no key.
    publish_email(&app).await;
    assert_eq!(crm_key_seen(&app).await, None);

    // Stored: answered masked, sealed in the database, used for the next publish.
    let a = put(&app, "crm_api_key", ADMIN_KEY, json!({ "value": CRM_KEY })).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["source"], "stored");
    assert_eq!(a.body["stored"]["masked"], "****abcd");
    assert_eq!(a.body["stored"]["revision"], 1);
    assert!(!a.text.contains(CRM_KEY));
    let row = app.store.credential("crm_api_key").await.unwrap().unwrap();
    assert!(
        row.sealed
            .starts_with(&format!("hv1:{}:", ring(OLD, &[]).current_id()))
    );
    assert!(!row.sealed.contains(CRM_KEY) && !row.meta.to_string().contains(CRM_KEY));
    publish_email(&app).await;
    assert_eq!(crm_key_seen(&app).await.as_deref(), Some("****abcd"));
    let list = app.get("/api/v2/credentials", Some(ADMIN_KEY)).await;
    assert!(!list.text.contains(CRM_KEY));
    assert_eq!(list.body["credentials"][0]["stored"]["readable"], true);
    let audit = app.store.audit_log(20).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "credential.stored" && e.target == "crm_api_key")
    );
    assert!(audit.iter().all(|e| !e.detail.contains(CRM_KEY)));

    // Rotation: the new key seals again what the old one sealed; afterwards the old key
    // alone no longer opens it, and the value is unchanged.
    let during = ring(NEW, &[OLD]);
    let done = credentials::rotate(app.store.as_ref(), &during, 1)
        .await
        .unwrap();
    assert_eq!(done.resealed, ["crm_api_key"]);
    assert!(done.failed.is_empty());
    let again = credentials::rotate(app.store.as_ref(), &during, 2)
        .await
        .unwrap();
    assert_eq!(again.already_current, ["crm_api_key"]);
    let row = app.store.credential("crm_api_key").await.unwrap().unwrap();
    assert_eq!(
        ring(NEW, &[])
            .open("crm_api_key", &row.sealed)
            .unwrap()
            .expose(),
        CRM_KEY
    );
    let old_only = Credentials::without_publishers(Some(ring(OLD, &[])));
    let d = old_only.describe(&credentials::KNOWN[0], Some(&row));
    assert_eq!(d["stored"]["readable"], false, "{d}");
    assert!(
        d["stored"]["error"]
            .as_str()
            .unwrap()
            .contains("neither API_KEY_ENCRYPTION_KEY"),
        "{d}"
    );
    // This service still runs with the old key: it says the row does not open, keeps the
    // key it has in use, and its own rotate route refuses nothing it cannot open.
    let list = app.get("/api/v2/credentials", Some(ADMIN_KEY)).await;
    assert_eq!(
        list.body["credentials"][0]["stored"]["readable"], false,
        "{}",
        list.text
    );
    publish_email(&app).await;
    assert_eq!(crm_key_seen(&app).await.as_deref(), Some("****abcd"));
    let r = app
        .post("/api/v2/credentials/rotate", Some(ADMIN_KEY), "{}")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["failed"][0]["name"], "crm_api_key", "{}", r.text);
    let unchanged = app.store.credential("crm_api_key").await.unwrap().unwrap();
    assert_eq!(
        unchanged.sealed, row.sealed,
        "a row that does not open is left alone"
    );

    // A tampered row never opens and never replaces the key in use.
    app.store
        .put_credential(
            "platform_api_key",
            "hv1:00000000:AAAA",
            "00000000",
            &json!({}),
            3,
        )
        .await
        .unwrap();
    let list = app.get("/api/v2/credentials", Some(ADMIN_KEY)).await;
    assert_eq!(list.body["credentials"][1]["stored"]["readable"], false);
    assert_eq!(list.body["credentials"][1]["source"], "none");

    // Deleted: the environment's key (none here) is used again.
    let d = app
        .delete("/api/v2/credentials/crm_api_key", Some(ADMIN_KEY))
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    assert_eq!(d.body["now"]["source"], "none");
    let d = app
        .delete("/api/v2/credentials/crm_api_key", Some(ADMIN_KEY))
        .await;
    assert_eq!(d.status, StatusCode::NOT_FOUND, "{}", d.text);
    publish_email(&app).await;
    assert_eq!(crm_key_seen(&app).await, None);
}

both_backends!(fn a_stored_key_is_sealed_used_rotated_and_removed);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_encryption_key_nothing_is_stored() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let a = put(&app, "crm_api_key", ADMIN_KEY, json!({ "value": CRM_KEY })).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text);
    assert!(
        a.text.contains("API_KEY_ENCRYPTION_KEY is not set"),
        "{}",
        a.text
    );
    let r = app
        .post("/api/v2/credentials/rotate", Some(ADMIN_KEY), "{}")
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let list = app.get("/api/v2/credentials", Some(ADMIN_KEY)).await;
    assert_eq!(list.body["encryption"]["configured"], false);
    assert!(app.store.credentials().await.unwrap().is_empty());
}
