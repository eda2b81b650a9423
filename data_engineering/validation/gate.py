"""Run expectation suites on in-memory batches as one quality gate, and keep what GX reports: one
row per expectation and the Data Docs HTML (built by GX in a scratch project, then handed back as
files for the lake)."""

from __future__ import annotations

import logging
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from data_engineering.validation.gx import load_gx
from data_engineering.validation.suites import SuiteSpec

log = logging.getLogger(__name__)
DOCS_SUFFIXES = (".html", ".css")


@dataclass(frozen=True)
class ExpectationOutcome:
    suite: str
    expectation: str
    column: str | None
    success: bool
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    detail: dict

    def describe(self) -> str:
        where = f" on {self.column}" if self.column else ""
        share = f": {self.unexpected_count} of {self.element_count} rows ({self.unexpected_percent:.2f} %)" \
            if self.unexpected_count is not None and self.unexpected_percent is not None else ""
        return f"{self.suite}: {self.expectation}{where}{share}"


@dataclass
class GateResult:
    quality_run_id: uuid.UUID
    success: bool
    outcomes: list[ExpectationOutcome]
    docs: dict[str, bytes] = field(default_factory=dict)  # relative path → bytes

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    def reason(self) -> str:
        return "; ".join(o.describe() for o in self.failures) or "all expectations met"


class QualityGateFailed(ValueError):
    """A batch failed its expectations; the result is stored before this is raised. Bad data, so a
    `ValueError`: pipelines do not retry it."""

    def __init__(self, result: GateResult, docs_key: str | None) -> None:
        self.result = result
        where = f" (Data Docs: {docs_key})" if docs_key else ""
        super().__init__(f"quality gate {result.quality_run_id} failed: {result.reason()}{where}")


def _outcome(suite: str, r) -> ExpectationOutcome:  # noqa: ANN001 - GX's ExpectationValidationResult
    config = r.expectation_config
    result = r.result or {}
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    detail = {"kwargs": kwargs, "observed_value": result.get("observed_value"),
              "partial_unexpected_list": result.get("partial_unexpected_list", [])[:10]}
    if r.exception_info and r.exception_info.get("raised_exception"):
        detail["exception"] = r.exception_info.get("exception_message")
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs] + kwargs.get("column_list", [])
    return ExpectationOutcome(
        suite, config.type, ",".join(columns) or None,
        bool(r.success), result.get("element_count"), result.get("unexpected_count"),
        result.get("unexpected_percent"), detail)


def run_gate(batches: list[tuple[SuiteSpec, pd.DataFrame]], quality_run_id: uuid.UUID | None = None) -> GateResult:
    """Validate each `(suite, frame)`; GX progress bars off, Data Docs built."""
    gx = load_gx()
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.data_context.types.base import ProgressBarsConfig

    run_id = quality_run_id or uuid.uuid4()
    outcomes: list[ExpectationOutcome] = []
    with tempfile.TemporaryDirectory() as tmp:
        context = gx.get_context(mode="file", project_root_dir=tmp)
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = context.data_sources.add_pandas("batches")
        success = True
        for spec, frame in batches:
            name = spec.name
            suite = context.suites.add(gx.ExpectationSuite(name=name))
            for expectation in spec.expectations:
                suite.add_expectation(expectation)
            definition = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("batch")
            validation = context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=definition, suite=suite))
            checkpoint = context.checkpoints.add(gx.Checkpoint(
                name=f"{name}_gate", validation_definitions=[validation],
                actions=[UpdateDataDocsAction(name="docs")], result_format="SUMMARY"))
            result = checkpoint.run(batch_parameters={"dataframe": frame})
            success &= bool(result.success)
            for run in result.run_results.values():
                outcomes.extend(_outcome(name, r) for r in run.results)
        site = Path(tmp) / "gx" / "uncommitted" / "data_docs" / "local_site"
        docs = {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*")
                if p.is_file() and p.suffix in DOCS_SUFFIXES}
    gate = GateResult(run_id, success, outcomes, docs)
    log.info("quality gate %s: %s, %d expectations, %s", run_id, "passed" if success else "FAILED",
             len(outcomes), gate.reason())
    return gate
