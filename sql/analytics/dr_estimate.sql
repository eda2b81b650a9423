-- Demand response per pole and 5-minute slot of an event window [%(event_start)s, %(event_end)s).
-- kW are 5-minute averages from ami_pole_rollup_5m (a pole's meters' mean kW, summed), times UTC.
--   like days: within %(lookback_days)s days before the event day, of the same kind (weekday or
--              weekend), not a holiday (%(holidays)s) and not a day with an earlier DR event;
--   baseline:  of the %(y_days)s most recent like days with data, the %(x_days)s with the highest
--              mean kW over the event window; per slot, the mean over those days;
--   adjustment: actual / baseline over [%(adjust_start)s, %(adjust_end)s), capped to 1 ± %(adjust_cap)s
--              (1 when the window is empty or has no data);
--   shed:      adjusted baseline − actual.
WITH p AS (
    SELECT %(event_start)s::timestamptz AS ev_start, %(event_end)s::timestamptz AS ev_end,
           %(adjust_start)s::timestamptz AS adj_start, %(adjust_end)s::timestamptz AS adj_end,
           (%(event_start)s::timestamptz AT TIME ZONE 'UTC')::date AS ev_day
), offsets AS (
    SELECT k, p.ev_day - k AS day
    FROM p, generate_series(1, %(lookback_days)s) AS k
    WHERE (extract(isodow FROM p.ev_day - k) >= 6) = (extract(isodow FROM p.ev_day) >= 6)
      AND NOT (p.ev_day - k = ANY (%(holidays)s::date[]))
      AND NOT EXISTS (SELECT 1 FROM dr_events e
                      WHERE (e.event_start AT TIME ZONE 'UTC')::date = p.ev_day - k)
), history AS (
    SELECT r.pole_id, o.k, o.day, r.bucket + o.k * interval '1 day' AS slot_ts, r.power_kw
    FROM p
    CROSS JOIN offsets o
    JOIN ami_pole_rollup_5m r
      ON r.bucket >= least(p.ev_start, p.adj_start) - o.k * interval '1 day'
     AND r.bucket < p.ev_end - o.k * interval '1 day'
    WHERE %(pole_ids)s::text[] IS NULL OR r.pole_id = ANY (%(pole_ids)s::text[])
), day_load AS (
    SELECT h.pole_id, h.k, avg(h.power_kw) AS event_kw,
           row_number() OVER (PARTITION BY h.pole_id ORDER BY h.k) AS recency
    FROM history h, p
    WHERE h.slot_ts >= p.ev_start AND h.slot_ts < p.ev_end
    GROUP BY h.pole_id, h.k
), chosen AS (
    SELECT pole_id, k
    FROM (SELECT pole_id, k, row_number() OVER (PARTITION BY pole_id ORDER BY event_kw DESC, k) AS load_rank
          FROM day_load WHERE recency <= %(y_days)s) ranked
    WHERE load_rank <= %(x_days)s
), baseline AS (
    SELECT h.pole_id, h.slot_ts, avg(h.power_kw) AS baseline_kw, count(*)::integer AS days_used,
           array_agg(h.day ORDER BY h.day) AS like_days
    FROM history h
    JOIN chosen c ON c.pole_id = h.pole_id AND c.k = h.k
    GROUP BY h.pole_id, h.slot_ts
), actual AS (
    SELECT r.pole_id, r.bucket AS slot_ts, r.power_kw
    FROM ami_pole_rollup_5m r, p
    WHERE r.bucket >= least(p.ev_start, p.adj_start) AND r.bucket < p.ev_end
      AND (%(pole_ids)s::text[] IS NULL OR r.pole_id = ANY (%(pole_ids)s::text[]))
), adjustment AS (
    SELECT b.pole_id,
           greatest(1 - %(adjust_cap)s, least(1 + %(adjust_cap)s, avg(a.power_kw) / nullif(avg(b.baseline_kw), 0)))
               AS factor
    FROM baseline b
    JOIN actual a ON a.pole_id = b.pole_id AND a.slot_ts = b.slot_ts
    CROSS JOIN p
    WHERE b.slot_ts >= p.adj_start AND b.slot_ts < p.adj_end
    GROUP BY b.pole_id
)
SELECT b.pole_id,
       b.slot_ts,
       b.baseline_kw,
       coalesce(adj.factor, 1.0)                      AS adjustment_factor,
       b.baseline_kw * coalesce(adj.factor, 1.0)      AS adjusted_baseline_kw,
       a.power_kw                                     AS actual_kw,
       b.baseline_kw * coalesce(adj.factor, 1.0) - a.power_kw AS shed_kw,
       b.days_used,
       b.like_days
FROM baseline b
CROSS JOIN p
LEFT JOIN adjustment adj ON adj.pole_id = b.pole_id
LEFT JOIN actual a ON a.pole_id = b.pole_id AND a.slot_ts = b.slot_ts
WHERE b.slot_ts >= p.ev_start AND b.slot_ts < p.ev_end
ORDER BY b.pole_id, b.slot_ts
