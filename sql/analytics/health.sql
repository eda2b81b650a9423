-- Voltage-quality and data health per {group} (pole_id or feeder_id) and period of %(period)s in
-- [%(start)s, %(end)s), from the 1-minute meter rollup:
--   completeness_pct       readings / seq span per meter (a missing sample is a seq gap), pooled;
--   outside_range_*_pct    share of samples outside ANSI C84.1 Range A / Range B;
--   peak_kw                highest 1-minute kW of the group (its meters' mean kW, summed);
--   voltage_volatility_pct standard deviation of per-unit voltage within the period, meter mean, in %%.
WITH scope AS (
    SELECT r.*, t.{group} AS group_id, time_bucket(%(period)s::interval, r.bucket) AS period_start
    FROM ami_meter_rollup_1m r
    JOIN meter_topology t ON t.meter_id = r.meter_id
    WHERE r.bucket >= %(start)s AND r.bucket < %(end)s
      AND (%(group_ids)s::text[] IS NULL OR t.{group} = ANY (%(group_ids)s::text[]))
), per_meter AS (
    SELECT group_id, period_start, meter_id,
           sum(readings) AS readings,
           max(seq_max) - min(seq_min) + 1 AS expected,
           sum(outside_range_a) AS outside_a,
           sum(outside_range_b) AS outside_b,
           sqrt(greatest(sum(vm_pu_sq_sum) - sum(vm_pu_sum) ^ 2 / sum(readings), 0)
                / greatest(sum(readings) - 1, 1)) AS vm_pu_std
    FROM scope
    GROUP BY group_id, period_start, meter_id
), per_minute AS (
    SELECT group_id, period_start, bucket, sum(power_kw_sum / readings) AS kw
    FROM scope
    GROUP BY group_id, period_start, bucket
), installed AS (
    SELECT {group} AS group_id, count(*) AS meters_installed FROM meter_topology GROUP BY {group}
)
SELECT m.group_id                                        AS {group},
       m.period_start,
       count(*)::integer                                 AS meters_reporting,
       i.meters_installed::integer                       AS meters_installed,
       sum(m.readings)::bigint                           AS readings,
       sum(m.expected)::bigint                           AS expected_readings,
       100 * sum(m.readings)::double precision / sum(m.expected)         AS completeness_pct,
       100 * sum(m.outside_a)::double precision / sum(m.readings)        AS outside_range_a_pct,
       100 * sum(m.outside_b)::double precision / sum(m.readings)        AS outside_range_b_pct,
       (SELECT max(kw) FROM per_minute k
        WHERE k.group_id = m.group_id AND k.period_start = m.period_start) AS peak_kw,
       100.0 * avg(m.vm_pu_std)                          AS voltage_volatility_pct
FROM per_meter m
JOIN installed i ON i.group_id = m.group_id
GROUP BY m.group_id, m.period_start, i.meters_installed
ORDER BY m.group_id, m.period_start
