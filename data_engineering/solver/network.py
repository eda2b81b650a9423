"""Linear sensitivities of the DC network: PTDF and LODF, on the part connected to the reference bus.

With injections in MW, `ptdf @ injection` gives branch flows in MW (the reference bus absorbs the
imbalance, which is zero for a balanced injection). The flow on branch l after the outage of branch k
is `f_l + lodf[l, k] · f_k`. Buses cut off from the reference bus (by branches out of service) have
zero PTDF columns: nothing they inject reaches the rest, so the model must treat them as
de-energised (`Network.island`), never as if they were connected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu

from data_engineering.solver.case import Case


@dataclass(frozen=True, eq=False)
class Network:
    ptdf: np.ndarray  # (branches, buses)
    lodf: np.ndarray  # (branches, branches); column k is the outage of k, diagonal -1; 0 for bridges
    bridges: np.ndarray  # bool per branch: its outage islands the network
    island: np.ndarray  # bool per bus: cut off from the reference bus in the base topology

    def post_contingency_ptdf(self, outage: int) -> np.ndarray:
        """PTDF of the network without branch `outage` (its own row is zero). For a bridge, the
        base PTDF holds for the reference side; the caller zeroes the cut-off buses' columns."""
        return self.ptdf + np.outer(self.lodf[:, outage], self.ptdf[outage])


def incidence(case: Case, live: np.ndarray | None = None) -> sp.csr_matrix:
    br = case.branches
    idx = np.flatnonzero(br.in_service if live is None else live)
    rows = np.r_[np.arange(len(idx)), np.arange(len(idx))]
    signs = np.r_[np.ones(len(idx)), -np.ones(len(idx))]
    return sp.csr_matrix((signs, (rows, np.r_[br.from_bus[idx], br.to_bus[idx]])), shape=(len(idx), case.buses.n))


def cut_off(case: Case, live: np.ndarray) -> np.ndarray:
    """Bool per bus: not connected to the reference bus through the `live` branches (graph test)."""
    a = incidence(case, live)
    labels = connected_components(a.T @ a, directed=False)[1]
    return labels != labels[case.buses.ref]


def is_connected(case: Case, live: np.ndarray) -> bool:
    return not cut_off(case, live).any()


def build_network(case: Case) -> Network:
    br, n = case.branches, case.buses.n
    island = cut_off(case, br.in_service)
    a = incidence(case).tocsc()
    b = (1.0 / br.x_pu)[br.in_service]
    bf = sp.diags(b) @ a
    bbus = (a.T @ bf).tocsc()
    keep = np.flatnonzero((np.arange(n) != case.buses.ref) & ~island)
    inverse = np.zeros((n, n))
    inverse[np.ix_(keep, keep)] = splu(bbus[keep][:, keep].tocsc()).solve(np.eye(len(keep)))
    ptdf = np.zeros((br.n, n))
    ptdf[br.in_service] = bf @ inverse
    # Flow change on l per MW moved across branch k: PTDF_l · (e_from(k) − e_to(k)).
    transfer = ptdf[:, br.from_bus] - ptdf[:, br.to_bus]
    own = np.diag(transfer).copy()
    bridges = np.isclose(own, 1.0, atol=1e-8) & br.in_service
    with np.errstate(divide="ignore", invalid="ignore"):
        lodf = transfer / np.where(bridges, np.nan, 1.0 - own)
    lodf[:, bridges] = 0.0
    np.fill_diagonal(lodf, -1.0)
    return Network(ptdf=ptdf, lodf=lodf, bridges=bridges, island=island)
