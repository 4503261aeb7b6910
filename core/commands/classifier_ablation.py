"""``gazescope classifier-ablation``: the gaze-attention loss on vs off, over seeds and sizes.

    gazescope classifier-ablation --seeds 0 1 2 --fractions 0.25 0.5 1 --epochs 12

Trains the classifier twice per (training-set fraction, seed) - identical data, order,
initialisation and early stopping, only the gaze-loss weight differs - and prints, on the test
split: real NIH macro AUC, attention-vs-simulated-gaze CC (real images that were read, and
phantoms), the phantom pointing accuracy and phantom macro AUC; mean +- sd over seeds and the
paired gain. ``--json`` writes every run's row.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.commands._classifier_data import add_data_arguments, load_data


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("classifier-ablation", help="gaze loss with vs without, seeds x sizes")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument(
        "--fractions",
        type=float,
        nargs="+",
        default=[0.25, 0.5, 1.0],
        help="shares of the training patients (default 0.25 0.5 1)",
    )
    p.add_argument("--epochs", type=int, default=12, help="maximum epochs per run (default 12)")
    p.add_argument("--patience", type=int, default=4)
    p.add_argument(
        "--image-size",
        type=int,
        default=64,
        help="input side in px (default 64: 18 runs must fit a CPU budget)",
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path, help="write every run's figures here")
    add_data_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    import torch

    from core.jsonsafe import json_safe
    from core.models.classifier import ClassifierConfig
    from core.train.classifier import TrainConfig, ablation_table, run_ablation

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    config = ClassifierConfig(image_size=args.image_size)
    data = load_data(args, config)
    print(data.describe())
    tc = TrainConfig(epochs=args.epochs, patience=args.patience, progress=False)
    rows = run_ablation(data, config, tc, fractions=tuple(args.fractions), seeds=tuple(args.seeds))
    if args.json:
        args.json.write_text(json.dumps(json_safe(rows), indent=1) + "\n", encoding="utf-8")
    print(ablation_table(rows))
    print(f"{len(rows)} runs in {time.perf_counter() - t0:.0f} s")
    return 0
