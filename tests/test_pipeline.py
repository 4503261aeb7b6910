import json
import math
from pathlib import Path

import numpy as np
import pytest

import core.models.registry as registry_module
from core.errors import GazeScopeError, InputFileError
from core.gaze.scanpath import Scanpath
from core.io import load_radiograph
from core.models import Prediction, Predictor, register_predictor
from core.pipeline import SCHEMA_VERSION, ReadingPipeline, ReadingResult
from core.report.sentence import ReportSentence, SentenceEvidence

EXAMPLE = Path(__file__).resolve().parents[1] / "assets/examples/images/00000129_000.png"
TOP_KEYS = {
    "schema_version",
    "image",
    "anatomy",
    "scanpaths",
    "saliency",
    "findings",
    "attention",
    "sentences",
    "models",
    "timings_ms",
}


@pytest.fixture(scope="module")
def radiograph():
    return load_radiograph(EXAMPLE)


@pytest.fixture(scope="module")
def result(radiograph):
    return ReadingPipeline(k=3, seed=5, classifier=None)(radiograph)


class _FixedClassifier(Predictor):
    """Two findings with hand-set probabilities; attention peaks at a known cell."""

    name = "test-classifier"
    version = "0"
    capabilities = frozenset({"findings", "attention"})
    training_data = "none: test"

    def __init__(self, device: str = "cpu") -> None:
        self.device = device

    def predict(self, request):
        gh, gw = request.saliency_shape
        m = np.zeros((gh, gw))
        m[1, 2] = 1.0
        return Prediction(
            request.image.image_id,
            findings={"cardiomegaly": 0.2, "pleural_effusion": 0.9},
            attention={"cardiomegaly": m, "pleural_effusion": m},
        )


@pytest.fixture
def classifier():
    register_predictor("test-classifier", kind="classifier")(_FixedClassifier)
    yield "test-classifier"
    registry_module._REGISTRY.pop("test-classifier", None)


def test_to_dict_has_the_documented_schema_and_is_strict_json(result, radiograph):
    d = result.to_dict()
    assert set(d) == TOP_KEYS and d["schema_version"] == SCHEMA_VERSION == 1
    text = json.dumps(d, allow_nan=False)  # no NaN/Infinity anywhere
    assert json.loads(text) == d
    assert d["image"] == {
        "sha256": radiograph.sha256,
        "source_name": "00000129_000.png",
        "width": 512,
        "height": 512,
        "modality": None,
        "view": None,
        "spacing_mm": None,
    }
    a = d["anatomy"]
    assert set(a) == {"method", "confidence", "reasons", "grid_shape", "regions", "measurements"}
    assert {"trachea", "cardiac_silhouette", "right_lung"} <= {r["id"] for r in a["regions"]}
    region = next(r for r in a["regions"] if r["id"] == "cardiac_silhouette")
    assert set(region) == {"id", "box", "polygon", "confidence"} and len(region["box"]) == 4
    assert all(len(xy) == 2 for xy in region["polygon"])
    ctr = next(m for m in a["measurements"] if m["id"] == "cardiothoracic_ratio")
    assert set(ctr) == {"id", "value", "unit", "lines", "points", "note"}
    assert ctr["value"] == pytest.approx(result.anatomy.measurements["cardiothoracic_ratio"].value)
    assert len(d["scanpaths"]) == 3 and len(d["scanpaths"][0]) == len(result.scanpaths[0])
    assert set(d["scanpaths"][0][0]) == {"x", "y", "start_s", "duration_s"}
    assert d["saliency"]["shape"] == [64, 64] and math.isclose(
        sum(map(sum, d["saliency"]["data"])), 1.0
    )
    assert d["findings"] == [] and d["attention"] == {}
    # no classifier: the report still writes the normal statements (CONTRACTS section 3)
    assert [s["id"] for s in d["sentences"]] == [f"s{i}" for i in range(len(d["sentences"]))]
    assert all(s["finding"] is None for s in d["sentences"]) and d["sentences"]
    assert [(m["role"], m["name"]) for m in d["models"]] == [
        ("anatomy", "segmenter-unet-small"),  # shipped segmenter, fused with classical
        ("scanpath", "scanpath-tiny"),  # the shipped scanpath model (trained_models/)
        ("report", "gazescope-report"),
    ]
    assert all(
        set(m) == {"role", "name", "version", "weights_sha256", "training_data"}
        for m in d["models"]
    )
    assert {"anatomy", "scanpath", "report", "total"} <= set(d["timings_ms"])


def test_same_seed_same_result_other_seed_other_scanpaths(result, radiograph):
    pipeline = ReadingPipeline(k=3, seed=5, classifier=None)
    again = pipeline(radiograph).to_dict()
    first = result.to_dict()
    first.pop("timings_ms"), again.pop("timings_ms")
    assert again == first
    other = pipeline(radiograph, seed=6, k=2)
    assert len(other.scanpaths) == 2
    assert not np.array_equal(other.scanpaths[0].to_array(), result.scanpaths[0].to_array())


def test_classifier_findings_sorted_with_attention_and_model_info(radiograph, classifier):
    r = ReadingPipeline(classifier=classifier, k=1)(radiograph)
    d = r.to_dict()
    assert [f["finding"] for f in d["findings"]] == ["pleural_effusion", "cardiomegaly"]
    assert d["findings"][0]["probability"] == 0.9
    assert d["attention"]["cardiomegaly"]["shape"] == [64, 64]
    assert d["attention"]["cardiomegaly"]["data"][1][2] == 1.0
    assert d["findings"][0]["band"] == "very likely"
    assert d["models"][-2] == {
        "role": "classifier",
        "name": "test-classifier",
        "version": "0",
        "weights_sha256": None,
        "training_data": "none: test",
    }
    assert "classifier" in d["timings_ms"]


def test_sentences_serialise_with_ids_and_evidence(result):
    sp = Scanpath.from_arrays([0.1, 0.2], [0.3, 0.4], [0.0, 0.5], [0.25, 0.5])
    att = np.zeros((4, 5))
    att[3, 1] = 0.8
    sentences = [
        ReportSentence("The lungs are clear."),
        ReportSentence(
            "Small right effusion.",
            region_ids=("right_costophrenic_angle",),
            finding_id="pleural_effusion",
            confidence=0.7,
            evidence=SentenceEvidence((0.1, 0.6, 0.3, 0.8), att, [(0, 0), (0, 1)]),
        ),
    ]
    r = ReadingResult(
        result.image, result.anatomy, [sp], None, {}, {}, sentences, result.models, {}
    )
    d = r.to_dict()
    json.dumps(d, allow_nan=False)
    assert [s["id"] for s in d["sentences"]] == ["s0", "s1"]
    assert d["sentences"][0]["probability"] is None  # nan confidence -> null
    s1 = d["sentences"][1]
    assert s1["finding"] == "pleural_effusion" and s1["region_ids"] == ["right_costophrenic_angle"]
    assert s1["evidence"]["region_box"] == [0.1, 0.6, 0.3, 0.8]
    assert s1["evidence"]["attention_peak"] == [0.3, 0.875]  # cell (3, 1) centre of a 4x5 grid
    assert s1["evidence"]["fixations"] == [[0, 0], [0, 1]]
    assert s1["evidence"]["dwell_s"] == pytest.approx(0.75)


def test_auto_picks_a_trained_scanpath_model_else_the_baseline(tmp_path, monkeypatch):
    class Trained(Predictor):
        name = "test-trained"
        version = "2"
        capabilities = frozenset({"scanpath"})

        def __init__(self, checkpoint=None, device="cpu"):
            self.meta = {"weights_sha256": "ab" * 32, "training_data": {"dataset": "synthetic"}}

        def predict(self, request):
            return Prediction(request.image.image_id)

    monkeypatch.setenv("GAZESCOPE_MODELS", str(tmp_path))
    register_predictor("test-trained", kind="scanpath", default_checkpoint="trained-v2")(Trained)
    try:
        assert ReadingPipeline().scanpath.name == "abcdef"  # checkpoint not on disk
        (tmp_path / "trained-v2").mkdir()
        (tmp_path / "trained-v2" / "config.json").write_text("{}")
        p = ReadingPipeline()
        assert p.scanpath.name == "test-trained" and p.classifier is None
        info = p.models()[1]
        assert info.weights_sha256 == "ab" * 32 and info.training_data == '{"dataset": "synthetic"}'
    finally:
        registry_module._REGISTRY.pop("test-trained", None)


def test_bad_names_and_bad_files_are_clear_errors(tmp_path):
    with pytest.raises(GazeScopeError, match="unknown predictor 'nope'"):
        ReadingPipeline(scanpath="nope")
    with pytest.raises(GazeScopeError, match="'uniform' is a baseline, not a classifier"):
        ReadingPipeline(classifier="uniform")
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(InputFileError, match="notes.png"):
        ReadingPipeline(k=1).run_file(bad)


def test_run_file_times_the_load(radiograph):
    r = ReadingPipeline(k=1).run_file(EXAMPLE)
    assert r.image.sha256 == radiograph.sha256 and list(r.timings_ms)[0] == "load"
    assert r.timings_ms["total"] >= r.timings_ms["load"] + r.timings_ms["anatomy"]


def test_scanpath_model_gets_the_anatomy_it_was_trained_with(radiograph, monkeypatch):
    """scanpath-tiny's region tokens were trained on the classical anatomy; the result (report,
    regions, measurements) uses the fused one. Fed the fused tokens, the model scored worse on
    the NIH test images (ScanMatch 0.342 -> 0.322, CC 0.837 -> 0.754)."""
    pipeline = ReadingPipeline(classifier=None, k=1)
    assert pipeline.scanpath.name == "scanpath-tiny" and pipeline.segmenter is not None
    seen = []
    predict = type(pipeline.scanpath).predict

    def spy(self, request):
        seen.append(request.anatomy.method)
        return predict(self, request)

    monkeypatch.setattr(type(pipeline.scanpath), "predict", spy)
    r = pipeline(radiograph)
    assert r.anatomy.method.startswith("fused")
    assert len(seen) == 1 and seen[0].startswith("gazescope-anatomy classical")
