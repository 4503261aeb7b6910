"""Benchmarks of the phantom generator (``gazescope bench --only 'synth.*'``)."""

from __future__ import annotations

import itertools

from core.bench import BenchContext, BenchResult, benchmark, time_call


@benchmark("synth.generate_phantom")
def _generate(ctx: BenchContext) -> list[BenchResult]:
    from core.synth.phantom import PhantomConfig, generate_phantom

    size = 128 if ctx.quick else 512
    cfg = PhantomConfig(height_px=size, width_px=size)
    seeds = itertools.count(1000)
    mix = time_call(lambda: generate_phantom(next(seeds), config=cfg), repeat=ctx.repeat)
    normal = time_call(
        lambda: generate_phantom(next(seeds), findings=(), config=cfg), repeat=ctx.repeat
    )
    return [
        BenchResult(
            f"synth.generate_phantom {size} px, case mix", mix.median_ms, "ms", mix.describe()
        ),
        BenchResult(
            f"synth.generate_phantom {size} px, normal", normal.median_ms, "ms", normal.describe()
        ),
        BenchResult(
            f"synth phantoms per second {size} px (case mix)",
            1000.0 / max(mix.median_ms, 1e-9),
            "1/s",
            "one core",
        ),
    ]
