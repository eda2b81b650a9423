"""Static checks of the compose stack, since no Docker engine runs here: Compose itself validates the
file, and every path, variable, port and service name it refers to is checked against the repository."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ONE_SHOT = {"minio-init", "db-migrate", "airflow-init"}  # run to completion; others depend on that
NO_PORT = {"simulator"}  # a producer: nothing to probe but its own process
AIRFLOW_IMAGES = ("lascopf/airflow:", "lascopf/solver-julia:")


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


SERVICES = compose()["services"]


def env_example() -> dict[str, str]:
    return dict(re.findall(r"^#?\s*([A-Z0-9_]+)=(.*)$", (ROOT / ".env.example").read_text(), re.M))


def listens_on(service: dict) -> set[int]:
    """Ports a service listens on inside the network: `expose`, the container side of `ports`, *_PORT env."""
    ports = {int(p) for p in service.get("expose", [])}
    ports |= {int(str(p).rsplit(":", 1)[-1]) for p in service.get("ports", [])}
    ports |= {int(v) for k, v in (service.get("environment") or {}).items() if k.endswith("_PORT")}
    return ports


def bind_mounts(service: dict) -> list[tuple[str, str]]:
    out = []
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            out.append((source, target))
    return out


@pytest.mark.skipif(shutil.which("docker-compose") is None,
                    reason="docker-compose not installed (Debian package docker-compose; scripts/ensure-tools.sh)")
def test_compose_validates_the_file():
    done = subprocess.run(["docker-compose", "--env-file", str(ROOT / ".env.example"), "-f", str(COMPOSE_FILE),
                           "config", "--quiet"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr


def test_builds_dockerfiles_and_mounted_paths_exist():
    for name, service in SERVICES.items():
        if "build" in service:
            build = service["build"]
            assert (ROOT / build["context"] / build.get("dockerfile", "Dockerfile")).is_file(), name
        for source, _ in bind_mounts(service):
            assert (ROOT / source).exists(), (name, source)


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "Dockerfile.julia"])
def test_what_the_dockerfiles_copy_exists(dockerfile):
    text = (ROOT / dockerfile).read_text()
    copies = re.findall(r"^COPY (?!--from)(.+)$", text, re.M)
    assert copies
    for line in copies:
        *sources, _target = line.split()
        for source in sources:
            assert (ROOT / source).exists(), (dockerfile, source)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert not {s for line in copies for s in line.split()[:-1]} & set(ignored)
    arguments = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, re.M))
    stages = set(re.findall(r"^FROM .+ AS (\w[\w-]*)$", text, re.M))
    for image in re.findall(r"^FROM (\S+)", text, re.M):
        resolved = re.sub(r"\$\{(\w+)\}", lambda m: arguments[m[1]], image)
        assert resolved in stages | {"scratch"} or re.search(r":[\w.-]*\d", resolved), (dockerfile, image)


def test_images_are_pinned_and_built_images_are_versioned():
    for name, service in SERVICES.items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), name
        assert ("build" in service) == image.startswith("lascopf/"), name


def test_every_variable_is_in_env_example_and_no_secret_is_committed():
    needed = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)(?::-[^}]*)?\}", COMPOSE_FILE.read_text()))
    documented = env_example()
    assert needed and needed <= set(documented), needed - set(documented)
    for key, value in documented.items():
        if re.search(r"PASSWORD|SECRET|FERNET", key):
            assert value in ("", "change-me", "change-me-too"), f"{key} in .env.example must be a placeholder"


def test_host_ports_are_unique_and_bound_to_loopback():
    published = [p for s in SERVICES.values() for p in s.get("ports", [])]
    assert all(p.startswith("127.0.0.1:") for p in published), published
    host_ports = [p.split(":")[1] for p in published]
    assert len(host_ports) == len(set(host_ports)), host_ports


def references() -> list[tuple[str, str, int]]:
    """(where, host, port) for every service address the stack's configuration names."""
    found = []
    address = re.compile(r"(?:^|[/@\s,])([a-z][a-z0-9-]*):(\d{2,5})\b")
    for name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            found += [(f"{name} {key}", h, int(p)) for h, p in address.findall(str(value))]
    prometheus = yaml.safe_load((ROOT / "monitoring" / "prometheus.yml").read_text())
    for job in prometheus["scrape_configs"]:
        for target in (t for sc in job["static_configs"] for t in sc["targets"]):
            host, port = target.rsplit(":", 1)
            host = "prometheus" if host == "localhost" else host  # Prometheus scraping itself
            found.append((f"prometheus job {job['job_name']}", host, int(port)))
    for path in sorted((ROOT / "grafana" / "provisioning" / "datasources").glob("*.yml")):
        for source in yaml.safe_load(path.read_text())["datasources"]:
            host, port = re.sub(r"^\w+://", "", source["url"]).split("/")[0].split(":")
            found.append((f"grafana datasource {source['name']}", host, int(port)))
    return found


def test_every_address_names_a_real_service_on_a_port_it_listens_on():
    found = references()
    assert {"timescaledb", "kafka", "minio", "postgres", "redis", "airflow-api-server", "pushgateway", "prometheus",
            "api", "ingest"} <= {host for _, host, _ in found}
    for where, host, port in found:
        if host == "localhost":
            continue
        assert host in SERVICES, (where, host)
        assert port in listens_on(SERVICES[host]), (where, f"{host}:{port}")


def test_dependencies_are_real_services_with_conditions_that_can_be_met():
    for name, service in SERVICES.items():
        for dependency, spec in service.get("depends_on", {}).items():
            assert dependency in SERVICES, (name, dependency)
            condition = spec["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], (name, dependency)
            elif condition == "service_completed_successfully":
                assert dependency in ONE_SHOT, (name, dependency)
            else:
                assert condition == "service_started", (name, dependency)


def test_long_running_services_have_health_checks_and_one_shots_do_not_restart():
    for name, service in SERVICES.items():
        if name in ONE_SHOT:
            assert service.get("restart", "no") == "no", name
        elif name not in NO_PORT:
            assert service.get("healthcheck", {}).get("test"), name


def test_named_volumes_are_declared_and_used():
    declared = set(compose()["volumes"])
    used = {v.split(":")[0] for s in SERVICES.values() for v in s.get("volumes", []) if not v.startswith(".")}
    assert used == declared


def test_airflow_services_point_at_the_mounted_dag_folder():
    airflow = {n: s for n, s in SERVICES.items() if s["image"].startswith(AIRFLOW_IMAGES) and n not in ONE_SHOT}
    assert {"airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-worker",
            "solver-julia"} <= set(airflow)
    dags = {p.name for p in (ROOT / "airflow_dags").glob("*.py")}
    assert {"lascopf_dispatch.py", "lascopf_daily_ingest.py", "ami_analytics.py"} <= dags
    for name, service in airflow.items():
        folder = service["environment"]["AIRFLOW__CORE__DAGS_FOLDER"]
        assert ("./airflow_dags", folder) in bind_mounts(service), name
        assert service["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
    assert SERVICES["solver-julia"]["environment"]["SOLVER_BACKEND"] == "julia"
    assert "julia" in SERVICES["solver-julia"]["command"]


def test_juliacall_and_pythoncall_versions_agree():
    """juliacall only starts with the PythonCall release of its own version."""
    text = (ROOT / "Dockerfile.julia").read_text()
    (juliacall,) = re.findall(r'"juliacall==([\d.]+)"', text)
    (pythoncall,) = re.findall(r'name="PythonCall", version="([\d.]+)"', text)
    assert juliacall == pythoncall


def test_make_env_fills_every_secret(tmp_path):
    target = tmp_path / ".env"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make-env.py"), str(target)], check=True, timeout=30)
    generated = dict(re.findall(r"^([A-Z0-9_]+)=(.*)$", target.read_text(), re.M))
    assert not [key for key, value in generated.items() if "change-me" in value]
    assert len(base64.urlsafe_b64decode(generated["AIRFLOW_FERNET_KEY"])) == 32
    assert len(generated["AIRFLOW_ADMIN_PASSWORD"]) >= 24
    assert generated["POSTGRES_PASSWORD"] != generated["AIRFLOW_DB_PASSWORD"]
    assert set(env_example()) >= set(generated)
    before = target.read_text()
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make-env.py"), str(target)], check=True, timeout=30)
    assert target.read_text() == before  # never overwritten


def test_the_readme_architecture_diagram_shows_every_service():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## The whole stack: docker compose"):readme.index("## The embedded path")]
    diagram = section[section.index("```mermaid"):]
    nodes = set(re.findall(r"\b([a-z][a-z0-9_]*)(?:\[|\(\()", re.sub(r"subgraph .*", "", diagram)))
    assert nodes == {name.replace("-", "_") for name in SERVICES}
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    assert set(re.findall(r"`([a-z0-9-]+)`", "\n".join(rows))) == set(SERVICES)


def test_ingest_waits_for_a_healthy_airflow_when_it_triggers_runs_through_it():
    ingest = SERVICES["ingest"]
    assert ingest["environment"].get("AIRFLOW_API_URL")
    assert ingest["depends_on"]["airflow-api-server"] == {"condition": "service_healthy"}
    assert "/api/v2/monitor/health" in " ".join(SERVICES["airflow-api-server"]["healthcheck"]["test"])
