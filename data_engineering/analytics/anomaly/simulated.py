"""The simulator's messages as the frames `features` takes: what the bench and the tests score
without a database."""

from __future__ import annotations

import orjson
import pandas as pd

from data_engineering.simulation.backhaul import Delivery
from data_engineering.simulation.engine import Simulator
from data_engineering.twin.cim import transformer_id

PHASE_COLUMNS = tuple(f"{q}_{p}_{u}" for q, u in (("v", "v"), ("i", "a"), ("p", "kw"), ("q", "kvar"))
                      for p in "abc") + ("freq_hz",)


def frames(deliveries: list[Delivery], prefix: str = "") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(phases at transformers, AMI readings); a resent AMI batch is counted once."""
    ami: dict[tuple[str, int], tuple] = {}
    phases = []
    for d in deliveries:
        if d.topic == f"{prefix}ami.readings":
            for r in orjson.loads(d.value)["readings"]:
                ami[(r["meter_id"], r["seq"])] = (r["event_ts"], r["meter_id"], r["voltage_v"], r["power_kw"])
        elif d.topic == f"{prefix}scada.phases":
            phases += [(r["ts"], r["point_id"], *(r[c] for c in PHASE_COLUMNS))
                       for r in orjson.loads(d.value)["measurements"] if r["point_kind"] == "transformer"]
    a = pd.DataFrame(list(ami.values()), columns=["ts", "meter_id", "voltage_v", "power_kw"])
    p = pd.DataFrame(phases, columns=["ts", "point_id", *PHASE_COLUMNS])
    for frame in (a, p):
        frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return p, a


def topology(sim: Simulator) -> pd.DataFrame:
    """Meter → transformer (with its rating), feeder and gateway."""
    f = sim.fleet
    poles = f.meter_pole
    return pd.DataFrame({"meter_id": f.meter_ids, "transformer_id": [transformer_id(f.pole_ids[p]) for p in poles],
                         "rated_kva": sim.transformer_kva[poles], "feeder_id": [f.feeder_ids[f.pole_feeder[p]]
                                                                                for p in poles],
                         "gateway_id": [f.gateway_id(int(p)) for p in poles]})
