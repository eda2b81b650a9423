-- Demand-response baseline for %(day)s per pole and 5-minute slot: the mean of the slot over the
-- %(x_days)s highest-consumption days among the last %(y_days)s like days (weekday or weekend, as
-- the target day) before it, from the 5-minute rollups.
WITH days AS (
    SELECT pole_id, bucket::date AS day, sum(power_kw) AS day_kw
    FROM ami_pole_rollup_5m
    WHERE bucket >= %(day)s::date - 21 AND bucket < %(day)s::date
      AND (extract(isodow FROM bucket) >= 6) = (extract(isodow FROM %(day)s::date) >= 6)
    GROUP BY pole_id, day
), recent AS (
    SELECT *, row_number() OVER (PARTITION BY pole_id ORDER BY day DESC) AS recency FROM days
), chosen AS (
    SELECT pole_id, day FROM (
        SELECT *, row_number() OVER (PARTITION BY pole_id ORDER BY day_kw DESC) AS rank
        FROM recent WHERE recency <= %(y_days)s
    ) ranked WHERE rank <= %(x_days)s
)
INSERT INTO dr_baselines (pole_id, baseline_day, slot, baseline_kw, days_used)
SELECT r.pole_id, %(day)s::date,
       (extract(hour FROM r.bucket) * 12 + extract(minute FROM r.bucket) / 5)::integer AS slot,
       avg(r.power_kw), count(DISTINCT r.bucket::date)
FROM ami_pole_rollup_5m r JOIN chosen c ON c.pole_id = r.pole_id AND c.day = r.bucket::date
GROUP BY r.pole_id, slot
ON CONFLICT (pole_id, baseline_day, slot) DO UPDATE SET baseline_kw = EXCLUDED.baseline_kw,
    days_used = EXCLUDED.days_used
