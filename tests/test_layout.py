"""Static checks of the deployment files (no Docker engine runs here)."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_compose_variable_is_in_env_example():
    text = (ROOT / "docker-compose.yml").read_text()
    needed = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)(?::-[^}]*)?\}", text))
    documented = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert needed and needed <= documented, needed - documented


def test_compose_builds_exist_and_images_are_pinned():
    for name, service in _compose()["services"].items():
        if "build" in service:
            assert (ROOT / service["build"] / "Dockerfile").exists(), name
        assert ":" in service["image"] and not service["image"].endswith(":latest"), name


def test_depends_on_names_real_services_and_prometheus_targets_a_metrics_port():
    services = _compose()["services"]
    for name, service in services.items():
        assert set(service.get("depends_on", {})) <= set(services), name
    prometheus = yaml.safe_load((ROOT / "monitoring" / "prometheus.yml").read_text())
    for job in prometheus["scrape_configs"]:
        for target in job["static_configs"][0]["targets"]:
            host, port = target.split(":")
            service = services["prometheus" if host == "localhost" else host]
            environment = {str(v) for v in (service.get("environment") or {}).values()}
            published = {p.rsplit(":", 1)[-1] for p in service.get("ports", [])}
            assert port in environment | published, target


def test_migrations_are_numbered_without_gaps():
    versions = [int(p.name[:3]) for p in sorted((ROOT / "sql").glob("*.sql"))]
    assert versions == list(range(1, len(versions) + 1))
