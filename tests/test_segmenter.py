"""The learned segmenter: network, augmentation, training (tiny phantom set), save/load,
the predictor adapter and golden masks of the shipped weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.anatomy import MASK_LABELS
from core.errors import GazeScopeError
from core.models import create_predictor, list_predictors, predictor_kind
from core.models.segmenter import (
    DEFAULT_CHECKPOINT,
    Segmenter,
    SegmenterConfig,
    UNet,
    predict_probabilities,
    preprocess,
)
from core.train import segmenter as training
from core.train.segmenter import (
    IGNORE,
    SegmenterTrainConfig,
    augment,
    dice_scores,
    pseudo_label,
    train_segmenter,
)

TINY = SegmenterConfig(input_size=32, widths=(4, 8))


def test_unet_shapes_loss_and_ignore_label():
    torch.manual_seed(0)
    net = UNet(TINY)
    x = torch.rand(2, 1, 32, 32)
    y = torch.randint(0, 4, (2, 32, 32))
    logits, loss = net(x, y)
    assert logits.shape == (2, len(MASK_LABELS), 32, 32) and torch.isfinite(loss)
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
    ignored = torch.full_like(y, IGNORE)
    ignored[:, :4, :4] = 1
    _, partial = net(x, ignored)
    assert torch.isfinite(partial)


def test_config_refuses_an_input_the_levels_cannot_halve():
    with pytest.raises(ValueError, match="divisible"):
        SegmenterConfig(input_size=34, widths=(4, 8, 16))


def test_preprocess_squashes_and_scales_by_percentiles():
    image = np.linspace(0.2, 0.6, 200 * 100, dtype=np.float32).reshape(200, 100)
    x = preprocess(image, TINY)
    assert x.shape == (32, 32) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0


def test_probabilities_span_the_grid_and_sum_to_one():
    net = UNet(TINY)
    p = predict_probabilities(net, np.random.default_rng(0).random((90, 60)), (48, 32))
    assert p.shape == (4, 48, 32)
    np.testing.assert_allclose(p.sum(axis=0), 1.0, atol=1e-5)


def test_augment_is_seeded_keeps_labels_and_range():
    rng = np.random.default_rng(0)
    image = rng.random((64, 64)).astype(np.float32)
    label = np.zeros((64, 64), np.uint8)
    label[10:50, 8:28], label[10:50, 36:56], label[40:55, 25:40] = 1, 2, 3
    a = augment(image, label, np.random.default_rng([1, 2, 3]))
    b = augment(image, label, np.random.default_rng([1, 2, 3]))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert a[0].min() >= 0.0 and a[0].max() <= 1.0
    assert set(np.unique(a[1])) <= {0, 1, 2, 3}
    assert (a[1] == 1).any() and (a[1] == 2).any()


def test_pseudo_label_trains_lung_interiors_and_far_background_only():
    right = np.zeros((100, 100), bool)
    left = np.zeros((100, 100), bool)
    heart = np.zeros((100, 100), bool)
    right[20:70, 10:40] = True
    left[20:70, 60:90] = True
    heart[55:70, 40:60] = True
    lab = pseudo_label(right, left, heart, 100)
    assert lab[45, 25] == 1 and lab[45, 75] == 2  # lung interiors
    assert lab[45, 50] == IGNORE and lab[60, 50] == IGNORE  # mediastinum, heart
    assert lab[20, 25] == IGNORE and lab[45, 40] == IGNORE  # borders
    assert lab[75, 25] == IGNORE  # the strip under the bases
    assert lab[5, 5] == 0 and lab[95, 50] == 0  # far background


def test_dice_scores_by_hand():
    a = np.array([[1, 1, 2, 0], [3, 3, 0, 0]])
    b = np.array([[1, 0, 2, 0], [3, 0, 0, 0]])
    np.testing.assert_allclose(dice_scores(a, b), [2 / 3, 1.0, 2 / 3])


def _train_config(tmp_path, name, **kw):
    return SegmenterTrainConfig(
        out_dir=tmp_path / name,
        work_dir=tmp_path / f"{name}-work",
        n_phantoms=4,
        n_val=2,
        epochs=2,
        batch_size=2,
        threads=1,
        patience=5,
        model=TINY,
        **kw,
    )


@pytest.mark.slow
def test_training_on_a_tiny_phantom_set_saves_loads_and_resumes(tmp_path, monkeypatch):
    result = train_segmenter(_train_config(tmp_path, "full"))
    assert [r["epoch"] for r in result.history] == [0, 1]
    assert all(np.isfinite(r["loss"]) for r in result.history)
    assert set(result.val_dice) == {"right_lung", "left_lung", "heart"}
    out = tmp_path / "full"
    for f in ("config.json", "model.safetensors", "README.md"):
        assert (out / f).is_file()
    loaded = Segmenter(out, method="learned")
    assert loaded.config == TINY and loaded.meta["model_type"] == "segmenter"
    assert loaded.meta["metrics"]["epoch"] == result.best_epoch

    # an interrupted run resumed from its state ends with the same weights
    calls = {"n": 0}
    evaluate = training._evaluate

    def interrupt_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(training, "_evaluate", interrupt_second)
    with pytest.raises(KeyboardInterrupt):
        train_segmenter(_train_config(tmp_path, "cut"))
    monkeypatch.setattr(training, "_evaluate", evaluate)
    resumed = train_segmenter(_train_config(tmp_path, "cut"), resume=True)
    assert [r["epoch"] for r in resumed.history] == [0, 1]
    a = torch.load(tmp_path / "full-work" / "state.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "cut-work" / "state.pt", weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_missing_checkpoint_names_the_folder(tmp_path):
    with pytest.raises(GazeScopeError, match="nowhere"):
        Segmenter(tmp_path / "nowhere")


def test_segmenter_is_registered_and_locates_through_the_anatomy_layer():
    assert DEFAULT_CHECKPOINT in list_predictors(kind="segmenter")
    assert predictor_kind(DEFAULT_CHECKPOINT) == "segmenter"
    untrained = create_predictor(DEFAULT_CHECKPOINT, checkpoint=None, input_size=32, widths=(4, 8))
    image = np.random.default_rng(0).random((64, 64)).astype(np.float32)
    anatomy = untrained.locate(image, method="learned")
    assert anatomy.method.startswith("learned: segmenter-unet-small")
    assert anatomy.confidence < 0.5  # an untrained network on noise is not trusted
    with pytest.raises(ValueError, match="learned' or 'fused"):
        Segmenter(None, method="classical")


GOLDEN = "golden/segmenter_00001369_000_labels.png"
GOLDEN_WEIGHTS = "d9d0e8c0aa1e"  # the shipped weights the golden masks were written with


def test_shipped_weights_reproduce_the_golden_masks_of_the_issue_example():
    """The shipped checkpoint on assets/examples/00001369_000.png (Cardiomegaly): the label
    image written once with these weights (regenerate both together when retraining)."""
    from pathlib import Path

    from PIL import Image

    from core.io import load_radiograph
    from core.models.segmenter import load_segmenter

    here = Path(__file__).parent
    segmenter = load_segmenter()
    assert segmenter.meta["weights_sha256"].startswith(GOLDEN_WEIGHTS)
    radiograph = load_radiograph(here.parent / "assets/examples/images/00001369_000.png")
    anatomy = segmenter.locate(radiograph, method="learned")
    labels = anatomy.label_image(radiograph.height, radiograph.width)
    golden = np.asarray(Image.open(here / GOLDEN))
    assert labels.shape == golden.shape
    assert np.mean(labels == golden) > 0.995  # float jitter across CPUs may flip edge pixels
    assert anatomy.confidence >= 0.5
    ctr = anatomy.measurements["cardiothoracic_ratio"]
    assert 0.55 < ctr.value < 0.7  # labelled Cardiomegaly; the classical CTR was 0.57


def test_segmenter_fused_locate_equals_core_locate_fused():
    """Segmenter.locate (classical and learned computed once each, then fused) gives exactly
    what locate(x, method="fused", learned=...) gives."""
    from pathlib import Path

    from core.anatomy import locate
    from core.io import load_radiograph
    from core.models.segmenter import load_segmenter

    segmenter = load_segmenter()
    radiograph = load_radiograph(
        Path(__file__).parent.parent / "assets/examples/images/00001369_000.png"
    )
    via_segmenter = segmenter.locate(radiograph)  # default method: fused
    sequential = locate(radiograph, method="fused", learned=segmenter.segment(radiograph))
    assert via_segmenter.method == sequential.method and "fused" in via_segmenter.method
    assert via_segmenter.confidence == sequential.confidence
    assert via_segmenter.reasons == sequential.reasons
    h, w = radiograph.height, radiograph.width
    assert np.array_equal(via_segmenter.label_image(h, w), sequential.label_image(h, w))
    for name, m in sequential.measurements.items():
        assert via_segmenter.measurements[name].value == m.value
