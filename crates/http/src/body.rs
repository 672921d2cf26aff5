//! Request bodies. JSON is read whatever `Content-Type` says (plain `curl -d` sends a form
//! type); an empty body means `{}`. Malformed JSON is a 400; a wrong type or value is a 422
//! naming the field (`channels[2]`, `schedule_time`); an oversize body is a 413.

use crate::error::ApiError;
use axum::extract::{FromRequest, Request};
use bytes::Bytes;
use serde::de::DeserializeOwned;

#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

/// The body limit in force and the variable that sets it, for the 413 message (set by the
/// limits layer).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    pub limit: usize,
    pub setting: &'static str,
}

/// A request body read whole (within the route's limit) and not yet parsed, for handlers
/// that must look at who is calling before they judge the body.
#[derive(Debug, Clone)]
pub struct RawBody(pub Bytes);

/// Whether a body asks only for a preview (`"preview_only": true`), judged without reading
/// any other field, so a request without a key can be told it needs one whatever else its
/// body holds.
pub fn asks_preview_only(bytes: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Flag {
        #[serde(default)]
        preview_only: serde_json::Value,
    }
    serde_json::from_slice::<Flag>(bytes)
        .is_ok_and(|f| f.preview_only == serde_json::Value::Bool(true))
}

/// Parses `bytes` as `T`, with the field path of the first problem. The body must be a
/// JSON object (serde would otherwise read a struct from an array, `[null, null]`). A whole
/// number written with a fraction (`187.0`, which JSON Schema counts as an integer) is read
/// as that integer.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = match bytes.iter().position(|b| !b.is_ascii_whitespace()) {
        None => &b"{}"[..],
        Some(i) if bytes[i] != b'{' => {
            // Malformed JSON stays a 400; well-formed JSON of another shape is a 422.
            return match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                Err(e) => Err(ApiError::MalformedJson(e.to_string())),
                Ok(_) => Err(ApiError::invalid(
                    "body",
                    "body: expected a JSON object ({...})",
                )),
            };
        }
        Some(_) => bytes,
    };
    let de = &mut serde_json::Deserializer::from_slice(text);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) if halcytone_content::json_numbers::is_float_for_integer(e.inner()) => {
            // Rare: read again with integral floats made integers.
            let mut value: serde_json::Value =
                serde_json::from_slice(text).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
            halcytone_content::json_numbers::whole_numbers(&mut value);
            serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
                let path = e.path().to_string();
                rejection(path, e.into_inner())
            })
        }
        Err(e) => {
            let path = e.path().to_string();
            Err(rejection(path, e.into_inner()))
        }
    }
}

fn rejection(path: String, inner: serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::MalformedJson(inner.to_string())
        }
        Category::Data => {
            let field = if path == "." {
                "body".to_string()
            } else {
                path
            };
            let message = strip_position(&inner.to_string());
            ApiError::invalid(field.clone(), format!("{field}: {message}"))
        }
    }
}

/// serde_json appends " at line 1 column 17", which means nothing to the caller here.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        parse(&bytes).map(JsonBody)
    }
}

impl<S> FromRequest<S> for RawBody
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = req
            .extensions()
            .get::<BodyLimit>()
            .copied()
            .unwrap_or(BodyLimit {
                limit: 0,
                setting: "MAX_BODY_BYTES",
            });
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge {
                    limit: limit.limit,
                    setting: limit.setting,
                }
            } else {
                ApiError::BadRequest(format!("cannot read the request body: {rejection}"))
            }
        })?;
        Ok(RawBody(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Req {
        #[serde(default)]
        channels: Vec<String>,
        #[serde(default)]
        preview_only: bool,
    }

    #[derive(Debug, Deserialize)]
    struct Counted {
        #[serde(default)]
        count: Option<u32>,
    }

    #[test]
    fn a_body_must_be_an_object() {
        let e = parse::<Req>(b"[null, null]").unwrap_err();
        assert!(
            matches!(e, ApiError::Invalid { ref field, .. } if field == "body"),
            "{e:?}"
        );
        assert!(matches!(
            parse::<Req>(b"[1,"),
            Err(ApiError::MalformedJson(_))
        ));
        assert!(parse::<Req>(b"  ").is_ok());
    }

    #[test]
    fn a_whole_number_with_a_fraction_is_that_number() {
        assert_eq!(
            parse::<Counted>(br#"{"count": 187.0}"#).unwrap().count,
            Some(187)
        );
        let e = parse::<Counted>(br#"{"count": 1.5}"#).unwrap_err();
        assert!(
            matches!(e, ApiError::Invalid { ref field, .. } if field == "count"),
            "{e:?}"
        );
    }

    #[test]
    fn only_a_true_preview_only_is_a_preview() {
        assert!(asks_preview_only(br#"{"preview_only": true, "tone": 3}"#));
        assert!(!asks_preview_only(br#"{"preview_only": "true"}"#));
        assert!(!asks_preview_only(br#"{"tone": "x"}"#));
        assert!(!asks_preview_only(br#"{"preview_only": tr"#));
        assert!(!asks_preview_only(b""));
    }

    #[test]
    fn empty_is_an_empty_object_and_errors_name_fields() {
        assert!(parse::<Req>(b"").is_ok());
        assert!(parse::<Req>(b"  \n").is_ok());
        assert!(matches!(
            parse::<Req>(b"{"),
            Err(ApiError::MalformedJson(_))
        ));
        match parse::<Req>(br#"{"channels":["email", 3]}"#) {
            Err(ApiError::Invalid { field, message }) => {
                assert_eq!(field, "channels[1]");
                assert!(message.contains("invalid type"), "{message}");
                assert!(!message.contains("line 1"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        match parse::<Req>(br#"{"preview_only":"yes"}"#) {
            Err(ApiError::Invalid { field, .. }) => assert_eq!(field, "preview_only"),
            other => panic!("{other:?}"),
        }
        match parse::<Req>(br#""text""#) {
            Err(ApiError::Invalid { field, .. }) => assert_eq!(field, "body"),
            other => panic!("{other:?}"),
        }
    }
}
