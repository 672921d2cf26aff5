//! Audiences over HTTP: create, list, import a CSV (streamed) with a bad address, a repeated
//! address and extra columns, and the errors: no key, wrong scope, wrong content type,
//! unknown audience, a header without email, and bodies over MAX_IMPORT_BYTES whether their
//! length is declared or they arrive in chunks.

use crate::both_backends;
use crate::helpers::{Answer, Backend, TestApp, config, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CSV: &str = "Email,First Name,last_name,Tags,Status,Plan,Team\n\
ann@example.com,Ann,Lee,beta;vip,,pro,\"Ops, North\"\n\
not-an-address,Bob,,,,,\n\
Cleo@Example.com,Cleo,,news|beta,unsubscribed,free,\n\
ANN@example.com,Annie,Lee,beta,,team,\n\
dan@example.com,Dan,,,,,\n";

async fn post_csv(app: &TestApp, path: &str, key: Option<&str>, kind: &str, body: &str) -> Answer {
    let mut req = app
        .http
        .post(format!("{}{path}", app.base))
        .header("Content-Type", kind)
        .body(body.to_string());
    if let Some(k) = key {
        req = req.header("X-API-Key", k);
    }
    Answer::read(req.send().await.unwrap()).await
}

/// POSTs an audience `body` with the write key.
async fn create_audience(app: &TestApp, body: Value) -> Answer {
    app.post_json("/api/v2/audiences", Some(&app.write_key), &body)
        .await
}

both_backends!(
    an_imported_csv_is_counted_and_its_people_kept,
    |app: TestApp| async move {
        let w = app.write_key.clone();
        let a = create_audience(&app, json!({"name": "Clinic list"})).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        assert_eq!(a.body["members"], 0);
        assert_eq!(a.body["name"], "Clinic list");
        assert!(a.body["created_at"].is_string(), "{}", a.text);
        let id = a.body["id"].as_str().unwrap().to_string();
        let again = create_audience(&app, json!({"name": "Clinic list"})).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
        create_audience(&app, json!({"name": " "}))
            .await
            .assert_invalid_field("name", "a blank name");
        create_audience(&app, json!({"nom": "x"}))
            .await
            .assert_invalid_field("nom", "an unknown field");

        let path = format!("/api/v2/audiences/{id}/subscribers/import");
        let r = post_csv(&app, &path, Some(&w), "text/csv; charset=utf-8", CSV).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["rows"], 5, "{}", r.text);
        assert_eq!(r.body["imported"], 3, "{}", r.text);
        assert_eq!(r.body["updated"], 0);
        assert_eq!(r.body["repeated"], 1);
        assert_eq!(r.body["refused"], 1);
        assert_eq!(
            r.body["refusals"],
            json!([{"line": 3, "email": "not-an-address", "reason": "email: has no @"}])
        );
        assert_eq!(r.body["members"], 3);

        let one = app.get_as_reader(&format!("/api/v2/audiences/{id}")).await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.text);
        assert_eq!(one.body["members"], 3);
        let all = app.get_as_reader("/api/v2/audiences").await;
        assert_eq!(all.body["total"], 1, "{}", all.text);
        assert_eq!(all.body["audiences"][0]["id"], id.as_str());

        // The later row of ann won; the extra columns are kept as attributes.
        let members = app.store.members_page(&id, None, 10).await.unwrap();
        let emails: Vec<&str> = members.iter().map(|m| m.member.email.as_str()).collect();
        assert_eq!(
            emails,
            ["ann@example.com", "cleo@example.com", "dan@example.com"]
        );
        assert_eq!(members[0].member.first_name.as_deref(), Some("Annie"));
        assert_eq!(
            members[0].member.attributes.get("Plan"),
            Some(&json!("team"))
        );
        assert_eq!(members[1].member.status, "unsubscribed");
        assert_eq!(members[1].member.tags, ["news", "beta"]);

        // Importing the same file again updates and adds nobody.
        let r = post_csv(&app, &path, Some(&w), "text/csv", CSV).await;
        assert_eq!(
            (r.body["imported"].clone(), r.body["updated"].clone()),
            (json!(0), json!(3)),
            "{}",
            r.text
        );

        // Refusals: no key, a read key, another type, an unknown audience, no email column.
        let r = post_csv(&app, &path, None, "text/csv", CSV).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
        let r = post_csv(&app, &path, Some(&app.read_key), "text/csv", CSV).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
        let r = post_csv(&app, &path, Some(&w), "application/json", "{}").await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.text);
        assert_eq!(r.body["error"]["code"], "unsupported_media_type");
        let r = post_csv(
            &app,
            "/api/v2/audiences/aud_nope/subscribers/import",
            Some(&w),
            "text/csv",
            CSV,
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
        let r = post_csv(&app, &path, Some(&w), "text/csv", "name,plan\nAnn,pro\n").await;
        r.assert_invalid_field("header", "no email column");
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("no email column"),
            "{}",
            r.text
        );
        let r = app.get_as_reader("/api/v2/audiences/aud_nope").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
        assert_eq!(
            app.store.member_count(&id).await.unwrap(),
            3,
            "nothing refused was written"
        );
    }
);

/// A body over MAX_IMPORT_BYTES: refused before it is read when its length is declared, cut
/// off at the limit when it comes in chunks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_import_limit_get_413() {
    let mut c = config();
    c.max_import_bytes = 2048;
    let app = spawn_app_with(Backend::Sqlite, c).await.unwrap();
    let w = app.write_key.clone();
    let a = create_audience(&app, json!({"name": "Big"})).await;
    let id = a.body["id"].as_str().unwrap().to_string();
    let path = format!("/api/v2/audiences/{id}/subscribers/import");
    let mut big = String::from("email\n");
    while big.len() < 4096 {
        big.push_str(&format!("p{}@example.com\n", big.len()));
    }
    let r = post_csv(&app, &path, Some(&w), "text/csv", &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    assert!(r.text.contains("MAX_IMPORT_BYTES"), "{}", r.text);

    // The same body in chunks, without a length.
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nX-API-Key: {w}\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    for piece in big.as_bytes().chunks(1000) {
        let chunk = format!("{:x}\r\n", piece.len());
        tcp.write_all(chunk.as_bytes()).await.unwrap();
        tcp.write_all(piece).await.unwrap();
        tcp.write_all(b"\r\n").await.unwrap();
    }
    tcp.write_all(b"0\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tcp.read_to_end(&mut answer),
    )
    .await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("MAX_IMPORT_BYTES"), "{answer}");
    assert_eq!(
        app.store.member_count(&id).await.unwrap(),
        0,
        "nothing of it was kept"
    );
}

both_backends!(
    a_newsletter_goes_to_an_audiences_active_members,
    |app: TestApp| async move {
        let w = app.write_key.clone();
        let doc =
            "# Weekly\n\n## Breathscape Updates\n\n### Calmer pacing\nThe new pacing is calmer.\n";
        let send = |extra: Value| {
            let mut body = json!({ "channels": ["email"], "document": doc });
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            body.to_string()
        };
        app.sync(&send(json!({ "audience_id": "aud_missing" })))
            .await
            .assert_invalid_field("audience_id", "an unknown audience");
        let a = create_audience(&app, json!({"name": "Pilot"})).await;
        let id = a.body["id"].as_str().unwrap().to_string();
        app.sync(&send(json!({ "audience_id": id })))
            .await
            .assert_invalid_field("audience_id", "an empty audience");
        let path = format!("/api/v2/audiences/{id}/subscribers/import");
        let r = post_csv(&app, &path, Some(&w), "text/csv", CSV).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        app.sync(
            &json!({ "channels": ["website"], "document": doc, "audience_id": id }).to_string(),
        )
        .await
        .assert_invalid_field("audience_id", "an audience without email");

        let job = app.publish(&send(json!({ "audience_id": id }))).await;
        // Ann and Dan are active; Cleo unsubscribed; the malformed line was never kept.
        let mut sent: Vec<String> = app
            .emailed_recipients()
            .await
            .iter()
            .map(|r| r["email"].as_str().unwrap().to_string())
            .collect();
        sent.sort();
        assert_eq!(sent, ["ann@example.com", "dan@example.com"], "{job}");
    }
);
