"""The dataset registry: one list of the datasets GazeScope reads, name -> reader.

The CLI (``--dataset`` choices of ``evaluate`` and ``score``) and the evaluation runner
(:func:`load_cases`) both take their datasets from :data:`DATASETS`; a new dataset is one entry
here and one reader module in ``core.data``. Readers are imported when a dataset is read, so
importing this module is cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.data.case import GazeCase, ImageRef, Read
from core.errors import GazeDataError, GazeScopeError
from core.gaze.scanpath import Scanpath

__all__ = ["DATASETS", "Dataset", "cases_from_scanpaths", "dataset_names", "load_cases"]

_SPLIT_ALIASES = {"val": {"val", "valid", "validate", "validation"}}

# (root, images folder or None, read id -> reader id or None) -> cases
ReadFn = Callable[[Path, "Path | None", "Mapping[str, str] | None"], Iterable[GazeCase]]


@dataclass(frozen=True)
class Dataset:
    """A dataset the runner can read: its name, what ``--root`` is, and its reader."""

    name: str
    root: str  # what --root points at, for help texts
    read: ReadFn
    reader_ids: bool = False  # takes a read id -> reader id table (REFLACX layout)


def _reflacx(dataset: str) -> ReadFn:
    def read(root: Path, images: Path | None, reader_ids: Mapping[str, str] | None):
        from core.data.reflacx import read_reflacx

        return read_reflacx(root, images_root=images, dataset=dataset, reader_ids=reader_ids)

    return read


def _synthetic(root: Path, images: Path | None, reader_ids: Mapping[str, str] | None):
    """A ``gazescope synth`` corpus: REFLACX layout plus its reader table and images folder."""
    from core.data.synthetic import READERS_TABLE, read_reader_table

    if reader_ids is None and (root / READERS_TABLE).is_file():
        reader_ids = read_reader_table(root / READERS_TABLE)
    if images is None and (root / "images").is_dir():
        images = root / "images"
    return _reflacx("synthetic")(root, images, reader_ids)


def _egd(root: Path, images: Path | None, reader_ids: Mapping[str, str] | None):
    from core.data.egd import read_egd

    return read_egd(root, images_root=images)


def _gazesearch(root: Path, images: Path | None, reader_ids: Mapping[str, str] | None):
    from core.data.gazesearch import read_gazesearch

    if root.is_dir():
        found = sorted(root.glob("*.json"))
        if len(found) != 1:
            raise GazeDataError(root, f"expected one GazeSearch *.json here, found {len(found)}")
        root = found[0]
    return read_gazesearch(root, images_root=images)


def _nih(root: Path, images: Path | None, reader_ids: Mapping[str, str] | None):
    from core.data.nih import read_nih

    return read_nih(root)


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset("reflacx", "REFLACX folder (main_data/, gaze_data/, ...)", _reflacx("reflacx"), True),
        Dataset("egd", "EGD-CXR folder", _egd),
        Dataset("gazesearch", "the GazeSearch JSON file, or a folder holding one", _gazesearch),
        Dataset("nih", "NIH-sample layout folder (labels.csv, images/)", _nih),
        Dataset("synthetic", "a gazescope synth corpus (REFLACX layout)", _synthetic, True),
    )
}


def dataset_names() -> tuple[str, ...]:
    """The registered dataset names, in registry order (the CLI's ``--dataset`` choices)."""
    return tuple(DATASETS)


def load_cases(
    dataset: str,
    root: str | Path,
    *,
    images: str | Path | None = None,
    split: str | None = None,
    limit: int | None = None,
    reader_ids: Mapping[str, str] | None = None,
) -> list[GazeCase]:
    """Read a dataset's cases with its reader, keep one split, stop after ``limit`` cases.

    ``dataset``: a name of :data:`DATASETS`. ``split`` keeps cases whose split (or one of a
    multi-split case's ``|`` parts) equals it; "val" also matches "validate"/"validation". A
    split that matches nothing raises ``GazeScopeError`` listing the splits present.
    ``reader_ids`` (REFLACX layout only: read id -> reader id) tells the human ceiling which
    reads share a reader; without it every read counts as a different reader (REFLACX does not
    publish reader identities). "synthetic" (a ``gazescope synth`` corpus) takes ``reader_ids``
    from the corpus's ``synthetic_readers.csv`` and ``images`` from its ``images/`` folder when
    not given.
    """
    spec = DATASETS.get(dataset)
    if spec is None:
        raise GazeScopeError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
    if reader_ids is not None and not spec.reader_ids:
        raise GazeScopeError(f"reader_ids applies to the REFLACX layout only, not {dataset!r}")
    it = spec.read(Path(root), None if images is None else Path(images), reader_ids)
    wanted = None if split is None else _SPLIT_ALIASES.get(split, {split})
    cases: list[GazeCase] = []
    seen_splits: set[str] = set()
    for case in it:
        parts = set(case.split.split("|")) if case.split else {""}
        seen_splits |= parts
        if wanted is not None and not parts & wanted:
            continue
        cases.append(case)
        if limit is not None and len(cases) >= limit:
            break
    if wanted is not None and not cases:
        present = ", ".join(sorted(repr(s) for s in seen_splits if s)) or "none (no split column)"
        raise GazeScopeError(f"{dataset}: no case in split {split!r}; splits present: {present}")
    return cases


def cases_from_scanpaths(
    scanpaths: Mapping[str, Sequence[Scanpath]],
    sizes: Mapping[str, tuple[int, int]] | None = None,
    *,
    dataset: str = "scanpaths",
) -> list[GazeCase]:
    """Ground-truth ``GazeCase`` records from ``{image_id: [human scanpaths]}``.

    Each scanpath is one read; its ``reader_id`` (else its position) is the reader. Images
    without a size in ``sizes`` are taken as square (frame 1 x 1, heatmap sigma relative to
    the side) and recorded as 1000 x 1000 px.
    """
    sizes = sizes or {}
    cases = []
    for image_id, paths in scanpaths.items():
        w, h = sizes.get(image_id, (1000, 1000))
        reads = tuple(
            Read(
                read_id=f"{image_id}:{sp.reader_id or i}",
                reader_id=sp.reader_id or str(i),
                scanpath=sp,
            )
            for i, sp in enumerate(paths)
        )
        cases.append(
            GazeCase(image_id, dataset, ImageRef(image_id, None, int(w), int(h)), reads=reads)
        )
    return cases
