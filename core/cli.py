"""``gazescope`` command line: one sub-command per module in ``COMMAND_MODULES``.

Each command module defines ``register(subparsers)``, which adds its parser and sets
``func(args) -> int``. Command modules import heavy libraries (torch, gradio) inside ``func`` so
that ``gazescope info`` stays fast. Bad input ends with a one-line message and a non-zero exit
code, never a traceback (``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from core import __version__
from core.errors import GazeScopeError

COMMAND_MODULES: tuple[str, ...] = (
    "core.commands.demo",
    "core.commands.info",
    "core.commands.vocabulary",
    "core.commands.bench",
    "core.commands.phantom",
    "core.commands.evaluate",
    "core.commands.score",
    "core.commands.anatomy",
    "core.commands.anatomy_eval",
    "core.commands.synth",
    "core.commands.synth_report",
    "core.commands.fuzz",
    "core.commands.study",
    "core.commands.report_eval",
    "core.commands.predict",
    "core.commands.train",
    "core.commands.classifier_eval",
    "core.commands.classifier_ablation",
    "core.commands.scanpath_eval",
    "core.commands.serve",
    "core.commands.space",
)

EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gazescope",
        description="GazeScope: expert-gaze tools for chest X-ray reading (research use only).",
    )
    parser.add_argument("--version", action="version", version=f"gazescope {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except (GazeScopeError, OSError) as err:
        if args.debug:
            raise
        msg = str(err) if isinstance(err, GazeScopeError) else _describe_os_error(err)
        print(f"gazescope {args.command}: error: {msg}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _describe_os_error(err: OSError) -> str:
    name = err.filename if err.filename is not None else "<input>"
    return f"{name}: {err.strerror or err}"


if __name__ == "__main__":
    sys.exit(main())
