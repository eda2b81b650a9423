"""Prometheus config and alert rules: promtool validates both and runs the alert unit tests
(monitoring/alerts_test.yml); every metric an alert uses is one the platform exports. That every scrape
target is a compose service on a port it listens on is checked with the stack, in tests/deploy."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.grafana.test_dashboards import exported_metrics

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian package prometheus)")


def promtool(*args: str, cwd: Path = MONITORING) -> str:
    done = subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@needs_promtool
def test_rules_are_valid_and_their_unit_tests_pass() -> None:
    assert "SUCCESS: 10 rules found" in promtool("check", "rules", "alerts.yml")
    assert "SUCCESS" in promtool("test", "rules", "alerts_test.yml")


@needs_promtool
def test_config_is_valid(tmp_path: Path) -> None:
    config = (MONITORING / "prometheus.yml").read_text().replace("/etc/prometheus/alerts.yml", "alerts.yml")
    (tmp_path / "prometheus.yml").write_text(config)
    shutil.copy(MONITORING / "alerts.yml", tmp_path / "alerts.yml")
    promtool("check", "config", "prometheus.yml", cwd=tmp_path)


def test_every_alert_is_unit_tested_and_uses_exported_metrics() -> None:
    rules = [r for g in yaml.safe_load((MONITORING / "alerts.yml").read_text())["groups"] for r in g["rules"]]
    tested = {t["alertname"] for case in yaml.safe_load((MONITORING / "alerts_test.yml").read_text())["tests"]
              for t in case["alert_rule_test"]}
    assert {r["alert"] for r in rules} == tested
    known = exported_metrics() | {"push_time_seconds"}
    for rule in rules:
        selectors = re.sub(r"\{[^}]*\}", "", rule["expr"])  # label values are not metric names
        used = set(re.findall(r"\b(?:lascopf_[a-z_]+|push_time_seconds)\b", selectors))
        assert used and used <= known, (rule["alert"], used - known)

