//! Query strings as the routes read them: repeated keys kept in order (the last one wins for
//! a single value), and typed readers whose errors are 422s naming the parameter.

use crate::error::{ApiError, ApiResult};

/// The decoded `key=value` pairs of a raw query string (decoded as the consoles' are).
#[derive(Debug, Clone, Default)]
pub struct QueryArgs(halcytone_webpage::query::Query);

impl QueryArgs {
    pub fn parse(raw: Option<&str>) -> QueryArgs {
        QueryArgs(halcytone_webpage::query::Query::parse(
            raw.unwrap_or("").as_bytes(),
        ))
    }

    /// The last value given for `name`.
    pub fn last(&self, name: &str) -> Option<&str> {
        self.0.last(name)
    }

    /// Every value given for `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.all(name)
    }

    pub fn boolean(&self, name: &str) -> ApiResult<Option<bool>> {
        self.last(name)
            .map(|v| match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(ApiError::invalid(
                    name,
                    format!("{name}: '{v}' is not true or false"),
                )),
            })
            .transpose()
    }

    /// A whole number from `min` to `max`, `default` when absent.
    pub fn int(&self, name: &str, default: i64, min: i64, max: i64) -> ApiResult<i64> {
        match self.last(name) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::invalid(
                    name,
                    format!("{name}: '{v}' must be a whole number from {min} to {max}"),
                )),
            },
        }
    }
}

/// A typed query string whose errors are the API's JSON 422, naming the parameter (axum's own
/// `Query` answers a bad value in plain text).
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(raw.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| {
                let path = e.path().to_string();
                let field = if path == "." {
                    "query".to_string()
                } else {
                    path
                };
                ApiError::invalid(field.clone(), format!("{field}: {}", e.inner()))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_value_wins_and_errors_name_the_parameter() {
        let q = QueryArgs::parse(Some("a=1&b=x%20y&a=2&flag=yes&n=7"));
        assert_eq!(q.last("a"), Some("2"));
        assert_eq!(q.all("a").collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(q.last("b"), Some("x y"));
        assert_eq!(q.boolean("flag").unwrap(), Some(true));
        assert_eq!(q.boolean("none").unwrap(), None);
        assert!(matches!(q.boolean("b"), Err(ApiError::Invalid { field, .. }) if field == "b"));
        assert_eq!(q.int("n", 0, 1, 10).unwrap(), 7);
        assert_eq!(q.int("missing", 5, 1, 10).unwrap(), 5);
        assert!(
            matches!(q.int("n", 0, 1, 5), Err(ApiError::Invalid { field, .. }) if field == "n")
        );
    }
}
