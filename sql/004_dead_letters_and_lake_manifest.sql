-- Dead letters: every record the ingest worker could not accept, with the reason and the original
-- bytes. Unique on its Kafka coordinates (item = position inside a batch message, -1 for the whole
-- message), so a replay after a crash does not double them.
CREATE TABLE dead_letters (
    id              bigserial PRIMARY KEY,
    dead_lettered_at timestamptz NOT NULL DEFAULT now(),
    source          text        NOT NULL,
    topic           text        NOT NULL,
    kafka_partition integer     NOT NULL,
    kafka_offset    bigint      NOT NULL,
    item            integer     NOT NULL,
    reason          text        NOT NULL,
    detail          text,
    payload         bytea       NOT NULL,
    UNIQUE (topic, kafka_partition, kafka_offset, item)
);
CREATE INDEX dead_letters_time_idx ON dead_letters (dead_lettered_at);

-- Ingest batches and the lake objects they own (an outbox): the manifest row is written in the
-- same transaction as the rows; the object is written after the commit and the row marked
-- 'written'. A worker that dies in between leaves 'pending' rows, which the next worker rebuilds
-- from the database, so the lake holds exactly the stored rows: nothing lost, nothing doubled.
CREATE SEQUENCE ingest_batch_seq;

CREATE TABLE lake_objects (
    object_key   text        PRIMARY KEY,
    source       text        NOT NULL,
    ingest_batch bigint      NOT NULL,
    ts_from      timestamptz NOT NULL,
    ts_to        timestamptz NOT NULL,
    row_count    integer     NOT NULL CHECK (row_count > 0),
    status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'written')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    written_at   timestamptz
);
CREATE INDEX lake_objects_pending_idx ON lake_objects (created_at) WHERE status = 'pending';
