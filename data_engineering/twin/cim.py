"""The asset model (meter → pole → feeder → bus) recast as a CIM twin: a Substation per load bus
with feeders, Feeders, a pole-mounted PowerTransformer per pole, Poles, a UsagePoint and a Meter
per customer, joined by feedsTo/fedBy so the graph can be walked either way."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from data_engineering.contracts.assets import AssetModel, Meter
from data_engineering.contracts.twin import TwinGraph, TwinNode, TwinRelationship
from data_engineering.twin import ontology as o

THREE_PHASE = "ABC"
STANDARD_KVA = (10.0, 15.0, 25.0, 37.5, 50.0, 75.0, 100.0, 167.0, 250.0, 333.0, 500.0, 750.0, 1000.0, 1500.0, 2500.0)
PEAK_TO_MEAN = 2.5  # a transformer is sized for the coincident peak, not the mean load
POWER_FACTOR = 0.9


def substation_id(bus_id: int) -> str:
    return f"sub-{bus_id}"


def transformer_id(pole_id: str) -> str:
    return f"xf-{pole_id}"


def usage_point_id(meter_id: str) -> str:
    return f"up-{meter_id}"


def rated_kva(load_kw: float) -> float:
    """The smallest standard size that carries the expected peak (the largest when none does)."""
    need = load_kw * PEAK_TO_MEAN / POWER_FACTOR
    return next((size for size in STANDARD_KVA if size >= need), STANDARD_KVA[-1])


def phase_union(phases: list[str]) -> str:
    present = set("".join(phases))
    return "".join(p for p in THREE_PHASE if p in present)


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[TwinNode] = []
        self.relationships: list[TwinRelationship] = []

    def node(self, dt_id: str, model: str, **properties: object) -> None:
        self.nodes.append(TwinNode(dt_id, model, {"name": dt_id, **properties}))

    def feeds(self, upstream: str, downstream: str) -> None:
        self.relationships += [TwinRelationship(upstream, "feedsTo", downstream),
                               TwinRelationship(downstream, "fedBy", upstream)]

    def relate(self, source: str, name: str, target: str) -> None:
        self.relationships.append(TwinRelationship(source, name, target))


def cim_twin(assets: AssetModel, meter_phases: Mapping[str, str]) -> TwinGraph:
    """`meter_phases` maps every meter id to its PhaseCode (A, B, C or ABC)."""
    b = _Builder()
    buses = {bus.bus_id: bus for bus in assets.buses}
    for bus_id in sorted({f.bus_id for f in assets.feeders}):
        b.node(substation_id(bus_id), o.SUBSTATION, busId=bus_id, baseVoltageKv=buses[bus_id].base_kv)
    for feeder in assets.feeders:
        b.node(feeder.feeder_id, o.FEEDER)
        b.feeds(substation_id(feeder.bus_id), feeder.feeder_id)
    on_pole: dict[str, list[Meter]] = defaultdict(list)
    for meter in assets.meters:
        on_pole[meter.pole_id].append(meter)
    for pole in assets.poles:
        meters = on_pole[pole.pole_id]
        xf = transformer_id(pole.pole_id)
        b.node(pole.pole_id, o.POLE, gatewayId=pole.gateway_id, networkProfile=pole.network_profile,
               latitude=pole.lat_deg, longitude=pole.lon_deg)
        b.node(xf, o.POWER_TRANSFORMER, ratedKva=rated_kva(sum(m.mean_load_kw for m in meters)),
               phases=phase_union([meter_phases[m.meter_id] for m in meters]) or THREE_PHASE)
        b.feeds(pole.feeder_id, xf)
        b.relate(xf, "mountedOn", pole.pole_id)
    for meter in assets.meters:
        up, phases = usage_point_id(meter.meter_id), meter_phases[meter.meter_id]
        b.node(up, o.USAGE_POINT, connectionCategory=meter.customer_class,
               nominalServiceVoltage=meter.nominal_voltage_v, phaseCode=phases, phaseCount=len(phases),
               meanLoadKw=meter.mean_load_kw)
        b.node(meter.meter_id, o.METER)
        b.feeds(transformer_id(meter.pole_id), up)
        b.relate(up, "endDevices", meter.meter_id)
        b.relate(meter.meter_id, "usagePoint", up)
    return TwinGraph(b.nodes, b.relationships)
