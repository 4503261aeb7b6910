"""``ReadingPipeline``: one radiograph in, one :class:`ReadingResult` out.

The stages, each timed (``ReadingResult.timings_ms``):

1. ``load`` (:meth:`ReadingPipeline.run_file` only): :func:`core.io.load_radiograph`; a bad
   file raises the io error naming it.
2. ``anatomy``: a registered segmenter's ``locate`` (the shipped ``segmenter-unet-small``
   fuses its masks with the classical method) or :func:`core.anatomy.locate` alone (lung
   fields, heart, the region atlas, measurements, a confidence with reasons).
3. ``scanpath``: ``k`` seeded scanpath samples and a saliency map from the scanpath predictor.
4. ``classifier``: finding probabilities and one attention map per finding (skipped without a
   classifier: no findings).
5. ``report``: the draft report's sentences from :func:`core.report.generate_report` (one per
   reported finding and per section's normal statement, each with its regions and evidence).

Defaults (``"auto"``): the first registered model of the kind (sorted by name) whose checkpoint
is in :func:`core.models.trained_models_dir`; else the ``abcdef`` baseline for scanpaths, no
classifier and the classical anatomy. Pass a registered name to choose, or ``None`` for no
classifier / the classical anatomy alone.

Everything in the result is plain dataclasses and numpy; :meth:`ReadingResult.to_dict` gives
JSON-safe data (``schema_version`` 1) documented in ``docs/READING_RESULT.md``. The same image,
``k`` and ``seed`` give the same result, timings apart.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.anatomy import Anatomy, locate
from core.anatomy.locate import METHOD as ANATOMY_METHOD
from core.errors import GazeScopeError
from core.gaze.scanpath import Scanpath
from core.io import load_radiograph
from core.io.radiograph import Radiograph
from core.jsonsafe import json_safe
from core.models import (
    PredictionRequest,
    Predictor,
    checkpoint_available,
    create_predictor,
    list_predictors,
    predictor_kind,
)
from core.report import generate_report, probability_band
from core.report.generate import REPORT_METHOD, REPORT_MODEL, REPORT_TRAINING
from core.report.sentence import ReportSentence

logger = logging.getLogger(__name__)

__all__ = [
    "AUTO",
    "DEFAULT_SCANPATH",
    "SCHEMA_VERSION",
    "ImageInfo",
    "ModelInfo",
    "ReadingPipeline",
    "ReadingResult",
    "default_model",
]

SCHEMA_VERSION = 1
AUTO = "auto"
DEFAULT_SCANPATH = "abcdef"  # the baseline used when no scanpath model is trained
MAP_LONG_SIDE = 64  # saliency/attention grid: 64 cells on the image's longer side
ANATOMY_MODEL = "core.anatomy.locate"
ANATOMY_TRAINING = "none: classical segmentation with an outline prior (no learned weights)"


@dataclass(frozen=True)
class ImageInfo:
    """The non-identifying facts about the image a result belongs to."""

    sha256: str
    source_name: str
    width: int
    height: int
    modality: str | None = None
    view: str | None = None  # DICOM ViewPosition (PA, AP, ...) when the file says
    spacing_mm: tuple[float, float] | None = None  # (row, column)

    @classmethod
    def of(cls, radiograph: Radiograph) -> ImageInfo:
        meta = radiograph.metadata
        return cls(
            radiograph.sha256,
            radiograph.source_name,
            radiograph.width,
            radiograph.height,
            meta.get("modality"),
            meta.get("view_position"),
            radiograph.spacing_mm,
        )


@dataclass(frozen=True)
class ModelInfo:
    """Which model produced one part of a result."""

    role: str  # "anatomy" | "scanpath" | "classifier" | "report"
    name: str
    version: str
    weights_sha256: str | None = None
    training_data: str = ""


@dataclass
class ReadingResult:
    """Everything GazeScope says about one radiograph (see the module docstring)."""

    image: ImageInfo
    anatomy: Anatomy
    scanpaths: list[Scanpath]
    saliency: np.ndarray | None  # (gh, gw) density over the whole image
    findings: dict[str, float]  # finding id -> probability
    attention: dict[str, np.ndarray]  # finding id -> (gh, gw) map in [0, 1]
    sentences: list[ReportSentence]
    models: list[ModelInfo]
    timings_ms: dict[str, float]
    radiograph: Radiograph | None = field(default=None, repr=False, compare=False)
    schema_version: int = SCHEMA_VERSION

    def sentence_ids(self) -> list[str]:
        """Stable ids of the sentences, in report order: ``"s0"``, ``"s1"``, ..."""
        return [f"s{i}" for i in range(len(self.sentences))]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe data (``json.dumps(..., allow_nan=False)`` works), schema version 1."""
        data = {
            "schema_version": self.schema_version,
            "image": {
                "sha256": self.image.sha256,
                "source_name": self.image.source_name,
                "width": self.image.width,
                "height": self.image.height,
                "modality": self.image.modality,
                "view": self.image.view,
                "spacing_mm": None
                if self.image.spacing_mm is None
                else list(self.image.spacing_mm),
            },
            "anatomy": _anatomy_dict(self.anatomy),
            "scanpaths": [
                [
                    {"x": f.x, "y": f.y, "start_s": f.start_s, "duration_s": f.duration_s}
                    for f in sp.fixations
                ]
                for sp in self.scanpaths
            ],
            "saliency": None if self.saliency is None else _map_dict(self.saliency),
            "findings": [
                {"finding": fid, "probability": p, "band": probability_band(p)}
                for fid, p in sorted(self.findings.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "attention": {fid: _map_dict(m) for fid, m in sorted(self.attention.items())},
            "sentences": [
                _sentence_dict(sid, s, self.scanpaths)
                for sid, s in zip(self.sentence_ids(), self.sentences, strict=True)
            ],
            "models": [
                {
                    "role": m.role,
                    "name": m.name,
                    "version": m.version,
                    "weights_sha256": m.weights_sha256,
                    "training_data": m.training_data,
                }
                for m in self.models
            ],
            "timings_ms": dict(self.timings_ms),
        }
        return json_safe(data)


def _map_dict(m: np.ndarray) -> dict[str, Any]:
    m = np.asarray(m, dtype=np.float64)
    return {"shape": list(m.shape), "data": m.tolist()}


def _anatomy_dict(anatomy: Anatomy) -> dict[str, Any]:
    return {
        "method": anatomy.method,
        "confidence": anatomy.confidence,
        "reasons": list(anatomy.reasons),
        "grid_shape": list(anatomy.grid_shape),
        "regions": [
            {
                "id": r.id,
                "box": list(r.box),
                "polygon": np.asarray(r.polygon, dtype=np.float64).reshape(-1, 2).tolist(),
                "confidence": r.confidence,
            }
            for r in anatomy.regions.values()
        ],
        "measurements": [
            {
                "id": m.id,
                "value": m.value,
                "unit": m.unit,
                "lines": [[list(a), list(b)] for a, b in m.lines],
                "points": [list(p) for p in m.points],
                "note": m.note,
            }
            for m in anatomy.measurements.values()
        ],
    }


def _sentence_dict(sid: str, s: ReportSentence, scanpaths: list[Scanpath]) -> dict[str, Any]:
    ev = s.evidence
    peak = None if ev.attention_peak is None else list(ev.attention_peak)
    if peak is None and ev.attention is not None and np.size(ev.attention):
        gh, gw = np.shape(ev.attention)
        i, j = np.unravel_index(int(np.argmax(ev.attention)), (gh, gw))
        peak = [(j + 0.5) / gw, (i + 0.5) / gh]
    dwell = sum(
        scanpaths[k].fixations[i].duration_s
        for k, i in ev.fixations
        if k < len(scanpaths) and i < len(scanpaths[k].fixations)
    )
    return {
        "id": sid,
        "text": s.text,
        "region_ids": list(s.region_ids),
        "finding": s.finding_id,
        "probability": s.confidence,
        "evidence": {
            "region_box": None if ev.region_box is None else list(ev.region_box),
            "attention_peak": peak,
            "fixations": [list(f) for f in ev.fixations],
            "dwell_s": float(dwell),
            "measurement": None
            if ev.measurement is None
            else {
                "id": ev.measurement.id,
                "value": ev.measurement.value,
                "unit": ev.measurement.unit,
            },
        },
    }


def default_model(kind: str) -> str | None:
    """The first registered ``kind`` model (by name) whose checkpoint is on disk, else None."""
    for name in list_predictors(kind=kind):
        if checkpoint_available(name):
            return name
    return None


def _map_shape(width: int, height: int, long_side: int = MAP_LONG_SIDE) -> tuple[int, int]:
    """(gh, gw) with ``long_side`` cells on the longer side, aspect kept."""
    scale = long_side / max(width, height)
    return max(1, round(height * scale)), max(1, round(width * scale))


class ReadingPipeline:
    """Anatomy, scanpaths, findings and report for one radiograph (see the module docstring).

    ``scanpath``/``classifier``: a registered predictor name, ``"auto"`` (the default model of
    that kind, see :func:`default_model`), or None (classifier only: no findings).
    ``segmenter``: ``"auto"`` (the shipped segmenter when its checkpoint is on disk, else the
    classical method), None for :func:`core.anatomy.locate` alone, or a registered
    ``segmenter`` whose predictor has ``locate(radiograph) -> Anatomy``.
    """

    def __init__(
        self,
        *,
        scanpath: str = AUTO,
        classifier: str | None = AUTO,
        segmenter: str | None = AUTO,
        k: int = 8,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        if k < 0:
            raise GazeScopeError(f"k must be >= 0, got {k}")
        self.k, self.seed, self.device = k, seed, device
        if scanpath == AUTO:
            scanpath = default_model("scanpath") or DEFAULT_SCANPATH
        if classifier == AUTO:
            classifier = default_model("classifier")
        if segmenter == AUTO:
            segmenter = default_model("segmenter")
        self.scanpath: Predictor = self._create(scanpath, ("scanpath", "baseline"))
        if "scanpath" not in self.scanpath.capabilities:
            raise GazeScopeError(f"predictor {scanpath!r} does not predict scanpaths")
        self.classifier: Predictor | None = (
            None if classifier is None else self._create(classifier, ("classifier",))
        )
        self.segmenter: Predictor | None = None
        if segmenter is not None:
            self.segmenter = self._create(segmenter, ("segmenter",))
            if not callable(getattr(self.segmenter, "locate", None)):
                raise GazeScopeError(
                    f"segmenter {segmenter!r} has no locate(radiograph) -> Anatomy"
                )

    def _create(self, name: str, kinds: tuple[str, ...]) -> Predictor:
        kind = predictor_kind(name)  # unknown names fail here, listing the known ones
        if kind not in kinds:
            raise GazeScopeError(f"predictor {name!r} is a {kind}, not a {' or '.join(kinds)}")
        # learned models take the device; baselines run on numpy
        return create_predictor(name, **({} if kind == "baseline" else {"device": self.device}))

    def models(self) -> list[ModelInfo]:
        """The models this pipeline runs, in stage order."""
        out = []
        if self.segmenter is None:
            out.append(ModelInfo("anatomy", ANATOMY_MODEL, ANATOMY_METHOD, None, ANATOMY_TRAINING))
        else:
            out.append(ModelInfo("anatomy", **self.segmenter.model_info()))
        out.append(ModelInfo("scanpath", **self.scanpath.model_info()))
        if self.classifier is not None:
            out.append(ModelInfo("classifier", **self.classifier.model_info()))
        out.append(ModelInfo("report", REPORT_MODEL, REPORT_METHOD, None, REPORT_TRAINING))
        return out

    def _anatomy(self, radiograph: Radiograph) -> tuple[Anatomy, Anatomy]:
        """The anatomy of the result (the segmenter's method, else classical) and the one the
        scanpath model gets: the method it was trained with (``anatomy_method``) when the
        segmenter computed it anyway, else the same."""
        if self.segmenter is None:
            anatomy = locate(radiograph)
            return anatomy, anatomy
        wanted = getattr(self.scanpath, "anatomy_method", None)
        locate_all = getattr(self.segmenter, "locate_all", None)
        if wanted is None or not callable(locate_all):
            anatomy = self.segmenter.locate(radiograph)  # type: ignore[attr-defined]
            return anatomy, anatomy
        every = locate_all(radiograph)
        anatomy = every[self.segmenter.method]  # type: ignore[attr-defined]
        return anatomy, every.get(wanted, anatomy)

    def run_file(self, path: str | Path, **kwargs: Any) -> ReadingResult:
        """Load ``path`` (bad files raise the io error naming it) and run the pipeline."""
        t0 = time.perf_counter()
        radiograph = load_radiograph(path)
        load_ms = (time.perf_counter() - t0) * 1000
        result = self(radiograph, **kwargs)
        result.timings_ms = {"load": load_ms, **result.timings_ms}
        result.timings_ms["total"] += load_ms
        return result

    def __call__(
        self,
        radiograph: Radiograph,
        *,
        k: int | None = None,
        seed: int | None = None,
        report_text: str | None = None,
    ) -> ReadingResult:
        """Run every stage on ``radiograph``; ``k``/``seed`` override the pipeline's."""
        k = self.k if k is None else k
        seed = self.seed if seed is None else seed
        timings: dict[str, float] = {}
        t_start = time.perf_counter()

        t0 = time.perf_counter()
        anatomy, scanpath_anatomy = self._anatomy(radiograph)
        timings["anatomy"] = (time.perf_counter() - t0) * 1000
        models = self.models()
        if self.segmenter is None and anatomy.method:  # which method locate actually used
            models[0] = replace(models[0], version=anatomy.method)

        request = PredictionRequest.from_radiograph(
            radiograph,
            image_id=radiograph.sha256[:16] or None,
            k=k,
            seed=seed,
            report_text=report_text,
            saliency_shape=_map_shape(radiograph.width, radiograph.height),
            anatomy=scanpath_anatomy,
        )
        t0 = time.perf_counter()
        gaze = self.scanpath(request)
        request = replace(request, anatomy=anatomy)
        timings["scanpath"] = (time.perf_counter() - t0) * 1000

        findings: dict[str, float] = {}
        attention: dict[str, np.ndarray] = {}
        if self.classifier is not None:
            t0 = time.perf_counter()
            out = self.classifier(request)
            findings, attention = dict(out.findings), dict(out.attention)
            timings["classifier"] = (time.perf_counter() - t0) * 1000

        t0 = time.perf_counter()
        sentences = generate_report(
            findings, anatomy, scanpaths=gaze.scanpaths, attention=attention
        )
        timings["report"] = (time.perf_counter() - t0) * 1000
        timings["total"] = (time.perf_counter() - t_start) * 1000
        return ReadingResult(
            image=ImageInfo.of(radiograph),
            anatomy=anatomy,
            scanpaths=list(gaze.scanpaths),
            saliency=gaze.saliency,
            findings=findings,
            attention=attention,
            sentences=sentences,
            models=models,
            timings_ms=timings,
            radiograph=radiograph,
        )
