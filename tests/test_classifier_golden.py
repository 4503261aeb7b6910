"""Golden outputs of the shipped classifier checkpoint (trained_models/gaze-classifier-nih).

If the weights are retrained on purpose, regenerate these numbers (the probabilities printed by
``create_predictor("gaze-classifier")`` on the two inputs below) in the same commit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.io import load_radiograph
from core.io.radiograph import Radiograph
from core.models import PredictionRequest, create_predictor

EXAMPLE = Path(__file__).resolve().parents[1] / "assets/examples/images/00000129_000.png"
SHA256 = "1c24a41095e4a7311b7d0f665985088901333948d998bd6a5cb7039d44fe2e39"
# NIH 00000129_000 (labelled No Finding; a training-split patient - this is a regression check,
# not a metric)
GOLDEN_EXAMPLE = {
    "no_finding": 0.8034, "atelectasis": 0.4895, "cardiomegaly": 0.0768, "consolidation": 0.1019,
    "edema": 0.0045, "pleural_effusion": 0.2183, "emphysema": 0.0116, "fibrosis": 0.0802,
    "hiatal_hernia": 0.0044, "lung_opacity": 0.1736, "mass": 0.0910, "nodule": 0.5006,
    "pleural_thickening": 0.0501, "pneumonia": 0.0143, "pneumothorax": 0.1509,
}  # fmt: skip
GOLDEN_RAMP = {"pleural_effusion": 0.8532, "lung_opacity": 0.8094, "edema": 0.7251, "mass": 0.0}


@pytest.fixture(scope="module")
def predictor():
    return create_predictor("gaze-classifier", device="cpu")


def test_shipped_weights_are_the_documented_ones(predictor) -> None:
    assert predictor.meta["weights_sha256"] == SHA256
    assert predictor.config.image_size == 128 and len(predictor.config.labels) == 15


def test_golden_findings_and_attention_on_the_bundled_example(predictor) -> None:
    out = predictor(PredictionRequest.from_radiograph(load_radiograph(EXAMPLE)))
    assert out.findings == pytest.approx(GOLDEN_EXAMPLE, abs=1e-3)
    cardio = out.attention["cardiomegaly"]
    assert cardio.shape == (16, 16) and cardio.max() == pytest.approx(1.0)
    assert np.unravel_index(int(cardio.argmax()), cardio.shape) == (6, 9)


def test_golden_findings_on_a_synthetic_ramp(predictor) -> None:
    y, x = np.mgrid[0:300, 0:240]
    image = ((x / 240 + y / 300) / 2).astype(np.float32)
    out = predictor(PredictionRequest.from_radiograph(Radiograph(image, "0" * 64, "ramp.png")))
    assert {k: out.findings[k] for k in GOLDEN_RAMP} == pytest.approx(GOLDEN_RAMP, abs=1e-3)
