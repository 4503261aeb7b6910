"""Plotly figures of a study report, shared by ``gazescope study report --html`` and the app's
organiser view, and the self-contained HTML page (plotly.js embedded, nothing fetched)."""

from __future__ import annotations

import html
import math
from pathlib import Path

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from core.store.analysis import ACTIONS, ALL, StudyReport

__all__ = ["FIGURE_TITLES", "study_figures", "study_html"]

ACTION_COLOURS = {"accept": "#3fa34d", "edit": "#e0a800", "reject": "#d64545"}
TEMPLATE = "plotly_dark"  # the app is dark; the page uses the same look

FIGURE_TITLES: dict[str, str] = {
    "progress": "Progress per reader",
    "acceptance_by_finding": "Review actions by finding (pooled)",
    "acceptance_by_region": "Review actions by region (pooled)",
    "errors": "Errors by category and significance (pooled)",
    "time_per_case": "Time per case by arm",
    "turing": "Turing test: accuracy naming the scanpath's source",
    "agreement": "Agreement between readers",
}


def study_figures(report: StudyReport) -> dict[str, go.Figure]:
    """One named figure per view, in display order (keys of ``FIGURE_TITLES``)."""
    figs = {
        "progress": _progress(report),
        "acceptance_by_finding": _actions(report, "actions_by_finding", "finding"),
        "acceptance_by_region": _actions(report, "actions_by_region", "region"),
        "errors": _errors(report),
        "time_per_case": _times(report),
        "turing": _turing(report),
        "agreement": _agreement(report),
    }
    for name, fig in figs.items():
        fig.update_layout(
            title=FIGURE_TITLES[name] if name != "turing" else _turing_title(report),
            template=TEMPLATE,
            margin={"l": 60, "r": 20, "t": 60, "b": 60},
        )
    return figs


def study_html(report: StudyReport, figures: dict[str, go.Figure] | None = None) -> str:
    """One HTML page with every figure and table; plotly.js is inlined, nothing is fetched."""
    figures = study_figures(report) if figures is None else figures
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>GazeScope study {html.escape(report.study)}</title>",
        "<style>body{background:#111;color:#ddd;font-family:sans-serif;margin:24px}"
        "table{border-collapse:collapse;margin:8px 0 24px}td,th{border:1px solid #444;"
        "padding:3px 8px;text-align:right}th{background:#222}</style>",
        f"<script type='text/javascript'>{get_plotlyjs()}</script>",
        "</head><body>",
        f"<h1>Study {html.escape(report.study)}</h1>",
        f"<p>{html.escape(report.description)}</p>",
        "<p>Research prototype, not for clinical use. Figures are computed by "
        f"<code>gazescope study report {html.escape(report.study)}</code>.</p>",
    ]
    if report.synthetic_humans:
        parts.append(
            "<p><b>Turing test:</b> the human scanpaths shown are from simulated readers of the "
            "synthetic corpus, not from real radiologists.</p>"
        )
    for name, fig in figures.items():
        parts.append(fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{name}"))
    for name, rows in report.tables().items():
        parts.append(f"<h2>{html.escape(name.replace('_', ' '))}</h2>{_table(rows)}")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_study_html(report: StudyReport, path: Path) -> Path:
    path.write_text(study_html(report), encoding="utf-8")
    return path


def _table(rows: list[dict[str, object]]) -> str:
    if not rows:
        return "<p>(no data)</p>"
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in r.values()) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.3f}"
    return str(value)


def _progress(report: StudyReport) -> go.Figure:
    rows = report.progress
    fig = go.Figure(
        [
            go.Bar(
                name="done",
                y=[r["reader"] for r in rows],
                x=[r["done"] for r in rows],
                orientation="h",
                marker_color="#3fa34d",
            ),
            go.Bar(
                name="to do",
                y=[r["reader"] for r in rows],
                x=[r["total"] - r["done"] for r in rows],
                orientation="h",
                marker_color="#555",
            ),
        ]
    )
    fig.update_layout(barmode="stack", xaxis_title="items")
    return fig


def _actions(report: StudyReport, table: str, column: str) -> go.Figure:
    rows = [r for r in report.tables()[table] if r["scope"] == ALL]
    arms = [a for a in report.arms if any(r["arm"] == a for r in rows)] or list(report.arms)
    fig = make_subplots(rows=1, cols=max(1, len(arms)), shared_yaxes=True, subplot_titles=arms)
    for col, arm in enumerate(arms, start=1):
        sub = [r for r in rows if r["arm"] == arm]
        for action in ACTIONS:
            fig.add_trace(
                go.Bar(
                    name=action,
                    x=[r[column] for r in sub],
                    y=[r[f"{action}_rate"] for r in sub],
                    customdata=[r["n"] for r in sub],
                    hovertemplate="%{x}: %{y:.0%} of %{customdata} sentences",
                    marker_color=ACTION_COLOURS[action],
                    showlegend=col == 1,
                    legendgroup=action,
                ),
                row=1,
                col=col,
            )
    fig.update_layout(barmode="stack", yaxis_title="share of reviewed sentences")
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    return fig


def _errors(report: StudyReport) -> go.Figure:
    rows = [r for r in report.errors if r["scope"] == ALL]
    categories = sorted({r["error_category"] for r in rows})
    fig = go.Figure()
    for sig in sorted({r["significance"] for r in rows}):
        fig.add_trace(
            go.Bar(
                name=f"significance: {sig}",
                x=categories,
                y=[
                    sum(
                        r["n"]
                        for r in rows
                        if r["error_category"] == c and r["significance"] == sig
                    )
                    for c in categories
                ],
            )
        )
    fig.update_layout(barmode="stack", yaxis_title="edited or rejected sentences")
    return fig


def _times(report: StudyReport) -> go.Figure:
    rows = report.time_per_case
    fig = go.Figure()
    for scope in dict.fromkeys(r["scope"] for r in rows):
        sub = [r for r in rows if r["scope"] == scope]
        fig.add_trace(
            go.Bar(
                name=scope,
                x=[r["arm"] for r in sub],
                y=[r["mean_s"] for r in sub],
                error_y={
                    "type": "data",
                    "array": [0 if math.isnan(r["sd_s"]) else r["sd_s"] for r in sub],
                },
                customdata=[[r["cases"], r["median_s"]] for r in sub],
                hovertemplate="mean %{y:.1f} s, median %{customdata[1]:.1f} s, "
                "%{customdata[0]} cases",
            )
        )
    fig.update_layout(barmode="group", yaxis_title="seconds per case (mean ± SD)")
    return fig


def _turing_title(report: StudyReport) -> str:
    title = FIGURE_TITLES["turing"]
    if report.synthetic_humans:
        title += " (human scanpaths: simulated readers, synthetic)"
    return title


def _turing(report: StudyReport) -> go.Figure:
    rows = report.turing
    fig = go.Figure(
        go.Bar(
            x=[r["scope"] for r in rows],
            y=[r["accuracy"] for r in rows],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [r["ci95_high"] - r["accuracy"] for r in rows],
                "arrayminus": [r["accuracy"] - r["ci95_low"] for r in rows],
            },
            customdata=[r["n"] for r in rows],
            hovertemplate="%{x}: %{y:.0%} of %{customdata} (95% Wilson CI)",
            marker_color="#4a90d9",
        )
    )
    fig.add_hline(y=0.5, line_dash="dash", annotation_text="chance")
    fig.update_yaxes(range=[0, 1], tickformat=".0%", title="accuracy")
    return fig


def _agreement(report: StudyReport) -> go.Figure:
    rows = report.agreement
    labels = [f"{r['measure']}<br>{r['raters']}" for r in rows]
    has_ci = [not math.isnan(r["ci95_low"]) for r in rows]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=[r["value"] for r in rows],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [
                    r["ci95_high"] - r["value"] if ok else 0
                    for r, ok in zip(rows, has_ci, strict=True)
                ],
                "arrayminus": [
                    r["value"] - r["ci95_low"] if ok else 0
                    for r, ok in zip(rows, has_ci, strict=True)
                ],
            },
            customdata=[[r["of"], r["items"]] for r in rows],
            hovertemplate="%{customdata[0]}: %{y:.2f} over %{customdata[1]} items",
            marker_color="#9b59b6",
        )
    )
    fig.update_yaxes(range=[-1, 1], title="kappa / ICC")
    return fig
