//! The SQL of claiming a job, shared by the queue (any due job) and a send's batches (the due
//! batch jobs of one send), on both backends.
//!
//! A job is claimable when it is pending and due, or in progress under a lease that ran out
//! with attempts left; one whose lease ran out with no attempts left has failed for good.

/// Which jobs a claim looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Every job.
    Any,
    /// The batch jobs of one send (bound as the statement's last parameter).
    BatchesOf,
}

/// Ends the jobs in scope whose lease ran out with no attempts left. `$1`: now; `$2`: the send,
/// for [`Scope::BatchesOf`].
pub(crate) fn expire(scope: Scope) -> &'static str {
    match scope {
        Scope::Any => {
            "UPDATE jobs SET status = 'failed', completed_ms = $1, lease_until_ms = NULL, last_error = COALESCE(last_error, 'the worker stopped while running it and no attempts remain')
             WHERE status = 'in_progress' AND lease_until_ms < $1 AND attempts >= max_attempts"
        }
        Scope::BatchesOf => {
            "UPDATE jobs SET status = 'failed', completed_ms = $1, lease_until_ms = NULL, last_error = COALESCE(last_error, 'the worker stopped while running it and no attempts remain')
             WHERE parent_id = $2 AND status = 'in_progress' AND lease_until_ms < $1 AND attempts >= max_attempts"
        }
    }
}

/// Claims the first claimable job in scope for a worker. `$1`: the worker; `$2`: the lease's
/// end; `$3`: now; `$4`: the send, for [`Scope::BatchesOf`]. `lock` is PostgreSQL's
/// `FOR UPDATE SKIP LOCKED` (empty on SQLite, whose writes are serialized).
pub(crate) fn claim(lock: &str, scope: Scope) -> String {
    let within = match scope {
        Scope::Any => "",
        Scope::BatchesOf => "parent_id = $4 AND",
    };
    format!(
        "UPDATE jobs SET status = 'in_progress', attempts = attempts + 1, worker = $1, lease_until_ms = $2, started_ms = COALESCE(started_ms, $3)
         WHERE id = (SELECT id FROM jobs
                     WHERE {within} ((status = 'pending' AND run_at_ms <= $3)
                                 OR (status = 'in_progress' AND lease_until_ms < $3 AND attempts < max_attempts))
                     ORDER BY run_at_ms, created_ms, id LIMIT 1 {lock})
           AND (status = 'pending' OR (status = 'in_progress' AND lease_until_ms < $3))
         RETURNING {columns}",
        columns = crate::backend::JOB_COLUMNS,
    )
}
