//! The checks kept beside the captures (migration 0007): one row per checked email with the
//! report as JSON and its worst finding, deleted with the capture by a trigger.

use crate::store::{Record, Store, StoreError};
use halcytone_mailcheck::Report;
use sqlx::Row;

/// A stored report's worst finding, for lists.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Worst {
    pub level: String,
    pub check: String,
    pub message: String,
    /// Findings of each level in all.
    pub errors: i64,
    pub warnings: i64,
}

/// A stored report.
#[derive(Debug, Clone)]
pub struct Stored {
    pub report: serde_json::Value,
    pub checked_at: String,
}

impl Store {
    /// The stored checks of the capture `seq`.
    pub async fn checks(&self, seq: i64) -> Result<Option<Stored>, StoreError> {
        let row = sqlx::query("SELECT report, checked_at FROM message_checks WHERE seq = ?")
            .bind(seq)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            Ok(Stored {
                report: serde_json::from_str(&r.try_get::<String, _>("report")?)?,
                checked_at: r.try_get("checked_at")?,
            })
        })
        .transpose()
    }

    /// The worst findings of the captures `seqs` that have been checked.
    pub async fn worst_findings(
        &self,
        seqs: &[i64],
    ) -> Result<std::collections::HashMap<i64, Worst>, StoreError> {
        let mut found = std::collections::HashMap::new();
        for chunk in seqs.chunks(500) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT seq, worst, worst_check, worst_message, errors, warnings FROM message_checks WHERE seq IN (",
            );
            let mut list = q.separated(", ");
            for seq in chunk {
                list.push_bind(*seq);
            }
            q.push(")");
            for r in q.build().fetch_all(self.pool()).await? {
                found.insert(
                    r.try_get("seq")?,
                    Worst {
                        level: r.try_get("worst")?,
                        check: r.try_get("worst_check")?,
                        message: r.try_get("worst_message")?,
                        errors: r.try_get("errors")?,
                        warnings: r.try_get("warnings")?,
                    },
                );
            }
        }
        Ok(found)
    }

    /// Keeps the checks of the capture `seq`, unless it was deleted meanwhile; the time
    /// they were kept.
    pub async fn save_checks(&self, seq: i64, report: &Report) -> Result<String, StoreError> {
        let now = crate::now();
        sqlx::query(
            "INSERT OR REPLACE INTO message_checks (seq, worst, worst_check, worst_message, errors, warnings, report, checked_at)
             SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM records WHERE seq = ?)",
        )
        .bind(seq)
        .bind(report.worst.level.as_str())
        .bind(report.worst.check)
        .bind(&report.worst.message)
        .bind(i64::try_from(report.counts.error).unwrap_or(i64::MAX))
        .bind(i64::try_from(report.counts.warning).unwrap_or(i64::MAX))
        .bind(serde_json::to_string(report)?)
        .bind(&now)
        .bind(seq)
        .execute(self.pool())
        .await?;
        Ok(now)
    }

    /// Up to `limit` captured emails not checked yet, newest first.
    pub async fn unchecked_emails(&self, limit: i64) -> Result<Vec<Record>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM records AS r WHERE r.kind = 'email' AND r.captured = 1
             AND NOT EXISTS (SELECT 1 FROM message_checks AS c WHERE c.seq = r.seq)
             ORDER BY r.seq DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(Store::to_record).collect()
    }

    /// The captured emails among `seqs` not checked yet.
    pub async fn unchecked_among(&self, seqs: &[i64]) -> Result<Vec<Record>, StoreError> {
        if seqs.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "SELECT * FROM records AS r WHERE r.kind = 'email' AND r.captured = 1
             AND NOT EXISTS (SELECT 1 FROM message_checks AS c WHERE c.seq = r.seq) AND r.seq IN (",
        );
        let mut list = q.separated(", ");
        for seq in seqs {
            list.push_bind(*seq);
        }
        q.push(")");
        let rows = q.build().fetch_all(self.pool()).await?;
        rows.iter().map(Store::to_record).collect()
    }
}
