import json

import numpy as np
import pytest
from fixtures_evaluate import make_reflacx_tree, simulated_reads

from core.cli import main
from core.data.case import ImageRef
from core.errors import GazeDataError, GazeScopeError
from core.eval import HUMAN, EvaluationConfig, grid_of, load_cases, score_scanpaths
from core.eval.scanpath_files import (
    load_saliency_map,
    read_scanpath_file,
    write_scanpath_csv,
    write_scanpath_json,
)
from core.gaze.heatmap import scanpath_heatmap
from core.gaze.published import DEGREE_OF_HEIGHT
from core.gaze.scanpath import Scanpath

SIZES = {"img-a": (2000, 2500), "img-b": (1800, 1500)}
PERFECT = {
    "MM": 1.0,
    "D-MM": 1.0,
    "MM (simplified)": 1.0,
    "D-MM (simplified)": 1.0,
    "ScanMatch": 1.0,
    "ScanMatch (duration)": 1.0,
    "SequenceScore": 1.0,
    "DTW": 0.0,
    "Frechet": 0.0,
    "MedGaze IoU": 1.0,
    "MedGaze CC": 1.0,
}


def _humans(n_readers=2, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for image_id in SIZES:
        paths = []
        for r, a in enumerate(simulated_reads(rng, n_readers)):
            starts = np.concatenate([[0.0], np.cumsum(a[:-1, 2] + 0.02)])
            paths.append(
                Scanpath.from_arrays(a[:, 0], a[:, 1], starts, a[:, 2], reader_id=f"rad{r + 1}")
            )
        out[image_id] = paths
    return out


def _assert_perfect(result, name="prediction"):
    for metric, value in PERFECT.items():
        row = result.get(name, metric)
        assert row.mean == pytest.approx(value, abs=1e-12), metric
        assert row.n == len(SIZES)


# ---------------------------------------------------------------- round trips -------------


@pytest.mark.parametrize("units", ["normalised", "pixels"])
def test_a_human_scanpath_as_the_prediction_scores_perfectly_csv(tmp_path, units):
    humans = _humans()
    gt = write_scanpath_csv(
        tmp_path / "gt.csv",
        {i: p[:1] for i, p in humans.items()},
        kind="reader",
        units=units,
        sizes=SIZES,
    )
    pred = write_scanpath_csv(
        tmp_path / "pred.csv",
        {i: p[:1] for i, p in humans.items()},
        units=units,
        sizes=SIZES if units == "pixels" else None,
    )
    truth, guess = read_scanpath_file(gt), read_scanpath_file(pred)
    assert truth.kind == "reader" and guess.kind == "sample" and truth.sizes == SIZES
    for image_id, paths in humans.items():
        np.testing.assert_allclose(
            guess.scanpaths[image_id][0].to_array(), paths[0].to_array(), atol=1e-12
        )
        assert truth.scanpaths[image_id][0].reader_id == "rad1"
    result = score_scanpaths(guess.scanpaths, truth.scanpaths, sizes=truth.sizes)
    _assert_perfect(result)
    assert result.predictors == ["prediction"]  # one reader per image: no ceiling


def test_json_round_trip_with_the_human_heatmap_as_saliency(tmp_path):
    humans = _humans(n_readers=1)
    files = {}
    for image_id, paths in humans.items():
        w, h = SIZES[image_id]
        grid = grid_of(ImageRef(image_id, None, w, h), 128)
        heat = scanpath_heatmap(paths[0], grid, image_size_px=(w, h), sigma_px=DEGREE_OF_HEIGHT * h)
        np.save(tmp_path / f"{image_id}.npy", heat * 7.0)  # any scale: divided by its sum
        files[image_id] = f"{image_id}.npy"
    gt = write_scanpath_json(tmp_path / "gt.json", humans, kind="reader", sizes=SIZES)
    pred = write_scanpath_json(tmp_path / "pred.json", humans, saliency_files=files)
    guess = read_scanpath_file(pred)
    assert set(guess.saliency) == set(SIZES)
    result = score_scanpaths(
        guess.scanpaths, read_scanpath_file(gt).scanpaths, saliency=guess.saliency, sizes=SIZES
    )
    _assert_perfect(result)
    assert result.get("prediction", "CC").mean == pytest.approx(1.0)
    assert result.get("prediction", "SIM").mean == pytest.approx(1.0)
    assert result.get("prediction", "KL").mean == pytest.approx(0.0, abs=1e-9)


def test_score_against_a_dataset_and_the_ceiling(tmp_path, capsys):
    root = make_reflacx_tree(tmp_path / "reflacx", n_images=3, n_readers=3)
    cases = load_cases("reflacx", root)
    first = {c.image.image_id: [c.reads[0].scanpath] for c in cases}
    pred = write_scanpath_csv(tmp_path / "pred.csv", first)
    out = tmp_path / "out"
    argv = ["score", "--pred", str(pred), "--dataset", "reflacx", "--root", str(root)]
    assert main([*argv, "--name", "reader-1", "--workers", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "reader-1" in text and HUMAN in text and "k from the prediction file" in text
    data = json.loads((out / "evaluation.json").read_text())
    mm = {r["predictor"]: r["mean"] for r in data["rows"] if r["metric"] == "MM"}
    # reader 1 against all three reads (itself included) beats readers against the others
    assert mm["reader-1"] > mm[HUMAN]


def test_score_command_with_gt_file(tmp_path, capsys):
    humans = _humans()
    gt = write_scanpath_csv(tmp_path / "gt.csv", humans, kind="reader", sizes=SIZES)
    pred = write_scanpath_csv(tmp_path / "pred.csv", {"img-a": humans["img-a"][:1]})
    assert main(["score", "--pred", str(pred), "--gt", str(gt), "--workers", "1"]) == 0
    text = capsys.readouterr().out
    assert "1 ground-truth image(s) without a prediction, not scored" in text
    assert HUMAN in text and "1 image(s)" in text


def test_api_rejects_predictions_that_match_no_image():
    with pytest.raises(GazeScopeError, match="no image id of the predictions"):
        score_scanpaths({"zzz": _humans()["img-a"]}, _humans(), config=EvaluationConfig())


# ---------------------------------------------------------------- malformed files ---------

HEADER = "image_id,sample,fixation,x,y,duration_s"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "image_id,sample,fixation,x,y\na,0,0,0.5,0.5\n",
            "line 1: missing column(s) ['duration_s']",
        ),
        (f"{HEADER}\na,0,0,0.5,abc,0.2\n", "line 2, column 'y': expected a number, got 'abc'"),
        (f"{HEADER}\na,0,0,0.5,0.5,0.2\na,0,1,0.5,0.5,-0.1\n", "line 3, column 'duration_s'"),
        (f"{HEADER}\na,0,0,1.5,0.5,0.2\n", "line 2, column 'x': position (1.5, 0.5)"),
        (f"{HEADER}\na,0,0,0.5,0.5,0.2\na,0,0,0.4,0.5,0.2\n", "line 3, column 'fixation'"),
        (f"{HEADER}\na,-1,0,0.5,0.5,0.2\n", "line 2, column 'sample': must be >= 0"),
        (f"{HEADER}\na,0,0.5,0.5,0.5,0.2\n", "line 2, column 'fixation': expected an integer"),
        ("image_id,sample,reader,fixation,x,y,duration_s\n", "exactly one of the columns"),
        ("image_id,sample,fixation,x_px,y_px,duration_s\n", "need width_px and height_px"),
        (
            "image_id,sample,fixation,x_px,y_px,duration_s,width_px,height_px\n"
            "a,0,0,10,10,0.2,100,100\na,0,1,10,10,0.2,100,90\n",
            "line 3, column 'width_px': image a was (100, 100) px",
        ),
        (f"{HEADER}\na,0,0,0.5,0.5\n", "line 2: expected 6 fields, got 5"),
    ],
)
def test_malformed_csv_names_file_line_and_column(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(GazeDataError) as err:
        read_scanpath_file(path)
    assert str(err.value).startswith("bad.csv: ") and message in str(err.value)


def _json_file(images, units="normalised"):
    return {"units": units, "images": images}


GOOD = {"sample": 0, "x": [0.1, 0.2], "y": [0.3, 0.4], "duration_s": [0.2, 0.3]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "top level: expected an object"),
        (_json_file([], units="cm"), "units: must be 'normalised' or 'pixels'"),
        (_json_file([{"scanpaths": []}]), "images[0].image_id: expected a non-empty string"),
        (
            _json_file([{"image_id": "a", "scanpaths": [{**GOOD, "x": [0.1, "no"]}]}]),
            "images[0].scanpaths[0].x[1]: expected a finite number, got 'no'",
        ),
        (
            _json_file([{"image_id": "a", "scanpaths": [{**GOOD, "y": [0.3]}]}]),
            "images[0].scanpaths[0]: ['y'] do not have as many values as x (2)",
        ),
        (
            _json_file([{"image_id": "a", "scanpaths": [GOOD, {**GOOD, "sample": 0}]}]),
            "images[0].scanpaths[1]: sample '0' given twice",
        ),
        (
            _json_file([{"image_id": "a", "scanpaths": [GOOD]}], units="pixels"),
            "images[0]: width_px and height_px must be positive integers",
        ),
        (
            _json_file([{"image_id": "a", "scanpaths": [{**GOOD, "duration_s": [0.2, -1]}]}]),
            "images[0].scanpaths[0].duration_s[1]: duration must be >= 0 s",
        ),
        (
            _json_file([{"image_id": "a", "scanpaths": [GOOD], "saliency": "missing.npy"}]),
            "missing.npy: saliency map file not found",
        ),
    ],
)
def test_malformed_json_names_file_and_path(tmp_path, data, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(GazeDataError) as err:
        read_scanpath_file(path)
    assert message in str(err.value)


def test_bad_saliency_maps(tmp_path):
    np.save(tmp_path / "flat.npy", np.zeros(5))
    np.save(tmp_path / "neg.npy", -np.ones((3, 3)))
    (tmp_path / "text.npy").write_text("not numpy")
    for name, message in [
        ("flat.npy", "must be a 2-D array"),
        ("neg.npy", "non-negative"),
        ("text.npy", "not a .npy array"),
    ]:
        with pytest.raises(GazeDataError, match=message):
            load_saliency_map(tmp_path / name)


def test_score_command_bad_file_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "pred.csv"
    bad.write_text(f"{HEADER}\nimg-a,0,0,0.5,oops,0.2\n")
    gt = write_scanpath_csv(tmp_path / "gt.csv", _humans(), kind="reader", sizes=SIZES)
    assert main(["score", "--pred", str(bad), "--gt", str(gt)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "gazescope score: error: pred.csv: line 2, column 'y': expected a number, got 'oops'"
    )
    assert main(["score", "--pred", str(gt), "--gt", str(gt)]) == 2
    assert "predictions need a 'sample' column" in capsys.readouterr().err


def test_saliency_on_another_grid_is_resized_and_a_constant_map_scores_chance():
    humans = _humans()
    flat = {i: np.ones((224, 224)) for i in humans}
    r = score_scanpaths({i: p[:1] for i, p in humans.items()}, humans, saliency=flat, sizes=SIZES)
    assert r.get("prediction", "NSS").mean == 0.0 and r.get("prediction", "CC").mean == 0.0
    assert r.get("prediction", "AUC-Judd").mean == 0.5
