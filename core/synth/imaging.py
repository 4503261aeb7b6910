"""Image formation: path lengths -> line integral -> detector -> display processing.

A deliberately small physical chain, enough to give the phantoms the look of a processed
digital radiograph:

1. line integral ``L = mu_w * water + mu_b * bone + mu_m * metal`` (cm path lengths, effective
   attenuation coefficients of a ~70-120 kVp chest beam);
2. primary transmission ``exp(-L)`` plus scatter (a wide blur of where photons interact,
   ``primary * L``, scaled by a factor: the anti-scatter grid leaves some, bedside AP films
   more);
3. detector unsharpness, quantum noise (Poisson-like, from the detected quanta per pixel, so
   dense regions are noisier), optional grid lines;
4. log conversion and the processing a CR/DR console applies: percentile windowing, dynamic
   range compression (subtracting part of a very blurred copy), edge enhancement (unsharp
   mask) and a tone curve, to display values in [0, 1] (air dark, bone bright).

``display_gain`` returns the local slope d(display)/d(L) of this chain, which the findings
use to express a lesion's attenuation as a displayed contrast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.synth.render import blur

__all__ = ["MU_BONE", "MU_METAL", "MU_WATER", "Acquisition", "acquire"]

MU_WATER = 0.20  # 1/cm, soft tissue / water
MU_BONE = 0.45  # 1/cm, bone in excess of the soft tissue it displaces
MU_METAL = 2.0  # 1/cm, metal (electrodes, wires, generators)


@dataclass(frozen=True)
class Acquisition:
    """Display image plus what the conspicuity estimate needs."""

    image: np.ndarray  # (H, W) float32 display values in [0, 1]
    gain: np.ndarray  # (H, W) float32 d(display)/d(L): contrast per unit of line integral
    noise_sd: np.ndarray  # (H, W) float32 quantum noise SD in display units (per pixel)


def acquire(
    L: np.ndarray,
    body: np.ndarray,
    rng: np.random.Generator,
    *,
    photons: float,
    scatter: float,
    compression: float,
    enhancement: float,
    gamma: float,
    grid_lines: bool,
    background: float = 0.0,
    unsharp_px: float = 0.7,
) -> Acquisition:
    """Simulate exposure, detection and display processing of a line-integral map ``L``."""
    h, w = L.shape
    size = float(min(h, w))
    primary = np.exp(-L, dtype=np.float32)
    # scatter is born where photons interact (~ primary x attenuation), not in open air
    scat = np.float32(0.8 * scatter) * blur(primary * L, 0.07 * size)
    total = primary + scat
    if unsharp_px > 0:
        total = blur(total, unsharp_px * size / 512.0)
    counts = total * np.float32(photons)
    z = rng.standard_normal(L.shape, dtype=np.float32)
    noisy = counts + np.sqrt(np.maximum(counts, 1.0)) * z
    if grid_lines:
        period = rng.uniform(2.1, 3.3)
        phase = rng.uniform(0, 2 * np.pi)
        cols = np.cos(2 * np.pi * np.arange(w) / period + phase).astype(np.float32)
        noisy *= 1.0 + np.float32(rng.uniform(0.006, 0.02)) * cols[None, :]
    noisy = np.maximum(noisy, 0.5)
    D = -np.log(noisy / np.float32(photons))

    sample = D[::3, ::3][body[::3, ::3]]
    if sample.size < 16:
        sample = D[::3, ::3].ravel()
    lo, hi = np.percentile(sample, [0.5, 99.7])
    hi = max(hi, lo + 1e-3)
    scale = np.float32(1.0 / (hi - lo))
    v = (D - np.float32(lo)) * scale
    vc = np.clip(v, 0.0, 1.0)
    base = blur(vc, 0.09 * size)
    ref = float(base[body].mean()) if body.any() else 0.5
    v = v - np.float32(compression) * (base - np.float32(ref))
    # edge enhancement, weaker in dense (bright) regions as consoles do to spare noise
    dense = np.clip(base, 0.0, 1.0)
    v = v + np.float32(enhancement) * (1.0 - 0.6 * dense) * (v - blur(v, 2.2 * size / 512.0))
    # re-window after compression so the body fills the display range
    sample = v[::3, ::3][body[::3, ::3]]
    if sample.size < 16:
        sample = v[::3, ::3].ravel()
    lo2, hi2 = np.percentile(sample, [0.7, 99.5])
    stretch = np.float32(1.0 / max(hi2 - lo2, 1e-3))
    u = np.clip((v - np.float32(lo2)) * stretch * np.float32(0.92) + np.float32(0.04), 0.0, 1.0)
    tone, tone_slope = _tone(u, gamma)
    out = np.float32(background) + np.float32(1.0 - background) * tone
    # slope of the chain: dD/dL = primary / total; window, compression (large scale: ignored for
    # lesion-sized detail), tone curve slope
    inside = (u > 0) & (u < 1)
    gain = (primary / np.maximum(total, 1e-12)) * scale * stretch * 0.92 * tone_slope * inside
    gain *= np.float32(1.0 - background)
    noise_sd = gain / np.sqrt(np.maximum(counts, 1.0)) * np.float32(1.0 + enhancement * 0.5)
    return Acquisition(
        image=out.astype(np.float32),
        gain=gain.astype(np.float32),
        noise_sd=noise_sd.astype(np.float32),
    )


_SHOULDER = 1.2  # strength of the tone curve's shoulder (compresses the bright end)


def _tone(u: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Tone curve on [0, 1] and its slope: a power-law toe (dark lungs) with a soft shoulder
    (dense areas), ``(1 - exp(-k u^gamma)) / (1 - exp(-k))``."""
    k = np.float32(_SHOULDER)
    uc = np.clip(u, 1e-3, 1.0)
    ug = np.exp(np.float32(gamma) * np.log(uc))
    e = np.exp(-k * ug)
    norm = np.float32(1.0 / (1.0 - np.exp(-_SHOULDER)))
    tone = (1.0 - e) * norm
    slope = k * np.float32(gamma) * ug / uc * e * norm
    return np.where(u <= 0, np.float32(0.0), tone), slope
