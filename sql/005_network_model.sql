-- The versioned transmission network model the case builder reads: one row per version (content
-- addressed, so registering the same network twice is a no-op), its branches and generating units.
-- The model in force at time t is the latest version with valid_from <= t, with the status changes
-- in topology_events up to t applied on top.

CREATE TABLE network_model_versions (
    version_id   serial PRIMARY KEY,
    name         text        NOT NULL,
    content_hash text        NOT NULL UNIQUE,
    valid_from   timestamptz NOT NULL,
    base_mva     double precision NOT NULL CHECK (base_mva > 0),
    ref_bus_id   integer     NOT NULL REFERENCES network_buses (bus_id),
    source       text        NOT NULL,
    notes        text[]      NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX network_model_versions_valid_idx ON network_model_versions (valid_from);

CREATE TABLE network_branches (
    version_id        integer NOT NULL REFERENCES network_model_versions (version_id) ON DELETE CASCADE,
    branch_id         text    NOT NULL,
    from_bus_id       integer NOT NULL REFERENCES network_buses (bus_id),
    to_bus_id         integer NOT NULL REFERENCES network_buses (bus_id),
    x_pu              double precision NOT NULL CHECK (x_pu <> 0),
    rate_a_mw         double precision CHECK (rate_a_mw > 0),   -- NULL: unrated
    rate_c_mw         double precision CHECK (rate_c_mw > 0),   -- emergency rating; NULL: unrated
    in_service        boolean NOT NULL DEFAULT true,
    PRIMARY KEY (version_id, branch_id)
);

CREATE TABLE network_generators (
    version_id          integer NOT NULL REFERENCES network_model_versions (version_id) ON DELETE CASCADE,
    gen_id              text    NOT NULL,
    bus_id              integer NOT NULL REFERENCES network_buses (bus_id),
    pmin_mw             double precision NOT NULL,
    pmax_mw             double precision NOT NULL,
    cost_c2_usd_mw2h    double precision NOT NULL DEFAULT 0 CHECK (cost_c2_usd_mw2h >= 0),
    cost_c1_usd_mwh     double precision NOT NULL DEFAULT 0,
    cost_c0_usd_h       double precision NOT NULL DEFAULT 0,
    ramp_up_mw_per_min   double precision NOT NULL CHECK (ramp_up_mw_per_min > 0),
    ramp_down_mw_per_min double precision NOT NULL CHECK (ramp_down_mw_per_min > 0),
    in_service          boolean NOT NULL DEFAULT true,
    PRIMARY KEY (version_id, gen_id),
    CHECK (pmin_mw <= pmax_mw)
);
