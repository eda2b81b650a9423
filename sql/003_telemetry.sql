-- Telemetry hypertables (range-partitioned tables without TimescaleDB). Column names and types
-- follow data_engineering/contracts/telemetry.py; tests/storage/test_migrations.py checks they agree.
-- Each primary key is the source's natural key plus its time column (required for partitioning);
-- the ingest worker absorbs duplicates with ON CONFLICT DO NOTHING on it. Time comes first: a batch
-- of recent readings then lands at the right edge of the index instead of in one leaf page per
-- meter, which keeps ingest fast as the table grows.

SELECT lascopf_create_time_table('ami_readings', $cols$
    event_ts        timestamptz      NOT NULL,
    meter_id        text             NOT NULL,
    pole_id         text             NOT NULL,
    seq             bigint           NOT NULL CHECK (seq >= 0),
    voltage_v       double precision NOT NULL,
    current_a       double precision NOT NULL,
    power_kw        double precision NOT NULL,
    reactive_kvar   double precision,
    freq_hz         double precision,
    quality_flags   text[],
    network_profile text             NOT NULL,
    gateway_id      text,
    gateway_ts      timestamptz,
    received_ts     timestamptz      NOT NULL,
    ingest_batch    bigint           NOT NULL,
    PRIMARY KEY (event_ts, meter_id, seq)
$cols$, 'event_ts', interval '1 day');

SELECT lascopf_create_time_table('scada_measurements', $cols$
    ts           timestamptz      NOT NULL,
    element_type text             NOT NULL CHECK (element_type IN ('generator', 'load', 'bus', 'branch')),
    element_id   text             NOT NULL,
    bus_id       bigint           NOT NULL,
    p_mw         double precision,
    q_mvar       double precision,
    vm_pu        double precision,
    va_deg       double precision,
    freq_hz      double precision,
    quality_code text             NOT NULL,
    received_ts  timestamptz      NOT NULL,
    ingest_batch bigint           NOT NULL,
    PRIMARY KEY (ts, element_type, element_id)
$cols$, 'ts', interval '1 day');

SELECT lascopf_create_time_table('weather_observations', $cols$
    ts                    timestamptz      NOT NULL,
    station_id            text             NOT NULL,
    temperature_c         double precision NOT NULL,
    relative_humidity_pct double precision,
    wind_speed_ms         double precision,
    ghi_wm2               double precision,
    cloud_cover_pct       double precision,
    received_ts           timestamptz      NOT NULL,
    ingest_batch          bigint           NOT NULL,
    PRIMARY KEY (ts, station_id)
$cols$, 'ts', interval '7 days');

SELECT lascopf_create_time_table('market_prices', $cols$
    ts                 timestamptz      NOT NULL,
    market             text             NOT NULL CHECK (market IN ('day_ahead', 'real_time')),
    node_id            text             NOT NULL,
    lmp_usd_mwh        double precision NOT NULL,
    energy_usd_mwh     double precision,
    congestion_usd_mwh double precision,
    loss_usd_mwh       double precision,
    received_ts        timestamptz      NOT NULL,
    ingest_batch       bigint           NOT NULL,
    PRIMARY KEY (ts, market, node_id)
$cols$, 'ts', interval '7 days');

SELECT lascopf_create_time_table('topology_events', $cols$
    ts           timestamptz NOT NULL,
    element_type text        NOT NULL CHECK (element_type IN ('branch', 'generator')),
    element_id   text        NOT NULL,
    in_service   boolean     NOT NULL,
    reason       text,
    received_ts  timestamptz NOT NULL,
    ingest_batch bigint      NOT NULL,
    PRIMARY KEY (ts, element_type, element_id)
$cols$, 'ts', interval '30 days');
