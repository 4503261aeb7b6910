"""``load_radiograph``: any supported file (path or bytes) -> ``Radiograph``.

The format is decided by the file's leading bytes, never by its extension: a PNG named
``.dcm`` is read as PNG, a text file named ``.dcm`` is refused as text. DICOM is recognised
with or without its 128-byte preamble (see ``core.io._source.sniff``).
"""

from __future__ import annotations

from typing import Any

from core.errors import NotAnImageError
from core.io._source import (
    MAX_FILE_BYTES,
    MAX_PIXELS,
    SourceLike,
    describe_unknown,
    read_source,
    sniff,
)
from core.io.dicom import dicom_from_source
from core.io.images import image_from_source
from core.io.radiograph import Radiograph, VoiWindow

__all__ = ["load_radiograph", "summarize"]


def load_radiograph(
    source: SourceLike,
    *,
    name: str | None = None,
    window: int | VoiWindow = 0,
    spacing_mm: tuple[float, float] | None = None,
    max_pixels: int = MAX_PIXELS,
    max_bytes: int = MAX_FILE_BYTES,
) -> Radiograph:
    """Read a radiograph from DICOM, PNG, JPEG or TIFF, chosen by the file's magic bytes.

    ``name`` is the name shown in messages and kept as ``source_name`` (file name only; for
    bytes it defaults to ``"<input>"``). ``window`` picks one of the windows the file offers
    (index) or applies a custom ``VoiWindow``. ``spacing_mm`` (row, column) overrides the
    spacing in the file - PNG/JPEG/TIFF carry none. ``max_pixels`` and ``max_bytes`` cap the
    decoded image and the file size; both are checked before anything is decoded.
    Bad input raises a ``core.errors.InputFileError`` subclass whose message is
    ``"<file name>: <problem>"``.
    """
    src = read_source(source, name=name, max_bytes=max_bytes)
    kind = sniff(src.data)
    if kind == "dicom":
        return dicom_from_source(
            src, window=window, max_pixels=max_pixels, spacing_mm=spacing_mm, max_bytes=max_bytes
        )
    if kind in ("png", "jpeg", "tiff"):
        return image_from_source(src, window=window, spacing_mm=spacing_mm, max_pixels=max_pixels)
    raise NotAnImageError(src.label, describe_unknown(src.data))


def summarize(radiograph: Radiograph) -> dict[str, Any]:
    """The non-identifying facts about a radiograph, JSON-ready (what ``gazescope info`` shows)."""
    meta = dict(radiograph.metadata)
    return {
        "source_name": radiograph.source_name,
        "format": meta.pop("format", None),
        "sha256": radiograph.sha256,
        "rows": radiograph.height,
        "columns": radiograph.width,
        "modality": meta.pop("modality", None),
        "photometric_interpretation": meta.pop("photometric_interpretation", None),
        "bits_stored": meta.pop("bits_stored", None),
        "transfer_syntax": meta.pop("transfer_syntax", None),
        "transfer_syntax_uid": meta.pop("transfer_syntax_uid", None),
        "spacing_mm": None if radiograph.spacing_mm is None else list(radiograph.spacing_mm),
        "spacing_source": radiograph.spacing_source,
        "windows": [
            {"name": w.name, "center": w.center, "width": w.width, "function": w.function}
            for w in radiograph.windows
        ],
        "stored_range": None
        if radiograph.stored is None
        else [float(radiograph.stored.min()), float(radiograph.stored.max())],
        "metadata": {k: v for k, v in meta.items() if k not in ("rows", "columns")},
    }
