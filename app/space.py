"""Assemble a Hugging Face Space folder that runs the reading app on its own.

The folder holds ``app.py`` (the entry point Spaces runs), ``README.md`` with the Space's
front matter, ``requirements.txt`` (the project's dependencies, torch from the CPU index so a
CPU Basic Space does not pull a CUDA build) and copies of ``core/``, ``app/``, ``assets/`` and
``trained_models/``. Nothing is fetched at start: examples and models travel in the folder.

On Spaces (``SPACE_ID`` set) readers sign in with Hugging Face OAuth (``hf_oauth: true`` and a
``gr.LoginButton``); elsewhere ``GAZESCOPE_AUTH`` may name a ``user:password`` file. The
database URL comes from ``GAZESCOPE_DB``: without a mounted Storage Bucket a Space's disk is
ephemeral and the database is lost on restart.
"""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = None

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
COPIED = ("core", "app", "assets", "trained_models")
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"

FRONT_MATTER = """---
title: GazeScope
emoji: 🩻
colorFrom: blue
colorTo: gray
sdk: gradio
sdk_version: {gradio_version}
app_file: app.py
python_version: "3.11"
hf_oauth: true
hf_oauth_expiration_minutes: 480
startup_duration_timeout: 30m
pinned: false
license: apache-2.0
short_description: Chest X-ray reading with expert-gaze aids (research only)
---

# GazeScope (research prototype, not for clinical use)

A chest X-ray reading room: predicted expert scanpaths, attention maps and a region-linked
draft report that readers accept, edit or reject. The models are small research models trained
on synthetic data and small public datasets (or published statistics only, for baselines), and
have no clinical validation. Bundled examples: NIH ChestX-ray14 images (NIH Clinical Center;
Wang et al., CVPR 2017), a SIIM-ACR sample DICOM (Apache-2.0) and synthetic phantoms.

Settings (Space variables): `GAZESCOPE_DB` - SQLAlchemy URL of the study database. **Without a
mounted Storage Bucket the Space's disk is ephemeral and the database is lost on restart**:
mount a bucket (e.g. at `/bucket`) and set `GAZESCOPE_DB=sqlite:////bucket/gazescope.sqlite`,
or point it at PostgreSQL. Readers sign in with their Hugging Face account.
Runs on CPU Basic (2 vCPU) and ZeroGPU alike: everything runs on the CPU.
"""

APP_PY = '''"""Hugging Face Space entry point: the GazeScope reading app (research prototype)."""

import logging
import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
logging.basicConfig(level=logging.INFO)

from app.main import create_app, read_auth_file  # noqa: E402
from app.ui import launch  # noqa: E402

ON_SPACES = bool(os.environ.get("SPACE_ID"))
auth_file = os.environ.get("GAZESCOPE_AUTH")
# with sign-in, study results are for readers with the organiser role only
app = create_app(login_button=ON_SPACES, organiser_all=not (ON_SPACES or auth_file))
launch(
    app.demo,
    cache_dir=app.cache_dir,
    host=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),
    port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
    auth=None if ON_SPACES or not auth_file else read_auth_file(Path(auth_file)),
)
'''


def requirements() -> str:
    """requirements.txt from pyproject's dependencies (torch pinned to the CPU build)."""
    import gradio

    if tomllib is None:
        raise RuntimeError("assembling a Space needs Python 3.11+ (tomllib)")
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = [f"--extra-index-url {TORCH_CPU_INDEX}", "torch==2.13.0"]
    for d in deps:
        name = d.split(">")[0].split("=")[0].split("<")[0].strip()
        if name == "torch":
            continue
        if name == "gradio":
            d = f"gradio[oauth]=={gradio.__version__}"
        lines.append(d)
    return "\n".join(lines) + "\n"


def assemble_space(out: Path) -> Path:
    """Write the Space folder ``out`` (replacing what the copied folders held there)."""
    import gradio

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.sqlite", "gazescope-cache")
    for name in COPIED:
        src = REPO / name
        if src.exists():
            shutil.rmtree(out / name, ignore_errors=True)
            shutil.copytree(src, out / name, ignore=ignore)
    (out / "app.py").write_text(APP_PY)
    (out / "README.md").write_text(FRONT_MATTER.format(gradio_version=gradio.__version__))
    (out / "requirements.txt").write_text(requirements())
    (out / ".gitignore").write_text("gazescope-cache/\n*.sqlite\n__pycache__/\n")
    logger.info("Space assembled in %s", out)
    return out
