"""``gazescope train MODEL ...``: train one of GazeScope's learned models.

One sub-command per model; each adds a ``_register_<model>(sub)`` function here that builds
its parser and points ``func`` at a runner (heavy imports inside the runner).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a learned model (segmenter, ...)")
    models = p.add_subparsers(dest="model", metavar="MODEL")
    models.required = True
    _register_segmenter(models)


def _register_segmenter(models: argparse._SubParsersAction) -> None:
    p = models.add_parser(
        "segmenter",
        help="lung + heart U-Net on randomised phantoms (+ optional NIH pseudo-labels)",
        description="Train core.models.segmenter on synthetic phantoms with exact masks under "
        "strong appearance randomisation; optionally add the classical method's confident lung "
        "fields on the tuning half of the NIH sample as pseudo-labels (never the held-out half).",
    )
    p.add_argument("--out", type=Path, required=True, help="checkpoint folder to write")
    p.add_argument(
        "--work-dir", type=Path, help="state and data cache (default: out/train/<out name>)"
    )
    p.add_argument("--phantoms", type=int, default=800, help="training phantoms (default 800)")
    p.add_argument("--val", type=int, default=64, help="validation phantoms (default 64)")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--patience", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--input-size", type=int, default=128, help="network input side (px)")
    p.add_argument(
        "--widths", type=int, nargs="+", default=[8, 16, 32, 64, 128], help="channels per level"
    )
    p.add_argument(
        "--pseudo-nih",
        type=Path,
        metavar="DIR",
        help="nih-cxr14-sample folder: pseudo-label its tuning half with the classical method",
    )
    p.add_argument("--resume", action="store_true", help="continue from the work dir's state")
    p.set_defaults(func=run_segmenter)


def run_segmenter(args: argparse.Namespace) -> int:
    import csv
    import shlex
    import sys

    from core.eval.anatomy import nih_split
    from core.models.segmenter import SegmenterConfig
    from core.train.segmenter import SegmenterTrainConfig, segmenter_card, train_segmenter

    pseudo: tuple[Path, ...] = ()
    if args.pseudo_nih:
        with open(args.pseudo_nih / "labels.csv", newline="") as fh:
            names = [r["image"] for r in csv.DictReader(fh)]
        halves = nih_split(names)
        pseudo = tuple(args.pseudo_nih / "images" / n for n in names if halves[n] == "tune")
    cfg = SegmenterTrainConfig(
        out_dir=args.out,
        work_dir=args.work_dir or Path("out") / "train" / args.out.name,
        n_phantoms=args.phantoms,
        n_val=args.val,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        patience=args.patience,
        seed=args.seed,
        threads=args.threads,
        pseudo_images=pseudo,
        model=SegmenterConfig(input_size=args.input_size, widths=tuple(args.widths)),
        name=args.out.name,
    )
    command = "gazescope " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    result = train_segmenter(cfg, resume=args.resume, card=segmenter_card(cfg, command))
    for row in result.history:
        dice = "  ".join(f"{k[5:]} {v:.4f}" for k, v in row.items() if k.startswith("dice_"))
        print(
            f"epoch {row['epoch']:>2}  loss {row['loss']:.4f}  val Dice {dice}  {row['seconds']:.0f} s"
        )
    print(
        f"best epoch {result.best_epoch}: synthetic validation Dice {result.val_dice}; "
        f"{result.n_pseudo} pseudo-labelled real films; {result.seconds / 60:.1f} min; "
        f"saved to {result.out_dir}"
    )
    return 0
