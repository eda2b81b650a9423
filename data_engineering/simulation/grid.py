"""The reference transmission network the simulator measures: a MATPOWER/IEEE case from
pandapower, reduced to what a DC power flow needs. SCADA values come from this DC flow so they are
consistent with the metered load: bus loads follow the meters, generators balance them, flows and
angles follow from the network."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

# MATPOWER column indices (bus, gen, branch).
BUS_I, BUS_TYPE, PD, QD, BASE_KV = 0, 1, 2, 3, 9
GEN_BUS, PG, PMAX, PMIN = 0, 1, 8, 9
F_BUS, T_BUS, BR_X, TAP, BR_STATUS = 0, 1, 3, 8, 10
REF = 3


@dataclass(frozen=True)
class ReferenceGrid:
    name: str
    base_mva: float
    bus_ids: np.ndarray  # MATPOWER bus numbers
    base_kv: np.ndarray
    load_mw: np.ndarray  # nominal load per bus
    load_mvar: np.ndarray
    gen_bus: np.ndarray  # bus index (position) per generator
    gen_p_mw: np.ndarray
    gen_pmin_mw: np.ndarray
    gen_pmax_mw: np.ndarray
    branch_from: np.ndarray  # bus positions
    branch_to: np.ndarray
    branch_x_pu: np.ndarray
    ref: int  # position of the reference bus

    @property
    def load_buses(self) -> np.ndarray:
        return np.flatnonzero(self.load_mw > 0)

    def branch_ids(self) -> list[str]:
        ids = self.bus_ids
        return [f"{ids[f]}-{ids[t]}-{k}" for k, (f, t) in enumerate(zip(self.branch_from, self.branch_to, strict=True))]

    def dispatch(self, total_load_mw: np.ndarray) -> np.ndarray:
        """Generator output (T × G) covering the load: participation in proportion to each unit's
        case output (or capacity where that is 0), clipped to limits; the reference unit takes the rest."""
        weights = np.where(self.gen_p_mw > 0, self.gen_p_mw, self.gen_pmax_mw)
        weights = weights / weights.sum()
        p = np.clip(np.outer(total_load_mw, weights), self.gen_pmin_mw, self.gen_pmax_mw)
        slack = int(np.flatnonzero(self.gen_bus == self.ref)[0]) if (self.gen_bus == self.ref).any() else 0
        p[:, slack] += total_load_mw - p.sum(axis=1)
        return p

    def dc_flow(self, injection_mw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bus angles (T × N, degrees) and branch flows (T × L, MW) for net injections (T × N, MW)."""
        n = len(self.bus_ids)
        b = 1.0 / self.branch_x_pu
        f, t = self.branch_from, self.branch_to
        incidence = sp.csr_matrix((np.r_[np.ones_like(b), -np.ones_like(b)],
                                   (np.r_[np.arange(len(b)), np.arange(len(b))], np.r_[f, t])), shape=(len(b), n))
        bf = sp.diags(b) @ incidence
        bbus = (incidence.T @ bf).tocsc()
        keep = np.flatnonzero(np.arange(n) != self.ref)
        lu = splu(bbus[keep][:, keep].tocsc())
        theta = np.zeros((injection_mw.shape[0], n))
        theta[:, keep] = lu.solve(np.ascontiguousarray((injection_mw[:, keep] / self.base_mva).T)).T
        flows = (bf @ theta.T).T * self.base_mva
        return np.degrees(theta), flows


def load_reference_grid(case: str = "case14") -> ReferenceGrid:
    """A case from `pandapower.networks` by name (case14, case30, case39, case57, case118, …)."""
    logging.getLogger("pandapower").setLevel(logging.ERROR)  # optional-plotting notices at import
    import pandapower.networks as pn
    from pandapower.converter.matpower.to_mpc import to_mpc

    factory = getattr(pn, case, None)
    if factory is None:
        raise ValueError(f"unknown pandapower case {case!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mpc = to_mpc(factory(), init="flat")["mpc"]
    bus, gen, branch = mpc["bus"], mpc["gen"], mpc["branch"]
    position = {int(b): i for i, b in enumerate(bus[:, BUS_I])}
    live = branch[:, BR_STATUS] > 0
    tap = np.where(branch[live, TAP] == 0, 1.0, branch[live, TAP])
    return ReferenceGrid(
        name=case,
        base_mva=float(mpc["baseMVA"]),
        bus_ids=bus[:, BUS_I].astype(int),
        base_kv=bus[:, BASE_KV],
        load_mw=bus[:, PD].copy(),
        load_mvar=bus[:, QD].copy(),
        gen_bus=np.array([position[int(b)] for b in gen[:, GEN_BUS]]),
        gen_p_mw=gen[:, PG].copy(),
        gen_pmin_mw=np.maximum(gen[:, PMIN], 0.0),
        gen_pmax_mw=gen[:, PMAX].copy(),
        branch_from=np.array([position[int(b)] for b in branch[live, F_BUS]]),
        branch_to=np.array([position[int(b)] for b in branch[live, T_BUS]]),
        branch_x_pu=branch[live, BR_X] * tap,
        ref=int(np.flatnonzero(bus[:, BUS_TYPE] == REF)[0]),
    )
