"""``Store``: the one object the app and the CLI talk to; ``open_store`` creates or upgrades it."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from core.store.db import database_url, make_engines, upgrade
from core.store.export import ExportSummary, backup_sqlite, export_tables
from core.store.repository import ReviewRepository
from core.store.study import StudyRepository

logger = logging.getLogger(__name__)

__all__ = ["Store", "open_store"]


class Store(ReviewRepository, StudyRepository):
    """Repository functions over one database (see ``repository.py`` and ``study.py``).

    Thread- and process-safe: every call is its own unit of work in its own session.
    """

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    def export(self, folder: Path) -> ExportSummary:
        """Write CSV + JSON of every table (one snapshot) and, for SQLite, a backup copy.

        See ``core.store.export`` for the layout.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if self.is_sqlite:
            # export from the backup copy, so the CSV/JSON and the copy are the same snapshot
            copy: Path | None = backup_sqlite(self.url, folder / "gazescope.sqlite")
            engine = create_engine(f"sqlite:///{copy}", poolclass=NullPool)
        else:
            copy, engine = None, self._engines.read
        try:
            with engine.connect() as conn, conn.begin():
                rows, revision = export_tables(conn, folder)
        finally:
            if copy is not None:
                engine.dispose()
        logger.info("exported %d rows to %s", sum(rows.values()), folder)
        return ExportSummary(folder, rows, revision, copy)


def open_store(url: str | None = None) -> Store:
    """Open the database at ``url`` (else ``$GAZESCOPE_DB``, else ``./gazescope.sqlite``).

    Creates the schema in a new database and upgrades an old one to the newest revision.
    """
    engines = make_engines(database_url(url))
    upgrade(engines)
    logger.info("store open: %s", engines.url)
    return Store(engines)
