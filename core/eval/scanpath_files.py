"""Scanpath files for ``gazescope score``: predictions and ground truth as CSV or JSON.

One format serves both sides. A file holds scanpaths of several images; each scanpath is
identified by a **sample** number (predictions: the k samples of a model) or a **reader** id
(ground truth: one scanpath per human read). Positions are either normalised image
coordinates (``x``, ``y`` in [0, 1] of the original image; house units) or pixels of the
original image (``x_px``, ``y_px``, continuous: the centre of pixel column ``i`` is ``i + 0.5``;
then ``width_px`` and ``height_px`` are required). Durations and starts are seconds.

CSV (one row per fixation, header required, extra columns ignored)::

    image_id,sample,fixation,x,y,duration_s[,start_s][,width_px,height_px]
    image_id,reader,fixation,x_px,y_px,duration_s[,start_s],width_px,height_px

``fixation`` is the 0-based order of the fixation in its scanpath (rows may come in any
order; each index once). Without ``start_s`` fixation ``k`` starts when ``k - 1`` ends.

JSON::

    {"units": "normalised" | "pixels",
     "images": [{"image_id": "...", "width_px": 2000, "height_px": 2500,
                 "scanpaths": [{"sample": 0, "x": [...], "y": [...], "duration_s": [...],
                                "start_s": [...]}],
                 "saliency": "maps/<image_id>.npy"}]}

``sample`` (int) or ``reader`` (string) per scanpath; ``start_s`` optional; ``width_px`` /
``height_px`` required with pixels, optional otherwise (they set the image's aspect ratio for
the metrics' frame; without them an image counts as square). ``saliency`` (optional, relative
to the JSON file) is a ``.npy`` 2-D non-negative map over the whole image, any grid.

Every problem raises :class:`core.errors.GazeDataError` naming the file and where: CSV
``line N, column 'x'``; JSON the path, e.g. ``images[2].scanpaths[0].x[4]``.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.data._tables import CsvTable, read_json
from core.errors import GazeDataError
from core.gaze.scanpath import Scanpath

__all__ = [
    "ScanpathFile",
    "load_saliency_dir",
    "load_saliency_map",
    "read_scanpath_file",
    "write_scanpath_csv",
    "write_scanpath_json",
]

UNITS = ("normalised", "pixels")


@dataclass
class ScanpathFile:
    """What a scanpath file holds, in house units."""

    path: Path
    kind: str  # "sample" (predictions) or "reader" (ground truth)
    scanpaths: dict[str, list[Scanpath]]  # image_id -> scanpaths in sample/reader order
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)  # image_id -> (W, H)
    saliency: dict[str, np.ndarray] = field(default_factory=dict)  # image_id -> map (JSON)


def read_scanpath_file(path: str | Path) -> ScanpathFile:
    """Read a CSV or JSON scanpath file (JSON when its first non-blank character is ``{``)."""
    path = Path(path)
    if not path.is_file():
        raise GazeDataError(path, "file not found")
    head = path.read_bytes()[:256].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{") or head.startswith(b"["):
        return _read_json(path)
    return _read_csv(path)


# --------------------------------------------------------------------------------------------
# CSV


def _read_csv(path: Path) -> ScanpathFile:
    with CsvTable(path, required=("image_id", "fixation", "duration_s")) as table:
        header = set(table.header)
        ids = [c for c in ("sample", "reader") if c in header]
        if len(ids) != 1:
            raise GazeDataError(
                path, "line 1: need exactly one of the columns 'sample' (predictions) or 'reader'"
            )
        kind = ids[0]
        pixels = {"x_px", "y_px"} <= header
        if pixels and ({"x", "y"} & header):
            raise GazeDataError(path, "line 1: give positions as x, y or as x_px, y_px, not both")
        if not pixels and not {"x", "y"} <= header:
            raise GazeDataError(path, "line 1: missing position columns x, y (or x_px, y_px)")
        has_size = {"width_px", "height_px"} <= header
        if pixels and not has_size:
            raise GazeDataError(path, "line 1: pixel positions need width_px and height_px columns")
        has_start = "start_s" in header
        fixations: dict[tuple[str, str], dict[int, tuple[float, ...]]] = {}
        sizes: dict[str, tuple[int, int]] = {}
        for row in table.rows():
            image_id = row.text("image_id")
            if not image_id:
                raise row.fail("image_id", "empty image id")
            key = row.text(kind)
            if kind == "sample":
                key = str(_int(row, "sample"))
            elif not key:
                raise row.fail("reader", "empty reader id")
            index = _int(row, "fixation")
            if has_size:
                size = (_int(row, "width_px", positive=True), _int(row, "height_px", positive=True))
                if sizes.setdefault(image_id, size) != size:
                    raise row.fail(
                        "width_px", f"image {image_id} was {sizes[image_id]} px on an earlier row"
                    )
            if pixels:
                w, h = sizes[image_id]
                x, y = row.number("x_px") / w, row.number("y_px") / h
                xcol = "x_px"
            else:
                x, y = row.number("x"), row.number("y")
                xcol = "x"
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise row.fail(
                    xcol, f"position ({x:.4g}, {y:.4g}) normalised is off the image [0, 1]"
                )
            duration = row.number("duration_s")
            if duration < 0:
                raise row.fail("duration_s", f"duration must be >= 0 s, got {duration}")
            start = row.number("start_s") if has_start else math.nan
            per = fixations.setdefault((image_id, key), {})
            if index in per:
                raise row.fail("fixation", f"fixation {index} of {image_id}/{key} given twice")
            per[index] = (x, y, start, duration)
    scanpaths: dict[str, list[Scanpath]] = {}
    for (image_id, key), per in fixations.items():
        rows = np.array([per[i] for i in sorted(per)], dtype=np.float64)
        scanpaths.setdefault(image_id, []).append(_scanpath(rows, image_id, key, kind))
    for paths in scanpaths.values():
        paths.sort(key=lambda sp: _order_key(sp, kind))
    return ScanpathFile(path, kind, scanpaths, sizes)


def _int(row: object, column: str, *, positive: bool = False) -> int:
    value = row.integer(column)  # type: ignore[attr-defined]
    if value < (1 if positive else 0):
        raise row.fail(column, f"must be {'> 0' if positive else '>= 0'}, got {value}")  # type: ignore[attr-defined]
    return value


def _order_key(sp: Scanpath, kind: str) -> tuple[int, str]:
    key = sp.meta.get(kind, "")
    return (int(key), "") if kind == "sample" else (0, key)


def _scanpath(rows: np.ndarray, image_id: str, key: str, kind: str) -> Scanpath:
    """``rows`` (N, 4): x, y, start_s (nan: unknown), duration_s."""
    starts = rows[:, 2]
    if np.isnan(starts).any():
        starts = np.concatenate([[0.0], np.cumsum(rows[:-1, 3])]) if len(rows) else starts
    return Scanpath.from_arrays(
        rows[:, 0],
        rows[:, 1],
        starts,
        rows[:, 3],
        reader_id=key if kind == "reader" else f"sample#{key}",
        image_id=image_id,
        meta={kind: key},
    )


# --------------------------------------------------------------------------------------------
# JSON


def _read_json(path: Path) -> ScanpathFile:
    data = read_json(path)

    def fail(where: str, problem: str) -> GazeDataError:
        return GazeDataError(path, f"{where}: {problem}")

    if not isinstance(data, dict):
        raise fail("top level", "expected an object with 'units' and 'images'")
    units = data.get("units", "normalised")
    if units not in UNITS:
        raise fail("units", f"must be 'normalised' or 'pixels', got {units!r}")
    images = data.get("images")
    if not isinstance(images, list):
        raise fail("images", "expected a list of image objects")
    kind: str | None = None
    scanpaths: dict[str, list[Scanpath]] = {}
    sizes: dict[str, tuple[int, int]] = {}
    saliency: dict[str, np.ndarray] = {}
    for i, image in enumerate(images):
        where = f"images[{i}]"
        if not isinstance(image, dict):
            raise fail(where, "expected an object")
        image_id = image.get("image_id")
        if not isinstance(image_id, str) or not image_id:
            raise fail(f"{where}.image_id", "expected a non-empty string")
        if image_id in scanpaths:
            raise fail(f"{where}.image_id", f"image {image_id!r} listed twice")
        size = None
        if "width_px" in image or "height_px" in image or units == "pixels":
            w, h = image.get("width_px"), image.get("height_px")
            if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (w, h)):
                raise fail(where, f"width_px and height_px must be positive integers, got {w}, {h}")
            size = (int(w), int(h))  # type: ignore[arg-type]
            sizes[image_id] = size
        paths = image.get("scanpaths")
        if not isinstance(paths, list):
            raise fail(f"{where}.scanpaths", "expected a list")
        out = []
        seen: set[str] = set()
        for j, sp in enumerate(paths):
            here = f"{where}.scanpaths[{j}]"
            if not isinstance(sp, dict):
                raise fail(here, "expected an object")
            ids = [c for c in ("sample", "reader") if c in sp]
            if len(ids) != 1:
                raise fail(here, "needs exactly one of 'sample' (predictions) or 'reader'")
            if kind is None:
                kind = ids[0]
            elif ids[0] != kind:
                raise fail(here, f"'{ids[0]}' in a file of '{kind}' scanpaths")
            key = sp[kind]
            if kind == "sample" and not (
                isinstance(key, int) and not isinstance(key, bool) and key >= 0
            ):
                raise fail(f"{here}.sample", f"expected an integer >= 0, got {key!r}")
            if kind == "reader" and not (isinstance(key, str) and key):
                raise fail(f"{here}.reader", f"expected a non-empty string, got {key!r}")
            key = str(key)
            if key in seen:
                raise fail(here, f"{kind} {key!r} given twice for image {image_id!r}")
            seen.add(key)
            arrays = {}
            for name in ("x", "y", "duration_s", "start_s"):
                if name not in sp:
                    if name == "start_s":
                        continue
                    raise fail(here, f"missing key {name!r}")
                values = sp[name]
                if not isinstance(values, list):
                    raise fail(f"{here}.{name}", "expected a list of numbers")
                for n, v in enumerate(values):
                    if not (
                        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                    ):
                        raise fail(f"{here}.{name}[{n}]", f"expected a finite number, got {v!r}")
                arrays[name] = np.asarray(values, dtype=np.float64)
            n = len(arrays["x"])
            bad = [k for k, a in arrays.items() if len(a) != n]
            if bad:
                raise fail(here, f"{bad} do not have as many values as x ({n})")
            x, y = arrays["x"], arrays["y"]
            if units == "pixels":
                x, y = x / size[0], y / size[1]  # type: ignore[index]
            off = np.flatnonzero((x < 0) | (x > 1) | (y < 0) | (y > 1))
            if len(off):
                raise fail(
                    f"{here}.x[{off[0]}]",
                    f"position ({x[off[0]]:.4g}, {y[off[0]]:.4g}) normalised is off the image [0, 1]",
                )
            neg = np.flatnonzero(arrays["duration_s"] < 0)
            if len(neg):
                raise fail(f"{here}.duration_s[{neg[0]}]", "duration must be >= 0 s")
            start = arrays.get("start_s", np.full(n, np.nan))
            rows = np.column_stack([x, y, start, arrays["duration_s"]]).reshape(n, 4)
            out.append(_scanpath(rows, image_id, key, kind))
        scanpaths[image_id] = out
        if "saliency" in image:
            ref = image["saliency"]
            if not isinstance(ref, str) or not ref:
                raise fail(f"{where}.saliency", "expected a path to a .npy file")
            saliency[image_id] = load_saliency_map(path.parent / ref)
    return ScanpathFile(path, kind or "sample", scanpaths, sizes, saliency)


# --------------------------------------------------------------------------------------------
# Saliency maps


def load_saliency_map(path: str | Path) -> np.ndarray:
    """A ``.npy`` saliency map: 2-D, finite, non-negative, not all zero (any scale)."""
    path = Path(path)
    if not path.is_file():
        raise GazeDataError(path, "saliency map file not found")
    try:
        m = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise GazeDataError(path, f"not a .npy array ({err})") from None
    if m.ndim != 2 or m.size == 0:
        raise GazeDataError(path, f"saliency map must be a 2-D array, got shape {m.shape}")
    if not np.issubdtype(m.dtype, np.number):
        raise GazeDataError(path, f"saliency map must be numeric, got {m.dtype}")
    m = m.astype(np.float64)
    if not np.all(np.isfinite(m)) or np.any(m < 0) or not m.sum() > 0:
        raise GazeDataError(path, "saliency map must be finite, non-negative and not all zero")
    return m


def load_saliency_dir(folder: str | Path, image_ids: Sequence[str]) -> dict[str, np.ndarray]:
    """``<folder>/<image_id>.npy`` for each image id that has one."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GazeDataError(folder, "saliency folder not found")
    return {
        i: load_saliency_map(folder / f"{i}.npy")
        for i in image_ids
        if (folder / f"{i}.npy").is_file()
    }


# --------------------------------------------------------------------------------------------
# Writers (for users' convenience and the tests' round trips)


def _key_of(sp: Scanpath, n: int, kind: str) -> str:
    if kind == "reader":
        return sp.reader_id or str(n)
    return str(n)


def write_scanpath_csv(
    path: str | Path,
    scanpaths: Mapping[str, Sequence[Scanpath]],
    *,
    kind: str = "sample",
    units: str = "normalised",
    sizes: Mapping[str, tuple[int, int]] | None = None,
) -> Path:
    """Write ``{image_id: [scanpaths]}`` as a scanpath CSV (``kind``: "sample" or "reader")."""
    if kind not in ("sample", "reader") or units not in UNITS:
        raise ValueError(
            f"kind must be sample/reader and units normalised/pixels, got {kind}, {units}"
        )
    sizes = sizes or {}
    path = Path(path)
    pixels = units == "pixels"
    header = ["image_id", kind, "fixation", *(("x_px", "y_px") if pixels else ("x", "y"))]
    header += ["duration_s", "start_s"]
    with_size = pixels or bool(sizes)
    if with_size:
        header += ["width_px", "height_px"]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for image_id, paths in scanpaths.items():
            size = sizes.get(image_id)
            if with_size and size is None:
                raise ValueError(f"no size for image {image_id!r}")
            for n, sp in enumerate(paths):
                for i, (x, y, start, dur) in enumerate(sp.to_array()):
                    xy = (x * size[0], y * size[1]) if pixels else (x, y)  # type: ignore[index]
                    row = [image_id, _key_of(sp, n, kind), i, *(repr(float(v)) for v in xy)]
                    row += [repr(float(dur)), repr(float(start))]
                    if with_size:
                        row += list(size)  # type: ignore[arg-type]
                    w.writerow(row)
    return path


def write_scanpath_json(
    path: str | Path,
    scanpaths: Mapping[str, Sequence[Scanpath]],
    *,
    kind: str = "sample",
    sizes: Mapping[str, tuple[int, int]] | None = None,
    saliency_files: Mapping[str, str] | None = None,
) -> Path:
    """Write ``{image_id: [scanpaths]}`` as a normalised-units scanpath JSON."""
    if kind not in ("sample", "reader"):
        raise ValueError(f"kind must be 'sample' or 'reader', got {kind!r}")
    images = []
    for image_id, paths in scanpaths.items():
        entry: dict[str, object] = {"image_id": image_id}
        if sizes and image_id in sizes:
            entry["width_px"], entry["height_px"] = map(int, sizes[image_id])
        entry["scanpaths"] = [
            {
                kind: n if kind == "sample" else _key_of(sp, n, kind),
                "x": sp.xy[:, 0].tolist(),
                "y": sp.xy[:, 1].tolist(),
                "duration_s": sp.durations_s.tolist(),
                "start_s": sp.starts_s.tolist(),
            }
            for n, sp in enumerate(paths)
        ]
        if saliency_files and image_id in saliency_files:
            entry["saliency"] = saliency_files[image_id]
        images.append(entry)
    path = Path(path)
    path.write_text(json.dumps({"units": "normalised", "images": images}, indent=1) + "\n")
    return path
