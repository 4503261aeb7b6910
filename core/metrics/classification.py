"""Multi-label classification metrics with unannotated labels masked, and bootstrap CIs.

``y_true`` is ``(N cases, L labels)`` with values 0, 1 or nan (nan: the label is not
annotated for that case, as the vocabulary's certainties use it); ``y_score`` the matching
scores. Per-label results are plural (``roc_aucs``), aggregates singular. Conventions
(``core/metrics/CONVENTIONS.md``):

- ROC AUC is the tie-aware Mann-Whitney statistic (ties between a positive and a negative count
  half), equal to ``sklearn.metrics.roc_auc_score``; nan when a label has only one class among
  its annotated cases.
- A case is predicted positive when ``score >= threshold``.
- Precision, recall and F1 are nan when undefined (no predicted positive / no positive / both),
  as scikit-learn with ``zero_division=np.nan``; macro averages are means over the labels whose
  value is defined, micro averages pool the counts of all annotated (case, label) entries.
- Confidence intervals are percentile bootstrap intervals over *cases* (one resample draws N
  cases with replacement; a case keeps all its labels), seeded; resamples where a statistic is
  undefined are left out of its interval.

Every statistic is computed from case *weights* (1 for the point estimate, bootstrap counts for
a resample), so the bootstrap is one vectorised pass instead of B re-evaluations.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

logger = logging.getLogger(__name__)

__all__ = [
    "ClassificationMetrics",
    "classification_metrics",
    "precision_recall_f1",
    "roc_auc",
    "roc_aucs",
    "two_group_auc",
    "two_group_auc_ci",
]

_BOOTSTRAP_CHUNK = 250  # resamples evaluated at once (bounds memory for micro AUC)


def _check(y_true: np.ndarray, y_score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both as float64 ``(N, L)``; 1-D inputs are one label."""
    t = np.asarray(y_true, dtype=np.float64)
    s = np.asarray(y_score, dtype=np.float64)
    t = t[:, None] if t.ndim == 1 else t
    s = s[:, None] if s.ndim == 1 else s
    if t.ndim != 2 or t.shape != s.shape:
        raise ValueError(
            f"y_true and y_score must have the same (N, L) shape, got {t.shape}, {s.shape}"
        )
    annotated = ~np.isnan(t)
    if not np.all((t[annotated] == 0) | (t[annotated] == 1)):
        raise ValueError("y_true must hold 0, 1 or nan (binarise certainties first)")
    if not np.all(np.isfinite(s[annotated])):
        raise ValueError("y_score must be finite wherever y_true is annotated")
    return t, s


def _weighted_auc(y: np.ndarray, s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC of scores ``s`` (n,) for labels ``y`` (n,) under case weights (B, n).

    ``sum_{i pos, j neg} w_i w_j ([s_i > s_j] + 0.5 [s_i == s_j]) / (W_pos W_neg)``; nan where
    a resample has no positive or no negative weight.
    """
    if len(s) == 0:
        return np.full(len(w), np.nan)
    order = np.argsort(s, kind="stable")
    s, y, w = s[order], y[order].astype(bool), w[:, order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])  # tie groups, ascending score
    pos_w = np.add.reduceat(w * y, starts, axis=1)  # (B, G)
    neg_w = np.add.reduceat(w * ~y, starts, axis=1)
    neg_below = np.cumsum(neg_w, axis=1) - neg_w  # negative weight strictly below each group
    num = np.sum(pos_w * (neg_below + 0.5 * neg_w), axis=1)
    den = pos_w.sum(axis=1) * neg_w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _nanmean(a: np.ndarray, axis: int) -> np.ndarray:
    """Mean over finite entries; nan (without a warning) where there is none."""
    ok = np.isfinite(a)
    n = ok.sum(axis=axis)
    total = np.where(ok, a, 0.0).sum(axis=axis)
    return _ratio(total, n.astype(np.float64))


def _counts(
    t: np.ndarray, s: np.ndarray, threshold: float, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted TP, FP, FN per label, each (B, L)."""
    annotated = ~np.isnan(t)
    pred = (s >= threshold) & annotated
    pos = (t == 1) & annotated
    tp = w @ (pred & pos).astype(np.float64)
    fp = w @ (pred & ~pos).astype(np.float64)
    fn = w @ (~pred & pos).astype(np.float64)
    return tp, fp, fn


def _prf(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> tuple[np.ndarray, ...]:
    return _ratio(tp, tp + fp), _ratio(tp, tp + fn), _ratio(2 * tp, 2 * tp + fp + fn)


def roc_aucs(y_true: np.ndarray, y_score: np.ndarray) -> np.ndarray:
    """ROC AUC per label ``(L,)`` over the cases annotated for it; nan with one class only."""
    t, s = _check(y_true, y_score)
    out = np.empty(t.shape[1])
    for j in range(t.shape[1]):
        m = ~np.isnan(t[:, j])
        out[j] = _weighted_auc(t[m, j], s[m, j], np.ones((1, m.sum())))[0]
    return out


def two_group_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """AUC of a score that should be higher in ``pos`` than in ``neg``: the probability that a
    positive scores above a negative (ties count half); nan when either group is empty."""
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    y_true = np.concatenate([np.ones(pos.size), np.zeros(neg.size)])[:, None]
    return float(roc_aucs(y_true, np.concatenate([pos, neg])[:, None])[0])


def two_group_auc_ci(
    pos: np.ndarray, neg: np.ndarray, *, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """:func:`two_group_auc` and its percentile 95 % CI, resampling each group with replacement
    (a stratified bootstrap: both groups keep their sizes; seeded)."""
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    auc = two_group_auc(pos, neg)
    if pos.size == 0 or neg.size == 0:
        return auc, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    boots = [
        two_group_auc(rng.choice(pos, pos.size), rng.choice(neg, neg.size)) for _ in range(n_boot)
    ]
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return auc, float(lo), float(hi)


def roc_auc(y_true: np.ndarray, y_score: np.ndarray, average: str = "macro") -> float:
    """Aggregate ROC AUC: "macro" (mean of defined per-label AUCs) or "micro" (pooled entries)."""
    if average == "macro":
        return float(_nanmean(roc_aucs(y_true, y_score), axis=0))
    if average == "micro":
        t, s = _check(y_true, y_score)
        m = ~np.isnan(t)
        return float(_weighted_auc(t[m], s[m], np.ones((1, m.sum())))[0])
    raise ValueError(f"average must be 'macro' or 'micro', got {average!r}")


def precision_recall_f1(
    y_true: np.ndarray, y_score: np.ndarray, threshold: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-label ``(precisions, recalls, f1s)``, each ``(L,)``, predicting ``score >= threshold``.

    Unannotated entries are ignored; a value is nan when its denominator is 0.
    """
    t, s = _check(y_true, y_score)
    tp, fp, fn = _counts(t, s, threshold, np.ones((1, len(t))))
    p, r, f = _prf(tp[0], fp[0], fn[0])
    return p, r, f


@dataclass(frozen=True)
class ClassificationMetrics:
    """Per-label and averaged metrics, with percentile bootstrap CIs (``(lo, hi)``)."""

    labels: tuple[str, ...]
    threshold: float
    n_annotated: np.ndarray  # (L,) cases annotated per label
    supports: np.ndarray  # (L,) positive cases per label
    aucs: np.ndarray  # (L,) nan when a label has one class only
    precisions: np.ndarray  # (L,)
    recalls: np.ndarray  # (L,)
    f1s: np.ndarray  # (L,)
    macro_auc: float
    micro_auc: float
    macro_precision: float
    macro_recall: float
    macro_f1: float
    micro_precision: float
    micro_recall: float
    micro_f1: float
    auc_cis: np.ndarray  # (L, 2)
    f1_cis: np.ndarray  # (L, 2)
    cis: dict[str, tuple[float, float]] = field(default_factory=dict)  # aggregate name -> CI
    n_bootstrap: int = 0
    confidence: float = 0.95


_AGGREGATES = (
    "macro_auc",
    "micro_auc",
    "macro_precision",
    "macro_recall",
    "macro_f1",
    "micro_precision",
    "micro_recall",
    "micro_f1",
)


def _statistics(
    t: np.ndarray, s: np.ndarray, threshold: float, w: np.ndarray
) -> dict[str, np.ndarray]:
    """Every statistic under case weights ``w`` (B, N); per-label ones are (B, L), others (B,)."""
    n_labels = t.shape[1]
    aucs = np.empty((len(w), n_labels))
    for j in range(n_labels):
        m = ~np.isnan(t[:, j])
        aucs[:, j] = _weighted_auc(t[m, j], s[m, j], w[:, m])
    m = ~np.isnan(t)
    case_of_entry = np.broadcast_to(np.arange(len(t))[:, None], t.shape)[m]
    micro_auc = _weighted_auc(t[m], s[m], w[:, case_of_entry])
    tp, fp, fn = _counts(t, s, threshold, w)
    p, r, f = _prf(tp, fp, fn)
    mp, mr, mf = _prf(tp.sum(1), fp.sum(1), fn.sum(1))
    return {
        "aucs": aucs,
        "precisions": p,
        "recalls": r,
        "f1s": f,
        "macro_auc": _nanmean(aucs, axis=1),
        "micro_auc": micro_auc,
        "macro_precision": _nanmean(p, axis=1),
        "macro_recall": _nanmean(r, axis=1),
        "macro_f1": _nanmean(f, axis=1),
        "micro_precision": mp,
        "micro_recall": mr,
        "micro_f1": mf,
    }


def _bootstrap_weights(n_cases: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(B, N) how often each case is drawn in each resample of N cases with replacement."""
    draws = rng.integers(0, n_cases, size=(n_resamples, n_cases))
    flat = draws + n_cases * np.arange(n_resamples)[:, None]
    return (
        np.bincount(flat.ravel(), minlength=n_resamples * n_cases)
        .reshape(n_resamples, n_cases)
        .astype(np.float64)
    )


def _percentile_ci(samples: np.ndarray, confidence: float) -> np.ndarray:
    """Percentile interval over axis 0 of the finite samples: (..., 2); nan where none."""
    alpha = 1.0 - confidence
    flat = samples.reshape(len(samples), -1)
    out = np.full((flat.shape[1], 2), np.nan)
    for k in range(flat.shape[1]):
        v = flat[:, k][np.isfinite(flat[:, k])]
        if len(v):
            out[k] = np.quantile(v, [alpha / 2, 1 - alpha / 2])
    return out.reshape(*samples.shape[1:], 2)


def _bootstrap_ci(
    t: np.ndarray,
    s: np.ndarray,
    threshold: float,
    n_resamples: int,
    confidence: float,
    seed: int,
) -> dict[str, np.ndarray]:
    """Percentile bootstrap CIs over cases for every statistic of :func:`_statistics`.

    Private for now; the shared ``core.metrics.stats.bootstrap_ci`` will take over.
    """
    rng = np.random.default_rng(seed)
    chunks: dict[str, list[np.ndarray]] = {}
    for start in range(0, n_resamples, _BOOTSTRAP_CHUNK):
        b = min(_BOOTSTRAP_CHUNK, n_resamples - start)
        for name, value in _statistics(t, s, threshold, _bootstrap_weights(len(t), b, rng)).items():
            chunks.setdefault(name, []).append(value)
    return {name: _percentile_ci(np.concatenate(v), confidence) for name, v in chunks.items()}


def classification_metrics(
    y_true: np.ndarray,
    y_score: np.ndarray,
    labels: Sequence[str] | None = None,
    *,
    threshold: float = 0.5,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> ClassificationMetrics:
    """All per-label and averaged metrics, with bootstrap CIs over cases (``n_bootstrap=0``: none).

    ``labels`` name the columns (default ``"0"``, ``"1"``, ...). Same seed, same intervals.
    """
    t, s = _check(y_true, y_score)
    if len(t) == 0:
        raise ValueError("classification_metrics needs at least one case")
    names = tuple(labels) if labels is not None else tuple(str(j) for j in range(t.shape[1]))
    if len(names) != t.shape[1]:
        raise ValueError(f"{len(names)} labels for {t.shape[1]} columns")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    point = {k: v[0] for k, v in _statistics(t, s, threshold, np.ones((1, len(t)))).items()}
    nan2 = np.full((t.shape[1], 2), np.nan)
    cis: dict[str, np.ndarray] = {}
    if n_bootstrap > 0:
        cis = _bootstrap_ci(t, s, threshold, n_bootstrap, confidence, seed)
    return ClassificationMetrics(
        labels=names,
        threshold=threshold,
        n_annotated=(~np.isnan(t)).sum(axis=0),
        supports=(t == 1).sum(axis=0),
        aucs=point["aucs"],
        precisions=point["precisions"],
        recalls=point["recalls"],
        f1s=point["f1s"],
        **{name: float(point[name]) for name in _AGGREGATES},
        auc_cis=cis["aucs"] if cis else nan2,
        f1_cis=cis["f1s"] if cis else nan2.copy(),
        cis={name: (float(cis[name][0]), float(cis[name][1])) for name in _AGGREGATES}
        if cis
        else {},
        n_bootstrap=n_bootstrap,
        confidence=confidence,
    )
