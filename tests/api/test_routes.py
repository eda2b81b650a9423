"""What the routes return, checked against the database behind them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from tests.analytics.conftest import START
from tests.api.conftest import SAG, Api

WINDOW = {"start": START.isoformat(), "end": (START + timedelta(hours=1)).isoformat()}


def rows(api: Api, query: str, params: tuple = ()) -> list[tuple]:
    with api.db.connect() as conn:
        return conn.execute(query, params).fetchall()


def test_health_and_metrics(api: Api) -> None:
    assert api.client.get("/health").json() == {"status": "ok", "database": True, "timescaledb": False}
    api.client.get("/api/v1/topology", headers=api.headers("viewer"))
    text = api.client.get("/metrics").text
    assert 'lascopf_api_requests_total{method="GET",route="/api/v1/topology",status="200"}' in text


def test_results_and_every_table_as_json_and_csv(api: Api) -> None:
    h = api.headers("viewer")
    e = api.execution_id
    summary = api.client.get(f"/api/v1/results/{e}", headers=h).json()
    assert summary["status"] == "optimal" and summary["case_name"] == "pglib_opf_case5_pjm"
    for table, sql_table in (("dispatch", "lascopf_dispatch"), ("lmps", "lascopf_lmps"), ("flows", "lascopf_flows"),
                             ("binding", "lascopf_binding_constraints"), ("convergence", "lascopf_convergence"),
                             ("unserved", "lascopf_unserved")):
        (n,) = rows(api, f"SELECT count(*) FROM {sql_table} WHERE execution_id = %s", (e,))[0]  # noqa: S608
        body = api.client.get(f"/api/v1/results/{e}/{table}", headers=h).json()
        assert body["count"] == len(body["data"]) == n, table
        exported = api.client.get(f"/api/v1/results/{e}/{table}?format=csv", headers=h)
        assert exported.headers["content-type"].startswith("text/csv")
        parsed = list(csv.reader(io.StringIO(exported.text)))
        assert len(parsed) == n + 1, table
        if n:
            assert set(parsed[0]) == set(body["data"][0])
    paged = api.client.get(f"/api/v1/results/{e}/dispatch?limit=2&offset=1", headers=h).json()
    full = api.client.get(f"/api/v1/results/{e}/dispatch", headers=h).json()
    assert paged["data"] == full["data"][1:3]


def test_lmps_are_served_with_their_energy_and_congestion_components(api: Api) -> None:
    h = api.headers("viewer")
    lmps = api.client.get(f"/api/v1/results/{api.execution_id}/lmps", headers=h).json()["data"]
    assert lmps
    for row in lmps:
        total = row["energy_usd_mwh"] + row["congestion_usd_mwh"]
        assert total == pytest.approx(row["lmp_usd_mwh"], abs=2e-6)  # JSON keeps 6 decimals
    by_interval = {}
    for row in lmps:
        by_interval.setdefault(row["interval"], set()).add(round(row["energy_usd_mwh"], 9))
    assert all(len(v) == 1 for v in by_interval.values())  # one energy price per interval
    summary = api.client.get(f"/api/v1/results/{api.execution_id}", headers=h).json()
    assert summary["mode"] == "preventive"


def test_unknown_results_are_404(api: Api) -> None:
    h = api.headers("viewer")
    assert api.client.get("/api/v1/results/00000000-0000-0000-0000-000000000000", headers=h).status_code == 404
    assert api.client.get("/api/v1/results/not-a-uuid", headers=h).status_code == 422
    assert api.client.get(f"/api/v1/results/{api.execution_id}/secrets", headers=h).status_code == 422


def test_execute_queues_a_run_whose_status_is_readable(api: Api) -> None:
    response = api.client.post("/api/v1/execute", json={"window_end": WINDOW["end"], "reason": "test"},
                               headers=api.headers("operator"))
    assert response.status_code == 202
    body = response.json()
    order = api.runs.orders[-1]
    assert body["execution_id"] == str(order.execution_id) and order.reason == "test"
    status = api.client.get(body["results_url"], headers=api.headers("viewer"))
    assert status.status_code == 202 and status.json()["status"] == "queued"
    (by,) = rows(api, "SELECT requested_by FROM lascopf_run_requests WHERE request_id = %s", (order.execution_id,))[0]
    assert by == "key:test-operator"


def test_pole_summary_matches_the_readings(api: Api) -> None:
    pole = SAG.pole_id
    body = api.client.get(f"/api/v1/poles/{pole}/summary", params=WINDOW, headers=api.headers("viewer")).json()
    (n, vmin, meters) = rows(api, "SELECT count(*), min(voltage_v), count(DISTINCT meter_id) FROM ami_readings"
                                  " WHERE pole_id = %s", (pole,))[0]
    assert (body["readings"], body["voltage_min_v"], body["meters"]) == (n, vmin, meters)
    assert body["minutes"] == 30 and body["sag_events"] == meters
    assert body["energy_kwh"] == pytest.approx(body["mean_kw"] * 30 / 60)
    unknown = api.client.get("/api/v1/poles/p-99999/summary", headers=api.headers("viewer"))
    assert unknown.status_code == 404


def test_anomalies_are_the_injected_sag(api: Api) -> None:
    body = api.client.get("/api/v1/anomalies", params=WINDOW, headers=api.headers("viewer")).json()
    assert body["count"] == 4 and {e["pole_id"] for e in body["data"]} == {SAG.pole_id}
    assert {e["duration_s"] for e in body["data"]} == {SAG.duration_s}
    assert {e["severity"] for e in body["data"]} == {"below_range_b"}
    none = api.client.get("/api/v1/anomalies", params=WINDOW | {"severity": "interruption"},
                          headers=api.headers("viewer")).json()
    assert none == {"data": [], "count": 0}
    backwards = api.client.get("/api/v1/anomalies", params={"start": WINDOW["end"], "end": WINDOW["start"]},
                               headers=api.headers("viewer"))
    assert backwards.status_code == 422


def test_grid_health_and_topology(api: Api) -> None:
    body = api.client.get("/api/v1/grid-health", params=WINDOW | {"level": "feeder"},
                          headers=api.headers("viewer")).json()
    assert body["count"] >= 1 and all(r["completeness_pct"] == pytest.approx(100.0) for r in body["data"])
    topo = api.client.get("/api/v1/topology", headers=api.headers("viewer")).json()
    assert len(topo["feeders"]) >= 1 and sum(f["meters"] for f in topo["feeders"]) == 16


def test_dr_compute_without_history_returns_no_poles(api: Api) -> None:
    event = {"event_start": (START + timedelta(minutes=10)).isoformat(),
             "event_end": (START + timedelta(minutes=20)).isoformat(), "pole_ids": [SAG.pole_id]}
    body = api.client.post("/api/v1/dr/compute", json=event, headers=api.headers("analyst")).json()
    assert body["count"] == 0 and body["shed_kwh"] == 0  # no prior like days in this fixture (see tests/analytics)
    bad = api.client.post("/api/v1/dr/compute", json=event | {"x_days": 9, "y_days": 3},
                          headers=api.headers("analyst"))
    assert bad.status_code == 422


@pytest.mark.parametrize("params", [{"end": "0001-01-01T00:00:00Z"}, {"start": "9999-12-31T23:00:00Z"}])
def test_windows_at_the_ends_of_the_calendar_are_refused(api: Api, params: dict) -> None:
    """Found by schemathesis: a default start 24 h before year 1 overflowed into a 500."""
    for url in ("/api/v1/anomalies", "/api/v1/grid-health", f"/api/v1/poles/{SAG.pole_id}/summary"):
        assert api.client.get(url, params=params, headers=api.headers("viewer")).status_code == 422, url
    event = {"event_start": "0001-01-01T01:00:00Z", "event_end": "0001-01-01T02:00:00Z"}
    assert api.client.post("/api/v1/dr/compute", json=event, headers=api.headers("analyst")).status_code == 422
