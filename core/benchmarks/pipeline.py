"""Speed of ``ReadingPipeline`` on a bundled 512-pixel example, per stage (1 core)."""

from __future__ import annotations

from pathlib import Path

from core.bench import BenchContext, BenchResult, benchmark, time_call

EXAMPLE = (
    Path(__file__).resolve().parents[2] / "assets" / "examples" / "images" / "00000129_000.png"
)


@benchmark("pipeline.run_512")
def _run(ctx: BenchContext) -> list[BenchResult]:
    from core.io import load_radiograph
    from core.pipeline import ReadingPipeline

    radiograph = load_radiograph(EXAMPLE)
    pipeline = ReadingPipeline(k=8)
    stages: dict[str, list[float]] = {}

    def once() -> None:
        for stage, ms in pipeline(radiograph).timings_ms.items():
            stages.setdefault(stage, []).append(ms)

    stats = time_call(once, repeat=ctx.repeat, warmup=0 if ctx.quick else 1)
    models = ", ".join(f"{m.role} {m.name}" for m in pipeline.models())
    per_stage = ", ".join(
        f"{s} {sorted(v)[len(v) // 2]:.0f} ms" for s, v in stages.items() if s != "total"
    )
    detail = f"{EXAMPLE.name}, k=8 ({models}); median per stage: {per_stage}"
    return [BenchResult("pipeline.run 512 px, k=8", stats.median_ms, "ms", detail)]
