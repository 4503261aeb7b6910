"""Training and evaluation data of the gaze-supervised classifier, with patient-disjoint splits.

Three sources, all real or labelled synthetic:

- ``nih-512``: ``../shared/data/nih-cxr14-sample`` (322 real NIH images, 512 px, NIH labels), with
  the fixation density of the *simulated* radiologists who read them in the synthetic corpus
  (``gazescope synth --real ...``; 297 of the 322 were read);
- ``nih-64``: ``../shared/data/nih-cxr14-64px`` (972 real NIH images at 64 px, NIH labels, no
  gaze), upsampled to the model's input size;
- ``phantom``: the synthetic corpus's phantoms (exact labels and finding masks, simulated gaze).

Splits. Real images are split by *patient*: ``crc32(patient id) % 100`` below 60 is train, below
75 validation, the rest test, for both NIH sets together (so the two patients the 64 px README
lists as also in the sample land on the same side in both). The NIH patient id is the file-name
prefix (``00000100_000.png`` -> 100), the 64 px set's ``patient_id`` column. Phantoms are each
their own patient and keep the corpus split (``validate`` -> ``val``). **The test split is never
used for training, early stopping or calibration**; validation is used for early stopping and
for fitting the temperature.

Gaze target of an image: the mean over its reads of each read's fixation heatmap
(:func:`core.gaze.heatmap.scanpath_heatmap`, 1 degree Gaussians weighted by duration, a density
on the model's attention grid), renormalised to sum 1.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.data._tables import CsvTable
from core.data.nih import NIH_FINDINGS, NO_FINDING, read_nih
from core.data.reflacx import read_reflacx
from core.data.synthetic import read_reader_table
from core.errors import GazeDataError
from core.gaze.heatmap import scanpath_heatmap
from core.io import load_radiograph
from core.models.classifier import preprocess_image
from core.synth.corpus import load_truth
from core.vocabulary import to_vocabulary

logger = logging.getLogger(__name__)

__all__ = [
    "ClassifierData",
    "build_classifier_data",
    "patient_split",
    "read_nih_64px_labels",
]

SPLIT_TRAIN_BELOW = 60  # crc32(patient) % 100 < 60: train  (design choice: 60/15/25)
SPLIT_VAL_BELOW = 75  # < 75: validation; otherwise test
_CORPUS_SPLITS = {"train": "train", "validate": "val", "val": "val", "test": "test"}


def patient_split(patient_id: str) -> str:
    """``"train"``, ``"val"`` or ``"test"`` for a real patient, stable across runs and sets."""
    bucket = zlib.crc32(str(patient_id).encode()) % 100
    if bucket < SPLIT_TRAIN_BELOW:
        return "train"
    return "val" if bucket < SPLIT_VAL_BELOW else "test"


@dataclass
class ClassifierData:
    """Stacked arrays for every image, plus per-image bookkeeping (parallel lists)."""

    labels_order: tuple[str, ...]
    images: np.ndarray  # (N, 1, S, S) float32, preprocessed
    labels: np.ndarray  # (N, K) float32 0/1/nan
    gaze: np.ndarray  # (N, h, w) float32 densities (zeros where has_gaze is False)
    has_gaze: np.ndarray  # (N,) bool
    case_ids: list[str]
    sources: list[str]  # "nih-512", "nih-64", "phantom"
    patients: list[str]
    splits: list[str]
    # phantoms: case index -> [(label index, (h, w) bool: grid cells the finding mask touches)]
    finding_cells: dict[int, list[tuple[int, np.ndarray]]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.case_ids)

    def select(
        self, *, split: str | None = None, sources: Sequence[str] | None = None
    ) -> np.ndarray:
        """Indices of the cases in ``split`` (None: any) from ``sources`` (None: any)."""
        keep = [
            i
            for i in range(len(self))
            if (split is None or self.splits[i] == split)
            and (sources is None or self.sources[i] in sources)
        ]
        return np.asarray(keep, dtype=np.int64)

    def describe(self) -> str:
        """Counts per source and split, one line."""
        parts = []
        for src in sorted(set(self.sources)):
            per = {s: len(self.select(split=s, sources=[src])) for s in ("train", "val", "test")}
            gaze = int(sum(self.has_gaze[self.select(sources=[src])]))
            parts.append(f"{src}: {per['train']}/{per['val']}/{per['test']} (gaze {gaze})")
        return "train/val/test images - " + "; ".join(parts)


def read_nih_64px_labels(root: str | Path) -> list[tuple[str, str, dict[str, float]]]:
    """``(image file, patient id, vocabulary labels)`` per row of the 64 px set's labels.csv."""
    root = Path(root)
    rows = []
    with CsvTable(root / "labels.csv", required=("image", "finding_labels", "patient_id")) as t:
        for row in t.rows():
            findings = tuple(s.strip() for s in row.text("finding_labels").split("|"))
            unknown = [f for f in findings if f not in NIH_FINDINGS and f != NO_FINDING]
            if unknown:
                raise row.fail("finding_labels", f"unexpected labels {unknown}")
            native = {f: float(f in findings) for f in (*NIH_FINDINGS, NO_FINDING)}
            rows.append((row.text("image"), row.text("patient_id"), to_vocabulary("nih", native)))
    return rows


def _label_vector(labels: dict[str, float | None], order: Sequence[str]) -> np.ndarray:
    out = np.full(len(order), np.nan, dtype=np.float32)
    for j, fid in enumerate(order):
        v = labels.get(fid)
        if v is not None and not np.isnan(v):
            out[j] = 1.0 if v >= 0.5 else 0.0
    return out


def _corpus_gaze(corpus: Path, grid_shape: tuple[int, int]) -> dict[str, tuple[np.ndarray, str]]:
    """dicom_id -> (mean fixation density on ``grid_shape``, corpus split)."""
    readers = read_reader_table(corpus / "synthetic_readers.csv")
    out: dict[str, tuple[np.ndarray, str]] = {}
    for case in read_reflacx(corpus, reader_ids=readers, dataset="synthetic"):
        size = (case.image.width_px, case.image.height_px)
        maps = [
            scanpath_heatmap(r.scanpath, grid_shape, image_size_px=size, sigma_px=size[0] / 20)
            for r in case.reads
            if len(r.scanpath)
        ]
        maps = [m for m in maps if m.sum() > 0]
        if not maps:
            continue
        g = np.mean(maps, axis=0)
        out[case.case_id] = (g / g.sum(), case.split)
    return out


def _cells_touched(mask: np.ndarray, grid_shape: tuple[int, int]) -> np.ndarray:
    """(h, w) bool: which cells of a grid spanning the image contain any pixel of ``mask``."""
    gh, gw = grid_shape
    ys, xs = np.nonzero(mask)
    out = np.zeros(grid_shape, dtype=bool)
    out[(ys * gh) // mask.shape[0], (xs * gw) // mask.shape[1]] = True
    return out


def build_classifier_data(
    labels_order: Sequence[str],
    image_size: int,
    *,
    nih_sample: str | Path | None,
    nih_64px: str | Path | None,
    corpus: str | Path | None,
    grid_shape: tuple[int, int],
) -> ClassifierData:
    """Load every source given (None skips it) into one :class:`ClassifierData`."""
    order = tuple(labels_order)
    images: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    gazes: list[np.ndarray | None] = []
    ids: list[str] = []
    sources: list[str] = []
    patients: list[str] = []
    splits: list[str] = []
    cells: dict[int, list[tuple[int, np.ndarray]]] = {}
    gaze_by_id: dict[str, tuple[np.ndarray, str]] = {}
    if corpus is not None:
        corpus = Path(corpus)
        if not (corpus / "synthetic_readers.csv").is_file():
            raise GazeDataError(
                corpus, "not a GazeScope synthetic corpus (no synthetic_readers.csv)"
            )
        gaze_by_id = _corpus_gaze(corpus, grid_shape)
        logger.info("corpus %s: gaze for %d images", corpus, len(gaze_by_id))

    def add(
        image: np.ndarray,
        lab: np.ndarray,
        gaze: np.ndarray | None,
        cid: str,
        src: str,
        patient: str,
        split: str,
    ) -> int:
        images.append(preprocess_image(image, image_size)[0].numpy())
        labels.append(lab)
        gazes.append(gaze)
        ids.append(cid)
        sources.append(src)
        patients.append(patient)
        splits.append(split)
        return len(ids) - 1

    if nih_sample is not None:
        for case in read_nih(nih_sample):
            patient = str(int(case.case_id.split("_")[0]))
            g = gaze_by_id.get(case.case_id)
            rad = load_radiograph(case.image.path)
            add(
                rad.image,
                _label_vector(case.labels, order),
                None if g is None else g[0],
                case.case_id,
                "nih-512",
                patient,
                patient_split(patient),
            )
    if nih_64px is not None:
        root = Path(nih_64px)
        for name, patient, lab in read_nih_64px_labels(root):
            rad = load_radiograph(root / "images" / name)
            patient = str(int(patient))
            add(
                rad.image,
                _label_vector(lab, order),
                None,
                Path(name).stem,
                "nih-64",
                patient,
                patient_split(patient),
            )
    if corpus is not None:
        with CsvTable(corpus / "cases.csv", required=("dicom_id", "source", "split")) as t:
            phantom_rows = [
                (r.text("dicom_id"), r.text("split"))
                for r in t.rows()
                if r.text("source") == "phantom"
            ]
        for dicom_id, split in phantom_rows:
            truth = load_truth(corpus, dicom_id)
            rad = load_radiograph(corpus / "images" / f"{dicom_id}.png")
            g = gaze_by_id.get(dicom_id)
            i = add(
                rad.image,
                _label_vector(truth["labels"], order),
                None if g is None else g[0],
                dicom_id,
                "phantom",
                dicom_id,
                _CORPUS_SPLITS.get(split, split),
            )
            for f, mask in zip(truth["findings"], truth["finding_masks"], strict=True):
                if mask is not None and f["id"] in order and mask.any():
                    cells.setdefault(i, []).append(
                        (order.index(f["id"]), _cells_touched(mask, grid_shape))
                    )
    if not ids:
        raise GazeDataError(None, "no classifier data: give at least one source")
    gh, gw = grid_shape
    gaze_arr = np.zeros((len(ids), gh, gw), dtype=np.float32)
    for i, g in enumerate(gazes):
        if g is not None:
            gaze_arr[i] = g
    data = ClassifierData(
        labels_order=order,
        images=np.stack(images).astype(np.float32),
        labels=np.stack(labels),
        gaze=gaze_arr,
        has_gaze=np.array([g is not None for g in gazes]),
        case_ids=ids,
        sources=sources,
        patients=patients,
        splits=splits,
        finding_cells=cells,
    )
    _check_disjoint(data)
    logger.info("%s", data.describe())
    return data


def _check_disjoint(data: ClassifierData) -> None:
    """Fail loudly if any patient has images in two splits (the whole point of the splits)."""
    seen: dict[str, str] = {}
    for p, s in zip(data.patients, data.splits, strict=True):
        if seen.setdefault(p, s) != s:
            raise GazeDataError(None, f"patient {p} appears in splits {seen[p]} and {s}")
