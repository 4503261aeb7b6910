"""Studies: seeded blinded resumable orders, arm designs, Turing items, reader isolation."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from core.store import ArmView, Store, StoreAccessError, StoreInputError, open_store
from store_helpers import reading_result, sha

CASES = [sha(f"study-case-{i}") for i in range(4)]
HUMAN = [{"x": 0.2, "y": 0.2, "start_s": 0.0, "duration_s": 0.4}]
ARMS = (
    ArmView("with_ai", "reading", ("scanpath", "attention", "findings", "report", "regions")),
    ArmView("without_ai", "reading", ("report",)),
    ArmView("turing", "turing", ()),
)


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    s = open_store(f"sqlite:///{tmp_path / 'study.sqlite'}")
    for name in ("alice", "bob", "carol"):
        s.ensure_reader(name)
    for c in CASES:
        s.ensure_case(c, source="test fixture")
        s.save_prediction(c, reading_result(c), app_version="0.1.0", seed=0)
    for c in CASES[:2]:  # human scanpaths for two cases only: Turing items for those two
        s.add_reference_scanpath(
            c, HUMAN, source="synthetic corpus, simulated reader R1", synthetic=True
        )
    return s


def test_crossover_gives_every_case_in_every_reading_arm_plus_turing_items(store: Store) -> None:
    study = store.create_study("pilot", case_sha256s=CASES, arms=ARMS, seed=3)
    assert study.case_sha256s == tuple(CASES) and [a.name for a in study.arms] == [
        "with_ai",
        "without_ai",
        "turing",
    ]
    items = store.add_study_reader("pilot", "alice")
    assert len(items) == 4 * 2 + 2
    assert Counter(i.arm.name for i in items) == {"with_ai": 4, "without_ai": 4, "turing": 2}
    assert [i.position for i in items] == list(range(10))
    assert {i.case_sha256 for i in items if i.arm.kind == "turing"} == set(CASES[:2])
    assert all(i.prediction_id is not None and not i.completed for i in items)
    assert not hasattr(items[0], "turing_source")  # blinded: the record never says whose scanpath


def test_order_is_seeded_per_reader_stored_and_resumable(store: Store, tmp_path: Path) -> None:
    store.create_study("pilot", case_sha256s=CASES, arms=ARMS, seed=3)
    alice = store.add_study_reader("pilot", "alice")
    bob = store.add_study_reader("pilot", "bob")
    key = lambda items: [(i.case_sha256, i.arm.name) for i in items]  # noqa: E731
    assert key(alice) != key(bob)
    assert key(store.add_study_reader("pilot", "alice")) == key(alice)  # idempotent
    # the same study seed in another database gives alice the same order
    other = open_store(f"sqlite:///{tmp_path / 'other.sqlite'}")
    other.ensure_reader("alice")
    for c in CASES:
        other.ensure_case(c, source="x")
        other.save_prediction(c, reading_result(c), app_version="0", seed=0)
    for c in CASES[:2]:
        other.add_reference_scanpath(c, HUMAN, source="s", synthetic=True)
    other.create_study("pilot", case_sha256s=CASES, arms=ARMS, seed=3)
    assert key(other.add_study_reader("pilot", "alice")) == key(alice)
    # resume: completing items moves next_assignment along alice's own order
    assert store.next_assignment("alice", "pilot") == alice[0]
    for item in alice[:3]:
        if item.arm.kind == "turing":
            store.answer_turing("alice", item.id, answer="human", client_request_id=f"t{item.id}")
        else:
            store.complete_assignment("alice", item.id, client_request_id=f"c{item.id}")
    nxt = store.next_assignment("alice", "pilot")
    assert nxt.id == alice[3].id and nxt.total == 10
    assert store.next_assignment("bob", "pilot").id == bob[0].id
    progress = store.study_progress("pilot")
    assert [(r.username, r.done, r.total) for r in progress.readers] == [
        ("alice", 3, 10),
        ("bob", 0, 10),
    ]


def test_split_design_balances_arms_across_readers(store: Store) -> None:
    store.create_study("split", case_sha256s=CASES, arms=ARMS[:2], seed=1, design="split")
    arms_by_case: dict[str, list[str]] = {c: [] for c in CASES}
    for reader in ("alice", "bob"):
        items = store.add_study_reader("split", reader)
        assert len(items) == 4 and {i.case_sha256 for i in items} == set(CASES)
        for i in items:
            arms_by_case[i.case_sha256].append(i.arm.name)
    # two readers, two arms: every case is read once with and once without AI
    assert all(sorted(a) == ["with_ai", "without_ai"] for a in arms_by_case.values())


def test_turing_items_are_half_model_half_human_and_answers_are_final(
    store: Store, tmp_path: Path
) -> None:
    store.create_study("turing", case_sha256s=CASES, arms=(ARMS[2],), seed=5)
    items = store.add_study_reader("turing", "alice")
    assert len(items) == 2
    shown = [store.turing_stimulus("alice", i.id).fixations for i in items]
    model_path = tuple(reading_result(CASES[0])["scanpaths"][0])
    assert sorted(s == tuple(HUMAN) for s in shown) == [False, True]
    assert all(s in (tuple(HUMAN), model_path) for s in shown)
    store.answer_turing("alice", items[0].id, answer="model", confidence=4, client_request_id="a1")
    # a retry with the same id is fine; a second answer is refused
    store.answer_turing("alice", items[0].id, answer="model", confidence=4, client_request_id="a1")
    with pytest.raises(StoreInputError, match="answered already"):
        store.answer_turing("alice", items[0].id, answer="human", client_request_id="a2")
    assert store.get_assignment("alice", items[0].id).completed
    with pytest.raises(StoreInputError, match="not a Turing"):
        store.create_study("reading", case_sha256s=CASES, arms=(ARMS[0],))
        store.add_study_reader("reading", "alice")
        store.turing_stimulus("alice", store.next_assignment("alice", "reading").id)


def test_a_reader_cannot_touch_another_readers_assignments(store: Store) -> None:
    store.create_study("pilot", case_sha256s=CASES, arms=ARMS, seed=3)
    alice = store.add_study_reader("pilot", "alice")
    store.add_study_reader("pilot", "bob")
    reading = next(i for i in alice if i.arm.name == "with_ai")
    turing = next(i for i in alice if i.arm.kind == "turing")
    pred = store.get_prediction(reading.prediction_id)
    attempts = [
        lambda: store.get_assignment("bob", reading.id),
        lambda: store.turing_stimulus("bob", turing.id),
        lambda: store.answer_turing("bob", turing.id, answer="model", client_request_id="b1"),
        lambda: store.complete_assignment("bob", reading.id, client_request_id="b2"),
        lambda: store.add_review(
            "bob",
            pred.id,
            pred.sentences[0].id,
            action="accept",
            client_request_id="b3",
            assignment_id=reading.id,
        ),
        lambda: store.add_event(
            "bob", reading.case_sha256, "time_on_case", {"seconds": 5.0}, assignment_id=reading.id
        ),
        lambda: store.add_rating(
            "bob",
            reading.case_sha256,
            usefulness=1,
            trust=1,
            scanpath_humanlike=1,
            client_request_id="b4",
            assignment_id=reading.id,
        ),
    ]
    for attempt in attempts:
        with pytest.raises(StoreAccessError):
            attempt()
    assert not store.get_assignment("alice", reading.id).completed
    assert store.current_reviews("alice", pred.id) == {}


def test_arm_that_hides_the_report_refuses_reviews(store: Store) -> None:
    store.create_study(
        "blind", case_sha256s=CASES[:1], arms=(ArmView("image_only", "reading", ()),)
    )
    item = store.add_study_reader("blind", "alice")[0]
    assert not item.arm.shows("report")
    pred = store.get_prediction(item.prediction_id)
    with pytest.raises(StoreInputError, match="hides the report"):
        store.add_review(
            "alice",
            pred.id,
            pred.sentences[0].id,
            action="accept",
            client_request_id="r",
            assignment_id=item.id,
        )


def test_bad_study_input_is_refused_and_writes_nothing(store: Store, tmp_path: Path) -> None:
    db = tmp_path / "study.sqlite"

    def count() -> int:
        con = sqlite3.connect(db)
        try:
            return sum(
                con.execute(f"select count(*) from {t}").fetchone()[0]
                for t in ("studies", "arms", "study_cases", "reference_scanpaths")
            )
        finally:
            con.close()

    before = count()
    bad = [
        (dict(case_sha256s=[]), "1 to"),
        (dict(case_sha256s=[sha("unknown")]), "unknown case"),
        (dict(case_sha256s=CASES, arms=()), "at least one arm"),
        (dict(case_sha256s=CASES, arms=(ArmView("a", "reading", ("xray_vision",)),)), "overlay"),
        (dict(case_sha256s=CASES, arms=(ArmView("a", "quiz", ()),)), "arm kind"),
        (
            dict(case_sha256s=CASES, arms=(ArmView("t", "turing", ("report",)),)),
            "only the scanpath",
        ),
        (dict(case_sha256s=CASES, arms=(ARMS[0], ARMS[0])), "unique"),
        (dict(case_sha256s=CASES, design="latin"), "design"),
    ]
    for kwargs, message in bad:
        with pytest.raises(StoreInputError, match=message):
            store.create_study("bad", **kwargs)
    with pytest.raises(StoreInputError, match="fixation"):
        store.add_reference_scanpath(CASES[0], [{"x": "left"}], source="s", synthetic=True)
    with pytest.raises(StoreInputError, match="unknown study"):
        store.add_study_reader("nope", "alice")
    assert count() == before
