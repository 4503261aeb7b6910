"""The app's glue between the UI, ``core.pipeline`` and ``core.store`` - no model or database
logic of its own.

``ReadingService`` opens cases (the pipeline's ``ReadingResult`` computed once per image and app
version and kept in the store, which also keeps the result for re-display; the encoded image
cached on disk by hash), turns them
into the browser's values (``app.payload``), records reviews through the store's repository
functions and says which overlays a reader may see.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.cases import CaseEntry, CaseLibrary
from app.payload import ALL_OVERLAYS, cached_image, finding_name, viewer_value, write_image
from core.store import ERROR_CATEGORIES, SIGNIFICANCE, StoreInputError

logger = logging.getLogger(__name__)

ASSIGNMENT_PREFIX = "item:"  # never in a case key (a SHA-256 in hex)


def assignment_key(assignment_id: int) -> str:
    """The worklist key of a study item; case keys are SHA-256 hex digests."""
    return f"{ASSIGNMENT_PREFIX}{assignment_id}"


def assignment_id(key: str) -> int | None:
    """The study item a worklist key names, or None for a case key. A key like "a1b2..." is a
    case hash: the prefix contains a character no hex digest does, so the two never collide."""
    if not key.startswith(ASSIGNMENT_PREFIX):
        return None
    rest = key[len(ASSIGNMENT_PREFIX):]
    if not rest.isdigit():
        raise ValueError(f"not a study item key: {key!r}")
    return int(rest)


@dataclass
class OpenedCase:
    """A case ready to show: the result dict, its encoded image and its stored prediction."""

    entry: CaseEntry
    result: dict[str, Any]
    image: dict[str, Any]
    prediction_id: Any
    sentence_db_ids: dict[str, Any] = field(default_factory=dict)  # "s0" -> store's sentence id
    timings_ms: dict[str, float] = field(default_factory=dict)


class ReadingService:
    """Cases, results and reviews for the UI (thread-safe: Gradio runs handlers in threads)."""

    def __init__(
        self,
        store: Any,
        library: CaseLibrary,
        pipeline_factory: Callable[[], Any],
        *,
        app_version: str,
        seed: int = 0,
    ) -> None:
        self.store = store
        self.library = library
        self.cache_dir = library.cache_dir
        self._pipeline_factory = pipeline_factory
        self._pipeline: Any = None
        self.app_version = app_version
        self.seed = seed
        self._lock = threading.Lock()
        self._pipeline_lock = threading.Lock()
        self._background = ThreadPoolExecutor(1, thread_name_prefix="gazescope-precompute")
        self._queued: set[str] = set()  # cases waiting for or in background computation
        self._queue_lock = threading.Lock()
        self.background = True  # precompute the next case (app.bench turns it off to time new cases)
        self._opened: dict[str, OpenedCase] = {}
        self._readers: set[str] = set()
        for e in library.entries():
            store.ensure_case(e.sha256, source=e.source, licence=e.licence, display_name=e.name)

    @property
    def pipeline(self) -> Any:
        if self._pipeline is None:
            with self._pipeline_lock:  # built once, even when warm_up and a reader race
                if self._pipeline is None:
                    self._pipeline = self._pipeline_factory()
        return self._pipeline

    def warm_up(self) -> None:
        """Load the models and run the pipeline once on a small synthetic image, so the first
        case a reader opens does not pay for it (~3 s on a 2-core CPU). Holds the compute lock,
        so it never runs beside a reader's case; never raises (a failure is only logged)."""
        from core.io import Radiograph

        t0 = time.perf_counter()
        try:
            with self._lock:
                yy, xx = np.mgrid[0:256, 0:256] / 256.0
                image = (0.5 + 0.3 * np.cos(3 * xx) * np.sin(2 * yy)).astype(np.float32)
                self.pipeline(Radiograph(image, "0" * 64, "warm-up.png"))
        except Exception:  # the first real case will show the error, if it is real
            logger.warning("warm-up failed; the first case will load the models", exc_info=True)
            return
        logger.info("models loaded and warmed up in %.1f s", time.perf_counter() - t0)

    def precompute(self, sha256: str) -> bool:
        """Compute a case in the background (one at a time), so that opening it later takes a
        computed case's time: the app calls it for the case after the one just opened. False
        when there is nothing to do (already computed, queued, or not a case)."""
        with self._queue_lock:
            if (not self.background or sha256 in self._opened or sha256 in self._queued
                    or self.library.get(sha256) is None):
                return False
            self._queued.add(sha256)
        self._background.submit(self._precompute, sha256)
        return True

    def _precompute(self, sha256: str) -> None:
        try:
            self.open_case(sha256)
        except Exception:  # the reader sees the error if they open it
            logger.debug("background computation of %s failed", sha256[:12], exc_info=True)
        finally:
            with self._queue_lock:
                self._queued.discard(sha256)

    def ensure_reader(self, username: str) -> None:
        """Register the signed-in reader with the store (once per process)."""
        if username not in self._readers:
            self.store.ensure_reader(username)
            self._readers.add(username)

    # ---- cases ---------------------------------------------------------------------------
    def worklist(self, username: str, *, order: list[str] | None = None) -> list[dict[str, Any]]:
        """Rows for the worklist with this reader's status (``order``: a study's case order)."""
        self.ensure_reader(username)
        status = self.store.case_status(username)
        entries = self.library.entries()
        if order is not None:
            by_sha = {e.sha256: e for e in entries}
            entries = [by_sha[s] for s in order if s in by_sha]
        return [
            {"sha256": e.sha256, "name": e.name, "source": e.source, "note": e.note,
             "status": status.get(e.sha256, "unread")}
            for e in entries
        ]

    def open_case(self, sha256: str, progress: Callable[[float, str], None] | None = None) -> OpenedCase:
        """The case's result (computed on first use) with its stored prediction."""
        hit = self._opened.get(sha256)  # no lock: a computed case never waits for another's run
        if hit is not None:
            return hit
        with self._lock:
            if sha256 in self._opened:
                return self._opened[sha256]
            entry = self.library.get(sha256)
            if entry is None:
                raise KeyError(f"unknown case {sha256[:12]}")
            opened = self._compute(entry, progress)
            self._opened[sha256] = opened
            return opened

    def _compute(self, entry: CaseEntry, progress: Callable[[float, str], None] | None) -> OpenedCase:
        """Reuse the store's latest prediction made by this app version, else run the pipeline
        and save its result; the encoded image is cached on disk by hash."""
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        record = self.store.latest_prediction(entry.sha256)
        image = cached_image(entry.sha256, self.cache_dir)
        if record is None or record.app_version != self.app_version:
            if progress:
                progress(0.1, "reading the image and running the models")
            rr = self.pipeline.run_file(entry.path)
            timings["pipeline_ms"] = (time.perf_counter() - t0) * 1000
            if progress:
                progress(0.8, "saving the result")
            # PNG encoding (zlib releases the GIL) overlaps with the store's write
            with ThreadPoolExecutor(1) as pool:
                encoding = None if image else pool.submit(write_image, rr.radiograph, self.cache_dir)
                record = self.store.save_prediction(
                    entry.sha256, _fit_model_versions(rr.to_dict()), app_version=self.app_version,
                    seed=self.seed,
                )
                image = image or encoding.result()
        elif image is None:
            from core.io import load_radiograph

            image = write_image(load_radiograph(entry.path), self.cache_dir)
        sentence_ids = {s.key: s.id for s in record.sentences}
        timings["open_ms"] = (time.perf_counter() - t0) * 1000
        return OpenedCase(entry, record.result, image, record.id, sentence_ids, timings)

    def add_upload(self, path: Path, display_name: str, progress: Callable[[float, str], None] | None = None) -> OpenedCase:
        """Run the pipeline on an uploaded file; a bad file raises its GazeScopeError and is
        not listed."""
        from core.io import load_radiograph

        load_radiograph(path, name=display_name)  # bad files fail here, before anything is kept
        entry = self.library.add_upload(path, display_name)
        self.store.ensure_case(entry.sha256, source="upload", display_name=entry.name)
        try:
            return self.open_case(entry.sha256, progress)
        except Exception:
            self.library.forget(entry.sha256)
            raise

    # ---- studies -------------------------------------------------------------------------
    def reader_studies(self, username: str) -> list[str]:
        """Names of the studies this reader is enrolled in."""
        self.ensure_reader(username)
        return [st.name for st in self.store.reader_studies(username)]

    def study_worklist(self, username: str, study: str) -> list[dict[str, Any]]:
        """The reader's own blinded order: "Case k of n" and the arm, never the file name."""
        rows = []
        for a in self.store.reader_assignments(username, study):
            status = "reviewed" if a.completed else "unread"
            if not a.completed and a.prediction_id is not None and a.arm.kind == "reading":
                if self.reviews_for(username, a.prediction_id, a.id)[0]:
                    status = "in_progress"
            rows.append({
                "key": assignment_key(a.id), "sha256": a.case_sha256, "name": f"Case {a.position + 1} of {a.total}",
                "source": f"arm {a.arm.name}" + (" · which reader?" if a.arm.kind == "turing" else ""),
                "note": "", "status": status,
            })
        return rows

    def open_assignment(self, username: str, assignment_id: int) -> tuple[OpenedCase, Any]:
        """One of the reader's own study items (another reader's raises StoreAccessError): the
        pinned prediction when the study has one, else the case's current one."""
        item = self.store.get_assignment(username, assignment_id)
        opened = self.open_case(item.case_sha256)
        if item.prediction_id is not None and item.prediction_id != opened.prediction_id:
            rec = self.store.get_prediction(item.prediction_id)
            opened = OpenedCase(opened.entry, rec.result, opened.image, rec.id, {x.key: x.id for x in rec.sentences})
        return opened, item

    def study_viewer_value(self, username: str, opened: OpenedCase, item: Any) -> dict[str, Any]:
        """The viewer as the item's arm allows: a Turing item shows only its one scanpath."""
        if item.arm.kind == "turing":
            stim = self.store.turing_stimulus(username, item.id)
            result = {**opened.result, "scanpaths": [list(stim.fixations)], "sentences": []}
            value = self.viewer_value(
                OpenedCase(opened.entry, result, opened.image, opened.prediction_id), allowed=("scanpath",)
            )
            value["title"] = f"Case {item.position + 1} of {item.total}: whose scanpath?"
            return value
        allowed = tuple(o for o in ALL_OVERLAYS if item.arm.shows(o) or (o == "measurements" and item.arm.shows("regions")))
        value = self.viewer_value(opened, allowed=allowed)
        if not item.arm.shows("report"):
            value["sentences"] = []
        value["title"] = f"Case {item.position + 1} of {item.total}"  # blinded: no file name
        return value

    def study_report_value(self, username: str, opened: OpenedCase, item: Any, **kwargs: Any) -> dict[str, Any]:
        """The report panel for a study item: only what the arm shows, plus completion."""
        if item.arm.kind == "turing":
            return {"case": opened.entry.sha256, "turing": True, "assignment_id": item.id,
                    "completed": item.completed, "sentences": [], "findings": [], "show_findings": False}
        value = self.report_value(
            opened, username, show_ai=item.arm.shows("findings"), assignment_id=item.id, **kwargs
        )
        if not item.arm.shows("report"):
            value["sentences"] = []
            value["sentences_note"] = "This arm shows no draft report: read the image and complete the case."
        value.update(assignment_id=item.id, completed=item.completed, study=True)
        return value

    def complete(self, username: str, assignment_id: int, request_id: str, seconds: float | None) -> None:
        item = self.store.get_assignment(username, assignment_id)
        if seconds is not None:
            self.store.add_event(username, item.case_sha256, "time_on_case", {"seconds": round(seconds, 1)},
                                 assignment_id=item.id)
        self.store.complete_assignment(username, assignment_id, client_request_id=request_id)

    def answer_turing(self, username: str, assignment_id: int, answer: str, request_id: str) -> None:
        self.store.answer_turing(username, assignment_id, answer=answer, client_request_id=request_id)

    def study_figures(self, study: str) -> dict[str, Any]:
        """The store's Plotly figures of a study (organiser view)."""
        from core.store.analysis import analyse
        from core.store.figures import study_figures

        return study_figures(analyse(self.store.study_data(study)))

    # ---- values for the browser -----------------------------------------------------------
    def viewer_value(self, case: OpenedCase, *, allowed: tuple[str, ...] = ALL_OVERLAYS) -> dict[str, Any]:
        url = f"/gradio_api/file={case.image['path']}"
        rg = case.result["image"]
        parts = [case.entry.name, " ".join(str(v) for v in (rg.get("modality"), rg.get("view")) if v),
                 f"{rg['width']}×{rg['height']}"]
        title = "  ·  ".join(p for p in parts if p)
        return viewer_value(case.result, case.image, url, title=title, allowed_overlays=allowed)

    def reviews_for(
        self, username: str, prediction_id: int, assignment_id: int | None = None
    ) -> tuple[dict[int, Any], Counter]:
        """The reader's latest review per sentence and how many they wrote, in one context: free
        reading (``assignment_id`` None) or one study item - so a crossover reader does not see
        the answers they gave the same case in another arm."""
        self.ensure_reader(username)
        history = [
            r for r in self.store.review_history(username, prediction_id)
            if r.assignment_id == assignment_id
        ]
        return {r.sentence_id: r for r in history}, Counter(r.sentence_id for r in history)

    def report_value(
        self, case: OpenedCase, username: str, *, show_ai: bool = True, answered: list[str] | None = None,
        error: str | None = None, assignment_id: int | None = None,
    ) -> dict[str, Any]:
        """Findings and sentences with this reader's current reviews (never anyone else's)."""
        reviews, revisions = self.reviews_for(username, case.prediction_id, assignment_id)
        db_to_sid = {v: k for k, v in case.sentence_db_ids.items()}
        by_sid = {
            db_to_sid.get(db_id, str(db_id)): {
                "action": rv.action,
                "edited_text": rv.edited_text,
                "error_category": rv.error_category,
                "significance": rv.significance,
                "revision": revisions[db_id],
            }
            for db_id, rv in reviews.items()
        }
        findings = [
            {**f, "name": finding_name(f["finding"])} for f in case.result.get("findings", [])
        ] if show_ai else []
        bands = {f["finding"]: f.get("band") for f in case.result.get("findings", [])}
        sentences = [
            {**s, "band": bands.get(s.get("finding")) if show_ai else None}
            for s in case.result.get("sentences", [])
        ]
        return {
            "case": case.entry.sha256,
            "prediction_id": case.prediction_id,
            "findings": findings,
            "findings_note": "No findings: no classifier checkpoint is installed; the report states "
            "the normal findings and the anatomy's measurements only." if show_ai else "",
            "show_findings": show_ai,
            "sentences": sentences,
            "sentences_note": "No report sentences for this case.",
            "reviews": by_sid,
            "categories": list(ERROR_CATEGORIES),
            "significances": list(SIGNIFICANCE),
            "answered": answered or [],
            "error": error,
        }

    def models_value(self, case: OpenedCase) -> list[dict[str, Any]]:
        return case.result.get("models", [])

    # ---- reviews -------------------------------------------------------------------------
    def review(self, username: str, case: OpenedCase, request: dict[str, Any]) -> None:
        """Record one accept/edit/reject (the store validates; StoreInputError on bad input)."""
        sid = str(request.get("sentence_id"))
        if sid not in case.sentence_db_ids:
            raise StoreInputError(f"unknown sentence {sid!r} for this case")
        db_id = case.sentence_db_ids[sid]
        self.ensure_reader(username)
        self.store.add_review(
            username,
            case.prediction_id,
            db_id,
            action=str(request.get("action")),
            edited_text=request.get("edited_text") or None,
            error_category=request.get("error_category") or None,
            significance=request.get("significance") or None,
            client_request_id=str(request.get("client_request_id")),
            assignment_id=int(request["assignment_id"]) if request.get("assignment_id") else None,
        )


# The store caps result.models[].version at 64 characters; the classical anatomy reports its
# whole method description (73) as its version. Until core settles one length, the app keeps
# the first 64 characters rather than refusing every case.
_MAX_VERSION = 64


def _fit_model_versions(result: dict[str, Any]) -> dict[str, Any]:
    models = [
        {**m, "version": str(m.get("version", ""))[:_MAX_VERSION]} for m in result.get("models", [])
    ]
    return {**result, "models": models}
