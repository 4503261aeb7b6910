"""The shared report lexicon and the draft-report generator, read back through the labeller."""

from __future__ import annotations

import math

import numpy as np
import pytest
from anatomy_phantom import make_phantom

from core.anatomy import CONFIDENCE_THRESHOLD, REGION_IDS, Anatomy, atlas_from_masks
from core.gaze.scanpath import Scanpath
from core.report import generate_report, label_report, probability_band, report_text
from core.report.labeller import BOTH_UNCERTAINTY, PRE_UNCERTAINTY
from core.report.lexicon import (
    BAND_HEDGES,
    BANDS,
    FINDING_PHRASES,
    MEASUREMENT_MIN_CONFIDENCE,
    PLACE_PHRASES,
    SECTIONS,
)
from core.vocabulary import FINDING_IDS, PARENTS

REPORTABLE = [f for f in FINDING_IDS if f != "no_finding"]
# what the labeller must read for a written finding, per band
EXPECTED = {"possible": 0.5, "likely": 0.5, "very likely": 1.0}
BAND_PROBS = {"unlikely": 0.1, "possible": 0.5, "likely": 0.7, "very likely": 0.95}


@pytest.fixture(scope="module")
def anatomy() -> Anatomy:
    p = make_phantom(256, 256)
    return atlas_from_masks(p.right_lung, p.left_lung, p.heart)


def _peak_map(anatomy: Anatomy, region: str, shape: tuple[int, int] = (32, 32)) -> np.ndarray:
    """An attention map with one bump at the centre of ``region``'s box."""
    x0, y0, x1, y1 = anatomy.regions[region].box
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    cx, cy = (x0 + x1) / 2 * shape[1] - 0.5, (y0 + y1) / 2 * shape[0] - 0.5
    return np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 2.0)


# --- the lexicon ----------------------------------------------------------------------------


def test_bands_follow_reflacx_anchors() -> None:
    assert [lo for _, lo in BANDS] == [0.0, 0.375, 0.625, 0.825]
    assert [probability_band(p) for p in (0.0, 0.374, 0.375, 0.7, 0.825, 1.0)] == [
        "unlikely",
        "unlikely",
        "possible",
        "likely",
        "very likely",
        "very likely",
    ]
    with pytest.raises(ValueError):
        probability_band(1.2)


def test_every_finding_has_phrasing_the_labeller_reads_back() -> None:
    assert set(FINDING_PHRASES) == set(REPORTABLE)
    sections = {s.id for s in SECTIONS}
    for fid, phrase in FINDING_PHRASES.items():
        assert phrase.section in sections
        assert phrase.locate in ("zone", "side", "fixed")
        assert label_report(phrase.noun, derived=False).get(fid) == 1.0, fid
        if phrase.plural:
            assert label_report(phrase.plural, derived=False).get(fid) == 1.0, fid
        if phrase.positive:
            assert label_report(phrase.positive, derived=False).get(fid) == 1.0, fid


def test_every_region_has_a_section_and_places_have_words() -> None:
    covered = {r for s in SECTIONS for r in s.regions}
    assert set(REGION_IDS) <= covered
    for phrase in FINDING_PHRASES.values():
        assert set(phrase.regions) <= set(REGION_IDS) | {"right_lung", "left_lung"}
        if phrase.locate == "zone":
            assert all(r in PLACE_PHRASES for r in phrase.regions)


def test_hedges_are_uncertainty_cues_of_the_labeller() -> None:
    cues = set(PRE_UNCERTAINTY) | set(BOTH_UNCERTAINTY)
    for band, hedge in BAND_HEDGES.items():
        assert hedge == "" or hedge in cues, band
    assert "unlikely" not in BAND_HEDGES  # not written: the normal statement rules it out


def test_normal_statements_read_as_negative() -> None:
    for section in SECTIONS:
        for statement in section.normals:
            for text in (statement.full, statement.terse):
                if not text:
                    continue
                labels = label_report(text, derived=False)
                assert all(v == 0.0 for v in labels.values()), (text, labels)
                # every finding the statement is blocked by and the labeller knows is ruled out
                if section.id in ("pleura", "heart"):
                    assert {f for f, v in labels.items() if v == 0.0} >= statement.blocked_by


def test_measurement_trust_threshold_is_the_anatomy_one() -> None:
    assert MEASUREMENT_MIN_CONFIDENCE == CONFIDENCE_THRESHOLD


# --- the generator, read back through the labeller ------------------------------------------


@pytest.mark.parametrize("fid", REPORTABLE)
@pytest.mark.parametrize("band", list(BAND_PROBS))
def test_one_finding_round_trips(anatomy: Anatomy, fid: str, band: str) -> None:
    p = BAND_PROBS[band]
    region = FINDING_PHRASES[fid].regions[-1]
    attention = {fid: _peak_map(anatomy, region)} if region in anatomy.regions else {}
    sentences = generate_report({fid: p}, anatomy, attention=attention)
    labels = label_report(report_text(sentences), derived=False)
    mine = [s for s in sentences if s.finding_id == fid]
    if band == "unlikely":
        assert not mine
        assert labels.get(fid, 0.0) == 0.0
    else:
        assert len(mine) == 1 and mine[0].confidence == p
        assert labels.get(fid) == EXPECTED[band], (report_text(sentences), labels)


def test_random_finding_sets_round_trip(anatomy: Anatomy) -> None:
    rng = np.random.default_rng(0)
    for _ in range(60):
        chosen = rng.choice(REPORTABLE, size=int(rng.integers(1, 6)), replace=False)
        findings = {str(f): float(rng.uniform(0, 1)) for f in chosen}
        sentences = generate_report(findings, anatomy)
        text = report_text(sentences)
        labels = label_report(text, derived=False)
        written = {s.finding_id for s in sentences if s.finding_id}
        for fid, p in findings.items():
            band = probability_band(p)
            if band == "unlikely":
                assert labels.get(fid, 0.0) == 0.0, (fid, text, labels)
            elif fid in written:
                assert labels.get(fid) == EXPECTED[band], (fid, text, labels)
            else:  # a parent left out because a child is written
                assert any(PARENTS.get(c) == fid for c in written), (fid, text)


def test_no_findings_gives_normal_statements_and_the_ratio(anatomy: Anatomy) -> None:
    sentences = generate_report({}, anatomy)
    texts = [s.text for s in sentences]
    ctr = anatomy.measurements["cardiothoracic_ratio"].value
    assert ctr <= 0.5
    assert texts == [
        "The lungs are clear.",
        "No pleural effusion or pneumothorax.",
        f"Heart size is normal (cardiothoracic ratio {ctr:.2f}).",
        "The mediastinal and hilar contours are normal.",
        "The osseous structures are intact.",
        "No acute cardiopulmonary process.",
    ]
    assert all(s.finding_id is None and math.isnan(s.confidence) for s in sentences)
    heart = sentences[2]
    assert heart.region_ids == ("cardiac_silhouette",)
    assert heart.evidence.measurement.id == "cardiothoracic_ratio"
    assert heart.evidence.region_box == anatomy.regions["cardiac_silhouette"].box


def test_hedging_and_placement(anatomy: Anatomy) -> None:
    findings = {"consolidation": 0.7, "pleural_effusion": 0.9, "cardiomegaly": 0.5}
    attention = {
        "consolidation": _peak_map(anatomy, "right_lower_zone"),
        "pleural_effusion": _peak_map(anatomy, "left_costophrenic_angle"),
    }
    sentences = generate_report(findings, anatomy, attention=attention)
    by = {s.finding_id: s for s in sentences if s.finding_id}
    assert by["consolidation"].text == "Likely consolidation in the right lower zone."
    assert by["consolidation"].region_ids == ("right_lower_zone",)
    assert by["pleural_effusion"].text == "Left pleural effusion."
    assert by["pleural_effusion"].region_ids == ("left_costophrenic_angle",)
    assert by["pleural_effusion"].evidence.measurement.id == "left_costophrenic_angle"
    assert by["cardiomegaly"].text.startswith("Possible cardiomegaly (cardiothoracic ratio ")
    texts = [s.text for s in sentences]
    assert "The lungs are otherwise clear." in texts and "No pneumothorax." in texts
    assert not any(t.startswith("Heart size is normal") for t in texts)
    # the peak lies inside the region's box
    x, y = by["consolidation"].evidence.attention_peak
    x0, y0, x1, y1 = by["consolidation"].evidence.region_box
    assert x0 <= x <= x1 and y0 <= y <= y1


def test_without_attention_a_zone_finding_is_not_placed(anatomy: Anatomy) -> None:
    (s,) = [s for s in generate_report({"nodule": 0.9}, anatomy) if s.finding_id]
    assert s.text == "A nodule."
    assert s.region_ids == ("right_lung", "left_lung")
    assert s.evidence.attention_peak is None


def test_fixations_in_the_evidence(anatomy: Anatomy) -> None:
    x0, y0, x1, y1 = anatomy.regions["cardiac_silhouette"].box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    inside = Scanpath.from_arrays([cx, 0.01], [cy, 0.01], [0.0, 0.5], [0.4, 0.2])
    elsewhere = Scanpath.from_arrays([0.01], [0.99], [0.0], [0.3])
    sentences = generate_report({}, anatomy, scanpaths=[inside, elsewhere])
    heart = next(s for s in sentences if "cardiac_silhouette" in s.region_ids)
    assert heart.evidence.fixations == ((0, 0),)


def test_enlarged_ratio_is_stated_not_called_normal() -> None:
    p = make_phantom(256, 256, heart_half_width=0.22)
    anatomy = atlas_from_masks(p.right_lung, p.left_lung, p.heart)
    ctr = anatomy.measurements["cardiothoracic_ratio"].value
    assert ctr > 0.5
    texts = [s.text for s in generate_report({"cardiomegaly": 0.1}, anatomy)]
    assert f"The cardiothoracic ratio measures {ctr:.2f}, above 0.50" in " ".join(texts)
    assert not any("normal" in t and "Heart" in t for t in texts)
    assert label_report(" ".join(texts), derived=False).get("cardiomegaly", 0.0) == 0.0


def test_untrusted_anatomy_quotes_no_measurement() -> None:
    p = make_phantom(256, 256)
    anatomy = atlas_from_masks(p.right_lung, p.left_lung, p.heart, confidence=0.2)
    texts = [s.text for s in generate_report({"cardiomegaly": 0.9}, anatomy)]
    assert "The heart is enlarged." in texts
    assert not any("ratio" in t for t in texts)


def test_deterministic_and_bad_input(anatomy: Anatomy) -> None:
    findings = {"nodule": 0.6, "mass": 0.6, "edema": 0.4}
    att = {"nodule": _peak_map(anatomy, "left_upper_zone")}
    a = generate_report(findings, anatomy, attention=att)
    b = generate_report(dict(reversed(findings.items())), anatomy, attention=att)
    assert [s.text for s in a] == [s.text for s in b] and a == b
    with pytest.raises(ValueError, match="unknown finding"):
        generate_report({"cancer": 0.5}, anatomy)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        generate_report({"nodule": 1.5}, anatomy)
    with pytest.raises(ValueError, match="2-D"):
        generate_report({"nodule": 0.5}, anatomy, attention={"nodule": np.zeros(4)})
