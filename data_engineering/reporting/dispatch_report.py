"""One self-contained HTML page per execution: load history and forecast, dispatch by unit and
interval, the LMP heat-table and its split into energy and congestion, the most loaded lines (base
and post-contingency), load cut off by islanding outages, and the solver's convergence. Figures are
built from the stored results and the case in the lake, nothing else."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

TOP_BRANCHES = 15


def load_figure(history: pd.Series, forecast: pd.Series, band: pd.DataFrame | None = None) -> go.Figure:
    """Measured load, the look-ahead's P50 and, when stored, its P10–P90 band (bus quantiles summed)."""
    fig = go.Figure()
    fig.add_scatter(x=history.index, y=history.values, name="measured system load", mode="lines")
    if band is not None and not band.empty:
        fig.add_scatter(x=band["ts"], y=band["p90_mw"], name="P90", mode="lines", line={"width": 0},
                        showlegend=False)
        fig.add_scatter(x=band["ts"], y=band["p10_mw"], name="P10–P90", mode="lines", line={"width": 0},
                        fill="tonexty", fillcolor="rgba(255,127,14,0.25)")
    fig.add_scatter(x=forecast.index, y=forecast.values, name="forecast P50 (look-ahead)", mode="lines+markers",
                    line={"dash": "dash"})
    fig.update_layout(title="System load: measured and forecast", yaxis_title="MW")
    return fig


def dispatch_figure(dispatch: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for gen, rows in dispatch.groupby("gen_id"):
        fig.add_bar(x=rows["ts"], y=rows["p_mw"], name=f"{gen} (bus {rows['bus_id'].iloc[0]})")
    fig.update_layout(barmode="stack", title="Dispatch by unit and interval", yaxis_title="MW")
    return fig


def lmp_figure(lmps: pd.DataFrame) -> go.Figure:
    table = lmps.pivot(index="bus_id", columns="interval", values="lmp_usd_mwh")
    fig = go.Figure(go.Heatmap(z=table.to_numpy(), x=[f"t{c}" for c in table.columns],
                               y=[f"bus {b}" for b in table.index], colorscale="RdYlGn_r",
                               colorbar={"title": "$/MWh"}, hovertemplate="%{y} %{x}: %{z:.2f} $/MWh<extra></extra>"))
    fig.update_layout(title="Locational marginal prices", height=max(400, 18 * len(table)))
    return fig


def lmp_components_figure(lmps: pd.DataFrame) -> go.Figure:
    """The energy component (one price per interval, the reference bus's) and the congestion
    component per bus: what each binding limit adds to or takes from the energy price there."""
    priced = lmps.dropna(subset=["energy_usd_mwh", "congestion_usd_mwh"])
    congestion = priced.pivot(index="bus_id", columns="interval", values="congestion_usd_mwh")
    energy = priced.groupby("interval")["energy_usd_mwh"].first()
    fig = make_subplots(rows=2, cols=1, row_heights=[0.3, 0.7], vertical_spacing=0.08,
                        subplot_titles=("Energy component ($/MWh)", "Congestion component ($/MWh)"))
    fig.add_scatter(x=[f"t{i}" for i in energy.index], y=energy.to_numpy(), name="energy", mode="lines+markers",
                    row=1, col=1)
    bound = float(np.abs(congestion.to_numpy()).max(initial=0.0)) or 1.0
    fig.add_heatmap(z=congestion.to_numpy(), x=[f"t{c}" for c in congestion.columns],
                    y=[f"bus {b}" for b in congestion.index], colorscale="RdBu_r", zmin=-bound, zmax=bound,
                    colorbar={"title": "$/MWh", "y": 0.35, "len": 0.7}, row=2, col=1,
                    hovertemplate="%{y} %{x}: %{z:.2f} $/MWh<extra></extra>")
    fig.update_layout(title="LMP = energy + congestion (lossless DC)", height=max(500, 18 * len(congestion) + 200))
    return fig


def loading_figure(flows: pd.DataFrame, binding: pd.DataFrame) -> go.Figure:
    worst = flows.dropna(subset=["loading_pct"]).sort_values("loading_pct", ascending=False)
    worst = worst.drop_duplicates(["branch_id", "scenario"]).head(TOP_BRANCHES)
    labels = [f"{b} | {s}" for b, s in zip(worst["branch_id"], worst["scenario"], strict=True)]
    bound = {(b, c) for b, c in zip(binding["branch_id"], binding["contingency"], strict=True)}
    colours = ["crimson" if (b, s) in bound else "steelblue"
               for b, s in zip(worst["branch_id"], worst["scenario"], strict=True)]
    fig = go.Figure(go.Bar(x=worst["loading_pct"], y=labels, orientation="h", marker_color=colours))
    fig.add_vline(x=100, line_dash="dot")
    fig.update_layout(title="Most loaded lines (branch | scenario; red = binding)", xaxis_title="% of rating",
                      yaxis={"autorange": "reversed"}, height=max(400, 28 * len(worst)))
    return fig


def convergence_figure(convergence: pd.DataFrame) -> go.Figure:
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_scatter(x=convergence["iteration"], y=convergence["primal_residual_mw"], name="primal residual (MW)")
    fig.add_scatter(x=convergence["iteration"], y=convergence["dual_residual_usd_mwh"], name="dual residual ($/MWh)")
    fig.add_scatter(x=convergence["iteration"], y=convergence["objective_usd"], name="objective ($)",
                    secondary_y=True, line={"dash": "dot"})
    fig.update_yaxes(type="log", title_text="residual", secondary_y=False)
    fig.update_yaxes(title_text="$", secondary_y=True)
    fig.update_layout(title="Solver convergence", xaxis_title="iteration")
    return fig


def write_report(path: Path, summary: dict, frames: dict[str, pd.DataFrame], history: pd.Series,
                 forecast: pd.Series) -> Path:
    """The page embeds plotly.js once, so it opens offline."""
    figures = [load_figure(history, forecast, frames.get("band"))]
    if not frames["dispatch"].empty:
        figures += [dispatch_figure(frames["dispatch"]), lmp_figure(frames["lmps"])]
        if frames["lmps"]["energy_usd_mwh"].notna().any():
            figures.append(lmp_components_figure(frames["lmps"]))
        figures.append(loading_figure(frames["flows"], frames["binding"]))
    if not frames["convergence"].empty:
        figures.append(convergence_figure(frames["convergence"]))
    parts = [fig.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, fig in enumerate(figures)]
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>"
                   for k, v in summary.items())
    binding = frames["binding"].to_html(index=False, float_format=lambda v: f"{v:,.2f}") \
        if not frames["binding"].empty else "<p>No binding line limits.</p>"
    scores = frames.get("scores", pd.DataFrame())
    backtest = ("<h2>Forecast backtest (held-out day, every origin)</h2>" + scores.to_html(
        index=False, float_format=lambda v: f"{v:,.4g}")) if not scores.empty else ""
    unserved = frames.get("unserved", pd.DataFrame())
    cut_off = ("<h2>Load cut off by islanding outages</h2>" + unserved.to_html(
        index=False, float_format=lambda v: f"{v:,.2f}")) if not unserved.empty else ""
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>LASCOPF dispatch "
            f"{html.escape(str(summary.get('execution_id')))}</title><style>body{{font-family:sans-serif;"
            f"margin:2em}} table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:4px 8px;"
            f"text-align:left}}</style></head><body><h1>LASCOPF dispatch</h1><table>{rows}</table>"
            f"<h2>Binding constraints</h2>{binding}{cut_off}{backtest}{''.join(parts)}</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page)
    return path


def _fmt(value: object) -> str:
    if isinstance(value, float) and np.isfinite(value):
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.2f}"
    return "" if value is None else str(value)
