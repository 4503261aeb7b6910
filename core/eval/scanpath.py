"""Scanpath metrics of one image: every metric for every (predicted, human) pair.

Pure data in, arrays out, so that the runner can send images to worker processes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from core.eval.protocol import SCANPATH_METRICS, EvaluationConfig
from core.gaze.scanpath import Scanpath
from core.metrics import (
    MULTIMATCH_DIMENSIONS,
    dtw_distance,
    frechet_distance,
    medgaze_cc,
    medgaze_iou,
    multimatch,
    scanmatch,
)
from core.metrics.sequence import FixationClusters, sequence_score

__all__ = ["scanpath_pair_metrics", "summarise"]


def scanpath_pair_metrics(
    predicted: Sequence[Scanpath],
    references: Sequence[Scanpath],
    *,
    frame: tuple[float, float] = (1.0, 1.0),
    clusters: FixationClusters | None = None,
    config: EvaluationConfig | None = None,
) -> dict[str, np.ndarray]:
    """Every scanpath metric for every (predicted, reference) pair: ``{metric: (P, R)}``.

    ``frame`` is the isotropic frame of :func:`frame_of`; ``clusters`` (fitted on the image's
    human fixations) enable the Sequence Score, which is NaN without them.
    """
    cfg = config or EvaluationConfig()
    diag = math.hypot(*frame)
    simplify = {
        "simplify": True,
        "amplitude_threshold": cfg.simplify_amplitude_of_diagonal * diag,
        "direction_threshold_deg": cfg.simplify_direction_deg,
        "duration_threshold_s": cfg.simplify_duration_s,
    }
    p, r = len(predicted), len(references)
    out = {name: np.full((p, r), np.nan) for name in SCANPATH_METRICS}
    pred_arrays = [sp.to_array()[:, [0, 1, 3]] for sp in predicted]
    ref_arrays = [sp.to_array()[:, [0, 1, 3]] for sp in references]
    sym_p = [clusters.symbols(a).tolist() for a in pred_arrays] if clusters else None
    sym_r = [clusters.symbols(a).tolist() for a in ref_arrays] if clusters else None
    sm = {"n_bins": cfg.scanmatch_bins, "threshold": cfg.scanmatch_threshold}
    for i, a in enumerate(pred_arrays):
        for j, b in enumerate(ref_arrays):
            plain = multimatch(a, b, frame_size=frame).as_array()
            simple = multimatch(a, b, frame_size=frame, **simplify).as_array()
            out["MM"][i, j] = plain[:4].mean()
            out["D-MM"][i, j] = plain.mean()
            for d, dim in enumerate(MULTIMATCH_DIMENSIONS):
                out[f"MM {dim}"][i, j] = plain[d]
            out["MM (simplified)"][i, j] = simple[:4].mean()
            out["D-MM (simplified)"][i, j] = simple.mean()
            out["ScanMatch"][i, j] = scanmatch(a, b, **sm)
            out["ScanMatch (duration)"][i, j] = scanmatch(
                a, b, temporal_bin_s=cfg.scanmatch_temporal_bin_s, **sm
            )
            if sym_p is not None and sym_r is not None:
                out["SequenceScore"][i, j] = sequence_score(sym_p[i], sym_r[j])
            out["DTW"][i, j] = dtw_distance(a[:, :2], b[:, :2], frame_size=frame)
            out["Frechet"][i, j] = frechet_distance(a[:, :2], b[:, :2], frame_size=frame)
            out["MedGaze IoU"][i, j] = medgaze_iou(a[:, :2], b[:, :2], cfg.medgaze_grid)
            out["MedGaze CC"][i, j] = medgaze_cc(a[:, :2], b[:, :2], cfg.medgaze_grid)
    return out


def summarise(values: np.ndarray) -> tuple[float, int, int]:
    """(mean of the finite values or nan, how many were not finite, how many in all)."""
    valid = values[np.isfinite(values)]
    return (float(valid.mean()) if len(valid) else math.nan, values.size - len(valid), values.size)
