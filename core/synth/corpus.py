"""The synthetic gaze corpus, written in the exact REFLACX layout (``core.data.reflacx`` reads it
unchanged), plus the GazeScope side files real REFLACX lacks.

::

    <root>/README.md                       dataset card: synthetic, how it was made, seed, version
    <root>/corpus.json                     manifest: generator, version, arguments, counts, panel
    <root>/main_data/metadata_phase_3.csv  REFLACX phase-3 table, one row per read
    <root>/main_data/P300R######/          fixations.csv, timestamps_transcription.csv,
                                           transcription.txt, anomaly_location_ellipses.csv,
                                           chest_bounding_box.csv
    <root>/images/<dicom_id>.png           8-bit images, flat (found by dicom_id)
    <root>/synthetic_readers.csv           id, reader_id: which simulated reader made each read
    <root>/splits.json                     the benchmark split (by image; held-out readers)
    <root>/cases.csv                       one row per image: source, split, size, findings
    <root>/truth/<dicom_id>.json           ground truth: findings (severity, conspicuity, side,
                                           location, box), labels, anatomy
    <root>/truth/<dicom_id>.npz            masks, bit-packed (``load_truth`` unpacks them)
    <root>/truth/reads.csv                 per read and finding: found or missed, by which
                                           fixation, reported certainty

REFLACX conventions kept: ids ``P300R{6 digits}`` (phase 3, trial always 00; the digits are
random, unique, and do not encode the reader - as in REFLACX), ``split`` train/validate/test,
``eye_tracking_data_discarded`` False, ``image_size_x/y`` the true size of the written image,
the phase-2/3 label columns with certainty 0-5 (0: not reported) and ``Support devices`` a
boolean, ``Other`` the reported findings without a column (e.g. NIH pneumonia), CSVs written
like pandas (``\\r\\n``, ``True``/``False``). Fixations: positions in pixels of the image,
seconds from the start of the dictation audio, pixels per degree from the simulated display
(``core.synth.readers.display_geometry``: the image fitted to a 1920 x 1080 screen at 40
screen pixels per degree), window = the whole 8-bit range (width 256, level 128), the whole
image shown, its place on the screen, pupil area a slow random walk around 1.0 (not modelled).
Ellipses: one row per drawn ellipse (bounding box in pixels, certainty, its label column True).

Determinism: every case is made from its own seed (run seed + index), files are written without
timestamps (the ``.npz`` archives with a fixed zip date), so the same arguments give
byte-identical files whatever ``workers``.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import shutil
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.data.case import GazeCase
from core.data.reflacx import REFLACX_FIXATION_COLUMNS
from core.data.synthetic import READERS_TABLE
from core.errors import GazeScopeError
from core.jsonsafe import json_safe
from core.synth.cases import NotReadable, PreparedCase, nih_case, phantom_case
from core.synth.readers import (
    DEFAULT_PANEL,
    ReaderProfile,
    ReadingScene,
    SimulatedRead,
    display_geometry,
    read_case,
    resample_mask,
)

logger = logging.getLogger(__name__)

__all__ = [
    "CORPUS_VERSION",
    "DEFAULT_HELD_OUT",
    "REFLACX_COLUMN",
    "SPLIT_FRACTIONS",
    "CorpusConfig",
    "CorpusSummary",
    "load_truth",
    "simulate_case",
    "write_corpus",
]

CORPUS_VERSION = "1.0"
GENERATOR = "gazescope synth"
MANIFEST = "corpus.json"
SPLITS = ("train", "validate", "test")
SPLIT_FRACTIONS = (0.7, 0.1, 0.2)
DEFAULT_HELD_OUT = ("sim5",)
# what `gazescope synth --force` may remove: only what a corpus consists of
GENERATED = (
    "README.md",
    MANIFEST,
    "main_data",
    "images",
    READERS_TABLE,
    "splits.json",
    "cases.csv",
    "truth",
)

# vocabulary id -> REFLACX phase-2/3 column (inverse of core.vocabulary.REFLACX_PHASE_2_3;
# lung_opacity: "Groundglass opacity" is the one column that maps to lung_opacity alone)
REFLACX_COLUMN: dict[str, str] = {
    "cardiomegaly": "Enlarged cardiac silhouette",
    "pleural_effusion": "Pleural abnormality",
    "pleural_thickening": "Pleural abnormality",
    "consolidation": "Consolidation",
    "lung_opacity": "Groundglass opacity",
    "nodule": "Lung nodule or mass",
    "mass": "Lung nodule or mass",
    "pneumothorax": "Pneumothorax",
    "atelectasis": "Atelectasis",
    "edema": "Pulmonary edema",
    "support_devices": "Support devices",
    "emphysema": "High lung volume / emphysema",
    "fibrosis": "Interstitial lung disease",
    "hiatal_hernia": "Hiatal hernia",
    "enlarged_hilum": "Enlarged hilum",
    "mediastinal_abnormality": "Abnormal mediastinal contour",
    "fracture": "Acute fracture",
}
_BOOLEAN = ("Support devices",)
_OTHER = "Other"
_WINDOW = (256, 128)  # width, level: the whole 8-bit range of the written PNG


@dataclass(frozen=True)
class CorpusConfig:
    """What ``gazescope synth`` makes (the defaults are the command's)."""

    n: int = 100  # phantom images
    readers: int = 3  # reads per image (distinct readers of the panel)
    seed: int = 0
    size_px: int = 512  # phantom width and height
    real: str | None = None  # NIH-sample folder whose images are read too
    real_limit: int | None = None  # first N real images only
    held_out: tuple[str, ...] = DEFAULT_HELD_OUT  # readers seen only in the test split
    panel: tuple[ReaderProfile, ...] = DEFAULT_PANEL

    def __post_init__(self) -> None:
        if self.n < 0:
            raise GazeScopeError(f"n must be >= 0, got {self.n}")
        ids = [p.reader_id for p in self.panel]
        if len(set(ids)) != len(ids):
            raise GazeScopeError(f"reader ids must be unique, got {ids}")
        unknown = set(self.held_out) - set(ids)
        if unknown:
            raise GazeScopeError(f"held-out readers {sorted(unknown)} are not in the panel")
        if not 1 <= self.readers <= len(self.panel):
            raise GazeScopeError(
                f"readers per image must be 1-{len(self.panel)} (the panel), got {self.readers}"
            )
        if len(self.held_out) >= len(self.panel):
            raise GazeScopeError("at least one reader must remain for training")
        if not 64 <= self.size_px <= 4096:
            raise GazeScopeError(f"size must be within [64, 4096], got {self.size_px}")
        if self.n == 0 and self.real is None:
            raise GazeScopeError("nothing to make: n is 0 and no real images were given")


@dataclass(frozen=True)
class CaseSpec:
    """Everything a worker needs to make one image's files (picklable)."""

    index: int
    source: str  # "phantom" or "nih"
    dicom_id: str
    subject_id: str
    seed: int
    split: str
    readers: tuple[str, ...]
    read_ids: tuple[str, ...]
    nih_case: GazeCase | None = None  # the NIH-sample case, for real images


@dataclass
class CaseOutput:
    """What a worker hands back to be written into the shared tables."""

    spec: CaseSpec
    skipped: str = ""  # why a real image was not used
    width: int = 0
    height: int = 0
    view: str = ""
    findings: list[str] = field(default_factory=list)
    anatomy_confidence: float = math.nan
    metadata_rows: list[list[str]] = field(default_factory=list)
    reads_rows: list[list[str]] = field(default_factory=list)
    n_fixations: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class CorpusSummary:
    root: Path
    images: int
    reads: int
    by_source: dict[str, int]
    skipped: dict[str, str]  # real image -> reason
    splits: dict[str, int]


# --------------------------------------------------------------------------------------------
# Small writers


def _fmt(v: float, nd: int = 3) -> str:
    return f"{v:.{nd}f}"


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(header)
        w.writerows(rows)


def _bool(v: bool) -> str:
    return "True" if v else "False"


def _pack(masks: Sequence[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Bit ``i`` of the result is mask ``i`` (uint8/16/32/64 as needed)."""
    n = len(masks)
    dtype = np.uint8 if n <= 8 else np.uint16 if n <= 16 else np.uint32 if n <= 32 else np.uint64
    out = np.zeros(shape, dtype=dtype)
    for i, m in enumerate(masks):
        out |= np.asarray(m, dtype=bool).astype(dtype) << dtype(i)
    return out


def _write_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """``np.savez_compressed`` without its timestamps (fixed zip dates: byte-identical files)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def load_truth(root: str | Path, dicom_id: str) -> dict[str, object]:
    """One image's ground truth: the JSON record plus unpacked masks.

    Returns the JSON dict with ``"anatomy_masks"`` (name -> bool array at image resolution;
    phantoms only), ``"region_masks"`` (atlas region -> bool array on the atlas grid) and
    ``"finding_masks"`` (list aligned with ``"findings"``; None for unlocated findings).
    """
    root = Path(root)
    meta = json.loads((root / "truth" / f"{dicom_id}.json").read_text(encoding="utf-8"))
    with np.load(root / "truth" / f"{dicom_id}.npz") as z:
        arrays = {k: z[k] for k in z.files}

    def unpack(key: str, names: Sequence[str]) -> dict[str, np.ndarray]:
        if key not in arrays:
            return {}
        bits = arrays[key]
        return {n: ((bits >> bits.dtype.type(i)) & 1).astype(bool) for i, n in enumerate(names)}

    meta["anatomy_masks"] = unpack("anatomy_bits", meta.get("anatomy_names", []))
    meta["region_masks"] = unpack("region_bits", meta.get("region_names", []))
    fm = unpack("finding_bits", [str(i) for i in range(len(meta["findings"]))])
    meta["finding_masks"] = [
        fm.get(str(i)) if f.get("located") else None for i, f in enumerate(meta["findings"])
    ]
    return meta


# --------------------------------------------------------------------------------------------
# One case


@dataclass
class SimulatedCase:
    """One image made and read in memory (what the corpus files hold)."""

    spec: CaseSpec
    image: np.ndarray | None  # display image in [0, 1] (phantoms); None for copied files
    image_path: Path | None  # real image file to copy
    prepared: PreparedCase
    reads: list[SimulatedRead]
    truth: dict[str, object]
    arrays: dict[str, np.ndarray]


def _read_seed(case_seed: int, reader_id: str) -> int:
    """A read's seed: the case's seed and the reader's id (crc32), nothing else."""
    digest = zlib.crc32(reader_id.encode("utf-8"))
    return int(np.random.SeedSequence([case_seed, digest, 0x7EAD]).generate_state(1)[0])


def simulate_case(
    spec: CaseSpec, size_px: int = 512, panel: Sequence[ReaderProfile] = DEFAULT_PANEL
) -> SimulatedCase:
    """Make one image (phantom or real) and its reads, in memory.

    Raises ``core.synth.cases.NotReadable`` for a real image whose anatomy is not trusted.
    """
    profiles = {p.reader_id: p for p in panel}
    image, image_path = None, None
    truth: dict[str, object] = {
        "dicom_id": spec.dicom_id,
        "source": spec.source,
        "split": spec.split,
    }
    arrays: dict[str, np.ndarray] = {}
    if spec.source == "phantom":
        from core.synth.phantom import ANATOMY_MASKS, PhantomConfig, generate_phantom

        ph = generate_phantom(spec.seed, config=PhantomConfig(height_px=size_px, width_px=size_px))
        prepared = phantom_case(ph)
        image = ph.image
        truth.update(
            seed=spec.seed,
            view=ph.view,
            ctr=ph.ctr,
            spacing_mm=ph.spacing_mm,
            labels={k: (None if math.isnan(v) else v) for k, v in ph.labels.items()},
            anatomy_names=list(ANATOMY_MASKS),
        )
        arrays["anatomy_bits"] = _pack([ph.anatomy[k] for k in ANATOMY_MASKS], ph.image.shape)
    elif spec.source == "nih":
        from core.anatomy import locate
        from core.io import load_radiograph

        case = spec.nih_case
        if case is None or case.image.path is None:
            raise ValueError(f"{spec.dicom_id}: a real case needs its NIH record and image file")
        image_path = case.image.path
        radiograph = load_radiograph(image_path)
        anatomy = locate(radiograph, explain_failures=False)
        prepared = nih_case(case, radiograph.image, anatomy)
        truth.update(
            source_image=Path(image_path).name,
            view=prepared.view,
            labels=dict(case.labels),
            nih_boxes=[
                {"labels": list(a.labels), "box": [a.x0, a.y0, a.x1, a.y1], "source": a.source}
                for a in case.annotations
            ],
            anatomy_names=[],
        )
    else:
        raise ValueError(f"unknown case source {spec.source!r}")
    anatomy = prepared.anatomy
    w, h = prepared.width_px, prepared.height_px
    region_names = list(anatomy.regions)
    arrays["region_bits"] = _pack(
        [anatomy.regions[r].mask for r in region_names], anatomy.grid_shape
    )
    masks = [
        (f.mask if f.mask.shape == (h, w) else resample_mask(f.mask, (h, w)))
        if f.mask is not None
        else np.zeros((h, w), bool)
        for f in prepared.findings
    ]
    arrays["finding_bits"] = _pack(masks, (h, w))
    records: list[dict[str, object]] = [
        {
            "index": i,
            "id": f.id,
            "severity": f.severity,
            "conspicuity": f.conspicuity,
            "side": f.side,
            "location": f.location,
            "size_mm": f.size_mm,
            "located": f.mask is not None,
            "box": _box(m) if f.mask is not None else None,
            "details": dict(f.details),
        }
        for i, (f, m) in enumerate(zip(prepared.findings, masks, strict=True))
    ]
    if spec.source == "phantom":  # what only a phantom knows
        for rec, pf in zip(records, ph.findings, strict=True):
            rec.update(
                regions=list(pf.regions),
                centroid=list(pf.centroid),
                contrast=pf.contrast,
                cnr=pf.cnr,
            )
    truth.update(
        image_size=[w, h],
        region_names=region_names,
        anatomy={
            "grid": list(anatomy.grid_shape),
            "confidence": anatomy.confidence,
            "reasons": list(anatomy.reasons),
            "method": anatomy.method,
        },
        findings=records,
    )
    scene = ReadingScene(anatomy, list(prepared.findings), (w, h))
    reads = [
        read_case(scene, None, profiles[rid], _read_seed(spec.seed, rid), image_id=spec.dicom_id)
        for rid in spec.readers
    ]
    return SimulatedCase(spec, image, image_path, prepared, reads, truth, arrays)


def _box(mask: np.ndarray) -> list[float] | None:
    if not mask.any():
        return None
    h, w = mask.shape
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return [cols[0] / w, rows[0] / h, (cols[-1] + 1) / w, (rows[-1] + 1) / h]


def _label_cells(read: SimulatedRead, columns: Sequence[str]) -> list[str]:
    certainty: dict[str, int] = {}
    other: list[str] = []
    for fid, c in read.certainty.items():
        col = REFLACX_COLUMN.get(fid)
        if col is None:
            from core.vocabulary import finding

            other.append(finding(fid).name)
        else:
            certainty[col] = max(certainty.get(col, 0), c)
    cells = []
    for col in columns:
        if col == _OTHER:
            cells.append("|".join(sorted(other)))
        elif col in _BOOLEAN:
            cells.append(_bool(col in certainty))
        else:
            cells.append(str(certainty.get(col, 0)))
    return cells


def _write_read(
    folder: Path, read: SimulatedRead, w: int, h: int, columns: Sequence[str], seed: int
) -> None:
    geo = display_geometry(w, h)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x9091]))
    pupil, rows = 1.0, []
    screen = [round(geo[k]) for k in ("screen_x0", "screen_y0", "screen_x1", "screen_y1")]
    for f in read.scanpath.fixations:
        pupil = float(np.clip(1.0 + 0.9 * (pupil - 1.0) + rng.normal(0.0, 0.03), 0.6, 1.5))
        rows.append(
            [
                _fmt(f.start_s),
                _fmt(f.start_s + f.duration_s),
                _fmt(f.x * w),
                _fmt(f.y * h),
                _fmt(pupil, 4),
                _fmt(f.ppd_x),
                _fmt(f.ppd_y),
                _WINDOW[0],
                _WINDOW[1],
                0,
                0,
                w,
                h,
                *screen,
            ]
        )
    _write_csv(folder / "fixations.csv", REFLACX_FIXATION_COLUMNS, rows)
    _write_csv(
        folder / "timestamps_transcription.csv",
        ("word", "timestamp_start_word", "timestamp_end_word"),
        [[wd.word, _fmt(wd.start_s), _fmt(wd.end_s)] for wd in read.report.words],
    )
    (folder / "transcription.txt").write_text(read.report.text, encoding="utf-8")
    labels = [c for c in columns]
    ell_rows = []
    for rep in read.reported:
        col = REFLACX_COLUMN.get(rep.id, _OTHER)
        for x0, y0, x1, y1 in rep.boxes:
            ell_rows.append(
                [_fmt(x0 * w), _fmt(y0 * h), _fmt(x1 * w), _fmt(y1 * h), rep.certainty]
                + [_bool(c == col) for c in labels]
            )
    _write_csv(
        folder / "anomaly_location_ellipses.csv",
        ("xmin", "ymin", "xmax", "ymax", "certainty", *labels),
        ell_rows,
    )
    x0, y0, x1, y1 = read.chest_box
    _write_csv(
        folder / "chest_bounding_box.csv",
        ("xmin", "ymin", "xmax", "ymax"),
        [[_fmt(x0 * w), _fmt(y0 * h), _fmt(x1 * w), _fmt(y1 * h)]],
    )


def _make_case(
    spec: CaseSpec, root: str, size_px: int, panel: tuple[ReaderProfile, ...]
) -> CaseOutput:
    """Worker: make one case and write its own files; shared tables come back as rows."""
    from PIL import Image

    from core.data.reflacx import reflacx_label_columns

    out = CaseOutput(spec)
    try:
        sim = simulate_case(spec, size_px, panel)
    except NotReadable as err:
        out.skipped = str(err)
        return out
    root_p = Path(root)
    w, h = sim.prepared.width_px, sim.prepared.height_px
    out.width, out.height, out.view = w, h, sim.prepared.view
    out.findings = [f.id for f in sim.prepared.findings]
    out.anatomy_confidence = float(sim.prepared.anatomy.confidence)
    images = root_p / "images"
    if sim.image is not None:
        Image.fromarray((np.clip(sim.image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)).save(
            images / f"{spec.dicom_id}.png"
        )
    elif sim.image_path is not None:
        shutil.copyfile(sim.image_path, images / f"{spec.dicom_id}.png")
    truth = root_p / "truth"
    (truth / f"{spec.dicom_id}.json").write_text(
        json.dumps(json_safe(sim.truth, ndigits=6), indent=1, sort_keys=True), encoding="utf-8"
    )
    _write_npz(truth / f"{spec.dicom_id}.npz", sim.arrays)
    columns = reflacx_label_columns(3)
    for read_id, read in zip(spec.read_ids, sim.reads, strict=True):
        _write_read(root_p / "main_data" / read_id, read, w, h, columns, read.seed)
        out.metadata_rows.append(
            [
                read_id,
                spec.split,
                "False",
                f"images/{spec.dicom_id}.png",
                spec.dicom_id,
                spec.subject_id,
                str(w),
                str(h),
                *_label_cells(read, columns),
            ]
        )
        out.n_fixations.append(len(read.scanpath))
        starts = dict(zip((r.source for r in read.reported), read.sentence_starts, strict=True))
        cert = {r.source: r.certainty for r in read.reported}
        for o in read.outcomes:
            out.reads_rows.append(
                [
                    read_id,
                    read.reader_id,
                    spec.dicom_id,
                    o.index,
                    o.id,
                    _bool(o.located),
                    _fmt(o.conspicuity, 4),
                    _bool(o.found),
                    cert.get(o.index, 0),
                    o.detect_fixation,
                    o.first_fixation_on,
                    _fmt(starts[o.index])
                    if o.index in starts and not math.isnan(starts[o.index])
                    else "",
                ]
            )
        for r in read.reported:
            if r.source < 0:
                out.reads_rows.append(
                    [
                        read_id,
                        read.reader_id,
                        spec.dicom_id,
                        -1,
                        r.id,
                        "True",
                        "",
                        "False",
                        r.certainty,
                        -1,
                        -1,
                        _fmt(starts.get(-1, math.nan))
                        if not math.isnan(starts.get(-1, math.nan))
                        else "",
                    ]
                )
    return out


# --------------------------------------------------------------------------------------------
# The corpus


def _check_out(root: Path, force: bool) -> None:
    """Refuse a non-empty folder unless ``force`` and it is a previous corpus (then only the
    corpus's own entries are removed; anything else in it is left alone)."""
    if root.exists() and not root.is_dir():
        raise GazeScopeError(f"{root}: exists and is not a directory")
    if not root.exists() or not any(root.iterdir()):
        return
    if not force:
        raise GazeScopeError(
            f"{root}: directory is not empty; use --force to replace a corpus there"
        )
    manifest = root / MANIFEST
    try:
        ok = json.loads(manifest.read_text(encoding="utf-8")).get("generator") == GENERATOR
    except (OSError, ValueError):
        ok = False
    if not ok:
        raise GazeScopeError(
            f"{root}: not empty and not a GazeScope synthetic corpus (no {MANIFEST}); "
            "refusing to delete anything - choose an empty or new directory"
        )
    for name in GENERATED:
        p = root / name
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


def _dicom_like(rng: np.random.Generator) -> str:
    words = rng.integers(0, 2**32, size=5, dtype=np.uint64)
    return "-".join(f"{int(v):08x}" for v in words)


def _split_of(n: int, rng: np.random.Generator) -> list[str]:
    """Splits by image: ~70/10/20, at least one test image when n >= 2."""
    if n == 0:
        return []
    n_test = max(1 if n >= 2 else 0, round(SPLIT_FRACTIONS[2] * n))
    n_val = round(SPLIT_FRACTIONS[1] * n) if n >= 10 else 0
    labels = ["train"] * (n - n_test - n_val) + ["validate"] * n_val + ["test"] * n_test
    order = rng.permutation(n)
    out = [""] * n
    for pos, i in enumerate(order):
        out[int(i)] = labels[pos]
    return out


def plan_corpus(config: CorpusConfig) -> list[CaseSpec]:
    """Every case's spec: ids, seeds, splits and readers (deterministic in the config)."""
    ss = np.random.SeedSequence([config.seed, 0xC0])
    r_ids, r_split, r_read, r_case = (np.random.default_rng(s) for s in ss.spawn(4))
    sources: list[tuple[str, GazeCase | None]] = [("phantom", None)] * config.n
    if config.real is not None:
        from core.data.nih import read_nih

        real = list(read_nih(config.real))
        if config.real_limit is not None:
            real = real[: config.real_limit]
        sources += [("nih", c) for c in real]
    splits = [""] * len(sources)
    for src in ("phantom", "nih"):
        idx = [i for i, (s, _) in enumerate(sources) if s == src]
        for i, sp in zip(idx, _split_of(len(idx), r_split), strict=True):
            splits[i] = sp
    held = [p.reader_id for p in config.panel if p.reader_id in config.held_out]
    train_pool = [p.reader_id for p in config.panel if p.reader_id not in config.held_out]
    k = config.readers
    total = len(sources) * k
    numbers = r_ids.choice(1_000_000, size=total, replace=False)
    specs = []
    for i, ((src, case), split) in enumerate(zip(sources, splits, strict=True)):
        if split == "test":
            extra = r_read.choice(
                train_pool, size=max(0, min(k - len(held), len(train_pool))), replace=False
            )
            readers = tuple(held[:k]) + tuple(str(x) for x in extra)
        else:
            readers = tuple(
                str(x)
                for x in r_read.choice(train_pool, size=min(k, len(train_pool)), replace=False)
            )
        order = {p.reader_id: j for j, p in enumerate(config.panel)}
        readers = tuple(sorted(readers, key=order.__getitem__))
        read_ids = tuple(f"P300R{int(numbers[i * k + j]):06d}" for j in range(len(readers)))
        if src == "phantom":
            dicom_id = _dicom_like(r_case)
            subject = str(int(r_case.integers(10_000_000, 20_000_000)))
        else:
            assert case is not None
            dicom_id = case.case_id
            subject = dicom_id.split("_")[0]
        seed = int(np.random.SeedSequence([config.seed, i]).generate_state(1)[0])
        specs.append(CaseSpec(i, src, dicom_id, subject, seed, split, readers, read_ids, case))
    return specs


def write_corpus(
    root: str | Path,
    config: CorpusConfig,
    *,
    workers: int = 1,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> CorpusSummary:
    """Make the corpus under ``root`` (module docstring: layout and conventions).

    ``progress(n)`` is called with the number of cases finished since the last call.
    Refuses a non-empty ``root`` unless ``force`` and it holds a previous corpus.
    """
    import functools
    from concurrent.futures import ProcessPoolExecutor

    from core.data.reflacx import REFLACX_METADATA_COLUMNS, reflacx_label_columns

    root = Path(root)
    _check_out(root, force)
    specs = plan_corpus(config)
    for sub in ("main_data", "images", "truth"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    make = functools.partial(_make_case, root=str(root), size_px=config.size_px, panel=config.panel)
    outputs: list[CaseOutput] = []
    if workers > 1 and len(specs) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for out in pool.map(make, specs, chunksize=max(1, min(8, len(specs) // (4 * workers)))):
                outputs.append(out)
                if progress:
                    progress(1)
    else:
        for spec in specs:
            outputs.append(make(spec))
            if progress:
                progress(1)

    columns = reflacx_label_columns(3)
    used = [o for o in outputs if not o.skipped]
    skipped = {o.spec.dicom_id: o.skipped for o in outputs if o.skipped}
    for name, why in skipped.items():
        logger.info("real image %s not used: %s", name, why)
    _write_csv(
        root / "main_data" / "metadata_phase_3.csv",
        (*REFLACX_METADATA_COLUMNS, *columns),
        [row for o in used for row in o.metadata_rows],
    )
    _write_csv(
        root / READERS_TABLE,
        ("id", "reader_id"),
        [
            [rid, reader]
            for o in used
            for rid, reader in zip(o.spec.read_ids, o.spec.readers, strict=True)
        ],
    )
    _write_csv(
        root / "cases.csv",
        (
            "dicom_id",
            "source",
            "split",
            "width",
            "height",
            "view",
            "findings",
            "readers",
            "anatomy_confidence",
        ),
        [
            [
                o.spec.dicom_id,
                o.spec.source,
                o.spec.split,
                o.width,
                o.height,
                o.view,
                "|".join(o.findings),
                "|".join(o.spec.readers),
                _fmt(o.anatomy_confidence, 4),
            ]
            for o in used
        ],
    )
    _write_csv(
        root / "truth" / "reads.csv",
        (
            "id",
            "reader_id",
            "dicom_id",
            "finding_index",
            "finding",
            "located",
            "conspicuity",
            "found",
            "certainty",
            "detect_fixation",
            "first_fixation_on",
            "sentence_start_s",
        ),
        [row for o in used for row in o.reads_rows],
    )
    held = list(config.held_out)
    split_ids = {s: [o.spec.dicom_id for o in used if o.spec.split == s] for s in SPLITS}
    split_reads = {s: sum(len(o.spec.read_ids) for o in used if o.spec.split == s) for s in SPLITS}
    splits_doc = {
        "version": CORPUS_VERSION,
        "unit": "image: every read of an image is in the image's split",
        "fractions": dict(zip(SPLITS, SPLIT_FRACTIONS, strict=True)),
        "seed": config.seed,
        "held_out_readers": held,
        "training_readers": [p.reader_id for p in config.panel if p.reader_id not in held],
        "note": "held-out readers read test images only (every test image includes them), so a "
        "model is tested on images and on a reader it never saw; train/validate images are "
        "read by the other readers",
        "images": split_ids,
        "reads": split_reads,
    }
    (root / "splits.json").write_text(json.dumps(splits_doc, indent=1) + "\n", encoding="utf-8")
    by_source = {s: sum(o.spec.source == s for o in used) for s in ("phantom", "nih")}
    n_fix = [n for o in used for n in o.n_fixations]
    manifest = {
        "generator": GENERATOR,
        "version": CORPUS_VERSION,
        "config": {
            "n": config.n,
            "readers": config.readers,
            "seed": config.seed,
            "size_px": config.size_px,
            "real": None if config.real is None else Path(config.real).name,
            "real_limit": config.real_limit,
            "held_out": held,
        },
        "panel": [asdict(p) for p in config.panel],
        "counts": {
            "images": len(used),
            "reads": sum(len(o.spec.read_ids) for o in used),
            "by_source": by_source,
            "fixations": int(sum(n_fix)),
            "real_skipped": len(skipped),
        },
        "real_skipped": skipped,
    }
    (root / MANIFEST).write_text(
        json.dumps(json_safe(manifest, ndigits=6), indent=1) + "\n", encoding="utf-8"
    )
    (root / "README.md").write_text(_dataset_card(config, manifest, splits_doc), encoding="utf-8")
    return CorpusSummary(
        root=root,
        images=len(used),
        reads=sum(len(o.spec.read_ids) for o in used),
        by_source=by_source,
        skipped=skipped,
        splits={s: len(v) for s, v in split_ids.items()},
    )


def _dataset_card(config: CorpusConfig, manifest: dict, splits: dict) -> str:
    counts = manifest["counts"]
    command = (
        f"gazescope synth --n {config.n} --readers {config.readers} --seed {config.seed} "
        f"--size {config.size_px}"
    )
    if config.real is not None:
        command += f" --real {manifest['config']['real']}"
    if config.real_limit is not None:
        command += f" --real-limit {config.real_limit}"
    panel_rows = "\n".join(
        f"| {p.reader_id} | {p.checklist} | {p.lungs} | {p.thoroughness:g} | {p.duration_scale:g} | "
        f"{p.skill:g} | {p.global_fixations:g} | {p.revisit:g} | {p.false_positive_rate:g} | "
        f"{p.dictation} | {p.words_per_s:g} |"
        for p in config.panel
    )
    real = (
        f"plus {counts['by_source']['nih']} real NIH ChestX-ray14 images (folder "
        f"`{manifest['config']['real']}`; {counts['real_skipped']} skipped because their anatomy "
        "confidence was below 0.5)"
        if config.real is not None
        else "no real images"
    )
    return f"""# GazeScope synthetic gaze corpus (SYNTHETIC DATA)

**Everything here is synthetic: no real radiologist looked at these images.** The eye movements,
labels, ellipses and dictated reports were produced by GazeScope's *simulated radiologists*
(`core/synth/readers.py`), written in the exact layout of REFLACX (PhysioNet
`reflacx-xray-localization`) so that the same reader and training code consume it. Research
software: no clinical claim; do not use it to judge a clinical system.

- Generator: `{GENERATOR}` version {CORPUS_VERSION}; seed {config.seed}; made by
  `{command}`. The same arguments give byte-identical files (whatever `--workers`).
- Images: {counts["by_source"]["phantom"]} chest radiograph phantoms (`core/synth/phantom.py`,
  {config.size_px} x {config.size_px} px, exact ground-truth anatomy and findings), {real}.
- Reads: {counts["reads"]} ({config.readers} distinct simulated readers per image),
  {counts["fixations"]} fixations.

## How it was made
1. Each phantom is generated from its own seed with the default case mix (30 % normal).
   Real images (if any): anatomy by `core.anatomy.locate`, findings from the NIH labels, located
   only by the NIH/RSNA boxes or by what a label implies (cardiomegaly -> cardiac silhouette,
   effusion -> both costophrenic angles); unlocated findings may be reported but draw no gaze
   (`core/synth/cases.py`). Real findings have conspicuity 0.6 (a default, not measured).
2. Each reader reads with its profile: a global look from the centre, a systematic ABCDEF
   search over the anatomy atlas, detection driven by conspicuity and skill (subtle findings
   are missed), dwell clusters and revisits on found findings, occasional false positives, and
   dictation timed to the gaze. Fixation durations and saccade amplitudes are calibrated to the
   published GazeSearch figures; every number's source is in the module docstring.
   `gazescope synth-report --root <this folder>` compares this corpus with the real figures.

## Reader panel (design choices, not fitted to real radiologists)
| reader | checklist | lungs | fixations/station | duration x | skill | global look | revisit | false pos. | dictation | words/s |
|---|---|---|---|---|---|---|---|---|---|---|
{panel_rows}

## Split (`splits.json`)
By image (all reads of an image in one split): train {len(splits["images"]["train"])}, validate
{len(splits["images"]["validate"])}, test {len(splits["images"]["test"])} images. Held-out
reader(s) {", ".join(splits["held_out_readers"]) or "none"}: read **test images only**, so a
model is tested on a reader it never trained on. The `split` column of
`main_data/metadata_phase_3.csv` agrees.

## Files beyond REFLACX
`synthetic_readers.csv` (read id -> reader id; `gazescope evaluate --dataset synthetic` picks it
up for the human ceiling), `cases.csv`, `splits.json`, `corpus.json`, and `truth/`: per image a
JSON (findings with severity, conspicuity, side, location, box; labels; anatomy confidence) and
an `.npz` of bit-packed masks (`core.synth.corpus.load_truth(root, dicom_id)` unpacks
them), and `truth/reads.csv` (per read and finding: found or missed, the detecting fixation,
the first fixation on it, the certainty reported, when its sentence started; `finding_index`
-1 is a false positive the reader reported).

## Conventions
Positions: pixels of the image (REFLACX: of the original DICOM); times: seconds from the start
of the dictation audio; pixels per degree from a simulated 1920 x 1080 display at 40 screen
pixels per degree with the image fitted to it; sides are the patient's. Certainty 0-5 as in
REFLACX (0: not reported); `Support devices` boolean.

Licence of real images (when present): NIH Clinical Center, ChestX-ray14
(https://nihcc.app.box.com/v/ChestXray-NIHCC); Wang X. et al., ChestX-ray8, CVPR 2017. RSNA
Pneumonia Detection Challenge 2018 boxes.
"""
