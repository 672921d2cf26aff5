//! Platform events of Halcytone Live sessions (`session.started`, `participant.joined`,
//! `hrv.milestone`, `technique.changed`, …, `session.ended`): each updates what we know of the
//! session and is broadcast to its room as a `session_update`. `session.ended` turns the
//! session into a summary — a stored draft content version, composed for every channel —
//! then ends the room.

use super::hub::now_iso;
use crate::core::Core;
use crate::generation::{self, DocumentText};
use crate::review::{self, Actor, Draft};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The event types a platform may send.
pub const EVENT_TYPES: [&str; 10] = [
    "session.started",
    "session.ended",
    "technique.changed",
    "participant.joined",
    "participant.left",
    "hrv.milestone",
    "achievement.unlocked",
    "instructor.message",
    "system.alert",
    "session.metrics_update",
];

/// What we know of a session from its events.
#[derive(Debug, Clone, Default)]
pub struct Tracked {
    pub title: Option<String>,
    pub instructor: Option<String>,
    pub session_type: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub participants: Vec<String>,
    pub peak_participants: usize,
    pub techniques: Vec<String>,
    pub achievements: Vec<String>,
    pub hrv: Option<f64>,
    pub metrics: serde_json::Map<String, Value>,
    /// The stored summary's content version, or why there is none.
    pub summary: Option<Result<String, String>>,
}

impl Tracked {
    pub fn json(&self, id: &str) -> Value {
        json!({
            "session_id": id,
            "title": self.title,
            "instructor": self.instructor,
            "session_type": self.session_type,
            "started_at": self.started_at.map(|t| t.to_rfc3339()),
            "ended_at": self.ended_at.map(|t| t.to_rfc3339()),
            "participants": self.participants,
            "participant_count": self.participants.len(),
            "techniques": self.techniques,
            "achievements": self.achievements,
            "average_hrv_improvement": self.hrv,
            "current_metrics": self.metrics,
        })
    }
}

/// Sessions known from events, and whether events are accepted.
#[derive(Debug)]
pub struct LiveSessions {
    map: Mutex<HashMap<String, Tracked>>,
    listening: AtomicBool,
}

impl Default for LiveSessions {
    fn default() -> Self {
        LiveSessions {
            map: Mutex::default(),
            listening: AtomicBool::new(true),
        }
    }
}

impl LiveSessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Tracked>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn get(&self, id: &str) -> Option<Tracked> {
        self.lock().get(id).cloned()
    }

    /// Sessions that have started and not ended.
    pub fn active(&self) -> Vec<(String, Tracked)> {
        let mut v: Vec<_> = self
            .lock()
            .iter()
            .filter(|(_, t)| t.ended_at.is_none())
            .map(|(k, t)| (k.clone(), t.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    pub fn set_listening(&self, on: bool) {
        self.listening.store(on, Ordering::Relaxed);
    }

    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }

    fn update<T>(&self, id: &str, f: impl FnOnce(&mut Tracked) -> T) -> T {
        let mut map = self.lock();
        if map.len() > 10_000 {
            // Forget ended sessions first; a bound on what events can make us hold.
            map.retain(|_, t| t.ended_at.is_none());
        }
        f(map.entry(id.to_string()).or_default())
    }
}

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("Invalid JSON format")]
    Json,
    #[error("event must be a JSON object with a string \"type\"")]
    Shape,
    #[error("Unknown event type: {0}; known types: {known}", known = EVENT_TYPES.join(", "))]
    Unknown(String),
    #[error("event session_id {0} does not match this connection's session")]
    WrongSession(String),
    #[error("the event listener is stopped (POST /ws/events/start-listener)")]
    Stopped,
}

fn text(data: &Value, key: &str) -> Option<String> {
    data.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(500).collect())
}

fn update(session: &str, kind: &str, data: Value) -> Value {
    json!({ "type": "session_update", "update_type": kind, "session_id": session, "data": data, "timestamp": now_iso() })
}

/// Handles one event for `session`; returns the acknowledgement.
pub async fn ingest(state: &Core, session: &str, raw: &str) -> Result<Value, EventError> {
    if !state.live_sessions.listening() {
        return Err(EventError::Stopped);
    }
    let event: Value = serde_json::from_str(raw).map_err(|_| EventError::Json)?;
    let kind = event
        .get("type")
        .and_then(Value::as_str)
        .ok_or(EventError::Shape)?
        .to_string();
    if let Some(other) = event.get("session_id").and_then(Value::as_str)
        && other != session
    {
        return Err(EventError::WrongSession(other.chars().take(100).collect()));
    }
    let data = event.get("data").cloned().unwrap_or_else(|| json!({}));
    let hub = &state.live;
    let sessions = &state.live_sessions;
    let message = match kind.as_str() {
        "session.started" => {
            let (title, instructor) = sessions.update(session, |t| {
                t.title = text(&data, "title").or(t.title.take());
                t.instructor = text(&data, "instructor").or(t.instructor.take());
                t.session_type = text(&data, "session_type").or(t.session_type.take());
                t.started_at.get_or_insert_with(Utc::now);
                t.ended_at = None;
                (t.title.clone(), t.instructor.clone())
            });
            let title = title.unwrap_or_else(|| format!("Session {session}"));
            update(
                session,
                "session_started",
                json!({ "content": {
                    "title": format!("🎉 Live Session Started: {title}"),
                    "message": format!("Join now for guided breathing with {}", instructor.as_deref().unwrap_or("your instructor")),
                    "call_to_action": "Join Session",
                }}),
            )
        }
        "participant.joined" | "participant.left" => {
            let who = text(&data, "participant_id")
                .or_else(|| text(&data, "name"))
                .unwrap_or_else(|| "someone".into());
            let joined = kind == "participant.joined";
            let count = sessions.update(session, |t| {
                t.participants.retain(|p| *p != who);
                if joined {
                    t.participants.push(who.clone());
                }
                t.peak_participants = t.peak_participants.max(t.participants.len());
                t.participants.len()
            });
            update(
                session,
                if joined {
                    "participant_joined"
                } else {
                    "participant_left"
                },
                json!({ "participant": who, "participant_count": count }),
            )
        }
        "hrv.milestone" => {
            let x = data
                .get("improvement")
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            sessions.update(session, |t| t.hrv = Some(x));
            update(
                session,
                "hrv_milestone",
                json!({ "content": {
                "title": "💗 HRV Milestone Reached!",
                "message": format!("Group HRV improvement: +{x}%"),
                "achievement": true,
            }, "improvement": x }),
            )
        }
        "technique.changed" => {
            let technique = text(&data, "technique").unwrap_or_else(|| "Custom".into());
            let minutes = data.get("duration").and_then(Value::as_u64).unwrap_or(0) / 60;
            sessions.update(session, |t| {
                if !t.techniques.contains(&technique) && t.techniques.len() < 10 {
                    t.techniques.push(technique.clone());
                }
            });
            update(
                session,
                "technique_changed",
                json!({ "content": {
                    "title": format!("🌬️ Now Practicing: {technique}"),
                    "message": format!("Duration: {minutes} minutes"),
                    "instruction": text(&data, "instruction"),
                }}),
            )
        }
        "achievement.unlocked" => {
            let message = text(&data, "message").unwrap_or_else(|| "Achievement unlocked".into());
            sessions.update(session, |t| {
                if t.achievements.len() < 10 {
                    t.achievements.push(message.clone());
                }
            });
            update(
                session,
                "achievement_unlocked",
                json!({ "content": {
                    "title": "🏆 Achievement Unlocked!",
                    "message": message,
                    "badge": text(&data, "badge"),
                    "celebration": true,
                }}),
            )
        }
        "instructor.message" => update(
            session,
            "instructor_message",
            json!({ "message": text(&data, "message") }),
        ),
        "system.alert" => update(
            session,
            "system_alert",
            json!({ "message": text(&data, "message"), "level": text(&data, "level") }),
        ),
        "session.metrics_update" => {
            if let Some(m) = data.get("metrics").and_then(Value::as_object) {
                sessions.update(session, |t| {
                    for (k, v) in m.iter().take(50) {
                        t.metrics.insert(k.chars().take(64).collect(), v.clone());
                    }
                });
            }
            update(session, "metrics_update", data.clone())
        }
        "session.ended" => return Ok(end(state, session, &data).await),
        other => return Err(EventError::Unknown(other.chars().take(64).collect())),
    };
    hub.broadcast(session, &message, None);
    Ok(json!({ "type": "ack", "status": "received", "event_type": kind, "timestamp": now_iso() }))
}

/// The session record a summary is made from.
fn session_record(session: &str, t: &Tracked, data: &Value, now: DateTime<Utc>) -> Value {
    let started = t.started_at.unwrap_or(now);
    let duration = data
        .get("duration")
        .and_then(Value::as_u64)
        .unwrap_or_else(|| (now - started).num_seconds().max(1) as u64)
        .clamp(1, 7200);
    let participants = data
        .get("participant_count")
        .and_then(Value::as_u64)
        .unwrap_or(t.peak_participants as u64)
        .clamp(1, 1000);
    let mut techniques = t.techniques.clone();
    if let Some(list) = data.get("breathing_techniques").and_then(Value::as_array) {
        for x in list.iter().filter_map(Value::as_str) {
            if !techniques.iter().any(|t| t == x) {
                techniques.push(x.to_string());
            }
        }
    }
    let title = text(data, "title")
        .or(t.title.clone())
        .unwrap_or_else(|| format!("Live session {session}"));
    let instructor = text(data, "instructor").or(t.instructor.clone());
    json!({
        "type": "session",
        "title": title,
        "content": text(data, "content").unwrap_or_else(|| "Thank you to everyone who breathed with us in this Halcytone Live session.".into()),
        "session_id": session,
        "session_duration": duration,
        "participant_count": participants,
        "breathing_techniques": techniques,
        "average_hrv_improvement": data.get("average_hrv_improvement").and_then(Value::as_f64).or(t.hrv),
        "key_achievements": t.achievements,
        "session_type": if instructor.is_some() { "live" } else { "guided" },
        "instructor_name": instructor,
        "session_date": now.to_rfc3339(),
    })
}

async fn summarize(state: &Core, session: &str, record: &Value) -> Result<String, String> {
    let doc = DocumentText {
        label: format!("live:{session}"),
        text: record.to_string(),
        format: None,
    };
    let v = review::create_draft(
        state,
        Draft {
            label: doc.label.clone(),
            document: doc,
            targets: crate::review::default_targets(),
            tone: None,
            template: Some("breathscape".into()),
            as_of: generation::today(),
            schedule_id: None,
        },
        &Actor {
            id: format!("live:{session}"),
            admin: false,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(v.id)
}

/// `session.ended`: store the summary, tell the room, close it.
async fn end(state: &Core, session: &str, data: &Value) -> Value {
    if let Some(Ok(id)) = state.live_sessions.get(session).and_then(|t| t.summary) {
        // Already ended: the summary stands; the platform may resend the event.
        state.live.close(session);
        return json!({
            "type": "ack", "status": "received", "event_type": "session.ended",
            "summary": { "available": true, "content_id": id, "already_ended": true },
            "timestamp": now_iso(),
        });
    }
    let now = Utc::now();
    let tracked = state.live_sessions.update(session, |t| {
        t.ended_at = Some(now);
        t.clone()
    });
    let record = session_record(session, &tracked, data, now);
    let summary = summarize(state, session, &record).await;
    if let Err(why) = &summary {
        tracing::warn!(session, reason = %why, "no summary for the ended session");
    }
    state
        .live_sessions
        .update(session, |t| t.summary = Some(summary.clone()));
    let message = update(
        session,
        "session_ended",
        json!({
            "message": "Session completed successfully!",
            "duration": record["session_duration"],
            "summary_available": summary.is_ok(),
            "content_id": summary.as_ref().ok(),
        }),
    );
    state.live.broadcast(session, &message, None);
    state.live.close(session);
    json!({
        "type": "ack",
        "status": "received",
        "event_type": "session.ended",
        "summary": match &summary {
            Ok(id) => json!({ "available": true, "content_id": id }),
            Err(why) => json!({ "available": false, "reason": why }),
        },
        "timestamp": now_iso(),
    })
}
