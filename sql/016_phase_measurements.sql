-- Three-phase measurement points (issue 19): per-phase V, I, P, Q and frequency at each pole's
-- distribution transformer (xf-<pole>, as in the twin) and at each feeder head, the stream
-- `scada.phases`. Columns follow phase_measurement() in data_engineering/contracts/telemetry.py
-- (tests/storage/test_migrations.py checks they agree); partitioned as 003's tables are.

SELECT lascopf_create_time_table('phase_measurements', $cols$
    ts            timestamptz      NOT NULL,
    point_id      text             NOT NULL,
    point_kind    text             NOT NULL CHECK (point_kind IN ('transformer', 'feeder_head')),
    feeder_id     text             NOT NULL,
    v_a_v         double precision NOT NULL,
    v_b_v         double precision NOT NULL,
    v_c_v         double precision NOT NULL,
    i_a_a         double precision NOT NULL,
    i_b_a         double precision NOT NULL,
    i_c_a         double precision NOT NULL,
    p_a_kw        double precision NOT NULL,
    p_b_kw        double precision NOT NULL,
    p_c_kw        double precision NOT NULL,
    q_a_kvar      double precision NOT NULL,
    q_b_kvar      double precision NOT NULL,
    q_c_kvar      double precision NOT NULL,
    freq_hz       double precision NOT NULL,
    is_simulation boolean          NOT NULL,
    quality_flags text[],
    received_ts   timestamptz      NOT NULL,
    ingest_batch  bigint           NOT NULL,
    PRIMARY KEY (ts, point_kind, point_id)
$cols$, 'ts', interval '1 day');

-- Phase unbalance as NEMA MG-1 defines it: the largest deviation from the three-phase average,
-- over the average, in percent; for voltage and for current (NULL where the average is 0).
CREATE VIEW phase_unbalance AS
SELECT m.ts, m.point_id, m.point_kind, m.feeder_id, m.is_simulation,
       100 * GREATEST(abs(m.v_a_v - a.v_avg), abs(m.v_b_v - a.v_avg), abs(m.v_c_v - a.v_avg))
           / NULLIF(a.v_avg, 0) AS voltage_unbalance_pct,
       100 * GREATEST(abs(m.i_a_a - a.i_avg), abs(m.i_b_a - a.i_avg), abs(m.i_c_a - a.i_avg))
           / NULLIF(a.i_avg, 0) AS current_unbalance_pct
FROM phase_measurements m
CROSS JOIN LATERAL (SELECT (m.v_a_v + m.v_b_v + m.v_c_v) / 3 AS v_avg,
                           (m.i_a_a + m.i_b_a + m.i_c_a) / 3 AS i_avg) a;

-- Ground truth of the faults the simulator injected, written when it registers its grid: what,
-- where, when and how hard, so detectors can be scored against it.
CREATE TABLE fault_labels (
    fault_id      text PRIMARY KEY,
    kind          text             NOT NULL CHECK (kind IN ('voltage_sag', 'voltage_swell', 'phase_loss',
                                                            'phase_unbalance', 'transformer_overload',
                                                            'frequency_excursion', 'meter_flatline',
                                                            'meter_tamper', 'comm_loss')),
    target_kind   text             NOT NULL CHECK (target_kind IN ('system', 'feeder', 'transformer', 'meter',
                                                                   'gateway')),
    target_id     text             NOT NULL,
    start_ts      timestamptz      NOT NULL,
    end_ts        timestamptz      NOT NULL CHECK (end_ts > start_ts),
    severity      double precision NOT NULL,
    parameters    jsonb            NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(parameters) = 'object'),
    is_simulation boolean          NOT NULL DEFAULT true
);
CREATE INDEX fault_labels_time_idx ON fault_labels (start_ts, end_ts);
CREATE INDEX fault_labels_target_idx ON fault_labels (target_kind, target_id);
