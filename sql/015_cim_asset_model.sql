-- The asset model as a CIM-shaped digital twin (issue 19): nodes typed by a DTDL interface (DTMI)
-- with their properties, and named, directed relationships (feedsTo/fedBy, mountedOn, endDevices,
-- usagePoint). The asset tables and meter_topology are left as they are: the twin sits beside them,
-- written with the asset model by register_simulated_grid or loaded by `lascopf twin import`.

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
