"""``Store``: the one object the app and the CLI talk to; ``open_store`` creates or upgrades it."""

from __future__ import annotations

import logging

from core.store.db import database_url, make_engines, upgrade
from core.store.repository import ReviewRepository

logger = logging.getLogger(__name__)

__all__ = ["Store", "open_store"]


class Store(ReviewRepository):
    """Repository functions over one database (see ``repository.py``).

    Thread- and process-safe: every call is its own unit of work in its own session.
    """

    def __repr__(self) -> str:
        return f"Store({self.url!r})"


def open_store(url: str | None = None) -> Store:
    """Open the database at ``url`` (else ``$GAZESCOPE_DB``, else ``./gazescope.sqlite``).

    Creates the schema in a new database and upgrades an old one to the newest revision.
    """
    engines = make_engines(database_url(url))
    upgrade(engines)
    logger.info("store open: %s", engines.url)
    return Store(engines)
