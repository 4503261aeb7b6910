"""What every repository class shares: the engines, one short-lived ``Session`` per unit of
work, lookups that turn usernames and case hashes into rows (or a clear error), and the
idempotency rule for client request ids."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.store import validate as v
from core.store.db import Engines
from core.store.errors import StoreAccessError, StoreInputError
from core.store.schema import CaseRow, ReaderRow

logger = logging.getLogger(__name__)

T = TypeVar("T")


class StoreBase:
    def __init__(self, engines: Engines) -> None:
        self._engines = engines
        self._reader_ids: dict[str, int] = {}  # readers are never renamed or deleted
        self._sentence_owner: dict[int, int] = {}  # sentence id -> prediction id (immutable)

    def _reader_id(self, session: Session, username: str) -> int:
        """The reader's database id (cached: a hot path of every review)."""
        rid = self._reader_ids.get(username)
        if rid is None:
            rid = self._reader_ids[username] = reader_row(session, username).id
        return rid

    @property
    def url(self) -> str:
        return self._engines.url

    @property
    def is_sqlite(self) -> bool:
        return self._engines.is_sqlite

    def close(self) -> None:
        """Release the engines' connections (the store can still be used; it reconnects)."""
        self._engines.dispose()

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """A transaction holding the write lock (SQLite ``BEGIN IMMEDIATE``); commits on exit."""
        with (
            self._engines.write_lock(),
            Session(self._engines.write, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def _write_conn(self) -> Iterator[Connection]:
        """Like ``_write`` for Core statements: no ORM session on hot paths."""
        with self._engines.write_lock(), self._engines.write.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Session]:
        """A read-only snapshot that never waits for writers."""
        with Session(self._engines.read) as session, session.begin():
            yield session

    def _idempotent(
        self,
        request_id: str,
        find: Callable[[Session], tuple[int, T] | None],
        write: Callable[[Session], T],
        reader_id_of: Callable[[Session], int],
    ) -> T:
        """Run ``write`` unless ``find`` sees ``request_id`` already stored; return that row then.

        ``find`` returns ``(owner reader id, record)``; a request id that another reader used is
        refused (it would otherwise reveal that reader's row). If two writers race past ``find``
        (possible on PostgreSQL, not under SQLite's write lock), the unique constraint stops the
        second and the first row is returned.
        """
        v.request_id(request_id)
        for attempt in (0, 1):
            try:
                with self._write() as session:
                    me = reader_id_of(session)
                    found = find(session)
                    if found is None:
                        return write(session)
                    owner, record = found
                    if owner != me:
                        raise StoreAccessError(
                            f"client_request_id {request_id!r} belongs to another reader's request"
                        )
                    logger.debug("request %s already stored; nothing written", request_id)
                    return record
            except IntegrityError:
                if attempt:
                    raise
                logger.info("request %s raced another writer; reading the stored row", request_id)
        raise AssertionError("unreachable")


def reader_row(session: Session, username: str) -> ReaderRow:
    row = session.scalar(select(ReaderRow).where(ReaderRow.username == v.username(username)))
    if row is None:
        raise StoreInputError(f"unknown reader {username!r} (sign in first: ensure_reader)")
    return row


def case_row(session: Session, sha256: str) -> CaseRow:
    row = session.scalar(select(CaseRow).where(CaseRow.sha256 == v.sha256(sha256)))
    if row is None:
        raise StoreInputError(f"unknown case {sha256[:12]}... (add it first: ensure_case)")
    return row
