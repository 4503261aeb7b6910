"""``json_safe``: turn results into data ``json.dumps(..., allow_nan=False)`` accepts.

One helper for every JSON file GazeScope writes (evaluation results, corpus manifests and
truth, checkpoints, ``ReadingResult.to_dict()``): non-finite floats (``nan``, ``inf``) become
``None`` (JSON ``null``; ``json.dumps`` would otherwise write ``NaN``/``Infinity``, which is not
JSON), numpy scalars and arrays become Python numbers and lists, tuples become lists and mapping
keys strings. ``ndigits`` rounds floats (smaller files where 6 digits are plenty).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["json_safe"]


def json_safe(obj: Any, *, ndigits: int | None = None) -> Any:
    """A copy of ``obj`` that is plain, finite JSON data (see the module docstring)."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, float):
        if not math.isfinite(obj):
            return None
        return obj if ndigits is None else round(obj, ndigits)
    if isinstance(obj, np.generic):
        return json_safe(obj.item(), ndigits=ndigits)
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist(), ndigits=ndigits)
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v, ndigits=ndigits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v, ndigits=ndigits) for v in obj]
    return obj
