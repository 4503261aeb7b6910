"""``gazescope score``: score your own predicted scanpaths (and saliency maps) against ground
truth given as a scanpath file or as a dataset.

File formats (CSV or JSON, normalised or pixel units): ``core/eval/scanpath_files.py`` and
``core/eval/EVALUATION.md``. The protocol and the printed table are those of
``gazescope evaluate``; k is however many samples the file gives per image.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from core.commands.evaluate import print_result
from core.data.datasets import dataset_names


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score",
        help="score predicted scanpaths from a CSV/JSON file against ground truth",
        description="Score predicted scanpaths (CSV/JSON; see core/eval/EVALUATION.md) against "
        "ground-truth scanpaths from a file or a dataset.",
    )
    p.add_argument("--pred", required=True, type=Path, help="predicted scanpaths (CSV or JSON)")
    p.add_argument(
        "--saliency", type=Path, metavar="DIR", help="folder of <image_id>.npy predicted maps"
    )
    gt = p.add_mutually_exclusive_group(required=True)
    gt.add_argument("--gt", type=Path, help="ground-truth scanpaths (CSV or JSON, 'reader' ids)")
    gt.add_argument("--dataset", choices=dataset_names(), help="ground truth from a dataset")
    p.add_argument("--root", type=Path, help="dataset folder (with --dataset)")
    p.add_argument("--images", type=Path, help="dataset images folder (with --dataset)")
    p.add_argument("--split", help="keep one split of the dataset")
    p.add_argument("--name", default="prediction", help="column name in the table")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--no-ceiling", action="store_true", help="skip the human-consistency rows")
    p.add_argument("--out", type=Path, help="write evaluation.json and evaluation.csv here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.errors import GazeScopeError
    from core.eval import EvaluationConfig, load_cases, score_scanpaths
    from core.eval.scanpath_files import load_saliency_dir, read_scanpath_file

    pred = read_scanpath_file(args.pred)
    if pred.kind != "sample":
        raise GazeScopeError(
            f"{args.pred.name}: predictions need a 'sample' column/key, this file has 'reader' ids"
        )
    saliency = dict(pred.saliency)
    if args.saliency is not None:
        saliency.update(load_saliency_dir(args.saliency, list(pred.scanpaths)))
    config = EvaluationConfig(
        seed=args.seed, workers=max(1, args.workers), human_ceiling=not args.no_ceiling
    )
    if args.gt is not None:
        truth = read_scanpath_file(args.gt)
        if truth.kind != "reader":
            raise GazeScopeError(
                f"{args.gt.name}: ground truth needs a 'reader' column/key, this file has 'sample'"
            )
        result = score_scanpaths(
            pred.scanpaths,
            truth.scanpaths,
            saliency=saliency or None,
            sizes={**pred.sizes, **truth.sizes},
            name=args.name,
            config=config,
        )
    else:
        if args.root is None:
            raise GazeScopeError("--dataset needs --root")
        cases = load_cases(args.dataset, args.root, images=args.images, split=args.split)
        result = score_scanpaths(
            pred.scanpaths, cases, saliency=saliency or None, name=args.name, config=config
        )
    print_result(result, args.out)
    return 0
