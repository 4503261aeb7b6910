"""The store's repository API (CONTRACTS.md section 4): records, append-only reviews, idempotent
requests, refused input that writes nothing, reader isolation, migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.store import (
    Store,
    StoreAccessError,
    StoreError,
    StoreInputError,
    open_store,
)
from store_helpers import reading_result, sha

CASE = sha("case-1")


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.sqlite"


@pytest.fixture()
def store(db: Path) -> Store:
    s = open_store(f"sqlite:///{db}")
    s.ensure_reader("alice", role="radiologist", years_experience=12)
    s.ensure_reader("bob")
    s.ensure_case(CASE, source="test fixture", licence="CC0", display_name="case 1")
    return s


def _counts(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}
    finally:
        con.close()


def test_open_store_uses_env_url_and_sqlite_settings(db: Path, monkeypatch) -> None:
    monkeypatch.setenv("GAZESCOPE_DB", f"sqlite:///{db}")
    store = open_store()
    assert store.url == f"sqlite:///{db}"
    with store._engines.write.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_open_store_refuses_bad_urls(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="in-memory"):
        open_store("sqlite://")
    with pytest.raises(StoreError, match="does not exist"):
        open_store(f"sqlite:///{tmp_path}/missing/x.sqlite")
    with pytest.raises(StoreError, match="not a database URL"):
        open_store("no url at all")


def test_ensure_reader_and_case_are_idempotent(store: Store) -> None:
    a1 = store.ensure_reader("alice")
    a2 = store.ensure_reader("alice", role="organiser")
    assert a1 == a2 and a1.role == "radiologist" and a1.years_experience == 12
    c = store.ensure_case(CASE, source="other")
    assert c.source == "test fixture" and c.sha256 == CASE


def test_save_prediction_round_trip(store: Store) -> None:
    pred = store.save_prediction(CASE, reading_result(CASE), app_version="0.1.0", seed=7)
    assert [s.key for s in pred.sentences] == ["s0", "s1", "s2"]
    assert all(isinstance(s.id, int) for s in pred.sentences)
    assert pred.sentences[0].region_ids == ("right_lower_zone",)
    assert pred.sentences[2].finding is None
    assert [f.finding for f in pred.findings] == ["pleural_effusion", "cardiomegaly"]
    assert {m.name for m in pred.models} == {"abcdef", "tiny-clf"}
    assert "source_name" not in pred.result["image"]
    assert store.latest_prediction(CASE) == pred
    later = store.save_prediction(
        CASE, reading_result(CASE, n_sentences=1), app_version="0.1.0", seed=8
    )
    assert store.latest_prediction(CASE).id == later.id
    assert store.latest_prediction(CASE).seed == 8


def test_reviews_are_append_only_and_supersede(store: Store, db: Path) -> None:
    pred = store.save_prediction(CASE, reading_result(CASE), app_version="0.1.0", seed=0)
    s0 = pred.sentences[0].id
    first = store.add_review("alice", pred.id, s0, action="accept", client_request_id="r1")
    second = store.add_review(
        "alice",
        pred.id,
        s0,
        action="edit",
        edited_text="Small right effusion.",
        error_category="wrong_severity",
        significance="minor",
        client_request_id="r2",
    )
    assert first.supersedes_id is None and second.supersedes_id == first.id
    current = store.current_reviews("alice", pred.id)
    assert current == {s0: second}
    assert [r.id for r in store.review_history("alice", pred.id)] == [first.id, second.id]
    con = sqlite3.connect(db)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("update reviews set action='reject'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("delete from reviews")
    con.close()


def test_same_client_request_id_writes_once(store: Store, db: Path) -> None:
    pred = store.save_prediction(CASE, reading_result(CASE), app_version="0.1.0", seed=0)
    s0 = pred.sentences[0].id
    kw = dict(action="reject", error_category="false_finding", significance="major")
    first = store.add_review("alice", pred.id, s0, client_request_id="same", **kw)
    before = _counts(db)
    again = store.add_review("alice", pred.id, s0, client_request_id="same", **kw)
    assert again == first
    assert _counts(db) == before
    r1 = store.add_rating(
        "alice", CASE, usefulness=4, trust=3, scanpath_humanlike=2, client_request_id="rate-1"
    )
    before = _counts(db)
    assert (
        store.add_rating(
            "alice", CASE, usefulness=4, trust=3, scanpath_humanlike=2, client_request_id="rate-1"
        )
        == r1
    )
    assert _counts(db) == before


BAD_REVIEWS = [
    (dict(action="approve"), "action"),
    (dict(action="edit"), "edited_text"),
    (dict(action="edit", edited_text="   "), "empty"),
    (dict(action="edit", edited_text="x" * 2001), "limit is 2000"),
    (dict(action="accept", error_category="omission"), "accepted"),
    (dict(action="reject", error_category="typo"), "error_category"),
    (dict(action="reject", significance="huge"), "significance"),
    (dict(action="reject", edited_text="text"), "only for action 'edit'"),
    (dict(action="reject", client_request_id=""), "client_request_id"),
    (dict(action="reject", client_request_id=42), "client_request_id"),
    (dict(action="edit", edited_text=b"bytes"), "must be text"),
]


@pytest.mark.parametrize("kwargs,message", BAD_REVIEWS)
def test_malformed_review_is_refused_and_writes_nothing(
    store: Store, db: Path, kwargs, message
) -> None:
    pred = store.save_prediction(CASE, reading_result(CASE), app_version="0.1.0", seed=0)
    before = _counts(db)
    kwargs = {"client_request_id": "bad-1", **kwargs}
    with pytest.raises(StoreInputError, match=message):
        store.add_review("alice", pred.id, pred.sentences[0].id, **kwargs)
    assert _counts(db) == before


def test_wrong_ids_and_types_are_refused(store: Store, db: Path) -> None:
    pred = store.save_prediction(CASE, reading_result(CASE), app_version="0.1.0", seed=0)
    other = store.save_prediction(CASE, reading_result(CASE), app_version="0.1.0", seed=1)
    before = _counts(db)
    with pytest.raises(StoreInputError, match="unknown reader"):
        store.add_review(
            "mallory", pred.id, pred.sentences[0].id, action="accept", client_request_id="x1"
        )
    with pytest.raises(StoreInputError, match="not a sentence of prediction"):
        store.add_review(
            "alice", pred.id, other.sentences[0].id, action="accept", client_request_id="x2"
        )
    with pytest.raises(StoreInputError, match="unknown prediction"):
        store.add_review(
            "alice", 999, pred.sentences[0].id, action="accept", client_request_id="x3"
        )
    with pytest.raises(StoreInputError, match="integer"):
        store.add_review(
            "alice", str(pred.id), pred.sentences[0].id, action="accept", client_request_id="x4"
        )
    with pytest.raises(StoreInputError, match="unknown case"):
        store.add_rating(
            "alice",
            sha("nope"),
            usefulness=3,
            trust=3,
            scanpath_humanlike=3,
            client_request_id="x5",
        )
    with pytest.raises(StoreInputError, match="usefulness"):
        store.add_rating(
            "alice", CASE, usefulness=6, trust=3, scanpath_humanlike=3, client_request_id="x6"
        )
    with pytest.raises(StoreInputError, match="trust"):
        store.add_rating(
            "alice", CASE, usefulness=3, trust=True, scanpath_humanlike=3, client_request_id="x7"
        )
    with pytest.raises(StoreInputError, match="JSON"):
        store.add_event("alice", CASE, "overlay", {"when": object()})
    with pytest.raises(StoreInputError, match="limit"):
        store.add_event("alice", CASE, "overlay", {"blob": "x" * 20_000})
    with pytest.raises(StoreInputError, match="kind"):
        store.add_event("alice", CASE, "Drop Table", {})
    with pytest.raises(StoreInputError, match="seconds"):
        store.add_event("alice", CASE, "time_on_case", {"seconds": -1})
    with pytest.raises(StoreInputError, match="username"):
        store.ensure_reader("bad name; drop")
    with pytest.raises(StoreInputError, match="SHA-256"):
        store.ensure_case("ABC", source="x")
    assert _counts(db) == before


def test_malformed_prediction_is_refused_and_writes_nothing(store: Store, db: Path) -> None:
    before = _counts(db)
    with pytest.raises(StoreInputError, match="unknown case"):
        store.save_prediction(
            sha("unknown"), reading_result(sha("unknown")), app_version="0", seed=0
        )
    bad_finding = reading_result(CASE)
    bad_finding["findings"][0]["finding"] = "broken_heart"
    bad_region = reading_result(CASE)
    bad_region["sentences"][0]["region_ids"] = ["left_kidney"]
    nan = reading_result(CASE)
    nan["findings"][0]["probability"] = float("nan")
    dup = reading_result(CASE)
    dup["sentences"][1]["id"] = "s0"
    other_image = reading_result(sha("other"))
    old = reading_result(CASE)
    old["schema_version"] = 0
    for result, message in [
        (bad_finding, "finding"),
        (bad_region, "region"),
        (nan, "JSON-safe"),
        (dup, "twice"),
        (other_image, "sha256"),
        (old, "schema_version"),
        ([], "object"),
    ]:
        with pytest.raises(StoreInputError, match=message):
            store.save_prediction(CASE, result, app_version="0", seed=0)
    assert _counts(db) == before


def test_a_reader_never_sees_or_changes_another_readers_answers(store: Store) -> None:
    pred = store.save_prediction(CASE, reading_result(CASE), app_version="0.1.0", seed=0)
    s0 = pred.sentences[0].id
    mine = store.add_review("alice", pred.id, s0, action="accept", client_request_id="alice-1")
    assert store.current_reviews("bob", pred.id) == {}
    assert store.review_history("bob", pred.id) == []
    # bob replaying alice's request id neither reads nor rewrites her row
    with pytest.raises(StoreAccessError):
        store.add_review("bob", pred.id, s0, action="reject", client_request_id="alice-1")
    # bob's own review starts his own chain; alice's current answer is unchanged
    his = store.add_review("bob", pred.id, s0, action="reject", client_request_id="bob-1")
    assert his.supersedes_id is None
    assert store.current_reviews("alice", pred.id) == {s0: mine}
    assert store.current_reviews("bob", pred.id) == {s0: his}


def test_case_status(store: Store) -> None:
    other = sha("case-2")
    store.ensure_case(other, source="test fixture")
    pred = store.save_prediction(CASE, reading_result(CASE, n_sentences=2), app_version="0", seed=0)
    assert store.case_status("alice") == {CASE: "unread", other: "unread"}
    store.add_review(
        "alice", pred.id, pred.sentences[0].id, action="accept", client_request_id="c1"
    )
    store.add_event("bob", other, "time_on_case", {"seconds": 3.5})
    assert store.case_status("alice") == {CASE: "in_progress", other: "unread"}
    assert store.case_status("bob") == {CASE: "unread", other: "in_progress"}
    store.add_review(
        "alice", pred.id, pred.sentences[1].id, action="reject", client_request_id="c2"
    )
    assert store.case_status("alice")[CASE] == "reviewed"


def test_old_database_is_upgraded_on_open(db: Path) -> None:
    from core.store.db import head_revision, make_engines, upgrade

    engines = make_engines(f"sqlite:///{db}")
    upgrade(engines, "0001")  # a database written by the first schema
    con = sqlite3.connect(db)
    con.execute(
        "insert into readers (username, role, years_experience, created_at) "
        "values ('old', 'reader', null, '2026-01-01 00:00:00')"
    )
    con.commit()
    assert "studies" not in {r[0] for r in con.execute("select name from sqlite_master")}
    con.close()
    engines.dispose()
    store = open_store(f"sqlite:///{db}")
    assert store.ensure_reader("old").username == "old"
    con = sqlite3.connect(db)
    assert con.execute("select version_num from alembic_version").fetchone()[0] == head_revision()
    assert "assignment_id" in {r[1] for r in con.execute("pragma table_info(reviews)")}
    # the append-only triggers of revision 0001 survive the upgrade
    assert {"reviews_no_update", "turing_answers_no_delete"} <= {
        r[0] for r in con.execute("select name from sqlite_master where type='trigger'")
    }
    con.close()


def test_newer_database_is_refused(db: Path) -> None:
    open_store(f"sqlite:///{db}")
    con = sqlite3.connect(db)
    con.execute("update alembic_version set version_num='9999'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer than this GazeScope"):
        open_store(f"sqlite:///{db}")


def test_migrations_match_the_schema(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from core.store.schema import Base

    with store._engines.read.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
