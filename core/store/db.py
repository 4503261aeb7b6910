"""Engines and migrations: the URL from ``GAZESCOPE_DB``, SQLite settings, Alembic upgrade on open.

SQLite (the default) gets write-ahead logging (readers never block the writer), foreign keys
on, a busy timeout (a writer waits for the lock instead of failing) and ``synchronous=NORMAL``
(a committed transaction survives the process being killed; after a power cut the last
transactions may be lost). Writes start with ``BEGIN IMMEDIATE``, which takes the write lock up
front: a transaction that starts reading and later writes could otherwise fail with "database
is locked" without waiting. Before that, writers queue on an advisory file lock
(``<database>.writelock``, ``flock``): SQLite's own busy handler polls with sleeps of up to
100 ms, so under contention most of the time would go to sleeping; a process blocked in
``flock`` wakes as soon as the lock is free, and the kernel releases the lock of a killed
process. Reads use a second engine with plain deferred transactions, so
they never wait for writers. Any other SQLAlchemy URL (e.g. ``postgresql+psycopg://...``) is
used as it is, with one engine.

The schema is created and upgraded by the Alembic scripts in ``core/store/migrations``; an old
database file is upgraded when it is opened, under the write lock so that several processes
opening a fresh file at once do not race.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: writers fall back to SQLite's busy timeout alone
    fcntl = None  # type: ignore[assignment]

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.store.errors import StoreError

logger = logging.getLogger(__name__)

__all__ = ["DB_ENV", "Engines", "database_url", "head_revision", "make_engines", "upgrade"]

DB_ENV = "GAZESCOPE_DB"
BUSY_TIMEOUT_MS = 30_000  # how long a writer waits for the SQLite write lock
_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def database_url(url: str | None = None) -> str:
    """``url``, else ``$GAZESCOPE_DB``, else ``sqlite:///<cwd>/gazescope.sqlite``."""
    if url:
        return url
    env = os.environ.get(DB_ENV, "").strip()
    if env:
        return env
    return f"sqlite:///{Path.cwd() / 'gazescope.sqlite'}"


@dataclass(frozen=True)
class Engines:
    """The write engine (``BEGIN IMMEDIATE`` on SQLite) and the read engine (may be the same)."""

    url: str
    write: Engine
    read: Engine
    is_sqlite: bool
    lock_path: Path | None = None  # SQLite: the writers' advisory lock file

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Hold the writers' lock (SQLite; a no-op elsewhere) for one write transaction.

        A new open file per call: ``flock`` excludes open files, so threads of one process
        exclude each other too.
        """
        if self.lock_path is None or fcntl is None:
            yield
            return
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def dispose(self) -> None:
        self.write.dispose()
        if self.read is not self.write:
            self.read.dispose()


def make_engines(url: str) -> Engines:
    """Engines for ``url``; refuses in-memory SQLite (each connection would get its own)."""
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise StoreError(f"{DB_ENV}: not a database URL: {url!r}") from err
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True)
        return Engines(url, engine, engine, is_sqlite=False)
    if not parsed.database or parsed.database == ":memory:":
        raise StoreError(f"{url}: in-memory SQLite is not supported; give a file path")
    folder = Path(parsed.database).resolve().parent
    if not folder.is_dir():
        raise StoreError(f"{url}: folder {folder} does not exist")
    write = _sqlite_engine(url, immediate=True)
    read = _sqlite_engine(url, immediate=False)
    lock = Path(parsed.database).resolve().with_name(Path(parsed.database).name + ".writelock")
    return Engines(url, write, read, is_sqlite=True, lock_path=lock)


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    # A pool of open connections (SQLAlchemy's default QueuePool): closing the last connection
    # to a WAL database checkpoints it, which would cost a sync per unit of work.
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (pysqlite's is deferred)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def head_revision() -> str:
    """The newest migration this version of GazeScope knows."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def upgrade(engines: Engines, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest); no-op when already there.

    Raises ``StoreError`` when the database was written by a newer GazeScope (a revision this
    version does not know).
    """
    script = ScriptDirectory.from_config(_alembic_config())
    target = script.get_current_head() if revision == "head" else revision
    with engines.read.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == target:
        return
    if current is not None and current not in {s.revision for s in script.walk_revisions()}:
        raise StoreError(
            f"{engines.url}: schema revision {current!r} is newer than this GazeScope "
            f"(knows up to {target!r}); upgrade GazeScope"
        )
    # the write lock: one process migrates at a time
    with engines.write_lock(), engines.write.begin() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        if current == target:
            return
        logger.info("upgrading %s from %s to %s", engines.url, current or "empty", target)
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
