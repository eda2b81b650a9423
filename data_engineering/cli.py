"""`lascopf`: the platform's command line."""

from __future__ import annotations

import logging
import sys
import time
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
console = Console()


def _settings() -> Settings:
    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(message)s",
                        handlers=[RichHandler(console=console, show_path=False)])
    logging.getLogger("kafka").setLevel(logging.WARNING)
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
                       speed: float = 0.0, meters_per_pole: int = 4):  # noqa: ANN202
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
    )


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=console)


def _run_simulation(platform, config, speed: float) -> object:  # noqa: ANN001
    from data_engineering.pipelines.grid_setup import register_simulated_grid
    from data_engineering.simulation.engine import Simulator
    from data_engineering.simulation.publish import make_producer, publish

    sim = Simulator(config)
    register_simulated_grid(platform.db, sim)
    producer = make_producer(platform.bootstrap_servers, platform.settings.kafka_compression)
    total = int(config.duration_s)
    with _progress() as progress:
        task = progress.add_task("simulate", total=total, info="")
        report = publish(sim, producer, speed, on_tick=lambda t, sent: progress.update(
            task, completed=min(int(t), total), info=f"{sent:,} messages"))
    producer.close()
    return report


def _worker(platform, idle_group_suffix: str = ""):  # noqa: ANN001, ANN202
    from data_engineering.ingestion.metrics import IngestMetrics
    from data_engineering.ingestion.worker import IngestWorker, WorkerConfig

    # The worker's decode thread is pure Python while its writer thread alternates between short
    # Python steps and waits on PostgreSQL. With the default 5 ms GIL switch interval the writer
    # waits for the GIL after every database round trip; 0.2 ms measured 37.5k → 49.7k readings/s.
    sys.setswitchinterval(platform.settings.ingest_gil_switch_interval_ms / 1000)
    s = platform.settings
    config = WorkerConfig(
        bootstrap_servers=platform.bootstrap_servers, group_id=s.kafka_consumer_group + idle_group_suffix,
        batch_rows=s.ingest_batch_rows, linger_ms=s.ingest_linger_ms, max_poll_records=s.ingest_max_poll_records,
        max_poll_interval_ms=s.kafka_max_poll_interval_ms, session_timeout_ms=s.kafka_session_timeout_ms,
        dead_letter_suffix=s.dead_letter_suffix,
    )
    metrics = IngestMetrics()
    if s.metrics_port:
        metrics.serve(s.metrics_port)
    return IngestWorker(config, platform.sources, platform.db, platform.lake, metrics)


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations from sql/."""
    from data_engineering.storage.database import Database
    from data_engineering.storage.migrations import migrate

    settings = _settings()
    if not settings.database_url:
        raise typer.BadParameter("set DATABASE_URL (the embedded server migrates itself on start)")
    applied = migrate(Database(settings.database_url))
    console.print(f"applied {len(applied)} migration(s)" if applied else "schema is current")


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
) -> None:
    """Simulate AMI meters, pole gateways, SCADA and weather, and publish them to Kafka."""
    from data_engineering.runtime import open_platform

    settings = _settings()
    with ExitStack() as stack:
        platform = open_platform(settings, stack)
        config = _simulation_config(settings, meters, minutes, rate_hz, seed, start, batching, ideal, sag, speed,
                                    meters_per_pole)
        report = _run_simulation(platform, config, speed)
    console.print(report)


@app.command()
def ingest(
    idle_exit: Annotated[float | None, typer.Option(help="exit after this many seconds with no messages")] = None,
) -> None:
    """Run an ingest worker: Kafka → validation → PostgreSQL + lake, offsets committed last."""
    from data_engineering.runtime import open_platform

    settings = _settings()
    with ExitStack() as stack:
        platform = open_platform(settings, stack)
        worker = _worker(platform)
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
def demo(
    meters: Annotated[int, typer.Option(help="number of AMI meters")] = 200,
    minutes: Annotated[float, typer.Option(help="simulated minutes")] = 10.0,
) -> None:
    """The main job on the embedded default: simulate a grid and its meters, ingest, summarise."""
    from data_engineering.runtime import open_platform

    settings = _settings()
    with ExitStack() as stack:
        platform = open_platform(settings, stack)
        for line in platform.embedded:
            console.print(f"[green]up[/]: {line}")
        config = _simulation_config(settings, meters, minutes, None, None, None, True, False,
                                    [f"p-00000@{minutes * 30:.0f}:8:0.72"])
        report = _run_simulation(platform, config, speed=0.0)
        worker = _worker(platform, idle_group_suffix="-demo")
        began = time.perf_counter()
        expected = report.readings_delivered + report.scada_records + report.weather_records
        with _progress() as progress:
            task = progress.add_task("ingest", total=expected, info="")
            worker.on_batch = lambda st: progress.update(
                task, completed=st.records,
                info=f"{st.rejected} dead letters, {st.lake_objects} lake objects")
            stats = worker.run(idle_exit_s=3.0)
        seconds = time.perf_counter() - began
        _summary(platform, report, stats, seconds)


@app.command()
def solve(
    case: Annotated[str, typer.Argument(help="MATPOWER .m file, PGLib name (pglib_opf_case118_ieee), "
                                             "pandapower case (case39) or paper5")],
    intervals: Annotated[int | None, typer.Option(help="look-ahead intervals (default: the case own, else 1)")] = None,
    contingencies: Annotated[str, typer.Option(help="all | none | case | N | branches 1-2,3-4")] = "all",
    method: Annotated[str, typer.Option(help="admm | centralized")] = "admm",
    decomposition: Annotated[str, typer.Option(help="interval | scenario (ADMM subproblem granularity)")] = "interval",
    workers: Annotated[int, typer.Option(help="subproblem worker processes")] = 1,
    dask: Annotated[str | None, typer.Option(help="Dask scheduler address for the subproblems")] = None,
    emergency_factor: Annotated[float | None, typer.Option(help="emergency rating = factor x normal")] = None,
    load_shedding: Annotated[bool, typer.Option(help="allow shedding at VOLL instead of infeasibility")] = False,
    max_iterations: Annotated[int, typer.Option()] = 3000,
    out: Annotated[Path | None, typer.Option(help="write the result as JSON")] = None,
    plot: Annotated[Path | None, typer.Option(help="write a convergence PNG")] = None,
) -> None:
    """Solve a look-ahead, N-1 secure DC OPF and print the dispatch."""
    from data_engineering.solver.cases import load_case
    from data_engineering.solver.contingencies import select
    from data_engineering.solver.options import SolveOptions
    from data_engineering.solver.report import convergence_plot, summary_table, write_json
    from data_engineering.solver.solve import solve_lascopf

    _settings()
    try:
        loaded = load_case(case, intervals)
        if emergency_factor is not None:
            loaded = loaded.with_emergency_factor(emergency_factor)
        loaded, n1 = select(loaded, contingencies)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="CASE / --contingencies") from exc
    if n1.islanding and contingencies == "all":
        console.print(f"[dim]{len(n1.islanding)} outages island the network and are left out: "
                      f"{', '.join(c.label for c in n1.islanding)}[/]")
    options = SolveOptions(method=method, decomposition=decomposition,  # type: ignore[arg-type]
                           workers=workers, dask_address=dask, load_shedding=load_shedding,
                           max_iterations=max_iterations)
    with Progress(TextColumn("[bold]ADMM[/]"), TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("solve", status="starting", total=None)

        def show(record) -> None:  # noqa: ANN001
            progress.update(task, status=(
                f"iteration {record.iteration} · primal {record.primal_residual_mw:.2e} MW · dual "
                f"{record.dual_residual:.2e} $/MWh · objective {record.objective:,.2f} · {record.scenarios} copies"))

        result = solve_lascopf(loaded, options, progress=show)
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
