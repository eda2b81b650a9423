-- Data-quality gate runs (Great Expectations) and LASCOPF results. Every results table is keyed on
-- the execution id; the writer replaces an execution's rows in one transaction, so rerunning a DAG
-- run (same execution id) leaves exactly one copy.

CREATE TABLE quality_runs (
    quality_run_id uuid        PRIMARY KEY,
    pipeline       text        NOT NULL,             -- e.g. lascopf_dispatch, lascopf_daily_ingest
    run_key        text        NOT NULL,             -- the DAG run (or file) it belongs to
    window_start   timestamptz,
    window_end     timestamptz,
    success        boolean     NOT NULL,
    evaluated      integer     NOT NULL CHECK (evaluated >= 0),
    failed         integer     NOT NULL CHECK (failed >= 0),
    docs_key       text,                             -- Data Docs HTML in the lake
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quality_runs_created_idx ON quality_runs (created_at);

CREATE TABLE quality_results (
    quality_run_id uuid    NOT NULL REFERENCES quality_runs (quality_run_id) ON DELETE CASCADE,
    suite          text    NOT NULL,
    expectation    text    NOT NULL,
    column_name    text,
    success        boolean NOT NULL,
    element_count  bigint,
    unexpected_count bigint,
    unexpected_percent double precision,
    detail         jsonb   NOT NULL DEFAULT '{}',
    ordinal        integer NOT NULL,
    PRIMARY KEY (quality_run_id, suite, ordinal)
);

CREATE TABLE lascopf_executions (
    execution_id    uuid        PRIMARY KEY,
    run_key         text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('optimal', 'infeasible', 'not_converged', 'error')),
    message         text        NOT NULL DEFAULT '',
    objective_usd   double precision,
    solve_time_s    double precision NOT NULL CHECK (solve_time_s >= 0),
    iterations      integer     NOT NULL CHECK (iterations >= 0),
    method          text        NOT NULL,
    decomposition   text,
    case_name       text        NOT NULL,
    case_hash       text        NOT NULL,
    case_key        text        NOT NULL,
    network_version integer     REFERENCES network_model_versions (version_id),
    intervals       integer     NOT NULL CHECK (intervals > 0),
    interval_minutes double precision NOT NULL CHECK (interval_minutes > 0),
    contingencies   integer     NOT NULL CHECK (contingencies >= 0),
    max_violation_pu double precision,
    shed_mw         double precision NOT NULL DEFAULT 0,
    window_start    timestamptz NOT NULL,
    window_end      timestamptz NOT NULL,
    horizon_start   timestamptz NOT NULL,
    quality_run_id  uuid        REFERENCES quality_runs (quality_run_id),
    forecast_mape_pct double precision,
    persistence_mape_pct double precision,
    infeasible_contingencies text[] NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lascopf_executions_horizon_idx ON lascopf_executions (horizon_start);

CREATE TABLE lascopf_dispatch (
    execution_id uuid    NOT NULL REFERENCES lascopf_executions (execution_id) ON DELETE CASCADE,
    interval     integer NOT NULL CHECK (interval >= 1),
    ts           timestamptz NOT NULL,
    gen_id       text    NOT NULL,
    bus_id       integer NOT NULL,
    p_mw         double precision NOT NULL,
    PRIMARY KEY (execution_id, interval, gen_id)
);

CREATE TABLE lascopf_lmps (
    execution_id uuid    NOT NULL REFERENCES lascopf_executions (execution_id) ON DELETE CASCADE,
    interval     integer NOT NULL CHECK (interval >= 1),
    ts           timestamptz NOT NULL,
    bus_id       integer NOT NULL,
    load_mw      double precision NOT NULL,
    shed_mw      double precision NOT NULL DEFAULT 0,
    lmp_usd_mwh  double precision NOT NULL,
    PRIMARY KEY (execution_id, interval, bus_id)
);

-- Base-case flows for every branch; post-contingency flows where the loading reaches the
-- threshold the writer was given (all of them would be intervals x contingencies x branches).
CREATE TABLE lascopf_flows (
    execution_id uuid    NOT NULL REFERENCES lascopf_executions (execution_id) ON DELETE CASCADE,
    interval     integer NOT NULL CHECK (interval >= 1),
    ts           timestamptz NOT NULL,
    scenario     text    NOT NULL,                   -- 'base' or the contingency label
    branch_id    text    NOT NULL,
    flow_mw      double precision NOT NULL,
    limit_mw     double precision,
    loading_pct  double precision,
    PRIMARY KEY (execution_id, interval, scenario, branch_id)
);

CREATE TABLE lascopf_binding_constraints (
    execution_id uuid    NOT NULL REFERENCES lascopf_executions (execution_id) ON DELETE CASCADE,
    interval     integer NOT NULL,
    branch_id    text    NOT NULL,
    contingency  text    NOT NULL,                   -- 'base' for the base case
    flow_mw      double precision NOT NULL,
    limit_mw     double precision NOT NULL,
    shadow_price_usd_mwh double precision NOT NULL,
    PRIMARY KEY (execution_id, interval, branch_id, contingency)
);

CREATE TABLE lascopf_convergence (
    execution_id uuid    NOT NULL REFERENCES lascopf_executions (execution_id) ON DELETE CASCADE,
    iteration    integer NOT NULL,
    primal_residual_mw double precision NOT NULL,
    dual_residual_usd_mwh double precision NOT NULL,
    rho          double precision NOT NULL,
    objective_usd double precision NOT NULL,
    scenarios    integer NOT NULL,
    PRIMARY KEY (execution_id, iteration)
);

-- Files the daily batch DAG took from the lake's landing prefix: each is loaded once, whatever
-- happens to the object afterwards.
CREATE TABLE landing_files (
    object_key     text        PRIMARY KEY,
    content_sha256 text        NOT NULL,
    source         text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('loaded', 'rejected')),
    rows_loaded    integer     NOT NULL DEFAULT 0,
    rows_dead_lettered integer NOT NULL DEFAULT 0,
    quality_run_id uuid        REFERENCES quality_runs (quality_run_id),
    archived_key   text,
    processed_at   timestamptz NOT NULL DEFAULT now()
);
