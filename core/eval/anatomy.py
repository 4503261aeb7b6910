"""Evaluation of ``locate`` on the NIH ChestX-ray14 development sample (labels, boxes).

What can be measured without lung masks: how often the method declines (confidence under the
threshold), whether the cardiothoracic ratio separates the Cardiomegaly images from the
No Finding ones (ROC AUC, bootstrap CI), how well the cardiac-silhouette box overlaps NIH's
Cardiomegaly boxes, and whether the costophrenic angle separates Effusion from No Finding.
Segmentation quality itself is judged by eye on overlays (``VISUAL_REVIEW``).
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from core.anatomy.locate import locate
from core.anatomy.quality import CONFIDENCE_THRESHOLD
from core.anatomy.types import Anatomy
from core.io.radiograph import Radiograph

# roc_auc: the two-group AUC, re-exported under the name this module always had
from core.metrics.classification import two_group_auc as roc_auc
from core.metrics.classification import two_group_auc_ci
from core.metrics.text import box_iou

logger = logging.getLogger(__name__)

__all__ = [
    "VISUAL_REVIEWS",
    "NihCase",
    "NihEvaluation",
    "evaluate_nih",
    "orientation_pass_rates",
    "roc_auc",
]

NIH_PNG_SIDE = 512

# Visual reviews of lung/heart outlines by the developer (2026-11-22): the 40 images of a
# seeded random sample, numpy default_rng(seed).choice(322, 40, replace=False) over labels.csv
# rows (the review sheets that ``gazescope anatomy-eval --out`` writes), and those judged
# failed: a lung missing about a third or more of its aerated field or leaking outside it,
# sides swapped, or a heart outline clearly off the cardiac silhouette. Seed 2024 was reviewed
# first and then seen again during the last changes (short-lung completion, per-lung heart
# check); seed 2025 was reviewed once, on the final method. Opaque lung (effusion) left out of
# an aerated field is not a failure.
VISUAL_REVIEWS: tuple[dict[str, object], ...] = (
    {
        "seed": 2025,
        "n": 40,
        "failed": (
            "00000574_000.png",  # left lung keeps its upper half only (declined)
            "00006626_000.png",  # right lung misses its lower third
            "00008866_000.png",  # AP: both lungs small, heart outline too large
            "00009047_000.png",  # right lower lung lost to the heart outline
            "00020160_000.png",  # lungs wrong (declined)
            "00027061_000.png",  # AP edema: both lungs miss their lower halves
        ),
    },
    {
        "seed": 2024,
        "n": 40,
        "failed": (
            "00006333_000.png",  # AP emphysema: both lungs miss their medial halves
            "00007494_000.png",  # atelectasis: heart outline takes the left lower field
            "00017254_000.png",  # AP pneumonia: lungs wrong (declined)
            "00018427_000.png",  # right lower-medial lung lost to the heart outline
            "00025184_000.png",  # consolidation: right lung keeps only its upper half
        ),
    },
)


@dataclass(frozen=True)
class NihCase:
    image: str
    view: str
    labels: tuple[str, ...]
    confidence: float
    reasons: tuple[str, ...]
    ctr: float | None
    cp_angle_max: float | None
    heart_box_px: tuple[float, float, float, float] | None  # x0, y0, x1, y1 in PNG pixels


@dataclass(frozen=True)
class NihEvaluation:
    cases: tuple[NihCase, ...]
    threshold: float = CONFIDENCE_THRESHOLD
    cardiomegaly_boxes: dict[str, list[tuple[float, float, float, float]]] = field(
        default_factory=dict
    )

    def failure_rate(self, view: str | None = None) -> tuple[int, int]:
        cs = [c for c in self.cases if view is None or c.view == view]
        return sum(c.confidence < self.threshold for c in cs), len(cs)

    def separation(
        self, value: str, positive: str, view: str | None, *, confident_only: bool = True
    ) -> dict[str, float]:
        """AUC of ``value`` for ``positive``-labelled vs No Finding cases, bootstrap 95 % CI."""
        pos, neg = [], []
        for c in self.cases:
            v = getattr(c, value)
            if v is None or (view is not None and c.view != view):
                continue
            if confident_only and c.confidence < self.threshold:
                continue
            if positive in c.labels:
                pos.append(v)
            elif c.labels == ("No Finding",):
                neg.append(v)
        auc, lo, hi = two_group_auc_ci(np.array(pos), np.array(neg))
        return {"auc": auc, "ci_low": lo, "ci_high": hi, "n_pos": len(pos), "n_neg": len(neg)}

    def heart_box_ious(self) -> list[tuple[str, float]]:
        out = []
        for c in self.cases:
            for box in self.cardiomegaly_boxes.get(c.image, []):
                iou = box_iou(c.heart_box_px, box) if c.heart_box_px else 0.0
                out.append((c.image, iou))
        return out


def nih_spacing_mm(row: dict[str, str], height: int, width: int) -> tuple[float, float] | None:
    """Per-axis spacing of an NIH PNG: the original spacing times original size / PNG size
    (the PNGs are the originals squashed to a square, so rows and columns differ)."""
    try:
        s = float(row["original_pixel_spacing_mm"])
        ow, oh = float(row["original_width"]), float(row["original_height"])
    except (KeyError, ValueError):
        return None
    return (s * oh / height, s * ow / width)


def orientation_pass_rates(
    nih_dir: Path, load: Callable[[Path], Radiograph], *, every: int = 6
) -> dict[str, tuple[int, int]]:
    """How often a wrongly presented NIH image still passes the confidence threshold.

    Every ``every``-th image of ``labels.csv`` is turned by 90, 180 and 270 degrees and
    inverted; returns ``{variant: (passed, tried)}``. Each pass is a failure of the checks.
    """
    with open(Path(nih_dir) / "labels.csv", newline="") as fh:
        names = [r["image"] for r in csv.DictReader(fh)][::every]
    variants = {
        "turned 90 deg": lambda a: np.rot90(a, 1),
        "turned 180 deg": lambda a: np.rot90(a, 2),
        "turned 270 deg": lambda a: np.rot90(a, 3),
        "inverted": lambda a: 1.0 - a,
    }
    out = {}
    for label, turn in variants.items():
        passed = 0
        for name in names:
            image = load(Path(nih_dir) / "images" / name).image
            anatomy = locate(np.ascontiguousarray(turn(image)), explain_failures=False)
            passed += anatomy.confidence >= CONFIDENCE_THRESHOLD
        out[label] = (passed, len(names))
    return out


def evaluate_nih(
    nih_dir: Path,
    load: Callable[[Path], Radiograph],
    *,
    on_case: Callable[[str, Radiograph, Anatomy], None] | None = None,
    limit: int | None = None,
) -> NihEvaluation:
    """Run ``locate`` on every image in ``nih_dir/labels.csv`` (``images/<name>``)."""
    nih_dir = Path(nih_dir)
    with open(nih_dir / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    boxes: dict[str, list[tuple[float, float, float, float]]] = {}
    if (nih_dir / "boxes.csv").is_file():
        with open(nih_dir / "boxes.csv", newline="") as fh:
            for b in csv.DictReader(fh):
                if b["label"] == "Cardiomegaly":
                    x, y, w, h = (float(b[k]) for k in ("x", "y", "w", "h"))
                    boxes.setdefault(b["image"], []).append((x, y, x + w, y + h))
    cases = []
    for row in rows[:limit]:
        radiograph = load(nih_dir / "images" / row["image"])
        spacing = nih_spacing_mm(row, radiograph.height, radiograph.width)
        if spacing is not None:
            radiograph = replace(radiograph, spacing_mm=spacing, spacing_source="labels.csv")
        anatomy = locate(radiograph)
        if on_case is not None:
            on_case(row["image"], radiograph, anatomy)
        ctr = anatomy.measurements.get("cardiothoracic_ratio")
        cps = [
            anatomy.measurements[k].value
            for k in ("right_costophrenic_angle", "left_costophrenic_angle")
            if k in anatomy.measurements
        ]
        heart = anatomy.regions.get("cardiac_silhouette")
        heart_box = None
        if heart is not None and heart.mask.any():
            x0, y0, x1, y1 = heart.box
            heart_box = (
                x0 * radiograph.width,
                y0 * radiograph.height,
                x1 * radiograph.width,
                y1 * radiograph.height,
            )
        cases.append(
            NihCase(
                image=row["image"],
                view=row.get("view", ""),
                labels=tuple(row["finding_labels"].split("|")),
                confidence=anatomy.confidence,
                reasons=anatomy.reasons,
                ctr=None if ctr is None else ctr.value,
                cp_angle_max=max(cps) if cps else None,
                heart_box_px=heart_box,
            )
        )
        logger.info("%s confidence %.2f", row["image"], anatomy.confidence)
    return NihEvaluation(tuple(cases), cardiomegaly_boxes=boxes)
