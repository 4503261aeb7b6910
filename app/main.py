"""Assemble and run the reading app: store + case library + pipeline -> ``ReadingService`` -> UI.

Used by ``gazescope serve`` (``make run``), the Hugging Face Space's ``app.py`` and the tests.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.cases import CaseLibrary
from app.service import ReadingService
from core.errors import InputFileError

logger = logging.getLogger(__name__)

CACHE_ENV = "GAZESCOPE_CACHE"
DEFAULT_CACHE = Path("gazescope-cache")


@dataclass
class App:
    service: ReadingService
    demo: Any  # gr.Blocks
    cache_dir: Path


def default_pipeline() -> Any:
    """The pipeline with its defaults: the best shipped model of each kind, else baselines."""
    from core.pipeline import ReadingPipeline

    return ReadingPipeline()


def app_version() -> str:
    from core import __version__

    return f"gazescope-{__version__}"


def create_app(
    *,
    db_url: str | None = None,
    cache_dir: Path | None = None,
    examples_dir: Path | None = None,
    login_button: bool = False,
    store: Any = None,
    phantoms: tuple[tuple[int, tuple[str, ...]], ...] | None = None,
    organiser_all: bool = True,
    warm_up: bool = True,
) -> App:
    """Open the store (``db_url``, else ``$GAZESCOPE_DB``, else ./gazescope.sqlite), list the
    cases (bundled examples, phantoms generated once into the cache, earlier uploads) and build
    the UI. ``organiser_all``: every user sees study results (local use without sign-in); else
    only readers with the organiser role. ``warm_up``: load and run the models once in a
    background thread, so the first case opens as fast as the others. Nothing is fetched from
    the network."""
    from app.ui import build_app
    from core.store import open_store

    cache = Path(cache_dir or os.environ.get(CACHE_ENV) or DEFAULT_CACHE).resolve()
    cache.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {} if examples_dir is None else {"examples_dir": examples_dir}
    if phantoms is not None:
        kwargs["phantoms"] = phantoms
    library = CaseLibrary(cache, **kwargs)
    service = ReadingService(
        store if store is not None else open_store(db_url), library, default_pipeline,
        app_version=app_version(),
    )
    demo = build_app(service, login_button=login_button, organiser_all=organiser_all)
    if warm_up:
        threading.Thread(target=service.warm_up, name="gazescope-warm-up", daemon=True).start()
    return App(service, demo, cache)


def read_auth_file(path: Path) -> list[tuple[str, str]]:
    """``user:password`` per line (blank lines and ``#`` comments ignored)."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as err:
        raise InputFileError(path, f"cannot read the auth file ({err.strerror})") from err
    pairs = []
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user.strip() or not password:
            raise InputFileError(path, f"line {n}: expected user:password")
        pairs.append((user.strip(), password))
    if not pairs:
        raise InputFileError(path, "no user:password line")
    return pairs
