"""The region atlas and the measurements, derived from lung and heart masks.

``atlas_from_masks`` is the one place where named regions are built: ``locate`` calls it with
the masks it segmented, the synthetic-phantom generator with its ground-truth masks. Every
region other than the lungs, their zones and the heart is placed by anatomical convention
relative to those three masks (fractions of lung height and width, documented per region), so
its confidence is scaled down by ``DERIVED_CONFIDENCE``.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from scipy import ndimage as ndi
from skimage import measure

from core.anatomy.types import REGION_IDS, Anatomy, Measurement, Region

__all__ = ["DERIVED_CONFIDENCE", "atlas_from_masks", "mask_box", "mask_polygon"]

DERIVED_CONFIDENCE = 0.8  # regions placed by convention from the lungs/heart, not seen directly
CTR_NOTE = "max transverse cardiac width / max internal thoracic width; PA normal < 0.50, AP magnifies the heart"
CPA_NOTE = (
    "angle of the lung outline at its lowest lateral corner (lateral wall vs diaphragm, arms of "
    "10 % of lung height); a relative score, not a clinical angle: the outlines round the recess, "
    "so sharp recesses read about 80-110 deg and blunting opens them further (medians per "
    "group on the NIH sample: gazescope anatomy-eval)"
)
MEDIASTINUM_NOTE = "widest gap between the lungs' medial borders 15-40 % down the lungs (upper mediastinum); PA > 80 mm is commonly called wide"


def mask_box(mask: np.ndarray) -> tuple[float, float, float, float]:
    """Normalised ``(x0, y0, x1, y1)`` of a grid mask (pixel edges); zeros when empty."""
    gh, gw = mask.shape
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    if rows.size == 0:
        return (0.0, 0.0, 0.0, 0.0)
    return (cols[0] / gw, rows[0] / gh, (cols[-1] + 1) / gw, (rows[-1] + 1) / gh)


def mask_polygon(mask: np.ndarray, max_points: int = 160) -> np.ndarray:
    """Normalised ``(K, 2)`` outline of the largest component (empty ``(0, 2)`` when none).

    The contour runs through pixel-edge midpoints (marching squares at 0.5) and is thinned to
    at most ``max_points`` vertices.
    """
    gh, gw = mask.shape
    if not mask.any():
        return np.zeros((0, 2))
    r0, r1 = np.nonzero(mask.any(axis=1))[0][[0, -1]]
    c0, c1 = np.nonzero(mask.any(axis=0))[0][[0, -1]]
    crop = mask[r0 : r1 + 1, c0 : c1 + 1]
    lab, n = ndi.label(crop)
    if n > 1:
        sizes = np.bincount(lab.ravel())
        sizes[0] = 0
        crop = lab == int(np.argmax(sizes))
    step = 2 if min(crop.shape) > 48 else 1  # large regions: trace at half resolution
    if step == 2:
        h2, w2 = (crop.shape[0] + 1) // 2, (crop.shape[1] + 1) // 2
        padded = np.zeros((2 * h2, 2 * w2), dtype=np.float32)
        padded[: crop.shape[0], : crop.shape[1]] = crop
        crop = padded.reshape(h2, 2, w2, 2).mean(axis=(1, 3)) >= 0.5
    crop = np.pad(crop, 1).astype(np.float32)
    c = max(measure.find_contours(crop, 0.5), key=len)
    c = c[:-1] if len(c) > 1 and np.allclose(c[0], c[-1]) else c
    if len(c) > max_points:
        c = c[np.linspace(0, len(c) - 1, max_points).round().astype(int)]
    ys = (c[:, 0] - 1) * step + (step - 1) / 2 + r0
    xs = (c[:, 1] - 1) * step + (step - 1) / 2 + c0
    return np.stack([(xs + 0.5) / gw, (ys + 0.5) / gh], axis=1)


def _region(rid: str, mask: np.ndarray, confidence: float) -> Region:
    mask = np.asarray(mask, dtype=bool)
    conf = float(np.clip(confidence, 0.0, 1.0)) if mask.any() else 0.0
    return Region(rid, mask, mask_polygon(mask), mask_box(mask), conf)


def _rows(mask: np.ndarray) -> tuple[int, int]:
    r = np.nonzero(mask.any(axis=1))[0]
    return (int(r[0]), int(r[-1])) if r.size else (0, -1)


def _border(mask: np.ndarray, side: str) -> np.ndarray:
    """Per row: the rightmost (``"max"``) or leftmost (``"min"``) column, -1 where empty."""
    cols = np.arange(mask.shape[1])
    if side == "max":
        out = np.where(mask, cols, -1).max(axis=1)
    else:
        out = np.where(mask, cols, mask.shape[1]).min(axis=1)
    return np.where(mask.any(axis=1), out, -1)


def _ellipse(shape: tuple[int, int], cy: float, cx: float, ry: float, rx: float) -> np.ndarray:
    yy, xx = np.ogrid[0 : shape[0], 0 : shape[1]]
    return ((yy - cy) / max(ry, 0.5)) ** 2 + ((xx - cx) / max(rx, 0.5)) ** 2 <= 1.0


def _carried(values: np.ndarray) -> np.ndarray:
    """Fill -1 entries with the nearest valid value (up, then down)."""
    v = values.astype(np.float64)
    valid = v >= 0
    if not valid.any():
        return v
    idx = np.arange(v.size)
    return np.interp(idx, idx[valid], v[valid])


def _cp_point(lung: np.ndarray, lateral_is_low_x: bool) -> tuple[int, int]:
    """The costophrenic corner: the lowest pixel of the lung's lateral third (most lateral on ties)."""
    cols = np.nonzero(lung.any(axis=0))[0]
    x0, x1 = cols[0], cols[-1]
    w = x1 - x0 + 1
    band = np.zeros_like(lung)
    if lateral_is_low_x:
        band[:, x0 : x0 + max(1, w // 3)] = True
    else:
        band[:, x1 - max(1, w // 3) + 1 : x1 + 1] = True
    ys, xs = np.nonzero(lung & band)
    key = ys * 10_000 + (-xs if lateral_is_low_x else xs)
    k = int(np.argmax(key))
    return int(ys[k]), int(xs[k])


def _cp_angle(
    lung: np.ndarray, cp: tuple[int, int], pixel_mm: tuple[float, float]
) -> tuple[float, tuple, tuple]:
    """Angle (deg) of the lung outline at ``cp`` between arms of 10 % of the lung's height."""
    contours = measure.find_contours(np.pad(lung, 1).astype(np.float32), 0.5)
    c = max(contours, key=len) - 1.0  # (K, 2) row, col
    k = int(np.argmin(np.hypot(c[:, 0] - cp[0], c[:, 1] - cp[1])))
    top, bottom = _rows(lung)
    arm = 0.10 * (bottom - top + 1)
    steps = np.hypot(np.diff(c[:, 0], append=c[:1, 0]), np.diff(c[:, 1], append=c[:1, 1]))
    n = len(c)

    def walk(direction: int) -> np.ndarray:
        dist, i = 0.0, k
        for _ in range(n):
            j = (i + direction) % n
            dist += steps[min(i, j)]
            i = j
            if dist >= arm:
                break
        return c[i]

    a, b, p = walk(1), walk(-1), c[k]
    sy, sx = pixel_mm
    va = np.array([(a[1] - p[1]) * sx, (a[0] - p[0]) * sy])
    vb = np.array([(b[1] - p[1]) * sx, (b[0] - p[0]) * sy])
    cosang = float(va @ vb / max(np.linalg.norm(va) * np.linalg.norm(vb), 1e-9))
    angle = math.degrees(math.acos(float(np.clip(cosang, -1.0, 1.0))))
    return angle, (a[0], a[1]), (b[0], b[1])


def atlas_from_masks(
    right_lung: np.ndarray,
    left_lung: np.ndarray,
    heart: np.ndarray,
    *,
    body: np.ndarray | None = None,
    image_shape: tuple[int, int] | None = None,
    spacing_mm: tuple[float, float] | None = None,
    confidence: float = 1.0,
    side_confidence: tuple[float, float] | None = None,
    reasons: tuple[str, ...] = (),
    method: str = "atlas_from_masks",
    heart_confidence: float | None = None,
) -> Anatomy:
    """Build every region of ``REGION_IDS`` (plus ``right_lung``, ``left_lung``) and the
    measurements from three boolean masks on one grid spanning the whole image.

    Sides are the patient's: ``right_lung`` lies on the image's left. ``body`` (not outside
    air) bounds the soft-tissue region; without it the whole image counts as body.
    ``image_shape`` is the original ``(H, W)`` in pixels and ``spacing_mm`` its ``(row, column)``
    pixel spacing: with both, areas are in cm2 and widths in mm, otherwise areas are fractions
    of the image and widths fractions of its width. ``heart_confidence`` (default: 0.9 times
    the weaker lung's) is the cardiac silhouette's; each measurement's confidence is that of
    the masks it is measured on (the CTR: the heart and both lungs). Raises ``ValueError`` when the masks
    disagree in shape or a lung is empty.
    """
    right = np.asarray(right_lung, dtype=bool)
    left = np.asarray(left_lung, dtype=bool)
    heart = np.asarray(heart, dtype=bool)
    if not (right.shape == left.shape == heart.shape) or right.ndim != 2:
        raise ValueError(
            f"masks must be 2-D and alike, got {right.shape}, {left.shape}, {heart.shape}"
        )
    if not right.any() or not left.any():
        raise ValueError("atlas_from_masks needs two non-empty lung masks")
    gh, gw = right.shape
    body = np.ones_like(right) if body is None else np.asarray(body, dtype=bool)
    conf_r, conf_l = side_confidence if side_confidence is not None else (confidence,) * 2
    derived = DERIVED_CONFIDENCE * min(conf_r, conf_l)
    if image_shape is not None and spacing_mm is not None:
        pixel_mm = (spacing_mm[0] * image_shape[0] / gh, spacing_mm[1] * image_shape[1] / gw)
    else:
        h, w = image_shape if image_shape is not None else (gh, gw)
        pixel_mm = (h / gh, w / gw)  # proportional to original pixels, for angles only
        spacing_mm = None

    regions: dict[str, Region] = {}
    regions["right_lung"] = _region("right_lung", right, conf_r)
    regions["left_lung"] = _region("left_lung", left, conf_l)
    rows = np.arange(gh)[:, None]
    lungs = right | left
    extents = {}
    for name, lung, conf in (("right", right, conf_r), ("left", left, conf_l)):
        top, bottom = _rows(lung)
        h = bottom - top + 1
        extents[name] = (top, bottom, h)
        cuts = [top, top + h / 3.0, top + 2.0 * h / 3.0, bottom + 1]
        for zone, lo, hi in zip(("upper", "middle", "lower"), cuts[:-1], cuts[1:], strict=True):
            band = (rows >= round(lo)) & (rows < round(hi))
            regions[f"{name}_{zone}_zone"] = _region(f"{name}_{zone}_zone", lung & band, conf)

    top = min(extents["right"][0], extents["left"][0])
    bottom = max(extents["right"][1], extents["left"][1])
    r_med = _carried(_border(right, "max"))  # right lung's medial (rightmost) column per row
    l_med = _carried(_border(left, "min"))
    r_lat = _border(right, "min")
    l_lat = _border(left, "max")
    heart_rows = _rows(heart) if heart.any() else (bottom, bottom - 1)

    # mediastinum: between the lungs' medial borders, in rows holding both lungs, from the
    # apices to the heart's base, less the heart
    cols = np.arange(gw)[None, :]
    r_raw, l_raw = _border(right, "max"), _border(left, "min")
    both = (r_raw >= 0) & (l_raw >= 0)
    between = (cols > r_raw[:, None]) & (cols < l_raw[:, None]) & both[:, None]
    med_rows = (rows >= top) & (rows <= max(heart_rows[1], top))
    mediastinum = between & med_rows & ~heart & ~lungs
    regions["mediastinum"] = _region("mediastinum", mediastinum, derived)
    conf_heart = 0.9 * min(conf_r, conf_l) if heart_confidence is None else heart_confidence
    regions["cardiac_silhouette"] = _region("cardiac_silhouette", heart, conf_heart)

    # hila: ellipses on each lung's medial border 42 % down the lung
    for name, lung, med, sign in (("right", right, r_med, -1), ("left", left, l_med, 1)):
        t, _, h = extents[name]
        cols_l = np.nonzero(lung.any(axis=0))[0]
        width = cols_l[-1] - cols_l[0] + 1
        cy = t + 0.42 * h
        cx = med[int(round(cy))] + sign * 0.08 * width
        hilum = _ellipse((gh, gw), cy, cx, 0.11 * h, 0.2 * width) & (lung | mediastinum)
        regions[f"{name}_hilum"] = _region(f"{name}_hilum", hilum, derived)

    # aortic knob: left upper mediastinal border 28 % down the left lung
    t, _, h = extents["left"]
    ky = t + 0.28 * h
    kx = l_med[int(round(ky))] - 0.02 * gw
    knob = _ellipse((gh, gw), ky, kx, 0.05 * h, 0.04 * gw) & (mediastinum | left)
    regions["aortic_knob"] = _region("aortic_knob", knob, derived)

    # midline (trachea, spine): a straight line through the centre of the upper mediastinum,
    # 10-45 % down the lungs, where it is symmetric about the spine (the heart is lower)
    ys = np.nonzero(both)[0]
    ys = ys[(ys >= top + 0.1 * (bottom - top)) & (ys <= top + 0.45 * (bottom - top))]
    if ys.size >= 5:
        slope, intercept = np.polyfit(ys, 0.5 * (r_raw[ys] + l_raw[ys]), 1)
        slope = float(np.clip(slope, -0.3, 0.3))
        intercept = float(np.median(0.5 * (r_raw[ys] + l_raw[ys]) - slope * ys))
    else:
        slope, intercept = 0.0, float(np.median(0.5 * (r_med + l_med)[top : bottom + 1]))

    def midline(y: int) -> float:
        return intercept + slope * y

    carina = round(top + 0.38 * (bottom - top))
    trachea_top = max(0, round(top - 0.08 * (bottom - top)))
    half = max(1.0, 0.022 * gw)
    trachea = np.zeros((gh, gw), dtype=bool)
    for y in range(trachea_top, carina + 1):
        c = midline(y)
        trachea[y, max(0, round(c - half)) : max(0, round(c + half) + 1)] = True
    regions["trachea"] = _region("trachea", trachea & ~lungs, derived)

    thoracic_w = float(np.max(np.where((r_lat >= 0) & (l_lat >= 0), l_lat - r_lat, 0)))
    spine = np.zeros((gh, gw), dtype=bool)
    spine_half = max(1.0, 0.05 * thoracic_w)
    spine_bottom = min(gh - 1, round(bottom + 0.08 * (bottom - top)))
    for y in range(trachea_top, spine_bottom + 1):
        c = midline(y)
        spine[y, max(0, round(c - spine_half)) : max(0, round(c + spine_half) + 1)] = True
    regions["spine"] = _region("spine", spine, derived)

    # hemidiaphragms: a band under each lung's lower outline (lateral to the heart)
    for name, lung in (("right", right), ("left", left)):
        band = np.zeros((gh, gw), dtype=bool)
        depth = max(2, round(0.05 * gh))
        t, _, h = extents[name]
        lung_cols = np.nonzero(lung.any(axis=0))[0]
        low = np.where(lung, rows, -1).max(axis=0)
        for x in lung_cols:
            # only where the lung's lowest pixel is in its lower 30 % (not the heart border)
            if low[x] < t + 0.7 * h or heart[min(gh - 1, low[x] + 2), x]:
                continue
            band[max(0, low[x] - 1) : min(gh, low[x] + depth), x] = True
        band &= ~lungs & ~heart
        regions[f"{name}_hemidiaphragm"] = _region(f"{name}_hemidiaphragm", band, derived)

    # costophrenic angles: a disc at each lung's lowest lateral corner
    cps = {}
    for name, lung, lateral_low in (("right", right, True), ("left", left, False)):
        cy, cx = _cp_point(lung, lateral_low)
        cps[name] = (cy, cx)
        r = 0.09 * extents[name][2]
        disc = _ellipse((gh, gw), cy - 0.3 * r, cx, r, r) & body
        regions[f"{name}_costophrenic_angle"] = _region(f"{name}_costophrenic_angle", disc, derived)

    # bones: the rib-cage rim around the lungs, the clavicle band above the apices, the spine;
    # soft tissue: the body outside the rib cage
    hull = _hull(lungs | heart)
    ring = max(2, round(0.04 * gw))
    cage = ndi.binary_dilation(hull, iterations=ring)
    rim = cage & ~ndi.binary_erosion(hull, iterations=ring)
    clav = (rows >= max(0, top - round(0.1 * (bottom - top)))) & (
        rows < top + 0.12 * (bottom - top)
    )
    bones = (rim | (cage & clav) | spine) & body
    regions["bones"] = _region("bones", bones, derived)
    regions["soft_tissue"] = _region("soft_tissue", body & ~cage, derived)

    measurements = _measurements(
        right, left, heart, r_lat, l_lat, r_med, l_med, extents, cps, pixel_mm, spacing_mm
    )
    side_conf = {"right": conf_r, "left": conf_l}
    for mid, m in measurements.items():
        if mid == "cardiothoracic_ratio":
            c = min(conf_r, conf_l, conf_heart)
        elif mid.startswith(("right_", "left_")):
            c = side_conf[mid.split("_")[0]]
        elif mid == "mediastinal_width":
            c = derived
        else:
            c = min(conf_r, conf_l)
        measurements[mid] = replace(m, confidence=float(np.clip(c, 0.0, 1.0)))
    ordered = {rid: regions[rid] for rid in ("right_lung", "left_lung", *REGION_IDS)}
    return Anatomy(
        grid_shape=(gh, gw),
        regions=ordered,
        measurements=measurements,
        confidence=float(np.clip(confidence, 0.0, 1.0)),
        reasons=tuple(reasons),
        method=method,
    )


def _hull(mask: np.ndarray) -> np.ndarray:
    from skimage.morphology import convex_hull_image

    return convex_hull_image(mask) if mask.any() else mask


def _measurements(
    right, left, heart, r_lat, l_lat, r_med, l_med, extents, cps, pixel_mm, spacing_mm
) -> dict[str, Measurement]:
    gh, gw = right.shape
    out: dict[str, Measurement] = {}

    def pt(y: float, x: float) -> tuple[float, float]:
        return (float(x) / gw, float(y) / gh)

    both = (r_lat >= 0) & (l_lat >= 0)
    widths = np.where(both, l_lat - r_lat + 1, 0)
    if heart.any() and widths.max() > 0:
        hy, hx = np.nonzero(heart)
        x0, x1 = int(hx.min()), int(hx.max()) + 1
        row_w = heart.sum(axis=1)
        yc = int(np.argmax(row_w)) + 0.5
        yt = int(np.argmax(widths))
        ctr = (x1 - x0) / float(widths[yt])
        out["cardiothoracic_ratio"] = Measurement(
            "cardiothoracic_ratio",
            float(ctr),
            "ratio",
            lines=(
                (pt(yc, x0), pt(yc, x1)),
                (pt(yt + 0.5, r_lat[yt]), pt(yt + 0.5, l_lat[yt] + 1)),
            ),
            note=CTR_NOTE,
        )
    for name, lung in (("right", right), ("left", left)):
        angle, a, b = _cp_angle(lung, cps[name], pixel_mm)
        cy, cx = cps[name]
        out[f"{name}_costophrenic_angle"] = Measurement(
            f"{name}_costophrenic_angle",
            angle,
            "deg",
            lines=(
                (pt(cy + 0.5, cx + 0.5), pt(a[0] + 0.5, a[1] + 0.5)),
                (pt(cy + 0.5, cx + 0.5), pt(b[0] + 0.5, b[1] + 0.5)),
            ),
            points=(pt(cy + 0.5, cx + 0.5),),
            note=CPA_NOTE,
        )
    areas = {}
    for name, lung in (("right", right), ("left", left)):
        if spacing_mm is not None:
            value, unit = lung.sum() * pixel_mm[0] * pixel_mm[1] / 100.0, "cm2"
        else:
            value, unit = lung.sum() / float(gh * gw), "fraction"
        areas[name] = value
        ys, xs = np.nonzero(lung)
        out[f"{name}_lung_area"] = Measurement(
            f"{name}_lung_area",
            float(value),
            unit,
            points=(pt(ys.mean() + 0.5, xs.mean() + 0.5),),
            note="lung field area" + ("" if unit == "cm2" else " as a fraction of the image"),
        )
    out["lung_area_ratio"] = Measurement(
        "lung_area_ratio",
        float(areas["right"] / max(areas["left"], 1e-9)),
        "ratio",
        note="right / left lung field area; the right is usually a little larger (about 1.1)",
    )
    top = min(extents["right"][0], extents["left"][0])
    bottom = max(extents["right"][1], extents["left"][1])
    lo, hi = round(top + 0.15 * (bottom - top)), round(top + 0.40 * (bottom - top))
    gaps = (l_med - r_med - 1)[lo : hi + 1]
    if gaps.size:
        k = int(np.argmax(gaps))
        y = lo + k + 0.5
        x0, x1 = r_med[lo + k] + 1, l_med[lo + k]
        if spacing_mm is not None:
            value, unit = gaps[k] * pixel_mm[1], "mm"
        else:
            value, unit = gaps[k] / float(gw), "fraction"
        out["mediastinal_width"] = Measurement(
            "mediastinal_width",
            float(value),
            unit,
            lines=((pt(y, x0), pt(y, x1)),),
            note=MEDIASTINUM_NOTE,
        )
    return out
