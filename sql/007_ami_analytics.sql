-- AMI analytics kept up to date by the ami_analytics DAG (TimescaleDB continuous aggregates would do
-- the rollups themselves; these plain tables work on both and are refreshed per data interval by
-- upsert, so a rerun is safe). Queries: sql/analytics/*.sql.

CREATE TABLE ami_pole_rollup_1m (
    pole_id        text        NOT NULL,
    bucket         timestamptz NOT NULL,
    meters         integer     NOT NULL,
    readings       integer     NOT NULL,
    power_kw       double precision NOT NULL,   -- sum over meters of each meter's mean kW in the bucket
    voltage_avg_v  double precision NOT NULL,
    voltage_min_v  double precision NOT NULL,
    voltage_max_v  double precision NOT NULL,
    PRIMARY KEY (pole_id, bucket)
);

CREATE TABLE ami_pole_rollup_5m (LIKE ami_pole_rollup_1m INCLUDING ALL);

CREATE TABLE voltage_sag_events (
    meter_id     text        NOT NULL,
    pole_id      text        NOT NULL,
    start_ts     timestamptz NOT NULL,
    end_ts       timestamptz NOT NULL,
    samples      integer     NOT NULL CHECK (samples > 0),
    duration_s   double precision NOT NULL CHECK (duration_s > 0),
    min_voltage_v double precision NOT NULL,
    min_vm_pu    double precision NOT NULL,
    severity     text        NOT NULL,
    PRIMARY KEY (meter_id, start_ts)
);
CREATE INDEX voltage_sag_events_start_idx ON voltage_sag_events (start_ts);

CREATE TABLE dr_baselines (
    pole_id      text    NOT NULL,
    baseline_day date    NOT NULL,
    slot         integer NOT NULL CHECK (slot >= 0 AND slot < 288),   -- 5-minute slot of the day (UTC)
    baseline_kw  double precision NOT NULL,
    days_used    integer NOT NULL,
    PRIMARY KEY (pole_id, baseline_day, slot)
);
