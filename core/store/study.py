"""Reading studies: arms, readers, seeded blinded assignment orders, Turing-test items.

How the app runs a study for a signed-in reader (every call checks that the assignment is the
reader's own and raises ``StoreAccessError`` otherwise)::

    item = store.next_assignment(username, "pilot")     # None when the reader is done
    item.arm.shows("scanpath")                           # which AI overlays this arm allows
    if item.arm.kind == "reading":                       # show store.get_prediction(item.prediction_id)
        store.add_review(username, item.prediction_id, sentence_id, action=..., client_request_id=...,
                         assignment_id=item.id)          # only in arms that show the "report"
        store.add_event(username, item.case_sha256, "time_on_case", {"seconds": 41.5},
                        assignment_id=item.id)
        store.complete_assignment(username, item.id, client_request_id=...)
    else:                                                # a Turing-test item
        stim = store.turing_stimulus(username, item.id)  # one scanpath, source not revealed
        store.answer_turing(username, item.id, answer="model"|"human", client_request_id=...)

Designs: ``"crossover"`` gives every reader every case in every arm; ``"split"`` gives every
reader every case once among the reading arms, rotating the arm with the reader's place in the
study (case i, reader j -> reading arm (i + j) mod n), so each case is read in each arm by
equally many readers when the number of readers is a multiple of the number of arms. Turing
arms always take every case that has a human reference scanpath and a stored prediction.

Order: each reader's items are shuffled with ``random.Random(f"{seed}:{username}")`` when the
reader is added, and stored, so a reader resumes where they stopped and the order does not
change when other readers join. Turing items show the model's scanpath (sample 0 of the case's
study prediction) or a human one (a reference scanpath of the case), half and half per reader
in a shuffled order. Human scanpaths may come from the synthetic corpus's simulated readers
(``ReferenceScanpath.synthetic``); the report says so.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.store import validate as v
from core.store._base import StoreBase, case_row, reader_row
from core.store.errors import StoreAccessError, StoreInputError
from core.store.records import (
    ArmView,
    AssignmentRecord,
    ReaderProgress,
    StudyData,
    StudyProgress,
    StudyRecord,
    TuringStimulus,
)
from core.store.schema import (
    Arm,
    Assignment,
    AssignmentCompletion,
    CaseRow,
    EventRow,
    PredictionRow,
    PredictionScanpath,
    PredictionSentence,
    RatingRow,
    ReaderRow,
    ReferenceScanpath,
    ReviewRow,
    SentenceRegion,
    Study,
    StudyCase,
    StudyReader,
    TuringAnswer,
)

logger = logging.getLogger(__name__)

__all__ = ["ARM_KINDS", "DEFAULT_ARMS", "DESIGNS", "OVERLAYS", "StudyRepository"]

OVERLAYS: tuple[str, ...] = ("scanpath", "attention", "findings", "report", "regions")
ARM_KINDS: tuple[str, ...] = ("reading", "turing")
DESIGNS: tuple[str, ...] = ("crossover", "split")
TURING_SOURCES: tuple[str, ...] = ("model", "human")
DEFAULT_ARMS: tuple[ArmView, ...] = (
    ArmView("with_ai", "reading", OVERLAYS),
    ArmView("without_ai", "reading", ("report",)),
)
MAX_CASES = 10_000
MAX_FIXATIONS = 2000

StudyRef = int | str  # a study's id or name


class StudyRepository(StoreBase):
    # --- set-up (organiser) ------------------------------------------------------------------

    def create_study(
        self,
        name: str,
        *,
        case_sha256s: Sequence[str],
        arms: Sequence[ArmView] = DEFAULT_ARMS,
        seed: int = 0,
        design: str = "crossover",
        description: str = "",
    ) -> StudyRecord:
        """Create a study over known cases; each case's latest prediction is pinned, so every
        reader reviews the same sentences (a case without one gets its latest at reading time).
        """
        v.identifier(name, "study name")
        v.integer(seed, "seed", lo=0, hi=2**31 - 1)
        v.choice(design, "design", DESIGNS)
        v.text(description, "description", empty=True)
        cases = list(dict.fromkeys(v.sha256(s) for s in v.sequence(case_sha256s, "cases")))
        if not cases or len(cases) > MAX_CASES:
            raise StoreInputError(f"a study needs 1 to {MAX_CASES} cases, got {len(cases)}")
        arms = list(v.sequence(arms, "arms"))
        if not arms:
            raise StoreInputError("a study needs at least one arm")
        for arm in arms:
            _check_arm(arm)
        if len({a.name for a in arms}) != len(arms):
            raise StoreInputError("arm names must be unique within a study")
        with self._write() as session:
            if session.scalar(select(Study.id).where(Study.name == name)) is not None:
                raise StoreInputError(f"a study called {name!r} exists already")
            study = Study(name=name, description=description, seed=seed, design=design)
            session.add(study)
            session.flush()
            for arm in arms:
                session.add(
                    Arm(
                        study_id=study.id, name=arm.name, kind=arm.kind, overlays=list(arm.overlays)
                    )
                )
            for pos, sha in enumerate(cases):
                case = case_row(session, sha)
                latest = session.scalar(
                    select(func.max(PredictionRow.id)).where(PredictionRow.case_id == case.id)
                )
                session.add(
                    StudyCase(
                        study_id=study.id, case_id=case.id, position=pos, prediction_id=latest
                    )
                )
            session.flush()
            return _study_record(session, study)

    def add_reference_scanpath(
        self,
        case_sha256: str,
        fixations: Sequence[dict[str, float]],
        *,
        source: str,
        synthetic: bool,
    ) -> int:
        """Store a human scanpath for Turing-test arms; returns its id.

        ``fixations``: ``[{x, y, start_s, duration_s}, ...]`` normalised to the original image.
        ``source`` says whose it is (e.g. "synthetic corpus, simulated reader R3");
        ``synthetic`` is True for simulated readers, and the report says so.
        """
        v.text(source, "source", max_len=v.MAX_LABEL)
        if not isinstance(synthetic, bool):
            raise StoreInputError(f"synthetic must be True or False, got {synthetic!r}")
        clean = _fixations(fixations)
        with self._write() as session:
            case = case_row(session, case_sha256)
            row = ReferenceScanpath(
                case_id=case.id, source=source, synthetic=synthetic, fixations=clean
            )
            session.add(row)
            session.flush()
            return row.id

    def add_study_reader(self, study: StudyRef, username: str) -> list[AssignmentRecord]:
        """Enrol a known reader and store their shuffled, blinded assignments (idempotent)."""
        with self._write() as session:
            s = _study_row(session, study)
            reader = reader_row(session, username)
            existing = session.scalar(
                select(StudyReader).where(
                    StudyReader.study_id == s.id, StudyReader.reader_id == reader.id
                )
            )
            if existing is None:
                place = session.scalar(
                    select(func.count(StudyReader.id)).where(StudyReader.study_id == s.id)
                )
                session.add(StudyReader(study_id=s.id, reader_id=reader.id, position=place or 0))
                for a in _plan(session, s, username, place or 0, reader.id):
                    session.add(a)
                session.flush()
            rows = session.scalars(
                select(Assignment)
                .where(Assignment.study_id == s.id, Assignment.reader_id == reader.id)
                .order_by(Assignment.position)
            ).all()
            return [_assignment_record(session, a, username, len(rows)) for a in rows]

    # --- reading (reader) --------------------------------------------------------------------

    def next_assignment(self, username: str, study: StudyRef) -> AssignmentRecord | None:
        """The reader's first item not yet completed, in their own order; None when done."""
        with self._read() as session:
            s = _study_row(session, study)
            reader = reader_row(session, username)
            done = select(AssignmentCompletion.assignment_id)
            q = select(Assignment).where(
                Assignment.study_id == s.id, Assignment.reader_id == reader.id
            )
            total = len(session.scalars(q).all())
            row = session.scalar(
                q.where(Assignment.id.not_in(done)).order_by(Assignment.position).limit(1)
            )
            return None if row is None else _assignment_record(session, row, username, total)

    def reader_assignments(self, username: str, study: StudyRef) -> list[AssignmentRecord]:
        """All of the reader's items in their order (for a worklist), with completion flags."""
        with self._read() as session:
            s = _study_row(session, study)
            reader = reader_row(session, username)
            rows = session.scalars(
                select(Assignment)
                .where(Assignment.study_id == s.id, Assignment.reader_id == reader.id)
                .order_by(Assignment.position)
            ).all()
            return [_assignment_record(session, a, username, len(rows)) for a in rows]

    def get_assignment(self, username: str, assignment_id: int) -> AssignmentRecord:
        """One of the reader's own items; another reader's raises ``StoreAccessError``."""
        with self._read() as session:
            a = _own_assignment(session, username, assignment_id)
            total = session.scalar(
                select(func.count(Assignment.id)).where(
                    Assignment.study_id == a.study_id, Assignment.reader_id == a.reader_id
                )
            )
            return _assignment_record(session, a, username, total or 0)

    def turing_stimulus(self, username: str, assignment_id: int) -> TuringStimulus:
        """The scanpath a Turing item shows; whether it is the model's or a human's is not said."""
        with self._read() as session:
            a = _own_assignment(session, username, assignment_id)
            if a.turing_source is None:
                raise StoreInputError(f"assignment {assignment_id} is not a Turing-test item")
            if a.turing_source == "human":
                ref = session.get(ReferenceScanpath, a.reference_scanpath_id)
                assert ref is not None
                fixations = ref.fixations
            else:
                pid = _prediction_for(session, a.study_id, a.case_id)
                path = session.scalar(
                    select(PredictionScanpath.fixations).where(
                        PredictionScanpath.prediction_id == pid, PredictionScanpath.sample == 0
                    )
                )
                if path is None:
                    raise StoreInputError(
                        f"assignment {assignment_id}: no model scanpath stored for its case"
                    )
                fixations = path
            return TuringStimulus(assignment_id, tuple(dict(f) for f in fixations))

    def answer_turing(
        self,
        username: str,
        assignment_id: int,
        *,
        answer: str,
        confidence: int | None = None,
        client_request_id: str,
    ) -> AssignmentRecord:
        """Record "model" or "human" for a Turing item and complete it; answers are final."""
        v.choice(answer, "answer", TURING_SOURCES)
        if confidence is not None:
            v.likert(confidence, "confidence")

        def find(session: Session) -> tuple[int, AssignmentRecord] | None:
            row = session.scalar(
                select(TuringAnswer).where(TuringAnswer.client_request_id == client_request_id)
            )
            if row is None:
                return None
            a = session.get(Assignment, row.assignment_id)
            assert a is not None
            return a.reader_id, _assignment_record(session, a, username, 0)

        def write(session: Session) -> AssignmentRecord:
            a = _own_assignment(session, username, assignment_id)
            if a.turing_source is None:
                raise StoreInputError(f"assignment {assignment_id} is not a Turing-test item")
            if session.scalar(
                select(TuringAnswer.id).where(TuringAnswer.assignment_id == assignment_id)
            ):
                raise StoreInputError(f"assignment {assignment_id} is answered already")
            session.add(
                TuringAnswer(
                    assignment_id=assignment_id,
                    answer=answer,
                    confidence=confidence,
                    client_request_id=client_request_id,
                )
            )
            _complete(session, assignment_id, client_request_id)
            session.flush()
            return _assignment_record(session, a, username, 0)

        return self._idempotent(
            client_request_id, find, write, lambda s: reader_row(s, username).id
        )

    def complete_assignment(
        self, username: str, assignment_id: int, *, client_request_id: str
    ) -> AssignmentRecord:
        """Mark the reader's item done (idempotent: completing it again writes nothing)."""

        def find(session: Session) -> tuple[int, AssignmentRecord] | None:
            a = _own_assignment(session, username, assignment_id)
            if session.scalar(
                select(AssignmentCompletion.id).where(
                    AssignmentCompletion.assignment_id == assignment_id
                )
            ):
                return a.reader_id, _assignment_record(session, a, username, 0)
            return None

        def write(session: Session) -> AssignmentRecord:
            a = _own_assignment(session, username, assignment_id)
            if a.turing_source is not None:
                raise StoreInputError(f"assignment {assignment_id}: answer it with answer_turing")
            _complete(session, assignment_id, client_request_id)
            session.flush()
            return _assignment_record(session, a, username, 0)

        return self._idempotent(
            client_request_id, find, write, lambda s: reader_row(s, username).id
        )

    # --- overview (organiser) ----------------------------------------------------------------

    def get_study(self, study: StudyRef) -> StudyRecord:
        with self._read() as session:
            return _study_record(session, _study_row(session, study))

    def list_studies(self) -> list[StudyRecord]:
        with self._read() as session:
            return [
                _study_record(session, s) for s in session.scalars(select(Study).order_by(Study.id))
            ]

    def reader_studies(self, username: str) -> list[StudyRecord]:
        """The studies the reader is enrolled in (the app's study picker)."""
        with self._read() as session:
            reader = reader_row(session, username)
            rows = session.scalars(
                select(Study)
                .join(StudyReader, StudyReader.study_id == Study.id)
                .where(StudyReader.reader_id == reader.id)
                .order_by(Study.id)
            )
            return [_study_record(session, s) for s in rows]

    def study_progress(self, study: StudyRef) -> StudyProgress:
        """Items done and assigned per reader, in the order readers joined (organiser view)."""
        with self._read() as session:
            s = _study_row(session, study)
            rows = session.execute(
                select(
                    ReaderRow.username,
                    func.count(Assignment.id),
                    func.count(AssignmentCompletion.id),
                )
                .join(StudyReader, StudyReader.reader_id == ReaderRow.id)
                .join(
                    Assignment,
                    (Assignment.reader_id == ReaderRow.id) & (Assignment.study_id == s.id),
                )
                .outerjoin(
                    AssignmentCompletion, AssignmentCompletion.assignment_id == Assignment.id
                )
                .where(StudyReader.study_id == s.id)
                .group_by(ReaderRow.username, StudyReader.position)
                .order_by(StudyReader.position)
            ).all()
            return StudyProgress(
                s.id, s.name, tuple(ReaderProgress(u, done, total) for u, total, done in rows)
            )

    def study_data(self, study: StudyRef) -> StudyData:
        """The study's reviews, times, Turing answers and ratings for analysis (organiser)."""
        with self._read() as session:
            s = _study_row(session, study)
            record = _study_record(session, s)
            in_study = (
                select(Assignment.id, ReaderRow.username, Arm.name.label("arm"), CaseRow.sha256)
                .join(ReaderRow, ReaderRow.id == Assignment.reader_id)
                .join(Arm, Arm.id == Assignment.arm_id)
                .join(CaseRow, CaseRow.id == Assignment.case_id)
                .where(Assignment.study_id == s.id)
                .subquery()
            )
            latest: dict[tuple[int, int], tuple[object, ...]] = {}
            for row in session.execute(
                select(
                    in_study.c.username,
                    in_study.c.id,
                    in_study.c.arm,
                    in_study.c.sha256,
                    ReviewRow.sentence_id,
                    PredictionSentence.finding,
                    ReviewRow.action,
                    ReviewRow.error_category,
                    ReviewRow.significance,
                )
                .join(ReviewRow, ReviewRow.assignment_id == in_study.c.id)
                .join(PredictionSentence, PredictionSentence.id == ReviewRow.sentence_id)
                .order_by(ReviewRow.id)
            ):
                latest[(row[1], row[4])] = tuple(row)
            regions: dict[int, list[str]] = {}
            sentence_ids = {key[1] for key in latest}
            for sid, region in session.execute(
                select(SentenceRegion.sentence_id, SentenceRegion.region_id)
                .join(ReviewRow, ReviewRow.sentence_id == SentenceRegion.sentence_id)
                .join(in_study, in_study.c.id == ReviewRow.assignment_id)
                .distinct()
                .order_by(SentenceRegion.sentence_id, SentenceRegion.region_id)
            ):
                if sid in sentence_ids:
                    regions.setdefault(sid, []).append(region)
            reviews = tuple((*r[:6], tuple(regions.get(r[4], ())), *r[6:]) for r in latest.values())
            seconds: dict[int, list[object]] = {}
            for user, aid, arm, sha, payload in session.execute(
                select(
                    in_study.c.username,
                    in_study.c.id,
                    in_study.c.arm,
                    in_study.c.sha256,
                    EventRow.payload,
                )
                .join(EventRow, EventRow.assignment_id == in_study.c.id)
                .where(EventRow.kind == "time_on_case")
            ):
                entry = seconds.setdefault(aid, [user, aid, arm, sha, 0.0])
                entry[4] = float(entry[4]) + float(payload["seconds"])  # type: ignore[arg-type]
            turing = tuple(
                tuple(r)
                for r in session.execute(
                    select(
                        in_study.c.username,
                        in_study.c.id,
                        in_study.c.sha256,
                        Assignment.turing_source,
                        TuringAnswer.answer,
                        TuringAnswer.confidence,
                        ReferenceScanpath.synthetic,
                    )
                    .join(Assignment, Assignment.id == in_study.c.id)
                    .join(TuringAnswer, TuringAnswer.assignment_id == in_study.c.id)
                    .outerjoin(
                        ReferenceScanpath, ReferenceScanpath.id == Assignment.reference_scanpath_id
                    )
                    .order_by(in_study.c.id)
                )
            )
            ratings: dict[int, tuple[object, ...]] = {}
            for r in session.execute(
                select(
                    in_study.c.username,
                    in_study.c.id,
                    in_study.c.arm,
                    in_study.c.sha256,
                    RatingRow.usefulness,
                    RatingRow.trust,
                    RatingRow.scanpath_humanlike,
                )
                .join(RatingRow, RatingRow.assignment_id == in_study.c.id)
                .order_by(RatingRow.id)
            ):
                ratings[r[1]] = tuple(r)
            return StudyData(
                study=record,
                progress=self.study_progress(s.id),
                reviews=reviews,
                times=tuple(tuple(t) for t in seconds.values()),  # type: ignore[misc]
                turing=turing,
                ratings=tuple(ratings.values()),
            )


# --- helpers -------------------------------------------------------------------------------


def _check_arm(arm: object) -> None:
    if not isinstance(arm, ArmView):
        raise StoreInputError(f"arms must be ArmView records, got {type(arm).__name__}")
    v.identifier(arm.name, "arm name")
    v.choice(arm.kind, "arm kind", ARM_KINDS)
    for overlay in arm.overlays:
        v.choice(overlay, f"arm {arm.name} overlay", OVERLAYS)
    if arm.kind == "turing" and arm.overlays:
        raise StoreInputError(f"Turing arm {arm.name!r} shows only the scanpath under test")


def _fixations(fixations: object) -> list[dict[str, float]]:
    items = v.sequence(fixations, "fixations")
    if not items or len(items) > MAX_FIXATIONS:
        raise StoreInputError(f"a scanpath needs 1 to {MAX_FIXATIONS} fixations, got {len(items)}")
    clean = []
    for f in items:
        f = v.mapping(f, "fixation")
        clean.append(
            {
                "x": v.number(f.get("x"), "fixation x", lo=-1, hi=2),
                "y": v.number(f.get("y"), "fixation y", lo=-1, hi=2),
                "start_s": v.number(f.get("start_s"), "fixation start_s", lo=0, hi=86_400),
                "duration_s": v.number(f.get("duration_s"), "fixation duration_s", lo=0, hi=600),
            }
        )
    return clean


def _study_row(session: Session, study: StudyRef) -> Study:
    if isinstance(study, bool) or not isinstance(study, (int, str)):
        raise StoreInputError(f"a study is named by its id or name, got {study!r}")
    q = select(Study).where(Study.id == study if isinstance(study, int) else Study.name == study)
    row = session.scalar(q)
    if row is None:
        raise StoreInputError(f"unknown study {study!r}")
    return row


def _own_assignment(session: Session, username: str, assignment_id: int) -> Assignment:
    v.integer(assignment_id, "assignment_id", lo=1)
    reader = reader_row(session, username)
    a = session.get(Assignment, assignment_id)
    if a is None:
        raise StoreInputError(f"unknown assignment {assignment_id}")
    if a.reader_id != reader.id:
        raise StoreAccessError(f"assignment {assignment_id} belongs to another reader")
    return a


def _complete(session: Session, assignment_id: int, request_id: str) -> None:
    if (
        session.scalar(
            select(AssignmentCompletion.id).where(
                AssignmentCompletion.assignment_id == assignment_id
            )
        )
        is None
    ):
        session.add(AssignmentCompletion(assignment_id=assignment_id, client_request_id=request_id))


def _prediction_for(session: Session, study_id: int, case_id: int) -> int | None:
    pinned = session.scalar(
        select(StudyCase.prediction_id).where(
            StudyCase.study_id == study_id, StudyCase.case_id == case_id
        )
    )
    if pinned is not None:
        return pinned
    return session.scalar(
        select(func.max(PredictionRow.id)).where(PredictionRow.case_id == case_id)
    )


def _plan(
    session: Session, study: Study, username: str, place: int, reader_id: int
) -> list[Assignment]:
    """The reader's items, shuffled with a seed of their own (see the module docstring)."""
    rng = random.Random(f"{study.seed}:{username}")
    arms = session.scalars(select(Arm).where(Arm.study_id == study.id).order_by(Arm.id)).all()
    cases = session.execute(
        select(StudyCase.case_id, StudyCase.prediction_id)
        .where(StudyCase.study_id == study.id)
        .order_by(StudyCase.position)
    ).all()
    reading = [a for a in arms if a.kind == "reading"]
    items: list[tuple[int, Arm]] = []
    for i, (case_id, _) in enumerate(cases):
        if study.design == "split" and reading:
            items.append((case_id, reading[(i + place) % len(reading)]))
        else:
            items.extend((case_id, arm) for arm in reading)
    turing_items: list[tuple[int, Arm, int]] = []  # (case, arm, reference scanpath id)
    for arm in (a for a in arms if a.kind == "turing"):
        for case_id, pinned in cases:
            refs = session.scalars(
                select(ReferenceScanpath.id)
                .where(ReferenceScanpath.case_id == case_id)
                .order_by(ReferenceScanpath.id)
            ).all()
            has_model = pinned is not None or _prediction_for(session, study.id, case_id)
            if refs and has_model:
                turing_items.append((case_id, arm, rng.choice(refs)))
            else:
                logger.info(
                    "study %s: case %d has no human or model scanpath; no Turing item",
                    study.name,
                    case_id,
                )
    sources = [TURING_SOURCES[i % 2] for i in range(len(turing_items))]
    rng.shuffle(sources)
    order: list[dict[str, Any]] = [
        {"case_id": c, "arm_id": arm.id, "turing_source": None, "reference_scanpath_id": None}
        for c, arm in items
    ] + [
        {
            "case_id": c,
            "arm_id": arm.id,
            "turing_source": src,
            "reference_scanpath_id": ref if src == "human" else None,
        }
        for (c, arm, ref), src in zip(turing_items, sources, strict=True)
    ]
    rng.shuffle(order)
    return [
        Assignment(study_id=study.id, reader_id=reader_id, position=pos, **item)
        for pos, item in enumerate(order)
    ]


def _arm_view(arm: Arm) -> ArmView:
    return ArmView(arm.name, arm.kind, tuple(arm.overlays))


def _assignment_record(
    session: Session, a: Assignment, username: str, total: int
) -> AssignmentRecord:
    arm = session.get(Arm, a.arm_id)
    sha = session.scalar(select(CaseRow.sha256).where(CaseRow.id == a.case_id))
    assert arm is not None and sha is not None
    completed = session.scalar(
        select(AssignmentCompletion.id).where(AssignmentCompletion.assignment_id == a.id)
    )
    if not total:
        total = (
            session.scalar(
                select(func.count(Assignment.id)).where(
                    Assignment.study_id == a.study_id, Assignment.reader_id == a.reader_id
                )
            )
            or 0
        )
    return AssignmentRecord(
        id=a.id,
        study_id=a.study_id,
        username=username,
        case_sha256=sha,
        position=a.position,
        total=total,
        arm=_arm_view(arm),
        prediction_id=_prediction_for(session, a.study_id, a.case_id),
        completed=completed is not None,
    )


def _study_record(session: Session, s: Study) -> StudyRecord:
    arms = session.scalars(select(Arm).where(Arm.study_id == s.id).order_by(Arm.id))
    cases = session.scalars(
        select(CaseRow.sha256)
        .join(StudyCase, StudyCase.case_id == CaseRow.id)
        .where(StudyCase.study_id == s.id)
        .order_by(StudyCase.position)
    )
    readers = session.scalars(
        select(ReaderRow.username)
        .join(StudyReader, StudyReader.reader_id == ReaderRow.id)
        .where(StudyReader.study_id == s.id)
        .order_by(StudyReader.position)
    )
    return StudyRecord(
        id=s.id,
        name=s.name,
        description=s.description,
        seed=s.seed,
        design=s.design,
        arms=tuple(_arm_view(a) for a in arms),
        case_sha256s=tuple(cases),
        readers=tuple(readers),
        created_at=s.created_at,
    )
