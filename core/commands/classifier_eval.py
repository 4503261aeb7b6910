"""``gazescope classifier-eval``: score a classifier checkpoint on the held-out test split.

    gazescope classifier-eval --checkpoint trained_models/gaze-classifier-nih [--update-card]

Prints per-label and macro ROC AUC with 95 % bootstrap CIs (1000 resamples over cases) on the
real NIH test patients (never used in training, early stopping or calibration), each label's
positives / cases, CheXNet's published figure where GazeScope's notes quote one; the same on the
phantom test images (synthetic); attention-vs-gaze CC and the phantom pointing accuracy.
``--update-card`` writes the figures into the checkpoint's README.md and config.json.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from core.commands._classifier_data import add_data_arguments, load_data


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "classifier-eval", help="test-split AUCs (with CIs) of a classifier checkpoint"
    )
    p.add_argument(
        "--checkpoint", type=Path, help="folder (default trained_models/gaze-classifier-nih)"
    )
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument(
        "--split",
        default="test",
        choices=("test", "val"),
        help="which split to score (default test)",
    )
    p.add_argument(
        "--update-card",
        action="store_true",
        help="write the figures into the checkpoint's model card and config.json",
    )
    p.add_argument("--threads", type=int, default=1)
    add_data_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from core.models.checkpoint import load_pretrained
    from core.models.classifier import DEFAULT_CHECKPOINT, ClassifierConfig, GazeClassifier
    from core.models.registry import trained_models_dir
    from core.train.classifier import (
        CARD_METRICS_BEGIN,
        CARD_METRICS_END,
        REAL_SOURCES,
        auc_table,
        evaluate_classifier,
    )

    torch.set_num_threads(args.threads)
    folder = args.checkpoint or trained_models_dir() / DEFAULT_CHECKPOINT
    model, config, meta = load_pretrained(folder, GazeClassifier, ClassifierConfig)
    data = load_data(args, config)
    real = evaluate_classifier(
        model, data, data.select(split=args.split, sources=REAL_SOURCES), n_bootstrap=args.bootstrap
    )
    phantom_idx = data.select(split=args.split, sources=["phantom"])
    phantom = (
        evaluate_classifier(model, data, phantom_idx, n_bootstrap=args.bootstrap)
        if len(phantom_idx)
        else None
    )
    command = f"gazescope classifier-eval --checkpoint {folder}" + (
        "" if args.split == "test" else f" --split {args.split}"
    )
    parts = [
        f"Figures from `{command}` (weights sha256 {meta['weights_sha256'][:12]}).",
        "",
        auc_table(
            real,
            title=f"**Real NIH ChestX-ray14, {args.split} patients** "
            f"({len(real.probabilities)} images, patient-disjoint from training):",
        ),
        "",
        f"Attention vs simulated-gaze CC on the real {args.split} images that were read: "
        f"{_ci(real.attention_cc, real.attention_cc_ci)} (n = {real.n_gaze_images} images).",
    ]
    if phantom is not None:
        parts += [
            "",
            auc_table(
                phantom,
                title=f"**Phantoms (synthetic), {args.split} split** "
                f"({len(phantom.probabilities)} images):",
            ),
            "",
            f"Phantom attention vs simulated-gaze CC: "
            f"{_ci(phantom.attention_cc, phantom.attention_cc_ci)} (n = {phantom.n_gaze_images}); "
            f"pointing accuracy (attention peak cell touches the finding's exact mask): "
            f"{_pct(phantom.pointing_accuracy)} of {phantom.n_pointing} located findings.",
        ]
    text = "\n".join(parts)
    print(text)
    if args.update_card:
        _update_card(
            folder,
            text,
            CARD_METRICS_BEGIN,
            CARD_METRICS_END,
            {
                args.split: {
                    "real": real.summary(),
                    "phantom": phantom.summary() if phantom else None,
                },
                "command": command,
            },
        )
        print(f"updated {folder / 'README.md'} and config.json")
    return 0


def _ci(mean: float, ci: tuple[float, float]) -> str:
    if not math.isfinite(mean):
        return "n/a"
    return f"{mean:.3f} (95 % CI {ci[0]:.3f}-{ci[1]:.3f})"


def _pct(v: float) -> str:
    return "n/a" if not math.isfinite(v) else f"{100 * v:.1f} %"


def _update_card(folder: Path, text: str, begin: str, end: str, metrics: dict) -> None:
    from core.errors import GazeScopeError
    from core.jsonsafe import json_safe

    card_path = folder / "README.md"
    card = card_path.read_text(encoding="utf-8")
    if begin not in card or end not in card:
        raise GazeScopeError(f"{card_path}: no classifier-eval markers to replace")
    head, rest = card.split(begin, 1)
    _, tail = rest.split(end, 1)
    card_path.write_text(f"{head}{begin}\n{text}\n{end}{tail}", encoding="utf-8")
    config_path = folder / "config.json"
    meta = json.loads(config_path.read_text(encoding="utf-8"))
    meta.setdefault("metrics", {})["held_out"] = json_safe(metrics)
    config_path.write_text(json.dumps(meta, indent=2, allow_nan=False) + "\n", encoding="utf-8")
