"""Saliency metrics of one image: the human ground truth on the evaluation grid and the scores
of a predicted map against it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.data.case import ImageRef
from core.eval.protocol import EvaluationConfig
from core.gaze.heatmap import scanpath_heatmap
from core.gaze.scanpath import Scanpath
from core.io.geometry import resize_image
from core.metrics import CC, NSS, SIM, AUC_Judd, KLDiv, sAUC

__all__ = ["SaliencyTruth", "resize_density", "saliency_scores", "saliency_truth"]


def resize_density(m: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A predicted density on the evaluation grid (bilinear, clipped, renormalised)."""
    if m.shape == shape:
        return m
    out = np.clip(resize_image(m.astype(np.float64), *shape, order=1), 0.0, None)
    total = out.sum()
    return out / total if total > 0 else np.full(shape, 1.0 / (shape[0] * shape[1]))


@dataclass
class SaliencyTruth:
    """An image's human saliency data on its evaluation grid."""

    pooled_xy: np.ndarray  # (N, 2) every human fixation
    gt_map: np.ndarray  # mean over readers of their heatmaps, sums to 1
    reader_xy: list[np.ndarray]  # per reader (key order)
    reader_maps: list[np.ndarray]  # per reader, each sums to 1


def saliency_truth(
    humans: Sequence[Scanpath],
    readers: Sequence[str],
    image: ImageRef,
    shape: tuple[int, int],
    cfg: EvaluationConfig,
) -> SaliencyTruth | None:
    """Human heatmaps per reader (REFLACX recipe) and fixations; None if no reader has any."""
    size = (image.width_px, image.height_px)
    sigma_px = cfg.fallback_sigma_of_height * image.height_px
    maps: dict[str, list[np.ndarray]] = {}
    xy: dict[str, list[np.ndarray]] = {}
    for sp, rk in zip(humans, readers, strict=True):
        heat = scanpath_heatmap(
            sp, shape, image_size_px=size, sigma_px=sigma_px, sigma_deg=cfg.sigma_deg
        )
        xy.setdefault(rk, []).append(sp.xy)
        if heat.sum() > 0:
            maps.setdefault(rk, []).append(heat)
    keys = [k for k in dict.fromkeys(readers) if k in maps]
    if not keys:
        return None
    reader_maps = [np.mean(maps[k], axis=0) for k in keys]
    return SaliencyTruth(
        pooled_xy=np.concatenate([np.concatenate(v) for v in xy.values()]),
        gt_map=np.mean(reader_maps, axis=0),
        reader_xy=[np.concatenate(xy[k]) for k in keys],
        reader_maps=reader_maps,
    )


def saliency_scores(
    pred: np.ndarray, fix_xy: np.ndarray, gt_map: np.ndarray, other_xy: np.ndarray
) -> dict[str, float]:
    """The saliency metrics of one map against fixations, a heatmap and sAUC negatives."""
    return {
        "NSS": NSS(pred, fix_xy),
        "AUC-Judd": AUC_Judd(pred, fix_xy),
        "sAUC": sAUC(pred, fix_xy, other_xy) if len(other_xy) else math.nan,
        "CC": CC(pred, gt_map),
        "KL": KLDiv(pred, gt_map),
        "SIM": SIM(pred, gt_map),
    }
