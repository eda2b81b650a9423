-- One pole over [%(start)s, %(end)s), from the 1-minute pole rollup: energy, mean and peak kW,
-- voltage extremes and shares outside ANSI C84.1 ranges, and the voltage sags that began in it.
SELECT %(pole_id)s::text                                      AS pole_id,
       count(*)::integer                                      AS minutes,
       max(meters)                                            AS meters,
       coalesce(sum(readings), 0)::bigint                     AS readings,
       sum(power_kw) / 60.0                                   AS energy_kwh,
       avg(power_kw)                                          AS mean_kw,
       max(power_kw)                                          AS peak_kw,
       sum(vm_pu_avg * readings) / nullif(sum(readings), 0)   AS vm_pu_avg,
       min(voltage_min_v)                                     AS voltage_min_v,
       max(voltage_max_v)                                     AS voltage_max_v,
       100 * sum(outside_range_a)::double precision / nullif(sum(readings), 0) AS outside_range_a_pct,
       100 * sum(outside_range_b)::double precision / nullif(sum(readings), 0) AS outside_range_b_pct,
       (SELECT count(*) FROM voltage_sag_events s
        WHERE s.pole_id = %(pole_id)s AND s.start_ts >= %(start)s AND s.start_ts < %(end)s)::integer AS sag_events
FROM ami_pole_rollup_1m
WHERE pole_id = %(pole_id)s AND bucket >= %(start)s AND bucket < %(end)s
