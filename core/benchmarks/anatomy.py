"""Speed of ``core.anatomy.locate`` on 512-pixel chest radiographs (target: < 150 ms, 1 core)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.bench import BenchContext, BenchResult, benchmark, time_call

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples" / "images"


def _images(ctx: BenchContext) -> list[tuple[str, np.ndarray]]:
    from PIL import Image

    paths = sorted(EXAMPLES.glob("*.png"))[: 1 if ctx.quick else None]
    return [(p.name, np.asarray(Image.open(p).convert("L"), np.float32) / 255.0) for p in paths]


@benchmark("anatomy.locate_512")
def _locate(ctx: BenchContext) -> list[BenchResult]:
    from core.anatomy import locate

    images = _images(ctx)
    if not images:
        return [BenchResult("anatomy.locate 512 px", float("nan"), "ms", f"no PNG in {EXAMPLES}")]
    medians = []
    for _, image in images:
        stats = time_call(
            lambda im=image: locate(im), repeat=ctx.repeat, warmup=0 if ctx.quick else 1
        )
        medians.append(stats.median_ms)
    side = images[0][1].shape[0]
    detail = (
        f"median over {len(images)} images of each image's median of {ctx.repeat} runs; "
        f"slowest image {max(medians):.1f} ms; {side} px"
    )
    return [BenchResult("anatomy.locate 512 px", float(np.median(medians)), "ms", detail)]


@benchmark("anatomy.locate_learned_512")
def _locate_learned(ctx: BenchContext) -> list[BenchResult]:
    """``locate`` with the shipped segmenter (network included), learned and fused, 1 thread."""
    import torch

    from core.errors import GazeScopeError
    from core.models.segmenter import load_segmenter

    images = _images(ctx)
    try:
        segmenter = load_segmenter()
    except GazeScopeError as err:
        return [BenchResult("anatomy.locate learned 512 px", float("nan"), "ms", str(err))]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = []
        for method in ("learned", "fused"):
            medians = [
                time_call(
                    lambda im=image, m=method: segmenter.locate(im, method=m),
                    repeat=ctx.repeat,
                    warmup=0 if ctx.quick else 1,
                ).median_ms
                for _, image in images
            ]
            detail = (
                f"median over {len(images)} images of each image's median of {ctx.repeat} runs; "
                f"slowest image {max(medians):.1f} ms; network included; torch 1 thread"
            )
            out.append(
                BenchResult(
                    f"anatomy.locate {method} 512 px", float(np.median(medians)), "ms", detail
                )
            )
        return out
    finally:
        torch.set_num_threads(threads)
