"""Migration 017: detector versions number themselves, flagged windows upsert and read back."""

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from data_engineering.contracts.anomaly import AnomalyEvent, AnomalyModel
from data_engineering.storage.anomaly import latest_model, read_events, write_events, write_model

START = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _model(model_id: str) -> AnomalyModel:
    return AnomalyModel(model_id, "hgb", START, START + HOUR, START + HOUR, START + 2 * HOUR, 11,
                        ("v_min_pu", "loading"), {"voltage_sag": {"recall": 0.9}})


def test_each_retrain_is_a_new_version(database):
    with database.transaction() as conn:
        assert write_model(conn, _model("hgb-a")) == 1
        assert write_model(conn, _model("hgb-b")) == 2
        model, version = latest_model(conn, "hgb")
    assert (model, version) == (_model("hgb-b"), 2)


def test_events_upsert_and_read_back_newest_first(database):
    window = [START + timedelta(minutes=m) for m in range(3)]
    events = [AnomalyEvent(w, w + timedelta(minutes=1), "transformer", "xf-p-00001", "hgb-a", "voltage_sag", 0.7)
              for w in window] + [AnomalyEvent(window[0], window[1], "meter", "m-00001", "hgb-a", "meter_tamper", 0.9)]
    with database.transaction() as conn:
        write_model(conn, _model("hgb-a"))
        write_events(conn, events)
        write_events(conn, [AnomalyEvent(window[2], window[2] + timedelta(minutes=1), "transformer", "xf-p-00001",
                                         "hgb-a", "voltage_sag", 0.95)])
    with database.connect() as conn:
        transformers = read_events(conn, START, START + HOUR, "transformer")
        every = read_events(conn, START, START + HOUR)
    assert [e.window_start for e in transformers] == window[::-1]
    assert transformers[0].score == 0.95 and len(every) == 4


def test_an_event_needs_its_model(database):
    with pytest.raises(psycopg.errors.ForeignKeyViolation), database.transaction() as conn:
        write_events(conn, [AnomalyEvent(START, START + HOUR, "meter", "m-1", "missing", "", 1.0)])
