//! A JSON body extractor whose rejections are `{"detail": ...}` naming the field at fault.

use crate::error::MockError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// Like `axum::Json`, but malformed JSON is a 400 and a missing or mistyped field is a 422,
/// both with a sentence that names the problem.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = MockError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(JsonRejection::JsonDataError(e)) => Err(MockError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "invalid request body: {}",
                    e.body_text().trim_start_matches(
                        "Failed to deserialize the JSON body into the target type: "
                    )
                ),
            )),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(MockError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "malformed JSON: {}",
                    e.body_text()
                        .trim_start_matches("Failed to parse the request body as JSON: ")
                ),
            )),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(MockError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the body as JSON with Content-Type: application/json",
            )),
            Err(e) => Err(MockError::new(StatusCode::BAD_REQUEST, e.body_text())),
        }
    }
}

/// Like `axum::extract::Query`, but a bad parameter is a 422 `{"detail": ...}` naming it.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Params<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = MockError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Params(v))
            .map_err(|e| {
                MockError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!(
                        "invalid query string: {}",
                        e.body_text()
                            .trim_start_matches("Failed to deserialize query string: ")
                    ),
                )
            })
    }
}
