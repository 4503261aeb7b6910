"""``locate``: one frontal chest radiograph in, its ``Anatomy`` (regions, measurements,
confidence with reasons) out, by the classical method, a learned segmentation or both fused.

The learned segmentation is computed by the caller (``core.models.segmenter``, the reading
pipeline) and passed in as a ``LearnedSegmentation``: this layer never imports the models.
Whichever masks are used, the region atlas and the measurements are built from them by the
same ``atlas_from_masks``.
"""

from __future__ import annotations

import logging

import numpy as np

from core.anatomy.atlas import atlas_from_masks
from core.anatomy.fuse import agreement, fuse_probabilities, learned_masks, one_hot
from core.anatomy.quality import CONFIDENCE_THRESHOLD, assess, assess_learned
from core.anatomy.segment import (
    complete_short_lung,
    lung_candidates,
    normalise,
    segment,
    working_grid,
)
from core.anatomy.types import METHODS, REGION_IDS, Anatomy, LearnedSegmentation, Region
from core.io.geometry import resize_image
from core.io.radiograph import Radiograph

logger = logging.getLogger(__name__)

__all__ = ["METHOD", "fuse", "locate", "locate_all"]

METHOD = "gazescope-anatomy classical v1 (local threshold + outline prior + ray DP)"
_MIN_SIDE_PX = 32
COMPLETED_SIDE_FACTOR = 0.7  # confidence kept by a lung whose lower part was drawn by mirroring
_HINT_GRID = 128  # the inverted/rotated retries run on a coarser grid (about 4x cheaper)


def _as_image(x: Radiograph | np.ndarray) -> tuple[np.ndarray, tuple[float, float] | None]:
    if isinstance(x, Radiograph):
        image, spacing = x.image, x.spacing_mm
    else:
        image, spacing = np.asarray(x), None
    if image.ndim != 2:
        raise ValueError(f"locate expects a 2-D grey image, got shape {image.shape}")
    if min(image.shape) < _MIN_SIDE_PX:
        raise ValueError(f"image too small for anatomy ({image.shape[1]}x{image.shape[0]} px)")
    if spacing is not None and not all(np.isfinite(v) and v > 0 for v in spacing):
        logger.info("ignoring unusable pixel spacing %s", spacing)
        spacing = None
    image = image.astype(np.float32, copy=False)
    if not np.all(np.isfinite(image)):
        raise ValueError("image holds NaN or infinite values")
    lo, hi = float(image.min()), float(image.max())
    if lo < -1e-3 or hi > 1.0 + 1e-3:
        raise ValueError(
            f"image values must lie in [0, 1] (display image, bone bright); got {lo:g} to {hi:g}"
        )
    return np.clip(image, 0.0, 1.0), spacing


def _empty(shape: tuple[int, int], reasons: tuple[str, ...], method: str = METHOD) -> Anatomy:
    empty = np.zeros(shape, dtype=bool)
    regions = {
        rid: Region(rid, empty, np.zeros((0, 2)), (0.0, 0.0, 0.0, 0.0), 0.0)
        for rid in ("right_lung", "left_lung", *REGION_IDS)
    }
    return Anatomy(shape, regions, {}, 0.0, reasons, method)


def _orientation_hint(image: np.ndarray, features: dict[str, float]) -> str | None:
    """When the image fails, say whether an inverted or rotated copy would have passed.

    Only the copies that the failed checks point to are tried: inverted when the lungs are
    not darker than the mediastinum or the abdomen, turned by 90 degrees when the image is
    not left-right symmetric, upside down when the heart is not low between the lungs.
    """
    variants = []
    contrasts = ("mediastinum_contrast", "base_contrast", "centre_contrast")
    if min(features.get(k, 0.0) for k in contrasts) < 0.1:
        variants.append(
            ("image looks inverted (bone dark): inverting it gives a plausible chest", 1.0 - image)
        )
    turns = []
    if features.get("mirror_symmetry", 0.0) - features.get("flip_symmetry", 0.0) < 0.3:
        turns += [1, 3]
    if features.get("heart_low", 0.0) < 0.055:
        turns.append(2)
    for k in sorted(turns):
        variants.append(
            (
                f"image looks rotated: turning it {90 * k} deg counter-clockwise gives a "
                "plausible frontal chest",
                np.rot90(image, k),
            )
        )
    best, best_conf = None, CONFIDENCE_THRESHOLD
    for message, variant in variants:
        conf = assess(segment(np.ascontiguousarray(variant), long_side=_HINT_GRID)).confidence
        if conf >= best_conf:
            best, best_conf = message, conf
    return best


def locate(
    x: Radiograph | np.ndarray,
    *,
    method: str = "classical",
    learned: LearnedSegmentation | None = None,
    explain_failures: bool = True,
) -> Anatomy:
    """Find the lungs, heart and every atlas region on a frontal chest radiograph.

    ``x`` is a ``Radiograph`` (its ``spacing_mm`` gives areas in cm2 and widths in mm) or a 2-D
    float array in [0, 1] with bone bright. ``method``: ``"classical"`` (no weights),
    ``"learned"`` (the masks of ``learned``, judged by the shared plausibility checks and the
    network's certainty) or ``"fused"`` (both, combined pixel by pixel with their confidences
    as weights; strong disagreement between two confident methods lowers the confidence and
    says so - ``core.anatomy.fuse``). ``learned`` is required by the last two.
    The result's ``confidence`` is below ``CONFIDENCE_THRESHOLD`` (0.5) when the image does
    not look like a frontal chest radiograph we understood (lateral view, inverted, rotated,
    not a chest, no plausible lungs), with ``reasons`` in words; with ``explain_failures`` a
    failing classical result is also tried inverted and rotated, to say so when that is the
    problem (up to four more segmentations on a coarse grid, for failures only).
    Raises ``ValueError`` for arrays that are not a usable 2-D image and for a method that
    is unknown or lacks its ``learned`` input.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if method != "classical" and learned is None:
        raise ValueError(
            f"method {method!r} needs the learned segmentation: pass learned=... "
            "(core.models.segmenter computes it)"
        )
    if method == "classical":
        image, spacing = _as_image(x)
        return _classical(image, spacing, explain_failures)
    if method == "learned":
        image, spacing = _as_image(x)
        probabilities = _on_grid(learned.probabilities, working_grid(*image.shape))
        return _learned(image, spacing, probabilities, learned.model)[0]
    return locate_all(x, learned, explain_failures=explain_failures)["fused"]


def locate_all(
    x: Radiograph | np.ndarray,
    learned: LearnedSegmentation,
    *,
    explain_failures: bool = True,
) -> dict[str, Anatomy]:
    """``{"classical", "learned", "fused"}`` -> ``Anatomy``, each method computed once (what
    ``locate(x, method=m, learned=learned)`` returns for each ``m``), for comparisons."""
    image, spacing = _as_image(x)
    probabilities = _on_grid(learned.probabilities, working_grid(*image.shape))
    anatomy, body = _learned(image, spacing, probabilities, learned.model)
    classical = _classical(image, spacing, explain_failures)
    fused = fuse(
        classical, anatomy, probabilities, body=body, image_shape=image.shape, spacing_mm=spacing
    )
    return {"classical": classical, "learned": anatomy, "fused": fused}


def _classical(
    image: np.ndarray, spacing: tuple[float, float] | None, explain_failures: bool
) -> Anatomy:
    seg = segment(image)
    quality = assess(seg)
    reasons = list(quality.reasons)
    if quality.confidence < CONFIDENCE_THRESHOLD and explain_failures:
        hint = _orientation_hint(image, quality.features)
        if hint:
            reasons.insert(0, hint)
    logger.debug("anatomy confidence %.3f %s", quality.confidence, quality.features)
    if not seg.right_lung.any() or not seg.left_lung.any():
        return _empty(seg.image.shape, tuple(reasons) or ("no lung fields found",))
    right, left, note = complete_short_lung(
        seg.right_lung, seg.left_lung, seg.heart, seg.body, seg.smooth
    )
    confidence, side_confidence = quality.confidence, quality.side_confidence
    if note is not None:
        reasons.append(note)
        completed = 0 if right is not seg.right_lung else 1
        side_confidence = tuple(
            c * (COMPLETED_SIDE_FACTOR if k == completed else 1.0)
            for k, c in enumerate(side_confidence)
        )
        confidence *= 0.9
    return atlas_from_masks(
        right,
        left,
        seg.heart,
        body=seg.body,
        image_shape=image.shape,
        spacing_mm=spacing,
        confidence=confidence,
        side_confidence=side_confidence,
        reasons=tuple(reasons),
        method=METHOD,
    )


def _on_grid(probabilities: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """The learned probabilities on the working grid (resized and renormalised if needed)."""
    p = np.asarray(probabilities, dtype=np.float32)
    if p.shape[1:] == grid:
        return p
    out = np.stack([resize_image(c, *grid, order=1) for c in p]).clip(0.0, None)
    return out / np.maximum(out.sum(axis=0, keepdims=True), 1e-6)


def _learned(
    image: np.ndarray,
    spacing: tuple[float, float] | None,
    probabilities: np.ndarray,
    model: str,
) -> tuple[Anatomy, np.ndarray]:
    """The learned masks judged and turned into an atlas; also the body mask (not outside air)."""
    g = normalise(image, probabilities.shape[1:])
    smooth, _, body = lung_candidates(g)
    right, left, heart, certainty = learned_masks(probabilities)
    method = f"learned: {model}"
    if not right.any() or not left.any():
        return _empty(g.shape, ("the segmenter found no lung fields",), method), body
    quality = assess_learned(g, smooth, body, right, left, heart, certainty)
    anatomy = atlas_from_masks(
        right,
        left,
        heart,
        body=body,
        image_shape=image.shape,
        spacing_mm=spacing,
        confidence=quality.confidence,
        side_confidence=quality.side_confidence,
        heart_confidence=quality.confidence * certainty[2],
        reasons=quality.reasons,
        method=method,
    )
    return anatomy, body


def _masks(anatomy: Anatomy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = anatomy.regions
    return r["right_lung"].mask, r["left_lung"].mask, r["cardiac_silhouette"].mask


def fuse(
    classical: Anatomy,
    learned: Anatomy,
    probabilities: np.ndarray | None = None,
    *,
    body: np.ndarray | None = None,
    image_shape: tuple[int, int] | None = None,
    spacing_mm: tuple[float, float] | None = None,
) -> Anatomy:
    """One anatomy from a classical and a learned one on the same grid.

    Pixel by pixel, the confidence-weighted average of the classical masks and the learned
    ``probabilities`` (the learned masks when not given) decides; the confidence is the
    confidence-weighted mean of the two, lowered when both are confident but disagree strongly
    (``core.anatomy.fuse.agreement``), and the reasons of both methods are kept, prefixed.
    """
    if classical.grid_shape != learned.grid_shape:
        raise ValueError(
            f"cannot fuse anatomies on different grids: {classical.grid_shape} vs "
            f"{learned.grid_shape}"
        )
    c_c, c_l = classical.confidence, learned.confidence
    masks_c, masks_l = _masks(classical), _masks(learned)
    if probabilities is None:
        probabilities = one_hot(masks_l)
    fused = fuse_probabilities(masks_c, probabilities, (c_c, c_l))
    right, left, heart, _ = learned_masks(fused)
    agree = agreement(masks_c, masks_l, (c_c, c_l))
    reasons = [agree.reason] if agree.reason else []
    reasons += [f"classical: {r}" for r in classical.reasons]
    reasons += [f"learned: {r}" for r in learned.reasons]
    method = f"fused: {METHOD} + {learned.method}"
    if not right.any() or not left.any():
        return _empty(classical.grid_shape, tuple(reasons) or ("no lung fields found",), method)

    def mix(a: float, b: float) -> float:
        return (c_c * a + c_l * b) / max(c_c + c_l, 1e-6)

    regions_c, regions_l = classical.regions, learned.regions
    side = tuple(
        mix(regions_c[k].confidence, regions_l[k].confidence) * agree.factor
        for k in ("right_lung", "left_lung")
    )
    heart_conf = mix(
        regions_c["cardiac_silhouette"].confidence, regions_l["cardiac_silhouette"].confidence
    )
    return atlas_from_masks(
        right,
        left,
        heart,
        body=body,
        image_shape=image_shape,
        spacing_mm=spacing_mm,
        confidence=mix(c_c, c_l) * agree.factor,
        side_confidence=side,
        heart_confidence=heart_conf * agree.factor,
        reasons=tuple(reasons),
        method=method,
    )
