"""Solver benchmark: ADMM / APP against the centralized HiGHS reference, measured in the same run.

    python bench/solver.py [--quick] [--workers N] [--repeat R]
    python bench/solver.py --centralized pglib_opf_case2869_pegase:12:all:1.2:shed:5 [--centralized ...]
    python bench/solver.py --admm pglib_opf_case118_ieee:24:none:ramps=0.5 [--admm ...]

`--centralized CASE:T:CONTINGENCIES[:EMERGENCY[:shed][:MINUTES]]` times the centralized solve alone
on that instance (the grid-scale ones, where ADMM is not the point), in a fresh process with its peak
RSS, one JSON line each. `--admm SPEC` (same grammar) runs just those instances through the main
table's row (centralized, serial ADMM, ADMM on N workers, interleaved) and prints the table and the
JSON (residual histories in bench/results/solver-admm.png). Either grammar takes an extra token
`ramps=F` anywhere after the contingencies: every unit's ramp limits × F (`Case.with_ramp_factor`).

For each instance (case × intervals × contingencies) both methods solve the same case, R rounds of
centralized, serial ADMM and ADMM on N worker processes interleaved, the best of each shown: every
method gets the same runs under the same load. Each method runs in a fresh process of its own (the
peak RSS shown is the largest of the three; the JSON has each). The table shows buses, the runs,
the centralized time (extensive form with contingency screening), the ADMM times (serial and N
workers) and iterations, the objective gap, how far apart the two dispatches lie (the largest
difference of one unit in one interval, MW: the PGLib costs are linear and the same in every
interval, so where two units are both marginal in two intervals, moving output from one to the other
in the first interval and back in the second costs nothing; the optimum is then a face, not a point,
and each method stops somewhere on it), the worst constraint violation of the ADMM dispatch (checked
against every constraint and contingency), the peak RSS and the ADMM/centralized time ratio.
Prints one JSON line (with the ratios) and writes bench/results/solver.png (ADMM residual histories).

ADMM decomposes by interval (each interval's copy enforces its contingencies); the per-contingency
"scenario" decomposition was removed (README, "Why there is no scenario decomposition"). The ramp
instances (`ramps ×0.5`, `×0.2`) measure ADMM against centralized where ramps bind.

Contingency sets: `2` is the first two non-islanding outages (the published comparisons used 2–4;
on the 14- and 30-bus cases two named securable outages instead);
`all` is every non-islanding N-1 outage. Full N-1 on the 300-bus case has no secure dispatch even at
1.2× emergency ratings (several outages are infeasible on their own), so that instance allows load
shedding at VOLL and reports the MW shed.

Security modes (second table; `--security-only` runs just it): the 118- and 300-bus cases, 12
intervals, branch outages and unit outages (`all-gen`, or the units a case can lose), each solved in
preventive and in corrective mode (10-minute corrective ramps) by both methods: time and objective
of corrective against preventive, in the same run. ADMM is capped at `--security-iterations`.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path

import numpy as np
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
    shedding: bool = False
    target: str = ""
    interval_minutes: float = 60.0
    ramp_factor: float = 1.0  # every unit's ramp limits × this
    admm_iterations: int | None = None  # ADMM's cap (None: SolveOptions' own)
    admm_block: int = 1  # ADMM's `interval_block`: consecutive intervals per subproblem

    @classmethod
    def parse(cls, spec: str) -> Instance:
        """`CASE:T:CONTINGENCIES[:EMERGENCY[:shed][:MINUTES]]`, e.g. pglib_opf_case2869_pegase:12:all:1.2:shed:5,
        with `ramps=F` (every ramp limit × F), `iterations=N` (ADMM's cap) and `block=N` (ADMM's intervals
        per subproblem) allowed anywhere after the contingencies (pglib_opf_case118_ieee:24:none:ramps=0.5)."""
        name, intervals, contingencies, *tokens = spec.split(":")
        named: dict[str, str] = {}
        for key, value in (t.split("=", 1) for t in tokens if "=" in t):
            if key in named or key not in ("ramps", "iterations", "block"):
                raise ValueError(f"{spec!r}: {key}= is unknown or given twice (ramps=F, iterations=N, block=N)")
            named[key] = value
        rest = [t for t in tokens if "=" not in t]
        emergency = float(rest.pop(0)) if rest else 1.0
        minutes = [float(r) for r in rest if r != "shed"]
        return cls(name, int(intervals), contingencies, emergency, shedding="shed" in rest,
                   interval_minutes=minutes[0] if minutes else 60.0, ramp_factor=float(named.get("ramps", 1.0)),
                   admm_iterations=int(named["iterations"]) if "iterations" in named else None,
                   admm_block=int(named.get("block", 1)))

    def load(self) -> Case:
        case = load_case(self.case, self.intervals, interval_minutes=self.interval_minutes)
        case = case.with_emergency_factor(self.emergency)
        if self.ramp_factor != 1.0:
            case = case.with_ramp_factor(self.ramp_factor)
        return select(case, self.contingencies)[0]


INSTANCES = [
    Instance("paper5", 5, "2-3,2-4,2-5,3-4,4-5"),
    Instance("pglib_opf_case14_ieee", 5, "2-3,2-4"),  # the first two, 1-2 and 1-5: 1-2 is infeasible alone
    Instance("pglib_opf_case30_ieee", 5, "4-6,6-7"),  # the two most expensive to secure
    Instance("pglib_opf_case57_ieee", 5, "2"),
    Instance("pglib_opf_case118_ieee", 5, "2", target="ADMM < 10 s"),
    Instance("pglib_opf_case118_ieee", 24, "all", 1.2, target="gap ≤ 0.1 %, ratio ≤ 3"),
    Instance("pglib_opf_case300_ieee", 5, "2"),
    Instance("pglib_opf_case300_ieee", 5, "all", 1.2, shedding=True, target="converges"),
    # binding ramps (issue 16 item 3): ADMM against centralized with every ramp limit × 0.5 and × 0.2
    Instance("pglib_opf_case118_ieee", 24, "none", ramp_factor=0.5, target="ratio ≤ 3"),
    Instance("pglib_opf_case118_ieee", 24, "none", ramp_factor=0.2, target="ratio ≤ 3"),
    Instance("pglib_opf_case300_ieee", 24, "none", ramp_factor=0.5, target="ratio ≤ 3"),
    Instance("pglib_opf_case300_ieee", 24, "none", ramp_factor=0.2, target="ratio ≤ 3"),
]
QUICK = [i for i in INSTANCES if i.case in ("paper5", "pglib_opf_case14_ieee", "pglib_opf_case118_ieee")]


@dataclass(frozen=True)
class SecurityInstance:
    case: str
    contingencies: str
    intervals: int = 12
    emergency: float = 1.2
    spared: tuple[str, ...] = ()  # units left out of `all-gen`: no dispatch survives their loss

    def spec(self, case: Case) -> str:
        if self.contingencies != "all-gen" or not self.spared:
            return self.contingencies
        return ",".join(f"G:{n}" for n, p in zip(case.generators.names, case.generators.pmax_mw, strict=True)
                        if p > 0 and n not in self.spared)


# 300-bus: the first 40 branch outages (full N-1 needs shedding, and its corrective extensive form takes
# minutes); every unit but G11 and G31, whose loss no dispatch survives in either mode.
SECURITY = [
    SecurityInstance("pglib_opf_case118_ieee", "all"),
    SecurityInstance("pglib_opf_case118_ieee", "all-gen"),
    SecurityInstance("pglib_opf_case300_ieee", "40"),
    SecurityInstance("pglib_opf_case300_ieee", "all-gen", spared=("G11", "G31")),
]
MODES = ("preventive", "corrective")


def timed(case: Case, options: SolveOptions, repeat: int) -> tuple[SolveResult, float]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = solve_lascopf(case, options)
        best = min(best, time.perf_counter() - start)
    return result, best


_LOADED: dict[Instance, Case] = {}


def _solve_once(instance: Instance, options: SolveOptions) -> tuple[SolveResult, float, float]:
    """One solve in a method's own process (the case loaded once per process): result, seconds and
    the process's peak RSS in GB, with that of the ADMM workers it started."""
    case = _LOADED.setdefault(instance, instance.load())
    result, seconds = timed(case, options, repeat=1)
    return result, seconds, _peak_gb()


def _peak_gb() -> float:
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1e6


def run(instance: Instance, workers: int, repeat: int) -> dict:
    """Centralized, serial ADMM and ADMM on `workers` processes, each `repeat` times, interleaved
    (one of each per round), so every method gets the same runs under the same load; best of each.
    Each method runs in a fresh process of its own, kept across the rounds: its peak RSS is its own,
    and the worker pool forks from a process that holds one method's state, not the others' (at 9,241
    buses, forked from one holding the earlier methods' 11 GB, two workers hung at 22 of 23 GB)."""
    case = instance.load()
    central_options = SolveOptions(method="centralized", load_shedding=instance.shedding)
    admm_options = replace(central_options, method="admm", interval_block=instance.admm_block)
    if instance.admm_iterations:
        admm_options = replace(admm_options, max_iterations=instance.admm_iterations)
    methods = {"centralized": central_options, "admm": admm_options}
    if workers > 1:
        methods["admm_workers"] = replace(admm_options, workers=workers)
    best = dict.fromkeys(methods, float("inf"))
    peak = dict.fromkeys(methods, 0.0)
    results: dict[str, SolveResult] = {}
    with ExitStack() as stack:
        pools = {name: stack.enter_context(ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")))
                 for name in methods}
        for _ in range(repeat):
            for name, options in methods.items():
                results[name], seconds, peak[name] = pools[name].submit(_solve_once, instance, options).result()
                best[name] = min(best[name], seconds)
    central, admm = results["centralized"], results["admm"]
    both = admm.ok and central.ok
    gap = (admm.objective - central.objective) / abs(central.objective) if both else float("nan")
    return {
        "case": instance.case, "buses": case.buses.n, "intervals": instance.intervals,
        "contingencies": len(case.contingencies), "runs": repeat,
        "shed_mw": float(central.shed_mw.sum()) if central.shed_mw is not None else None,
        "emergency": instance.emergency, "ramp_factor": instance.ramp_factor, "interval_block": instance.admm_block,
        "centralized_status": central.status, "centralized_s": round(best["centralized"], 4), "screening_rounds":
        central.screening_rounds, "admm_status": admm.status, "admm_s": round(best["admm"], 4),
        "admm_workers_s": round(best["admm_workers"], 4) if workers > 1 else None,
        "admm_iterations": admm.iterations, "objective": central.objective, "gap": gap,
        "dispatch_apart_mw": float(np.abs(admm.dispatch_mw - central.dispatch_mw).max()) if both else float("nan"),
        "max_violation_pu": admm.max_violation_pu, "ratio": best["admm"] / best["centralized"],
        "ratio_workers": best["admm_workers"] / best["centralized"] if workers > 1 else None,
        "workers_speedup": best["admm"] / best["admm_workers"] if workers > 1 else None,
        "admm_workers_iterations": results["admm_workers"].iterations if workers > 1 else None,
        "published_s": PUBLISHED_S.get(instance.case), "target": instance.target,
        "peak_rss_gb": round(max(peak.values()), 3), "peak_rss_gb_by_method": {k: round(v, 3) for k, v in peak.items()},
        "history": [(h.iteration, h.primal_residual_mw, h.dual_residual) for h in admm.history],
    }


def run_centralized(instance: Instance, repeat: int) -> dict:
    """The centralized solve alone, best of `repeat` (the grid-scale instances: ADMM is not the point)."""
    case = instance.load()
    result, seconds = timed(case, SolveOptions(method="centralized", load_shedding=instance.shedding), repeat)
    return {"case": instance.case, "buses": case.buses.n, "intervals": instance.intervals,
            "interval_minutes": instance.interval_minutes, "contingencies": len(case.contingencies),
            "emergency": instance.emergency, "ramp_factor": instance.ramp_factor, "shedding": instance.shedding,
            "runs": repeat, "status": result.status,
            "seconds": round(seconds, 2), "screening_rounds": result.screening_rounds, "objective": result.objective,
            "shed_mw": float(result.shed_mw.sum()) if result.shed_mw is not None else None,
            "message": result.message}


def measured(fn: Callable[..., dict], *args: object) -> dict:
    """`fn(*args)` in a fresh process, so its peak RSS is its own and not the high-water mark of the
    instances before it."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_run_with_peak, fn, *args).result()


def _run_with_peak(fn: Callable[..., dict], *args: object) -> dict:
    return {**fn(*args), "peak_rss_gb": round(_peak_gb(), 3)}


def run_security(instance: SecurityInstance, workers: int, max_iterations: int) -> list[dict]:
    """Both modes, both methods, on one case; objectives and times relative to preventive."""
    case = load_case(instance.case, instance.intervals).with_emergency_factor(instance.emergency)
    case = select(case, instance.spec(case))[0]
    rows = []
    for mode in MODES:
        options = SolveOptions(method="centralized", mode=mode)
        central, t_central = timed(case, options, repeat=1)
        admm, t_admm = timed(case, replace(options, method="admm", workers=workers, max_iterations=max_iterations),
                             repeat=1)
        gap = (admm.objective - central.objective) / abs(central.objective) if admm.ok and central.ok else float("nan")
        rows.append({
            "case": instance.case, "intervals": instance.intervals, "contingencies": len(case.contingencies),
            "spec": instance.contingencies, "spared": instance.spared, "emergency": instance.emergency, "mode": mode,
            "centralized_status": central.status, "centralized_s": round(t_central, 4),
            "objective": central.objective, "shed_mw": float(central.shed_mw.sum()) if central.ok else None,
            "redispatched": len(central.scenario_dispatch_mw), "admm_status": admm.status,
            "admm_s": round(t_admm, 4), "admm_iterations": admm.iterations, "gap": gap,
            "infeasible": central.infeasible_contingencies,
        })
    preventive = rows[0]
    for r in rows:
        r["objective_vs_preventive"] = (r["objective"] - preventive["objective"]) / abs(preventive["objective"]) \
            if preventive["centralized_status"] == r["centralized_status"] == "optimal" else float("nan")
        r["time_vs_preventive"] = r["centralized_s"] / preventive["centralized_s"]
    return rows


def security_table(rows: list[dict]) -> Table:
    out = Table(title="Security modes: corrective vs preventive, branch and unit outages (same run)")
    for col in ("case", "T", "contingencies", "mode", "centralized s", "× prev.", "objective $", "vs prev.",
                "re-dispatched", "ADMM s", "iters", "ADMM gap"):
        out.add_column(col, justify="left" if col in ("case", "contingencies", "mode") else "right")
    for r in rows:
        contingencies = f"{r['spec']} ({r['contingencies']}) @{r['emergency']:g}x"
        contingencies += f" but {', '.join(r['spared'])}" if r["spared"] else ""
        contingencies += f" shed {r['shed_mw']:.0f} MW" if r["shed_mw"] else ""
        status = "" if r["centralized_status"] == "optimal" else f" {r['centralized_status']}"
        out.add_row(r["case"].replace("pglib_opf_", ""), str(r["intervals"]), contingencies, r["mode"],
                    f"{r['centralized_s']:.2f}{status}", f"{r['time_vs_preventive']:.2f}",
                    f"{r['objective']:,.0f}", f"{r['objective_vs_preventive']:+.2%}", str(r["redispatched"]),
                    f"{r['admm_s']:.2f}" + ("" if r["admm_status"] == "optimal" else f" {r['admm_status']}"),
                    str(r["admm_iterations"]), f"{r['gap']:.1e}")
    return out


def label(r: dict) -> str:
    """The C column: contingencies, emergency factor, ramp factor, ADMM's interval block (e.g. `0`, `322 @1.2x`,
    `0 ramps ×0.5 block 12`)."""
    text = f"{r['contingencies']}" + (f" @{r['emergency']:g}x" if r["emergency"] != 1 else "")
    text += f" ramps ×{r['ramp_factor']:g}" if r.get("ramp_factor", 1.0) != 1 else ""
    return text + (f" block {r['interval_block']}" if r.get("interval_block", 1) != 1 else "")


def table(rows: list[dict]) -> Table:
    out = Table(title="LASCOPF: ADMM / APP vs centralized (HiGHS, screened), interleaved in the same run, best of runs")
    for col in ("case", "buses", "T", "C", "runs", "centralized s", "ADMM s", "ADMM 2w s", "iters", "gap",
                "apart MW", "max viol. pu", "peak RSS GB", "ADMM/central", "serial/2w", "published s", "target"):
        out.add_column(col, justify="left" if col in ("case", "target") else "right")
    for r in rows:
        contingencies = label(r)
        contingencies += f" shed {r['shed_mw']:.0f} MW" if r["shed_mw"] else ""
        central = f"{r['centralized_s']:.3f}" + ("" if r["centralized_status"] == "optimal" else
                                                 f" {r['centralized_status']}")
        admm = f"{r['admm_s']:.3f}" + ("" if r["admm_status"] == "optimal" else f" {r['admm_status']}")
        workers = "–" if r["admm_workers_s"] is None else f"{r['admm_workers_s']:.3f}"
        speedup = "–" if r["workers_speedup"] is None else f"{r['workers_speedup']:.2f}"
        out.add_row(r["case"].replace("pglib_opf_", ""), str(r["buses"]), str(r["intervals"]), contingencies,
                    str(r["runs"]), central, admm, workers, str(r["admm_iterations"]),
                    f"{r['gap']:.1e}", f"{r['dispatch_apart_mw']:.1f}", f"{r['max_violation_pu']:.1e}",
                    f"{r['peak_rss_gb']:.2f}",
                    f"{r['ratio']:.2f}", speedup, f"{r['published_s']}" if r["published_s"] else "–", r["target"])
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
                        label=f"{r['case'].replace('pglib_opf_', '')} T={r['intervals']} C={label(r)}")
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
    parser.add_argument("--workers", type=int, default=2, help="ADMM worker processes for the parallel column "
                        "(1: serial only)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of every method per instance, interleaved")
    parser.add_argument("--security-only", action="store_true", help="only the preventive/corrective table")
    parser.add_argument("--security-iterations", type=int, default=1000, help="ADMM cap in the security table")
    parser.add_argument("--centralized", action="append", metavar="CASE:T:C[:EMERGENCY[:shed][:MINUTES]][:ramps=F]",
                        help="only this instance, centralized only (repeatable), e.g. "
                        "pglib_opf_case2869_pegase:12:all:1.2:shed:5 (12 five-minute intervals, all N-1, 1.2x, "
                        "shedding allowed)")
    parser.add_argument("--admm", action="append", metavar="CASE:T:C[:EMERGENCY[:shed][:MINUTES]][:ramps=F]",
                        help="only this instance, centralized and ADMM interleaved as in the main table "
                        "(repeatable), e.g. pglib_opf_case118_ieee:24:none:ramps=0.5")
    args = parser.parse_args()
    if args.centralized:
        for spec in args.centralized:
            print(json.dumps(measured(run_centralized, Instance.parse(spec), args.repeat), default=str), flush=True)
        return
    if args.admm:
        instances, security = [Instance.parse(spec) for spec in args.admm], []
    else:
        instances = [] if args.security_only else QUICK if args.quick else INSTANCES
        security = [] if args.quick else SECURITY
    rows, security_rows = [], []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("instances", total=len(instances) + len(security))
        for instance in instances:
            progress.update(task, description=f"{instance.case} T={instance.intervals} C={instance.contingencies}"
                            + (f" ramps ×{instance.ramp_factor:g}" if instance.ramp_factor != 1 else ""))
            rows.append(run(instance, args.workers, args.repeat))
            progress.advance(task)
        for item in security:
            progress.update(task, description=f"{item.case} T={item.intervals} C={item.contingencies} modes")
            security_rows += run_security(item, args.workers, args.security_iterations)
            progress.advance(task)
    if rows:
        console.print(table(rows))
        plot(rows, RESULTS / ("solver-admm.png" if args.admm else "solver.png"))
    if security_rows:
        console.print(security_table(security_rows))
    ratios = {f"{r['case']} T={r['intervals']} C={label(r)}":
              {"admm_vs_centralized": r["ratio"], "admm_workers_vs_centralized": r["ratio_workers"],
               "admm_serial_vs_workers": r["workers_speedup"]} for r in rows}
    print(json.dumps({"bench": "solver", "workers": args.workers, "runs": args.repeat, "ratios": ratios,
                      "rows": [{k: v for k, v in r.items() if k != "history"} for r in rows],
                      "security": security_rows}, default=str))


if __name__ == "__main__":
    main()
