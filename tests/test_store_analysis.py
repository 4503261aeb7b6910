"""Study statistics against hand-computed values, and a whole study run end to end: created and
reported through ``gazescope study``, two readers reading through the store API."""

from __future__ import annotations

import csv
import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from store_helpers import reading_result

from core.cli import main
from core.store import open_store
from core.store.analysis import (
    analyse,
    cohen_kappa,
    fleiss_kappa,
    icc_absolute,
    wilson_interval,
)
from core.store.figures import FIGURE_TITLES, study_figures, study_html


def test_cohen_kappa_hand_computed() -> None:
    # po = 4/6 (items 1, 3, 4, 5 agree); both raters: accept 3, reject 2, edit 1
    # pe = (3*3 + 2*2 + 1*1) / 36 = 14/36; kappa = (24/36 - 14/36) / (22/36) = 10/22
    a = ["accept", "accept", "reject", "accept", "edit", "reject"]
    b = ["accept", "reject", "reject", "accept", "edit", "accept"]
    assert cohen_kappa(a, b) == pytest.approx(10 / 22)
    assert cohen_kappa(a, a) == pytest.approx(1.0)
    assert math.isnan(cohen_kappa(["accept"] * 3, ["accept"] * 3))


def test_fleiss_kappa_hand_computed() -> None:
    # 4 items x 3 raters; P_i = 1, 1/3, 1, 1/3 -> P = 2/3; p(accept) = p(reject) = 1/2 -> Pe = 1/2
    # kappa = (2/3 - 1/2) / (1 - 1/2) = 1/3
    ratings = [
        ["accept", "accept", "accept"],
        ["accept", "accept", "reject"],
        ["reject", "reject", "reject"],
        ["accept", "reject", "reject"],
    ]
    assert fleiss_kappa(ratings) == pytest.approx(1 / 3)


def test_icc_hand_computed() -> None:
    # targets (1, 2), (3, 3), (5, 4); grand mean 3; MSR = 2*(2.25 + 0 + 2.25)/2 = 4.5,
    # MSC = 0 (both raters average 3), MSE = (10 - 9 - 0)/2 = 0.5;
    # ICC(A,1) = (MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE) / n) = 4 / (14/3) = 6/7
    value, lo, hi = icc_absolute([[1, 2], [3, 3], [5, 4]])
    assert value == pytest.approx(6 / 7)
    assert lo < value < hi


def test_wilson_interval_hand_computed() -> None:
    # 3 of 4: centre (0.75 + z^2/8) / (1 + z^2/4), half-width z sqrt(p q/n + z^2/(4 n^2)) / (1 + z^2/4)
    z = 1.959964
    centre = (0.75 + z**2 / 8) / (1 + z**2 / 4)
    half = z * math.sqrt(0.75 * 0.25 / 4 + z**2 / 64) / (1 + z**2 / 4)
    lo, hi = wilson_interval(3, 4)
    assert (lo, hi) == (
        pytest.approx(centre - half, abs=1e-6),
        pytest.approx(centre + half, abs=1e-6),
    )


def _icc_by_anova(table: np.ndarray) -> float:
    """ICC(A,1) from the two-way ANOVA mean squares (Shrout & Fleiss / McGraw & Wong)."""
    n, k = table.shape
    gm = table.mean()
    ssr = k * ((table.mean(axis=1) - gm) ** 2).sum()
    ssc = n * ((table.mean(axis=0) - gm) ** 2).sum()
    sse = ((table - gm) ** 2).sum() - ssr - ssc
    msr, msc, mse = ssr / (n - 1), ssc / (k - 1), sse / ((n - 1) * (k - 1))
    return (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)


def _external_references(page: str) -> list[str]:
    """src/href attributes of the page's tags (script bodies are not parsed as tags)."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Refs(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend(f"{tag} {k}={v}" for k, v in attrs if k in ("src", "href") and v)

    Refs().feed(page)
    return found


# --- a whole study --------------------------------------------------------------------------

USEFULNESS = {  # reader -> arm -> per case (case order of the study)
    "alice": {"with_ai": [4, 4, 5], "without_ai": [2, 3, 2]},
    "bob": {"with_ai": [5, 4, 5], "without_ai": [3, 3, 2]},
}
SECONDS = {
    "alice": {"with_ai": 30.0, "without_ai": 60.0},
    "bob": {"with_ai": 40.0, "without_ai": 50.0},
}


def _read_as(store, db: Path, name: str, cases: list[str]) -> None:
    """Work through the reader's own order as the app would."""
    truth = dict(
        sqlite3.connect(db).execute("select id, turing_source from assignments").fetchall()
    )
    while (item := store.next_assignment(name, "pilot")) is not None:
        if item.arm.kind == "turing":
            store.turing_stimulus(name, item.id)
            # alice always says "model"; bob is always right
            answer = "model" if name == "alice" else truth[item.id]
            store.answer_turing(
                name, item.id, answer=answer, client_request_id=f"{name}-t{item.id}"
            )
            continue
        pred = store.get_prediction(item.prediction_id)
        for s in pred.sentences:
            kw: dict = {"action": "accept"}
            if s.key == "s1" and name == "bob":
                kw = {
                    "action": "edit",
                    "edited_text": "Mild cardiomegaly.",
                    "error_category": "wrong_severity",
                    "significance": "minor",
                }
            elif s.key == "s1" and item.arm.name == "without_ai":
                kw = {
                    "action": "reject",
                    "error_category": "false_finding",
                    "significance": "major",
                }
            if s.key == "s1":  # a first, superseded answer that the report must ignore
                store.add_review(
                    name,
                    pred.id,
                    s.id,
                    action="reject",
                    error_category="other",
                    client_request_id=f"{name}-{item.id}-{s.id}-draft",
                    assignment_id=item.id,
                )
            store.add_review(
                name,
                pred.id,
                s.id,
                client_request_id=f"{name}-{item.id}-{s.id}",
                assignment_id=item.id,
                **kw,
            )
        store.add_event(
            name,
            item.case_sha256,
            "time_on_case",
            {"seconds": SECONDS[name][item.arm.name]},
            assignment_id=item.id,
        )
        u = USEFULNESS[name][item.arm.name][cases.index(item.case_sha256)]
        store.add_rating(
            name,
            item.case_sha256,
            usefulness=u,
            trust=3,
            scanpath_humanlike=3,
            client_request_id=f"{name}-r{item.id}",
            assignment_id=item.id,
        )
        store.complete_assignment(name, item.id, client_request_id=f"{name}-c{item.id}")


@pytest.mark.slow
def test_study_end_to_end(tmp_path: Path, nih_dir: Path, capsys) -> None:
    db = tmp_path / "study.sqlite"
    url = f"sqlite:///{db}"
    images = sorted((nih_dir / "images").glob("*.png"))[:3]
    store = open_store(url)
    # predictions as the app/pipeline would store them, and human scanpaths for two cases
    from core.io import load_radiograph

    cases = [load_radiograph(p).sha256 for p in images]
    for sha in cases:
        store.ensure_case(sha, source="NIH ChestX-ray14 sample")
        store.save_prediction(sha, reading_result(sha), app_version="test", seed=0)
    for sha in cases[:2]:
        store.add_reference_scanpath(
            sha,
            [{"x": 0.4, "y": 0.5, "start_s": 0.0, "duration_s": 0.3}],
            source="synthetic corpus, simulated reader R1",
            synthetic=True,
        )
    base = ["study"]
    assert (
        main(
            [
                *base,
                "create",
                "pilot",
                "--db",
                url,
                "--no-predict",
                "--seed",
                "7",
                "--cases",
                *map(str, images),
                "--source",
                "NIH ChestX-ray14 sample",
                "--arm",
                "with_ai=scanpath,attention,findings,report,regions",
                "--arm",
                "without_ai=report",
                "--arm",
                "turing=turing",
            ]
        )
        == 0
    )
    for name in ("alice", "bob"):
        assert main([*base, "add-reader", "pilot", name, "--db", url]) == 0
    assert store.get_study("pilot").case_sha256s == tuple(cases)
    for name in ("alice", "bob"):
        _read_as(store, db, name, cases)
    capsys.readouterr()
    out = tmp_path / "report"
    assert main([*base, "report", "pilot", "--db", url, "--out", str(out), "--html"]) == 0
    printed = capsys.readouterr().out
    assert "simulated readers" in printed

    report = analyse(store.study_data("pilot"))
    assert report.progress == [
        {"reader": "alice", "done": 8, "total": 8},
        {"reader": "bob", "done": 8, "total": 8},
    ]
    by = {(r["scope"], r["arm"], r["finding"]): r for r in report.actions_by_finding}
    assert by[("all", "with_ai", "cardiomegaly")]["n"] == 6  # the drafts were superseded
    assert by[("all", "with_ai", "cardiomegaly")]["accept_rate"] == pytest.approx(0.5)
    assert by[("all", "with_ai", "cardiomegaly")]["edit_rate"] == pytest.approx(0.5)
    assert by[("all", "without_ai", "cardiomegaly")]["reject_rate"] == pytest.approx(0.5)
    assert by[("all", "without_ai", "pleural_effusion")]["accept_rate"] == 1.0
    assert by[("alice", "without_ai", "cardiomegaly")]["reject_rate"] == 1.0
    regions = {(r["scope"], r["arm"], r["region"]): r for r in report.actions_by_region}
    assert regions[("bob", "with_ai", "cardiac_silhouette")]["edit_rate"] == 1.0
    errors = {
        (r["scope"], r["arm"], r["error_category"], r["significance"]): r["n"]
        for r in report.errors
    }
    assert errors[("all", "without_ai", "false_finding", "major")] == 3
    assert errors[("all", "with_ai", "wrong_severity", "minor")] == 3
    assert ("all", "with_ai", "other", "unspecified") not in errors  # superseded drafts
    times = {(r["scope"], r["arm"]): r for r in report.time_per_case}
    assert times[("all", "with_ai")]["mean_s"] == pytest.approx(35.0)
    assert times[("alice", "without_ai")]["median_s"] == pytest.approx(60.0)
    turing = {r["scope"]: r for r in report.turing}
    assert turing["alice"]["accuracy"] == 0.5 and turing["bob"]["accuracy"] == 1.0
    assert (turing["all"]["correct"], turing["all"]["n"]) == (3, 4)
    assert (turing["all"]["ci95_low"], turing["all"]["ci95_high"]) == wilson_interval(3, 4)
    assert report.synthetic_humans is True
    agreement = {r["measure"]: r for r in report.agreement}
    # 18 items (2 arms x 3 cases x 3 sentences): 12 both accept; s1 with AI accept/edit,
    # s1 without AI reject/edit. po = 2/3; alice 15 accept + 3 reject, bob 12 accept + 6 edit:
    # pe = 15*12/324 = 5/9; kappa = (2/3 - 5/9) / (4/9) = 1/4
    assert agreement["cohen_kappa"]["items"] == 18
    assert agreement["cohen_kappa"]["value"] == pytest.approx(0.25)
    # Fleiss with pooled shares 27/36, 6/36, 3/36: Pe = 43/72, P = 2/3 -> kappa = 5/29
    assert agreement["fleiss_kappa"]["value"] == pytest.approx(5 / 29)
    table = np.array(
        [
            [USEFULNESS["alice"][arm][i], USEFULNESS["bob"][arm][i]]
            for arm in ("with_ai", "without_ai")
            for i in range(3)
        ],
        dtype=float,
    )
    assert agreement["icc_a1"]["value"] == pytest.approx(_icc_by_anova(table))

    # the written tables, and one self-contained HTML page with every figure
    with (out / "turing.csv").open() as f:
        assert [r["scope"] for r in csv.DictReader(f)] == ["all", "alice", "bob"]
    assert json.loads((out / "report.json").read_text())["study"] == "pilot"
    page = (out / "report.html").read_text()
    for name in FIGURE_TITLES:
        assert f'id="fig-{name}"' in page
    assert _external_references(page) == []
    assert "Plotly.newPlot" in page and len(page) > 3_000_000  # plotly.js itself is inlined
    figs = study_figures(report)
    assert list(figs) == list(FIGURE_TITLES)
    assert figs["turing"].data[0].y == (1.0, 0.5, 1.0)[:0] + tuple(
        r["accuracy"] for r in report.turing
    )
    assert "synthetic" in figs["turing"].layout.title.text
    assert study_html(report).count("<h2>") == len(report.tables())
