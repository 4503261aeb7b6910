"""Speed of the classifier predictor (preprocessing + forward + maps) on 512 px radiographs.

Uses the shipped checkpoint when it is there, else the same architecture untrained (same cost);
the detail says which. Part of the pipeline's 300 ms budget per image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.bench import BenchContext, BenchResult, benchmark, time_call

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples" / "images"


@benchmark("classifier.predict_512")
def _predict(ctx: BenchContext) -> list[BenchResult]:
    from PIL import Image

    from core.io.radiograph import Radiograph
    from core.models import PredictionRequest, checkpoint_available, create_predictor

    name = "gaze-classifier"
    trained = checkpoint_available(name)
    predictor = create_predictor(name, device="cpu", **({} if trained else {"checkpoint": None}))
    paths = sorted(EXAMPLES.glob("*.png"))[:1]
    if paths:
        image = np.asarray(Image.open(paths[0]).convert("L"), np.float32) / 255.0
    else:
        image = np.random.default_rng(0).random((512, 512), dtype=np.float32)
    request = PredictionRequest.from_radiograph(Radiograph(image, "0" * 64, "bench.png"))
    stats = time_call(lambda: predictor(request), repeat=ctx.repeat, warmup=0 if ctx.quick else 2)
    detail = (
        f"{'shipped' if trained else 'untrained (no checkpoint)'} weights, "
        f"{image.shape[1]}x{image.shape[0]} px -> {predictor.config.image_size} px; "
        f"p90 {stats.p90_ms:.1f} ms over {ctx.repeat} runs"
    )
    return [BenchResult("classifier.predict 512 px", stats.median_ms, "ms", detail)]
