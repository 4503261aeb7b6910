"""``gazescope space --out DIR``: assemble the Hugging Face Space folder of the reading app.

Push the folder to a Gradio Space (``git push`` or ``huggingface-cli upload``); see the README
it writes for the database setting (``GAZESCOPE_DB``) and sign-in (Hugging Face OAuth).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("space", help="assemble a Hugging Face Space folder of the reading app")
    p.add_argument("--out", type=Path, required=True, help="folder to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.space import assemble_space

    out = assemble_space(args.out)
    print(f"Space folder: {out}  (app.py, README.md front matter, requirements.txt, core/, app/, assets/, trained_models/)")
    return 0
