-- Native engine only (TimescaleDB refreshes its continuous aggregates itself): recompute the
-- per-meter rollup {table} for the buckets in [%(start)s, %(end)s) from the readings, by upsert, so
-- a rerun or an overlapping window replaces rows instead of adding to them. The caller aligns the
-- window to whole buckets.
INSERT INTO {table}
SELECT * FROM {rows}(%(start)s, %(end)s)
ON CONFLICT (meter_id, bucket) DO UPDATE SET
    pole_id = EXCLUDED.pole_id, readings = EXCLUDED.readings, power_kw_sum = EXCLUDED.power_kw_sum,
    power_kw_max = EXCLUDED.power_kw_max, vm_pu_sum = EXCLUDED.vm_pu_sum, vm_pu_sq_sum = EXCLUDED.vm_pu_sq_sum,
    voltage_min_v = EXCLUDED.voltage_min_v, voltage_max_v = EXCLUDED.voltage_max_v,
    outside_range_a = EXCLUDED.outside_range_a, outside_range_b = EXCLUDED.outside_range_b,
    seq_min = EXCLUDED.seq_min, seq_max = EXCLUDED.seq_max
