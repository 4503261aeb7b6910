"""Synthetic frontal chest radiographs (phantoms) with exact ground-truth anatomy and findings.

``generate_phantom(seed)`` draws a patient (size, habitus, positioning, inspiration, PA or AP
view, exposure), projects a layered 3-D-ish anatomy into path-length maps
(``anatomy_model``), lets the findings act on them (``findings``), forms the line integral of
attenuation, simulates scatter, detector blur, quantum noise and the console's display
processing (``imaging``), and returns the display image with the ground truth:

- anatomy masks on the image grid (``ANATOMY_MASKS``; the patient's right lung is on the
  image's left), landmarks, the true cardiothoracic ratio and its two measurement lines;
- one ``PhantomFinding`` per finding: vocabulary id, mask, severity, side, location, and a
  *conspicuity* in [0, 1] - how visible the finding is on this very image - which simulated
  readers turn into a detection probability.

Same seed and config give a byte-identical image. A 512 x 512 phantom takes roughly 100 ms
on one core (``gazescope bench --only 'synth.*'``).

Conventions: the lung masks are the anatomical lung fields (what a segmentation of a healthy
film would outline), independent of findings inside them; the heart mask is the cardiac
silhouette down to the diaphragm; ``mediastinum`` is everything between the lung fields from
the apices to the diaphragm, heart included.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.io.radiograph import Radiograph
from core.synth.anatomy_model import (
    LUNG_AIR_FRACTION,
    Build,
    Grid,
    Patient,
    build_anatomy,
    sample_patient,
)
from core.synth.findings import (
    SYNTH_FINDINGS,
    Effect,
    FindingSpec,
    anatomy_overrides,
    apply_finding,
    resolve_specs,
    sample_findings,
)
from core.synth.imaging import MU_BONE, MU_METAL, MU_WATER, acquire
from core.synth.render import blur
from core.vocabulary import FINDING_IDS, PARENTS

__all__ = [
    "ANATOMY_MASKS",
    "Phantom",
    "PhantomConfig",
    "PhantomFinding",
    "cardiothoracic_ratio",
    "generate_phantom",
    "line_integral",
]

logger = logging.getLogger(__name__)
F32 = np.float32

ANATOMY_MASKS: tuple[str, ...] = (
    "body",
    "right_lung",
    "left_lung",
    "heart",
    "mediastinum",
    "aortic_knob",
    "trachea",
    "bronchi",
    "spine",
    "right_hemidiaphragm",
    "left_hemidiaphragm",
    "ribs",
    "clavicles",
    "scapulae",
    "bones",
    "gastric_bubble",
    "breasts",
)

# conspicuity = 1 - exp(-(d / CONSPICUITY_SCALE)^2), d = CNR * sqrt(min(size_mm, 30) / 10)
CONSPICUITY_SCALE = 3.0


@dataclass(frozen=True)
class PhantomConfig:
    """Image size and the ranges patients and acquisitions are drawn from."""

    height_px: int = 512
    width_px: int = 512
    ap_fraction: float = 0.2  # share of AP (bedside) films; the rest are PA
    female_fraction: float = 0.5
    breast_fraction: float = 0.8  # of women, share with breast shadows in the field
    body_scale: tuple[float, float] = (1.08, 1.24)  # thorax size relative to the field
    breadth: tuple[float, float] = (0.93, 1.07)  # lateral breadth (habitus)
    fat: tuple[float, float] = (0.02, 0.09)  # soft tissue outside the ribs, image widths
    shift: float = 0.02  # positioning shift, +- image widths
    tilt_deg: float = 2.5  # in-plane rotation, +- degrees
    axial_rotation: float = 0.012  # rotation about the long axis (anterior shift), +-
    inspiration_ribs: tuple[float, float] = (9.0, 10.8)  # posterior ribs above the right dome (PA)
    photons: tuple[float, float] = (3e4, 3e5)  # detected quanta per pixel, unattenuated
    scatter: tuple[float, float] = (0.6, 1.2)  # scatter scale (AP x1.6: no grid)
    grid_line_fraction: float = 0.15
    collimation_fraction: float = 0.25
    marker_fraction: float = 0.7
    normal_fraction: float = 0.3  # case mix when findings are drawn (see sample_findings)
    prevalence: Mapping[str, float] | None = None  # None: findings.DEFAULT_PREVALENCE

    def __post_init__(self) -> None:
        if self.height_px < 64 or self.width_px < 64:
            raise ValueError(
                f"phantom size must be at least 64 x 64, got {self.height_px} x {self.width_px}"
            )
        if not 0.5 <= self.height_px / self.width_px <= 2.0:
            raise ValueError("phantom aspect ratio (height / width) must be within [0.5, 2]")
        for name in ("ap_fraction", "female_fraction", "breast_fraction", "normal_fraction"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"PhantomConfig.{name} must be in [0, 1], got {v}")
        for name in ("body_scale", "breadth", "fat", "inspiration_ribs", "photons", "scatter"):
            lo, hi = getattr(self, name)
            if not lo <= hi:
                raise ValueError(f"PhantomConfig.{name} must be (low, high), got {(lo, hi)}")
        if self.inspiration_ribs[0] < 6 or self.inspiration_ribs[1] > 11.5:
            raise ValueError("PhantomConfig.inspiration_ribs must lie within [6, 11.5]")


@dataclass(frozen=True)
class PhantomFinding:
    """One finding of a phantom, with everything a simulated reader needs.

    ``contrast`` is the mean displayed contrast inside the mask that the finding causes
    (display units, + brighter, - darker), from the image with and without it; ``cnr`` divides
    it by the anatomical plus quantum noise around the lesion; ``conspicuity`` =
    1 - exp(-(cnr * sqrt(min(size_mm, 30) / 10) / 3)^2) in [0, 1] (cardiomegaly: how far the CTR
    exceeds 0.5, see ``generate_phantom``). ``location`` is a region id of the atlas
    (``core.anatomy.types.REGION_IDS``) where the mask's centroid falls, ``regions`` all lung
    zones holding at least 10 % of the mask.
    """

    id: str  # vocabulary id (core.vocabulary.FINDING_IDS)
    mask: np.ndarray  # (H, W) bool on the image grid
    severity: float  # [0, 1]
    conspicuity: float  # [0, 1]
    side: str  # "right", "left", "bilateral", "midline" or "" (devices)
    location: str
    regions: tuple[str, ...]
    box: tuple[float, float, float, float]  # normalised x0, y0, x1, y1 of the mask
    centroid: tuple[float, float]  # normalised x, y
    contrast: float
    cnr: float
    size_mm: float  # equivalent diameter of the mask
    details: dict[str, float | str] = field(default_factory=dict)


@dataclass(frozen=True)
class Phantom:
    """A synthetic chest radiograph and its exact ground truth (see the module docstring)."""

    image: np.ndarray  # (H, W) float32 in [0, 1], display convention (air dark, bone bright)
    seed: int
    view: str  # "PA" or "AP"
    anatomy: dict[str, np.ndarray]  # ANATOMY_MASKS -> (H, W) bool
    findings: tuple[PhantomFinding, ...]
    ctr: float  # cardiothoracic ratio measured on the masks
    ctr_lines: tuple[tuple[tuple[float, float], tuple[float, float]], ...]  # cardiac, thoracic
    landmarks: dict[str, tuple[float, float]]  # normalised x, y
    patient: Patient
    spacing_mm: float  # pixel spacing at the detector

    @property
    def finding_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.findings)

    def finding(self, finding_id: str) -> PhantomFinding | None:
        return next((f for f in self.findings if f.id == finding_id), None)

    @property
    def labels(self) -> dict[str, float]:
        """Vocabulary labels: 1 present, 0 absent, parents implied; ``no_finding`` ignores
        support devices (as CheXpert does); ``pneumonia`` is nan (a diagnosis, not a sign)."""
        out = {fid: 0.0 for fid in FINDING_IDS}
        for f in self.findings:
            out[f.id] = 1.0
        for child, parent in PARENTS.items():
            if out.get(child) == 1.0:
                out[parent] = 1.0
        pathology = [f for f in self.findings if f.id != "support_devices"]
        out["no_finding"] = 0.0 if pathology else 1.0
        out["pneumonia"] = math.nan
        return out

    def to_radiograph(self, name: str | None = None) -> Radiograph:
        """The image as a ``Radiograph`` (sha256 of the image bytes, square pixel spacing)."""
        import hashlib

        digest = hashlib.sha256(self.image.tobytes()).hexdigest()
        return Radiograph(
            image=self.image,
            sha256=digest,
            source_name=name or f"phantom_{self.seed}.png",
            spacing_mm=(self.spacing_mm, self.spacing_mm),
            spacing_source="synthetic",
            metadata={"ViewPosition": self.view, "Modality": "DX", "synthetic": True},
        )


def generate_phantom(
    seed: int,
    *,
    findings: Sequence[str | FindingSpec] | None = None,
    config: PhantomConfig | None = None,
    view: str | None = None,
) -> Phantom:
    """Generate one phantom.

    ``findings``: vocabulary ids or ``FindingSpec`` (severity/side/zone fixed or drawn);
    ``()`` gives a normal film; ``None`` draws a case mix with ``sample_findings`` (30 %
    normal). ``view``: "PA" or "AP" (None: AP with probability ``config.ap_fraction``).
    The draws of each part (view and case mix, patient, anatomy, each finding, acquisition)
    come from their own streams of ``seed``, so fixing one part leaves the others unchanged.
    """
    cfg = config or PhantomConfig()
    seed = int(seed)
    ss = np.random.SeedSequence(seed)
    r_case, r_patient, r_anat, r_acq = (np.random.default_rng(s) for s in ss.spawn(4))
    ap_draw = r_case.random() < cfg.ap_fraction
    if view is None:
        view = "AP" if ap_draw else "PA"
    if view not in ("PA", "AP"):
        raise ValueError(f"view must be 'PA' or 'AP', got {view!r}")
    if findings is None:
        specs = sample_findings(
            r_case, cfg.prevalence, view=view, normal_fraction=cfg.normal_fraction
        )
    else:
        specs = [f if isinstance(f, FindingSpec) else FindingSpec(str(f)) for f in findings]
    specs = resolve_specs(specs, seed)

    patient = sample_patient(r_patient, cfg, view)
    grid = Grid(cfg.height_px, cfg.width_px)
    over = anatomy_overrides(specs, patient)
    b = build_anatomy(
        grid, patient, r_anat, heart_scale=over["heart_scale"], dome_raise=over["dome_raise"]
    )
    effects = [apply_finding(b, sp, seed) for sp in specs]

    L0 = line_integral(b, effects)
    rot = _Rotation(grid, patient.tilt_deg)
    L = rot.linear(L0)
    masks = rot.masks(
        {k: b.masks[k] for k in ANATOMY_MASKS} | {f"_f{i}": e.mask for i, e in enumerate(effects)}
    )
    acq = acquire(
        L,
        masks["body"],
        r_acq,
        photons=patient.photons,
        scatter=patient.scatter,
        compression=patient.compression,
        enhancement=patient.enhancement,
        gamma=patient.gamma,
        grid_lines=patient.grid_lines,
        background=patient.background,
    )
    image = acq.image
    image = _decorate(image, patient, grid, r_acq)

    anatomy = {k: masks[k] for k in ANATOMY_MASKS}
    ctr, lines = cardiothoracic_ratio(anatomy["heart"], anatomy["right_lung"], anatomy["left_lung"])
    mm_px = patient.mm_per_unit / grid.px
    background = image - blur(image, 6.0 * grid.width / 512.0)
    records = []
    for i, (sp, e) in enumerate(zip(specs, effects, strict=True)):
        mask = masks[f"_f{i}"]
        dL = rot.nearest(L0 - line_integral(b, effects, skip=i))
        records.append(
            _record(sp, e, mask, dL, acq, background, anatomy, ctr, patient, grid, mm_px)
        )
    landmarks = {k: rot.point(grid, v) for k, v in b.landmarks.items()}
    return Phantom(
        image=image,
        seed=seed,
        view=view,
        anatomy=anatomy,
        findings=tuple(records),
        ctr=ctr,
        ctr_lines=lines,
        landmarks=landmarks,
        patient=patient,
        spacing_mm=mm_px,
    )


def line_integral(b: Build, effects: Sequence[Effect], skip: int | None = None) -> np.ndarray:
    """Attenuation line integral of the anatomy with the findings' effects (all but ``skip``)."""
    aerated = np.ones(b.grid.shape, F32)  # share of the lung air left after fills
    keep = np.ones(b.grid.shape, F32)
    water = b.soft_cm - b.airway_air_cm
    metal = None
    for i, e in enumerate(effects):
        if i == skip:
            continue
        if e.fill is not None:
            aerated = aerated * (1.0 - e.fill)
        if e.keep is not None:
            keep = keep * e.keep
        if e.water is not None:
            water = water + e.water
        if e.air is not None:
            water = water - e.air
        if e.metal is not None:
            metal = e.metal if metal is None else metal + e.metal
    water = water - LUNG_AIR_FRACTION * b.lung_air_cm * aerated + b.lung_detail_cm * keep * aerated
    L = F32(MU_WATER) * water + F32(MU_BONE) * b.bone_cm
    if metal is not None:
        L = L + F32(MU_METAL) * metal
    return L.astype(F32)


class _Rotation:
    """In-plane rotation of the projected patient about the image centre (the tilt)."""

    def __init__(self, grid: Grid, deg: float):
        self.identity = abs(deg) < 1e-6
        self.shape = grid.shape
        if self.identity:
            return
        h, w = grid.shape
        t = math.radians(deg)
        self.c, self.s = math.cos(t), math.sin(t)
        yc, xc = (h - 1) / 2.0, (w - 1) / 2.0
        self.centre = (xc, yc)
        y = np.arange(h, dtype=F32)[:, None]
        x = np.arange(w, dtype=F32)[None, :]
        # output pixel -> source pixel (inverse rotation)
        sx = np.clip(self.c * (x - xc) + self.s * (y - yc) + xc, 0, w - 1)
        sy = np.clip(-self.s * (x - xc) + self.c * (y - yc) + yc, 0, h - 1)
        self.near = np.rint(sy).astype(np.intp) * w + np.rint(sx).astype(np.intp)
        x0 = np.minimum(np.floor(sx).astype(np.intp), w - 2)
        y0 = np.minimum(np.floor(sy).astype(np.intp), h - 2)
        self.i00 = y0 * w + x0
        self.w = w
        self.fx = (sx - x0).astype(F32)
        self.fy = (sy - y0).astype(F32)

    def linear(self, a: np.ndarray) -> np.ndarray:
        if self.identity:
            return a
        r = a.ravel()
        a00, a01 = r.take(self.i00), r.take(self.i00 + 1)
        a10, a11 = r.take(self.i00 + self.w), r.take(self.i00 + self.w + 1)
        top = a00 + (a01 - a00) * self.fx
        bot = a10 + (a11 - a10) * self.fx
        return (top + (bot - top) * self.fy).astype(F32)

    def nearest(self, a: np.ndarray) -> np.ndarray:
        return a if self.identity else a.ravel().take(self.near)

    def masks(self, masks: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Rotate boolean masks together (packed as bits of one integer image)."""
        names = list(masks)
        if self.identity:
            return {k: masks[k].copy() for k in names}
        out: dict[str, np.ndarray] = {}
        for start in range(0, len(names), 64):
            chunk = names[start : start + 64]
            packed = np.zeros(self.shape, np.uint64)
            for bit, k in enumerate(chunk):
                packed |= masks[k].astype(np.uint64) << np.uint64(bit)
            rotated = packed.ravel().take(self.near)
            for bit, k in enumerate(chunk):
                out[k] = ((rotated >> np.uint64(bit)) & np.uint64(1)).astype(bool)
        return out

    def point(self, grid: Grid, p: tuple[float, float]) -> tuple[float, float]:
        """A field-unit point -> normalised image coordinates after rotation."""
        px = grid.to_px(np.array([p]))[0]
        x, y = px[0] - 0.5, px[1] - 0.5  # pixel-centre index coordinates
        if not self.identity:
            xc, yc = self.centre
            dx, dy = x - xc, y - yc
            # forward rotation: inverse of the sampling map
            x = self.c * dx - self.s * dy + xc
            y = self.s * dx + self.c * dy + yc
        h, w = self.shape
        return (float((x + 0.5) / w), float((y + 0.5) / h))


def cardiothoracic_ratio(
    heart: np.ndarray, right_lung: np.ndarray, left_lung: np.ndarray
) -> tuple[float, tuple[tuple[tuple[float, float], tuple[float, float]], ...]]:
    """Cardiothoracic ratio from masks, with its two measurement lines (normalised coords).

    Cardiac width: the widest horizontal extent of the heart (rightmost minus leftmost
    column, in any rows, i.e. the sum of the largest excursions either side). Thoracic width:
    the largest inner thoracic width over the rows holding both lungs (outer edge of the right
    lung to outer edge of the left lung). Returns (nan, ()) when a mask is empty.
    """
    h, w = heart.shape
    hc = np.nonzero(heart.any(axis=0))[0]
    rows = np.nonzero(right_lung.any(axis=1) & left_lung.any(axis=1))[0]
    if hc.size == 0 or rows.size == 0:
        return math.nan, ()
    x0, x1 = int(hc[0]), int(hc[-1])
    r_first = np.argmax(right_lung[rows], axis=1)
    l_last = w - 1 - np.argmax(left_lung[rows, ::-1], axis=1)
    widths = l_last - r_first + 1
    k = int(np.argmax(widths))
    thorax = float(widths[k])
    cardiac = float(x1 - x0 + 1)
    hr = np.nonzero(heart[:, x0])[0]
    hl = np.nonzero(heart[:, x1])[0]
    y_card = (float(hr.mean()) + float(hl.mean())) / 2.0
    y_th = float(rows[k])
    card_line = (((x0 + 0.0) / w, (y_card + 0.5) / h), ((x1 + 1.0) / w, (y_card + 0.5) / h))
    th_line = (
        ((r_first[k] + 0.0) / w, (y_th + 0.5) / h),
        ((l_last[k] + 1.0) / w, (y_th + 0.5) / h),
    )
    return cardiac / thorax, (card_line, th_line)


_ZONE_OF = ("upper", "middle", "lower")


def _zone_map(anatomy: Mapping[str, np.ndarray]) -> dict[str, tuple[int, int]]:
    out = {}
    for side in ("right", "left"):
        rows = np.nonzero(anatomy[f"{side}_lung"].any(axis=1))[0]
        out[side] = (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, 0)
    return out


def _zone_of(anatomy: Mapping[str, np.ndarray], side: str, y_px: float) -> str:
    y0, y1 = _zone_map(anatomy)[side]
    if y1 <= y0:
        return f"{side}_lower_zone"
    k = int(np.clip((y_px - y0) / (y1 - y0) * 3, 0, 2))
    return f"{side}_{_ZONE_OF[k]}_zone"


def _regions(anatomy: Mapping[str, np.ndarray], mask: np.ndarray) -> tuple[str, ...]:
    n = mask.sum()
    if n == 0:
        return ()
    zones = _zone_map(anatomy)
    found = []
    for side in ("right", "left"):
        y0, y1 = zones[side]
        lung = anatomy[f"{side}_lung"]
        for k, z in enumerate(_ZONE_OF):
            a = int(y0 + k * (y1 - y0) / 3)
            c = int(y0 + (k + 1) * (y1 - y0) / 3)
            hit = (mask[a:c] & lung[a:c]).sum()
            if hit >= 0.1 * n:
                found.append(f"{side}_{z}_zone")
    return tuple(found)


def _record(
    sp: FindingSpec,
    e: Effect,
    mask: np.ndarray,
    dL: np.ndarray,
    acq,
    background: np.ndarray,
    anatomy: Mapping[str, np.ndarray],
    ctr: float,
    patient: Patient,
    grid: Grid,
    mm_px: float,
) -> PhantomFinding:
    h, w = mask.shape
    n = int(mask.sum())
    severity = float(sp.severity)
    if sp.id == "support_devices":
        severity = float(e.details.get("severity_from_count", severity))
    if n == 0:
        logger.info("finding %s has an empty mask (seed outside the field?)", sp.id)
        return PhantomFinding(
            sp.id,
            mask,
            severity,
            0.0,
            e.side or (sp.side or ""),
            e.location,
            (),
            (0.0, 0.0, 0.0, 0.0),
            (math.nan, math.nan),
            0.0,
            0.0,
            0.0,
            dict(e.details),
        )
    ii, jj = np.nonzero(mask)
    box = (jj.min() / w, ii.min() / h, (jj.max() + 1) / w, (ii.max() + 1) / h)
    cy, cx = float(ii.mean()), float(jj.mean())
    size_mm = 2.0 * math.sqrt(n / math.pi) * mm_px
    contrast_map = acq.gain * dL
    inside = contrast_map[mask]
    if sp.id == "support_devices":  # thin, very dense objects: their core, not their rim
        contrast = float(np.percentile(inside, 99))
    else:
        contrast = float(inside.mean())
    # anatomical noise: fine structure in a ring around the lesion, plus quantum noise
    y0, y1 = max(0, ii.min() - 24), min(h, ii.max() + 25)
    x0, x1 = max(0, jj.min() - 24), min(w, jj.max() + 25)
    ring = ~mask[y0:y1, x0:x1]
    bg = background[y0:y1, x0:x1][ring]
    sd_anat = float(bg.std()) if bg.size > 16 else 0.02
    sd_q = float(acq.noise_sd[mask].mean())
    cnr = abs(contrast) / max(math.sqrt(sd_anat**2 + sd_q**2), 1e-4)
    d = cnr * math.sqrt(min(size_mm, 30.0) / 10.0)
    conspicuity = 1.0 - math.exp(-((d / CONSPICUITY_SCALE) ** 2))
    details = dict(e.details)
    if sp.id == "cardiomegaly":
        # a geometric finding: visible as far as the ratio exceeds the normal limit
        limit = 0.5 * patient.magnification
        details["ctr"] = round(ctr, 4)
        conspicuity = float(np.clip((ctr - limit) / 0.2, 0.0, 1.0) ** 0.75)
    side = e.side or (sp.side or "")
    location = e.location
    if not location:
        lung_side = side if side in ("right", "left") else ("right" if cx < w / 2 else "left")
        location = _zone_of(anatomy, lung_side, cy)
    return PhantomFinding(
        id=sp.id,
        mask=mask,
        severity=severity,
        conspicuity=float(conspicuity),
        side=side,
        location=location,
        regions=_regions(anatomy, mask),
        box=tuple(float(v) for v in box),
        centroid=((cx + 0.5) / w, (cy + 0.5) / h),
        contrast=contrast,
        cnr=float(cnr),
        size_mm=float(size_mm),
        details=details,
    )


# 5 x 7 bitmaps of the lead laterality markers
_GLYPHS = {
    "L": ["10000", "10000", "10000", "10000", "10000", "10000", "11111"],
    "R": ["11110", "10001", "10001", "11110", "10100", "10010", "10001"],
}


def _decorate(image: np.ndarray, p: Patient, grid: Grid, rng: np.random.Generator) -> np.ndarray:
    """Collimation band and lead marker: display-domain details of real films."""
    out = image
    h, w = image.shape
    if p.collimation > 0:
        rows = int(p.collimation * grid.px)
        if rows > 0:
            edge = np.clip(np.arange(rows + 4)[::-1] - 3.0, 0, None) / 4.0
            band = np.clip(edge, 0, 1)[:, None].astype(F32)
            top = out[: rows + 4]
            out[: rows + 4] = top * (1 - band) + band * F32(0.93)
    if p.marker:
        letter = "L" if rng.random() < 0.8 else "R"
        glyph = np.array([[c == "1" for c in row] for row in _GLYPHS[letter]], F32)
        cell = max(1, int(round(0.005 * grid.px)))
        g = np.kron(glyph, np.ones((cell, cell), F32))
        gh, gw = g.shape
        x0 = int((0.88 + 0.05 * rng.random()) * w) - gw
        y0 = int((0.03 + 0.06 * rng.random()) * h)
        if 0 <= x0 and x0 + gw <= w and y0 + gh <= h:
            g = blur(g, 0.5) if cell > 1 else g
            region = out[y0 : y0 + gh, x0 : x0 + gw]
            out[y0 : y0 + gh, x0 : x0 + gw] = np.maximum(region, g * F32(0.97))
    return np.clip(out, 0.0, 1.0).astype(F32)


__all__ += ["FindingSpec", "SYNTH_FINDINGS", "sample_findings"]
