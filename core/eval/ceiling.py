"""The human ceiling: how well the readers of an image agree with each other.

Scanpaths: each reader's scanpaths against the scanpaths of the *other* readers of the image
(a reader is never paired with themself), averaged per reader, then over readers. Saliency:
leave-one-reader-out - one reader's fixations and heatmap against the mean heatmap of the
others (n - 1 readers, so slightly pessimistic). Any predictor's row is read against these.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from core.eval.protocol import SALIENCY_METRICS, EvaluationConfig
from core.eval.saliency import SaliencyTruth, saliency_scores
from core.eval.scanpath import scanpath_pair_metrics, summarise
from core.gaze.scanpath import Scanpath
from core.metrics.sequence import FixationClusters

__all__ = ["saliency_ceiling", "scanpath_ceiling"]

# per metric: (value for the image or nan, comparisons that were NaN, comparisons)
Scores = dict[str, tuple[float, int, int]]


def _mean_of_finite(values: Sequence[float]) -> float:
    valid = [v for v in values if math.isfinite(v)]
    return float(np.mean(valid)) if valid else math.nan


def scanpath_ceiling(
    humans: Sequence[Scanpath],
    readers: Sequence[str],
    *,
    frame: tuple[float, float],
    clusters: FixationClusters | None,
    config: EvaluationConfig,
) -> Scores:
    """Every scanpath metric of the image's readers against each other (``readers[i]`` is the
    reader key of ``humans[i]``; needs two or more distinct readers)."""
    pairs = scanpath_pair_metrics(humans, humans, frame=frame, clusters=clusters, config=config)
    keys = np.array(readers)
    other = keys[:, None] != keys[None, :]  # never a reader against themself
    scores: Scores = {}
    for m, v in pairs.items():
        per_reader = []
        n_nan = n_pairs = 0
        for rk in dict.fromkeys(readers):
            rows = keys == rk
            block = v[rows][:, other[rows][0]]  # this reader's scanpaths vs the others'
            value, nn, np_ = summarise(block)
            per_reader.append(value)
            n_nan += nn
            n_pairs += np_
        scores[m] = (_mean_of_finite(per_reader), n_nan, n_pairs)
    return scores


def saliency_ceiling(truth: SaliencyTruth, other_xy: np.ndarray) -> Scores:
    """Leave-one-reader-out saliency scores (needs two or more readers with a heatmap);
    ``other_xy``: the other images' human fixations (sAUC negatives)."""
    per_reader: dict[str, list[float]] = {m: [] for m in SALIENCY_METRICS}
    for a in range(len(truth.reader_maps)):
        others = np.mean([m for b, m in enumerate(truth.reader_maps) if b != a], axis=0)
        scores = saliency_scores(others, truth.reader_xy[a], truth.reader_maps[a], other_xy)
        for m, v in scores.items():
            per_reader[m].append(v)
    return {
        m: (_mean_of_finite(vs), sum(not math.isfinite(v) for v in vs), len(vs))
        for m, vs in per_reader.items()
    }
