"""The twin's DTDL interfaces: the subset of the CIM-derived energy-grid ontology
(Azure/opendigitaltwins-energygrid) that the distribution fleet needs, declared once here so the
simulator, the exporter and the validator agree on class names, properties and relations."""

from __future__ import annotations

from dataclasses import dataclass

CIM = "dtmi:digitaltwins:ngsi_ld:cim:energy:"  # the ontology's namespace
LOCAL = "dtmi:powerlascopf:cim:"  # IEC CIM classes the ontology does not (yet) define


def dtmi(name: str, namespace: str = CIM) -> str:
    return f"{namespace}{name};1"


@dataclass(frozen=True)
class Content:
    """One entry of an interface's `contents`: a Property/Telemetry with a primitive schema, or a
    Relationship with a target interface."""

    kind: str
    name: str
    schema: str = ""
    target: str = ""
    description: str = ""


@dataclass(frozen=True)
class Interface:
    dtmi: str
    description: str
    extends: tuple[str, ...] = ()
    contents: tuple[Content, ...] = ()

    @property
    def name(self) -> str:
        return self.dtmi.rsplit(":", 1)[1].split(";")[0]


def _prop(name: str, schema: str, description: str = "") -> Content:
    return Content("Property", name, schema=schema, description=description)


def _rel(name: str, target: str, description: str = "") -> Content:
    return Content("Relationship", name, target=target, description=description)


def _telemetry(name: str, description: str) -> Content:
    return Content("Telemetry", name, schema="double", description=description)


IDENTIFIED_OBJECT = dtmi("IdentifiedObject")
POWER_SYSTEM_RESOURCE = dtmi("PowerSystemResource")
CONNECTIVITY_NODE_CONTAINER = dtmi("ConnectivityNodeContainer")
EQUIPMENT_CONTAINER = dtmi("EquipmentContainer")
EQUIPMENT = dtmi("Equipment")
CONDUCTING_EQUIPMENT = dtmi("ConductingEquipment")
SUBSTATION = dtmi("Substation")
FEEDER = dtmi("Feeder", LOCAL)
POWER_TRANSFORMER = dtmi("PowerTransformer")
POLE = dtmi("Pole", LOCAL)
USAGE_POINT = dtmi("UsagePoint")
METER = dtmi("Meter")

PHASE_CODES = ("A", "B", "C", "AB", "AC", "BC", "ABC")

INTERFACES: tuple[Interface, ...] = (
    Interface(IDENTIFIED_OBJECT, "Root class: every twin has a human-readable name.",
              contents=(_prop("name", "string"),)),
    Interface(POWER_SYSTEM_RESOURCE, "A power system resource.", (IDENTIFIED_OBJECT,)),
    Interface(CONNECTIVITY_NODE_CONTAINER, "A container of connectivity nodes.", (POWER_SYSTEM_RESOURCE,)),
    Interface(EQUIPMENT_CONTAINER, "A container of equipment.", (CONNECTIVITY_NODE_CONTAINER,)),
    Interface(EQUIPMENT, "Equipment.", (POWER_SYSTEM_RESOURCE,)),
    Interface(CONDUCTING_EQUIPMENT, "Equipment that carries current.", (EQUIPMENT,)),
    Interface(SUBSTATION, "The distribution substation at a transmission load bus.", (EQUIPMENT_CONTAINER,), (
        _prop("busId", "integer", "the transmission network bus the substation hangs off"),
        _prop("baseVoltageKv", "double", "the bus's base voltage"),
        _rel("feedsTo", FEEDER, "the feeders leaving the substation"),
    )),
    Interface(FEEDER, "A distribution feeder (IEC CIM Feeder).", (EQUIPMENT_CONTAINER,), (
        _rel("fedBy", SUBSTATION, "the substation that energises the feeder"),
        _rel("feedsTo", POWER_TRANSFORMER, "the distribution transformers on the feeder"),
    )),
    Interface(POWER_TRANSFORMER, "A pole-mounted distribution transformer.", (CONDUCTING_EQUIPMENT,), (
        _prop("ratedKva", "double", "nameplate rating"),
        _prop("phases", "string", "CIM PhaseCode of the primary connection: A, B, C, AB, AC, BC or ABC"),
        _rel("fedBy", FEEDER),
        _rel("feedsTo", USAGE_POINT, "the service points on the secondary"),
        _rel("mountedOn", POLE),
    )),
    Interface(POLE, "A utility pole (IEC CIM Assets Pole) carrying a transformer and a telemetry gateway.",
              (IDENTIFIED_OBJECT,), (
        _prop("gatewayId", "string"),
        _prop("networkProfile", "string", "the gateway's backhaul: wired, 5g, lte_m or satellite"),
        _prop("latitude", "double"),
        _prop("longitude", "double"),
    )),
    Interface(USAGE_POINT, "A customer's service point.", (IDENTIFIED_OBJECT,), (
        _prop("connectionCategory", "string", "customer class: residential, commercial or industrial"),
        _prop("nominalServiceVoltage", "double", "volts"),
        _prop("phaseCode", "string", "CIM PhaseCode: A, B or C (single phase) or ABC"),
        _prop("phaseCount", "integer"),
        _prop("meanLoadKw", "double"),
        _rel("fedBy", POWER_TRANSFORMER),
        _rel("endDevices", METER, "the meter at the service point"),
    )),
    Interface(METER, "An AMI meter.", (IDENTIFIED_OBJECT,), (
        _rel("usagePoint", USAGE_POINT),
        _telemetry("voltage", "RMS voltage, V"),
        _telemetry("activePower", "kW"),
        _telemetry("reactivePower", "kvar"),
    )),
)
