"""The telemetry data contracts (DESIGN.md §4): AMI readings, SCADA measurements, weather
observations, market prices and topology events, and the topics and tables that carry them."""

from __future__ import annotations

from functools import lru_cache

from data_engineering.contracts.spec import FieldSpec, RecordSpec, Source

NETWORK_PROFILES = ("wired", "5g", "lte_m", "satellite")
AMI_QUALITY_FLAGS = ("estimated", "voltage_sag", "voltage_swell", "clock_unsynced", "power_quality")
SCADA_ELEMENT_TYPES = ("generator", "load", "bus", "branch")
SCADA_QUALITY_CODES = ("good", "questionable", "bad", "substituted")
MARKETS = ("day_ahead", "real_time")
TOPOLOGY_ELEMENT_TYPES = ("branch", "generator")
PHASE_POINT_KINDS = ("transformer", "feeder_head")
PHASE_QUALITY_FLAGS = ("phase_loss", "voltage_sag", "voltage_swell", "overload")
PHASES = ("a", "b", "c")

ID = 64  # max length of identifiers


def ami_reading(nominal_voltage_v: float = 240.0) -> RecordSpec:
    """One AMI 2.0 meter sample. Voltage bounds scale with the nominal voltage: 0 (outage) to 2 pu."""
    return RecordSpec(
        "ami_reading",
        (
            FieldSpec("event_ts", "timestamp", "sample time at the meter (event time)", "RFC3339 UTC"),
            FieldSpec("meter_id", "string", "meter serial", max_length=ID),
            FieldSpec("pole_id", "string", "pole the meter hangs on", max_length=ID),
            FieldSpec("seq", "integer", "sample counter, strictly increasing per meter", minimum=0),
            FieldSpec("voltage_v", "number", "RMS voltage", "V", minimum=0, maximum=2 * nominal_voltage_v),
            FieldSpec("current_a", "number", "RMS current", "A", minimum=0, maximum=1_000),
            FieldSpec("power_kw", "number", "active power, negative = export", "kW", minimum=-200, maximum=1_000),
            FieldSpec("reactive_kvar", "number", "reactive power", "kvar", False, -1_000, 1_000),
            FieldSpec("freq_hz", "number", "frequency", "Hz", False, 40, 70),
            FieldSpec("quality_flags", "string_list", "meter quality flags", required=False,
                      choices=AMI_QUALITY_FLAGS),
            FieldSpec("network_profile", "enum", "gateway backhaul; absent for a direct meter feed (stored NULL)",
                      required=False, choices=NETWORK_PROFILES, transport=True),
            FieldSpec("gateway_id", "string", "pole gateway that forwarded it", required=False, max_length=ID,
                      transport=True),
            FieldSpec("gateway_ts", "timestamp", "when the gateway forwarded the batch", required=False,
                      transport=True),
        ),
        "AMI 2.0 smart-meter reading",
    )


def _per_phase(quantity: str, description: str, unit: str, minimum: float, maximum: float) -> tuple[FieldSpec, ...]:
    return tuple(FieldSpec(f"{quantity}_{p}_{unit.lower()}", "number", f"{description}, phase {p.upper()}", unit,
                           minimum=minimum, maximum=maximum) for p in PHASES)


def phase_measurement(nominal_voltage_v: float = 240.0) -> RecordSpec:
    """Per-phase V, I, P, Q and frequency at a distribution transformer (`xf-<pole>`) or a feeder
    head: the 13 values of the REMHART seed. Voltages and currents are referred to the service
    voltage (the settings' nominal, 240 V / 60 Hz by default; 230 V / 50 Hz as REMHART), so V·I
    compares with P at both kinds of point. Bounds as for the meters: 0 (phase lost) to 2 pu."""
    return RecordSpec(
        "phase_measurement",
        (
            FieldSpec("ts", "timestamp", "measurement time (event time)", "RFC3339 UTC"),
            FieldSpec("point_id", "string", "transformer (xf-<pole>) or feeder id", max_length=ID),
            FieldSpec("point_kind", "enum", "where the measurement is taken", choices=PHASE_POINT_KINDS),
            FieldSpec("feeder_id", "string", "feeder the point is on", max_length=ID),
            *_per_phase("v", "RMS voltage", "V", 0, 2 * nominal_voltage_v),
            *_per_phase("i", "RMS current", "A", 0, 1e5),
            *_per_phase("p", "active power, negative = export", "kW", -1e5, 1e5),
            *_per_phase("q", "reactive power", "kvar", -1e5, 1e5),
            FieldSpec("freq_hz", "number", "frequency", "Hz", minimum=40, maximum=70),
            FieldSpec("is_simulation", "boolean", "true for every row the simulator produced"),
            FieldSpec("quality_flags", "string_list", "what the monitor saw", required=False,
                      choices=PHASE_QUALITY_FLAGS),
        ),
        "Three-phase measurement point (distribution transformer or feeder head)",
    )


SCADA_MEASUREMENT = RecordSpec(
    "scada_measurement",
    (
        FieldSpec("ts", "timestamp", "measurement time (event time)", "RFC3339 UTC"),
        FieldSpec("element_type", "enum", "kind of network element", choices=SCADA_ELEMENT_TYPES),
        FieldSpec("element_id", "string", "element id within its type", max_length=ID),
        FieldSpec("bus_id", "integer", "network bus (from-bus for branches)", minimum=0),
        FieldSpec("p_mw", "number", "active power (branch: flow from → to)", "MW", False, -1e5, 1e5),
        FieldSpec("q_mvar", "number", "reactive power", "MVAr", False, -1e5, 1e5),
        FieldSpec("vm_pu", "number", "voltage magnitude", "pu", False, 0, 2),
        FieldSpec("va_deg", "number", "voltage angle", "deg", False, -360, 360),
        FieldSpec("freq_hz", "number", "frequency", "Hz", False, 40, 70),
        FieldSpec("quality_code", "enum", "telemetry quality", choices=SCADA_QUALITY_CODES),
    ),
    "SCADA measurement from the EMS front end",
)

WEATHER_OBSERVATION = RecordSpec(
    "weather_observation",
    (
        FieldSpec("ts", "timestamp", "observation time", "RFC3339 UTC"),
        FieldSpec("station_id", "string", "weather station", max_length=ID),
        FieldSpec("temperature_c", "number", "air temperature", "°C", minimum=-80, maximum=70),
        FieldSpec("relative_humidity_pct", "number", "relative humidity", "%", False, 0, 100),
        FieldSpec("wind_speed_ms", "number", "wind speed at 10 m", "m/s", False, 0, 120),
        FieldSpec("ghi_wm2", "number", "global horizontal irradiance", "W/m²", False, 0, 1_500),
        FieldSpec("cloud_cover_pct", "number", "cloud cover", "%", False, 0, 100),
    ),
    "Weather station observation",
)

MARKET_PRICE = RecordSpec(
    "market_price",
    (
        FieldSpec("ts", "timestamp", "start of the pricing interval", "RFC3339 UTC"),
        FieldSpec("market", "enum", "market run", choices=MARKETS),
        FieldSpec("node_id", "string", "pricing node", max_length=ID),
        FieldSpec("lmp_usd_mwh", "number", "locational marginal price", "$/MWh", minimum=-2_000, maximum=20_000),
        FieldSpec("energy_usd_mwh", "number", "energy component", "$/MWh", False, -2_000, 20_000),
        FieldSpec("congestion_usd_mwh", "number", "congestion component", "$/MWh", False, -20_000, 20_000),
        FieldSpec("loss_usd_mwh", "number", "loss component", "$/MWh", False, -2_000, 2_000),
    ),
    "Market clearing price",
)

TOPOLOGY_EVENT = RecordSpec(
    "topology_event",
    (
        FieldSpec("ts", "timestamp", "time the status changed", "RFC3339 UTC"),
        FieldSpec("element_type", "enum", "branch or generating unit", choices=TOPOLOGY_ELEMENT_TYPES),
        FieldSpec("element_id", "string", "element id", max_length=ID),
        FieldSpec("in_service", "boolean", "status after the change"),
        FieldSpec("reason", "string", "operator note", required=False, max_length=256),
    ),
    "Branch or unit status change",
)


@lru_cache(maxsize=16)
def telemetry_sources(topic_prefix: str = "", nominal_voltage_v: float = 240.0) -> dict[str, Source]:
    """Every stream the ingest worker consumes, keyed by source name (the lake's `source=` partition)."""
    t = topic_prefix
    return {
        "ami": Source("ami", f"{t}ami.readings", ami_reading(nominal_voltage_v), "ami_readings", "event_ts",
                      ("meter_id", "seq"), "readings",
                      {"gateway_id": "gateway_id", "network_profile": "network_profile", "sent_ts": "gateway_ts",
                       "pole_id": "pole_id"}, key_table="ami_reading_keys"),
        "scada": Source("scada", f"{t}scada.measurements", SCADA_MEASUREMENT, "scada_measurements", "ts",
                        ("element_type", "element_id", "ts"), "measurements"),
        "weather": Source("weather", f"{t}weather.observations", WEATHER_OBSERVATION, "weather_observations",
                          "ts", ("station_id", "ts"), "observations"),
        "market": Source("market", f"{t}market.prices", MARKET_PRICE, "market_prices", "ts",
                         ("market", "node_id", "ts"), "prices"),
        "topology": Source("topology", f"{t}grid.topology", TOPOLOGY_EVENT, "topology_events", "ts",
                           ("element_type", "element_id", "ts"), "events"),
        "phases": Source("phases", f"{t}scada.phases", phase_measurement(nominal_voltage_v),
                         "phase_measurements", "ts", ("point_kind", "point_id", "ts"), "measurements"),
    }
