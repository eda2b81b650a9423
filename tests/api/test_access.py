"""Every route checks credentials and roles: 401 without valid ones, 403 with too small a role."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest

from data_engineering.api.app import create_app
from data_engineering.api.security import Role, mint_token
from data_engineering.settings import Settings
from tests.api.conftest import JWT_SECRET, Api, now


def protected_routes(api: Api) -> list[tuple[str, str, Role, dict]]:
    e, pole = api.execution_id, api.pole_ids[0]
    event = {"event_start": now().isoformat(), "event_end": (now() + timedelta(hours=1)).isoformat()}
    return [
        ("GET", f"/api/v1/results/{e}", Role.viewer, {}),
        ("GET", f"/api/v1/results/{e}/dispatch", Role.viewer, {}),
        ("GET", f"/api/v1/results/{e}/lmps?format=csv", Role.viewer, {}),
        ("GET", f"/api/v1/poles/{pole}/summary", Role.viewer, {}),
        ("GET", "/api/v1/anomalies", Role.viewer, {}),
        ("GET", "/api/v1/grid-health", Role.viewer, {}),
        ("GET", "/api/v1/anomaly-events", Role.analyst, {}),
        ("GET", "/api/v1/topology", Role.viewer, {}),
        ("POST", "/api/v1/dr/compute", Role.analyst, {"json": event}),
        ("POST", "/api/v1/execute", Role.operator, {"json": {"reason": "access test"}}),
        ("POST", "/api/v1/stream-tickets", Role.viewer, {}),
    ]


def test_every_protected_route_needs_credentials_and_its_role(api: Api) -> None:
    for method, url, needed, kwargs in protected_routes(api):
        assert api.client.request(method, url, **kwargs).status_code == 401, url
        bad = api.client.request(method, url, headers={"X-API-Key": "lk_not-a-key"}, **kwargs)
        assert bad.status_code == 401, url
        for role in Role:
            got = api.client.request(method, url, headers=api.headers(role.name), **kwargs).status_code
            if role < needed:
                assert got == 403, (url, role)
            else:
                assert got in (200, 201, 202), (url, role, got)


def test_every_route_is_covered_by_the_access_test(api: Api) -> None:
    open_paths = {"/health", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc",
                  "/api/v1/poles/{pole_id}/live"}  # the WebSocket checks its own (test_stream)
    tested = {"/api/v1/results/{execution_id}", "/api/v1/results/{execution_id}/{table}",
              "/api/v1/poles/{pole_id}/summary", "/api/v1/anomalies", "/api/v1/grid-health", "/api/v1/topology",
              "/api/v1/dr/compute", "/api/v1/execute", "/api/v1/stream-tickets", "/api/v1/anomaly-events"}
    assert {r.path for r in api.client.app.routes} == open_paths | tested


def test_jwt_roles_expiry_and_signature(api: Api) -> None:
    url = f"/api/v1/results/{api.execution_id}"
    viewer = mint_token(JWT_SECRET, "alice", Role.viewer, timedelta(minutes=5))
    assert api.client.get(url, headers={"Authorization": f"Bearer {viewer}"}).status_code == 200
    execute = api.client.post("/api/v1/execute", json={}, headers={"Authorization": f"Bearer {viewer}"})
    assert execute.status_code == 403 and "operator" in execute.json()["detail"]
    expired = mint_token(JWT_SECRET, "alice", Role.admin, timedelta(seconds=-1))
    assert api.client.get(url, headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    forged = mint_token("another-secret-" + "y" * 32, "mallory", Role.admin, timedelta(minutes=5))
    assert api.client.get(url, headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    unsigned = jwt.encode({"sub": "mallory", "role": "admin", "iss": "lascopf", "exp": 9999999999}, key=None,
                          algorithm="none")
    assert api.client.get(url, headers={"Authorization": f"Bearer {unsigned}"}).status_code == 401


def answers(api: Api, headers: dict, status: int, within_s: float = 10.0) -> bool:
    """Whether /topology answers `status` within the time (the key cache refreshes every 0.1 s here)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if api.client.get("/api/v1/topology", headers=headers).status_code == status:
            return True
        time.sleep(0.05)
    return False


def test_a_new_key_works_and_a_revoked_key_stops_working_within_seconds(api: Api) -> None:
    from data_engineering.api.keys import create_api_key, revoke_api_key

    with api.db.transaction() as conn:
        key_id, key = create_api_key(conn, "short-lived", Role.viewer)
    assert answers(api, {"X-API-Key": key}, 200)
    with api.db.transaction() as conn:
        assert revoke_api_key(conn, key_id)
    assert answers(api, {"X-API-Key": key}, 401)
    assert api.client.get("/api/v1/topology", headers={"X-API-Key": key}).status_code == 401


@pytest.mark.parametrize("role", [["admin"], {"admin": True}, 4, None, "root", "Admin"])
def test_a_token_whose_role_claim_is_not_one_of_the_four_roles_is_a_401(api: Api, role: object) -> None:
    """A list in the role claim was a 500 (Role[...] of an unhashable)."""
    token = jwt.encode({"sub": "mallory", "role": role, "iss": "lascopf", "exp": 9999999999}, JWT_SECRET,
                       algorithm="HS256")
    response = api.client.get("/api/v1/topology", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "role" in response.json()["detail"]


def test_tokens_are_refused_when_no_secret_is_set(api: Api) -> None:
    app = create_app(Settings(_env_file=None, environment="test"), api.db.url, runs_launcher=api.runs)
    from fastapi.testclient import TestClient

    token = mint_token(JWT_SECRET, "alice", Role.admin, timedelta(minutes=5))
    with TestClient(app) as client:
        response = client.get("/api/v1/topology", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "not enabled" in response.json()["detail"]


def test_production_refuses_a_weak_jwt_secret() -> None:
    with pytest.raises(ValueError, match="API_JWT_SECRET"):
        Settings(_env_file=None, environment="production", api_jwt_secret="change-me")
