"""GazeSearch reader: public processed search scanpaths of REFLACX / EGD-CXR radiologists.

The file is a JSON list of records ``{name: "<dicom_id>.jpg", subject, task: <finding>,
condition: "present", bbox, X: [...], Y: [...], T: [...], length, fixOnTarget, correct,
split}``; X, Y are integer pixels of the image resized (stretched) to 224x224, T durations in
seconds, at most 6 fixations per record (the first fixations of the search for ``task``).

Conversions and decisions:

- Positions: integer pixels are indices on the 224 grid -> their centres, ``(X + 0.5) / 224``
  (``core.io.geometry.index_to_norm``). The stretch to 224x224 is per axis, so this is also the
  normalised position on the original image.
- Times: records carry durations only, so fixation ``k`` starts at the sum of the durations
  before it (the first at 0 s); saccade times are unknown and count as zero.
- One ``GazeCase`` per image, one ``Read`` per record: ``reader_id`` is the record's
  ``subject``, the read's labels are ``{task: 1.0}`` when ``condition == "present"`` (0.0 when
  "absent"), mapped through the vocabulary (``gazesearch`` table); ``bbox`` (taken as
  ``[x, y, w, h]`` in 224-px pixels, the COCO-Search18 convention GazeSearch follows) becomes the
  read's annotation. The case's labels are the maximum over its reads.
- Image size: the original size is not in the file. It is read from the image header when the
  image is found under ``images_root`` (``<dicom_id>.jpg`` etc., flat or MIMIC layout), else
  ``image_sizes[dicom_id]`` when given, else 224x224 (the frame the coordinates were given in).
- Bad records: every problem names the file, the line where the record starts, its index and
  the key (``gazesearch.json: line 40, record 3, key 'T': ...``). ``on_error="skip"`` drops the
  bad record only (its image keeps its other records); an unreadable image header drops that
  image's case.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from core.data._tables import MAX_ABS_VALUE, OnError, error_handler, read_json_records
from core.data.case import Annotation, GazeCase, ImageRef, Read
from core.data.mimic import image_size_px, locate_image
from core.errors import GazeDataError, GazeScopeError
from core.gaze.scanpath import Scanpath
from core.io.geometry import index_to_norm
from core.vocabulary import to_vocabulary

__all__ = ["GAZESEARCH_GRID_PX", "GAZESEARCH_REQUIRED_KEYS", "read_gazesearch"]

GAZESEARCH_GRID_PX = 224
GAZESEARCH_REQUIRED_KEYS = ("name", "subject", "task", "X", "Y", "T")


def read_gazesearch(
    path: str | Path,
    *,
    images_root: str | Path | None = None,
    image_sizes: Mapping[str, tuple[int, int]] | None = None,
    on_error: OnError = "raise",
) -> Iterator[GazeCase]:
    """Iterate the images of a GazeSearch JSON file, in order of first appearance.

    ``on_error``: "raise" (default) or "skip" bad records (see ``core.data._tables``).
    """
    path = Path(path)
    handle = error_handler(on_error)
    grouped: dict[str, list[Read]] = {}
    splits: dict[str, set[str]] = {}
    for i, (line, record) in enumerate(read_json_records(path)):
        try:
            read, image_id, split = _read_record(path, i, record, line)
        except GazeDataError as err:
            handle(err)
            continue
        grouped.setdefault(image_id, []).append(read)
        splits.setdefault(image_id, set()).add(split)
    for image_id, reads in grouped.items():
        image_path = locate_image(images_root, image_id)
        if image_path is not None:
            try:
                width, height = image_size_px(image_path)
            except GazeScopeError as err:
                handle(GazeDataError(path, f"image of {image_id}: {err}"))
                continue
        elif image_sizes is not None and image_id in image_sizes:
            width, height = image_sizes[image_id]
        else:
            width = height = GAZESEARCH_GRID_PX
        labels: dict[str, float] = {}
        for r in reads:
            for k, v in r.labels.items():
                labels[k] = max(labels.get(k, v), v)
        yield GazeCase(
            case_id=image_id,
            dataset="gazesearch",
            image=ImageRef(image_id, image_path, int(width), int(height)),
            reads=tuple(reads),
            labels=labels,
            split="|".join(sorted(s for s in splits[image_id] if s)),
        )


def _read_record(path: Path, i: int, record: object, line: int) -> tuple[Read, str, str]:
    def fail(problem: str, key: str | None = None) -> GazeDataError:
        where = f"line {line}, record {i}" + (f", key {key!r}" if key else "")
        return GazeDataError(path, f"{where}: {problem}")

    if not isinstance(record, dict):
        raise fail(f"expected an object, got {type(record).__name__}")
    missing = [k for k in GAZESEARCH_REQUIRED_KEYS if k not in record]
    if missing:
        raise fail(f"missing key(s) {missing}")
    name = record["name"]
    if not isinstance(name, str) or not name:
        raise fail(f"must be an image file name, got {_short(name)}", "name")
    image_id = Path(name).stem
    arrays = []
    for key in ("X", "Y", "T"):
        value = record[key]
        if not isinstance(value, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
        ):
            raise fail("must be a list of numbers", key)
        array = np.asarray(value, dtype=np.float64)
        if not np.all(np.isfinite(array)):
            raise fail("holds NaN or infinite values", key)
        arrays.append(array)
    x_px, y_px, dur = arrays
    if not len(x_px) == len(y_px) == len(dur):
        raise fail(f"X, Y and T lengths differ ({len(x_px)}, {len(y_px)}, {len(dur)})")
    if np.any(dur < 0) or np.any(dur > MAX_ABS_VALUE):
        raise fail(f"durations must be seconds in [0, {MAX_ABS_VALUE:g}]", "T")
    grid = GAZESEARCH_GRID_PX
    for key, values in (("X", x_px), ("Y", y_px)):
        if np.any((values < 0) | (values >= grid)):
            raise fail(f"positions must be pixel indices in [0, {grid})", key)
    xy = index_to_norm(np.stack([x_px, y_px], axis=1), grid, grid)
    starts = np.concatenate([[0.0], np.cumsum(dur)[:-1]]) if len(dur) else dur
    task = str(record["task"])
    condition = str(record.get("condition", "present"))
    if condition not in ("present", "absent"):
        raise fail(f"must be 'present' or 'absent', got {_short(condition)}", "condition")
    certainty = 1.0 if condition == "present" else 0.0
    labels = to_vocabulary("gazesearch", {task: certainty})
    reader_id = str(record["subject"])
    annotations: tuple[Annotation, ...] = ()
    bbox = record.get("bbox")
    if bbox is not None:
        if not (
            isinstance(bbox, list)
            and len(bbox) == 4
            and all(
                isinstance(v, (int, float)) and math.isfinite(v) and abs(v) <= MAX_ABS_VALUE
                for v in bbox
            )
            and bbox[2] >= 0
            and bbox[3] >= 0
        ):
            raise fail(f"must be [x, y, w, h] with w, h >= 0, got {_short(bbox)}", "bbox")
        bx, by, bw, bh = (float(v) / grid for v in bbox)
        if labels and condition == "present":
            annotations = (
                Annotation(bx, by, bx + bw, by + bh, labels=tuple(labels), source="gazesearch"),
            )
    scanpath = Scanpath.from_arrays(
        xy[:, 0],
        xy[:, 1],
        starts,
        dur,
        reader_id=reader_id,
        source="gazesearch",
        image_id=image_id,
        meta={"task": task},
    )
    read = Read(
        read_id=f"{image_id}:{reader_id}:{task}:{i}",
        reader_id=reader_id,
        scanpath=scanpath,
        labels=labels,
        raw_labels={
            k: record[k]
            for k in ("task", "condition", "correct", "fixOnTarget", "length")
            if k in record
        },
        annotations=annotations,
    )
    return read, image_id, str(record.get("split", ""))


def _short(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
