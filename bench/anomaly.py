"""Anomaly-detection benchmark: train on one simulated period, score a later one from another seed
and fleet, whose faults the models never saw; per fault kind and detector (the threshold rules,
IsolationForest, gradient boosting) precision, recall, F1 and median detection delay, recall by
severity third, and scoring throughput.

    python bench/anomaly.py [--meters 300] [--test-meters 240] [--hours 1] [--faults-per-hour 150]

In memory, no database: the simulator's messages go straight into the feature frames. Random
voltage disturbances are off (they are real sags with no label, and would count as false alarms).
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_engineering.analytics.anomaly import dataset, evaluate, rules, simulated  # noqa: E402
from data_engineering.analytics.anomaly.features import Windowing  # noqa: E402
from data_engineering.analytics.anomaly.models import Detector  # noqa: E402
from data_engineering.simulation.engine import SimulationConfig, Simulator  # noqa: E402
from data_engineering.simulation.faults import fault_labels  # noqa: E402
from data_engineering.simulation.grid import load_reference_grid  # noqa: E402

TRAIN_START = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)
TEST_START = TRAIN_START + timedelta(days=1, hours=1)
DETECTORS = ("rules", "iforest", "hgb")


def period(grid, start: datetime, seed: int, meters: int, hours: float, per_hour: float,
           w: Windowing) -> tuple[dataset.Period, float]:
    """The period's features and labels, and the seconds spent on the features (not the simulation)."""
    cfg = SimulationConfig(start=start, duration_s=hours * 3600, n_meters=meters, seed=seed, ideal_backhaul=True,
                           random_sags_per_hour=0.0, random_faults_per_hour=per_hour)
    sim = Simulator(cfg, grid)
    deliveries = [d for _, batch in sim.run() for d in batch]
    t0 = time.perf_counter()
    phases, ami = simulated.frames(deliveries)
    labels = evaluate.label_frame(fault_labels(sim.report.faults, cfg.start, cfg.seed))
    built = dataset.build(phases, ami, simulated.topology(sim), labels, w)
    return built, time.perf_counter() - t0


def flags(part: dataset.Part, detector: Detector, name: str) -> pd.DataFrame:
    if name == "rules":
        return rules.flags(part.x, part.kinds)
    if name == "iforest":
        return pd.DataFrame({"any": detector.forest_flags(part.x)}, index=part.x.index)
    return detector.probabilities(part.x) > 0.5


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--meters", type=int, default=300)
    ap.add_argument("--test-meters", type=int, default=240)
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--faults-per-hour", type=float, default=150.0)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    console, w, grid = Console(width=150), Windowing(), load_reference_grid("case14")

    train, _ = period(grid, TRAIN_START, args.seed, args.meters, args.hours, args.faults_per_hour, w)
    test, feature_s = period(grid, TEST_START, args.seed + 1, args.test_meters, args.hours, args.faults_per_hour, w)
    parts = ((train.transformers, test.transformers), (train.meters, test.meters))
    detectors = [Detector(tr.features, tr.kinds, args.seed).fit(tr.x, tr.y) for tr, _ in parts]

    t0 = time.perf_counter()
    scored = [{name: flags(te, det, name) for name in DETECTORS} for (_, te), det in zip(parts, detectors, strict=True)]
    score_s = time.perf_counter() - t0 + feature_s

    table = Table(title=f"Held out: {args.test_meters} meters, seed {args.seed + 1}, {args.hours} h "
                        f"(trained on {args.meters} meters, seed {args.seed})")
    for column in ("kind", "detector", "faults", "precision", "recall", "F1", "delay s", "recall low/mid/high"):
        table.add_column(column, justify="left" if column in ("kind", "detector") else "right")
    results: dict[str, dict[str, dict]] = {}
    for (_, te), by_name in zip(parts, scored, strict=True):
        for name, f in by_name.items():
            scores, events = evaluate.score(te.y, te.key, f, test.targets, te.kinds, w.window_s)
            bands = evaluate.by_band(events).set_index(["kind", "band"])
            for kind, s in scores.items():
                band_text = " / ".join(f"{bands.loc[(kind, b), 'recall']:.2f}({bands.loc[(kind, b), 'faults']})"
                                       if (kind, b) in bands.index else "–" for b in evaluate.BANDS)
                results.setdefault(kind, {})[name] = s.__dict__ | {"bands": {
                    b: bands.loc[(kind, b)].to_dict() for b in evaluate.BANDS if (kind, b) in bands.index}}
                table.add_row(kind, name, str(s.faults), f"{s.precision:.2f}", f"{s.recall:.2f}", f"{s.f1:.2f}",
                              f"{s.delay_s:.0f}", band_text, end_section=name == DETECTORS[-1])
    console.print(table)
    base = {te.key: float(te.y[list(te.kinds)].any(axis=1).mean()) for _, te in parts}
    console.print("windows overlapping any fault (the forest's precision at chance): "
                  + ", ".join(f"{k.removesuffix('_id')} {v:.0%}" for k, v in base.items()))
    readings_per_s = test.readings / score_s
    console.print(f"scoring: {test.readings:,} readings (AMI + phase records) in {score_s:.2f} s "
                  f"= {readings_per_s:,.0f} readings/s (features + three detectors)")
    print(json.dumps({"bench": "anomaly", "train_faults": int(train.targets["fault_id"].nunique()),
                      "test_faults": int(test.targets["fault_id"].nunique()), "readings_per_s": round(readings_per_s),
                      "fault_window_share": base,
                      "results": results}, default=float))


if __name__ == "__main__":
    main()
