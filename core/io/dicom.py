"""DICOM -> ``Radiograph`` with the standard grayscale display chain (pydicom 3).

Display chain (DICOM PS3.3 C.11, PS3.4 N.2):

1. **Modality LUT** (C.11.1): Rescale Slope/Intercept or the Modality LUT Sequence, via
   ``pydicom.pixels.apply_modality_lut``. Its output is ``Radiograph.stored`` (float32).
2. **VOI LUT** (C.11.2): every window the file offers becomes a ``VoiWindow`` in
   ``Radiograph.windows`` - VOI LUT Sequence tables first (function ``"LUT"``, as pydicom and
   most viewers prefer them when both are present), then each Window Center/Width pair (both
   attributes are multi-valued; Window Center & Width Explanation names them) with the file's
   VOI LUT Function (LINEAR, LINEAR_EXACT or SIGMOID; see ``core.io.display``). Invalid pairs
   (LINEAR width < 1, other widths <= 0) are skipped with a warning. ``window=`` picks one;
   the one applied is moved to ``windows[0]``. A file without any VOI gets
   ``display.default_windows``: the full range for <= 8-bit data without rescale (the identity
   VOI the standard implies), else a robust 0.5-99.5th percentile window, then min-max.
3. **MONOCHROME1 inversion** after VOI: ``image = 1 - voi_output``, so bone is bright.
4. **Presentation LUT Shape** (2050,0020). In an *image* IOD it restates the polarity that
   Photometric Interpretation already defines: the General Image Module (PS3.3 C.7.6.1) and the
   DX Image Module (C.8.11.3) require INVERSE with MONOCHROME1 and IDENTITY with MONOCHROME2, so
   INVERSE on a MONOCHROME1 DX image is the *same* single inversion, not a second one. Only a
   separate presentation state (GSPS, C.11.6) may override the image's polarity, and GazeScope
   does not read presentation states. So polarity follows Photometric Interpretation alone; a
   contradicting shape (MONOCHROME2 + INVERSE, MONOCHROME1 + IDENTITY) is logged, recorded in
   ``metadata["warnings"]`` and not applied (archives such as dcm4chee offer the same rule
   because some DX objects carry wrong shapes). A Presentation LUT Sequence is ignored likewise.

``siim_cr_chest_pa.dcm`` and ``siim_cr_chest_pa_monochrome1.dcm`` in ``shared/data/dicom`` hold
byte-identical pixel data and differ only in Photometric Interpretation, so under the standard
they display as exact negatives of each other (tested); a MONOCHROME1 file whose stored values
are the MONOCHROME2 values inverted displays identically to the original (tested on files the
tests write).

Pixel spacing (PS3.3 10.7.1.1, C.8.11.4): Imager Pixel Spacing (0018,1164) is measured at the
detector; anatomy is magnified by source-to-detector / source-to-object distance, given as the
Estimated Radiographic Magnification Factor (0018,1114). Pixel Spacing (0028,0030) is "in the
patient": when it differs from Imager Pixel Spacing (or Pixel Spacing Calibration Type is
present) the image was calibrated and Pixel Spacing is used; when it equals Imager Pixel Spacing
it was not, and Imager Pixel Spacing / magnification is the better patient-plane estimate. So:
calibrated Pixel Spacing > Imager Pixel Spacing / ERMF > Imager Pixel Spacing (detector plane,
~10% too large for a PA chest) > uncorroborated Pixel Spacing (e.g. secondary capture) >
Nominal Scanned Pixel Spacing (digitised film) > None. Zero, negative or missing values are
unknown. ``Radiograph.spacing_source`` names the attribute(s) used.

Modality policy (``ACCEPTED_MODALITIES``): GazeScope's models read projection chest
radiographs, so CR, DX, DR (a non-standard code some vendors write for DX) and RG (radiographic
film/screen, e.g. digitised film) are read. OT ("other") and SC (non-standard), and a missing
Modality, are read with a warning: converted and anonymised chest radiographs are often stored
that way. Everything else is refused, including MG (a projection X-ray, but of the breast:
wrong anatomy for every model here), XA/RF (fluoroscopy, normally multi-frame) and the
cross-sectional modalities (CT, MR, PT, NM, US).

Other refusals, each before pixel data is decoded: multi-frame images (the message gives the
frame count), colour (RGB, YBR_*, PALETTE COLOR), more than ``max_pixels`` pixels (Rows x Columns
x frames; decompression-bomb guard), sides below ``MIN_SIDE_PX``, transfer syntaxes without an
installed decoder (e.g. MPEG-2/HEVC video, private syntaxes). JPEG Lossless (process 14, the
usual DX syntax) decodes through python-gdcm (Apache-2.0/BSD); pylibjpeg-libjpeg is GPL and
deliberately absent.

Metadata is a whitelist (``METADATA_KEYWORDS``) of non-identifying attributes: no names, IDs,
dates, times, UIDs of instances/studies/series, accession numbers, institutions, stations,
device serial numbers, free-text descriptions or comments (free text may hold identifiers).
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import struct
import threading
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from core.errors import (
    CorruptPixelDataError,
    FileTooLargeError,
    MalformedHeaderError,
    NoPixelDataError,
    NotAnImageError,
    TruncatedFileError,
    UnsupportedImageError,
    UnsupportedTransferSyntaxError,
)
from core.io._source import (
    MAX_FILE_BYTES,
    MAX_PIXELS,
    Source,
    SourceLike,
    _mib,
    check_pixel_count,
    describe_unknown,
    native_stderr_logged,
    one_line,
    read_source,
    sniff,
)
from core.io.display import apply_window, default_windows, select_windows
from core.io.radiograph import Radiograph, VoiWindow

__all__ = ["ACCEPTED_MODALITIES", "METADATA_KEYWORDS", "WARNED_MODALITIES", "load_dicom"]

logger = logging.getLogger(__name__)

ACCEPTED_MODALITIES = frozenset({"CR", "DX", "DR", "RG"})
WARNED_MODALITIES = frozenset({"OT", "SC", ""})
_MODALITY_NAMES = {
    "CT": "computed tomography",
    "MR": "magnetic resonance",
    "US": "ultrasound",
    "NM": "nuclear medicine",
    "PT": "PET",
    "MG": "mammography",
    "XA": "X-ray angiography",
    "RF": "radiofluoroscopy",
    "IO": "intra-oral radiography",
    "PX": "panoramic X-ray",
    "ES": "endoscopy",
    "SM": "slide microscopy",
    "OP": "ophthalmic photography",
    "XC": "external-camera photography",
    "SR": "structured report",
    "SEG": "segmentation",
    "RTIMAGE": "radiotherapy image",
}

# (DICOM keyword, metadata key). Non-identifying attributes only; see the module docstring.
METADATA_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("Modality", "modality"),
    ("SOPClassUID", "sop_class_uid"),
    ("ImageType", "image_type"),
    ("PresentationIntentType", "presentation_intent_type"),
    ("PhotometricInterpretation", "photometric_interpretation"),
    ("Rows", "rows"),
    ("Columns", "columns"),
    ("SamplesPerPixel", "samples_per_pixel"),
    ("NumberOfFrames", "number_of_frames"),
    ("BitsAllocated", "bits_allocated"),
    ("BitsStored", "bits_stored"),
    ("HighBit", "high_bit"),
    ("PixelRepresentation", "pixel_representation"),
    ("ViewPosition", "view_position"),
    ("BodyPartExamined", "body_part_examined"),
    ("Laterality", "laterality"),
    ("ImageLaterality", "image_laterality"),
    ("PatientOrientation", "patient_orientation"),
    ("Manufacturer", "manufacturer"),
    ("ManufacturerModelName", "manufacturer_model_name"),
    ("PixelSpacing", "pixel_spacing_mm"),
    ("ImagerPixelSpacing", "imager_pixel_spacing_mm"),
    ("NominalScannedPixelSpacing", "nominal_scanned_pixel_spacing_mm"),
    ("EstimatedRadiographicMagnificationFactor", "estimated_radiographic_magnification_factor"),
    ("PixelSpacingCalibrationType", "pixel_spacing_calibration_type"),
    ("RescaleSlope", "rescale_slope"),
    ("RescaleIntercept", "rescale_intercept"),
    ("RescaleType", "rescale_type"),
    ("VOILUTFunction", "voi_lut_function"),
    ("PresentationLUTShape", "presentation_lut_shape"),
    ("PixelIntensityRelationship", "pixel_intensity_relationship"),
    ("PixelIntensityRelationshipSign", "pixel_intensity_relationship_sign"),
    ("BurnedInAnnotation", "burned_in_annotation"),
    ("LossyImageCompression", "lossy_image_compression"),
    ("LossyImageCompressionRatio", "lossy_image_compression_ratio"),
    ("LossyImageCompressionMethod", "lossy_image_compression_method"),
)

_PIXEL_DATA_TAG_LE = b"\xe0\x7f\x10\x00"  # (7FE0,0010) as written in little-endian files


class _PydicomLogToDebug(logging.Filter):
    """While GazeScope reads a DICOM file, pydicom's own log records become debug lines.

    pydicom logs each failing decoder plugin with a traceback (``LOGGER.exception``) and each
    premature end of file as a warning, then raises or carries on; we turn those outcomes into
    one-line ``InputFileError`` messages, and a traceback on the console would break the CLI's
    "one line, no traceback" promise. Thread-local, so pydicom used elsewhere is untouched.
    (pydicom's ``warnings.warn`` copies are left alone: silencing them needs process-global
    state; ``gazescope info`` silences them itself.)
    """

    active = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(self.active, "on", False):
            logger.debug("pydicom: %s", record.getMessage())
            return False
        return True


_PYDICOM_FILTER = _PydicomLogToDebug()
for _name in ("pydicom", "pydicom.pixels.decoders.base"):
    logging.getLogger(_name).addFilter(_PYDICOM_FILTER)


@contextlib.contextmanager
def _pydicom_logs_as_debug() -> Iterator[None]:
    previous = getattr(_PYDICOM_FILTER.active, "on", False)
    _PYDICOM_FILTER.active.on = True
    try:
        yield
    finally:
        _PYDICOM_FILTER.active.on = previous


def load_dicom(
    source: SourceLike,
    *,
    name: str | None = None,
    window: int | VoiWindow = 0,
    max_pixels: int = MAX_PIXELS,
    max_bytes: int = MAX_FILE_BYTES,
    spacing_mm: tuple[float, float] | None = None,
) -> Radiograph:
    """Read a single-frame greyscale radiograph from a DICOM file (path or bytes).

    ``window`` selects one of the file's VOI windows by index (or passes a custom
    ``VoiWindow``); ``spacing_mm`` overrides the spacing found in the file (source "caller").
    Bad input raises a ``core.errors.InputFileError`` subclass naming the file.
    """
    src = read_source(source, name=name, max_bytes=max_bytes)
    return dicom_from_source(
        src, window=window, max_pixels=max_pixels, spacing_mm=spacing_mm, max_bytes=max_bytes
    )


def dicom_from_source(
    src: Source,
    *,
    window: int | VoiWindow = 0,
    max_pixels: int = MAX_PIXELS,
    spacing_mm: tuple[float, float] | None = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> Radiograph:
    """``load_dicom`` on bytes already read (``core.io.load`` sniffs the format first).

    ``max_bytes`` also caps a deflated data set once inflated (deflate-bomb guard).
    """
    with _pydicom_logs_as_debug():
        return _read(
            src, window=window, max_pixels=max_pixels, spacing_mm=spacing_mm, max_bytes=max_bytes
        )


def _read(
    src: Source,
    *,
    window: int | VoiWindow,
    max_pixels: int,
    spacing_mm: tuple[float, float] | None,
    max_bytes: int = MAX_FILE_BYTES,
) -> Radiograph:
    warnings_: list[str] = []
    ds = _parse(src, warnings_, max_bytes)
    _check_image(src, ds, max_pixels, warnings_)
    arr = _decode(src, ds)
    slope, intercept = _rescale(src, ds)
    stored = _modality_lut(src, ds, arr, slope, intercept)

    photometric = str(ds.PhotometricInterpretation).strip().upper()
    windows = _file_windows(src, ds, warnings_)
    if not windows:
        rescaled = "ModalityLUTSequence" in ds or slope != 1 or intercept != 0
        windows = default_windows(
            stored, bits=None if rescaled else _header_int(src, ds, "BitsStored")
        )
    windows = select_windows(windows, window)
    image = apply_window(stored, windows[0])
    if photometric == "MONOCHROME1":
        image = np.float32(1.0) - image
    _check_presentation_lut(src, ds, photometric, warnings_)
    _note(src, ds, warnings_)

    if spacing_mm is not None:
        spacing, spacing_source = (float(spacing_mm[0]), float(spacing_mm[1])), "caller"
    else:
        spacing, spacing_source = _spacing(src, ds, warnings_)

    metadata = _metadata(ds)
    metadata["photometric_interpretation"] = photometric
    if warnings_:
        metadata["warnings"] = list(warnings_)
    return Radiograph(
        image=np.ascontiguousarray(image, dtype=np.float32),
        sha256=src.sha256,
        source_name=src.name,
        stored=stored,
        spacing_mm=spacing,
        spacing_source=spacing_source,
        windows=windows,
        metadata=metadata,
    )


# --- parsing and checks ----------------------------------------------------------------------


def _parse(src: Source, warnings_: list[str], max_bytes: int = MAX_FILE_BYTES) -> Any:
    """The data set with every element's value parsed (see ``_parse_values``)."""
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    kind = sniff(src.data)
    if kind != "dicom":
        if kind is not None:
            raise NotAnImageError(src.label, f"a {kind.upper()} image, not DICOM")
        raise NotAnImageError(src.label, describe_unknown(src.data))
    data = src.data
    if data[:4] == b"DICM":  # file meta without its 128-byte preamble
        data = bytes(128) + data
    _check_inflated_size(src, data, max_bytes)
    try:
        ds = pydicom.dcmread(io.BytesIO(data), force=True)
    except InvalidDicomError as err:
        raise NotAnImageError(src.label, f"not a readable DICOM file ({one_line(err)})") from err
    except EOFError as err:
        raise TruncatedFileError(src.label, "file is truncated inside its DICOM header") from err
    except Exception as err:  # pydicom raises many types on garbage; all mean the same here
        logger.debug("%s: pydicom.dcmread failed", src.name, exc_info=True)
        raise NotAnImageError(src.label, f"not a readable DICOM file ({one_line(err)})") from err

    _check_complete(src, ds)  # on the raw elements, which still hold their declared lengths
    _parse_values(src, ds.file_meta, warnings_)
    _parse_values(src, ds, warnings_)
    meta = ds.file_meta
    if "TransferSyntaxUID" not in meta:  # bare data set: record the encoding pydicom detected
        implicit, little = ds.original_encoding
        if implicit is not None:
            meta.TransferSyntaxUID = (
                ImplicitVRLittleEndian
                if implicit
                else (ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
            )
    return ds


def _parse_values(src: Source, ds: Any, warnings_: list[str], within: str = "") -> None:
    """Parse every element's value now, inside sequences too, so that a bad one fails here.

    pydicom reads a file's elements as raw bytes and converts each value the first time it is
    accessed, raising whatever its value parsers raise: ``NotImplementedError`` for an unknown
    Value Representation, ``BytesLengthException`` for a length that does not fit the VR,
    ``ValueError``/``UnicodeError`` for bad text or character sets, and ``struct.error``,
    ``EOFError``, ``IndexError`` and others from inside a broken sequence. Left lazy, these would
    surface wherever GazeScope or pydicom's pixel decoders first touch an element. This walk is
    the one boundary where they are caught (any ``Exception``: the set is pydicom's, open and
    version-dependent), logged with their traceback at debug level, and translated into one
    ``MalformedHeaderError`` naming the element. A standard element that cannot be parsed refuses
    the file (the bytes around it are then suspect too); a private element (odd group), which
    vendors often write with wrong VRs and GazeScope never reads, is dropped with a warning.
    """
    for tag in list(ds.keys()):
        try:
            elem = ds[tag]
        except Exception as err:  # pydicom's value parsers: see the docstring
            logger.debug("%s: element %s cannot be parsed", src.name, tag, exc_info=True)
            where = f"{within}{tag} {_element_name(tag)}"
            if tag.is_private:
                del ds[tag]
                msg = f"private element {where} cannot be parsed and was dropped"
                logger.warning("%s: %s", src.name, msg)
                warnings_.append(msg)
                continue
            raise MalformedHeaderError(
                src.label, f"DICOM element {where} cannot be parsed ({one_line(err, 160)})"
            ) from err
        if elem.VR == "SQ" and elem.value is not None:
            for i, item in enumerate(elem.value):
                _parse_values(src, item, warnings_, f"{within}{tag} item {i + 1} > ")


def _element_name(tag: Any) -> str:
    from pydicom.datadict import dictionary_description

    try:
        return dictionary_description(tag)
    except KeyError:
        return "(private)" if tag.is_private else "(unknown)"


_DEFLATED_UID = b"1.2.840.10008.1.2.1.99"


def _check_inflated_size(src: Source, data: bytes, max_bytes: int) -> None:
    """Refuse a deflated data set that inflates beyond the file-size cap, before pydicom does.

    pydicom inflates a Deflated Explicit VR Little Endian data set in one ``zlib.decompress``
    call, so a small file of compressed zeros (a deflate bomb) would take any amount of memory.
    Here the data set is inflated once with a bounded output first; the cap is ``max_bytes``,
    the same as for a file on disk.
    """
    offset = _meta_end(data)
    if offset is None or _DEFLATED_UID not in data[132:offset]:
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        inflated = inflater.decompress(data[offset:], max_bytes + 1)
    except zlib.error as err:
        raise CorruptPixelDataError(
            src.label, f"deflated data set cannot be inflated ({one_line(err)})"
        ) from err
    if len(inflated) > max_bytes:
        raise FileTooLargeError(
            src.label,
            f"deflated data set inflates beyond the {_mib(max_bytes)} cap "
            "(decompression bomb guard)",
        )


def _meta_end(data: bytes) -> int | None:
    """Offset just past the group-0002 elements of a Part 10 file (always explicit VR LE)."""
    if data[128:132] != b"DICM":
        return None
    pos = 132
    while pos + 8 <= len(data):
        group = struct.unpack_from("<H", data, pos)[0]
        if group != 0x0002:
            return pos
        vr = data[pos + 4 : pos + 6]
        if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN"):
            if pos + 12 > len(data):
                return None
            pos += 12 + struct.unpack_from("<I", data, pos + 8)[0]
        else:
            pos += 8 + struct.unpack_from("<H", data, pos + 6)[0]
    return None


def _check_complete(src: Source, ds: Any) -> None:
    """Detect a file cut short: pydicom reads what it can and only warns."""
    truncated = TruncatedFileError(
        src.label, "file is truncated: it ends before its DICOM data set does"
    )
    if len(ds) == 0:
        # pydicom drops every element when the file ends inside an undefined-length element
        # (e.g. encapsulated pixel data); a real data set is never empty
        raise truncated
    from pydicom.dataelem import RawDataElement

    for tag in ds.keys():
        elem = ds.get_item(tag, keep_deferred=True)  # the raw element, not parsed yet
        if isinstance(elem, RawDataElement) and elem.length != 0xFFFFFFFF:
            if elem.value is not None and len(elem.value) < elem.length:
                raise truncated
    if "PixelData" not in ds and "Rows" in ds and _PIXEL_DATA_TAG_LE in src.data:
        raise truncated


def _check_image(src: Source, ds: Any, max_pixels: int, warnings_: list[str]) -> None:
    """Refusals decided from the header alone, before any pixel data is decoded."""
    if "PixelData" not in ds:
        if "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
            raise UnsupportedImageError(
                src.label, "float pixel data (e.g. a parametric map) is not a radiograph"
            )
        raise NoPixelDataError(
            src.label, f"DICOM object without pixel data ({_sop_class_name(ds)})"
        )

    modality = str(ds.get("Modality", "") or "").strip().upper()
    if modality in WARNED_MODALITIES:
        msg = (
            f"Modality {modality}: read as a radiograph, unverified"
            if modality
            else "no Modality attribute: read as a radiograph, unverified"
        )
        logger.warning("%s: %s", src.name, msg)
        warnings_.append(msg)
    elif modality not in ACCEPTED_MODALITIES:
        what = _MODALITY_NAMES.get(modality, "not a projection radiograph")
        raise UnsupportedImageError(
            src.label,
            f"modality {modality} ({what}) refused; GazeScope reads chest radiographs "
            "(CR, DX, DR, RG; OT with a warning)",
        )

    frames = _header_int(src, ds, "NumberOfFrames", default=1)
    if frames > 1:
        raise UnsupportedImageError(
            src.label,
            f"multi-frame image with {frames} frames; GazeScope reads single-frame radiographs",
        )
    if frames < 1:
        raise MalformedHeaderError(src.label, f"Number of Frames is {frames}")
    photometric = str(ds.get("PhotometricInterpretation", "") or "").strip().upper()
    samples = _header_int(src, ds, "SamplesPerPixel", default=1)
    if samples != 1 or photometric not in ("MONOCHROME1", "MONOCHROME2"):
        what = "palette colour" if photometric == "PALETTE COLOR" else "colour"
        raise UnsupportedImageError(
            src.label,
            f"{what} image (Photometric Interpretation {photometric[:40] or 'missing'}, "
            f"{samples} sample(s) per pixel); radiographs are greyscale MONOCHROME1/2",
        )
    if "Rows" not in ds or "Columns" not in ds or "BitsAllocated" not in ds:
        raise CorruptPixelDataError(src.label, "pixel data without Rows, Columns or Bits Allocated")
    rows, cols = _header_int(src, ds, "Rows"), _header_int(src, ds, "Columns")
    check_pixel_count(src, rows, cols, frames=frames, max_pixels=max_pixels)
    bits = _header_int(src, ds, "BitsAllocated")
    if bits not in (8, 16, 32):
        what = "bilevel (1-bit) image; a radiograph has grey levels" if bits == 1 else ""
        raise UnsupportedImageError(
            src.label, what or f"Bits Allocated is {bits}; radiographs use 8, 16 or 32"
        )
    if "BitsStored" not in ds or ds.BitsStored is None:
        ds.BitsStored = bits
    stored_bits = _header_int(src, ds, "BitsStored")
    if not 1 <= stored_bits <= bits:
        raise MalformedHeaderError(
            src.label, f"Bits Stored is {stored_bits} with Bits Allocated {bits}"
        )
    if _header_int(src, ds, "PixelRepresentation", default=0) not in (0, 1):
        raise MalformedHeaderError(
            src.label, f"Pixel Representation is {ds.PixelRepresentation!r:.40}, not 0 or 1"
        )
    if not isinstance(ds.PixelData, (bytes, bytearray)) or not ds.PixelData:
        raise CorruptPixelDataError(src.label, "Pixel Data element is empty or not bytes")

    _check_transfer_syntax(src, ds)


def _header_int(src: Source, ds: Any, keyword: str, default: int | None = None) -> int:
    """An integer attribute GazeScope relies on, or ``MalformedHeaderError`` naming it.

    A corrupt header can leave any value here: several values, text, bytes, nothing. Missing
    or empty gives ``default`` when there is one.
    """
    value = ds.get(keyword)
    if value is None or value == "":
        if default is not None:
            return default
        raise MalformedHeaderError(src.label, f"DICOM attribute {keyword} is missing or empty")
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return int(value.strip())
    raise MalformedHeaderError(
        src.label, f"DICOM attribute {keyword} must be one integer, got {_short(value)}"
    )


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_transfer_syntax(src: Source, ds: Any) -> None:
    from pydicom.pixels import get_decoder
    from pydicom.uid import UID

    ts = UID(str(ds.file_meta.get("TransferSyntaxUID", "")))
    label = f"{ts.name} ({ts})" if ts.name != ts else str(ts or "missing")
    try:
        decoder = get_decoder(ts)
    except NotImplementedError:
        raise UnsupportedTransferSyntaxError(
            src.label,
            f"transfer syntax {_short(label, 80)} is not supported: no pixel-data decoder "
            "exists for it",
        ) from None
    if not decoder.is_available:
        raise UnsupportedTransferSyntaxError(
            src.label, f"transfer syntax {label} is not supported: no installed plugin decodes it"
        )
    rows, cols = int(ds.Rows), int(ds.Columns)
    if not ts.is_compressed:
        expected = (rows * cols * int(ds.BitsAllocated) + 7) // 8
        got = len(ds.PixelData)
        if got < expected:
            raise CorruptPixelDataError(
                src.label,
                f"pixel data holds {got} bytes but Rows x Columns x Bits Allocated need {expected}",
            )
        return
    fragments = _fragments(src, ds)
    size = _codestream_size(fragments[0] if fragments else b"")
    if size is not None and size != (rows, cols):
        raise CorruptPixelDataError(
            src.label,
            f"the compressed image is {size[1]}x{size[0]} pixels but the header says "
            f"{cols}x{rows} (Columns x Rows)",
        )
    if ts in _JPEG_LS and not _ends_with_eoi(fragments[-1] if fragments else b""):
        raise TruncatedFileError(
            src.label,
            "JPEG-LS pixel data is truncated (no end-of-image marker); refused before decoding",
        )


# CharLS (behind pyjpegls and GDCM) spends seconds of CPU on some JPEG-LS streams that end
# early, whatever the image size (measured: ~4.5 s on 128x128 to 512x512); a stream without its
# end-of-image marker is refused before it reaches the decoder.
_JPEG_LS = frozenset({"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"})


def _fragments(src: Source, ds: Any) -> list[bytes]:
    """The encapsulated pixel data's fragments (single-frame images: one frame)."""
    from pydicom.encaps import generate_fragments

    if not ds["PixelData"].is_undefined_length:
        raise CorruptPixelDataError(
            src.label, "compressed transfer syntax but Pixel Data is not encapsulated"
        )
    try:
        fragments = list(generate_fragments(ds.PixelData))[1:]  # after the Basic Offset Table
    except (ValueError, struct.error, EOFError) as err:  # pydicom's item parser on broken items
        raise CorruptPixelDataError(
            src.label, f"encapsulated pixel data is malformed ({one_line(err, 120)})"
        ) from err
    return [bytes(f) for f in fragments]


def _ends_with_eoi(last: bytes) -> bool:
    """Whether a JPEG-family stream ends with EOI (FFD9), allowing a few bytes of padding."""
    return b"\xff\xd9" in last[-8:]


def _codestream_size(first: bytes) -> tuple[int, int] | None:
    """(rows, columns) from a JPEG / JPEG-LS / JPEG 2000 first fragment's header, if any.

    Checked against Rows/Columns before decoding, so a codestream that claims a larger image
    than the (capped) header never reaches a decoder's allocation. None when the syntax has no
    such header (RLE) or it is not found (the decoder then reports the problem).
    """
    head = first[:65536]
    if head[:2] == b"\xff\xd8":
        return _jpeg_size(head)
    at = head.find(b"\xff\x4f\xff\x51")  # JPEG 2000 SOC + SIZ, raw or inside a JP2 box
    if at >= 0 and at + 4 + 22 <= len(head):
        x, y, x0, y0 = struct.unpack_from(">IIII", head, at + 8)
        return (max(0, y - y0), max(0, x - x0))
    return None


_SOF_MARKERS = frozenset(
    {*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), 0xCD, 0xCE, 0xCF, 0xF7}
)


def _jpeg_size(head: bytes) -> tuple[int, int] | None:
    """(rows, columns) from a JPEG (or JPEG-LS, SOF55) frame header; None if not found."""
    pos = 2
    while pos + 4 <= len(head):
        if head[pos] != 0xFF:
            return None
        marker = head[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _SOF_MARKERS and pos + 9 <= len(head):
            rows, cols = struct.unpack_from(">HH", head, pos + 5)
            return (rows, cols) if rows else None  # 0: height given later by a DNL marker
        if marker == 0xDA:  # start of scan: no frame header before it
            return None
        pos += 2 + struct.unpack_from(">H", head, pos + 2)[0]
    return None


def _decode(src: Source, ds: Any) -> np.ndarray:
    ts = ds.file_meta.TransferSyntaxUID
    errors: list[str] = []
    arr = None
    for plugin in _decoding_plugins(ts):
        try:
            if plugin:
                ds.pixel_array_options(decoding_plugin=plugin)
            with native_stderr_logged(src.name):
                arr = ds.pixel_array
            break
        except Exception as err:  # any plugin failure means the same: undecodable pixel data
            logger.debug(
                "%s: decoding with %s failed", src.name, plugin or "pydicom", exc_info=True
            )
            msg = one_line(err).replace(_PYDICOM_ALL_FAILED, "").strip()
            errors.append(msg if not plugin or msg.startswith(plugin) else f"{plugin}: {msg}")
    if arr is None:
        raise CorruptPixelDataError(
            src.label, f"{ts.name} pixel data cannot be decoded ({'; '.join(errors)})"
        )
    rows, cols = int(ds.Rows), int(ds.Columns)
    if arr.shape != (rows, cols):
        raise CorruptPixelDataError(
            src.label, f"decoded pixel data has shape {arr.shape}, the header says {rows}x{cols}"
        )
    return arr


_PYDICOM_ALL_FAILED = "Unable to decode as exceptions were raised by all available plugins:"

# Stored values (modality-LUT output) beyond this magnitude are not physical quantities of a
# radiograph and lose all precision in float32: a rescale that produces them is corrupt.
MAX_ABS_STORED = 1e9


def _rescale(src: Source, ds: Any) -> tuple[float, float]:
    """Rescale Slope and Intercept (1, 0 when absent), refused when not plausible numbers."""
    out = []
    for keyword, default in (("RescaleSlope", 1.0), ("RescaleIntercept", 0.0)):
        value = ds.get(keyword)
        if value is None or value == "":
            out.append(default)
            continue
        number = _one_float(value)
        if number is None or not math.isfinite(number) or abs(number) > MAX_ABS_STORED:
            raise MalformedHeaderError(
                src.label, f"{keyword} {_short(value)} is not a plausible number"
            )
        out.append(number)
    if out[0] == 0:
        raise MalformedHeaderError(src.label, "Rescale Slope is 0: every pixel would be equal")
    return out[0], out[1]


def _one_float(value: Any) -> float | None:
    if isinstance(value, (bytes, bytearray, bool)) or (
        hasattr(value, "__len__") and not isinstance(value, str)
    ):
        return None  # several values, or raw bytes
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _modality_lut(
    src: Source, ds: Any, arr: np.ndarray, slope: float, intercept: float
) -> np.ndarray:
    """Stored values: pydicom's modality LUT (a LUT sequence, else the validated rescale)."""
    from pydicom.pixels import apply_modality_lut

    if "ModalityLUTSequence" in ds:
        try:
            stored = np.asarray(apply_modality_lut(arr, ds), dtype=np.float32)
        except Exception as err:  # pydicom on a malformed LUT item: one boundary, logged
            logger.debug("%s: modality LUT failed", src.name, exc_info=True)
            raise CorruptPixelDataError(
                src.label, f"Modality LUT Sequence cannot be applied ({one_line(err, 160)})"
            ) from err
    else:
        stored = (arr.astype(np.float64) * slope + intercept).astype(np.float32)
    if stored.size and not (
        np.isfinite(stored).all() and float(np.abs(stored).max()) <= MAX_ABS_STORED
    ):
        raise MalformedHeaderError(
            src.label, f"the modality LUT gives values beyond +-{MAX_ABS_STORED:g}"
        )
    return stored


def _decoding_plugins(ts: Any) -> list[str]:
    """Plugins to try in turn for ``ts`` ("" lets pydicom choose, for native syntaxes).

    GDCM comes last and only where no other plugin decodes the syntax (JPEG Lossless): its
    bundled OpenJPEG writes to the process's stderr on corrupt JPEG 2000 data, which would break
    the one-line error contract, while pylibjpeg, pyjpegls and pillow raise cleanly.
    """
    if not ts.is_compressed:
        return [""]
    from pydicom.pixels import get_decoder

    plugins = list(get_decoder(ts).available_plugins)
    others = [p for p in plugins if p != "gdcm"]
    return others or plugins


def _check_presentation_lut(src: Source, ds: Any, photometric: str, warnings_: list[str]) -> None:
    shape = str(ds.get("PresentationLUTShape", "") or "").strip().upper()
    expected = "INVERSE" if photometric == "MONOCHROME1" else "IDENTITY"
    if shape and shape != expected:
        msg = (
            f"Presentation LUT Shape {shape} contradicts Photometric Interpretation {photometric} "
            f"(an image shall use {expected}); polarity follows Photometric Interpretation"
        )
        logger.warning("%s: %s", src.name, msg)
        warnings_.append(msg)
    if "PresentationLUTSequence" in ds:
        msg = "Presentation LUT Sequence ignored; polarity follows Photometric Interpretation"
        logger.warning("%s: %s", src.name, msg)
        warnings_.append(msg)


def _note(src: Source, ds: Any, warnings_: list[str]) -> None:
    """Warnings about images that load fine but deserve a second look."""
    notes = []
    if str(ds.get("PresentationIntentType", "") or "").strip().upper() == "FOR PROCESSING":
        notes.append("a FOR PROCESSING image (raw detector data, not meant for display)")
    if str(ds.get("BurnedInAnnotation", "") or "").strip().upper() == "YES":
        notes.append("Burned In Annotation is YES: the pixels may show identifying text")
    for msg in notes:
        logger.warning("%s: %s", src.name, msg)
        warnings_.append(msg)


# --- windows, spacing, metadata --------------------------------------------------------------


def _file_windows(src: Source, ds: Any, warnings_: list[str]) -> list[VoiWindow]:
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    windows: list[VoiWindow] = []
    sequence = ds.get("VOILUTSequence")
    if sequence is not None and not isinstance(sequence, Sequence):
        msg = "VOI LUT Sequence is not a sequence and was ignored"
        logger.warning("%s: %s", src.name, msg)
        warnings_.append(msg)
        sequence = None
    for i, item in enumerate(sequence or []):
        win = _lut_window(ds, item, i) if isinstance(item, Dataset) else None
        if win is None:
            msg = f"VOI LUT Sequence item {i + 1} is malformed and was skipped"
            logger.warning("%s: %s", src.name, msg)
            warnings_.append(msg)
        else:
            windows.append(win)

    if "WindowCenter" in ds and "WindowWidth" in ds:
        centers, widths = _floats(ds.WindowCenter), _floats(ds.WindowWidth)
        names = [str(s) for s in _as_list(ds.get("WindowCenterWidthExplanation"))]
        function = str(ds.get("VOILUTFunction", "LINEAR") or "LINEAR").strip().upper()
        if function not in ("LINEAR", "LINEAR_EXACT", "SIGMOID"):
            msg = f"unknown VOI LUT Function {function!r}; LINEAR used"
            logger.warning("%s: %s", src.name, msg)
            warnings_.append(msg)
            function = "LINEAR"
        if len(centers) != len(widths):
            msg = f"{len(centers)} window centers but {len(widths)} widths; extra values ignored"
            logger.warning("%s: %s", src.name, msg)
            warnings_.append(msg)
        for i, (c, w) in enumerate(zip(centers, widths, strict=False)):
            ok = (
                abs(c) <= MAX_ABS_STORED  # also False for nan
                and w <= 2 * MAX_ABS_STORED
                and (w >= 1 if function == "LINEAR" else w > 0)
            )
            if not ok:
                msg = f"window {i + 1} (center {c:g}, width {w:g}) is invalid for {function} and was skipped"
                logger.warning("%s: %s", src.name, msg)
                warnings_.append(msg)
                continue
            name = names[i] if i < len(names) and names[i] else f"window {i + 1}"
            windows.append(VoiWindow(c, w, name, function))
    return windows


def _lut_window(ds: Any, item: Any, index: int) -> VoiWindow | None:
    """A VOI LUT Sequence item as a ``VoiWindow`` with its table scaled to [0, 1]."""
    desc = _as_list(item.get("LUTDescriptor"))
    if len(desc) != 3 or "LUTData" not in item:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in desc):
        return None
    n, first, bits = (int(v) for v in desc)
    n = n or 65536
    if not 0 < n <= 65536:
        return None
    if _int(ds.get("PixelRepresentation", 0), 0) == 1 and first > 32767:
        first -= 65536  # the first mapped value is SS for signed data (PS3.3 C.11.2.1.1)
    elem = item["LUTData"]
    if isinstance(elem.value, (bytes, bytearray)):
        raw = bytes(elem.value)
        little = ds.original_encoding[1] is not False
        if len(raw) >= 2 * n:
            values = np.frombuffer(raw[: 2 * n], dtype="<u2" if little else ">u2")
        elif bits <= 8 and len(raw) >= n:
            values = np.frombuffer(raw[:n], dtype=np.uint8)  # 8-bit entries packed two per word
        else:
            return None
    else:
        raw_values = _as_list(elem.value)
        if len(raw_values) < n or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in raw_values[:n]
        ):
            return None
        values = np.asarray(raw_values[:n], dtype=np.int64)
    if not 1 <= bits <= 16:
        return None
    if values.size and int(values.min()) < 0:
        return None
    top = 2**bits - 1
    if values.size and int(values.max()) > top:  # descriptor understates the depth
        top = 2 ** int(values.max()).bit_length() - 1
    lut = (values.astype(np.float32) / np.float32(top)).clip(0, 1)
    lut.setflags(write=False)
    name = str(item.get("LUTExplanation", "") or f"VOI LUT {index + 1}")
    return VoiWindow(first + n / 2, float(n), name, "LUT", lut=lut, lut_first_mapped=first)


# Plausible pixel spacing (mm): detectors are 0.05-0.2 mm, digitised film down to ~0.03 mm and
# a downsampled radiograph a few mm; values outside are corrupt and treated as unknown.
SPACING_RANGE_MM = (0.005, 20.0)
# Estimated Radiographic Magnification Factor: about 1.1 for a PA chest, never above ~2.
ERMF_RANGE = (1.0, 5.0)


def _spacing(
    src: Source, ds: Any, warnings_: list[str]
) -> tuple[tuple[float, float] | None, str | None]:
    """Row/column spacing in mm and where it came from (see the module docstring)."""
    pairs = {}
    for keyword in ("PixelSpacing", "ImagerPixelSpacing", "NominalScannedPixelSpacing"):
        pair = _pair(ds.get(keyword))
        lo, hi = SPACING_RANGE_MM
        if pair is not None and not (lo <= pair[0] <= hi and lo <= pair[1] <= hi):
            msg = f"{keyword} {pair[0]:g} x {pair[1]:g} mm is implausible and was ignored"
            logger.warning("%s: %s", src.name, msg)
            warnings_.append(msg)
            pair = None
        pairs[keyword] = pair
    ps, ips = pairs["PixelSpacing"], pairs["ImagerPixelSpacing"]
    calibrated = ps is not None and (
        "PixelSpacingCalibrationType" in ds
        or (ips is not None and not np.allclose(ps, ips, rtol=1e-4))
    )
    if calibrated:
        return ps, "PixelSpacing"
    if ips is not None:
        ermf = _float(ds.get("EstimatedRadiographicMagnificationFactor"))
        if ermf is not None and ERMF_RANGE[0] <= ermf <= ERMF_RANGE[1]:
            return (
                ips[0] / ermf,
                ips[1] / ermf,
            ), "ImagerPixelSpacing/EstimatedRadiographicMagnificationFactor"
        if ermf is not None:
            msg = (
                f"Estimated Radiographic Magnification Factor {ermf:g} is outside "
                f"{ERMF_RANGE[0]:g}-{ERMF_RANGE[1]:g} and was ignored"
            )
            logger.warning("%s: %s", src.name, msg)
            warnings_.append(msg)
        return ips, "ImagerPixelSpacing"
    if ps is not None:
        return ps, "PixelSpacing"
    nsps = pairs["NominalScannedPixelSpacing"]
    if nsps is not None:
        return nsps, "NominalScannedPixelSpacing"
    return None, None


def _metadata(ds: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"format": "DICOM"}
    ts = ds.file_meta.get("TransferSyntaxUID")
    if ts:
        meta["transfer_syntax_uid"] = str(ts)
        meta["transfer_syntax"] = ts.name
    for keyword, key in METADATA_KEYWORDS:
        try:
            value = ds.get(keyword)
        except Exception:  # an unparsable value is simply left out
            logger.debug("unreadable %s left out of metadata", keyword)
            continue
        value = _plain(value)
        if value not in (None, "", []):
            meta[key] = value
    if "sop_class_uid" in meta:
        meta["sop_class"] = _sop_class_name(ds)
    return meta


def _plain(value: Any) -> Any:
    """pydicom values (MultiValue, DSfloat, IS, UID) -> JSON-ready Python values."""
    from pydicom.multival import MultiValue

    if value is None:
        return None
    if isinstance(value, (MultiValue, list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (bytes, bytearray)):
        return None  # never pass raw bytes on
    return str(value).strip()


def _sop_class_name(ds: Any) -> str:
    from pydicom.uid import UID

    uid = UID(
        str(ds.get("SOPClassUID", "") or ds.file_meta.get("MediaStorageSOPClassUID", "") or "")
    )
    return uid.name if uid else "unknown SOP class"


def _pair(value: Any) -> tuple[float, float] | None:
    vals = _floats(value) if value is not None else []
    if len(vals) != 2 or not all(math.isfinite(v) and v > 0 for v in vals):
        return None
    return (vals[0], vals[1])


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) and out > 0 else None


def _floats(value: Any) -> list[float]:
    out = []
    for v in _as_list(value):
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            out.append(float("nan"))
    return out


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return [value]
    return list(value)


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
