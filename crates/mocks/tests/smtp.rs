//! The mock CRM's SMTP capture over a real socket on a random port: the conversation, its
//! limits and errors, and what ends up in the capture API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use halcytone_mocks::smtp::SmtpLimits;
use halcytone_mocks::state::{MockConfig, MockKind};
use halcytone_mocks::store::Store;
use halcytone_testkit::json::strings_at;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

struct Crm {
    http: String,
    smtp: SocketAddr,
    stop: Option<tokio::sync::watch::Sender<bool>>,
}

impl Drop for Crm {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(true);
        }
    }
}

/// The mock CRM (HTTP) and its SMTP capture, both on port 0, over one in-memory store.
async fn crm(limits: SmtpLimits) -> Crm {
    let smtp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let smtp = smtp_listener.local_addr().unwrap();
    let mut config = MockConfig::new(MockKind::Crm);
    config.smtp_port = Some(smtp.port());
    let store = Store::in_memory().await.unwrap();
    let state = halcytone_mocks::state(MockKind::Crm, config, store)
        .await
        .unwrap();
    let http_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = format!("http://{}", http_listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::watch::channel(false);
    let mut rx2 = rx.clone();
    tokio::spawn(halcytone_mocks::serve(
        http_listener,
        halcytone_mocks::app(state.clone()),
        {
            let mut rx = rx;
            async move {
                let _ = rx.wait_for(|s| *s).await;
            }
        },
    ));
    tokio::spawn(halcytone_mocks::smtp::serve_with(
        smtp_listener,
        state,
        limits,
        async move {
            let _ = rx2.wait_for(|s| *s).await;
        },
    ));
    Crm {
        http,
        smtp,
        stop: Some(tx),
    }
}

async fn get(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

struct Client {
    r: BufReader<OwnedReadHalf>,
    w: OwnedWriteHalf,
}

impl Client {
    async fn connect(addr: SocketAddr) -> (Client, u16) {
        let (r, w) = TcpStream::connect(addr).await.unwrap().into_split();
        let mut c = Client {
            r: BufReader::new(r),
            w,
        };
        let (code, _) = c.reply().await;
        (c, code)
    }

    /// One reply, all its lines; (0, []) when the server closed the connection.
    async fn reply(&mut self) -> (u16, Vec<String>) {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(Duration::from_secs(5), self.r.read_line(&mut line))
                .await
                .expect("the server answers within 5 s")
                .unwrap();
            if n == 0 {
                return (0, lines);
            }
            let line = line.trim_end().to_string();
            let code = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                return (code, lines);
            }
        }
    }

    async fn send(&mut self, raw: &[u8]) {
        self.w.write_all(raw).await.unwrap();
    }

    async fn cmd(&mut self, line: &str) -> (u16, Vec<String>) {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    async fn code(&mut self, line: &str) -> u16 {
        self.cmd(line).await.0
    }
}

fn b64(s: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

const MESSAGE: &str = "From: Halcytone <newsletter@example.com>\r\n\
To: Subscriber One <subscriber1@example.com>\r\n\
Subject: =?utf-8?q?Breathe_=E2=80=94_weekly?=\r\n\
Message-ID: <halcytone.abc.sub_0001@example.com>\r\n\
List-Unsubscribe: <https://halcytone.com/unsubscribe?u=sub_0001>,\r\n \
<mailto:unsubscribe@example.com?subject=unsubscribe>\r\n\
List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\
X-Campaign-ID: halcytone-abc\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
Hello — breathe in.\r\n\
..a line that began with a dot\r\n\
--b1\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<p>Hello &mdash; breathe in.</p>\r\n\
--b1--\r\n";

/// MESSAGE as it travels in DATA: the line that begins with a dot is already stuffed above.
async fn send_message(c: &mut Client, from: &str, to: &[&str], body: &str) -> (u16, Vec<String>) {
    assert_eq!(c.code(&format!("MAIL FROM:<{from}>")).await, 250);
    for t in to {
        assert_eq!(c.code(&format!("RCPT TO:<{t}>")).await, 250);
    }
    assert_eq!(c.code("DATA").await, 354);
    c.send(body.as_bytes()).await;
    c.cmd(".").await
}

#[tokio::test]
async fn a_multipart_message_is_captured_with_envelope_headers_and_both_parts() {
    let crm = crm(SmtpLimits::default()).await;
    let (mut c, greeting) = Client::connect(crm.smtp).await;
    assert_eq!(greeting, 220);
    let (code, ehlo) = c.cmd("EHLO client.example").await;
    assert_eq!(code, 250);
    let ehlo = ehlo.join("\n");
    for ext in ["SIZE 10485760", "8BITMIME", "AUTH PLAIN LOGIN"] {
        assert!(ehlo.contains(ext), "{ext} advertised: {ehlo}");
    }
    assert!(!ehlo.contains("STARTTLS"), "no STARTTLS: {ehlo}");
    let plain = b64(b"\0newsletter-bot\0s3cret-password");
    assert_eq!(c.code(&format!("AUTH PLAIN {plain}")).await, 235);
    let (code, lines) = send_message(
        &mut c,
        "bounce@example.com",
        &["subscriber1@example.com", "copy@example.com"],
        MESSAGE,
    )
    .await;
    assert_eq!(code, 250, "{lines:?}");
    assert_eq!(c.code("QUIT").await, 221);

    let list = get(&format!("{}/api/v1/captures?kind=email", crm.http)).await;
    assert_eq!(list["total"], 1, "{list}");
    let cap = &list["captures"][0];
    assert_eq!(cap["kind"], "email");
    assert_eq!(cap["campaign"], "halcytone-abc");
    assert_eq!(cap["response"]["transport"], "smtp");
    assert_eq!(cap["response"]["recipients_count"], 2);
    let r = &cap["request"];
    assert_eq!(r["transport"], "smtp");
    assert_eq!(r["envelope"]["mail_from"], "bounce@example.com");
    assert_eq!(
        r["envelope"]["rcpt_to"],
        serde_json::json!(["subscriber1@example.com", "copy@example.com"])
    );
    assert_eq!(r["envelope"]["helo"], "client.example");
    assert_eq!(r["auth_username"], "newsletter-bot");
    assert!(
        !cap.to_string().contains("s3cret"),
        "the password is never stored"
    );
    for (field, expected) in [
        ("subject", "Breathe — weekly"),
        ("from", "Halcytone <newsletter@example.com>"),
        ("to", "Subscriber One <subscriber1@example.com>"),
        ("message_id", "<halcytone.abc.sub_0001@example.com>"),
        (
            "list_unsubscribe",
            "<https://halcytone.com/unsubscribe?u=sub_0001>, <mailto:unsubscribe@example.com?subject=unsubscribe>",
        ),
        ("list_unsubscribe_post", "List-Unsubscribe=One-Click"),
        (
            "text_content",
            "Hello — breathe in.\r\n.a line that began with a dot",
        ),
        ("html_content", "<p>Hello &mdash; breathe in.</p>"),
    ] {
        assert_eq!(r[field], expected, "{field}");
    }
    assert_eq!(
        strings_at(&r["headers"], "name"),
        [
            "From",
            "To",
            "Subject",
            "Message-ID",
            "List-Unsubscribe",
            "List-Unsubscribe-Post",
            "X-Campaign-ID",
            "MIME-Version",
            "Content-Type"
        ]
    );
    assert_eq!(
        strings_at(&r["parts"], "content_type"),
        ["multipart/alternative", "text/plain", "text/html"]
    );
    assert!(r["parts"][1]["size"].as_u64().unwrap() > 0);
    // The message as stored: dot-unstuffed, CRLF line endings.
    let unstuffed = MESSAGE.replace("\r\n..a line", "\r\n.a line");
    assert_eq!(r["size"], unstuffed.len());

    let one = get(&format!(
        "{}/api/v1/captures/{}",
        crm.http,
        cap["id"].as_str().unwrap()
    ))
    .await;
    assert_eq!(one["request"]["message_id"], r["message_id"]);
    let health = get(&format!("{}/health", crm.http)).await;
    assert_eq!(health["smtp_port"], crm.smtp.port());
}

#[tokio::test]
async fn auth_login_keeps_the_username_only_and_a_repeated_message_id_is_a_duplicate() {
    let crm = crm(SmtpLimits::default()).await;
    let (mut c, _) = Client::connect(crm.smtp).await;
    assert_eq!(c.code("EHLO client.example").await, 250);
    let (code, lines) = c.cmd("AUTH LOGIN").await;
    assert_eq!((code, lines[0].as_str()), (334, "334 VXNlcm5hbWU6"));
    let (code, lines) = c.cmd(&b64(b"ops@example.com")).await;
    assert_eq!((code, lines[0].as_str()), (334, "334 UGFzc3dvcmQ6"));
    assert_eq!(c.code(&b64(b"hunter2-secret")).await, 235);
    assert_eq!(c.code("AUTH PLAIN").await, 503, "already authenticated");
    let first = send_message(&mut c, "a@example.com", &["b@example.com"], MESSAGE).await;
    assert_eq!(first.0, 250);
    // The same message again (a resend): captured, marked as a duplicate of the first.
    let again = send_message(&mut c, "a@example.com", &["b@example.com"], MESSAGE).await;
    assert_eq!(again.0, 250);
    assert!(again.1[0].contains("a duplicate of"), "{:?}", again.1);
    // And on a second connection, after the first has gone.
    drop(c);
    let (mut c, _) = Client::connect(crm.smtp).await;
    assert_eq!(c.code("HELO client.example").await, 250);
    assert_eq!(
        send_message(&mut c, "a@example.com", &["b@example.com"], MESSAGE)
            .await
            .0,
        250
    );
    let list = get(&format!("{}/api/v1/captures?kind=email", crm.http)).await;
    assert_eq!(list["total"], 3, "every delivery is kept: {list}");
    let caps = list["captures"].as_array().unwrap();
    let first = caps.iter().find(|c| c["status"] == "sent").unwrap();
    let first_id = first["id"].as_str().unwrap();
    let repeats: Vec<&Value> = caps.iter().filter(|c| c["status"] == "duplicate").collect();
    assert_eq!(repeats.len(), 2, "{list}");
    assert!(
        repeats
            .iter()
            .all(|c| c["request"]["duplicate_of"] == first_id)
    );
    assert_eq!(first["request"]["auth_username"], "ops@example.com");
    assert!(!list.to_string().contains("hunter2"));
    let stats = get(&format!("{}/api/v1/stats", crm.http)).await;
    assert_eq!(
        (
            stats["emails_sent"].as_i64(),
            stats["emails_duplicate"].as_i64()
        ),
        (Some(3), Some(2))
    );
    // A different Message-ID is a different message.
    let other = MESSAGE.replace("sub_0001@", "sub_0002@");
    assert_eq!(
        send_message(&mut c, "a@example.com", &["b@example.com"], &other)
            .await
            .0,
        250
    );
    let list = get(&format!("{}/api/v1/captures?kind=email", crm.http)).await;
    assert_eq!(list["total"], 4);
}

#[tokio::test]
async fn sequence_syntax_and_unknown_commands_are_refused_and_the_session_goes_on() {
    let crm = crm(SmtpLimits::default()).await;
    let (mut c, _) = Client::connect(crm.smtp).await;
    assert_eq!(
        c.code("MAIL FROM:<a@example.com>").await,
        503,
        "before EHLO"
    );
    assert_eq!(c.code("AUTH PLAIN").await, 503, "before EHLO");
    assert_eq!(c.code("EHLO").await, 501, "EHLO needs a domain");
    assert_eq!(c.code("EHLO client.example").await, 250);
    assert_eq!(c.code("RCPT TO:<b@example.com>").await, 503, "before MAIL");
    assert_eq!(c.code("DATA").await, 503, "before MAIL");
    assert_eq!(c.code("STARTTLS").await, 502);
    assert_eq!(c.code("VRFY someone").await, 502);
    assert_eq!(c.code("XYZZY").await, 502);
    assert_eq!(c.code("AUTH CRAM-MD5").await, 504);
    assert_eq!(c.code("AUTH PLAIN !!!notbase64").await, 501);
    assert_eq!(c.code("MAIL FROM a@example.com").await, 501);
    assert_eq!(
        c.code("MAIL FROM:<a@example.com> SIZE=99999999999").await,
        552
    );
    assert_eq!(c.code("MAIL FROM:<>").await, 250, "the null sender");
    assert_eq!(c.code("MAIL FROM:<a@example.com>").await, 503, "twice");
    assert_eq!(c.code("DATA").await, 503, "no recipient yet");
    assert_eq!(c.code("RCPT TO:<>").await, 501);
    assert_eq!(c.code("NOOP").await, 250);
    assert_eq!(c.code("RSET").await, 250);
    assert_eq!(
        c.code("RCPT TO:<b@example.com>").await,
        503,
        "RSET ended it"
    );
    let long = format!("NOOP {}", "x".repeat(5000));
    assert_eq!(c.code(&long).await, 500, "line over 4096 bytes");
    assert_eq!(c.code("noop").await, 250, "still in sync, any case");
    assert_eq!(c.code("QUIT").await, 221);
    assert_eq!(c.reply().await.0, 0, "closed after QUIT");
}

#[tokio::test]
async fn oversize_messages_get_552_and_extra_recipients_452() {
    let crm = crm(SmtpLimits {
        max_message: 2000,
        max_recipients: 3,
        ..SmtpLimits::default()
    })
    .await;
    let (mut c, _) = Client::connect(crm.smtp).await;
    let (_, ehlo) = c.cmd("EHLO client.example").await;
    assert!(ehlo.iter().any(|l| l.ends_with("SIZE 2000")), "{ehlo:?}");
    assert_eq!(c.code("MAIL FROM:<a@example.com>").await, 250);
    for i in 0..3 {
        assert_eq!(c.code(&format!("RCPT TO:<r{i}@example.com>")).await, 250);
    }
    assert_eq!(c.code("RCPT TO:<r3@example.com>").await, 452);
    assert_eq!(c.code("DATA").await, 354);
    let body = format!("Subject: big\r\n\r\n{}", "0123456789\r\n".repeat(300));
    c.send(body.as_bytes()).await;
    assert_eq!(c.code(".").await, 552);
    // The transaction is over; a message within the limit still goes through.
    let (code, _) = send_message(
        &mut c,
        "a@example.com",
        &["r@example.com"],
        "Subject: small\r\n\r\nhi\r\n",
    )
    .await;
    assert_eq!(code, 250);
    // A line over 4096 bytes inside DATA: the whole message is refused with 500.
    assert_eq!(c.code("MAIL FROM:<a@example.com>").await, 250);
    assert_eq!(c.code("RCPT TO:<r@example.com>").await, 250);
    assert_eq!(c.code("DATA").await, 354);
    c.send(format!("Subject: long\r\n\r\n{}\r\n", "y".repeat(5000)).as_bytes())
        .await;
    assert_eq!(c.code(".").await, 500);
    let list = get(&format!("{}/api/v1/captures?kind=email", crm.http)).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["captures"][0]["request"]["subject"], "small");
    assert_eq!(list["captures"][0]["request"]["html_content"], Value::Null);
    assert_eq!(list["captures"][0]["request"]["text_content"], "hi\r\n");
}

#[tokio::test]
async fn an_idle_connection_is_closed_with_421() {
    let crm = crm(SmtpLimits {
        idle: Duration::from_millis(200),
        ..SmtpLimits::default()
    })
    .await;
    let (mut c, _) = Client::connect(crm.smtp).await;
    assert_eq!(c.code("EHLO client.example").await, 250);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(c.reply().await.0, 421);
    assert_eq!(c.reply().await.0, 0, "then closed");
}

#[tokio::test]
async fn garbage_never_brings_the_capture_down() {
    let crm = crm(SmtpLimits {
        idle: Duration::from_millis(300),
        max_message: 4096,
        ..SmtpLimits::default()
    })
    .await;
    // Deterministic noise: random bytes, half-commands, bare CRs and LFs, NULs, DATA bodies
    // that are not MIME, AUTH with broken base64.
    let mut seed: u64 = 0x5eed;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let pieces: [&[u8]; 14] = [
        b"EHLO x\r\n",
        b"MAIL FROM:<",
        b"RCPT TO:<a@b>\r\n",
        b"DATA\r\n",
        b".\r\n",
        b"AUTH PLAIN\r\n",
        b"AUTH LOGIN\r\n",
        b"====\r\n",
        b"\r\n",
        b"\n",
        b"\0\0\xff\xfe",
        b"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n",
        b"MAIL FROM:<a@b> SIZE=-1\r\n",
        b"RSET\r\n",
    ];
    for _ in 0..40 {
        let (stream_r, mut w) = TcpStream::connect(crm.smtp).await.unwrap().into_split();
        let mut input = Vec::new();
        for _ in 0..(next() % 60) {
            if next() % 3 == 0 {
                let n = (next() % 300) as usize;
                input.extend((0..n).map(|_| (next() & 0xff) as u8));
            } else {
                input.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
            }
        }
        let _ = w.write_all(&input).await;
        let _ = w.shutdown().await;
        // Drain whatever it answers until it closes (or goes idle).
        let mut r = stream_r;
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(3), r.read_to_end(&mut sink)).await;
    }
    let (mut c, greeting) = Client::connect(crm.smtp).await;
    assert_eq!(greeting, 220, "still serving");
    assert_eq!(c.code("EHLO client.example").await, 250);
    let health = get(&format!("{}/health", crm.http)).await;
    assert_eq!(health["status"], "healthy");
}
