"""The report evaluation: truth regions, scores on hand-made reports, the command end to end."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.cli import main
from core.eval.report import (
    ImageReport,
    reader_reference,
    score_reports,
    truth_regions,
)
from core.report import ReportSentence


def test_truth_regions_share_and_background() -> None:
    grid = np.zeros((4, 4), dtype=bool)
    zone = grid.copy()
    zone[:2, :2] = True  # top-left quarter
    other = grid.copy()
    other[2:, :] = True  # bottom half
    bones = np.ones((4, 4), dtype=bool)
    regions = {"right_upper_zone": zone, "right_lower_zone": other, "bones": bones}
    finding = np.zeros((8, 8), dtype=bool)
    finding[0:4, 0:3] = True  # inside the top-left quarter only
    nodule = truth_regions([finding], ["nodule"], regions)
    assert nodule == {"nodule": frozenset({"right_upper_zone"})}  # bones: not for a nodule
    fracture = truth_regions([finding], ["fracture"], regions)
    assert fracture == {"fracture": frozenset({"right_upper_zone", "bones"})}
    assert truth_regions([None], ["mass"], regions) == {}  # unlocated: not graded


def _image(refs: tuple[str, ...], sentences: tuple[ReportSentence, ...], truth=None):
    return ImageReport("img", "phantom", refs, sentences, truth or {})


def test_scores_on_hand_made_reports() -> None:
    gen = (
        ReportSentence(
            "Right pleural effusion.", ("right_costophrenic_angle",), "pleural_effusion", 0.9
        ),
        ReportSentence("Heart size is normal."),
    )
    same = "Right pleural effusion. Heart size is normal."
    other = "The lungs are clear. No pleural effusion or pneumothorax."
    im = _image((same, other), gen, {"pleural_effusion": frozenset({"right_costophrenic_angle"})})
    s = score_reports([im])
    assert s.n_images == 1 and s.n_pairs == 2
    assert s.grounding[0] == 1.0 and s.n_grounded == 1
    # keywords: pair 1 {effusion, cardiomegaly} both ways; pair 2 {effusion, ptx, lung fields...}
    assert s.keyword_precision[0] == pytest.approx(1.0)
    assert 0.0 < s.rouge_l[0] < 1.0
    wrong = _image((same,), gen, {"pleural_effusion": frozenset({"left_costophrenic_angle"})})
    assert score_reports([wrong]).grounding[0] == 0.0
    ref = reader_reference([im])
    assert ref.n_pairs == 2 and math.isnan(ref.grounding[0])


@pytest.mark.slow
def test_report_eval_command_on_a_tiny_corpus(tmp_path, capsys) -> None:
    from core.synth.corpus import CorpusConfig, write_corpus

    root = tmp_path / "corpus"
    write_corpus(root, CorpusConfig(n=10, readers=3, seed=1, size_px=160), workers=1)
    capsys.readouterr()
    assert (
        main(["report-eval", "--root", str(root), "--attention", "truth", "--examples", "1"]) == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("SYNTHETIC DATA")
    assert "ROUGE-L" in out and "region grounding accuracy" in out and "generated:" in out
    assert main(["report-eval", "--root", str(tmp_path)]) == 2  # not a corpus
    assert "not a synthetic corpus" in capsys.readouterr().err
    assert main(["report-eval", "--nih", str(tmp_path)]) == 2  # NIH needs a classifier
