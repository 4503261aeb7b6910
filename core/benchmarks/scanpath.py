"""Speed and size of the scanpath model (``core.models.scanpath``): 8 samples for one 512 px
radiograph, encoder once and the samples decoded as one batch (target: <= 80 ms p50, 1 core).

Times ``ScanpathModel.sample`` on preprocessed inputs (resize to the encoder's input included)
with the anatomy features computed beforehand: ``core.anatomy.locate`` has its own benchmark
(``anatomy.locate_512``), and the app runs it once per image for every overlay anyway.
Uses the shipped checkpoint when present, else an untrained model of the default config (the
detail says which). ``--device cuda`` (or ``auto`` with a GPU) runs on CUDA, synchronised.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.bench import BenchContext, BenchResult, benchmark, time_call

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples" / "images"


@benchmark("scanpath.sample_8x512")
def _sample(ctx: BenchContext) -> list[BenchResult]:
    import torch

    from core.anatomy import locate
    from core.models.checkpoint import CheckpointError
    from core.models.registry import default_checkpoint_path
    from core.models.scanpath import (
        ScanpathPredictor,
        anatomy_features,
        macs,
        preprocess_image,
    )

    device = str(ctx.extra.get("device", "cpu"))
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        return [BenchResult("scanpath.sample 8 x 512 px", float("nan"), "ms", "no CUDA device")]
    try:
        pred = ScanpathPredictor(default_checkpoint_path("scanpath-tiny"), device=device)
        which = "shipped checkpoint scanpath-tiny"
    except CheckpointError:
        pred = ScanpathPredictor(None, device=device)
        which = "untrained default config (no shipped checkpoint)"
    model, c = pred.model, pred.config
    paths = sorted(EXAMPLES.glob("*.png"))
    if paths:
        from PIL import Image

        image = np.asarray(Image.open(paths[0]).convert("L"), np.float32) / 255.0
    else:
        image = np.random.default_rng(0).random((512, 512), dtype=np.float32)
    regions = None
    if c.use_anatomy:
        regions = torch.from_numpy(anatomy_features(locate(image), c.grid, c.regions)).to(device)
    query = torch.zeros(len(c.labels), device=device) if c.use_query else None
    lengths: list[int] = []

    def run() -> None:
        x = preprocess_image(image, c.image_size).to(device)
        s = model.sample(x, 8, len(lengths), regions=regions, query=query)
        lengths.append(int(s.length.mean()))
        if device == "cuda":
            torch.cuda.synchronize()

    stats = time_call(run, repeat=ctx.repeat, warmup=0 if ctx.quick else 2)
    m = macs(model, k=8, n_fixations=int(np.median(lengths)))
    n_params = model.num_parameters()
    detail = (f"{stats.describe()}; {device}; {which}; {image.shape[1]}x{image.shape[0]} px; "
              f"median {int(np.median(lengths))} fixations per sample")
    return [
        BenchResult("scanpath.sample 8 x 512 px", stats.median_ms, "ms", detail),
        BenchResult("scanpath.parameters", n_params / 1e6, "M", f"{n_params:,} parameters"),
        BenchResult("scanpath.MACs 8 samples", m["total"] / 1e6, "M",
                    f"encoder {m['encoder'] / 1e6:.0f} M, memory {m['memory'] / 1e6:.0f} M, "
                    f"decoding {m['decode'] / 1e6:.0f} M (8 samples x median length)"),
    ]
