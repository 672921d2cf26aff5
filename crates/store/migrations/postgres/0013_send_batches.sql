-- Send batches (postgres): a large send is split into batch jobs that any worker on any replica
-- claims. Each batch job names the job of the send it belongs to (`parent_id`); the send's
-- recipients are written to the delivery ledger up front, each with its batch number and the
-- subscriber as the list gave it (`recipient`, JSON), so a batch reads its own slice back.
ALTER TABLE jobs ADD COLUMN parent_id TEXT;
CREATE INDEX IF NOT EXISTS jobs_by_parent ON jobs (parent_id, status);
ALTER TABLE deliveries ADD COLUMN batch BIGINT;
ALTER TABLE deliveries ADD COLUMN recipient TEXT;
CREATE INDEX IF NOT EXISTS deliveries_by_batch ON deliveries (job_id, target, batch);
