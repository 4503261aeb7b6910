"""Speed of the evaluation runner (``gazescope evaluate``).

``evaluate.runner``: the four baselines plus the human ceiling on in-memory cases of 3 readers
x 45 fixations (EGD-CXR's ~45 fixations per full read) with k = 5 samples, all metrics; ms per
image on one core and what that implies for 300 images. Human scanpaths are centre-bias
baseline samples (the speed depends on lengths, not on where the fixations are).
"""

from __future__ import annotations

import time

from core.bench import BenchContext, BenchResult, benchmark
from core.data.case import GazeCase, ImageRef, Read
from core.models import PredictionRequest, create_predictor, list_predictors


def bench_cases(n_images: int, n_readers: int, n_fixations: int) -> list[GazeCase]:
    """``n_images`` 2000 x 2500 px cases with ``n_readers`` reads of ``n_fixations`` each."""
    sampler = create_predictor("centre-bias", n_fixations=n_fixations)
    cases = []
    for i in range(n_images):
        image = ImageRef(f"bench-{i:04d}", None, 2000, 2500)
        paths = sampler(PredictionRequest(image, k=n_readers, seed=10_000 + i)).scanpaths
        reads = tuple(Read(f"r{i}-{j}", f"reader-{j}", sp) for j, sp in enumerate(paths))
        cases.append(GazeCase(image.image_id, "bench", image, reads))
    return cases


@benchmark("evaluate.runner")
def _runner(ctx: BenchContext) -> list[BenchResult]:
    from core.eval import EvaluationConfig, evaluate

    n_images, n_fix, k = (2, 8, 2) if ctx.quick else (12, 45, 5)
    cases = bench_cases(n_images, 3, n_fix)
    predictors = [create_predictor(n) for n in list_predictors(kind="baseline")]
    config = EvaluationConfig(k=k, n_boot=1000)
    t0 = time.perf_counter()
    result = evaluate(cases, predictors, config)
    elapsed = time.perf_counter() - t0
    per_image_ms = elapsed / n_images * 1000
    t = result.timings_s
    return [
        BenchResult(
            f"evaluate.runner 4 baselines + ceiling, 3 readers x {n_fix} fix, k={k}",
            per_image_ms,
            "ms",
            f"per image; scanpath metrics {t['scanpath metrics'] / n_images * 1000:.0f} ms, "
            f"saliency {t['saliency metrics'] / n_images * 1000:.0f} ms; "
            f"300 images ~ {per_image_ms * 300 / 1000:.0f} s on one core",
        )
    ]
