"""Malformed files end in a one-line ``GazeScopeError`` (issue 13), and the mutation fuzzer.

The targeted tests build each kind of damage by hand; the fuzz test runs a fixed number of
seeded mutations of the real files in ``../shared/data`` (every transfer syntax the plugins can
write, PNG, JPEG, TIFF) and asserts: loads with an image in [0, 1], or raises
``GazeScopeError``; nothing else, no hang.
"""

from __future__ import annotations

import io
import logging
import os
import struct
import subprocess
import sys

import numpy as np
import pytest
from io_factory import make_dataset, ramp, to_bytes
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import DeflatedExplicitVRLittleEndian, JPEG2000Lossless

from core.cli import main
from core.errors import (
    CorruptPixelDataError,
    FileTooLargeError,
    MalformedHeaderError,
    TruncatedFileError,
    UnsupportedImageError,
)
from core.io import load_radiograph
from core.io._source import native_stderr_logged
from core.io.fuzz import build_corpus, check_bytes, make_case, run_fuzz

FUZZ_CASES = 150  # fixed: about 15 s on one core (most cases are refused within milliseconds)


def _replace_vr(data: bytes, tag_bytes: bytes, vr: bytes, new: bytes) -> bytes:
    at = data.index(tag_bytes + vr)
    return data[: at + 4] + new + data[at + 6 :]


@pytest.fixture(scope="module")
def reproduction(dicom_dir, tmp_path_factory) -> bytes:
    """The issue's file: the VR of (0028,0002) "US" replaced by 55 00."""
    data = (dicom_dir / "siim_cr_chest_pa.dcm").read_bytes()
    return _replace_vr(data, b"\x28\x00\x02\x00", b"US", b"U\x00")


def test_the_issue_reproduction_is_a_header_error_naming_the_element(reproduction):
    with pytest.raises(MalformedHeaderError) as info:
        load_radiograph(reproduction, name="repro.dcm")
    msg = str(info.value)
    assert msg.startswith("repro.dcm: DICOM element (0028,0002) Samples per Pixel cannot be parsed")
    assert "Unknown Value Representation" in msg and "\n" not in msg


def test_an_unknown_vr_in_an_element_gazescope_never_reads_also_refuses(dicom_dir):
    data = (dicom_dir / "siim_cr_chest_pa.dcm").read_bytes()
    bad = _replace_vr(data, b"\x20\x00\x0e\x00", b"UI", b"U\x00")  # Series Instance UID
    with pytest.raises(MalformedHeaderError, match=r"\(0020,000E\) Series Instance UID"):
        load_radiograph(bad, name="series.dcm")


def test_a_broken_private_element_is_dropped_with_a_warning():
    ds = make_dataset(ramp(64, 64, 4095), bits_stored=12)
    block = ds.private_block(0x0009, "GAZESCOPE TEST", create=True)
    block.add_new(0x01, "LO", "vendor text")
    data = to_bytes(ds)
    bad = _replace_vr(data, b"\x09\x00\x01\x10", b"LO", b"Q\x00")
    r = load_radiograph(bad, name="private.dcm")
    assert r.image.shape == (64, 64)
    assert any("private element (0009,1001)" in w for w in r.metadata["warnings"])


@pytest.mark.parametrize(
    ("tag", "length", "fragment"),
    [
        (b"\x28\x00\x10\x00", 3, "(0028,0010) Rows cannot be parsed"),
        (b"\x28\x00\x00\x01", 1, "(0028,0100) Bits Allocated cannot be parsed"),
    ],
)
def test_wrong_value_lengths_name_the_element(tag, length, fragment):
    """A US value of 3 or 1 bytes (the rest of the file stays aligned)."""
    data = to_bytes(make_dataset(ramp(64, 64, 4095), bits_stored=12))
    at = data.index(tag + b"US\x02\x00")
    value = (data[at + 8 : at + 10] + b"\x00")[:length]
    bad = data[: at + 6] + struct.pack("<H", length) + value + data[at + 10 :]
    with pytest.raises(MalformedHeaderError) as info:
        load_radiograph(bad, name="len.dcm")
    assert fragment in str(info.value) and "Expected total bytes" in str(info.value)


def _with_voi_lut_sequence() -> bytes:
    ds = make_dataset(ramp(64, 64, 4095), bits_stored=12)
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 12]
    item.LUTData = list(range(4096))
    item["LUTData"].VR = "US"
    ds.VOILUTSequence = Sequence([item])
    return to_bytes(ds)


def test_a_broken_sequence_item_names_the_sequence_and_the_element():
    data = bytearray(_with_voi_lut_sequence())
    sq = data.index(b"\x28\x00\x10\x30SQ\x00\x00")  # defined lengths: sequence, then item
    at = data.index(b"\x28\x00\x02\x30US\x06\x00")  # LUT Descriptor inside the item
    data[at + 6 : at + 14] = b"\x05\x00" + data[at + 8 : at + 13]  # 5 bytes of US
    for length_at in (sq + 8, sq + 16):
        struct.pack_into("<I", data, length_at, struct.unpack_from("<I", data, length_at)[0] - 1)
    with pytest.raises(MalformedHeaderError) as info:
        load_radiograph(bytes(data), name="seq.dcm")
    assert "DICOM element (0028,3010) item 1 > (0028,3002) LUT Descriptor cannot be parsed" in str(
        info.value
    )


def test_an_unusable_sequence_item_is_skipped_with_a_warning():
    data = _with_voi_lut_sequence()
    at = data.index(b"\x28\x00\x02\x30US")  # pydicom reads the item on, with a wrong length
    r = load_radiograph(data[: at + 4] + b"U\x00" + data[at + 6 :], name="seq.dcm")
    assert r.metadata["warnings"] == ["VOI LUT Sequence item 1 is malformed and was skipped"]


def test_an_unknown_character_set_still_loads_the_image():
    ds = make_dataset(ramp(64, 64, 4095), bits_stored=12, PatientName="Doe^Jane")
    ds.SpecificCharacterSet = "ISO_IR 999"
    with pytest.warns(UserWarning):  # pydicom: unknown encoding, default used
        r = load_radiograph(to_bytes(ds), name="charset.dcm")
    assert r.image.shape == (64, 64)


@pytest.mark.parametrize(
    ("attrs", "error", "fragment"),
    [
        ({"Rows": [64, 64]}, MalformedHeaderError, "Rows must be one integer"),
        ({"BitsStored": 20}, MalformedHeaderError, "Bits Stored is 20"),
        ({"BitsAllocated": 12}, UnsupportedImageError, "Bits Allocated is 12"),
        ({"PixelRepresentation": 3}, MalformedHeaderError, "Pixel Representation"),
        ({"RescaleSlope": "1e300", "RescaleIntercept": "0"}, MalformedHeaderError, "RescaleSlope"),
        (
            {"RescaleSlope": "0", "RescaleIntercept": "0"},
            MalformedHeaderError,
            "Rescale Slope is 0",
        ),
        ({"RescaleSlope": "1e5", "RescaleIntercept": "9e8"}, MalformedHeaderError, "beyond"),
        ({"RescaleSlope": ["1", "2"], "RescaleIntercept": "0"}, MalformedHeaderError, "plausible"),
        ({"NumberOfFrames": 0}, MalformedHeaderError, "Number of Frames is 0"),
    ],
)
def test_impossible_header_values_are_refused(attrs, error, fragment):
    ds = make_dataset(ramp(64, 64, 4095), bits_stored=12)
    bits = attrs.get("BitsAllocated")
    for key, value in attrs.items():
        setattr(ds, key, value)
    if bits == 12:
        ds.BitsStored = 12
    with pytest.raises(error, match=fragment):
        load_radiograph(to_bytes(ds), name="values.dcm")


def test_absurd_windows_are_skipped_and_the_file_still_loads():
    ds = make_dataset(ramp(64, 64, 4095), bits_stored=12)
    ds.WindowCenter, ds.WindowWidth = ["1e300", "2048"], ["4096", "1e300"]
    r = load_radiograph(to_bytes(ds), name="win.dcm")
    assert sum("invalid" in w for w in r.metadata["warnings"]) == 2
    assert r.windows[0].name.startswith("auto")  # the default windows
    assert 0.0 <= r.image.min() and r.image.max() <= 1.0


@pytest.mark.parametrize(
    ("attrs", "spacing", "fragment"),
    [
        ({"PixelSpacing": ["1e6", "1e6"]}, None, "PixelSpacing 1e+06 x 1e+06 mm is implausible"),
        ({"ImagerPixelSpacing": ["0", "1e-9"]}, None, None),  # <= 0 was already unknown
        (
            {
                "ImagerPixelSpacing": ["0.2", "0.2"],
                "EstimatedRadiographicMagnificationFactor": "100",
            },
            (0.2, 0.2),
            "Magnification Factor 100 is outside",
        ),
    ],
)
def test_absurd_spacing_is_unknown_with_a_warning(attrs, spacing, fragment):
    ds = make_dataset(ramp(64, 64, 4095), bits_stored=12, **attrs)
    r = load_radiograph(to_bytes(ds), name="sp.dcm")
    assert r.spacing_mm == spacing
    if fragment:
        assert any(fragment in w for w in r.metadata["warnings"])


def test_a_codestream_larger_than_the_header_is_refused_before_decoding():
    px = ramp(64, 96, 4095)
    ds = make_dataset(px, bits_stored=12)
    ds.compress(JPEG2000Lossless, px)
    ds.Rows, ds.Columns = 64, 64  # the J2K codestream still says 96 x 64
    with pytest.raises(
        CorruptPixelDataError, match="compressed image is 96x64 pixels but the header says 64x64"
    ):
        load_radiograph(to_bytes(ds), name="dims.dcm")


def test_a_jpeg_ls_stream_without_its_end_marker_is_refused_before_decoding():
    """CharLS spends ~4.5 s of CPU on some truncated JPEG-LS streams (found by the fuzzer)."""
    from pydicom.encaps import encapsulate, generate_fragments
    from pydicom.uid import JPEGLSLossless

    px = ramp(64, 96, 4095)
    ds = make_dataset(px, bits_stored=12)
    ds.compress(JPEGLSLossless, px)
    stream = list(generate_fragments(ds.PixelData))[1]
    assert stream.endswith(b"\xff\xd9") or stream[:-1].endswith(b"\xff\xd9")
    ds.PixelData = encapsulate([stream[: len(stream) - 12]])
    with pytest.raises(TruncatedFileError, match="JPEG-LS pixel data is truncated"):
        load_radiograph(to_bytes(ds), name="ls.dcm")


def test_a_deflate_bomb_is_refused_before_pydicom_inflates_it():
    ds = make_dataset(np.zeros((256, 256), np.uint16))
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    data = to_bytes(ds)
    assert len(data) < 5000  # 128 KiB of zeros deflate to almost nothing
    with pytest.raises(FileTooLargeError, match="inflates beyond the 0.0 MiB cap"):
        load_radiograph(data, name="bomb.dcm", max_bytes=20_000)
    assert load_radiograph(data, name="bomb.dcm").image.shape == (256, 256)


def test_float_tiff_with_nan_is_refused():
    arr = np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64)
    arr[3, 3] = np.nan
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="TIFF")
    with pytest.raises(CorruptPixelDataError, match="NaN or infinite"):
        load_radiograph(buf.getvalue(), name="nan.tif")


def test_any_pillow_exception_becomes_one_error_and_the_original_is_logged(monkeypatch, caplog):
    from PIL import Image as PILImage

    def broken(*args, **kwargs):
        raise KeyError("a plugin bug")

    monkeypatch.setattr(PILImage, "open", broken)
    png = b"\x89PNG\r\n\x1a\n" + bytes(100)
    with caplog.at_level(logging.DEBUG, logger="core.io.images"):
        with pytest.raises(CorruptPixelDataError, match="^x.png: PNG data cannot be decoded"):
            load_radiograph(png, name="x.png")
    assert "KeyError" in caplog.text and "a plugin bug" in caplog.text


def test_c_decoder_complaints_are_logged_not_printed(capfd, caplog):
    """libjpeg/libtiff/OpenJPEG write to descriptor 2 below Python; what they write is logged."""
    with caplog.at_level(logging.INFO, logger="core.io._source"):
        with native_stderr_logged("scan.tif"):
            os.write(2, b"ZIPDecode: Decoding error at scanline 0\n")
    assert capfd.readouterr().err == ""
    assert "scan.tif: decoder: ZIPDecode: Decoding error at scanline 0" in caplog.text


# --- the command line ------------------------------------------------------------------------


def test_info_on_the_reproduction_prints_one_line_and_exits_2(reproduction, tmp_path, capsys):
    path = tmp_path / "siim_cr_chest_pa.dcm"
    path.write_bytes(reproduction)
    assert main(["info", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(
        "gazescope info: error: siim_cr_chest_pa.dcm: DICOM element (0028,0002)"
    )


def test_info_on_the_reproduction_in_a_subprocess(reproduction, tmp_path):
    path = tmp_path / "siim_cr_chest_pa.dcm"
    path.write_bytes(reproduction)
    done = subprocess.run(
        [sys.executable, "-m", "core.cli", "info", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "siim_cr_chest_pa.dcm: DICOM element (0028,0002) Samples per Pixel" in done.stderr


def test_other_file_commands_and_the_pipeline_refuse_it_the_same_way(
    reproduction, tmp_path, capsys
):
    from core.pipeline import ReadingPipeline

    path = tmp_path / "repro.dcm"
    path.write_bytes(reproduction)
    assert main(["anatomy", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "repro.dcm: DICOM element (0028,0002)" in err
    with pytest.raises(MalformedHeaderError, match="^repro.dcm: DICOM element"):
        ReadingPipeline(scanpath="abcdef", classifier=None).run_file(path)


# --- the fuzzer ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(shared_data):
    return build_corpus(shared_data)


def test_the_corpus_covers_every_syntax_and_format_and_loads_clean(corpus):
    names = {s.name for s in corpus}
    for label in ("explicit-le", "implicit-le", "explicit-be", "deflated", "rle", "jpeg-ls",
                  "jpeg2000", "jpeg-lossless"):  # fmt: skip
        assert f"siim256@{label}.dcm" in names
    assert {"siim_cr_chest_pa.dcm", "nema_rg1_cr_chest_j2k.dcm"} <= names
    assert any(n.endswith(".png") for n in names) and any(n.endswith(".jpg") for n in names)
    assert sum(n.endswith(".tif") for n in names) == 3
    for seed in corpus:
        assert check_bytes(seed.data, seed.name) == ("loaded", ""), seed.name
    ts = load_radiograph(next(s.data for s in corpus if "explicit-be" in s.name)).metadata
    assert ts["transfer_syntax"] == "Explicit VR Big Endian"


def test_cases_are_reproducible_from_seed_and_index(corpus):
    a = make_case(corpus, 7, 123)
    b = make_case(corpus, 7, 123)
    assert a[1] == b[1] and a[2] == b[2]
    assert make_case(corpus, 7, 124)[1] != a[1] and make_case(corpus, 8, 123)[1] != a[1]


def test_check_bytes_reports_anything_but_a_gazescope_error_as_a_failure(monkeypatch):
    import core.io.load

    def broken(*args, **kwargs):
        raise IndexError("boom")

    monkeypatch.setattr(core.io.load, "load_radiograph", broken)
    outcome, detail = check_bytes(b"x", "x.dcm")
    assert outcome == "failure" and detail.startswith("IndexError") and "boom" in detail


@pytest.mark.slow
def test_fuzz_cases_load_or_raise_a_gazescope_error_and_never_hang(corpus):
    report = run_fuzz(corpus, FUZZ_CASES, seed=0, timeout_s=120)
    assert report.bad == [], "\n".join(
        f"{r.index} {r.seed} {r.mutations}: {r.detail}" for r in report.bad
    )
    assert sum(report.outcomes.values()) == FUZZ_CASES
    # the cases are neither all harmless nor all fatal, and several kinds of refusal occur
    assert report.outcomes["loaded"] > 10 and report.outcomes["refused"] > 10
    assert len(report.errors) >= 3


def test_the_watchdog_counts_an_unanswered_case_as_a_hang(corpus):
    report = run_fuzz(corpus, 1, seed=0, timeout_s=0.001)  # no worker answers that fast
    assert report.outcomes["hang"] == 1 and report.bad[0].outcome == "hang"


def test_fuzz_command(tmp_path, shared_data, capsys):
    assert main(["fuzz", "--n", "3", "--seed", "1", "--data", str(shared_data)]) == 0
    out = capsys.readouterr().out
    assert "failures 0, hangs 0, crashes 0" in out
    path = tmp_path / "case.bin"
    assert (
        main(
            ["fuzz", "--seed", "1", "--case", "2", "--save", str(path), "--data", str(shared_data)]
        )
        == 0
    )
    assert path.read_bytes() == make_case(build_corpus(shared_data), 1, 2)[1]
