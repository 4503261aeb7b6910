"""Classifier training end to end on a tiny hand-made task, resume, save/load, data splits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import GazeDataError
from core.io.radiograph import Radiograph
from core.models import PredictionRequest, create_predictor
from core.models.classifier import ClassifierConfig
from core.train.classifier import (
    TrainConfig,
    auc_table,
    evaluate_classifier,
    save_classifier,
    train_classifier,
)
from core.train.classifier_data import (
    ClassifierData,
    _check_disjoint,
    patient_split,
    read_nih_64px_labels,
)

LABELS = ("cardiomegaly", "no_finding")
CONFIG = dict(labels=LABELS, image_size=16, channels=(4, 8, 8, 8), dropout=0.0)


def _square_task(n: int = 48, seed: int = 0) -> ClassifierData:
    """Positive cases have a bright 8x8 square in the bottom-left quarter, where the gaze is."""
    rng = np.random.default_rng(seed)
    images = rng.normal(0, 0.3, size=(n, 1, 16, 16)).astype(np.float32)
    positive = np.arange(n) % 2 == 0
    images[positive, 0, 8:, :8] += 2.0
    labels = np.stack([positive, ~positive], axis=1).astype(np.float32)
    labels[5, 1] = np.nan  # an unannotated entry
    gaze = np.zeros((n, 2, 2), np.float32)
    gaze[:, 1, 0] = 1.0
    splits = ["train"] * 32 + ["val"] * 16
    data = ClassifierData(
        labels_order=LABELS,
        images=images,
        labels=labels,
        gaze=gaze,
        has_gaze=np.arange(n) % 3 != 0,  # a third without gaze: BCE only
        case_ids=[f"c{i}" for i in range(n)],
        sources=["phantom" if i % 2 else "nih-512" for i in range(32)] + ["nih-512"] * 16,
        patients=[f"p{i}" for i in range(n)],
        splits=splits,
        finding_cells={
            i: [(0, np.array([[False, False], [True, False]]))] for i in range(32, n, 2)
        },
    )
    return data


FAST = dict(epochs=12, batch_size=8, lr=1e-2, patience=12, progress=False, max_shift_px=0)


def test_tiny_training_learns_the_task_and_points_at_it() -> None:
    torch.set_num_threads(1)
    data = _square_task()
    result = train_classifier(data, ClassifierConfig(**CONFIG), TrainConfig(**FAST))
    assert len(result.history) == 12 and 1 <= result.best_epoch <= 12
    assert result.val_macro_auc > 0.95
    # separable validation data: the sharpest temperature of the search range
    assert result.temperature == pytest.approx(0.05) == result.model.temperature.item()
    # neg / pos over annotated entries: 16/16, and 16/15 where case 5 is unannotated
    assert result.config.pos_weights == pytest.approx((1.0, 16 / 15))
    val = evaluate_classifier(result.model, data, data.select(split="val"), n_bootstrap=50)
    assert val.metrics.macro_auc > 0.95
    assert val.n_pointing == 8 and val.pointing_accuracy >= 0.75
    assert val.n_gaze_images > 0 and np.isfinite(val.attention_cc)
    table = auc_table(val, title="t")
    assert "| cardiomegaly |" in table and "0.91" in table  # CheXNet's published figure


def test_training_is_seeded_and_resumes_where_it_stopped(tmp_path, monkeypatch) -> None:
    torch.set_num_threads(1)
    data = _square_task()
    config = ClassifierConfig(**CONFIG)
    short = dict(FAST, epochs=4)
    straight = train_classifier(data, config, TrainConfig(**short))
    again = train_classifier(data, config, TrainConfig(**short))
    assert [h["loss"] for h in straight.history] == [h["loss"] for h in again.history]
    import core.train.classifier as trainer

    real_val_auc, calls = trainer._val_auc, []

    def interrupted(*args, **kwargs):  # the run dies during epoch 3's validation
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_val_auc(*args, **kwargs)

    monkeypatch.setattr(trainer, "_val_auc", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_classifier(data, config, TrainConfig(**short), state_dir=tmp_path / "s")
    monkeypatch.setattr(trainer, "_val_auc", real_val_auc)
    resumed = train_classifier(
        data, config, TrainConfig(**short), state_dir=tmp_path / "s", resume=True
    )
    assert len(resumed.history) == 4
    # same data order, weights, optimiser and schedule state: the same run as without a break
    assert [h["loss"] for h in resumed.history] == pytest.approx(
        [h["loss"] for h in straight.history], rel=1e-5
    )
    with pytest.raises(ValueError, match="nothing to resume"):
        train_classifier(data, config, TrainConfig(**short), state_dir=tmp_path / "x", resume=True)


def test_save_load_and_predictor(tmp_path) -> None:
    torch.set_num_threads(1)
    data = _square_task()
    result = train_classifier(data, ClassifierConfig(**CONFIG), TrainConfig(**dict(FAST, epochs=3)))
    val = evaluate_classifier(result.model, data, data.select(split="val"), n_bootstrap=0)
    out = save_classifier(
        tmp_path / "ckpt",
        result,
        data,
        TrainConfig(**FAST),
        command="gazescope train classifier",
        sources={"test": "hand-made"},
        val=val,
    )
    assert {"config.json", "model.safetensors", "README.md"} <= {p.name for p in out.iterdir()}
    assert "gazescope train classifier" in (out / "README.md").read_text()
    predictor = create_predictor("gaze-classifier", checkpoint=out, device="cpu")
    assert predictor.model.temperature.item() == pytest.approx(result.temperature)
    image = np.full((40, 24), 0.2, np.float32)
    image[20:, :12] = 0.9  # the square, at the original image's aspect ratio
    request = PredictionRequest.from_radiograph(Radiograph(image, "0" * 64, "sq.png"))
    pred = predictor(request)
    assert set(pred.findings) == set(LABELS) and set(pred.attention) == set(LABELS)
    for m in pred.attention.values():
        assert m.shape == (2, 2) and m.max() == pytest.approx(1.0) and m.min() >= 0
    x = torch.from_numpy(image)[None, None]
    x = torch.nn.functional.interpolate(x, size=(16, 16), mode="area")
    x = (x - x.mean()) / x.std()
    with torch.no_grad():
        expected = result.model.eval()(x).probabilities[0]
    assert pred.findings["cardiomegaly"] == pytest.approx(float(expected[0]), abs=1e-6)
    assert pred.meta["weights_sha256"] and len(pred.meta["weights_sha256"]) == 64


def test_patient_split_is_stable_and_checked() -> None:
    assert patient_split("100") == patient_split("100")
    share = np.mean([patient_split(str(p)) == "train" for p in range(2000)])
    assert 0.55 < share < 0.65
    data = _square_task()
    data.patients[40] = data.patients[0]  # one patient in train and val
    with pytest.raises(GazeDataError, match="appears in splits"):
        _check_disjoint(data)


def test_64px_labels_map_through_the_vocabulary(shared_data) -> None:
    rows = read_nih_64px_labels(shared_data / "nih-cxr14-64px")
    assert len(rows) == 972
    name, patient, labels = rows[1]
    assert (name, patient) == ("00000001_001.png", "1")  # Cardiomegaly|Emphysema
    assert labels["cardiomegaly"] == 1.0 and labels["emphysema"] == 1.0
    assert labels["pleural_effusion"] == 0.0 and labels["no_finding"] == 0.0
    effusions = sum(r[2]["pleural_effusion"] for r in rows)
    assert effusions == 158  # the README's count
    sample_patients = {
        str(int(p.name.split("_")[0]))
        for p in (shared_data / "nih-cxr14-sample" / "images").iterdir()
    }
    overlap = sample_patients & {r[1] for r in rows}
    assert len(overlap) >= 1  # the README lists images of patients also in the sample


def test_commands_end_bad_input_with_one_line(tmp_path, capsys) -> None:
    from core.cli import main

    assert main(["classifier-eval", "--checkpoint", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nowhere: no such folder" in err
    skip_all = ["--skip", "nih-sample", "--skip", "nih-64px", "--skip", "corpus"]
    assert main(["train", "classifier", "--out", str(tmp_path / "o"), *skip_all]) == 2
    assert "no classifier data" in capsys.readouterr().err
    bad_corpus = ["--corpus", str(tmp_path), "--skip", "nih-sample", "--skip", "nih-64px"]
    assert main(["train", "classifier", "--out", str(tmp_path / "o"), *bad_corpus]) == 2
    assert "not a GazeScope synthetic corpus" in capsys.readouterr().err


def test_classifier_benchmark_runs() -> None:
    from core.bench import BenchContext, run_benchmarks

    (result,) = run_benchmarks(BenchContext(quick=True, repeat=1), "classifier.*")
    assert result.unit == "ms" and result.value > 0 and "512" in result.detail


def test_data_from_a_small_corpus_and_nih_folder(tmp_path, nih_dir) -> None:
    """Phantoms bring exact labels, masks and gaze; real NIH images get the corpus's gaze."""
    import shutil

    from core.models.classifier import CLASSIFIER_LABELS
    from core.synth.corpus import CorpusConfig, load_truth, write_corpus
    from core.train.classifier_data import build_classifier_data

    nih = tmp_path / "nih"
    (nih / "images").mkdir(parents=True)
    lines = (nih_dir / "labels.csv").read_text().splitlines()[:4]  # header + 3 images
    (nih / "labels.csv").write_text("\n".join(lines) + "\n")
    for line in lines[1:]:
        name = line.split(",")[0]
        shutil.copy(nih_dir / "images" / name, nih / "images" / name)
    corpus = tmp_path / "corpus"
    write_corpus(corpus, CorpusConfig(n=3, readers=2, seed=1, size_px=128, real=str(nih)))
    data = build_classifier_data(
        CLASSIFIER_LABELS, 32, nih_sample=nih, nih_64px=None, corpus=corpus, grid_shape=(4, 4)
    )
    assert data.sources.count("nih-512") == 3 and data.sources.count("phantom") == 3
    assert data.images.shape == (6, 1, 32, 32) and data.gaze.shape == (6, 4, 4)
    assert np.allclose(data.gaze[data.has_gaze].sum(axis=(1, 2)), 1.0)
    assert not data.gaze[~data.has_gaze].any()
    for i in data.select(sources=["phantom"]):
        assert data.has_gaze[i] and data.patients[i] == data.case_ids[i]
        truth = load_truth(corpus, data.case_ids[i])
        for j, fid in enumerate(CLASSIFIER_LABELS):
            v = truth["labels"].get(fid)
            assert np.isnan(data.labels[i, j]) if v is None else data.labels[i, j] == (v >= 0.5)
    for i in data.select(sources=["nih-512"]):
        assert data.splits[i] == patient_split(data.patients[i])
    read = {p.stem for p in (corpus / "truth").glob("*.json")}
    nih_ids = [data.case_ids[i] for i in data.select(sources=["nih-512"])]
    assert [c in read for c in nih_ids] == [
        bool(data.has_gaze[data.case_ids.index(c)]) for c in nih_ids
    ]
