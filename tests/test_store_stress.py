"""`gazescope study stress`: real writer processes, one SIGKILLed mid-transaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.cli import main


@pytest.mark.slow
def test_stress_passes_on_a_fresh_database(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'stress.sqlite'}"
    assert main(["study", "stress", "--db", url, "--writers", "3", "--seconds", "2"]) == 0
    out = capsys.readouterr().out
    assert "one SIGKILLed mid-transaction" in out
    assert "missing:               0" in out and "duplicates:            0" in out
    assert "killed txn rows seen:  0" in out and "PRAGMA integrity_check: ok" in out
    assert out.rstrip().endswith("PASS")
