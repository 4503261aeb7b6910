"""The evaluation protocol: which metrics, how they are configured, seeded and described.

:data:`METRICS` names every table row with its family and direction; :class:`EvaluationConfig`
holds every knob (defaults are what ``EVALUATION.md`` describes); :func:`image_seed`,
:func:`frame_of` and :func:`grid_of` fix per-image seeds, the isotropic frame and the saliency
grid; :func:`protocol_record` writes the protocol text printed above each table.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from core.data.case import GazeCase, ImageRef
from core.gaze.published import DEGREE_OF_HEIGHT
from core.jsonsafe import json_safe
from core.metrics import MULTIMATCH_DIMENSIONS
from core.metrics.saliency import MEDGAZE_GRID
from core.metrics.scanmatch import SCANMATCH_BINS, SCANMATCH_TEMPORAL_BIN_S, SCANMATCH_THRESHOLD
from core.models import Predictor

__all__ = [
    "HUMAN",
    "METRICS",
    "SALIENCY_METRICS",
    "SCANPATH_METRICS",
    "EvaluationConfig",
    "MetricInfo",
    "frame_of",
    "grid_of",
    "image_seed",
    "metric_info",
    "protocol_record",
]

HUMAN = "human (leave-one-reader-out)"  # the column of the human ceiling


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


def protocol_record(
    dataset: str,
    cases: Sequence[GazeCase],
    predictors: Sequence[Predictor],
    cfg: EvaluationConfig,
    n_readers: list[int],
    ceiling_images: int,
    k_from_prediction: bool,
) -> dict[str, Any]:
    """The protocol of one run: its settings and the lines printed above the table."""
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
