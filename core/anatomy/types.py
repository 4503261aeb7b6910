"""Plain records describing the anatomy found on a frontal chest radiograph.

Sides are the *patient's*: on a standard frontal (PA or AP) view displayed in radiological
convention the patient's right lung is on the image's left (small x).
Masks live on the anatomy's working grid (``Anatomy.grid_shape``) which spans the whole original
image; polygons, boxes and measurement geometry are normalised image coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.vocabulary import REGION_IDS

__all__ = [
    "MASK_LABELS",
    "METHODS",
    "REGION_IDS",
    "Anatomy",
    "LearnedSegmentation",
    "Measurement",
    "Region",
]

METHODS: tuple[str, ...] = ("classical", "learned", "fused")
# values of a label image (``Anatomy.label_image``) and the classes of a learned segmentation
MASK_LABELS: tuple[str, ...] = ("background", "right_lung", "left_lung", "heart")


@dataclass(frozen=True)
class Region:
    id: str  # one of REGION_IDS (or "right_lung", "left_lung" for whole fields)
    mask: np.ndarray  # (gh, gw) bool on the anatomy grid
    polygon: np.ndarray  # (K, 2) normalised x, y outline (largest component)
    box: tuple[float, float, float, float]  # normalised x0, y0, x1, y1
    confidence: float  # [0, 1]

    @property
    def name(self) -> str:
        return self.id.replace("_", " ")


@dataclass(frozen=True)
class Measurement:
    """A measurement with the geometry that supports it, for overlays.

    ``lines`` are segments ``((x0, y0), (x1, y1))`` in normalised coordinates (e.g. the
    cardiac and thoracic widths of the cardiothoracic ratio); ``points`` are marked positions.
    """

    id: str  # e.g. "cardiothoracic_ratio"
    value: float
    unit: str  # "", "mm", "cm2", "deg", "ratio"
    lines: tuple[tuple[tuple[float, float], tuple[float, float]], ...] = ()
    points: tuple[tuple[float, float], ...] = ()
    note: str = ""  # e.g. "PA normal < 0.50; AP magnifies the heart"
    confidence: float = 1.0  # [0, 1]: how far the masks it is measured on can be trusted


@dataclass(frozen=True)
class Anatomy:
    grid_shape: tuple[int, int]  # (gh, gw) of every mask
    regions: dict[str, Region]
    measurements: dict[str, Measurement] = field(default_factory=dict)
    confidence: float = 0.0  # overall plausibility in [0, 1]
    reasons: tuple[str, ...] = ()  # why confidence is low, in words; empty when fine
    method: str = ""  # which method and version produced it

    def regions_at(self, x: float, y: float) -> list[str]:
        """Ids of the regions whose mask contains the normalised point ``(x, y)``."""
        gh, gw = self.grid_shape
        if not (0.0 <= x < 1.0 and 0.0 <= y < 1.0):
            return []
        i, j = int(y * gh), int(x * gw)
        return [rid for rid, r in self.regions.items() if r.mask[i, j]]

    def label_image(self, height: int, width: int) -> np.ndarray:
        """(height, width) uint8 label image of the lungs and heart at the image's own size:
        values index ``MASK_LABELS`` (0 background, 1 right lung, 2 left lung, 3 heart);
        the patient's right lung is on the image's left. Nearest-neighbour from the grid."""
        gh, gw = self.grid_shape
        grid = np.zeros((gh, gw), np.uint8)
        for k, rid in ((3, "cardiac_silhouette"), (1, "right_lung"), (2, "left_lung")):
            region = self.regions.get(rid)
            if region is not None:
                grid[region.mask] = k
        rows = np.minimum((np.arange(height) + 0.5) * gh / height, gh - 1).astype(int)
        cols = np.minimum((np.arange(width) + 0.5) * gw / width, gw - 1).astype(int)
        return grid[rows[:, None], cols[None, :]]


@dataclass(frozen=True)
class LearnedSegmentation:
    """A learned segmenter's answer for one image, handed to ``locate`` by its caller.

    The anatomy layer never runs a network itself (``core.models`` sits above it): the
    segmenter adapter or the reading pipeline computes this and passes it in.
    """

    probabilities: np.ndarray  # (4, gh, gw) float32 softmax over MASK_LABELS, whole image
    model: str  # name and version, e.g. "segmenter-unet-small (sha256 1a2b3c4d)"

    def __post_init__(self) -> None:
        p = self.probabilities
        if p.ndim != 3 or p.shape[0] != len(MASK_LABELS):
            raise ValueError(
                f"learned probabilities must be ({len(MASK_LABELS)}, gh, gw), got {p.shape}"
            )
