//! Plain HTTP requests whose failure to get an answer fails the test.

use serde_json::Value;

/// GET `url`; the response, whatever its status.
pub async fn get(http: &reqwest::Client, url: impl reqwest::IntoUrl) -> reqwest::Response {
    http.get(url).send().await.unwrap()
}

/// GET `url` and the body as text, whatever the status.
pub async fn get_text(http: &reqwest::Client, url: impl reqwest::IntoUrl) -> String {
    http.get(url).send().await.unwrap().text().await.unwrap()
}

/// GET `url` and the body as JSON, whatever the status.
pub async fn get_json(http: &reqwest::Client, url: impl reqwest::IntoUrl) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

/// Sends `request` and reads the answer as JSON, whatever the status.
pub async fn send_for_json(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// Sends a request that queues a job (a sync, say): it must be answered 202; the job's id.
pub async fn queue_job(request: reqwest::RequestBuilder) -> String {
    let r = request.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, reqwest::StatusCode::ACCEPTED, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    body["job_id"].as_str().unwrap().to_string()
}

/// Sets a fault rule on a mock service (`PUT <mock>/api/v1/faults`); fails the test if the
/// mock refuses it.
pub async fn set_mock_fault(http: &reqwest::Client, mock: &reqwest::Url, rule: &Value) {
    let r = http
        .put(mock.join("api/v1/faults").unwrap())
        .json(rule)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "fault {rule} refused");
}
