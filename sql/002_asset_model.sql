-- The asset model that ties distribution telemetry to the transmission network:
-- meter → pole (with its gateway) → feeder → network bus.

CREATE TABLE network_buses (
    bus_id      integer PRIMARY KEY,
    name        text,
    base_kv     double precision CHECK (base_kv > 0),
    zone        text
);

CREATE TABLE feeders (
    feeder_id   text PRIMARY KEY,
    bus_id      integer NOT NULL REFERENCES network_buses (bus_id),
    name        text
);

CREATE TABLE poles (
    pole_id         text PRIMARY KEY,
    feeder_id       text NOT NULL REFERENCES feeders (feeder_id),
    gateway_id      text NOT NULL,
    network_profile text NOT NULL CHECK (network_profile IN ('wired', '5g', 'lte_m', 'satellite')),
    lat_deg         double precision CHECK (lat_deg BETWEEN -90 AND 90),
    lon_deg         double precision CHECK (lon_deg BETWEEN -180 AND 180)
);
CREATE INDEX poles_feeder_idx ON poles (feeder_id);

CREATE TABLE meters (
    meter_id          text PRIMARY KEY,
    pole_id           text NOT NULL REFERENCES poles (pole_id),
    customer_class    text NOT NULL CHECK (customer_class IN ('residential', 'commercial', 'industrial')),
    nominal_voltage_v double precision NOT NULL CHECK (nominal_voltage_v > 0),
    mean_load_kw      double precision CHECK (mean_load_kw >= 0)
);
CREATE INDEX meters_pole_idx ON meters (pole_id);

CREATE TABLE weather_stations (
    station_id  text PRIMARY KEY,
    name        text,
    lat_deg     double precision CHECK (lat_deg BETWEEN -90 AND 90),
    lon_deg     double precision CHECK (lon_deg BETWEEN -180 AND 180)
);

CREATE VIEW meter_topology AS
SELECT m.meter_id, m.customer_class, m.nominal_voltage_v, p.pole_id, p.gateway_id, p.network_profile,
       f.feeder_id, b.bus_id
FROM meters m
JOIN poles p USING (pole_id)
JOIN feeders f USING (feeder_id)
JOIN network_buses b USING (bus_id);
