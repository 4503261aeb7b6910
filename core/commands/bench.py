"""``gazescope bench``: run the registered benchmarks and print their figures.

By default the benchmarks run in a child process limited to one CPU core (``taskset`` when
available) and one thread per numeric library, so "per image on one core" means what it says.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

_CHILD_ENV = "GAZESCOPE_BENCH_CHILD"
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run the speed/memory benchmarks and print figures")
    p.add_argument("--only", metavar="GLOB", help="run only benchmarks whose name matches")
    p.add_argument("--repeat", type=int, default=20, help="timed repetitions (default 20)")
    p.add_argument("--quick", action="store_true", help="smoke run: tiny inputs, few repeats")
    p.add_argument("--data", type=Path, help="../shared/data, for benchmarks on real files")
    p.add_argument("--all-cores", action="store_true", help="do not pin to one core")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.add_argument(
        "--device", default="cpu", choices=("cpu", "cuda", "auto"),
        help="torch device for model benchmarks (auto: CUDA when present; default cpu)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.all_cores and os.environ.get(_CHILD_ENV) != "1":
        return _rerun_on_one_core(args)
    import torch

    from core.bench import BenchContext, run_benchmarks

    if not args.all_cores:
        torch.set_num_threads(1)
    ctx = BenchContext(
        repeat=3 if args.quick else args.repeat,
        quick=args.quick,
        data_dir=args.data,
        extra={"device": args.device},
    )
    results = run_benchmarks(ctx, args.only)
    if args.json:
        print(json.dumps([r.__dict__ for r in results], indent=2))
        return 0
    cores = "all cores" if args.all_cores else "1 core, 1 thread"
    print(f"GazeScope benchmarks ({cores}; {os.cpu_count()} CPUs on this machine)")
    if not results:
        print("  (no benchmark matched)")
    width = max((len(r.name) for r in results), default=10)
    for r in results:
        print(f"  {r.name:<{width}}  {r.value:>10.3f} {r.unit:<6} {r.detail}")
    return 0


def _rerun_on_one_core(args: argparse.Namespace) -> int:
    env = dict(os.environ, **{_CHILD_ENV: "1"}, **{v: "1" for v in _THREAD_VARS})
    cmd = [sys.executable, "-m", "core.cli", "bench", "--repeat", str(args.repeat)]
    if args.only:
        cmd += ["--only", args.only]
    if args.quick:
        cmd.append("--quick")
    if args.data:
        cmd += ["--data", str(args.data)]
    if args.json:
        cmd.append("--json")
    cmd += ["--device", args.device]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    return subprocess.call(cmd, env=env)
