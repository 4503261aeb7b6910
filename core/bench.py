"""Benchmark registry behind ``gazescope bench``.

Each capability adds its figures by registering a function in a module listed in
``BENCH_MODULES``::

    @benchmark("anatomy.locate_512")
    def _locate(ctx: BenchContext) -> list[BenchResult]:
        stats = time_call(lambda: locate(img), repeat=ctx.repeat)
        return [BenchResult("anatomy.locate 512 px", stats.median_ms, "ms", stats.describe())]

Benchmarks print figures; they never assert. The test suite only checks that they run.
"""

from __future__ import annotations

import fnmatch
import importlib
import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = [
    "BENCH_MODULES",
    "BenchContext",
    "BenchResult",
    "TimingStats",
    "benchmark",
    "run_benchmarks",
    "time_call",
]

BENCH_MODULES: tuple[str, ...] = (
    "core.benchmarks.io",
    "core.benchmarks.gaze_data",
    "core.benchmarks.synth",
    "core.benchmarks.evaluate",
    "core.benchmarks.anatomy",
    "core.benchmarks.synth_corpus",
    "core.benchmarks.pipeline",
    "core.benchmarks.store",
)


@dataclass(frozen=True)
class BenchResult:
    name: str
    value: float
    unit: str
    detail: str = ""


@dataclass(frozen=True)
class BenchContext:
    repeat: int = 20  # timed repetitions per measurement (quick mode uses fewer)
    quick: bool = False  # smoke mode for the test suite: tiny inputs, few repetitions
    data_dir: Path | None = None  # optional ../shared/data for benchmarks on real files
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class TimingStats:
    times_ms: tuple[float, ...]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p90_ms(self) -> float:
        ts = sorted(self.times_ms)
        return ts[min(len(ts) - 1, int(round(0.9 * (len(ts) - 1))))]

    def describe(self) -> str:
        return (
            f"median {self.median_ms:.1f} ms, p90 {self.p90_ms:.1f} ms, "
            f"min {min(self.times_ms):.1f} ms over {len(self.times_ms)} runs"
        )


def time_call(fn: Callable[[], object], *, repeat: int = 20, warmup: int = 2) -> TimingStats:
    """Wall-clock ``fn()`` ``repeat`` times after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return TimingStats(tuple(times))


_REGISTRY: dict[str, Callable[[BenchContext], list[BenchResult]]] = {}


def benchmark(
    name: str,
) -> Callable[
    [Callable[[BenchContext], list[BenchResult]]], Callable[[BenchContext], list[BenchResult]]
]:
    """Register a benchmark function under ``name`` (dotted, e.g. ``io.load_dicom``)."""

    def deco(
        fn: Callable[[BenchContext], list[BenchResult]],
    ) -> Callable[[BenchContext], list[BenchResult]]:
        if name in _REGISTRY and _REGISTRY[name] is not fn:
            raise ValueError(f"benchmark {name!r} registered twice")
        _REGISTRY[name] = fn
        return fn

    return deco


def registered() -> dict[str, Callable[[BenchContext], list[BenchResult]]]:
    for module in BENCH_MODULES:
        importlib.import_module(module)
    return dict(_REGISTRY)


def run_benchmarks(ctx: BenchContext, pattern: str | None = None) -> list[BenchResult]:
    """Run every registered benchmark whose name matches the glob ``pattern``."""
    results: list[BenchResult] = []
    for name, fn in sorted(registered().items()):
        if pattern and not fnmatch.fnmatch(name, pattern):
            continue
        logger.info("benchmark %s", name)
        results.extend(fn(ctx))
    return results
