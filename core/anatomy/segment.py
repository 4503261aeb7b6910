"""Lung fields and cardiac silhouette on a frontal chest radiograph, without learned weights.

Method (classical, three stages, all on a working grid whose long side is ``GRID_LONG_SIDE``):

1. **Evidence.** The image is normalised by its 1st/99th percentiles, ribs and clavicles are
   suppressed by a grey opening with a vertical line (it removes bright bands thinner than the
   line), and every pixel is compared with a Bernsen-style local threshold: the mid-point of the
   local minimum and maximum over a wide, short window (about a third of the image wide), which
   follows the cranio-caudal brightening of the lung fields. Pixels darker than that mid-point,
   where the local contrast is real, are *lung candidates*. Outside air (dark and connected to
   the image border) is excluded.
2. **Shape prior.** A hand-drawn average outline of each lung (right: straight mediastinal
   border; left: indented by the heart) is scaled over a grid of widths and heights and slid
   over the candidate map (FFT correlation on a coarse grid); the pair of placements that
   together explain the most candidate pixels, with similar apex and base levels, wins.
3. **Boundary.** From a point 60 % down the fitted outline, 128 rays are cast; along each ray
   a cost combines the outward brightness step (lung -> chest wall, heart, diaphragm),
   agreement with the candidate map, distance from the fitted outline and a barrier past any
   band much brighter than the lung (the diaphragm above stomach gas); dynamic programming over
   the rays picks the smoothest best boundary, which cuts leaks into neck, axilla or stomach
   gas. A second pass restarts from the first outline.

The result is the *aerated* lung field. When one lung's field ends well above the other's
(effusion, consolidation, collapse), ``complete_short_lung`` draws its opaque lower part from
the mirrored other lung so that the atlas zones still cover the hemithorax.

The cardiac silhouette is bounded by the lung edges that face it: below the level where the
heart begins (``HEART_TOP_FRACTION`` of lung height), the boundary pixels of each lung whose
outward normal points medially; their convex hull, closed by a horizontal base at their lowest
point and with rounded top corners, less the lungs. An enlarged heart that pushes the left
lung's lower outline down and out widens the silhouette with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage as ndi
from skimage.morphology import convex_hull_image

from core.io.geometry import resize_image

logger = logging.getLogger(__name__)

__all__ = [
    "GRID_LONG_SIDE",
    "RAY",
    "RayParams",
    "Segmentation",
    "complete_short_lung",
    "lung_candidates",
    "normalise",
    "segment",
    "working_grid",
]

GRID_LONG_SIDE = 256
HEART_TOP_FRACTION = 0.45  # heart starts this far down the lungs' joint height (about the hila)
# a lung edge faces the heart when the medial component of its outward normal exceeds this
HEART_BORDER_NORMAL = 0.75

# Average outlines in a lung's own box, x from lateral (0) to medial (1), y apex (0) to base (1).
# Drawn from standard PA anatomy: the right lung's medial border is the SVC and right atrium,
# the left lung's the aortic knob, pulmonary trunk and left ventricle (hence the indentation).
_RIGHT_OUTLINE = (
    (0.55, 0.0), (0.75, 0.05), (0.85, 0.15), (0.9, 0.3), (0.92, 0.5), (0.95, 0.7), (0.9, 0.85),
    (0.85, 0.95), (0.6, 0.87), (0.4, 0.88), (0.15, 0.95), (0.02, 1.0), (0.0, 0.8), (0.03, 0.5),
    (0.12, 0.25), (0.3, 0.07),
)  # fmt: skip
_LEFT_OUTLINE = (
    (0.5, 0.0), (0.75, 0.07), (0.85, 0.2), (0.8, 0.32), (0.8, 0.42), (0.65, 0.58), (0.55, 0.72),
    (0.48, 0.86), (0.4, 0.95), (0.25, 0.9), (0.1, 0.95), (0.02, 1.0), (0.0, 0.8), (0.04, 0.5),
    (0.13, 0.25), (0.3, 0.07),
)  # fmt: skip

_FIT_GRID = 48
_FIT_WIDTHS = np.arange(0.16, 0.47, 0.04)  # lung width / image width
_FIT_HEIGHTS = np.arange(0.28, 0.90, 0.065)  # lung height / image height
_N_RAYS = 128


@dataclass(frozen=True)
class RayParams:
    """Stage-3 weights: outward edge, candidate agreement, squared relative distance from the
    prior outline, and the cost of reaching past a band brighter than the lung."""

    edge: float = 1.0
    region: float = 0.3
    dev: float = 0.8
    far: float = 1.6  # search out to this many times the prior's radius
    centre_down: float = 0.6  # rays start this far down the prior outline, mid-width
    jump_px: float = 4.0  # at most this radius change between neighbouring rays
    passes: int = 2  # the second pass restarts from the first pass's outline
    barrier: float = 1.0  # cost of reaching past a band brighter than the lung by barrier_at
    barrier_at: float = 0.2


RAY = RayParams()


@dataclass(frozen=True)
class Segmentation:
    """Masks on the working grid plus the intermediate maps the quality checks use."""

    image: np.ndarray  # (gh, gw) float32, percentile-normalised working image
    smooth: np.ndarray  # (gh, gw) float32, ribs suppressed and smoothed
    candidates: np.ndarray  # (gh, gw) bool, lung-candidate pixels (stage 1)
    body: np.ndarray  # (gh, gw) bool, not outside air
    right_lung: np.ndarray  # (gh, gw) bool, patient's right = image left
    left_lung: np.ndarray
    heart: np.ndarray
    outline_fit: tuple[float, float]  # per side: share of the fitted outline that is candidate
    edge_support: tuple[float, float]  # per side: share of boundary rays on a clear edge


def working_grid(height: int, width: int, long_side: int = GRID_LONG_SIDE) -> tuple[int, int]:
    """The (rows, columns) of the working grid: long side ``long_side``, aspect kept."""
    scale = long_side / max(height, width)
    return max(8, round(height * scale)), max(8, round(width * scale))


def normalise(image: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """The image on the working grid, scaled so its 1st/99th percentiles become 0/1."""
    g = resize_image(np.asarray(image, dtype=np.float32), *grid, order=1)
    lo, hi = np.percentile(g, [1.0, 99.0])
    return np.clip((g - lo) / max(hi - lo, 1e-6), 0.0, 1.0).astype(np.float32)


def lung_candidates(g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stage 1: ``(smooth, candidates, body)`` from a normalised working image."""
    gh, gw = g.shape
    smooth = ndi.grey_opening(g, size=(max(3, int(0.06 * gh)), 1))
    smooth = ndi.gaussian_filter(smooth, 1.5 * gh / 256)
    wy, wx = int(0.1 * gh) | 1, int(0.32 * gw) | 1
    lo = ndi.uniform_filter(ndi.minimum_filter(smooth, size=(wy, wx)), (wy, wx))
    hi = ndi.uniform_filter(ndi.maximum_filter(smooth, size=(wy, wx)), (wy, wx))
    cand = (smooth < lo + 0.5 * (hi - lo)) & (hi - lo > 0.12)
    body = ~_outside_air(smooth)
    cand &= ndi.binary_erosion(body, iterations=max(1, gw // 64))
    return smooth, cand, body


def _outside_air(smooth: np.ndarray) -> np.ndarray:
    """Dark pixels connected to the image border (air beside the patient)."""
    dark = smooth < 0.08
    lab, n = ndi.label(dark)
    if n == 0:
        return dark
    border = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
    return np.isin(lab, border[border > 0])


def _outline_mask(outline: tuple, h: int, w: int, mirror: bool) -> np.ndarray:
    canvas = Image.new("L", (max(w, 1), max(h, 1)), 0)
    xy = [((1.0 - x if mirror else x) * (w - 1), y * (h - 1)) for x, y in outline]
    ImageDraw.Draw(canvas).polygon(xy, fill=1)
    return np.asarray(canvas, dtype=bool)


@dataclass(frozen=True)
class _Placement:
    score: float
    x0: float  # normalised box of the outline
    y0: float
    w: float
    h: float


@lru_cache(maxsize=512)
def _outline_spectrum(side: int, th: int, tw: int, shape: tuple[int, int]) -> np.ndarray:
    tpl = _outline_mask(_RIGHT_OUTLINE if side == 0 else _LEFT_OUTLINE, th, tw, mirror=side == 1)
    return np.fft.rfft2(tpl[::-1, ::-1].astype(np.float64), s=shape)


@lru_cache(maxsize=512)
def _allowed_centres(side: int, th: int, tw: int, c: int) -> np.ndarray:
    """Offsets whose outline centre lies on its own half, between 20 % and 72 % down."""
    ii, jj = np.ogrid[0 : c - th + 1, 0 : c - tw + 1]
    cx, cy = (jj + tw / 2) / c, (ii + th / 2) / c
    return ((cx < 0.5) if side == 0 else (cx > 0.5)) & (cy > 0.2) & (cy < 0.72)


def _placements(evidence: np.ndarray, side: int) -> list[_Placement]:
    """Best translation of each outline size for one side (0 right lung, 1 left lung).

    The sum of ``evidence`` under the outline at every offset is one FFT correlation; the
    evidence spectrum is computed once and the outline spectra are cached.
    """
    c = evidence.shape[0]
    shape = (2 * c, 2 * c)
    ev = np.fft.rfft2(evidence, s=shape)
    out = []
    for wf in _FIT_WIDTHS:
        tw = round(wf * c)
        for hf in _FIT_HEIGHTS:
            th = round(hf * c)
            full = np.fft.irfft2(ev * _outline_spectrum(side, th, tw, shape), s=shape)
            s = full[th - 1 : c, tw - 1 : c]  # s[i, j]: outline's box at row i, column j
            s = np.where(_allowed_centres(side, th, tw, c), s, -np.inf)
            i, j = np.unravel_index(int(np.argmax(s)), s.shape)
            if np.isfinite(s[i, j]):
                out.append(_Placement(float(s[i, j]) / c**2, j / c, i / c, tw / c, th / c))
    return out


def _fit_outlines(cand: np.ndarray, body: np.ndarray) -> tuple[_Placement, _Placement]:
    c = _FIT_GRID
    frac = resize_image(cand.astype(np.float32), c, c, order=1)
    inside = resize_image(body.astype(np.float32), c, c, order=1)
    evidence = 2.0 * frac - 1.0 - 1.5 * (1.0 - inside)
    right, left = _placements(evidence, 0), _placements(evidence, 1)
    if not right or not left:
        raise RuntimeError("no outline placement")  # cannot happen with the grids above
    right = sorted(right, key=lambda p: -p.score)[:12]
    left = sorted(left, key=lambda p: -p.score)[:12]
    best, best_pair = -np.inf, (right[0], left[0])
    for r in right:
        for m in left:
            # apices at similar levels, bases within ~10 % of the image, widths alike
            penalty = 2.0 * abs(r.y0 - m.y0) + 1.0 * max(0.0, abs(r.y0 + r.h - m.y0 - m.h) - 0.1)
            penalty += 0.5 * abs(np.log(r.w / m.w))
            score = r.score + m.score - 0.25 * penalty
            if score > best:
                best, best_pair = score, (r, m)
    return best_pair


def _place(p: _Placement, side: int, grid: tuple[int, int]) -> np.ndarray:
    gh, gw = grid
    th, tw = max(2, round(p.h * gh)), max(2, round(p.w * gw))
    tpl = _outline_mask(_RIGHT_OUTLINE if side == 0 else _LEFT_OUTLINE, th, tw, mirror=side == 1)
    out = np.zeros(grid, dtype=bool)
    r0, c0 = round(p.y0 * gh), round(p.x0 * gw)
    r1, c1 = min(gh, r0 + th), min(gw, c0 + tw)
    out[r0:r1, c0:c1] = tpl[: r1 - r0, : c1 - c0]
    return out


def _ray_boundary(
    smooth: np.ndarray, plain: np.ndarray, cand: np.ndarray, prior: np.ndarray
) -> tuple[np.ndarray, float]:
    """Stage 3: dynamic-programming boundary on rays from the prior outline's centre."""
    gh, gw = smooth.shape
    ys, xs = np.nonzero(prior)
    cy = ys.min() + RAY.centre_down * (ys.max() - ys.min())
    row = np.nonzero(prior[int(round(cy))])[0]
    cx = 0.5 * (row.min() + row.max()) if row.size else xs.mean()
    r_max = 1.6 * float(np.hypot(ys - cy, xs - cx).max()) + 4.0
    step = max(0.5, r_max / 160.0)
    radii = np.arange(1.0, r_max, step)  # (R,)
    theta = np.linspace(0.0, 2 * np.pi, _N_RAYS, endpoint=False)  # (N,)
    py = cy + np.sin(theta)[:, None] * radii[None, :]  # (N, R)
    px = cx + np.cos(theta)[:, None] * radii[None, :]
    coords = np.stack([py, px])
    img = ndi.map_coordinates(smooth, coords, order=1, mode="nearest")
    raw = ndi.map_coordinates(plain, coords, order=1, mode="nearest")
    cnd = ndi.map_coordinates(cand.astype(np.float32), coords, order=1, mode="constant")
    pri = ndi.map_coordinates(prior.astype(np.float32), coords, order=1, mode="constant") > 0.5
    inside_img = (py >= 0) & (py <= gh - 1) & (px >= 0) & (px <= gw - 1)
    # prior radius per ray: last sample inside the prior outline
    idx = np.arange(radii.size)[None, :]
    r_prior = np.where(pri, idx, 0).max(axis=1).astype(np.float64)  # in samples
    # outward brightness step over +-2 px
    d = max(1, round(2.0 / step))
    edge = np.zeros_like(img)
    edge[:, d:-d] = img[:, 2 * d :] - img[:, : -2 * d]
    scale = np.percentile(edge[edge > 0], 95) if np.any(edge > 0) else 1.0
    edge = np.clip(edge / max(scale, 1e-6), 0.0, 1.0)
    # region term: candidate agreement accumulated from the centre, normalised per ray
    region = np.cumsum(2.0 * cnd - 1.0, axis=1) * step / np.maximum(r_prior[:, None] * step, 8.0)
    # barrier: once a ray has crossed a band much brighter than the lung (diaphragm, chest
    # wall, mediastinum; ribs are fainter), what lies beyond is not this lung (stomach gas)
    lung_level = float(np.median(plain[prior]))
    crossed = np.maximum.accumulate(raw, axis=1)
    crossed = np.concatenate([np.zeros((crossed.shape[0], 2 * d)), crossed[:, : -2 * d]], axis=1)
    barrier = np.clip((crossed - lung_level - RAY.barrier_at) / 0.1, 0.0, 1.0)
    dev = np.abs(idx - r_prior[:, None]) / np.maximum(r_prior[:, None], 8.0 / step)
    cost = -RAY.edge * edge - RAY.region * region + RAY.dev * dev**2
    cost += RAY.barrier * barrier
    cost = np.where(inside_img, cost, cost + 0.5)
    too_near = idx < 0.5 * r_prior[:, None]
    too_far = idx > RAY.far * r_prior[:, None] + 4.0 / step
    cost = np.where(too_near | too_far, np.inf, cost)
    path = _circular_dp(cost, max_jump=max(2, round(RAY.jump_px / step)))
    r_px = radii[path]
    support = float(np.mean(edge[np.arange(_N_RAYS), path] > 0.35))
    poly = np.stack([cx + np.cos(theta) * r_px, cy + np.sin(theta) * r_px], axis=1)
    canvas = Image.new("L", (gw, gh), 0)
    ImageDraw.Draw(canvas).polygon([(float(x), float(y)) for x, y in poly], fill=1)
    return np.asarray(canvas, dtype=bool), support


def _circular_dp(cost: np.ndarray, max_jump: int) -> np.ndarray:
    """Minimum-cost closed path choosing one sample per ray, |jump| <= max_jump between rays.

    Runs over one and a half turns and keeps the middle turn, so the start does not matter.
    """
    n, r = cost.shape
    order = np.concatenate([np.arange(n), np.arange(n // 2)])
    j = max_jump
    accs = np.empty((order.size, r))
    accs[0] = cost[order[0]]
    for t in range(1, order.size):  # forward: best cost reaching each sample (C-speed min)
        best = ndi.minimum_filter1d(accs[t - 1], 2 * j + 1, mode="constant", cval=np.inf)
        accs[t] = best + cost[order[t]]
    path = np.zeros(order.size, dtype=np.int64)
    path[-1] = int(np.argmin(accs[-1]))
    for t in range(order.size - 1, 0, -1):  # backward: the predecessor within the jump limit
        x = path[t]
        lo, hi = max(0, x - j), min(r, x + j + 1)
        window = accs[t - 1, lo:hi][::-1]  # ties go to the larger radius, as before
        path[t - 1] = hi - 1 - int(np.argmin(window))
    keep = path[n // 2 : n // 2 + n]
    rays = order[n // 2 : n // 2 + n]
    out = np.empty(n, dtype=np.int64)
    out[rays] = keep
    return out


def _heart(right: np.ndarray, left: np.ndarray) -> np.ndarray:
    """Cardiac silhouette from the lungs' borders that face it (see module docstring).

    Below the heart's top level (``HEART_TOP_FRACTION`` down the lungs), the boundary pixels of
    each lung whose outward normal points medially (more than ``HEART_BORDER_NORMAL``) are the
    heart borders: the right atrial border of the right lung, and of the left lung the left
    ventricular border, including the lower outline when an enlarged heart pushes it down and
    out. The silhouette is the convex hull of those points closed by a horizontal base at their
    lowest level, less the lungs, its top corners rounded by an ellipse.
    """
    gh, gw = right.shape
    heart = np.zeros_like(right)
    if not right.any() or not left.any():
        return heart
    rows = np.nonzero((right | left).any(axis=1))[0]
    start = round(rows[0] + HEART_TOP_FRACTION * (rows[-1] - rows[0]))
    borders = []
    for lung, medial in ((right, 1.0), (left, -1.0)):
        soft = ndi.gaussian_filter(lung.astype(np.float32), 2.0 * gh / 256)
        gy, gx = np.gradient(soft)
        ys, xs = np.nonzero(lung & ~ndi.binary_erosion(lung))
        nx, ny = -gx[ys, xs], -gy[ys, xs]  # outward normal
        facing = medial * nx / (np.hypot(nx, ny) + 1e-9) > HEART_BORDER_NORMAL
        keep = facing & (ys >= start)
        if keep.sum() < 3:
            return heart
        borders.append(np.stack([ys[keep], xs[keep]], axis=1))
    base = max(int(b[:, 0].max()) for b in borders)
    x_right, x_left = int(borders[0][:, 1].min()), int(borders[1][:, 1].max())
    if x_left - x_right < 3:
        return heart
    corners = np.array([[base, x_right], [base, x_left]])
    points = np.concatenate([*borders, corners])
    canvas = np.zeros_like(right)
    canvas[points[:, 0], points[:, 1]] = True
    heart = convex_hull_image(canvas)
    # round the top corners: keep what lies inside an ellipse spanning the silhouette
    y_top = int(points[:, 0].min())
    xc, half_w = 0.5 * (x_right + x_left), 0.5 * (x_left - x_right) * 1.05
    half_h = 0.75 * (base - y_top + 1)  # top of the ellipse at the top border point
    yc = y_top + half_h
    yy, xx = np.ogrid[0:gh, 0:gw]
    heart &= ((xx - xc) / half_w) ** 2 + ((yy - yc) / half_h) ** 2 <= 1.0
    heart &= ~(right | left)
    return _largest(ndi.binary_opening(heart, iterations=1)) if heart.sum() > 50 else heart


def _largest(mask: np.ndarray) -> np.ndarray:
    lab, n = ndi.label(mask)
    if n <= 1:
        return mask
    sizes = np.bincount(lab.ravel())
    sizes[0] = 0
    return lab == int(np.argmax(sizes))


def segment(image: np.ndarray, long_side: int = GRID_LONG_SIDE) -> Segmentation:
    """Segment both lung fields and the cardiac silhouette of a frontal chest radiograph.

    ``image`` is any 2-D float array in [0, 1], bone bright. Always returns masks (possibly
    empty or wrong on a non-chest image): judge them with ``core.anatomy.quality``.
    """
    grid = working_grid(*image.shape, long_side=long_side)
    g = normalise(image, grid)
    smooth, cand, body = lung_candidates(g)
    plain = ndi.gaussian_filter(g, 1.0 * grid[0] / 256)
    p_right, p_left = _fit_outlines(cand, body)
    masks, fits, supports = [], [], []
    for side, p in ((0, p_right), (1, p_left)):
        prior = _place(p, side, grid)
        if prior.sum() < 16:
            masks.append(prior)
            fits.append(0.0)
            supports.append(0.0)
            continue
        mask, support = _ray_boundary(smooth, plain, cand, prior)
        for _ in range(RAY.passes - 1):
            if mask.sum() >= 16:
                mask, support = _ray_boundary(smooth, plain, cand, mask)
        mask = _largest(ndi.binary_fill_holes(mask & body))
        masks.append(mask)
        fits.append(float((cand & prior).sum() / max(1, prior.sum())))
        supports.append(support)
    right, left = masks
    overlap = right & left
    if overlap.any():  # rays may cross the midline on a narrow mediastinum: split it
        cols = np.arange(grid[1])[None, :]
        mid = 0.5 * (np.nonzero(right.any(0))[0].mean() + np.nonzero(left.any(0))[0].mean())
        right &= ~(overlap & (cols >= mid))
        left &= ~(overlap & (cols < mid))
    heart = _heart(right, left)
    return Segmentation(
        image=g,
        smooth=smooth,
        candidates=cand,
        body=body,
        right_lung=right,
        left_lung=left,
        heart=heart,
        outline_fit=(fits[0], fits[1]),
        edge_support=(supports[0], supports[1]),
    )


SHORT_LUNG_RATIO = 0.75  # a lung shorter than this share of the other one gets completed
SHORT_LUNG_GAP = 0.08  # ... when its base is also this share of the image height higher


def complete_short_lung(
    right: np.ndarray,
    left: np.ndarray,
    heart: np.ndarray,
    body: np.ndarray,
    smooth: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Complete a lung field whose lower part is not aerated, from the mirrored other lung.

    Effusion, consolidation, collapse or a raised hemidiaphragm leave a lung's aerated field
    ending well above the other's, with both apices level. The atlas zones must still cover the
    whole hemithorax (a "right lower zone consolidation" lies where the aerated field is not),
    so the missing lower part is drawn from the other lung mirrored about the midline (minus
    the heart and anything outside the body), provided that part is opaque (clearly brighter
    than the aerated lung in ``smooth``: fluid or airless lung, not stomach gas). Returns the
    masks and a sentence saying what was done, or the masks unchanged and ``None``.
    """
    gh, gw = right.shape
    if not right.any() or not left.any():
        return right, left, None
    extents = []
    for m in (right, left):
        rows = np.nonzero(m.any(axis=1))[0]
        extents.append((int(rows[0]), int(rows[-1])))
    heights = [b - t + 1 for t, b in extents]
    short = int(np.argmin(heights))
    long_ = 1 - short
    if heights[short] >= SHORT_LUNG_RATIO * heights[long_]:
        return right, left, None
    if extents[long_][1] - extents[short][1] < SHORT_LUNG_GAP * gh:
        return right, left, None
    if abs(extents[short][0] - extents[long_][0]) > 0.1 * gh:
        return right, left, None  # it starts low rather than ending high: leave it
    cols = np.arange(gw)
    r_med = np.where(right, cols, -1).max(axis=1)
    l_med = np.where(left, cols, gw).min(axis=1)
    both = right.any(axis=1) & left.any(axis=1)
    mid = float(np.median(0.5 * (r_med[both] + l_med[both])))
    masks = [right, left]
    src = masks[long_]
    ys, xs = np.nonzero(src)
    xm = np.round(2.0 * mid - xs).astype(int)
    ok = (xm >= 0) & (xm < gw)
    mirrored = np.zeros_like(src)
    mirrored[ys[ok], xm[ok]] = True
    mirrored = ndi.binary_closing(mirrored, iterations=1)
    below = np.arange(gh)[:, None] > extents[short][1] - 2
    add = mirrored & below & ~heart & ~masks[long_] & body
    if add.sum() < 16 or np.mean(smooth[add]) < np.mean(smooth[masks[long_]]) + 0.15:
        return right, left, None
    completed = ndi.binary_closing(masks[short] | add, iterations=max(1, round(0.012 * gw)))
    completed = _largest(ndi.binary_fill_holes(completed) & body & ~heart & ~masks[long_])
    completed = ndi.binary_opening(completed, iterations=max(1, round(0.008 * gw))) | masks[short]
    if completed.sum() < 1.05 * masks[short].sum():
        return right, left, None  # nothing worth adding survived
    masks[short] = completed
    names = ("right", "left")
    gap = (extents[long_][1] - extents[short][1]) / gh
    note = (
        f"{names[short]} lung field ends {gap:.0%} of the image height above the "
        f"{names[long_]}'s (effusion, consolidation, collapse or a raised hemidiaphragm?): "
        f"its lower part is drawn from the mirrored {names[long_]} lung"
    )
    return masks[0], masks[1], note
