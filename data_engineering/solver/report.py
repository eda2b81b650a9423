"""How a solve is shown: a summary table, the JSON file and a convergence plot (I/O at the edge)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from rich.table import Table

from data_engineering.solver.case import Case
from data_engineering.solver.result import SolveResult


def summary_table(case: Case, result: SolveResult) -> Table:
    table = Table(title=f"LASCOPF {case.name}: {case.intervals} intervals, {result.contingencies} contingencies, "
                        f"{result.method}, {result.mode}")
    table.add_column("generator")
    table.add_column("bus", justify="right")
    for t in range(case.intervals):
        table.add_column(f"t{t + 1} MW", justify="right")
    if result.dispatch_mw is not None:
        for g, name in enumerate(case.generators.names):
            if np.abs(result.dispatch_mw[:, g]).max() < 1e-6:
                continue
            table.add_row(name, str(case.buses.ids[case.generators.bus[g]]),
                          *(f"{v:.2f}" for v in result.dispatch_mw[:, g]))
    if result.lmp is not None:
        table.add_row("LMP min $/MWh", "", *(f"{v:.2f}" for v in result.lmp.min(axis=1)))
        table.add_row("LMP max $/MWh", "", *(f"{v:.2f}" for v in result.lmp.max(axis=1)))
        table.add_row("energy $/MWh", "", *(f"{v:.2f}" for v in result.lmp_energy))
    for scenario, unserved in result.unserved_mw.items():
        table.add_row(f"unserved MW ({scenario})", "", *(f"{v:.2f}" for v in unserved.sum(axis=1)))
    table.caption = (f"status {result.status} · objective {result.objective:,.2f} · {result.iterations} iterations · "
                     f"{result.solve_time_s:.2f} s · max violation {result.max_violation_pu:.2e} pu · "
                     f"binding contingencies: {', '.join(result.binding_contingencies) or 'none'}"
                     + "".join(f" · reserve short {mw:.1f} MW after {label}"
                               for label, mw in result.reserve_shortfall_mw.items()))
    return table


def write_json(case: Case, result: SolveResult, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(result.to_json(case), indent=1, allow_nan=False, default=float))
    return path


def convergence_plot(result: SolveResult, path: str | Path) -> Path:
    """Residuals (log scale) and objective per ADMM iteration; the centralized method has no history
    beyond its screening rounds, so its plot says that."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    h = result.history
    if h:
        it = [r.iteration for r in h]
        top.semilogy(it, [max(r.primal_residual_mw, 1e-12) for r in h], label="primal residual (MW)")
        top.semilogy(it, [max(r.dual_residual, 1e-12) for r in h], label="dual residual ($/MWh)")
        top.legend()
        bottom.plot(it, [r.objective for r in h])
    else:
        top.text(0.5, 0.5, f"{result.method}: {result.screening_rounds} screening rounds", ha="center")
    top.set_title(f"{result.case} · {result.method} · {result.status}")
    bottom.set_xlabel("iteration")
    bottom.set_ylabel("objective ($)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
