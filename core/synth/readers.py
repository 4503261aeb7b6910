"""Simulated radiologists: a reader profile and one frontal chest read -> fixations, labels,
ellipses and a dictated report with word timestamps, in REFLACX's clock.

``read_case(anatomy, findings, profile, seed)`` simulates one read of one image by one reader.
The behaviour follows the reading literature summarised in GAZE_FACTS section 2; every number
below says where it comes from - a published figure, a fit to one, or a **design choice**
(a plausible value with no published figure behind it).

The read, in order:

1. **Global impression.** The first fixation lands near the centre, drawn from
   N(:data:`FIRST_FIXATION_MEAN`, :data:`FIRST_FIXATION_SD`) (mean: GazeSearch's first-fixation
   mean (0.52, 0.47); SD: design choice). About ``profile.global_fixations`` (3-5, design choice
   for "a few fixations in the first second(s)") follow, with large saccades to the gist points
   (both lung fields, the heart, the trachea; 0.05 image widths jitter). Conspicuous findings can
   *pop out* here, anywhere on the film: each global fixation detects a finding with probability
   ``skill * c^3 * exp(-(d / 0.35)^2)`` (``c`` conspicuity, ``d`` distance to the finding in
   image widths; :data:`GLOBAL_FIELD`) - the holistic first look in which readers detect many
   abnormalities without search (Kundel & Nodine 1975, flash viewing); exponents and field are
   design choices.
2. **Systematic search** over the atlas in the reader's ABCDEF order (``profile.checklist``;
   :data:`STAGES`): A airway; B lungs upper -> lower, either comparing right/left zone by zone
   (``lungs="compare"``) or one side then the other (``"sides"``), then the hila; C heart,
   aortic knob, mediastinum; D hemidiaphragms and costophrenic angles; E bones, spine and soft
   tissue (near the chest); F lines and tubes (only when devices are present). Each station
   gets ``max(1, Poisson(thoroughness x weight))`` fixations (:data:`STATION_WEIGHT`; x 1.1 once
   something was found; design choices). The first lands at the nearest of four random cells of
   the region's mask to a point 65 % of the way from the region's centre to the current gaze
   (regions are entered from the side the eye comes from); the next ones by short intra-region
   saccades (Gaussian steps of 50 % of the region's size, clipped to 0.075-0.11 image widths,
   redrawn outside the mask). While searching, each fixation detects a not yet found finding
   with probability ``skill * c^1.5 * exp(-(d / r)^2)``, with a useful field of view ``r = 0.03
   + 0.07 c`` image widths (about 0.8-2.6 degrees here; design choice): conspicuous findings are
   picked up from further away and earlier, subtle ones only when fixated and often not even
   then (the miss probability falls with conspicuity and skill).
3. **A found finding** gets a dwell cluster right away (``2 + Poisson(0.5 + 1.5 (1 - c))``
   fixations inside its mask, steps of 0.04-0.08 widths; subtler findings take longer to
   characterise - design choice), then the search resumes where it stopped. After the
   checklist, each found finding is revisited with probability ``profile.revisit`` (1-2
   fixations). Fixations on or near a finding last longer: dwell, revisit and false-positive
   fixations x :data:`DWELL_DURATION_FACTOR`, and any other fixation x ``(1 + 0.5 c exp(-(d /
   r)^2))`` - also near findings that end up missed (Kundel et al. 1978 found that many missed
   nodules had been fixated, some for long: "decision errors"; the factors are design choices).
   Harder cases therefore take longer: more dwell, more revisits, longer fixations.
4. **False positives.** With probability ``profile.false_positive_rate`` per read the reader
   dwells on a normal lung zone or costophrenic angle (2-3 fixations) and reports a finding
   there with certainty 2-3.
5. **Dictation** (:mod:`core.synth.dictation`): one sentence per reported finding, started
   an eye-voice lag after its dwell cluster ends (N(0.9, 0.25) s, clipped to 0.3-2 s: speakers
   fixate what they name about 0.9 s before naming it, Griffin & Bock 2000), normal statements
   after their checklist stage, speech never overlapping. The reader keeps looking (2-4
   fixations at a time on found findings or lung zones) until the last word, plus 0.2-0.6 s.

Blinks and tracking losses: after 5 % of fixations a 0.1-0.35 s gap (design choice; blink
rates drop during visual inspection).

Durations: ``FIXATION_DURATION`` (the lognormal fitted to GazeSearch's median 0.28 s, mean
0.32 s, 5-95 % 0.13-0.63 s, ``core.gaze.published``) times :data:`BASE_DURATION_SCALE` (set so
that the *pooled* durations, dwell and near-finding lengthening included, match those figures:
``gazescope synth-report`` prints the check), times ``profile.duration_scale``, clipped to
0.06-3 s. Saccades between fixations take 21 ms + 2.2 ms per degree (the saccadic main
sequence, Carpenter 1988). Fixation counts come out around EGD-CXR's ~45 per read.

Clock and display (REFLACX's conventions): times are seconds from the start of the dictation
audio, which starts with the image; the first fixation starts 0.15-0.45 s later (design
choice). Pixels per degree: the image is shown fitted to the height of a 1920 x 1080 screen
seen at 40 screen pixels per degree (the geometry EGD-CXR's reader assumes:
``core.gaze.published.DEFAULT_SCREEN_PPD``), so image pixels per degree = 40 x H / 1080 for a
portrait/square image (x ``1 + 0.02`` slow head-distance drift, design choice).

Sides are the patient's: the right lung is on the image's left.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage as ndi

from core.anatomy.types import Anatomy
from core.data.case import Report
from core.gaze.published import (
    DEFAULT_SCREEN_PPD,
    EGD_SCREEN_PX,
    FIRST_FIXATION_MEAN,  # GazeSearch first-fixation mean
    FIXATION_DURATION,
)
from core.gaze.scanpath import Fixation, Scanpath

if TYPE_CHECKING:
    from core.synth.phantom import PhantomFinding

__all__ = [
    "BASE_DURATION_SCALE",
    "DEFAULT_PANEL",
    "DWELL_DURATION_FACTOR",
    "FIRST_FIXATION_MEAN",
    "FIRST_FIXATION_SD",
    "STAGES",
    "STATION_WEIGHT",
    "CaseFinding",
    "FindingOutcome",
    "ReaderProfile",
    "ReadingScene",
    "ReportedFinding",
    "SimulatedRead",
    "default_panel",
    "display_geometry",
    "as_case_finding",
    "read_case",
    "resample_mask",
]

FIRST_FIXATION_SD = 0.04  # design choice (not published)
# Multiplies core.gaze.published.FIXATION_DURATION so that the pooled durations (with dwell
# and near-finding lengthening) land on the published median/mean; calibrated on a 300-read
# phantom corpus (gazescope synth-report prints the comparison)
BASE_DURATION_SCALE = 0.87
DWELL_DURATION_FACTOR = 1.4  # design choice: abnormalities draw longer fixations
NEAR_FINDING_GAIN = 0.5  # design choice: duration x (1 + gain * c * falloff)
SACCADE_BASE_S, SACCADE_S_PER_DEG = 0.021, 0.0022  # saccadic main sequence (Carpenter 1988)
ONSET_S = (0.15, 0.45)  # first fixation start after the audio starts (design choice)
GLOBAL_FIELD = 0.35  # image widths: pop-out field of the global look (design choice)
MIN_DURATION_S, MAX_DURATION_S = 0.06, 3.0
# blinks and tracking losses between fixations: ~8 per minute at ~2.7 fixations/s, 0.1-0.35 s
# each (design choice: blink rates drop during visual inspection)
GAP_PROBABILITY, GAP_S = 0.05, (0.1, 0.35)

# ABCDEF stages -> stations (atlas region ids); B depends on the reader's lung pattern
_LUNGS_COMPARE = (
    "right_upper_zone",
    "left_upper_zone",
    "right_middle_zone",
    "left_middle_zone",
    "right_lower_zone",
    "left_lower_zone",
)
_LUNGS_SIDES = (
    "right_upper_zone",
    "right_middle_zone",
    "right_lower_zone",
    "left_upper_zone",
    "left_middle_zone",
    "left_lower_zone",
)
STAGES: dict[str, tuple[str, ...]] = {
    "A": ("trachea",),
    "B": (*_LUNGS_COMPARE, "right_hilum", "left_hilum"),
    "C": ("cardiac_silhouette", "aortic_knob", "mediastinum"),
    "D": (
        "right_hemidiaphragm",
        "right_costophrenic_angle",
        "left_hemidiaphragm",
        "left_costophrenic_angle",
    ),
    "E": ("bones", "spine", "soft_tissue"),
    "F": ("devices",),  # the support devices' own mask; skipped when there are none
}
# relative fixations per station (x thoroughness); design choice: bigger or busier regions more
STATION_WEIGHT: dict[str, float] = {
    "trachea": 0.7,
    **{z: 1.0 for z in _LUNGS_COMPARE},
    "right_hilum": 0.6,
    "left_hilum": 0.6,
    "cardiac_silhouette": 1.2,
    "aortic_knob": 0.5,
    "mediastinum": 0.7,
    "right_hemidiaphragm": 0.6,
    "left_hemidiaphragm": 0.6,
    "right_costophrenic_angle": 0.8,
    "left_costophrenic_angle": 0.8,
    "bones": 1.2,
    "spine": 0.6,
    "soft_tissue": 0.6,
    "devices": 1.5,
}
_LUNG_ZONES = frozenset(_LUNGS_COMPARE)
# false-positive candidates per kind of station (design choice)
_FP_LUNG = ("nodule", "lung_opacity", "atelectasis", "consolidation")
_FP_ANGLE = ("pleural_effusion",)


# --------------------------------------------------------------------------------------------
# Reader profiles


@dataclass(frozen=True)
class ReaderProfile:
    """How one simulated radiologist reads. Values are design choices spanning plausible
    variation between readers (no published per-reader parameters exist); see the module
    docstring for how each enters the simulation."""

    reader_id: str
    checklist: str = "ABCDEF"  # order of the ABCDEF stages
    lungs: str = "compare"  # "compare": right/left zone by zone; "sides": one lung, then the other
    thoroughness: float = 1.3  # mean fixations per checklist station (x STATION_WEIGHT)
    duration_scale: float = 1.0  # speed: multiplies every fixation duration
    skill: float = 0.88  # detection sensitivity in [0, 1]
    global_fixations: float = 4.0  # mean length of the global look, fixations
    revisit: float = 0.5  # probability of revisiting each found finding after the checklist
    false_positive_rate: float = 0.05  # probability per read of reporting a finding not there
    dictation: str = "full"  # "full" sentences or "terse" telegraphic style
    words_per_s: float = 2.5  # speaking rate (~150 words per minute)

    def __post_init__(self) -> None:
        if sorted(self.checklist) != sorted("ABCDEF"):
            raise ValueError(
                f"{self.reader_id}: checklist must order the letters ABCDEF once each, "
                f"got {self.checklist!r}"
            )
        if self.lungs not in ("compare", "sides"):
            raise ValueError(f"{self.reader_id}: lungs must be 'compare' or 'sides'")
        if self.dictation not in ("full", "terse"):
            raise ValueError(f"{self.reader_id}: dictation must be 'full' or 'terse'")
        for name in ("skill", "revisit", "false_positive_rate"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{self.reader_id}: {name} must be in [0, 1], got {v}")
        for name in ("thoroughness", "duration_scale", "global_fixations", "words_per_s"):
            v = getattr(self, name)
            if not v > 0:
                raise ValueError(f"{self.reader_id}: {name} must be > 0, got {v}")

    def stations(self, has_devices: bool) -> list[tuple[str, str]]:
        """``(stage letter, region id)`` in reading order."""
        out = []
        for letter in self.checklist:
            regions = STAGES[letter]
            if letter == "B" and self.lungs == "sides":
                regions = (*_LUNGS_SIDES, "right_hilum", "left_hilum")
            if letter == "F" and not has_devices:
                continue
            out.extend((letter, r) for r in regions)
        return out


DEFAULT_PANEL: tuple[ReaderProfile, ...] = (
    # a classic systematic reader
    ReaderProfile("sim1", "ABCDEF", "compare", 1.3, 1.0, 0.88, 4.0, 0.5, 0.05, "full", 2.5),
    # fast, lungs first, one side then the other, terse
    ReaderProfile("sim2", "BCDAEF", "sides", 1.15, 0.9, 0.80, 3.0, 0.35, 0.08, "terse", 2.9),
    # slow and thorough, heart first, long global look
    ReaderProfile("sim3", "CBADFE", "compare", 1.6, 1.1, 0.93, 5.0, 0.7, 0.03, "full", 2.2),
    # average, lungs by side, terse
    ReaderProfile("sim4", "ABCDEF", "sides", 1.3, 1.05, 0.85, 3.5, 0.5, 0.06, "terse", 2.6),
    # lungs first, comparing, quick global look (held out of training by default)
    ReaderProfile("sim5", "BACDEF", "compare", 1.4, 0.95, 0.90, 3.0, 0.55, 0.05, "full", 2.7),
)


def default_panel(n: int | None = None) -> tuple[ReaderProfile, ...]:
    """The first ``n`` profiles of :data:`DEFAULT_PANEL` (all five when None)."""
    if n is None:
        return DEFAULT_PANEL
    if not 1 <= n <= len(DEFAULT_PANEL):
        raise ValueError(f"the default panel has 1-{len(DEFAULT_PANEL)} readers, asked for {n}")
    return DEFAULT_PANEL[:n]


# --------------------------------------------------------------------------------------------
# Findings as the reader sees them


@dataclass(frozen=True)
class CaseFinding:
    """A finding on the image, as a simulated reader needs it.

    ``mask`` is on the anatomy grid, or None when the location is unknown (a real image's label
    without a box): such a finding can be reported but draws no fixations. ``severity`` None:
    unknown (no severity word is dictated). ``location`` is a region id of the atlas (or
    "costophrenic_angles", "hila", "devices", "" ...), ``side`` the patient's.
    """

    id: str  # vocabulary id
    mask: np.ndarray | None
    conspicuity: float
    severity: float | None = None
    side: str = ""
    location: str = ""
    size_mm: float | None = None
    details: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.conspicuity <= 1.0:
            raise ValueError(f"{self.id}: conspicuity must be in [0, 1], got {self.conspicuity}")

    @property
    def located(self) -> bool:
        return self.mask is not None and bool(self.mask.any())


def as_case_finding(f: CaseFinding | PhantomFinding) -> CaseFinding:
    """A ``CaseFinding`` from itself or from a phantom's ``PhantomFinding`` (same field names;
    an empty phantom mask becomes "unlocated")."""
    if isinstance(f, CaseFinding):
        return f
    return CaseFinding(
        id=f.id,
        mask=f.mask if f.mask.any() else None,
        conspicuity=float(f.conspicuity),
        severity=float(f.severity),
        side=f.side,
        location=f.location,
        size_mm=float(f.size_mm),
        details=dict(f.details),
    )


def resample_mask(mask: np.ndarray, shape: tuple[int, int], how: str = "any") -> np.ndarray:
    """A boolean mask on another grid spanning the same image.

    Shrinking: a target cell is set when ``how="any"`` source pixel in it is (thin devices
    survive), or ``"majority"`` when at least half are. Growing: nearest neighbour.
    """
    m = np.asarray(mask, dtype=bool)
    H, W = m.shape
    gh, gw = shape
    if (H, W) == (gh, gw):
        return m.copy()
    if gh > H or gw > W:
        rows = np.minimum(((np.arange(gh) + 0.5) * H / gh).astype(int), H - 1)
        cols = np.minimum(((np.arange(gw) + 0.5) * W / gw).astype(int), W - 1)
        return m[np.ix_(rows, cols)]
    r_edges = np.floor(np.arange(gh) * H / gh).astype(int)
    c_edges = np.floor(np.arange(gw) * W / gw).astype(int)
    counts = np.add.reduceat(np.add.reduceat(m.astype(np.int32), r_edges, 0), c_edges, 1)
    if how == "any":
        return counts > 0
    if how != "majority":
        raise ValueError(f"how must be 'any' or 'majority', got {how!r}")
    rh = np.diff(np.append(r_edges, H))[:, None]
    cw = np.diff(np.append(c_edges, W))[None, :]
    return 2 * counts >= rh * cw


def display_geometry(width_px: int, height_px: int) -> dict[str, float]:
    """Where the image sits on the simulated 1920 x 1080 screen and its pixels per degree.

    The whole image is shown, fitted to the screen (aspect kept, centred); screen pixels per
    degree = ``DEFAULT_SCREEN_PPD`` (40), so image pixels per degree = 40 / scale.
    """
    sw, sh = EGD_SCREEN_PX
    scale = min(sw / width_px, sh / height_px)  # screen px per image px
    w_s, h_s = width_px * scale, height_px * scale
    x0, y0 = (sw - w_s) / 2.0, (sh - h_s) / 2.0
    return {
        "scale": scale,
        "ppd": DEFAULT_SCREEN_PPD / scale,
        "screen_x0": x0,
        "screen_y0": y0,
        "screen_x1": x0 + w_s,
        "screen_y1": y0 + h_s,
    }


# --------------------------------------------------------------------------------------------
# The prepared scene: sampling masks and distance maps, shared by every reader of an image


@dataclass
class _Target:
    cells: np.ndarray  # flat indices of the mask on the grid
    mask: np.ndarray
    centroid: tuple[float, float]  # normalised x, y
    spread: float  # sqrt(area) in image widths


@dataclass
class _FindingView:
    finding: CaseFinding
    target: _Target | None  # None: unlocated
    dist: np.ndarray | None  # (gh, gw) distance to the mask, image widths (0 inside)
    reach: float  # useful field of view radius, image widths


class ReadingScene:
    """An image's anatomy and findings prepared for reading (build once, read many times)."""

    def __init__(
        self,
        anatomy: Anatomy,
        findings: Sequence[CaseFinding | PhantomFinding],
        image_size_px: tuple[int, int],
    ) -> None:
        self.anatomy = anatomy
        self.grid = anatomy.grid_shape
        gh, gw = self.grid
        self.width_px, self.height_px = int(image_size_px[0]), int(image_size_px[1])
        if self.width_px <= 0 or self.height_px <= 0:
            raise ValueError(f"image_size_px must be positive, got {image_size_px}")
        self.aspect = self.height_px / self.width_px  # y in widths = y * aspect
        self.cell_w = (1.0 / gw, self.aspect / gh)  # (x, y) cell size in image widths
        geo = display_geometry(self.width_px, self.height_px)
        self.ppd = geo["ppd"]
        self.geometry = geo
        self.findings = [self._finding_view(as_case_finding(f)) for f in findings]
        self.targets: dict[str, _Target] = {}
        regions = anatomy.regions
        lungs = regions["right_lung"].mask | regions["left_lung"].mask
        self.has_lungs = bool(lungs.any())
        chest = lungs | regions["cardiac_silhouette"].mask
        near_chest = (
            ndi.binary_dilation(chest, iterations=max(1, round(0.05 * gw)))
            if chest.any()
            else chest
        )
        for rid, region in regions.items():
            mask = region.mask
            if rid == "soft_tissue":  # chest wall and upper abdomen, not the film's corners
                mask = mask & near_chest
            t = self._target(mask)
            if t is not None:
                self.targets[rid] = t
        for fv in self.findings:
            if fv.finding.id == "support_devices" and fv.target is not None:
                self.targets["devices"] = fv.target
        self.gist = [
            self.targets[r].centroid
            for r in ("right_lung", "left_lung", "cardiac_silhouette", "trachea")
            if r in self.targets
        ] or [(0.5, 0.5)]
        if self.has_lungs:
            x0 = min(regions["right_lung"].box[0], regions["left_lung"].box[0])
            y0 = min(regions["right_lung"].box[1], regions["left_lung"].box[1])
            x1 = max(regions["right_lung"].box[2], regions["left_lung"].box[2])
            y1 = max(regions["right_lung"].box[3], regions["left_lung"].box[3])
            self.chest_box = (x0, y0, x1, y1)
        else:
            self.chest_box = (0.1, 0.1, 0.9, 0.9)

    def _target(self, mask: np.ndarray) -> _Target | None:
        mask = np.asarray(mask, dtype=bool)
        cells = np.flatnonzero(mask)
        if cells.size == 0:
            return None
        gh, gw = self.grid
        ii, jj = np.divmod(cells, gw)
        centroid = (float((jj.mean() + 0.5) / gw), float((ii.mean() + 0.5) / gh))
        spread = math.sqrt(cells.size * self.cell_w[0] * self.cell_w[1])
        return _Target(cells, mask, centroid, spread)

    def _finding_view(self, f: CaseFinding) -> _FindingView:
        reach = 0.03 + 0.07 * f.conspicuity
        if f.mask is None:
            return _FindingView(f, None, None, reach)
        mask = np.asarray(f.mask, dtype=bool)
        if mask.shape != self.grid:
            mask = resample_mask(mask, self.grid, "any")
        t = self._target(mask)
        if t is None:
            return _FindingView(f, None, None, reach)
        dist = ndi.distance_transform_edt(~mask, sampling=(self.cell_w[1], self.cell_w[0]))
        return _FindingView(f, t, dist.astype(np.float32), reach)

    def cell_of(self, x: float, y: float) -> tuple[int, int]:
        gh, gw = self.grid
        return min(gh - 1, max(0, int(y * gh))), min(gw - 1, max(0, int(x * gw)))


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class ReportedFinding:
    """A finding the reader reported (true or false positive)."""

    id: str  # vocabulary id
    certainty: int  # REFLACX scale 1-5 (5 "consistent with", 2 "unlikely"-ish hedged)
    side: str
    location: str
    boxes: tuple[tuple[float, float, float, float], ...]  # drawn ellipses' boxes, normalised
    source: int  # index into the case's findings; -1: false positive
    found_by: tuple[int, ...]  # fixation indices: the detecting one, then the dwell cluster
    severity: float | None = None
    size_mm: float | None = None
    details: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class FindingOutcome:
    """What happened to one of the case's findings in this read."""

    index: int
    id: str
    located: bool
    conspicuity: float
    found: bool
    detect_fixation: int  # -1 when not found by gaze (missed, or unlocated)
    first_fixation_on: int  # first fixation inside the finding's mask, -1 never


@dataclass(frozen=True)
class SimulatedRead:
    reader_id: str
    seed: int
    scanpath: Scanpath  # house units; ppd set on every fixation
    phases: tuple[str, ...]  # per fixation: global/search/dwell/revisit/false_positive/idle
    stations: tuple[str, ...]  # per fixation: the region (or finding id) being looked at
    reported: tuple[ReportedFinding, ...]
    outcomes: tuple[FindingOutcome, ...]
    report: Report
    chest_box: tuple[float, float, float, float]  # normalised, as the reader drew it
    sentence_starts: tuple[float, ...] = ()  # per reported finding: its sentence's first word

    @property
    def certainty(self) -> dict[str, int]:
        """Vocabulary id -> highest certainty reported (1-5)."""
        out: dict[str, int] = {}
        for r in self.reported:
            out[r.id] = max(out.get(r.id, 0), r.certainty)
        return out

    @property
    def found_by(self) -> dict[int, tuple[int, ...]]:
        """Case finding index -> the fixations that found it (detecting + dwell)."""
        return {r.source: r.found_by for r in self.reported if r.source >= 0}


# --------------------------------------------------------------------------------------------
# The simulation


class _Gaze:
    """The growing scanpath with its clock."""

    def __init__(self, scene: ReadingScene, profile: ReaderProfile, rng: np.random.Generator):
        self.scene, self.profile, self.rng = scene, profile, rng
        self.mu = FIXATION_DURATION.mu + math.log(BASE_DURATION_SCALE * profile.duration_scale)
        self.sigma = FIXATION_DURATION.sigma
        self.x: list[float] = []
        self.y: list[float] = []
        self.start: list[float] = []
        self.dur: list[float] = []
        self.phase: list[str] = []
        self.station: list[str] = []
        self.t = float(rng.uniform(*ONSET_S))
        self.drift = 0.0
        self.ppd: list[float] = []

    def __len__(self) -> int:
        return len(self.x)

    @property
    def last(self) -> tuple[float, float]:
        return (self.x[-1], self.y[-1]) if self.x else FIRST_FIXATION_MEAN

    def near_finding_gain(self, x: float, y: float) -> float:
        """Duration factor of a fixation near findings (found or not): 1 + gain * c * falloff."""
        i, j = self.scene.cell_of(x, y)
        best = 0.0
        for fv in self.scene.findings:
            if fv.dist is None:
                continue
            d = float(fv.dist[i, j])
            c = fv.finding.conspicuity
            best = max(best, c * math.exp(-((d / fv.reach) ** 2)))
        return 1.0 + NEAR_FINDING_GAIN * best

    def add(self, x: float, y: float, phase: str, station: str, factor: float = 1.0) -> int:
        x = float(np.clip(x, 0.0, 0.9999))
        y = float(np.clip(y, 0.0, 0.9999))
        if self.x:
            amp_w = math.hypot(x - self.x[-1], (y - self.y[-1]) * self.scene.aspect)
            amp_deg = amp_w * self.scene.width_px / self.scene.ppd
            self.t += SACCADE_BASE_S + SACCADE_S_PER_DEG * amp_deg
            if self.rng.random() < GAP_PROBABILITY:
                self.t += float(self.rng.uniform(*GAP_S))
        d = float(self.rng.lognormal(self.mu, self.sigma)) * factor
        d = float(np.clip(d, MIN_DURATION_S, MAX_DURATION_S))
        self.drift = 0.95 * self.drift + float(self.rng.normal(0.0, 0.006))
        self.x.append(x)
        self.y.append(y)
        self.start.append(self.t)
        self.dur.append(d)
        self.phase.append(phase)
        self.station.append(station)
        self.ppd.append(self.scene.ppd * (1.0 + float(np.clip(self.drift, -0.05, 0.05))))
        self.t += d
        return len(self.x) - 1

    def scanpath(self, image_id: str) -> Scanpath:
        fixations = tuple(
            Fixation(x, y, s, d, ppd_x=p, ppd_y=p)
            for x, y, s, d, p in zip(self.x, self.y, self.start, self.dur, self.ppd, strict=True)
        )
        return Scanpath(
            fixations,
            reader_id=self.profile.reader_id,
            source="synthetic",
            image_id=image_id,
        )


def _cell_point(scene: ReadingScene, cell: int, rng: np.random.Generator) -> tuple[float, float]:
    gh, gw = scene.grid
    i, j = divmod(int(cell), gw)
    return (j + float(rng.random())) / gw, (i + float(rng.random())) / gh


def _entry_point(
    scene: ReadingScene, t: _Target, rng: np.random.Generator, toward: tuple[float, float]
) -> tuple[float, float]:
    """The nearest to ``toward`` of four random cells of the target."""
    cells = t.cells[rng.integers(0, t.cells.size, size=4)]
    gh, gw = scene.grid
    ii, jj = np.divmod(cells, gw)
    dx = (jj + 0.5) / gw - toward[0]
    dy = ((ii + 0.5) / gh - toward[1]) * scene.aspect
    return _cell_point(scene, int(cells[int(np.argmin(dx * dx + dy * dy))]), rng)


def _walk(
    scene: ReadingScene,
    t: _Target,
    rng: np.random.Generator,
    start: tuple[float, float],
    lo: float = 0.075,
    hi: float = 0.11,
) -> tuple[float, float]:
    """A short intra-region saccade from ``start`` that stays in the target's mask."""
    step = float(np.clip(0.5 * t.spread, lo, hi))
    for _ in range(8):
        x = start[0] + float(rng.normal(0.0, step))
        y = start[1] + float(rng.normal(0.0, step)) / scene.aspect
        if 0.0 <= x < 1.0 and 0.0 <= y < 1.0:
            i, j = scene.cell_of(x, y)
            if t.mask[i, j]:
                return x, y
    return _cell_point(scene, int(t.cells[rng.integers(0, t.cells.size)]), rng)


class _Reader:
    """One read in progress (see the module docstring for the model)."""

    def __init__(self, scene: ReadingScene, profile: ReaderProfile, seed: int) -> None:
        self.scene, self.profile = scene, profile
        self.rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5EAD]))
        self.gaze = _Gaze(scene, profile, self.rng)
        self.found: dict[int, int] = {}  # finding index -> detecting fixation
        self.found_by: dict[int, list[int]] = {}
        self.first_on: dict[int, int] = {}
        self.dwell_end: dict[int, float] = {}
        self.triggers: dict[str, float] = {}  # normal-statement topic -> time
        self.false_positive: ReportedFinding | None = None
        self.fp_time = math.nan

    # detection ------------------------------------------------------------------------------

    def _look(self, idx: int, phase: str) -> list[int]:
        """Register fixation ``idx``; return findings it detects (not yet found)."""
        x, y = self.gaze.x[idx], self.gaze.y[idx]
        i, j = self.scene.cell_of(x, y)
        detected = []
        skill = self.profile.skill
        for k, fv in enumerate(self.scene.findings):
            if fv.dist is None:
                continue
            d = float(fv.dist[i, j])
            if d == 0.0 and k not in self.first_on:
                self.first_on[k] = idx
            if k in self.found:
                continue
            c = fv.finding.conspicuity
            if phase == "global":
                p = skill * c**3 * math.exp(-((d / GLOBAL_FIELD) ** 2))
            else:
                p = skill * c**1.5 * math.exp(-((d / fv.reach) ** 2))
            if self.rng.random() < p:
                self.found[k] = idx
                detected.append(k)
        return detected

    def _fixate(self, x: float, y: float, phase: str, station: str, factor: float = 1.0) -> int:
        gain = self.gaze.near_finding_gain(x, y)
        idx = self.gaze.add(x, y, phase, station, factor * gain)
        for k in self._look(idx, phase):
            self._dwell(k, idx)
        return idx

    def _dwell(self, k: int, detect_idx: int) -> None:
        fv = self.scene.findings[k]
        t = fv.target
        assert t is not None
        c = fv.finding.conspicuity
        n = 2 + int(self.rng.poisson(0.5 + 1.5 * (1.0 - c)))
        members = [detect_idx]
        pos = _entry_point(self.scene, t, self.rng, self.gaze.last)
        for m in range(n):
            if m:
                pos = _walk(self.scene, t, self.rng, pos, lo=0.04, hi=0.08)
            idx = self.gaze.add(*pos, "dwell", fv.finding.id, DWELL_DURATION_FACTOR)
            self.first_on.setdefault(k, idx)
            members.append(idx)
            # other findings can be noticed while dwelling here
            for other in self._look(idx, "dwell"):
                self._dwell(other, idx)
        self.found_by[k] = members
        self.dwell_end[k] = self.gaze.t

    # the read ----------------------------------------------------------------------------

    def global_look(self) -> None:
        mx, my = FIRST_FIXATION_MEAN
        x = mx + float(self.rng.normal(0.0, FIRST_FIXATION_SD))
        y = my + float(self.rng.normal(0.0, FIRST_FIXATION_SD))
        self._fixate(x, y, "global", "global")
        n = max(1, int(round(self.rng.normal(self.profile.global_fixations, 1.0))))
        gist = self.scene.gist
        for _ in range(n - 1):
            gx, gy = gist[int(self.rng.integers(0, len(gist)))]
            self._fixate(
                gx + float(self.rng.normal(0.0, 0.05)),
                gy + float(self.rng.normal(0.0, 0.05)),
                "global",
                "global",
            )

    def search(self) -> None:
        has_devices = "devices" in self.scene.targets
        stations = [s for s in self.profile.stations(has_devices) if s[1] in self.scene.targets]
        fp_station = None
        if self.rng.random() < self.profile.false_positive_rate:
            candidates = [
                i
                for i, (_, r) in enumerate(stations)
                if r in _LUNG_ZONES or r.endswith("costophrenic_angle")
            ]
            if candidates:
                fp_station = candidates[int(self.rng.integers(0, len(candidates)))]
        previous_letter = None
        for si, (letter, rid) in enumerate(stations):
            if previous_letter is not None and letter != previous_letter:
                self.triggers[previous_letter] = self.gaze.t
            previous_letter = letter
            t = self.scene.targets[rid]
            mean = self.profile.thoroughness * STATION_WEIGHT.get(rid, 1.0)
            if self.found:  # an abnormal film is read more carefully (harder cases take longer)
                mean *= 1.1
            n = max(1, int(self.rng.poisson(mean)))
            lx, ly = self.gaze.last
            toward = (0.65 * lx + 0.35 * t.centroid[0], 0.65 * ly + 0.35 * t.centroid[1])
            pos = _entry_point(self.scene, t, self.rng, toward)
            for m in range(n):
                if m:
                    pos = _walk(self.scene, t, self.rng, self.gaze.last if self._on(t) else pos)
                self._fixate(*pos, "search", rid)
                if si == fp_station and m == 0:
                    self._false_positive(rid, t)
        if previous_letter is not None:
            self.triggers[previous_letter] = self.gaze.t

    def _on(self, t: _Target) -> bool:
        i, j = self.scene.cell_of(*self.gaze.last)
        return bool(t.mask[i, j])

    def _false_positive(self, rid: str, t: _Target) -> None:
        present = {fv.finding.id for fv in self.scene.findings}
        choices = [f for f in (_FP_LUNG if rid in _LUNG_ZONES else _FP_ANGLE) if f not in present]
        if not choices:
            return
        fid = choices[int(self.rng.integers(0, len(choices)))]
        start = len(self.gaze)
        pos = self.gaze.last
        for _ in range(2 + int(self.rng.poisson(0.7))):
            pos = _walk(self.scene, t, self.rng, pos, lo=0.015, hi=0.03)
            self.gaze.add(*pos, "false_positive", fid, DWELL_DURATION_FACTOR)
        xs = np.array(self.gaze.x[start:])
        ys = np.array(self.gaze.y[start:])
        r = float(self.rng.uniform(0.03, 0.06))
        box = _clip_box(
            (
                xs.mean() - r,
                ys.mean() - r / self.scene.aspect,
                xs.mean() + r,
                ys.mean() + r / self.scene.aspect,
            )
        )
        side = "right" if rid.startswith("right") else "left"
        self.false_positive = ReportedFinding(
            id=fid,
            certainty=int(self.rng.choice([2, 3])),
            side=side,
            location=rid,
            boxes=(box,),
            source=-1,
            found_by=tuple(range(start, len(self.gaze))),
        )
        self.fp_time = self.gaze.t

    def revisits(self) -> None:
        for k in sorted(self.found_by):
            if self.rng.random() >= self.profile.revisit:
                continue
            t = self.scene.findings[k].target
            assert t is not None
            pos = _entry_point(self.scene, t, self.rng, self.gaze.last)
            for m in range(1 + int(self.rng.poisson(0.5))):
                if m:
                    pos = _walk(self.scene, t, self.rng, pos, lo=0.02, hi=0.08)
                self._fixate(
                    *pos, "revisit", self.scene.findings[k].finding.id, DWELL_DURATION_FACTOR
                )

    def idle_until(self, t_end: float) -> None:
        """Keep looking while the dictation finishes: found findings or the lung fields."""
        lung_targets = [self.scene.targets[r] for r in _LUNGS_COMPARE if r in self.scene.targets]
        pool = [self.scene.findings[k].target for k in sorted(self.found_by)] + lung_targets
        pool = [t for t in pool if t is not None]
        if not pool:
            return
        while self.gaze.t < t_end and len(self.gaze) < 400:
            t = pool[int(self.rng.integers(0, len(pool)))]
            pos = _entry_point(self.scene, t, self.rng, self.gaze.last)
            for m in range(2 + int(self.rng.poisson(1.0))):
                if m:
                    pos = _walk(self.scene, t, self.rng, pos)
                self._fixate(*pos, "idle", "idle")
                if self.gaze.t >= t_end:
                    break


def _clip_box(b: Sequence[float]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(np.clip(v, 0.0, 1.0)) for v in b)
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def _mask_box(mask: np.ndarray) -> tuple[float, float, float, float]:
    gh, gw = mask.shape
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return (cols[0] / gw, rows[0] / gh, (cols[-1] + 1) / gw, (rows[-1] + 1) / gh)


def _ellipses(
    scene: ReadingScene, fv: _FindingView, rng: np.random.Generator
) -> tuple[tuple[float, float, float, float], ...]:
    """Boxes of the ellipses a reader draws around a found finding: one per side for
    bilateral findings, each a little larger than the mask and a little off (design choice:
    5-15 % margin, 1 % of the image shift)."""
    if fv.target is None or fv.finding.id == "support_devices":
        return ()
    if fv.finding.details.get("exact") is False:  # only where it must be (real labels)
        return ()
    mask = fv.target.mask
    parts = [mask]
    if fv.finding.side == "bilateral":
        gw = scene.grid[1]
        xm = 0.5
        if scene.has_lungs:
            r = scene.anatomy.regions
            xm = 0.5 * (r["right_lung"].box[2] + r["left_lung"].box[0])
        split = int(round(xm * gw))
        left_img, right_img = mask.copy(), mask.copy()
        left_img[:, split:] = False
        right_img[:, :split] = False
        parts = [p for p in (left_img, right_img) if p.any()]
    boxes = []
    for p in parts:
        x0, y0, x1, y1 = _mask_box(p)
        mx, my = (x1 - x0) * rng.uniform(0.05, 0.15), (y1 - y0) * rng.uniform(0.05, 0.15)
        sx, sy = rng.normal(0.0, 0.01, size=2)
        boxes.append(_clip_box((x0 - mx + sx, y0 - my + sy, x1 + mx + sx, y1 + my + sy)))
    return tuple(boxes)


def certainty_of(conspicuity: float) -> int:
    """REFLACX certainty a reader gives a finding it found: 5 when conspicuous (c >= 0.5),
    4 from 0.25, else 3 ("possibly"); design choice."""
    if conspicuity >= 0.5:
        return 5
    if conspicuity >= 0.25:
        return 4
    return 3


def read_case(
    anatomy: Anatomy | ReadingScene,
    findings: Sequence[CaseFinding | PhantomFinding] | None,
    profile: ReaderProfile,
    seed: int,
    *,
    image_size_px: tuple[int, int] | None = None,
    image_id: str = "",
) -> SimulatedRead:
    """Simulate one read of one image (module docstring: the model and its sources).

    ``anatomy``: the image's atlas (``atlas_from_masks`` on a phantom's ground truth, or
    ``locate`` on a real image), or a ``ReadingScene`` built once for several readers (then
    ``findings`` must be None). ``findings``: ``CaseFinding``s or a phantom's
    ``PhantomFinding``s, masks on any grid spanning the image (resampled to the atlas grid). ``image_size_px = (width, height)`` of the image (default: the grid's size)
    sets pixels per degree and the saccade clock. Same arguments and seed, same read.
    """
    from core.synth.dictation import dictate

    if isinstance(anatomy, ReadingScene):
        if findings is not None:
            raise ValueError("pass findings either in the ReadingScene or here, not both")
        scene = anatomy
    else:
        size = image_size_px or (anatomy.grid_shape[1], anatomy.grid_shape[0])
        scene = ReadingScene(anatomy, list(findings or ()), size)
    r = _Reader(scene, profile, seed)
    r.global_look()
    r.search()
    r.revisits()

    # what the reader reports
    rng = r.rng
    reported: list[ReportedFinding] = []
    when: list[float] = []
    for k, fv in enumerate(scene.findings):
        f = fv.finding
        if fv.target is not None:
            if k not in r.found_by:
                continue
            found_by = tuple(r.found_by[k])
            t_ready = r.dwell_end[k]
        else:
            # unlocated (real image label without a box): reported with the detection
            # probability of three foveal looks, no gaze attached
            p = 1.0 - (1.0 - profile.skill * f.conspicuity**1.5) ** 3
            if rng.random() >= p:
                continue
            found_by, t_ready = (), math.nan
        reported.append(
            ReportedFinding(
                id=f.id,
                certainty=certainty_of(f.conspicuity),
                side=f.side,
                location=f.location,
                boxes=_ellipses(scene, fv, rng),
                source=k,
                found_by=found_by,
                severity=f.severity,
                size_mm=f.size_mm,
                details=dict(f.details),
            )
        )
        when.append(t_ready)
    if r.false_positive is not None:
        reported.append(r.false_positive)
        when.append(r.fp_time)

    end_of_search = r.gaze.t
    report, starts = dictate(reported, when, r.triggers, end_of_search, profile, rng)
    last_word = report.words[-1].end_s if report.words else end_of_search
    r.idle_until(last_word + float(rng.uniform(0.2, 0.6)))

    first_on = r.first_on
    outcomes = tuple(
        FindingOutcome(
            index=k,
            id=fv.finding.id,
            located=fv.target is not None,
            conspicuity=fv.finding.conspicuity,
            found=any(rep.source == k for rep in reported),
            detect_fixation=r.found.get(k, -1),
            first_fixation_on=first_on.get(k, -1),
        )
        for k, fv in enumerate(scene.findings)
    )
    x0, y0, x1, y1 = scene.chest_box
    m = 0.02
    jitter = rng.normal(0.0, 0.008, size=4)
    chest_box = _clip_box(
        (x0 - m + jitter[0], y0 - m + jitter[1], x1 + m + jitter[2], y1 + m + jitter[3])
    )
    return SimulatedRead(
        reader_id=profile.reader_id,
        seed=int(seed),
        scanpath=r.gaze.scanpath(image_id),
        phases=tuple(r.gaze.phase),
        stations=tuple(r.gaze.station),
        reported=tuple(reported),
        outcomes=outcomes,
        report=report,
        chest_box=chest_box,
        sentence_starts=tuple(starts),
    )
