"""Malformed gaze data (REFLACX, EGD-CXR, GazeSearch): one clear error, nothing already read lost.

Fuzz-style: seeded mutations (``gaze_mutations``) of every CSV/JSON file of fixture trees in the
real layouts; each reader must either yield well-formed cases or raise ``GazeDataError`` with a
one-line message naming a file of the tree; with ``on_error="skip"`` every case the raising run
yielded before its error comes out identical, and nothing but ``GazeDataError`` escapes.
Targeted tests check the file/line/column wording and what ``"skip"`` drops.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import shutil
from pathlib import Path

import pytest
from fixtures_datasets import (
    DICOM_A,
    EGD_P,
    EgdImage,
    ReflacxRead,
    egd_sample_row,
    gazesearch_record,
    make_egd_example,
    make_reflacx_example,
    write_egd_eye_gaze,
    write_reflacx,
)
from gaze_mutations import mutate_file

from core.data.egd import read_egd
from core.data.gazesearch import read_gazesearch
from core.data.reflacx import read_reflacx
from core.errors import GazeDataError

# fixed in CI (about 10 s in all); a longer run before a release:
# GAZESCOPE_GAZE_FUZZ_CASES=3000 pytest tests/test_readers_fuzz.py -k mutated
CASES_PER_LAYOUT = int(os.environ.get("GAZESCOPE_GAZE_FUZZ_CASES", "60"))


def _reflacx(root: Path) -> None:
    make_reflacx_example(root)


def _reflacx_gaze(root: Path) -> None:
    gaze = [(k / 100, 1000.0 + (k > 40) * 300, 500.0, 40.0, 40.0) for k in range(80)]
    write_reflacx(root, {3: [ReflacxRead("P300R123456", DICOM_A, gaze=gaze)]})


def _egd(root: Path) -> None:
    make_egd_example(root)


def _egd_eye_gaze(root: Path) -> None:
    make_egd_example(root)
    im = EgdImage(EGD_P, (2000, 2500), (0, 0, 528, 528))
    rows = []
    for k in range(60):
        fx, fy = im.to_screen(1000, 500) if k < 30 else im.to_screen(500, 2000)
        rows.append(egd_sample_row(EGD_P, 100 + k / 60, fx, fy))
    write_egd_eye_gaze(root, rows)


def _gazesearch(root: Path) -> None:
    records = [
        gazesearch_record(
            f"{DICOM_A}.jpg", 1, "Cardiomegaly", [111, 0, 223], [55, 223, 0], [0.3, 0.2, 0.5]
        ),
        gazesearch_record(f"{DICOM_A}.jpg", 2, "Pleural Effusion", [10], [20], [0.25]),
        gazesearch_record("other.jpg", 1, "Atelectasis", [5, 6], [7, 8], [0.1, 0.2]),
    ]
    # one record per line
    lines = ",\n".join(json.dumps(r) for r in records)
    (root / "gazesearch.json").write_text(f"[\n{lines}\n]\n")


LAYOUTS = {
    "reflacx": (_reflacx, lambda root, **kw: read_reflacx(root, **kw)),
    "reflacx-gaze": (
        _reflacx_gaze,
        lambda root, **kw: read_reflacx(root, fixations_from="gaze", **kw),
    ),
    "egd": (_egd, lambda root, **kw: read_egd(root, **kw)),
    "egd-eye-gaze": (
        _egd_eye_gaze,
        lambda root, **kw: read_egd(root, fixations_from="eye_gaze", **kw),
    ),
    "gazesearch": (_gazesearch, lambda root, **kw: read_gazesearch(root / "gazesearch.json", **kw)),
}


def _run(read, root: Path, on_error: str) -> tuple[list, GazeDataError | None]:
    """The cases yielded, and the error that ended the iteration (if any)."""
    out: list = []
    try:
        for case in read(root, on_error=on_error):
            out.append(case)
    except GazeDataError as err:
        return out, err
    return out, None


def _well_formed(case) -> bool:
    for read in case.reads:
        for f in read.scanpath:
            if not all(math.isfinite(v) for v in (f.x, f.y, f.start_s, f.duration_s)):
                return False
    return case.image.width_px > 0 and case.image.height_px > 0


@pytest.mark.slow
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_mutated_files_give_one_clear_error_and_skip_loses_nothing(layout, tmp_path):
    build, read = LAYOUTS[layout]
    clean = tmp_path / "clean"
    clean.mkdir()
    build(clean)
    clean_cases, err = _run(read, clean, "raise")
    assert err is None and clean_cases
    files = sorted(p.relative_to(clean) for p in clean.rglob("*") if p.suffix in (".csv", ".json"))
    names = {p.name for p in files}
    errors = 0
    for i in range(CASES_PER_LAYOUT):
        rng = random.Random(f"{layout}:{i}")
        work = tmp_path / f"case{i}"
        shutil.copytree(clean, work)
        target = rng.choice(files)
        what = mutate_file(work / target, rng)
        label = f"case {i}: {target} {what}"
        try:
            yielded, err = _run(read, work, "raise")
            kept, skip_err = _run(read, work, "skip")
        except Exception as exc:  # anything but GazeDataError is the bug this test looks for
            pytest.fail(f"{label}: {type(exc).__name__}: {exc}")
        for e in (err, skip_err):
            if e is not None:
                msg = str(e)
                assert "\n" not in msg and msg.split(": ", 1)[0] in names, f"{label}: {msg!r}"
        errors += err is not None
        assert all(_well_formed(c) for c in yielded + kept), label
        kept_by_id = {c.case_id: repr(c) for c in kept}
        for c in yielded:  # nothing the raising run had already read is lost when skipping
            assert kept_by_id.get(c.case_id) == repr(c), label
        shutil.rmtree(work)
    assert errors >= CASES_PER_LAYOUT // 3  # the mutations do break things


# --- targeted: wording, and what "skip" drops -------------------------------------------------


def _set_cell(path: Path, line: int, column: str, value: str) -> None:
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    path.write_text("\r\n".join(lines) + "\r\n")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("abc", "expected a number, got 'abc'"),
        ("nan", "expected a finite number, got 'nan'"),
        ("1e400", "expected a finite number, got '1e400'"),
        ("1e300", "'1e300' is beyond +-1e+09, not a plausible value"),
    ],
)
def test_a_bad_reflacx_cell_names_file_line_column_and_skip_drops_only_that_read(
    tmp_path, value, fragment, caplog
):
    make_reflacx_example(tmp_path)
    clean_cases = {c.case_id: c for c in read_reflacx(tmp_path)}
    clean = {k: repr(c) for k, c in clean_cases.items()}
    path = tmp_path / "main_data" / "P102R915133" / "fixations.csv"  # second read of DICOM_A
    _set_cell(path, 2, "x_position", value)
    with pytest.raises(GazeDataError) as info:
        list(read_reflacx(tmp_path))
    assert (
        str(info.value) == f"fixations.csv: line 2, column 'x_position': {fragment} (P102R915133)"
    )
    with caplog.at_level(logging.WARNING, logger="core.data._tables"):
        kept = {c.case_id: c for c in read_reflacx(tmp_path, on_error="skip")}
    assert set(kept) == set(clean)
    clean_reads = [r.read_id for r in clean_cases[DICOM_A].reads]
    assert "P102R915133" in clean_reads
    assert [r.read_id for r in kept[DICOM_A].reads] == [
        r for r in clean_reads if r != "P102R915133"
    ]
    assert all(repr(kept[k]) == v for k, v in clean.items() if k != DICOM_A)
    assert "fixations.csv: line 2, column 'x_position'" in caplog.text and "skipped" in caplog.text


def test_a_truncated_metadata_file_keeps_the_rows_before_the_break(tmp_path):
    make_reflacx_example(tmp_path)
    clean = [c.case_id for c in read_reflacx(tmp_path, phases=[1])]
    path = tmp_path / "main_data" / "metadata_phase_1.csv"
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"\r\n", data.index(b"\r\n") + 1) + 40])  # mid-row 2
    with pytest.raises(GazeDataError, match=r"^metadata_phase_1\.csv: line 3: expected \d+ fields"):
        list(read_reflacx(tmp_path, phases=[1]))
    kept = list(read_reflacx(tmp_path, phases=[1], on_error="skip"))
    assert [c.case_id for c in kept] == clean[:1] and len(kept[0].reads) == 1


def test_a_wrong_encoding_names_the_file_and_line(tmp_path):
    make_reflacx_example(tmp_path)
    path = tmp_path / "main_data" / "P102R108387" / "timestamps_transcription.csv"
    path.write_bytes(path.read_bytes().replace(b"lobe", b"l\xf6be"))  # Latin-1, not UTF-8
    with pytest.raises(GazeDataError) as info:
        list(read_reflacx(tmp_path))
    assert str(info.value) == (
        "timestamps_transcription.csv: line 4: not UTF-8 text (byte 0xf6 at column 2); "
        "save the file as UTF-8 (P102R108387)"
    )
    path.write_text(path.read_bytes().decode("latin-1"), encoding="utf-16")
    with pytest.raises(GazeDataError, match="line 1: not UTF-8 text \\(a UTF-16 file\\)"):
        list(read_reflacx(tmp_path))


def test_egd_a_bad_fixation_row_drops_its_case_only(tmp_path):
    make_egd_example(tmp_path)
    clean = {c.case_id: repr(c) for c in read_egd(tmp_path)}
    _set_cell(tmp_path / "fixations.csv", 2, "FPOGS", "NaN")  # the first row: EGD_P
    with pytest.raises(
        GazeDataError, match=r"^fixations\.csv: line 2, column 'FPOGS': expected a finite"
    ):
        list(read_egd(tmp_path))
    collected: list[GazeDataError] = []
    kept = {c.case_id: repr(c) for c in read_egd(tmp_path, on_error=collected.append)}
    assert set(kept) == set(clean) - {EGD_P}
    assert all(kept[k] == clean[k] for k in kept)
    assert len(collected) == 1 and "line 2" in str(collected[0])


def test_egd_a_dropped_master_row_does_not_hand_its_gaze_to_another_case(tmp_path):
    """ "3a7f" is ambiguous between EGD_P and EGD_L; dropping EGD_P's row must not change that."""
    make_egd_example(tmp_path)
    clean = {c.case_id: repr(c) for c in read_egd(tmp_path)}
    _set_cell(tmp_path / "master_sheet.csv", 2, "image_left_pad", "abc")  # EGD_P's row
    kept = {c.case_id: repr(c) for c in read_egd(tmp_path, on_error="skip")}
    assert set(kept) == set(clean) - {EGD_P}
    assert all(kept[k] == clean[k] for k in kept)


def test_egd_a_bad_transcript_drops_its_case_only(tmp_path):
    make_egd_example(tmp_path)
    clean = {c.case_id for c in read_egd(tmp_path)}
    path = tmp_path / "audio_segmentation_transcripts" / EGD_P / "transcript.json"
    path.write_text(
        '{"full_text": "x", "time_stamped_text": [{"phrase": "x", "begin_time": NaN, "end_time": 1}]}'
    )
    with pytest.raises(GazeDataError, match=r"^transcript\.json: time_stamped_text\[0\]"):
        list(read_egd(tmp_path))
    assert {c.case_id for c in read_egd(tmp_path, on_error="skip")} == clean - {EGD_P}


def test_gazesearch_errors_name_line_record_and_key_and_skip_keeps_the_rest(tmp_path):
    _gazesearch(tmp_path)
    path = tmp_path / "gazesearch.json"
    path.write_text(path.read_text().replace("[0.25]", "[1e999]"))  # record 1, on line 3
    with pytest.raises(GazeDataError) as info:
        list(read_gazesearch(path))
    assert (
        str(info.value)
        == "gazesearch.json: line 3, record 1, key 'T': holds NaN or infinite values"
    )
    kept = list(read_gazesearch(path, on_error="skip"))
    assert [len(c.reads) for c in kept] == [1, 1]


def test_deeply_nested_json_is_a_gaze_data_error(tmp_path):
    path = tmp_path / "gazesearch.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(GazeDataError, match="nested too deeply"):
        list(read_gazesearch(path))


def test_on_error_must_be_known(tmp_path):
    with pytest.raises(ValueError, match="on_error"):
        read_egd(tmp_path, on_error="ignore")
