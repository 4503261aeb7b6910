"""The store of clinician reviews: SQLAlchemy schema, Alembic migrations, repository functions.

``open_store(url=None)`` returns a :class:`Store` whose methods take and return plain records
(frozen dataclasses); callers never see a session. The URL comes from ``GAZESCOPE_DB``
(default ``sqlite:///<cwd>/gazescope.sqlite``); PostgreSQL works by changing it. Reviews,
ratings, events, Turing answers and assignment completions are append-only. Cases are keyed by
the SHA-256 of the image bytes; no patient identifier is stored.

Layer: beside ``eval``; imports vocabulary, errors, io, anatomy and report types only.
"""

from core.store.db import DB_ENV, database_url
from core.store.errors import StoreAccessError, StoreError, StoreInputError
from core.store.records import (
    ArmView,
    AssignmentRecord,
    Case,
    Event,
    FindingRecord,
    ModelInfo,
    PredictionRecord,
    Rating,
    Reader,
    ReaderProgress,
    Review,
    SentenceRecord,
    StudyProgress,
    StudyRecord,
    TuringStimulus,
)
from core.store.store import Store, open_store
from core.store.study import DEFAULT_ARMS, OVERLAYS
from core.store.validate import ACTIONS, ERROR_CATEGORIES, ROLES, SIGNIFICANCE

__all__ = [
    "ACTIONS",
    "DEFAULT_ARMS",
    "DB_ENV",
    "ERROR_CATEGORIES",
    "OVERLAYS",
    "ROLES",
    "SIGNIFICANCE",
    "ArmView",
    "AssignmentRecord",
    "Case",
    "Event",
    "FindingRecord",
    "ModelInfo",
    "PredictionRecord",
    "Rating",
    "Reader",
    "ReaderProgress",
    "Review",
    "SentenceRecord",
    "Store",
    "StoreAccessError",
    "StoreError",
    "StoreInputError",
    "StudyProgress",
    "StudyRecord",
    "TuringStimulus",
    "database_url",
    "open_store",
]
