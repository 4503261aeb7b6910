"""Everything that scores: predictors against human readers, and the other evaluations.

- :mod:`core.eval.protocol`: the metrics, :class:`EvaluationConfig`, seeds, frames, grids and
  the protocol text; ``EVALUATION.md`` documents it.
- :func:`load_cases` and the dataset registry come from :mod:`core.data.datasets`.
- :mod:`core.eval.runner`: :func:`evaluate` in steps, using :mod:`core.eval.scanpath`,
  :mod:`core.eval.saliency`, :mod:`core.eval.ceiling` (human consistency) and
  :mod:`core.eval.findings` (classification and report rows).
- :mod:`core.eval.results`: :class:`EvaluationResult` with its JSON/CSV/table writers.
- :mod:`core.eval.score` and :mod:`core.eval.scanpath_files`: scoring predictions from files.
- :mod:`core.eval.anatomy`: ``locate`` on the NIH sample; :mod:`core.eval.gaze_realism`: a
  synthetic corpus against published gaze figures.
"""

from core.data.datasets import DATASETS, Dataset, cases_from_scanpaths, dataset_names, load_cases
from core.eval.protocol import (
    HUMAN,
    METRICS,
    SALIENCY_METRICS,
    SCANPATH_METRICS,
    EvaluationConfig,
    MetricInfo,
    frame_of,
    grid_of,
    image_seed,
    metric_info,
)
from core.eval.results import EvaluationResult, MetricRow, format_table
from core.eval.runner import evaluate
from core.eval.scanpath import scanpath_pair_metrics
from core.eval.score import score_scanpaths

__all__ = [
    "DATASETS",
    "HUMAN",
    "METRICS",
    "SALIENCY_METRICS",
    "SCANPATH_METRICS",
    "Dataset",
    "EvaluationConfig",
    "EvaluationResult",
    "MetricInfo",
    "MetricRow",
    "cases_from_scanpaths",
    "dataset_names",
    "evaluate",
    "format_table",
    "frame_of",
    "grid_of",
    "image_seed",
    "load_cases",
    "metric_info",
    "scanpath_pair_metrics",
    "score_scanpaths",
]
