"""Classification metrics against scikit-learn, masked labels, and the bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support, roc_auc_score

from core.metrics.classification import (
    classification_metrics,
    precision_recall_f1,
    roc_auc,
    roc_aucs,
)


def _data(seed, n=60, n_labels=5, ties=True, nan_frac=0.0):
    rng = np.random.default_rng(seed)
    t = (rng.random((n, n_labels)) < rng.uniform(0.2, 0.6, n_labels)).astype(float)
    s = 0.6 * t + rng.random((n, n_labels))
    if ties:
        s = np.round(s, 1)
    t[rng.random(t.shape) < nan_frac] = np.nan
    return t, s


@pytest.mark.parametrize("seed", range(8))
def test_auc_matches_sklearn(seed):
    t, s = _data(seed, ties=seed % 2 == 0)
    expected = [roc_auc_score(t[:, j], s[:, j]) for j in range(t.shape[1])]
    assert roc_aucs(t, s) == pytest.approx(expected, abs=1e-12)
    assert roc_auc(t, s) == pytest.approx(roc_auc_score(t, s, average="macro"), abs=1e-12)
    assert roc_auc(t, s, "micro") == pytest.approx(roc_auc_score(t, s, average="micro"), abs=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_nan_labels_are_masked_like_sklearn_on_annotated_rows(seed):
    t, s = _data(seed, nan_frac=0.3)
    for j, auc in enumerate(roc_aucs(t, s)):
        m = ~np.isnan(t[:, j])
        assert auc == pytest.approx(roc_auc_score(t[m, j], s[m, j]), abs=1e-12)
    m = ~np.isnan(t)
    assert roc_auc(t, s, "micro") == pytest.approx(roc_auc_score(t[m], s[m]), abs=1e-12)
    p, r, f = precision_recall_f1(t, s, threshold=0.7)
    for j in range(t.shape[1]):
        m = ~np.isnan(t[:, j])
        ep, er, ef, _ = precision_recall_fscore_support(
            t[m, j], s[m, j] >= 0.7, average="binary", zero_division=np.nan
        )
        assert [p[j], r[j], f[j]] == pytest.approx([ep, er, ef], nan_ok=True)


@pytest.mark.parametrize("seed", range(8))
def test_f1_macro_micro_match_sklearn(seed):
    t, s = _data(seed, n=40, n_labels=6)
    threshold = 0.9
    pred = s >= threshold
    res = classification_metrics(t, s, threshold=threshold, n_bootstrap=0)
    for avg in ("macro", "micro"):
        ep, er, ef, _ = precision_recall_fscore_support(t, pred, average=avg, zero_division=np.nan)
        assert getattr(res, f"{avg}_precision") == pytest.approx(ep, nan_ok=True)
        assert getattr(res, f"{avg}_recall") == pytest.approx(er, nan_ok=True)
        assert getattr(res, f"{avg}_f1") == pytest.approx(ef, nan_ok=True)
    ep, er, ef, support = precision_recall_fscore_support(t, pred, zero_division=np.nan)
    assert res.f1s == pytest.approx(ef, nan_ok=True)
    assert res.supports.tolist() == support.tolist()


def test_degenerate_labels():
    t = np.array([[1, 0, np.nan], [1, 1, np.nan], [1, 0, np.nan], [1, 1, 1]], dtype=float)
    s = np.array([[0.9, 0.2, 0.1], [0.8, 0.7, 0.2], [0.1, 0.1, 0.3], [0.6, 0.9, 0.9]])
    aucs = roc_aucs(t, s)
    assert math.isnan(aucs[0]) and aucs[1] == 1.0 and math.isnan(aucs[2])  # one class -> nan
    assert roc_auc(t, s) == 1.0  # macro over the defined label only
    p, r, f = precision_recall_f1(t, s, threshold=0.95)  # nothing predicted positive
    assert np.isnan(p).all() and r.tolist() == [0.0, 0.0, 0.0] and f.tolist() == [0.0, 0.0, 0.0]
    # a label without any positive nor predicted positive: everything undefined
    p, r, f = precision_recall_f1(np.zeros((3, 1)), np.zeros((3, 1)))
    assert np.isnan([p[0], r[0], f[0]]).all()
    allnan = np.full((3, 2), np.nan)
    assert math.isnan(roc_auc(allnan, np.zeros((3, 2))))
    assert math.isnan(roc_auc(allnan, np.zeros((3, 2)), "micro"))
    res = classification_metrics(allnan, np.zeros((3, 2)), n_bootstrap=20)
    assert math.isnan(res.macro_f1) and np.isnan(res.auc_cis).all()
    # ties between a positive and a negative count half
    assert roc_auc(np.array([1.0, 0.0]), np.array([0.5, 0.5])) == 0.5


def test_bootstrap_equals_naive_resampling_with_the_same_draws():
    t, s = _data(11, n=50, n_labels=3, nan_frac=0.1)
    res = classification_metrics(t, s, ["a", "b", "c"], n_bootstrap=200, seed=7)
    draws = np.random.default_rng(7).integers(0, 50, size=(200, 50))
    aucs, macro_f1 = [], []
    for idx in draws:
        aucs.append(roc_aucs(t[idx], s[idx]))
        macro_f1.append(classification_metrics(t[idx], s[idx], n_bootstrap=0).macro_f1)
    aucs = np.array(aucs)
    for j in range(3):
        v = aucs[:, j][np.isfinite(aucs[:, j])]
        assert res.auc_cis[j] == pytest.approx(np.quantile(v, [0.025, 0.975]), abs=1e-12)
    assert res.cis["macro_f1"] == pytest.approx(np.quantile(macro_f1, [0.025, 0.975]))
    assert res.labels == ("a", "b", "c")


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    t, s = _data(3, n=200, n_labels=4, ties=False)
    a = classification_metrics(t, s, n_bootstrap=300, seed=1)
    b = classification_metrics(t, s, n_bootstrap=300, seed=1)
    c = classification_metrics(t, s, n_bootstrap=300, seed=2)
    assert a.cis == b.cis and a.cis != c.cis
    for name in ("macro_auc", "micro_auc", "macro_f1", "micro_f1"):
        lo, hi = a.cis[name]
        assert lo < getattr(a, name) < hi and hi - lo < 0.2
    # wider interval at higher confidence, narrower with more cases
    wide = classification_metrics(t, s, n_bootstrap=300, seed=1, confidence=0.99)
    assert wide.cis["macro_auc"][0] < a.cis["macro_auc"][0]
    t4, s4 = np.tile(t, (4, 1)), np.tile(s, (4, 1))
    big = classification_metrics(t4, s4, n_bootstrap=300, seed=1)
    assert np.diff(big.cis["macro_auc"]) < np.diff(a.cis["macro_auc"])


def test_bad_inputs():
    with pytest.raises(ValueError, match="0, 1 or nan"):
        roc_aucs(np.array([0.0, 0.5, 1.0]), np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="shape"):
        roc_aucs(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="finite"):
        roc_aucs(np.array([0.0, 1.0]), np.array([0.1, np.nan]))
    with pytest.raises(ValueError, match="average"):
        roc_auc(np.array([0.0, 1.0]), np.array([0.1, 0.2]), "weighted")
    with pytest.raises(ValueError, match="labels"):
        classification_metrics(np.zeros((3, 2)), np.zeros((3, 2)), ["x"])


def test_two_group_auc_counts_ties_half_and_its_bootstrap_is_seeded():
    from core.metrics import two_group_auc, two_group_auc_ci

    # pairs (3,1) (3,2) (2,1) win, (2,2) ties: 3.5 / 4
    assert two_group_auc([3.0, 2.0], [1.0, 2.0]) == pytest.approx(0.875)
    assert math.isnan(two_group_auc([], [1.0]))
    auc, lo, hi = two_group_auc_ci(np.arange(10.0) + 3, np.arange(10.0), n_boot=300, seed=1)
    # positives 3..12 vs negatives 0..9: 3.5 + 4.5 + ... + 9.5 wins for 3..9, 10 each for 10..12
    assert auc == pytest.approx(0.755) and lo <= auc <= hi and hi <= 1.0
    assert two_group_auc_ci(np.arange(10.0) + 3, np.arange(10.0), n_boot=300, seed=1) == (
        auc,
        lo,
        hi,
    )
