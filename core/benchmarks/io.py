"""Radiograph loading speed: real DICOMs (JPEG baseline, JPEG 2000) and a 512x512 PNG.

Files come from ``ctx.data_dir`` (``../shared/data``) when given, else from the bundled
``assets/examples`` (the JPEG baseline DICOM and a PNG; the JPEG 2000 file is not bundled, so
that figure is missing without ``--data``).
Times are full ``load_radiograph`` calls from bytes in memory: magic sniffing, SHA-256,
decoding, modality LUT, windowing and metadata - disk reads are left out.
"""

from __future__ import annotations

from pathlib import Path

from core.bench import BenchContext, BenchResult, benchmark, time_call

_ASSETS = Path(__file__).resolve().parents[2] / "assets" / "examples"


def _files(ctx: BenchContext) -> list[tuple[str, Path]]:
    root = Path(ctx.data_dir) if ctx.data_dir is not None else None
    dicom_dir = root / "dicom" if root and (root / "dicom").is_dir() else _ASSETS / "dicom"
    png_dir = root / "nih-cxr14-sample" / "images" if root else None
    if png_dir is None or not png_dir.is_dir():
        png_dir = _ASSETS / "images"
    pngs = sorted(png_dir.glob("*.png"))
    files = [
        ("DICOM JPEG baseline 1024x1024", dicom_dir / "siim_cr_chest_pa.dcm"),
        ("DICOM JPEG 2000 1955x1841", dicom_dir / "nema_rg1_cr_chest_j2k.dcm"),
        ("PNG 8-bit 512x512", pngs[0] if pngs else None),
    ]
    return [(label, path) for label, path in files if path is not None and path.is_file()]


@benchmark("io.load_radiograph")
def _load(ctx: BenchContext) -> list[BenchResult]:
    from core.io import load_radiograph

    results = []
    for label, path in _files(ctx):
        data = path.read_bytes()
        stats = time_call(
            lambda d=data, n=path.name: load_radiograph(d, name=n), repeat=ctx.repeat, warmup=1
        )
        results.append(
            BenchResult(
                f"io.load {label}", stats.median_ms, "ms", f"{path.name}; {stats.describe()}"
            )
        )
    return results


@benchmark("io.resize_large")
def _resize(ctx: BenchContext) -> list[BenchResult]:
    """``resize_image`` of a 2048 x 2048 and a 1955 x 1841 (odd) image to 256 x 256 against a
    direct anti-aliased ``skimage`` resize, with the largest difference between the two."""
    import numpy as np
    from skimage.transform import resize as sk_resize

    from core.io.geometry import resize_image

    results = []
    for h, w in ((2048, 2048), (1955, 1841)):
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        img = np.sin(xx / 97.0) + np.cos(yy / 61.0) + 0.002 * xx
        ours = time_call(lambda i=img: resize_image(i, 256, 256), repeat=ctx.repeat, warmup=1)
        direct = time_call(
            lambda i=img: sk_resize(i, (256, 256), order=1, mode="edge", anti_aliasing=True,
                                    preserve_range=True),
            repeat=max(3, ctx.repeat // 4), warmup=0,
        )
        diff = np.abs(resize_image(img, 256, 256) - sk_resize(
            img, (256, 256), order=1, mode="edge", anti_aliasing=True, preserve_range=True)).max()
        results.append(BenchResult(
            f"io.resize {h}x{w} -> 256", ours.median_ms, "ms",
            f"direct skimage resize {direct.median_ms:.0f} ms; max difference {diff:.4f}; "
            f"{ours.describe()}",
        ))
    return results
