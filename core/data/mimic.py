"""Finding MIMIC-CXR images by ``dicom_id`` and reading their size from the file header.

REFLACX and EGD-CXR ship gaze, not images: their images are MIMIC-CXR DICOMs (or the JPGs of
MIMIC-CXR-JPG), identified by ``dicom_id``. An images root may be laid out

- like MIMIC-CXR / MIMIC-CXR-JPG: ``files/pXX/pSUBJECT/sSTUDY/<dicom_id>.dcm`` (or ``.jpg``),
  the root being the folder that contains ``files/`` (or ``files/`` itself), or
- flat: ``<dicom_id>.dcm``, ``.jpg`` or ``.png`` directly in the root.

Both are searched, flat first. Sizes come from headers only (no pixel decoding).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

from core.errors import NotAnImageError

__all__ = [
    "MAX_SIDE_PX",
    "image_size_px",
    "is_safe_id",
    "locate_image",
    "mimic_parts",
    "read_mimic_sizes",
]

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".dcm", ".jpg", ".png")
_MIMIC_PARTS = re.compile(r"p(\d{2})/p(\d+)/s(\d+)/")
# ids that become file or folder names: no separators, no "..", not absurdly long
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def is_safe_id(text: str) -> bool:
    """Whether a dataset id (dicom_id, subject, study) can be used as a file or folder name.

    Ids come from table cells; one with a path separator, ``..`` or hundreds of characters would
    reach outside the dataset folder or make the OS refuse the path.
    """
    return bool(_SAFE_ID.match(text)) and ".." not in text


def mimic_parts(path_text: str) -> tuple[str, str] | None:
    """``(subject_id, study_id)`` from a MIMIC-style path (``.../p10/p10000032/s50414833/x.dcm``).

    None when the text does not contain that pattern.
    """
    m = _MIMIC_PARTS.search(path_text.replace("\\", "/"))
    if m is None or not m.group(2).startswith(m.group(1)):
        return None
    return m.group(2), m.group(3)


def locate_image(
    root: str | Path | None,
    dicom_id: str,
    *,
    subject_id: str | None = None,
    study_id: str | None = None,
) -> Path | None:
    """The image file for ``dicom_id`` under ``root`` (see module doc), or None when absent.

    Without ``study_id`` the subject's study folders are listed; without ``subject_id`` only the
    flat layout is searched (walking all of MIMIC-CXR per image would be too slow).
    """
    if root is None or not all(
        is_safe_id(part) for part in (dicom_id, subject_id, study_id) if part is not None
    ):
        return None
    root = Path(root)
    for suffix in IMAGE_SUFFIXES:
        candidate = root / f"{dicom_id}{suffix}"
        if candidate.is_file():
            return candidate
    if not subject_id:
        return None
    subject = f"p{subject_id}"
    for base in (root / "files", root):
        subject_dir = base / subject[:3] / subject
        if not subject_dir.is_dir():
            continue
        studies: Iterable[Path] = (
            [subject_dir / f"s{study_id}"] if study_id else sorted(subject_dir.glob("s*"))
        )
        for study_dir in studies:
            for suffix in (".dcm", ".jpg"):
                candidate = study_dir / f"{dicom_id}{suffix}"
                if candidate.is_file():
                    return candidate
    return None


# DICOM Rows/Columns are 16-bit; a larger side in a table or header is corruption (and a
# memory bomb for anything that allocates a map at the original size).
MAX_SIDE_PX = 65535


def image_size_px(path: str | Path) -> tuple[int, int]:
    """``(width, height)`` of a DICOM (Columns, Rows) or PNG/JPEG image, from its header.

    An unreadable header raises ``NotAnImageError`` naming the file. pydicom and Pillow raise
    many exception types on corrupt headers (pydicom also lazily, when Rows is first read); this
    function is the one boundary where they are translated, the original logged at debug level.
    """
    path = Path(path)
    dicom = path.suffix.lower() == ".dcm"
    try:
        if dicom:
            import pydicom

            ds = pydicom.dcmread(path, stop_before_pixels=True)
            if "Rows" not in ds or "Columns" not in ds:
                raise NotAnImageError(path, "DICOM header has no Rows/Columns")
            width, height = int(ds.Columns), int(ds.Rows)
        else:
            from PIL import Image

            with Image.open(path) as im:
                width, height = int(im.size[0]), int(im.size[1])
    except NotAnImageError:
        raise
    except Exception as err:  # third-party header parsers: see the docstring
        logger.debug("%s: header cannot be read", path.name, exc_info=True)
        what = "DICOM header" if dicom else "image header"
        text = " ".join(str(err).split())[:160] or type(err).__name__
        raise NotAnImageError(path, f"cannot read {what} ({text})") from None
    if not (0 < width <= MAX_SIDE_PX and 0 < height <= MAX_SIDE_PX):
        raise NotAnImageError(path, f"header gives an implausible size {width}x{height}")
    return width, height


def read_mimic_sizes(
    metadata_csv: str | Path, dicom_ids: Iterable[str] | None = None
) -> dict[str, tuple[int, int]]:
    """``dicom_id -> (width, height)`` from MIMIC-CXR-JPG's ``mimic-cxr-2.0.0-metadata.csv``.

    That table has ``dicom_id``, ``Rows`` and ``Columns`` for every MIMIC-CXR image; only the
    ``dicom_ids`` asked for are kept (all when None).
    """
    from core.data._tables import CsvTable

    wanted = None if dicom_ids is None else set(dicom_ids)
    sizes: dict[str, tuple[int, int]] = {}
    with CsvTable(metadata_csv, required=("dicom_id", "Rows", "Columns")) as table:
        for row in table.rows():
            dicom_id = row.text("dicom_id")
            if wanted is not None and dicom_id not in wanted:
                continue
            w, h = row.integer("Columns"), row.integer("Rows")
            if not (0 < w <= MAX_SIDE_PX and 0 < h <= MAX_SIDE_PX):
                raise row.fail("Rows", f"image size must be 1-{MAX_SIDE_PX} px, got {w}x{h}")
            sizes[dicom_id] = (w, h)
    return sizes
