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
    }
