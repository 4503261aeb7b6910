"""``gazescope fuzz --n N --seed S``: mutation-fuzz the radiograph loader on real files.

Runs ``N`` mutated copies of the real files in ``../shared/data`` through
``core.io.load_radiograph`` in one worker process and counts the outcomes; see
``core.io.fuzz`` for the seeds, the mutations and the guarantee checked. Exit code 0 when every
case loaded with an image in [0, 1] or was refused with a one-line ``GazeScopeError``, 1 when
any case failed otherwise, hung or crashed (each is listed with the command that regenerates
it). ``--case I --save FILE`` writes one case's bytes, to reproduce it with ``gazescope info``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fuzz", help="mutation-fuzz the radiograph loader on real files")
    p.add_argument("--n", type=int, default=1000, help="number of cases (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="run seed (default 0)")
    p.add_argument("--start", type=int, default=0, help="first case index (default 0)")
    p.add_argument("--data", type=Path, help="../shared/data (found next to the checkout)")
    p.add_argument(
        "--timeout", type=float, default=60.0, help="seconds before a case counts as a hang"
    )
    p.add_argument("--case", type=int, help="with --save: write this case's bytes and stop")
    p.add_argument("--save", type=Path, help="file to write the --case bytes to")
    p.add_argument("--json", type=Path, help="also write the report as JSON to this file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.errors import GazeScopeError
    from core.io.fuzz import build_corpus, make_case, run_fuzz

    data = args.data or _find_shared_data()
    if data is None or not (data / "dicom").is_dir():
        raise GazeScopeError(f"{data or '../shared/data'}: not found; pass --data DIR")
    corpus = build_corpus(data)
    if args.case is not None or args.save is not None:
        if args.case is None or args.save is None:
            raise GazeScopeError("--case and --save go together")
        base, blob, mutations = make_case(corpus, args.seed, args.case)
        args.save.write_bytes(blob)
        print(f"case {args.case} of seed {args.seed}: {base.name}, {'; '.join(mutations)}")
        print(f"wrote {len(blob)} bytes to {args.save}")
        return 0
    if args.n < 1:
        raise GazeScopeError(f"--n must be >= 1, got {args.n}")

    def progress(done: int, report) -> None:
        if done % 500 == 0 or done == args.n:
            bad = len(report.bad)
            print(f"  {done}/{args.n} cases, {bad} bad", file=sys.stderr, flush=True)

    report = run_fuzz(
        corpus, args.n, args.seed, start=args.start, timeout_s=args.timeout, progress=progress
    )
    o = report.outcomes
    end = args.start + args.n - 1
    print(
        f"gazescope fuzz: cases {args.start}-{end} of seed {args.seed} over "
        f"{len(corpus)} seed files from {data}"
    )
    print(
        f"  loaded {o['loaded']}, refused {o['refused']}, failures {o['failure']}, "
        f"hangs {o['hang']}, crashes {o['crash']}"
    )
    refusals = ", ".join(f"{k} {v}" for k, v in report.errors.most_common())
    print(f"  refusals: {refusals or '-'}")
    print(
        f"  per case: median {report.median_seconds * 1000:.1f} ms; slowest "
        f"{report.max_cpu_seconds:.2f} s CPU ({report.slowest_cpu}), "
        f"{report.max_seconds:.2f} s wall ({report.slowest})"
    )
    print(
        f"  worker peak memory {report.worker_peak_mib:.0f} MiB; "
        f"whole run {report.wall_seconds:.0f} s"
    )
    for r in report.bad:
        print(
            f"  {r.outcome.upper()} case {r.index} ({r.seed}; {'; '.join(r.mutations)}): {r.detail}"
        )
        print(
            f"    reproduce: gazescope fuzz --seed {args.seed} --case {r.index} --save case.bin"
            " && gazescope info case.bin"
        )
    if args.json:
        args.json.write_text(json.dumps(report.to_dict(), indent=2))
    return 0 if report.ok else 1


def _find_shared_data() -> Path | None:
    """``shared/data`` next to (or above) the current folder or this checkout."""
    here = Path(__file__).resolve()
    for start in (Path.cwd(), here):
        for parent in (start, *start.parents):
            candidate = parent / "shared" / "data"
            if (candidate / "README.md").is_file():
                return candidate
    return None
