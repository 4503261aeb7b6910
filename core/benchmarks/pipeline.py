"""The whole reading pipeline: anatomy + classifier + 8 scanpath samples + report.

- ``pipeline.read_512``: :class:`core.pipeline.ReadingPipeline` (default models: whatever is
  shipped in ``trained_models/``, else the baselines) on the 512 px example images (or the NIH
  sample with ``--data``), radiograph already loaded; the p50 over all runs of the total and of
  each stage.
- ``pipeline.dicom_2k``: ``run_file`` on a 2048 x 2048 12-bit uncompressed DICOM written from
  an example image, and on the real 1955 x 1841 JPEG 2000 DICOM with ``--data``: decoding
  (``load``) included.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import numpy as np

from core.bench import BenchContext, BenchResult, benchmark

_ASSETS = Path(__file__).resolve().parents[2] / "assets" / "examples"
K = 8


def _images(ctx: BenchContext) -> list[Path]:
    root = Path(ctx.data_dir) / "nih-cxr14-sample" / "images" if ctx.data_dir else None
    paths = sorted(root.glob("*.png"))[:10] if root is not None and root.is_dir() else []
    return paths or sorted((_ASSETS / "images").glob("*.png"))


def _stage_p50(timings: list[dict[str, float]]) -> dict[str, float]:
    stages = sorted({s for t in timings for s in t}, key=lambda s: (s == "total", s))
    return {s: statistics.median(t[s] for t in timings if s in t) for s in stages}


def _describe(p50: dict[str, float], n: int, models: str) -> str:
    parts = ", ".join(f"{s} {v:.1f}" for s, v in p50.items() if s != "total")
    return f"p50 per stage (ms): {parts}; {n} runs; models: {models}"


@benchmark("pipeline.read_512")
def _read_512(ctx: BenchContext) -> list[BenchResult]:
    from core.io import load_radiograph
    from core.pipeline import ReadingPipeline

    pipeline = ReadingPipeline(k=K)
    paths = _images(ctx)[: 1 if ctx.quick else None]
    radiographs = [load_radiograph(p) for p in paths]
    pipeline(radiographs[0])  # warm-up: lazy imports, model load
    rounds = 1 if ctx.quick else max(1, ctx.repeat // len(radiographs))
    timings = [pipeline(r).timings_ms for _ in range(rounds) for r in radiographs]
    p50 = _stage_p50(timings)
    models = ", ".join(f"{m.role}={m.name}" for m in pipeline.models())
    roles = " + ".join(
        f"{K} scanpaths" if m.role == "scanpath" else m.role for m in pipeline.models()
    )
    results = [
        BenchResult(
            f"pipeline 512 px: {roles} (p50)",
            p50["total"],
            "ms",
            _describe(p50, len(timings), models),
        )
    ]
    results += [
        BenchResult(f"pipeline 512 px stage {s} (p50)", v, "ms")
        for s, v in p50.items()
        if s != "total"
    ]
    return results


def _write_2k_dicom(folder: Path) -> Path:
    """A 2048 x 2048 12-bit MONOCHROME2 CR, native pixel data, from an example image."""
    from PIL import Image
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    src = sorted((_ASSETS / "images").glob("*.png"))[0]
    with Image.open(src) as im:
        grey = im.convert("F").resize((2048, 2048), Image.BILINEAR)
    pixels = (np.asarray(grey) / 255.0 * 4095).round().astype(np.uint16)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1"  # CR image storage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "CR"
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = pixels.tobytes()
    path = folder / "bench_2048.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


@benchmark("pipeline.dicom_2k")
def _dicom_2k(ctx: BenchContext) -> list[BenchResult]:
    from core.pipeline import ReadingPipeline

    pipeline = ReadingPipeline(k=K)
    repeat = 1 if ctx.quick else max(3, ctx.repeat // 4)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        files = [("2048 x 2048 12-bit native", _write_2k_dicom(Path(tmp)))]
        real = Path(ctx.data_dir) / "dicom" / "nema_rg1_cr_chest_j2k.dcm" if ctx.data_dir else None
        if real is not None and real.is_file() and not ctx.quick:
            files.append(("1955 x 1841 JPEG 2000 (real)", real))
        for label, path in files:
            pipeline.run_file(path)  # warm-up
            timings = [pipeline.run_file(path).timings_ms for _ in range(repeat)]
            p50 = _stage_p50(timings)
            models = ", ".join(f"{m.role}={m.name}" for m in pipeline.models())
            results.append(
                BenchResult(
                    f"pipeline DICOM {label}, decoding included (p50)",
                    p50["total"],
                    "ms",
                    _describe(p50, len(timings), models),
                )
            )
    return results
