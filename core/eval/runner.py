"""The evaluation runner: predictors against human readers, one protocol, one table.

For each image of a dataset and each predictor, the predictor is asked for ``k`` seeded
scanpath samples and a saliency map (:mod:`core.models`), and every applicable metric of
:mod:`core.metrics` is computed against the image's human reads:

- **Scanpath** (``k`` samples x every human scanpath of the image): MultiMatch ``MM`` and
  ``D-MM`` with and without simplification, the five MultiMatch dimensions, ScanMatch with and
  without duration, Sequence Score over mean-shift clusters of the image's human fixations,
  DTW and discrete Frechet distance, and MedGaze's binary-map IoU/CC.
- **Saliency** (the predicted map vs the humans): NSS and AUC-Judd at the pooled human
  fixations, shuffled AUC with the other images' fixations as negatives, CC / KL / SIM against
  the human heatmap (REFLACX recipe: 1-degree Gaussians, duration-weighted).
- **Classification** when the predictor gives findings and the case has labels; **report
  text** when it gives sentences and the case has reports.

Aggregation: per image first (mean over its pairs / readers), then the mean over images with
a seeded 95 % percentile bootstrap interval over images (:func:`core.metrics.bootstrap_ci`).
Where a dataset has several readers per image, a **human ceiling** row scores each reader
against the other readers of the same image. Everything that was skipped is counted and
said why in ``EvaluationResult.notes``. ``core/eval/EVALUATION.md`` documents the protocol
and how to read the table.

Steps of :func:`evaluate`: collect the human gaze of every image (:func:`_human_gaze`), ask
each predictor for its prediction (:func:`_predict_case`), score saliency maps and the
saliency ceiling per image (:func:`_score_saliency`), queue the scanpath scoring and run it,
possibly in worker processes (:func:`_score_scanpaths`), then aggregate per-image values into
table rows with bootstrap intervals (:func:`_gaze_rows`) and add the classification and report
rows (:mod:`core.eval.findings`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from core.data.case import GazeCase, Read
from core.errors import GazeScopeError
from core.eval.ceiling import saliency_ceiling, scanpath_ceiling
from core.eval.findings import classification_rows, report_rows
from core.eval.protocol import (
    HUMAN,
    METRICS,
    SALIENCY_METRICS,
    SCANPATH_METRICS,
    EvaluationConfig,
    frame_of,
    grid_of,
    image_seed,
    protocol_record,
)
from core.eval.results import Collector, EvaluationResult, MetricRow
from core.eval.saliency import resize_density, saliency_scores, saliency_truth
from core.eval.scanpath import scanpath_pair_metrics, summarise
from core.gaze.scanpath import Scanpath
from core.metrics import bootstrap_ci, fit_fixation_clusters
from core.models import Prediction, PredictionRequest, Predictor

__all__ = ["evaluate"]


def _reader_keys(reads: Sequence[Read]) -> list[str]:
    """Same non-empty ``reader_id`` = same reader; an unknown id (REFLACX) is its own reader."""
    return [r.reader_id if r.reader_id else f"#read:{r.read_id or i}" for i, r in enumerate(reads)]


def _median_length(humans: Sequence[Scanpath]) -> int:
    return max(1, int(math.floor(float(np.median([len(h) for h in humans])) + 0.5)))


@dataclass
class _HumanGaze:
    """The human scanpaths and reader keys of every image with gaze, and all their fixations
    pooled (the sAUC negatives of an image are the fixations of the others)."""

    cases: list[GazeCase]  # the images with gaze
    humans: dict[str, list[Scanpath]]  # case id -> scanpaths
    readers: dict[str, list[str]]  # case id -> reader key of each scanpath
    pooled_xy: np.ndarray  # (N, 2)
    owner: np.ndarray  # (N,) index into cases of each pooled fixation

    def other_xy(self, case_id: str) -> np.ndarray:
        index = [c.case_id for c in self.cases].index(case_id)
        return self.pooled_xy[self.owner != index]


def _human_gaze(cases: Sequence[GazeCase], notes: list[str]) -> _HumanGaze:
    gaze_cases, humans_of, readers_of = [], {}, {}
    n_empty_reads = 0
    for case in cases:
        reads = [r for r in case.reads if len(r.scanpath) > 0]
        n_empty_reads += len(case.reads) - len(reads)
        if reads:
            gaze_cases.append(case)
            humans_of[case.case_id] = [r.scanpath for r in reads]
            readers_of[case.case_id] = _reader_keys(reads)
    if n_empty_reads:
        notes.append(f"{n_empty_reads} read(s) without any on-image fixation left out")
    if len(gaze_cases) < len(cases):
        notes.append(
            f"{len(cases) - len(gaze_cases)} of {len(cases)} image(s) have no gaze: "
            "no scanpath or saliency metric for them"
        )
    all_xy = [np.concatenate([h.xy for h in humans_of[c.case_id]]) for c in gaze_cases]
    owner = (
        np.concatenate([np.full(len(a), i) for i, a in enumerate(all_xy)])
        if all_xy
        else np.zeros(0)
    )
    pooled = np.concatenate(all_xy) if all_xy else np.zeros((0, 2))
    return _HumanGaze(gaze_cases, humans_of, readers_of, pooled, owner)


def _predict_case(
    case: GazeCase,
    predictors: Sequence[Predictor],
    cfg: EvaluationConfig,
    n_fixations: int | None,
    shape: tuple[int, int],
    timings: dict[str, float],
    k_from_prediction: bool,
) -> dict[str, Prediction]:
    """Every predictor's prediction for one image (seeded by the run seed and the image id)."""
    predictions: dict[str, Prediction] = {}
    for predictor in predictors:
        request = PredictionRequest(
            case.image,
            k=cfg.k,
            seed=image_seed(cfg.seed, case.image.image_id),
            n_fixations=n_fixations,
            saliency_shape=shape,
        )
        t0 = time.perf_counter()
        pred = predictor(request)
        timings[f"predict {predictor.name}"] += time.perf_counter() - t0
        if pred.scanpaths and not k_from_prediction and len(pred.scanpaths) != cfg.k:
            raise GazeScopeError(
                f"predictor {predictor.name!r} returned {len(pred.scanpaths)} scanpaths for "
                f"{case.case_id}, asked for k={cfg.k}"
            )
        predictions[predictor.name] = pred
    return predictions


def _score_saliency(
    case: GazeCase,
    predictions: dict[str, Prediction],
    gaze: _HumanGaze,
    shape: tuple[int, int],
    cfg: EvaluationConfig,
    col: Collector,
) -> None:
    """Saliency metrics of every predicted map of one image, and its saliency ceiling."""
    humans, readers = gaze.humans[case.case_id], gaze.readers[case.case_id]
    truth = saliency_truth(humans, readers, case.image, shape, cfg)
    if truth is None:
        return
    other_xy = gaze.other_xy(case.case_id)
    for name, pred in predictions.items():
        if pred.saliency is None:
            continue
        scores = saliency_scores(
            resize_density(pred.saliency, shape), truth.pooled_xy, truth.gt_map, other_xy
        )
        for m, v in scores.items():
            col.add(name, m, case.case_id, v, int(not math.isfinite(v)), 1)
    if cfg.human_ceiling and len(truth.reader_maps) >= 2:
        for m, (value, n_nan, n) in saliency_ceiling(truth, other_xy).items():
            col.add(HUMAN, m, case.case_id, value, n_nan, n)


@dataclass
class _ScanpathJob:
    """One image's scanpath scoring: pure data, picklable for worker processes."""

    image_id: str
    frame: tuple[float, float]
    humans: list[Scanpath]
    readers: list[str]  # reader key of each human scanpath
    predictions: dict[str, list[Scanpath]]  # predictor -> samples
    ceiling: bool
    config: EvaluationConfig


# per metric: (image value or nan, NaN pairs, pairs)
_ImageScores = dict[str, dict[str, tuple[float, int, int]]]


def _score_scanpath_job(job: _ScanpathJob) -> _ImageScores:
    clusters = fit_fixation_clusters(job.humans, frame_size=job.frame)
    out: _ImageScores = {}
    for name, samples in job.predictions.items():
        if not samples:
            continue
        pairs = scanpath_pair_metrics(
            samples, job.humans, frame=job.frame, clusters=clusters, config=job.config
        )
        out[name] = {m: summarise(v) for m, v in pairs.items()}
    if job.ceiling and len(set(job.readers)) >= 2:
        out[HUMAN] = scanpath_ceiling(
            job.humans, job.readers, frame=job.frame, clusters=clusters, config=job.config
        )
    return out


def _score_scanpaths(jobs: list[_ScanpathJob], cfg: EvaluationConfig, col: Collector) -> None:
    """Run the queued scanpath scoring (in ``cfg.workers`` processes when > 1)."""
    if cfg.workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=cfg.workers) as pool:
            results = list(
                pool.map(
                    _score_scanpath_job, jobs, chunksize=max(1, len(jobs) // (4 * cfg.workers))
                )
            )
    else:
        results = [_score_scanpath_job(job) for job in jobs]
    for job, scores in zip(jobs, results, strict=True):
        for name, per_metric in scores.items():
            for m, (value, n_nan, n_pairs) in per_metric.items():
                col.add(name, m, job.image_id, value, n_nan, n_pairs)


def _gaze_rows(
    columns: list[str], col: Collector, cfg: EvaluationConfig, notes: list[str]
) -> list[MetricRow]:
    """Scanpath and saliency rows: mean over images with a bootstrap CI; NaN counts noted."""
    rows: list[MetricRow] = []
    for name in columns:
        for m in (*SCANPATH_METRICS, *SALIENCY_METRICS):
            per_image = col.values.get(name, {}).get(m)
            if per_image is None:
                continue
            mean, lo, hi, n = bootstrap_ci(
                list(per_image.values()), n_boot=cfg.n_boot, seed=cfg.seed
            )
            rows.append(MetricRow(name, m, mean, lo, hi, n))
            n_nan, n_pairs = col.nan_pairs[(name, m)]
            if n_nan:
                reason = METRICS[m].nan_reason or "undefined"
                lost = len(per_image) - n
                notes.append(
                    f"{name} / {m}: {n_nan} of {n_pairs} comparisons NaN ({reason}), dropped "
                    f"before the per-image mean; {lost} image(s) left without a value"
                    if lost
                    else f"{name} / {m}: {n_nan} of {n_pairs} comparisons NaN ({reason}), "
                    "dropped before the per-image mean"
                )
    return rows


def evaluate(
    cases: Sequence[GazeCase],
    predictors: Sequence[Predictor],
    config: EvaluationConfig | None = None,
    *,
    dataset: str | None = None,
    k_from_prediction: bool = False,
) -> EvaluationResult:
    """Score ``predictors`` on ``cases`` (see the module docstring for the protocol).

    ``k_from_prediction``: use however many samples each prediction returns (scoring files)
    instead of requiring ``config.k``.
    """
    cfg = config or EvaluationConfig()
    t_start = time.perf_counter()
    names = [p.name for p in predictors]
    if len(set(names)) != len(names):
        raise GazeScopeError(f"predictor names must be unique, got {names}")
    dataset = dataset or (cases[0].dataset if cases else "")
    col = Collector()
    notes: list[str] = []
    timings: dict[str, float] = {f"predict {n}": 0.0 for n in names}
    timings.update({"scanpath metrics": 0.0, "saliency metrics": 0.0})
    gaze = _human_gaze(cases, notes)

    jobs: list[_ScanpathJob] = []
    class_pairs: dict[str, list[tuple[dict[str, float], dict[str, float]]]] = {n: [] for n in names}
    report_pairs: dict[str, list[tuple[GazeCase, Prediction]]] = {n: [] for n in names}
    n_readers = []
    ceiling_images = 0
    for case in cases:
        humans = gaze.humans.get(case.case_id, [])
        readers = gaze.readers.get(case.case_id, [])
        n_readers.append(len(set(readers)))
        shape = grid_of(case.image, cfg.saliency_long_side)
        n_fix = cfg.n_fixations or (_median_length(humans) if humans else None)
        predictions = _predict_case(
            case, predictors, cfg, n_fix, shape, timings, k_from_prediction
        )
        for name, pred in predictions.items():
            if pred.findings and case.labels:
                class_pairs[name].append((case.labels, pred.findings))
            if pred.sentences:
                report_pairs[name].append((case, pred))
        if not humans:
            continue
        t0 = time.perf_counter()
        _score_saliency(case, predictions, gaze, shape, cfg, col)
        timings["saliency metrics"] += time.perf_counter() - t0
        # scanpath metrics: queued, run below (possibly in worker processes)
        samples = {n: p.scanpaths for n, p in predictions.items() if p.scanpaths}
        ceiling = cfg.human_ceiling and len(set(readers)) >= 2
        ceiling_images += ceiling
        if samples or ceiling:
            jobs.append(
                _ScanpathJob(
                    case.case_id, frame_of(case.image), humans, readers, samples, ceiling, cfg
                )
            )

    t0 = time.perf_counter()
    _score_scanpaths(jobs, cfg, col)
    timings["scanpath metrics"] = time.perf_counter() - t0

    columns = names + ([HUMAN] if HUMAN in col.values else [])
    rows = _gaze_rows(columns, col, cfg, notes)
    for name in names:
        rows.extend(classification_rows(name, class_pairs[name], cfg, notes))
        rows.extend(report_rows(name, report_pairs[name], cfg, col, notes))
    for predictor in predictors:
        caps = predictor.capabilities
        if (
            not gaze.cases
            and caps & {"scanpath", "saliency"}
            and not caps & {"findings", "sentences"}
        ):
            notes.append(
                f"{predictor.name}: scanpath/saliency predictor and no image has gaze - nothing to score"
            )
    timings["total"] = time.perf_counter() - t_start
    protocol = protocol_record(
        dataset, cases, predictors, cfg, n_readers, ceiling_images, k_from_prediction
    )
    return EvaluationResult(
        dataset=dataset,
        predictors=columns,
        rows=rows,
        protocol=protocol,
        notes=notes,
        timings_s=timings,
        per_image=col.values,
    )
