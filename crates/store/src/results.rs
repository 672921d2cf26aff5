//! The rule that keeps a job's page the truth about what went out: a channel whose result
//! says it was delivered (`"status": "success"`) keeps that result whatever a later attempt
//! of the same job reports (a retry that met an open circuit breaker, say). Both backends
//! apply it when a worker records results ([`crate::Store::finish`], [`crate::Store::release`]).

use crate::model::JobStatus;
use serde_json::{Map, Value};

/// Whether a channel's result records a delivery.
pub fn delivered(result: &Value) -> bool {
    result.get("status").and_then(Value::as_str) == Some("success")
}

/// `new` results over `previous` ones, except that a delivered channel in `previous` stays.
/// Results that are not a map of channels (a job that could not run) replace the old ones
/// only when nothing was delivered.
pub fn merge(previous: &Value, new: &Value) -> Value {
    let kept: Map<String, Value> = match previous {
        Value::Object(p) => p
            .iter()
            .filter(|(_, r)| delivered(r))
            .map(|(k, r)| (k.clone(), r.clone()))
            .collect(),
        _ => Map::new(),
    };
    if kept.is_empty() {
        return new.clone();
    }
    let mut out = match (new, previous) {
        (Value::Object(n), _) if n.values().any(|r| r.get("status").is_some()) => n.clone(),
        // No channel results this time (the attempt could not run): the earlier ones stand,
        // beside what this attempt says.
        (Value::Object(n), Value::Object(p)) => {
            let mut all = p.clone();
            all.extend(n.clone());
            all
        }
        (Value::Object(n), _) => n.clone(),
        _ => Map::new(),
    };
    for (channel, result) in kept {
        out.insert(channel, result);
    }
    Value::Object(out)
}

/// The status the merged `results` mean, when they are a map of channel results: completed
/// when every channel was delivered, failed when none was, partial otherwise; `reported`
/// when the results say nothing per channel.
pub fn status_of(results: &Value, reported: JobStatus) -> JobStatus {
    let Value::Object(map) = results else {
        return reported;
    };
    let channels: Vec<&Value> = map
        .values()
        .filter(|r| r.get("status").and_then(Value::as_str).is_some())
        .collect();
    if channels.is_empty() || !reported.is_terminal() || reported == JobStatus::Cancelled {
        return reported;
    }
    let ok = channels.iter().filter(|r| delivered(r)).count();
    let other_errors = channels.len() < map.len();
    match ok {
        0 => JobStatus::Failed,
        n if n == channels.len() && !other_errors => JobStatus::Completed,
        _ => JobStatus::Partial,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_delivery_is_never_replaced() {
        let before = json!({
            "email": { "status": "success", "publishes": [{ "external_id": "c_1" }] },
            "website": { "status": "failed", "error": "platform 503" },
        });
        let after = json!({
            "email": { "status": "failed", "error": "circuit open for crm" },
            "website": { "status": "success" },
        });
        let merged = merge(&before, &after);
        assert_eq!(merged["email"]["publishes"][0]["external_id"], "c_1");
        assert_eq!(merged["website"]["status"], "success");
        assert_eq!(status_of(&merged, JobStatus::Partial), JobStatus::Completed);
        // An attempt that could not run at all does not erase a delivery either.
        let unrunnable = merge(&before, &json!({ "error": "document gone" }));
        assert_eq!(unrunnable["email"]["status"], "success");
        assert_eq!(unrunnable["website"]["status"], "failed");
        assert_eq!(unrunnable["error"], "document gone");
        assert_eq!(
            status_of(&unrunnable, JobStatus::Failed),
            JobStatus::Partial
        );
    }

    #[test]
    fn without_an_earlier_delivery_the_new_results_stand() {
        let after = json!({ "email": { "status": "failed", "error": "x" } });
        assert_eq!(merge(&json!({}), &after), after);
        assert_eq!(merge(&Value::Null, &after), after);
        assert_eq!(status_of(&after, JobStatus::Failed), JobStatus::Failed);
        assert_eq!(
            status_of(&json!({ "error": "x" }), JobStatus::Failed),
            JobStatus::Failed
        );
        assert_eq!(
            status_of(
                &json!({ "email": { "status": "success" } }),
                JobStatus::Pending
            ),
            JobStatus::Pending,
            "a job given back for another attempt stays pending"
        );
    }
}
