"""Browser benchmark of the reading app (a script that prints figures, not a timed test).

    python -m app.bench [--cases 5] [--seconds 3]
    python -m app.bench --image   # only the image file: the app's format against a 16-bit RGB PNG

Starts the app on a fresh SQLite file and cache with ``--cases`` new 2048 x 2048 DICOMs (12-bit,
uncompressed CR, each a real NIH radiograph upsampled with its own noise so every file is a new
case), drives headless Debian chromium and measures, from the click in the worklist to the
viewer's "rendered" marker (image decoded, window/level applied, overlays drawn):

- opening a case never seen before (reading, anatomy, scanpaths, report, store, image encoding,
  round trip, fetch and decode in the browser), with the app's background computation of the
  next case in the list turned off so that every one of these is computed on the click;
- opening the next case in the list after three seconds on the current one, as a reader going
  down the list does, with that background computation on;
- opening a case already computed, cycling through more cases than the browser keeps decoded
  (the image is fetched and decoded again), and switching back and forth between two cases;
- scanpath playback frame rate on a 2k image (frames drawn per second by requestAnimationFrame;
  playback runs in the browser with no server round trip per frame).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWER = "#gs-viewer .gs-viewer"


def write_dicoms(folder: Path, n: int, size: int = 2048) -> list[Path]:
    """``n`` distinct 2k CR DICOMs (12-bit, Explicit VR Little Endian) from a bundled NIH image."""
    from PIL import Image
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    from app.cases import EXAMPLES_DIR

    src = sorted((EXAMPLES_DIR / "images").glob("*.png"))[0]
    base = np.asarray(Image.open(src).convert("L").resize((size, size), Image.BILINEAR), np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    cr = "1.2.840.10008.5.1.4.1.1.1"
    for i in range(n):
        rng = np.random.default_rng(i)
        px = np.clip(base * 16 + rng.normal(0, 20, base.shape), 0, 4095).astype(np.uint16)
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = cr
        ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.SOPClassUID, ds.SOPInstanceUID = cr, ds.file_meta.MediaStorageSOPInstanceUID
        ds.Modality, ds.ViewPosition, ds.BodyPartExamined = "CR", "PA", "CHEST"
        ds.Rows, ds.Columns, ds.SamplesPerPixel = size, size, 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.WindowCenter, ds.WindowWidth = 2048, 4096
        ds.ImagerPixelSpacing = [0.143, 0.143]
        ds.PixelData = px.tobytes()
        path = folder / f"bench_2k_{i}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def image_format_figures(repeat: int = 5) -> str:
    """Write time and size of one 2k case image: the app's format (``app.payload``) against the
    RGB PNG it replaced (high byte red, low byte green, compress level 1)."""
    import io

    from PIL import Image

    from app.payload import decode_codes, encode_codes, stored_codes
    from core.io import load_radiograph

    with tempfile.TemporaryDirectory() as tmp:
        codes, _, _ = stored_codes(load_radiograph(write_dicoms(Path(tmp), 1)[0]))

    def png() -> bytes:
        rgb = np.zeros((*codes.shape, 3), np.uint8)
        rgb[..., 0], rgb[..., 1] = codes >> 8, codes & 0xFF
        buf = io.BytesIO()
        Image.fromarray(rgb, "RGB").save(buf, "PNG", compress_level=1)
        return buf.getvalue()

    def timed(fn) -> tuple[float, bytes]:
        times, out = [], b""
        for _ in range(repeat):
            t0 = time.perf_counter()
            out = fn()
            times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times), out

    t_new, ours = timed(lambda: encode_codes(codes))
    t_png, old = timed(png)
    assert np.array_equal(decode_codes(ours, *codes.shape), codes)
    return (f"image file for a {codes.shape[1]}x{codes.shape[0]} case: app format {t_new:.0f} ms, "
            f"{len(ours) / 1e6:.1f} MB (lossless, checked); RGB PNG {t_png:.0f} ms, {len(old) / 1e6:.1f} MB")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _open(pg, index: int) -> float:
    row = pg.locator("#gs-worklist .gs-case").nth(index)
    sha = row.get_attribute("data-case")
    t0 = time.perf_counter()
    row.click()
    try:
        pg.wait_for_function(
            f"() => document.querySelector('{VIEWER}').dataset.renderedCase === '{sha}'",
            polling="raf", timeout=120_000,
        )
    except Exception:
        state = pg.evaluate(f"""() => [JSON.stringify(document.querySelector('{VIEWER}').dataset),
            JSON.stringify(document.querySelector('#gs-worklist .gs-worklist').dataset)]""")
        raise RuntimeError(f"case {index} ({sha[:12]}) not drawn after 120 s; viewer {state[0]}; "
                           f"worklist {state[1]}") from None
    ms = (time.perf_counter() - t0) * 1000
    if os.environ.get("GAZESCOPE_BENCH_DETAIL"):
        d = pg.evaluate(f"""() => {{ const v = document.querySelector('{VIEWER}').dataset;
            const c = +document.querySelector('#gs-worklist .gs-worklist').dataset.openedAt;
            return [+v.valueAt - c, +v.imageAt - +v.valueAt, +v.renderedAt - +v.imageAt]; }}""")
        print(f"  {ms:.0f} ms: server+transfer {d[0]:.0f}, image fetch+decode {d[1]:.0f}, W/L+overlays {d[2]:.0f}")  # noqa: T201 (a script: it prints its figures)
    return ms


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=5, help="new 2k DICOM cases to open")
    ap.add_argument("--seconds", type=float, default=3.0, help="playback measured for this long")
    ap.add_argument("--image", action="store_true", help="only the image-file figures (no browser)")
    args = ap.parse_args()
    if args.image:
        print(image_format_figures())  # noqa: T201 (a script: it prints its figures)
        return 0

    from playwright.sync_api import sync_playwright

    from app.main import create_app
    from app.ui import launch

    tmp = Path(tempfile.mkdtemp(prefix="gazescope-bench-"))
    try:
        examples = tmp / "examples"
        (examples / "images").mkdir(parents=True)
        write_dicoms(examples / "dicom", args.cases + 3)  # 3 more for reading down the list
        app = create_app(db_url=f"sqlite:///{tmp / 'bench.sqlite'}", cache_dir=tmp / "cache",
                         examples_dir=examples, phantoms=())
        port = _free_port()
        launch(app.demo, cache_dir=app.cache_dir, port=port, block=False)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pg = browser.new_page(viewport={"width": 1600, "height": 1000})
            pg.goto(f"http://127.0.0.1:{port}/")
            pg.wait_for_selector("#gs-worklist .gs-case", timeout=60_000)
            app.service.background = False  # each new case is computed on its click
            first = [_open(pg, i) for i in range(args.cases)]
            app.service.background = True  # reading down the list: the next case is computed
            nxt = []  # while the reader looks at the current one
            _open(pg, args.cases)
            for i in (args.cases + 1, args.cases + 2):
                pg.wait_for_timeout(3000)
                nxt.append(_open(pg, i))
            app.service.background = False
            # every case again, in turn: more cases than the browser keeps decoded (4)
            again = [_open(pg, i) for i in list(range(args.cases)) * 2]
            # back and forth between two cases (next/previous): the image stays decoded
            toggle = [_open(pg, i % 2) for i in range(10)]
            pg.locator(f"{VIEWER} [data-act=play]").click()
            pg.wait_for_timeout(int(args.seconds * 1000))
            fps = float(pg.eval_on_selector(VIEWER, "el => el.dataset.fps || 'nan'"))
            browser.close()
        app.demo.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    q = lambda xs: f"p50 {statistics.median(xs):.0f} ms, max {max(xs):.0f} ms (n={len(xs)})"  # noqa: E731
    print(f"open a new 2048x2048 DICOM case, click to overlays drawn: {q(first)}")  # noqa: T201 (a script: it prints its figures)
    print(f"open the next new case after 3 s on the current one:     {q(nxt)}")  # noqa: T201 (a script: it prints its figures)
    print(f"open a case already computed (image fetched and decoded): {q(again)}")  # noqa: T201 (a script: it prints its figures)
    print(f"switch back and forth between two computed cases:         {q(toggle)}")  # noqa: T201 (a script: it prints its figures)
    print(f"scanpath playback on a 2048x2048 image:                  {fps:.1f} frames/s")  # noqa: T201 (a script: it prints its figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
