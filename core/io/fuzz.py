"""A seeded mutation fuzzer for ``core.io.load_radiograph`` (``gazescope fuzz``, tests).

The guarantee it checks: for any bytes, ``load_radiograph`` either returns a ``Radiograph``
whose image is a finite 2-D float32 array in [0, 1], or raises a ``GazeScopeError`` whose
message is one line that starts with the file's name; nothing else, and no hang.

**Seeds** (``build_corpus``) are real files from ``../shared/data``: the SIIM DICOM (JPEG
baseline) and its MONOCHROME1 copy, the NEMA JPEG 2000 DICOM, NIH PNGs. The SIIM header and
pixels (decoded, downsampled to 256 x 256 to keep cases fast) are re-encoded with every transfer
syntax the installed plugins can write - explicit and implicit VR little endian, explicit VR big
endian, deflated, RLE, JPEG-LS, JPEG 2000, JPEG lossless (process 14, via GDCM) - and once as
12-bit data with rescale, windows, a VOI LUT sequence, spacing and magnification attributes, so
that edits of those attributes are reachable. NIH pixels are also written as 16-bit PNG,
baseline and progressive JPEG and 8/16-bit/float TIFF (raw, LZW, deflate).

**Mutations** (``mutate``), one to three per case, each chosen at random:

- byte flips (1-16 random bits) and random bytes, mostly in the first 4 KiB (the headers);
- truncation at a random length;
- splices: a run of bytes copied from another seed (or elsewhere in the same file),
  overwritten or inserted; deletions and duplications of a run;
- zeroed runs;
- targeted header edits: a DICOM element's VR (random, another valid VR, or ``"U\\0"``), its
  length (0, odd, off by one, undefined, huge) or its value (numbers such as ``1e308``,
  ``NaN``, ``-0``, text, random bytes including non-ASCII); PNG chunk fields (IHDR width,
  height, depth, colour type; chunk lengths), with the CRC fixed most of the time so Pillow
  gets past it; JPEG frame and segment fields (SOF height/width/precision/components, segment
  lengths); TIFF IFD entries (type, count, value/offset).

Case ``i`` of seed ``s`` is generated from ``random.Random(f"{s}:{i}")`` alone, so any case
can be regenerated on its own (``gazescope fuzz --seed S --case I --save FILE``).

**Runner** (``run_fuzz``): the cases run in one worker process; the parent waits at most
``timeout_s`` per case, and a worker that overruns it is killed and the case counted as a hang
(a decoder stuck in C code cannot be interrupted from inside), one that dies as a crash. This
is a hang detector, not a speed assertion. The worker's peak memory and the slowest case are
reported as figures.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import random
import struct
import tempfile
import time
import traceback
import warnings
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import GazeScopeError

__all__ = [
    "CaseResult",
    "Field",
    "FuzzReport",
    "Seed",
    "build_corpus",
    "check_bytes",
    "make_case",
    "mutate",
    "run_fuzz",
]

logger = logging.getLogger(__name__)

HEADER_BYTES = 4096  # byte-level mutations land here half of the time


@dataclass(frozen=True)
class Field:
    """A header field of a seed that targeted edits change.

    ``kind``: ``"vr"`` (a DICOM VR, 2 ASCII bytes), ``"text"`` (a DICOM string value),
    ``"bytes"`` (any binary value) or an integer layout ``"u8"``, ``"u16le"``, ``"u16be"``,
    ``"u32le"``, ``"u32be"``. ``crc`` is the (start, end) of a PNG chunk's type+body whose CRC
    follows at ``end``, to recompute after the edit.
    """

    offset: int
    size: int
    kind: str
    what: str
    crc: tuple[int, int] | None = None


@dataclass(frozen=True)
class Seed:
    """One clean input file and its targeted fields."""

    name: str
    data: bytes
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case: ``"loaded"``, ``"refused"``, ``"failure"``, ``"hang"``,
    ``"crash"``; ``detail`` is the error class (refused) or what went wrong (others)."""

    index: int
    seed: str
    mutations: tuple[str, ...]
    outcome: str
    detail: str = ""
    seconds: float = 0.0


@dataclass
class FuzzReport:
    """Counts and the cases that broke the guarantee."""

    n: int
    seed: int
    seeds: tuple[str, ...]
    outcomes: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)  # refusals by error class
    bad: list[CaseResult] = field(default_factory=list)  # failure, hang or crash
    max_seconds: float = 0.0  # wall clock, in the worker (a busy machine inflates it)
    slowest: str = ""
    max_cpu_seconds: float = 0.0  # CPU time of the worker process
    slowest_cpu: str = ""
    median_seconds: float = 0.0
    worker_peak_mib: float = 0.0
    wall_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.bad

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "seed": self.seed,
            "seeds": list(self.seeds),
            "outcomes": dict(self.outcomes),
            "errors": dict(self.errors),
            "bad": [r.__dict__ for r in self.bad],
            "max_seconds": self.max_seconds,
            "slowest": self.slowest,
            "max_cpu_seconds": self.max_cpu_seconds,
            "slowest_cpu": self.slowest_cpu,
            "median_seconds": self.median_seconds,
            "worker_peak_mib": self.worker_peak_mib,
            "wall_seconds": self.wall_seconds,
        }


# --- the check ------------------------------------------------------------------------------


def check_bytes(data: bytes, name: str) -> tuple[str, str]:
    """``("loaded" | "refused" | "failure", detail)`` for one input, per the module's guarantee."""
    from core.io.load import load_radiograph

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom's and Pillow's warnings are not outcomes
            r = load_radiograph(data, name=name)
    except GazeScopeError as err:
        msg = str(err)
        if "\n" in msg or not msg.startswith(f"{name}: ") or len(msg) <= len(name) + 2:
            return (
                "failure",
                f"{type(err).__name__} message is not one line naming the file: {msg!r}",
            )
        return "refused", type(err).__name__
    except Exception as err:  # exactly what the fuzzer looks for
        tb = traceback.extract_tb(err.__traceback__)
        where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
        return "failure", f"{type(err).__name__}{where}: {' '.join(str(err).split())[:200]}"
    img = r.image
    if img.ndim != 2 or img.dtype != np.float32:
        return "failure", f"image is {img.dtype} {img.shape}, not 2-D float32"
    if img.size == 0 or not np.isfinite(img).all():
        return "failure", "image is empty or holds NaN/inf"
    if float(img.min()) < 0.0 or float(img.max()) > 1.0:
        return "failure", f"image range {img.min()}..{img.max()} is outside [0, 1]"
    return "loaded", ""


# --- mutations ------------------------------------------------------------------------------

_VALID_VRS = (
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT", b"OB",
    b"OD", b"OF", b"OL", b"OV", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST", b"SV", b"TM",
    b"UC", b"UI", b"UL", b"UN", b"UR", b"US", b"UT", b"UV",
)  # fmt: skip
_TEXT_VALUES = (
    b"0", b"-0", b"1", b"-1", b"1e308", b"-1e308", b"1e-308", b"NaN", b"nan", b"inf", b"-inf",
    b"abc", b"\\", b"\\\\\\\\", b"1\\2\\3\\4", b"99999999999999999999", b"0.0000001", b"65536",
    b"MONOCHROME3", b"RGB", b"YBR_FULL", b"PALETTE COLOR", b"CT", b"  ", b"\x00\x00",
    b"ISO_IR 999", b"ISO 2022 IR 87", b"\x1b$B", b"\xff\xfe\xfd", b"\xc3\x28",
)  # fmt: skip
_INT_WIDTH = {"u8": 1, "u16le": 2, "u16be": 2, "u32le": 4, "u32be": 4}


def _interesting_int(rng: random.Random, original: int, bits: int) -> int:
    top = (1 << bits) - 1
    choices = [
        0, 1, 2, 7, 8, 15, 16, 255, 256, 4095, 32767, 32768, 65535, top, top - 1,
        original + 1, max(0, original - 1), original * 2, original // 2, original ^ (1 << rng.randrange(bits)),
        rng.randrange(top + 1),
    ]  # fmt: skip
    return min(top, max(0, rng.choice(choices)))


def _edit_field(data: bytearray, f: Field, rng: random.Random) -> str:
    end = f.offset + f.size
    if end > len(data):
        return "field edit skipped (file too short)"
    if f.kind == "vr":
        pick = rng.random()
        if pick < 0.4:
            new = bytes([rng.randrange(65, 91), 0])  # "U\0": the reproduction shape
        elif pick < 0.7:
            new = rng.choice(_VALID_VRS)
        else:
            new = bytes(rng.randrange(256) for _ in range(2))
        data[f.offset : end] = new
        return f"{f.what}: VR -> {new!r}"
    if f.kind == "text":
        value = rng.choice(_TEXT_VALUES)
        new = (value + b" " * f.size)[: f.size] if rng.random() < 0.8 else value[: f.size]
        data[f.offset : f.offset + len(new)] = new
        return f"{f.what}: value -> {new!r}"
    if f.kind == "bytes":
        pick = rng.random()
        if pick < 0.3:
            new = bytes(f.size)
        elif pick < 0.5:
            new = b"\xff" * f.size
        else:
            new = bytes(rng.randrange(256) for _ in range(f.size))
        data[f.offset : end] = new
        return f"{f.what}: {f.size} byte(s) replaced"
    width = _INT_WIDTH[f.kind]
    fmt = {"u8": "B", "u16le": "<H", "u16be": ">H", "u32le": "<I", "u32be": ">I"}[f.kind]
    (original,) = struct.unpack_from(fmt, data, f.offset)
    new_int = _interesting_int(rng, original, 8 * width)
    struct.pack_into(fmt, data, f.offset, new_int)
    if f.crc is not None and rng.random() < 0.8 and f.crc[1] + 4 <= len(data):
        crc = zlib.crc32(bytes(data[f.crc[0] : f.crc[1]]))
        struct.pack_into(">I", data, f.crc[1], crc)
    return f"{f.what}: {original} -> {new_int}"


def _position(rng: random.Random, n: int) -> int:
    if rng.random() < 0.5:
        return rng.randrange(min(n, HEADER_BYTES))
    return rng.randrange(n)


def mutate(
    data: bytes, seed: Seed, others: Sequence[Seed], rng: random.Random
) -> tuple[bytes, str]:
    """One mutation of ``data`` (bytes of ``seed``, possibly mutated already) and its name."""
    buf = bytearray(data)
    n = len(buf)
    ops = ["flip", "bytes", "truncate", "zero", "splice", "delete", "duplicate"]
    weights = [3, 2, 2, 2, 2, 1, 1]
    if seed.fields:
        ops.append("field")
        weights.append(5)
    op = rng.choices(ops, weights)[0]
    if op == "flip":
        k = rng.randint(1, 16)
        for _ in range(k):
            buf[_position(rng, n)] ^= 1 << rng.randrange(8)
        return bytes(buf), f"flip {k} bit(s)"
    if op == "bytes":
        k = rng.randint(1, 8)
        for _ in range(k):
            buf[_position(rng, n)] = rng.randrange(256)
        return bytes(buf), f"{k} random byte(s)"
    if op == "truncate":
        cut = _position(rng, n) if rng.random() < 0.5 else rng.randrange(1, max(2, n))
        return bytes(buf[: max(1, cut)]), f"truncate to {max(1, cut)}"
    if op == "zero":
        start = _position(rng, n)
        length = min(n - start, rng.choice([1, 2, 4, 16, 64, 512, 4096, rng.randrange(1, n + 1)]))
        buf[start : start + length] = bytes(length)
        return bytes(buf), f"zero {length} at {start}"
    if op in ("delete", "duplicate"):
        start = _position(rng, n)
        length = min(n - start, rng.choice([1, 2, 3, 4, 8, 100, 1000]))
        if op == "delete":
            del buf[start : start + length]
        else:
            buf[start:start] = buf[start : start + length]
        return bytes(buf), f"{op} {length} at {start}"
    if op == "splice":
        donor = rng.choice(others).data if rng.random() < 0.6 else bytes(buf)
        length = rng.choice([4, 16, 64, 256, 4096])
        d0 = rng.randrange(max(1, len(donor) - length))
        chunk = donor[d0 : d0 + length]
        at = _position(rng, n)
        if rng.random() < 0.5:
            buf[at : at + len(chunk)] = chunk
            return bytes(buf), f"splice {len(chunk)} over {at}"
        buf[at:at] = chunk
        return bytes(buf), f"splice-insert {len(chunk)} at {at}"
    f = rng.choice(seed.fields)
    return bytes(buf), _edit_field(buf, f, rng)  # type: ignore[arg-type]


def make_case(corpus: Sequence[Seed], seed: int, index: int) -> tuple[Seed, bytes, tuple[str, ...]]:
    """Case ``index`` of run ``seed``: the seed file, the mutated bytes and the mutations."""
    rng = random.Random(f"gazescope-fuzz:{seed}:{index}")
    base = rng.choice(corpus)
    data = base.data
    done = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        if not data:
            break
        data, what = mutate(data, base, corpus, rng)
        done.append(what)
    return base, data, tuple(done)


# --- the corpus -----------------------------------------------------------------------------


def build_corpus(data_dir: str | Path, *, nih_images: int = 2) -> list[Seed]:
    """The seed files (see the module docstring), built in memory from ``data_dir``."""
    from pydicom.uid import (
        DeflatedExplicitVRLittleEndian,
        ExplicitVRBigEndian,
        ImplicitVRLittleEndian,
        JPEG2000Lossless,
        JPEGLSLossless,
        RLELossless,
    )

    data_dir = Path(data_dir)
    dicom_dir = data_dir / "dicom"
    seeds: list[Seed] = []
    for name in (
        "siim_cr_chest_pa.dcm",
        "siim_cr_chest_pa_monochrome1.dcm",
        "nema_rg1_cr_chest_j2k.dcm",
    ):
        seeds.append(_dicom_seed(name, (dicom_dir / name).read_bytes()))

    siim = _read_dicom((dicom_dir / "siim_cr_chest_pa.dcm").read_bytes())
    px8 = np.ascontiguousarray(siim.pixel_array[::4, ::4])
    for label, ts in (
        ("explicit-le", None),
        ("implicit-le", ImplicitVRLittleEndian),
        ("explicit-be", ExplicitVRBigEndian),
        ("deflated", DeflatedExplicitVRLittleEndian),
        ("rle", RLELossless),
        ("jpeg-ls", JPEGLSLossless),
        ("jpeg2000", JPEG2000Lossless),
    ):
        try:
            data = _encode(siim, px8, ts)
        except Exception as err:  # a missing encoder plugin only shrinks the corpus
            logger.warning("fuzz corpus: no %s seed (%s)", label, err)
            continue
        seeds.append(_dicom_seed(f"siim256@{label}.dcm", data))
    lossless14 = _gdcm_jpeg_lossless(_encode(siim, px8, None))
    if lossless14 is not None:
        seeds.append(_dicom_seed("siim256@jpeg-lossless.dcm", lossless14))
    seeds.append(_dicom_seed("siim256-12bit-voi@explicit-le.dcm", _encode_12bit(siim, px8)))

    nih = sorted((data_dir / "nih-cxr14-sample" / "images").glob("*.png"))[:nih_images]
    small = sorted((data_dir / "nih-cxr14-64px" / "images").glob("*.png"))[:1]
    for path in [*nih, *small]:
        seeds.append(_png_seed(path.name, path.read_bytes()))
    from PIL import Image

    grey = np.asarray(Image.open(nih[0]).convert("L"))[::2, ::2]
    stem = nih[0].stem
    seeds.append(
        _png_seed(
            f"{stem}-16bit.png", _pil_bytes(Image.fromarray(grey.astype(np.uint16) * 257), "PNG")
        )
    )
    seeds.append(_jpeg_seed(f"{stem}.jpg", _pil_bytes(Image.fromarray(grey), "JPEG", quality=90)))
    seeds.append(
        _jpeg_seed(
            f"{stem}-progressive.jpg", _pil_bytes(Image.fromarray(grey), "JPEG", progressive=True)
        )
    )
    seeds.append(_tiff_seed(f"{stem}.tif", _pil_bytes(Image.fromarray(grey), "TIFF")))
    seeds.append(
        _tiff_seed(
            f"{stem}-16bit-lzw.tif",
            _pil_bytes(
                Image.fromarray(grey.astype(np.uint16) * 257), "TIFF", compression="tiff_lzw"
            ),
        )
    )
    seeds.append(
        _tiff_seed(
            f"{stem}-float-deflate.tif",
            _pil_bytes(
                Image.fromarray(grey.astype(np.float32) / 255),
                "TIFF",
                compression="tiff_adobe_deflate",
            ),
        )
    )
    return seeds


def _read_dicom(data: bytes) -> Any:
    import pydicom

    return pydicom.dcmread(io.BytesIO(data), force=True)


def _encode(template: Any, px: np.ndarray, syntax: Any) -> bytes:
    """``template``'s header with pixels ``px`` (8-bit), in transfer syntax ``syntax``."""
    from pydicom.uid import (
        DeflatedExplicitVRLittleEndian,
        ExplicitVRBigEndian,
        ExplicitVRLittleEndian,
        ImplicitVRLittleEndian,
    )

    ds = _read_dicom(_to_bytes(template))
    ds.Rows, ds.Columns = px.shape
    ds.PixelData = px.tobytes()
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.set_original_encoding(False, True)
    if syntax in (
        None,
        ImplicitVRLittleEndian,
        ExplicitVRBigEndian,
        DeflatedExplicitVRLittleEndian,
    ):
        if syntax is not None:
            ds.file_meta.TransferSyntaxUID = syntax
        implicit = syntax == ImplicitVRLittleEndian
        little = syntax != ExplicitVRBigEndian
        return _to_bytes(ds, implicit_vr=implicit, little_endian=little)
    ds.compress(syntax, px)
    return _to_bytes(ds)


def _encode_12bit(template: Any, px8: np.ndarray) -> bytes:
    """A 12-bit version with rescale, two windows, a VOI LUT item, spacing and magnification."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DicomSequence
    from pydicom.uid import ExplicitVRLittleEndian

    ds = _read_dicom(_to_bytes(template))
    px = (px8.astype(np.uint16) * 16).astype(np.uint16)
    ds.Rows, ds.Columns = px.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = px.tobytes()
    ds["PixelData"].VR = "OW"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.Modality = "DX"
    ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = "1.5", "-100", "US"
    ds.WindowCenter, ds.WindowWidth = ["2000", "1500"], ["4000", "2000"]
    ds.WindowCenterWidthExplanation = ["FULL", "SOFT"]
    ds.VOILUTFunction = "LINEAR"
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 12]
    item.LUTData = [min(4095, i) for i in range(4096)]
    item["LUTData"].VR = "US"
    item.LUTExplanation = "IDENTITY"
    ds.VOILUTSequence = DicomSequence([item])
    ds.ImagerPixelSpacing = ["0.672", "0.672"]
    ds.PixelSpacing = ["0.6", "0.6"]
    ds.EstimatedRadiographicMagnificationFactor = "1.12"
    ds.set_original_encoding(False, True)
    return _to_bytes(ds)


def _to_bytes(ds: Any, **kwargs: Any) -> bytes:
    import pydicom

    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kwargs.get("little_endian", True):
            pydicom.dcmwrite(buf, ds, enforce_file_format=True, **kwargs)
        else:  # big endian from a little-endian data set needs force_encoding
            pydicom.dcmwrite(buf, ds, force_encoding=True, **kwargs)
    return buf.getvalue()


def _gdcm_jpeg_lossless(native: bytes) -> bytes | None:
    """``native`` re-encoded as JPEG Lossless process 14 SV1 by GDCM; None without GDCM."""
    try:
        import gdcm
    except ImportError:
        logger.warning("fuzz corpus: no JPEG lossless seed (python-gdcm missing)")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.dcm", Path(tmp) / "out.dcm"
        src.write_bytes(native)
        reader = gdcm.ImageReader()
        reader.SetFileName(str(src))
        if not reader.Read():
            return None
        change = gdcm.ImageChangeTransferSyntax()
        change.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.JPEGLosslessProcess14_1))
        change.SetInput(reader.GetImage())
        if not change.Change():
            return None
        writer = gdcm.ImageWriter()
        writer.SetFileName(str(dst))
        writer.SetFile(reader.GetFile())
        writer.SetImage(change.GetOutput())
        return dst.read_bytes() if writer.Write() else None


def _pil_bytes(im: Any, fmt: str, **kwargs: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


_STRING_VRS = frozenset(
    {
        "AE",
        "AS",
        "CS",
        "DA",
        "DS",
        "DT",
        "IS",
        "LO",
        "LT",
        "PN",
        "SH",
        "ST",
        "TM",
        "UC",
        "UI",
        "UR",
        "UT",
    }
)
_LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT"})


def _dicom_seed(name: str, data: bytes) -> Seed:
    """A DICOM seed with its elements' VR, length and value fields (top level, not deflated)."""
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    fields: list[Field] = []
    ds = _read_dicom(data)
    implicit, little = ds.original_encoding
    ts = ds.file_meta.get("TransferSyntaxUID")
    uid = str(ts).encode() if ts else b""
    at = data.find(uid, 132) if uid else -1
    if at > 0:
        fields.append(Field(at, len(uid), "text", "Transfer Syntax UID"))
    if ts == DeflatedExplicitVRLittleEndian or implicit is None:
        return Seed(name, data, tuple(fields))
    order = "le" if little else "be"
    for tag in ds.keys():
        raw = ds.get_item(tag)
        tell = getattr(raw, "value_tell", None)
        length = getattr(raw, "length", None)
        if tell is None or length is None:
            continue
        vr = str(raw.VR)
        long_form = not implicit and vr in _LONG_VRS
        start = tell - (12 if long_form else 8)
        what = f"{tag}"
        if not implicit:
            fields.append(Field(start + 4, 2, "vr", what))
        if implicit or long_form:
            fields.append(Field(tell - 4, 4, f"u32{order}", f"{what} length"))
        else:
            fields.append(Field(tell - 2, 2, f"u16{order}", f"{what} length"))
        if length == 0xFFFFFFFF or length == 0:
            continue
        if vr in _STRING_VRS and length <= 128:
            fields.append(Field(tell, length, "text", f"{what} value"))
        elif length <= 64:
            fields.append(Field(tell, length, "bytes", f"{what} value"))
        elif vr in ("OB", "OW"):  # the start of pixel data: an encapsulation item or codestream
            fields.append(Field(tell, 16, "bytes", f"{what} first bytes"))
    return Seed(name, data, tuple(fields))


def _png_seed(name: str, data: bytes) -> Seed:
    fields = []
    pos = 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8].decode("latin-1")
        body, end = pos + 8, pos + 8 + length
        crc = (pos + 4, end)
        fields.append(Field(pos, 4, "u32be", f"{kind} length"))
        if kind == "IHDR":
            for off, size, what in ((0, 4, "width"), (4, 4, "height"), (8, 1, "bit depth"),
                                    (9, 1, "colour type"), (10, 1, "compression"),
                                    (11, 1, "filter"), (12, 1, "interlace")):  # fmt: skip
                fields.append(
                    Field(body + off, size, "u32be" if size == 4 else "u8", f"IHDR {what}", crc)
                )
        pos = end + 4
    return Seed(name, data, tuple(fields))


def _jpeg_seed(name: str, data: bytes) -> Seed:
    fields = []
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        (length,) = struct.unpack_from(">H", data, pos + 2)
        fields.append(Field(pos + 2, 2, "u16be", f"marker {marker:02X} length"))
        if marker in (0xC0, 0xC1, 0xC2):
            fields += [
                Field(pos + 4, 1, "u8", "SOF precision"),
                Field(pos + 5, 2, "u16be", "SOF height"),
                Field(pos + 7, 2, "u16be", "SOF width"),
                Field(pos + 9, 1, "u8", "SOF components"),
                Field(pos + 10, 3, "bytes", "SOF component spec"),
            ]
        if marker == 0xDA:
            break
        pos += 2 + length
    return Seed(name, data, tuple(fields))


def _tiff_seed(name: str, data: bytes) -> Seed:
    order = "le" if data[:2] == b"II" else "be"
    e = "<" if order == "le" else ">"
    (ifd,) = struct.unpack_from(e + "I", data, 4)
    fields = [Field(4, 4, f"u32{order}", "first IFD offset")]
    if ifd + 2 <= len(data):
        (count,) = struct.unpack_from(e + "H", data, ifd)
        for k in range(count):
            at = ifd + 2 + 12 * k
            if at + 12 > len(data):
                break
            (tag,) = struct.unpack_from(e + "H", data, at)
            fields += [
                Field(at + 2, 2, f"u16{order}", f"tag {tag} type"),
                Field(at + 4, 4, f"u32{order}", f"tag {tag} count"),
                Field(at + 8, 4, f"u32{order}", f"tag {tag} value"),
            ]
    return Seed(name, data, tuple(fields))


# --- the runner -----------------------------------------------------------------------------


def _worker(conn: Any, corpus: list[Seed], seed: int) -> None:
    """Worker process: receive case indices, send back (outcome, detail, wall s, CPU s)."""
    import resource

    logging.disable(logging.CRITICAL)  # the cases' warnings are not outcomes
    while True:
        index = conn.recv()
        if index is None:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            conn.send(("peak", peak))
            return
        base, data, _ = make_case(corpus, seed, index)
        t0, c0 = time.perf_counter(), time.process_time()
        outcome, detail = check_bytes(data, f"case{index}-{base.name}")
        conn.send((outcome, detail, time.perf_counter() - t0, time.process_time() - c0))


def run_fuzz(
    corpus: Sequence[Seed],
    n: int,
    seed: int = 0,
    *,
    start: int = 0,
    timeout_s: float = 60.0,
    progress: Callable[[int, FuzzReport], None] | None = None,
) -> FuzzReport:
    """Run cases ``start .. start + n - 1`` of ``seed`` in one worker process (see module doc)."""
    ctx = multiprocessing.get_context("spawn")
    report = FuzzReport(n=n, seed=seed, seeds=tuple(s.name for s in corpus))
    times: list[float] = []
    t_start = time.perf_counter()
    proc, conn = None, None
    peaks: list[float] = []

    def start_worker() -> tuple[Any, Any]:
        parent, child = ctx.Pipe()
        p = ctx.Process(target=_worker, args=(child, list(corpus), seed), daemon=True)
        p.start()
        child.close()
        return p, parent

    def stop_worker(p: Any, c: Any, *, kill: bool) -> None:
        if not kill:
            try:
                c.send(None)
                if c.poll(30):
                    _, peak = c.recv()
                    peaks.append(peak)
            except (EOFError, OSError):
                pass
        if p.is_alive():
            p.kill()
        p.join()
        c.close()

    try:
        for index in range(start, start + n):
            if proc is None:
                proc, conn = start_worker()
            base, _, mutations = make_case(corpus, seed, index)
            conn.send(index)
            try:
                ready = conn.poll(timeout_s)
                reply = conn.recv() if ready else None
            except (EOFError, OSError):
                ready, reply = True, None
            if reply is None:
                outcome = "hang" if not ready else "crash"
                detail = (
                    f"no answer within {timeout_s:g} s"
                    if not ready
                    else f"worker died (exit code {proc.exitcode})"
                )
                stop_worker(proc, conn, kill=True)
                proc = conn = None
                seconds = cpu = timeout_s if not ready else 0.0
            else:
                outcome, detail, seconds, cpu = reply
            times.append(seconds)
            report.outcomes[outcome] += 1
            if outcome == "refused":
                report.errors[detail] += 1
            elif outcome != "loaded":
                report.bad.append(CaseResult(index, base.name, mutations, outcome, detail, seconds))
            if seconds > report.max_seconds:
                report.max_seconds, report.slowest = seconds, f"case {index} ({base.name})"
            if cpu > report.max_cpu_seconds:
                report.max_cpu_seconds, report.slowest_cpu = cpu, f"case {index} ({base.name})"
            if progress is not None:
                progress(index - start + 1, report)
    finally:
        if proc is not None:
            stop_worker(proc, conn, kill=False)
    report.median_seconds = float(np.median(times)) if times else 0.0
    report.worker_peak_mib = max(peaks, default=0.0)
    report.wall_seconds = time.perf_counter() - t_start
    return report
