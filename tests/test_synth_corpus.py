"""The synthetic corpus: REFLACX layout read back unchanged, determinism, splits, overwrite
refusal, the evaluate / synth / synth-report commands."""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from core.bench import BenchContext
from core.cli import main
from core.data.reflacx import read_reflacx
from core.data.synthetic import read_reader_table
from core.errors import GazeScopeError
from core.eval import HUMAN, load_cases
from core.synth.corpus import (
    REFLACX_COLUMN,
    CorpusConfig,
    load_truth,
    plan_corpus,
    simulate_case,
    write_corpus,
)
from core.vocabulary import REFLACX_CERTAINTY, REFLACX_PHASE_2_3

SMALL = dict(n=5, readers=3, seed=7, size_px=128)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, nih_dir: Path) -> tuple[Path, CorpusConfig]:
    root = tmp_path_factory.mktemp("corpus") / "c"
    config = CorpusConfig(**SMALL, real=str(nih_dir), real_limit=2)
    write_corpus(root, config, workers=1)
    return root, config


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_reflacx_column_table_is_the_vocabulary_inverse():
    for fid, col in REFLACX_COLUMN.items():
        mapped = REFLACX_PHASE_2_3[col]
        assert (
            mapped == fid
            or (col == "Lung nodule or mass" and mapped == "lung_lesion")
            or (col == "Pleural abnormality" and mapped == "pleural_abnormality")
        )


def test_reflacx_reader_reads_the_corpus_unchanged(corpus):
    root, config = corpus
    reader_ids = read_reader_table(root / "synthetic_readers.csv")
    cases = {
        c.case_id: c for c in read_reflacx(root, images_root=root / "images", reader_ids=reader_ids)
    }
    specs = plan_corpus(config)
    assert len(cases) == len(specs) == 7  # 5 phantoms + 2 real images, none skipped
    for spec in specs:
        sim = simulate_case(spec, config.size_px, config.panel)
        case = cases[spec.dicom_id]
        w, h = sim.prepared.width_px, sim.prepared.height_px
        assert (case.image.width_px, case.image.height_px) == (w, h)
        assert case.image.path == root / "images" / f"{spec.dicom_id}.png"
        assert case.split == spec.split
        reads = {r.read_id: r for r in case.reads}
        assert set(reads) == set(spec.read_ids)
        for read_id, reader, mem in zip(spec.read_ids, spec.readers, sim.reads, strict=True):
            got = reads[read_id]
            assert got.reader_id == reader == mem.reader_id
            a, b = got.scanpath.to_array(), mem.scanpath.to_array()
            assert a.shape == b.shape and len(a) > 10
            assert np.allclose(a[:, 0], b[:, 0], atol=0.6e-3 / w)  # pixels written to 3 decimals
            assert np.allclose(a[:, 1], b[:, 1], atol=0.6e-3 / h)
            assert np.allclose(a[:, 2], b[:, 2], atol=0.6e-3)
            assert np.allclose(a[:, 3], b[:, 3], atol=1.2e-3)
            assert np.allclose(
                [f.ppd_x for f in got.scanpath], [f.ppd_x for f in mem.scanpath], atol=1e-3
            )
            assert got.report.text == mem.report.text
            assert [w_.word for w_ in got.report.words] == [w_.word for w_ in mem.report.words]
            for fid, c in mem.certainty.items():
                vocab = "lung_lesion" if fid in ("nodule", "mass") else fid
                vocab = (
                    "pleural_abnormality"
                    if fid in ("pleural_effusion", "pleural_thickening")
                    else vocab
                )
                if fid == "pneumonia":
                    assert "Pneumonia" in got.raw_labels["Other"]
                    continue
                want = 1.0 if fid == "support_devices" else REFLACX_CERTAINTY[c]
                assert got.labels[vocab] >= want - 1e-9
            assert len(got.annotations) == sum(
                len(r.boxes) for r in mem.reported if r.id in REFLACX_COLUMN
            )
            x0, y0, x1, y1 = got.chest_box
            assert np.allclose((x0, y0, x1, y1), mem.chest_box, atol=1e-3)


def test_workers_give_byte_identical_files(tmp_path, capsys):
    args = ["synth", "--n", "4", "--readers", "2", "--seed", "3", "--size", "96", "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "a"), "--workers", "1"]) == 0
    assert main([*args, "--out", str(tmp_path / "b"), "--workers", "2"]) == 0
    assert "wrote" in capsys.readouterr().out
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a == b and len(a) > 30
    main([*args[:-1], "--seed", "4", "--no-progress", "--out", str(tmp_path / "c")])
    assert _digest(tmp_path / "c") != a  # the seed matters


def test_splits_keep_images_and_held_out_readers_apart(corpus):
    root, config = corpus
    doc = json.loads((root / "splits.json").read_text())
    assert doc["held_out_readers"] == ["sim5"]
    split_of = {d: s for s, ids in doc["images"].items() for d in ids}
    readers = read_reader_table(root / "synthetic_readers.csv")
    seen: dict[str, set[str]] = {}
    for case in load_cases("synthetic", root):
        assert {r.reader_id for r in case.reads} == set(readers[r.read_id] for r in case.reads)
        assert case.split == split_of[case.case_id]  # one split per image, as splits.json says
        ids = {r.reader_id for r in case.reads}
        assert len(ids) == config.readers
        seen.setdefault(case.split, set()).update(ids)
        if case.split == "test":
            assert "sim5" in ids  # every test image has the held-out reader
    assert "sim5" not in seen.get("train", set()) | seen.get("validate", set())
    assert "test" in seen and "train" in seen


def test_truth_files(corpus):
    root, _ = corpus
    for line in (root / "cases.csv").read_text().splitlines()[1:]:
        dicom_id, source = line.split(",")[:2]
        t = load_truth(root, dicom_id)
        w, h = t["image_size"]
        assert len(t["finding_masks"]) == len(t["findings"])
        for f, m in zip(t["findings"], t["finding_masks"], strict=True):
            assert (m is None) == (not f["located"])
            if m is not None:
                assert m.shape == (h, w) and m.any() and 0.0 <= f["conspicuity"] <= 1.0
        assert t["region_masks"]["right_lung"].any() and t["region_masks"]["left_lung"].any()
        if source == "phantom":
            assert t["anatomy_masks"]["heart"].shape == (h, w) and t["anatomy_masks"]["heart"].any()
    rows = (root / "truth" / "reads.csv").read_text().splitlines()
    assert rows[0].startswith("id,reader_id,dicom_id,finding_index,finding")


def test_refuses_to_overwrite(tmp_path, capsys):
    user = tmp_path / "mine"
    user.mkdir()
    (user / "notes.txt").write_text("keep me")
    config = CorpusConfig(n=1, readers=1, seed=0, size_px=96)
    with pytest.raises(GazeScopeError, match="not empty"):
        write_corpus(user, config)
    with pytest.raises(GazeScopeError, match="not a GazeScope synthetic corpus"):
        write_corpus(user, config, force=True)
    assert main(["synth", "--out", str(user), "--n", "1", "--no-progress"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (user / "notes.txt").read_text() == "keep me" and len(list(user.iterdir())) == 1
    # a previous corpus is replaced with --force; a file the user added there is kept
    old = tmp_path / "old"
    write_corpus(old, config)
    (old / "my_results.csv").write_text("x")
    first = _digest(old)
    write_corpus(old, CorpusConfig(n=1, readers=1, seed=1, size_px=96), force=True)
    assert (old / "my_results.csv").read_text() == "x"
    assert _digest(old) != first


def test_evaluate_command_shows_the_human_ceiling(corpus, capsys):
    root, _ = corpus
    argv = ["evaluate", "--dataset", "synthetic", "--root", str(root), "--baselines", "centre"]
    assert main([*argv, "--k", "1", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("metric"))
    assert HUMAN in header
    mm = next(line for line in out.splitlines() if line.startswith("MM "))
    assert len([c for c in mm.split() if c.replace(".", "").isdigit()]) >= 2
    # the ceiling counts readers by their id: 3 distinct readers per image
    assert "readers per image with gaze: median 3" in out


def test_synth_report_command(corpus, capsys):
    root, _ = corpus
    assert main(["synth-report", "--root", str(root), "--split", "all", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    for text in (
        "== phantoms",
        "== real NIH images",
        "GazeSearch",
        "EGD-CXR",
        "Inter-reader consistency",
    ):
        assert text in out
    mm = [line for line in out.splitlines() if re.match(r"\s+MM\s+[0-9]", line)]
    assert len(mm) == 2  # phantom part and real part
    value = float(mm[0].split()[1])
    assert 0.5 < value <= 1.0 and not math.isnan(value)


def test_corpus_benchmark_runs():
    from core.benchmarks.synth_corpus import _corpus

    results = _corpus(BenchContext(quick=True, repeat=1))
    assert results and all(r.value > 0 for r in results)
