//! Group commit for one send's [`DeliveryLedger`]: the connections of a send each begin and end
//! one message at a time, and a flusher hands whatever they queued to the ledger together
//! ([`DeliveryLedger::begin_many`], [`DeliveryLedger::end_many`]), so a ledger in a database
//! costs one round trip per flush rather than two per message.
//!
//! Ends are written before begins in every flush: a connection queues the end of its last
//! message with the begin of its next, so the next is never marked `sending` before the last
//! is recorded. After a crash at most one message per connection is left `sending`.

use crate::deliveries::{Begin, DeliveryLedger, Ended, Entry};
use std::sync::Mutex;
use tokio::sync::{Notify, oneshot};

/// One recipient's message, owned so it can wait in the queue.
#[derive(Debug, Clone)]
pub struct Queued {
    pub email: String,
    pub subscriber_id: Option<String>,
    pub message_id: String,
}

/// How a message ended, owned.
#[derive(Debug, Clone)]
pub enum QueuedEnd {
    Delivered { provider_id: String },
    Failed { reason: String, retryable: bool },
}

#[derive(Default)]
struct Queue {
    begins: Vec<(Queued, oneshot::Sender<Begin>)>,
    ends: Vec<(Queued, QueuedEnd)>,
    closed: bool,
}

/// The queue between a send's connections and its ledger.
pub struct GroupLedger<'a> {
    ledger: &'a dyn DeliveryLedger,
    target: &'a str,
    version: &'a str,
    queue: Mutex<Queue>,
    wake: Notify,
}

impl std::fmt::Debug for GroupLedger<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupLedger")
            .field("target", &self.target)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl<'a> GroupLedger<'a> {
    /// A queue for the messages of one target and content version.
    pub fn new(ledger: &'a dyn DeliveryLedger, target: &'a str, version: &'a str) -> Self {
        GroupLedger {
            ledger,
            target,
            version,
            queue: Mutex::new(Queue::default()),
            wake: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether to send this recipient's message, answered at the next flush.
    pub async fn begin(&self, recipient: Queued) -> Begin {
        let (tx, rx) = oneshot::channel();
        self.lock().begins.push((recipient, tx));
        self.wake.notify_one();
        rx.await.unwrap_or_else(|_| {
            Begin::Stop("not attempted: the delivery ledger stopped answering".into())
        })
    }

    /// Records how a message ended, at the next flush (before any begin queued after it).
    pub fn end(&self, recipient: Queued, how: QueuedEnd) {
        self.lock().ends.push((recipient, how));
        self.wake.notify_one();
    }

    /// No more messages: [`GroupLedger::run`] returns once the queue is written.
    pub fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_one();
    }

    /// The ledger entry of a queued recipient's message (this send's target and version).
    pub fn entry<'e>(&'e self, q: &'e Queued) -> Entry<'e> {
        Entry {
            target: self.target,
            version: self.version,
            email: &q.email,
            subscriber_id: q.subscriber_id.as_deref(),
            message_id: &q.message_id,
        }
    }

    /// Flushes the queue whenever something is in it, until closed and empty.
    pub async fn run(&self) {
        loop {
            let (begins, ends, closed) = {
                let mut q = self.lock();
                (
                    std::mem::take(&mut q.begins),
                    std::mem::take(&mut q.ends),
                    q.closed,
                )
            };
            if begins.is_empty() && ends.is_empty() {
                if closed {
                    return;
                }
                self.wake.notified().await;
                continue;
            }
            if !ends.is_empty() {
                let ended: Vec<(Entry<'_>, Ended<'_>)> = ends
                    .iter()
                    .map(|(q, how)| {
                        let how = match how {
                            QueuedEnd::Delivered { provider_id } => {
                                Ended::Delivered { provider_id }
                            }
                            QueuedEnd::Failed { reason, retryable } => Ended::Failed {
                                reason,
                                retryable: *retryable,
                            },
                        };
                        (self.entry(q), how)
                    })
                    .collect();
                self.ledger.end_many(&ended).await;
            }
            if !begins.is_empty() {
                let entries: Vec<Entry<'_>> = begins.iter().map(|(q, _)| self.entry(q)).collect();
                let mut answers = self.ledger.begin_many(&entries).await.into_iter();
                for (_, reply) in begins {
                    let answer = answers.next().unwrap_or_else(|| {
                        Begin::Stop("not attempted: the delivery ledger gave no answer".into())
                    });
                    let _ = reply.send(answer);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use async_trait::async_trait;

    /// Records the calls it gets, in order.
    #[derive(Debug, Default)]
    struct Calls(Mutex<Vec<String>>);

    #[async_trait]
    impl DeliveryLedger for Calls {
        async fn begin(&self, e: &Entry<'_>) -> Begin {
            self.0.lock().unwrap().push(format!("begin {}", e.email));
            Begin::Send { uncertain: false }
        }
        async fn begin_many(&self, entries: &[Entry<'_>]) -> Vec<Begin> {
            let names: Vec<&str> = entries.iter().map(|e| e.email).collect();
            self.0
                .lock()
                .unwrap()
                .push(format!("begin {}", names.join(",")));
            entries
                .iter()
                .map(|e| {
                    if e.email.starts_with("done") {
                        Begin::Delivered
                    } else {
                        Begin::Send { uncertain: false }
                    }
                })
                .collect()
        }
        async fn end(&self, _: &Entry<'_>, _: Ended<'_>) {}
        async fn end_many(&self, ended: &[(Entry<'_>, Ended<'_>)]) {
            let names: Vec<&str> = ended.iter().map(|(e, _)| e.email).collect();
            self.0
                .lock()
                .unwrap()
                .push(format!("end {}", names.join(",")));
        }
        async fn refuse(&self, _: &Entry<'_>, _: &str) {}
    }

    fn queued(email: &str) -> Queued {
        Queued {
            email: email.into(),
            subscriber_id: None,
            message_id: format!("<{email}>"),
        }
    }

    #[tokio::test]
    async fn queued_calls_go_to_the_ledger_together_ends_before_begins() {
        let calls = Calls::default();
        let group = GroupLedger::new(&calls, "email", "v1");
        let work = async {
            let (a, b) = futures_util::future::join(
                group.begin(queued("a@x.org")),
                group.begin(queued("done@x.org")),
            )
            .await;
            assert_eq!(a, Begin::Send { uncertain: false });
            assert_eq!(b, Begin::Delivered);
            group.end(
                queued("a@x.org"),
                QueuedEnd::Delivered {
                    provider_id: "250".into(),
                },
            );
            assert_eq!(
                group.begin(queued("c@x.org")).await,
                Begin::Send { uncertain: false }
            );
            group.close();
        };
        futures_util::future::join(work, group.run()).await;
        assert_eq!(
            *calls.0.lock().unwrap(),
            vec!["begin a@x.org,done@x.org", "end a@x.org", "begin c@x.org"]
        );
    }
}
