"""Tests of the synthetic chest radiograph (phantom) generator."""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pytest

from core.bench import BenchContext, registered
from core.cli import main
from core.synth import (
    ANATOMY_MASKS,
    SYNTH_FINDINGS,
    FindingSpec,
    PhantomConfig,
    cardiothoracic_ratio,
    generate_phantom,
    sample_findings,
)
from core.synth.realism import image_statistics
from core.synth.render import Tube, blur, render_tubes, resize
from core.vocabulary import FINDING_IDS

SMALL = PhantomConfig(height_px=256, width_px=256)
NO_TILT = PhantomConfig(tilt_deg=0.0)


def _centroid(mask: np.ndarray) -> tuple[float, float]:
    ii, jj = np.nonzero(mask)
    h, w = mask.shape
    return (jj.mean() + 0.5) / w, (ii.mean() + 0.5) / h


# ---- determinism, range, records -------------------------------------------------------------


def test_same_seed_gives_byte_identical_phantom():
    a = generate_phantom(11, config=SMALL)
    b = generate_phantom(11, config=SMALL)
    assert a.image.tobytes() == b.image.tobytes()
    assert a.finding_ids == b.finding_ids
    for k in ANATOMY_MASKS:
        assert np.array_equal(a.anatomy[k], b.anatomy[k])
    c = generate_phantom(12, config=SMALL)
    assert a.image.tobytes() != c.image.tobytes()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_image_is_float32_in_unit_range_with_all_masks(seed):
    ph = generate_phantom(seed, config=SMALL)
    assert ph.image.dtype == np.float32 and ph.image.shape == (256, 256)
    assert float(ph.image.min()) >= 0.0 and float(ph.image.max()) <= 1.0
    assert set(ph.anatomy) == set(ANATOMY_MASKS)
    for k, m in ph.anatomy.items():
        assert m.dtype == bool and m.shape == ph.image.shape, k
    # a radiograph, not a flat field: dark lungs, bright mediastinum
    lungs = ph.anatomy["right_lung"] | ph.anatomy["left_lung"]
    assert ph.image[lungs].mean() + 0.15 < ph.image[ph.anatomy["mediastinum"]].mean()


def test_to_radiograph_and_labels():
    ph = generate_phantom(5, findings=["nodule", "support_devices"], config=SMALL)
    rg = ph.to_radiograph()
    assert rg.image is ph.image and rg.spacing_mm == (ph.spacing_mm, ph.spacing_mm)
    labels = ph.labels
    assert set(labels) == set(FINDING_IDS)
    assert labels["nodule"] == 1.0 and labels["lung_lesion"] == 1.0  # parent implied
    assert labels["support_devices"] == 1.0 and labels["no_finding"] == 0.0
    assert labels["mass"] == 0.0 and math.isnan(labels["pneumonia"])
    normal = generate_phantom(5, findings=["support_devices"], config=SMALL)
    assert normal.labels["no_finding"] == 1.0  # devices are not pathology


def test_each_part_has_its_own_random_stream():
    # the patient (and so the normal anatomy) does not depend on which findings are drawn
    a = generate_phantom(21, findings=(), config=NO_TILT)
    b = generate_phantom(21, findings=["nodule"], config=NO_TILT)
    assert a.patient == b.patient
    assert np.array_equal(a.anatomy["right_lung"], b.anatomy["right_lung"])


# ---- anatomy ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed,view", [(0, "PA"), (1, "PA"), (2, "AP"), (3, "AP"), (4, "PA")])
def test_anatomy_masks_are_consistent(seed, view):
    ph = generate_phantom(seed, findings=(), config=SMALL, view=view)
    m = ph.anatomy
    body = m["body"]
    for k in ("right_lung", "left_lung", "heart", "trachea", "mediastinum"):
        assert m[k].any(), k
        assert (m[k] & ~body).sum() <= 0.01 * m[k].sum(), f"{k} outside the body"
    # patient's right lung on the image's left; heart between the lungs, a little to the left
    rx, ry = _centroid(m["right_lung"])
    lx, ly = _centroid(m["left_lung"])
    hx, hy = _centroid(m["heart"])
    assert rx < 0.5 < lx
    assert rx < hx < lx and hx > 0.5 - 0.02
    assert not (m["right_lung"] & m["left_lung"]).any()
    assert not ((m["right_lung"] | m["left_lung"]) & m["heart"]).any()
    # heart in the lower chest, trachea above it, gastric bubble under the left dome
    assert hy > max(ry, ly)
    assert _centroid(m["trachea"])[1] < hy
    gx, gy = _centroid(m["gastric_bubble"])
    assert gx > 0.5 and gy > ly
    # right dome higher than the left (smaller y), each under its lung
    rd, ld = ph.landmarks["right_dome"], ph.landmarks["left_dome"]
    assert rd[0] < 0.5 < ld[0] and rd[1] < ld[1]
    assert _centroid(m["right_hemidiaphragm"])[0] < 0.5 < _centroid(m["left_hemidiaphragm"])[0]


def test_ap_view_magnifies_the_heart():
    pa = [generate_phantom(s, findings=(), config=SMALL, view="PA").ctr for s in range(6)]
    ap = [generate_phantom(s, findings=(), config=SMALL, view="AP").ctr for s in range(6)]
    assert np.mean(ap) > np.mean(pa) + 0.02
    assert max(pa) < 0.5  # normal PA hearts are within the usual limit


# ---- cardiothoracic ratio ---------------------------------------------------------------------


def test_cardiothoracic_ratio_on_hand_made_masks():
    heart = np.zeros((20, 40), bool)
    heart[10:15, 15:25] = True  # 10 wide
    heart[12, 14] = True  # widest extent now 11 (columns 14..24)
    right = np.zeros_like(heart)
    left = np.zeros_like(heart)
    right[2:18, 4:14] = True
    left[2:18, 26:36] = True
    left[9, 36:38] = True  # widest thorax row: columns 4..37 -> 34
    ctr, (card, thor) = cardiothoracic_ratio(heart, right, left)
    assert ctr == pytest.approx(11 / 34)
    assert card[0][0] == pytest.approx(14 / 40) and card[1][0] == pytest.approx(25 / 40)
    assert thor[0][1] == pytest.approx(9.5 / 20)
    assert math.isnan(cardiothoracic_ratio(np.zeros_like(heart), right, left)[0])


def _ctr_by_hand(ph) -> float:
    heart, r, lf = ph.anatomy["heart"], ph.anatomy["right_lung"], ph.anatomy["left_lung"]
    cols = np.nonzero(heart.any(axis=0))[0]
    best = 0
    for i in range(heart.shape[0]):
        rc, lc = np.nonzero(r[i])[0], np.nonzero(lf[i])[0]
        if rc.size and lc.size:
            best = max(best, lc.max() - rc.min() + 1)
    return (cols.max() - cols.min() + 1) / best


@pytest.mark.parametrize("seed", [3, 8])
def test_cardiomegaly_raises_the_ctr_as_specified(seed):
    normal = generate_phantom(seed, findings=(), config=NO_TILT, view="PA")
    ph = generate_phantom(
        seed, findings=[FindingSpec("cardiomegaly", severity=0.6)], config=NO_TILT, view="PA"
    )
    assert ph.ctr == pytest.approx(_ctr_by_hand(ph), abs=1e-9)
    assert ph.ctr > normal.ctr + 0.08
    assert ph.ctr == pytest.approx(0.52 + 0.2 * 0.6, abs=0.03)  # PA target of the severity
    f = ph.finding("cardiomegaly")
    assert f.details["ctr"] == pytest.approx(ph.ctr, abs=1e-3)
    assert np.array_equal(f.mask, ph.anatomy["heart"])


# ---- findings: location -----------------------------------------------------------------------


@pytest.mark.parametrize("side", ["right", "left"])
def test_effusion_sits_at_the_lung_base_on_its_side(side):
    ph = generate_phantom(
        4, findings=[FindingSpec("pleural_effusion", severity=0.5, side=side)], config=SMALL
    )
    f = ph.finding("pleural_effusion")
    lung = ph.anatomy[f"{side}_lung"]
    fx, fy = _centroid(f.mask)
    lx, ly = _centroid(lung)
    rows = np.nonzero(lung.any(axis=1))[0]
    assert (fx < 0.5) == (side == "right")
    assert fy > ly and fy > (rows[0] + 0.6 * (rows[-1] - rows[0])) / lung.shape[0]
    assert f.side == side and f.location == f"{side}_costophrenic_angle"
    assert f"{side}_lower_zone" in f.regions


@pytest.mark.parametrize("side", ["right", "left"])
def test_pneumothorax_is_apical_and_lateral(side):
    ph = generate_phantom(
        6, findings=[FindingSpec("pneumothorax", severity=0.7, side=side)], config=SMALL
    )
    f = ph.finding("pneumothorax")
    lung = ph.anatomy[f"{side}_lung"]
    fx, fy = _centroid(f.mask)
    lx, ly = _centroid(lung)
    assert fy < ly  # upper part of the lung
    assert abs(fx - 0.5) > abs(lx - 0.5)  # lateral to the lung's centre
    assert (fx < 0.5) == (side == "right")


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_nodule_lies_inside_a_lung(seed):
    ph = generate_phantom(seed, findings=["nodule"], config=SMALL)
    f = ph.finding("nodule")
    lungs = ph.anatomy["right_lung"] | ph.anatomy["left_lung"]
    assert f.mask.any()
    assert (f.mask & lungs).sum() >= 0.95 * f.mask.sum()
    assert f.location.startswith(f.side) and f.location.endswith("_zone")


def test_zone_and_side_are_honoured():
    ph = generate_phantom(
        9, findings=[FindingSpec("consolidation", 0.6, side="left", zone="upper")], config=SMALL
    )
    f = ph.finding("consolidation")
    assert f.side == "left" and f.location == "left_upper_zone"
    assert _centroid(f.mask)[0] > 0.5


# ---- findings: effect on the image ------------------------------------------------------------


@pytest.mark.parametrize(
    "finding,sign",
    [
        ("pleural_effusion", +1),
        ("consolidation", +1),
        ("mass", +1),
        ("edema", +1),
        ("pneumothorax", -1),
    ],
)
def test_findings_change_the_image_inside_their_mask(finding, sign):
    base = generate_phantom(13, findings=(), config=NO_TILT)
    ph = generate_phantom(13, findings=[FindingSpec(finding, severity=0.8)], config=NO_TILT)
    f = ph.finding(finding)
    diff = float(ph.image[f.mask].mean() - base.image[f.mask].mean())
    assert sign * diff > 0.02, diff
    assert sign * f.contrast > 0
    outside = ~blur(f.mask.astype(np.float32), 12.0).astype(bool) & ph.anatomy["body"]
    assert abs(float(ph.image[outside].mean() - base.image[outside].mean())) < abs(diff) / 3


def test_pneumothorax_removes_lung_markings():
    from dataclasses import replace

    from core.synth.anatomy_model import Grid, build_anatomy, sample_patient
    from core.synth.findings import apply_finding, resolve_specs
    from core.synth.phantom import line_integral

    rng = np.random.default_rng(0)
    b = build_anatomy(Grid(256, 256), sample_patient(rng, NO_TILT, "PA"), rng)
    sp = resolve_specs([FindingSpec("pneumothorax", 0.9, side="right")], seed=0)[0]
    e = apply_finding(b, sp, seed=0)
    m = e.mask
    assert m.any() and float(b.lung_detail_cm[m].std()) > 0  # markings were there
    bare = replace(b, lung_detail_cm=np.zeros_like(b.lung_detail_cm))
    # lateral to the pleural line the image no longer depends on vessels and texture ...
    assert np.allclose(line_integral(b, [e])[m], line_integral(bare, [e])[m])
    # ... while the rest of the lung still does
    lung = b.masks["right_lung"] & ~m
    assert not np.allclose(line_integral(b, [e])[lung], line_integral(bare, [e])[lung])


@pytest.mark.parametrize(
    "finding", ["nodule", "pleural_effusion", "consolidation", "pneumothorax", "mass", "edema"]
)
def test_conspicuity_grows_with_severity(finding):
    vals = []
    for sev in (0.1, 0.5, 0.95):
        ph = generate_phantom(17, findings=[FindingSpec(finding, severity=sev)], config=SMALL)
        vals.append(ph.finding(finding).conspicuity)
    assert 0.0 <= vals[0] < vals[1] <= vals[2] <= 1.0, vals
    assert vals[2] > 0.5


def test_every_finding_is_generated_with_a_valid_record():
    for i, fid in enumerate(SYNTH_FINDINGS):
        ph = generate_phantom(40 + i, findings=[fid], config=SMALL)
        f = ph.finding(fid)
        assert f is not None and f.id in FINDING_IDS
        assert f.mask.shape == ph.image.shape and f.mask.any(), fid
        assert 0.0 <= f.severity <= 1.0 and 0.0 <= f.conspicuity <= 1.0
        x0, y0, x1, y1 = f.box
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
        assert x0 <= f.centroid[0] <= x1 and y0 <= f.centroid[1] <= y1


@pytest.mark.parametrize("finding", [f for f in SYNTH_FINDINGS if f != "support_devices"])
def test_severity_extremes_give_a_mask_and_ordered_conspicuity(finding):
    cfg = PhantomConfig(height_px=128, width_px=128)
    lo = generate_phantom(2, findings=[FindingSpec(finding, severity=0.0)], config=cfg).finding(
        finding
    )
    hi = generate_phantom(2, findings=[FindingSpec(finding, severity=1.0)], config=cfg).finding(
        finding
    )
    assert lo.mask.any() and hi.mask.any()
    assert lo.conspicuity <= hi.conspicuity


def test_bad_finding_specs_raise_value_error():
    with pytest.raises(ValueError, match="cannot be synthesised"):
        FindingSpec("fibrosis")
    with pytest.raises(ValueError, match="severity"):
        FindingSpec("nodule", severity=1.5)
    with pytest.raises(ValueError, match="bilateral"):
        FindingSpec("nodule", side="bilateral")
    with pytest.raises(ValueError, match="twice"):
        generate_phantom(0, findings=["nodule", "nodule"], config=SMALL)
    with pytest.raises(ValueError, match="view"):
        generate_phantom(0, findings=(), config=SMALL, view="LAT")
    with pytest.raises(ValueError):
        PhantomConfig(height_px=32)


# ---- case mix ---------------------------------------------------------------------------------


def test_sample_findings_case_mix():
    rng = np.random.default_rng(0)
    n = 3000
    cases = [sample_findings(rng, view="PA") for _ in range(n)]
    pathology = [[s for s in c if s.id != "support_devices"] for c in cases]
    normal = sum(1 for p in pathology if not p) / n
    assert normal == pytest.approx(0.30, abs=0.03)
    counts = Counter(len(p) for p in pathology if p)
    assert set(counts) <= {1, 2, 3, 4}  # 4 only when edema brings cardiomegaly along
    assert counts[1] > counts[2] > counts[3]
    devices = sum(any(s.id == "support_devices" for s in c) for c in cases) / n
    assert devices == pytest.approx(0.12, abs=0.025)
    sev = [s.severity for p in pathology for s in p]
    assert min(sev) >= 0.05 and max(sev) <= 1.0 and 0.4 < float(np.mean(sev)) < 0.65
    ap = [sample_findings(rng, view="AP") for _ in range(1000)]
    assert sum(any(s.id == "support_devices" for s in c) for c in ap) / 1000 > 0.45
    only = [sample_findings(rng, {"nodule": 1.0}) for _ in range(200)]
    assert {s.id for c in only for s in c} <= {"nodule", "support_devices"}


def test_default_generation_uses_the_case_mix():
    ids = Counter(
        f.id
        for s in range(30)
        for f in generate_phantom(s, config=PhantomConfig(height_px=128, width_px=128)).findings
    )
    assert len(ids) >= 4


# ---- raster helpers and statistics ------------------------------------------------------------


def test_resize_and_blur_preserve_constants_and_mean():
    a = np.full((10, 14), 3.0, np.float32)
    assert np.allclose(resize(a, (40, 33)), 3.0)
    rng = np.random.default_rng(0)
    x = rng.random((64, 64)).astype(np.float32)
    for sigma in (1.0, 6.0):
        y = blur(x, sigma)
        assert y.shape == x.shape and abs(float(y.mean() - x.mean())) < 0.01
        assert y.std() < x.std()


def test_tube_chord_profile():
    pts = np.stack([np.linspace(10, 90, 200), np.full(200, 50.0)], 1)
    t, label = render_tubes((100, 100), [Tube(pts, 6.0)])
    # solid cylinder of radius 6: chord 2 sqrt(36 - d^2) across the axis
    col = t[:, 50]
    assert col.max() == pytest.approx(2 * math.sqrt(36 - 0.25), rel=0.02)
    assert col[50 + 7] == 0 and label[50, 50] == 0 and label[10, 50] == -1
    hollow, _ = render_tubes((100, 100), [Tube(pts, 6.0, cortex_px=1.5, core=0.0)])
    assert hollow[50, 50] < hollow[55, 50]  # the wall is brightest near the edge


def test_image_statistics_of_a_hand_made_image():
    img = np.zeros((100, 100), np.float32)
    img[:, 40:60] = 0.75  # a bright central column
    s = image_statistics(img)
    assert s["mean"] == pytest.approx(0.15)
    assert s["mediastinum_box_mean"] == pytest.approx(0.75)
    assert s["lung_box_mean"] == pytest.approx(0.0)
    assert s["hist_07"] == pytest.approx(0.2) and s["hist_00"] == pytest.approx(0.8)


# ---- command line and benchmark ---------------------------------------------------------------


def test_phantom_command_writes_image_overlay_and_truth(tmp_path, capsys):
    out, masks, truth = tmp_path / "img.png", tmp_path / "masks.png", tmp_path / "t.json"
    rc = main(
        [
            "phantom",
            "--seed",
            "3",
            "--findings",
            "cardiomegaly,pleural_effusion",
            "--size",
            "128",
            "--out",
            str(out),
            "--masks",
            str(masks),
            "--json",
            str(truth),
        ]
    )
    assert rc == 0
    from PIL import Image

    with Image.open(out) as im:
        assert im.size == (128, 128) and im.mode == "L"
    with Image.open(masks) as im:
        assert im.mode == "RGB"
    data = json.loads(truth.read_text())
    assert {f["id"] for f in data["findings"]} == {"cardiomegaly", "pleural_effusion"}
    assert "CTR" in capsys.readouterr().out


def test_phantom_command_rejects_unknown_findings(tmp_path, capsys):
    rc = main(["phantom", "--findings", "dragon", "--out", str(tmp_path / "x.png")])
    assert rc == 2
    assert "dragon" in capsys.readouterr().err


def test_phantom_command_compares_with_real_images(tmp_path, capsys):
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray((rng.random((64, 64)) * 255).astype(np.uint8)).save(tmp_path / f"r{i}.png")
    assert main(["phantom", "--compare-real", str(tmp_path), "--n", "2", "--size", "128"]) == 0
    out = capsys.readouterr().out
    assert "lung_box_mean" in out and "2 phantoms" in out


def test_load_gray_names_a_broken_file(tmp_path):
    from core.errors import NotAnImageError
    from core.synth.realism import load_gray

    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(NotAnImageError, match="notes.png"):
        load_gray(bad)


def test_synth_benchmark_runs():
    results = registered()["synth.generate_phantom"](BenchContext(quick=True, repeat=1))
    assert results and all(r.value > 0 for r in results)
