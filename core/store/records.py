"""Plain records the store hands out: frozen dataclasses, never ORM objects or sessions.

Readers are named by ``username`` and cases by their image ``sha256`` in every record, so the
app never needs a database id except for predictions, sentences, reviews and assignments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
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
    "StudyData",
    "StudyProgress",
    "StudyRecord",
    "TuringStimulus",
]


@dataclass(frozen=True)
class Reader:
    id: int
    username: str
    role: str
    years_experience: float | None
    created_at: datetime


@dataclass(frozen=True)
class Case:
    id: int
    sha256: str  # of the image file's bytes: the only key of a case
    source: str
    licence: str
    display_name: str
    created_at: datetime


@dataclass(frozen=True)
class ModelInfo:
    role: str
    name: str
    version: str
    weights_sha256: str | None
    training_data: str


@dataclass(frozen=True)
class FindingRecord:
    finding: str
    probability: float
    band: str


@dataclass(frozen=True)
class SentenceRecord:
    id: int  # database id: what add_review takes as sentence_id
    key: str  # the ReadingResult's sentence id ("s0", "s1", ...)
    position: int
    text: str
    finding: str | None
    probability: float | None
    region_ids: tuple[str, ...]


@dataclass(frozen=True)
class PredictionRecord:
    id: int
    case_sha256: str
    app_version: str
    seed: int
    created_at: datetime
    models: tuple[ModelInfo, ...]
    findings: tuple[FindingRecord, ...]
    sentences: tuple[SentenceRecord, ...]
    # the stored ReadingResult.to_dict() (image.source_name removed), to render it again
    result: dict[str, Any] = field(compare=False, repr=False)


@dataclass(frozen=True)
class Review:
    id: int
    username: str
    prediction_id: int
    sentence_id: int
    action: str  # accept, edit, reject
    edited_text: str | None
    error_category: str | None
    significance: str | None
    client_request_id: str
    supersedes_id: int | None
    assignment_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Rating:
    id: int
    username: str
    case_sha256: str
    usefulness: int
    trust: int
    scanpath_humanlike: int
    client_request_id: str
    assignment_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Event:
    id: int
    username: str
    case_sha256: str
    kind: str
    payload: dict[str, Any]
    assignment_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class ArmView:
    """What a reader in an arm is shown: the app hides everything else.

    ``overlays`` names the AI aids the viewer may show: ``"scanpath"``, ``"attention"``,
    ``"findings"``, ``"report"`` (the draft sentences to accept/edit/reject), ``"regions"``.
    A Turing arm (``kind == "turing"``) shows one scanpath (``TuringStimulus``) without saying
    whose it is, and asks "model or human?".
    """

    name: str
    kind: str  # "reading" or "turing"
    overlays: tuple[str, ...]

    def shows(self, overlay: str) -> bool:
        return overlay in self.overlays


@dataclass(frozen=True)
class StudyRecord:
    id: int
    name: str
    description: str
    seed: int
    design: str
    arms: tuple[ArmView, ...]
    case_sha256s: tuple[str, ...]
    readers: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class AssignmentRecord:
    """One item of a reader's worklist in a study, blinded: no Turing source, no other reader."""

    id: int
    study_id: int
    username: str
    case_sha256: str
    position: int  # 0-based place in the reader's own order
    total: int  # items assigned to the reader
    arm: ArmView
    prediction_id: int | None  # the prediction to show and review (None: none stored yet)
    completed: bool


@dataclass(frozen=True)
class TuringStimulus:
    """The scanpath a Turing-arm item shows; whose it is stays in the database."""

    assignment_id: int
    fixations: tuple[dict[str, float], ...]  # [{x, y, start_s, duration_s}], normalised


@dataclass(frozen=True)
class ReaderProgress:
    username: str
    done: int
    total: int


@dataclass(frozen=True)
class StudyProgress:
    study_id: int
    name: str
    readers: tuple[ReaderProgress, ...]

    @property
    def done(self) -> int:
        return sum(r.done for r in self.readers)

    @property
    def total(self) -> int:
        return sum(r.total for r in self.readers)


@dataclass(frozen=True)
class StudyData:
    """Everything a study's analysis reads, as plain tuples (see ``core.store.analysis``).

    Reviews are each reader's current (latest) review per assignment and sentence; times are
    the summed ``time_on_case`` seconds per assignment; ratings the latest per assignment.
    """

    study: StudyRecord
    progress: StudyProgress
    # (reader, assignment_id, arm, case_sha256, sentence_id, finding|None, regions, action,
    #  error_category|None, significance|None)
    reviews: tuple[tuple[Any, ...], ...]
    times: tuple[tuple[str, int, str, str, float], ...]  # reader, assignment, arm, case, seconds
    # reader, assignment, case, shown ("model"|"human"), answer, confidence|None, synthetic|None
    turing: tuple[tuple[Any, ...], ...]
    # reader, assignment, arm, case, usefulness, trust, scanpath_humanlike
    ratings: tuple[tuple[Any, ...], ...]
