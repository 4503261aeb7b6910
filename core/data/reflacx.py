"""REFLACX reader (PhysioNet ``reflacx-xray-localization``), also used for GazeScope's synthetic
corpus, which is written in the very same layout.

Layout (``root`` is the dataset folder)::

    main_data/metadata_phase_{1,2,3}.csv
    main_data/<id>/fixations.csv, timestamps_transcription.csv, transcription.txt,
                   anomaly_location_ellipses.csv, chest_bounding_box.csv
    gaze_data/<id>/gaze.csv                      (raw samples; only for fixations_from="gaze")

Conversions, done once here: positions are pixels of the original DICOM (REFLACX already undid
zoom and pan) -> divided by ``image_size_x/y``; times are seconds from the start of the
dictation audio and stay so; each fixation keeps its pixels-per-degree
(``angular_resolution_*``) for the 1-degree heatmap recipe; certainties 0-5 map through
``REFLACX_CERTAINTY``; labels through the vocabulary (``reflacx-1`` / ``reflacx-2`` /
``reflacx-3`` tables).

Decisions:

- One ``GazeCase`` per ``dicom_id``: reads of the same image (each phase-1 and phase-2 image
  was read by all five radiologists; an image listed in several phases is grouped too) become
  its ``Read``s.
  The case's ``labels`` are the mean certainty over its reads (each read keeps its own).
- Reader identity: REFLACX does **not** publish which radiologist made a read. Ids are
  ``P{phase}{trial:02d}R{6 random digits}`` where ``trial`` is the position of the image in the
  list shown to *every* radiologist of phases 1-2 (and ``00`` in phase 3) - see
  ``create_main_table.py`` in github.com/ricbl/eyetracking - so the id encodes phase and image
  order, not the reader. ``reader_id`` is therefore ``""`` (unknown) unless the caller passes
  ``reader_ids`` (REFLACX id -> reader id), e.g. from a table the synthetic corpus writes.
- Reads with ``eye_tracking_data_discarded`` true have no fixations or transcript: skipped and
  counted in one log line.
- Fixations off the image (REFLACX keeps fixations on the interface's buttons, outside
  ``[0, W] x [0, H]``) are dropped unless ``keep_off_image``; the count is logged.
- Strict layout: the metadata must start with the eight fixed columns and then hold exactly the
  phase's label columns (``Other`` optional); ``fixations.csv`` must have REFLACX's 17 columns
  in order; ellipse label columns must be the metadata's. Anything else raises
  ``GazeDataError`` naming file, line and column.
- ``on_error="skip"`` (see ``core.data._tables``) drops only what a problem belongs to: a bad
  metadata row drops that read, a bad file in a read's folder drops that read (a case left
  without reads is dropped), a metadata file that cannot be read at all drops its phase, and a
  file that breaks off mid-way keeps the rows before the break.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.data._tables import CsvTable, OnError, Row, error_handler
from core.data.case import Annotation, GazeCase, ImageRef, Read, Report, Word
from core.data.mimic import MAX_SIDE_PX, is_safe_id, locate_image, mimic_parts
from core.errors import GazeDataError
from core.gaze.detection import DetectionConfig, detect_fixations
from core.gaze.scanpath import Fixation, Scanpath
from core.vocabulary import (
    REFLACX_CERTAINTY,
    REFLACX_PHASE_1,
    REFLACX_PHASE_2_3,
    to_vocabulary,
)

logger = logging.getLogger(__name__)

__all__ = [
    "REFLACX_BOOLEAN_LABELS",
    "REFLACX_CHEST_BOX_COLUMNS",
    "REFLACX_ELLIPSE_COLUMNS",
    "REFLACX_FIXATION_COLUMNS",
    "REFLACX_GAZE_COLUMNS",
    "REFLACX_ID",
    "REFLACX_METADATA_COLUMNS",
    "REFLACX_TRANSCRIPT_COLUMNS",
    "read_reflacx",
    "reflacx_label_columns",
]

REFLACX_ID = re.compile(r"^P([123])(\d{2})R(\d{6})$")
REFLACX_METADATA_COLUMNS = (
    "id",
    "split",
    "eye_tracking_data_discarded",
    "image",
    "dicom_id",
    "subject_id",
    "image_size_x",
    "image_size_y",
)
_DISPLAY_COLUMNS = (
    "pupil_area_normalized",
    "angular_resolution_x_pixels_per_degree",
    "angular_resolution_y_pixels_per_degree",
    "window_width",
    "window_level",
    "xmin_shown_from_image",
    "ymin_shown_from_image",
    "xmax_shown_from_image",
    "ymax_shown_from_image",
    "xmin_in_screen_coordinates",
    "ymin_in_screen_coordinates",
    "xmax_in_screen_coordinates",
    "ymax_in_screen_coordinates",
)
REFLACX_FIXATION_COLUMNS = (
    "timestamp_start_fixation",
    "timestamp_end_fixation",
    "x_position",
    "y_position",
    *_DISPLAY_COLUMNS,
)
REFLACX_GAZE_COLUMNS = ("timestamp_sample", "x_position", "y_position", *_DISPLAY_COLUMNS)
REFLACX_TRANSCRIPT_COLUMNS = ("word", "timestamp_start_word", "timestamp_end_word")
REFLACX_CHEST_BOX_COLUMNS = ("xmin", "ymin", "xmax", "ymax")
REFLACX_ELLIPSE_COLUMNS = ("xmin", "ymin", "xmax", "ymax", "certainty")
REFLACX_BOOLEAN_LABELS = ("Support devices", "Quality issue")
_OTHER = "Other"
_PPD_X, _PPD_Y = _DISPLAY_COLUMNS[1], _DISPLAY_COLUMNS[2]


def reflacx_label_columns(phase: int) -> tuple[str, ...]:
    """The label columns of ``metadata_phase_{phase}.csv`` in file order (sorted, with Other)."""
    if phase not in (1, 2, 3):
        raise ValueError(f"REFLACX phase must be 1, 2 or 3, got {phase}")
    names = REFLACX_PHASE_1 if phase == 1 else REFLACX_PHASE_2_3
    return tuple(sorted([*names, _OTHER]))


@dataclass
class _Entry:
    """One metadata row (one read) before its folder is read."""

    read_id: str
    phase: int
    split: str
    image: str
    dicom_id: str
    subject_id: str
    width: int
    height: int
    label_columns: tuple[str, ...]
    raw_labels: dict[str, object]
    labels: dict[str, float]
    source: Path
    line: int


@dataclass
class _Counts:
    discarded: int = 0
    reads: int = 0
    fixations: int = 0
    off_image: int = 0
    ellipses_without_label: int = 0
    by_phase: dict[int, int] = field(default_factory=dict)


def read_reflacx(
    root: str | Path,
    *,
    images_root: str | Path | None = None,
    phases: Sequence[int] | None = None,
    fixations_from: str = "fixations",
    detection: DetectionConfig | None = None,
    keep_off_image: bool = False,
    reader_ids: Mapping[str, str] | None = None,
    dataset: str = "reflacx",
    on_error: OnError = "raise",
) -> Iterator[GazeCase]:
    """Iterate REFLACX (or synthetic-corpus) cases, one ``GazeCase`` per ``dicom_id``.

    ``phases``: which ``metadata_phase_*.csv`` to read; None reads those present (at least one
    must be). ``fixations_from``: "fixations" (REFLACX's own fixations, the default) or "gaze"
    (detect fixations in ``gaze_data/<id>/gaze.csv`` with ``detection``, per-sample ppd).
    ``images_root``: where to look for ``<dicom_id>`` images (``ImageRef.path`` is None when not
    found). ``dataset`` names the source in the records (e.g. "synthetic"). The metadata are read
    up front (a few thousand rows); each case's files are read when it is yielded.
    ``on_error``: "raise" (default), "skip" or a callable; see the module docstring.
    """
    if fixations_from not in ("fixations", "gaze"):
        raise ValueError(f"fixations_from must be 'fixations' or 'gaze', got {fixations_from!r}")
    return _iter_reflacx(
        Path(root),
        images_root,
        phases,
        fixations_from,
        detection,
        keep_off_image,
        reader_ids,
        dataset,
        error_handler(on_error),
    )


def _iter_reflacx(
    root: Path,
    images_root: str | Path | None,
    phases: Sequence[int] | None,
    fixations_from: str,
    detection: DetectionConfig | None,
    keep_off_image: bool,
    reader_ids: Mapping[str, str] | None,
    dataset: str,
    handle: Callable[[GazeDataError], None],
) -> Iterator[GazeCase]:
    main = root / "main_data"
    if phases is None:
        phases = [p for p in (1, 2, 3) if (main / f"metadata_phase_{p}.csv").is_file()]
        if not phases:
            raise GazeDataError(
                main / "metadata_phase_1.csv",
                f"no metadata_phase_{{1,2,3}}.csv under {main} - not a REFLACX layout",
            )
    counts = _Counts()
    entries: list[_Entry] = []
    for phase in phases:
        try:
            _read_metadata(main / f"metadata_phase_{phase}.csv", phase, counts, entries, handle)
        except GazeDataError as err:  # the file cannot be read at all: its phase is dropped
            handle(err)
    if counts.discarded:
        logger.info(
            "%s: skipped %d read(s) with eye_tracking_data_discarded=True",
            dataset,
            counts.discarded,
        )
    groups: dict[str, list[_Entry]] = {}
    for e in entries:
        groups.setdefault(e.dicom_id, []).append(e)

    for dicom_id, group in groups.items():
        first = group[0]
        consistent = [first]
        for e in group[1:]:
            if (e.width, e.height, e.subject_id) != (first.width, first.height, first.subject_id):
                handle(
                    GazeDataError(
                        e.source,
                        f"line {e.line}: dicom_id {dicom_id} has size {e.width}x{e.height} and "
                        f"subject {e.subject_id}, but {first.read_id} in {first.source.name} "
                        f"says {first.width}x{first.height} and subject {first.subject_id}",
                    )
                )
                continue
            consistent.append(e)
        group = consistent
        reads_list = []
        for e in list(group):
            try:
                reads_list.append(
                    _read_one(
                        root,
                        e,
                        fixations_from,
                        detection,
                        keep_off_image,
                        reader_ids,
                        dataset,
                        counts,
                    )
                )
            except GazeDataError as err:  # a bad file in the read's folder drops that read
                handle(err)
                group.remove(e)
        if not reads_list:
            continue
        first = group[0]
        reads = tuple(reads_list)
        parts = mimic_parts(first.image)
        path = locate_image(
            images_root,
            dicom_id,
            subject_id=first.subject_id or (parts[0] if parts else None),
            study_id=parts[1] if parts else None,
        )
        splits = sorted({e.split for e in group})
        yield GazeCase(
            case_id=dicom_id,
            dataset=dataset,
            image=ImageRef(dicom_id, path, first.width, first.height),
            reads=reads,
            labels=_mean_labels([r.labels for r in reads]),
            split=splits[0] if len(splits) == 1 else "|".join(splits),
            meta={
                "subject_id": first.subject_id,
                "phases": tuple(e.phase for e in group),
                "image": first.image,
            },
        )
    logger.info(
        "%s: %d read(s), %d fixation(s) kept, %d off-image fixation(s) %s",
        dataset,
        counts.reads,
        counts.fixations,
        counts.off_image,
        "kept" if keep_off_image else "dropped",
    )
    if counts.ellipses_without_label:
        logger.info(
            "%s: %d ellipse(s) with no vocabulary label (e.g. only 'Other') skipped",
            dataset,
            counts.ellipses_without_label,
        )


def _read_metadata(
    path: Path,
    phase: int,
    counts: _Counts,
    entries: list[_Entry],
    handle: Callable[[GazeDataError], None],
) -> None:
    """Append the phase's reads to ``entries``; a bad row goes to ``handle`` (file-level
    problems raise)."""
    known = set(reflacx_label_columns(phase))
    with CsvTable(path, prefix=REFLACX_METADATA_COLUMNS) as table:
        label_columns = tuple(table.header[len(REFLACX_METADATA_COLUMNS) :])
        unknown = [c for c in label_columns if c not in known]
        missing = [c for c in known if c not in label_columns and c != _OTHER]
        if unknown or missing:
            raise GazeDataError(
                path,
                f"line 1: label columns do not match phase {phase}: "
                f"unknown {unknown}, missing {sorted(missing)}",
            )
        try:
            for row in table.rows():
                try:
                    entry = _metadata_entry(path, row, phase, label_columns, counts)
                except GazeDataError as err:  # this read only
                    handle(err)
                    continue
                if entry is not None:
                    entries.append(entry)
        except GazeDataError as err:  # the file breaks off: the rows before the break stay
            handle(err)


def _metadata_entry(
    path: Path, row: Row, phase: int, label_columns: tuple[str, ...], counts: _Counts
) -> _Entry | None:
    read_id = row.text("id")
    m = REFLACX_ID.match(read_id)
    if m is None:
        raise row.fail("id", f"expected P<phase><2 digits>R<6 digits>, got {read_id[:40]!r}")
    if int(m.group(1)) != phase:
        raise row.fail("id", f"id {read_id} is not a phase-{phase} id")
    if row.flag("eye_tracking_data_discarded"):
        counts.discarded += 1
        return None
    width, height = row.integer("image_size_x"), row.integer("image_size_y")
    if not (0 < width <= MAX_SIDE_PX and 0 < height <= MAX_SIDE_PX):
        raise row.fail("image_size_x", f"image size must be 1-{MAX_SIDE_PX} px: {width}x{height}")
    dicom_id = row.text("dicom_id")
    if not is_safe_id(dicom_id):
        raise row.fail("dicom_id", f"not a valid dicom_id: {dicom_id[:60]!r}")
    raw: dict[str, object] = {}
    native: dict[str, float] = {}
    for col in label_columns:
        if col == _OTHER:
            text = row.text(col)
            raw[col] = tuple(s.strip() for s in text.split("|") if s.strip())
        elif col in REFLACX_BOOLEAN_LABELS:
            raw[col] = row.flag(col)
            native[col] = 1.0 if raw[col] else 0.0
        else:
            value = row.number(col, empty=math.nan)
            if math.isnan(value):
                raw[col] = value
                native[col] = math.nan
                continue
            if value not in REFLACX_CERTAINTY:
                raise row.fail(col, f"certainty must be an integer 0-5, got {row.text(col)[:20]!r}")
            raw[col] = int(value)
            native[col] = REFLACX_CERTAINTY[int(value)]
    return _Entry(
        read_id=read_id,
        phase=phase,
        split=row.text("split"),
        image=row.text("image"),
        dicom_id=dicom_id,
        subject_id=row.text("subject_id"),
        width=width,
        height=height,
        label_columns=label_columns,
        raw_labels=raw,
        labels=to_vocabulary(f"reflacx-{phase}", native, strict=True),
        source=path,
        line=row.line,
    )


def _read_one(
    root: Path,
    e: _Entry,
    fixations_from: str,
    detection: DetectionConfig | None,
    keep_off_image: bool,
    reader_ids: Mapping[str, str] | None,
    dataset: str,
    counts: _Counts,
) -> Read:
    folder = root / "main_data" / e.read_id
    reader_id = "" if reader_ids is None else str(reader_ids.get(e.read_id, ""))
    if fixations_from == "fixations":
        fixations = _read_fixations(folder / "fixations.csv", e)
        meta = {"fixations": "reflacx"}
    else:
        fixations = _detect_from_gaze(root / "gaze_data" / e.read_id / "gaze.csv", e, detection)
        meta = {"fixations": f"detected:{(detection or DetectionConfig()).method}"}
    if not keep_off_image:
        on = [f for f in fixations if 0.0 <= f.x <= 1.0 and 0.0 <= f.y <= 1.0]
        counts.off_image += len(fixations) - len(on)
        fixations = on
    else:
        counts.off_image += sum(not (0 <= f.x <= 1 and 0 <= f.y <= 1) for f in fixations)
    counts.reads += 1
    counts.fixations += len(fixations)
    scanpath = Scanpath(
        tuple(fixations),
        reader_id=reader_id,
        source=dataset,
        image_id=e.dicom_id,
        meta={**meta, "read_id": e.read_id, "phase": str(e.phase), "trial": e.read_id[2:4]},
    )
    return Read(
        read_id=e.read_id,
        reader_id=reader_id,
        scanpath=scanpath,
        labels=e.labels,
        raw_labels=e.raw_labels,
        annotations=_read_ellipses(folder / "anomaly_location_ellipses.csv", e, counts),
        report=_read_report(folder, e),
        chest_box=_read_chest_box(folder / "chest_bounding_box.csv", e),
    )


def _read_fixations(path: Path, e: _Entry) -> list[Fixation]:
    out = []
    with CsvTable(path, prefix=REFLACX_FIXATION_COLUMNS, context=e.read_id) as table:
        for row in table.rows():
            start = row.number("timestamp_start_fixation")
            end = row.number("timestamp_end_fixation")
            if end < start:
                raise row.fail(
                    "timestamp_end_fixation", f"fixation ends ({end}) before it starts ({start})"
                )
            out.append(
                Fixation(
                    x=row.number("x_position") / e.width,
                    y=row.number("y_position") / e.height,
                    start_s=start,
                    duration_s=end - start,
                    ppd_x=_ppd(row, _PPD_X),
                    ppd_y=_ppd(row, _PPD_Y),
                )
            )
    return out


def _ppd(row: Row, column: str) -> float:
    value = row.number(column, empty=math.nan)
    if not (math.isnan(value) or value > 0):
        raise row.fail(column, f"pixels per degree must be > 0, got {row.text(column)!r}")
    return value


def _detect_from_gaze(path: Path, e: _Entry, detection: DetectionConfig | None) -> list[Fixation]:
    required = ("timestamp_sample", "x_position", "y_position", _PPD_X, _PPD_Y)
    t, x, y, px, py = [], [], [], [], []
    with CsvTable(path, required=required, context=e.read_id) as table:
        if table.header[0] != "timestamp_sample":
            raise GazeDataError(
                path, f"line 1: first column must be 'timestamp_sample' ({e.read_id})"
            )
        for row in table.rows():
            t.append(row.number("timestamp_sample"))
            # blank positions are missing samples (blinks, track loss)
            x.append(row.number("x_position", empty=math.nan))
            y.append(row.number("y_position", empty=math.nan))
            px.append(_ppd(row, _PPD_X))
            py.append(_ppd(row, _PPD_Y))
    t_arr = np.asarray(t)
    if len(t_arr) > 1 and np.any(np.diff(t_arr) < 0):
        raise GazeDataError(path, f"timestamp_sample is not non-decreasing ({e.read_id})")
    scale = np.stack([e.width / np.asarray(px), e.height / np.asarray(py)], axis=1)
    scanpath = detect_fixations(
        t_arr,
        np.asarray(x) / e.width,
        np.asarray(y) / e.height,
        detection,
        deg_per_unit=scale.reshape(-1, 2),
        image_size_px=(e.width, e.height),
    )
    return list(scanpath.fixations)


def _read_ellipses(path: Path, e: _Entry, counts: _Counts) -> tuple[Annotation, ...]:
    out = []
    with CsvTable(path, prefix=REFLACX_ELLIPSE_COLUMNS, context=e.read_id) as table:
        label_columns = tuple(table.header[len(REFLACX_ELLIPSE_COLUMNS) :])
        if set(label_columns) != set(e.label_columns):
            extra = sorted(set(label_columns) - set(e.label_columns))
            missing = sorted(set(e.label_columns) - set(label_columns))
            raise GazeDataError(
                path,
                f"line 1: ellipse label columns differ from metadata_phase_{e.phase}.csv: "
                f"unexpected {extra}, missing {missing} ({e.read_id})",
            )
        for row in table.rows():
            x0, x1 = sorted((row.number("xmin"), row.number("xmax")))
            y0, y1 = sorted((row.number("ymin"), row.number("ymax")))
            level = row.number("certainty")
            if level not in REFLACX_CERTAINTY:
                raise row.fail(
                    "certainty", f"certainty must be an integer 0-5, got {row.text('certainty')!r}"
                )
            native = {c: 1.0 for c in label_columns if row.flag(c) and c != _OTHER}
            labels = tuple(to_vocabulary(f"reflacx-{e.phase}", native, strict=True))
            if not labels:
                counts.ellipses_without_label += 1
                continue
            out.append(
                Annotation(
                    x0 / e.width,
                    y0 / e.height,
                    x1 / e.width,
                    y1 / e.height,
                    labels=labels,
                    kind="finding",
                    shape="ellipse",
                    certainty=REFLACX_CERTAINTY[int(level)],
                    source=e.read_id,
                )
            )
    return tuple(out)


def _read_chest_box(path: Path, e: _Entry) -> tuple[float, float, float, float]:
    with CsvTable(path, prefix=REFLACX_CHEST_BOX_COLUMNS, context=e.read_id) as table:
        rows = list(table.rows())
    if len(rows) != 1:
        raise GazeDataError(path, f"expected one box row, got {len(rows)} ({e.read_id})")
    row = rows[0]
    x0, x1 = sorted((row.number("xmin"), row.number("xmax")))
    y0, y1 = sorted((row.number("ymin"), row.number("ymax")))
    return (x0 / e.width, y0 / e.height, x1 / e.width, y1 / e.height)


def _read_report(folder: Path, e: _Entry) -> Report:
    text_path = folder / "transcription.txt"
    if not text_path.is_file():
        raise GazeDataError(text_path, f"file not found ({e.read_id})")
    try:
        text = text_path.read_text(encoding="utf-8-sig").strip()
    except UnicodeDecodeError as err:
        raise GazeDataError(text_path, f"not UTF-8 text ({err.reason}) ({e.read_id})") from None
    words = []
    path = folder / "timestamps_transcription.csv"
    with CsvTable(path, prefix=REFLACX_TRANSCRIPT_COLUMNS, context=e.read_id) as table:
        for row in table.rows():
            start, end = row.number("timestamp_start_word"), row.number("timestamp_end_word")
            if end < start:
                raise row.fail(
                    "timestamp_end_word", f"word ends ({end}) before it starts ({start})"
                )
            words.append(Word(row.text("word"), start, end))
    return Report(text=text, words=tuple(words))


def _mean_labels(per_read: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Mean certainty per finding over the reads that annotate it (nan ignored)."""
    values: dict[str, list[float]] = {}
    for labels in per_read:
        for k, v in labels.items():
            if not math.isnan(v):
                values.setdefault(k, []).append(v)
    return {k: float(np.mean(v)) for k, v in values.items()}
