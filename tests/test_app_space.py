"""``gazescope space`` builds a Hugging Face Space folder that starts the app on its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core.cli import main
from tests.chromium import free_port


def _env(tmp: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SPACE_ID")}
    env.update(
        GAZESCOPE_DB=f"sqlite:///{tmp / 'space.sqlite'}",
        GAZESCOPE_CACHE=str(tmp / "cache"),
        GRADIO_SERVER_PORT=str(port),
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_ANALYTICS_ENABLED="False",
    )
    return env


def test_space_folder_has_front_matter_and_requirements(tmp_path):
    out = tmp_path / "space"
    assert main(["space", "--out", str(out)]) == 0
    readme = (out / "README.md").read_text()
    assert readme.startswith("---\n")
    front = readme.split("---\n")[1]
    for line in ("sdk: gradio", "app_file: app.py", "hf_oauth: true", "sdk_version: 6."):
        assert line in front
    assert "lost on restart" in readme  # no persistent disk unless a bucket is mounted
    reqs = (out / "requirements.txt").read_text().splitlines()
    assert "torch==2.13.0" in reqs and any(r.startswith("gradio[oauth]==") for r in reqs)
    for name in ("core", "app", "assets"):
        assert (out / name).is_dir()
    assert not list(out.rglob("__pycache__"))


@pytest.mark.slow
def test_space_folder_starts_the_app_from_itself_alone(tmp_path):
    out = tmp_path / "space"
    assert main(["space", "--out", str(out)]) == 0
    port = free_port()
    env = _env(tmp_path, port)
    where = subprocess.run(
        [sys.executable, "-c", "import core, app; print(core.__file__); print(app.__file__)"],
        cwd=out, env=env, capture_output=True, text=True, check=True,
    ).stdout.split()
    assert all(Path(p).resolve().is_relative_to(out.resolve()) for p in where), where
    proc = subprocess.Popen(
        [sys.executable, "app.py"], cwd=out, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        config = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=5) as r:
                    config = json.loads(r.read())
                break
            except OSError:
                time.sleep(1)
        assert config is not None, proc.stdout.read().decode() if proc.poll() is not None else "no answer"
        assert config["title"] == "GazeScope"
        ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
        assert {"gs-viewer", "gs-report", "gs-worklist"} <= ids
        assert (tmp_path / "space.sqlite").exists()  # the database went where GAZESCOPE_DB said
    finally:
        proc.terminate()
        proc.wait(timeout=30)
