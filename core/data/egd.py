"""EGD-CXR reader (PhysioNet ``egd-cxr``): one radiologist, 1,083 MIMIC-CXR images.

Layout (``root`` is the dataset folder)::

    master_sheet.csv                 dicom_id, path, study_id, patient_id, ..., image_*_pad, labels
    fixations.csv                    Gazepoint fixations (FPOG*), X_ORIGINAL/Y_ORIGINAL
    eye_gaze.csv                     raw samples (~1.5 M rows; only for fixations_from="eye_gaze")
    bounding_boxes.csv               dicom_id, bbox_name, x1, x2, y1, y2 (note the order)
    audio_segmentation_transcripts/<dicom_id>/transcript.json

Screen -> image. Images were shown on a 1920x1080 screen, resized to fit with the padding given
per image in ``master_sheet.csv``. We convert the screen fractions, exactly as the dataset's
authors did (``map_eye_gaze_from_screen_to_image_coordinates.py``), straight to normalised
image coordinates::

    x = (FPOGX * 1920 - left_pad) / (1920 - left_pad - right_pad)
    y = (FPOGY * 1080 - top_pad)  / (1080 - top_pad - bottom_pad)

This is the published formula ``x_px = (FPOGX*1920 - left) * W / (1920 - left - right)``
divided by ``W``, so it needs no image size and keeps the tracker's sub-pixel precision, whereas
``X_ORIGINAL`` is that value truncated to an integer (computed on the image padded to an even
size). ``coordinates="screen"`` (default) uses the formula; ``coordinates="original"`` uses
``(X_ORIGINAL + 0.5) / W`` (integer pixel -> its centre) instead. Whenever the image size is
known the two are compared and the largest disagreement (pixels) is stored in
``case.meta["x_original_max_diff_px"]``; above 2 px a warning is logged (that would mean the
pads or the sizes are not what the dataset used). Off-image fixations (outside [0, 1] by the
formula, ``X_ORIGINAL``/``Y_ORIGINAL`` negative in "original" mode) are dropped and counted.

Image size (needed for ``ImageRef``, the anatomical boxes and "original" coordinates): the
master sheet has no size column, so it comes from, in order, (1) the image header when the image
is found under ``images_root``, (2) ``Rows``/``Columns`` of MIMIC-CXR-JPG's
``mimic-cxr-2.0.0-metadata.csv`` when ``mimic_metadata`` is given, (3) an estimate from the
fixations themselves: ``X_ORIGINAL = floor(x * W)`` for every on-image fixation, so W is the
smallest integer all fixations allow (the median of ``(X_ORIGINAL + 0.5) / x`` if rounding in
the table leaves none; the authors padded odd sizes to even, so an odd width comes out one pixel
larger). ``case.meta["image_size_source"]`` says
which ("image", "mimic-metadata" or "estimated"); a case with none of the three is skipped.

Known defect: some ``DICOM_ID`` values in ``fixations.csv`` (and ``eye_gaze.csv``) are
truncated; they are matched to the master sheet by unique prefix. Ambiguous or unmatched ids
(including the calibration image's rows) are logged and their rows skipped.

Times: ``FPOGS`` counts from the tracker's initialisation; each read is shifted to start at
its first fixation (``fixations``) or first sample (``eye_gaze``); the shift is kept in
``scanpath.meta["clock_offset_s"]``. EGD-CXR does not record image onset in these tables, so
fixation times and transcript times (relative to the dictation audio) are not known to share
an origin.

Labels: master-sheet condition columns (0/1) and CheXpert columns (``*__chx``: 1, 0, -1
uncertain -> 0.5, blank -> not mentioned) map through the vocabulary's ``egd-cxr`` table into
the case's image-level labels (they come from the MIMIC report and ICD codes, not from the
reading radiologist). The single reader is ``reader_id = "egd-cxr-1"``. EGD-CXR gives no
pixels per degree, so fixations have ``ppd_x/ppd_y = nan`` (heatmaps need a fixed ``sigma_px``).
"""

from __future__ import annotations

import bisect
import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.data._tables import CsvTable, Row, read_json
from core.data.case import Annotation, GazeCase, ImageRef, Read, Report, Word
from core.data.mimic import image_size_px, locate_image, mimic_parts, read_mimic_sizes
from core.errors import GazeDataError
from core.gaze.detection import DetectionConfig, detect_fixations

# the screen (1920 x 1080) and the assumed 40 screen px/degree used for raw-sample detection
from core.gaze.published import DEFAULT_SCREEN_PPD, EGD_SCREEN_PX
from core.gaze.scanpath import Fixation, Scanpath
from core.vocabulary import EGD_CXR, to_vocabulary

logger = logging.getLogger(__name__)

__all__ = [
    "EGD_BOX_COLUMNS",
    "EGD_FIXATION_COLUMNS",
    "EGD_GAZE_COLUMNS",
    "EGD_MASTER_COLUMNS",
    "EGD_READER_ID",
    "EGD_SCREEN_PX",
    "DEFAULT_SCREEN_PPD",
    "PrefixMatcher",
    "egd_screen_to_norm",
    "read_egd",
]

EGD_READER_ID = "egd-cxr-1"
EGD_MASTER_COLUMNS = (
    "dicom_id",
    "path",
    "study_id",
    "patient_id",
    "image_top_pad",
    "image_bottom_pad",
    "image_left_pad",
    "image_right_pad",
    *EGD_CXR,
)
EGD_FIXATION_COLUMNS = (
    "DICOM_ID",
    "FPOGX",
    "FPOGY",
    "FPOGS",
    "FPOGD",
    "FPOGV",
    "X_ORIGINAL",
    "Y_ORIGINAL",
)
EGD_GAZE_COLUMNS = ("DICOM_ID", "Time (in secs)", "BPOGX", "BPOGY", "BPOGV")
EGD_BOX_COLUMNS = ("dicom_id", "bbox_name", "x1", "x2", "y1", "y2")
_CHX = "__chx"
_DISAGREE_PX = 2.0
_META_COLUMNS = ("gender", "anchor_age", "cxr_exam_indication")


def egd_screen_to_norm(
    fpog_x: np.ndarray, fpog_y: np.ndarray, pads: tuple[float, float, float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Screen fractions -> normalised image coordinates; ``pads = (top, bottom, left, right)``."""
    top, bottom, left, right = pads
    sw, sh = EGD_SCREEN_PX
    x = (np.asarray(fpog_x, dtype=np.float64) * sw - left) / (sw - left - right)
    y = (np.asarray(fpog_y, dtype=np.float64) * sh - top) / (sh - top - bottom)
    return x, y


class PrefixMatcher:
    """Resolve possibly truncated ids to the unique full id they start."""

    def __init__(self, ids: list[str]) -> None:
        self.ids = sorted(set(ids))
        self._exact = set(self.ids)

    def match(self, key: str) -> tuple[str | None, str]:
        """``(full_id, "")`` or ``(None, "unmatched" | "ambiguous")``."""
        if key in self._exact:
            return key, ""
        if not key:
            return None, "unmatched"
        i = bisect.bisect_left(self.ids, key)
        hits = []
        while i < len(self.ids) and self.ids[i].startswith(key) and len(hits) < 2:
            hits.append(self.ids[i])
            i += 1
        if not hits:
            return None, "unmatched"
        return (hits[0], "") if len(hits) == 1 else (None, "ambiguous")


@dataclass
class _Case:
    dicom_id: str
    path_text: str
    study_id: str
    patient_id: str
    pads: tuple[float, float, float, float]
    labels: dict[str, float]
    raw_labels: dict[str, object]
    meta: dict[str, object]


@dataclass
class _Fix:
    """Fixation rows of one image, in screen units."""

    fx: list[float] = field(default_factory=list)
    fy: list[float] = field(default_factory=list)
    start: list[float] = field(default_factory=list)
    duration: list[float] = field(default_factory=list)
    x_orig: list[float] = field(default_factory=list)
    y_orig: list[float] = field(default_factory=list)


def read_egd(
    root: str | Path,
    *,
    images_root: str | Path | None = None,
    mimic_metadata: str | Path | None = None,
    fixations_from: str = "fixations",
    coordinates: str = "screen",
    detection: DetectionConfig | None = None,
    screen_ppd: float = DEFAULT_SCREEN_PPD,
) -> Iterator[GazeCase]:
    """Iterate EGD-CXR cases in master-sheet order, one ``GazeCase`` (one ``Read``) per image.

    ``fixations_from``: "fixations" (the dataset's Gazepoint fixations) or "eye_gaze" (detect
    fixations in the raw samples of ``eye_gaze.csv``, streamed once, with ``detection``;
    ``screen_ppd`` is the assumed screen pixels per degree that sets the degree thresholds).
    ``coordinates``: "screen" (FPOG + pads, default) or "original" (X/Y_ORIGINAL); see module doc.
    """
    if fixations_from not in ("fixations", "eye_gaze"):
        raise ValueError(
            f"fixations_from must be 'fixations' or 'eye_gaze', got {fixations_from!r}"
        )
    if coordinates not in ("screen", "original"):
        raise ValueError(f"coordinates must be 'screen' or 'original', got {coordinates!r}")
    if fixations_from == "eye_gaze" and coordinates == "original":
        raise ValueError("coordinates='original' applies to fixations.csv only")
    if not screen_ppd > 0:
        raise ValueError(f"screen_ppd must be > 0, got {screen_ppd}")
    return _iter_egd(
        Path(root), images_root, mimic_metadata, fixations_from, coordinates, detection, screen_ppd
    )


def _iter_egd(
    root: Path,
    images_root: str | Path | None,
    mimic_metadata: str | Path | None,
    fixations_from: str,
    coordinates: str,
    detection: DetectionConfig | None,
    screen_ppd: float,
) -> Iterator[GazeCase]:
    cases = _read_master(root / "master_sheet.csv")
    matcher = PrefixMatcher([c.dicom_id for c in cases])
    fixations = _read_fixation_table(root / "fixations.csv", matcher)
    detected: dict[str, tuple[list[Fixation], float]] = {}
    if fixations_from == "eye_gaze":
        pads = {c.dicom_id: c.pads for c in cases}
        detected = _detect_from_eye_gaze(
            root / "eye_gaze.csv", matcher, pads, detection or DetectionConfig(), screen_ppd
        )
    boxes = _read_boxes(root / "bounding_boxes.csv", matcher)
    sizes: dict[str, tuple[int, int]] = {}
    if mimic_metadata is not None:
        sizes = read_mimic_sizes(mimic_metadata, [c.dicom_id for c in cases])

    n_off = n_skipped = n_kept = 0
    for case in cases:
        rows = fixations.get(case.dicom_id, _Fix())
        parts = mimic_parts(case.path_text)
        path = locate_image(
            images_root,
            case.dicom_id,
            subject_id=case.patient_id or (parts[0] if parts else None),
            study_id=case.study_id or (parts[1] if parts else None),
        )
        size, size_source = _image_size(case, path, sizes, rows)
        if size is None:
            n_skipped += 1
            logger.warning(
                "egd-cxr: %s: image size unknown (no image, no metadata, no on-image X_ORIGINAL); "
                "case skipped",
                case.dicom_id,
            )
            continue
        width, height = size
        x_s, y_s = egd_screen_to_norm(rows.fx, rows.fy, case.pads)
        x_o = (np.asarray(rows.x_orig) + 0.5) / width
        y_o = (np.asarray(rows.y_orig) + 0.5) / height
        on_screen = (x_s >= 0) & (x_s <= 1) & (y_s >= 0) & (y_s <= 1)
        on_orig = (np.asarray(rows.x_orig) >= 0) & (np.asarray(rows.y_orig) >= 0)
        both = on_screen & on_orig
        diff = 0.0
        if both.any():
            diff = float(
                max(
                    np.abs(x_s[both] - x_o[both]).max() * width,
                    np.abs(y_s[both] - y_o[both]).max() * height,
                )
            )
            if diff > _DISAGREE_PX:
                logger.warning(
                    "egd-cxr: %s: FPOG+pads and X/Y_ORIGINAL disagree by up to %.1f px",
                    case.dicom_id,
                    diff,
                )
        if fixations_from == "eye_gaze":
            fix_list, offset = detected.get(case.dicom_id, ([], 0.0))
            # ppd stays unknown (nan): screen_ppd is an assumption for thresholds only
            kept = [f for f in fix_list if 0 <= f.x <= 1 and 0 <= f.y <= 1]
            n_off += len(fix_list) - len(kept)
            detector = f"detected:{(detection or DetectionConfig()).method}"
        else:
            on = on_screen if coordinates == "screen" else on_orig
            xs, ys = (x_s, y_s) if coordinates == "screen" else (x_o, y_o)
            starts = np.asarray(rows.start)
            offset = float(starts.min()) if len(starts) else 0.0
            order = np.argsort(starts, kind="stable")
            kept = [
                Fixation(float(xs[i]), float(ys[i]), float(starts[i] - offset), rows.duration[i])
                for i in order
                if on[i]
            ]
            n_off += int((~on).sum())
            detector = "egd-cxr"
        n_kept += len(kept)
        scanpath = Scanpath(
            tuple(kept),
            reader_id=EGD_READER_ID,
            source="egd-cxr",
            image_id=case.dicom_id,
            meta={"fixations": detector, "clock_offset_s": repr(offset)},
        )
        read = Read(
            read_id=case.dicom_id,
            reader_id=EGD_READER_ID,
            scanpath=scanpath,
            report=_read_transcript(root, case.dicom_id),
        )
        anatomy = tuple(
            Annotation(
                x0 / width,
                y0 / height,
                x1 / width,
                y1 / height,
                labels=(name,),
                kind="anatomy",
                shape="box",
                source="egd-cxr",
            )
            for name, x0, y0, x1, y1 in boxes.get(case.dicom_id, [])
        )
        yield GazeCase(
            case_id=case.dicom_id,
            dataset="egd-cxr",
            image=ImageRef(case.dicom_id, path, width, height),
            reads=(read,),
            labels=case.labels,
            raw_labels=case.raw_labels,
            annotations=anatomy,
            meta={
                **case.meta,
                "image_size_source": size_source,
                "x_original_max_diff_px": diff,
            },
        )
    logger.info(
        "egd-cxr: %d fixation(s) kept, %d off-image fixation(s) dropped, %d case(s) skipped",
        n_kept,
        n_off,
        n_skipped,
    )


def _read_master(path: Path) -> list[_Case]:
    cases = []
    seen: set[str] = set()
    with CsvTable(path, required=EGD_MASTER_COLUMNS) as table:
        label_columns = [c for c in table.header if c in EGD_CXR or c.endswith(_CHX)]
        meta_columns = [c for c in _META_COLUMNS if c in table.index]
        for row in table.rows():
            dicom_id = row.text("dicom_id")
            if not dicom_id:
                raise row.fail("dicom_id", "empty dicom_id")
            if dicom_id in seen:
                raise row.fail("dicom_id", f"duplicate dicom_id {dicom_id}")
            seen.add(dicom_id)
            pads = tuple(
                row.number(f"image_{side}_pad") for side in ("top", "bottom", "left", "right")
            )
            if (
                min(pads) < 0
                or pads[2] + pads[3] >= EGD_SCREEN_PX[0]
                or pads[0] + pads[1] >= EGD_SCREEN_PX[1]
            ):
                raise row.fail("image_top_pad", f"pads {pads} leave no image on a 1920x1080 screen")
            raw: dict[str, object] = {}
            native: dict[str, float] = {}
            for col in label_columns:
                value = _label_value(row, col)
                raw[col] = value
                native[col] = math.nan if math.isnan(value) else (0.5 if value == -1 else value)
            cases.append(
                _Case(
                    dicom_id=dicom_id,
                    path_text=row.text("path"),
                    study_id=row.text("study_id"),
                    patient_id=row.text("patient_id"),
                    pads=pads,  # type: ignore[arg-type]
                    labels=to_vocabulary("egd-cxr", native, strict=True),
                    raw_labels=raw,
                    meta={
                        "study_id": row.text("study_id"),
                        "patient_id": row.text("patient_id"),
                        "path": row.text("path"),
                        "pads_tblr": pads,
                        **{c: row.text(c) for c in meta_columns},
                    },
                )
            )
    return cases


def _label_value(row: Row, column: str) -> float:
    value = row.number(column, empty=math.nan)
    allowed = (0.0, 1.0, -1.0) if column.endswith(_CHX) else (0.0, 1.0)
    if not (math.isnan(value) or value in allowed):
        raise row.fail(column, f"expected one of {allowed} or blank, got {row.text(column)!r}")
    return value


class _Unmatched:
    """Collects unmatched/ambiguous truncated ids and logs them once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: dict[tuple[str, str], int] = {}

    def add(self, key: str, reason: str) -> None:
        self.rows[(key, reason)] = self.rows.get((key, reason), 0) + 1

    def log(self) -> None:
        for (key, reason), n in sorted(self.rows.items()):
            logger.warning(
                "egd-cxr: %s: DICOM_ID %r is %s in master_sheet.csv; %d row(s) skipped",
                self.path.name,
                key,
                "an ambiguous prefix" if reason == "ambiguous" else "not found",
                n,
            )


def _read_fixation_table(path: Path, matcher: PrefixMatcher) -> dict[str, _Fix]:
    out: dict[str, _Fix] = {}
    unmatched = _Unmatched(path)
    invalid = 0
    with CsvTable(path, required=EGD_FIXATION_COLUMNS) as table:
        for row in table.rows():
            key = row.text("DICOM_ID")
            dicom_id, reason = matcher.match(key)
            if dicom_id is None:
                unmatched.add(key, reason)
                continue
            if not row.flag("FPOGV"):
                invalid += 1
                continue
            duration = row.number("FPOGD")
            if duration < 0:
                raise row.fail("FPOGD", f"negative fixation duration {duration}")
            f = out.setdefault(dicom_id, _Fix())
            f.fx.append(row.number("FPOGX"))
            f.fy.append(row.number("FPOGY"))
            f.start.append(row.number("FPOGS"))
            f.duration.append(duration)
            f.x_orig.append(row.number("X_ORIGINAL"))
            f.y_orig.append(row.number("Y_ORIGINAL"))
    unmatched.log()
    if invalid:
        logger.info("egd-cxr: %s: %d row(s) with FPOGV=0 skipped", path.name, invalid)
    return out


def _detect_from_eye_gaze(
    path: Path,
    matcher: PrefixMatcher,
    pads: Mapping[str, tuple[float, float, float, float]],
    cfg: DetectionConfig,
    screen_ppd: float,
) -> dict[str, tuple[list[Fixation], float]]:
    """Stream ``eye_gaze.csv`` once; detect fixations per contiguous run of one image's rows."""
    out: dict[str, tuple[list[Fixation], float]] = {}
    unmatched = _Unmatched(path)
    current: str | None = None
    t: list[float] = []
    gx: list[float] = []
    gy: list[float] = []

    def flush() -> None:
        if current is None or not t:
            return
        top, bottom, left, right = pads[current]
        x, y = egd_screen_to_norm(gx, gy, pads[current])
        scale = (
            (EGD_SCREEN_PX[0] - left - right) / screen_ppd,
            (EGD_SCREEN_PX[1] - top - bottom) / screen_ppd,
        )
        prev, offset = out.get(current, ([], t[0]))
        t_arr = np.asarray(t) - offset
        if len(t_arr) > 1 and np.any(np.diff(t_arr) < 0):
            raise GazeDataError(path, f"'Time (in secs)' goes backwards within {current}")
        sp = detect_fixations(t_arr, x, y, cfg, deg_per_unit=np.asarray(scale))
        out[current] = (prev + list(sp.fixations), offset)

    with CsvTable(path, required=EGD_GAZE_COLUMNS) as table:
        for row in table.rows():
            key = row.text("DICOM_ID")
            dicom_id, reason = matcher.match(key)
            if dicom_id is None:
                unmatched.add(key, reason)
                continue
            if dicom_id != current:
                flush()
                current, t, gx, gy = dicom_id, [], [], []
            t.append(row.number("Time (in secs)"))
            if row.flag("BPOGV"):
                gx.append(row.number("BPOGX"))
                gy.append(row.number("BPOGY"))
            else:
                gx.append(math.nan)
                gy.append(math.nan)
        flush()
    unmatched.log()
    return out


def _read_boxes(
    path: Path, matcher: PrefixMatcher
) -> dict[str, list[tuple[str, float, float, float, float]]]:
    """``dicom_id -> [(name, x0, y0, x1, y1)]`` in original pixels; columns are x1, x2, y1, y2."""
    out: dict[str, list[tuple[str, float, float, float, float]]] = {}
    if not path.is_file():
        logger.info("egd-cxr: %s not found; no anatomical boxes", path.name)
        return out
    unmatched = _Unmatched(path)
    with CsvTable(path, required=EGD_BOX_COLUMNS) as table:
        for row in table.rows():
            dicom_id, reason = matcher.match(row.text("dicom_id"))
            if dicom_id is None:
                unmatched.add(row.text("dicom_id"), reason)
                continue
            x0, x1 = sorted((row.number("x1"), row.number("x2")))
            y0, y1 = sorted((row.number("y1"), row.number("y2")))
            out.setdefault(dicom_id, []).append((row.text("bbox_name"), x0, y0, x1, y1))
    unmatched.log()
    return out


def _image_size(
    case: _Case, path: Path | None, sizes: Mapping[str, tuple[int, int]], rows: _Fix
) -> tuple[tuple[int, int] | None, str]:
    if path is not None:
        return image_size_px(path), "image"
    if case.dicom_id in sizes:
        return sizes[case.dicom_id], "mimic-metadata"
    x, y = egd_screen_to_norm(rows.fx, rows.fy, case.pads)
    xo, yo = np.asarray(rows.x_orig), np.asarray(rows.y_orig)
    use_x = (xo >= 0) & (x > 0.05) & (x <= 1)
    use_y = (yo >= 0) & (y > 0.05) & (y <= 1)
    if not (use_x.any() and use_y.any()):
        return None, ""
    width = _estimate_extent(xo[use_x], x[use_x])
    height = _estimate_extent(yo[use_y], y[use_y])
    if width <= 0 or height <= 0:
        return None, ""
    return (width, height), "estimated"


def _estimate_extent(pixels: np.ndarray, norm: np.ndarray) -> int:
    """Size ``S`` with ``pixels == floor(S * norm)``: the smallest integer in the interval every
    fixation allows, or the median estimate when rounding in the table leaves no common one."""
    lo = float(np.max(pixels / norm))
    hi = float(np.min((pixels + 1) / norm))
    size = math.ceil(lo - 1e-6)
    if size < hi:
        return size
    return round(float(np.median((pixels + 0.5) / norm)))


def _read_transcript(root: Path, dicom_id: str) -> Report | None:
    path = root / "audio_segmentation_transcripts" / dicom_id / "transcript.json"
    if not path.is_file():
        logger.debug("egd-cxr: no transcript for %s", dicom_id)
        return None
    data = read_json(path, context=dicom_id)
    if not isinstance(data, dict) or not isinstance(data.get("full_text"), str):
        raise GazeDataError(path, f"expected an object with a 'full_text' string ({dicom_id})")
    phrases = data.get("time_stamped_text", [])
    if not isinstance(phrases, list):
        raise GazeDataError(path, f"'time_stamped_text' must be a list ({dicom_id})")
    words = []
    for i, p in enumerate(phrases):
        try:
            words.append(Word(str(p["phrase"]), float(p["begin_time"]), float(p["end_time"])))
        except (KeyError, TypeError, ValueError):
            raise GazeDataError(
                path,
                f"time_stamped_text[{i}] needs 'phrase', numeric 'begin_time' and 'end_time' "
                f"({dicom_id})",
            ) from None
    return Report(text=data["full_text"].strip(), words=tuple(words))
