"""Per-window features, pure functions of data frames: the same code scores the simulator's
messages in the bench and the stored tables in the pipeline.

Inputs (column names as the tables have them):
- `phases`: ts, point_id (transformers only), v_{a,b,c}_v, i_{a,b,c}_a, p_{a,b,c}_kw,
  q_{a,b,c}_kvar, freq_hz;
- `ami`: ts, meter_id, voltage_v, power_kw;
- `topology`: meter_id, transformer_id, rated_kva (the transformer's), one row per meter.

Windows are `window_s` long, aligned on the epoch; a window's features are what a monitor has once
it closes. "Normal" levels (a transformer's voltage, a meter's power) are the medians over the
frame passed in: the scorer needs a stretch of history, not labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

PHASES = "abc"
TRANSFORMER_FEATURES = ("v_min_pu", "v_mid_pu", "v_max_pu", "v_mid_rel", "v_unbalance", "i_unbalance",
                        "loading", "freq_dev_hz", "phase_records", "ami_readings", "p_residual")
METER_FEATURES = ("readings", "repeat_share", "p_cv", "p_rel", "v_dev_pu", "pole_residual", "residual_share")


@dataclass(frozen=True)
class Windowing:
    """The window length and what is expected in one: meter readings at `rate_hz`, phase records
    every `interval_s`, and the nominal voltage and frequency the deviations are measured from."""

    window_s: int = 60
    rate_hz: float = 1.0
    interval_s: float = 5.0
    nominal_v: float = 240.0
    nominal_hz: float = 60.0


def window_start(ts: pd.Series, window_s: int) -> pd.Series:
    return ts.dt.floor(f"{window_s}s")


def _unbalance(x: np.ndarray) -> np.ndarray:
    """NEMA unbalance: the largest deviation from the phases' mean over the mean."""
    mean = x.mean(axis=1)
    return np.abs(x - mean[:, None]).max(axis=1) / np.maximum(mean, 1e-9)


def _per_sample(phases: pd.DataFrame, topology: pd.DataFrame, w: Windowing) -> pd.DataFrame:
    v = phases[[f"v_{p}_v" for p in PHASES]].to_numpy() / w.nominal_v
    i = phases[[f"i_{p}_a" for p in PHASES]].to_numpy()
    p = phases[[f"p_{k}_kw" for k in PHASES]].to_numpy()
    q = phases[[f"q_{k}_kvar" for k in PHASES]].to_numpy()
    rated = phases["point_id"].map(topology.drop_duplicates("transformer_id")
                                   .set_index("transformer_id")["rated_kva"]).to_numpy()
    vs = np.sort(v, axis=1)
    return pd.DataFrame({"transformer_id": phases["point_id"].to_numpy(), "ts": phases["ts"].to_numpy(),
                         "v_min_pu": vs[:, 0], "v_mid_pu": vs[:, 1], "v_max_pu": vs[:, 2],
                         "v_unbalance": _unbalance(v), "i_unbalance": _unbalance(i),
                         "loading": np.hypot(p, q).sum(axis=1) / np.maximum(rated, 1e-9),
                         "freq_dev_hz": np.abs(phases["freq_hz"].to_numpy() - w.nominal_hz),
                         "p_kw": p.sum(axis=1)})


def _complete(frame: pd.DataFrame, key: str, ids: list[str], counts: tuple[str, ...]) -> pd.DataFrame:
    """Every (id, window) pair, silent ones included: a window with nothing received has zero
    counts and, for the rest, its entity's median, so only the counts tell it apart."""
    grid = pd.MultiIndex.from_product([ids, sorted(frame["window"].unique())], names=[key, "window"])
    out = frame.set_index([key, "window"]).reindex(grid).reset_index()
    out[list(counts)] = out[list(counts)].fillna(0.0)
    rest = [c for c in out.columns if c not in (key, "window", *counts)]
    out[rest] = out[rest].fillna(out.groupby(key)[rest].transform("median"))
    return out


def meter_windows(ami: pd.DataFrame, meter_ids: list[str], w: Windowing) -> pd.DataFrame:
    """Per (meter, window): readings received over expected, the share of readings that repeat the
    previous value exactly (a stuck register), power's coefficient of variation, power over the
    meter's median, and the voltage's deviation from nominal."""
    a = ami.sort_values(["meter_id", "ts"])
    repeat = (a["power_kw"].eq(a["power_kw"].shift()) & a["voltage_v"].eq(a["voltage_v"].shift())
              & a["meter_id"].eq(a["meter_id"].shift()))
    a = a.assign(window=window_start(a["ts"], w.window_s), repeat=repeat.astype(float))
    g = a.groupby(["meter_id", "window"])
    out = g.agg(n=("power_kw", "size"), repeat_share=("repeat", "mean"), p_mean=("power_kw", "mean"),
                p_std=("power_kw", "std"), v_mean=("voltage_v", "mean")).reset_index()
    out = _complete(out, "meter_id", meter_ids, ("n",))
    out["readings"] = out["n"] / (w.window_s * w.rate_hz)
    out["p_cv"] = out["p_std"].fillna(0.0) / np.maximum(out["p_mean"].abs(), 1e-3)
    out["p_rel"] = out["p_mean"] / np.maximum(out.groupby("meter_id")["p_mean"].transform("median"), 1e-3)
    out["v_dev_pu"] = out["v_mean"] / w.nominal_v - 1.0
    return out


def transformer_windows(phases: pd.DataFrame, meters: pd.DataFrame, topology: pd.DataFrame,
                        w: Windowing) -> pd.DataFrame:
    """Per (transformer, window): the worst voltages (lowest phase, median phase, highest phase,
    the median phase over the transformer's usual level), the worst voltage and current unbalance,
    peak loading, the largest frequency deviation, phase records and its meters' readings received
    over expected, and the power its meters do not account for (a tampered meter hides power the
    transformer still measures; copper losses keep it at a few per cent)."""
    s = _per_sample(phases, topology, w)
    s["window"] = window_start(s["ts"], w.window_s)
    g = s.groupby(["transformer_id", "window"])
    out = g.agg(v_min_pu=("v_min_pu", "min"), v_mid_pu=("v_mid_pu", "min"), v_max_pu=("v_max_pu", "max"),
                v_unbalance=("v_unbalance", "max"), i_unbalance=("i_unbalance", "max"), loading=("loading", "max"),
                freq_dev_hz=("freq_dev_hz", "max"), n=("p_kw", "size"), p_kw=("p_kw", "mean")).reset_index()
    out = _complete(out, "transformer_id", sorted(topology["transformer_id"].unique()), ("n",))
    out["v_mid_rel"] = out["v_mid_pu"] / out.groupby("transformer_id")["v_mid_pu"].transform("median")
    out["phase_records"] = out["n"] / (w.window_s / w.interval_s)
    per_pole = (meters.merge(topology[["meter_id", "transformer_id"]], on="meter_id")
                .groupby(["transformer_id", "window"]).agg(meter_kw=("p_mean", "sum"), n=("n", "sum")).reset_index())
    expected = topology.groupby("transformer_id").size().rename("n_meters").reset_index()
    per_pole = per_pole.merge(expected, on="transformer_id")
    out = out.merge(per_pole[["transformer_id", "window", "meter_kw", "n", "n_meters"]], how="left",
                    on=["transformer_id", "window"], suffixes=("", "_ami"))
    out["ami_readings"] = (out["n_ami"].fillna(0.0) / (out["n_meters"].fillna(1.0) * w.window_s * w.rate_hz))
    out["p_residual"] = (out["p_kw"] - out["meter_kw"].fillna(0.0)) / np.maximum(out["p_kw"].abs(), 1e-3)
    return out.drop(columns=["n", "n_ami", "n_meters", "meter_kw"])


def meter_features(meters: pd.DataFrame, transformers: pd.DataFrame, topology: pd.DataFrame) -> pd.DataFrame:
    """A meter's window with its transformer's unexplained power: as a share of the transformer's
    and as a multiple of the meter's own reported power (a hidden share of it shows up there)."""
    pole = transformers[["transformer_id", "window", "p_residual", "p_kw"]]
    out = meters.merge(topology[["meter_id", "transformer_id"]], on="meter_id").merge(
        pole, how="left", on=["transformer_id", "window"])
    out["pole_residual"] = out["p_residual"].fillna(0.0)
    out["residual_share"] = (out["pole_residual"] * out["p_kw"].fillna(0.0)
                             / np.maximum(out["p_mean"].abs(), 1e-3)).clip(-50, 50)
    return out.drop(columns=["p_residual", "p_kw"])
