"""MATPOWER cases ↔ `Case`.

Reading goes through `matpowercaseframes` (the `.m` parser) or any dict of MATPOWER arrays
(`pandapower`'s `to_mpc`). What MATPOWER does not say, and we assume, is recorded in `Case.notes`:

- DC susceptance follows PowerModels' convention b = x / (r² + x²), taps and phase shifts ignored
  (the convention of PGLib-OPF's published DC objectives);
- ramp rates come from RAMP_AGC (MW/min), else RAMP_10, else RAMP_30, scaled to the interval; where
  a unit has none, `DEFAULT_RAMP_FRACTION` of its Pmax per interval;
- emergency ratings come from RATE_C, else `emergency_factor` × RATE_A; a zero RATE_A is unlimited;
- bus shunt conductance (GS, MW at 1 pu) is load, as in PowerModels' DC model;
- generators out of service or with Pmax = Pmin = 0 (synchronous condensers) carry no active power
  and are left out; isolated buses (type 4) are dropped; out-of-service branches are kept, marked so.

Writing produces a MATPOWER v2 `.m` file (what PowerSystems.jl parses) plus a JSON sidecar with what
MATPOWER cannot hold: loads per interval, P0, contingencies, interval length.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from data_engineering.solver.case import Branches, Buses, Case, Contingency, Generators
from data_engineering.solver.cases.profile import profile_loads

DEFAULT_RAMP_FRACTION = 0.5  # of Pmax per interval, where the case has no ramp data

# MATPOWER column indices.
BUS_I, BUS_TYPE, PD, GS = 0, 1, 2, 4
GEN_BUS, PG, GEN_STATUS, PMAX, PMIN, RAMP_AGC, RAMP_10, RAMP_30 = 0, 1, 7, 8, 9, 16, 17, 18
F_BUS, T_BUS, BR_R, BR_X, RATE_A, RATE_C, BR_STATUS = 0, 1, 2, 3, 5, 7, 10
REF_BUS, ISOLATED_BUS = 3, 4


def read_m_file(path: str | Path) -> dict[str, np.ndarray | float]:
    """MATPOWER arrays from a `.m` file."""
    from matpowercaseframes import CaseFrames

    frames = CaseFrames(str(path))
    mpc: dict[str, np.ndarray | float] = {"baseMVA": float(frames.baseMVA)}
    for key in ("bus", "gen", "branch", "gencost"):
        if key in frames.attributes:
            mpc[key] = np.asarray(getattr(frames, key).to_numpy(), dtype=float)
    return mpc


def _column(table: np.ndarray, col: int, default: float = 0.0) -> np.ndarray:
    return table[:, col] if table.shape[1] > col else np.full(len(table), default)


def _polynomial_costs(gencost: np.ndarray | None, n_gen: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if gencost is None:
        raise ValueError("case has no gencost table: an OPF needs generator costs")
    gencost = gencost[:n_gen]  # reactive-power cost rows, if any, follow
    if (gencost[:, 0] != 2).any():
        raise ValueError("only polynomial (model 2) generator costs are supported; piecewise-linear rows found")
    if (gencost[:, 3] > 3).any():
        raise ValueError("polynomial costs of degree above 2 are not a QP")
    c = np.zeros((n_gen, 3))  # c2, c1, c0
    for g, row in enumerate(gencost):
        n = int(row[3])
        c[g, 3 - n:] = row[4:4 + n]
    return c[:, 0], c[:, 1], c[:, 2]


def _ramp_per_interval(gen: np.ndarray, interval_minutes: float) -> np.ndarray:
    agc, r10, r30 = (_column(gen, c) for c in (RAMP_AGC, RAMP_10, RAMP_30))
    per_minute = np.where(agc > 0, agc, np.where(r10 > 0, r10 / 10.0, np.where(r30 > 0, r30 / 30.0, np.nan)))
    return per_minute * interval_minutes


def branch_names(f_ids: np.ndarray, t_ids: np.ndarray) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    names = []
    for f, t in zip(f_ids, t_ids, strict=True):
        base = f"{int(f)}-{int(t)}"
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return tuple(names)


def case_from_mpc(mpc: dict, name: str, *, intervals: int = 1, interval_minutes: float = 60.0,
                  emergency_factor: float = 1.0, ramp_fraction: float = DEFAULT_RAMP_FRACTION,
                  load_mw: np.ndarray | None = None) -> Case:
    """A `Case` from MATPOWER arrays; loads per interval follow `profile_loads` unless given."""
    bus = np.asarray(mpc["bus"], dtype=float)
    bus = bus[bus[:, BUS_TYPE] != ISOLATED_BUS]
    position = {int(b): i for i, b in enumerate(bus[:, BUS_I])}
    ids = bus[:, BUS_I].astype(int)
    refs = np.flatnonzero(bus[:, BUS_TYPE] == REF_BUS)
    notes: list[str] = ["DC susceptance b = x/(r²+x²), taps and shifts ignored"]

    all_gen = np.asarray(mpc["gen"], dtype=float)
    c2, c1, c0 = _polynomial_costs(mpc.get("gencost"), len(all_gen))
    live = (all_gen[:, GEN_STATUS] > 0) & ~((all_gen[:, PMAX] == 0) & (all_gen[:, PMIN] == 0))
    live &= np.isin(all_gen[:, GEN_BUS].astype(int), ids)
    gen = all_gen[live]
    pmax = gen[:, PMAX]
    ramp = _ramp_per_interval(gen, interval_minutes)
    if np.isnan(ramp).any():
        missing = int(np.isnan(ramp).sum())
        notes.append(f"ramp = {ramp_fraction:g} x Pmax per interval for {missing} units without ramp data")
        ramp = np.where(np.isnan(ramp), ramp_fraction * pmax, ramp)
    generators = Generators(
        bus=np.array([position[int(b)] for b in gen[:, GEN_BUS]], dtype=int),
        c2=c2[live], c1=c1[live], c0=c0[live],
        pmin_mw=gen[:, PMIN].copy(), pmax_mw=pmax.copy(), ramp_up_mw=ramp, ramp_down_mw=ramp.copy(),
        p0_mw=np.clip(gen[:, PG], gen[:, PMIN], pmax),
        names=tuple(f"G{k + 1}" for k in np.flatnonzero(live)),
    )

    branch = np.asarray(mpc["branch"], dtype=float)
    branch = branch[np.isin(branch[:, F_BUS].astype(int), ids) & np.isin(branch[:, T_BUS].astype(int), ids)]
    r, x = branch[:, BR_R], branch[:, BR_X]
    rate = np.where(branch[:, RATE_A] > 0, branch[:, RATE_A], np.inf)
    rate_c = _column(branch, RATE_C)
    emergency = np.where(rate_c > 0, rate_c, emergency_factor * rate)
    branches = Branches(
        from_bus=np.array([position[int(b)] for b in branch[:, F_BUS]], dtype=int),
        to_bus=np.array([position[int(b)] for b in branch[:, T_BUS]], dtype=int),
        x_pu=(r**2 + x**2) / x, rate_mw=rate, emergency_mw=emergency,
        in_service=branch[:, BR_STATUS] > 0,
        names=branch_names(branch[:, F_BUS], branch[:, T_BUS]),
    )

    snapshot = bus[:, PD] + _column(bus, GS)
    if load_mw is None:
        load_mw = profile_loads(snapshot, intervals, interval_minutes)
        notes.append(f"loads follow the documented daily profile from a snapshot of {snapshot.sum():.1f} MW")
    return Case(
        name=name, base_mva=float(mpc["baseMVA"]), buses=Buses(ids=ids, ref=int(refs[0]) if len(refs) else 0),
        branches=branches, generators=generators, load_mw=np.asarray(load_mw, dtype=float),
        interval_minutes=interval_minutes, notes=tuple(notes),
    )


def _matrix(rows: np.ndarray, formats: list[str]) -> str:
    return "\n".join("\t" + "\t".join(f.format(v) for f, v in zip(formats, row, strict=True)) + ";" for row in rows)


def to_mpc(case: Case, interval: int = 0) -> dict[str, np.ndarray | float]:
    """MATPOWER arrays for one interval of the case (loads of `interval`, ramps as RAMP_AGC)."""
    buses, branches, gens = case.buses, case.branches, case.generators
    bus = np.zeros((buses.n, 13))
    bus[:, BUS_I] = buses.ids
    bus[:, BUS_TYPE] = 1
    bus[np.unique(gens.bus), BUS_TYPE] = 2
    bus[buses.ref, BUS_TYPE] = REF_BUS
    bus[:, PD] = case.load_mw[interval]
    bus[:, [6, 7, 9, 10, 11, 12]] = [1, 1.0, 1.0, 1, 1.1, 0.9]  # area, Vm, baseKV, zone, Vmax, Vmin
    gen = np.zeros((gens.n, 21))
    gen[:, GEN_BUS] = buses.ids[gens.bus]
    gen[:, PG] = gens.p0_mw
    gen[:, [5, 6, GEN_STATUS]] = [1.0, case.base_mva, 1]
    gen[:, PMAX], gen[:, PMIN] = gens.pmax_mw, gens.pmin_mw
    gen[:, RAMP_AGC] = gens.ramp_up_mw / case.interval_minutes
    branch = np.zeros((branches.n, 13))
    branch[:, F_BUS], branch[:, T_BUS] = buses.ids[branches.from_bus], buses.ids[branches.to_bus]
    branch[:, BR_X] = branches.x_pu
    branch[:, RATE_A] = np.where(np.isfinite(branches.rate_mw), branches.rate_mw, 0.0)
    branch[:, 6] = branch[:, RATE_A]
    branch[:, RATE_C] = np.where(np.isfinite(branches.emergency_mw), branches.emergency_mw, 0.0)
    branch[:, BR_STATUS] = branches.in_service
    branch[:, [11, 12]] = [-360.0, 360.0]
    gencost = np.column_stack([np.full(gens.n, 2.0), np.zeros(gens.n), np.zeros(gens.n), np.full(gens.n, 3.0),
                               gens.c2, gens.c1, gens.c0])
    return {"baseMVA": case.base_mva, "bus": bus, "gen": gen, "branch": branch, "gencost": gencost}


def write_case(case: Case, path: str | Path) -> tuple[Path, Path]:
    """`<path>.m` (MATPOWER v2, first interval's loads) and `<path>.json` (the look-ahead sidecar)."""
    path = Path(path).with_suffix("")
    mpc = to_mpc(case)
    fmt = "{:.10g}"
    sections = [f"function mpc = {path.name.replace('-', '_')}", "mpc.version = '2';",
                f"mpc.baseMVA = {case.base_mva:g};"]
    for key in ("bus", "gen", "branch", "gencost"):
        table = mpc[key]
        sections.append(f"\nmpc.{key} = [\n{_matrix(table, [fmt] * table.shape[1])}\n];")
    m_path, sidecar_path = path.with_suffix(".m"), path.with_suffix(".json")
    m_path.write_text("\n".join(sections) + "\n")
    sidecar_path.write_text(json.dumps(sidecar(case), indent=1))
    return m_path, sidecar_path


def sidecar(case: Case) -> dict:
    """What PowerSystems.jl does not hold: the horizon, loads per interval, P0, ramps, contingencies."""
    ids = case.buses.ids.tolist()
    gens = case.generators
    return {
        "format": "lascopf-sidecar/1",
        "name": case.name,
        "intervals": case.intervals,
        "interval_minutes": case.interval_minutes,
        "bus_ids": ids,
        "load_mw": case.load_mw.round(9).tolist(),
        "generators": {"names": list(gens.names), "p0_mw": gens.p0_mw.tolist(),
                       "ramp_up_mw": gens.ramp_up_mw.tolist(), "ramp_down_mw": gens.ramp_down_mw.tolist()},
        "branches": {"names": list(case.branches.names),
                     "emergency_mw": [v if np.isfinite(v) else None for v in case.branches.emergency_mw.tolist()]},
        "contingencies": [{"branch": c.branch, "label": c.label, **({"generator": c.generator} if c.is_generator
                                                                       else {})} for c in case.contingencies],
        "notes": list(case.notes),
    }


def read_case(path: str | Path, **kwargs) -> Case:  # noqa: ANN003
    """A `.m` file, with its sidecar (same stem, `.json`) when one is next to it."""
    path = Path(path)
    mpc = read_m_file(path)
    side_path = path.with_suffix(".json")
    if not side_path.exists():
        return case_from_mpc(mpc, path.stem, **kwargs)
    side = json.loads(side_path.read_text())
    case = case_from_mpc(mpc, side["name"], interval_minutes=side["interval_minutes"],
                         load_mw=np.array(side["load_mw"]))
    gens = replace(case.generators, names=tuple(side["generators"]["names"]),
                   p0_mw=np.array(side["generators"]["p0_mw"]),
                   ramp_up_mw=np.array(side["generators"]["ramp_up_mw"]),
                   ramp_down_mw=np.array(side["generators"]["ramp_down_mw"]))
    emergency = np.array([np.inf if v is None else v for v in side["branches"]["emergency_mw"]])
    branches = replace(case.branches, names=tuple(side["branches"]["names"]), emergency_mw=emergency)
    return replace(case, branches=branches, generators=gens, notes=tuple(side["notes"]),
                   contingencies=tuple(Contingency(c["branch"], c["label"], c.get("generator", -1))
                                         for c in side["contingencies"]))
