"""``gazescope anatomy`` / ``anatomy-eval`` and the anatomy benchmark.

The commands read files through ``core.io.load_radiograph``; these tests put a small PNG
loader in its place so they do not depend on the loader's own tests.
"""

import csv
import hashlib
import json
import shutil

import numpy as np
import pytest
from PIL import Image

import core.io
from core.anatomy import REGION_IDS
from core.bench import BenchContext, run_benchmarks
from core.cli import main
from core.io.radiograph import Radiograph


def _load_png(path):
    image = np.asarray(Image.open(path).convert("L"), np.float32) / 255.0
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    return Radiograph(image=image, sha256=digest, source_name=path.name)


@pytest.fixture
def png_loader(monkeypatch):
    monkeypatch.setattr(core.io, "load_radiograph", _load_png, raising=False)


def test_anatomy_command_json_and_overlay(png_loader, nih_dir, tmp_path, capsys):
    out_png = tmp_path / "overlay.png"
    src = nih_dir / "images" / "00000129_000.png"
    assert (
        main(["anatomy", str(src), "--json", "--png", str(out_png), "--spacing-mm", "0.8", "0.7"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["file"] == "00000129_000.png"
    assert set(REGION_IDS) <= set(data["regions"])
    assert data["confidence"] >= 0.5 and data["reasons"] == []
    assert data["measurements"]["right_lung_area"]["unit"] == "cm2"
    ctr = data["measurements"]["cardiothoracic_ratio"]
    assert len(ctr["lines"]) == 2 and 0 < ctr["value"] < 1
    overlay = np.asarray(Image.open(out_png))
    assert overlay.ndim == 3 and overlay.shape[2] == 3 and max(overlay.shape[:2]) == 768


def test_anatomy_command_text_says_when_not_trusted(png_loader, tmp_path, capsys):
    noise = (np.random.default_rng(0).random((256, 256)) * 255).astype(np.uint8)
    path = tmp_path / "noise.png"
    Image.fromarray(noise).save(path)
    assert main(["anatomy", str(path)]) == 0
    out = capsys.readouterr().out
    assert "NOT TRUSTED" in out and "  - " in out


def test_anatomy_eval_prints_the_figures(png_loader, nih_dir, tmp_path, capsys):
    sample = tmp_path / "nih"
    (sample / "images").mkdir(parents=True)
    with open(nih_dir / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    wanted = {"00001369_000.png", "00000129_000.png", "00014995_000.png", "00011254_000.png"}
    rows = [r for r in rows if r["image"] in wanted]
    with open(sample / "labels.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    for r in rows:
        shutil.copy(nih_dir / "images" / r["image"], sample / "images" / r["image"])
    shutil.copy(nih_dir / "boxes.csv", sample / "boxes.csv")
    out = tmp_path / "overlays"
    assert main(["anatomy-eval", "--nih", str(sample), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "declined (confidence < 0.5) all:" in text
    assert "visual review: recorded on the full 322-image NIH sample only" in text
    assert "Cardiomegaly vs No Finding" in text and "n = 2 vs 2" in text
    assert "00001369_000.png: IoU" in text
    assert "turned 180 deg: " in text and "/1 = " in text  # every 6th of 4 images: 1
    assert len(list(out.glob("0*.png"))) == 4 and (out / "review_2025_sheet_0.png").is_file()


def test_anatomy_benchmark_runs():
    results = run_benchmarks(BenchContext(quick=True, repeat=1), "anatomy*")
    names = [r.name for r in results]
    assert names == [
        "anatomy.locate 512 px",
        "anatomy.locate learned 512 px",
        "anatomy.locate fused 512 px",
    ]
    assert all(r.unit == "ms" and r.value > 0 for r in results)


def test_anatomy_command_writes_masks_at_the_image_size(png_loader, nih_dir, tmp_path, capsys):
    src = nih_dir / "images" / "00000129_000.png"
    for method in ("classical", "learned", "fused"):
        out = tmp_path / f"{method}.png"
        assert main(["anatomy", str(src), "--method", method, "--masks", str(out)]) == 0
        text = capsys.readouterr().out
        shown = {"classical": "method: gazescope-anatomy classical", "learned": "method: learned: "}
        assert shown.get(method, "method: fused: ") in text and "label image written" in text
        labels = np.asarray(Image.open(out))
        assert labels.shape == (512, 512) and labels.dtype == np.uint8
        assert set(np.unique(labels)) <= {0, 1, 2, 3}
        right, left = np.nonzero(labels == 1)[1], np.nonzero(labels == 2)[1]
        assert right.mean() < 256 < left.mean()  # the patient's right on the image's left


@pytest.mark.slow
def test_anatomy_eval_compares_the_methods_and_scores_a_blind_review(
    png_loader, nih_dir, tmp_path, capsys
):
    sample = tmp_path / "nih"
    (sample / "images").mkdir(parents=True)
    with open(nih_dir / "labels.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh)][:6]
    with open(sample / "labels.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    for r in rows:
        shutil.copy(nih_dir / "images" / r["image"], sample / "images" / r["image"])
    verdicts = tmp_path / "verdicts.csv"
    verdicts.write_text("tile,verdict,note\n0,fail,\n1,ok,\n2,ok,\n3,ok,\n")
    out = tmp_path / "sheets"
    args = ["anatomy-eval", "--nih", str(sample), "--method", "all", "--out", str(out)]
    args += ["--review-seed", "3", "--review-n", "2", "--verdicts", str(verdicts)]
    assert main([*args, "--phantoms", "1"]) == 0
    text = capsys.readouterr().out
    for method in ("classical", "learned", "fused"):
        assert f"  {method:<9} all " in text
    assert "Dice against the classical masks" in text
    assert "blind visual review (verdicts.csv, 2 images" in text
    assert "failed 1/2 = 50.0%" in text and "failed 0/2 = 0.0%" in text
    assert "synthetic phantoms (n = 1" in text
    assert (out / "blind_3_sheet_0.png").is_file()


def test_anatomy_command_defaults_to_fused_and_falls_back_to_classical(
    png_loader, nih_dir, tmp_path, capsys, monkeypatch
):
    """--method auto (the default): fused with the shipped segmenter; classical when no
    segmenter checkpoint is on disk (GAZESCOPE_MODELS pointing at an empty folder)."""
    src = str(nih_dir / "images" / "00000129_000.png")
    assert main(["anatomy", src, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["method"].startswith("fused")
    monkeypatch.setenv("GAZESCOPE_MODELS", str(tmp_path))
    assert main(["anatomy", src, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["method"].startswith("gazescope-anatomy classical")
