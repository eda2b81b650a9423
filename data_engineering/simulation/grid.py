"""The reference transmission network the simulator measures: a PGLib-OPF, MATPOWER or pandapower
case read as the solver reads it, reduced to what a DC power flow needs. SCADA values come from this DC flow so they are
consistent with the metered load: bus loads follow the meters, generators balance them, flows and
angles follow from the network."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

BUS_TYPE, PD, QD, BASE_KV = 1, 2, 3, 9  # MATPOWER bus columns
ISOLATED_BUS = 4


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
    gen_names: tuple[str, ...] = ()
    branch_names: tuple[str, ...] = ()

    @property
    def load_buses(self) -> np.ndarray:
        return np.flatnonzero(self.load_mw > 0)

    def branch_ids(self) -> list[str]:
        """The solver's branch names (`from-to`, `#k` for parallels), so SCADA and results agree."""
        return list(self.branch_names)

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


def load_reference_grid(case: str = "pglib_opf_case30_ieee") -> ReferenceGrid:
    """A case by the solver's names (PGLib-OPF, a pandapower case, a `.m` path), read the way the
    solver reads it (same units, generators, branch names and DC reactances), plus the MATPOWER bus
    columns the simulator also needs (reactive load, base kV)."""
    from data_engineering.solver.cases import case_mpc
    from data_engineering.solver.cases.matpower import case_from_mpc

    mpc = case_mpc(case)
    model = case_from_mpc(mpc, case)
    bus = np.asarray(mpc["bus"], dtype=float)
    bus = bus[bus[:, BUS_TYPE] != ISOLATED_BUS]
    gens, branches = model.generators, model.branches
    live = branches.in_service
    return ReferenceGrid(
        name=case,
        base_mva=model.base_mva,
        bus_ids=model.buses.ids,
        base_kv=np.where(bus[:, BASE_KV] > 0, bus[:, BASE_KV], 1.0),
        load_mw=bus[:, PD].copy(),
        load_mvar=bus[:, QD].copy(),
        gen_bus=gens.bus.copy(),
        gen_p_mw=gens.p0_mw.copy(),
        gen_pmin_mw=np.maximum(gens.pmin_mw, 0.0),
        gen_pmax_mw=gens.pmax_mw.copy(),
        branch_from=branches.from_bus[live],
        branch_to=branches.to_bus[live],
        branch_x_pu=branches.x_pu[live],
        ref=model.buses.ref,
        gen_names=gens.names,
        branch_names=tuple(n for n, up in zip(branches.names, live, strict=True) if up),
    )
