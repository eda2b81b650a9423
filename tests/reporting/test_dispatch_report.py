"""The HTML report of a stored execution draws the LMP split and lists load cut off by islanding."""

from __future__ import annotations

import pandas as pd

from data_engineering.reporting.dispatch_report import lmp_components_figure, write_report
from data_engineering.storage.dispatch_summary import execution_frames, execution_summary
from tests.storage.test_results import START, store_islanding_execution


def test_the_report_draws_energy_and_congestion_and_the_unserved_load(database, tmp_path) -> None:  # noqa: ANN001
    execution_id, case, solved = store_islanding_execution(database)
    frames = execution_frames(database, execution_id)
    figure = lmp_components_figure(frames["lmps"])
    energy, congestion = figure.data
    assert list(energy.y) == [round(v, 6) for v in solved.lmp_energy]
    assert congestion.z.shape == (case.buses.n, case.intervals)
    assert abs(congestion.z).max() > 0.1  # case30 at 1.3x emergency ratings is congested
    history = pd.Series([200.0, 210.0], index=pd.date_range(START, periods=2, freq="1h"))
    path = write_report(tmp_path / "r.html", execution_summary(database, execution_id), frames, history, history)
    page = path.read_text()
    assert "LMP = energy + congestion" in page
    assert "Load cut off by islanding outages" in page and "outage 25-26" in page
