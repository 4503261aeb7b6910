"""Anatomy on frontal chest radiographs: lung fields, heart, the region atlas, measurements.

- ``locate(radiograph_or_array, method="classical"|"learned"|"fused", learned=None) ->
  Anatomy``: segments both lung fields and the cardiac silhouette - by the classical method
  (no learned weights: ``core.anatomy.segment``), from a ``LearnedSegmentation`` that the
  caller computed with ``core.models.segmenter`` (this layer never imports the models), or
  both fused (``core.anatomy.fuse``) - judges them (``core.anatomy.quality``: ``confidence``
  under ``CONFIDENCE_THRESHOLD`` = 0.5 means "do not trust", with ``reasons`` in words) and
  builds the atlas. ``locate_all`` returns all three at once; ``fuse`` combines two results.
- ``Anatomy.label_image(h, w)``: the lungs and heart as a label image (``MASK_LABELS``).
- ``atlas_from_masks(right_lung, left_lung, heart, ...) -> Anatomy``: every region of
  ``REGION_IDS`` plus ``right_lung``/``left_lung`` and the measurements (cardiothoracic ratio,
  costophrenic angles, lung areas and their ratio, mediastinal width) from given masks, e.g. a
  phantom's ground truth.
- ``render_overlay(image, anatomy)``: outlines, labels and measurement lines as an RGB array.

Masks live on a working grid (long side 256, aspect kept) spanning the whole image; boxes,
polygons and measurement geometry are normalised image coordinates; sides are the patient's.
"""

from core.anatomy.atlas import atlas_from_masks
from core.anatomy.locate import METHOD, fuse, locate, locate_all
from core.anatomy.quality import CONFIDENCE_THRESHOLD
from core.anatomy.render import render_overlay
from core.anatomy.segment import working_grid
from core.anatomy.types import (
    MASK_LABELS,
    METHODS,
    REGION_IDS,
    Anatomy,
    LearnedSegmentation,
    Measurement,
    Region,
)

__all__ = [
    "CONFIDENCE_THRESHOLD",
    "MASK_LABELS",
    "METHOD",
    "METHODS",
    "REGION_IDS",
    "Anatomy",
    "LearnedSegmentation",
    "Measurement",
    "Region",
    "atlas_from_masks",
    "fuse",
    "locate",
    "locate_all",
    "render_overlay",
    "working_grid",
]
