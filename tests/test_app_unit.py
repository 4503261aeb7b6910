"""The app's plain-Python pieces: image codes sent to the browser, maps, the auth file, the footer."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest

from app.main import read_auth_file
from app.payload import encode_map, stored_codes
from core.errors import InputFileError
from core.io import Radiograph


def _rg(stored: np.ndarray) -> Radiograph:
    img = ((stored - stored.min()) / np.ptp(stored)).astype(np.float32)
    return Radiograph(img, "0" * 64, "x.dcm", stored=stored.astype(np.float32))


def test_integer_stored_values_are_sent_exactly():
    stored = np.array([[-1024, 0], [3071, 5]], np.float32)  # e.g. rescaled 12-bit data
    codes, offset, scale = stored_codes(_rg(stored))
    assert (offset, scale) == (-1024.0, 1.0)
    np.testing.assert_array_equal(offset + codes * scale, stored)


def test_non_integer_values_span_the_16_bit_range():
    stored = np.array([[0.0, 0.25], [0.5, 1.0]], np.float32)
    codes, offset, scale = stored_codes(_rg(stored))
    assert codes.min() == 0 and codes.max() == 65535
    np.testing.assert_allclose(offset + codes * scale, stored, atol=scale / 2)


def test_maps_are_pooled_to_64_and_scaled_to_their_peak():
    m = np.zeros((128, 256))
    m[0, 0] = 2.0
    enc = encode_map(m)
    assert enc["shape"] == [32, 64]
    q = np.frombuffer(base64.b64decode(enc["b64"]), np.uint8).reshape(32, 64)
    assert q[0, 0] == 255 and q.sum() == 255
    assert encode_map(np.full((4, 4), np.nan)) is None


def test_auth_file(tmp_path):
    f = tmp_path / "users.txt"
    f.write_text("# readers\nalice:s3cret:with:colons\n\nbob:pw\n")
    assert read_auth_file(f) == [("alice", "s3cret:with:colons"), ("bob", "pw")]
    f.write_text("alice\n")
    with pytest.raises(InputFileError, match="users.txt: line 1"):
        read_auth_file(f)


def test_case_hashes_starting_with_a_are_not_study_items():
    # regression: "a<id>" keys made every case whose SHA-256 starts with "a" (1 in 16) unopenable
    from app.service import assignment_id, assignment_key

    sha = "a6f4a40c69fef37d6125b99acbcea44fb1a8a279c0036bee5eb36c47d43a572e"
    assert assignment_id(sha) is None
    assert assignment_id("a12") is None  # the old item format is a (malformed) case key now
    assert assignment_id(assignment_key(12)) == 12
    with pytest.raises(ValueError, match="not a study item"):
        assignment_id("item:12x")


def test_image_file_round_trips_every_16_bit_code_exactly(tmp_path):
    from app.payload import IMAGE_ENCODING, cached_image, decode_codes, encode_codes, write_image

    rng = np.random.default_rng(0)
    codes = rng.integers(0, 65536, (37, 53), dtype=np.uint16)
    codes[0, :4] = [0, 65535, 0, 65535]  # differences that wrap around 2^16
    assert np.array_equal(decode_codes(encode_codes(codes), 37, 53), codes)
    # a smooth image compresses below its raw size, which is what the delta planes are for
    smooth = np.add.outer(np.arange(256), np.arange(256)).astype(np.uint16) * 100
    assert len(encode_codes(smooth)) < smooth.nbytes / 4
    rg = _rg(rng.integers(0, 4096, (20, 30)).astype(np.float64))
    info = write_image(rg, tmp_path)
    assert info["encoding"] == IMAGE_ENCODING and (info["width"], info["height"]) == (30, 20)
    data = open(info["path"], "rb").read()
    assert np.array_equal(decode_codes(data, 20, 30).astype(np.float64) * info["scale"] + info["offset"], rg.stored)
    assert cached_image(rg.sha256, tmp_path) == info


def test_warm_up_runs_the_pipeline_once_and_never_raises(tmp_path, caplog):
    from app.cases import CaseLibrary
    from app.service import ReadingService
    from core.store import open_store

    (tmp_path / "ex" / "images").mkdir(parents=True)
    library = CaseLibrary(tmp_path / "cache", examples_dir=tmp_path / "ex", phantoms=())
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    seen, built = [], []

    def factory():
        built.append(1)
        return lambda rg: seen.append(rg.image.shape)

    service = ReadingService(store, library, factory, app_version="t")
    service.warm_up()
    assert seen == [(256, 256)] and built == [1]
    service.pipeline  # noqa: B018 (the property): built once, not again
    assert built == [1]

    def broken():
        raise RuntimeError("no weights")

    with caplog.at_level("WARNING"):
        ReadingService(store, library, broken, app_version="t").warm_up()  # logged, not raised
    assert "warm-up failed" in caplog.text


def test_precompute_computes_a_case_once_in_the_background(tmp_path):
    import shutil
    import threading

    from app.cases import CaseLibrary
    from app.service import ReadingService
    from core.store import open_store

    (tmp_path / "ex" / "images").mkdir(parents=True)
    src = sorted((Path(__file__).resolve().parents[1] / "assets" / "examples" / "images").glob("*.png"))[0]
    shutil.copy(src, tmp_path / "ex" / "images" / src.name)
    library = CaseLibrary(tmp_path / "cache", examples_dir=tmp_path / "ex", phantoms=())
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    for e in library.entries():
        store.ensure_case(e.sha256, source=e.source, display_name=e.name)
    calls, gate = [], threading.Event()

    class Pipeline:
        def run_file(self, path):
            gate.wait(10)
            calls.append(path)
            from core.pipeline import ReadingPipeline

            return ReadingPipeline(scanpath="centre-bias", classifier=None, segmenter=None).run_file(path)

    service = ReadingService(store, library, Pipeline, app_version="t")
    sha = library.entries()[0].sha256
    assert service.precompute(sha) is True
    assert service.precompute(sha) is False  # queued already: not twice
    assert service.precompute("f" * 64) is False  # not a case
    gate.set()
    service._background.submit(lambda: None).result(timeout=60)  # the queue has run
    assert len(calls) == 1 and service.precompute(sha) is False  # computed now
    assert service.open_case(sha).entry.sha256 == sha and len(calls) == 1


def test_image_format_figures_check_the_round_trip():
    from app.bench import image_format_figures

    line = image_format_figures(repeat=1)
    assert "2048x2048" in line and "lossless, checked" in line and "RGB PNG" in line


def test_footer_shows_training_data_as_text_not_json():
    import json

    from app.ui import footer_html, training_data_text

    stored = json.dumps({"dataset": "synthetic", "train_images": {"phantom": 420, "nih": 208},
                         "readers": ["sim1", "sim2"]})
    assert training_data_text(stored) == (
        "dataset: synthetic; train images: phantom 420, nih 208; readers: sim1, sim2")
    assert training_data_text(json.dumps({"summary": "NIH + phantoms", "x": 1})) == "NIH + phantoms"
    assert training_data_text("none: published gaze statistics") == "none: published gaze statistics"
    assert training_data_text(None) == ""
    html = footer_html([{"role": "scanpath", "name": "m", "version": "1", "weights_sha256": None,
                         "training_data": stored}])
    assert "train images: phantom 420" in html and "{&quot;" not in html and "{" not in html
