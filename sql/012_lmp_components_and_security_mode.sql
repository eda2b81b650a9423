-- Prices that explain themselves, and what the security model did (issue 17).
-- LMP = energy + congestion (lossless DC: no loss component). The energy component is the
-- reference bus's price; the congestion component is the rest, made of the binding limits' shadow
-- prices (lascopf_binding_constraints) times their shift factors. NULL on rows stored before this.
ALTER TABLE lascopf_lmps
    ADD COLUMN energy_usd_mwh     double precision,
    ADD COLUMN congestion_usd_mwh double precision;

-- preventive: one dispatch survives every outage; corrective: each outage has a re-dispatch within
-- corrective ramps of it.
ALTER TABLE lascopf_executions
    ADD COLUMN mode text NOT NULL DEFAULT 'preventive' CHECK (mode IN ('preventive', 'corrective'));

-- Load an outage (or the base topology, scenario 'base') cuts off from the reference bus, when the
-- run was told to solve such outages with that load unserved instead of refusing them.
CREATE TABLE lascopf_unserved (
    execution_id uuid    NOT NULL REFERENCES lascopf_executions (execution_id) ON DELETE CASCADE,
    interval     integer NOT NULL CHECK (interval >= 1),
    ts           timestamptz NOT NULL,
    scenario     text    NOT NULL,                   -- 'base' or the contingency label
    bus_id       integer NOT NULL,
    unserved_mw  double precision NOT NULL CHECK (unserved_mw >= 0),
    PRIMARY KEY (execution_id, interval, scenario, bus_id)
);
