"""Window labels from `fault_labels`: which fault kinds each (target, window) overlaps.

Each kind is scored on one kind of window, where what it does shows up:
- transformer windows: voltage_sag, voltage_swell, phase_loss, phase_unbalance,
  transformer_overload, frequency_excursion, comm_loss. A feeder-level fault labels every
  transformer on the feeder, a system-level one (frequency) every transformer, a gateway's
  (comm_loss) the transformer on its pole;
- meter windows: meter_flatline, meter_tamper, on the meter itself (its transformer's windows
  carry the tamper residual as a feature, not a label).
"""

from __future__ import annotations

import pandas as pd

TRANSFORMER_KINDS = ("voltage_sag", "voltage_swell", "phase_loss", "phase_unbalance", "transformer_overload",
                     "frequency_excursion", "comm_loss")
METER_KINDS = ("meter_flatline", "meter_tamper")


def expand_targets(faults: pd.DataFrame, topology: pd.DataFrame) -> pd.DataFrame:
    """One row per (fault, window target): `entity` is `transformer` or `meter`, `entity_id` its
    id. `faults`: fault_labels' columns; `topology`: meter_id, transformer_id, feeder_id, gateway_id."""
    xf = topology.drop_duplicates("transformer_id")
    rows = []
    for f in faults.itertuples(index=False):
        if f.kind in METER_KINDS:
            rows.append((f.fault_id, "meter", f.target_id))
            continue
        if f.target_kind == "transformer":
            ids = [f.target_id]
        elif f.target_kind == "feeder":
            ids = xf.loc[xf["feeder_id"] == f.target_id, "transformer_id"].tolist()
        elif f.target_kind == "gateway":
            ids = xf.loc[xf["gateway_id"] == f.target_id, "transformer_id"].tolist()
        else:
            ids = xf["transformer_id"].tolist()
        rows += [(f.fault_id, "transformer", i) for i in ids]
    out = pd.DataFrame(rows, columns=["fault_id", "entity", "entity_id"])
    return out.merge(faults, on="fault_id")


def window_labels(windows: pd.DataFrame, key: str, targets: pd.DataFrame, kinds: tuple[str, ...],
                  window_s: int) -> pd.DataFrame:
    """A boolean column per kind on `windows` (columns `key`, `window`): true when the window
    overlaps a fault of that kind on that target."""
    out = windows[[key, "window"]].copy()
    for kind in kinds:
        out[kind] = False
    end = out["window"] + pd.Timedelta(seconds=window_s)
    by_id = {k: idx for k, idx in out.groupby(key).groups.items()}
    for t in targets.itertuples(index=False):
        if t.kind not in kinds or t.entity_id not in by_id:
            continue
        idx = by_id[t.entity_id]
        hit = (out.loc[idx, "window"] < t.end_ts) & (end[idx] > t.start_ts)
        out.loc[hit[hit].index, t.kind] = True
    return out
