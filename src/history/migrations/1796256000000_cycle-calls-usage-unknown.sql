-- Up Migration

-- A call whose server reported no token usage: its tokens (written as 0) and so its cost are not known.
-- Rows written before this column existed take it from the cycle's result JSON kept beside them.
ALTER TABLE cycle_calls ADD COLUMN usage_unknown boolean NOT NULL DEFAULT false;
UPDATE cycle_calls cc SET usage_unknown = true
FROM cycles c
WHERE c.job_id = cc.job_id AND c.result -> 'calls' -> (cc.seq - 1) ->> 'usage_unknown' = 'true';

-- Down Migration
ALTER TABLE cycle_calls DROP COLUMN usage_unknown;
