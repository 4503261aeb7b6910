"""PNG / JPEG / TIFF -> ``Radiograph`` via Pillow.

What is read:
- greyscale 8-bit (``L``), 16-bit (``I;16*``), 32-bit integer (``I``) and 32-bit float (``F``);
- greyscale stored as RGB(A) or as a palette: accepted only when every pixel has equal R, G and B
  (exactly for lossless formats; within ``JPEG_GREY_TOLERANCE`` levels for JPEG, whose colour
  conversion may round) and any alpha is fully opaque; the grey value is the channel mean;
- greyscale + alpha (``LA``) when the alpha is fully opaque.

What is refused (``UnsupportedImageError``): true colour (a colour photo, or a radiograph with
coloured annotations: the colours would be silently lost), palettes with non-grey entries,
transparency, bilevel (1-bit) images, CMYK/LAB/HSV, multi-page TIFF and animated PNG.

Display: 8-bit data is shown over its full range 0-255 (what every viewer does); deeper data
(16-bit PNG/TIFF, 32-bit integer or float TIFF) gets a robust 0.5-99.5th percentile window,
with min-max as the second window - 16-bit PNGs in the wild use anything from 10 to 16 bits of
their range, so a fixed 0-65535 window is usually nearly black. See ``core.io.display``.

``stored`` holds the pixel values as read (float32). JPEG/TIFF EXIF orientation is applied, so
the pixel grid is the one a viewer shows (recorded as ``metadata["exif_orientation"]``). A TIFF
marked WhiteIsZero is displayed inverted like DICOM MONOCHROME1 (Pillow already inverts 8-bit
ones on read). Pixel spacing is unknown (None) unless the caller supplies ``spacing_mm``:
resolution tags in PNG/TIFF describe print size, not the detector.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from core.errors import (
    CorruptPixelDataError,
    FileTooLargeError,
    GazeScopeError,
    NotAnImageError,
    TruncatedFileError,
    UnsupportedImageError,
)
from core.io._source import (
    MAX_FILE_BYTES,
    MAX_PIXELS,
    Source,
    SourceLike,
    check_pixel_count,
    describe_unknown,
    native_stderr_logged,
    one_line,
    read_source,
    sniff,
)
from core.io.display import apply_window, default_windows, select_windows
from core.io.radiograph import Radiograph, VoiWindow

__all__ = ["JPEG_GREY_TOLERANCE", "load_image"]

logger = logging.getLogger(__name__)

JPEG_GREY_TOLERANCE = 4  # max |R-G|, |G-B| (8-bit levels) for a JPEG still to count as grey
_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "tiff": "TIFF"}
_GREY_MODES = {"L": 8, "I;16": 16, "I;16L": 16, "I;16B": 16, "I;16N": 16, "I": None, "F": None}


def load_image(
    source: SourceLike,
    *,
    name: str | None = None,
    window: int | VoiWindow = 0,
    spacing_mm: tuple[float, float] | None = None,
    max_pixels: int = MAX_PIXELS,
    max_bytes: int = MAX_FILE_BYTES,
) -> Radiograph:
    """Read a greyscale radiograph from a PNG, JPEG or TIFF file (path or bytes)."""
    src = read_source(source, name=name, max_bytes=max_bytes)
    return image_from_source(src, window=window, spacing_mm=spacing_mm, max_pixels=max_pixels)


def image_from_source(
    src: Source,
    *,
    window: int | VoiWindow = 0,
    spacing_mm: tuple[float, float] | None = None,
    max_pixels: int = MAX_PIXELS,
) -> Radiograph:
    """``load_image`` on bytes already read (``core.io.load`` sniffs the format first)."""
    from PIL import Image, ImageOps

    kind = sniff(src.data)
    if kind not in _PIL_FORMATS:
        what = (
            "a DICOM file, not a PNG/JPEG/TIFF image"
            if kind == "dicom"
            else describe_unknown(src.data)
        )
        raise NotAnImageError(src.label, what)
    fmt = _PIL_FORMATS[kind]

    with _pillow_boundary(src, fmt):
        with warnings.catch_warnings():
            # our own cap (below Pillow's) decides; Pillow's warning would only be noise
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(src.data), formats=[fmt])
        frames = int(getattr(im, "n_frames", 1) or 1)
        if frames > 1:
            what = "multi-page TIFF" if fmt == "TIFF" else f"animated {fmt}"
            raise UnsupportedImageError(
                src.label, f"{what} with {frames} frames; GazeScope reads single images"
            )
        width, height = im.size
        check_pixel_count(src, height, width, max_pixels=max_pixels)

        photometric = "MONOCHROME2"
        tags = getattr(im, "tag_v2", {}) if fmt == "TIFF" else {}
        if tags.get(262) == 0 and im.mode not in ("L", "1"):
            photometric = "MONOCHROME1"  # WhiteIsZero; Pillow inverts only 1- and 8-bit data

        with native_stderr_logged(src.name):
            im.load()
        orientation = im.getexif().get(0x0112, 1) if fmt in ("JPEG", "TIFF") else 1
        if orientation not in range(2, 9):  # 1 is upright; other values mean nothing
            orientation = 1
        else:
            im = ImageOps.exif_transpose(im)
        stored, bits, colour_note = _grey_pixels(src, im, fmt)
    if stored.shape != (height, width) and stored.shape != (width, height):
        raise CorruptPixelDataError(
            src.label, f"decoded {fmt} has shape {stored.shape}, its header says {width}x{height}"
        )
    if not np.isfinite(stored).all():
        raise CorruptPixelDataError(src.label, f"{fmt} pixels include NaN or infinite values")
    windows = select_windows(default_windows(stored, bits=bits), window)
    image = apply_window(stored, windows[0])
    if photometric == "MONOCHROME1":
        image = np.float32(1.0) - image

    metadata: dict[str, Any] = {
        "format": fmt,
        "pil_mode": im.mode,
        "bits_stored": bits if bits is not None else 32,
        "sample_format": "float" if im.mode == "F" else "integer",
        "photometric_interpretation": photometric,
        "rows": int(stored.shape[0]),
        "columns": int(stored.shape[1]),
    }
    if colour_note:
        metadata["stored_as"] = colour_note
    if orientation != 1:
        metadata["exif_orientation"] = int(orientation)
    spacing = None if spacing_mm is None else (float(spacing_mm[0]), float(spacing_mm[1]))
    return Radiograph(
        image=np.ascontiguousarray(image, dtype=np.float32),
        sha256=src.sha256,
        source_name=src.name,
        stored=stored,
        spacing_mm=spacing,
        spacing_source=None if spacing is None else "caller",
        windows=windows,
        metadata=metadata,
    )


def _grey_pixels(src: Source, im: Any, fmt: str) -> tuple[np.ndarray, int | None, str]:
    """(stored float32 (H, W), bit depth or None, note on how grey was stored)."""
    mode = im.mode
    if mode in _GREY_MODES:
        return np.asarray(im).astype(np.float32), _GREY_MODES[mode], ""
    if mode == "1":
        raise UnsupportedImageError(
            src.label, "bilevel (1-bit) image; a radiograph has grey levels"
        )
    if mode in ("LA", "La"):
        arr = np.asarray(im.convert("LA"))
        _require_opaque(src, arr[..., 1])
        return arr[..., 0].astype(np.float32), 8, "LA"
    if mode in ("P", "PA", "RGB", "RGBA", "RGBX"):
        note = "palette" if mode in ("P", "PA") else mode
        arr = np.asarray(im.convert("RGBA") if mode in ("P", "PA") else im)
        if arr.shape[-1] == 4:
            if mode != "RGBX":
                _require_opaque(src, arr[..., 3])
            arr = arr[..., :3]
        rgb = arr.astype(np.int16)
        spread = int(np.max(np.abs(rgb[..., 0] - rgb[..., 1]), initial=0))
        spread = max(spread, int(np.max(np.abs(rgb[..., 1] - rgb[..., 2]), initial=0)))
        tolerance = JPEG_GREY_TOLERANCE if fmt == "JPEG" else 0
        if spread > tolerance:
            what = "palette with colour entries" if note == "palette" else f"colour image ({mode})"
            raise UnsupportedImageError(
                src.label,
                f"{what}: channels differ by up to {spread} levels; GazeScope reads greyscale "
                "radiographs only",
            )
        grey = rgb[..., 0] if spread == 0 else rgb.mean(axis=-1)
        return grey.astype(np.float32), 8, note
    raise UnsupportedImageError(
        src.label,
        f"unsupported pixel format (Pillow mode {mode}); GazeScope reads greyscale images",
    )


def _require_opaque(src: Source, alpha: np.ndarray) -> None:
    if alpha.size and int(alpha.min()) < 255:
        raise UnsupportedImageError(
            src.label, "image has transparent pixels; a radiograph is opaque"
        )


@contextlib.contextmanager
def _pillow_boundary(src: Source, fmt: str) -> Iterator[None]:
    """The one place where Pillow's exceptions become GazeScope errors.

    Pillow's format plugins raise many types on corrupt or hostile data - ``OSError``
    (truncation, decoder errors), ``SyntaxError`` (broken chunks), ``ValueError``,
    ``struct.error``, ``EOFError``, ``IndexError``, ``KeyError``, ``TypeError``,
    ``ZeroDivisionError`` and, over its own pixel limit, ``DecompressionBombError`` - and the
    set changes between versions. Everything Pillow does on an input file runs inside this
    boundary; GazeScope's own errors pass through, a decompression bomb becomes
    ``FileTooLargeError``, and anything else is logged with its traceback (debug level) and
    becomes ``TruncatedFileError`` or ``CorruptPixelDataError`` naming the file.
    """
    from PIL import Image

    try:
        yield
    except GazeScopeError:
        raise
    except Image.DecompressionBombError as err:
        raise FileTooLargeError(
            src.label, f"{fmt} header claims a decompression bomb ({one_line(err)})"
        ) from err
    except Exception as err:  # Pillow's plugins on corrupt data: see the docstring
        logger.debug("%s: Pillow failed on %s data", src.name, fmt, exc_info=True)
        raise _read_error(src, fmt, err) from err


def _read_error(src: Source, fmt: str, err: BaseException) -> Exception:
    text = one_line(err)
    if "truncat" in text.lower() or isinstance(err, EOFError):
        return TruncatedFileError(src.label, f"{fmt} file is truncated ({text})")
    return CorruptPixelDataError(src.label, f"{fmt} data cannot be decoded ({text})")
