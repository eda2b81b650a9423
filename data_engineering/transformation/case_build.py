"""Network model + load forecast + measured unit output → the LASCOPF case, and its content hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from data_engineering.solver.case import Case
from data_engineering.solver.cases.matpower import sidecar, to_mpc
from data_engineering.solver.contingencies import ContingencyList, base_refusal, select
from data_engineering.solver.network import cut_off
from data_engineering.storage.network import NetworkModel


def build_case(network: NetworkModel, loads: pd.DataFrame, p0: pd.Series, *, name: str,
               emergency_factor: float | None, contingencies: str, islanding: str = "refuse",
               band: Sequence[pd.DataFrame] = ()) -> tuple[Case, ContingencyList]:
    """`loads`: forecast MW per interval (rows) and bus id (columns, the network's order); `p0`:
    measured MW per unit name. A unit without a measurement starts at its lower limit (noted).
    `band`: other trajectories of the forecast laid out like `loads` (the P10 and P90), the case's
    `load_band_mw`. Topology events that cut buses off are refused (`IslandingRefused`) unless
    `islanding="shed"`."""
    base = network.case
    gens = base.generators
    measured = p0.reindex(list(gens.names))
    notes = [*base.notes, f"network model version {network.version_id}",
             f"loads: forecast for {len(loads)} intervals of {base.interval_minutes:g} min from "
             f"{loads.index[0].isoformat()}"]
    if measured.isna().any():
        notes.append(f"no measured output for {', '.join(measured.index[measured.isna()])}: P0 = Pmin")
    start = np.clip(measured.fillna(pd.Series(gens.pmin_mw, index=list(gens.names))).to_numpy(),
                    gens.pmin_mw, gens.pmax_mw)
    if network.out_of_service:
        notes.append(f"out of service by topology events: {', '.join(network.out_of_service)}")
    island = cut_off(base, base.branches.in_service)
    if island.any():
        if islanding != "shed":
            raise base_refusal(base, island)
        notes.append(f"cut off by topology events, load unserved: buses {', '.join(map(str, base.buses.ids[island]))}")
    ids = base.buses.ids.tolist()
    case = replace(base, name=name, load_mw=_by_bus(loads, ids), generators=replace(gens, p0_mw=start),
                   notes=tuple(notes), load_band_mw=np.stack([_by_bus(b, ids) for b in band]) if band else None)
    if emergency_factor is not None:
        case = case.with_emergency_factor(emergency_factor)
    return select(case, contingencies, islanding)


def _by_bus(frame: pd.DataFrame, bus_ids: list[int]) -> np.ndarray:
    """(intervals, buses) MW in the network's bus order, from a frame with bus-id columns."""
    return frame.reindex(columns=bus_ids).to_numpy(dtype=float)


def case_hash(case: Case) -> str:
    """SHA-256 over what defines the optimisation problem (the MATPOWER arrays, the sidecar and the
    load band when there is one: a case without keeps its hash), so equal inputs give equal keys in
    the lake and a rerun rewrites identical objects."""
    mpc = to_mpc(case)
    body = {k: (np.round(v, 9).tolist() if isinstance(v, np.ndarray) else v) for k, v in mpc.items()}
    content = {"mpc": body, "sidecar": sidecar(case)}
    if case.load_band_mw is not None:
        content["load_band_mw"] = np.round(case.load_band_mw, 9).tolist()
    payload = json.dumps(content, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()
