"""No DICOM identifier reaches the database; exports hold every table, consistently."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import numpy as np
from io_factory import PHI, make_dataset, ramp, write
from store_helpers import reading_result, sha

from core.cli import main
from core.io import load_radiograph
from core.store import open_store
from core.store.db import head_revision
from core.store.schema import Base

UID = "1.2.826.0.1.3680043.8.498.99999111"


def _phi_dicom(folder: Path) -> tuple[Path, list[str]]:
    ds = make_dataset(ramp(64, 64, 255).astype(np.uint8), modality="DX", ViewPosition="PA", **PHI)
    ds.StudyInstanceUID = UID
    ds.add_new(0x00291010, "LO", "private PHIPRIVATE name")
    # the file name carries an identifier too, as exported files often do
    path = write(ds, folder / "Doe_Jane_PHIFILENAME.dcm")
    return path, [*PHI.values(), UID, ds.SOPInstanceUID, "PHIPRIVATE", "PHIFILENAME", "PHI"]


def _pipeline_shaped_result(path: Path) -> dict:
    """What ReadingResult.to_dict() holds for this file (image block from the real loader)."""
    r = load_radiograph(path)
    result = reading_result(r.sha256, source_name=r.source_name)
    result["image"].update(
        width=r.width,
        height=r.height,
        modality=str(r.metadata.get("modality", "")),
        view=str(r.metadata.get("view_position", "")),
        spacing_mm=list(r.spacing_mm) if r.spacing_mm else None,
    )
    return result


def test_no_dicom_identifier_reaches_any_table(tmp_path: Path) -> None:
    path, markers = _phi_dicom(tmp_path)
    db = tmp_path / "phi.sqlite"
    url = f"sqlite:///{db}"
    # the command line path: a study created from the DICOM file through core.io
    assert main(["study", "create", "phi", "--db", url, "--no-predict", "--cases", str(path)]) == 0
    # the app's path: the reading result of the same file, reviews, ratings, events
    store = open_store(url)
    store.ensure_reader("alice")
    result = _pipeline_shaped_result(path)
    case = result["image"]["sha256"]
    assert store.get_case(case).display_name == "case 1"
    pred = store.save_prediction(case, result, app_version="test", seed=0)
    store.add_review(
        "alice",
        pred.id,
        pred.sentences[0].id,
        action="edit",
        edited_text="Small effusion.",
        error_category="wrong_severity",
        significance="minor",
        client_request_id="p1",
    )
    store.add_rating(
        "alice", case, usefulness=4, trust=4, scanpath_humanlike=3, client_request_id="p2"
    )
    store.add_event("alice", case, "overlay", {"name": "scanpath", "on": True})
    store.add_study_reader("phi", "alice")
    store.close()

    con = sqlite3.connect(db)
    tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
    assert {"cases", "predictions", "reviews", "prediction_sentences"} <= set(tables)
    seen = 0
    for table in tables:
        for row in con.execute(f"select * from {table}"):
            for value in row:
                text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                seen += 1
                for marker in markers:
                    assert marker not in text, f"{marker!r} found in table {table}: {text[:80]}"
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    assert seen > 100
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("phi.sqlite*"))
    for marker in markers:
        assert marker.encode() not in raw  # not even in freed pages or the write-ahead log


def test_export_writes_every_table_from_one_snapshot(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    store = open_store(url)
    case = sha("export")
    store.ensure_reader("alice")
    store.ensure_case(case, source="test fixture")
    pred = store.save_prediction(case, reading_result(case), app_version="test", seed=0)
    store.add_review(
        "alice", pred.id, pred.sentences[0].id, action="accept", client_request_id="e1"
    )
    store.add_event("alice", case, "overlay", {"name": "attention", "on": False})
    out = tmp_path / "export"
    assert main(["study", "export", str(out), "--db", url]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["schema_revision"] == head_revision()
    names = {t.name for t in Base.metadata.sorted_tables}
    assert set(manifest["rows"]) == names
    assert {p.stem for p in (out / "csv").glob("*.csv")} == names
    assert {p.stem for p in (out / "json").glob("*.json")} == names
    copy = sqlite3.connect(out / "gazescope.sqlite")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for table in names:
        n = copy.execute(f"select count(*) from {table}").fetchone()[0]
        assert manifest["rows"][table] == n
        with (out / "csv" / f"{table}.csv").open() as f:
            assert len(list(csv.DictReader(f))) == n
        assert len(json.loads((out / "json" / f"{table}.json").read_text())) == n
    copy.close()
    review = json.loads((out / "json" / "reviews.json").read_text())[0]
    assert review["action"] == "accept" and review["created_at"].endswith("+00:00")
    event = json.loads((out / "json" / "events.json").read_text())[0]
    assert event["payload"] == {"name": "attention", "on": False}
