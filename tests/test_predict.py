"""``gazescope predict``: its JSON against the published JSON Schema, the PNG, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from jsonschema import Draft202012Validator
from PIL import Image

import core.models.registry as registry_module
from core.cli import main
from core.models import Prediction, Predictor, register_predictor
from core.report.sentence import SENTENCE_REGION_IDS
from core.vocabulary import FINDING_IDS

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "assets/examples/images/00000129_000.png"
EXAMPLE_DICOM = REPO / "assets/examples/dicom/siim_cr_chest_pa.dcm"
SCHEMA = json.loads((REPO / "docs/reading_result.schema.json").read_text(encoding="utf-8"))


class _Classifier(Predictor):
    """Hand-set probabilities; pleural effusion's attention covers the image's lower right quarter."""

    name = "test-predict-classifier"
    version = "0"
    capabilities = frozenset({"findings", "attention"})
    training_data = "none: test"

    def __init__(self, device: str = "cpu") -> None:
        self.device = device

    def predict(self, request):
        gh, gw = request.saliency_shape
        m = np.zeros((gh, gw))
        m[gh // 2 :, gw // 2 :] = 1.0
        return Prediction(
            request.image.image_id,
            findings={"cardiomegaly": 0.1, "pleural_effusion": 0.9, "nodule": 0.5},
            attention={"pleural_effusion": m},
        )


@pytest.fixture
def classifier():
    register_predictor(_Classifier.name, kind="classifier")(_Classifier)
    yield _Classifier.name
    registry_module._REGISTRY.pop(_Classifier.name, None)


def _predict_json(capsys, *args: str) -> dict:
    assert main(["predict", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_schema_lists_the_vocabulary_and_regions() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$defs"]["finding_id"]["enum"] == list(FINDING_IDS)
    assert SCHEMA["$defs"]["region_id"]["enum"] == list(SENTENCE_REGION_IDS)


def test_json_without_classifier_matches_schema(capsys) -> None:
    d = _predict_json(capsys, str(EXAMPLE), "--k", "2", "--classifier", "none")
    Draft202012Validator(SCHEMA).validate(d)
    assert d["findings"] == [] and len(d["scanpaths"]) == 2
    assert d["sentences"] and all(s["finding"] is None for s in d["sentences"])
    assert [m["role"] for m in d["models"]] == ["anatomy", "scanpath", "report"]
    assert {"load", "anatomy", "scanpath", "report", "total"} <= set(d["timings_ms"])


def test_segmenter_auto_is_the_shipped_one_and_none_is_classical(capsys) -> None:
    auto = _predict_json(capsys, str(EXAMPLE), "--k", "1", "--classifier", "none")
    none = _predict_json(
        capsys, str(EXAMPLE), "--k", "1", "--classifier", "none", "--segmenter", "none"
    )
    assert auto["models"][0]["name"] == "segmenter-unet-small"
    assert auto["anatomy"]["method"].startswith("fused")
    assert none["models"][0]["name"] == "core.anatomy.locate"
    assert none["anatomy"]["method"].startswith("gazescope-anatomy classical")
    assert len(auto["models"][0]["training_data"]) < 2000  # fits the store's limit


def test_json_with_a_classifier_links_findings_to_regions(capsys, classifier) -> None:
    d = _predict_json(capsys, str(EXAMPLE), "--k", "2", "--classifier", classifier)
    Draft202012Validator(SCHEMA).validate(d)
    assert [(f["finding"], f["band"]) for f in d["findings"]] == [
        ("pleural_effusion", "very likely"),
        ("nodule", "possible"),
        ("cardiomegaly", "unlikely"),
    ]
    by = {s["finding"]: s for s in d["sentences"] if s["finding"]}
    assert set(by) == {"pleural_effusion", "nodule"}  # unlikely findings are not written
    effusion = by["pleural_effusion"]
    # the attention sits low on the image's right = the patient's left
    assert effusion["text"] == "Left pleural effusion."
    assert "left_costophrenic_angle" in effusion["region_ids"]
    assert all(r.startswith("left_") for r in effusion["region_ids"])
    assert effusion["evidence"]["measurement"]["id"] == "left_costophrenic_angle"
    x, y = effusion["evidence"]["attention_peak"]
    x0, y0, x1, y1 = effusion["evidence"]["region_box"]
    assert x0 <= x <= x1 and y0 <= y <= y1
    assert by["nodule"]["text"] == "Possible nodule."  # no attention map: not placed
    assert d["models"][2]["name"] == classifier


def test_png_sheet(tmp_path, capsys) -> None:
    out = tmp_path / "sheet" / "case.png"
    assert (
        main(["predict", str(EXAMPLE), "--k", "1", "--classifier", "none", "--png", str(out)]) == 0
    )
    assert "reading sheet" in capsys.readouterr().out
    with Image.open(out) as im:
        assert im.size == (4 * 512, 512) and im.mode == "RGB"


@pytest.mark.slow
def test_dicom(capsys) -> None:
    d = _predict_json(capsys, str(EXAMPLE_DICOM), "--k", "1", "--classifier", "none")
    Draft202012Validator(SCHEMA).validate(d)
    assert d["image"]["source_name"] == EXAMPLE_DICOM.name


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n broken"])
def test_bad_file_one_line_exit_2(tmp_path, capsys, content) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(content)
    assert main(["predict", str(bad), "--classifier", "none"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.png" in err and err.startswith("gazescope predict")


def test_missing_file_exit_2(tmp_path, capsys) -> None:
    assert main(["predict", str(tmp_path / "nope.dcm")]) == 2
    assert "nope.dcm" in capsys.readouterr().err


@pytest.mark.slow
def test_pipeline_benchmarks_run_quick() -> None:
    from core.bench import BenchContext, run_benchmarks

    results = run_benchmarks(BenchContext(quick=True, repeat=1), "pipeline.*")
    names = [r.name for r in results]
    assert any(n.startswith("pipeline 512 px:") for n in names)
    assert any("2048 x 2048" in n for n in names)
    assert all(r.value > 0 for r in results)
