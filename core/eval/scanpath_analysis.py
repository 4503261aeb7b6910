"""What a scanpath model does beyond the runner's table, on a synthetic corpus with known truth.

For each predictor (a learned model or a baseline) and for the simulated readers themselves,
on one split of a ``gazescope synth`` corpus, optionally one source ("phantom" or "nih"):

- **finding coverage**: over (image, located finding) pairs - support devices excluded - the
  share that receives at least one fixation *on the finding* (within 1 degree of its mask, the
  convention of ``core.eval.gaze_realism``; 1 degree from the image's human reads' pixels per
  degree), averaged over a predictor's ``k`` samples (humans: over readers); then the
  **time to first fixation** on it, as the number of fixations before it and as the summed
  durations of those fixations (saccade time left out on both sides, since predictors start
  each fixation when the previous one ends);
- **duration realism**: fixation duration median and 5-95 % range, fixations per read (median,
  5-95 %), next to the published figures (``core.gaze.published``);
- **sample diversity**: the mean MultiMatch (MM, no simplification) between two samples of the
  same image (each pair once), against the same figure between two different human readers.

Every mean comes with a percentile bootstrap CI over images (``core.metrics.bootstrap_ci``).
Requests use the runner's seeds (``image_seed``) and, for length-taking baselines, the image's
median human length - the same requests as ``gazescope evaluate``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from core.data.case import GazeCase
from core.gaze.published import DURATION_MEDIAN_S, DURATION_Q05_S, DURATION_Q95_S
from core.gaze.scanpath import Scanpath
from core.metrics import bootstrap_ci
from core.metrics.multimatch import multimatch
from core.models.predictor import PredictionRequest, Predictor

__all__ = [
    "HUMANS",
    "AnalysisRow",
    "ScanpathAnalysis",
    "analyse",
]

HUMANS = "human readers"


@dataclass(frozen=True)
class AnalysisRow:
    metric: str
    column: str
    mean: float
    lo: float = math.nan
    hi: float = math.nan
    n: int = 0


@dataclass
class ScanpathAnalysis:
    source: str
    n_images: int
    columns: list[str]
    rows: list[AnalysisRow] = field(default_factory=list)

    def value(self, metric: str, column: str) -> AnalysisRow | None:
        return next((r for r in self.rows if r.metric == metric and r.column == column), None)

    def table(self) -> str:
        """Plain-text table: one line per metric, one ``mean [lo, hi]`` cell per column."""
        metrics = list(dict.fromkeys(r.metric for r in self.rows))
        head = ["metric", *self.columns]
        lines = []
        for m in metrics:
            cells = [m]
            for c in self.columns:
                r = self.value(m, c)
                if r is None or not math.isfinite(r.mean):
                    cells.append("-")
                elif math.isfinite(r.lo):
                    cells.append(f"{r.mean:.3f} [{r.lo:.3f}, {r.hi:.3f}]")
                else:
                    cells.append(f"{r.mean:.3f}")
            lines.append(cells)
        widths = [max(len(str(x)) for x in col) for col in zip(head, *lines, strict=True)]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        return "\n".join([fmt.format(*head), *(fmt.format(*row) for row in lines)])


def _on_finding(sp: Scanpath, dist: np.ndarray, radius_px: float) -> int | None:
    """Index of the first fixation within ``radius_px`` of the finding (``dist``: pixels to its
    mask at image resolution), None when none is."""
    if len(sp) == 0:
        return None
    h, w = dist.shape
    xy = sp.xy
    ii = np.clip((xy[:, 1] * h).astype(int), 0, h - 1)
    jj = np.clip((xy[:, 0] * w).astype(int), 0, w - 1)
    on = np.flatnonzero(dist[ii, jj] <= radius_px)
    return int(on[0]) if on.size else None


def _pair_mm(paths: Sequence[Scanpath], frame: tuple[float, float]) -> float:
    vals = []
    for a, b in itertools.combinations(paths, 2):
        r = multimatch(a, b, frame_size=frame)
        if math.isfinite(r.mm):
            vals.append(r.mm)
    return float(np.mean(vals)) if vals else math.nan


def analyse(
    root: str | Path,
    cases: Sequence[GazeCase],
    predictors: Sequence[Predictor],
    *,
    k: int = 5,
    seed: int = 0,
    source: str = "all",
    n_boot: int = 10_000,
) -> ScanpathAnalysis:
    """Coverage/time-to-first-fixation, durations and diversity (module docstring)."""
    from core.eval.runner import frame_of, image_seed
    from core.synth.corpus import load_truth

    columns = [p.name for p in predictors] + [HUMANS]
    per_image: dict[tuple[str, str], list[float]] = {}
    pooled: dict[tuple[str, str], list[float]] = {}

    def add(metric: str, column: str, value: float) -> None:
        per_image.setdefault((metric, column), []).append(value)

    for case in cases:
        humans = [r.scanpath for r in case.reads if len(r.scanpath)]
        if not humans:
            continue
        readers = [r.reader_id for r in case.reads if len(r.scanpath)]
        n_fix = int(np.median([len(s) for s in humans]))
        frame = frame_of(case.image)
        truth = load_truth(root, case.case_id)
        ppd = np.nanmedian([f.ppd_x for s in humans for f in s.fixations])
        radius = float(ppd) if math.isfinite(ppd) else 0.0
        targets = [
            ndi.distance_transform_edt(~m)
            for f, m in zip(truth["findings"], truth["finding_masks"], strict=True)
            if m is not None and m.any() and f["id"] != "support_devices"
        ]
        paths: dict[str, list[Scanpath]] = {HUMANS: humans}
        for p in predictors:
            req = PredictionRequest(case.image, k=k, seed=image_seed(seed, case.case_id),
                                    n_fixations=n_fix)
            paths[p.name] = list(p(req).scanpaths)
        for col, sps in paths.items():
            durs = np.concatenate([s.durations_s for s in sps if len(s)] or [np.zeros(0)])
            pooled.setdefault(("duration (s)", col), []).extend(durs.tolist())
            pooled.setdefault(("fixations per read", col), []).extend(len(s) for s in sps)
            for dist in targets:
                hits = [_on_finding(s, dist, radius) for s in sps]
                add("finding coverage", col, float(np.mean([h is not None for h in hits])))
                found = [(h, s) for h, s in zip(hits, sps, strict=True) if h is not None]
                if found:
                    add("fixations before the first on a finding", col,
                        float(np.mean([h for h, _ in found])))
                    add("fixation time before the first on a finding (s)", col,
                        float(np.mean([s.durations_s[:h].sum() for h, s in found])))
            if col == HUMANS:
                distinct = {}
                for r, s in zip(readers, sps, strict=True):
                    distinct.setdefault(r, s)
                add("diversity: MM between two scanpaths of an image", col,
                    _pair_mm(list(distinct.values()), frame))
            else:
                add("diversity: MM between two scanpaths of an image", col, _pair_mm(sps, frame))

    out = ScanpathAnalysis(source, len({c.case_id for c in cases}), columns)
    for (metric, col), vals in per_image.items():
        ci = bootstrap_ci(np.asarray(vals, np.float64), n_boot=n_boot, seed=seed)
        out.rows.append(AnalysisRow(metric, col, ci.mean, ci.lo, ci.hi, ci.n_valid))
    for (metric, col), vals in pooled.items():
        a = np.asarray(vals, np.float64)
        if not a.size:
            continue
        q05, q50, q95 = np.percentile(a, [5, 50, 95])
        out.rows.append(AnalysisRow(f"{metric} median", col, float(q50), n=a.size))
        out.rows.append(AnalysisRow(f"{metric} 5 %", col, float(q05), n=a.size))
        out.rows.append(AnalysisRow(f"{metric} 95 %", col, float(q95), n=a.size))
    published = {"duration (s) median": DURATION_MEDIAN_S, "duration (s) 5 %": DURATION_Q05_S,
                 "duration (s) 95 %": DURATION_Q95_S}
    if "published (GazeSearch)" not in out.columns:
        out.columns.append("published (GazeSearch)")
    for metric, v in published.items():
        out.rows.append(AnalysisRow(metric, "published (GazeSearch)", v))
    order = ["finding coverage", "fixations before the first on a finding",
             "fixation time before the first on a finding (s)",
             "diversity: MM between two scanpaths of an image"]
    out.rows.sort(key=lambda r: (order.index(r.metric) if r.metric in order else len(order),
                                 r.metric.split(" ")[0], r.metric))
    return out
