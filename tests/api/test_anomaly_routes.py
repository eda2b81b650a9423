"""Anomaly events as JSON and Excel (analyst and above), and dispatch results as Excel."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from data_engineering.api.excel import XLSX
from data_engineering.contracts.anomaly import AnomalyEvent, AnomalyModel
from data_engineering.storage.anomaly import write_events, write_model
from tests.analytics.conftest import START
from tests.api.conftest import Api

MINUTE = timedelta(minutes=1)
WINDOW = {"start": START.isoformat(), "end": (START + timedelta(hours=1)).isoformat()}


def _sheet(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(values_only=True))


def _store_events(api: Api) -> None:
    model = AnomalyModel("hgb-routes", "hgb", START - timedelta(hours=3), START - timedelta(hours=1),
                         START - timedelta(hours=1), START, 3, ("v_min_pu",), {})
    events = [AnomalyEvent(START + k * MINUTE, START + (k + 1) * MINUTE, kind, target, "hgb-routes", fault, p)
              for k, kind, target, fault, p in ((0, "transformer", "xf-p-00001", "phase_loss", 0.98),
                                                (1, "meter", "m-000003", "meter_tamper", 0.81),
                                                (2, "transformer", "xf-p-00002", "voltage_sag", 0.64))]
    with api.db.transaction() as conn:
        conn.execute("DELETE FROM anomaly_models WHERE model_id = %s", ("hgb-routes",))
        write_model(conn, model)
        write_events(conn, events)


def test_anomaly_events_filtered_newest_first_and_as_excel(api: Api) -> None:
    _store_events(api)
    h = api.headers("analyst")
    body = api.client.get("/api/v1/anomaly-events", params=WINDOW | {"target_kind": "transformer"}, headers=h).json()
    assert body["count"] == 2
    assert [(r["target_id"], r["predicted_kind"], r["detector"], r["version"]) for r in body["data"]] == [
        ("xf-p-00002", "voltage_sag", "hgb", 1), ("xf-p-00001", "phase_loss", "hgb", 1)]
    tamper = api.client.get("/api/v1/anomaly-events", params=WINDOW | {"kind": "meter_tamper"}, headers=h).json()
    assert [r["target_id"] for r in tamper["data"]] == ["m-000003"]
    exported = api.client.get("/api/v1/anomaly-events", params=WINDOW | {"format": "xlsx"}, headers=h)
    assert exported.headers["content-type"] == XLSX
    sheet = _sheet(exported.content)
    assert sheet[0][:4] == ("window_start", "window_end", "target_kind", "target_id")
    assert [r[3] for r in sheet[1:]] == ["xf-p-00002", "m-000003", "xf-p-00001"]
    assert sheet[1][0] == (START + 2 * MINUTE).replace(tzinfo=None)  # UTC, as the header row's doc says


def test_dispatch_results_as_excel_match_the_json(api: Api) -> None:
    h, e = api.headers("viewer"), api.execution_id
    as_json = api.client.get(f"/api/v1/results/{e}/dispatch", headers=h).json()["data"]
    exported = api.client.get(f"/api/v1/results/{e}/dispatch?format=xlsx", headers=h)
    assert exported.status_code == 200 and exported.headers["content-type"] == XLSX
    assert "dispatch-" in exported.headers["content-disposition"]
    sheet = _sheet(exported.content)
    assert len(sheet) == len(as_json) + 1 and "p_mw" in sheet[0]
