"""``GazeCase``: the one record every dataset reader yields.

A case is one image with everything recorded on it: one ``Read`` per reader (scanpath, that
reader's labels, drawn ellipses/boxes, dictated report with word timestamps) plus image-level
labels and annotations (e.g. NIH labels and boxes, EGD-CXR anatomical boxes). All positions are
normalised to the original image, all times in seconds (the house units,
see :mod:`core.io.geometry`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from core.gaze.scanpath import Scanpath

__all__ = ["Annotation", "GazeCase", "ImageRef", "Read", "Report", "Word"]


@dataclass(frozen=True)
class ImageRef:
    """Where the image is and how big the original is (the frame all coordinates refer to)."""

    image_id: str  # dicom_id for MIMIC-based datasets, file stem otherwise
    path: Path | None  # None when the image is not available locally (credentialed source)
    width_px: int
    height_px: int


@dataclass(frozen=True)
class Word:
    word: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Report:
    """Dictated or written report text, with word (or phrase) timestamps when recorded."""

    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Annotation:
    """A region drawn or recorded on the image: a finding's box/ellipse or an anatomical box.

    ``shape`` is "box" or "ellipse" (the ellipse inscribed in the box). ``labels`` are
    vocabulary ids for findings, or a free anatomical name for ``kind == "anatomy"``.
    """

    x0: float
    y0: float
    x1: float
    y1: float
    labels: tuple[str, ...]
    kind: str = "finding"  # "finding" or "anatomy"
    shape: str = "box"
    certainty: float = math.nan  # [0, 1] when the source records one
    source: str = ""

    def __post_init__(self) -> None:
        if not (self.x1 >= self.x0 and self.y1 >= self.y0):
            raise ValueError(f"annotation box must have x1 >= x0 and y1 >= y0, got {self}")
        if self.shape not in ("box", "ellipse"):
            raise ValueError(f"annotation shape must be 'box' or 'ellipse', got {self.shape!r}")


@dataclass(frozen=True)
class Read:
    """One reader's reading of the image."""

    read_id: str  # e.g. the REFLACX id "P102R123456"
    reader_id: str
    scanpath: Scanpath
    labels: dict[str, float] = field(default_factory=dict)  # vocabulary id -> certainty
    raw_labels: dict[str, object] = field(default_factory=dict)  # as the dataset wrote them
    annotations: tuple[Annotation, ...] = ()
    report: Report | None = None
    chest_box: tuple[float, float, float, float] | None = None  # normalised x0, y0, x1, y1


@dataclass(frozen=True)
class GazeCase:
    case_id: str
    dataset: str  # "reflacx", "egd-cxr", "gazesearch", "nih", "synthetic", ...
    image: ImageRef
    reads: tuple[Read, ...] = ()
    labels: dict[str, float] = field(default_factory=dict)  # image-level vocabulary labels
    raw_labels: dict[str, object] = field(default_factory=dict)
    annotations: tuple[Annotation, ...] = ()  # image-level
    split: str = ""  # "train", "val", "test" or the dataset's own split name
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def scanpaths(self) -> list[Scanpath]:
        return [r.scanpath for r in self.reads]

    @property
    def reader_ids(self) -> list[str]:
        return [r.reader_id for r in self.reads]
