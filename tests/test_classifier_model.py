"""The gaze-supervised classifier: each loss term on hand-made maps, calibration, the module."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.models.classifier import (
    ClassifierConfig,
    GazeClassifier,
    classifier_loss,
    fit_temperature,
    gaze_attention_terms,
    masked_bce,
    preprocess_image,
    supcon_loss,
)

TINY = dict(labels=("cardiomegaly", "no_finding"), image_size=16, channels=(4, 4, 4, 4))


def _maps(*grids: list[list[float]]) -> torch.Tensor:
    return torch.tensor(grids, dtype=torch.float64)


# --- gaze-attention terms ---------------------------------------------------------------------


def test_terms_of_identical_maps_are_zero() -> None:
    m = _maps([[1.0, 2.0], [3.0, 4.0]])
    t = gaze_attention_terms(m, m.clone())
    for name in ("mse", "kl", "one_minus_cc", "com"):
        assert t[name].item() == pytest.approx(0.0, abs=1e-9), name


def test_terms_of_opposite_corners_by_hand() -> None:
    a = _maps([[1.0, 0.0], [0.0, 0.0]])
    g = _maps([[0.0, 0.0], [0.0, 1.0]])
    t = gaze_attention_terms(a, g)
    # densities x 4 cells: [4,0,0,0] vs [0,0,0,4] -> squared differences 16, 0, 0, 16
    assert t["mse"].item() == pytest.approx(8.0)
    # all gaze mass on a cell where attention is 0: log((1 + eps) / eps)
    assert t["kl"].item() == pytest.approx(math.log((1 + 1e-8) / 1e-8))
    # Pearson of [1,0,0,0] and [0,0,0,1] is -1/3
    assert t["one_minus_cc"].item() == pytest.approx(4.0 / 3.0)
    # cell centres (0.25, 0.25) and (0.75, 0.75)
    assert t["com"].item() == pytest.approx(math.sqrt(0.5))


def test_terms_ignore_scale_and_constant_map_has_no_correlation() -> None:
    a = _maps([[0.1, 0.3], [0.2, 0.4]])
    g = _maps([[0.4, 0.1], [0.3, 0.2]])
    t1, t2 = gaze_attention_terms(a, g), gaze_attention_terms(7 * a, 0.5 * g)
    for name in t1:
        assert t1[name].item() == pytest.approx(t2[name].item())
    flat = gaze_attention_terms(_maps([[1.0, 1.0], [1.0, 1.0]]), g)
    assert flat["one_minus_cc"].item() == pytest.approx(1.0)
    # the uniform map's centre is the middle; g's centre of mass from its cell centres:
    cx = (0.4 * 0.25 + 0.1 * 0.75 + 0.3 * 0.25 + 0.2 * 0.75) / 1.0
    cy = (0.4 * 0.25 + 0.1 * 0.25 + 0.3 * 0.75 + 0.2 * 0.75) / 1.0
    assert flat["com"].item() == pytest.approx(math.hypot(cx - 0.5, cy - 0.5))


def test_terms_reject_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="attention and gaze"):
        gaze_attention_terms(torch.ones(1, 2, 2), torch.ones(1, 3, 3))


# --- BCE, supervised contrastive, total -------------------------------------------------------


def test_masked_bce_ignores_unannotated_entries() -> None:
    logits = torch.tensor([[0.0, 5.0], [0.0, -3.0]])
    labels = torch.tensor([[1.0, float("nan")], [0.0, float("nan")]])
    assert masked_bce(logits, labels).item() == pytest.approx(math.log(2))
    assert masked_bce(logits, torch.full_like(labels, float("nan"))).item() == 0.0


def test_supcon_by_hand() -> None:
    z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    # anchors 0 and 1: one positive at similarity 1, one negative at 0; anchor 2 has none
    expected = math.log(math.e + 1) - 1
    assert supcon_loss(z, y, temperature=1.0).item() == pytest.approx(expected, rel=1e-6)
    assert supcon_loss(z, torch.eye(3, 2), temperature=1.0).item() == 0.0  # no shared label


def test_loss_is_bce_alone_without_gaze() -> None:
    torch.manual_seed(0)
    model = GazeClassifier(ClassifierConfig(**TINY)).eval()
    x = torch.randn(3, 1, 16, 16)
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, float("nan")]])
    gaze = torch.rand(3, 2, 2)
    out = model(x)
    no_gaze = torch.zeros(3, dtype=torch.bool)
    bce = masked_bce(out.logits, y, model.pos_weight).item()
    total, terms = classifier_loss(out, y, gaze, no_gaze, model.config, model.pos_weight)
    assert total.item() == pytest.approx(bce) and "gaze" not in terms
    with_gaze, terms = classifier_loss(out, y, gaze, ~no_gaze, model.config, model.pos_weight)
    assert with_gaze.item() > bce and {"mse", "kl", "one_minus_cc", "com"} <= set(terms)
    sc = ClassifierConfig(**TINY, supcon_weight=0.5)
    total_sc, terms = classifier_loss(out, y, gaze, no_gaze, sc, model.pos_weight)
    assert total_sc.item() == pytest.approx(bce + 0.5 * terms["supcon"])
    off = ClassifierConfig(**TINY, gaze_weight=0.0)
    assert classifier_loss(out, y, gaze, ~no_gaze, off)[0].item() == pytest.approx(
        masked_bce(out.logits, y).item()
    )


def test_gaze_loss_pulls_attention_toward_gaze() -> None:
    """A few steps on the gaze loss alone move the attention's centre of mass to the gaze."""
    torch.manual_seed(0)
    config = ClassifierConfig(**TINY, dropout=0.0)
    model = GazeClassifier(config)
    x = torch.randn(4, 1, 16, 16)
    y = torch.tensor([[1.0, float("nan")]] * 4)  # positive cardiomegaly, no BCE on the other
    gaze = torch.zeros(4, 2, 2)
    gaze[:, 1, 1] = 1.0  # all gaze in the bottom-right cell
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    before = model(x).attention[:, 0, 1, 1].mean().item()
    for _ in range(30):
        out = model(x, y, gaze, torch.ones(4, dtype=torch.bool))
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    model.eval()
    assert model(x).attention[:, 0, 1, 1].mean().item() > max(0.6, before)


# --- module -----------------------------------------------------------------------------------


def test_forward_shapes_densities_and_temperature() -> None:
    torch.manual_seed(0)
    model = GazeClassifier(ClassifierConfig(**TINY)).eval()
    out = model(torch.randn(2, 1, 16, 16))
    assert out.logits.shape == (2, 2) and out.attention.shape == (2, 2, 2, 2)
    assert torch.allclose(out.attention.sum(dim=(2, 3)), torch.ones(2, 2))
    model.temperature.fill_(2.0)
    out2 = model(torch.randn(2, 1, 16, 16))
    assert torch.allclose(out2.probabilities, torch.sigmoid(out2.logits / 2.0))


def test_config_validates() -> None:
    with pytest.raises(ValueError, match="multiple of 8"):
        ClassifierConfig(image_size=20)
    with pytest.raises(ValueError, match="channels"):
        ClassifierConfig(channels=(4, 4))


def test_preprocess_resizes_whole_image_and_standardises() -> None:
    img = np.linspace(0, 1, 40 * 30, dtype=np.float32).reshape(40, 30)
    t = preprocess_image(img, 16)
    assert t.shape == (1, 1, 16, 16)
    assert t.mean().item() == pytest.approx(0.0, abs=1e-5)
    assert t.std().item() == pytest.approx(1.0, abs=1e-4)
    assert torch.all(preprocess_image(np.zeros((8, 8), np.float32), 16) == 0)
    with pytest.raises(ValueError, match="2-D"):
        preprocess_image(np.zeros((2, 8, 8), np.float32), 16)


# --- calibration ------------------------------------------------------------------------------


def test_temperature_recovers_overconfidence() -> None:
    rng = np.random.default_rng(0)
    true_logit = rng.normal(0, 2, size=20_000)
    y = (rng.random(20_000) < 1 / (1 + np.exp(-true_logit))).astype(float)
    assert fit_temperature(3.0 * true_logit, y) == pytest.approx(3.0, rel=0.1)
    assert fit_temperature(0.5 * true_logit, y) == pytest.approx(0.5, rel=0.1)


def test_temperature_degenerate_inputs() -> None:
    z = np.array([1.0, -1.0, 2.0])
    assert fit_temperature(z, np.ones(3)) == 1.0  # one class: nothing to calibrate
    assert fit_temperature(z, np.full(3, np.nan)) == 1.0
    y = np.array([1.0, np.nan, 0.0])
    assert np.isfinite(fit_temperature(z, y))
    with pytest.raises(ValueError, match="differ"):
        fit_temperature(z, np.ones(2))
