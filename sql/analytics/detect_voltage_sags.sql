-- Voltage sags by gaps and islands. A meter's samples below %(threshold_pu)s of its nominal voltage
-- whose seq numbers are consecutive form one island (seq minus its rank among the low samples is
-- constant along an island); a missing sample, or one back above the threshold, ends it. Duration
-- is samples x the sample interval (%(sample_s)s s), never wall-clock time across a gap. Islands of
-- at least %(min_duration_s)s in [%(start)s, %(end)s) are upserted on (meter, start), so a rerun or
-- an overlapping window replaces them; an island that began before the window (its previous seq is
-- also low) is left to the run that saw its beginning. Severity: lascopf_voltage_band of the
-- minimum (ANSI C84.1 ranges, IEEE 1159 depths under them).
INSERT INTO voltage_sag_events (meter_id, pole_id, start_ts, end_ts, samples, duration_s, min_voltage_v, min_vm_pu,
                                severity, threshold_pu)
SELECT meter_id, pole_id, start_ts, end_ts, samples, duration_s, min_voltage_v, min_vm_pu,
       lascopf_voltage_band(min_vm_pu), %(threshold_pu)s
FROM (
    SELECT meter_id, min(pole_id) AS pole_id, min(event_ts) AS start_ts,
           max(event_ts) + %(sample_s)s * interval '1 second' AS end_ts,
           count(*) AS samples, count(*) * %(sample_s)s AS duration_s,
           min(voltage_v) AS min_voltage_v, min(vm_pu) AS min_vm_pu, min(seq) AS first_seq,
           min(nominal_voltage_v) AS nominal_voltage_v
    FROM (
        SELECT r.meter_id, r.pole_id, r.event_ts, r.seq, r.voltage_v, m.nominal_voltage_v,
               r.voltage_v / m.nominal_voltage_v AS vm_pu,
               r.seq - row_number() OVER (PARTITION BY r.meter_id ORDER BY r.seq) AS island
        FROM ami_readings r
        JOIN meters m ON m.meter_id = r.meter_id
        WHERE r.event_ts >= %(start)s AND r.event_ts < %(end)s
          AND r.voltage_v < %(threshold_pu)s * m.nominal_voltage_v
    ) low
    GROUP BY meter_id, island
) islands
WHERE duration_s >= %(min_duration_s)s
  AND NOT EXISTS (
      SELECT 1 FROM ami_readings before
      WHERE before.meter_id = islands.meter_id AND before.seq = islands.first_seq - 1
        AND before.event_ts >= islands.start_ts - 2 * %(sample_s)s * interval '1 second'
        AND before.event_ts < islands.start_ts
        AND before.voltage_v < %(threshold_pu)s * islands.nominal_voltage_v)
ON CONFLICT (meter_id, start_ts) DO UPDATE SET
    end_ts = EXCLUDED.end_ts, samples = EXCLUDED.samples, duration_s = EXCLUDED.duration_s,
    min_voltage_v = EXCLUDED.min_voltage_v, min_vm_pu = EXCLUDED.min_vm_pu, severity = EXCLUDED.severity,
    threshold_pu = EXCLUDED.threshold_pu
