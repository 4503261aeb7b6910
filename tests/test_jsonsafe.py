import json
import math
from pathlib import Path

import numpy as np
import pytest

import core.synth.corpus as corpus
from core.jsonsafe import json_safe
from core.tables import text_table


def _strict_loads(text: str):
    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def test_json_safe_makes_strict_json_of_numpy_and_non_finite_values():
    data = {
        1: math.inf,
        "nan": float("nan"),
        "neg": -math.inf,
        "np": np.float32(0.25),
        "i": np.int64(3),
        "b": np.bool_(True),
        "arr": np.array([[1.0, np.inf], [np.nan, 2.0]]),
        "tup": (1, "a", None, True),
    }
    out = json_safe(data)
    assert out == {
        "1": None,
        "nan": None,
        "neg": None,
        "np": 0.25,
        "i": 3,
        "b": True,
        "arr": [[1.0, None], [None, 2.0]],
        "tup": [1, "a", None, True],
    }
    assert _strict_loads(json.dumps(out, allow_nan=False)) == out
    assert json_safe({"x": 1 / 3}, ndigits=3) == {"x": 0.333}
    assert json.dumps({"x": math.inf}) == '{"x": Infinity}'  # what the bug wrote


def test_corpus_truth_with_an_infinite_value_is_written_as_strict_json(tmp_path, monkeypatch):
    original = corpus.simulate_case

    def with_infinity(*args, **kwargs):
        sim = original(*args, **kwargs)
        sim.truth["probe_cnr"] = math.inf  # e.g. a contrast-to-noise ratio over zero noise
        return sim

    monkeypatch.setattr(corpus, "simulate_case", with_infinity)
    root = tmp_path / "c"
    corpus.write_corpus(root, corpus.CorpusConfig(n=1, readers=1, size_px=96), workers=1)
    (truth_file,) = sorted((root / "truth").glob("*.json"))
    truth = _strict_loads(truth_file.read_text())  # Infinity would raise here
    assert truth["probe_cnr"] is None
    _strict_loads((root / "corpus.json").read_text())


@pytest.mark.parametrize("rows", [[], [["a", "b"]]])
def test_text_table_pads_columns_and_draws_a_rule(rows):
    text = text_table(["name", "value"], [*rows, ["longer name", "1"]])
    lines = text.splitlines()
    assert lines[0] == "name         value"
    assert lines[1] == "-----------  -----"
    assert lines[-1] == "longer name  1"
    assert all(line == line.rstrip() for line in lines)


def test_no_private_json_or_table_copies_left():
    core = Path(__file__).resolve().parents[1] / "core"
    offenders = [
        str(p.relative_to(core))
        for p in core.rglob("*.py")
        if p.name not in ("jsonsafe.py", "tables.py")
        and ("def _json_safe" in p.read_text() or ".ljust(w) for" in p.read_text())
    ]
    assert offenders == []
