-- Up Migration

-- One row per finished cycle (completed, skipped, failed, cancelled), keyed by its job id: a record
-- written twice is one row. The full result stays in `result`; the columns are what is queried.
CREATE TABLE cycles (
  job_id text PRIMARY KEY,
  queue text NOT NULL,
  schedule_id text,
  ticker text NOT NULL,
  agent text NOT NULL,
  profile jsonb,
  trigger text NOT NULL,
  dry_run boolean NOT NULL DEFAULT true,
  date date NOT NULL,
  as_of timestamptz,
  requested_at timestamptz,
  created_at timestamptz,
  due_at timestamptz,
  started_at timestamptz,
  finished_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  status text NOT NULL,
  reason text,
  detail text,
  error text,
  decision text,
  rating text,
  confidence double precision,
  price double precision,
  engine text,
  models text[] NOT NULL DEFAULT '{}',
  data_source text,
  reports jsonb,
  role_reports jsonb,
  fill jsonb,
  fill_note text,
  prompt_tokens integer NOT NULL DEFAULT 0,
  completion_tokens integer NOT NULL DEFAULT 0,
  total_tokens integer NOT NULL DEFAULT 0,
  llm_calls integer NOT NULL DEFAULT 0,
  cost_usd double precision NOT NULL DEFAULT 0,
  cost_unknown boolean NOT NULL DEFAULT false,
  -- The scorecard's forward returns (+1 and +5 sessions), copied from Redis as they become known.
  return_1d double precision,
  return_5d double precision,
  -- A decision held for approval: how it was settled (approved, rejected, expired), copied from Redis.
  approval jsonb,
  result jsonb,
  written_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cycles_finished_idx ON cycles (finished_at DESC, job_id DESC);
CREATE INDEX cycles_agent_idx ON cycles (agent, finished_at DESC);
CREATE INDEX cycles_ticker_idx ON cycles (ticker, finished_at DESC);

-- Each LLM call of a cycle, in order; a cycle's calls sum to its usage.
CREATE TABLE cycle_calls (
  job_id text NOT NULL REFERENCES cycles (job_id) ON DELETE CASCADE,
  seq integer NOT NULL,
  role text NOT NULL,
  model text NOT NULL,
  prompt_tokens integer NOT NULL,
  completion_tokens integer NOT NULL,
  cost_usd double precision NOT NULL,
  cost_unknown boolean NOT NULL DEFAULT false,
  latency_ms double precision NOT NULL,
  attempt integer NOT NULL,
  PRIMARY KEY (job_id, seq)
);

-- A finished replay's report, as the API serves it.
CREATE TABLE replay_reports (
  replay_id text PRIMARY KEY,
  status text NOT NULL,
  finished_at timestamptz,
  report jsonb NOT NULL,
  written_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE replay_reports;
DROP TABLE cycle_calls;
DROP TABLE cycles;
