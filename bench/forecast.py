"""Forecast benchmark: the quantile load forecast on SimBench's real-derived profiles, against
persistence and the same time last week, and the cost of a dispatch secured for its spread.

    python bench/forecast.py [--folds 12] [--horizon 12] [--train-days 28] [--stride 2] [--quick]

Backtest: every SimBench load profile of a reported family (households H0, business G0–G6,
agriculture L0–L2 and the measured LV / MV / HV grid aggregates), 15-minute values of 2016. One
rolling-origin fold per month (the 15th, 00:00, or `--folds` spread over the year): the forecaster
is fitted on the `--train-days` before the fold only (January: the 14 days 2016 has), then forecasts
`--horizon` steps (15 min each) from every `--stride`-th origin of the fold's day. The baselines get
a quantile band from their own training errors, so all three are scored as probabilistic forecasts.
Holidays: Germany's. No weather features (SimBench has none for these profiles). Columns: MAPE of
the median, rCRPS (CRPS over the range of the realised values, per profile, then averaged), P10–P90
coverage (0.8 is calibrated), and the model's rCRPS skill against persistence.

Spread-secured dispatch: the simulator drives `pglib_opf_case30_ieee`'s buses from SimBench
meters (`--profiles simbench`), 9 days of 5-minute history before a winter evening and a summer
noon; the forecaster gives P10/P50/P90 bus loads for the next hour (12 × 5 min); the case is solved
(centralized, every non-islanding N-1 outage at 1.2× emergency ratings) for the P50 alone and
secured for the P10–P90 band: the objectives and the cost of that security.

The last line is a JSON object: `mape`, `rcrps`, `rcrps_persistence`, `rcrps_last_week`,
`coverage_p10_p90` over all profiles, per-family figures, and the spread costs."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_engineering.simulation import profiles  # noqa: E402
from data_engineering.transformation.backtest import BacktestRun, run_backtest  # noqa: E402

console = Console(width=200)
STEP = pd.Timedelta(minutes=profiles.STEP_MINUTES)
DAY = int(pd.Timedelta(days=1) / STEP)
METHODS = ("model", "persistence", "last_week")


def fold_starts(index: pd.DatetimeIndex, folds: int, train_rows: int) -> list[int]:
    """Positions of the folds' first rows: the 15th of each month for 12 folds, else evenly spread
    over the part of the year that has `train_rows` before it."""
    if folds == 12:
        return [index.get_loc(pd.Timestamp(2016, month, 15)) for month in range(1, 13)]
    return np.linspace(train_rows, len(index) - DAY - 97, folds).astype(int).tolist()


def merged(runs: list[BacktestRun]) -> BacktestRun:
    methods = [m for m in METHODS if all(m in r.forecasts for r in runs)]
    return BacktestRun(runs[0].quantiles, np.concatenate([r.truth for r in runs]),
                       {m: np.concatenate([r.forecasts[m] for r in runs]) for m in methods}, runs[0].columns,
                       sum(r.folds for r in runs), runs[-1].forecaster)


def backtest_profiles(args: argparse.Namespace) -> tuple[BacktestRun, dict[str, list[str]]]:
    table = profiles.load_profiles()
    families: dict[str, list[str]] = {}
    for column in table.columns:
        family = profiles.family_of(column)
        if family is not None:
            families.setdefault(family, []).append(column)
    data = table[[c for cols in families.values() for c in cols]]
    train = int(args.train_days * DAY)
    runs = []
    with Progress(console=console) as progress:
        starts = fold_starts(data.index, args.folds, train)
        task = progress.add_task(f"backtest: {len(starts)} folds × {data.shape[1]} profiles", total=len(starts))
        for start in starts:
            first = max(0, start - train)  # mid-January has two weeks of 2016 before it
            window = data.iloc[first: start + DAY + args.horizon]
            runs.append(run_backtest(window, args.horizon, STEP, [start - first], DAY, args.stride, "DE"))
            progress.advance(task)
    return merged(runs), families


def spread_costs(quick: bool) -> list[dict]:
    from data_engineering.simulation.engine import SimulationConfig, Simulator
    from data_engineering.simulation.history import scada_history
    from data_engineering.solver.cases import load_case
    from data_engineering.solver.contingencies import select
    from data_engineering.solver.options import SolveOptions
    from data_engineering.solver.spread import spread_cost
    from data_engineering.transformation.bus_load import regular, scada_bus_load, unit_output
    from data_engineering.transformation.forecast import LoadForecaster

    interval = pd.Timedelta(minutes=5)
    rows = []
    moments = [datetime(2026, 1, 14, 18, 0, tzinfo=UTC), datetime(2026, 7, 15, 12, 0, tzinfo=UTC)]
    for at in moments[:1] if quick else moments:
        sim = Simulator(SimulationConfig(start=at, duration_s=60, n_meters=400, profiles="simbench"))
        frame = pd.DataFrame(scada_history(sim, 9))
        frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
        loads = regular(scada_bus_load(frame, interval), sim.grid.bus_ids, interval)
        forecast = LoadForecaster(12, interval, "US").fit(loads).predict(loads)
        p10, p90 = forecast.band
        base = load_case(sim.config.case, 12, interval_minutes=5.0).with_emergency_factor(1.2)
        p0 = unit_output(frame).reindex(list(base.generators.names)).fillna(0.0).to_numpy()
        case = replace(base, load_mw=forecast.median.to_numpy(), load_band_mw=np.stack([p10.to_numpy(),
                                                                                        p90.to_numpy()]),
                       generators=replace(base.generators, p0_mw=np.clip(p0, base.generators.pmin_mw,
                                                                         base.generators.pmax_mw)))
        case, n1 = select(case, "all")
        began = time.perf_counter()
        cost = spread_cost(case, SolveOptions(method="centralized"))
        system = forecast.median.sum(axis=1)
        rows.append({"moment": at.isoformat(), "contingencies": len(case.contingencies),
                     "p50_mw": float(system.mean()),
                     "band_pct": float(100 * (p90.sum(axis=1) - p10.sum(axis=1)).mean() / system.mean()),
                     "p50_status": cost.p50_status, "secured_status": cost.secured_status,
                     "p50_usd": cost.p50_objective, "secured_usd": cost.secured_objective,
                     "cost_usd": cost.difference, "cost_pct": cost.percent,
                     "solve_s": time.perf_counter() - began})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=12)
    parser.add_argument("--horizon", type=int, default=12, help="steps of 15 minutes (at most 96)")
    parser.add_argument("--train-days", type=float, default=28.0)
    parser.add_argument("--stride", type=int, default=2, help="every n-th origin of a fold's day")
    parser.add_argument("--quick", action="store_true", help="3 folds and one spread-cost moment")
    args = parser.parse_args()
    if args.quick:
        args.folds = 3
    began = time.perf_counter()
    run, families = backtest_profiles(args)
    table = Table(title=f"Quantile forecast on SimBench profiles: {run.folds} folds, {run.origins} origins, "
                        f"horizon {args.horizon} × 15 min")
    for column in ("family", "profiles", *[f"{m} {k}" for k in ("MAPE %", "rCRPS", "cover") for m in
                                            ("model", "persist.", "last wk")], "rCRPS skill"):
        table.add_column(column, justify="right")
    figures: dict[str, dict] = {}
    for family, columns in [*families.items(), ("all", None)]:
        scores = run.scores(columns)
        figures[family] = {m: s.as_dict() for m, s in scores.items()}
        cells = [f"{scores[m].mape_pct:.2f}" for m in METHODS] + [f"{scores[m].rcrps:.4f}" for m in METHODS] + [
            f"{scores[m].coverage:.2f}" for m in METHODS]
        skill = 1 - scores["model"].rcrps / scores["persistence"].rcrps
        table.add_row(family, str(len(columns) if columns else run.truth.shape[2]), *cells, f"{skill:.2f}")
    console.print(table)
    costs = spread_costs(args.quick)
    spread = Table(title="Dispatch secured for the forecast's P10–P90 band (pglib_opf_case30_ieee, 12 × 5 min, "
                         "N-1 at 1.2×, SimBench-driven loads)")
    for column in ("moment", "outages", "P50 MW", "band %", "P50-only $", "secured $", "cost $", "cost %", "status"):
        spread.add_column(column, justify="right")
    for c in costs:
        spread.add_row(c["moment"], str(c["contingencies"]), f"{c['p50_mw']:.1f}", f"{c['band_pct']:.1f}",
                       f"{c['p50_usd']:.2f}", f"{c['secured_usd']:.2f}", f"{c['cost_usd']:.2f}", f"{c['cost_pct']:.2f}",
                       f"{c['p50_status']}/{c['secured_status']}")
    console.print(spread)
    total = figures["all"]
    print(json.dumps({"bench": "forecast", "folds": run.folds, "origins": run.origins, "horizon": args.horizon,
                      "mape": total["model"]["mape_pct"], "rcrps": total["model"]["rcrps"],
                      "rcrps_persistence": total["persistence"]["rcrps"],
                      "rcrps_last_week": total["last_week"]["rcrps"],
                      "coverage_p10_p90": total["model"]["coverage"],
                      "families": {f: {m: {k: v[m][k] for k in ("mape_pct", "rcrps", "coverage")} for m in v}
                                   for f, v in figures.items()},
                      "spread": costs, "seconds": time.perf_counter() - began}))


if __name__ == "__main__":
    main()
