"""The threshold baseline the models must beat: what a utility's monitor flags today."""

from __future__ import annotations

import pandas as pd

SAG_PU, SWELL_PU, LOST_PU = 0.9, 1.1, 0.5
UNBALANCE, OVERLOAD, FREQ_DEV_HZ = 0.02, 1.0, 0.1
SILENT, STUCK_SHARE, TAMPER_RESIDUAL, TAMPER_SHARE = 0.5, 0.5, 0.10, 0.25


def flags(features: pd.DataFrame, kinds: tuple[str, ...]) -> pd.DataFrame:
    """A boolean column per kind. A sag needs the median phase low (all three sag), a lost phase
    only the lowest; a tamper a transformer residual over `TAMPER_RESIDUAL` that the meter's own
    power could explain at `TAMPER_SHARE` hidden."""
    f = features
    rules = {
        "voltage_sag": lambda: f["v_mid_pu"] < SAG_PU,
        "voltage_swell": lambda: f["v_max_pu"] > SWELL_PU,
        "phase_loss": lambda: f["v_min_pu"] < LOST_PU,
        "phase_unbalance": lambda: (f["v_unbalance"] > UNBALANCE) & (f["v_min_pu"] >= LOST_PU),
        "transformer_overload": lambda: f["loading"] > OVERLOAD,
        "frequency_excursion": lambda: f["freq_dev_hz"] > FREQ_DEV_HZ,
        "comm_loss": lambda: (f["phase_records"] < SILENT) | (f["ami_readings"] < SILENT),
        "meter_flatline": lambda: f["repeat_share"] >= STUCK_SHARE,
        "meter_tamper": lambda: (f["pole_residual"] > TAMPER_RESIDUAL) & (f["residual_share"] > TAMPER_SHARE),
    }
    return pd.DataFrame({k: rules[k]().to_numpy() for k in kinds}, index=f.index)
