"""Exports: CSV and JSON of every table, read in one snapshot, and a consistent SQLite copy.

Layout of an export folder (documented in the README, "Verification studies")::

    manifest.json          schema revision, export time (UTC), row count per table
    csv/<table>.csv        one row per database row; JSON columns as JSON text, times ISO 8601
    json/<table>.json      a list of objects per table, JSON columns as nested JSON
    gazescope.sqlite       SQLite stores only: a copy made with SQLite's online backup API,
                           consistent even while readers keep writing
"""

from __future__ import annotations

import csv
import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.engine import make_url

from core.store.schema import Base, utcnow

logger = logging.getLogger(__name__)

__all__ = ["ExportSummary", "backup_sqlite", "export_tables"]


@dataclass(frozen=True)
class ExportSummary:
    folder: Path
    rows: dict[str, int]
    revision: str
    sqlite_copy: Path | None


def export_tables(conn: Connection, folder: Path) -> tuple[dict[str, int], str]:
    """Write every table as CSV and JSON from one read transaction; returns row counts and the
    schema revision."""
    (folder / "csv").mkdir(parents=True, exist_ok=True)
    (folder / "json").mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    for table in Base.metadata.sorted_tables:
        result = conn.execute(select(table).order_by(*table.primary_key.columns))
        columns = list(result.keys())
        rows = [dict(zip(columns, row, strict=True)) for row in result]
        counts[table.name] = len(rows)
        with (folder / "csv" / f"{table.name}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_csv_value(row[c]) for c in columns])
        (folder / "json" / f"{table.name}.json").write_text(
            json.dumps([{k: _json_value(v) for k, v in r.items()} for r in rows], indent=1),
            encoding="utf-8",
        )
    manifest = {
        "format": "gazescope-store-export",
        "schema_revision": revision,
        "exported_at": utcnow().isoformat(),
        "rows": counts,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return counts, revision


def backup_sqlite(url: str, dest: Path) -> Path:
    """Copy the SQLite database at ``url`` to ``dest`` with the online backup API."""
    database = make_url(url).database
    assert database
    dest.unlink(missing_ok=True)
    src = sqlite3.connect(database, timeout=30)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
    finally:
        dst.close()
        src.close()
    return dest


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return _json_value(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value
