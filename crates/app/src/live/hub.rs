//! Live session rooms: who is connected to which session with which role, each connection's
//! bounded outgoing queue, and the last 100 broadcasts of every session for replay. A message
//! is serialized once and offered to every queue without waiting; a connection whose queue
//! is full is dropped (it is told why when its task notices), so a slow client never holds
//! up the others.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Messages kept per session for replay.
pub const REPLAY_LIMIT: usize = 100;
/// Messages waiting for one connection before it counts as too slow.
pub const QUEUE_LIMIT: usize = 256;

/// What a connection is in its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Participant,
    Instructor,
    Observer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Participant,
        Role::Instructor,
        Role::Observer,
        Role::Admin,
    ];

    /// Reads a role; anything else is a participant.
    pub fn parse(s: Option<&str>) -> Role {
        match s.map(|r| r.trim().to_ascii_lowercase()).as_deref() {
            Some("instructor") => Role::Instructor,
            Some("observer") => Role::Observer,
            Some("admin") => Role::Admin,
            _ => Role::Participant,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Participant => "participant",
            Role::Instructor => "instructor",
            Role::Observer => "observer",
            Role::Admin => "admin",
        }
    }

    /// Whether this role receives technique feedback.
    pub fn hears_feedback(self) -> bool {
        matches!(self, Role::Instructor | Role::Admin)
    }
}

/// What a connection's task is asked to send.
#[derive(Debug, Clone)]
pub enum Outgoing {
    Text(Arc<str>),
    /// Close the connection with this code and reason.
    Close(u16, &'static str),
}

#[derive(Debug)]
struct Client {
    role: Role,
    tx: mpsc::Sender<Outgoing>,
    connected_at: DateTime<Utc>,
    last_heartbeat: DateTime<Utc>,
    user_agent: Option<String>,
    origin: Option<String>,
}

#[derive(Debug)]
struct Room {
    clients: HashMap<String, Client>,
    replay: VecDeque<(DateTime<Utc>, Value)>,
    created_at: DateTime<Utc>,
}

/// Connection details kept while it is open.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub user_agent: Option<String>,
    pub origin: Option<String>,
}

/// Why a join was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    #[error("client_id {0} is already connected to this session")]
    Duplicate(String),
}

#[derive(Debug, Default)]
pub struct LiveHub {
    rooms: Mutex<HashMap<String, Room>>,
}

pub fn now_iso() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl LiveHub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Room>> {
        self.rooms
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a connection. Under one lock it queues the newcomer's `welcome`, then tells the
    /// others (`participant_joined`, recorded for replay), so a client that joins later can
    /// never see an earlier arrival's announcement. Returns the queue and the number of
    /// people now in the session.
    pub fn join(
        &self,
        session: &str,
        client_id: &str,
        role: Role,
        meta: ClientMeta,
    ) -> Result<(mpsc::Receiver<Outgoing>, usize), JoinError> {
        let (tx, rx) = mpsc::channel(QUEUE_LIMIT);
        let mut rooms = self.lock();
        let room = rooms.entry(session.to_string()).or_insert_with(|| Room {
            clients: HashMap::new(),
            replay: VecDeque::new(),
            created_at: Utc::now(),
        });
        if room.clients.contains_key(client_id) {
            return Err(JoinError::Duplicate(client_id.to_string()));
        }
        let count = room.clients.len() + 1;
        let welcome = json!({
            "type": "welcome",
            "session_id": session,
            "client_id": client_id,
            "role": role,
            "participant_count": count,
            "timestamp": now_iso(),
            "message": format!("Welcome to session {session}!"),
        });
        // A fresh queue has room for one message.
        let _ = tx.try_send(Outgoing::Text(Arc::from(welcome.to_string())));
        let joined = json!({
            "type": "participant_joined",
            "client_id": client_id,
            "role": role,
            "participant_count": count,
            "timestamp": now_iso(),
        });
        deliver(session, room, &joined, |_| true, None, true);
        let now = Utc::now();
        room.clients.insert(
            client_id.to_string(),
            Client {
                role,
                tx,
                connected_at: now,
                last_heartbeat: now,
                user_agent: meta.user_agent,
                origin: meta.origin,
            },
        );
        Ok((rx, count))
    }

    /// Removes a connection; returns how many remain (an empty room is deleted).
    pub fn leave(&self, session: &str, client_id: &str) -> Option<usize> {
        let mut rooms = self.lock();
        let room = rooms.get_mut(session)?;
        room.clients.remove(client_id)?;
        let left = room.clients.len();
        if left == 0 {
            rooms.remove(session);
        }
        Some(left)
    }

    pub fn heartbeat(&self, session: &str, client_id: &str) {
        if let Some(c) = self
            .lock()
            .get_mut(session)
            .and_then(|r| r.clients.get_mut(client_id))
        {
            c.last_heartbeat = Utc::now();
        }
    }

    /// Offers `message` to the connections `to` selects (except `except`); records it for
    /// replay when `record`. Returns how many queues took it; full queues are dropped.
    pub fn send(
        &self,
        session: &str,
        message: &Value,
        to: impl Fn(Role) -> bool,
        except: Option<&str>,
        record: bool,
    ) -> Option<usize> {
        let mut rooms = self.lock();
        let room = rooms.get_mut(session)?;
        Some(deliver(session, room, message, to, except, record))
    }

    /// Sends to everyone in the session and records it for replay.
    pub fn broadcast(&self, session: &str, message: &Value, except: Option<&str>) -> Option<usize> {
        self.send(session, message, |_| true, except, true)
    }

    /// Ends a session: everyone gets `session_ending`, then their connections close.
    pub fn close(&self, session: &str) -> Option<usize> {
        let room = self.lock().remove(session)?;
        let ending: Arc<str> = Arc::from(
            json!({
                "type": "session_ending",
                "message": "This session is ending. Thank you for participating!",
                "timestamp": now_iso(),
            })
            .to_string(),
        );
        let n = room.clients.len();
        for c in room.clients.values() {
            let _ = c.tx.try_send(Outgoing::Text(ending.clone()));
            let _ = c.tx.try_send(Outgoing::Close(1000, "session ended"));
        }
        Some(n)
    }

    pub fn is_active(&self, session: &str) -> bool {
        self.lock().contains_key(session)
    }

    /// People connected to a session.
    pub fn participants(&self, session: &str) -> usize {
        self.lock().get(session).map_or(0, |r| r.clients.len())
    }

    /// Active sessions and their sizes.
    pub fn sessions(&self) -> Vec<(String, usize, DateTime<Utc>)> {
        let mut out: Vec<_> = self
            .lock()
            .iter()
            .map(|(id, r)| (id.clone(), r.clients.len(), r.created_at))
            .collect();
        out.sort();
        out
    }

    /// A session's connections as the info route shows them.
    pub fn info(&self, session: &str) -> Option<Value> {
        let rooms = self.lock();
        let room = rooms.get(session)?;
        let mut clients: Vec<Value> = room
            .clients
            .iter()
            .map(|(id, c)| {
                json!({
                    "client_id": id,
                    "role": c.role,
                    "connected_at": c.connected_at.to_rfc3339_opts(SecondsFormat::Millis, true),
                    "last_heartbeat": c.last_heartbeat.to_rfc3339_opts(SecondsFormat::Millis, true),
                    "user_agent": c.user_agent,
                    "origin": c.origin,
                })
            })
            .collect();
        clients.sort_by(|a, b| a["client_id"].as_str().cmp(&b["client_id"].as_str()));
        Some(json!({
            "session_id": session,
            "active": true,
            "participant_count": room.clients.len(),
            "created_at": room.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "clients": clients,
        }))
    }

    /// The recorded broadcasts of a session, oldest first, after `since` when given.
    pub fn replay(&self, session: &str, since: Option<DateTime<Utc>>) -> Option<Vec<Value>> {
        let rooms = self.lock();
        let room = rooms.get(session)?;
        Some(
            room.replay
                .iter()
                .filter(|(at, _)| since.is_none_or(|s| *at > s))
                .map(|(_, m)| m.clone())
                .collect(),
        )
    }
}

/// Offers `message` to one room's connections (see [`LiveHub::send`]); the caller holds the
/// lock. Returns how many queues took it.
fn deliver(
    session: &str,
    room: &mut Room,
    message: &Value,
    to: impl Fn(Role) -> bool,
    except: Option<&str>,
    record: bool,
) -> usize {
    let text: Arc<str> = Arc::from(message.to_string());
    if record {
        room.replay.push_back((Utc::now(), message.clone()));
        while room.replay.len() > REPLAY_LIMIT {
            room.replay.pop_front();
        }
    }
    let mut delivered = 0;
    let mut slow = Vec::new();
    for (id, c) in &room.clients {
        if Some(id.as_str()) == except || !to(c.role) {
            continue;
        }
        match c.tx.try_send(Outgoing::Text(text.clone())) {
            Ok(()) => delivered += 1,
            Err(mpsc::error::TrySendError::Full(_)) => slow.push(id.clone()),
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
    for id in slow {
        tracing::warn!(session, client_id = %id, "live connection dropped: its queue is full");
        room.clients.remove(&id);
    }
    delivered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(o: Option<Outgoing>) -> Value {
        match o {
            Some(Outgoing::Text(t)) => serde_json::from_str(&t).unwrap_or_default(),
            other => json!({ "other": format!("{other:?}") }),
        }
    }

    /// `client` joins `session` as `role`, which must succeed: its queue and the room's size.
    fn joined(
        hub: &LiveHub,
        session: &str,
        client: &str,
        role: Role,
    ) -> (mpsc::Receiver<Outgoing>, usize) {
        hub.join(session, client, role, ClientMeta::default())
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn roles_route_and_rooms_empty_out() {
        let hub = LiveHub::default();
        let (mut p, n) = joined(&hub, "s1", "p", Role::Participant);
        assert_eq!(n, 1);
        let (mut i, n) = joined(&hub, "s1", "i", Role::parse(Some("Instructor")));
        assert_eq!(n, 2);
        assert!(
            hub.join("s1", "p", Role::Observer, ClientMeta::default())
                .is_err()
        );
        // Each newcomer is welcomed first; only those already there hear of the arrival.
        assert_eq!(text(p.try_recv().ok())["type"], "welcome");
        let joined = text(p.try_recv().ok());
        assert_eq!(
            (
                &joined["type"],
                &joined["client_id"],
                &joined["participant_count"]
            ),
            (&json!("participant_joined"), &json!("i"), &json!(2))
        );
        let welcome = text(i.try_recv().ok());
        assert_eq!(
            (&welcome["type"], &welcome["role"]),
            (&json!("welcome"), &json!("instructor"))
        );
        assert!(
            i.try_recv().is_err(),
            "i never hears of its own or p's arrival"
        );
        let fb = json!({"type": "technique_feedback"});
        assert_eq!(
            hub.send("s1", &fb, Role::hears_feedback, None, false),
            Some(1)
        );
        assert_eq!(text(i.try_recv().ok())["type"], "technique_feedback");
        assert!(p.try_recv().is_err());
        assert_eq!(
            hub.broadcast("s1", &json!({"type": "chat_message"}), Some("p")),
            Some(1)
        );
        assert_eq!(
            hub.replay("s1", None).map(|r| r.len()),
            Some(3),
            "two arrivals and a broadcast are recorded, targeted sends not"
        );
        assert_eq!(hub.leave("s1", "p"), Some(1));
        assert_eq!(hub.leave("s1", "i"), Some(0));
        assert!(!hub.is_active("s1"));
        assert_eq!(Role::parse(Some("superuser")), Role::Participant);
    }

    #[test]
    fn replay_keeps_the_last_hundred() {
        let hub = LiveHub::default();
        let _keep = hub.join("s", "a", Role::Observer, ClientMeta::default());
        for n in 0..150 {
            hub.broadcast("s", &json!({ "n": n }), None);
        }
        let r = hub.replay("s", None).unwrap_or_default();
        assert_eq!(r.len(), REPLAY_LIMIT);
        assert_eq!(r[0]["n"], 50);
    }

    #[test]
    fn a_full_queue_drops_that_connection_only() {
        let hub = LiveHub::default();
        let (_slow, _) = joined(&hub, "s", "slow", Role::Participant);
        let (mut fast, _) = joined(&hub, "s", "fast", Role::Participant);
        while fast.try_recv().is_ok() {}
        for n in 0..QUEUE_LIMIT + 1 {
            hub.broadcast("s", &json!({ "n": n }), None);
            // The fast client reads as it goes.
            assert_eq!(text(fast.try_recv().ok())["n"], n);
        }
        assert_eq!(hub.participants("s"), 1, "the slow one was dropped");
    }

    #[test]
    fn closing_tells_everyone_then_closes() {
        let hub = LiveHub::default();
        let (mut a, _) = joined(&hub, "s", "a", Role::Participant);
        assert_eq!(hub.close("s"), Some(1));
        assert_eq!(text(a.try_recv().ok())["type"], "welcome");
        assert_eq!(text(a.try_recv().ok())["type"], "session_ending");
        assert!(matches!(a.try_recv(), Ok(Outgoing::Close(1000, _))));
        assert_eq!(hub.close("s"), None);
    }
}
