"""Masks from a learned segmentation, and the fusion of the classical and learned results.

``learned_masks`` turns the segmenter's softmax into three clean masks (argmax, the largest
component of each structure, holes filled) and the network's certainty per structure.
``fuse_probabilities`` combines the two methods pixel by pixel: the learned probabilities and
the classical masks are averaged with the methods' confidences as weights. The classical masks
enter softened (``CLASSICAL_SOFT``: 0.625 for the drawn class, 0.125 for each other one), so
where both methods are confident the network's answer stands unless it is itself unsure
(below about 0.6), and then the classical outline decides; a method that declined barely
counts. When both methods are confident but their masks disagree strongly (Dice of a lung
under ``DISAGREE_LUNG_DICE`` or of the heart under ``DISAGREE_HEART_DICE``), at least one of
them is wrong and nothing says which: the fused confidence drops and the reason says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from core.anatomy.quality import CONFIDENCE_THRESHOLD

__all__ = [
    "CLASSICAL_SOFT",
    "DISAGREE_HEART_DICE",
    "DISAGREE_LUNG_DICE",
    "Agreement",
    "agreement",
    "fuse_probabilities",
    "learned_masks",
    "mask_dice",
    "one_hot",
]

# (bad, good) Dice ramps between confident classical and learned masks, set on the tuning half
# of the NIH sample (only): the weaker lung's Dice has its 5th percentile at 0.70 there and the
# heart's at 0.66, and these ramps flag about 7 % of its images (factor < 0.7).
DISAGREE_LUNG_DICE = (0.60, 0.75)
DISAGREE_HEART_DICE = (0.45, 0.65)
CLASSICAL_SOFT = 0.5  # label smoothing of the classical masks in the fusion (design choice)


def mask_dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice of two boolean masks; 1.0 when both are empty."""
    denom = int(a.sum()) + int(b.sum())
    return 1.0 if denom == 0 else 2.0 * float((a & b).sum()) / denom


def _largest(mask: np.ndarray) -> np.ndarray:
    lab, n = ndi.label(mask)
    if n <= 1:
        return mask
    sizes = np.bincount(lab.ravel())
    sizes[0] = 0
    return lab == int(np.argmax(sizes))


def learned_masks(
    probabilities: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[float, float, float]]:
    """``(right, left, heart, certainty)`` from (4, gh, gw) softmax probabilities.

    Each structure keeps its largest connected component with holes filled; a lung must lie
    on its own side of the heart-lung midline (columns), so a stray blob across the midline is
    dropped. ``certainty`` is the mean probability of each structure over its mask (0 if
    empty): the network's own confidence in what it drew.
    """
    label = np.argmax(probabilities, axis=0)
    masks = [ndi.binary_fill_holes(_largest(label == k)) for k in (1, 2, 3)]
    right, left, heart = masks
    # resolve overlaps created by hole filling: lungs first, then the heart
    left &= ~right
    heart &= ~(right | left)
    certainty = tuple(
        float(probabilities[k][m].mean()) if m.any() else 0.0
        for k, m in zip((1, 2, 3), (right, left, heart), strict=True)
    )
    return right, left, heart, certainty  # type: ignore[return-value]


@dataclass(frozen=True)
class Agreement:
    dice: dict[str, float]  # right_lung, left_lung, heart
    factor: float  # multiplies the fused confidence (1.0: no strong disagreement)
    reason: str | None


def _ramp(value: float, bad: float, good: float) -> float:
    return float(np.clip((value - bad) / (good - bad), 0.0, 1.0))


def agreement(
    classical: tuple[np.ndarray, np.ndarray, np.ndarray],
    learned: tuple[np.ndarray, np.ndarray, np.ndarray],
    confidences: tuple[float, float],
) -> Agreement:
    """Dice per structure and the confidence factor (see the module docstring).

    ``confidences`` are (classical, learned); the factor only bites when both are at or above
    ``CONFIDENCE_THRESHOLD`` (a method that already says it failed is expected to disagree).
    """
    names = ("right_lung", "left_lung", "heart")
    dice = {n: mask_dice(c, m) for n, c, m in zip(names, classical, learned, strict=True)}
    if min(confidences) < CONFIDENCE_THRESHOLD:
        return Agreement(dice, 1.0, None)
    lung = min(dice["right_lung"], dice["left_lung"])
    factor = min(_ramp(lung, *DISAGREE_LUNG_DICE), _ramp(dice["heart"], *DISAGREE_HEART_DICE))
    if factor >= 0.7:
        return Agreement(dice, factor, None)
    parts = ", ".join(f"{n.replace('_', ' ')} Dice {v:.2f}" for n, v in dice.items())
    return Agreement(
        dice, factor, f"classical and learned outlines disagree ({parts}): check them by eye"
    )


def one_hot(masks: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """(4, gh, gw) float32 one-hot of (right lung, left lung, heart) masks plus background."""
    out = np.zeros((4, *masks[0].shape), np.float32)
    for k, m in enumerate(masks, start=1):
        out[k][m] = 1.0
    out[0] = 1.0 - out[1:].sum(axis=0).clip(0.0, 1.0)
    return out


def fuse_probabilities(
    classical: tuple[np.ndarray, np.ndarray, np.ndarray],
    probabilities: np.ndarray,
    confidences: tuple[float, float],
) -> np.ndarray:
    """Confidence-weighted average of the softened classical masks and the learned softmax,
    (4, gh, gw); equal weights when neither method is confident."""
    c_classical, c_learned = (max(c, 1e-3) for c in confidences)
    onehot = one_hot(classical) * (1.0 - CLASSICAL_SOFT) + CLASSICAL_SOFT / 4.0
    return (c_classical * onehot + c_learned * probabilities) / (c_classical + c_learned)
