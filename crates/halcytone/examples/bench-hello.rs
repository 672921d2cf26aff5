//! The yardstick for `scripts/bench.sh`: a bare axum server with one handler and nothing else
//! (no middleware, no state, no logging), on the same runtime settings as `halcytone serve`.
//! Whatever the service's `/health` reaches of this binary's requests per second is the share
//! of the hardware its own layers leave.
//!
//!     cargo run --release -p halcytone --example bench-hello -- 127.0.0.1:8099

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

async fn hello() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"healthy","service":"bench-hello"}"#,
    )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8099".to_string());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("bench-hello listening on http://{}", listener.local_addr()?);
    let app = Router::new()
        .route("/", get(hello))
        .route("/health", get(hello));
    axum::serve(listener, app).await
}
