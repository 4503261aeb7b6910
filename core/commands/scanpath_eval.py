"""``gazescope scanpath-eval``: a scanpath model on a synthetic corpus, phantoms and real NIH
images separately - the evaluation runner's table, then finding coverage, time to the first
fixation on a finding, duration realism and sample diversity (``core/eval/scanpath_analysis.py``).

    gazescope scanpath-eval --root /work/corpus/synth --split test \\
        --predictor scanpath-tiny --baselines all --runner --out out/scanpath-eval

Without ``--runner`` only the extra analyses are printed (they are much cheaper than the
runner's scanpath metrics).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scanpath-eval",
        help="scanpath models on a synthetic corpus: runner table + coverage, durations, "
        "diversity (phantoms and real images separately)",
    )
    p.add_argument("--root", type=Path, required=True, help="a gazescope synth corpus")
    p.add_argument("--split", default="test", help="split to evaluate (default test)")
    p.add_argument("--predictor", action="append", default=[], metavar="NAME",
                   help="registered predictor (repeatable)")
    p.add_argument("--checkpoint", action="append", default=[], metavar="NAME=DIR",
                   help="load predictor NAME from checkpoint DIR (e.g. ablation runs)")
    p.add_argument("--baselines", metavar="all|NAMES", help="'all' or comma-separated baselines")
    p.add_argument("--temperatures", metavar="T,T,...",
                   help="evaluate each --predictor at these sampling temperatures (NAME@T)")
    p.add_argument("--sources", default="phantom,nih", help="comma-separated (default both)")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, metavar="N", help="first N images of each source")
    p.add_argument("--runner", action="store_true", help="also print the runner's table")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--n-boot", type=int, default=10_000, help="bootstrap resamples")
    p.add_argument("--out", type=Path, help="write the runner's files per source here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from core.commands.evaluate import print_result
    from core.errors import GazeScopeError
    from core.eval import EvaluationConfig, evaluate
    from core.eval.gaze_realism import load_corpus_cases
    from core.eval.scanpath_analysis import analyse
    from core.models import create_predictor, list_predictors

    torch.set_num_threads(1)
    names = list(args.predictor)
    if args.baselines:
        wanted = (list_predictors(kind="baseline") if args.baselines == "all"
                  else args.baselines.split(","))
        names += [n.strip() for n in wanted if n.strip() and n.strip() not in names]
    temps = [float(t) for t in args.temperatures.split(",")] if args.temperatures else []
    predictors = []
    for n in names:
        if temps and n in args.predictor:
            for t in temps:
                pred = create_predictor(n, temperature=t)
                pred.name = f"{n}@{t:g}"
                predictors.append(pred)
        else:
            predictors.append(create_predictor(n))
    for spec in args.checkpoint:
        label, _, folder = spec.partition("=")
        if not folder:
            raise GazeScopeError(f"--checkpoint wants NAME=DIR, got {spec!r}")
        from core.models.scanpath import ScanpathPredictor

        pred = ScanpathPredictor(Path(folder))
        pred.name = label
        predictors.append(pred)
    if not predictors:
        raise GazeScopeError("nothing to evaluate: give --predictor, --checkpoint or --baselines")
    for source in [s.strip() for s in args.sources.split(",") if s.strip()]:
        cases = load_corpus_cases(args.root, source=source, split=args.split)
        if args.limit:
            cases = cases[: args.limit]
        if not cases:
            raise GazeScopeError(f"{args.root}: no {source} image in split {args.split!r}")
        print(f"\n=== {source} images, split {args.split}: {len(cases)} image(s) "
              "(SYNTHETIC gaze: simulated readers) ===")
        if args.runner:
            config = EvaluationConfig(k=args.k, seed=args.seed, workers=max(1, args.workers),
                                      n_boot=args.n_boot)
            result = evaluate(cases, predictors, config, dataset="synthetic")
            print_result(result, None if args.out is None else args.out / source)
            print()
        analysis = analyse(args.root, cases, predictors, k=args.k, seed=args.seed,
                           source=source, n_boot=args.n_boot)
        print(f"Finding coverage, time to first fixation on a finding, durations, diversity "
              f"({source}; mean [95 % bootstrap CI over images]; k = {args.k}, seed "
              f"{args.seed}):")
        print(analysis.table())
        if args.runner and any("/s" in p.name for p in predictors):
            values = {(r.predictor, r.metric): r.mean for r in result.rows}
            values.update({(r.column, r.metric): r.mean for r in analysis.rows})
            print(f"\nAblation ({source}): mean +- SD over training seeds of each variant "
                  "(checkpoints named VARIANT/sSEED)")
            print(ablation_table([p.name for p in predictors if "/s" in p.name], values))
    return 0


ABLATION_METRICS = ("MM", "D-MM", "ScanMatch", "ScanMatch (duration)", "NSS", "CC", "sAUC",
                    "finding coverage")


def ablation_table(names: list[str], values: dict[tuple[str, str], float]) -> str:
    """Variant x metric: mean +- sample SD over the seeds (names ``VARIANT/sSEED``)."""
    import numpy as np

    from core.tables import text_table

    variants: dict[str, list[str]] = {}
    for n in names:
        variants.setdefault(n.rsplit("/s", 1)[0], []).append(n)
    head = ["variant (seeds)", *ABLATION_METRICS]
    lines: list[list[str]] = []
    for v, members in variants.items():
        cells = [f"{v} ({len(members)})"]
        for m in ABLATION_METRICS:
            xs = np.array([values.get((n, m), np.nan) for n in members], float)
            xs = xs[np.isfinite(xs)]
            sd = f" +- {xs.std(ddof=1):.3f}" if xs.size > 1 else ""
            cells.append(f"{xs.mean():.3f}{sd}" if xs.size else "-")
        lines.append(cells)
    return text_table(head, lines)
