"""Raster primitives of the phantom generator: resampling, blurs, tubes and splats.

Everything works on float32 pixel grids and is written for speed on one CPU core (a 512 x 512
phantom is budgeted at ~150 ms in all): large blurs run on a block-averaged grid and come back
with a separable bilinear resize (two small matrix products), tubes (ribs, clavicles, airways,
catheters) are rendered from a coarse Euclidean distance transform refined to sub-pixel
distances, and thin branching structures (vessels) are splatted and blurred per width class.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import fft as sfft
from scipy import ndimage as ndi

__all__ = [
    "Tube",
    "blur",
    "blur_sum",
    "block_mean",
    "catmull_rom",
    "render_tubes",
    "resize",
    "splat_segments",
]


@lru_cache(maxsize=64)
def _interp_taps(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear-interpolation taps (i0, i1, weight of i1) with pixel-centre alignment."""
    pos = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    pos = np.clip(pos, 0.0, n_in - 1.0)
    i0 = np.floor(pos).astype(np.intp)
    i1 = np.minimum(i0 + 1, n_in - 1)
    f = (pos - i0).astype(np.float32)
    for arr in (i0, i1, f):
        arr.setflags(write=False)
    return i0, i1, f


def resize(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a 2-D array to ``shape`` (pixel-centre aligned, edges clamped)."""
    a = np.asarray(a, np.float32)
    if a.shape == tuple(shape):
        return a.copy()
    r0, r1, fr = _interp_taps(shape[0], a.shape[0])
    rows = a[r0] + (a[r1] - a[r0]) * fr[:, None]
    c0, c1, fc = _interp_taps(shape[1], a.shape[1])
    return rows[:, c0] + (rows[:, c1] - rows[:, c0]) * fc[None, :]


def block_mean(a: np.ndarray, f: int) -> np.ndarray:
    """Average over ``f x f`` blocks (the grid is padded by edge values to a multiple of f)."""
    h, w = a.shape
    ph, pw = (-h) % f, (-w) % f
    if ph or pw:
        a = np.pad(a, ((0, ph), (0, pw)), mode="edge")
    return a.reshape(a.shape[0] // f, f, a.shape[1] // f, f).mean(axis=(1, 3), dtype=np.float32)


@lru_cache(maxsize=32)
def _gauss_tf(shape: tuple[int, int], sigma_px: float) -> np.ndarray:
    """rfft2 transfer function of a Gaussian of ``sigma_px`` on a periodic grid of ``shape``."""
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    tf = np.exp(-2.0 * (np.pi * sigma_px) ** 2 * (fx * fx + fy * fy)).astype(np.float32)
    tf.setflags(write=False)
    return tf


def blur(a: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian blur with mirrored borders.

    Small sigmas filter the full grid by FFT (mirror-padded by 3 sigma); sigmas of 4 px and
    more filter a block-averaged grid (a block average is itself a blur of variance
    (f^2 - 1) / 12, subtracted here) and come back by bilinear resize, which is accurate for
    such smooth results and far cheaper.
    """
    a = np.asarray(a, np.float32)
    if sigma_px < 0.25:
        return a.copy()
    if sigma_px < 4.0:
        pad = int(np.ceil(3.0 * sigma_px))
        h, w = a.shape
        # mirror-pad by 3 sigma, then up to FFT-friendly sizes
        ph = sfft.next_fast_len(h + 2 * pad, real=True) - h - pad
        pw = sfft.next_fast_len(w + 2 * pad, real=True) - w - pad
        ap = np.pad(a, ((pad, ph), (pad, pw)), mode="reflect")
        spec = sfft.rfft2(ap)
        spec *= _gauss_tf(ap.shape, float(sigma_px))
        return sfft.irfft2(spec, s=ap.shape)[pad : pad + h, pad : pad + w].astype(np.float32)
    f = max(2, int(sigma_px // 2))
    small = block_mean(a, f)
    s = np.sqrt(max(sigma_px**2 - (f * f - 1) / 12.0, 0.25)) / f
    small = ndi.gaussian_filter(small, s, mode="mirror", truncate=3.0)
    return resize(small, a.shape)


def blur_sum(shape: tuple[int, int], layers: list[tuple[np.ndarray, float]]) -> np.ndarray:
    """Sum of periodic Gaussian blurs ``sum_i blur(a_i, sigma_i)`` with one inverse FFT.

    For content that stays away from the borders (vessels, texture inside the lungs), where
    the periodic wrap-around does not matter.
    """
    spec = None
    for a, sigma in layers:
        term = sfft.rfft2(np.asarray(a, np.float32))
        if sigma > 0:
            term *= _gauss_tf(shape, float(sigma))
        spec = term if spec is None else spec + term
    if spec is None:
        return np.zeros(shape, np.float32)
    return sfft.irfft2(spec, s=shape).astype(np.float32)


def catmull_rom(points: np.ndarray, step_px: float = 0.5) -> np.ndarray:
    """Dense Catmull-Rom curve through ``points`` (K, 2), sampled about every ``step_px``."""
    p = np.asarray(points, np.float64)
    if len(p) < 2:
        return p.copy()
    ext = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    seg_len = np.linalg.norm(np.diff(p, axis=0), axis=1)
    n = np.maximum(2, np.ceil(seg_len / step_px * 1.2).astype(np.intp))
    seg = np.repeat(np.arange(len(p) - 1), n)
    start = np.cumsum(n) - n
    t = ((np.arange(seg.size) - np.repeat(start, n)) / np.repeat(n, n))[:, None]
    p0, p1, p2, p3 = ext[seg], ext[seg + 1], ext[seg + 2], ext[seg + 3]
    t2, t3 = t * t, t * t * t
    out = 0.5 * (
        2 * p1
        + (-p0 + p2) * t
        + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
        + (-p0 + 3 * p1 - 3 * p2 + p3) * t3
    )
    return np.vstack([out, p[-1:]])


@dataclass
class Tube:
    """A tube along a dense polyline ``points`` (N, 2) in pixels (x, y).

    Per-point ``radius_px``, ``cortex_px`` (wall thickness), ``core`` (relative density of the
    inside: 1 solid, 0 hollow) and ``weight`` (path-length units per pixel of chord, i.e. the
    attenuation scale; may taper along the tube). Scalars broadcast along the tube.
    """

    points: np.ndarray
    radius_px: np.ndarray | float
    cortex_px: np.ndarray | float = 1e6
    core: np.ndarray | float = 1.0
    weight: np.ndarray | float = 1.0


def render_tubes(
    shape: tuple[int, int], tubes: list[Tube], *, down: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Projected thickness (chord length times weight) of a set of tubes, and which tube.

    A chord through a hollow cylinder of outer radius R and wall c at distance d from its axis
    is ``2 sqrt(R^2 - d^2) - (1 - core) * 2 sqrt((R - c)^2 - d^2)``, which gives bones their
    bright cortical edges. The nearest tube point is found with an EDT on a grid ``down`` times
    coarser; the distance is then refined to the perpendicular distance from that point's
    tangent line at full resolution. Where tubes overlap the nearest one wins, so tubes that
    must add up belong in separate calls. Returns ``(thickness, label)`` where ``label`` is
    the index of the tube covering each pixel, -1 where none does.
    """
    h, w = shape
    out = np.zeros(shape, np.float32)
    label = np.full(shape, -1, np.int16)
    parts, owner = [], []
    for ti, t in enumerate(tubes):
        p = np.asarray(t.points, np.float64)
        n = len(p)
        if n < 2:
            continue
        d = np.gradient(p, axis=0)
        d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
        e = np.zeros(n)
        e[0], e[-1] = -1, 1
        cols = [p[:, 0], p[:, 1], d[:, 0], d[:, 1]]
        for v in (t.radius_px, t.cortex_px, t.core, t.weight):
            cols.append(np.broadcast_to(np.asarray(v, np.float64), (n,)))
        cols.append(e)
        parts.append(np.stack(cols, 1))
        owner.append(np.full(n, ti, np.int16))
    if not parts:
        return out, label
    S = np.vstack(parts).astype(np.float32)  # x, y, tx, ty, R, cortex, core, weight, end
    own = np.concatenate(owner)

    gh, gw = -(-h // down), -(-w // down)
    ci = np.floor(S[:, 1] / down).astype(np.intp)
    cj = np.floor(S[:, 0] / down).astype(np.intp)
    ok = (ci >= 0) & (ci < gh) & (cj >= 0) & (cj < gw)
    if not ok.any():
        return out, label
    seed = np.full((gh, gw), -1, np.intp)
    idx = np.nonzero(ok)[0]
    seed[ci[idx], cj[idx]] = idx
    dist, (ni, nj) = ndi.distance_transform_edt(seed < 0, return_indices=True)
    band = dist * down < (float(S[:, 4].max()) + 1.5 * down)
    bi, bj = np.nonzero(band)
    near = seed[ni[bi, bj], nj[bi, bj]]
    # expand coarse band cells to the full-resolution pixels they cover
    oy, ox = np.divmod(np.arange(down * down), down)
    yy = (bi[:, None] * down + oy[None, :]).ravel()
    xx = (bj[:, None] * down + ox[None, :]).ravel()
    k = np.repeat(near, down * down)
    keep = (yy < h) & (xx < w)
    yy, xx, k = yy[keep], xx[keep], k[keep]
    g = S[k]
    dx = xx.astype(np.float32) + 0.5 - g[:, 0]
    dy = yy.astype(np.float32) + 0.5 - g[:, 1]
    along = dx * g[:, 2] + dy * g[:, 3]
    d2 = (dx * g[:, 3] - dy * g[:, 2]) ** 2
    beyond = ((g[:, 8] < 0) & (along < 0)) | ((g[:, 8] > 0) & (along > 0))
    rk = g[:, 4]
    inner = np.maximum(rk - g[:, 5], 0.0)
    chord = 2.0 * np.sqrt(np.maximum(rk * rk - d2, 0.0))
    chord -= (1.0 - g[:, 6]) * 2.0 * np.sqrt(np.maximum(inner * inner - d2, 0.0))
    val = np.where(beyond, 0.0, chord * g[:, 7])
    out[yy, xx] = val
    hit = val > 0
    label[yy[hit], xx[hit]] = own[k[hit]]
    return out, label


def splat_segments(
    shape: tuple[int, int],
    a: np.ndarray,
    b: np.ndarray,
    mass_per_px: np.ndarray,
    *,
    step_px: float = 0.7,
) -> np.ndarray:
    """Bilinear splat of line segments ``a -> b`` ((N, 2) pixels, x, y) with linear density.

    Each segment deposits ``mass_per_px`` per pixel of length; blurring the result with a
    Gaussian of width sigma gives a ridge whose peak is ``mass / (sqrt(2 pi) sigma)``.
    """
    h, w = shape
    seg = b - a
    length = np.linalg.norm(seg, axis=1)
    n = np.maximum(1, np.ceil(length / step_px).astype(np.int64))
    rep = np.repeat(np.arange(len(a)), n)
    start = np.cumsum(n) - n
    t = (np.arange(rep.size) - np.repeat(start, n) + 0.5) / np.repeat(n, n)
    pts = a[rep] + seg[rep] * t[:, None]
    mass = (mass_per_px * length / n)[rep]
    x = pts[:, 0] - 0.5
    y = pts[:, 1] - 0.5
    x0 = np.floor(x).astype(np.int64)
    y0 = np.floor(y).astype(np.int64)
    fx = x - x0
    fy = y - y0
    acc = np.zeros(h * w, np.float64)
    for oy, ox, wgt in (
        (0, 0, (1 - fx) * (1 - fy)),
        (0, 1, fx * (1 - fy)),
        (1, 0, (1 - fx) * fy),
        (1, 1, fx * fy),
    ):
        yi, xi = y0 + oy, x0 + ox
        ok = (yi >= 0) & (yi < h) & (xi >= 0) & (xi < w)
        acc += np.bincount(yi[ok] * w + xi[ok], weights=(mass * wgt)[ok], minlength=h * w)
    return acc.reshape(h, w).astype(np.float32)
