"""The pipeline's case build applies the islanding policy to topology events and contingency lists."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from data_engineering.solver.cases import load_case
from data_engineering.solver.contingencies import IslandingRefused
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.solve import solve_lascopf
from data_engineering.storage.network import NetworkModel
from data_engineering.transformation.case_build import build_case, case_hash


def _inputs(out_of_service: str | None = None) -> tuple[NetworkModel, pd.DataFrame, pd.Series]:
    case = load_case("pglib_opf_case30_ieee", 1)
    live = case.branches.in_service.copy()
    if out_of_service:
        live[case.branches.names.index(out_of_service)] = False
    network = NetworkModel(1, case.name, replace(case, branches=replace(case.branches, in_service=live)),
                           (f"branch {out_of_service}",) if out_of_service else ())
    times = pd.date_range("2026-01-05", periods=2, freq="5min", tz="UTC")
    loads = pd.DataFrame(np.tile(case.load_mw[0], (2, 1)), index=times, columns=case.buses.ids.tolist())
    return network, loads, pd.Series(case.generators.p0_mw, index=list(case.generators.names))


def test_a_topology_event_that_cuts_a_bus_off_stops_the_build_or_is_shed() -> None:
    network, loads, p0 = _inputs("25-26")
    with pytest.raises(IslandingRefused, match="buses 26 are cut off from the reference bus"):
        build_case(network, loads, p0, name="grid", emergency_factor=1.3, contingencies="all")
    case, _ = build_case(network, loads, p0, name="grid", emergency_factor=1.3, contingencies="all",
                         islanding="shed")
    assert any("load unserved: buses 26" in note for note in case.notes)
    result = solve_lascopf(case, SolveOptions(islanding="shed"))
    assert result.ok
    np.testing.assert_allclose(result.unserved_mw["base"][:, case.bus_index(26)], loads[26].to_numpy())


def test_a_named_islanding_outage_in_the_settings_is_refused() -> None:
    network, loads, p0 = _inputs()
    with pytest.raises(IslandingRefused, match="outage 25-26"):
        build_case(network, loads, p0, name="grid", emergency_factor=1.3, contingencies="1-2,25-26")


def test_a_load_band_is_laid_out_by_bus_and_enters_the_hash_only_when_given() -> None:
    network, loads, p0 = _inputs()
    plain, _ = build_case(network, loads, p0, name="grid", emergency_factor=1.3, contingencies="none")
    band = [loads * 0.9, (loads * 1.1)[loads.columns[::-1]]]  # columns in any order: laid out by bus id
    banded, _ = build_case(network, loads, p0, name="grid", emergency_factor=1.3, contingencies="none", band=band)
    assert plain.load_band_mw is None
    np.testing.assert_allclose(banded.load_band_mw, np.stack([plain.load_mw * 0.9, plain.load_mw * 1.1]))
    assert case_hash(plain) == case_hash(replace(banded, load_band_mw=None)) != case_hash(banded)
