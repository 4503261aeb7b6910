"""Benchmarks of the synthetic gaze corpus (``gazescope bench --only 'synth_corpus.*'``).

The full-size figure (``gazescope synth --n 1000 --readers 3 --workers 2``) is measured by the
command itself; here a smaller corpus on one worker gives the per-image cost, and one
simulated read is timed on its own.
"""

from __future__ import annotations

import tempfile
import time

from core.bench import BenchContext, BenchResult, benchmark, time_call


@benchmark("synth_corpus.write")
def _corpus(ctx: BenchContext) -> list[BenchResult]:
    from core.synth.corpus import CorpusConfig, write_corpus

    n, size = (3, 128) if ctx.quick else (40, 512)
    config = CorpusConfig(n=n, readers=3, seed=0, size_px=size)
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        summary = write_corpus(d, config, workers=1)
        dt = time.perf_counter() - t0
    return [
        BenchResult(
            f"synth corpus {size} px, 3 readers, 1 worker",
            1000.0 * dt / n,
            "ms/image",
            f"{n} images, {summary.reads} reads in {dt:.1f} s",
        ),
        BenchResult(f"synth corpus images per second ({size} px, 1 worker)", n / dt, "1/s"),
    ]


@benchmark("synth_corpus.read_case")
def _read(ctx: BenchContext) -> list[BenchResult]:
    import itertools

    from core.synth.cases import phantom_case
    from core.synth.phantom import PhantomConfig, generate_phantom
    from core.synth.readers import DEFAULT_PANEL, ReadingScene, read_case

    size = 128 if ctx.quick else 512
    ph = generate_phantom(3, config=PhantomConfig(height_px=size, width_px=size))
    pc = phantom_case(ph)
    scene = ReadingScene(pc.anatomy, list(pc.findings), (size, size))
    seeds = itertools.count()
    stats = time_call(
        lambda: read_case(scene, None, DEFAULT_PANEL[0], next(seeds)), repeat=ctx.repeat
    )
    return [
        BenchResult("synth read_case (one simulated read)", stats.median_ms, "ms", stats.describe())
    ]
