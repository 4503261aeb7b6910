"""The database schema: SQLAlchemy 2.x declarative tables with typed ``Mapped[...]`` columns.

Changes to this module need an Alembic revision in ``core/store/migrations/versions`` (a test
compares the two). Keys are surrogate integers; a case is identified by the SHA-256 of its image
bytes and nothing else about the patient is stored. Reviews, ratings, events, Turing answers
and assignment completions are append-only: the migrations install triggers that refuse
``UPDATE`` and ``DELETE`` on them, and a changed review is a new row whose ``supersedes_id``
points at the one it replaces.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "APPEND_ONLY_TABLES",
    "Arm",
    "Assignment",
    "AssignmentCompletion",
    "Base",
    "CaseRow",
    "EventRow",
    "PredictionFinding",
    "PredictionModel",
    "PredictionRow",
    "PredictionScanpath",
    "PredictionSentence",
    "RatingRow",
    "ReaderRow",
    "ReferenceScanpath",
    "ReviewRow",
    "SentenceRegion",
    "Study",
    "StudyCase",
    "StudyReader",
    "TuringAnswer",
    "utcnow",
]

# Tables whose rows are never updated or deleted (enforced by triggers, see the migrations).
APPEND_ONLY_TABLES: tuple[str, ...] = (
    "reviews",
    "ratings",
    "events",
    "turing_answers",
    "assignment_completions",
)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps in UTC, timezone-aware in Python on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UTCDateTime}


class ReaderRow(Base):
    __tablename__ = "readers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    years_experience: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseRow(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)  # of the image file's bytes
    source: Mapped[str] = mapped_column(String(200))  # e.g. "NIH ChestX-ray14 sample"
    licence: Mapped[str] = mapped_column(String(200), default="")
    display_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PredictionRow(Base):
    """One model run on one case: what the app showed, with the versions that produced it."""

    __tablename__ = "predictions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    app_version: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(Integer)
    schema_version: Mapped[int] = mapped_column(Integer)
    image_width: Mapped[int] = mapped_column(Integer)
    image_height: Mapped[int] = mapped_column(Integer)
    modality: Mapped[str] = mapped_column(String(16), default="")
    view: Mapped[str] = mapped_column(String(16), default="")
    timings_ms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # ReadingResult.to_dict() without image.source_name (file names can carry identifiers)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PredictionModel(Base):
    __tablename__ = "prediction_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prediction_id: Mapped[int] = mapped_column(ForeignKey("predictions.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))  # anatomy, scanpath, classifier, report
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(64))
    weights_sha256: Mapped[str | None] = mapped_column(String(64))
    training_data: Mapped[str] = mapped_column(Text, default="")


class PredictionFinding(Base):
    __tablename__ = "prediction_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prediction_id: Mapped[int] = mapped_column(ForeignKey("predictions.id"), index=True)
    finding: Mapped[str] = mapped_column(String(64))  # vocabulary id
    probability: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(32))


class PredictionScanpath(Base):
    __tablename__ = "prediction_scanpaths"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prediction_id: Mapped[int] = mapped_column(ForeignKey("predictions.id"), index=True)
    sample: Mapped[int] = mapped_column(Integer)
    fixations: Mapped[list[Any]] = mapped_column(JSON)  # [{x, y, start_s, duration_s}, ...]


class PredictionSentence(Base):
    __tablename__ = "prediction_sentences"
    __table_args__ = (UniqueConstraint("prediction_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prediction_id: Mapped[int] = mapped_column(ForeignKey("predictions.id"), index=True)
    key: Mapped[str] = mapped_column(String(32))  # the result's sentence id, "s0", "s1", ...
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    finding: Mapped[str | None] = mapped_column(String(64))
    probability: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SentenceRegion(Base):
    __tablename__ = "sentence_regions"
    __table_args__ = (UniqueConstraint("sentence_id", "region_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sentence_id: Mapped[int] = mapped_column(ForeignKey("prediction_sentences.id"), index=True)
    region_id: Mapped[str] = mapped_column(String(64))


class ReviewRow(Base):
    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_reader_sentence", "reader_id", "sentence_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"))
    prediction_id: Mapped[int] = mapped_column(ForeignKey("predictions.id"), index=True)
    sentence_id: Mapped[int] = mapped_column(ForeignKey("prediction_sentences.id"))
    action: Mapped[str] = mapped_column(String(16))  # accept, edit, reject
    edited_text: Mapped[str | None] = mapped_column(Text)
    error_category: Mapped[str | None] = mapped_column(String(32))
    significance: Mapped[str | None] = mapped_column(String(16))
    # a retried request carries the same id and writes nothing
    client_request_id: Mapped[str] = mapped_column(String(128), unique=True)
    # the review this one replaces (same reader, same sentence); unique: a chain never forks
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"), unique=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RatingRow(Base):
    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    usefulness: Mapped[int] = mapped_column(Integer)  # Likert 1-5
    trust: Mapped[int] = mapped_column(Integer)  # Likert 1-5
    scanpath_humanlike: Mapped[int] = mapped_column(Integer)  # Likert 1-5
    client_request_id: Mapped[str] = mapped_column(String(128), unique=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventRow(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))  # e.g. "time_on_case", "overlay"
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Study(Base):
    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    seed: Mapped[int] = mapped_column(Integer)
    design: Mapped[str] = mapped_column(String(16))  # "crossover" or "split"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StudyCase(Base):
    __tablename__ = "study_cases"
    __table_args__ = (UniqueConstraint("study_id", "case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    position: Mapped[int] = mapped_column(Integer)
    # the prediction every reader of the study reviews (None: the latest when assigned)
    prediction_id: Mapped[int | None] = mapped_column(ForeignKey("predictions.id"))


class Arm(Base):
    __tablename__ = "arms"
    __table_args__ = (UniqueConstraint("study_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # "reading" or "turing"
    overlays: Mapped[list[Any]] = mapped_column(JSON)  # what the reader sees, see study.py


class StudyReader(Base):
    __tablename__ = "study_readers"
    __table_args__ = (UniqueConstraint("study_id", "reader_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"))
    position: Mapped[int] = mapped_column(Integer)  # order added; balances the split design
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReferenceScanpath(Base):
    """A human scanpath shown in a Turing-test arm (``synthetic``: from a simulated reader)."""

    __tablename__ = "reference_scanpaths"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    source: Mapped[str] = mapped_column(String(200))  # e.g. "synthetic reader R2 (simulated)"
    synthetic: Mapped[bool] = mapped_column(default=True)
    fixations: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("study_id", "reader_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("readers.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    arm_id: Mapped[int] = mapped_column(ForeignKey("arms.id"))
    position: Mapped[int] = mapped_column(Integer)  # the reader's seeded, shuffled order
    # Turing arm only: which scanpath is shown ("model" or "human"); never shown to the reader
    turing_source: Mapped[str | None] = mapped_column(String(8))
    reference_scanpath_id: Mapped[int | None] = mapped_column(ForeignKey("reference_scanpaths.id"))


class AssignmentCompletion(Base):
    __tablename__ = "assignment_completions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), unique=True)
    client_request_id: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TuringAnswer(Base):
    __tablename__ = "turing_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), unique=True)
    answer: Mapped[str] = mapped_column(String(8))  # "model" or "human"
    confidence: Mapped[int | None] = mapped_column(Integer)  # Likert 1-5, optional
    client_request_id: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
