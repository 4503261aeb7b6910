"""Plausibility checks on a segmentation: is this a frontal chest radiograph we understood?

Each check maps one feature to a score in [0, 1] with a soft ramp between a "clearly wrong"
and a "clearly fine" value; the overall confidence is the product of the scores, so a single
clear failure is enough to push it under ``CONFIDENCE_THRESHOLD``. A check scoring under 0.7
adds its reason in words. The ramps were set by hand from the feature distributions over the
322 NIH images (all frontal; most ramps sit below their 1st percentile) and from non-chest
images: scikit-image's sample photographs and the synthetic gradient, noise, hand and lateral
images of the tests (the knee image of the tests was not used to set them); the centre-contrast
ramp was then set between inverted NIH images that still passed and off-centre real ones, so
the inverted pass rate that ``anatomy-eval`` prints is optimistic. Known gaps: some
upside-down chests pass (rate printed by ``gazescope anatomy-eval``), and a chest turned by
about 20 degrees passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from core.anatomy.segment import Segmentation
from core.io.geometry import resize_image

__all__ = ["CONFIDENCE_THRESHOLD", "LEARNED_CERTAINTY_RAMP", "Quality", "assess", "assess_learned"]

CONFIDENCE_THRESHOLD = 0.5  # below this an Anatomy is not to be trusted (documented contract)


@dataclass(frozen=True)
class Quality:
    confidence: float
    side_confidence: tuple[float, float]  # right, left lung
    reasons: tuple[str, ...]
    features: dict[str, float]


def _ramp(value: float, bad: float, good: float) -> float:
    """0 at ``bad``, 1 at ``good``, linear between (either order)."""
    if good == bad:
        return float(value >= good)
    return float(np.clip((value - bad) / (good - bad), 0.0, 1.0))


def _symmetry(image: np.ndarray, size: int = 32, max_shift: int = 4) -> tuple[float, float]:
    """Correlation of the image with its left-right mirror (best over small shifts, patients
    are rarely centred) and with its top-bottom flip. A frontal chest is close to
    left-right symmetric and far from top-bottom symmetric; a 90-degree turn swaps the two."""
    s = resize_image(image, size, size, order=1).astype(np.float64)
    s = (s - s.mean()) / max(float(s.std()), 1e-6)
    m = s[:, ::-1]
    best = -1.0
    for k in range(-max_shift, max_shift + 1):
        a, b = (s[:, k:], m[:, : size - k]) if k >= 0 else (s[:, :k], m[:, -k:])
        best = max(best, float(np.mean(a * b)) * size / a.shape[1])
    return min(best, 1.0), float(np.mean(s * s[::-1]))


def _centre_contrast(image: np.ndarray, size: int = 64) -> float:
    """Mean of the central vertical band (spine, mediastinum) minus that of two lateral bands
    (lungs), 20-60 % down the image; independent of the segmentation. Positive on a frontal
    chest, negative when inverted."""
    s = resize_image(image, size, size, order=1)
    rows = s[int(0.2 * size) : int(0.6 * size)]
    centre = rows[:, int(0.45 * size) : int(0.55 * size)].mean()
    sides = np.concatenate(
        [rows[:, int(0.2 * size) : int(0.35 * size)], rows[:, int(0.65 * size) : int(0.8 * size)]],
        axis=1,
    ).mean()
    return float(centre - sides)


def _features(
    image: np.ndarray, smooth: np.ndarray, body: np.ndarray, right: np.ndarray, left: np.ndarray
) -> dict[str, float]:
    gh, gw = image.shape
    f: dict[str, float] = {}
    f["dynamic_range"] = float(np.percentile(image, 95) - np.percentile(image, 5))
    f["mirror_symmetry"], f["flip_symmetry"] = _symmetry(image)
    f["centre_contrast"] = _centre_contrast(image)
    for name, m in (("right", right), ("left", left)):
        f[f"{name}_area"] = float(m.sum() / (gh * gw))
    if not right.any() or not left.any():
        return f
    ry, rx = np.nonzero(right)
    ly, lx = np.nonzero(left)
    f["side_order"] = float((lx.mean() - rx.mean()) / gw)  # > 0 when right lung is image-left
    # tilt of the line joining the lungs' mid-height points (centroids sit low on the left)
    dy = 0.5 * (ly.min() + ly.max()) - 0.5 * (ry.min() + ry.max())
    f["tilt_deg"] = float(np.degrees(np.arctan2(dy, lx.mean() - rx.mean())))
    hr, hl = ry.max() - ry.min() + 1, ly.max() - ly.min() + 1
    f["height_ratio"] = float(min(hr, hl) / max(hr, hl))
    f["apex_offset"] = float(abs(ry.min() - ly.min()) / gh)
    f["area_ratio"] = float(min(right.sum(), left.sum()) / max(right.sum(), left.sum()))
    # mirror agreement about the midline between the lungs (frontal lungs are near mirror images)
    mid = 0.5 * (rx.max() + lx.min())
    mirrored = np.zeros_like(left)
    xs = np.round(2 * mid - lx).astype(int)
    ok = (xs >= 0) & (xs < gw)
    mirrored[ly[ok], xs[ok]] = True
    f["mirror_iou"] = float((mirrored & right).sum() / max(1, (mirrored | right).sum()))
    # lungs darker than the mediastinum between them and than what lies under their bases
    lung_mean = float(np.mean(smooth[right | left]))
    cols = np.arange(gw)[None, :]
    rows = np.arange(gh)[:, None]
    top, bottom = min(ry.min(), ly.min()), max(ry.max(), ly.max())
    between = (cols > rx.max() - 0.0) & (cols < lx.min()) & (rows >= top) & (rows <= bottom)
    between &= ~(right | left)
    if between.sum() < 10:
        gap = (cols >= int(mid) - 2) & (cols <= int(mid) + 2) & (rows >= top) & (rows <= bottom)
        between = gap & ~(right | left)
    f["mediastinum_contrast"] = (
        float(np.mean(smooth[between]) - lung_mean) if between.any() else 0.0
    )
    upper = (rows >= top) & (rows <= top + 0.4 * (bottom - top))
    gap_up = between & upper
    lung_up = (right | left) & upper
    f["upper_mediastinum_contrast"] = (
        float(np.mean(smooth[gap_up]) - np.mean(smooth[lung_up]))
        if gap_up.any() and lung_up.any()
        else 0.0
    )
    below = (rows > bottom) & (rows <= min(gh - 1, bottom + 0.12 * gh))
    below = below & (cols >= rx.min()) & (cols <= lx.max())
    f["base_contrast"] = float(np.mean(smooth[below]) - lung_mean) if below.any() else 0.0
    # lungs hold vessels and rib edges: fine texture, absent from flat silhouettes
    detail = np.abs(image - ndi.gaussian_filter(image, 2.0))
    f["lung_texture"] = float(np.mean(detail[right | left]))
    # the chest wall just lateral to each lung is brighter than the lung
    band = max(2, round(0.04 * gw))
    walls = []
    for m, outward in ((right, -1), (left, 1)):
        shifted = np.zeros_like(m)
        for k in range(band, 2 * band):
            shifted |= np.roll(m, outward * k, axis=1)
        wall = shifted & ~(right | left) & body
        if wall.any():
            walls.append(float(np.median(smooth[wall]) - np.median(smooth[m])))
    f["wall_contrast"] = float(min(walls)) if walls else 0.0
    # the heart pushes each lung's medial border outwards low down (most of all the left);
    # upside down, the borders are furthest out high up. Per lung, so that one short lung
    # (effusion) does not hide it: the larger of the two outward shifts, lower third vs upper
    # third of the lung, as a share of the lungs' joint width
    r_med = np.where(right, cols, -1).max(axis=1)
    l_med = np.where(left, cols, gw).min(axis=1)
    shifts = []
    for med, has, outward in ((r_med, right.any(axis=1), -1.0), (l_med, left.any(axis=1), 1.0)):
        ys_m = np.nonzero(has)[0]
        if ys_m.size > 5:
            third = max(1, ys_m.size // 3)
            shifts.append(
                outward * float(np.median(med[ys_m[-third:]]) - np.median(med[ys_m[:third]]))
            )
    span_px = max(1.0, float(lx.max() - rx.min() + 1))
    f["heart_low"] = max(shifts) / span_px if shifts else 0.0
    f["vertical_centre"] = float(0.5 * (top + bottom) / gh)
    f["span"] = float((lx.max() - rx.min() + 1) / gw)
    return f


def assess(seg: Segmentation) -> Quality:
    """Score how plausible ``seg`` is as the lungs and heart of a frontal chest radiograph.

    Besides the checks shared by every method (``_judge``), each lung must match the fitted
    outline and lie on clear edges (the classical method's own evidence).
    """
    side: dict[str, float] = {}
    side_checks: list[tuple[float, str]] = []
    for k, name in enumerate(("right", "left")):
        fit = _ramp(seg.outline_fit[k], 0.35, 0.55)
        edges = _ramp(seg.edge_support[k], 0.4, 0.65)
        side[name] = fit * edges
        side_checks.append((fit, f"{name} lung does not match a lung shape"))
        side_checks.append((edges, f"{name} lung outline is not on clear edges"))
    extra = {
        "right_fit": seg.outline_fit[0],
        "left_fit": seg.outline_fit[1],
        "right_edges": seg.edge_support[0],
        "left_edges": seg.edge_support[1],
    }
    return _judge(
        seg.image, seg.smooth, seg.body, seg.right_lung, seg.left_lung, side, side_checks, extra
    )


# a learned structure is trusted when the network's mean probability over its mask reaches the
# "good" end. Set on the tuning half of the NIH sample only (core.eval.anatomy.nih_split):
# there the 1st percentiles are 0.82 (right lung), 0.84 (left) and 0.78 (heart), so the ramp
# sits below nearly all of them, as the classical ramps do.
LEARNED_CERTAINTY_RAMP = (0.72, 0.82)


def assess_learned(
    image: np.ndarray,
    smooth: np.ndarray,
    body: np.ndarray,
    right: np.ndarray,
    left: np.ndarray,
    heart: np.ndarray,
    certainty: tuple[float, float, float],
) -> Quality:
    """Score a learned segmentation with the shared checks plus the network's own certainty
    (mean softmax probability of each structure over its mask: right lung, left lung, heart)
    and a heart low between the lungs."""
    bad, good = LEARNED_CERTAINTY_RAMP
    side: dict[str, float] = {}
    side_checks: list[tuple[float, str]] = []
    for k, name in enumerate(("right", "left")):
        score = _ramp(certainty[k], bad, good)
        side[name] = score
        side_checks.append((score, f"{name} lung outline uncertain (network: {certainty[k]:.2f})"))
    side_checks.append(
        (_ramp(certainty[2], bad, good), f"heart outline uncertain (network: {certainty[2]:.2f})")
    )
    side_checks.append((_heart_place(heart, right, left), "no heart low between the lungs"))
    extra = {"right_certainty": certainty[0], "left_certainty": certainty[1]}
    extra["heart_certainty"] = certainty[2]
    return _judge(image, smooth, body, right, left, side, side_checks, extra)


def _heart_place(heart: np.ndarray, right: np.ndarray, left: np.ndarray) -> float:
    """1 when the heart's centroid lies between the lungs' centroids and in their lower half."""
    if not heart.any() or not right.any() or not left.any():
        return 0.0
    hy, hx = np.nonzero(heart)
    ry, rx = np.nonzero(right)
    ly, lx = np.nonzero(left)
    top, bottom = min(ry.min(), ly.min()), max(ry.max(), ly.max())
    between = float(rx.mean() < hx.mean() < lx.mean())
    low = _ramp((hy.mean() - top) / max(1, bottom - top), 0.35, 0.5)
    return between * low


def _judge(
    image: np.ndarray,
    smooth: np.ndarray,
    body: np.ndarray,
    right: np.ndarray,
    left: np.ndarray,
    side: dict[str, float],
    side_checks: list[tuple[float, str]],
    extra: dict[str, float],
) -> Quality:
    """The checks every method shares, with the method's own ``side_checks`` (scores and
    reasons) and per-lung evidence ``side`` (in [0, 1]) that scales each side's confidence."""
    f = _features(image, smooth, body, right, left) | extra
    checks: list[tuple[float, str]] = []
    checks.append((_ramp(f["dynamic_range"], 0.05, 0.2), "image has almost no contrast"))
    for name in ("right", "left"):
        a = f[f"{name}_area"]
        checks.append(
            (
                min(_ramp(a, 0.01, 0.03), _ramp(a, 0.4, 0.3)),
                f"{name} lung field area implausible ({a:.1%} of the image)",
            )
        )
    if "side_order" not in f:
        return Quality(0.0, (0.0, 0.0), ("no lung fields found",), f)
    checks += side_checks
    checks.append((_ramp(f["side_order"], 0.15, 0.3), "lung fields not side by side"))
    checks.append(
        (
            _ramp(abs(f["tilt_deg"]), 25.0, 12.0),
            f"lungs tilted by {f['tilt_deg']:.0f} deg (rotated image?)",
        )
    )
    checks.append((_ramp(f["height_ratio"], 0.35, 0.55), "lung heights very unequal"))
    checks.append((_ramp(f["apex_offset"], 0.3, 0.18), "lung apices at very different levels"))
    checks.append(
        (_ramp(f["mirror_iou"], 0.1, 0.3), "lung fields are not mirror images (lateral view?)")
    )
    checks.append(
        (
            _ramp(f["mediastinum_contrast"], 0.0, 0.08),
            "no bright mediastinum between dark lungs (inverted or not a frontal chest?)",
        )
    )
    checks.append(
        (
            _ramp(f["base_contrast"], 0.0, 0.1),
            "no bright diaphragm/abdomen under the lungs (inverted?)",
        )
    )
    checks.append((_ramp(f["span"], 0.3, 0.45), "lung fields span too little of the image"))
    checks.append(
        (
            _ramp(f["upper_mediastinum_contrast"], 0.0, 0.06),
            "no bright upper mediastinum between the lung apices",
        )
    )
    checks.append(
        (_ramp(f["wall_contrast"], 0.0, 0.08), "no brighter chest wall lateral to the lungs")
    )
    checks.append(
        (
            _ramp(f["lung_texture"], 0.045, 0.033),
            f"lung fields hold far more fine detail than lungs ({f['lung_texture']:.3f})",
        )
    )
    checks.append(
        (
            _ramp(f["mirror_symmetry"], 0.0, 0.3),
            "image is not left-right symmetric like a frontal chest",
        )
    )
    checks.append(
        (
            _ramp(f["mirror_symmetry"] - f["flip_symmetry"], -0.2, 0.1),
            "image is more top-bottom than left-right symmetric (turned by 90 deg?)",
        )
    )
    checks.append(
        (
            _ramp(f["centre_contrast"], -0.25, -0.12),
            "image centre (spine, mediastinum) darker than the lung fields beside it (inverted?)",
        )
    )
    checks.append(
        (
            _ramp(f["heart_low"], 0.025, 0.055),
            "lung borders are not pushed out low down by the heart (upside down?)",
        )
    )
    confidence = float(np.nan_to_num(np.prod([s for s, _ in checks]), nan=0.0))
    reasons = tuple(msg for s, msg in checks if s < 0.7)
    side_conf = (
        float(np.clip(confidence * (0.5 + 0.5 * side["right"]), 0, 1)),
        float(np.clip(confidence * (0.5 + 0.5 * side["left"]), 0, 1)),
    )
    return Quality(confidence, side_conf, reasons, f)
