"""Images made ready for simulated readers: anatomy atlas + ``CaseFinding`` list.

- **Phantoms** (``phantom_case``): the atlas from the phantom's ground-truth lung, heart and
  body masks (``core.anatomy.atlas_from_masks`` on a grid of long side 256, like ``locate``),
  and every phantom finding with its exact mask, severity, side, location and conspicuity.
- **Real NIH images** (``nih_case``): the atlas from ``core.anatomy.locate`` (an image whose
  anatomy confidence is below ``CONFIDENCE_THRESHOLD`` = 0.5 is not used: ``NotReadable``), and
  findings from the NIH labels, located only as far as the data honestly say:

  ==========================  ==================================================================
  a box (NIH BBox_List_2017,  the box is the finding's mask (``exact``: ellipses drawn around
  RSNA 2018)                  it); side from the box centre vs the midline between the lungs,
                              zone from the atlas. An opacity box (RSNA "Lung Opacity", NIH
                              "Infiltrate"/"Pneumonia") locates the image's consolidation,
                              infiltration (lung_opacity) and pneumonia labels; a box whose
                              finding the labels lack adds it (a box is a radiologist's
                              annotation too)
  Cardiomegaly                the cardiac silhouette (``exact``: it *is* the enlarged heart)
  Effusion                    both costophrenic angles, side unknown (gaze is drawn to both;
                              not ``exact``: no ellipse is drawn, no side is dictated)
  Edema, Emphysema            both lung fields (diffuse, bilateral by nature; not ``exact``)
  Hernia                      the cardiac silhouette (hiatal hernias project behind the heart;
                              not ``exact``)
  Nodule, Mass, Infiltration, no location: the reader may report it (with the probability of
  Consolidation, Atelectasis, three looks at its conspicuity) but no gaze attraction is
  Pneumonia, Pneumothorax,    simulated and no ellipse drawn - we do not invent a location
  Fibrosis, Pleural_Thickening
  ==========================  ==================================================================

  Conspicuity of every real finding: :data:`REAL_CONSPICUITY` = 0.6 - a documented default,
  not a measurement (NIH labels were text-mined from reports, so the finding was visible enough
  for the reporting radiologist to mention; nothing says how visible). Severity: unknown (no
  severity word is dictated).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.anatomy import CONFIDENCE_THRESHOLD, Anatomy, atlas_from_masks
from core.data.case import GazeCase
from core.errors import GazeScopeError
from core.synth.phantom import Phantom
from core.synth.readers import CaseFinding, as_case_finding, resample_mask
from core.vocabulary import map_name

__all__ = [
    "ANATOMY_LONG_SIDE",
    "REAL_CONSPICUITY",
    "NotReadable",
    "PreparedCase",
    "nih_case",
    "phantom_case",
]

ANATOMY_LONG_SIDE = 256  # the atlas grid, as core.anatomy.locate uses
REAL_CONSPICUITY = 0.6
_OPACITY_BOX = {"lung_opacity", "pneumonia"}
_OPACITY_LABELS = ("consolidation", "lung_opacity", "pneumonia")


class NotReadable(GazeScopeError):
    """A real image whose anatomy could not be trusted (confidence < 0.5)."""


@dataclass(frozen=True)
class PreparedCase:
    """An image ready for reading: its atlas, findings (masks at image resolution, or None)
    and size; ``exact[i]`` says whether finding ``i``'s mask is its extent (ellipses are drawn
    around it) or only where it must be."""

    anatomy: Anatomy
    findings: tuple[CaseFinding, ...]
    width_px: int
    height_px: int
    view: str


def _grid(h: int, w: int) -> tuple[int, int]:
    if h >= w:
        return ANATOMY_LONG_SIDE, max(1, round(ANATOMY_LONG_SIDE * w / h))
    return max(1, round(ANATOMY_LONG_SIDE * h / w)), ANATOMY_LONG_SIDE


def phantom_case(ph: Phantom) -> PreparedCase:
    """Atlas from the phantom's ground-truth masks and its findings as the reader sees them."""
    h, w = ph.image.shape
    grid = _grid(h, w)
    m = {
        k: resample_mask(ph.anatomy[k], grid, "majority")
        for k in ("right_lung", "left_lung", "heart", "body")
    }
    anatomy = atlas_from_masks(
        m["right_lung"],
        m["left_lung"],
        m["heart"],
        body=m["body"],
        image_shape=(h, w),
        spacing_mm=(ph.spacing_mm, ph.spacing_mm),
        method="atlas_from_masks (phantom ground truth)",
    )
    findings = tuple(as_case_finding(f) for f in ph.findings)
    return PreparedCase(anatomy, findings, w, h, ph.view)


def _zone_at(anatomy: Anatomy, x: float, y: float, side: str) -> str:
    zones = [r for r in anatomy.regions_at(x, y) if r.endswith("_zone")]
    if zones:
        return zones[0]
    lung = anatomy.regions[f"{side}_lung"].mask
    rows = np.flatnonzero(lung.any(axis=1))
    if rows.size == 0:
        return ""
    gh = anatomy.grid_shape[0]
    k = int(np.clip((y * gh - rows[0]) / max(1, rows[-1] + 1 - rows[0]) * 3, 0, 2))
    return f"{side}_{('upper', 'middle', 'lower')[k]}_zone"


def _midline(anatomy: Anatomy) -> float:
    r, left = anatomy.regions["right_lung"].box, anatomy.regions["left_lung"].box
    return 0.5 * (r[2] + left[0])


def nih_case(case: GazeCase, image: np.ndarray, anatomy: Anatomy) -> PreparedCase:
    """Findings of an NIH-sample case (module docstring: what is located and how).

    ``image`` is the display image (for its size), ``anatomy`` what ``locate`` found on it;
    raises ``NotReadable`` when its confidence is below 0.5.
    """
    if anatomy.confidence < CONFIDENCE_THRESHOLD:
        why = "; ".join(anatomy.reasons) or "low confidence"
        raise NotReadable(
            f"anatomy confidence {anatomy.confidence:.2f} < {CONFIDENCE_THRESHOLD} ({why})"
        )
    h, w = image.shape[:2]
    spacing = float(case.meta.get("original_pixel_spacing_mm", math.nan) or math.nan)
    orig_w = float(case.meta.get("original_width_px", w) or w)
    mm_per_px = spacing * orig_w / w if math.isfinite(spacing) else math.nan
    # the NIH labels themselves (not the parents the vocabulary derives from them)
    raw = case.raw_labels.get("finding_labels", ())
    positive = list(
        dict.fromkeys(m for m in (map_name("nih", str(n)) for n in raw) if m and m != "no_finding")
    )
    boxes: dict[str, list[np.ndarray]] = {}
    sizes: dict[str, float] = {}
    for a in case.annotations:
        if a.kind != "finding" or not a.labels:
            continue
        label = a.labels[0]
        mask = np.zeros((h, w), dtype=bool)
        mask[
            int(a.y0 * h) : max(int(a.y0 * h) + 1, math.ceil(a.y1 * h)),
            int(a.x0 * w) : max(int(a.x0 * w) + 1, math.ceil(a.x1 * w)),
        ] = True
        targets = [f for f in _OPACITY_LABELS if f in positive] if label in _OPACITY_BOX else []
        if label not in _OPACITY_BOX and label in positive:
            targets = [label]
        if not targets:  # the box's finding is not among the labels: the box adds it
            targets = [label]
            if label not in positive:
                positive.append(label)
        for t in targets:
            boxes.setdefault(t, []).append(mask)
            if math.isfinite(mm_per_px):
                sizes[t] = max(
                    sizes.get(t, 0.0), math.sqrt((a.x1 - a.x0) * w * (a.y1 - a.y0) * h) * mm_per_px
                )
    regions = anatomy.regions
    findings = []
    for fid in positive:
        side, location, exact, mask = "", "", True, None
        if fid in boxes:
            mask = np.logical_or.reduce(boxes[fid])
            centres = []
            for m in boxes[fid]:
                ys, xs = np.nonzero(m)
                centres.append(((xs.mean() + 0.5) / w, (ys.mean() + 0.5) / h))
            sides = {"right" if cx < _midline(anatomy) else "left" for cx, _ in centres}
            if fid == "cardiomegaly":
                side, location = "midline", "cardiac_silhouette"
            elif len(sides) == 2:
                side = "bilateral"
            else:
                side = sides.pop()
                location = _zone_at(anatomy, *centres[0], side)
        elif fid == "cardiomegaly":
            mask, side, location = (
                regions["cardiac_silhouette"].mask,
                "midline",
                "cardiac_silhouette",
            )
        elif fid == "pleural_effusion":
            mask = (
                regions["right_costophrenic_angle"].mask | regions["left_costophrenic_angle"].mask
            )
            location, exact = "costophrenic_angles", False
        elif fid in ("edema", "emphysema"):
            mask = regions["right_lung"].mask | regions["left_lung"].mask
            side, location, exact = "bilateral", "lungs", False
        elif fid == "hiatal_hernia":
            mask, location, exact = regions["cardiac_silhouette"].mask, "cardiac_silhouette", False
        if mask is not None and not mask.any():
            mask = None
        if mask is not None and mask.shape != (h, w):
            mask = resample_mask(mask, (h, w))
        findings.append(
            CaseFinding(
                id=fid,
                mask=mask,
                conspicuity=REAL_CONSPICUITY,
                severity=None,
                side=side,
                location=location,
                size_mm=sizes.get(fid),
                details={"exact": exact, "box": fid in boxes},
            )
        )
    view = str(case.meta.get("view", ""))
    return PreparedCase(anatomy, tuple(findings), w, h, view)
