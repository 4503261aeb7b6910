"""``gazescope evaluate``: score predictors and baselines against a dataset's human readers.

Prints the protocol, then a table of metric rows x predictor columns (``mean [lo, hi]``, 95 %
bootstrap interval over images) with the human ceiling as the last column when the dataset has
several readers per image, then what was skipped and why; writes ``evaluation.json`` and
``evaluation.csv`` to ``--out``. The protocol is documented in ``core/eval/EVALUATION.md``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.eval import EvaluationResult



def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score scanpath/saliency predictors and baselines against human readers",
        description="Score predictors against the human reads of a dataset (protocol: "
        "core/eval/EVALUATION.md).",
    )
    from core.data.datasets import dataset_names

    p.add_argument("--dataset", choices=dataset_names(), help="required unless --list")
    p.add_argument(
        "--root",
        type=Path,
        help="dataset folder (gazesearch: the JSON file or a folder with one)",
    )
    p.add_argument("--images", type=Path, help="folder of the images (predictors needing pixels)")
    p.add_argument(
        "--predictor",
        action="append",
        default=[],
        metavar="NAME",
        help="registered predictor (repeatable); see --list",
    )
    p.add_argument(
        "--baselines",
        metavar="all|NAMES",
        help="'all' or a comma-separated list of baselines (see --list)",
    )
    p.add_argument("--k", type=int, default=5, help="scanpath samples per image (default 5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split", help="keep one split (e.g. test; 'val' matches 'validate')")
    p.add_argument("--limit", type=int, metavar="N", help="first N cases (after --split)")
    p.add_argument(
        "--n-fixations",
        type=int,
        metavar="N",
        help="fixations per sample for length-taking predictors (default: the image's median "
        "human scanpath length)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="processes for the scanpath metrics (default: min(2, CPUs))",
    )
    p.add_argument("--no-ceiling", action="store_true", help="skip the human-consistency rows")
    p.add_argument("--out", type=Path, help="write evaluation.json and evaluation.csv here")
    p.add_argument("--list", action="store_true", help="list registered predictors and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.errors import GazeScopeError
    from core.eval import EvaluationConfig, evaluate, load_cases
    from core.models import (
        checkpoint_available,
        create_predictor,
        default_checkpoint_path,
        list_predictors,
        predictor_kind,
    )

    if args.list:
        for name in list_predictors():
            if checkpoint_available(name):
                print(f"{create_predictor(name).describe()} <{predictor_kind(name)}>")
            else:
                print(
                    f"{name} <{predictor_kind(name)}> (not trained here: no checkpoint at "
                    f"{default_checkpoint_path(name)})"
                )
        return 0
    if args.dataset is None or args.root is None:
        raise GazeScopeError("--dataset and --root are required (or --list)")
    names = list(args.predictor)
    if args.baselines:
        wanted = list_predictors(kind="baseline") if args.baselines == "all" else args.baselines.split(",")
        names += [n.strip() for n in wanted if n.strip() not in names]
    if not names:
        raise GazeScopeError("nothing to evaluate: give --predictor NAME and/or --baselines all")
    if args.limit is not None and args.limit < 1:
        raise GazeScopeError(f"--limit must be >= 1, got {args.limit}")
    predictors = [create_predictor(n) for n in names]
    config = EvaluationConfig(
        k=args.k,
        seed=args.seed,
        n_fixations=args.n_fixations,
        workers=max(1, args.workers),
        human_ceiling=not args.no_ceiling,
    )
    cases = load_cases(
        args.dataset, args.root, images=args.images, split=args.split, limit=args.limit
    )
    if not cases:
        raise GazeScopeError(f"{args.dataset}: no case found under {args.root}")
    if not any(case.reads for case in cases):
        print(
            f"{args.dataset}: no gaze recorded ({len(cases)} image(s)): only classification and "
            "report rows apply (predictors with findings or sentences)."
        )
    result = evaluate(cases, predictors, config, dataset=args.dataset)
    print_result(result, args.out)
    return 0


def print_result(result: EvaluationResult, out: Path | None) -> None:
    """Protocol, table, notes, timings; then write the files when ``out`` is given."""
    print(result.protocol_text())
    print()
    if result.rows:
        print(result.table())
    else:
        print("Nothing to score: no metric applies to these predictors on this dataset.")
    if result.notes:
        print("\nNotes:")
        for note in result.notes:
            print(f"  - {note}")
    t = result.timings_s
    n = result.protocol.get("n_images", 0)
    total = t.get("total", 0.0)
    per = f", {total / n * 1000:.0f} ms per image" if n else ""
    print(
        f"\nTime: {total:.1f} s in all{per} (scanpath metrics {t.get('scanpath metrics', 0):.1f} s, "
        f"saliency metrics {t.get('saliency metrics', 0):.1f} s, predictions "
        f"{sum(v for k, v in t.items() if k.startswith('predict')):.1f} s)"
    )
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        result.to_json(out / "evaluation.json")
        result.to_csv(out / "evaluation.csv")
        print(f"Wrote {out / 'evaluation.json'} and {out / 'evaluation.csv'}")
