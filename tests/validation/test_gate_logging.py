"""A failing gate's log is its own line naming what failed, not Great Expectations' narration:
GX's loggers are quieted before it is first imported (checked in a fresh interpreter, as a task's)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import logging, sys, uuid
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(name)s %(levelname)s %(message)s")
import pandas as pd
from data_engineering.validation.gate import run_gate
from data_engineering.validation.gx import load_gx
from data_engineering.validation.suites import SuiteSpec
e = load_gx().expectations
spec = SuiteSpec("meters", [e.ExpectColumnValuesToBeBetween(column="vm_pu", min_value=0.9, max_value=1.1)])
print("success:", run_gate([(spec, pd.DataFrame({"vm_pu": [1.0, 1.7, 1.01]}))], uuid.uuid4()).success)
"""


def test_a_failing_gate_logs_a_few_lines_that_name_the_failure() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    assert out.returncode == 0, out.stderr
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    assert lines[-1] == "success: False"
    assert len(lines) <= 3, lines[:20]
    assert any("FAILED" in line and "meters: expect_column_values_to_be_between on vm_pu: 1 of 3 rows" in line
               for line in lines)
