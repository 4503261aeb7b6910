"""``gazescope synth``: make the synthetic gaze corpus (REFLACX layout, simulated readers).

    gazescope synth --out /tmp/corpus --n 1000 --readers 3 --seed 0 --workers 2
    gazescope synth --out /tmp/corpus_real --n 0 --real ../shared/data/nih-cxr14-sample

Same arguments, byte-identical files (whatever ``--workers``). Refuses a non-empty ``--out``;
``--force`` replaces a previous corpus there (only the corpus's own files; anything else is
left, and a folder that is not a corpus is never touched). Layout and conventions:
``core/synth/corpus.py``; the readers: ``core/synth/readers.py``.

Speed: ``gazescope synth --out /tmp/synth1000 --n 1000 --readers 3 --seed 0 --workers 2`` took
83 s and 95 s of wall time in two runs on this shared 2-core machine (512 px phantoms, 3000
reads, 237 MB); ``gazescope bench --only 'synth_corpus.*'``: ~170 ms per image on one worker.
The NIH sample (``--n 0 --real ...``, 322 images, anatomy located on each) takes 15-17 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth",
        help="make the synthetic gaze corpus (phantoms + simulated radiologists, REFLACX layout)",
        description="Make the synthetic gaze corpus: chest phantoms (and optionally real NIH "
        "images) read by simulated radiologists, written in the REFLACX layout.",
    )
    p.add_argument("--out", type=Path, required=True, help="corpus folder (new or empty)")
    p.add_argument("--n", type=int, default=100, help="phantom images (default 100)")
    p.add_argument(
        "--readers", type=int, default=3, help="simulated readers per image, 1-5 (default 3)"
    )
    p.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    p.add_argument("--size", type=int, default=512, help="phantom size in pixels (default 512)")
    p.add_argument(
        "--real", type=Path, metavar="DIR", help="also read the NIH-sample images in DIR"
    )
    p.add_argument("--real-limit", type=int, metavar="N", help="only the first N real images")
    p.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="processes (default: min(2, CPUs))",
    )
    p.add_argument("--force", action="store_true", help="replace a previous corpus in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from core.errors import GazeScopeError
    from core.synth.corpus import CorpusConfig, plan_corpus, write_corpus

    if args.real is not None and not (args.real / "labels.csv").is_file():
        raise GazeScopeError(f"{args.real}: no labels.csv (expected an NIH-sample layout folder)")
    if args.real_limit is not None and args.real_limit < 1:
        raise GazeScopeError(f"--real-limit must be >= 1, got {args.real_limit}")
    config = CorpusConfig(
        n=args.n,
        readers=args.readers,
        seed=args.seed,
        size_px=args.size,
        real=None if args.real is None else str(args.real),
        real_limit=args.real_limit,
    )
    total = len(plan_corpus(config))
    t0 = time.perf_counter()
    with tqdm(
        total=total, unit="image", file=sys.stderr, disable=args.no_progress, desc="synth"
    ) as bar:
        summary = write_corpus(
            args.out, config, workers=max(1, args.workers), force=args.force, progress=bar.update
        )
    dt = time.perf_counter() - t0
    print(
        f"wrote {summary.root}: {summary.images} image(s) "
        f"({summary.by_source['phantom']} phantom, {summary.by_source['nih']} real), "
        f"{summary.reads} read(s); split train/validate/test = {summary.splits['train']}/"
        f"{summary.splits['validate']}/{summary.splits['test']} images; {dt:.1f} s "
        f"with {max(1, args.workers)} worker(s)"
    )
    if summary.skipped:
        print(f"{len(summary.skipped)} real image(s) skipped (anatomy confidence < 0.5):")
        for name, why in summary.skipped.items():
            print(f"  {name}: {why}")
    return 0
