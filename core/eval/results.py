"""Evaluation results: per-image values, table rows, and the JSON/CSV/text writers."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.eval.protocol import metric_info
from core.jsonsafe import json_safe
from core.tables import text_table

__all__ = ["Collector", "EvaluationResult", "MetricRow", "format_table"]


@dataclass
class Collector:
    """Per-image values and NaN counts of every (predictor, metric)."""

    values: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    nan_pairs: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def add(
        self,
        predictor: str,
        metric: str,
        image_id: str,
        value: float,
        n_nan: int = 0,
        n_pairs: int = 0,
    ) -> None:
        self.values.setdefault(predictor, {}).setdefault(metric, {})[image_id] = float(value)
        counts = self.nan_pairs.setdefault((predictor, metric), [0, 0])
        counts[0] += n_nan
        counts[1] += n_pairs


@dataclass(frozen=True)
class MetricRow:
    predictor: str
    metric: str
    mean: float
    lo: float
    hi: float
    n: int  # images (cases) with a value


@dataclass
class EvaluationResult:
    """Rows ``(predictor, metric, mean, lo, hi, n)``, the protocol, notes and timings."""

    dataset: str
    predictors: list[str]  # column order; the human ceiling last when present
    rows: list[MetricRow]
    protocol: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)
    per_image: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    def get(self, predictor: str, metric: str) -> MetricRow:
        for row in self.rows:
            if row.predictor == predictor and row.metric == metric:
                return row
        raise KeyError(f"no row for predictor {predictor!r}, metric {metric!r}")

    def metrics(self) -> list[str]:
        return list(dict.fromkeys(r.metric for r in self.rows))

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "predictors": self.predictors,
            "protocol": self.protocol,
            "rows": [
                {
                    **asdict(r),
                    "family": metric_info(r.metric).family,
                    "better": metric_info(r.metric).better,
                }
                for r in self.rows
            ],
            "notes": self.notes,
            "timings_s": self.timings_s,
            "per_image": self.per_image,
        }

    def to_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(json_safe(self.to_dict()), indent=2) + "\n")
        return path

    def to_csv(self, path: str | Path) -> Path:
        path = Path(path)
        with path.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["predictor", "metric", "family", "better", "mean", "lo", "hi", "n"])
            for r in self.rows:
                info = metric_info(r.metric)
                w.writerow(
                    [
                        r.predictor,
                        r.metric,
                        info.family,
                        info.better,
                        *map(_num, (r.mean, r.lo, r.hi)),
                        r.n,
                    ]
                )
        return path

    def protocol_text(self) -> str:
        return "\n".join(self.protocol.get("lines", []))

    def table(self) -> str:
        return format_table(self)


def _num(v: float) -> str:
    return "" if not math.isfinite(v) else f"{v:.6g}"


def _fmt(v: float) -> str:
    text = f"{v:.3f}"
    return "0.000" if text == "-0.000" else text


def _cell(row: MetricRow | None) -> str:
    if row is None or not math.isfinite(row.mean):
        return "-"
    if not (math.isfinite(row.lo) and math.isfinite(row.hi)):
        return _fmt(row.mean)
    return f"{_fmt(row.mean)} [{_fmt(row.lo)}, {_fmt(row.hi)}]"


def format_table(result: EvaluationResult) -> str:
    """Metric rows x predictor columns, ``mean [lo, hi]``, grouped by family, with ``n``."""
    by_key = {(r.predictor, r.metric): r for r in result.rows}
    metrics = result.metrics()
    if not metrics:
        return "(no metric applies)"
    header = ["metric", "better", *result.predictors, "n"]
    body: list[list[str]] = []
    family = None
    for m in metrics:
        info = metric_info(m)
        if info.family != family:
            family = info.family
            body.append([f"[{family}]"] + [""] * (len(header) - 1))
        cells = [_cell(by_key.get((p, m))) for p in result.predictors]
        ns = [by_key[(p, m)].n for p in result.predictors if (p, m) in by_key]
        n_text = "/".join(str(n) for n in dict.fromkeys(ns))
        body.append([m, info.better, *cells, n_text])
    return text_table(header, body)
