"""Reading a source (path or bytes) once, with caps, and telling formats apart by their bytes.

Private helpers shared by ``core.io.dicom``, ``core.io.images`` and ``core.io.load``. Every
reader first turns its source into a :class:`Source` (all bytes in memory, a display name that
is a file name only, the SHA-256), so that the hash is of exactly the bytes decoded and every
error message names the file the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import struct
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.errors import (
    EmptyFileError,
    FileTooLargeError,
    UnsupportedImageError,
)

logger = logging.getLogger(__name__)

# A 16-bit 43 cm x 43 cm detector at 0.1 mm is ~18.5 MP (37 MB uncompressed); 40 MP leaves room
# for any single radiograph while a decompression bomb (a small file that claims gigapixels)
# is refused before a byte of pixel data is decoded.
MAX_PIXELS = 40_000_000
# Uncompressed 40 MP at 16 bits is 80 MB; 256 MiB also admits generous private headers.
MAX_FILE_BYTES = 256 * 1024 * 1024
# Below this side length an image cannot carry chest anatomy (models see >= 224 px).
MIN_SIDE_PX = 64

SourceLike = str | os.PathLike | bytes | bytearray | memoryview


@dataclass(frozen=True)
class Source:
    """The bytes of one input file and how to name it in messages (file name only)."""

    data: bytes
    name: str  # file name only; "<input>" for anonymous bytes
    sha256: str

    @property
    def label(self) -> str | None:
        """What ``InputFileError`` takes as path: the name, or None for anonymous bytes."""
        return None if self.name == "<input>" else self.name


def read_source(
    source: SourceLike, *, name: str | None = None, max_bytes: int = MAX_FILE_BYTES
) -> Source:
    """Read ``source`` into memory; refuse empty files and files above ``max_bytes``.

    ``name`` overrides the name used in messages and ``Radiograph.source_name`` (an upload's
    original name, say); only its last path component is kept. A missing or unreadable path
    raises the ``OSError`` that ``open`` raises.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = Path(name).name if name else "<input>"
        size = len(data)
    else:
        path = Path(os.fspath(source))
        label = Path(name).name if name else path.name
        size = path.stat().st_size
        if size > max_bytes:  # refuse before reading a byte
            raise FileTooLargeError(label, f"file is {_mib(size)}, above the {_mib(max_bytes)} cap")
        data = path.read_bytes()
        size = len(data)
    if size == 0:
        raise EmptyFileError(_as_path(label), "file is empty (0 bytes)")
    if size > max_bytes:
        raise FileTooLargeError(
            _as_path(label), f"file is {_mib(size)}, above the {_mib(max_bytes)} cap"
        )
    return Source(data=data, name=label, sha256=hashlib.sha256(data).hexdigest())


def _as_path(label: str) -> str | None:
    return None if label == "<input>" else label


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def check_pixel_count(
    src: Source, rows: int, columns: int, *, frames: int = 1, max_pixels: int = MAX_PIXELS
) -> None:
    """Refuse images whose header claims more than ``max_pixels`` or a side below the minimum.

    Called with header values only, before decoding, so a decompression bomb costs nothing.
    """
    total = int(rows) * int(columns) * max(1, int(frames))
    if total > max_pixels:
        what = f"{rows}x{columns}" + (f"x{frames} frames" if frames > 1 else "")
        raise FileTooLargeError(
            src.label,
            f"image is {what} = {total / 1e6:.1f} megapixels, above the "
            f"{max_pixels / 1e6:g} MP cap (decompression bomb guard)",
        )
    if min(rows, columns) < MIN_SIDE_PX:
        raise UnsupportedImageError(
            src.label,
            f"image is only {columns}x{rows} pixels; a radiograph needs at least "
            f"{MIN_SIDE_PX}x{MIN_SIDE_PX}",
        )


# --- format sniffing -------------------------------------------------------------------------

_VRS = {
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT", b"OB",
    b"OD", b"OF", b"OL", b"OV", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST", b"SV", b"TM",
    b"UC", b"UI", b"UL", b"UN", b"UR", b"US", b"UT", b"UV",
}  # fmt: skip


def sniff(data: bytes) -> str | None:
    """``"dicom"``, ``"png"``, ``"jpeg"`` or ``"tiff"`` from the leading bytes; None otherwise.

    DICOM is recognised by "DICM" at offset 128 (Part 10 file), by "DICM" at offset 0 (a file
    meta header written without its preamble) or by a bare data set that opens with a group
    0002/0008 element (old files without preamble or meta header). "DICM" is checked first
    because a DICOM preamble may itself hold a TIFF header (dual-personality files).
    """
    if len(data) >= 132 and data[128:132] == b"DICM":
        return "dicom"
    if data[:4] == b"DICM" or _looks_like_bare_dataset(data):
        return "dicom"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    return None


def _looks_like_bare_dataset(data: bytes) -> bool:
    if len(data) < 8:
        return False
    group, element = struct.unpack("<HH", data[:4])
    if group not in (0x0002, 0x0008) or element > 0x0100:
        return False
    if data[4:6] in _VRS:  # explicit VR
        return True
    (length,) = struct.unpack("<I", data[4:8])  # implicit VR: a plausible value length
    return length < min(len(data), 1024)


_KNOWN_OTHERS = (
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"%PDF", "a PDF document"),
    (b"GIF8", "a GIF image (GazeScope reads DICOM, PNG, JPEG and TIFF)"),
    (b"BM", "a BMP image (GazeScope reads DICOM, PNG, JPEG and TIFF)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 file (GazeScope reads JPEG 2000 only inside DICOM)"),
    (b"\xff\x4f\xff\x51", "a JPEG 2000 codestream (GazeScope reads JPEG 2000 only inside DICOM)"),
)


def describe_unknown(data: bytes) -> str:
    """A short phrase for bytes that are none of the readable formats."""
    for magic, what in _KNOWN_OTHERS:
        if data.startswith(magic):
            return f"not a radiograph: {what}"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "not a radiograph: a WebP image (GazeScope reads DICOM, PNG, JPEG and TIFF)"
    head = data[:512]
    if head and all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return "not a DICOM, PNG, JPEG or TIFF file (it holds plain text)"
    return "not a DICOM, PNG, JPEG or TIFF file (unrecognised content)"


def one_line(err: BaseException, limit: int = 240) -> str:
    """An exception's text on one line, shortened: error messages must stay one line."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def native_stderr_logged(name: str) -> Iterator[None]:
    """Log, instead of printing, what C decoders write to the process's stderr meanwhile.

    libjpeg ("Corrupt JPEG data: ..."), libtiff ("ZIPDecode: ...") and OpenJPEG write their
    complaints straight to file descriptor 2, below Python, which would break the CLI's
    one-line error and reach the app's console without a file name. Around a decode call,
    descriptor 2 is pointed at a temporary file; afterwards its text is logged at INFO level
    with the file's name (``-v`` shows it). Descriptor 2 is process-wide: captures are
    serialised by a lock, and what another thread writes to stderr during a decode (tens of
    milliseconds) is logged the same way rather than printed.
    """
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):  # no usable descriptor 2: nothing to hide
            yield
            return
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                text = sink.read(4096).decode("utf-8", "replace")
        for line in text.splitlines():
            if line.strip():
                logger.info("%s: decoder: %s", name, line.strip())
