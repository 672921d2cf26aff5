//! People brought to the mock CRM from CSV (`POST /api/v1/subscribers/import`, or
//! `halcytone mock crm --subscribers FILE.csv` at start), listed after the 1,000 virtual
//! subscribers as `sub_1000`, `sub_1001`, … They live in memory, for the mock's run.
//!
//! The CSV's first line names the columns: `email` (required), `first_name`, `last_name`,
//! `name`, `tags` (separated by `;` or `|`), `status` (`active` or `unsubscribed`, default
//! active), `newsletter_opt_in` (true/false, yes/no, 1/0; default true); other columns go in
//! `metadata`. An address already imported is updated; a virtual subscriber's is refused.

use crate::crm::SUBSCRIBERS;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use tokio::io::AsyncRead;

/// Refused rows listed in an answer.
const LISTED: usize = 20;

/// The imported people, in the order they first came.
#[derive(Debug, Default)]
pub struct Imported {
    people: Vec<Value>,
    by_email: HashMap<String, usize>,
}

/// A row not imported.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Refusal {
    pub line: u64,
    pub email: String,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Outcome {
    pub imported: u64,
    pub updated: u64,
    pub refused: u64,
    pub refusals: Vec<Refusal>,
    /// Subscribers after the import, virtual and imported, whatever their status.
    pub total: u64,
}

/// Why a file could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

impl Imported {
    /// Everyone imported, in order.
    pub fn people(&self) -> &[Value] {
        &self.people
    }

    /// Adds or updates the people of one CSV file.
    pub async fn import<R: AsyncRead + Unpin + Send>(
        &mut self,
        reader: R,
    ) -> Result<Outcome, Unreadable> {
        let mut csv = csv_async::AsyncReaderBuilder::new()
            .flexible(true)
            .create_reader(reader);
        let header: Vec<String> = csv
            .byte_headers()
            .await
            .map_err(|e| Unreadable(format!("header: {e}")))?
            .iter()
            .map(|h| {
                String::from_utf8_lossy(h)
                    .trim_start_matches('\u{feff}')
                    .trim()
                    .to_lowercase()
                    .replace([' ', '-'], "_")
            })
            .collect();
        let Some(email_at) = header.iter().position(|h| h == "email") else {
            return Err(Unreadable(
                "header: the first line must name an email column".into(),
            ));
        };
        let mut out = Outcome::default();
        let mut record = csv_async::ByteRecord::new();
        loop {
            match csv.read_byte_record(&mut record).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    return Err(Unreadable(format!("line {}: {e}", csv.position().line())));
                }
            }
            if record.iter().all(|f| f.trim_ascii().is_empty()) {
                continue;
            }
            let line = record.position().map_or(0, csv_async::Position::line);
            let cell = |i: usize| {
                record
                    .get(i)
                    .map(|c| String::from_utf8_lossy(c).trim().to_string())
                    .filter(|c| !c.is_empty())
            };
            let email = cell(email_at).unwrap_or_default();
            match self.person(&header, &cell, &email) {
                Err(reason) => {
                    out.refused += 1;
                    if out.refusals.len() < LISTED {
                        out.refusals.push(Refusal {
                            line,
                            email,
                            reason,
                        });
                    }
                }
                Ok(person) => {
                    let key = email.to_lowercase();
                    match self.by_email.get(&key) {
                        Some(&i) => {
                            let id = self.people[i]["id"].clone();
                            self.people[i] = person;
                            self.people[i]["id"] = id;
                            out.updated += 1;
                        }
                        None => {
                            let mut person = person;
                            let n = SUBSCRIBERS + self.people.len() as u64;
                            person["id"] = json!(format!("sub_{n:04}"));
                            self.by_email.insert(key, self.people.len());
                            self.people.push(person);
                            out.imported += 1;
                        }
                    }
                }
            }
        }
        out.total = SUBSCRIBERS + self.people.len() as u64;
        Ok(out)
    }

    /// One row as a subscriber (its id set by the caller), or why not.
    fn person(
        &self,
        header: &[String],
        cell: &dyn Fn(usize) -> Option<String>,
        email: &str,
    ) -> Result<Value, String> {
        let (user, host) = email.split_once('@').unwrap_or_default();
        if user.is_empty()
            || !host.contains('.')
            || host.starts_with('.')
            || host.contains('@')
            || email.contains(char::is_whitespace)
        {
            return Err(format!("email: {email:?} is not an email address"));
        }
        let lower = email.to_lowercase();
        if let Some(n) = lower
            .strip_prefix("subscriber")
            .and_then(|r| r.strip_suffix("@example.com"))
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|n| *n < SUBSCRIBERS)
        {
            return Err(format!("email: virtual subscriber sub_{n:04} has it"));
        }
        let mut p = json!({
            "email": email,
            "first_name": null,
            "last_name": null,
            "name": null,
            "status": "active",
            "newsletter_opt_in": true,
            "subscription_date": crate::now(),
            "tags": [],
            "engagement": { "opens_last_30_days": 0, "clicks_last_30_days": 0 },
            "metadata": {},
        });
        let mut metadata = Map::new();
        for (i, column) in header.iter().enumerate() {
            let Some(v) = cell(i) else { continue };
            match column.as_str() {
                "email" | "" => {}
                "first_name" | "last_name" | "name" => p[column.as_str()] = json!(v),
                "tags" => {
                    let tags: Vec<&str> = v
                        .split([';', '|'])
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .collect();
                    p["tags"] = json!(tags);
                }
                "status" => match v.to_lowercase().as_str() {
                    s @ ("active" | "unsubscribed") => p["status"] = json!(s),
                    _ => return Err(format!("status: {v:?} is not active or unsubscribed")),
                },
                "newsletter_opt_in" => match v.to_lowercase().as_str() {
                    "true" | "yes" | "1" => p["newsletter_opt_in"] = json!(true),
                    "false" | "no" | "0" => p["newsletter_opt_in"] = json!(false),
                    _ => return Err(format!("newsletter_opt_in: {v:?} is not true or false")),
                },
                other => {
                    metadata.insert(other.to_string(), json!(v));
                }
            }
        }
        if p["name"].is_null() {
            let joined = [&p["first_name"], &p["last_name"]]
                .iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            if !joined.is_empty() {
                p["name"] = json!(joined);
            }
        }
        p["metadata"] = Value::Object(metadata);
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn people_are_added_after_the_virtual_ones_and_updated_by_address() {
        let mut i = Imported::default();
        let csv = "Email,First Name,tags,status,plan\nann@example.com,Ann,beta;vip,,pro\nbad,,,,\nsubscriber3@example.com,,,,\nbob@example.com,Bob,,gone,\nANN@example.com,Annie,,unsubscribed,\n";
        let out = i.import(csv.as_bytes()).await.unwrap_or_default();
        assert_eq!((out.imported, out.updated, out.refused), (1, 1, 3));
        assert_eq!(out.total, SUBSCRIBERS + 1);
        assert_eq!(out.refusals[0].line, 3);
        assert!(out.refusals[1].reason.contains("sub_0003"), "{out:?}");
        let ann = &i.people()[0];
        assert_eq!(ann["id"], "sub_1000");
        assert_eq!(ann["first_name"], "Annie");
        assert_eq!(ann["status"], "unsubscribed");
        assert_eq!(ann["metadata"], json!({}));
        let e = i.import(&b"name\nAnn\n"[..]).await;
        assert!(e.is_err());
    }
}
