-- Fault detectors (issue 19): each trained version with its training and held-out windows and its
-- held-out metrics per fault kind, and the windows they flag. A version is never rewritten: a
-- retrain adds one, so the metrics of what scored an event stay next to it. `artifact` holds the
-- fitted model (pickled by the pipeline that wrote it, read back only by it) where events are
-- scored with it; the baselines' rows carry metrics only.

CREATE TABLE anomaly_models (
    model_id       text        PRIMARY KEY,
    detector       text        NOT NULL CHECK (detector IN ('rules', 'iforest', 'hgb')),
    version        integer     NOT NULL CHECK (version > 0),
    train_start    timestamptz NOT NULL,
    train_end      timestamptz NOT NULL CHECK (train_end > train_start),
    test_start     timestamptz NOT NULL,
    test_end       timestamptz NOT NULL CHECK (test_end > test_start AND test_start >= train_end),
    seed           integer     NOT NULL,
    features       text[]      NOT NULL,
    metrics        jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metrics) = 'object'),
    artifact       bytea,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (detector, version)
);

-- One row per (window, target, model, kind) flagged: `score` is the classifier's probability or
-- the forest's anomaly score; the forest does not say which fault, so its `predicted_kind` is ''.
CREATE TABLE anomaly_events (
    window_start   timestamptz      NOT NULL,
    window_end     timestamptz      NOT NULL CHECK (window_end > window_start),
    target_kind    text             NOT NULL CHECK (target_kind IN ('transformer', 'meter')),
    target_id      text             NOT NULL,
    model_id       text             NOT NULL REFERENCES anomaly_models (model_id) ON DELETE CASCADE,
    predicted_kind text             NOT NULL DEFAULT '',  -- '' for the forest
    score          double precision NOT NULL,
    is_simulation  boolean          NOT NULL,
    PRIMARY KEY (window_start, target_kind, target_id, model_id, predicted_kind)
);
CREATE INDEX anomaly_events_target_idx ON anomaly_events (target_kind, target_id, window_start);
