-- The load forecast behind each dispatch: its quantile band per look-ahead interval (bus quantiles
-- summed: the band the dispatch may be secured for) and its backtest scores against the baselines;
-- and whether the dispatch was secured for the band, with the P50-only objective beside it.

CREATE TABLE lascopf_forecast_band (
    execution_id   uuid        NOT NULL REFERENCES lascopf_executions (execution_id) ON DELETE CASCADE,
    interval       integer     NOT NULL CHECK (interval > 0),
    ts             timestamptz NOT NULL,
    p10_mw         double precision NOT NULL,
    p50_mw         double precision NOT NULL,
    p90_mw         double precision NOT NULL,
    CHECK (p10_mw <= p50_mw AND p50_mw <= p90_mw),
    PRIMARY KEY (execution_id, interval)
);

CREATE TABLE lascopf_forecast_scores (
    execution_id      uuid    NOT NULL REFERENCES lascopf_executions (execution_id) ON DELETE CASCADE,
    method            text    NOT NULL CHECK (method IN ('model', 'persistence', 'last_week')),
    horizon_intervals integer NOT NULL CHECK (horizon_intervals > 0),
    origins           integer NOT NULL CHECK (origins > 0),
    mae_mw            double precision NOT NULL,
    mape_pct          double precision NOT NULL,
    pinball_mw        double precision NOT NULL,
    crps_mw           double precision NOT NULL,
    rcrps             double precision NOT NULL,
    coverage          double precision NOT NULL CHECK (coverage BETWEEN 0 AND 1),
    nominal_coverage  double precision NOT NULL CHECK (nominal_coverage BETWEEN 0 AND 1),
    PRIMARY KEY (execution_id, method)
);

ALTER TABLE lascopf_executions
    ADD COLUMN spread_secured    boolean NOT NULL DEFAULT false,
    ADD COLUMN p50_objective_usd double precision;
