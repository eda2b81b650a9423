"""Register a simulated grid before its telemetry flows: the distribution asset model (meters →
poles → feeders → buses) with its CIM twin, the labels of the faults it injects, and the
transmission network model the case builder reads."""

from __future__ import annotations

from datetime import timedelta

from data_engineering.simulation.assets import asset_model
from data_engineering.simulation.engine import Simulator
from data_engineering.simulation.faults import fault_labels
from data_engineering.simulation.phases import meter_phases
from data_engineering.solver.cases import load_case
from data_engineering.storage.assets import upsert_asset_model
from data_engineering.storage.database import Database
from data_engineering.storage.faults import write_fault_labels
from data_engineering.storage.network import register_network
from data_engineering.storage.twin import write_twin
from data_engineering.twin.cim import cim_twin

# The network model is valid from well before any history the simulator back-fills.
VALID_BEFORE_START = timedelta(days=60)


def register_simulated_grid(db: Database, sim: Simulator) -> int:
    """Upsert the asset model and its twin, the ground truth of the faults the run will inject, and
    register the network (a no-op when unchanged); its version id."""
    case = load_case(sim.config.case, interval_minutes=60.0)
    assets = asset_model(sim.fleet, sim.grid, sim.config.nominal_voltage_v)
    with db.transaction() as conn:
        upsert_asset_model(conn, assets)
        write_twin(conn, cim_twin(assets, meter_phases(sim.fleet, sim.config.seed)))
        write_fault_labels(conn, fault_labels(sim.report.faults, sim.config.start, sim.config.seed))
        return register_network(conn, case, sim.config.start - VALID_BEFORE_START, f"simulator:{sim.config.case}")
