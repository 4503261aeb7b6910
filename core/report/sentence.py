"""``ReportSentence``: one sentence of a draft report, linked to anatomy and its evidence.

The report generator produces these and the app shows them one per row: the text, the
anatomical regions it speaks about (ids from :data:`core.vocabulary.REGION_IDS`, or the whole
fields ``"right_lung"`` / ``"left_lung"``), the finding it reports (a vocabulary id, or None for
a normal statement), how confident the generator is, and the evidence a clinician can check on
the image: the region's box, the finding's attention peak inside it, which fixations of the
shown scanpaths visited the region (the pipeline sums their dwell), and the anatomy measurement
that bears on it (cardiothoracic ratio, costophrenic angle, ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from core.vocabulary import FINDING_IDS, REGION_IDS

if TYPE_CHECKING:
    from core.anatomy.types import Measurement

__all__ = ["SENTENCE_REGION_IDS", "ReportSentence", "SentenceEvidence"]

# the atlas regions plus the whole lung fields (core.anatomy.types.Region allows both)
SENTENCE_REGION_IDS: tuple[str, ...] = (*REGION_IDS, "right_lung", "left_lung")


@dataclass(frozen=True)
class SentenceEvidence:
    """What on the image supports a sentence. Every part is optional."""

    region_box: tuple[float, float, float, float] | None = None  # normalised x0, y0, x1, y1
    # (gh, gw) map on a grid spanning the whole original image, e.g. the finding's attention
    attention: np.ndarray | None = field(default=None, compare=False, repr=False)
    # (sample, fixation) indices into Prediction.scanpaths of the fixations inside the region
    fixations: tuple[tuple[int, int], ...] = ()
    attention_peak: tuple[float, float] | None = None  # normalised (x, y) of the peak inside
    measurement: Measurement | None = None  # the anatomy measurement behind the sentence

    def __post_init__(self) -> None:
        if self.region_box is not None:
            x0, y0, x1, y1 = (float(v) for v in self.region_box)
            if not (x1 >= x0 and y1 >= y0 and all(math.isfinite(v) for v in (x0, y0, x1, y1))):
                raise ValueError(f"region_box must be finite x0 <= x1, y0 <= y1, got {self}")
            object.__setattr__(self, "region_box", (x0, y0, x1, y1))
        if self.attention is not None and np.ndim(self.attention) != 2:
            raise ValueError(f"attention must be a 2-D map, got shape {np.shape(self.attention)}")
        object.__setattr__(self, "fixations", tuple((int(s), int(i)) for s, i in self.fixations))
        if self.attention_peak is not None:
            x, y = (float(v) for v in self.attention_peak)
            if not (math.isfinite(x) and math.isfinite(y)):
                raise ValueError(f"attention_peak must be finite, got {self.attention_peak}")
            object.__setattr__(self, "attention_peak", (x, y))


@dataclass(frozen=True)
class ReportSentence:
    """One draft-report sentence with its regions, finding, confidence and evidence."""

    text: str
    region_ids: tuple[str, ...] = ()
    finding_id: str | None = None  # None: a normal statement ("The lungs are clear.")
    confidence: float = math.nan  # [0, 1]; nan when the generator gives none
    evidence: SentenceEvidence = field(default_factory=SentenceEvidence)

    def __post_init__(self) -> None:
        object.__setattr__(self, "region_ids", tuple(self.region_ids))
        unknown = [r for r in self.region_ids if r not in SENTENCE_REGION_IDS]
        if unknown:
            raise ValueError(f"unknown region id(s) {unknown}; known: {', '.join(REGION_IDS)}")
        if self.finding_id is not None and self.finding_id not in FINDING_IDS:
            raise ValueError(f"unknown finding id {self.finding_id!r}")
        c = float(self.confidence)
        if not (math.isnan(c) or 0.0 <= c <= 1.0):
            raise ValueError(f"confidence must be in [0, 1] or nan, got {self.confidence}")
