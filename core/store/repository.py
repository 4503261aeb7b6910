"""Repository functions for readers, cases, predictions, reviews, ratings and events.

Every method is one unit of work in its own short-lived ``Session`` and takes and returns plain
records (``core.store.records``). Input is validated before the transaction writes anything;
a refused request raises ``StoreInputError`` and leaves the database as it was.
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.report.sentence import SENTENCE_REGION_IDS
from core.store import validate as v
from core.store._base import StoreBase, case_row, reader_row
from core.store.errors import StoreAccessError, StoreInputError
from core.store.records import (
    Case,
    Event,
    FindingRecord,
    ModelInfo,
    PredictionRecord,
    Rating,
    Reader,
    Review,
    SentenceRecord,
)
from core.store.schema import (
    Arm,
    Assignment,
    AssignmentCompletion,
    CaseRow,
    EventRow,
    PredictionFinding,
    PredictionModel,
    PredictionRow,
    PredictionScanpath,
    PredictionSentence,
    RatingRow,
    ReaderRow,
    ReviewRow,
    SentenceRegion,
    utcnow,
)
from core.vocabulary import FINDING_IDS

logger = logging.getLogger(__name__)

__all__ = ["ReviewRepository"]

RESULT_SCHEMA_VERSION = 1
MAX_RESULT_BYTES = 32 * 1024 * 1024  # a ReadingResult with attention maps is well under this
MAX_SAMPLES = 64
MAX_FIXATIONS = 2000
MODEL_ROLES = ("anatomy", "scanpath", "classifier", "segmenter", "report")


class ReviewRepository(StoreBase):
    # --- readers and cases -------------------------------------------------------------------

    def ensure_reader(
        self, username: str, *, role: str = "reader", years_experience: float | None = None
    ) -> Reader:
        """The reader called ``username``, created on first sign-in.

        ``role`` and ``years_experience`` are recorded when the reader is created; an existing
        reader is returned unchanged (a later sign-in with another role does not rewrite it).
        """
        v.username(username)
        v.choice(role, "role", v.ROLES)
        if years_experience is not None:
            years_experience = v.number(years_experience, "years_experience", lo=0, hi=70)
        with self._write() as session:
            row = session.scalar(select(ReaderRow).where(ReaderRow.username == username))
            if row is None:
                row = ReaderRow(username=username, role=role, years_experience=years_experience)
                session.add(row)
                session.flush()
            return _reader(row)

    def ensure_case(
        self, sha256: str, *, source: str, licence: str = "", display_name: str = ""
    ) -> Case:
        """The case whose image bytes hash to ``sha256``, created on first sight.

        ``source`` (e.g. "NIH ChestX-ray14 sample"), ``licence`` and ``display_name`` must not
        hold patient identifiers: the app passes the dataset's name and an anonymous label,
        never a DICOM header value. An existing case is returned unchanged.
        """
        v.sha256(sha256)
        v.text(source, "source", max_len=v.MAX_LABEL)
        v.text(licence, "licence", max_len=v.MAX_LABEL, empty=True)
        v.text(display_name, "display_name", max_len=v.MAX_LABEL, empty=True)
        with self._write() as session:
            row = session.scalar(select(CaseRow).where(CaseRow.sha256 == sha256))
            if row is None:
                row = CaseRow(
                    sha256=sha256, source=source, licence=licence, display_name=display_name
                )
                session.add(row)
                session.flush()
            return _case(row)

    def get_case(self, sha256: str) -> Case | None:
        v.sha256(sha256)
        with self._read() as session:
            row = session.scalar(select(CaseRow).where(CaseRow.sha256 == sha256))
            return None if row is None else _case(row)

    def list_cases(self) -> list[Case]:
        """Every case, oldest first (the app's worklist)."""
        with self._read() as session:
            return [_case(r) for r in session.scalars(select(CaseRow).order_by(CaseRow.id))]

    # --- predictions -------------------------------------------------------------------------

    def save_prediction(
        self, case_sha256: str, result: dict[str, Any], *, app_version: str, seed: int
    ) -> PredictionRecord:
        """Store one ``ReadingResult.to_dict()`` for a known case; returns it with database ids.

        Stores the model run (names, versions, weight hashes, seed, app version), findings,
        scanpaths and sentences with their region links, plus the whole result for re-display.
        ``image.source_name`` is dropped: a file name may carry a patient identifier. The
        result's ``image.sha256`` must be the case's.
        """
        v.sha256(case_sha256)
        v.text(app_version, "app_version", max_len=64)
        v.integer(seed, "seed", lo=-(2**63), hi=2**63 - 1)
        clean = _checked_result(result, case_sha256)
        with self._write() as session:
            case = case_row(session, case_sha256)
            image = clean["image"]
            pred = PredictionRow(
                case_id=case.id,
                app_version=app_version,
                seed=seed,
                schema_version=clean["schema_version"],
                image_width=image["width"],
                image_height=image["height"],
                modality=image.get("modality") or "",
                view=image.get("view") or "",
                timings_ms=clean.get("timings_ms") or {},
                result=clean,
            )
            session.add(pred)
            session.flush()
            for m in clean.get("models", []):
                session.add(
                    PredictionModel(
                        prediction_id=pred.id,
                        role=m["role"],
                        name=m["name"],
                        version=m["version"],
                        weights_sha256=m.get("weights_sha256"),
                        training_data=m.get("training_data") or "",
                    )
                )
            for f in clean["findings"]:
                session.add(
                    PredictionFinding(
                        prediction_id=pred.id,
                        finding=f["finding"],
                        probability=f["probability"],
                        band=f.get("band") or "",
                    )
                )
            for i, path in enumerate(clean["scanpaths"]):
                session.add(PredictionScanpath(prediction_id=pred.id, sample=i, fixations=path))
            for pos, s in enumerate(clean["sentences"]):
                row = PredictionSentence(
                    prediction_id=pred.id,
                    key=s["id"],
                    position=pos,
                    text=s["text"],
                    finding=s.get("finding"),
                    probability=s.get("probability"),
                    evidence=s.get("evidence") or {},
                )
                session.add(row)
                session.flush()
                for region in dict.fromkeys(s.get("region_ids", [])):
                    session.add(SentenceRegion(sentence_id=row.id, region_id=region))
            session.flush()
            return _prediction(session, pred, case.sha256)

    def latest_prediction(self, case_sha256: str) -> PredictionRecord | None:
        """The newest prediction stored for the case, or None."""
        v.sha256(case_sha256)
        with self._read() as session:
            case = case_row(session, case_sha256)
            pred = session.scalar(
                select(PredictionRow)
                .where(PredictionRow.case_id == case.id)
                .order_by(PredictionRow.id.desc())
                .limit(1)
            )
            return None if pred is None else _prediction(session, pred, case.sha256)

    def get_prediction(self, prediction_id: int) -> PredictionRecord:
        v.integer(prediction_id, "prediction_id", lo=1)
        with self._read() as session:
            pred = session.get(PredictionRow, prediction_id)
            if pred is None:
                raise StoreInputError(f"unknown prediction {prediction_id}")
            sha = session.scalar(select(CaseRow.sha256).where(CaseRow.id == pred.case_id))
            assert sha is not None
            return _prediction(session, pred, sha)

    # --- reviews -----------------------------------------------------------------------------

    def add_review(
        self,
        username: str,
        prediction_id: int,
        sentence_id: int,
        *,
        action: str,
        edited_text: str | None = None,
        error_category: str | None = None,
        significance: str | None = None,
        client_request_id: str,
        assignment_id: int | None = None,
    ) -> Review:
        """Append the reader's verdict on one sentence; a later one supersedes the earlier.

        ``action`` "edit" needs ``edited_text``; "accept" takes no error category. The same
        ``client_request_id`` again returns the first row and writes nothing. In a study pass
        ``assignment_id`` (the reader's own assignment on this case, in an arm that shows the
        report).
        """
        v.username(username)
        v.integer(prediction_id, "prediction_id", lo=1)
        v.integer(sentence_id, "sentence_id", lo=1)
        v.choice(action, "action", v.ACTIONS)
        if action == "edit":
            v.text(edited_text, "edited_text")
        elif edited_text is not None:
            raise StoreInputError(f"edited_text is only for action 'edit', not {action!r}")
        v.optional_choice(error_category, "error_category", v.ERROR_CATEGORIES)
        v.optional_choice(significance, "significance", v.SIGNIFICANCE)
        if action == "accept" and (error_category is not None or significance is not None):
            raise StoreInputError("an accepted sentence takes no error category or significance")
        if assignment_id is not None:
            v.integer(assignment_id, "assignment_id", lo=1)

        # Checks outside the write lock, read from a snapshot: the rows they read never change
        # (readers, sentences, assignments are immutable), and what was checked once is cached.
        v.request_id(client_request_id)
        reader_id = self._reader_ids.get(username)
        if (
            reader_id is None
            or self._sentence_owner.get(sentence_id) != prediction_id
            or assignment_id is not None
        ):
            with self._read() as session:
                reader_id = self._reader_id(session, username)
                _check_sentence(session, prediction_id, sentence_id)
                self._sentence_owner[sentence_id] = prediction_id
                if assignment_id is not None:
                    _check_assignment(session, assignment_id, reader_id, prediction_id, "report")
        values = dict(
            reader_id=reader_id,
            prediction_id=prediction_id,
            sentence_id=sentence_id,
            action=action,
            edited_text=edited_text,
            error_category=error_category,
            significance=significance,
            client_request_id=client_request_id,
            assignment_id=assignment_id,
            created_at=utcnow(),
        )
        for attempt in (0, 1):
            try:
                with self._write_conn() as conn:  # one INSERT under the lock
                    new_id, supersedes = conn.execute(_INSERT_REVIEW, values).one()
                return Review(
                    id=new_id,
                    username=username,
                    prediction_id=prediction_id,
                    sentence_id=sentence_id,
                    action=action,
                    edited_text=edited_text,
                    error_category=error_category,
                    significance=significance,
                    client_request_id=client_request_id,
                    supersedes_id=supersedes,
                    assignment_id=assignment_id,
                    created_at=values["created_at"],
                )
            except IntegrityError:
                # the request id is stored already (a retried request: the unique constraint
                # refused the copy), or (PostgreSQL) another writer superseded the same review
                # first: return the stored row, else compute the chain again
                with self._read() as session:
                    stored = _stored_review(session, client_request_id, reader_id, username)
                if stored is not None:
                    return stored
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def current_reviews(self, username: str, prediction_id: int) -> dict[int, Review]:
        """The reader's latest review of each sentence of the prediction, by sentence id.

        Only this reader's rows are read: a reader never sees another reader's answers.
        """
        v.integer(prediction_id, "prediction_id", lo=1)
        with self._read() as session:
            reader = reader_row(session, username)
            rows = session.scalars(
                select(ReviewRow)
                .where(ReviewRow.reader_id == reader.id, ReviewRow.prediction_id == prediction_id)
                .order_by(ReviewRow.id)
            )
            return {row.sentence_id: _review(row, username) for row in rows}

    def review_history(self, username: str, prediction_id: int) -> list[Review]:
        """Every review the reader wrote on the prediction, oldest first (the audit trail)."""
        v.integer(prediction_id, "prediction_id", lo=1)
        with self._read() as session:
            reader = reader_row(session, username)
            rows = session.scalars(
                select(ReviewRow)
                .where(ReviewRow.reader_id == reader.id, ReviewRow.prediction_id == prediction_id)
                .order_by(ReviewRow.id)
            )
            return [_review(row, username) for row in rows]

    # --- ratings and events ------------------------------------------------------------------

    def add_rating(
        self,
        username: str,
        case_sha256: str,
        *,
        usefulness: int,
        trust: int,
        scanpath_humanlike: int,
        client_request_id: str,
        assignment_id: int | None = None,
    ) -> Rating:
        """Append the reader's Likert ratings (1-5) of what they saw on the case."""
        v.username(username)
        v.sha256(case_sha256)
        scores = {
            "usefulness": v.likert(usefulness, "usefulness"),
            "trust": v.likert(trust, "trust"),
            "scanpath_humanlike": v.likert(scanpath_humanlike, "scanpath_humanlike"),
        }
        if assignment_id is not None:
            v.integer(assignment_id, "assignment_id", lo=1)

        def find(session: Session) -> tuple[int, Rating] | None:
            row = session.scalar(
                select(RatingRow).where(RatingRow.client_request_id == client_request_id)
            )
            return None if row is None else (row.reader_id, _rating(row, username, case_sha256))

        def write(session: Session) -> Rating:
            reader = reader_row(session, username)
            case = case_row(session, case_sha256)
            if assignment_id is not None:
                _check_assignment_case(session, assignment_id, reader.id, case.id)
            row = RatingRow(
                reader_id=reader.id,
                case_id=case.id,
                client_request_id=client_request_id,
                assignment_id=assignment_id,
                **scores,
            )
            session.add(row)
            session.flush()
            return _rating(row, username, case_sha256)

        return self._idempotent(
            client_request_id, find, write, lambda s: reader_row(s, username).id
        )

    def add_event(
        self,
        username: str,
        case_sha256: str,
        kind: str,
        payload: dict[str, Any],
        *,
        assignment_id: int | None = None,
    ) -> Event:
        """Append an interaction event (``kind`` e.g. "time_on_case" with ``{"seconds": s}``,
        "overlay" with ``{"name": ..., "on": bool}``); ``payload`` is a small JSON object."""
        v.username(username)
        v.sha256(case_sha256)
        v.identifier(kind, "kind")
        clean = v.json_payload(payload, "payload")
        if kind == "time_on_case":
            v.number(clean.get("seconds"), "payload.seconds", lo=0, hi=86_400)
        if assignment_id is not None:
            v.integer(assignment_id, "assignment_id", lo=1)
        with self._write() as session:
            reader = reader_row(session, username)
            case = case_row(session, case_sha256)
            if assignment_id is not None:
                _check_assignment_case(session, assignment_id, reader.id, case.id)
            row = EventRow(
                reader_id=reader.id,
                case_id=case.id,
                kind=kind,
                payload=clean,
                assignment_id=assignment_id,
            )
            session.add(row)
            session.flush()
            return Event(row.id, username, case_sha256, kind, clean, assignment_id, row.created_at)

    # --- worklist ----------------------------------------------------------------------------

    def case_status(self, username: str) -> dict[str, str]:
        """For every case: "unread", "in_progress" or "reviewed" for this reader.

        "reviewed": the reader reviewed every sentence of the case's latest prediction (or
        completed a study assignment on it); "in_progress": anything short of that (a review,
        rating or event); "unread": nothing yet.
        """
        with self._read() as session:
            reader = reader_row(session, username)
            cases = dict(session.execute(select(CaseRow.id, CaseRow.sha256)).all())
            touched: set[int] = set()
            for table in (RatingRow, EventRow):
                touched |= set(
                    session.scalars(select(table.case_id).where(table.reader_id == reader.id))
                )
            latest = (
                select(PredictionRow.case_id, func.max(PredictionRow.id).label("pid"))
                .group_by(PredictionRow.case_id)
                .subquery()
            )
            n_sentences = dict(
                session.execute(
                    select(latest.c.case_id, func.count(PredictionSentence.id))
                    .join(PredictionSentence, PredictionSentence.prediction_id == latest.c.pid)
                    .group_by(latest.c.case_id)
                ).all()
            )
            n_reviewed = dict(
                session.execute(
                    select(latest.c.case_id, func.count(func.distinct(ReviewRow.sentence_id)))
                    .join(ReviewRow, ReviewRow.prediction_id == latest.c.pid)
                    .where(ReviewRow.reader_id == reader.id)
                    .group_by(latest.c.case_id)
                ).all()
            )
            any_review = set(
                session.scalars(
                    select(PredictionRow.case_id)
                    .join(ReviewRow, ReviewRow.prediction_id == PredictionRow.id)
                    .where(ReviewRow.reader_id == reader.id)
                )
            )
            completed = set(
                session.scalars(
                    select(Assignment.case_id)
                    .join(AssignmentCompletion, AssignmentCompletion.assignment_id == Assignment.id)
                    .where(Assignment.reader_id == reader.id)
                )
            )
            status = {}
            for case_id, sha in cases.items():
                total = n_sentences.get(case_id, 0)
                if case_id in completed or (total and n_reviewed.get(case_id, 0) >= total):
                    status[sha] = "reviewed"
                elif case_id in touched or case_id in any_review:
                    status[sha] = "in_progress"
                else:
                    status[sha] = "unread"
            return status


def _insert_review_statement() -> Any:
    """INSERT of a review whose ``supersedes_id`` is computed in the same statement, under the
    write lock, as the reader's latest review of the sentence; built once (a hot path)."""
    t = ReviewRow.__table__
    latest = (
        select(t.c.id)
        .where(t.c.reader_id == bindparam("reader_id"), t.c.sentence_id == bindparam("sentence_id"))
        .order_by(t.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    columns = (
        "reader_id",
        "prediction_id",
        "sentence_id",
        "action",
        "edited_text",
        "error_category",
        "significance",
        "client_request_id",
        "assignment_id",
        "created_at",
    )
    return (
        insert(t)
        .values({c: bindparam(c) for c in columns} | {"supersedes_id": latest})
        .returning(t.c.id, t.c.supersedes_id)
    )


_INSERT_REVIEW = _insert_review_statement()


# --- checks --------------------------------------------------------------------------------


def _check_sentence(session: Session, prediction_id: int, sentence_id: int) -> None:
    owner = session.scalar(
        select(PredictionSentence.prediction_id).where(PredictionSentence.id == sentence_id)
    )
    if owner == prediction_id:
        return
    if session.get(PredictionRow, prediction_id) is None:
        raise StoreInputError(f"unknown prediction {prediction_id}")
    raise StoreInputError(f"sentence {sentence_id} is not a sentence of prediction {prediction_id}")


def _stored_review(
    session: Session, request_id: str, reader_id: int, username: str
) -> Review | None:
    """The review already stored under ``request_id`` (a retried request), if any."""
    table = ReviewRow.__table__  # a Core row: no ORM identity map on this hot path
    row = session.execute(select(table).where(table.c.client_request_id == request_id)).first()
    if row is None:
        return None
    if row.reader_id != reader_id:
        raise StoreAccessError(
            f"client_request_id {request_id!r} belongs to another reader's request"
        )
    return _review(row, username)


def _check_assignment(
    session: Session, assignment_id: int, reader_id: int, prediction_id: int, overlay: str
) -> Assignment:
    pred = session.get(PredictionRow, prediction_id)
    assert pred is not None
    a = _check_assignment_case(session, assignment_id, reader_id, pred.case_id)
    arm = session.get(Arm, a.arm_id)
    assert arm is not None
    if overlay not in arm.overlays:
        raise StoreInputError(f"arm {arm.name!r} of assignment {assignment_id} hides the {overlay}")
    return a


def _check_assignment_case(
    session: Session, assignment_id: int, reader_id: int, case_id: int
) -> Assignment:
    a = session.get(Assignment, assignment_id)
    if a is None:
        raise StoreInputError(f"unknown assignment {assignment_id}")
    if a.reader_id != reader_id:
        raise StoreAccessError(f"assignment {assignment_id} belongs to another reader")
    if a.case_id != case_id:
        raise StoreInputError(f"assignment {assignment_id} is for another case")
    return a


def _checked_result(result: object, case_sha256: str) -> dict[str, Any]:
    """A deep, JSON-clean copy of a ``ReadingResult.to_dict()``; raises on anything malformed."""
    result = v.mapping(result, "result")
    try:
        encoded = json.dumps(result, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise StoreInputError(f"result is not JSON-safe: {err}") from err
    if len(encoded) > MAX_RESULT_BYTES:
        raise StoreInputError(f"result is {len(encoded)} bytes; the limit is {MAX_RESULT_BYTES}")
    clean: dict[str, Any] = json.loads(encoded)
    if clean.get("schema_version") != RESULT_SCHEMA_VERSION:
        raise StoreInputError(
            f"result.schema_version must be {RESULT_SCHEMA_VERSION}, "
            f"got {clean.get('schema_version')!r}"
        )
    image = v.mapping(clean.get("image"), "result.image")
    if image.get("sha256") != case_sha256:
        raise StoreInputError("result.image.sha256 is not the case's SHA-256")
    v.integer(image.get("width"), "result.image.width", lo=1, hi=100_000)
    v.integer(image.get("height"), "result.image.height", lo=1, hi=100_000)
    for key in ("modality", "view"):
        if image.get(key) is not None:
            v.text(image[key], f"result.image.{key}", max_len=16, empty=True)
    image.pop("source_name", None)  # may carry an identifier; the case is keyed by sha256
    for f in v.sequence(clean.get("findings", []), "result.findings"):
        f = v.mapping(f, "result.findings[]")
        v.choice(f.get("finding"), "result.findings[].finding", FINDING_IDS)
        v.number(f.get("probability"), "result.findings[].probability", lo=0, hi=1)
        if f.get("band") is not None:
            v.text(f["band"], "result.findings[].band", max_len=32)
    paths = v.sequence(clean.get("scanpaths", []), "result.scanpaths")
    if len(paths) > MAX_SAMPLES:
        raise StoreInputError(f"result has {len(paths)} scanpaths; the limit is {MAX_SAMPLES}")
    for path in paths:
        if len(v.sequence(path, "result.scanpaths[]")) > MAX_FIXATIONS:
            raise StoreInputError(f"a scanpath has over {MAX_FIXATIONS} fixations")
        for fx in path:
            fx = v.mapping(fx, "result.scanpaths[][]")
            for key in ("x", "y", "start_s", "duration_s"):
                v.number(fx.get(key), f"fixation.{key}", lo=-1e6, hi=1e6)
    keys = set()
    for s in v.sequence(clean.get("sentences", []), "result.sentences"):
        s = v.mapping(s, "result.sentences[]")
        key = v.text(s.get("id"), "result.sentences[].id", max_len=32)
        if key in keys:
            raise StoreInputError(f"result.sentences has the id {key!r} twice")
        keys.add(key)
        v.text(s.get("text"), f"sentence {key} text")
        for region in v.sequence(s.get("region_ids", []), f"sentence {key} region_ids"):
            v.choice(region, f"sentence {key} region", SENTENCE_REGION_IDS)
        if s.get("finding") is not None:
            v.choice(s["finding"], f"sentence {key} finding", FINDING_IDS)
        if s.get("probability") is not None:
            v.number(s["probability"], f"sentence {key} probability", lo=0, hi=1)
        if s.get("evidence") is not None:
            v.mapping(s["evidence"], f"sentence {key} evidence")
    for m in v.sequence(clean.get("models", []), "result.models"):
        m = v.mapping(m, "result.models[]")
        v.choice(m.get("role"), "result.models[].role", MODEL_ROLES)
        v.text(m.get("name"), "result.models[].name", max_len=128)
        v.text(str(m.get("version", "")), "result.models[].version", max_len=64, empty=True)
        m["version"] = str(m.get("version", ""))
        if m.get("weights_sha256") is not None:
            v.sha256(m["weights_sha256"])
        if m.get("training_data") is not None:
            v.text(m["training_data"], "result.models[].training_data", max_len=2000, empty=True)
    if clean.get("timings_ms") is not None:
        v.mapping(clean["timings_ms"], "result.timings_ms")
    return copy.deepcopy(clean)


# --- row -> record -------------------------------------------------------------------------


def _reader(row: ReaderRow) -> Reader:
    return Reader(row.id, row.username, row.role, row.years_experience, row.created_at)


def _case(row: CaseRow) -> Case:
    return Case(row.id, row.sha256, row.source, row.licence, row.display_name, row.created_at)


def _review(row: Any, username: str) -> Review:
    """From an ORM ``ReviewRow`` or a Core row of the reviews table."""
    return Review(
        id=row.id,
        username=username,
        prediction_id=row.prediction_id,
        sentence_id=row.sentence_id,
        action=row.action,
        edited_text=row.edited_text,
        error_category=row.error_category,
        significance=row.significance,
        client_request_id=row.client_request_id,
        supersedes_id=row.supersedes_id,
        assignment_id=row.assignment_id,
        created_at=row.created_at,
    )


def _rating(row: RatingRow, username: str, case_sha256: str) -> Rating:
    return Rating(
        id=row.id,
        username=username,
        case_sha256=case_sha256,
        usefulness=row.usefulness,
        trust=row.trust,
        scanpath_humanlike=row.scanpath_humanlike,
        client_request_id=row.client_request_id,
        assignment_id=row.assignment_id,
        created_at=row.created_at,
    )


def _prediction(session: Session, pred: PredictionRow, case_sha256: str) -> PredictionRecord:
    models = session.scalars(
        select(PredictionModel)
        .where(PredictionModel.prediction_id == pred.id)
        .order_by(PredictionModel.id)
    )
    findings = session.scalars(
        select(PredictionFinding)
        .where(PredictionFinding.prediction_id == pred.id)
        .order_by(PredictionFinding.id)
    )
    sentences = list(
        session.scalars(
            select(PredictionSentence)
            .where(PredictionSentence.prediction_id == pred.id)
            .order_by(PredictionSentence.position)
        )
    )
    regions: dict[int, list[str]] = {s.id: [] for s in sentences}
    for sid, region in session.execute(
        select(SentenceRegion.sentence_id, SentenceRegion.region_id)
        .where(SentenceRegion.sentence_id.in_(list(regions)))
        .order_by(SentenceRegion.id)
    ):
        regions[sid].append(region)
    return PredictionRecord(
        id=pred.id,
        case_sha256=case_sha256,
        app_version=pred.app_version,
        seed=pred.seed,
        created_at=pred.created_at,
        models=tuple(
            ModelInfo(m.role, m.name, m.version, m.weights_sha256, m.training_data) for m in models
        ),
        findings=tuple(FindingRecord(f.finding, f.probability, f.band) for f in findings),
        sentences=tuple(
            SentenceRecord(
                s.id, s.key, s.position, s.text, s.finding, s.probability, tuple(regions[s.id])
            )
            for s in sentences
        ),
        result=pred.result,
    )
