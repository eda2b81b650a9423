-- Voltage sags by gaps and islands: consecutive samples (by seq) of a meter below %(threshold_pu)s of
-- nominal form one event; a missing sample (a seq gap) ends it. Events of at least %(min_duration_s)s
-- (samples x %(sample_s)s) in [%(start)s, %(end)s) are upserted on (meter, start).
INSERT INTO voltage_sag_events (meter_id, pole_id, start_ts, end_ts, samples, duration_s, min_voltage_v, min_vm_pu,
                                severity)
SELECT meter_id, min(pole_id), min(event_ts), max(event_ts), count(*), count(*) * %(sample_s)s,
       min(voltage_v), min(vm_pu),
       CASE WHEN min(vm_pu) < 0.5 THEN 'deep (< 0.5 pu)'
            WHEN min(vm_pu) < 0.7 THEN 'moderate (0.5-0.7 pu)'
            ELSE 'shallow (0.7-0.9 pu)' END
FROM (
    SELECT r.meter_id, r.pole_id, r.event_ts, r.voltage_v, r.voltage_v / m.nominal_voltage_v AS vm_pu,
           r.seq - row_number() OVER (PARTITION BY r.meter_id ORDER BY r.seq) AS island
    FROM ami_readings r JOIN meters m USING (meter_id)
    WHERE r.event_ts >= %(start)s AND r.event_ts < %(end)s
      AND r.voltage_v < %(threshold_pu)s * m.nominal_voltage_v
) low
GROUP BY meter_id, island
HAVING count(*) * %(sample_s)s >= %(min_duration_s)s
ON CONFLICT (meter_id, start_ts) DO UPDATE SET end_ts = EXCLUDED.end_ts, samples = EXCLUDED.samples,
    duration_s = EXCLUDED.duration_s, min_voltage_v = EXCLUDED.min_voltage_v, min_vm_pu = EXCLUDED.min_vm_pu,
    severity = EXCLUDED.severity
