-- API access: keys are stored as SHA-256 hashes (the key itself is shown once, when created) with
-- a role; viewer < analyst < operator < admin.
CREATE TABLE api_keys (
    key_id     uuid        PRIMARY KEY,
    name       text        NOT NULL,
    role       text        NOT NULL CHECK (role IN ('viewer', 'analyst', 'operator', 'admin')),
    key_sha256 text        NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- LASCOPF runs asked for through the API. request_id is the execution id the run will store its
-- results under, so GET /results/{id} can say "queued" before there are any.
CREATE TABLE lascopf_run_requests (
    request_id   uuid        PRIMARY KEY,
    run_key      text        NOT NULL UNIQUE,
    requested_by text        NOT NULL,
    window_end   timestamptz NOT NULL,
    reason       text        NOT NULL DEFAULT '',
    launcher     text        NOT NULL CHECK (launcher IN ('airflow', 'in_process')),
    status       text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    message      text        NOT NULL DEFAULT '',
    requested_at timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lascopf_run_requests_time_idx ON lascopf_run_requests (requested_at);
