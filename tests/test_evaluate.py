import csv
import json
import math

import numpy as np
import pytest
from fixtures_datasets import gazesearch_record, write_gazesearch
from fixtures_evaluate import make_egd_tree, make_gazesearch_file, make_reflacx_tree

from core.cli import main
from core.data.case import GazeCase, ImageRef, Read
from core.errors import GazeScopeError
from core.eval import (
    HUMAN,
    SALIENCY_METRICS,
    SCANPATH_METRICS,
    EvaluationConfig,
    evaluate,
    image_seed,
    load_cases,
    scanpath_pair_metrics,
)
from core.gaze.scanpath import Scanpath
from core.models import Prediction, Predictor, create_predictor, list_predictors

FAST = EvaluationConfig(k=2, n_boot=500)
BASELINES = list_predictors(kind="baseline")


@pytest.fixture(scope="module")
def reflacx_root(tmp_path_factory):
    return make_reflacx_tree(tmp_path_factory.mktemp("reflacx"), n_images=6, n_readers=3)


@pytest.fixture(scope="module")
def reflacx_cases(reflacx_root):
    return load_cases("reflacx", reflacx_root)


@pytest.fixture(scope="module")
def baseline_result(reflacx_cases):
    return evaluate(reflacx_cases, [create_predictor(n) for n in BASELINES], FAST)


class Oracle(Predictor):
    """Returns one human's own scanpath (every sample) for each image."""

    name = "oracle"
    version = "test"
    capabilities = frozenset({"scanpath"})

    def __init__(self, cases, reader=0):
        self.paths = {c.image.image_id: c.reads[reader].scanpath for c in cases}

    def predict(self, request):
        sp = self.paths[request.image.image_id]
        return Prediction(request.image.image_id, scanpaths=[sp] * request.k)


# ---------------------------------------------------------------- the runner on REFLACX ---


def test_every_baseline_gets_every_gaze_metric_and_a_human_ceiling(baseline_result):
    r = baseline_result
    assert r.predictors == [*BASELINES, HUMAN]
    for p in r.predictors:
        for m in (*SCANPATH_METRICS, *SALIENCY_METRICS):
            row = r.get(p, m)
            assert row.n == 6 and math.isfinite(row.mean), (p, m)
            if p != HUMAN:
                assert row.lo <= row.mean <= row.hi, (p, m)
    # no findings/sentences from baselines: no classification or report rows
    assert {m for m in r.metrics()} == {*SCANPATH_METRICS, *SALIENCY_METRICS}
    assert r.protocol["n_images"] == 6 and "Human ceiling (6 image(s)" in r.protocol_text()
    assert "median human scanpath length" in r.protocol_text()


def test_readers_agree_more_than_chance_and_uniform_sits_at_chance(baseline_result):
    # the fixture's readers share hot spots: leave-one-reader-out must see that
    r = baseline_result
    assert r.get(HUMAN, "sAUC").lo > 0.6 and r.get(HUMAN, "NSS").lo > 1.0
    assert r.get(HUMAN, "ScanMatch").mean > r.get("uniform", "ScanMatch").mean + 0.1
    # a constant map: NSS 0, AUC 0.5, CC 0 exactly (conventions of core.metrics)
    assert r.get("uniform", "NSS").mean == 0.0
    assert r.get("uniform", "AUC-Judd").mean == 0.5 and r.get("uniform", "sAUC").mean == 0.5
    assert r.get("uniform", "CC").mean == 0.0


def test_the_whole_evaluation_is_deterministic(reflacx_cases, baseline_result):
    again = evaluate(reflacx_cases, [create_predictor(n) for n in BASELINES], FAST)
    assert again.rows == baseline_result.rows
    assert again.per_image == baseline_result.per_image
    # an image's seed depends on its id only, not on which other images are evaluated
    alone = evaluate(reflacx_cases[2:3], [create_predictor("centre-bias")], FAST)
    image_id = reflacx_cases[2].case_id
    assert (
        alone.per_image["centre-bias"]["MM"][image_id]
        == baseline_result.per_image["centre-bias"]["MM"][image_id]
    )
    assert image_seed(0, "a") == image_seed(0, "a") != image_seed(1, "a")


def test_oracle_scores_multimatch_one_against_its_human_and_beats_uniform(reflacx_cases):
    case = reflacx_cases[0]
    humans = case.scanpaths
    uniform = create_predictor("uniform", n_fixations=len(humans[0]))
    pairs = scanpath_pair_metrics([humans[0]], humans, frame=(1.0, 1.25))
    assert pairs["MM"][0, 0] == 1.0 and pairs["D-MM"][0, 0] == 1.0
    assert pairs["MM (simplified)"][0, 0] == 1.0 and pairs["ScanMatch"][0, 0] == 1.0
    assert pairs["ScanMatch (duration)"][0, 0] == 1.0 and pairs["DTW"][0, 0] == 0.0
    assert pairs["Frechet"][0, 0] == 0.0 and pairs["MedGaze IoU"][0, 0] == 1.0
    assert np.all(pairs["MM"][0, 1:] < 1.0)  # not against the other readers
    result = evaluate(reflacx_cases, [Oracle(reflacx_cases), uniform], FAST)
    for m in ("MM", "D-MM", "ScanMatch", "SequenceScore", "MedGaze IoU"):
        assert result.get("oracle", m).mean > result.get("uniform", m).mean, m
    assert result.get("oracle", "DTW").mean < result.get("uniform", "DTW").mean
    assert "saliency" not in {r.metric for r in result.rows if r.predictor == "oracle"}


def _square_case(image_id, paths, readers=None):
    image = ImageRef(image_id, None, 100, 100)
    reads = tuple(
        Read(f"{image_id}-{i}", (readers or [f"r{i}" for i in range(len(paths))])[i], sp)
        for i, sp in enumerate(paths)
    )
    return GazeCase(image_id, "test", image, reads)


def _path(xy, image_id="a"):
    xy = np.asarray(xy, dtype=float)
    n = len(xy)
    return Scanpath.from_arrays(
        xy[:, 0], xy[:, 1], np.arange(n) * 0.3, np.full(n, 0.3), image_id=image_id
    )


def test_aggregation_is_per_image_first_then_over_images():
    base = [(0.2, 0.2), (0.5, 0.2), (0.8, 0.2), (0.8, 0.5)]
    shifted = [(x, y + 0.1) for x, y in base]
    # image a: two humans, both exactly the prediction (Frechet 0, 0);
    # image b: one human, the prediction shifted down by 0.1 (Frechet 0.1).
    cases = [_square_case("a", [_path(base), _path(base)]), _square_case("b", [_path(base)])]

    class Fixed(Predictor):
        name = "fixed"
        capabilities = frozenset({"scanpath"})

        def predict(self, request):
            sp = _path(base if request.image.image_id == "a" else shifted)
            return Prediction(request.image.image_id, scanpaths=[sp] * request.k)

    r = evaluate(cases, [Fixed()], EvaluationConfig(k=3, n_boot=200))
    # mean over images (0 + 0.1) / 2, not over the 3 pairs (0.033)
    assert r.get("fixed", "Frechet").mean == pytest.approx(0.05)
    assert r.get("fixed", "Frechet").n == 2
    assert r.per_image["fixed"]["Frechet"] == pytest.approx({"a": 0.0, "b": 0.1})
    assert r.get(HUMAN, "Frechet").mean == 0.0 and r.get(HUMAN, "Frechet").n == 1


def test_same_reader_is_never_its_own_ceiling_and_short_scanpaths_are_counted():
    a = _path([(0.2, 0.2), (0.5, 0.2), (0.8, 0.2)])
    b = _path([(0.3, 0.6), (0.6, 0.7)])  # 2 fixations: MultiMatch NaN
    one_reader_twice = _square_case("x", [a, a], readers=["r1", "r1"])
    two_readers = _square_case("y", [a, b])
    r = evaluate([one_reader_twice, two_readers], [create_predictor("centre")], FAST)
    assert set(r.per_image[HUMAN]["MM"]) == {"y"}  # "x" has one reader: no ceiling
    assert math.isnan(r.per_image[HUMAN]["MM"]["y"]) and r.get(HUMAN, "MM").n == 0
    assert r.get(HUMAN, "ScanMatch").n == 1  # ScanMatch scores 2-fixation scanpaths
    notes = "\n".join(r.notes)
    assert "centre / MM: 2 of 8 comparisons NaN (a scanpath with fewer than 3 fixations)" in notes
    assert f"{HUMAN} / MM: 2 of 2 comparisons NaN" in notes and "1 image(s) left without" in notes


def test_classification_rows_for_a_predictor_with_findings(reflacx_cases):
    class Labels(Predictor):
        """Knows the case labels (plus a little noise): classification must score well."""

        name = "label-oracle"
        capabilities = frozenset({"findings"})

        def __init__(self, cases):
            self.labels = {c.image.image_id: c.labels for c in cases}

        def predict(self, request):
            rng = np.random.default_rng(request.seed)
            truth = self.labels[request.image.image_id]
            findings = {
                f: float(np.clip(v + rng.normal(0, 0.05), 0, 1))
                for f, v in truth.items()
                if f in ("pleural_effusion", "atelectasis")
            }
            return Prediction(request.image.image_id, findings=findings)

    r = evaluate(reflacx_cases, [Labels(reflacx_cases)], FAST)
    assert r.get("label-oracle", "AUC pleural_effusion").mean == 1.0
    assert r.get("label-oracle", "AUC macro").mean == 1.0
    assert r.get("label-oracle", "F1 micro").n == 6
    assert "MM" not in {row.metric for row in r.rows if row.predictor == "label-oracle"}


# ---------------------------------------------------------------- loading and splits ------


def test_split_and_limit(reflacx_root):
    test = load_cases("reflacx", reflacx_root, split="test")
    assert [c.split for c in test] == ["test", "test"]
    assert len(load_cases("reflacx", reflacx_root, split="val")) == 2  # matches "validate"
    assert len(load_cases("reflacx", reflacx_root, limit=4)) == 4
    with pytest.raises(GazeScopeError, match="splits present: 'test', 'train', 'validate'"):
        load_cases("reflacx", reflacx_root, split="holdout")


# ---------------------------------------------------------------- the command -------------


def test_evaluate_command_prints_protocol_table_and_writes_files(reflacx_root, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["evaluate", "--dataset", "reflacx", "--root", str(reflacx_root), "--baselines", "all"]
    assert main([*argv, "--k", "2", "--workers", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "GazeScope evaluation: dataset reflacx, 6 image(s)" in text
    header = next(line for line in text.splitlines() if line.startswith("metric"))
    assert header.split() == [
        "metric",
        "better",
        "abcdef",  # baselines in registry order (sorted names)
        "centre",
        "centre-bias",
        "uniform",
        "human",
        "(leave-one-reader-out)",
        "n",
    ]
    mm = next(line for line in text.splitlines() if line.startswith("MM "))
    assert mm.count("[") == 5 and mm.rstrip().endswith("6")
    data = json.loads((out / "evaluation.json").read_text())
    assert data["dataset"] == "reflacx" and data["predictors"][-1] == HUMAN
    rows = list(csv.DictReader((out / "evaluation.csv").open()))
    assert len(rows) == len(data["rows"]) == 5 * (len(SCANPATH_METRICS) + len(SALIENCY_METRICS))
    kl = next(r for r in rows if r["predictor"] == "uniform" and r["metric"] == "KL")
    assert kl["better"] == "lower" and kl["family"] == "saliency" and float(kl["mean"]) > 0


def test_evaluate_on_egd_single_reader_has_no_ceiling(tmp_path, capsys):
    root = make_egd_tree(tmp_path / "egd", n_images=3)
    argv = ["evaluate", "--dataset", "egd", "--root", str(root), "--baselines", "centre,uniform"]
    assert main([*argv, "--k", "2", "--workers", "1"]) == 0
    text = capsys.readouterr().out
    assert "Human ceiling: not available" in text and HUMAN not in text
    assert "NSS" in text and "3 image(s), 3 with gaze" in text


def test_evaluate_on_gazesearch_with_short_scanpaths(tmp_path, capsys):
    path = make_gazesearch_file(tmp_path / "gs.json", n_images=3, n_readers=2)
    records = json.loads(path.read_text())
    records.append(
        gazesearch_record("00000000-gs.jpg", 9, "Cardiomegaly", [10, 200], [10, 200], [0.2, 0.3])
    )
    write_gazesearch(path, records)
    assert (
        main(
            [
                "evaluate",
                "--dataset",
                "gazesearch",
                "--root",
                str(tmp_path),
                "--baselines",
                "all",
                "--k",
                "2",
                "--workers",
                "1",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert HUMAN in text and "fewer than 3 fixations" in text


def test_evaluate_on_nih_says_there_is_nothing_to_score(nih_dir, capsys):
    argv = ["evaluate", "--dataset", "nih", "--root", str(nih_dir), "--baselines", "all"]
    assert main([*argv, "--limit", "5"]) == 0
    text = capsys.readouterr().out
    assert "nih: no gaze recorded (5 image(s)): only classification and report rows apply" in text
    assert "Nothing to score" in text and "nothing to score" in text


def test_evaluate_command_errors_are_one_line(reflacx_root, capsys):
    base = ["evaluate", "--dataset", "reflacx", "--root", str(reflacx_root)]
    assert main(base) == 2
    assert "give --predictor NAME and/or --baselines all" in capsys.readouterr().err
    assert main([*base, "--predictor", "medgaze-xl"]) == 2
    assert "unknown predictor 'medgaze-xl'" in capsys.readouterr().err
    assert main([*base, "--baselines", "all", "--split", "holdout"]) == 2
    assert "no case in split 'holdout'" in capsys.readouterr().err


def test_workers_give_the_same_numbers(reflacx_cases, baseline_result):
    parallel = evaluate(
        reflacx_cases,
        [create_predictor(n) for n in BASELINES],
        EvaluationConfig(k=2, n_boot=500, workers=2),
    )
    assert parallel.rows == baseline_result.rows


def test_runner_benchmark_runs_quick():
    from core.bench import BenchContext, run_benchmarks

    results = run_benchmarks(BenchContext(quick=True, repeat=1), "evaluate.*")
    assert len(results) == 1 and results[0].value > 0 and "per image" in results[0].detail


def test_reader_ids_decide_who_is_paired_in_the_ceiling(reflacx_root):
    cases = load_cases("reflacx", reflacx_root, limit=1)
    ids = [r.read_id for r in cases[0].reads]
    same = load_cases("reflacx", reflacx_root, limit=1, reader_ids={i: "rad-1" for i in ids})
    assert [r.reader_id for r in same[0].reads] == ["rad-1"] * 3
    r = evaluate(same, [create_predictor("centre")], FAST)
    assert HUMAN not in r.predictors  # one reader read it three times: nobody to compare with
    r2 = evaluate(cases, [create_predictor("centre")], FAST)
    assert HUMAN in r2.predictors  # unknown ids: three readers


def test_report_rows_for_a_predictor_with_sentences():
    from core.data.case import Annotation, Report
    from core.metrics import rouge_ls
    from core.report import ReportSentence, SentenceEvidence

    texts = {
        "a": ("Small left pleural effusion.", "There is a left effusion. Heart size is normal."),
        "b": ("Lungs are clear.", "No acute cardiopulmonary process."),
    }
    box = (0.6, 0.6, 0.9, 0.9)
    cases = []
    for image_id, (t0, t1) in texts.items():
        path = _path([(0.2, 0.2), (0.5, 0.5), (0.7, 0.7)], image_id)
        ann = Annotation(*box, labels=("pleural_effusion",)) if image_id == "a" else None
        reads = (
            Read(f"{image_id}0", "r0", path, report=Report(t0), annotations=(ann,) if ann else ()),
            Read(f"{image_id}1", "r1", path, report=Report(t1)),
        )
        cases.append(GazeCase(image_id, "test", ImageRef(image_id, None, 100, 100), reads))

    class Writer(Predictor):
        name = "writer"
        capabilities = frozenset({"sentences"})

        def predict(self, request):
            i = request.image.image_id
            finding = "pleural_effusion" if i == "a" else None
            sentence = ReportSentence(
                texts[i][0],
                finding_id=finding,
                evidence=SentenceEvidence(region_box=box if finding else None),
            )
            return Prediction(i, sentences=[sentence])

    r = evaluate(cases, [Writer()], FAST)
    expected = [np.mean(rouge_ls(list(texts[i]), [texts[i][0]] * 2)) for i in ("a", "b")]
    assert r.get("writer", "ROUGE-L").mean == pytest.approx(np.mean(expected))
    assert r.per_image["writer"]["ROUGE-L"]["a"] == pytest.approx(expected[0])
    assert r.get("writer", "grounding box acc@0.5").mean == 1.0
    assert r.get("writer", "grounding box acc@0.5").n == 1  # "b" has no true box
    assert r.get("writer", "keyword recall").n == 1  # "b": no keyword in either reference
    assert r.get("writer", "label F1 micro").mean == 1.0  # both readers of "a" say effusion
    assert "MM" not in {row.metric for row in r.rows if row.predictor == "writer"}


def test_list_predictors_command(capsys):
    assert main(["evaluate", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list_predictors()
    kinds = {line.split()[0]: line.rsplit("<", 1)[1].split(">")[0] for line in lines}
    baselines = ["abcdef", "centre", "centre-bias", "uniform"]
    assert [n for n, k in kinds.items() if k == "baseline"] == baselines
    assert kinds.get("scanpath-tiny") == "scanpath"
    assert main(["evaluate", "--baselines", "all"]) == 2
    assert "--dataset and --root are required" in capsys.readouterr().err
