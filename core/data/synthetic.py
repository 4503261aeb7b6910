"""Reader-side support for ``gazescope synth`` corpora (REFLACX layout plus a reader table).

A synthetic corpus is read by the REFLACX reader; what it adds is ``synthetic_readers.csv``
(``id, reader_id``): which simulated reader made each read, so that the human ceiling pairs
distinct readers. The corpus writer is :mod:`core.synth.corpus`.
"""

from __future__ import annotations

from pathlib import Path

from core.data._tables import CsvTable

__all__ = ["READERS_TABLE", "read_reader_table"]

READERS_TABLE = "synthetic_readers.csv"


def read_reader_table(path: str | Path) -> dict[str, str]:
    """``synthetic_readers.csv`` -> {REFLACX read id: simulated reader id}."""
    out: dict[str, str] = {}
    with CsvTable(Path(path), required=("id", "reader_id")) as table:
        for row in table.rows():
            out[row.text("id")] = row.text("reader_id")
    return out
