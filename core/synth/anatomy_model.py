"""The phantom's patient: sampled body parameters and the projected anatomy they produce.

Geometry lives in *field units*: x and y are measured in image widths from the top-left corner
(x right, y down), so a 512 x 512 image spans [0, 1] x [0, 1] and a circle stays a circle on any
grid. Sides are the patient's: the right lung is on the image's left (small x).

The anatomy is a set of 2-D *path-length maps* (cm along the beam) per material, which
``core.synth.phantom`` combines into a line integral of attenuation:

- ``soft_cm``: water-equivalent soft tissue of the body (chest wall, neck, arms, breasts);
- ``lung_air_cm``: depth of aerated lung along the beam (after the heart has displaced it),
  including the retrocardiac lung and the posterior recesses below the domes;
- ``lung_detail_cm``: water added by pulmonary vessels and parenchymal texture;
- ``airway_air_cm``: air in the trachea and main bronchi;
- ``bone_cm``: bone beyond the soft tissue it displaces (ribs, clavicles, scapulae, humeri,
  spine).

Shapes are analytic row/column boundary functions (cheap, sub-pixel, and exact for the
ground-truth masks); projected thicknesses use chord-length profiles (``2 sqrt(r^2 - d^2)``),
which is what makes borders tangent to the beam look sharp, as on a real film.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from core.synth.render import (
    Tube,
    blur,
    blur_sum,
    catmull_rom,
    render_tubes,
    resize,
    splat_segments,
)

__all__ = ["Build", "Grid", "Patient", "Thorax", "build_anatomy", "sample_patient"]

LUNG_AIR_FRACTION = 0.75  # aerated lung: ~25 % tissue and blood, 75 % air by volume
VESSEL_GAIN = 5.0  # one 2-D tree per lung stands in for all vessels stacked along the beam
F32 = np.float32


@dataclass(frozen=True)
class Grid:
    """Pixel grid of the phantom and its field-unit coordinates (pixel centres)."""

    height: int
    width: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def px(self) -> float:
        """Pixels per field unit."""
        return float(self.width)

    @property
    def y_offset_px(self) -> float:
        return (self.height - self.width) / 2.0

    @cached_property
    def xs(self) -> np.ndarray:
        return ((np.arange(self.width) + 0.5) / self.px).astype(F32)

    @cached_property
    def ys(self) -> np.ndarray:
        return ((np.arange(self.height) + 0.5 - self.y_offset_px) / self.px).astype(F32)

    def to_px(self, pts: np.ndarray) -> np.ndarray:
        """Field units (N, 2) -> pixel coordinates (N, 2), x then y."""
        p = np.asarray(pts, np.float64) * self.px
        p[:, 1] += self.y_offset_px
        return p

    def window(self, x0: float, x1: float, y0: float, y1: float):
        """``(slices, X, Y)`` for the pixels of a field-unit box, or None when it is empty.

        ``X`` is (1, w) and ``Y`` (h, 1), so expressions broadcast over the window.
        """
        j0 = max(0, int(math.floor(x0 * self.px)))
        j1 = min(self.width, int(math.ceil(x1 * self.px)) + 1)
        i0 = max(0, int(math.floor(y0 * self.px + self.y_offset_px)))
        i1 = min(self.height, int(math.ceil(y1 * self.px + self.y_offset_px)) + 1)
        if j1 <= j0 or i1 <= i0:
            return None
        return (slice(i0, i1), slice(j0, j1)), self.xs[None, j0:j1], self.ys[i0:i1, None]


@dataclass(frozen=True)
class Patient:
    """One sampled patient and acquisition (geometry in field units)."""

    view: str  # "PA" or "AP"
    sex: str  # "F" or "M"
    field_mm: float  # physical width of the image field
    body_scale: float  # thorax size relative to the reference adult in this field
    breadth: float  # habitus: lateral breadth factor
    depth_cm: float  # AP chest thickness
    fat: float  # subcutaneous soft tissue outside the ribs (field units)
    cx: float  # body midline (positioning shift)
    dy: float  # vertical positioning shift
    tilt_deg: float  # in-plane rotation of the whole patient
    axial_rot: float  # rotation about the long axis: anterior structures shift by this much
    insp_ribs: float  # posterior ribs above the right dome (inspiration depth)
    dome_gap: float  # left dome lower than the right by this much
    heart_scale: float  # cardiac size (1 = reference adult)
    heart_shift: float
    knob: float  # aortic knob prominence
    breast: float  # breast size (0 = none)
    arms: bool  # arms (soft tissue) in the lateral field
    magnification: float  # AP projection magnifies the (anterior) heart
    photons: float  # detected quanta per pixel without attenuation (sets quantum noise)
    scatter: float  # scatter-to-primary scale
    compression: float  # dynamic-range compression of the display processing (0-1)
    enhancement: float  # edge enhancement gain of the display processing
    gamma: float  # tone-curve exponent
    grid_lines: bool  # anti-scatter grid line artefact
    collimation: float  # height of the unexposed (bright) band at the top, field units
    background: float  # display level of direct exposure (0 = black), varies by site
    marker: bool  # a lead laterality marker in an upper corner

    @property
    def mm_per_unit(self) -> float:
        return self.field_mm


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def sample_patient(rng: np.random.Generator, cfg, view: str) -> Patient:
    """Draw one patient from the variability ranges of ``cfg`` (a ``PhantomConfig``).

    Always draws the same values in the same order, whatever the view.
    """
    ap = view == "AP"
    sex = "F" if rng.random() < cfg.female_fraction else "M"
    size = _u(rng, *cfg.body_scale)
    breadth = _u(rng, *cfg.breadth)
    fat_t = rng.random()
    fat = cfg.fat[0] + fat_t * (cfg.fat[1] - cfg.fat[0])
    depth = _u(rng, 19.0, 24.0) * (0.9 + 0.25 * fat_t)
    cx = 0.5 + _u(rng, -cfg.shift, cfg.shift)
    dy = _u(rng, -cfg.shift, cfg.shift) + (0.015 if ap else 0.0)
    tilt = _u(rng, -cfg.tilt_deg, cfg.tilt_deg)
    rot = _u(rng, -cfg.axial_rotation, cfg.axial_rotation) * (1.5 if ap else 1.0)
    insp = _u(rng, *cfg.inspiration_ribs) - (1.2 if ap else 0.0)
    dome_gap = _u(rng, 0.008, 0.035)
    heart = _u(rng, 0.93, 1.07)
    heart_shift = _u(rng, -0.01, 0.01)
    knob = _u(rng, 0.5, 1.4)
    has_breast = rng.random() < cfg.breast_fraction
    breast = _u(rng, 0.6, 1.3) if (sex == "F" and has_breast) else 0.0
    arms = bool(rng.random() < (0.9 if ap else 0.8))
    log_ph = _u(rng, math.log(cfg.photons[0]), math.log(cfg.photons[1]))
    scatter = _u(rng, *cfg.scatter)
    compression = _u(rng, 0.3, 0.55)
    enhancement = _u(rng, 0.5, 1.3)
    gamma = _u(rng, 1.3, 1.7)
    grid_lines = bool(rng.random() < cfg.grid_line_fraction)
    coll = _u(rng, 0.01, 0.05)
    has_coll = rng.random() < cfg.collimation_fraction
    marker = bool(rng.random() < cfg.marker_fraction)
    field_mm = _u(rng, 390.0, 440.0)
    background = _u(rng, 0.0, 0.16) if rng.random() < 0.4 else 0.0
    mag = _u(rng, 1.08, 1.15)
    return Patient(
        view=view,
        sex=sex,
        field_mm=field_mm,
        body_scale=size,
        breadth=breadth,
        depth_cm=depth,
        fat=fat,
        cx=cx,
        dy=dy,
        tilt_deg=tilt,
        axial_rot=rot,
        insp_ribs=insp,
        dome_gap=dome_gap,
        heart_scale=heart,
        heart_shift=heart_shift,
        knob=knob,
        breast=breast,
        arms=arms,
        magnification=mag if ap else 1.0,
        photons=math.exp(log_ph) * (0.5 if ap else 1.0),
        scatter=scatter * (1.6 if ap else 1.0),
        compression=compression,
        enhancement=enhancement,
        gamma=gamma,
        grid_lines=grid_lines,
        collimation=coll if has_coll else 0.0,
        background=background,
        marker=marker,
    )


def _smoothstep(t):
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _ramp(d, width: float):
    """Chord-like edge profile: 0 at a border, 1 at ``width`` inside (square-root rise)."""
    return np.sqrt(np.clip(d * (1.0 / width), 0.0, 1.0))


def _ell(dx, dy, rx: float, ry: float):
    """Normalised chord of an ellipsoid: sqrt(1 - (dx/rx)^2 - (dy/ry)^2), 0 outside."""
    return np.sqrt(np.clip(1.0 - (dx / rx) ** 2 - (dy / ry) ** 2, 0.0, None))


def _ball(dx, dy, r: float, r_in: float = 0.0, core: float = 1.0):
    """Normalised chord of a (hollow) ball: (2 sqrt(r^2 - q^2) - (1-core) 2 sqrt(r_in^2 - q^2))/r."""
    q2 = dx * dx + dy * dy
    out = np.sqrt(np.clip(r * r - q2, 0.0, None))
    if r_in > 0 and core < 1:
        out = out - (1.0 - core) * np.sqrt(np.clip(r_in * r_in - q2, 0.0, None))
    return out * (2.0 / r)


def _rise_of_leftmost_point(a: float, b: float, c: float, s: float) -> float:
    """How far above its centre a tilted ellipse reaches its leftmost point.

    Semi-axes a (long) and b, long axis at an angle with cosine c and sine s below the
    horizontal; the leftmost point lies at (a^2 - b^2) c s / sqrt(a^2 c^2 + b^2 s^2) above.
    """
    return (a * a - b * b) * c * s / math.sqrt(a * a * c * c + b * b * s * s)


class Thorax:
    """Boundary functions of one patient's thorax (field units).

    ``dome_raise`` lifts a hemidiaphragm (volume loss); ``heart_scale`` overrides the
    patient's heart size (cardiomegaly).
    """

    def __init__(self, p: Patient, heart_scale: float, dome_raise: dict[str, float]):
        s = p.body_scale
        self.p = p
        self.s = s
        self.cx = p.cx
        self.wmax = 0.335 * s * p.breadth  # inner thoracic half-width at its widest
        self.apex = 0.12 + p.dy + (0.012 if p.view == "AP" else 0.0)
        self.sp = 0.049 * s  # posterior rib spacing scale
        k = np.arange(12)
        self.rib_y = self.apex + 0.016 * s + self.sp * k * (0.84 + 0.03 * k)
        kk = p.insp_ribs - 1.0
        k0 = int(np.clip(np.floor(kk), 0, 10))
        f = kk - k0
        dome_r = (1 - f) * self.rib_y[k0] + f * self.rib_y[k0 + 1] + 0.75 * self.sp
        self.dome = {
            "right": dome_r - dome_raise.get("right", 0.0),
            "left": dome_r + p.dome_gap - dome_raise.get("left", 0.0),
        }
        self.cp = {side: self.dome[side] + 0.075 * s for side in self.dome}
        self.cp_low = max(self.cp.values())
        self.x_apex = 0.125 * s
        self.hs = heart_scale
        self.ant = p.axial_rot  # horizontal shift of anterior structures
        self.post = -0.5 * p.axial_rot  # and of posterior ones
        self.y_knob = self.apex + 0.165 * s
        self.y_carina = self.apex + 0.215 * s
        self.hilum_y = self.apex + 0.3 * s

    def wall(self, y):
        """Inner chest wall (lateral lung border) distance from the midline; 0 above the apex."""
        y = np.asarray(y, F32)
        t = (y - self.apex) / (self.cp_low - self.apex)
        tw = 0.72
        u = np.clip(t / tw, 0.0, 1.0)
        w = self.x_apex + (self.wmax - self.x_apex) * np.sqrt(np.clip(1 - (1 - u) ** 2, 0, 1))
        lower = self.wmax * (1.0 - 0.05 * np.clip((t - tw) / (1 - tw), 0, 1.6) ** 2)
        w = np.where(t > tw, lower, w)
        return np.where(t >= 0, w, 0.0).astype(F32)

    def wall_below(self, y):
        """Like ``wall`` but continued below the costophrenic angles (abdominal wall)."""
        y = np.asarray(y, F32)
        return self.wall(np.minimum(y, self.cp_low))

    def wall_top(self, d):
        """Top of the thoracic cavity (apex outline) at distance ``d`` from the midline."""
        yy = np.linspace(self.apex, self.apex + 0.72 * (self.cp_low - self.apex), 200)
        ww = self.wall(yy)
        return np.interp(np.asarray(d, F32), ww, yy, right=np.inf).astype(F32)

    def mediastinal(self, y, side: str):
        """Distance of the mediastinal (medial lung) border from the midline."""
        s = self.s
        y = np.asarray(y, F32)
        if side == "right":
            upper, lower = 0.06 * s, 0.034 * s
            m = upper + (lower - upper) * _smoothstep((y - self.hilum_y) / (0.12 * s))
        else:
            base, lower = 0.055 * s, 0.04 * s
            knob = 0.034 * s * self.p.knob * np.exp(-(((y - self.y_knob) / (0.03 * s)) ** 2))
            trunk = 0.012 * s * np.exp(-(((y - self.y_knob - 0.07 * s) / (0.03 * s)) ** 2))
            m = base + knob + trunk
            m = m + (lower - base) * _smoothstep((y - self.hilum_y) / (0.1 * s))
        # rounded apex: the medial border sweeps out to the apex point
        t = np.clip((y - self.apex) / (0.07 * s), 0.0, 1.0)
        arc = np.sqrt(np.clip(1 - (1 - t) ** 2, 0, 1))
        return (self.x_apex - (self.x_apex - m) * arc).astype(F32)

    def dome_line(self, x):
        """y of the diaphragm per column (right dome on the image's left)."""
        s = self.s
        x = np.asarray(x, F32)
        d = x - self.cx
        out = np.zeros_like(x)
        for side, sign in (("right", -1.0), ("left", 1.0)):
            dd = sign * d
            peak = 0.46 * self.wmax
            wcp = float(self.wall(self.cp[side]))
            lat = np.clip((dd - peak) / max(wcp - peak, 1e-3), 0, None)
            med = np.clip((peak - dd) / peak, 0, None)
            y = self.dome[side] + (self.cp[side] - self.dome[side]) * lat**2.2
            y = np.where(dd < peak, self.dome[side] + 0.035 * s * med**2, y)
            out = np.where(dd >= 0, y, out)
        # a smooth saddle between the domes (central tendon, under the heart)
        blend = _smoothstep((d + 0.03) / 0.06)
        mid = (self.dome["right"] * (1 - blend) + self.dome["left"] * blend) + 0.035 * s
        return np.where(np.abs(d) < 0.03, mid, out).astype(F32)

    def heart_ellipse(self) -> tuple[float, float, float, float, float]:
        """Centre (x, y), semi-axes (long, short) and tilt (rad below horizontal) of the heart.

        The cardiac silhouette is a tilted ellipse whose long axis runs from the base (upper,
        near the midline) to the apex (lower, patient's left); it sits on the diaphragm, which
        hides its lower part, and its upper end merges with the mediastinum.
        """
        b = self.s
        s = b * self.hs * self.p.magnification
        sv = b * math.sqrt(self.hs) * self.p.magnification
        x0 = self.cx + self.p.heart_shift + self.ant * 0.8 + 0.038 * s
        y0 = 0.5 * (self.dome["right"] + self.dome["left"]) - 0.085 * sv
        return x0, y0, 0.16 * s, 0.1 * s, math.radians(31.0)

    def heart_borders(self, y) -> tuple[np.ndarray, np.ndarray, float]:
        """Right (image-left) and left (image-right) cardiac borders per row, and the top y.

        Rows outside the ellipse get an empty interval (right > left).
        """
        y = np.asarray(y, F32)
        x0, y0, a, bb, t = self.heart_ellipse()
        c, sn = math.cos(t), math.sin(t)
        # x' = X c + Y s, y' = -X s + Y c; (x'/a)^2 + (y'/b)^2 <= 1, solved for X per row
        A = c * c / a**2 + sn * sn / bb**2
        Yr = y - y0
        B = 2 * Yr * c * sn * (1 / a**2 - 1 / bb**2)
        C = Yr * Yr * (sn * sn / a**2 + c * c / bb**2) - 1
        disc = B * B - 4 * A * C
        root = np.sqrt(np.clip(disc, 0, None))
        right = np.where(disc > 0, x0 + (-B - root) / (2 * A), x0 + 1.0)
        left = np.where(disc > 0, x0 + (-B + root) / (2 * A), x0 - 1.0)
        half_h = math.sqrt(a * a * sn * sn + bb * bb * c * c)
        # the right atrium stays convex down to the diaphragm instead of swinging inwards
        x_ra = x0 - math.sqrt(a * a * c * c + bb * bb * sn * sn)
        y_ra = y0 - _rise_of_leftmost_point(a, bb, c, sn)
        low = np.clip((y - y_ra) / (0.12 * self.s), 0, None)
        right = np.where(y > y_ra, np.minimum(x_ra + 0.02 * self.s * low**2, left), right)
        return right.astype(F32), left.astype(F32), y0 - half_h


@dataclass
class Build:
    """Everything the anatomy produces, on the untilted patient frame of the grid."""

    grid: Grid
    patient: Patient
    thorax: Thorax
    masks: dict[str, np.ndarray]
    soft_cm: np.ndarray
    lung_air_cm: np.ndarray
    lung_detail_cm: np.ndarray
    airway_air_cm: np.ndarray
    bone_cm: np.ndarray
    heart_depth_cm: np.ndarray
    wall_dist: np.ndarray  # (H, W) distance to the chest wall / apex inside the thorax, units
    diaphragm: np.ndarray  # (W,) dome line y per column
    landmarks: dict[str, tuple[float, float]]
    airways: dict[str, np.ndarray]  # centre lines (K, 2) in field units


def build_anatomy(
    grid: Grid,
    p: Patient,
    rng: np.random.Generator,
    *,
    heart_scale: float | None = None,
    dome_raise: dict[str, float] | None = None,
) -> Build:
    """Project the patient's anatomy onto ``grid`` (see the module docstring)."""
    th = Thorax(p, p.heart_scale if heart_scale is None else heart_scale, dome_raise or {})
    masks: dict[str, np.ndarray] = {}
    cm_px = p.mm_per_unit / grid.px / 10.0

    lung_air, wall_dist = _lungs(grid, th, masks)
    heart_depth = _heart(grid, th, masks)
    # the heart pushes the lung aside: little aerated lung is left in front of and behind it
    hd_max = float(heart_depth.max()) if heart_depth.any() else 1.0
    lung_air = lung_air * (1.0 - 0.85 * heart_depth / hd_max)
    lung_air += _junction_air(grid, th)
    for side in ("right", "left"):
        masks[f"{side}_lung"] &= ~masks["heart"]
    _mediastinum(grid, th, masks)
    soft = _body(grid, th, masks)
    soft -= _gastric_bubble(grid, th, rng, masks)
    soft -= _bowel_gas(grid, th, rng)
    bone = np.zeros(grid.shape, F32)
    airway, airways = _tubes(grid, th, masks, bone, cm_px, lung_air, rng)
    _spine(grid, th, bone, masks, cm_px)
    _humeral_heads(grid, th, bone, cm_px)
    masks["bones"] = masks["ribs"] | masks["clavicles"] | masks["scapulae"] | masks["spine"]
    detail = _lung_detail(grid, th, rng, lung_air, cm_px)
    _diaphragm_masks(grid, th, masks)

    wcp = {side: float(th.wall(th.cp[side])) for side in ("right", "left")}
    peak = 0.46 * th.wmax
    landmarks = {
        "carina": (float(airways["trachea"][-1, 0]), float(airways["trachea"][-1, 1])),
        "right_hilum": (th.cx - 0.095 * th.s, th.hilum_y),
        "left_hilum": (th.cx + 0.095 * th.s, th.hilum_y - 0.02 * th.s),
        "aortic_knob": _knob_centre(th),
        "right_dome": (th.cx - peak, th.dome["right"]),
        "left_dome": (th.cx + peak, th.dome["left"]),
        "right_costophrenic_angle": (th.cx - wcp["right"], th.cp["right"]),
        "left_costophrenic_angle": (th.cx + wcp["left"], th.cp["left"]),
        "lung_apices": (th.cx, th.apex),
    }
    return Build(
        grid=grid,
        patient=p,
        thorax=th,
        masks=masks,
        soft_cm=soft,
        lung_air_cm=lung_air.astype(F32),
        lung_detail_cm=detail,
        airway_air_cm=airway,
        bone_cm=bone,
        heart_depth_cm=heart_depth,
        wall_dist=wall_dist,
        diaphragm=th.dome_line(grid.xs),
        landmarks=landmarks,
        airways=airways,
    )


def _lungs(grid: Grid, th: Thorax, masks: dict) -> tuple[np.ndarray, np.ndarray]:
    """Lung envelopes (masks) and aerated depth, plus the distance to the chest wall."""
    s = th.s
    lung_air = np.zeros(grid.shape, F32)
    wall_dist = np.zeros(grid.shape, F32)
    a_max = 0.74 * th.p.depth_cm
    for side, sign in (("right", -1.0), ("left", 1.0)):
        x0, x1 = (th.cx - th.wmax - 0.01, th.cx) if sign < 0 else (th.cx, th.cx + th.wmax + 0.01)
        win = grid.window(x0, x1, th.apex - 0.005, th.cp_low + 0.1)
        mask = np.zeros(grid.shape, bool)
        masks[f"{side}_lung"] = mask
        if win is None:
            continue
        sl, X, Y = win
        ys = Y[:, 0]
        d = sign * (X - th.cx)  # distance from the midline toward this side
        w = th.wall_below(ys)[:, None]
        dw = np.gradient(th.wall_below(ys), ys)[:, None] if ys.size > 1 else 0.0
        d_lat = (w - d) / np.sqrt(1.0 + dw * dw)
        d_top = Y - th.wall_top(d)
        wd = np.clip(np.minimum(d_lat, d_top), 0.0, None) * (d >= 0)
        wall_dist[sl] = np.maximum(wall_dist[sl], wd)
        med = th.mediastinal(ys, side)[:, None]
        dome = th.dome_line(X[0])[None, :]
        rows = (Y >= th.apex) & (Y <= th.cp[side] + 0.002)
        env = (d > med) & (d < w) & rows & (Y < dome)
        t = np.clip((Y - th.apex) / (th.dome[side] - th.apex), 0, 1)
        depth = a_max * (0.5 + 0.5 * t)
        f_wall = _ramp(wd, 0.06 * s)
        f_med = _ramp(d - med, 0.022 * s)
        air = depth * f_wall * f_med * _ramp(dome - Y, 0.01 * s) * env
        # posterior recess: the lung goes on a little below the dome line
        below = (Y >= dome) & (d > med) & (d < w) & (Y < th.cp_low + 0.09)
        lateral = _smoothstep((d - 0.35 * th.wmax) / (0.3 * th.wmax))
        recess = 0.32 * a_max * f_wall * lateral * np.exp(-(Y - dome) / (0.035 * s)) * below
        lung_air[sl] += (air + recess).astype(F32)
        mask[sl] = env
    return lung_air, wall_dist


def _junction_air(grid: Grid, th: Thorax) -> np.ndarray:
    """Lung that wraps in front of and behind the mediastinum and heart (cm of lung).

    The anterior and posterior junction lines, the retrocardiac and retrosternal lung: in
    projection, the mediastinum and the heart carry a few centimetres of aerated lung, which
    is why they are greyer than the abdomen on a real film.
    """
    s = th.s
    out = np.zeros(grid.shape, F32)
    bottom = max(th.dome.values()) + 0.03 * s
    win = grid.window(th.cx - 0.2 * s, th.cx + 0.2 * s, th.apex, bottom)
    if win is None:
        return out
    sl, X, Y = win
    dome = th.dome_line(X[0])[None, :]
    across = 1.0 - _smoothstep((np.abs(X - th.cx - 0.02 * s) - 0.1 * s) / (0.1 * s))
    down = _smoothstep((Y - th.apex) / (0.08 * s)) * _ramp(dome - Y, 0.015 * s)
    out[sl] = (0.13 * th.p.depth_cm * across * down).astype(F32)
    return out


def _heart(grid: Grid, th: Thorax, masks: dict) -> np.ndarray:
    """Cardiac silhouette mask and the heart's depth along the beam (cm)."""
    ys = grid.ys
    right, left, top = th.heart_borders(ys)
    diaphragm = th.dome_line(grid.xs)
    depth = np.zeros(grid.shape, F32)
    heart = np.zeros(grid.shape, bool)
    masks["heart"] = heart
    bottom = float(diaphragm.max()) + 0.02
    rows = (ys >= top) & (ys <= bottom)
    if not rows.any():
        return depth
    ok = rows & (left > right)
    win = grid.window(float(right[ok].min()), float(left[ok].max()), top, bottom)
    if win is None:
        return depth
    sl, X, Y = win
    r, lft = right[sl[0]][:, None], left[sl[0]][:, None]
    inside = (X > r) & (X < lft) & (Y >= top)
    mid = 0.5 * (r + lft)
    half = np.maximum(0.5 * (lft - r), 1e-4)
    hd = 0.52 * th.p.depth_cm * math.sqrt(th.hs)
    # steep chord profile: the heart displaces the lung right at its border (sharp silhouette)
    prof = np.minimum(1.0, 2.5 * np.sqrt(np.clip(1 - ((X - mid) / half) ** 2, 0, None)))
    soft_top = _smoothstep((Y - top) / (0.1 * th.s))  # the base merges with the hila
    depth[sl] = (hd * prof * soft_top * inside).astype(F32)
    heart[sl] = inside & (Y < diaphragm[None, sl[1]] + 0.004)
    return depth


def _knob_centre(th: Thorax) -> tuple[float, float]:
    m = float(th.mediastinal(th.y_knob, "left"))
    return (th.cx + m - 0.022 * th.s, th.y_knob)


def _mediastinum(grid: Grid, th: Thorax, masks: dict) -> None:
    """Mediastinum (everything between the lung fields, heart included) and aortic knob."""
    X, Y = grid.xs[None, :], grid.ys[:, None]
    ys = grid.ys
    med_r = th.cx - th.mediastinal(ys, "right")[:, None]
    med_l = th.cx + th.mediastinal(ys, "left")[:, None]
    diaphragm = th.dome_line(grid.xs)[None, :]
    m = (X > med_r) & (X < med_l) & (Y >= th.apex - 0.02) & (Y < diaphragm)
    m |= masks["heart"]
    m &= ~(masks["right_lung"] | masks["left_lung"])
    masks["mediastinum"] = m
    kx, ky = _knob_centre(th)
    rk = 0.022 * th.s
    knob = np.zeros(grid.shape, bool)
    win = grid.window(kx - rk, kx + rk, ky - rk, ky + rk)
    if win is not None:
        sl, Xw, Yw = win
        knob[sl] = ((Xw - kx) ** 2 + (Yw - ky) ** 2 < rk * rk) & ~masks["left_lung"][sl]
    masks["aortic_knob"] = knob


def _body(grid: Grid, th: Thorax, masks: dict) -> np.ndarray:
    """Soft tissue of the body (cm): neck, shoulders, chest and abdominal wall, arms, breasts."""
    p, s = th.p, th.s
    ys = grid.ys
    X = grid.xs[None, :]
    chest_w = np.where(ys < th.apex, 0.0, th.wall_below(ys) + 0.03 * s + p.fat)
    neck_w = 0.08 * s + 0.4 * p.fat
    shoulder_w = th.wmax + 0.16 * s + p.fat
    y_neck = th.apex - 0.13 * s  # where the trapezius slope leaves the neck
    y_sh = th.apex + 0.01 * s  # top of the shoulder (acromion level)
    rise = np.clip((ys - y_neck) / (y_sh - y_neck), 0, 1) ** 0.45
    shoulder = neck_w + (shoulder_w - neck_w) * rise
    axilla = _smoothstep((ys - (th.apex + 0.12 * s)) / (0.14 * s))
    shoulder = np.where(ys > y_sh, shoulder_w + (chest_w - shoulder_w) * axilla, shoulder)
    body_w = np.maximum(chest_w, shoulder).astype(F32)
    depth = np.where(ys < y_sh - 0.02, 0.6, 1.0).astype(F32) * F32(p.depth_cm)
    depth = blur(np.repeat(depth[:, None], 4, 1), 0.04 * grid.px)[:, 0]
    u = (X - th.cx) / np.maximum(body_w[:, None], 1e-3)
    # rounded-rectangular cross-section: flat over the chest, chord-like (sqrt) at the skin
    soft = depth[:, None] * np.minimum(1.0, 2.2 * np.sqrt(np.clip(1 - u * u, 0, None)))
    body = np.abs(u) < 1
    if p.arms:
        ar = 0.075 * s + 0.5 * p.fat
        for sign in (-1.0, 1.0):
            ax = th.cx + sign * (th.wmax + 0.03 * s + p.fat + 0.45 * ar)
            win = grid.window(ax - ar, ax + ar, th.apex, 2.0)
            if win is None:
                continue
            sl, Xw, Yw = win
            rows = _smoothstep((Yw - (th.apex + 0.05 * s)) / (0.1 * s))
            chord = np.sqrt(np.clip(1 - ((Xw - ax) / ar) ** 2, 0, None))
            soft[sl] += (0.42 * p.depth_cm * chord * rows).astype(F32)
            body[sl] |= (np.abs(Xw - ax) < ar) & (rows > 0.5)
    breasts = np.zeros(grid.shape, bool)
    if p.breast > 0:
        rx, ry = 0.16 * s * p.breast**0.5, 0.11 * s * p.breast**0.5
        by = th.dome["right"] + 0.015
        for sign in (-1.0, 1.0):
            bx = th.cx + sign * 0.2 * s
            win = grid.window(bx - rx, bx + rx, by - ry, by + ry)
            if win is None:
                continue
            sl, Xw, Yw = win
            e = np.sqrt(np.clip(1 - ((Xw - bx) / rx) ** 2 - ((Yw - by) / ry) ** 2, 0, None))
            upper = _smoothstep((Yw - (by - 1.2 * ry)) / (1.6 * ry))
            soft[sl] += (2.4 * p.breast * e * upper).astype(F32)
            breasts[sl] |= e > 0
    masks["breasts"] = breasts
    masks["body"] = body
    return soft.astype(F32)


def _gastric_bubble(grid: Grid, th: Thorax, rng: np.random.Generator, masks: dict) -> np.ndarray:
    """Air in the gastric fundus under the left dome, with a flat fluid level (cm of air)."""
    s = th.s
    gas = np.zeros(grid.shape, F32)
    gx = th.cx + (0.12 + 0.06 * rng.random()) * s
    gr = (0.025 + 0.025 * rng.random()) * s
    gy = float(th.dome_line(gx)) + gr + 0.012 * s
    win = grid.window(gx - 1.3 * gr, gx + 1.3 * gr, gy - gr, gy + 0.2 * gr)
    bubble = np.zeros(grid.shape, bool)
    if win is not None:
        sl, X, Y = win
        e = np.sqrt(np.clip(1 - ((X - gx) / (1.3 * gr)) ** 2 - ((Y - gy) / gr) ** 2, 0, None))
        e = e * (Y < gy + 0.15 * gr)
        gas[sl] = (0.2 * th.p.depth_cm * e).astype(F32)
        bubble[sl] = e > 0.05
    masks["gastric_bubble"] = bubble
    return gas


def _bowel_gas(grid: Grid, th: Thorax, rng: np.random.Generator) -> np.ndarray:
    """A few soft pockets of colonic gas in the upper abdomen (cm of air)."""
    s = th.s
    gas = np.zeros(grid.shape, F32)
    n = int(rng.integers(0, 6))
    draws = rng.random((5, 4))
    top = max(th.dome.values()) + 0.08 * s
    for i in range(n):
        u, v, a, b = draws[i]
        gx = th.cx + (u - 0.5) * 1.4 * th.wmax
        gy = top + v * 0.2
        rx, ry = (0.015 + 0.03 * a) * s, (0.012 + 0.02 * b) * s
        win = grid.window(gx - rx, gx + rx, gy - ry, gy + ry)
        if win is None:
            continue
        sl, X, Y = win
        gas[sl] += (1.6 * _ell(X - gx, Y - gy, rx, ry) ** 0.5).astype(F32)
    return gas


def _rib_tubes(
    grid: Grid, th: Thorax, cm_px: float, rng: np.random.Generator
) -> tuple[list[Tube], list[Tube]]:
    """Posterior and anterior rib tubes for both sides.

    A posterior rib leaves the spine rising slightly, arches and runs laterally and down to
    the chest wall, where it turns (seen edge-on: the dense lateral arc) into the anterior
    rib, which runs down and medially and fades out at the costal cartilage. Ribs 11-12 are
    short floating ribs; each rib gets its own small jitter in spacing, width and curvature.
    """
    s = th.s
    post, ant = [], []
    jitter = rng.normal(0.0, 1.0, (12, 2, 4))  # rib, side, (level, width, arch, drop)
    for k, yk0 in enumerate(th.rib_y):
        sp = th.sp * (0.84 + 0.06 * k)
        r0 = (0.0085 + 0.0006 * min(k, 6)) * s
        floating = k >= 10
        taper = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.85, 0.7, 0.55, 0.45)[k]
        for side_i, sign in enumerate((-1.0, 1.0)):
            jl, jw, ja, jd = jitter[k, side_i]
            yk = yk0 + 0.06 * sp * jl
            r = r0 * (1.0 + 0.07 * jw) * (0.8 if floating else 1.0)
            drop = 1.0 + 0.08 * jd
            y_lat = yk + (1.9 + 0.04 * k) * sp * drop
            w = float(th.wall(y_lat)) if y_lat >= th.apex else th.x_apex
            w = max(w, th.x_apex) + 0.85 * r
            x_tp = (0.045 + 0.002 * k) * s
            arch = (0.5 - 0.03 * k) * sp * (1.0 + 0.15 * ja)
            end = (0.18 + 0.035 * k) * w
            p_pts = np.array(
                [
                    [x_tp, yk],
                    [x_tp + 0.2 * (w - x_tp), yk - arch],
                    [x_tp + 0.55 * (w - x_tp), yk + 0.4 * sp * drop],
                    [0.9 * w, yk + 1.3 * sp * drop],
                    [w, y_lat],
                ]
            )
            if floating:  # short ribs ending free in the flank
                p_pts = p_pts[:4] * [0.8, 1.0] + [0.2 * x_tp, 0.0]
            pp = p_pts.copy()
            pp[:, 0] = th.cx + th.post + sign * pp[:, 0]
            cp = catmull_rom(grid.to_px(pp), 0.6)
            r_px = r * grid.px
            post.append(
                Tube(
                    cp, r_px, cortex_px=max(1.0, 0.26 * r_px), core=0.3, weight=0.9 * cm_px * taper
                )
            )
            if floating:
                continue
            a_pts = np.array(
                [
                    [w, y_lat],
                    [0.97 * w, y_lat + 0.5 * sp],
                    [0.8 * w, y_lat + 1.05 * sp],
                    [0.5 * (0.8 * w + end), y_lat + 1.5 * sp],
                    [end, y_lat + 1.8 * sp],
                ]
            )
            ap = a_pts.copy()
            ap[:, 0] = th.cx + th.ant + sign * ap[:, 0]
            ca = catmull_rom(grid.to_px(ap), 0.6)
            t = np.linspace(0.0, 1.0, len(ca))
            fade = np.clip((1.0 - t) * 1.6, 0, 1) * np.clip(t * 10.0, 0, 1)
            fade = fade * (1.0 - 0.12 * max(k - 6, 0))  # lower costal cartilages: faint
            ant.append(
                Tube(
                    ca,
                    1.12 * r_px,
                    cortex_px=max(0.8, 0.16 * r_px),
                    core=0.2,
                    weight=0.55 * cm_px * fade,
                )
            )
    return post, ant


def _tubes(
    grid: Grid,
    th: Thorax,
    masks: dict,
    bone: np.ndarray,
    cm_px: float,
    lung_air: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Ribs, clavicles, scapulae and the airways; adds bone, returns airway air (cm)."""
    p, s = th.p, th.s
    post, ant = _rib_tubes(grid, th, cm_px, rng)
    ribs_p, _ = render_tubes(grid.shape, post)
    ribs_a, _ = render_tubes(grid.shape, ant)
    masks["ribs"] = (ribs_p > 0.02) | (ribs_a > 0.02)
    bone += ribs_p
    bone += ribs_a

    tubes: list[Tube] = []
    kinds: list[str] = []
    # clavicles: S-shaped, anterior; higher and flatter on AP
    cl_y = th.apex + (0.06 if p.view == "PA" else 0.005) * s
    rise = (0.06 if p.view == "PA" else 0.025) * s
    rc = 0.0135 * s * grid.px
    for sign in (-1.0, 1.0):
        pts = np.array(
            [
                [0.04 * s, cl_y + 0.015 * s],
                [0.1 * s, cl_y + 0.006 * s],
                [0.19 * s, cl_y - 0.35 * rise],
                [0.27 * s, cl_y - 0.85 * rise],
                [0.33 * s, cl_y - 1.0 * rise],
                [0.38 * s, cl_y - 0.9 * rise],
            ]
        )
        pts[:, 0] = th.cx + th.ant + sign * pts[:, 0]
        c = catmull_rom(grid.to_px(pts), 0.6)
        widen = 1.0 + 0.3 * np.exp(-np.linspace(0, 6, len(c)))
        tubes.append(
            Tube(c, rc * widen, cortex_px=max(1.5, 0.25 * rc), core=0.3, weight=1.2 * cm_px)
        )
        kinds.append("clavicle")
    # scapulae: medial and lateral borders and the spine of the scapula
    x_med = th.wmax * (0.82 if p.view == "AP" else 1.03)
    glen = (th.wmax + 0.07 * s, th.apex + 0.05 * s)
    sup = (x_med - 0.01 * s, th.apex)
    inf = (x_med + 0.03 * s, th.apex + 0.3 * s)
    plate = np.zeros(grid.shape, F32)
    for sign in (-1.0, 1.0):
        for pts, rr, wgt in (
            ([sup, (x_med - 0.015 * s, th.apex + 0.12 * s), inf], 0.004, 1.1),
            ([inf, (glen[0] - 0.015 * s, th.apex + 0.18 * s), glen], 0.008, 1.4),
            ([(x_med - 0.012 * s, th.apex + 0.07 * s), (glen[0] + 0.02, th.apex)], 0.006, 1.2),
        ):
            q = np.array(pts)
            q[:, 0] = th.cx + sign * q[:, 0]
            tubes.append(
                Tube(
                    catmull_rom(grid.to_px(q), 0.6),
                    rr * s * grid.px,
                    cortex_px=1.2,
                    core=0.5,
                    weight=wgt * cm_px,
                )
            )
            kinds.append("scapula")
        tri = np.array([sup, inf, glen])
        tri[:, 0] = th.cx + sign * tri[:, 0]
        _fill_triangle(grid, plate, tri, 0.5)
    # airways: trachea (slightly right of midline) and main bronchi
    cxt = th.cx + 0.004 - 0.3 * th.ant
    rt = 0.02 * s
    car = np.array([cxt + 0.004, th.y_carina])
    trachea = np.array([[cxt - 0.006, -0.05], [cxt - 0.004, th.apex], car])
    rb = np.array([car, car + [-0.03 * s, 0.045 * s], car + [-0.05 * s, 0.085 * s]])
    lb = np.array([car, car + [0.045 * s, 0.04 * s], car + [0.08 * s, 0.075 * s]])
    for pts, rr, kind in (
        (trachea, rt, "trachea"),
        (rb, 0.7 * rt, "bronchi"),
        (lb, 0.6 * rt, "bronchi"),
    ):
        tubes.append(Tube(catmull_rom(grid.to_px(pts), 0.6), rr * grid.px, weight=cm_px))
        kinds.append(kind)
    thick, label = render_tubes(grid.shape, tubes)
    names = ("none", "clavicle", "scapula", "trachea", "bronchi")
    codes = np.array([names.index(k) for k in kinds] + [0], np.int8)
    kind_map = codes[label]  # label -1 indexes the trailing "none"
    is_air = kind_map >= names.index("trachea")
    plate = blur(plate, 2.0)
    masks["clavicles"] = (kind_map == names.index("clavicle")) & (thick > 0.02)
    masks["scapulae"] = (np.where(kind_map == names.index("scapula"), thick, 0.0) + plate) > 0.06
    bone += np.where(is_air, 0.0, thick).astype(F32)
    bone += plate
    masks["trachea"] = (kind_map == names.index("trachea")) & (thick > 0.3 * cm_px)
    masks["bronchi"] = (kind_map == names.index("bronchi")) & (thick > 0.3 * cm_px)
    # bronchi inside the lung replace lung that is already 75 % air
    air = np.where(is_air, thick, 0.0) * np.where(lung_air > 1.0, 0.3, 1.0)
    return air.astype(F32), {
        "trachea": trachea,
        "right_main_bronchus": rb,
        "left_main_bronchus": lb,
    }


def _fill_triangle(grid: Grid, out: np.ndarray, tri: np.ndarray, value: float) -> None:
    win = grid.window(tri[:, 0].min(), tri[:, 0].max(), tri[:, 1].min(), tri[:, 1].max())
    if win is None:
        return
    sl, X, Y = win
    inside = np.ones(np.broadcast_shapes(X.shape, Y.shape), bool)
    cen = tri.mean(0)
    for i in range(3):
        a0, a1 = tri[i], tri[(i + 1) % 3]
        nx, ny = a1[1] - a0[1], -(a1[0] - a0[0])
        sgn = np.sign((cen[0] - a0[0]) * nx + (cen[1] - a0[1]) * ny)
        inside &= ((X - a0[0]) * nx + (Y - a0[1]) * ny) * sgn > 0
    out[sl] += inside * F32(value)


def _spine(grid: Grid, th: Thorax, bone: np.ndarray, masks: dict, cm_px: float) -> None:
    """Vertebral bodies, pedicles and spinous processes from C5 to L3."""
    s = th.s
    cxs = th.cx + th.post
    gaps = np.diff(th.rib_y)
    ys = np.concatenate(
        [
            th.rib_y[0] - np.arange(4, 0, -1) * gaps[0] * 0.92,
            th.rib_y,
            th.rib_y[-1] + np.arange(1, 5) * gaps[-1],
        ]
    )
    spacing = np.gradient(ys)
    mask = np.zeros(grid.shape, bool)
    scale = F32(cm_px * grid.px * 0.01 * s)  # profile units -> cm of bone
    for k, (yc, sp) in enumerate(zip(ys, spacing, strict=True)):
        level = np.clip((k - 4) / 11.0, 0.0, 1.3)
        bw = (0.031 + 0.017 * level) * s
        h = 0.76 * sp
        top = yc - 0.05 * sp
        win = grid.window(cxs - 1.4 * bw, cxs + 1.4 * bw, top - 0.3 * sp, top + 1.2 * sp)
        if win is None:
            continue
        sl, X, Y = win
        dx = X - cxs
        u = dx / bw
        body = np.sqrt(np.clip(1 - u * u, 0, None))
        shell = body - 0.85 * np.sqrt(np.clip(1 - (u / 0.9) ** 2, 0, None))
        vert = _smoothstep((Y - top) / 0.012) * _smoothstep((top + h - Y) / 0.012)
        t = 0.75 * (0.5 * body + 1.0 * shell) * vert
        ped_y = top + 0.33 * h
        for sgn in (-1.0, 1.0):
            ex = dx - sgn * 0.7 * bw
            t = t + 0.6 * (
                _ell(ex, Y - ped_y, 0.2 * bw, 0.28 * h)
                - 0.8 * _ell(ex, Y - ped_y, 0.12 * bw, 0.18 * h)
            )
        t = t + 0.5 * _ell(dx, Y - top - 0.75 * h, 0.11 * bw, 0.38 * h)
        bone[sl] += (t * scale).astype(F32)
        mask[sl] |= (np.abs(dx) < bw) & (Y > top - 0.2 * sp) & (Y < top + h + 0.25 * sp)
    masks["spine"] = mask


def _humeral_heads(grid: Grid, th: Thorax, bone: np.ndarray, cm_px: float) -> None:
    s = th.s
    r = 0.048 * s
    for sign in (-1.0, 1.0):
        hx = th.cx + sign * (th.wmax + 0.115 * s)
        hy = th.apex + 0.045 * s
        win = grid.window(hx - r, hx + r, hy - r, hy + r)
        if win is None:
            continue
        sl, X, Y = win
        ch = _ball(X - hx, Y - hy, r, r - 0.005 * s, 0.45) * (r * grid.px * cm_px * 0.45)
        bone[sl] += ch.astype(F32)


def _lung_detail(
    grid: Grid, th: Thorax, rng: np.random.Generator, lung_air: np.ndarray, cm_px: float
) -> np.ndarray:
    """Vessels (branching from the hila, tapering outwards) and parenchymal texture (cm)."""
    s = th.s
    H, W = grid.shape
    inside_map = lung_air > 0.6

    def inside(pts: np.ndarray) -> np.ndarray:
        pp = grid.to_px(pts)
        ok = (pp[:, 0] >= 0) & (pp[:, 0] < W) & (pp[:, 1] >= 0) & (pp[:, 1] < H)
        i = np.clip(pp[:, 1].astype(np.intp), 0, H - 1)
        j = np.clip(pp[:, 0].astype(np.intp), 0, W - 1)
        return ok & inside_map[i, j]

    roots = {
        "right": (th.cx - 0.075 * s, th.hilum_y),
        "left": (th.cx + 0.075 * s, th.hilum_y - 0.02 * s),
    }
    seg_a, seg_b, seg_r = [], [], []
    for side, sign in (("right", -1.0), ("left", 1.0)):
        # the pulmonary artery entering the hilum: short, thick, from the mediastinum
        hx, hy = roots[side]
        start = (th.cx + sign * 0.045 * s, hy - 0.03 * s)
        seg_a.append(np.array([start, (hx, hy - 0.012 * s)]))
        seg_b.append(np.array([(hx, hy - 0.012 * s), (hx + sign * 0.012 * s, hy + 0.03 * s)]))
        seg_r.append(np.array([0.014, 0.011]) * s)
        a, b, r = _vessel_tree(rng, roots[side], sign, inside, s)
        seg_a.append(a)
        seg_b.append(b)
        seg_r.append(r)
    a_px = grid.to_px(np.vstack(seg_a))
    b_px = grid.to_px(np.vstack(seg_b))
    r_px = np.concatenate(seg_r) * grid.px
    layers = []
    # width classes, each splatted and blurred with its own Gaussian
    for lo, hi, sigma in ((0.0, 1.0, 0.75), (1.0, 2.0, 1.3), (2.0, 3.5, 2.4), (3.5, 1e9, 4.0)):
        sel = (r_px >= lo) & (r_px < hi)
        if sel.any():
            mass = VESSEL_GAIN * LUNG_AIR_FRACTION * math.pi * r_px[sel] ** 2 * cm_px
            layers.append((splat_segments(grid.shape, a_px[sel], b_px[sel], mass), sigma))
    vessels = blur_sum(grid.shape, layers)
    # parenchyma: fine mottle plus coarser reticulation, both band-limited
    fine = resize(rng.standard_normal((H // 3 + 1, W // 3 + 1), dtype=F32), grid.shape)
    coarse = resize(rng.standard_normal((H // 10 + 1, W // 10 + 1), dtype=F32), grid.shape)
    texture = 0.1 * fine + 0.3 * np.abs(coarse)
    frac = np.clip(lung_air * F32(1.0 / (0.33 * th.p.depth_cm)), 0, 1)
    return (vessels * np.minimum(frac * 1.5, 1.0) + texture * frac).astype(F32)


def _vessel_tree(
    rng: np.random.Generator, root: tuple[float, float], sign: float, inside, scale: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A pulmonary vascular tree from the hilum: segments (a, b) and radii (field units).

    Trunks fan out from the hilum (lower-lobe trunks larger, as in an upright patient); each
    segment continues with a slight bend and sheds one thinner side branch; branches stop when
    thinner than ~0.3 mm or when they leave the lung.
    """
    angles = np.array([-85.0, -65.0, -45.0, -25.0, -5.0, 15.0, 35.0, 55.0, 75.0, 95.0, 115.0])
    radii = np.array(
        [0.005, 0.0052, 0.0054, 0.005, 0.0048, 0.0054, 0.006, 0.0068, 0.0072, 0.007, 0.0056]
    )
    radii = radii * scale
    ang = np.deg2rad(angles + rng.uniform(-8, 8, angles.size))
    pos = np.tile(np.asarray(root, np.float64), (angles.size, 1))
    pos[:, 1] += rng.uniform(-0.012, 0.012, angles.size)
    r = radii * rng.uniform(0.85, 1.15, angles.size)
    seg_a, seg_b, seg_r = [], [], []
    r_min = 0.0006 * scale
    for _ in range(24):
        if r.size == 0:
            break
        length = np.clip(7.5 * r, 0.006, 0.045) * rng.uniform(0.7, 1.3, r.size)
        d = np.stack([sign * np.cos(ang), np.sin(ang)], 1)
        end = pos + d * length[:, None]
        ok = inside(end)
        seg_a.append(pos[ok])
        seg_b.append(end[ok])
        seg_r.append(r[ok])
        pos, ang, r = end[ok], ang[ok], r[ok]
        n = r.size
        if n == 0:
            break
        side = rng.choice(np.array([-1.0, 1.0]), n)
        main_ang = ang + np.deg2rad(rng.normal(0, 9, n)) - side * np.deg2rad(6)
        branch_ang = ang + side * np.deg2rad(rng.uniform(28, 55, n))
        pos = np.vstack([pos, pos])
        ang = np.concatenate([main_ang, branch_ang])
        r = np.concatenate([r * rng.uniform(0.8, 0.9, n), r * rng.uniform(0.5, 0.68, n)])
        keep = r >= r_min
        pos, ang, r = pos[keep], ang[keep], r[keep]
    if not seg_a:
        z = np.zeros((0, 2))
        return z, z, np.zeros(0)
    return np.vstack(seg_a), np.vstack(seg_b), np.concatenate(seg_r)


def _diaphragm_masks(grid: Grid, th: Thorax, masks: dict) -> None:
    """Hemidiaphragms as bands just under each dome line, across each hemithorax."""
    X, Y = grid.xs[None, :], grid.ys[:, None]
    dome = th.dome_line(grid.xs)[None, :]
    band = (Y >= dome) & (Y < dome + 0.03 * th.s)
    wb = th.wall_below(grid.ys)[:, None]
    for side, sign in (("right", -1.0), ("left", 1.0)):
        d = sign * (X - th.cx)
        masks[f"{side}_hemidiaphragm"] = band & (d > 0.03 * th.s) & (d < wb)
