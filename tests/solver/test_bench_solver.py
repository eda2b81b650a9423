"""bench/solver.py's instance grammar (`CASE:T:C[:EMERGENCY[:shed][:MINUTES]]`, `ramps=F` anywhere after C)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.solver import INSTANCES, Instance, label


def test_the_existing_grammar_still_parses() -> None:
    assert Instance.parse("pglib_opf_case2869_pegase:12:all:1.2:shed:5") == Instance(
        "pglib_opf_case2869_pegase", 12, "all", 1.2, shedding=True, interval_minutes=5.0)
    assert Instance.parse("paper5:5:2-3,2-4") == Instance("paper5", 5, "2-3,2-4")


@pytest.mark.parametrize("spec", ["pglib_opf_case118_ieee:24:none:ramps=0.5",
                                  "pglib_opf_case118_ieee:24:none:ramps=0.5:1.0",
                                  "pglib_opf_case118_ieee:24:none:1.0:ramps=0.5"])
def test_ramps_may_come_anywhere_after_the_contingencies(spec: str) -> None:
    assert Instance.parse(spec) == Instance("pglib_opf_case118_ieee", 24, "none", ramp_factor=0.5)


def test_ramps_with_shedding_and_minutes() -> None:
    parsed = Instance.parse("pglib_opf_case300_ieee:5:all:1.2:shed:ramps=0.2:15")
    assert parsed == Instance("pglib_opf_case300_ieee", 5, "all", 1.2, shedding=True, interval_minutes=15.0,
                              ramp_factor=0.2)
    with pytest.raises(ValueError, match="given twice"):
        Instance.parse("paper5:5:none:ramps=0.5:ramps=0.2")
    with pytest.raises(ValueError, match="unknown"):
        Instance.parse("paper5:5:none:ramp=0.5")
    capped = Instance.parse("pglib_opf_case2869_pegase:12:all:1.2:shed:5:iterations=20")
    assert capped == Instance("pglib_opf_case2869_pegase", 12, "all", 1.2, shedding=True, interval_minutes=5.0,
                              admm_iterations=20)
    blocks = Instance.parse("pglib_opf_case118_ieee:24:none:block=12:ramps=0.2")
    assert blocks == Instance("pglib_opf_case118_ieee", 24, "none", ramp_factor=0.2, admm_block=12)


def test_the_instance_loads_with_its_ramps_and_the_table_says_so() -> None:
    plain = Instance("paper5", 5, "none").load()
    tight = Instance.parse("paper5:5:none:ramps=0.5").load()
    np.testing.assert_allclose(tight.generators.ramp_up_mw, 0.5 * plain.generators.ramp_up_mw)
    np.testing.assert_allclose(tight.generators.ramp_down_mw, 0.5 * plain.generators.ramp_down_mw)
    assert not tight.contingencies
    assert label({"contingencies": 0, "emergency": 1.0, "ramp_factor": 0.5}) == "0 ramps ×0.5"
    assert label({"contingencies": 322, "emergency": 1.2, "ramp_factor": 1.0}) == "322 @1.2x"
    blocks = {"contingencies": 0, "emergency": 1.0, "ramp_factor": 0.2, "interval_block": 12}
    assert label(blocks) == "0 ramps ×0.2 block 12"


def test_the_bench_measures_both_ramp_factors_on_both_cases() -> None:
    ramped = {(i.case, i.intervals, i.contingencies, i.ramp_factor) for i in INSTANCES if i.ramp_factor != 1}
    assert ramped == {(c, 24, "none", f) for c in ("pglib_opf_case118_ieee", "pglib_opf_case300_ieee")
                      for f in (0.5, 0.2)}


def test_a_row_runs_each_method_in_a_process_of_its_own_over_interleaved_rounds() -> None:
    from bench.solver import run

    row = run(Instance("paper5", 5, "2-3,2-4"), workers=2, repeat=2)
    assert row["runs"] == 2 and row["centralized_status"] == row["admm_status"] == "optimal"
    assert abs(row["gap"]) < 1e-4 and row["admm_workers_iterations"] == row["admm_iterations"]
    assert 0 <= row["dispatch_apart_mw"] < 50
    peaks = row["peak_rss_gb_by_method"]
    assert set(peaks) == {"centralized", "admm", "admm_workers"} and min(peaks.values()) > 0
    assert row["peak_rss_gb"] == max(peaks.values())
