"""Migration 016: fault labels written with the grid registration, and the NEMA unbalance view."""

from datetime import UTC, datetime, timedelta

import pytest

from data_engineering.pipelines.grid_setup import register_simulated_grid
from data_engineering.simulation.engine import SimulationConfig, Simulator
from data_engineering.simulation.faults import Fault, fault_labels
from data_engineering.storage.faults import read_fault_labels

START = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)


def test_registering_a_run_stores_its_fault_labels_once(database):
    loss = Fault("phase_loss", "transformer", "xf-p-00001", 30.0, 60.0, 0.95, phase="C")
    sim = Simulator(SimulationConfig(start=START, duration_s=1800, n_meters=40, faults=(loss,),
                                     random_faults_per_hour=30.0))
    register_simulated_grid(database, sim)
    register_simulated_grid(database, sim)  # again: the same rows, not twice as many
    with database.connect() as conn:
        stored = read_fault_labels(conn, START, START + timedelta(days=1))
    assert len(sim.report.faults) > 5
    assert stored == fault_labels(sim.report.faults, START, sim.config.seed)
    assert stored[0].parameters == {"phase": "C", "start_s": 30.0, "duration_s": 60.0} and stored[0].is_simulation


def test_phase_unbalance_is_the_largest_deviation_over_the_average(database):
    values = (START, "xf-p-00000", "transformer", "f-000", 230.0, 220.0, 240.0, 10.0, 10.0, 10.0,
              2.0, 2.0, 2.0, 0.5, 0.5, 0.5, 60.0, True, START, 1)
    with database.connect() as conn:
        conn.execute("SELECT lascopf_ensure_partitions('phase_measurements', %s, %s)", (START, START))
        conn.execute("INSERT INTO phase_measurements (ts, point_id, point_kind, feeder_id, v_a_v, v_b_v, v_c_v,"
                     " i_a_a, i_b_a, i_c_a, p_a_kw, p_b_kw, p_c_kw, q_a_kvar, q_b_kvar, q_c_kvar, freq_hz,"
                     " is_simulation, received_ts, ingest_batch)"
                     " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", values)
        row = conn.execute("SELECT voltage_unbalance_pct, current_unbalance_pct FROM phase_unbalance"
                           " WHERE point_id = %s", ("xf-p-00000",)).fetchone()
    assert row == (pytest.approx(100 * 10 / 230), 0.0)
