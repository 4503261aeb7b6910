"""Data options shared by ``train classifier``, ``classifier-eval`` and ``classifier-ablation``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.models.classifier import ClassifierConfig
    from core.train.classifier_data import ClassifierData

SOURCES = ("nih-sample", "nih-64px", "corpus")
_REPO = Path(__file__).resolve().parents[2]
DEFAULTS = {
    "nih-sample": Path("shared/data/nih-cxr14-sample"),
    "nih-64px": Path("shared/data/nih-cxr14-64px"),
    "corpus": Path("corpus/synth"),
}


def _next_to_checkout(rel: Path) -> Path:
    """``rel`` in the first folder above the repository that has it (``../shared/...`` when
    the checkout sits next to ``shared/``, as in CI and the team's layout)."""
    for parent in _REPO.parents:
        if (parent / rel).exists():
            return parent / rel
    return _REPO.parent / rel


def add_data_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data (defaults: found in a folder above the checkout)")
    g.add_argument(
        "--nih-sample",
        type=Path,
        help="real NIH 512 px sample (default ../shared/data/nih-cxr14-sample)",
    )
    g.add_argument(
        "--nih-64px", type=Path, help="real NIH 64 px set (default ../shared/data/nih-cxr14-64px)"
    )
    g.add_argument(
        "--corpus",
        type=Path,
        help="synthetic corpus of `gazescope synth` (default ../corpus/synth)",
    )
    g.add_argument(
        "--skip",
        action="append",
        choices=SOURCES,
        default=[],
        help="leave a source out (repeatable)",
    )


def data_sources(args: argparse.Namespace) -> dict[str, str]:
    """The sources used, name -> path as given (for the model card)."""
    given = {"nih-sample": args.nih_sample, "nih-64px": args.nih_64px, "corpus": args.corpus}
    return {
        k: str(v if v is not None else _next_to_checkout(DEFAULTS[k]))
        for k, v in given.items()
        if k not in args.skip
    }


def describe_sources(args: argparse.Namespace) -> dict[str, str]:
    """The sources used as the user would type them (defaults as ``../...``), for the card."""
    given = {"nih-sample": args.nih_sample, "nih-64px": args.nih_64px, "corpus": args.corpus}
    return {
        k: str(v) if v is not None else f"../{DEFAULTS[k]}"
        for k, v in given.items()
        if k not in args.skip
    }


def load_data(args: argparse.Namespace, config: ClassifierConfig) -> ClassifierData:
    from core.train.classifier_data import build_classifier_data

    used = data_sources(args)
    return build_classifier_data(
        config.labels,
        config.image_size,
        nih_sample=used.get("nih-sample"),
        nih_64px=used.get("nih-64px"),
        corpus=used.get("corpus"),
        grid_shape=config.grid_shape,
    )
