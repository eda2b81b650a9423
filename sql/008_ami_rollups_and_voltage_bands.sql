-- AMI analytics on both engines.
--
-- Per-meter rollups (1 and 5 minutes) are the materialised layer: TimescaleDB continuous
-- aggregates where the extension is present; otherwise tables of the same shape that the
-- ami_analytics DAG refreshes incrementally, per data interval, by upsert from a function holding
-- the same SELECT (one definition, written once below). A pole's kW is the sum of its meters' mean
-- kW, which a single-level aggregate over readings cannot express, so the pole rollups are views
-- over the meter rollups: a pole-day is 4 meters x 1,440 minutes, read through an index.
--
-- Voltage bands: ANSI C84.1 service-voltage ranges (AMI meters measure at the service point),
-- extended below Range B with the IEEE 1159 sag and interruption depths.

CREATE TABLE voltage_bands (
    band        text PRIMARY KEY,
    lower_pu    double precision NOT NULL,
    upper_pu    double precision NOT NULL CHECK (upper_pu > lower_pu),
    standard    text NOT NULL,
    description text NOT NULL
);
INSERT INTO voltage_bands VALUES
    ('range_a',         0.95,   1.05,   'ANSI C84.1', 'Range A: normal service voltage'),
    ('range_b',         0.9167, 1.0583, 'ANSI C84.1', 'Range B: acceptable if infrequent, corrective action planned'),
    ('below_range_b',   0.5,    0.9167, 'ANSI C84.1', 'under Range B: prompt corrective action'),
    ('deep_sag',        0.1,    0.5,    'IEEE 1159',  'sag to under half of nominal'),
    ('interruption',    0.0,    0.1,    'IEEE 1159',  'under 0.1 pu: an interruption'),
    ('above_range_b',   1.0583, 2.0,    'ANSI C84.1', 'over Range B: prompt corrective action');

-- The tightest band holding a per-unit voltage (half-open [lower, upper)).
CREATE FUNCTION lascopf_voltage_band(vm_pu double precision) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT band FROM voltage_bands
    WHERE vm_pu >= lower_pu AND vm_pu < upper_pu
    ORDER BY upper_pu - lower_pu
    LIMIT 1
$$;

DROP TABLE ami_pole_rollup_1m;
DROP TABLE ami_pole_rollup_5m;

-- %1$s: bucket width; %2$s: a WHERE clause (empty in the continuous aggregate). Range A/B limits
-- are inlined from voltage_bands: a continuous aggregate may join only one table to its hypertable.
DO $$
DECLARE
    body constant text := $q$
        SELECT r.meter_id,
               r.pole_id,
               time_bucket(interval %1$L, r.event_ts)                      AS bucket,
               count(*)                                                    AS readings,
               sum(r.power_kw)                                             AS power_kw_sum,
               max(r.power_kw)                                             AS power_kw_max,
               sum(r.voltage_v / m.nominal_voltage_v)                      AS vm_pu_sum,
               sum((r.voltage_v / m.nominal_voltage_v) ^ 2)                AS vm_pu_sq_sum,
               min(r.voltage_v)                                            AS voltage_min_v,
               max(r.voltage_v)                                            AS voltage_max_v,
               sum(CASE WHEN r.voltage_v < 0.95 * m.nominal_voltage_v
                          OR r.voltage_v >= 1.05 * m.nominal_voltage_v THEN 1 ELSE 0 END)     AS outside_range_a,
               sum(CASE WHEN r.voltage_v < 0.9167 * m.nominal_voltage_v
                          OR r.voltage_v >= 1.0583 * m.nominal_voltage_v THEN 1 ELSE 0 END)   AS outside_range_b,
               min(r.seq)                                                  AS seq_min,
               max(r.seq)                                                  AS seq_max
        FROM ami_readings r
        JOIN meters m ON m.meter_id = r.meter_id
        %2$s
        GROUP BY r.meter_id, r.pole_id, time_bucket(interval %1$L, r.event_ts)
    $q$;
    rollup record;
BEGIN
    FOR rollup IN SELECT * FROM (VALUES ('ami_meter_rollup_1m', '1 minute'),
                                        ('ami_meter_rollup_5m', '5 minutes')) AS v (name, width) LOOP
        IF lascopf_has_timescaledb() THEN
            EXECUTE format('CREATE MATERIALIZED VIEW %I WITH (timescaledb.continuous, '
                           'timescaledb.materialized_only = false) AS %s WITH NO DATA',
                           rollup.name, format(body, rollup.width, ''));
            PERFORM add_continuous_aggregate_policy(rollup.name::regclass, start_offset => interval '3 hours',
                                                    end_offset => interval '1 minute',
                                                    schedule_interval => interval '1 minute');
        ELSE
            EXECUTE format('CREATE TABLE %I AS %s WITH NO DATA', rollup.name, format(body, rollup.width, ''));
            EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (meter_id, bucket)', rollup.name);
            EXECUTE format('CREATE FUNCTION %I(from_ts timestamptz, to_ts timestamptz) RETURNS SETOF %I '
                           'LANGUAGE sql STABLE AS %L', rollup.name || '_rows', rollup.name,
                           format(body, rollup.width, 'WHERE r.event_ts >= from_ts AND r.event_ts < to_ts'));
        END IF;
        EXECUTE format('CREATE INDEX %I ON %I (pole_id, bucket)', rollup.name || '_pole_idx', rollup.name);
        EXECUTE format('CREATE INDEX %I ON %I (bucket)', rollup.name || '_bucket_idx', rollup.name);
    END LOOP;
END
$$;

-- A pole per bucket: kW is the sum over its meters of each meter's mean kW in the bucket.
DO $$
DECLARE
    width text;
BEGIN
    FOREACH width IN ARRAY ARRAY['1m', '5m'] LOOP
        EXECUTE format($v$
            CREATE VIEW %I AS
            SELECT pole_id,
                   bucket,
                   count(*)::integer                        AS meters,
                   sum(readings)::bigint                    AS readings,
                   sum(power_kw_sum / readings)             AS power_kw,
                   sum(vm_pu_sum) / sum(readings)           AS vm_pu_avg,
                   min(voltage_min_v)                       AS voltage_min_v,
                   max(voltage_max_v)                       AS voltage_max_v,
                   sum(outside_range_a)::bigint             AS outside_range_a,
                   sum(outside_range_b)::bigint             AS outside_range_b
            FROM %I
            GROUP BY pole_id, bucket
        $v$, 'ami_pole_rollup_' || width, 'ami_meter_rollup_' || width);
    END LOOP;
END
$$;

-- DR events already called: their days are not "like days" for later baselines.
CREATE TABLE dr_events (
    event_id    bigserial   PRIMARY KEY,
    event_start timestamptz NOT NULL,
    event_end   timestamptz NOT NULL CHECK (event_end > event_start),
    name        text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE voltage_sag_events ADD COLUMN threshold_pu double precision;
