"""The ``Predictor`` interface every model and baseline implements.

A predictor takes a :class:`PredictionRequest` (which image, how many scanpath samples, a seed)
and returns a :class:`Prediction` in house units: normalised coordinates of the *original*
image, seconds. What a predictor can produce is declared in ``capabilities``:

==============  ===========================================================================
``scanpath``    ``Prediction.scanpaths``: ``k`` seeded samples
``saliency``    ``Prediction.saliency``: a gaze density on a grid spanning the whole image,
                summing to 1 (on ``request.saliency_shape`` when the caller asks for one)
``attention``   ``Prediction.attention``: ``{finding_id: (gh, gw) map}``
``findings``    ``Prediction.findings``: ``{finding_id: probability}``
``sentences``   ``Prediction.sentences``: ``[ReportSentence]``
==============  ===========================================================================

The registry that names and builds predictors is :mod:`core.models.registry`.

Determinism: the same request (same seed) gives the same scanpaths, maps and scores. Every
predictor must honour this (``tests/test_models.py`` checks every registered one).
"""

from __future__ import annotations

import json
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from core.data.case import ImageRef
from core.errors import InputFileError
from core.gaze.scanpath import Scanpath
from core.jsonsafe import json_safe
from core.report.sentence import ReportSentence
from core.vocabulary import FINDING_IDS

if TYPE_CHECKING:
    from core.anatomy.types import Anatomy
    from core.io.radiograph import Radiograph

logger = logging.getLogger(__name__)

__all__ = [
    "CAPABILITIES",
    "Prediction",
    "PredictionRequest",
    "Predictor",
]

CAPABILITIES: frozenset[str] = frozenset(
    {"scanpath", "saliency", "attention", "findings", "sentences"}
)
_SUM_TOLERANCE = 1e-6


@dataclass
class PredictionRequest:
    """What to predict on: the image (original size), ``k`` samples, a seed, options.

    ``radiograph`` is loaded from ``image.path`` with :func:`core.io.load_radiograph` the first
    time it is read, so predictors that do not look at pixels (``needs_image = False``) never
    pay for decoding. The app, which already holds the image, passes it in directly
    (:meth:`from_radiograph`).
    """

    image: ImageRef
    k: int = 5  # scanpath samples
    seed: int = 0
    report_text: str | None = None  # for text-conditioned models (MedGaze conditions on it)
    # fixations per sampled scanpath for predictors that take a length (baselines); None: their
    # default. The evaluation runner passes the image's median human scanpath length.
    n_fixations: int | None = None
    saliency_shape: tuple[int, int] | None = None  # (gh, gw) grid the caller wants the map on
    # the image's anatomy when the caller already located it (the pipeline does), so models that
    # use anatomy need not locate it again; None: locate it yourself if you need it
    anatomy: Anatomy | None = field(default=None, repr=False, compare=False)
    _radiograph: Radiograph | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.k < 0:
            raise ValueError(f"k must be >= 0, got {self.k}")
        if self.n_fixations is not None and self.n_fixations < 1:
            raise ValueError(f"n_fixations must be >= 1 or None, got {self.n_fixations}")
        if self.saliency_shape is not None:
            gh, gw = self.saliency_shape
            if gh < 1 or gw < 1:
                raise ValueError(f"saliency_shape must be positive, got {self.saliency_shape}")
            self.saliency_shape = (int(gh), int(gw))

    @classmethod
    def from_radiograph(
        cls, radiograph: Radiograph, *, image_id: str | None = None, **kwargs: Any
    ) -> PredictionRequest:
        """A request for an image already in memory (its size is the original frame)."""
        ref = ImageRef(
            image_id or Path(radiograph.source_name).stem,
            None,
            radiograph.width,
            radiograph.height,
        )
        return cls(ref, _radiograph=radiograph, **kwargs)

    @property
    def radiograph(self) -> Radiograph:
        """The image, decoded on first access (``InputFileError`` when it is not available)."""
        if self._radiograph is None:
            from core.io import load_radiograph

            if self.image.path is None:
                raise InputFileError(
                    None,
                    f"image {self.image.image_id} is not available locally "
                    "(this predictor needs pixels; pass the images folder)",
                )
            self._radiograph = load_radiograph(self.image.path)
            if (self._radiograph.width, self._radiograph.height) != (
                self.image.width_px,
                self.image.height_px,
            ):
                logger.warning(
                    "%s: decoded size %dx%d differs from the dataset's %dx%d",
                    self.image.image_id,
                    self._radiograph.width,
                    self._radiograph.height,
                    self.image.width_px,
                    self.image.height_px,
                )
        return self._radiograph


@dataclass
class Prediction:
    """Everything a predictor says about one image, in house units.

    Fields a predictor cannot produce stay empty (``saliency=None``, ``findings={}``).
    ``timings_s`` holds wall-clock seconds per stage (``"predict"`` is filled by
    :meth:`Predictor.__call__`); it is the only field allowed to differ between two runs with
    the same seed.
    """

    image_id: str
    scanpaths: list[Scanpath] = field(default_factory=list)  # k seeded samples
    saliency: np.ndarray | None = None  # (gh, gw) density over the whole image, sums to 1
    attention: dict[str, np.ndarray] = field(default_factory=dict)  # finding id -> (gh, gw)
    findings: dict[str, float] = field(default_factory=dict)  # finding id -> probability
    sentences: list[ReportSentence] = field(default_factory=list)
    model: str = ""
    version: str = ""
    timings_s: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.saliency is not None:
            s = np.asarray(self.saliency, dtype=np.float64)
            if s.ndim != 2 or s.size == 0:
                raise ValueError(f"saliency must be a non-empty 2-D map, got shape {s.shape}")
            if not np.all(np.isfinite(s)) or np.any(s < 0):
                raise ValueError("saliency must be finite and non-negative")
            if abs(s.sum() - 1.0) > _SUM_TOLERANCE:
                raise ValueError(f"saliency must sum to 1 (a density), sums to {s.sum():.6g}")
            self.saliency = s
        unknown = [f for f in (*self.findings, *self.attention) if f not in FINDING_IDS]
        if unknown:
            raise ValueError(f"unknown finding id(s) {sorted(set(unknown))}")
        for fid, p in self.findings.items():
            if not (math.isfinite(p) and 0.0 <= p <= 1.0):
                raise ValueError(f"probability of {fid!r} must be in [0, 1], got {p}")
        for fid, m in self.attention.items():
            if np.ndim(m) != 2:
                raise ValueError(f"attention map of {fid!r} must be 2-D, got {np.shape(m)}")


class Predictor(ABC):
    """Base class of every scanpath model, classifier, report generator and baseline.

    Subclasses set the class attributes and implement :meth:`predict`; call the instance
    (``predictor(request)``) to get timings and model name/version filled in.
    """

    name: str = ""
    version: str = ""
    needs_image: bool = False  # True: reads request.radiograph (pixels); False: never decodes
    capabilities: frozenset[str] = frozenset()
    # one line saying what the predictor learned from ("none: ..." for baselines); a learned
    # model's checkpoint says it instead (meta["training_data"])
    training_data: str = ""
    # a learned model keeps load_pretrained's meta here (config.json fields + weights_sha256)
    meta: Mapping[str, Any] = MappingProxyType({})

    @abstractmethod
    def predict(self, request: PredictionRequest) -> Prediction:
        """Predict for one image; same request and seed, same output."""

    def __call__(self, request: PredictionRequest) -> Prediction:
        t0 = time.perf_counter()
        prediction = self.predict(request)
        prediction.timings_s.setdefault("predict", time.perf_counter() - t0)
        prediction.model = prediction.model or self.name
        prediction.version = prediction.version or self.version
        return prediction

    def model_info(self) -> dict[str, Any]:
        """Name, version, weights hash and training data, for result records and model lists."""
        data = self.meta.get("training_data") or self.training_data
        if not isinstance(data, str):
            data = json.dumps(_summarised(json_safe(data)), sort_keys=True)
        return {
            "name": self.name,
            "version": self.version,
            "weights_sha256": self.meta.get("weights_sha256"),
            "training_data": data,
        }

    def describe(self) -> str:
        """One line for protocol printouts: name, version, capabilities, config."""
        config = getattr(self, "config", None)
        conf = ""
        if config is not None and is_dataclass(config):
            conf = ", ".join(f"{f.name}={getattr(config, f.name)!r}" for f in fields(config))
        caps = ", ".join(sorted(self.capabilities))
        return f"{self.name} {self.version} [{caps}]" + (f" ({conf})" if conf else "")


_LIST_KEEP = 8  # longer lists in a checkpoint's training data are summarised in model_info


def _summarised(data: Any) -> Any:
    """``data`` with every list longer than ``_LIST_KEEP`` items replaced by a count: result
    records and the app's footer carry a one-glance summary; the full list stays in the
    checkpoint's ``config.json`` and model card."""
    if isinstance(data, dict):
        return {k: _summarised(v) for k, v in data.items()}
    if isinstance(data, list):
        if len(data) > _LIST_KEEP:
            return f"{len(data)} items (listed in the checkpoint's config.json)"
        return [_summarised(v) for v in data]
    return data
