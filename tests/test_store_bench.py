import pytest

from core.bench import BenchContext, registered, run_benchmarks


@pytest.mark.slow
def test_store_benchmarks_run() -> None:
    assert {"store.review_writes", "store.study_report"} <= set(registered())
    results = {r.unit: r for r in run_benchmarks(BenchContext(quick=True, repeat=1), "store.*")}
    assert results["1/s"].value > 0 and "missing 0, duplicates 0" in results["1/s"].detail
    assert results["s"].value > 0 and "400 reviews" in results["s"].name
