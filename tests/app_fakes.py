"""An in-memory stand-in for ``core.store`` (CONTRACTS.md section 4) for the app's tests.

TEMPORARY: replaced by the real store (``core.store.open_store("sqlite://")``) once the store
branch is merged.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from core.errors import GazeScopeError


class StoreInputError(GazeScopeError):
    pass


@dataclass(frozen=True)
class Sentence:
    id: int
    sentence_id: str
    text: str


@dataclass(frozen=True)
class PredictionRecord:
    id: int
    case_sha256: str
    sentences: tuple[Sentence, ...] = ()


@dataclass(frozen=True)
class Review:
    id: int
    username: str
    prediction_id: int
    sentence_id: Any
    action: str
    edited_text: str | None
    error_category: str | None
    significance: str | None
    client_request_id: str
    supersedes_id: int | None = None


@dataclass
class FakeStore:
    predictions: dict[int, PredictionRecord] = field(default_factory=dict)
    reviews: list[Review] = field(default_factory=list)
    cases: dict[str, dict] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def ensure_reader(self, username, *, role="reader", years_experience=None):
        return username

    def ensure_case(self, sha256, *, source, licence="", display_name=""):
        self.cases.setdefault(sha256, {"source": source, "name": display_name})

    def save_prediction(self, case_sha256, result, *, app_version, seed):
        pid = next(self._ids)
        sents = tuple(Sentence(next(self._ids), s["id"], s["text"]) for s in result.get("sentences", []))
        rec = PredictionRecord(pid, case_sha256, sents)
        self.predictions[pid] = rec
        return rec

    def latest_prediction(self, case_sha256):
        recs = [p for p in self.predictions.values() if p.case_sha256 == case_sha256]
        return max(recs, key=lambda p: p.id) if recs else None

    def add_review(self, username, prediction_id, sentence_id, *, action, edited_text=None,
                   error_category=None, significance=None, client_request_id):
        for r in self.reviews:
            if r.client_request_id == client_request_id:
                return r
        if action not in ("accept", "edit", "reject") or (action == "edit" and not edited_text):
            raise StoreInputError(f"bad review action {action!r}")
        prev = self.current_reviews(username, prediction_id).get(sentence_id)
        r = Review(next(self._ids), username, prediction_id, sentence_id, action, edited_text,
                   error_category, significance, client_request_id, prev.id if prev else None)
        self.reviews.append(r)
        return r

    def current_reviews(self, username, prediction_id):
        out = {}
        for r in self.reviews:
            if r.username == username and r.prediction_id == prediction_id:
                out[r.sentence_id] = r
        return out

    def case_status(self, username):
        out = {}
        for pid, p in self.predictions.items():
            n = len(self.current_reviews(username, pid))
            if n:
                out[p.case_sha256] = "reviewed" if n >= len(p.sentences) else "in_progress"
        return out
