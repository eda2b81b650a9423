"""The project's Prometheus scrape config (monitoring/prometheus.yml, written for compose) pointed
at this workstation's loopback ports, with the same alert rules."""

from __future__ import annotations

from pathlib import Path

import yaml

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"


def local_config(targets: dict[str, str]) -> dict:
    """Each job's targets replaced by `targets[job]` (host:port); a job missing there is an error:
    the config and the workstation must name the same services."""
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    config["rule_files"] = [str(MONITORING / "alerts.yml")]
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
    return config


def write_config(path: Path, targets: dict[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(local_config(targets), sort_keys=False))
    return path
