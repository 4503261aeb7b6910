"""Scoring predictions that come from files (another tool's scanpaths and saliency maps) with
the same protocol as :func:`core.eval.evaluate` (``gazescope score``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from core.data.case import GazeCase
from core.data.datasets import cases_from_scanpaths
from core.errors import GazeScopeError
from core.eval.protocol import EvaluationConfig
from core.eval.results import EvaluationResult
from core.eval.runner import evaluate
from core.gaze.scanpath import Scanpath
from core.models import Prediction, PredictionRequest, Predictor

__all__ = ["score_scanpaths"]


class _FixedPredictor(Predictor):
    """Serves predictions read from a file, by image id."""

    version = "file"
    needs_image = False

    def __init__(
        self,
        name: str,
        scanpaths: Mapping[str, Sequence[Scanpath]],
        saliency: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        self.name = name
        self._scanpaths = scanpaths
        self._saliency = saliency or {}
        self.capabilities = frozenset({"scanpath"} | ({"saliency"} if self._saliency else set()))

    def predict(self, request: PredictionRequest) -> Prediction:
        image_id = request.image.image_id
        m = self._saliency.get(image_id)
        if m is not None:
            m = np.asarray(m, dtype=np.float64)
            m = m / m.sum()
        return Prediction(image_id, scanpaths=list(self._scanpaths.get(image_id, [])), saliency=m)


def score_scanpaths(
    predictions: Mapping[str, Sequence[Scanpath]],
    ground_truth: Sequence[GazeCase] | Mapping[str, Sequence[Scanpath]],
    *,
    saliency: Mapping[str, np.ndarray] | None = None,
    sizes: Mapping[str, tuple[int, int]] | None = None,
    name: str = "prediction",
    config: EvaluationConfig | None = None,
) -> EvaluationResult:
    """Score your own predicted scanpaths (and optional saliency maps) against ground truth.

    ``predictions``: ``{image_id: [sampled scanpaths]}`` in house units (see
    :mod:`core.eval.scanpath_files` to read them from CSV/JSON). ``ground_truth``: dataset
    cases (``load_cases``) or ``{image_id: [human scanpaths]}`` (``sizes`` gives their
    ``(width_px, height_px)``; without it images count as square). ``saliency``: ``{image_id:
    non-negative 2-D map over the whole image}`` (any grid; divided by its sum). Only images
    present on both sides are scored; the others are counted in ``notes``. Same protocol and
    result as :func:`evaluate`, with k taken from the predictions.
    """
    if isinstance(ground_truth, Mapping):
        cases = cases_from_scanpaths(ground_truth, sizes)
    else:
        cases = list(ground_truth)
    for image_id, m in (saliency or {}).items():
        a = np.asarray(m)
        if a.ndim != 2 or not np.all(np.isfinite(a)) or np.any(a < 0) or not a.sum() > 0:
            raise GazeScopeError(
                f"saliency map of {image_id}: must be a finite non-negative 2-D map, not all zero"
            )
    gt_ids = {c.image.image_id for c in cases}
    scored = [c for c in cases if c.image.image_id in predictions]
    if not scored:
        raise GazeScopeError(
            f"no image id of the predictions is in the ground truth ({len(predictions)} predicted, "
            f"{len(gt_ids)} in the ground truth; e.g. {next(iter(predictions), '-')!r})"
        )
    predictor = _FixedPredictor(name, predictions, saliency)
    result = evaluate(scored, [predictor], config, k_from_prediction=True)
    missing_gt = [i for i in predictions if i not in gt_ids]
    if missing_gt:
        result.notes.append(
            f"{len(missing_gt)} predicted image(s) not in the ground truth, ignored (e.g. {missing_gt[0]})"
        )
    if len(scored) < len(cases):
        result.notes.append(
            f"{len(cases) - len(scored)} ground-truth image(s) without a prediction, not scored"
        )
    return result
