"""Findings of the phantom generator: specifications, the case mix, and their effect on the
projected anatomy.

A finding acts on the path-length maps of ``anatomy_model.Build`` through an ``Effect``:

- ``fill``: fraction of the aerated lung replaced by fluid or tissue (consolidation, effusion,
  edema, lobar collapse); ``water``: water-equivalent cm added (nodule, mass, plate atelectasis,
  pleural line, Kerley lines); ``air``: cm of extra air (pneumothorax: the lung tissue is gone);
  ``keep``: multiplier on vessels and parenchymal texture (0 lateral to a pneumothorax's
  pleural line); ``metal``: cm of metal (devices).

Two findings change the anatomy itself before it is built: cardiomegaly (the heart's size) and
lobar atelectasis (volume loss lifts the hemidiaphragm); see ``anatomy_overrides``.

Severity is in [0, 1] for every finding and always means "more of it": bigger, denser, or
both. What it controls, per finding, is in ``SEVERITY_MEANING``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from core.synth.anatomy_model import LUNG_AIR_FRACTION, Build, Patient, Thorax
from core.synth.render import Tube, blur, catmull_rom, render_tubes, resize, splat_segments
from core.vocabulary import FINDING_IDS

__all__ = [
    "DEFAULT_PREVALENCE",
    "SEVERITY_MEANING",
    "SYNTH_FINDINGS",
    "Effect",
    "FindingSpec",
    "anatomy_overrides",
    "apply_finding",
    "resolve_specs",
    "sample_findings",
]

F32 = np.float32

# findings the generator can draw (vocabulary ids)
SYNTH_FINDINGS: tuple[str, ...] = (
    "cardiomegaly",
    "pleural_effusion",
    "consolidation",
    "lung_opacity",
    "nodule",
    "mass",
    "pneumothorax",
    "atelectasis",
    "edema",
    "support_devices",
)
assert set(SYNTH_FINDINGS) <= set(FINDING_IDS)

SEVERITY_MEANING: dict[str, str] = {
    "cardiomegaly": "PA-equivalent cardiothoracic ratio 0.52 + 0.20 * severity (AP magnifies more)",
    "pleural_effusion": "fluid height above the costophrenic angle 0.02 + 0.22 * severity "
    "(image widths): blunted angle when small, meniscus up to mid-lung when large",
    "consolidation": "extent (radius 0.03 + 0.08 * severity) and density (0.3 + 0.6 * severity)",
    "lung_opacity": "extent (radius 0.04 + 0.09 * severity) and density (0.06 + 0.3 * severity)",
    "nodule": "diameter 6 + 22 * severity mm and density (0.55 + 0.6 * severity)",
    "mass": "diameter 32 + 50 * severity mm, lobulated",
    "pneumothorax": "rim of pleural air at the apex 0.008 + 0.07 * severity (image widths), "
    "tapering to the base",
    "atelectasis": "plate-like band below severity 0.45 (longer, thicker with severity); "
    "lobar lower-lobe collapse with diaphragm elevation above",
    "edema": "perihilar haze density 0.5 * severity, Kerley B lines above severity 0.35",
    "support_devices": "number of devices (1 to 4) / 4",
}

# Default case mix, see ``sample_findings``: probability that an *abnormal* case carries each
# finding (normalised when drawing), and the support-device rate per view.
DEFAULT_PREVALENCE: dict[str, float] = {
    "cardiomegaly": 0.14,
    "pleural_effusion": 0.16,
    "consolidation": 0.10,
    "lung_opacity": 0.09,
    "nodule": 0.10,
    "mass": 0.06,
    "pneumothorax": 0.07,
    "atelectasis": 0.12,
    "edema": 0.06,
}
NORMAL_FRACTION = 0.30
DEVICE_RATE = {"PA": 0.12, "AP": 0.55}
_SIDED = {
    "pleural_effusion",
    "consolidation",
    "lung_opacity",
    "nodule",
    "mass",
    "pneumothorax",
    "atelectasis",
}
_ZONED = {"consolidation", "lung_opacity", "nodule", "mass", "atelectasis"}


@dataclass(frozen=True)
class FindingSpec:
    """A finding to put in a phantom; fields left None are drawn from the finding's own rng.

    ``side`` is the patient's "right", "left" or "bilateral" (effusion and edema only);
    ``zone`` "upper", "middle" or "lower" for lung lesions.
    """

    id: str
    severity: float | None = None
    side: str | None = None
    zone: str | None = None

    def __post_init__(self) -> None:
        if self.id not in SYNTH_FINDINGS:
            raise ValueError(
                f"finding {self.id!r} cannot be synthesised; choose from {', '.join(SYNTH_FINDINGS)}"
            )
        if self.severity is not None and not 0.0 <= self.severity <= 1.0:
            raise ValueError(f"{self.id}: severity must be in [0, 1], got {self.severity}")
        if self.side not in (None, "right", "left", "bilateral"):
            raise ValueError(
                f"{self.id}: side must be 'right', 'left' or 'bilateral', got {self.side!r}"
            )
        if self.side == "bilateral" and self.id not in ("pleural_effusion", "edema"):
            raise ValueError(f"{self.id}: only pleural_effusion and edema can be bilateral")
        if self.zone not in (None, "upper", "middle", "lower"):
            raise ValueError(
                f"{self.id}: zone must be 'upper', 'middle' or 'lower', got {self.zone!r}"
            )


def finding_rng(seed: int, finding_id: str) -> np.random.Generator:
    """The finding's own generator: the same seed and finding give the same draws whatever
    else is in the case (so a severity sweep keeps the lesion where it is)."""
    return np.random.default_rng(
        np.random.SeedSequence([int(seed), 7919, SYNTH_FINDINGS.index(finding_id)])
    )


def sample_findings(
    rng: np.random.Generator,
    prevalence: Mapping[str, float] | None = None,
    *,
    view: str = "PA",
    normal_fraction: float = NORMAL_FRACTION,
) -> list[FindingSpec]:
    """Draw a case mix for a corpus.

    ``normal_fraction`` (default 30 %) of cases have no pathology; the others carry 1 finding
    (55 %), 2 (30 %) or 3 (15 %), drawn without replacement with weights ``prevalence``
    (default ``DEFAULT_PREVALENCE``). Edema brings cardiomegaly along half the time (the
    congestive picture). Severities are spread over [0.05, 1] (Beta(1.3, 1.3)). Support devices
    are drawn independently of pathology (12 % of PA, 55 % of AP films) so normal cases can
    carry them. Side and zone are left to ``resolve_specs``.
    """
    prev = dict(DEFAULT_PREVALENCE if prevalence is None else prevalence)
    unknown = set(prev) - set(SYNTH_FINDINGS)
    if unknown:
        raise ValueError(f"unknown findings in prevalence: {sorted(unknown)}")
    ids = [k for k, v in prev.items() if v > 0 and k != "support_devices"]
    specs: list[FindingSpec] = []
    if rng.random() >= normal_fraction and ids:
        n = int(rng.choice([1, 2, 3], p=[0.55, 0.3, 0.15]))
        w = np.array([prev[k] for k in ids], float)
        chosen = list(rng.choice(ids, size=min(n, len(ids)), replace=False, p=w / w.sum()))
        if "edema" in chosen and "cardiomegaly" not in chosen and rng.random() < 0.5:
            chosen.append("cardiomegaly")
        for fid in chosen:
            sev = 0.05 + 0.95 * float(rng.beta(1.3, 1.3))
            specs.append(FindingSpec(str(fid), severity=round(sev, 3)))
    rate = DEVICE_RATE.get(view, 0.2)
    if prevalence is not None and "support_devices" in prevalence:
        rate = prevalence["support_devices"]
    if rng.random() < rate:
        specs.append(FindingSpec("support_devices"))
    return specs


def resolve_specs(specs: Sequence[FindingSpec], seed: int) -> list[FindingSpec]:
    """Fill in each spec's missing severity, side and zone from its own rng."""
    out, seen = [], set()
    for sp in specs:
        if sp.id in seen:
            raise ValueError(f"finding {sp.id!r} listed twice")
        seen.add(sp.id)
        rng = finding_rng(seed, sp.id)
        sev_draw = 0.05 + 0.95 * float(rng.beta(1.3, 1.3))
        side_draw = "right" if rng.random() < 0.5 else "left"
        bilateral = rng.random() < 0.3
        zone_draw = str(rng.choice(["upper", "middle", "lower"], p=[0.3, 0.3, 0.4]))
        sev = sp.severity if sp.severity is not None else sev_draw
        if sp.id == "support_devices" and sp.severity is None:
            sev = 0.0  # decided by the devices drawn
        side = sp.side
        if side is None:
            if sp.id == "edema":
                side = "bilateral"
            elif sp.id == "pleural_effusion":
                side = "bilateral" if bilateral else side_draw
            elif sp.id in _SIDED:
                side = side_draw
        zone = sp.zone if sp.zone is not None else (zone_draw if sp.id in _ZONED else None)
        if sp.id == "atelectasis" and sp.zone is None:
            zone = "lower" if zone_draw != "upper" else "middle"
        out.append(replace(sp, severity=float(sev), side=side, zone=zone))
    return out


def anatomy_overrides(specs: Sequence[FindingSpec], p: Patient) -> dict[str, object]:
    """Anatomy changes a finding makes before the anatomy is built."""
    heart_scale = p.heart_scale
    dome_raise: dict[str, float] = {}
    for sp in specs:
        if sp.id == "cardiomegaly":
            target = 0.52 + 0.2 * float(sp.severity)
            heart_scale = target / _ctr_per_unit_heart(p)
        if sp.id == "atelectasis" and float(sp.severity) >= 0.45 and sp.side in ("right", "left"):
            dome_raise[sp.side] = 0.012 + 0.05 * (float(sp.severity) - 0.45)
    return {"heart_scale": heart_scale, "dome_raise": dome_raise}


def _ctr_per_unit_heart(p: Patient) -> float:
    """CTR of this patient's thorax with a reference heart (scale 1), without magnification."""
    th = Thorax(replace(p, magnification=1.0), 1.0, {})
    _, _, a, b, t = th.heart_ellipse()
    width = 2 * math.sqrt((a * math.cos(t)) ** 2 + (b * math.sin(t)) ** 2)
    return width / (2 * th.wmax)


@dataclass
class Effect:
    """What a finding does to the projected anatomy (full-grid float32 maps or None)."""

    mask: np.ndarray
    fill: np.ndarray | None = None
    water: np.ndarray | None = None
    air: np.ndarray | None = None
    keep: np.ndarray | None = None
    metal: np.ndarray | None = None
    side: str = ""
    location: str = ""  # set from the mask when empty
    details: dict[str, float | str] = field(default_factory=dict)


def apply_finding(b: Build, sp: FindingSpec, seed: int) -> Effect:
    """The effect of one resolved finding on the anatomy ``b``."""
    rng = finding_rng(seed, sp.id)
    for _ in range(4):  # skip the draws resolve_specs made, so the two stay independent
        rng.random()
    fn = _EFFECTS[sp.id]
    return fn(b, sp, rng)


# ---- helpers --------------------------------------------------------------------------------


def _side_sign(side: str) -> float:
    return -1.0 if side == "right" else 1.0


def _lung_point(
    b: Build, side: str, zone: str | None, rng: np.random.Generator, margin: float
) -> tuple[float, float]:
    """A random point of the side's lung field, in the zone (thirds of the lung's height),
    at least ``margin`` (field units) inside the lung."""
    mask = b.masks[f"{side}_lung"]
    rows = np.nonzero(mask.any(axis=1))[0]
    if rows.size == 0:
        raise ValueError(f"phantom has no {side} lung to place a finding in")
    y0, y1 = rows[0], rows[-1] + 1
    thirds = {"upper": (0.0, 1 / 3), "middle": (1 / 3, 2 / 3), "lower": (2 / 3, 1.0)}
    lo, hi = thirds[zone or "middle"]
    band = np.zeros_like(mask)
    r0 = int(y0 + lo * (y1 - y0))
    r1 = int(y0 + hi * (y1 - y0))
    band[r0:r1] = mask[r0:r1]
    # keep away from the lung edges: erode by the margin using the chest-wall distance and a
    # horizontal distance to the medial border
    g = b.grid
    margin_px = max(1, int(margin * g.px))
    inner = band.copy()
    inner[:, margin_px:] &= band[:, :-margin_px]
    inner[:, :-margin_px] &= band[:, margin_px:]
    inner[margin_px:, :] &= band[:-margin_px, :]
    inner[:-margin_px, :] &= band[margin_px:, :]
    cand = inner if inner.any() else band
    ii, jj = np.nonzero(cand)
    k = int(rng.integers(0, ii.size))
    return float(g.xs[jj[k]]), float(g.ys[ii[k]])


def _radial(b: Build, cx: float, cy: float, r: float):
    """Window around a point: (slices, dx, dy) in field units, or None."""
    return b.grid.window(cx - r, cx + r, cy - r, cy + r)


def _empty(b: Build) -> np.ndarray:
    return np.zeros(b.grid.shape, F32)


def _lobulated_radius(rng: np.random.Generator, amp: float) -> tuple[np.ndarray, np.ndarray]:
    k = np.arange(2, 6)
    coef = rng.normal(0, amp, k.size) / k
    phase = rng.uniform(0, 2 * np.pi, k.size)
    return coef, phase


def _blob(
    b: Build, rng: np.random.Generator, cx: float, cy: float, r: float, rough: float
) -> np.ndarray:
    """A smooth, irregular, patchy blob (0..1) of radius ~r around (cx, cy), full grid.

    The outline is a noisy level set of the distance to the centre; the inside is modulated
    by finer noise (airspace disease is patchy), and the margin is ill-defined.
    """
    out = _empty(b)
    shape_noise = rng.standard_normal((7, 7)).astype(F32)
    patch_noise = rng.standard_normal((15, 15)).astype(F32)
    win = _radial(b, cx, cy, 2.0 * r)
    if win is None:
        return out
    sl, X, Y = win
    hw = (sl[0].stop - sl[0].start, sl[1].stop - sl[1].start)
    q = np.sqrt(((X - cx) / r) ** 2 + ((Y - cy) / r) ** 2) + rough * 0.22 * resize(shape_noise, hw)
    edge = np.clip((1.2 - q) / 0.45, 0, 1)
    patch = np.clip(0.8 + 0.3 * resize(patch_noise, hw), 0.3, 1.0)
    out[sl] = (edge * edge * (3 - 2 * edge) * patch).astype(F32)
    return out


# ---- the findings ---------------------------------------------------------------------------


def _cardiomegaly(b: Build, sp: FindingSpec, rng: np.random.Generator) -> Effect:
    # the heart was enlarged when the anatomy was built (anatomy_overrides)
    return Effect(mask=b.masks["heart"].copy(), side="midline", location="cardiac_silhouette")


def _effusion(b: Build, sp: FindingSpec, rng: np.random.Generator) -> Effect:
    th = b.thorax
    s = th.s
    sev = float(sp.severity)
    g = b.grid
    fill = _empty(b)
    mask = np.zeros(g.shape, bool)
    sides = ("right", "left") if sp.side == "bilateral" else (sp.side,)
    for k, side in enumerate(sides):
        sgn = _side_sign(side)
        sev_k = sev * (1.0 if k == 0 else float(rng.uniform(0.5, 1.0)))
        h = (0.02 + 0.22 * sev_k) * s
        base = th.cp[side]
        x0, x1 = (th.cx - th.wmax - 0.02, th.cx) if sgn < 0 else (th.cx, th.cx + th.wmax + 0.02)
        win = g.window(x0, x1, base - h - 0.1, th.cp_low + 0.1)
        if win is None:
            continue
        sl, X, Y = win
        d = sgn * (X - th.cx)
        lat = np.clip((d - 0.05 * s) / (th.wmax - 0.05 * s), 0, 1)
        # meniscus: the fluid climbs the lateral chest wall (concave upper surface)
        surf = base - h * (0.45 + 0.55 * lat**1.6)
        grad = 0.02 * s + 0.12 * h
        f = np.clip((Y - surf) / grad, 0, 1) ** 0.8
        med = th.mediastinal(Y[:, 0], side)[:, None]
        f = f * (d > med) * (b.lung_air_cm[sl] > 0.05)  # the hemithorax, not the mediastinum
        fill[sl] = np.maximum(fill[sl], f.astype(F32))
        # the opacified lung field, plus the costophrenic recess it fills below the dome line
        recess = (Y >= b.diaphragm[None, sl[1]]) & (Y <= th.cp[side]) & (d > 0.35 * th.wmax)
        mask[sl] |= (f > 0.3) & (b.masks[f"{side}_lung"][sl] | recess)
    side = sp.side
    loc = f"{side}_costophrenic_angle" if side != "bilateral" else "costophrenic_angles"
    return Effect(
        mask=mask,
        fill=fill,
        side=side,
        location=loc,
        details={"height": round(0.02 + 0.22 * sev, 4)},
    )


def _opacity(b: Build, sp: FindingSpec, rng: np.random.Generator, dense: bool) -> Effect:
    th = b.thorax
    s = th.s
    sev = float(sp.severity)
    side, zone = sp.side, sp.zone
    r = ((0.03 + 0.08 * sev) if dense else (0.04 + 0.09 * sev)) * s
    cx, cy = _lung_point(b, side, zone, rng, margin=0.03 * s)
    density = (0.3 + 0.6 * sev) if dense else (0.06 + 0.3 * sev)
    fiss = th.hilum_y + float(rng.uniform(-0.01, 0.01))  # minor fissure (right lung)
    fissure = side == "right" and zone in ("upper", "middle")
    if fissure:  # keep the centre in its lobe
        cy = min(cy, fiss - 0.01 * s) if zone == "upper" else max(cy, fiss + 0.01 * s)
    blob = _blob(b, rng, cx, cy, r, rough=1.0)
    lung_field = (b.lung_air_cm > 0.05).astype(F32)
    # right lung: the minor fissure bounds upper-lobe and middle-lobe disease sharply
    if fissure:
        Y = b.grid.ys[:, None]
        blob = blob * ((Y < fiss) if zone == "upper" else (Y > fiss))
    fill = (density * blob * lung_field).astype(F32)
    details: dict[str, float | str] = {"radius": round(r, 4), "density": round(density, 3)}
    if dense:
        # air bronchograms: branching airways stay aerated inside the consolidation
        g = b.grid
        hx, hy = b.landmarks[f"{side}_hilum"]
        ang0 = math.atan2(cy - hy, cx - hx)
        segs_a, segs_b, widths = [], [], []
        for _ in range(3):
            ang = ang0 + float(rng.uniform(-0.5, 0.5))
            p = np.array([cx - math.cos(ang) * r, cy - math.sin(ang) * r])
            wdt = 0.0035 * s
            for _ in range(5):
                q = p + np.array([math.cos(ang), math.sin(ang)]) * r * 0.35
                segs_a.append(p)
                segs_b.append(q)
                widths.append(wdt)
                ang += float(rng.normal(0, 0.35))
                wdt *= 0.85
                p = q
        a_px = g.to_px(np.array(segs_a))
        b_px = g.to_px(np.array(segs_b))
        w_px = np.array(widths) * g.px
        canvas = splat_segments(g.shape, a_px, b_px, w_px)
        br = np.clip(blur(canvas, 1.2 * g.px / 512) * 1.2, 0, 1)
        fill = fill * (1.0 - 0.6 * br * (sev > 0.2))
        details["air_bronchograms"] = "yes" if sev > 0.2 else "no"
    # the blob's extent (a quarter of its peak density), whatever the density
    mask = (fill > 0.25 * density) & (
        (b.masks["right_lung"] | b.masks["left_lung"]) | (b.lung_air_cm > 0.5)
    )
    return Effect(mask=mask, fill=fill.astype(F32), side=side, details=details)


def _consolidation(b: Build, sp: FindingSpec, rng: np.random.Generator) -> Effect:
    return _opacity(b, sp, rng, dense=True)


def _lung_opacity(b: Build, sp: FindingSpec, rng: np.random.Generator) -> Effect:
    return _opacity(b, sp, rng, dense=False)


def _round_lesion(b: Build, sp: FindingSpec, rng: np.random.Generator, mass: bool) -> Effect:
    th = b.thorax
    sev = float(sp.severity)
    mm = th.p.mm_per_unit
    diameter_mm = (32 + 50 * sev) if mass else (6 + 22 * sev)
    r = diameter_mm / 2 / mm
    amp = 0.12 if mass else 0.05
    coef, phase = _lobulated_radius(rng, amp)
    # the place does not depend on the severity: margin of the largest lesion of the kind
    # (a large mass may reach the mediastinum, as hilar masses do)
    margin = 0.05 if mass else (28 / 2 / mm + 0.01)
    cx, cy = _lung_point(b, sp.side, sp.zone, rng, margin=margin)
    solidity = 1.0 if mass else 0.55 + 0.6 * sev
    water = _empty(b)
    mask = np.zeros(b.grid.shape, bool)
    win = _radial(b, cx, cy, r * 1.5)
    if win is not None:
        sl, X, Y = win
        ang = np.arctan2(Y - cy, X - cx)
        k = np.arange(2, 6)[:, None, None]
        rr = r * (1.0 + (coef[:, None, None] * np.cos(k * ang[None] + phase[:, None, None])).sum(0))
        q2 = (X - cx) ** 2 + (Y - cy) ** 2
        chord_cm = 2 * np.sqrt(np.clip(rr * rr - q2, 0, None)) * mm / 10.0
        water[sl] = (solidity * chord_cm).astype(F32)  # tissue replacing aerated lung
        mask[sl] = q2 < rr * rr
    return Effect(
        mask=mask,
        water=water,
        side=sp.side,
        details={
            "diameter_mm": round(diameter_mm, 1),
            "solidity": round(solidity, 3),
            "x": round(cx, 4),
            "y": round(cy, 4),
        },
    )


def _nodule(b: Build, sp: FindingSpec, rng: np.random.Generator) -> Effect:
    return _round_lesion(b, sp, rng, mass=False)


def _mass(b: Build, sp: FindingSpec, rng: np.random.Generator) -> Effect:
    return _round_lesion(b, sp, rng, mass=True)


def _pneumothorax(b: Build, sp: FindingSpec, rng: np.random.Generator) -> Effect:
    th = b.thorax
    s = th.s
    sev = float(sp.severity)
    side = sp.side
    g = b.grid
    rim = (0.008 + 0.07 * sev) * s
    Y = g.ys[:, None]
    t = np.clip((Y - th.apex) / (th.dome[side] - th.apex), 0, 1)
    width = rim * np.clip(1.0 - 1.05 * t, 0, 1) ** 0.8  # air collects at the apex (upright)
    field_ = b.masks[f"{side}_lung"]
    wd = b.wall_dist
    region = field_ & (wd < width) & (wd >= 0)
    keep = np.where(region, 0.0, 1.0).astype(F32)
    air = np.where(region, (1.0 - LUNG_AIR_FRACTION) * b.lung_air_cm, 0.0).astype(F32)
    # visceral pleural line: a thin membrane seen tangentially, just inside the air rim
    line_w = 0.7 / g.px
    line = np.exp(-(((wd - width - line_w) / line_w) ** 2)) * field_ * (width > 1.5 / g.px)
    water = (0.5 * line).astype(F32)
    # the collapsing lung is slightly denser
    fill = np.where(field_ & ~region, 0.08 * sev, 0.0).astype(F32)
    return Effect(
        mask=region,
        water=water,
        air=air,
        keep=keep,
        fill=fill,
        side=side,
        location=f"{side}_upper_zone",
        details={"apical_rim": round(rim, 4)},
    )


def _atelectasis(b: Build, sp: FindingSpec, rng: np.random.Generator) -> Effect:
    th = b.thorax
    s = th.s
    sev = float(sp.severity)
    side = sp.side
    sgn = _side_sign(side)
    g = b.grid
    if sev < 0.45:
        # plate-like (discoid) atelectasis: a thin, nearly horizontal band seen edge-on
        cx, cy = _lung_point(b, side, sp.zone, rng, margin=0.04 * s)
        length = (0.05 + 0.12 * sev) * s
        half_t = (1.2 + 3.0 * sev) / th.p.mm_per_unit  # 2.4-5 mm thick
        tilt = float(rng.uniform(-0.25, 0.25))
        water = _empty(b)
        mask = np.zeros(g.shape, bool)
        win = g.window(cx - length, cx + length, cy - length, cy + length)
        if win is not None:
            sl, X, Y = win
            c, sn = math.cos(tilt), math.sin(tilt)
            u = (X - cx) * c + (Y - cy) * sn
            v = -(X - cx) * sn + (Y - cy) * c
            along = np.clip(1 - (u / (0.5 * length)) ** 2, 0, None)
            across = np.sqrt(np.clip(1 - (v / half_t) ** 2, 0, None))
            depth_cm = 3.0 + 3.0 * sev
            w = LUNG_AIR_FRACTION * depth_cm * across * np.sqrt(along)
            w = w * (b.lung_air_cm[sl] > 0.5)
            water[sl] = w.astype(F32)
            mask[sl] = (np.abs(v) < half_t + 0.8 / g.px) & (along > 0) & (b.lung_air_cm[sl] > 0.5)
        return Effect(
            mask=mask, water=water, side=side, details={"kind": "plate", "length": round(length, 4)}
        )
    # lobar collapse of the lower lobe: a triangle against the spine and the diaphragm
    frac = (sev - 0.45) / 0.55
    dome = th.dome[side]
    apex_y = th.hilum_y + 0.02 * s
    med_x = th.cx + sgn * 0.035 * s
    lat_x = th.cx + sgn * (0.1 + 0.14 * frac) * s
    tri = np.array([[med_x, apex_y], [med_x, dome + 0.03 * s], [lat_x, dome + 0.02 * s]])
    Y = g.ys[:, None]
    X = g.xs[None, :]
    inside = np.ones(g.shape, bool)
    cen = tri.mean(0)
    for i in range(3):
        a0, a1 = tri[i], tri[(i + 1) % 3]
        nx, ny = a1[1] - a0[1], -(a1[0] - a0[0])
        sg = np.sign((cen[0] - a0[0]) * nx + (cen[1] - a0[1]) * ny)
        inside &= ((X - a0[0]) * nx + (Y - a0[1]) * ny) * sg > 0
    soft = blur(inside.astype(F32), 1.0 * g.px / 512)
    fill = ((0.6 + 0.35 * frac) * soft * (b.lung_air_cm > 0.05)).astype(F32)
    return Effect(
        mask=(fill > 0.3) & (b.lung_air_cm > 3.0),  # where there was aerated lung to lose
        fill=fill,
        side=side,
        location=f"{side}_lower_zone",
        details={"kind": "lobar", "diaphragm_elevation": round(0.012 + 0.05 * (sev - 0.45), 4)},
    )


def _edema(b: Build, sp: FindingSpec, rng: np.random.Generator) -> Effect:
    th = b.thorax
    s = th.s
    sev = float(sp.severity)
    g = b.grid
    Y = g.ys[:, None]
    X = g.xs[None, :]
    lung = b.lung_air_cm > 0.05
    haze = np.zeros(g.shape, F32)
    for side in ("right", "left"):
        hx, hy = b.landmarks[f"{side}_hilum"]
        d2 = ((X - hx) / (0.16 * s)) ** 2 + ((Y - hy - 0.03 * s) / (0.2 * s)) ** 2
        haze = np.maximum(haze, np.exp(-d2).astype(F32))
    lower = np.clip((Y - th.apex) / (max(th.dome.values()) - th.apex), 0, 1)
    mottle = 1.0 + 0.25 * resize(rng.standard_normal((24, 24)).astype(F32), g.shape)
    pattern = (0.75 * haze + 0.35 * lower) * mottle * lung
    fill = 0.5 * sev * pattern
    fill = np.clip(fill, 0, 0.9).astype(F32)
    water = _empty(b)
    n_lines = 0
    if sev > 0.35:
        # Kerley B lines: short horizontal lines at the lateral lung bases, up to the pleura
        n_lines = int(4 + 10 * (sev - 0.35))
        for side in ("right", "left"):
            sgn = _side_sign(side)
            for _ in range(n_lines):
                ly = th.dome[side] - float(rng.uniform(0.0, 0.12)) * s
                w = float(th.wall(ly))
                length = float(rng.uniform(0.012, 0.025)) * s
                x_out = th.cx + sgn * (w - 0.002)
                x_in = x_out - sgn * length
                win = g.window(min(x_in, x_out), max(x_in, x_out), ly - 0.004, ly + 0.004)
                if win is None:
                    continue
                sl, Xw, Yw = win
                prof = np.exp(-(((Yw - ly) * g.px / 0.7) ** 2))
                water[sl] += (0.6 * prof * lung[sl]).astype(F32)
    # extent of the haze pattern (independent of how dense it is)
    mask = (pattern > 0.3) & (b.masks["right_lung"] | b.masks["left_lung"])
    return Effect(
        mask=mask,
        fill=fill,
        water=water,
        side="bilateral",
        location="hila",
        details={"kerley_lines": n_lines},
    )


def _devices(b: Build, sp: FindingSpec, rng: np.random.Generator) -> Effect:
    th = b.thorax
    s = th.s
    g = b.grid
    p = th.p
    cm_px = p.mm_per_unit / g.px / 10.0
    ap = p.view == "AP"
    draws = rng.random(5)
    have = {
        "et_tube": draws[0] < (0.5 if ap else 0.08),
        "central_line": draws[1] < (0.5 if ap else 0.3),
        "ecg_leads": draws[2] < (0.6 if ap else 0.25),
        "pacemaker": draws[3] < 0.25,
        "ng_tube": draws[4] < (0.3 if ap else 0.05),
    }
    if not any(have.values()):
        have[
            ["et_tube", "central_line", "ecg_leads", "pacemaker", "ng_tube"][
                int(rng.integers(0, 5))
            ]
        ] = True
    metal_tubes: list[Tube] = []
    plastic_tubes: list[Tube] = []
    carina = np.array(b.landmarks["carina"])
    cxt = float(b.airways["trachea"][1, 0])
    if have["et_tube"]:
        tip = carina - [0.0, float(rng.uniform(0.06, 0.14)) * s]
        pts = np.array([[cxt + 0.012, -0.03], [cxt + 0.004, th.apex - 0.04], [cxt, tip[1]]])
        c = catmull_rom(g.to_px(pts), 0.6)
        plastic_tubes.append(
            Tube(c, 0.011 * s * g.px, cortex_px=0.0022 * s * g.px, core=0.0, weight=cm_px)
        )
        stripe = c + [0.008 * s * g.px, 0.0]
        metal_tubes.append(Tube(stripe, 0.0016 * s * g.px, weight=0.8 * cm_px))
    if have["ng_tube"]:
        gx = th.cx + 0.13 * s
        gy = float(th.dome_line(gx)) + 0.06 * s
        pts = np.array(
            [
                [th.cx + 0.01, -0.03],
                [th.cx + 0.012, th.y_carina],
                [th.cx + 0.03, th.dome["left"] - 0.02],
                [gx, gy],
            ]
        )
        metal_tubes.append(
            Tube(catmull_rom(g.to_px(pts), 0.6), 0.0025 * s * g.px, weight=0.5 * cm_px)
        )
    if have["central_line"]:
        svc = np.array([th.cx - 0.035 * s, th.hilum_y + 0.02 * s])
        if rng.random() < 0.6:  # right internal jugular
            pts = np.array(
                [
                    [th.cx - 0.07 * s, -0.02],
                    [th.cx - 0.06 * s, th.apex],
                    [th.cx - 0.045 * s, th.y_knob],
                    svc,
                ]
            )
        else:  # left subclavian, crossing the mediastinum
            pts = np.array(
                [
                    [th.cx + 0.32 * s, th.apex + 0.04 * s],
                    [th.cx + 0.12 * s, th.apex + 0.075 * s],
                    [th.cx - 0.02 * s, th.y_knob - 0.01],
                    [th.cx - 0.04 * s, th.y_knob + 0.03 * s],
                    svc,
                ]
            )
        metal_tubes.append(
            Tube(catmull_rom(g.to_px(pts), 0.6), 0.002 * s * g.px, weight=0.7 * cm_px)
        )
    metal = _empty(b)
    if have["pacemaker"]:
        gx, gy = th.cx + 0.22 * s, th.apex + 0.11 * s
        rx, ry = 0.05 * s, 0.035 * s
        win = g.window(gx - rx, gx + rx, gy - ry, gy + ry)
        if win is not None:
            sl, X, Y = win
            qx, qy = np.abs(X - gx) / rx, np.abs(Y - gy) / ry
            box = np.clip(1 - (qx**4 + qy**4), 0, None) ** 0.25
            metal[sl] += (1.0 * box).astype(F32)
        ra = np.array([th.cx - 0.03 * s, th.hilum_y + 0.08 * s])
        rv = np.array([th.cx + 0.08 * s, th.dome["left"] - 0.04 * s])
        lead = np.array(
            [
                [gx - 0.03 * s, gy],
                [th.cx + 0.1 * s, th.apex + 0.07 * s],
                [th.cx - 0.03 * s, th.y_knob],
                [th.cx - 0.04 * s, th.hilum_y],
                ra,
                rv,
            ]
        )
        metal_tubes.append(
            Tube(catmull_rom(g.to_px(lead), 0.6), 0.0025 * s * g.px, weight=1.5 * cm_px)
        )
    if have["ecg_leads"]:
        n = int(rng.integers(3, 6))
        for _ in range(n):
            ex = th.cx + float(rng.uniform(-0.4, 0.4)) * s
            ey = th.apex + float(rng.uniform(-0.05, 0.5)) * s
            win = g.window(ex - 0.014, ex + 0.014, ey - 0.014, ey + 0.014)
            if win is not None:
                sl, X, Y = win
                q = np.sqrt((X - ex) ** 2 + (Y - ey) ** 2)
                snap = np.clip(1 - (q / 0.0045) ** 2, 0, None) ** 0.5
                ring = np.exp(-(((q - 0.011) * g.px / 0.8) ** 2))
                metal[sl] += (0.5 * snap + 0.15 * ring).astype(F32)
            # the wire wanders off towards the nearest top corner
            tx = 0.0 if ex < th.cx else 1.0
            pts = np.array(
                [
                    [ex, ey],
                    [ex + (tx - ex) * 0.3 + float(rng.normal(0, 0.03)), ey - 0.08],
                    [tx + (0.5 - tx) * 0.1, float(rng.uniform(-0.05, 0.2))],
                ]
            )
            metal_tubes.append(
                Tube(catmull_rom(g.to_px(pts), 0.6), 0.0015 * s * g.px, weight=1.0 * cm_px)
            )
    mt, _ = render_tubes(g.shape, metal_tubes)
    metal += mt
    water = _empty(b)
    if plastic_tubes:
        pt, _ = render_tubes(g.shape, plastic_tubes)
        water += pt
    mask = (metal > 0.03) | (water > 0.1)
    names = [k for k, v in have.items() if v]
    sev = min(1.0, len(names) / 4.0)
    return Effect(
        mask=mask,
        metal=metal,
        water=water,
        side="",
        location="devices",
        details={"devices": ",".join(names), "count": len(names), "severity_from_count": sev},
    )


_EFFECTS = {
    "cardiomegaly": _cardiomegaly,
    "pleural_effusion": _effusion,
    "consolidation": _consolidation,
    "lung_opacity": _lung_opacity,
    "nodule": _nodule,
    "mass": _mass,
    "pneumothorax": _pneumothorax,
    "atelectasis": _atelectasis,
    "edema": _edema,
    "support_devices": _devices,
}
