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

__all__ = ["REGION_IDS", "Anatomy", "Measurement", "Region"]


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
