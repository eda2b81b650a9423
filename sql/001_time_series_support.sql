-- Time-series support that works with and without TimescaleDB.
-- With the extension: hypertables and its own time_bucket().
-- Without it: native range partitioning by time (one partition per chunk interval, created on
-- demand by lascopf_ensure_partitions) and a time_bucket() shim on date_bin with TimescaleDB's
-- default origin, so every query in this repository runs on both.

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
    END IF;
END
$$;

CREATE TABLE lascopf_time_tables (
    table_name     text PRIMARY KEY,
    time_column    text     NOT NULL,
    chunk_interval interval NOT NULL,
    engine         text     NOT NULL CHECK (engine IN ('timescaledb', 'native'))
);

CREATE FUNCTION lascopf_has_timescaledb() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')
$$;

DO $$
BEGIN
    IF NOT lascopf_has_timescaledb() THEN
        -- Same origin as TimescaleDB (2000-01-03, a Monday) so week buckets line up on both.
        EXECUTE $f$
            CREATE FUNCTION time_bucket(bucket_width interval, ts timestamptz) RETURNS timestamptz
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS 'SELECT date_bin(bucket_width, ts, TIMESTAMPTZ ''2000-01-03 00:00:00+00'')'
        $f$;
        EXECUTE $f$
            CREATE FUNCTION time_bucket(bucket_width interval, ts timestamptz, origin timestamptz)
            RETURNS timestamptz
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS 'SELECT date_bin(bucket_width, ts, origin)'
        $f$;
    END IF;
END
$$;

-- Create a time-partitioned table: a hypertable on TimescaleDB, a range-partitioned table otherwise.
-- `columns` is the column and constraint list; it comes from the migration files only.
CREATE FUNCTION lascopf_create_time_table(tbl text, columns text, time_column text, chunk interval)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF lascopf_has_timescaledb() THEN
        EXECUTE format('CREATE TABLE %I (%s)', tbl, columns);
        PERFORM create_hypertable(tbl::regclass, time_column, chunk_time_interval => chunk);
        INSERT INTO lascopf_time_tables VALUES (tbl, time_column, chunk, 'timescaledb');
    ELSE
        EXECUTE format('CREATE TABLE %I (%s) PARTITION BY RANGE (%I)', tbl, columns, time_column);
        INSERT INTO lascopf_time_tables VALUES (tbl, time_column, chunk, 'native');
    END IF;
END
$$;

-- Make sure partitions cover [from_ts, to_ts]. TimescaleDB creates chunks itself; natively we
-- create one partition per chunk interval, named <table>_pYYYYMMDDtHH24MI. Safe to call
-- concurrently: a partition created by another session in between is not an error.
CREATE FUNCTION lascopf_ensure_partitions(tbl text, from_ts timestamptz, to_ts timestamptz)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    meta    lascopf_time_tables%ROWTYPE;
    lo      timestamptz;
    created integer := 0;
    part    text;
BEGIN
    SELECT * INTO STRICT meta FROM lascopf_time_tables WHERE table_name = tbl;
    IF meta.engine = 'timescaledb' THEN
        RETURN 0;
    END IF;
    lo := date_bin(meta.chunk_interval, from_ts, TIMESTAMPTZ '2000-01-03 00:00:00+00');
    WHILE lo <= to_ts LOOP
        part := format('%s_p%s', tbl, to_char(lo AT TIME ZONE 'UTC', 'YYYYMMDD"t"HH24MI'));
        IF to_regclass(quote_ident(part)) IS NULL THEN
            BEGIN
                EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                               part, tbl, lo, lo + meta.chunk_interval);
                created := created + 1;
            EXCEPTION WHEN duplicate_table OR unique_violation THEN
                NULL;  -- created concurrently by another worker
            END;
        END IF;
        lo := lo + meta.chunk_interval;
    END LOOP;
    RETURN created;
END
$$;
