"""What the browser receives: the viewer's and the report panel's values, and the cached image.

The image travels as a lossless file URL holding 16-bit codes of the *stored* values (after the
modality LUT, before any window), so window/level in the browser works on the real data, with
the file's own VOI windows as presets: ``stored = offset + code * scale``. The file
(``IMAGE_ENCODING``) is one zlib stream of the codes' row-wise differences (mod 2^16), high-byte
plane then low-byte plane: smaller than a PNG of the same codes and about twice as fast to write
(``python -m app.bench --image``), and inflated natively by the browser
(``DecompressionStream``, no canvas round trip). Integer data that spans at most 65536
values is sent exactly (``scale`` 1). Attention and gaze-density maps are reduced to at most
``MAP_SIDE`` cells a side and quantised to 8 bits (display only).
"""

from __future__ import annotations

import base64
import json
import logging
import math
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from core.io import Radiograph
from core.vocabulary import FINDINGS

logger = logging.getLogger(__name__)

MAP_SIDE = 64  # longest side of a map sent to the browser
_FINDING_NAMES = {f.id: f.name for f in FINDINGS}
ALL_OVERLAYS: tuple[str, ...] = ("scanpath", "attention", "regions", "measurements")


def finding_name(finding_id: str) -> str:
    """The vocabulary's display name of a finding (the id itself when unknown)."""
    return _FINDING_NAMES.get(finding_id, finding_id.replace("_", " "))


def stored_codes(rg: Radiograph) -> tuple[np.ndarray, float, float]:
    """16-bit codes of the stored values and ``(offset, scale)`` with stored = offset + code*scale."""
    stored = rg.stored if rg.stored is not None else rg.image * 65535.0
    lo, hi = float(np.min(stored)), float(np.max(stored))
    exact = hi - lo <= 65535 and np.all(np.equal(np.mod(stored, 1), 0))
    scale = 1.0 if exact else max(hi - lo, 1e-12) / 65535.0
    codes = np.rint((stored - lo) / scale).clip(0, 65535).astype(np.uint16)
    return codes, lo, scale


IMAGE_ENCODING = "u16-rowdelta-planes-zlib"
IMAGE_SUFFIX = ".u16z"


def encode_codes(codes: np.ndarray, level: int = 1) -> bytes:
    """16-bit codes ``(H, W)`` -> the bytes of an ``IMAGE_ENCODING`` file (lossless)."""
    c = np.ascontiguousarray(codes, dtype=np.uint16)
    d = np.empty_like(c)
    d[:, 0] = c[:, 0]
    np.subtract(c[:, 1:], c[:, :-1], out=d[:, 1:])  # wraps mod 2^16
    planes = np.empty((2, *c.shape), np.uint8)
    planes[0] = d >> 8
    planes[1] = d & 0xFF
    return zlib.compress(planes.tobytes(), level)


def decode_codes(data: bytes, height: int, width: int) -> np.ndarray:
    """The inverse of :func:`encode_codes` (what the viewer's JavaScript does)."""
    planes = np.frombuffer(zlib.decompress(data), np.uint8).reshape(2, height, width)
    d = (planes[0].astype(np.uint16) << 8) | planes[1]
    return np.cumsum(d, axis=1, dtype=np.uint16)  # wraps mod 2^16, like the encoder


def cached_image(sha256: str, cache_dir: Path) -> dict[str, Any] | None:
    """The description :func:`write_image` wrote for this image, or None when not cached."""
    path = cache_dir / "images" / f"{sha256}{IMAGE_SUFFIX}"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        return {**json.loads(meta.read_text()), "path": str(path)}
    return None


def write_image(rg: Radiograph, cache_dir: Path) -> dict[str, Any]:
    """Encode the case image once (``IMAGE_ENCODING``) and describe it for the viewer.

    Returns the ``image`` part of the viewer value without its URL (see :func:`viewer_value`).
    """
    path = cache_dir / "images" / f"{rg.sha256}{IMAGE_SUFFIX}"
    meta = path.with_suffix(".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    codes, offset, scale = stored_codes(rg)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(encode_codes(codes))
    tmp.replace(path)
    windows = []
    for w in rg.windows:
        if not (math.isfinite(w.center) and math.isfinite(w.width) and w.width > 0):
            continue
        name = w.name or f"{w.function.lower()} window"
        windows.append({"name": name, "center": float(w.center), "width": float(w.width)})
    mono1 = str(rg.metadata.get("photometric_interpretation", "")).upper() == "MONOCHROME1"
    info = {
        "encoding": IMAGE_ENCODING,
        "width": rg.width,
        "height": rg.height,
        "offset": offset,
        "scale": scale,
        "windows": windows,
        "invert": mono1,
    }
    meta.write_text(json.dumps(info))
    return {**info, "path": str(path)}


def encode_map(data: Any) -> dict[str, Any] | None:
    """A map on any grid -> at most MAP_SIDE a side, scaled to its max, 8-bit, base64."""
    if data is None:
        return None
    a = np.asarray(data, dtype=np.float32)
    if a.ndim != 2 or a.size == 0 or not np.isfinite(a).all():
        return None
    gh, gw = a.shape
    f = max(1, math.ceil(max(gh, gw) / MAP_SIDE))
    if f > 1:
        gh2, gw2 = gh // f, gw // f
        a = a[: gh2 * f, : gw2 * f].reshape(gh2, f, gw2, f).mean(axis=(1, 3))
    peak = float(a.max())
    q = np.zeros(a.shape, np.uint8) if peak <= 0 else np.rint(a / peak * 255).astype(np.uint8)
    return {"shape": list(q.shape), "b64": base64.b64encode(q.tobytes()).decode("ascii")}


def _rounded(values: Any, digits: int = 4) -> Any:
    """Normalised coordinates to ``digits`` decimals (0.2 px on a 2k image): a smaller message."""
    if isinstance(values, (list, tuple)):
        return [_rounded(v, digits) for v in values]
    return round(float(values), digits)


def viewer_value(
    result: dict[str, Any],
    image: dict[str, Any],
    image_url: str,
    *,
    title: str,
    allowed_overlays: tuple[str, ...] = ALL_OVERLAYS,
) -> dict[str, Any]:
    """The viewer's value: image, anatomy, scanpaths, maps and the sentences' evidence."""
    maps: dict[str, dict[str, Any]] = {}
    if "attention" in allowed_overlays:
        findings = [f["finding"] for f in result.get("findings", [])]
        for fid in findings + [k for k in result.get("attention", {}) if k not in findings]:
            m = result.get("attention", {}).get(fid)
            enc = encode_map(m.get("data") if isinstance(m, dict) else m)
            if enc:
                maps[fid] = {**enc, "label": f"attention: {finding_name(fid)}"}
        sal = result.get("saliency")
        enc = encode_map(sal.get("data") if isinstance(sal, dict) else sal)
        if enc:
            maps["__gaze__"] = {**enc, "label": "predicted gaze density"}
    image_out = {k: v for k, v in image.items() if k != "path"}
    regions = [
        {**r, "polygon": _rounded(r.get("polygon") or []), "box": _rounded(r.get("box") or [])}
        for r in result["anatomy"]["regions"]
    ]
    return {
        "case": result["image"]["sha256"],
        "title": title,
        "image": {**image_out, "url": image_url},
        "anatomy": {
            "regions": regions,
            "measurements": result["anatomy"]["measurements"],
        },
        "scanpaths": result.get("scanpaths", []) if "scanpath" in allowed_overlays else [],
        "maps": maps,
        "sentences": [
            {"id": s["id"], "region_ids": s["region_ids"], "evidence": s.get("evidence") or {}}
            for s in result.get("sentences", [])
        ],
        "allowed_overlays": list(allowed_overlays),
    }
