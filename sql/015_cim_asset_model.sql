-- The asset model as a CIM-shaped digital twin (issue 19): nodes typed by a DTDL interface (DTMI)
-- with their properties, and named, directed relationships (feedsTo/fedBy, mountedOn, endDevices,
-- usagePoint). The asset tables and meter_topology are left as they are: the twin sits beside them,
-- written with the asset model by register_simulated_grid or loaded by `lascopf twin import`, and
-- backfilled here from the asset rows a database already holds (ids and DTMIs as in
-- data_engineering/twin/cim.py). What the old tables do not record stays unset until the next
-- write: a residential meter's phase, a transformer's phases and rating.

CREATE TABLE twin_nodes (
    dt_id       text PRIMARY KEY,
    model       text NOT NULL CHECK (model ~ '^dtmi:[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?(?::[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?)*;[1-9][0-9]{0,8}$'),
    properties  jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(properties) = 'object')
);
CREATE INDEX twin_nodes_model_idx ON twin_nodes (model);

CREATE TABLE twin_relationships (
    source_id   text NOT NULL REFERENCES twin_nodes (dt_id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name ~ '^[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?$'),
    target_id   text NOT NULL REFERENCES twin_nodes (dt_id) ON DELETE CASCADE,
    PRIMARY KEY (source_id, name, target_id)
);
CREATE INDEX twin_relationships_target_idx ON twin_relationships (target_id, name);

-- Each meter's phase as the twin records it, beside meter_topology for analyses that need both.
CREATE VIEW meter_phases AS
SELECT r.target_id AS meter_id, u.properties ->> 'phaseCode' AS phase_code, x.dt_id AS transformer_id,
       (x.properties ->> 'ratedKva')::double precision AS transformer_kva
FROM twin_relationships r
JOIN twin_nodes u ON u.dt_id = r.source_id
JOIN twin_relationships f ON f.source_id = u.dt_id AND f.name = 'fedBy'
JOIN twin_nodes x ON x.dt_id = f.target_id
WHERE r.name = 'endDevices';

INSERT INTO twin_nodes (dt_id, model, properties)
SELECT 'sub-' || b.bus_id, 'dtmi:digitaltwins:ngsi_ld:cim:energy:Substation;1',
       jsonb_strip_nulls(jsonb_build_object('name', 'sub-' || b.bus_id, 'busId', b.bus_id, 'baseVoltageKv', b.base_kv))
FROM network_buses b
WHERE EXISTS (SELECT 1 FROM feeders f WHERE f.bus_id = b.bus_id);

INSERT INTO twin_nodes (dt_id, model, properties)
SELECT feeder_id, 'dtmi:powerlascopf:cim:Feeder;1', jsonb_build_object('name', feeder_id) FROM feeders;

INSERT INTO twin_nodes (dt_id, model, properties)
SELECT pole_id, 'dtmi:powerlascopf:cim:Pole;1',
       jsonb_strip_nulls(jsonb_build_object('name', pole_id, 'gatewayId', gateway_id, 'networkProfile', network_profile,
                                            'latitude', lat_deg, 'longitude', lon_deg))
FROM poles;

INSERT INTO twin_nodes (dt_id, model, properties)
SELECT 'xf-' || pole_id, 'dtmi:digitaltwins:ngsi_ld:cim:energy:PowerTransformer;1',
       jsonb_build_object('name', 'xf-' || pole_id)
FROM poles;

INSERT INTO twin_nodes (dt_id, model, properties)
SELECT 'up-' || meter_id, 'dtmi:digitaltwins:ngsi_ld:cim:energy:UsagePoint;1',
       jsonb_strip_nulls(jsonb_build_object(
           'name', 'up-' || meter_id, 'connectionCategory', customer_class, 'nominalServiceVoltage', nominal_voltage_v,
           'meanLoadKw', mean_load_kw,
           'phaseCode', CASE WHEN customer_class <> 'residential' THEN 'ABC' END,
           'phaseCount', CASE WHEN customer_class <> 'residential' THEN 3 END))
FROM meters;

INSERT INTO twin_nodes (dt_id, model, properties)
SELECT meter_id, 'dtmi:digitaltwins:ngsi_ld:cim:energy:Meter;1', jsonb_build_object('name', meter_id) FROM meters;

INSERT INTO twin_relationships (source_id, name, target_id)
SELECT e.source_id, e.name, e.target_id
FROM feeders f
CROSS JOIN LATERAL (VALUES ('sub-' || f.bus_id, 'feedsTo', f.feeder_id),
                           (f.feeder_id, 'fedBy', 'sub-' || f.bus_id)) AS e (source_id, name, target_id)
UNION ALL
SELECT e.source_id, e.name, e.target_id
FROM poles p
CROSS JOIN LATERAL (VALUES (p.feeder_id, 'feedsTo', 'xf-' || p.pole_id),
                           ('xf-' || p.pole_id, 'fedBy', p.feeder_id),
                           ('xf-' || p.pole_id, 'mountedOn', p.pole_id)) AS e (source_id, name, target_id)
UNION ALL
SELECT e.source_id, e.name, e.target_id
FROM meters m
CROSS JOIN LATERAL (VALUES ('xf-' || m.pole_id, 'feedsTo', 'up-' || m.meter_id),
                           ('up-' || m.meter_id, 'fedBy', 'xf-' || m.pole_id),
                           ('up-' || m.meter_id, 'endDevices', m.meter_id),
                           (m.meter_id, 'usagePoint', 'up-' || m.meter_id)) AS e (source_id, name, target_id);
