"""Simulated radiologists: determinism, reading order, attraction and misses, dictation."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from core.data.case import Annotation, GazeCase, ImageRef
from core.report.labeller import label_report
from core.synth import FindingSpec, PhantomConfig, generate_phantom
from core.synth.cases import NotReadable, nih_case, phantom_case
from core.synth.dictation import finding_sentence
from core.synth.readers import (
    DEFAULT_PANEL,
    FIRST_FIXATION_MEAN,
    CaseFinding,
    ReaderProfile,
    ReadingScene,
    ReportedFinding,
    read_case,
    resample_mask,
)
from core.vocabulary import PARENTS

CFG = PhantomConfig(height_px=256, width_px=256)


def _scene(ph):
    pc = phantom_case(ph)
    return ReadingScene(pc.anatomy, list(pc.findings), (pc.width_px, pc.height_px))


@pytest.fixture(scope="module")
def effusion_pair():
    """The same patient with and without a left pleural effusion (independent seed streams)."""
    spec = FindingSpec("pleural_effusion", severity=0.6, side="left")
    ab = generate_phantom(11, findings=[spec], config=CFG, view="PA")
    no = generate_phantom(11, findings=(), config=CFG, view="PA")
    return ab, no


def test_resample_mask_by_hand():
    m = np.zeros((4, 4), bool)
    m[0, 0] = True  # one of four pixels in the top-left cell
    m[2:4, 2:4] = True  # a whole cell
    assert resample_mask(m, (2, 2), "any").tolist() == [[True, False], [False, True]]
    assert resample_mask(m, (2, 2), "majority").tolist() == [[False, False], [False, True]]
    assert resample_mask(np.eye(2, dtype=bool), (4, 4)).sum() == 8  # nearest when growing


def test_profile_validation():
    with pytest.raises(ValueError, match="ABCDEF"):
        ReaderProfile("x", checklist="ABCDE")
    with pytest.raises(ValueError, match="skill"):
        ReaderProfile("x", skill=1.5)
    assert len({p.reader_id for p in DEFAULT_PANEL}) == 5
    assert len({(p.checklist, p.lungs) for p in DEFAULT_PANEL}) >= 4  # readers differ in order


def test_read_is_deterministic(effusion_pair):
    scene = _scene(effusion_pair[0])
    a = read_case(scene, None, DEFAULT_PANEL[0], 5)
    b = read_case(scene, None, DEFAULT_PANEL[0], 5)
    c = read_case(scene, None, DEFAULT_PANEL[0], 6)
    assert np.array_equal(a.scanpath.to_array(), b.scanpath.to_array())
    assert a.report == b.report and a.reported == b.reported
    assert not np.array_equal(a.scanpath.to_array()[:5], c.scanpath.to_array()[:5])


def test_global_look_then_reader_specific_checklist(effusion_pair):
    scene = _scene(effusion_pair[1])  # normal film: nothing interrupts the checklist
    firsts = []
    for profile in DEFAULT_PANEL:
        for seed in range(4):
            r = read_case(scene, None, profile, seed)
            arr = r.scanpath.to_array()
            firsts.append(arr[0, :2])
            assert r.phases[0] == "global"
            assert (arr[:, 2] < arr[0, 2] + 1.5).sum() >= 2  # a few fixations in the first 1.5 s
            stations = [s for s, p in zip(r.stations, r.phases, strict=True) if p == "search"]
            visited = list(dict.fromkeys(stations))
            planned = [rid for _, rid in profile.stations(False) if rid in visited]
            assert visited == planned  # the search follows the reader's own ABCDEF order
            assert all(0 <= f.x < 1 and 0 <= f.y < 1 and f.ppd_x > 0 for f in r.scanpath)
            starts = arr[:, 2]
            assert np.all(starts[1:] >= starts[:-1] + arr[:-1, 3])  # no overlapping fixations
    mean = np.mean(firsts, axis=0)
    assert (
        abs(mean[0] - FIRST_FIXATION_MEAN[0]) < 0.03
        and abs(mean[1] - FIRST_FIXATION_MEAN[1]) < 0.03
    )


def test_findings_draw_earlier_and_longer_fixations(effusion_pair):
    """Over 40 reads each: the effusion's area is fixated earlier and for longer than the same
    area of the same patient without it (margins: 1 s earlier, twice the dwell)."""
    ab, no = effusion_pair
    mask = ab.findings[0].mask
    out = {}
    for name, ph in (("abnormal", ab), ("normal", no)):
        scene = _scene(ph)
        first, dwell = [], []
        for seed in range(40):
            arr = read_case(scene, None, DEFAULT_PANEL[seed % 5], seed).scanpath.to_array()
            ii = np.clip((arr[:, 1] * 256).astype(int), 0, 255)
            jj = np.clip((arr[:, 0] * 256).astype(int), 0, 255)
            on = mask[ii, jj]
            end = arr[-1, 2] + arr[-1, 3]
            first.append(arr[np.argmax(on), 2] - arr[0, 2] if on.any() else end)
            dwell.append(arr[on, 3].sum())
        out[name] = (float(np.median(first)), float(np.mean(dwell)))
    assert out["abnormal"][0] < out["normal"][0] - 1.0, out
    assert out["abnormal"][1] > 2.0 * out["normal"][1], out


def test_low_conspicuity_findings_are_missed_more(effusion_pair):
    no = effusion_pair[1]
    pc = phantom_case(no)
    zone = pc.anatomy.regions["right_lower_zone"]
    gh, gw = pc.anatomy.grid_shape
    yy, xx = np.mgrid[0:gh, 0:gw]
    cy, cx = (zone.box[1] + zone.box[3]) / 2 * gh, (zone.box[0] + zone.box[2]) / 2 * gw
    nodule = (yy - cy) ** 2 + (xx - cx) ** 2 <= 3.0**2
    miss = {}
    for c in (0.1, 0.8):
        f = CaseFinding("nodule", nodule, c, 0.3, "right", "right_lower_zone", 10.0)
        scene = ReadingScene(pc.anatomy, [f], (256, 256))
        found = [
            read_case(scene, None, DEFAULT_PANEL[s % 5], s).outcomes[0].found for s in range(60)
        ]
        miss[c] = 1.0 - float(np.mean(found))
    assert miss[0.1] > miss[0.8] + 0.4, miss


def _expected_labels(reported):
    pos, unc = set(), set()
    for r in reported:
        (pos if r.certainty >= 4 else unc).add(r.id)
    for child, parent in PARENTS.items():
        if child in pos:
            pos.add(parent)
        elif child in unc:
            unc.add(parent)
    return pos, unc - pos


def _check_labelled(read):
    labels = label_report(read.report.text, derived=True)
    got_pos = {k for k, v in labels.items() if v == 1.0 and k != "no_finding"}
    got_unc = {k for k, v in labels.items() if v == 0.5}
    pos, unc = _expected_labels(read.reported)
    assert got_pos == pos, (read.report.text, read.reported)
    assert got_unc == unc, (read.report.text, read.reported)
    abnormal = {r.id for r in read.reported} - {"support_devices"}
    assert labels["no_finding"] == (0.0 if abnormal else 1.0)


def test_dictated_reports_are_labelled_back():
    n_reported = n_fp = 0
    for seed in range(25):
        scene = _scene(generate_phantom(300 + seed, config=CFG))
        for profile in DEFAULT_PANEL:
            r = read_case(scene, None, dataclasses.replace(profile, false_positive_rate=0.3), seed)
            _check_labelled(r)
            n_reported += len(r.reported)
            n_fp += sum(x.source < 0 for x in r.reported)
    assert n_reported > 60 and n_fp > 5  # the check covered findings and false positives


@pytest.mark.parametrize("style", ["full", "terse"])
def test_every_finding_wording_is_labelled_back(style):
    cases = [
        ("pleural_effusion", "bilateral", "", 0.5, {}),
        ("pleural_effusion", "", "costophrenic_angles", None, {}),
        ("pneumothorax", "right", "right_upper_zone", 0.2, {}),
        ("consolidation", "left", "left_lower_zone", 0.9, {}),
        ("lung_opacity", "right", "right_middle_zone", 0.1, {}),
        ("nodule", "left", "left_hilum", 0.2, {}),
        ("mass", "right", "right_upper_zone", 0.8, {}),
        ("atelectasis", "left", "left_lower_zone", 0.7, {"kind": "lobar"}),
        ("atelectasis", "right", "right_lower_zone", 0.2, {"kind": "plate"}),
        ("edema", "bilateral", "hila", 0.6, {"kerley_lines": 4}),
        ("cardiomegaly", "midline", "cardiac_silhouette", 0.9, {}),
        ("support_devices", "", "devices", 0.5, {"devices": "et_tube,central_line,ecg_leads"}),
        ("emphysema", "bilateral", "lungs", None, {}),
        ("fibrosis", "", "", None, {}),
        ("hiatal_hernia", "", "cardiac_silhouette", None, {}),
        ("pleural_thickening", "", "", None, {}),
        ("pneumonia", "bilateral", "", None, {}),
    ]
    for fid, side, loc, sev, details in cases:
        for certainty in (5, 3, 2):
            rep = ReportedFinding(fid, certainty, side, loc, (), 0, (), sev, 12.0, details)
            labels = label_report(finding_sentence(rep, style), derived=False)
            want = 1.0 if certainty >= 4 else 0.5
            assert labels.get(fid) == want, (finding_sentence(rep, style), labels)
            assert set(labels) == {fid}, (finding_sentence(rep, style), labels)


def test_words_follow_the_fixations_that_found_each_finding():
    lags = []
    for seed in range(12):
        scene = _scene(generate_phantom(700 + seed, config=CFG))
        for profile in DEFAULT_PANEL[:3]:
            r = read_case(scene, None, profile, seed)
            words = r.report.words
            assert words and words[-1].word == "."
            assert all(w.end_s >= w.start_s for w in words)
            assert all(b.start_s >= a.end_s - 1e-9 for a, b in zip(words, words[1:], strict=False))
            end = r.scanpath.fixations[-1].end_s
            assert words[-1].end_s <= end  # the reader looks until the dictation is over
            fix = r.scanpath.fixations
            for rep, start in zip(r.reported, r.sentence_starts, strict=True):
                if rep.found_by:
                    last = fix[max(rep.found_by)].end_s
                    assert start >= last + 0.3 - 1e-6  # eye-voice lag: speech after the look
                    lags.append(start - last)
    assert lags and float(np.median(lags)) < 3.0


def test_pooled_figures_near_published_ones():
    """Loose property check over ~60 reads (the realism report measures the real thing)."""
    dur, amp, n = [], [], []
    for seed in range(20):
        scene = _scene(generate_phantom(900 + seed, config=CFG))
        for profile in DEFAULT_PANEL[:3]:
            arr = read_case(scene, None, profile, seed).scanpath.to_array()
            dur.extend(arr[:, 3])
            amp.extend(np.hypot(*np.diff(arr[:, :2], axis=0).T))
            n.append(len(arr))
    assert 0.24 <= np.median(dur) <= 0.32 and 0.27 <= np.mean(dur) <= 0.37
    assert 0.11 <= np.median(amp) <= 0.22
    assert 35 <= np.mean(n) <= 60


def _nih_like_case():
    labels = {"Cardiomegaly", "Effusion", "Mass", "Nodule"}
    return GazeCase(
        case_id="00000001_000",
        dataset="nih",
        image=ImageRef("00000001_000", None, 256, 256),
        labels={},
        raw_labels={"finding_labels": tuple(sorted(labels))},
        annotations=(Annotation(0.20, 0.30, 0.26, 0.36, labels=("nodule",), source="NIH"),),
        meta={"original_pixel_spacing_mm": 0.143, "original_width_px": 2048, "view": "PA"},
    )


def test_real_findings_are_located_only_as_the_data_allow(effusion_pair):
    ph = effusion_pair[1]
    anatomy = phantom_case(ph).anatomy
    pc = nih_case(_nih_like_case(), ph.image, anatomy)
    by_id = {f.id: f for f in pc.findings}
    assert set(by_id) == {"cardiomegaly", "pleural_effusion", "mass", "nodule"}
    heart = resample_mask(anatomy.regions["cardiac_silhouette"].mask, (256, 256))
    assert np.array_equal(by_id["cardiomegaly"].mask, heart)
    cp = (
        anatomy.regions["right_costophrenic_angle"].mask
        | anatomy.regions["left_costophrenic_angle"].mask
    )
    assert np.array_equal(by_id["pleural_effusion"].mask, resample_mask(cp, (256, 256)))
    assert (
        by_id["pleural_effusion"].side == "" and by_id["pleural_effusion"].details["exact"] is False
    )
    assert by_id["mass"].mask is None  # no box: no invented location
    nod = by_id["nodule"]
    assert nod.mask.sum() == 17 * 16  # rows 76-92, columns 51-66 of the 256 px image
    ys, xs = np.nonzero(nod.mask)
    assert (xs.min(), ys.min()) == (int(0.20 * 256), int(0.30 * 256))
    assert nod.side == "right" and nod.location.startswith("right_")
    assert math.isclose(nod.size_mm, math.sqrt(0.06 * 256 * 0.06 * 256) * 0.143 * 2048 / 256)
    scene = ReadingScene(pc.anatomy, list(pc.findings), (256, 256))
    mass_reports = 0
    for seed in range(20):
        r = read_case(scene, None, DEFAULT_PANEL[seed % 5], seed)
        _check_labelled(r)
        for rep in r.reported:
            if rep.id == "mass":
                mass_reports += 1
                assert rep.found_by == () and rep.boxes == ()  # reported, no gaze, no ellipse
            if rep.id == "pleural_effusion":
                assert rep.boxes == () and rep.side == ""
        mass = next(o for o in r.outcomes if o.id == "mass")
        assert not mass.located and mass.first_fixation_on == -1 and mass.detect_fixation == -1
    assert mass_reports > 5
    low = dataclasses.replace(anatomy, confidence=0.3, reasons=("test",))
    with pytest.raises(NotReadable, match="confidence 0.30"):
        nih_case(_nih_like_case(), ph.image, low)


def test_phantom_findings_can_be_passed_directly(effusion_pair):
    ab = effusion_pair[0]
    pc = phantom_case(ab)
    a = read_case(pc.anatomy, ab.findings, DEFAULT_PANEL[1], 3, image_size_px=(256, 256))
    b = read_case(pc.anatomy, pc.findings, DEFAULT_PANEL[1], 3, image_size_px=(256, 256))
    assert np.array_equal(a.scanpath.to_array(), b.scanpath.to_array())
    assert a.report.text == b.report.text
