"""The scanpath model: loss on hand-made inputs, sampling, save/load, training end to end on the
synthetic corpus and on the REFLACX / EGD-CXR fixture trees, golden samples of the shipped
checkpoint."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.models.scanpath import (
    ScanpathBatch,
    ScanpathConfig,
    ScanpathModel,
    ScanpathPredictor,
    query_vector,
)

TINY = dict(image_size=32, widths=(8, 16, 16), d_model=32, n_head=2, n_layer=1,
            n_encoder_layer=1, max_fixations=8, use_anatomy=False, dropout=0.0)


def _tiny(**kw: object) -> ScanpathModel:
    torch.manual_seed(0)
    return ScanpathModel(ScanpathConfig(**{**TINY, **kw}))


def _neutralise(model: ScanpathModel, sigma_bias: float) -> None:
    """Zero the heads so the loss has a closed form: uniform pointer and saliency, duration
    N(0, 1) in standardised units, p(stop) = 1/2, sigma from ``sigma_bias`` only."""
    with torch.no_grad():
        for lin in (model.pointer_q, model.saliency_head, model.stop_head, model.sigma_head,
                    model.duration_head[2]):
            lin.weight.zero_()
            lin.bias.zero_()
        model.sigma_head.bias.fill_(sigma_bias)


def test_loss_on_hand_made_inputs() -> None:
    model = _tiny()
    _neutralise(model, sigma_bias=0.3)
    c = model.config
    g = c.grid  # 4 x 4 cells, centres at (i + 0.5) / 4
    xy = torch.zeros(1, c.max_fixations, 2)
    xy[0, 0] = torch.tensor([0.125, 0.125])  # exactly a cell centre
    xy[0, 1] = torch.tensor([0.5, 0.5])  # the corner shared by four cells
    logd = torch.full((1, c.max_fixations), c.log_duration_mean)
    logd[0, 1] = c.log_duration_mean + c.log_duration_std  # z = 1
    batch = ScanpathBatch(torch.zeros(1, 1, 32, 32), torch.tensor([0]), xy, logd,
                          torch.tensor([2]), query=torch.zeros(1, len(c.labels)))
    model.eval()
    out = model(batch)

    sigma = c.min_sigma + 2 / g / (1 + math.exp(-(0.3 - 1.1)))
    centres = np.array([((i + 0.5) / g, (j + 0.5) / g) for j in range(g) for i in range(g)])

    def nll(p: tuple[float, float]) -> float:
        d2 = ((centres - np.array(p)) ** 2).sum(1)
        dens = np.exp(-0.5 * d2 / sigma**2) / (2 * math.pi * sigma**2) / (g * g)
        return -math.log(dens.sum())

    expected_xy = (nll((0.125, 0.125)) + nll((0.5, 0.5))) / 2
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    expected_d = ((0.0 + half_log_2pi) + (0.5 + half_log_2pi)) / 2
    assert out.losses["xy"] == pytest.approx(expected_xy, abs=1e-4)
    assert out.losses["duration"] == pytest.approx(expected_d, abs=1e-5)
    assert out.losses["stop"] == pytest.approx(math.log(2), abs=1e-6)  # 3 flags, all p = 1/2
    assert out.losses["saliency"] == pytest.approx(math.log(g * g), abs=1e-5)
    total = expected_xy + expected_d + c.stop_weight * math.log(2) + c.saliency_weight * math.log(16)
    assert float(out.loss.detach()) == pytest.approx(total, abs=1e-4)
    assert out.n_fixations == 2


def test_loss_masks_padding_and_truncation() -> None:
    model = _tiny()
    model.eval()
    c = model.config
    rng = torch.Generator().manual_seed(1)
    xy = torch.rand(2, c.max_fixations, 2, generator=rng)
    logd = torch.randn(2, c.max_fixations, generator=rng) * 0.4 - 1.2
    base = ScanpathBatch(torch.randn(1, 1, 32, 32, generator=rng), torch.tensor([0, 0]), xy,
                         logd, torch.tensor([3, 20]), query=torch.zeros(2, len(c.labels)))
    out1 = model(base)
    xy2 = xy.clone()
    xy2[0, 3:] = 0.99  # padding of the first read: must not change the loss
    out2 = model(ScanpathBatch(base.image, base.read_image, xy2, logd, base.length,
                               query=base.query))
    assert float(out1.loss.detach()) == pytest.approx(float(out2.loss.detach()), abs=1e-6)
    assert out1.n_fixations == 3 + c.max_fixations  # the 20-fixation read is truncated to 8


def test_sample_is_seeded_batched_and_bounded() -> None:
    model = _tiny()
    image = torch.randn(1, 32, 32)
    a = model.sample(image, 4, seed=7)
    b = model.sample(image, 4, seed=7)
    c = model.sample(image, 4, seed=8)
    assert np.array_equal(a.xy, b.xy) and np.array_equal(a.length, b.length)
    assert not (np.array_equal(a.xy, c.xy) and np.array_equal(a.duration_s, c.duration_s))
    assert a.xy.shape == (4, model.config.max_fixations, 2)
    assert np.all((a.xy >= 0) & (a.xy <= 1))
    assert a.saliency.shape == (4, 4) and a.saliency.sum() == pytest.approx(1.0)
    forced = model.sample(image, 3, seed=0, force_length=5)
    assert forced.length.tolist() == [5, 5, 5]
    paths = forced.scanpaths(image_id="img")
    assert [len(p) for p in paths] == [5, 5, 5]
    assert paths[0].fixations[1].start_s == pytest.approx(paths[0].fixations[0].duration_s)
    det = model.sample(image, 3, seed=0, deterministic=True)
    assert np.array_equal(det.xy[0], det.xy[2]) and len(set(det.length.tolist())) == 1
    assert model.sample(image, 0, seed=0).length.shape == (0,)


def test_incremental_decoding_matches_teacher_forcing() -> None:
    """The sampler's cached step-by-step decoder (``_DecodeStep``) gives the same decoder
    output, step by step, as the modules' full causal pass over the same fixations."""
    from core.models.scanpath import _DecodeStep

    model = _tiny()
    model.eval()
    c = model.config
    image = torch.randn(1, 1, 32, 32)
    s = model.sample(image[0], 1, seed=3, force_length=c.max_fixations)
    xy = torch.from_numpy(s.xy)
    logd = torch.log(torch.from_numpy(s.duration_s))
    query = torch.zeros(1, len(c.labels))
    tokens, _ = model.encode(image)
    kv = model._memory_kv(tokens, None, query, None)
    x = torch.cat([model.start, model._embed_fixations(xy, logd)], 1)  # (1, L + 1, C)
    full = x + model.step_embed.weight[None, : c.max_fixations + 1]
    for blk, m in zip(model.blocks, kv, strict=True):
        full = blk(full, m)
    full = model.ln_f(full)
    step = _DecodeStep(model, tokens, query, None, 1, c.max_fixations)
    with torch.inference_mode():
        steps = [step.hidden(x[:, t], t) for t in range(c.max_fixations + 1)]
    assert torch.allclose(torch.stack(steps, 1), full, atol=1e-5)


def test_fast_decoding_matches_teacher_forcing() -> None:
    """``sample``'s fused step (one qkv matmul, folded pointer/sigma/stop heads) against the
    modules' teacher-forced forward: in deterministic mode every fixation must be the full
    pass's most likely cell, every duration its mean, and the stop step its first p > 0.5."""
    model = _tiny()
    with torch.no_grad():  # away from the near-uniform initialisation: no ties to break
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    model.eval()
    c = model.config
    image = torch.randn(1, 1, 32, 32)
    query = torch.zeros(1, len(c.labels))
    s = model.sample(image[0], 2, seed=0, deterministic=True, query=query[0], force_length=c.max_fixations)
    n = int(s.length[0])
    assert n == c.max_fixations
    xy = torch.from_numpy(s.xy[:1])
    logd = torch.log(torch.from_numpy(s.duration_s[:1]))
    tokens, _ = model.encode(image)
    kv = model._memory_kv(tokens, None, query, None)
    x = torch.cat([model.start, model._embed_fixations(xy, logd)], 1)
    x = x + model.step_embed.weight[None, : c.max_fixations + 1]
    for blk, m in zip(model.blocks, kv, strict=True):
        x = blk(x, m)
    h = model.ln_f(x)
    log_w, sigma, stop_logit = model._heads(h, model.pointer_k(tokens))
    cells = log_w[0, :n].argmax(-1)
    assert torch.equal(model.centres[cells], xy[0])
    mu, _ = model._duration(h[:, :n], xy)
    z = (logd - c.log_duration_mean) / c.log_duration_std
    assert torch.allclose(mu, z, atol=1e-4)
    free = model.sample(image[0], 1, seed=0, deterministic=True, query=query[0])
    p_stop = torch.sigmoid(stop_logit[0])
    first = int((p_stop > 0.5).nonzero()[0]) if bool((p_stop[:n] > 0.5).any()) else c.max_fixations
    assert int(free.length[0]) == first


def test_inlined_multinomial_draws_what_torch_multinomial_draws() -> None:
    # ScanpathModel.sample draws a cell as argmax(p / q), q ~ Exp(1): torch.multinomial(p, 1)
    # without its input checks. If a torch release changes how it draws, this fails first.
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    p = torch.softmax(torch.randn(8, 256, generator=torch.Generator().manual_seed(0)), -1)
    for _ in range(20):
        a = torch.multinomial(p, 1, generator=g1).squeeze(-1)
        b = (p / torch.empty_like(p).exponential_(1.0, generator=g2)).argmax(-1)
        assert torch.equal(a, b)


def test_query_vector() -> None:
    v = query_vector({"pleural_effusion": 0.9, "cardiomegaly": 0.2})
    assert v.sum() == 1.0
    with pytest.raises(ValueError, match="unknown finding"):
        query_vector(["not_a_finding"])


def test_save_load_round_trip(tmp_path: Path) -> None:
    from core.models import create_predictor, list_predictors, predictor_kind
    from core.models.checkpoint import load_pretrained, save_pretrained
    from core.models.predictor import PredictionRequest

    model = _tiny(use_anatomy=True)
    save_pretrained(tmp_path / "ck", model, model.config, model_type="gazescope-scanpath",
                    card="# test\n")
    loaded, config, meta = load_pretrained(tmp_path / "ck", ScanpathModel, ScanpathConfig)
    assert config == model.config and len(meta["weights_sha256"]) == 64
    for (ka, a), (kb, b) in zip(model.state_dict().items(), loaded.state_dict().items(),
                                strict=True):
        assert ka == kb and torch.equal(a, b)
    assert "scanpath-tiny" in list_predictors(kind="scanpath")
    assert predictor_kind("scanpath-tiny") == "scanpath"
    pred = create_predictor("scanpath-tiny", checkpoint=tmp_path / "ck")
    from core.io.radiograph import Radiograph

    img = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (80, 1))
    rg = Radiograph(image=img, source_name="x.png", sha256="0" * 64)
    req = PredictionRequest.from_radiograph(rg, k=3, seed=5, saliency_shape=(10, 8))
    p1, p2 = pred(req), pred(req)
    assert [s.to_array().tolist() for s in p1.scanpaths] == [
        s.to_array().tolist() for s in p2.scanpaths]
    assert p1.saliency.shape == (10, 8) and p1.saliency.sum() == pytest.approx(1.0)
    x = pred.inputs(img)  # the adapter's inputs through the original (unsaved) model
    direct = model.sample(x["image"], 3, 5, regions=x["regions"], query=x["query"])
    assert np.array_equal(direct.length, np.array([len(s) for s in p1.scanpaths]))
    for i, s in enumerate(p1.scanpaths):
        np.testing.assert_allclose(s.xy, direct.xy[i, : len(s)], atol=1e-6)


# ---------------------------------------------------------------- training end to end


def _write_images(folder: Path, ids: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:96, 0:80]
    for i, dicom_id in enumerate(ids):
        arr = ((np.sin(xx / (7 + i)) + np.cos(yy / 9)) * 60 + 128).astype(np.uint8)
        Image.fromarray(arr).save(folder / f"{dicom_id}.png")


def _train_cli(tmp_path: Path, *args: str) -> Path:
    from core.cli import main

    out = tmp_path / "model"
    rc = main(["train", "scanpath", *args, "--out", str(out), "--epochs", "2",
               "--image-size", "32", "--d-model", "32", "--layers", "1",
               "--max-fixations", "8", "--batch-images", "2", "--no-progress"])
    assert rc == 0
    return out


@pytest.mark.slow
def test_train_tiny_synthetic_corpus_and_resume(tmp_path: Path) -> None:
    from core.cli import main

    corpus = tmp_path / "corpus"
    assert main(["synth", "--out", str(corpus), "--n", "6", "--readers", "2", "--seed", "3",
                 "--size", "128", "--workers", "1", "--no-progress"]) == 0
    out = _train_cli(tmp_path, "--dataset", "synthetic", "--root", str(corpus))
    meta = json.loads((out / "config.json").read_text())
    assert meta["model_type"] == "gazescope-scanpath"
    assert meta["config"]["use_anatomy"] is True
    assert "gazescope train scanpath --dataset synthetic" in (out / "README.md").read_text()
    progress = json.loads((out / "state" / "progress.json").read_text())
    assert len(progress["history"]) == 2
    assert all(math.isfinite(h["val_loss"]) for h in progress["history"])
    # resume: two more epochs continue the history
    assert main(["train", "scanpath", "--dataset", "synthetic", "--root", str(corpus),
                 "--out", str(out), "--epochs", "4", "--resume", "--no-progress"]) == 0
    progress = json.loads((out / "state" / "progress.json").read_text())
    assert [h["epoch"] for h in progress["history"]] == [1, 2, 3, 4]
    pred = ScanpathPredictor(out)
    assert pred.config.image_size == 32
    # the extra analyses run on the corpus with the trained checkpoint next to a baseline
    assert main(["scanpath-eval", "--root", str(corpus), "--split", "train", "--sources",
                 "phantom", "--checkpoint", f"tiny={out}", "--baselines", "centre", "--k", "2",
                 "--n-boot", "50"]) == 0


@pytest.mark.slow
def test_accelerate_launch_trains_on_two_processes(tmp_path: Path) -> None:
    """The multi-GPU launch (``accelerate launch --multi_gpu``) run with two processes on the
    CPU (the trainer's default device; gloo instead of NCCL): the data are sharded, the epoch's
    loss is reduced over both, only the main process writes, and the checkpoint loads."""
    import subprocess
    import sys

    from core.cli import main

    corpus = tmp_path / "corpus"
    assert main(["synth", "--out", str(corpus), "--n", "6", "--readers", "2", "--seed", "3",
                 "--size", "128", "--workers", "1", "--no-progress"]) == 0
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           "-m", "core.cli", "train", "scanpath", "--dataset", "synthetic", "--root", str(corpus),
           "--out", str(out), "--epochs", "2", "--image-size", "32", "--d-model", "32",
           "--layers", "1", "--max-fixations", "8", "--batch-images", "2", "--no-progress"]
    run = subprocess.run(cmd, cwd=Path(__file__).resolve().parents[1], capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.count("trained scanpath model") == 1  # the main process reports
    progress = json.loads((out / "state" / "progress.json").read_text())
    assert progress["processes"] == 2
    assert [h["epoch"] for h in progress["history"]] == [1, 2]
    assert all(math.isfinite(h["train_loss"]) for h in progress["history"])
    assert ScanpathPredictor(out).config.d_model == 32


def test_train_on_reflacx_fixture_tree(tmp_path: Path) -> None:
    from tests.fixtures_datasets import DICOM_A, DICOM_C, make_reflacx_example

    root = tmp_path / "reflacx"
    make_reflacx_example(root)
    _write_images(tmp_path / "images", [DICOM_A, DICOM_C])
    out = _train_cli(tmp_path, "--dataset", "reflacx", "--root", str(root),
                     "--images", str(tmp_path / "images"), "--no-anatomy")
    meta = json.loads((out / "config.json").read_text())
    # DICOM_A is the only training image (DICOM_B discarded, DICOM_C in the test split);
    # its three reads have 2 + 1 + 2 on-image fixations
    assert meta["training_data"]["train_reads"] == 3
    assert meta["training_data"]["train_images"] == {"reflacx": 1}


def test_train_on_egd_fixture_tree(tmp_path: Path) -> None:
    from tests.fixtures_datasets import EGD_L, EGD_P, EGD_Q, make_egd_example

    root = tmp_path / "egd"
    make_egd_example(root)
    _write_images(tmp_path / "images", [EGD_P, EGD_L, EGD_Q])
    out = _train_cli(tmp_path, "--dataset", "egd", "--root", str(root),
                     "--images", str(tmp_path / "images"), "--no-anatomy")
    meta = json.loads((out / "config.json").read_text())
    # all three patients hash into the 80 % training share; one read each
    assert meta["training_data"]["train_reads"] == 3


def test_train_refuses_a_missing_folder(tmp_path: Path) -> None:
    from core.cli import main

    assert main(["train", "scanpath", "--dataset", "egd", "--root", str(tmp_path / "nope"),
                 "--out", str(tmp_path / "o")]) == 2


# ---------------------------------------------------------------- shipped checkpoint

SHIPPED = Path(__file__).resolve().parents[1] / "trained_models" / "scanpath-tiny"
EXAMPLE = Path(__file__).resolve().parents[1] / "assets" / "examples" / "images" / "00000129_000.png"
GOLDEN = Path(__file__).resolve().parent / "data" / "scanpath_tiny_golden.json"


def test_shipped_checkpoint_golden_samples() -> None:
    """Seed 0, k = 2 on a bundled example: the first fixations of each sample, as recorded
    when the checkpoint was shipped (``python -m tests.test_scanpath_model`` rewrites them)."""
    golden = json.loads(GOLDEN.read_text())
    assert (SHIPPED / "model.safetensors").stat().st_size < 20 * 2**20
    got = _golden_samples()
    assert got["weights_sha256"] == golden["weights_sha256"]
    assert got["lengths"] == golden["lengths"]
    np.testing.assert_allclose(got["head"], golden["head"], atol=2e-4)


def _golden_samples() -> dict[str, object]:
    from core.models import create_predictor
    from core.models.predictor import PredictionRequest

    torch.set_num_threads(1)
    pred = create_predictor("scanpath-tiny")
    from core.io import load_radiograph

    req = PredictionRequest.from_radiograph(load_radiograph(EXAMPLE), k=2, seed=0)
    paths = pred(req).scanpaths
    return {
        "weights_sha256": pred.meta["weights_sha256"],
        "lengths": [len(p) for p in paths],
        "head": [np.round(p.to_array()[:5, [0, 1, 3]], 5).tolist() for p in paths],
    }


if __name__ == "__main__":
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(_golden_samples(), indent=1) + "\n")


def test_first_fixation_on_a_finding_within_one_degree() -> None:
    from scipy import ndimage as ndi

    from core.eval.scanpath_analysis import _on_finding
    from core.gaze.scanpath import Scanpath

    mask = np.zeros((100, 100), bool)
    mask[40:50, 60:70] = True  # rows 40-49 (y), columns 60-69 (x)
    dist = ndi.distance_transform_edt(~mask)
    sp = Scanpath.from_arrays([0.1, 0.55, 0.65], [0.1, 0.45, 0.45], [0, 1, 2], [1, 1, 1])
    assert _on_finding(sp, dist, radius_px=0.0) == 2  # (65, 45) is inside
    assert _on_finding(sp, dist, radius_px=5.0) == 1  # (55, 45) is 5 px left of column 60
    assert _on_finding(sp.head(1), dist, radius_px=5.0) is None
