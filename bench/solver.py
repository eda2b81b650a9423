"""Solver benchmark: ADMM / APP against the centralized HiGHS reference, measured in the same run.

    python bench/solver.py [--quick] [--workers N]

For each instance (case × intervals × contingencies) both methods solve the same case; the table
shows the centralized time (extensive form with contingency screening), the ADMM time and
iterations, the objective gap, the worst constraint violation of the ADMM dispatch (checked against
every constraint and contingency) and the ADMM/centralized time ratio. Prints one JSON line and
writes bench/results/solver.png (ADMM residual histories).

Contingency sets: `2` is the first two non-islanding outages (the published comparisons used 2–4;
on the 14- and 30-bus cases two named securable outages instead);
`all` is every non-islanding N-1 outage. Full N-1 on the 300-bus case has no secure dispatch even at
1.2× emergency ratings (several outages are infeasible on their own), so that instance allows load
shedding at VOLL and reports the MW shed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_engineering.solver.case import Case  # noqa: E402
from data_engineering.solver.cases import load_case  # noqa: E402
from data_engineering.solver.contingencies import select  # noqa: E402
from data_engineering.solver.options import SolveOptions  # noqa: E402
from data_engineering.solver.result import SolveResult  # noqa: E402
from data_engineering.solver.solve import solve_lascopf  # noqa: E402

console = Console(width=180)
RESULTS = Path(__file__).resolve().parent / "results"
PUBLISHED_S = {"paper5": 1.45, "pglib_opf_case14_ieee": 236.9, "pglib_opf_case30_ieee": 2.67,
               "pglib_opf_case57_ieee": 290.4, "pglib_opf_case118_ieee": 2706.9, "pglib_opf_case300_ieee": 2430.4}


@dataclass(frozen=True)
class Instance:
    case: str
    intervals: int
    contingencies: str  # "2", "all", or a branch list
    emergency: float = 1.0
    decomposition: str = "interval"
    shedding: bool = False
    target: str = ""


INSTANCES = [
    Instance("paper5", 5, "2-3,2-4,2-5,3-4,4-5", decomposition="scenario"),
    Instance("pglib_opf_case14_ieee", 5, "2-3,2-4"),  # the first two, 1-2 and 1-5: 1-2 is infeasible alone
    Instance("pglib_opf_case30_ieee", 5, "4-6,6-7"),  # the two most expensive to secure
    Instance("pglib_opf_case57_ieee", 5, "2"),
    Instance("pglib_opf_case118_ieee", 5, "2", target="ADMM < 10 s"),
    Instance("pglib_opf_case118_ieee", 5, "2", decomposition="scenario"),
    Instance("pglib_opf_case118_ieee", 24, "all", 1.2, target="gap ≤ 0.1 %, ratio ≤ 3"),
    Instance("pglib_opf_case300_ieee", 5, "2"),
    Instance("pglib_opf_case300_ieee", 5, "all", 1.2, shedding=True, target="converges"),
]
QUICK = [i for i in INSTANCES if i.case in ("paper5", "pglib_opf_case14_ieee", "pglib_opf_case118_ieee")]


def timed(case: Case, options: SolveOptions, repeat: int) -> tuple[SolveResult, float]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = solve_lascopf(case, options)
        best = min(best, time.perf_counter() - start)
    return result, best


def run(instance: Instance, workers: int) -> dict:
    case = load_case(instance.case, instance.intervals).with_emergency_factor(instance.emergency)
    case = select(case, instance.contingencies)[0]
    central, t_central = timed(case, SolveOptions(method="centralized", load_shedding=instance.shedding),
                               repeat=3 if instance.intervals * len(case.contingencies) < 500 else 1)
    admm, t_admm = timed(case, SolveOptions(method="admm", decomposition=instance.decomposition, workers=workers,
                                            load_shedding=instance.shedding), repeat=3 if t_central < 1 else 1)
    gap = (admm.objective - central.objective) / abs(central.objective) if admm.ok and central.ok else float("nan")
    return {
        "case": instance.case, "intervals": instance.intervals, "contingencies": len(case.contingencies),
        "shed_mw": float(central.shed_mw.sum()) if central.shed_mw is not None else None,
        "emergency": instance.emergency, "decomposition": instance.decomposition,
        "centralized_status": central.status, "centralized_s": round(t_central, 4), "screening_rounds":
        central.screening_rounds, "admm_status": admm.status, "admm_s": round(t_admm, 4),
        "admm_iterations": admm.iterations, "objective": central.objective, "gap": gap,
        "max_violation_pu": admm.max_violation_pu, "ratio": t_admm / t_central,
        "published_s": PUBLISHED_S.get(instance.case), "target": instance.target,
        "history": [(h.iteration, h.primal_residual_mw, h.dual_residual) for h in admm.history],
    }


def table(rows: list[dict]) -> Table:
    out = Table(title="LASCOPF: ADMM / APP vs centralized (HiGHS, screened), same run")
    for col in ("case", "T", "C", "decomp.", "centralized s", "ADMM s", "iters", "gap", "max viol. pu",
                "ADMM/central", "published s", "target"):
        out.add_column(col, justify="left" if col in ("case", "decomp.", "target") else "right")
    for r in rows:
        contingencies = f"{r['contingencies']}" + (f" @{r['emergency']:g}x" if r["emergency"] != 1 else "")
        contingencies += f" shed {r['shed_mw']:.0f} MW" if r["shed_mw"] else ""
        out.add_row(r["case"].replace("pglib_opf_", ""), str(r["intervals"]), contingencies, r["decomposition"],
                    f"{r['centralized_s']:.3f}", f"{r['admm_s']:.3f}" + ("" if r["admm_status"] == "optimal" else
                                                                       f" {r['admm_status']}"),
                    str(r["admm_iterations"]), f"{r['gap']:.1e}", f"{r['max_violation_pu']:.1e}",
                    f"{r['ratio']:.2f}", f"{r['published_s']}" if r["published_s"] else "–", r["target"])
    return out


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5))
    for r in rows:
        if r["history"]:
            it, primal, _ = zip(*r["history"], strict=True)
            ax.semilogy(it, [max(p, 1e-9) for p in primal],
                        label=f"{r['case'].replace('pglib_opf_', '')} T={r['intervals']} C={r['contingencies']} "
                              f"{r['decomposition']}")
    ax.set_xlabel("ADMM iteration")
    ax.set_ylabel("primal residual (MW)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="paper5, 14-bus and 118-bus instances only")
    parser.add_argument("--workers", type=int, default=1, help="ADMM subproblem worker processes")
    args = parser.parse_args()
    instances = QUICK if args.quick else INSTANCES
    rows = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("instances", total=len(instances))
        for instance in instances:
            progress.update(task, description=f"{instance.case} T={instance.intervals} C={instance.contingencies}")
            rows.append(run(instance, args.workers))
            progress.advance(task)
    console.print(table(rows))
    plot(rows, RESULTS / "solver.png")
    print(json.dumps({"bench": "solver", "workers": args.workers,
                      "rows": [{k: v for k, v in r.items() if k != "history"} for r in rows]}))


if __name__ == "__main__":
    main()
