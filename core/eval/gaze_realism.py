"""Realism of a synthetic gaze corpus: simulated figures next to the published real ones.

``gaze_statistics(root, source=...)`` reads a ``gazescope synth`` corpus back through the
REFLACX reader (what a user of the corpus sees) and its ``truth/`` files, and measures:

- fixation durations and saccade amplitudes (image widths, isotropic frame), fixations per
  read, the spatial centre and spread of fixations, the first fixation's position - both over
  **full reads** and over a **search subset** that mimics GazeSearch's protocol: per read and
  found finding, the <= 6 fixations ending with the first fixation on it (our approximation of
  GazeSearch's "first <= 6 fixations of a finding search"; the published duration/amplitude/
  spatial figures come from such search scanpaths, the fixation count from EGD-CXR full reads:
  each row says which to compare with);
- time to the first fixation on a finding (within 1 degree of its mask, from the first
  fixation), found vs missed findings, and the share never fixated - no published real figure;
- detection rate by conspicuity - no published real figure;
- the share of fixation time on the findings' masks next to their share of the image area -
  no published figure (the literature says abnormal regions draw more and longer fixations);
- read length and the Spearman correlation of read duration with the number of findings.

``consistency(root, ...)`` is the inter-reader consistency - the human ceiling of
``core.eval`` (each reader vs the other readers of the image, saliency
leave-one-reader-out), i.e. what any model can reach on the corpus.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from scipy.stats import spearmanr

from core.data._tables import CsvTable
from core.data.case import GazeCase
from core.data.datasets import load_cases
from core.eval.protocol import EvaluationConfig
from core.eval.runner import evaluate
from core.gaze.published import (
    AMPLITUDE_QUANTILES_W,
    DEFAULT_N_FIXATIONS,
    DURATION_MEAN_S,
    DURATION_MEDIAN_S,
    DURATION_Q05_S,
    DURATION_Q95_S,
    FIRST_FIXATION_MEAN,
    FIXATION_POSITION_MEAN,
    FIXATION_POSITION_SD,
)
from core.synth.corpus import load_truth

__all__ = [
    "REAL_FIGURES",
    "SEARCH_SUBSET_LENGTH",
    "GazeStatistics",
    "StatRow",
    "consistency",
    "gaze_statistics",
    "load_corpus_cases",
]

SEARCH_SUBSET_LENGTH = 6  # GazeSearch keeps at most 6 fixations per finding search
_GS = "GazeSearch (REFLACX/EGD-CXR search scanpaths, <= 6 fixations)"
_EGD = "EGD-CXR (1 radiologist, full reads with dictation)"
# name -> (value, source); GAZE_FACTS section 2 (core.gaze.published)
REAL_FIGURES: dict[str, tuple[float, str]] = {
    "duration median (s)": (DURATION_MEDIAN_S, _GS),
    "duration mean (s)": (DURATION_MEAN_S, _GS),
    "duration 5 % (s)": (DURATION_Q05_S, _GS),
    "duration 95 % (s)": (DURATION_Q95_S, _GS),
    "amplitude median (widths)": (AMPLITUDE_QUANTILES_W[50], _GS),
    "amplitude 25 % (widths)": (AMPLITUDE_QUANTILES_W[25], _GS),
    "amplitude 75 % (widths)": (AMPLITUDE_QUANTILES_W[75], _GS),
    "amplitude 95 % (widths)": (AMPLITUDE_QUANTILES_W[95], _GS),
    "fixation x mean": (FIXATION_POSITION_MEAN[0], _GS),
    "fixation y mean": (FIXATION_POSITION_MEAN[1], _GS),
    "fixation x SD": (FIXATION_POSITION_SD[0], _GS),
    "fixation y SD": (FIXATION_POSITION_SD[1], _GS),
    "first fixation x mean": (FIRST_FIXATION_MEAN[0], _GS),
    "first fixation y mean": (FIRST_FIXATION_MEAN[1], _GS),
    "fixations per read (mean)": (float(DEFAULT_N_FIXATIONS), _EGD),
}


@dataclass(frozen=True)
class StatRow:
    name: str
    full: float  # over full reads
    search: float = math.nan  # over the search subset
    real: float = math.nan
    source: str = "no published real figure"


@dataclass
class GazeStatistics:
    source: str
    n_images: int
    n_reads: int
    rows: list[StatRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _cases_table(root: Path) -> dict[str, dict[str, str]]:
    out = {}
    with CsvTable(root / "cases.csv", required=("dicom_id", "source", "split")) as t:
        for row in t.rows():
            out[row.text("dicom_id")] = {"source": row.text("source"), "split": row.text("split")}
    return out


def _reads_table(root: Path) -> dict[tuple[str, int], dict[str, str]]:
    out = {}
    with CsvTable(root / "truth" / "reads.csv", required=("id", "finding_index", "found")) as t:
        for row in t.rows():
            out[(row.text("id"), row.integer("finding_index"))] = {
                "found": row.text("found"),
                "conspicuity": row.text("conspicuity"),
                "finding": row.text("finding"),
            }
    return out


def load_corpus_cases(
    root: str | Path, *, source: str | None = None, split: str | None = None
) -> list[GazeCase]:
    """The corpus's cases through ``load_cases("synthetic", ...)``, kept to one source
    ("phantom" or "nih") and split when given."""
    root = Path(root)
    table = _cases_table(root)
    cases = load_cases("synthetic", root)
    keep = []
    for c in cases:
        info = table.get(c.case_id)
        if info is None:
            continue
        if source is not None and info["source"] != source:
            continue
        if split is not None and info["split"] != split:
            continue
        keep.append(c)
    return keep


def _q(a: Sequence[float], q: float) -> float:
    return float(np.percentile(a, q)) if len(a) else math.nan


def _amplitudes(xy: np.ndarray, aspect: float) -> np.ndarray:
    if len(xy) < 2:
        return np.zeros(0)
    d = np.diff(xy, axis=0)
    return np.hypot(d[:, 0], d[:, 1] * aspect)


def gaze_statistics(root: str | Path, *, source: str | None = None) -> GazeStatistics:
    """Measure the corpus (module docstring); ``source``: "phantom", "nih" or None for all."""
    root = Path(root)
    cases = load_corpus_cases(root, source=source)
    outcomes = _reads_table(root)
    dur_full, amp_full, xy_full, first = [], [], [], []
    dur_s, amp_s, xy_s = [], [], []
    n_fix, read_len, n_find = [], [], []
    t_found, t_missed = [], []
    never_fixated = 0  # missed findings no fixation came within 1 degree of
    det: list[tuple[float, bool]] = []
    time_share, area_share = [], []
    words_rate = []
    n_reads = 0
    for case in cases:
        truth = load_truth(root, case.case_id)
        w, h = case.image.width_px, case.image.height_px
        aspect = h / w
        findings = truth["findings"]
        masks = truth["finding_masks"]
        # distance (pixels) to each located finding, for "within 1 degree"
        dists = [
            ndi.distance_transform_edt(~m) if m is not None and m.any() else None for m in masks
        ]
        union = np.zeros((h, w), bool)
        for f, m in zip(findings, masks, strict=True):
            exact = (f.get("details") or {}).get("exact", True)
            if m is not None and f["id"] != "support_devices" and exact:
                union |= m
        for read in case.reads:
            sp = read.scanpath
            if len(sp) == 0:
                continue
            n_reads += 1
            arr = sp.to_array()
            xy, starts, durs = arr[:, :2], arr[:, 2], arr[:, 3]
            dur_full.extend(durs)
            amp_full.extend(_amplitudes(xy, aspect))
            xy_full.append(xy)
            first.append(xy[0])
            n_fix.append(len(sp))
            read_len.append(float(starts[-1] + durs[-1] - starts[0]))
            n_find.append(sum(1 for f in findings if f["id"] != "support_devices"))
            if read.report is not None and len(read.report.words) > 1:
                ws = [wd for wd in read.report.words if wd.word != "."]
                span = ws[-1].end_s - ws[0].start_s if ws else 0.0
                if span > 0:
                    words_rate.append(len(ws) / span)
            ii = np.clip((xy[:, 1] * h).astype(int), 0, h - 1)
            jj = np.clip((xy[:, 0] * w).astype(int), 0, w - 1)
            if union.any():
                time_share.append(float(durs[union[ii, jj]].sum() / durs.sum()))
                area_share.append(float(union.mean()))
            for k, f in enumerate(findings):
                if dists[k] is None or f["id"] == "support_devices":
                    continue
                info = outcomes.get((read.read_id, k))
                if info is None:
                    continue
                found = info["found"] == "True"
                det.append((float(f["conspicuity"]), found))
                ppd = np.array([fx.ppd_x for fx in sp.fixations])
                on = np.flatnonzero(dists[k][ii, jj] <= np.where(np.isfinite(ppd), ppd, 0.0))
                if on.size == 0:
                    never_fixated += not found
                    continue
                t = float(starts[on[0]] - starts[0])
                (t_found if found else t_missed).append(t)
                if found:
                    inside = np.flatnonzero(masks[k][ii, jj])
                    if inside.size:
                        j = int(inside[0])
                        seg = slice(max(0, j - SEARCH_SUBSET_LENGTH + 1), j + 1)
                        dur_s.extend(durs[seg])
                        amp_s.extend(_amplitudes(xy[seg], aspect))
                        xy_s.append(xy[seg])
    stats = GazeStatistics(source or "all", len(cases), n_reads)
    if not n_reads:
        stats.notes.append("no read with fixations")
        return stats
    XY = np.concatenate(xy_full)
    XYs = np.concatenate(xy_s) if xy_s else np.zeros((0, 2))
    F = np.array(first)

    def row(name: str, full: float, search: float = math.nan) -> None:
        real, src = REAL_FIGURES.get(name, (math.nan, "no published real figure"))
        stats.rows.append(StatRow(name, full, search, real, src))

    for name, q in (("median", 50), ("5 %", 5), ("95 %", 95)):
        row(f"duration {name} (s)", _q(dur_full, q), _q(dur_s, q))
        if name == "median":
            row(
                "duration mean (s)",
                float(np.mean(dur_full)),
                float(np.mean(dur_s)) if dur_s else math.nan,
            )
    for name, q in (("median", 50), ("25 %", 25), ("75 %", 75), ("95 %", 95)):
        row(f"amplitude {name} (widths)", _q(amp_full, q), _q(amp_s, q))
    row(
        "fixation x mean", float(XY[:, 0].mean()), float(XYs[:, 0].mean()) if len(XYs) else math.nan
    )
    row(
        "fixation y mean", float(XY[:, 1].mean()), float(XYs[:, 1].mean()) if len(XYs) else math.nan
    )
    row("fixation x SD", float(XY[:, 0].std()), float(XYs[:, 0].std()) if len(XYs) else math.nan)
    row("fixation y SD", float(XY[:, 1].std()), float(XYs[:, 1].std()) if len(XYs) else math.nan)
    row("first fixation x mean", float(F[:, 0].mean()))
    row("first fixation y mean", float(F[:, 1].mean()))
    row("fixations per read (mean)", float(np.mean(n_fix)))
    row("fixations per read (SD)", float(np.std(n_fix)))
    row("fixations per read 5 %", _q(n_fix, 5))
    row("fixations per read 95 %", _q(n_fix, 95))
    row("read duration median (s)", _q(read_len, 50))
    if len(set(n_find)) > 1:
        row("Spearman(read duration, findings)", float(spearmanr(read_len, n_find)[0]))
        stats.notes.append(
            "Spearman(read duration, findings): no direct real figure; MedGaze reports 0.65 between "
            "predicted total duration and an expert's difficulty ranking (a different measure)"
        )
    row("time to 1st fixation on finding, found (s, median)", _q(t_found, 50))
    row("time to 1st fixation on finding, missed (s, median)", _q(t_missed, 50))
    if det:
        row(
            "missed findings never fixated (%)",
            100.0 * never_fixated / max(1, sum(not f for _, f in det)),
        )
        c = np.array([x for x, _ in det])
        found = np.array([f for _, f in det])
        for lo, hi in ((0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.01)):
            sel = (c >= lo) & (c < hi)
            if sel.any():
                row(
                    f"found (%), conspicuity {lo:.2f}-{min(hi, 1.0):.2f} (n={int(sel.sum())})",
                    100.0 * float(found[sel].mean()),
                )
    if time_share:
        row("fixation time on findings (%)", 100.0 * float(np.mean(time_share)))
        row("image area of findings (%)", 100.0 * float(np.mean(area_share)))
        row("time share / area share", float(np.mean(time_share) / max(np.mean(area_share), 1e-9)))
    if words_rate:
        row("dictation words per second (median; pauses included)", _q(words_rate, 50))
    stats.notes.append(
        "search subset: per read and found finding, the <= 6 fixations ending with the first one "
        f"inside its mask ({len(dur_s)} fixations) - our approximation of GazeSearch's protocol; "
        "compare GazeSearch rows with this column, EGD-CXR rows with full reads"
    )
    stats.notes.append(
        "on a finding = within 1 degree of its mask (the fovea); times from the first fixation"
    )
    return stats


def consistency(
    root: str | Path,
    *,
    source: str | None = None,
    split: str | None = "test",
    limit: int | None = None,
    workers: int = 1,
    n_boot: int = 1000,
):
    """Inter-reader consistency: ``core.eval.evaluate`` with no predictor, only its
    human ceiling (each reader vs the others, saliency leave-one-reader-out)."""
    cases = load_corpus_cases(root, source=source, split=split)
    if limit is not None:
        cases = cases[:limit]
    cfg = EvaluationConfig(workers=workers, n_boot=n_boot, human_ceiling=True)
    return evaluate(cases, [], cfg, dataset="synthetic")
