"""Linear sensitivities of the DC network: PTDF and LODF, on the part connected to the reference bus.

With injections in MW, `ptdf @ injection` gives branch flows in MW (the reference bus absorbs the
imbalance, which is zero for a balanced injection). The flow on branch l after the outage of branch k
is `f_l + lodf[l, k] · f_k`. Buses cut off from the reference bus (by branches out of service) have
zero PTDF columns: nothing they inject reaches the rest, so the model must treat them as
de-energised (`Network.island`), never as if they were connected.

Nothing dense is built up front: the reduced susceptance matrix is factorised once (sparse LU) and
rows/columns are solved as they are asked for, so memory follows the monitored set, not L × L.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu

from data_engineering.solver.case import Case

DENSE_BUSES = 1000  # up to here the full PTDF/LODF are built once and indexed
SOLVE_BLOCK = 512  # LODF columns solved per sparse solve
STORE_ROWS = 512  # the LODF store's first room, in rows


class Network:
    """Sensitivities from one sparse LU of the reduced susceptance matrix: PTDF rows of the branches
    asked for and LODF columns of the outages asked for are solved on demand and cached, so a grid-scale
    case never holds a dense inverse. The full `ptdf`/`lodf` stay available for small cases and tests."""

    def __init__(self, case: Case, island: np.ndarray, bf: sp.csr_matrix, keep: np.ndarray, reduced: sp.csc_matrix):
        self.case, self.island, self._bf, self._keep, self._reduced = case, island, bf, keep, reduced
        self._rows: dict[int, np.ndarray] = {}
        # LODF columns, solved on demand, as the rows of one array in the order solved (`lodf_store`),
        # its room doubled as it fills (room for every branch at once would be 2 GB of address space on
        # 9,241 buses, and more than the machine on the largest PGLib cases)
        self._store: np.ndarray | None = None
        self._row_of: dict[int, int] = {}  # outage → its row in the store
        self._own: dict[int, float] = {}

    @property
    def dense(self) -> bool:
        """Small networks keep the full matrices: indexing them beats per-row solves (measured on
        118 buses, T=24, all N-1), and they are small."""
        return self.case.buses.n <= DENSE_BUSES

    @cached_property
    def _lu(self):
        return splu(self._reduced)

    def __getstate__(self) -> dict:
        """SuperLU does not pickle: a worker factorises again on first use. The LODF store travels
        without its empty room."""
        state = {k: v for k, v in self.__dict__.items() if k != "_lu"}
        if self._store is not None:
            state["_store"] = self._store[: len(self._row_of)].copy()
        return state

    def _make_room(self, rows: int) -> None:
        """Room in the LODF store for `rows` more rows."""
        filled = len(self._row_of)
        room = 0 if self._store is None else len(self._store)
        if filled + rows <= room:
            return
        store = np.empty((min(self.n_branches, max(filled + rows, 2 * room, STORE_ROWS)), self.n_branches))
        if filled:
            store[:filled] = self._store[:filled]
        self._store = store

    @property
    def n_branches(self) -> int:
        return self.case.branches.n

    def _solve(self, rhs: np.ndarray) -> np.ndarray:
        """Angles (buses × k) for bus injections (buses × k); the reference and cut-off buses at 0."""
        theta = np.zeros_like(rhs, dtype=float)
        if len(self._keep):
            theta[self._keep] = self._lu.solve(np.ascontiguousarray(rhs[self._keep], dtype=float))
        return theta

    def branch_flows(self, injection: np.ndarray) -> np.ndarray:
        """(..., L) flows of bus injections (..., N): one sparse solve instead of a dense PTDF product."""
        if self.dense:
            return injection @ self.ptdf.T
        shape = injection.shape
        flat = injection.reshape(-1, shape[-1]).T
        flows = np.zeros((self.n_branches, flat.shape[1]))
        flows[self.case.branches.in_service] = self._bf @ self._solve(flat)
        return flows.T.reshape(*shape[:-1], self.n_branches)

    def ptdf_rows(self, branches: np.ndarray) -> np.ndarray:
        """(len(branches), N) PTDF rows (B⁻¹ is symmetric, so a row is one solve), cached."""
        branches = np.asarray(branches, dtype=int).ravel()
        if self.dense:
            return self.ptdf[branches]
        return self._solved_rows(branches)

    def _solved_rows(self, branches: np.ndarray) -> np.ndarray:
        missing = [int(b) for b in dict.fromkeys(branches.tolist()) if b not in self._rows]
        if missing:
            live = np.cumsum(self.case.branches.in_service) - 1
            rhs = np.zeros((self.case.buses.n, len(missing)))
            on = self.case.branches.in_service[missing]
            if on.any():
                rhs[:, on] = self._bf[live[np.asarray(missing)[on]]].T.toarray()
            rows = self._solve(rhs).T
            self._rows.update(zip(missing, rows, strict=True))
        return np.stack([self._rows[int(b)] for b in branches]) if len(branches) else np.zeros((0, self.case.buses.n))

    def _transfer(self, outages: np.ndarray) -> np.ndarray:
        """(L, len(outages)) flow change on every branch per MW moved across each outaged branch."""
        br = self.case.branches
        rhs = np.zeros((self.case.buses.n, len(outages)))
        rhs[br.from_bus[outages], np.arange(len(outages))] += 1.0
        rhs[br.to_bus[outages], np.arange(len(outages))] -= 1.0
        return self.branch_flows(rhs.T).T

    def lodf_columns(self, outages: np.ndarray) -> np.ndarray:
        """(L, len(outages)) LODF columns, cached; zero for a bridge, −1 on the outage's own row."""
        outages = np.asarray(outages, dtype=int).ravel()
        if self.dense:
            return self.lodf[:, outages]
        return self._solved_columns(outages)

    def lodf_rows(self, outages: np.ndarray) -> np.ndarray:
        """(len(outages), L): `lodf_columns` laid out one outage per row, a copy (`lodf_store` reads
        them in place)."""
        outages = np.asarray(outages, dtype=int).ravel()
        if self.dense:
            return np.ascontiguousarray(self.lodf[:, outages].T)
        return self._stacked(outages)

    def lodf_store(self, outages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(store, rows): the LODF column of outages[i] is the row rows[i] of `store`, the cache itself
        (read, never written, by a per-outage compiled pass). Copying the rows out for every pass
        (`lodf_rows`) took a quarter of a 2,869-bus ADMM iteration: 3,804 outages × 4,582 branches,
        140 MB, for each flow check of each copy."""
        outages = np.asarray(outages, dtype=int).ravel()
        self._solve_columns(outages)
        rows = np.array([self._row_of[k] for k in outages.tolist()], dtype=np.int64)
        store = self._store[: len(self._row_of)] if self._store is not None else np.zeros((0, self.n_branches))
        return store, rows

    def _solve_columns(self, outages: np.ndarray) -> None:
        """Solve and cache the LODF columns of `outages` not cached yet, SOLVE_BLOCK at a time: all
        outages of a grid-scale case at once would hold buses × outages and branches × outages dense
        arrays (gigabytes) for a moment."""
        missing = np.array([k for k in dict.fromkeys(outages.tolist()) if k not in self._row_of], dtype=int)
        self._make_room(len(missing))
        for start in range(0, len(missing), SOLVE_BLOCK):
            block = missing[start:start + SOLVE_BLOCK]
            transfer = self._transfer(block)
            for j, k in enumerate(block.tolist()):
                own = transfer[k, j]
                self._own[k] = own
                bridge = np.isclose(own, 1.0, atol=1e-8) and self.case.branches.in_service[k]
                row = self._store[len(self._row_of)]
                row[:] = 0.0 if bridge else transfer[:, j] / (1.0 - own)
                row[k] = -1.0
                self._row_of[k] = len(self._row_of)

    def _stacked(self, outages: np.ndarray) -> np.ndarray:
        """(len(outages), L): the cached columns of `outages` (solved first where missing), as rows."""
        store, rows = self.lodf_store(outages)
        return store[rows]

    def _solved_columns(self, outages: np.ndarray) -> np.ndarray:
        return self._stacked(np.asarray(outages, dtype=int).ravel()).T

    def is_bridge(self, outages: np.ndarray) -> np.ndarray:
        """Bool per outage: its removal islands the network (the flow across it cannot move). Asked
        about none (a base-case screen), it solves nothing: `bridges` would solve every LODF column."""
        outages = np.asarray(outages, dtype=int).ravel()
        if not len(outages):
            return np.zeros(0, dtype=bool)
        if self.dense:
            return self.bridges[outages]
        self._solve_columns(outages)
        own = np.array([self._own[int(k)] for k in outages])
        return np.isclose(own, 1.0, atol=1e-8) & self.case.branches.in_service[outages]

    @cached_property
    def ptdf(self) -> np.ndarray:
        """(branches, buses) dense PTDF: for small cases and checks only."""
        return self._solved_rows(np.arange(self.n_branches))

    @cached_property
    def lodf(self) -> np.ndarray:
        """(branches, branches) dense LODF; column k is the outage of k, diagonal −1, 0 for bridges."""
        return self._solved_columns(np.arange(self.n_branches))

    @cached_property
    def bridges(self) -> np.ndarray:
        everything = np.arange(self.n_branches)
        self._solve_columns(everything)
        own = np.array([self._own[int(k)] for k in everything])
        return np.isclose(own, 1.0, atol=1e-8) & self.case.branches.in_service

    def post_contingency_ptdf(self, outage: int, branches: np.ndarray | None = None) -> np.ndarray:
        """PTDF rows `branches` (default all) of the network without branch `outage` (its own row is
        zero). For a bridge, the base PTDF holds for the reference side; the caller zeroes the
        cut-off buses' columns."""
        branches = np.arange(self.n_branches) if branches is None else np.asarray(branches, dtype=int)
        rows = self.ptdf_rows(branches)
        if self.is_bridge([outage])[0]:
            return rows
        return rows + np.outer(self.lodf_columns([outage])[branches, 0], self.ptdf_rows([outage])[0])


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


class Bridges:
    """The branches whose single outage cuts buses off the reference bus, and which buses, from one
    depth-first search (Tarjan's bridge finding, O(buses + branches)) instead of a connected-components
    pass per branch — the N-1 list of a 9241-bus case has ~16,000 branches. Edges are told apart by
    branch, so parallel branches are never bridges. The search starts at the reference bus: the side a
    bridge cuts off is the subtree below it, a contiguous range of discovery order."""

    def __init__(self, case: Case, live: np.ndarray | None = None) -> None:
        br, n = case.branches, case.buses.n
        live = br.in_service if live is None else live
        edges = np.flatnonzero(live)
        ends = np.r_[br.from_bus[edges], br.to_bus[edges]]
        order = np.argsort(ends, kind="stable")
        start = np.searchsorted(ends[order], np.arange(n + 1)).tolist()
        other = np.r_[br.to_bus[edges], br.from_bus[edges]][order].tolist()
        edge = np.r_[edges, edges][order].tolist()
        disc, low, last = [-1] * n, [0] * n, [0] * n
        below: dict[int, int] = {}  # bridge branch → the bus on its cut-off side
        timer = 0
        disc[case.buses.ref] = low[case.buses.ref] = timer
        stack = [(case.buses.ref, -1, start[case.buses.ref])]
        while stack:
            node, via, i = stack[-1]
            if i < start[node + 1]:
                stack[-1] = (node, via, i + 1)
                w, e = other[i], edge[i]
                if e == via:
                    continue
                if disc[w] < 0:
                    timer += 1
                    disc[w] = low[w] = timer
                    stack.append((w, e, start[w]))
                else:
                    low[node] = min(low[node], disc[w])
                continue
            stack.pop()
            last[node] = timer
            if stack:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[node])
                if low[node] > disc[parent]:
                    below[via] = node
        self._disc = np.array(disc)
        self._span = {k: (disc[b], last[b]) for k, b in below.items()}
        self.mask = np.zeros(br.n, dtype=bool)
        self.mask[list(self._span)] = True

    def cut_off(self, branch: int) -> np.ndarray:
        """Bool per bus: reached from the reference bus, and not without `branch`."""
        if branch not in self._span:
            return np.zeros(len(self._disc), dtype=bool)
        first, last = self._span[branch]
        return (self._disc >= first) & (self._disc <= last)


def is_connected(case: Case, live: np.ndarray) -> bool:
    return not cut_off(case, live).any()


def build_network(case: Case) -> Network:
    br, n = case.branches, case.buses.n
    island = cut_off(case, br.in_service)
    a = incidence(case).tocsc()
    bf = (sp.diags((1.0 / br.x_pu)[br.in_service]) @ a).tocsr()
    bbus = (a.T @ bf).tocsc()
    keep = np.flatnonzero((np.arange(n) != case.buses.ref) & ~island)
    return Network(case, island, bf, keep, bbus[keep][:, keep].tocsc())
