"""`lascopf`: the platform's command line."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from data_engineering.settings import Settings

app = typer.Typer(help="PowerLASCOPF data platform", no_args_is_help=True, pretty_exceptions_show_locals=False)
db_app = typer.Typer(help="Database schema", no_args_is_help=True)
app.add_typer(db_app, name="db")
api_app = typer.Typer(help="The HTTP API: `lascopf api` serves it", invoke_without_command=True)
app.add_typer(api_app, name="api")
twin_app = typer.Typer(help="The CIM digital twin as DTDL v3 (Azure Digital Twins import files)", no_args_is_help=True)
app.add_typer(twin_app, name="twin")
console = Console()


def _settings() -> Settings:
    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(message)s",
                        handlers=[RichHandler(console=console, show_path=False)])
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return settings


def _parse_sag(text: str):  # noqa: ANN202
    """`POLE@START:DURATION:PU`, e.g. `p-00000@60:10:0.7` (seconds, per unit)."""
    from data_engineering.simulation.engine import Disturbance

    try:
        where, rest = text.split("@")
        start, duration, pu = (float(x) for x in rest.split(":"))
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r}: expected POLE@START_S:DURATION_S:PU") from exc
    return Disturbance("sag" if pu < 1 else "swell", start, duration, pu, pole_id=where)


def _simulation_config(settings: Settings, meters: int | None, minutes: float, rate_hz: float | None,
                       seed: int | None, start: str | None, batching: bool, ideal: bool, sag: list[str],
                       speed: float = 0.0, meters_per_pole: int = 4, faults_per_hour: float = 0.0,
                       phases: bool = True, profiles: str | None = None):  # noqa: ANN202
    """Default start: now for a paced (live) run, `minutes` ago for an as-fast-as-possible backfill."""
    from data_engineering.simulation.engine import SimulationConfig, utc

    now = datetime.now(UTC).replace(microsecond=0)
    begin = utc(start) if start else now if speed > 0 else now - timedelta(minutes=minutes)
    return SimulationConfig(
        start=begin, duration_s=minutes * 60, n_meters=meters or settings.sim_meters,
        rate_hz=rate_hz or settings.sim_rate_hz, seed=settings.sim_seed if seed is None else seed,
        meters_per_pole=meters_per_pole,
        case=settings.sim_case, nominal_voltage_v=settings.nominal_voltage_v,
        nominal_frequency_hz=settings.nominal_frequency_hz, gateway_batching=batching, ideal_backhaul=ideal,
        disturbances=tuple(_parse_sag(s) for s in sag), topic_prefix=settings.kafka_topic_prefix,
        random_faults_per_hour=faults_per_hour, phase_measurements=phases, profiles=profiles or settings.sim_profiles,
    )


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=console)


def _run_simulation(platform, config, speed: float, history_days: float = 0.0) -> tuple:  # noqa: ANN001
    """Register the grid, drop a historian export of `history_days` before the start into the
    lake's landing prefix (for the daily batch DAG), then publish the live simulation, every meter's
    seq continuing after the highest stored. The report and the export's key (None without one)."""
    from dataclasses import replace

    from data_engineering.pipelines.grid_setup import register_simulated_grid
    from data_engineering.simulation.engine import Simulator
    from data_engineering.simulation.history import scada_history, to_parquet
    from data_engineering.simulation.publish import make_producer, publish
    from data_engineering.storage.telemetry import next_meter_seq

    with platform.db.connect(autocommit=True) as conn:
        sim = Simulator(replace(config, first_seq=next_meter_seq(conn)))
    register_simulated_grid(platform.db, sim)
    key = None
    if history_days > 0:
        key = f"{platform.settings.landing_prefix}scada/ems-history-{config.start:%Y%m%dT%H%M}.parquet"
        with console.status(f"writing {history_days:g} days of SCADA history to {key}"):
            platform.lake.put(key, to_parquet(scada_history(sim, history_days)))
    producer = make_producer(platform.bootstrap_servers, platform.settings.kafka_compression)
    total = int(config.duration_s)
    with _progress() as progress:
        task = progress.add_task("simulate", total=total, info="")
        report = publish(sim, producer, speed, on_tick=lambda t, sent: progress.update(
            task, completed=min(int(t), total), info=f"{sent:,} messages"))
    producer.close()
    return report, key


def _land(platform, key: str) -> None:  # noqa: ANN001
    """Load a landed export as the daily batch DAG's own step does (contract, gate, writer,
    archive/), now rather than at the DAG's next run; a rejected file stops the command."""
    from data_engineering.pipelines.landing import load_file

    with console.status(f"loading {key}"):
        outcome = load_file(platform, key)
    console.print(f"{key}: {outcome.status}, {outcome.rows_loaded:,} rows loaded, "
                  f"{outcome.rows_dead_lettered:,} dead-lettered {outcome.reason}")
    if outcome.status != "loaded":
        raise typer.Exit(code=1)


def _worker(platform, idle_group_suffix: str = "", replays: datetime | None = None):  # noqa: ANN001, ANN202
    """The ingest worker on the platform's settings. `replays`: the start of a past window that this
    worker is run to ingest (the demo's), accepted however far it lies behind INGEST_MAX_LATENESS_S."""
    from data_engineering.ingestion.metrics import IngestMetrics
    from data_engineering.ingestion.worker import IngestWorker, WorkerConfig

    # The worker's decode thread is pure Python while its writer thread alternates between short
    # Python steps and waits on PostgreSQL. With the default 5 ms GIL switch interval the writer
    # waits for the GIL after every database round trip; 0.2 ms measured 37.5k → 49.7k readings/s.
    sys.setswitchinterval(platform.settings.ingest_gil_switch_interval_ms / 1000)
    s = platform.settings
    lateness = s.ingest_max_lateness_s
    if replays is not None:
        lateness = max(lateness, (datetime.now(UTC) - replays).total_seconds() + 3600.0)
    config = WorkerConfig(
        bootstrap_servers=platform.bootstrap_servers, group_id=s.kafka_consumer_group + idle_group_suffix,
        batch_rows=s.ingest_batch_rows, linger_ms=s.ingest_linger_ms, max_poll_records=s.ingest_max_poll_records,
        max_poll_interval_ms=s.kafka_max_poll_interval_ms, session_timeout_ms=s.kafka_session_timeout_ms,
        dead_letter_suffix=s.dead_letter_suffix, max_lateness_s=lateness, max_lead_s=s.ingest_max_lead_s,
        writers=s.ingest_writers,
    )
    metrics = IngestMetrics()
    if s.metrics_port:
        metrics.serve(s.metrics_port)
    return IngestWorker(config, platform.sources, platform.db, platform.lake, metrics)


def _reoptimisation_trigger(platform, metrics):  # noqa: ANN001, ANN202
    """Through Airflow's REST API when one is configured, else the pipeline in-process; either on a
    thread of its own, off the ingest worker's commit path."""
    from data_engineering.ingestion.reopt import (
        AirflowApiLauncher,
        BackgroundLauncher,
        InProcessLauncher,
        ReoptimisationTrigger,
    )

    s = platform.settings
    if s.airflow_api_url:
        if not (s.airflow_username and s.airflow_password):
            raise typer.BadParameter("AIRFLOW_API_URL needs AIRFLOW_USERNAME and AIRFLOW_PASSWORD")
        launch = AirflowApiLauncher(s.airflow_api_url, s.airflow_username, s.airflow_password.get_secret_value())
    else:
        launch = InProcessLauncher(platform)
    background = BackgroundLauncher(launch, metrics.reopt_launch_failures)
    trigger = ReoptimisationTrigger(background, s.reopt_load_deviation_pct, s.reopt_cooldown_s,
                                    timedelta(minutes=s.dispatch_interval_minutes))
    return trigger, background


def _database():  # noqa: ANN202 - storage.database.Database
    from data_engineering.storage.database import Database

    settings = _settings()
    if not settings.database_url:
        raise typer.BadParameter("set DATABASE_URL (the embedded server migrates itself on start)")
    return Database(settings.database_url)


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations from sql/."""
    from data_engineering.storage.migrations import migrate

    applied = migrate(_database())
    console.print(f"applied {len(applied)} migration(s)" if applied else "schema is current")


@twin_app.command("export")
def twin_export(out: Annotated[Path, typer.Option(help="directory for models/*.json and twin.ndjson")]) -> None:
    """Write the twin in the database as DTDL interfaces and an Azure Digital Twins import file."""
    from data_engineering.storage.twin import read_twin
    from data_engineering.twin.files import export_twin

    with _database().connect(autocommit=True) as conn:
        graph = read_twin(conn)
    path = export_twin(graph, out)
    console.print(f"{len(graph.nodes)} twins, {len(graph.relationships)} relationships → {path}")


@twin_app.command("import")
def twin_import(source: Annotated[Path, typer.Argument(help="an export directory or its twin.ndjson")]) -> None:
    """Validate an import file and upsert its twins and relationships into the database."""
    from data_engineering.storage.twin import write_twin
    from data_engineering.twin.files import load_twin

    try:
        graph = load_twin(source).graph
    except (OSError, ValueError) as exc:  # no file, unreadable JSON, a misplaced section or broken DTDL rules
        console.print(f"[red]{source}: {exc}")
        raise typer.Exit(code=1) from exc
    with _database().transaction() as conn:
        write_twin(conn, graph)
    console.print(f"imported {len(graph.nodes)} twins, {len(graph.relationships)} relationships")


@api_app.callback()
def api(ctx: typer.Context) -> None:
    """Serve the API on API_HOST:API_PORT (docs at /docs); an admin key is created and shown once
    when there is none."""
    if ctx.invoked_subcommand is None:
        from data_engineering.api.cli import serve

        serve(_settings(), console)


def _role(name: str):  # noqa: ANN202 - api.security.Role
    from data_engineering.api.security import Role

    try:
        return Role[name]
    except KeyError:
        raise typer.BadParameter(f"role is one of {', '.join(r.name for r in Role)}") from None


@api_app.command("key-create")
def api_key_create(name: Annotated[str, typer.Option(help="who or what uses the key")],
                   role: Annotated[str, typer.Option(help="viewer | analyst | operator | admin")] = "viewer") -> None:
    """Create an API key; it is printed once (only its SHA-256 digest is stored)."""
    from data_engineering.api.cli import key_create

    key_id, key = key_create(_settings(), name, _role(role))
    console.print(f"key {key_id} ({role}) for {name}:\n{key}")


@api_app.command("key-revoke")
def api_key_revoke(key_id: str) -> None:
    """Revoke an API key by its id."""
    import uuid

    from data_engineering.api.cli import key_revoke

    console.print("revoked" if key_revoke(_settings(), uuid.UUID(key_id)) else "no such active key")


@api_app.command("token")
def api_token(subject: Annotated[str, typer.Option(help="who the token is for")],
              role: Annotated[str, typer.Option(help="viewer | analyst | operator | admin")] = "viewer",
              ttl_minutes: Annotated[int | None, typer.Option(help="default: API_JWT_TTL_MINUTES")] = None) -> None:
    """Mint a JWT signed with API_JWT_SECRET (send as `Authorization: Bearer <token>`)."""
    from data_engineering.api.cli import token

    try:
        console.print(token(_settings(), subject, _role(role), ttl_minutes), soft_wrap=True)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


@app.command()
def simulate(
    meters: Annotated[int | None, typer.Option(help="number of AMI meters")] = None,
    minutes: Annotated[float, typer.Option(help="simulated duration")] = 10.0,
    rate_hz: Annotated[float | None, typer.Option(help="meter sample rate")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed (deterministic output)")] = None,
    start: Annotated[str | None,
                     typer.Option(help="start time, RFC3339 (default: now if paced, else now - minutes)")] = None,
    speed: Annotated[float, typer.Option(help="simulated s per wall s; 0 = as fast as possible")] = 0.0,
    batching: Annotated[bool, typer.Option(help="gateway batches (else one message per reading)")] = True,
    meters_per_pole: Annotated[int, typer.Option(help="meters behind one pole gateway")] = 4,
    ideal: Annotated[bool, typer.Option(help="lossless, instant backhaul")] = False,
    sag: Annotated[list[str], typer.Option(help="inject a voltage event: POLE@START_S:DURATION_S:PU")] = [],  # noqa: B006
    history_days: Annotated[float, typer.Option(help="days of SCADA history before the start, loaded first "
                                                     "(the forecast needs about a week)")] = 0.0,
    faults: Annotated[float, typer.Option(help="random labelled faults per hour over the fleet (fault_labels)")] = 0.0,
    phases: Annotated[bool, typer.Option(help="the three-phase points (scada.phases) every SCADA interval")] = True,
    profiles: Annotated[str | None, typer.Option(help="synthetic | simbench (real-derived SimBench load profiles); "
                                                      "default SIM_PROFILES")] = None,
) -> None:
    """Simulate AMI meters, pole gateways, SCADA, three-phase points and weather, with labelled
    faults if asked, and publish them to Kafka; each meter's seq continues after the highest stored."""
    from data_engineering.runtime import open_platform

    if profiles not in (None, "synthetic", "simbench"):
        raise typer.BadParameter(f"--profiles is synthetic or simbench, got {profiles!r}")
    settings = _settings()
    with ExitStack() as stack:
        platform = open_platform(settings, stack)
        config = _simulation_config(settings, meters, minutes, rate_hz, seed, start, batching, ideal, sag, speed,
                                    meters_per_pole, faults, phases, profiles)
        report, key = _run_simulation(platform, config, speed, history_days)
        if key is not None:
            _land(platform, key)
    console.print(report)


@app.command()
def ingest(
    idle_exit: Annotated[float | None, typer.Option(help="exit after this many seconds with no messages")] = None,
) -> None:
    """Run an ingest worker: Kafka → validation → PostgreSQL + lake, offsets committed last."""
    from data_engineering.ingestion.worker import tune_gc_for_streaming
    from data_engineering.runtime import open_platform

    settings = _settings()
    with ExitStack() as stack:
        platform = open_platform(settings, stack)
        worker = _worker(platform)
        tune_gc_for_streaming()
        worker.on_stored, launcher = _reoptimisation_trigger(platform, worker.metrics)
        stack.callback(launcher.close)
        worker.install_signal_handlers()
        stats = worker.run(idle_exit_s=idle_exit)
    console.print(stats)


@app.command()
def embedded() -> None:
    """Start the embedded servers and keep them up; prints the environment for other shells."""
    from data_engineering.runtime import open_platform

    settings = _settings()
    with ExitStack() as stack:
        platform = open_platform(settings, stack)
        for line in platform.embedded:
            console.print(f"[green]up[/]: {line}")
        for key, value in platform.env().items():
            console.print(f"export {key}={value}")
        console.print("Ctrl-C stops them.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


@app.command()
def up() -> None:
    """The whole platform on this workstation, no Docker: servers, simulator at real time, ingest,
    API, Airflow and Prometheus; a table of URLs and logins once healthy. Ctrl-C, SIGTERM or
    `lascopf down` stops every child."""
    from data_engineering.workstation.up import up as start

    def ready(ws, seconds: float) -> None:  # noqa: ANN001
        table = Table(title=f"LASCOPF platform up in {seconds:.0f} s (logs: {ws.supervisor.logs})")
        for column in ("service", "URL", "login"):
            table.add_column(column, overflow="fold")
        for endpoint in ws.endpoints:
            table.add_row(endpoint.service, endpoint.url, endpoint.login)
        (console if console.is_terminal else Console(width=240)).print(table)  # a log file: URLs on one line
        console.print("Ctrl-C or `lascopf down` stops everything.")

    raise typer.Exit(code=start(_settings(), lambda step: console.print(f"[cyan]starting[/] {step}"), ready))


@app.command()
def down() -> None:
    """Stop what `lascopf up` started (from any shell): every process group it recorded."""
    from data_engineering.workstation.supervisor import down as stop

    settings = _settings()
    left = stop((settings.embedded_dir / "up").resolve())
    console.print(f"stopped; had to stop {', '.join(left)} directly" if left else "stopped")


def _demo_start(minutes: float, taken: Callable[[datetime, datetime], bool] = lambda start, end: False) -> datetime:
    """The simulated window ends at the most recent weekday 19:00 UTC, the evening peak of the
    simulated load shapes (solar time = UTC): a stressed network shows congestion and prices. A
    window an earlier demo already filled (`taken`) moves a week back: a second fleet's readings
    in the same minutes, under the same meter ids, would break every meter's sequence."""
    now = datetime.now(UTC)
    end = now.replace(hour=19, minute=0, second=0, microsecond=0)
    while end > now or end.weekday() >= 5:
        end -= timedelta(days=1)
    while taken(end - timedelta(minutes=minutes), end):
        end -= timedelta(days=7)
    return end - timedelta(minutes=minutes)


@app.command()
def demo(
    meters: Annotated[int, typer.Option(help="number of AMI meters")] = 200,
    minutes: Annotated[float, typer.Option(help="simulated minutes of live telemetry")] = 10.0,
    history_days: Annotated[float, typer.Option(help="days of SCADA history for the load forecast")] = 9.5,
    report: Annotated[Path | None, typer.Option(help="HTML report path")] = None,
) -> None:
    """The main job on the embedded default: simulate a grid and its meters, ingest, and run the
    Airflow DAGs (batch history load, LASCOPF dispatch, AMI analytics); summary and HTML report."""
    import os

    from data_engineering.pipelines.airflow_local import prepare_airflow_home
    from data_engineering.runtime import open_platform

    settings = _settings()
    with console.status("preparing Airflow (metadata database, DAG folder)"):
        prepare_airflow_home(settings.embedded_dir / "airflow")  # before anything imports Airflow
    with ExitStack() as stack:
        platform = open_platform(settings, stack)
        os.environ.update(platform.env())  # DAG tasks read the same settings
        for line in platform.embedded:
            console.print(f"[green]up[/]: {line}")
        from data_engineering.storage.windows import holds_ami

        with platform.db.connect(autocommit=True) as conn:
            start = _demo_start(minutes, lambda begin, end: holds_ami(conn, begin, end))
        config = _simulation_config(settings, meters, minutes, None, None, start.isoformat(), True, False,
                                    [f"p-00000@{minutes * 30:.0f}:8:0.72"])
        sim_report, _ = _run_simulation(platform, config, speed=0.0, history_days=history_days)
        _dag("lascopf_daily_ingest", start)
        worker = _worker(platform, idle_group_suffix="-demo", replays=start)
        began = time.perf_counter()
        expected = (sim_report.readings_delivered + sim_report.scada_records + sim_report.weather_records
                    + sim_report.phase_records)
        with _progress() as progress:
            task = progress.add_task("ingest", total=expected, info="")
            worker.on_batch = lambda st: progress.update(
                task, completed=st.records,
                info=f"{st.rejected} dead letters, {st.lake_objects} lake objects")
            stats = worker.run(idle_exit_s=3.0)
        seconds = time.perf_counter() - began
        _summary(platform, sim_report, stats, seconds)
        if not stats.records:  # a dispatch on a window nothing reached would only fail later, for less clear reasons
            console.print(f"[red]no record of the simulated window was stored[/]: {stats.rejected:,} dead-lettered "
                          "(their reasons: the dead_letters table)")
            raise typer.Exit(code=1)
        window_end = start + timedelta(minutes=minutes)
        dispatch = _dag("lascopf_dispatch", window_end)
        _dag("ami_analytics", window_end)
        if dispatch.ok:
            execution = dispatch.xcom["store"]
            path = _dispatch_summary(platform, execution, report)
            console.print(f"report: [bold]{path}[/]")


def _dag(dag_id: str, logical_date: datetime):  # noqa: ANN202
    """Run one DAG through Airflow (`dag.test()`), with a spinner; fail loudly with the task states."""
    from data_engineering.pipelines.airflow_local import run_dag

    began = time.perf_counter()
    with console.status(f"Airflow: running {dag_id} for {logical_date.isoformat()}"):
        outcome = run_dag(dag_id, logical_date)
    tasks = ", ".join(f"{t} {s}" for t, s in outcome.tasks.items())
    colour = "green" if outcome.ok else "red"
    console.print(f"[{colour}]{dag_id}[/] {outcome.state} in {time.perf_counter() - began:.1f} s: {tasks}")
    if not outcome.ok:
        raise typer.Exit(code=1)
    return outcome


def _dispatch_summary(platform, execution: str, report: Path | None) -> Path:  # noqa: ANN001
    import uuid

    from data_engineering.reporting.dispatch_report import write_report
    from data_engineering.storage.case_store import read_system_load
    from data_engineering.storage.dispatch_summary import execution_frames, execution_summary

    summary = execution_summary(platform.db, uuid.UUID(execution))
    frames = execution_frames(platform.db, uuid.UUID(execution))
    table = Table(title="LASCOPF dispatch (stored)")
    table.add_column("")
    table.add_column("value")
    for key in ("execution_id", "status", "method", "case_name", "horizon_start", "intervals", "contingencies",
                "objective_usd", "iterations", "solve_time_s", "forecast_mape_pct", "persistence_mape_pct",
                "binding_constraints", "binding_contingencies", "mean_lmp_usd_mwh"):
        value = summary[key]
        table.add_row(key, f"{value:,.4g}" if isinstance(value, float) else str(value))
    console.print(table)
    if not frames["dispatch"].empty:
        units = frames["dispatch"].pivot(index="gen_id", columns="interval", values="p_mw")
        grid = Table(title="Dispatch (MW) by unit and interval")
        grid.add_column("unit")
        for interval in units.columns:
            grid.add_column(f"t{interval}", justify="right")
        for gen, row in units.iterrows():
            grid.add_row(str(gen), *(f"{v:.1f}" for v in row))
        console.print(grid)
    history, forecast = read_system_load(platform.lake, summary["case_key"].rsplit("/", 1)[0] + "/")
    path = report or platform.settings.embedded_dir / "reports" / f"dispatch-{execution}.html"
    return write_report(path, summary, frames, history.iloc[-288:], forecast)


@app.command()
def solve(
    case: Annotated[str, typer.Argument(help="MATPOWER .m file, PGLib name (pglib_opf_case118_ieee), "
                                             "pandapower case (case39) or paper5")],
    intervals: Annotated[int | None, typer.Option(help="look-ahead intervals (default: the case own, else 1)")] = None,
    contingencies: Annotated[str, typer.Option(help="comma list: all | all-gen | none | case | N | branches 1-2 | "
                                                    "units G:<unit>")] = "all",
    mode: Annotated[str, typer.Option(help="preventive | corrective (post-contingency re-dispatch)")] = "preventive",
    corrective_minutes: Annotated[float, typer.Option(help="corrective ramp: minutes of each unit's ramp rate")
                                  ] = 10.0,
    islanding: Annotated[str, typer.Option(help="refuse | shed (cut-off buses' load unserved)")] = "refuse",
    method: Annotated[str, typer.Option(help="admm | centralized")] = "admm",
    workers: Annotated[int, typer.Option(help="subproblem worker processes")] = 1,
    interval_block: Annotated[int, typer.Option(help="ADMM: consecutive intervals per subproblem, the ramps "
                                                     "between them inside it")] = 1,
    dask: Annotated[str | None, typer.Option(help="Dask scheduler address for the subproblems")] = None,
    emergency_factor: Annotated[float | None, typer.Option(help="emergency rating = factor x normal")] = None,
    ramp_factor: Annotated[float, typer.Option(help="scale every unit's ramp limits by this factor")] = 1.0,
    load_shedding: Annotated[bool, typer.Option(help="allow shedding at VOLL instead of infeasibility")] = False,
    max_iterations: Annotated[int, typer.Option()] = 3000,
    backend: Annotated[str | None, typer.Option(help="python | julia (PowerLASCOPF.jl); default: SOLVER_BACKEND")
                       ] = None,
    out: Annotated[Path | None, typer.Option(help="write the result as JSON")] = None,
    plot: Annotated[Path | None, typer.Option(help="write a convergence PNG")] = None,
) -> None:
    """Solve a look-ahead, N-1 secure DC OPF and print the dispatch."""
    from data_engineering.solver.cases import load_case
    from data_engineering.solver.contingencies import IslandingRefused, select
    from data_engineering.solver.julia.backend import JuliaUnavailable
    from data_engineering.solver.julia.marshal import julia_options
    from data_engineering.solver.options import SolveOptions
    from data_engineering.solver.report import convergence_plot, summary_table, write_json
    from data_engineering.solver.solve import solve_case

    settings = _settings()
    try:
        loaded = load_case(case, intervals)
        if emergency_factor is not None:
            loaded = loaded.with_emergency_factor(emergency_factor)
        if ramp_factor != 1.0:
            loaded = loaded.with_ramp_factor(ramp_factor)
        loaded, n1 = select(loaded, contingencies, islanding)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="CASE / --contingencies") from exc
    left_out = [c.label for c in n1.islanding if c not in loaded.contingencies]
    if left_out:
        console.print(f"[dim]{len(left_out)} outages island the network and are left out (--islanding shed keeps "
                      f"them): {', '.join(left_out)}[/]")
    if mode not in ("preventive", "corrective"):
        raise typer.BadParameter(f"{mode!r}: preventive or corrective", param_hint="--mode")
    options = SolveOptions(method=method,  # type: ignore[arg-type]
                           workers=workers, interval_block=interval_block, dask_address=dask,
                           load_shedding=load_shedding, max_iterations=max_iterations, mode=mode,  # type: ignore[arg-type]
                           corrective_minutes=corrective_minutes, islanding=islanding)  # type: ignore[arg-type]
    backend = backend or settings.solver_backend
    if backend not in ("python", "julia"):
        raise typer.BadParameter(f"{backend!r}: python or julia", param_hint="--backend")
    if backend == "julia":
        try:
            julia_options(options)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--backend") from exc
    with Progress(TextColumn("[bold]ADMM[/]"), TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("solve", status="starting", total=None)

        def show(record) -> None:  # noqa: ANN001
            progress.update(task, status=(
                f"iteration {record.iteration} · primal {record.primal_residual_mw:.2e} MW · dual "
                f"{record.dual_residual:.2e} $/MWh · objective {record.objective:,.2f} · {record.scenarios} copies"))

        try:
            result = solve_case(loaded, options, backend, progress=show)
        except JuliaUnavailable as exc:
            raise typer.BadParameter(str(exc), param_hint="--backend") from exc
        except IslandingRefused as exc:
            raise typer.BadParameter(str(exc), param_hint="CASE / --islanding") from exc
    result.islanding_contingencies = [c.label for c in n1.islanding]
    console.print(summary_table(loaded, result))
    if result.message:
        console.print(result.message)
    if out:
        console.print(f"result written to {write_json(loaded, result, out)}")
    if plot:
        console.print(f"convergence plot written to {convergence_plot(result, plot)}")
    if result.status != "optimal":
        raise typer.Exit(code=2)


def _summary(platform, report, stats, seconds: float) -> None:  # noqa: ANN001
    from data_engineering.storage.summary import telemetry_summary, voltage_events

    table = Table(title="Telemetry path: simulated → Kafka → PostgreSQL + lake")
    for column in ("table", "rows", "from", "to"):
        table.add_column(column)
    for row in telemetry_summary(platform.db):
        table.add_row(*(str(x) for x in row))
    console.print(table)
    flagged, meters = voltage_events(platform.db)
    console.print(f"ingested {stats.records:,} records in {seconds:.1f} s (with the consumer-group join and "
                  f"the idle check; `python bench/ingest.py` measures throughput), "
                  f"{stats.duplicates:,} duplicates absorbed, "
                  f"{stats.rejected:,} dead-lettered, {stats.lake_objects:,} Parquet objects in {platform.lake.url}")
    console.print(f"simulator: {report.readings_delivered:,} readings delivered, "
                  f"{report.readings_missing:,} missing at the meter, "
                  f"{report.readings_dropped:,} lost on the backhaul, "
                  f"{report.duplicate_messages:,} duplicate messages, {len(report.disturbances)} voltage events "
                  f"({flagged:,} stored readings from {meters} meters flagged as sags or swells)")


if __name__ == "__main__":
    app()
