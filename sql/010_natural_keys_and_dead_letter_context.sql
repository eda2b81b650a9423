-- One stored row per natural key, the context of a dead letter, partitions only where rows land.
--
-- An AMI reading's natural key is (meter_id, seq). The readings table is partitioned by event time,
-- and a unique index there must contain it, so the key is claimed first in a plain table beside it:
-- a re-send with another event time finds the key taken instead of landing in another partition.
-- `seq` leads the index: counters advance together, so a batch's claims land near the right edge of
-- the index instead of at one leaf page per meter (a third cheaper to insert than meter_id first).
CREATE TABLE ami_reading_keys (
    seq      bigint      NOT NULL,
    meter_id text        NOT NULL,
    event_ts timestamptz NOT NULL,
    PRIMARY KEY (seq, meter_id)
);
INSERT INTO ami_reading_keys (seq, meter_id, event_ts)
SELECT DISTINCT ON (meter_id, seq) seq, meter_id, event_ts
FROM ami_readings ORDER BY meter_id, seq, event_ts;

-- A direct meter feed (no gateway) carries no backhaul profile: stored NULL.
ALTER TABLE ami_readings ALTER COLUMN network_profile DROP NOT NULL;

-- A batch item's dead letter keeps the envelope it came in (gateway id, backhaul, sent time); a
-- conflicting duplicate names its natural key, by which the stored version is found.
ALTER TABLE dead_letters ADD COLUMN envelope bytea, ADD COLUMN natural_key jsonb;
CREATE INDEX dead_letters_reason_idx ON dead_letters (reason, dead_lettered_at);

-- Create the partitions (native engine) for the chunks holding the given instants only: one stray
-- timestamp must not create every chunk between it and the rest of its batch.
CREATE FUNCTION lascopf_ensure_partitions_at(tbl text, instants timestamptz[])
RETURNS integer
LANGUAGE sql AS $$
    SELECT coalesce(sum(lascopf_ensure_partitions(tbl, chunk, chunk)), 0)::integer
    FROM (SELECT DISTINCT date_bin(t.chunk_interval, i, TIMESTAMPTZ '2000-01-03 00:00:00+00') AS chunk
          FROM lascopf_time_tables t, unnest(instants) AS i
          WHERE t.table_name = tbl) AS chunks
$$;
