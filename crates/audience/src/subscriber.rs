use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A subscriber as the CRM describes one. Unknown fields land in `attributes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Subscriber {
    pub id: String,
    pub email: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// When they signed up (a date or an RFC 3339 time; only the date is kept).
    #[serde(
        default,
        deserialize_with = "date_or_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub signed_up: Option<NaiveDate>,
    /// Engagement figures: `opens_30d`, `clicks_30d`, `sessions_per_week`, …
    #[serde(default)]
    pub engagement: BTreeMap<String, f64>,
    #[serde(default, flatten)]
    pub attributes: BTreeMap<String, Value>,
}

fn date_or_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    let v: Option<String> = Option::deserialize(d)?;
    Ok(v.and_then(|s| {
        let s = s.trim();
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().or_else(|| {
            chrono::DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.date_naive())
        })
    }))
}

impl Subscriber {
    /// Reads a CRM subscriber object; `None` without an id or an email.
    pub fn from_json(v: &Value) -> Option<Subscriber> {
        let mut s: Subscriber = serde_json::from_value(v.clone()).ok()?;
        if s.id.trim().is_empty() || s.email.trim().is_empty() {
            return None;
        }
        // Aliases some CRMs use.
        if s.signed_up.is_none()
            && let Some(t) = s
                .attributes
                .get("created_at")
                .or_else(|| s.attributes.get("signup_date"))
                .or_else(|| s.attributes.get("subscription_date"))
                .and_then(Value::as_str)
        {
            s.signed_up = date_or_time(serde_json::Value::String(t.to_string()))
                .ok()
                .flatten();
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn crm_objects_are_read_with_aliases_and_extras() {
        let s = Subscriber::from_json(&json!({
            "id": "sub_1", "email": "ann@example.com", "first_name": "Ann", "status": "active",
            "tags": ["beta"], "created_at": "2026-03-04T10:00:00Z",
            "engagement": {"opens_30d": 4.0}, "plan": "pro"
        }))
        .unwrap_or_default();
        assert_eq!(s.signed_up, NaiveDate::from_ymd_opt(2026, 3, 4));
        assert_eq!(s.engagement["opens_30d"], 4.0);
        assert_eq!(s.attributes["plan"], "pro");
        assert!(Subscriber::from_json(&json!({"id": "", "email": "x@y"})).is_none());
        assert!(Subscriber::from_json(&json!({"email": "x@y"})).is_none());
    }
}
