"""Which phase each simulated meter is wired to. Drawn from a stream of its own so that adding
phases leaves every earlier draw of the simulator (and so its byte-for-byte output) unchanged."""

from __future__ import annotations

import numpy as np

from data_engineering.simulation.assets import CUSTOMER_CLASSES, Fleet
from data_engineering.twin.cim import THREE_PHASE

PHASE_STREAM = 0x50484153  # "PHAS": the phase generator's key next to the simulation seed
SINGLE_PHASES = tuple(THREE_PHASE)


def meter_phases(fleet: Fleet, seed: int) -> dict[str, str]:
    """Residential meters on A, B or C; commercial and industrial customers take all three."""
    draws = np.random.default_rng([seed, PHASE_STREAM]).integers(0, len(SINGLE_PHASES), size=fleet.n_meters)
    residential = CUSTOMER_CLASSES.index("residential")
    return {mid: SINGLE_PHASES[draws[i]] if fleet.meter_class[i] == residential else THREE_PHASE
            for i, mid in enumerate(fleet.meter_ids)}
