"""The draft-report generator: findings with probabilities + anatomy -> region-linked sentences.

``generate_report(findings, anatomy, scanpaths=..., attention=...)`` writes a report the way a
radiologist dictates one, section by section in the order of :data:`core.report.lexicon.SECTIONS`
(devices, lungs, pleura, heart, mediastinum, bones, impression):

1. Each finding is put in its probability band (:func:`core.report.lexicon.probability_band`).
   Findings in a band with a hedge ("possible", "likely", "very likely") are written, one
   sentence each, hedged by band ("Likely consolidation in the right lower zone."); "unlikely"
   findings are not written - the section's normal statement rules them out. A parent label
   (``lung_lesion``, ``pleural_abnormality``, ``lung_opacity``) is not written when one of its
   children is. ``no_finding`` is never a sentence.
2. The finding's regions come from its lexicon entry (:class:`FindingPhrase`): its candidate
   regions, narrowed by the finding's attention map when there is one - the zone holding the
   attention peak, or the sides whose peak reaches ``SIDE_RATIO`` of the best. Without an
   attention map a zone finding is placed in the whole lung fields and named nowhere.
3. Each section then gets the first of its normal statements that no written finding
   contradicts ("The lungs are otherwise clear.", "No pneumothorax."); the heart's quotes the
   cardiothoracic ratio when the anatomy is trusted, and when the ratio is above the upper
   limit of normal the heart sentence states the measurement instead of calling it normal.
4. Every sentence carries its evidence (:class:`core.report.sentence.SentenceEvidence`): the
   union box of its regions, the attention peak inside them (finding sentences with a map),
   the fixations of the given scanpath samples that fall inside them (the pipeline sums their
   dwell), and the anatomy measurement of its finding or section.

Deterministic: the same input gives the same sentences (ties broken by vocabulary order).
With no findings at all (no classifier) it still writes every normal statement and the
measurements - which then rest on the anatomy alone; the caller says which models ran.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.report.lexicon import DEFAULT_LEXICON, FindingPhrase, Lexicon, Section, place_phrase
from core.report.sentence import ReportSentence, SentenceEvidence
from core.vocabulary import FINDING_IDS, PARENTS

if TYPE_CHECKING:
    from core.anatomy.types import Anatomy, Measurement
    from core.gaze.scanpath import Scanpath

__all__ = ["REPORT_METHOD", "REPORT_MODEL", "REPORT_TRAINING", "generate_report", "report_text"]

REPORT_MODEL = "gazescope-report"
REPORT_METHOD = "rule-based lexicon v1"  # bump when the wording or the rules change
REPORT_TRAINING = "none: curated lexicon (core.report.lexicon), no learned weights"

_ORDER = {fid: i for i, fid in enumerate(FINDING_IDS)}


def generate_report(
    findings: Mapping[str, float],
    anatomy: Anatomy,
    *,
    scanpaths: Sequence[Scanpath] = (),
    attention: Mapping[str, np.ndarray] | None = None,
    lexicon: Lexicon = DEFAULT_LEXICON,
) -> list[ReportSentence]:
    """One sentence per reported finding and per section's normal statement, in report order.

    ``findings``: ``{finding_id: calibrated probability}``; ``attention``: ``{finding_id: (gh,
    gw) map}`` spanning the whole image (any grid); ``scanpaths``: the predicted samples whose
    fixations become evidence. Raises ``ValueError`` for an unknown finding id, a probability
    outside [0, 1] or an attention map that is not 2-D.
    """
    attention = dict(attention or {})
    _check(findings, attention)
    probs = {f: float(p) for f, p in findings.items() if f != "no_finding"}
    written = {f for f, p in probs.items() if lexicon.band(p) in lexicon.hedges}
    written -= {parent for child, parent in PARENTS.items() if child in written}
    ctx = _Context(
        anatomy,
        lexicon,
        _fixation_cells(anatomy, scanpaths),
        anatomy.confidence >= lexicon.measurement_min_confidence,
    )
    sentences: list[ReportSentence] = []
    for section in lexicon.sections:
        mine = [f for f in written if lexicon.findings[f].section == section.id]
        for fid in sorted(mine, key=lambda f: (-probs[f], _ORDER[f])):
            sentences.append(_finding_sentence(ctx, fid, probs[fid], attention.get(fid)))
        normal = _normal_sentence(ctx, section, written)
        if normal is not None:
            sentences.append(normal)
    return sentences


def report_text(sentences: Sequence[ReportSentence]) -> str:
    """The report as one paragraph of text (the sentences joined by spaces)."""
    return " ".join(s.text for s in sentences)


# --- checks ---------------------------------------------------------------------------------


def _check(findings: Mapping[str, float], attention: Mapping[str, np.ndarray]) -> None:
    for fid, p in findings.items():
        if fid not in _ORDER:
            raise ValueError(f"unknown finding id {fid!r}; known: {', '.join(FINDING_IDS)}")
        if not (math.isfinite(float(p)) and 0.0 <= float(p) <= 1.0):
            raise ValueError(f"probability of {fid!r} must be in [0, 1], got {p}")
    for fid, att in attention.items():
        if np.ndim(att) != 2 or np.size(att) == 0:
            raise ValueError(f"attention map of {fid!r} must be a non-empty 2-D array")


# --- sentences ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    anatomy: Anatomy
    lexicon: Lexicon
    cells: list[tuple[int, int, int, int]]  # (sample, index, row, col) of each fixation
    trusted: bool  # anatomy confident enough to quote its measurements


def _finding_sentence(ctx: _Context, fid: str, p: float, att: np.ndarray | None) -> ReportSentence:
    lexicon, anatomy = ctx.lexicon, ctx.anatomy
    phrase = lexicon.findings[fid]
    regions, side, place = _place(phrase, anatomy, att, lexicon.side_ratio)
    hedge = lexicon.hedges[lexicon.band(p)]
    noun = phrase.plural if side == "bilateral" and phrase.plural else phrase.noun
    noun = f"{side} {noun}" if side else noun
    where = f" in {place}" if place else ""
    if hedge:
        body = f"{hedge} {noun}{where}"
    elif phrase.positive:
        body = phrase.positive
    else:
        body = f"{'a ' if phrase.article else ''}{noun}{where}"
    measurement = _measurement(phrase.measurement, anatomy, regions)
    text = body[0].upper() + body[1:] + _quote(measurement, ctx.trusted) + "."
    evidence = _evidence(ctx, regions, measurement, att)
    return ReportSentence(text, regions, fid, p, evidence)


def _normal_sentence(ctx: _Context, section: Section, written: set[str]) -> ReportSentence | None:
    text = section.normal_statement(written)
    if not text:
        return None
    lexicon = ctx.lexicon
    measurement = _measurement(section.measurement, ctx.anatomy, section.regions)
    if measurement is not None and measurement.id == "cardiothoracic_ratio" and ctx.trusted:
        if measurement.value > lexicon.ctr_upper_normal:
            text = (
                f"The cardiothoracic ratio measures {measurement.value:.2f}, above "
                f"{lexicon.ctr_upper_normal:.2f} (an AP film magnifies the heart)."
            )
        else:
            text = text[:-1] + _quote(measurement, ctx.trusted) + "."
    evidence = _evidence(ctx, section.regions, measurement, None)
    return ReportSentence(text, section.regions, None, math.nan, evidence)


def _quote(measurement: Measurement | None, trusted: bool) -> str:
    """The measurement in the text: only the cardiothoracic ratio, only on trusted anatomy."""
    if measurement is None or not trusted or measurement.id != "cardiothoracic_ratio":
        return ""
    if not math.isfinite(measurement.value):
        return ""
    return f" (cardiothoracic ratio {measurement.value:.2f})"


# --- placing a finding ----------------------------------------------------------------------


def _place(
    phrase: FindingPhrase, anatomy: Anatomy, att: np.ndarray | None, side_ratio: float
) -> tuple[tuple[str, ...], str, str]:
    """(region ids, side word, place phrase) of a finding sentence."""
    candidates = phrase.regions
    peaks = _region_peaks(anatomy, candidates, att)
    best = max(peaks.values(), default=0.0)
    if phrase.locate == "fixed" or not best > 0:
        if phrase.locate == "zone":
            return ("right_lung", "left_lung"), "", ""
        return candidates, "", ""
    if phrase.locate == "zone":
        zone = max(candidates, key=lambda r: (peaks.get(r, -1.0), -candidates.index(r)))
        return (zone,), "", place_phrase(zone)
    keep = tuple(r for r in candidates if peaks.get(r, -1.0) >= side_ratio * best)
    sides = {r.split("_")[0] for r in keep}
    side = "bilateral" if sides == {"right", "left"} else next(iter(sides))
    return keep, side, ""


def _grid_mask(anatomy: Anatomy, region_ids: Sequence[str]) -> np.ndarray:
    mask = np.zeros(anatomy.grid_shape, dtype=bool)
    for rid in region_ids:
        region = anatomy.regions.get(rid)
        if region is not None:
            mask |= region.mask
    return mask


def _resample(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-cell sample of a mask onto another grid spanning the same image."""
    gh, gw = mask.shape
    h, w = shape
    rows = np.minimum(((np.arange(h) + 0.5) * gh / h).astype(int), gh - 1)
    cols = np.minimum(((np.arange(w) + 0.5) * gw / w).astype(int), gw - 1)
    return mask[np.ix_(rows, cols)]


def _region_peaks(
    anatomy: Anatomy, region_ids: Sequence[str], att: np.ndarray | None
) -> dict[str, float]:
    """Peak attention inside each present region; empty when there is no usable map."""
    if att is None:
        return {}
    a = np.nan_to_num(np.asarray(att, dtype=np.float64), nan=0.0)
    if not a.max() > 0:
        return {}
    peaks = {}
    for rid in region_ids:
        if rid in anatomy.regions:
            m = _resample(anatomy.regions[rid].mask, a.shape)
            if m.any():
                peaks[rid] = float(a[m].max())
    return peaks


# --- evidence -------------------------------------------------------------------------------


def _fixation_cells(
    anatomy: Anatomy, scanpaths: Sequence[Scanpath]
) -> list[tuple[int, int, int, int]]:
    """(sample, index, row, col) of every fixation inside the image, on the anatomy grid."""
    gh, gw = anatomy.grid_shape
    cells = []
    for s, sp in enumerate(scanpaths):
        for i, f in enumerate(sp.fixations):
            if 0.0 <= f.x < 1.0 and 0.0 <= f.y < 1.0:
                cells.append((s, i, int(f.y * gh), int(f.x * gw)))
    return cells


def _measurement(
    measurement_id: str, anatomy: Anatomy, regions: Sequence[str]
) -> Measurement | None:
    """The anatomy measurement ``measurement_id``; "costophrenic_angle" is the side's angle
    (the larger, i.e. the less sharp, when both sides are concerned)."""
    if not measurement_id:
        return None
    if measurement_id != "costophrenic_angle":
        return anatomy.measurements.get(measurement_id)
    sides = [s for s in ("right", "left") if any(r.startswith(s) for r in regions)] or [
        "right",
        "left",
    ]
    angles = [anatomy.measurements.get(f"{s}_costophrenic_angle") for s in sides]
    angles = [m for m in angles if m is not None and math.isfinite(m.value)]
    return max(angles, key=lambda m: m.value) if angles else None


def _evidence(
    ctx: _Context,
    regions: Sequence[str],
    measurement: Measurement | None,
    att: np.ndarray | None,
) -> SentenceEvidence:
    anatomy = ctx.anatomy
    present = [anatomy.regions[r] for r in regions if r in anatomy.regions]
    box = None
    if present:
        boxes = np.array([r.box for r in present], dtype=np.float64)
        box = (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())
    mask = _grid_mask(anatomy, regions)
    return SentenceEvidence(
        region_box=box,
        attention=att,
        fixations=tuple((s, i) for s, i, r, c in ctx.cells if mask[r, c]),
        attention_peak=_peak(att, mask),
        measurement=measurement,
    )


def _peak(att: np.ndarray | None, mask: np.ndarray) -> tuple[float, float] | None:
    """Normalised (x, y) of the attention maximum inside ``mask`` (cell centre); None if none."""
    if att is None:
        return None
    a = np.nan_to_num(np.asarray(att, dtype=np.float64), nan=0.0)
    m = _resample(mask, a.shape)
    if not m.any() or not a[m].max() > 0:
        return None
    masked = np.where(m, a, -np.inf)
    i, j = np.unravel_index(int(np.argmax(masked)), a.shape)
    return ((j + 0.5) / a.shape[1], (i + 0.5) / a.shape[0])
