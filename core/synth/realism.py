"""Simple image statistics to compare phantoms with real chest radiographs.

The statistics use *fixed boxes* in normalised image coordinates, the same for real and
synthetic images, so no segmentation is needed on the real side: a typical frontal chest film
has lung in the mid-lateral boxes, mediastinum in the central strip and abdomen at the bottom
centre. They are crude on purpose: a sanity check that the phantoms' grey levels, contrast
between compartments and fine detail sit in the range of real films, not a realism score.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from core.errors import NotAnImageError
from core.synth.render import blur

__all__ = ["STAT_NAMES", "image_statistics", "load_gray", "summarise"]

logger = logging.getLogger(__name__)

# (x0, x1, y0, y1) boxes in normalised image coordinates
_LUNG_BOXES = ((0.2, 0.35, 0.3, 0.6), (0.65, 0.8, 0.3, 0.6))
_MEDIASTINUM_BOX = (0.46, 0.54, 0.3, 0.6)
_ABDOMEN_BOX = (0.3, 0.7, 0.86, 1.0)
_EDGE_BOXES = ((0.0, 0.04, 0.4, 0.6), (0.96, 1.0, 0.4, 0.6))
HIST_BINS = 10

STAT_NAMES: tuple[str, ...] = (
    "mean",
    "std",
    "p05",
    "p50",
    "p95",
    "lung_box_mean",
    "mediastinum_box_mean",
    "mediastinum_minus_lung",
    "abdomen_box_mean",
    "edge_box_mean",
    "lung_detail_sd",
)


def _box(img: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    h, w = img.shape
    x0, x1, y0, y1 = box
    return img[
        int(y0 * h) : max(int(y1 * h), int(y0 * h) + 1),
        int(x0 * w) : max(int(x1 * w), int(x0 * w) + 1),
    ]


def image_statistics(image: np.ndarray) -> dict[str, float]:
    """Grey-level statistics of a display image in [0, 1] (see the module docstring).

    ``lung_detail_sd`` is the standard deviation, in the lung boxes, of the image minus a
    Gaussian blur of 4 px per 512 px: the fine structure (vessels, rib edges, noise).
    ``hist_XX`` are the fractions of pixels in ten equal bins over [0, 1].
    """
    img = np.asarray(image, np.float32)
    if img.ndim != 2:
        raise ValueError(f"image_statistics needs a 2-D image, got shape {img.shape}")
    p05, p50, p95 = np.percentile(img, [5, 50, 95])
    lung = np.concatenate([_box(img, b).ravel() for b in _LUNG_BOXES])
    med = _box(img, _MEDIASTINUM_BOX)
    high = img - blur(img, 4.0 * min(img.shape) / 512.0)
    detail = np.concatenate([_box(high, b).ravel() for b in _LUNG_BOXES])
    out = {
        "mean": float(img.mean()),
        "std": float(img.std()),
        "p05": float(p05),
        "p50": float(p50),
        "p95": float(p95),
        "lung_box_mean": float(lung.mean()),
        "mediastinum_box_mean": float(med.mean()),
        "mediastinum_minus_lung": float(med.mean() - lung.mean()),
        "abdomen_box_mean": float(_box(img, _ABDOMEN_BOX).mean()),
        "edge_box_mean": float(np.concatenate([_box(img, b).ravel() for b in _EDGE_BOXES]).mean()),
        "lung_detail_sd": float(detail.std()),
    }
    hist, _ = np.histogram(np.clip(img, 0, 1), bins=HIST_BINS, range=(0.0, 1.0))
    for i, v in enumerate(hist / img.size):
        out[f"hist_{i:02d}"] = float(v)
    return out


def load_gray(path: Path) -> np.ndarray:
    """An 8/16-bit grey PNG/JPEG as float32 in [0, 1] (for the real-image side)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            a = np.asarray(im)
    except (UnidentifiedImageError, ValueError, OSError) as err:
        raise NotAnImageError(path, f"cannot be decoded as an image ({err})") from err
    if a.ndim == 3:
        a = a[..., :3].mean(axis=2)
    scale = 65535.0 if a.dtype == np.uint16 else 255.0
    return a.astype(np.float32) / np.float32(scale)


def summarise(stats: Iterable[dict[str, float]]) -> dict[str, tuple[float, float]]:
    """Mean and standard deviation of each statistic over a set of images."""
    rows = list(stats)
    if not rows:
        return {}
    return {
        k: (float(np.mean([r[k] for r in rows])), float(np.std([r[k] for r in rows])))
        for k in rows[0]
    }
