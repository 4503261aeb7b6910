"""The checkpoint format of every learned model: one folder, three files, no network.

``save_pretrained(out_dir, module, config, ...)`` writes

- ``config.json``: ``format_version``, ``model_type``, ``config`` (the model's config dataclass
  as a dict), ``labels``, ``preprocessing``, ``training_data``, ``metrics``,
  ``gazescope_version``;
- ``model.safetensors``: the module's state dict (safetensors: no pickle, no code execution);
- ``README.md``: the model card text (what it was trained on, how it scores, its limits).

``load_pretrained(dir, module_cls, config_cls)`` reads them back: ``module_cls(config)`` with the
weights loaded strictly, in eval mode, plus ``meta`` (the parsed config.json and the
``weights_sha256`` of model.safetensors, which the pipeline reports next to its results). A
missing or corrupt folder raises :class:`CheckpointError` naming the folder and the problem.
Nothing here downloads anything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

import core
from core.errors import GazeScopeError
from core.jsonsafe import json_safe
from core.models.registry import trained_models_dir

logger = logging.getLogger(__name__)

__all__ = [
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "MODEL_CARD_FILE",
    "WEIGHTS_FILE",
    "CheckpointError",
    "load_pretrained",
    "save_pretrained",
    "sha256_file",
    "trained_models_dir",
]

FORMAT_VERSION = 1
CONFIG_FILE, WEIGHTS_FILE, MODEL_CARD_FILE = "config.json", "model.safetensors", "README.md"

M = TypeVar("M", bound=nn.Module)
C = TypeVar("C")


class CheckpointError(GazeScopeError):
    """A checkpoint folder that is missing, incomplete or does not fit the model class."""

    def __init__(self, folder: str | Path, problem: str) -> None:
        self.folder = Path(folder)
        super().__init__(f"checkpoint {self.folder}: {problem}")


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_pretrained(
    out_dir: str | Path,
    module: nn.Module,
    config: Any,
    *,
    model_type: str,
    card: str,
    labels: Sequence[str] = (),
    preprocessing: Mapping[str, Any] | None = None,
    training_data: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``config.json``, ``model.safetensors`` and ``README.md`` to ``out_dir``; return it.

    ``config`` is the model's config dataclass (stored as a dict, rebuilt by
    :func:`load_pretrained`); the other fields are plain JSON (non-finite numbers become null).
    """
    from safetensors.torch import save_model

    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"config must be a dataclass instance, got {type(config).__name__}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "format_version": FORMAT_VERSION,
        "model_type": model_type,
        "config": dataclasses.asdict(config),
        "labels": list(labels),
        "preprocessing": dict(preprocessing or {}),
        "training_data": dict(training_data or {}),
        "metrics": dict(metrics or {}),
        "gazescope_version": core.__version__,
    }
    text = json.dumps(json_safe(meta), indent=2, allow_nan=False, sort_keys=False)
    save_model(module, str(out / WEIGHTS_FILE), metadata={"format": "pt"})
    (out / CONFIG_FILE).write_text(text + "\n", encoding="utf-8")
    (out / MODEL_CARD_FILE).write_text(card.rstrip() + "\n", encoding="utf-8")
    logger.info("saved %s checkpoint to %s", model_type, out)
    return out


def _build_config(config_cls: type[C], values: Mapping[str, Any], folder: Path) -> C:
    """``config_cls(**values)`` with JSON lists turned back into tuples where the field is one."""
    try:
        hints = typing.get_type_hints(config_cls)
    except Exception:  # unresolvable annotations: take the values as they are
        hints = {}
    known = {f.name for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise CheckpointError(
            folder, f"config has field(s) {unknown} that {config_cls.__name__} lacks"
        )
    kwargs = {}
    for name, value in values.items():
        hint = hints.get(name)
        origin = typing.get_origin(hint)
        if origin in (typing.Union, types.UnionType):
            origin = next(
                (typing.get_origin(a) or a for a in typing.get_args(hint) if a is not type(None)),
                None,
            )
        if isinstance(value, list) and (origin is tuple or hint is tuple):
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        kwargs[name] = value
    try:
        return config_cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise CheckpointError(folder, f"config does not fit {config_cls.__name__}: {err}") from None


def load_pretrained(
    folder: str | Path,
    module_cls: type[M],
    config_cls: type[C],
    *,
    device: str = "cpu",
) -> tuple[M, C, dict[str, Any]]:
    """Read a folder written by :func:`save_pretrained`: ``(module, config, meta)``.

    ``module`` is ``module_cls(config)`` with the weights loaded strictly, on ``device``, in eval
    mode; ``meta`` is the parsed config.json plus ``weights_sha256``. Never touches the network.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_model

    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(folder, "no such folder (train the model or pass another checkpoint)")
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (folder / name).is_file():
            raise CheckpointError(folder, f"{name} is missing")
    try:
        meta = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(folder, f"{CONFIG_FILE} is not valid JSON ({err})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise CheckpointError(folder, f"{CONFIG_FILE} has no 'config' object")
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            folder,
            f"format_version {meta.get('format_version')!r}, this GazeScope reads {FORMAT_VERSION}",
        )
    config = _build_config(config_cls, meta["config"], folder)
    module = module_cls(config)
    try:
        load_model(module, str(folder / WEIGHTS_FILE), strict=True, device=device)
    except (SafetensorError, OSError) as err:
        raise CheckpointError(folder, f"{WEIGHTS_FILE} cannot be read ({err})") from None
    except (RuntimeError, ValueError) as err:
        first = " ".join(str(err).strip().splitlines()[:3])
        raise CheckpointError(
            folder, f"weights do not fit {module_cls.__name__}: {first}"
        ) from None
    module.to(torch.device(device)).eval()
    meta["weights_sha256"] = sha256_file(folder / WEIGHTS_FILE)
    return module, config, meta
