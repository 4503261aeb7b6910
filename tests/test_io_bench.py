from core.bench import BenchContext, registered, run_benchmarks


def test_io_benchmark_runs_on_the_bundled_files():
    assert "io.load_radiograph" in registered()
    results = run_benchmarks(BenchContext(quick=True, repeat=1), "io.*")
    names = [r.name for r in results]
    assert any("JPEG baseline" in n for n in names) and any("PNG" in n for n in names)
    assert all(r.unit == "ms" and r.value > 0 for r in results)


def test_resize_benchmark_compares_against_a_direct_resize():
    results = run_benchmarks(BenchContext(quick=True, repeat=1), "io.resize*")
    assert [r.name for r in results] == ["io.resize 2048x2048 -> 256", "io.resize 1955x1841 -> 256"]
    for r in results:
        diff = float(r.detail.split("max difference ")[1].split(";")[0])
        assert diff < 0.01 and "direct skimage resize" in r.detail
