"""The evaluation runner: predictors against human readers, one protocol, one table.

For each image of a dataset and each predictor, the predictor is asked for ``k`` seeded
scanpath samples and a saliency map (:mod:`core.models`), and every applicable metric of
:mod:`core.metrics` is computed against the image's human reads:

- **Scanpath** (``k`` samples x every human scanpath of the image): MultiMatch ``MM`` and
  ``D-MM`` with and without simplification, the five MultiMatch dimensions, ScanMatch with and
  without duration, Sequence Score over mean-shift clusters of the image's human fixations,
  DTW and discrete Frechet distance, and MedGaze's binary-map IoU/CC.
- **Saliency** (the predicted map vs the humans): NSS and AUC-Judd at the pooled human
  fixations, shuffled AUC with the other images' fixations as negatives, CC / KL / SIM against
  the human heatmap (REFLACX recipe: 1-degree Gaussians, duration-weighted).
- **Classification** when the predictor gives findings and the case has labels; **report
  text** when it gives sentences and the case has reports.

Aggregation: per image first (mean over its pairs / readers), then the mean over images with
a seeded 95 % percentile bootstrap interval over images (:func:`core.metrics.bootstrap_ci`).
Where a dataset has several readers per image, a **human ceiling** row scores each reader
against the other readers of the same image. Everything that was skipped is counted and
said why in ``EvaluationResult.notes``. ``core/train/EVALUATION.md`` documents the protocol
and how to read the table.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.data.case import GazeCase, ImageRef, Read
from core.errors import GazeDataError, GazeScopeError
from core.gaze.heatmap import scanpath_heatmap
from core.gaze.published import DEGREE_OF_HEIGHT
from core.gaze.scanpath import Scanpath
from core.io.geometry import resize_image
from core.jsonsafe import json_safe
from core.metrics import (
    CC,
    MULTIMATCH_DIMENSIONS,
    NSS,
    SIM,
    AUC_Judd,
    KLDiv,
    bootstrap_ci,
    classification_metrics,
    dtw_distance,
    fit_fixation_clusters,
    frechet_distance,
    grounding_ious,
    keyword_scores,
    medgaze_cc,
    medgaze_iou,
    multimatch,
    rouge_ls,
    sAUC,
    scanmatch,
    sentence_bleus,
)
from core.metrics.saliency import MEDGAZE_GRID
from core.metrics.scanmatch import SCANMATCH_BINS, SCANMATCH_TEMPORAL_BIN_S, SCANMATCH_THRESHOLD
from core.metrics.sequence import FixationClusters, sequence_score
from core.models import Prediction, PredictionRequest, Predictor
from core.report.labeller import label_report
from core.vocabulary import FINDING_IDS

logger = logging.getLogger(__name__)

__all__ = [
    "DATASETS",
    "HUMAN",
    "METRICS",
    "EvaluationConfig",
    "EvaluationResult",
    "MetricInfo",
    "MetricRow",
    "cases_from_scanpaths",
    "evaluate",
    "format_table",
    "image_seed",
    "load_cases",
    "scanpath_pair_metrics",
    "score_scanpaths",
]

DATASETS: tuple[str, ...] = ("reflacx", "egd", "gazesearch", "nih", "synthetic")
HUMAN = "human (leave-one-reader-out)"
_SPLIT_ALIASES = {"val": {"val", "valid", "validate", "validation"}}


# --------------------------------------------------------------------------------------------
# Metrics and configuration


@dataclass(frozen=True)
class MetricInfo:
    family: str  # "scanpath", "saliency", "classification", "report"
    better: str  # "higher" or "lower"
    description: str
    nan_reason: str = ""  # why a comparison can be NaN (said in the notes when it happens)


_MM_NAN = "a scanpath with fewer than 3 fixations"
METRICS: dict[str, MetricInfo] = {
    "MM": MetricInfo(
        "scanpath",
        "higher",
        "MultiMatch mean of vector/direction/length/position, no simplification",
        _MM_NAN,
    ),
    "D-MM": MetricInfo(
        "scanpath", "higher", "MultiMatch mean of all five dimensions, no simplification", _MM_NAN
    ),
    **{
        f"MM {d}": MetricInfo(
            "scanpath", "higher", f"MultiMatch {d} similarity, no simplification", _MM_NAN
        )
        for d in MULTIMATCH_DIMENSIONS
    },
    "MM (simplified)": MetricInfo("scanpath", "higher", "MM after simplification", _MM_NAN),
    "D-MM (simplified)": MetricInfo("scanpath", "higher", "D-MM after simplification", _MM_NAN),
    "ScanMatch": MetricInfo(
        "scanpath", "higher", "ScanMatch without duration", "an empty scanpath"
    ),
    "ScanMatch (duration)": MetricInfo(
        "scanpath",
        "higher",
        "ScanMatch with 50 ms temporal bins",
        "every fixation shorter than 25 ms",
    ),
    "SequenceScore": MetricInfo(
        "scanpath",
        "higher",
        "Sequence Score over mean-shift clusters of the image's human fixations",
        "two empty scanpaths",
    ),
    "DTW": MetricInfo(
        "scanpath", "lower", "dynamic time warping distance, image widths", "an empty scanpath"
    ),
    "Frechet": MetricInfo(
        "scanpath", "lower", "discrete Frechet distance, image widths", "an empty scanpath"
    ),
    "MedGaze IoU": MetricInfo(
        "scanpath", "higher", "MedGaze protocol: IoU of binary 128x128 fixation maps"
    ),
    "MedGaze CC": MetricInfo(
        "scanpath", "higher", "MedGaze protocol: Pearson CC of binary 128x128 fixation maps"
    ),
    "NSS": MetricInfo(
        "saliency", "higher", "normalised scanpath saliency at the pooled human fixations"
    ),
    "AUC-Judd": MetricInfo("saliency", "higher", "AUC-Judd at the pooled human fixations"),
    "sAUC": MetricInfo(
        "saliency",
        "higher",
        "shuffled AUC, negatives: the other images' human fixations",
        "no other image with fixations",
    ),
    "CC": MetricInfo(
        "saliency", "higher", "Pearson CC with the human heatmap", "a constant human heatmap"
    ),
    "KL": MetricInfo("saliency", "lower", "KL(human heatmap || predicted map)"),
    "SIM": MetricInfo("saliency", "higher", "histogram intersection with the human heatmap"),
    "AUC macro": MetricInfo("classification", "higher", "ROC AUC, mean over labels"),
    "AUC micro": MetricInfo("classification", "higher", "ROC AUC over all (case, label) pairs"),
    "F1 macro": MetricInfo("classification", "higher", "F1 at threshold 0.5, mean over labels"),
    "F1 micro": MetricInfo("classification", "higher", "F1 at threshold 0.5, pooled counts"),
    "ROUGE-L": MetricInfo("report", "higher", "ROUGE-L F vs each report of the image"),
    "BLEU-4": MetricInfo("report", "higher", "sentence BLEU-4 (0-1) vs each report of the image"),
    "keyword recall": MetricInfo(
        "report", "higher", "clinical keyword recall vs each report", "a reference without keyword"
    ),
    "keyword precision": MetricInfo(
        "report", "higher", "clinical keyword precision", "a generated report without keyword"
    ),
    "label F1 micro": MetricInfo(
        "report",
        "higher",
        "labeller F1 of the generated report vs the majority of the image's reports",
    ),
    "label F1 macro": MetricInfo("report", "higher", "as above, mean over findings"),
    "grounding box acc@0.5": MetricInfo(
        "report",
        "higher",
        "sentences whose region box meets a true box of their finding with IoU >= 0.5",
    ),
}
SCANPATH_METRICS = tuple(k for k, v in METRICS.items() if v.family == "scanpath")
SALIENCY_METRICS = tuple(k for k, v in METRICS.items() if v.family == "saliency")


def metric_info(name: str) -> MetricInfo:
    """Info of a metric; per-label classification rows (``"AUC cardiomegaly"``) included."""
    if name in METRICS:
        return METRICS[name]
    if name.startswith("AUC "):
        return MetricInfo("classification", "higher", f"ROC AUC of {name[4:]}")
    raise KeyError(name)


@dataclass(frozen=True)
class EvaluationConfig:
    """The protocol's knobs; defaults are what the table and EVALUATION.md describe."""

    k: int = 5  # scanpath samples per image and predictor
    seed: int = 0  # per-image request seeds derive from it and the image id (image_seed)
    n_fixations: int | None = None  # per sample; None: the image's median human length
    saliency_long_side: int = 128  # grid cells along the image's longer side
    sigma_deg: float = 1.0  # human heatmap Gaussians (REFLACX recipe)
    fallback_sigma_of_height: float = DEGREE_OF_HEIGHT  # sigma when a fixation has no ppd
    # MultiMatch simplification: the example values of the multimatch-gaze documentation
    # (multimatch.readthedocs.io, API page): 45 deg, 100 px on its default 1280 x 720 screen
    # (6.8 % of the diagonal), 0.1 s
    simplify_amplitude_of_diagonal: float = 100.0 / math.hypot(1280, 720)  # TAmp
    simplify_direction_deg: float = 45.0  # TDir
    simplify_duration_s: float = 0.1  # TDur
    scanmatch_bins: tuple[int, int] = SCANMATCH_BINS
    scanmatch_threshold: float = SCANMATCH_THRESHOLD
    scanmatch_temporal_bin_s: float = SCANMATCH_TEMPORAL_BIN_S
    medgaze_grid: tuple[int, int] = MEDGAZE_GRID
    label_threshold: float = 0.5  # case label certainty >= this counts as positive
    n_boot: int = 10_000  # bootstrap resamples of images
    human_ceiling: bool = True
    workers: int = 1  # processes for the scanpath metrics (the expensive part)

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")
        if self.n_fixations is not None and self.n_fixations < 1:
            raise ValueError(f"n_fixations must be >= 1 or None, got {self.n_fixations}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")


def image_seed(seed: int, image_id: str) -> int:
    """The request seed of one image: depends on the run seed and the image id only, so an
    image gets the same samples whatever subset, order or ``--limit`` it is evaluated in."""
    state = np.random.SeedSequence([seed, zlib.crc32(image_id.encode())]).generate_state(1)
    return int(state[0])


def frame_of(image: ImageRef) -> tuple[float, float]:
    """Isotropic frame with the image width as unit: ``(1, H / W)``."""
    if image.width_px > 0 and image.height_px > 0:
        return (1.0, image.height_px / image.width_px)
    return (1.0, 1.0)


def grid_of(image: ImageRef, long_side: int) -> tuple[int, int]:
    """``(gh, gw)`` saliency grid over the whole image, ``long_side`` cells on the longer side."""
    w, h = (image.width_px, image.height_px) if image.width_px > 0 else (1, 1)
    if w >= h:
        return (max(1, round(long_side * h / w)), long_side)
    return (long_side, max(1, round(long_side * w / h)))


# --------------------------------------------------------------------------------------------
# Loading cases


def load_cases(
    dataset: str,
    root: str | Path,
    *,
    images: str | Path | None = None,
    split: str | None = None,
    limit: int | None = None,
    reader_ids: Mapping[str, str] | None = None,
) -> list[GazeCase]:
    """Read a dataset's cases with its reader, keep one split, stop after ``limit`` cases.

    ``dataset``: "reflacx" / "synthetic" (REFLACX layout folder), "egd" (EGD-CXR folder),
    "gazesearch" (the JSON file, or a folder holding exactly one ``*.json``), "nih" (NIH-sample
    layout folder). ``split`` keeps cases whose split (or one of a multi-split case's ``|``
    parts) equals it; "val" also matches "validate"/"validation". A split that matches nothing
    raises ``GazeScopeError`` listing the splits present. ``reader_ids`` (REFLACX layout only:
    read id -> reader id) tells the human ceiling which reads share a reader; without it every
    read counts as a different reader (REFLACX does not publish reader identities).
    "synthetic" (a ``gazescope synth`` corpus) takes ``reader_ids`` from the corpus's
    ``synthetic_readers.csv`` and ``images`` from its ``images/`` folder when not given.
    """
    root = Path(root)
    if dataset == "synthetic":
        if reader_ids is None and (root / "synthetic_readers.csv").is_file():
            from core.data.synth.corpus import read_reader_table

            reader_ids = read_reader_table(root / "synthetic_readers.csv")
        if images is None and (root / "images").is_dir():
            images = root / "images"
    if dataset in ("reflacx", "synthetic"):
        from core.data.reflacx import read_reflacx

        it: Iterable[GazeCase] = read_reflacx(
            root, images_root=images, dataset=dataset, reader_ids=reader_ids
        )
    elif dataset == "egd":
        from core.data.egd import read_egd

        it = read_egd(root, images_root=images)
    elif dataset == "gazesearch":
        from core.data.gazesearch import read_gazesearch

        if root.is_dir():
            found = sorted(root.glob("*.json"))
            if len(found) != 1:
                raise GazeDataError(
                    root, f"expected one GazeSearch *.json here, found {len(found)}"
                )
            root = found[0]
        it = read_gazesearch(root, images_root=images)
    elif dataset == "nih":
        from core.data.nih import read_nih

        it = read_nih(root)
    else:
        raise GazeScopeError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
    if reader_ids is not None and dataset not in ("reflacx", "synthetic"):
        raise GazeScopeError(f"reader_ids applies to the REFLACX layout only, not {dataset!r}")
    wanted = None if split is None else _SPLIT_ALIASES.get(split, {split})
    cases: list[GazeCase] = []
    seen_splits: set[str] = set()
    for case in it:
        parts = set(case.split.split("|")) if case.split else {""}
        seen_splits |= parts
        if wanted is not None and not parts & wanted:
            continue
        cases.append(case)
        if limit is not None and len(cases) >= limit:
            break
    if wanted is not None and not cases:
        present = ", ".join(sorted(repr(s) for s in seen_splits if s)) or "none (no split column)"
        raise GazeScopeError(f"{dataset}: no case in split {split!r}; splits present: {present}")
    return cases


def cases_from_scanpaths(
    scanpaths: Mapping[str, Sequence[Scanpath]],
    sizes: Mapping[str, tuple[int, int]] | None = None,
    *,
    dataset: str = "scanpaths",
) -> list[GazeCase]:
    """Ground-truth ``GazeCase`` records from ``{image_id: [human scanpaths]}``.

    Each scanpath is one read; its ``reader_id`` (else its position) is the reader. Images
    without a size in ``sizes`` are taken as square (frame 1 x 1, heatmap sigma relative to
    the side) and recorded as 1000 x 1000 px.
    """
    sizes = sizes or {}
    cases = []
    for image_id, paths in scanpaths.items():
        w, h = sizes.get(image_id, (1000, 1000))
        reads = tuple(
            Read(
                read_id=f"{image_id}:{sp.reader_id or i}",
                reader_id=sp.reader_id or str(i),
                scanpath=sp,
            )
            for i, sp in enumerate(paths)
        )
        cases.append(
            GazeCase(image_id, dataset, ImageRef(image_id, None, int(w), int(h)), reads=reads)
        )
    return cases


# --------------------------------------------------------------------------------------------
# Per-image scanpath metrics (pure data in, arrays out: runs in worker processes)


def scanpath_pair_metrics(
    predicted: Sequence[Scanpath],
    references: Sequence[Scanpath],
    *,
    frame: tuple[float, float] = (1.0, 1.0),
    clusters: FixationClusters | None = None,
    config: EvaluationConfig | None = None,
) -> dict[str, np.ndarray]:
    """Every scanpath metric for every (predicted, reference) pair: ``{metric: (P, R)}``.

    ``frame`` is the isotropic frame of :func:`frame_of`; ``clusters`` (fitted on the image's
    human fixations) enable the Sequence Score, which is NaN without them.
    """
    cfg = config or EvaluationConfig()
    diag = math.hypot(*frame)
    simplify = {
        "simplify": True,
        "amplitude_threshold": cfg.simplify_amplitude_of_diagonal * diag,
        "direction_threshold_deg": cfg.simplify_direction_deg,
        "duration_threshold_s": cfg.simplify_duration_s,
    }
    p, r = len(predicted), len(references)
    out = {name: np.full((p, r), np.nan) for name in SCANPATH_METRICS}
    pred_arrays = [sp.to_array()[:, [0, 1, 3]] for sp in predicted]
    ref_arrays = [sp.to_array()[:, [0, 1, 3]] for sp in references]
    sym_p = [clusters.symbols(a).tolist() for a in pred_arrays] if clusters else None
    sym_r = [clusters.symbols(a).tolist() for a in ref_arrays] if clusters else None
    sm = {"n_bins": cfg.scanmatch_bins, "threshold": cfg.scanmatch_threshold}
    for i, a in enumerate(pred_arrays):
        for j, b in enumerate(ref_arrays):
            plain = multimatch(a, b, frame_size=frame).as_array()
            simple = multimatch(a, b, frame_size=frame, **simplify).as_array()
            out["MM"][i, j] = plain[:4].mean()
            out["D-MM"][i, j] = plain.mean()
            for d, dim in enumerate(MULTIMATCH_DIMENSIONS):
                out[f"MM {dim}"][i, j] = plain[d]
            out["MM (simplified)"][i, j] = simple[:4].mean()
            out["D-MM (simplified)"][i, j] = simple.mean()
            out["ScanMatch"][i, j] = scanmatch(a, b, **sm)
            out["ScanMatch (duration)"][i, j] = scanmatch(
                a, b, temporal_bin_s=cfg.scanmatch_temporal_bin_s, **sm
            )
            if sym_p is not None and sym_r is not None:
                out["SequenceScore"][i, j] = sequence_score(sym_p[i], sym_r[j])
            out["DTW"][i, j] = dtw_distance(a[:, :2], b[:, :2], frame_size=frame)
            out["Frechet"][i, j] = frechet_distance(a[:, :2], b[:, :2], frame_size=frame)
            out["MedGaze IoU"][i, j] = medgaze_iou(a[:, :2], b[:, :2], cfg.medgaze_grid)
            out["MedGaze CC"][i, j] = medgaze_cc(a[:, :2], b[:, :2], cfg.medgaze_grid)
    return out


@dataclass
class _ScanpathJob:
    """One image's scanpath scoring: pure data, picklable for worker processes."""

    image_id: str
    frame: tuple[float, float]
    humans: list[Scanpath]
    readers: list[str]  # reader key of each human scanpath
    predictions: dict[str, list[Scanpath]]  # predictor -> samples
    ceiling: bool
    config: EvaluationConfig


# per metric: (image value or nan, NaN pairs, pairs)
_ImageScores = dict[str, dict[str, tuple[float, int, int]]]


def _summarise(values: np.ndarray) -> tuple[float, int, int]:
    valid = values[np.isfinite(values)]
    return (float(valid.mean()) if len(valid) else math.nan, values.size - len(valid), values.size)


def _score_scanpath_job(job: _ScanpathJob) -> _ImageScores:
    clusters = fit_fixation_clusters(job.humans, frame_size=job.frame)
    out: _ImageScores = {}
    for name, samples in job.predictions.items():
        if not samples:
            continue
        pairs = scanpath_pair_metrics(
            samples, job.humans, frame=job.frame, clusters=clusters, config=job.config
        )
        out[name] = {m: _summarise(v) for m, v in pairs.items()}
    if job.ceiling and len(set(job.readers)) >= 2:
        pairs = scanpath_pair_metrics(
            job.humans, job.humans, frame=job.frame, clusters=clusters, config=job.config
        )
        readers = np.array(job.readers)
        other = readers[:, None] != readers[None, :]  # never a reader against themself
        scores: dict[str, tuple[float, int, int]] = {}
        for m, v in pairs.items():
            per_reader = []
            n_nan = n_pairs = 0
            for rk in dict.fromkeys(job.readers):
                rows = readers == rk
                block = v[rows][:, other[rows][0]]  # this reader's scanpaths vs the others'
                value, nn, np_ = _summarise(block)
                per_reader.append(value)
                n_nan += nn
                n_pairs += np_
            valid = [x for x in per_reader if math.isfinite(x)]
            scores[m] = (float(np.mean(valid)) if valid else math.nan, n_nan, n_pairs)
        out[HUMAN] = scores
    return out


# --------------------------------------------------------------------------------------------
# Results


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
    widths = [max(len(r[c]) for r in [header, *body]) for c in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for r in body:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The runner


def _reader_keys(reads: Sequence[Read]) -> list[str]:
    """Same non-empty ``reader_id`` = same reader; an unknown id (REFLACX) is its own reader."""
    return [r.reader_id if r.reader_id else f"#read:{r.read_id or i}" for i, r in enumerate(reads)]


def _median_length(humans: Sequence[Scanpath]) -> int:
    return max(1, int(math.floor(float(np.median([len(h) for h in humans])) + 0.5)))


def _resize_density(m: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if m.shape == shape:
        return m
    out = np.clip(resize_image(m.astype(np.float64), *shape, order=1), 0.0, None)
    total = out.sum()
    return out / total if total > 0 else np.full(shape, 1.0 / (shape[0] * shape[1]))


@dataclass
class _SaliencyTruth:
    """An image's human saliency data on its evaluation grid."""

    pooled_xy: np.ndarray  # (N, 2) every human fixation
    gt_map: np.ndarray  # mean over readers of their heatmaps, sums to 1
    reader_xy: list[np.ndarray]  # per reader (key order)
    reader_maps: list[np.ndarray]  # per reader, each sums to 1


def _saliency_truth(
    humans: Sequence[Scanpath],
    readers: Sequence[str],
    image: ImageRef,
    shape: tuple[int, int],
    cfg: EvaluationConfig,
) -> _SaliencyTruth | None:
    size = (image.width_px, image.height_px)
    sigma_px = cfg.fallback_sigma_of_height * image.height_px
    maps: dict[str, list[np.ndarray]] = {}
    xy: dict[str, list[np.ndarray]] = {}
    for sp, rk in zip(humans, readers, strict=True):
        heat = scanpath_heatmap(
            sp, shape, image_size_px=size, sigma_px=sigma_px, sigma_deg=cfg.sigma_deg
        )
        xy.setdefault(rk, []).append(sp.xy)
        if heat.sum() > 0:
            maps.setdefault(rk, []).append(heat)
    keys = [k for k in dict.fromkeys(readers) if k in maps]
    if not keys:
        return None
    reader_maps = [np.mean(maps[k], axis=0) for k in keys]
    return _SaliencyTruth(
        pooled_xy=np.concatenate([np.concatenate(v) for v in xy.values()]),
        gt_map=np.mean(reader_maps, axis=0),
        reader_xy=[np.concatenate(xy[k]) for k in keys],
        reader_maps=reader_maps,
    )


def _saliency_scores(
    pred: np.ndarray, fix_xy: np.ndarray, gt_map: np.ndarray, other_xy: np.ndarray
) -> dict[str, float]:
    return {
        "NSS": NSS(pred, fix_xy),
        "AUC-Judd": AUC_Judd(pred, fix_xy),
        "sAUC": sAUC(pred, fix_xy, other_xy) if len(other_xy) else math.nan,
        "CC": CC(pred, gt_map),
        "KL": KLDiv(pred, gt_map),
        "SIM": SIM(pred, gt_map),
    }


@dataclass
class _Collector:
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


def evaluate(
    cases: Sequence[GazeCase],
    predictors: Sequence[Predictor],
    config: EvaluationConfig | None = None,
    *,
    dataset: str | None = None,
    k_from_prediction: bool = False,
) -> EvaluationResult:
    """Score ``predictors`` on ``cases`` (see the module docstring for the protocol).

    ``k_from_prediction``: use however many samples each prediction returns (scoring files)
    instead of requiring ``config.k``.
    """
    cfg = config or EvaluationConfig()
    t_start = time.perf_counter()
    names = [p.name for p in predictors]
    if len(set(names)) != len(names):
        raise GazeScopeError(f"predictor names must be unique, got {names}")
    dataset = dataset or (cases[0].dataset if cases else "")
    col = _Collector()
    notes: list[str] = []
    timings: dict[str, float] = {f"predict {n}": 0.0 for n in names}
    timings.update({"scanpath metrics": 0.0, "saliency metrics": 0.0})

    # human fixations of every image, for sAUC negatives
    gaze_cases, humans_of, readers_of = [], {}, {}
    n_empty_reads = 0
    for case in cases:
        reads = [r for r in case.reads if len(r.scanpath) > 0]
        n_empty_reads += len(case.reads) - len(reads)
        if reads:
            gaze_cases.append(case)
            humans_of[case.case_id] = [r.scanpath for r in reads]
            readers_of[case.case_id] = _reader_keys(reads)
    if n_empty_reads:
        notes.append(f"{n_empty_reads} read(s) without any on-image fixation left out")
    if len(gaze_cases) < len(cases):
        notes.append(
            f"{len(cases) - len(gaze_cases)} of {len(cases)} image(s) have no gaze: "
            "no scanpath or saliency metric for them"
        )
    all_xy = [np.concatenate([h.xy for h in humans_of[c.case_id]]) for c in gaze_cases]
    owner = (
        np.concatenate([np.full(len(a), i) for i, a in enumerate(all_xy)])
        if all_xy
        else np.zeros(0)
    )
    pooled_all = np.concatenate(all_xy) if all_xy else np.zeros((0, 2))
    gaze_index = {c.case_id: i for i, c in enumerate(gaze_cases)}

    jobs: list[_ScanpathJob] = []
    class_rows: dict[str, list[tuple[dict[str, float], dict[str, float]]]] = {n: [] for n in names}
    report_rows: dict[str, list[tuple[GazeCase, Prediction]]] = {n: [] for n in names}
    n_readers = []
    ceiling_images = 0
    for case in cases:
        humans = humans_of.get(case.case_id, [])
        readers = readers_of.get(case.case_id, [])
        n_readers.append(len(set(readers)))
        shape = grid_of(case.image, cfg.saliency_long_side)
        n_fix = cfg.n_fixations or (_median_length(humans) if humans else None)
        predictions: dict[str, Prediction] = {}
        for predictor in predictors:
            request = PredictionRequest(
                case.image,
                k=cfg.k,
                seed=image_seed(cfg.seed, case.image.image_id),
                n_fixations=n_fix,
                saliency_shape=shape,
            )
            t0 = time.perf_counter()
            pred = predictor(request)
            timings[f"predict {predictor.name}"] += time.perf_counter() - t0
            if pred.scanpaths and not k_from_prediction and len(pred.scanpaths) != cfg.k:
                raise GazeScopeError(
                    f"predictor {predictor.name!r} returned {len(pred.scanpaths)} scanpaths for "
                    f"{case.case_id}, asked for k={cfg.k}"
                )
            predictions[predictor.name] = pred
            if pred.findings and case.labels:
                class_rows[predictor.name].append((case.labels, pred.findings))
            if pred.sentences:
                report_rows[predictor.name].append((case, pred))
        if not humans:
            continue
        # saliency
        t0 = time.perf_counter()
        truth = _saliency_truth(humans, readers, case.image, shape, cfg)
        other_xy = pooled_all[owner != gaze_index[case.case_id]]
        if truth is not None:
            for name, pred in predictions.items():
                if pred.saliency is None:
                    continue
                scores = _saliency_scores(
                    _resize_density(pred.saliency, shape), truth.pooled_xy, truth.gt_map, other_xy
                )
                for m, v in scores.items():
                    col.add(name, m, case.case_id, v, int(not math.isfinite(v)), 1)
            if cfg.human_ceiling and len(truth.reader_maps) >= 2:
                per_reader: dict[str, list[float]] = {m: [] for m in SALIENCY_METRICS}
                for a in range(len(truth.reader_maps)):
                    others = np.mean([m for b, m in enumerate(truth.reader_maps) if b != a], axis=0)
                    scores = _saliency_scores(
                        others, truth.reader_xy[a], truth.reader_maps[a], other_xy
                    )
                    for m, v in scores.items():
                        per_reader[m].append(v)
                for m, vs in per_reader.items():
                    valid = [v for v in vs if math.isfinite(v)]
                    col.add(
                        HUMAN,
                        m,
                        case.case_id,
                        float(np.mean(valid)) if valid else math.nan,
                        len(vs) - len(valid),
                        len(vs),
                    )
        timings["saliency metrics"] += time.perf_counter() - t0
        # scanpath metrics: queued, run below (possibly in worker processes)
        samples = {n: p.scanpaths for n, p in predictions.items() if p.scanpaths}
        ceiling = cfg.human_ceiling and len(set(readers)) >= 2
        ceiling_images += ceiling
        if samples or ceiling:
            jobs.append(
                _ScanpathJob(
                    case.case_id, frame_of(case.image), humans, readers, samples, ceiling, cfg
                )
            )

    t0 = time.perf_counter()
    if cfg.workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=cfg.workers) as pool:
            results = list(
                pool.map(
                    _score_scanpath_job, jobs, chunksize=max(1, len(jobs) // (4 * cfg.workers))
                )
            )
    else:
        results = [_score_scanpath_job(job) for job in jobs]
    timings["scanpath metrics"] = time.perf_counter() - t0
    for job, scores in zip(jobs, results, strict=True):
        for name, per_metric in scores.items():
            for m, (value, n_nan, n_pairs) in per_metric.items():
                col.add(name, m, job.image_id, value, n_nan, n_pairs)

    columns = names + ([HUMAN] if HUMAN in col.values else [])
    rows: list[MetricRow] = []
    for name in columns:
        for m in (*SCANPATH_METRICS, *SALIENCY_METRICS):
            per_image = col.values.get(name, {}).get(m)
            if per_image is None:
                continue
            mean, lo, hi, n = bootstrap_ci(
                list(per_image.values()), n_boot=cfg.n_boot, seed=cfg.seed
            )
            rows.append(MetricRow(name, m, mean, lo, hi, n))
            n_nan, n_pairs = col.nan_pairs[(name, m)]
            if n_nan:
                reason = METRICS[m].nan_reason or "undefined"
                lost = len(per_image) - n
                notes.append(
                    f"{name} / {m}: {n_nan} of {n_pairs} comparisons NaN ({reason}), dropped "
                    f"before the per-image mean; {lost} image(s) left without a value"
                    if lost
                    else f"{name} / {m}: {n_nan} of {n_pairs} comparisons NaN ({reason}), "
                    "dropped before the per-image mean"
                )
    for name in names:
        rows.extend(_classification_rows(name, class_rows[name], cfg, notes))
        rows.extend(_report_rows(name, report_rows[name], cfg, col, notes))
    for predictor in predictors:
        caps = predictor.capabilities
        if (
            not gaze_cases
            and caps & {"scanpath", "saliency"}
            and not caps & {"findings", "sentences"}
        ):
            notes.append(
                f"{predictor.name}: scanpath/saliency predictor and no image has gaze - nothing to score"
            )
    timings["total"] = time.perf_counter() - t_start
    protocol = _protocol(
        dataset, cases, predictors, cfg, n_readers, ceiling_images, k_from_prediction
    )
    return EvaluationResult(
        dataset=dataset,
        predictors=columns,
        rows=rows,
        protocol=protocol,
        notes=notes,
        timings_s=timings,
        per_image=col.values,
    )


def _binary_labels(labels: Mapping[str, float], threshold: float) -> dict[str, float]:
    return {k: (math.nan if math.isnan(v) else float(v >= threshold)) for k, v in labels.items()}


def _classification_rows(
    name: str,
    pairs: list[tuple[dict[str, float], dict[str, float]]],
    cfg: EvaluationConfig,
    notes: list[str],
) -> list[MetricRow]:
    if not pairs:
        return []
    predicted = sorted({f for _, scores in pairs for f in scores}, key=FINDING_IDS.index)
    labels = [f for f in predicted if any(f in truth for truth, _ in pairs)]
    if not labels:
        notes.append(
            f"{name}: its findings and the cases' labels share no finding - no classification rows"
        )
        return []
    y_true = np.full((len(pairs), len(labels)), np.nan)
    y_score = np.zeros((len(pairs), len(labels)))
    for i, (truth, scores) in enumerate(pairs):
        t = _binary_labels(truth, cfg.label_threshold)
        for j, f in enumerate(labels):
            y_true[i, j] = t.get(f, math.nan)
            y_score[i, j] = scores.get(f, 0.0)
            if f not in scores and f in t:
                y_true[i, j] = math.nan  # not predicted for this case: not scored
    cm = classification_metrics(
        y_true, y_score, labels, threshold=0.5, n_bootstrap=1000, seed=cfg.seed
    )
    n = len(pairs)
    rows = [
        MetricRow(name, "AUC macro", cm.macro_auc, *cm.cis["macro_auc"], n),
        MetricRow(name, "AUC micro", cm.micro_auc, *cm.cis["micro_auc"], n),
        MetricRow(name, "F1 macro", cm.macro_f1, *cm.cis["macro_f1"], n),
        MetricRow(name, "F1 micro", cm.micro_f1, *cm.cis["micro_f1"], n),
    ]
    for j, f in enumerate(labels):
        rows.append(
            MetricRow(
                name,
                f"AUC {f}",
                float(cm.aucs[j]),
                *map(float, cm.auc_cis[j]),
                int(cm.n_annotated[j]),
            )
        )
    undefined = [f for j, f in enumerate(labels) if not math.isfinite(cm.aucs[j])]
    if undefined:
        notes.append(
            f"{name}: AUC undefined (one class only among the cases) for {', '.join(undefined)}"
        )
    return rows


def _report_rows(
    name: str,
    pairs: list[tuple[GazeCase, Prediction]],
    cfg: EvaluationConfig,
    col: _Collector,
    notes: list[str],
) -> list[MetricRow]:
    if not pairs:
        return []
    per: dict[str, list[float]] = {
        m: [] for m in ("ROUGE-L", "BLEU-4", "keyword recall", "keyword precision")
    }
    y_true, y_gen, grounding = [], [], []
    n_without = 0
    for case, pred in pairs:
        refs = [r.report.text for r in case.reads if r.report is not None and r.report.text.strip()]
        generated = " ".join(s.text for s in pred.sentences)
        truth_boxes: dict[str, list[tuple[float, float, float, float]]] = {}
        for ann in (*case.annotations, *(a for r in case.reads for a in r.annotations)):
            if ann.kind == "finding":
                for f in ann.labels:
                    truth_boxes.setdefault(f, []).append((ann.x0, ann.y0, ann.x1, ann.y1))
        boxed = [(s.finding_id, s.evidence.region_box) for s in pred.sentences]
        ious = grounding_ious(boxed, truth_boxes) if truth_boxes else np.zeros(0)
        graded = ious[np.isfinite(ious)]
        if len(graded):
            grounding.append(float(np.mean(graded >= 0.5)))
            col.add(name, "grounding box acc@0.5", case.case_id, grounding[-1])
        if not refs:
            n_without += 1
            continue
        gens = [generated] * len(refs)
        kw = keyword_scores(refs, gens)
        values = {
            "ROUGE-L": float(np.mean(rouge_ls(refs, gens))),
            "BLEU-4": float(np.mean(sentence_bleus(refs, gens))),
            "keyword recall": kw.macro_recall,
            "keyword precision": kw.macro_precision,
        }
        for m, v in values.items():
            per[m].append(v)
            col.add(name, m, case.case_id, v)
        ref_labels = [label_report(t) for t in refs]
        gen_labels = label_report(generated)
        y_true.append(
            [
                float(np.mean([lab.get(f, 0.0) >= 0.5 for lab in ref_labels]) >= 0.5)
                for f in FINDING_IDS
            ]
        )
        y_gen.append([float(gen_labels.get(f, 0.0) >= 0.5) for f in FINDING_IDS])
    rows = []
    if n_without:
        notes.append(
            f"{name}: {n_without} image(s) without a reference report: no text metrics for them"
        )
    for m, vs in per.items():
        if vs:
            rows.append(MetricRow(name, m, *bootstrap_ci(vs, n_boot=cfg.n_boot, seed=cfg.seed)))
    if y_true:
        cm = classification_metrics(
            np.array(y_true), np.array(y_gen), FINDING_IDS, n_bootstrap=1000, seed=cfg.seed
        )
        rows.append(
            MetricRow(name, "label F1 micro", cm.micro_f1, *cm.cis["micro_f1"], len(y_true))
        )
        rows.append(
            MetricRow(name, "label F1 macro", cm.macro_f1, *cm.cis["macro_f1"], len(y_true))
        )
    if grounding:
        rows.append(
            MetricRow(
                name,
                "grounding box acc@0.5",
                *bootstrap_ci(grounding, n_boot=cfg.n_boot, seed=cfg.seed),
            )
        )
    else:
        notes.append(
            f"{name}: no sentence could be graded for grounding (needs a region box and a finding "
            "with a true box); region-id grounding needs core.anatomy and is not computed"
        )
    return rows


def _protocol(
    dataset: str,
    cases: Sequence[GazeCase],
    predictors: Sequence[Predictor],
    cfg: EvaluationConfig,
    n_readers: list[int],
    ceiling_images: int,
    k_from_prediction: bool,
) -> dict[str, Any]:
    n_with_gaze = sum(1 for r in n_readers if r)
    reader_text = (
        f"readers per image with gaze: median {np.median([r for r in n_readers if r]):.0f}, "
        f"range {min(r for r in n_readers if r)}-{max(n_readers)}"
        if n_with_gaze
        else "no image has gaze"
    )
    k_text = "k from the prediction file" if k_from_prediction else f"k={cfg.k} seeded samples"
    length = (
        f"{cfg.n_fixations} fixations per sample (fixed)"
        if cfg.n_fixations
        else "the image's median human scanpath length, passed to every predictor as "
        "PredictionRequest.n_fixations (baselines use it; MultiMatch/ScanMatch/DTW depend on "
        "length, so this keeps baselines from losing on length alone - a learned model that "
        "predicts its own length is not given this advantage)"
    )
    lines = [
        f"GazeScope evaluation: dataset {dataset}, {len(cases)} image(s), {n_with_gaze} with gaze; {reader_text}",
        "Predictors:",
        *(f"  {p.describe()}" for p in predictors),
        f"Pairing: {k_text} per image (request seed = f(run seed {cfg.seed}, image id)) vs every human "
        "scanpath of the image; per-image mean over the pairs (NaN pairs dropped, counted in the notes);",
        f"  table: mean over images and 95 % percentile-bootstrap CI over images ({cfg.n_boot} resamples, "
        f"seed {cfg.seed}); n = images with a value. Classification: bootstrap over cases (1000).",
        f"Scanpath length: {length}.",
        "Human ceiling"
        + (
            f" ({ceiling_images} image(s) with >= 2 readers): each reader vs the other readers of the "
            "image (same reader never paired), averaged per reader then per image; saliency: "
            "leave-one-reader-out - one reader's fixations and heatmap vs the mean heatmap of the "
            "others (n-1 readers, so slightly pessimistic)."
            if ceiling_images
            else ": not available (no image with 2 or more readers)."
        ),
        "Frame: isotropic, unit = image width (x in [0, 1], y in [0, H/W]); DTW/Frechet in image widths.",
        f"MultiMatch: MM = mean(vector, direction, length, position), D-MM adds duration; no "
        f"simplification, and simplified with TAmp {cfg.simplify_amplitude_of_diagonal:.4f} x diagonal, "
        f"TDir {cfg.simplify_direction_deg:g} deg, TDur {cfg.simplify_duration_s:g} s; NaN for < 3 fixations.",
        f"ScanMatch: {cfg.scanmatch_bins[0]}x{cfg.scanmatch_bins[1]} cells, threshold "
        f"{cfg.scanmatch_threshold:g} cells, gap 0; with duration: {cfg.scanmatch_temporal_bin_s * 1000:g} ms bins.",
        "SequenceScore: symbols = mean-shift clusters of the image's pooled human fixations (bandwidth "
        "search as core.metrics.sequence), same clusters for predictions and humans.",
        f"MedGaze IoU/CC: MedGaze protocol - binary {cfg.medgaze_grid[0]}x{cfg.medgaze_grid[1]} fixation maps, "
        "per (sample, human) pair; not the saliency CC.",
        f"Saliency: grid with {cfg.saliency_long_side} cells on the image's longer side; predicted maps on "
        "another grid are resized (bilinear) and renormalised. Human heatmap = mean over readers of "
        f"REFLACX-recipe heatmaps ({cfg.sigma_deg:g}-degree Gaussians from each fixation's pixels per degree, "
        f"duration-weighted); fixations without ppd use sigma = {cfg.fallback_sigma_of_height:.4f} x image "
        "height (1 degree at 40 px/deg on a 1080-px screen). NSS/AUC-Judd at the pooled human "
        "fixations; sAUC negatives = human fixations of all other evaluated images.",
        f"Classification: case labels >= {cfg.label_threshold:g} certainty are positive, unannotated masked; "
        "predicted positive at probability >= 0.5.",
        "Report: generated text = the sentences joined; ROUGE-L/BLEU-4/keywords per (image, reference "
        "report), averaged per image; label F1 vs the findings positive in at least half of the "
        "image's reports (rule-based labeller).",
    ]
    return {
        "dataset": dataset,
        "n_images": len(cases),
        "n_images_with_gaze": n_with_gaze,
        "predictors": [p.describe() for p in predictors],
        "config": json_safe(asdict(cfg)),
        "k_from_prediction": k_from_prediction,
        "lines": lines,
    }


# --------------------------------------------------------------------------------------------
# Scoring scanpaths from files


class _FixedPredictor(Predictor):
    """Serves predictions read from a file, by image id."""

    version = "file"
    needs_image = False

    def __init__(
        self,
        name: str,
        scanpaths: Mapping[str, Sequence[Scanpath]],
        saliency: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        self.name = name
        self._scanpaths = scanpaths
        self._saliency = saliency or {}
        self.capabilities = frozenset({"scanpath"} | ({"saliency"} if self._saliency else set()))

    def predict(self, request: PredictionRequest) -> Prediction:
        image_id = request.image.image_id
        m = self._saliency.get(image_id)
        if m is not None:
            m = np.asarray(m, dtype=np.float64)
            m = m / m.sum()
        return Prediction(image_id, scanpaths=list(self._scanpaths.get(image_id, [])), saliency=m)


def score_scanpaths(
    predictions: Mapping[str, Sequence[Scanpath]],
    ground_truth: Sequence[GazeCase] | Mapping[str, Sequence[Scanpath]],
    *,
    saliency: Mapping[str, np.ndarray] | None = None,
    sizes: Mapping[str, tuple[int, int]] | None = None,
    name: str = "prediction",
    config: EvaluationConfig | None = None,
) -> EvaluationResult:
    """Score your own predicted scanpaths (and optional saliency maps) against ground truth.

    ``predictions``: ``{image_id: [sampled scanpaths]}`` in house units (see
    :mod:`core.train.scanpath_files` to read them from CSV/JSON). ``ground_truth``: dataset
    cases (``load_cases``) or ``{image_id: [human scanpaths]}`` (``sizes`` gives their
    ``(width_px, height_px)``; without it images count as square). ``saliency``: ``{image_id:
    non-negative 2-D map over the whole image}`` (any grid; divided by its sum). Only images
    present on both sides are scored; the others are counted in ``notes``. Same protocol and
    result as :func:`evaluate`, with k taken from the predictions.
    """
    if isinstance(ground_truth, Mapping):
        cases = cases_from_scanpaths(ground_truth, sizes)
    else:
        cases = list(ground_truth)
    for image_id, m in (saliency or {}).items():
        a = np.asarray(m)
        if a.ndim != 2 or not np.all(np.isfinite(a)) or np.any(a < 0) or not a.sum() > 0:
            raise GazeScopeError(
                f"saliency map of {image_id}: must be a finite non-negative 2-D map, not all zero"
            )
    gt_ids = {c.image.image_id for c in cases}
    scored = [c for c in cases if c.image.image_id in predictions]
    if not scored:
        raise GazeScopeError(
            f"no image id of the predictions is in the ground truth ({len(predictions)} predicted, "
            f"{len(gt_ids)} in the ground truth; e.g. {next(iter(predictions), '-')!r})"
        )
    predictor = _FixedPredictor(name, predictions, saliency)
    result = evaluate(scored, [predictor], config, k_from_prediction=True)
    missing_gt = [i for i in predictions if i not in gt_ids]
    if missing_gt:
        result.notes.append(
            f"{len(missing_gt)} predicted image(s) not in the ground truth, ignored (e.g. {missing_gt[0]})"
        )
    if len(scored) < len(cases):
        result.notes.append(
            f"{len(cases) - len(scored)} ground-truth image(s) without a prediction, not scored"
        )
    return result
