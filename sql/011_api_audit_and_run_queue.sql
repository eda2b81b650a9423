-- Calls that ask the platform for work (POST /api/v1/execute, POST /api/v1/dr/compute): who asked,
-- what, and the answer. The caller is a key name or a token subject, never a secret.
CREATE TABLE api_audit (
    audit_id  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts        timestamptz NOT NULL DEFAULT now(),
    caller    text        NOT NULL,
    action    text        NOT NULL CHECK (action IN ('execute', 'dr_compute')),
    status    integer     NOT NULL,
    detail    jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX api_audit_ts_idx ON api_audit (ts);
CREATE INDEX api_audit_caller_idx ON api_audit (caller, ts);

-- The API bounds its run queue and de-duplicates pending requests by window_end: both read the
-- queued and running requests only.
CREATE INDEX lascopf_run_requests_pending_idx ON lascopf_run_requests (window_end)
    WHERE status IN ('queued', 'running');
