"""A Turing-test study built from a synthetic corpus: its simulated readers' scanpaths are the
human side, the reading pipeline's the model side, and the report says they are synthetic."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.cli import main
from core.store import open_store
from core.store.analysis import analyse


@pytest.mark.slow
def test_turing_study_from_a_synthetic_corpus(tmp_path: Path, capsys) -> None:
    corpus = tmp_path / "corpus"
    args = ["synth", "--out", str(corpus), "--n", "2", "--readers", "2", "--size", "256"]
    assert main([*args, "--workers", "1", "--no-progress"]) == 0
    url = f"sqlite:///{tmp_path / 'turing.sqlite'}"
    assert (
        main(
            [
                "study",
                "create",
                "tt",
                "--db",
                url,
                "--from-corpus",
                str(corpus),
                "--arm",
                "turing=turing",
                "--seed",
                "1",
            ]
        )
        == 0
    )
    assert main(["study", "add-reader", "tt", "alice", "--db", url]) == 0
    store = open_store(url)
    items = store.reader_assignments("alice", "tt")
    assert len(items) == 2 and all(i.arm.kind == "turing" for i in items)
    model = {
        tuple(
            map(
                tuple,
                (f.values() for f in store.get_prediction(i.prediction_id).result["scanpaths"][0]),
            )
        )
        for i in items
    }
    shown = []
    for item in items:
        stim = store.turing_stimulus("alice", item.id)
        shown.append(tuple(tuple(f.values()) for f in stim.fixations) in model)
        store.answer_turing("alice", item.id, answer="human", client_request_id=f"a{item.id}")
    assert sorted(shown) == [False, True]  # one model scanpath, one simulated reader's
    report = analyse(store.study_data("tt"))
    assert report.synthetic_humans is True
    assert report.turing[0]["n"] == 2 and report.turing[0]["accuracy"] == 0.5
    capsys.readouterr()
    assert main(["study", "report", "tt", "--db", url, "--out", str(tmp_path / "r")]) == 0
    assert "simulated readers' (synthetic corpus)" in capsys.readouterr().out
