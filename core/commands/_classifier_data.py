"""Data options shared by ``train classifier``, ``classifier-eval`` and ``classifier-ablation``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.models.classifier import ClassifierConfig
    from core.train.classifier_data import ClassifierData

SOURCES = ("nih-sample", "nih-64px", "corpus")


def add_data_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data (paths relative to the repository root, as in ../shared)")
    g.add_argument("--nih-sample", type=Path, default=Path("../shared/data/nih-cxr14-sample"),
                   help="real NIH 512 px sample (default ../shared/data/nih-cxr14-sample)")
    g.add_argument("--nih-64px", type=Path, default=Path("../shared/data/nih-cxr14-64px"),
                   help="real NIH 64 px set (default ../shared/data/nih-cxr14-64px)")
    g.add_argument("--corpus", type=Path, default=Path("../corpus/synth"),
                   help="synthetic corpus from `gazescope synth` (default ../corpus/synth)")
    g.add_argument("--skip", action="append", choices=SOURCES, default=[],
                   help="leave a source out (repeatable)")


def data_sources(args: argparse.Namespace) -> dict[str, str]:
    """The sources used, name -> path as given (for the model card)."""
    paths = {"nih-sample": args.nih_sample, "nih-64px": args.nih_64px, "corpus": args.corpus}
    return {k: str(v) for k, v in paths.items() if k not in args.skip}


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
