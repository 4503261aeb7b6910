"""The predictor registry: names -> factories, with each entry's kind and default checkpoint.

Registration (timm style), in the module that defines the predictor::

    @register_predictor("centre-bias", kind="baseline")
    class CentreBias(Predictor): ...

    @register_predictor("scanpath-tiny", kind="scanpath", default_checkpoint="scanpath-tiny")
    class TinyScanpathPredictor(Predictor):
        def __init__(self, checkpoint: Path | None = None, **config): ...

    create_predictor("centre-bias", n_fixations=20)   # overrides -> its constructor/config
    list_predictors(kind="baseline")                  # ['abcdef', 'centre', 'centre-bias', ...]

Every module of the :mod:`core.models` package (except the infrastructure in
:data:`_INFRASTRUCTURE` and private ``_`` modules) is imported on the first registry call, so a
new model registers itself by living in ``core/models/<name>.py`` - no list to edit.

``default_checkpoint`` names a folder under :func:`trained_models_dir`; ``create_predictor``
passes it to the factory as ``checkpoint=<path>`` unless the caller gives ``checkpoint=``
itself (``checkpoint=None`` asks for an untrained model, e.g. in tests). Learned models also
take ``device=`` (``"cpu"``, ``"cuda"``); the pipeline passes it. A learned predictor keeps
its ``nn.Module`` in ``.model``, its config dataclass in ``.config`` and ``load_pretrained``'s
meta in ``.meta`` (``tests/test_models.py`` round-trips every one through its checkpoint).
"""

from __future__ import annotations

import fnmatch
import importlib
import os
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from core.errors import GazeScopeError
from core.models.predictor import Predictor

__all__ = [
    "KINDS",
    "RegistryEntry",
    "checkpoint_available",
    "create_predictor",
    "default_checkpoint_path",
    "list_predictors",
    "predictor_kind",
    "register_predictor",
    "trained_models_dir",
]

KINDS: tuple[str, ...] = ("baseline", "scanpath", "classifier", "segmenter", "report")
# modules of core.models that hold no predictor (never imported by the discovery)
_INFRASTRUCTURE = frozenset({"predictor", "registry", "checkpoint"})
MODELS_ENV = "GAZESCOPE_MODELS"
_REPO = Path(__file__).resolve().parents[2]

P = TypeVar("P", bound=Callable[..., Predictor])


@dataclass(frozen=True)
class RegistryEntry:
    """One registered predictor: how to build it, what kind it is, where its weights live."""

    name: str
    factory: Callable[..., Predictor]
    kind: str
    default_checkpoint: str | None = None  # folder name under trained_models_dir()


_REGISTRY: dict[str, RegistryEntry] = {}
_loaded = False


def trained_models_dir() -> Path:
    """The folder of trained checkpoints: ``$GAZESCOPE_MODELS`` or the repo's trained_models/."""
    env = os.environ.get(MODELS_ENV)
    return Path(env) if env else _REPO / "trained_models"


def register_predictor(
    name: str, *, kind: str, default_checkpoint: str | None = None
) -> Callable[[P], P]:
    """Register a predictor class (or factory) under ``name``; ``create_predictor`` builds it."""
    if kind not in KINDS:
        raise ValueError(f"predictor {name!r}: kind must be one of {KINDS}, got {kind!r}")

    def deco(factory: P) -> P:
        entry = RegistryEntry(name, factory, kind, default_checkpoint)
        if name in _REGISTRY and _REGISTRY[name] != entry:
            raise ValueError(f"predictor {name!r} registered twice")
        _REGISTRY[name] = entry
        return factory

    return deco


def _load_modules() -> None:
    """Import every predictor module of core.models once (their import registers them)."""
    global _loaded
    if _loaded:
        return
    import core.models as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name in _INFRASTRUCTURE:
            continue
        importlib.import_module(f"core.models.{info.name}")
    _loaded = True


def _entry(name: str) -> RegistryEntry:
    _load_modules()
    if name not in _REGISTRY:
        raise GazeScopeError(f"unknown predictor {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def list_predictors(pattern: str | None = None, *, kind: str | None = None) -> list[str]:
    """Sorted registered names, optionally filtered by a glob ``pattern`` and by ``kind``."""
    if kind is not None and kind not in KINDS:
        raise GazeScopeError(f"unknown predictor kind {kind!r}; known: {', '.join(KINDS)}")
    _load_modules()
    return [
        n
        for n, e in sorted(_REGISTRY.items())
        if (pattern is None or fnmatch.fnmatch(n, pattern)) and (kind is None or e.kind == kind)
    ]


def predictor_kind(name: str) -> str:
    """The kind (one of :data:`KINDS`) ``name`` was registered with."""
    return _entry(name).kind


def default_checkpoint_path(name: str) -> Path | None:
    """Where ``name``'s default checkpoint lives (whether or not it exists), None if it has none."""
    entry = _entry(name)
    if entry.default_checkpoint is None:
        return None
    return trained_models_dir() / entry.default_checkpoint


def checkpoint_available(name: str) -> bool:
    """True when ``name`` needs no weights (no default checkpoint) or its checkpoint is on disk."""
    path = default_checkpoint_path(name)
    return path is None or (path / "config.json").is_file()


def create_predictor(name: str, **overrides: Any) -> Predictor:
    """Build the predictor registered as ``name``; ``overrides`` go to its constructor/config.

    A predictor with a default checkpoint gets ``checkpoint=<trained_models_dir()/folder>``
    unless ``overrides`` holds ``checkpoint``. An unknown name or override raises
    ``GazeScopeError`` (a ``ValueError``) listing what is known, so the CLI can show it in one
    line.
    """
    entry = _entry(name)
    if entry.default_checkpoint is not None and "checkpoint" not in overrides:
        overrides["checkpoint"] = trained_models_dir() / entry.default_checkpoint
    try:
        return entry.factory(**overrides)
    except TypeError as err:
        raise GazeScopeError(
            f"predictor {name!r}: bad option(s) {sorted(overrides)}: {err}"
        ) from None
