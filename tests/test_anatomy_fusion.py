"""Learned masks, the fusion rule, the label image and CTR geometry on hand-made masks."""

import numpy as np
import pytest

from core.anatomy import (
    CONFIDENCE_THRESHOLD,
    LearnedSegmentation,
    atlas_from_masks,
    fuse,
    locate,
    locate_all,
)
from core.anatomy.fuse import agreement, fuse_probabilities, learned_masks, mask_dice, one_hot
from tests.anatomy_phantom import make_phantom


def _boxes(shape=(100, 100)):
    right = np.zeros(shape, bool)
    left = np.zeros(shape, bool)
    heart = np.zeros(shape, bool)
    right[20:80, 10:40] = True
    left[20:80, 60:90] = True
    heart[55:80, 40:70] = True
    left[55:80, 60:70] = False
    return right, left, heart


def test_mask_dice_by_hand():
    a = np.zeros((10, 10), bool)
    b = np.zeros((10, 10), bool)
    a[:, :4] = True  # 40 px
    b[:, 2:6] = True  # 40 px, 20 shared
    assert mask_dice(a, b) == pytest.approx(0.5)
    assert mask_dice(a & False, b & False) == 1.0


def test_learned_masks_keep_the_largest_component_and_fill_holes():
    masks = _boxes()
    probs = one_hot(masks)
    probs[:, 5, 5] = (0.0, 1.0, 0.0, 0.0)  # a stray right-lung pixel far away
    probs[:, 50, 25] = (1.0, 0.0, 0.0, 0.0)  # a hole in the right lung
    right, left, heart, certainty = learned_masks(probs)
    assert np.array_equal(right, masks[0]) and np.array_equal(left, masks[1])
    assert np.array_equal(heart, masks[2])
    assert certainty == pytest.approx((1.0 - 1 / masks[0].sum(), 1.0, 1.0))


def test_agreement_lowers_confidence_only_when_both_methods_are_confident():
    masks = _boxes()
    shifted = tuple(np.roll(m, 12, axis=1) for m in masks)  # lungs Dice 0.6, heart 0.6
    worried = agreement(masks, shifted, (0.9, 0.9))
    assert worried.factor < 0.7 and "disagree" in worried.reason
    assert worried.dice["right_lung"] == pytest.approx(mask_dice(masks[0], shifted[0]))
    relaxed = agreement(masks, shifted, (0.2, 0.9))  # classical already declined
    assert relaxed.factor == 1.0 and relaxed.reason is None
    same = agreement(masks, masks, (0.9, 0.9))
    assert same.factor == 1.0 and same.reason is None


def test_fused_probabilities_follow_the_more_confident_method():
    classical = _boxes()
    learned = one_hot(tuple(np.roll(m, 12, axis=1) for m in classical))
    fused = fuse_probabilities(classical, learned, (0.9, 0.3)).argmax(axis=0)
    assert np.array_equal(fused, one_hot(classical).argmax(axis=0))
    fused = fuse_probabilities(classical, learned, (0.3, 0.9)).argmax(axis=0)
    assert np.array_equal(fused, learned.argmax(axis=0))


def test_fuse_of_two_disagreeing_confident_anatomies_says_so():
    masks = _boxes()
    moved = tuple(np.roll(m, 12, axis=1) for m in masks)
    a = atlas_from_masks(*masks, confidence=0.9, method="classical")
    b = atlas_from_masks(*moved, confidence=0.8, method="learned")
    fused = fuse(a, b)
    assert fused.confidence < CONFIDENCE_THRESHOLD
    assert "disagree" in fused.reasons[0]
    agreeing = fuse(a, atlas_from_masks(*masks, confidence=0.8, method="learned"))
    assert agreeing.confidence == pytest.approx((0.9**2 + 0.8**2) / 1.7)
    assert np.array_equal(agreeing.regions["right_lung"].mask, masks[0])
    with pytest.raises(ValueError, match="different grids"):
        fuse(a, atlas_from_masks(*(m[:90] for m in masks)))


def test_locate_learned_uses_the_given_masks_and_builds_the_atlas():
    p = make_phantom(256, 256, seed=3)
    truth = (p.right_lung, p.left_lung, p.heart)
    learned = LearnedSegmentation(one_hot(truth), "hand-made")
    a = locate(p.image, method="learned", learned=learned)
    assert a.method == "learned: hand-made"
    assert np.array_equal(a.regions["right_lung"].mask, p.right_lung)
    assert np.array_equal(a.regions["cardiac_silhouette"].mask, p.heart)
    assert "cardiothoracic_ratio" in a.measurements
    both = locate_all(p.image, learned)
    assert set(both) == {"classical", "learned", "fused"}
    assert both["fused"].method.startswith("fused: ")


def test_locate_refuses_an_unknown_method_or_missing_learned_input():
    image = make_phantom(128, 128).image
    with pytest.raises(ValueError, match="method must be one of"):
        locate(image, method="magic")
    with pytest.raises(ValueError, match="needs the learned segmentation"):
        locate(image, method="fused")
    with pytest.raises(ValueError, match=r"\(4, gh, gw\)"):
        LearnedSegmentation(np.zeros((3, 8, 8), np.float32), "bad")


def test_label_image_is_at_the_image_size_with_the_patients_right_on_the_left():
    a = atlas_from_masks(*_boxes())
    labels = a.label_image(300, 200)  # 3 image rows / 2 image columns per grid pixel
    assert labels.shape == (300, 200) and labels.dtype == np.uint8
    assert labels[150, 50] == 1 and labels[150, 150] == 2  # right lung image-left
    assert labels[200, 110] == 3 and labels[10, 10] == 0
    assert set(np.unique(labels)) == {0, 1, 2, 3}


def test_ctr_takes_the_widest_excursions_even_on_different_rows():
    shape = (120, 120)
    right = np.zeros(shape, bool)
    left = np.zeros(shape, bool)
    right[20:100, 10:50] = True
    left[20:100, 70:110] = True
    right[60:70, 5:10] = True  # the thorax is widest at rows 60-69: columns 5-109
    heart = np.zeros(shape, bool)
    heart[70:80, 45:70] = True  # right border reaches column 45 here ...
    heart[80:95, 52:78] = True  # ... the left one column 77 lower down
    right &= ~heart
    left &= ~heart
    a = atlas_from_masks(right, left, heart, confidence=0.8, heart_confidence=0.6)
    ctr = a.measurements["cardiothoracic_ratio"]
    assert ctr.value == pytest.approx((78 - 45) / (110 - 5))
    cardiac, thoracic = ctr.lines
    assert cardiac[0][0] == pytest.approx(45 / 120) and cardiac[1][0] == pytest.approx(78 / 120)
    assert cardiac[0][1] == cardiac[1][1] and thoracic[0][1] == thoracic[1][1]  # horizontal
    assert 60 / 120 <= thoracic[0][1] <= 70 / 120
    assert thoracic[0][0] == pytest.approx(5 / 120) and thoracic[1][0] == pytest.approx(110 / 120)
    assert ctr.confidence == pytest.approx(0.6)  # the weakest of heart and lungs
    assert a.measurements["right_costophrenic_angle"].confidence == pytest.approx(0.8)
