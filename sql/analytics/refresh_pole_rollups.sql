-- Pole rollups for buckets of %(bucket)s in [%(start)s, %(end)s): kW as the sum over meters of each
-- meter's mean kW (not a sum of samples), voltages over all samples. Upsert: reruns replace.
INSERT INTO {table} (pole_id, bucket, meters, readings, power_kw, voltage_avg_v, voltage_min_v, voltage_max_v)
SELECT pole_id, bucket, count(*), sum(n), sum(mean_kw), sum(sum_v) / sum(n), min(min_v), max(max_v)
FROM (
    SELECT pole_id, meter_id, time_bucket(%(bucket)s::interval, event_ts) AS bucket, count(*) AS n,
           avg(power_kw) AS mean_kw, sum(voltage_v) AS sum_v, min(voltage_v) AS min_v, max(voltage_v) AS max_v
    FROM ami_readings
    WHERE event_ts >= %(start)s AND event_ts < %(end)s
    GROUP BY pole_id, meter_id, bucket
) per_meter
GROUP BY pole_id, bucket
ON CONFLICT (pole_id, bucket) DO UPDATE SET meters = EXCLUDED.meters, readings = EXCLUDED.readings,
    power_kw = EXCLUDED.power_kw, voltage_avg_v = EXCLUDED.voltage_avg_v, voltage_min_v = EXCLUDED.voltage_min_v,
    voltage_max_v = EXCLUDED.voltage_max_v
