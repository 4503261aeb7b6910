"""Store benchmarks (``gazescope bench --only 'store.*'``).

``store.review_writes``: sustained review writes per second with 8 separate writer processes
through ``Store.add_review`` (the app's function), on a fresh SQLite file - the stress check of
``gazescope study stress`` without the kill. Under ``gazescope bench`` the writers inherit the
one-core pinning (``--all-cores`` lifts it); the detail says how many cores they had.

``store.study_report``: the time of the study report (``study_data`` + ``analyse``: reading the
database and every statistic) for a study with 10,000 current reviews (10 readers x 100 cases x
2 arms x 5 sentences), plus 2,000 time events and 2,000 ratings. The study is built through the
store API; the reviews are bulk-inserted (setup, not timed).
"""

from __future__ import annotations

import os
import random
import tempfile
import time

from core.bench import BenchContext, BenchResult, benchmark, time_call


@benchmark("store.review_writes")
def _writes(ctx: BenchContext) -> list[BenchResult]:
    from core.store.stress import run_stress

    writers, seconds = (2, 1.0) if ctx.quick else (8, 10.0)
    r = run_stress(writers=writers, seconds=seconds, kill=False)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        BenchResult(
            f"store review writes, {writers} writer processes",
            r.writes_per_s,
            "1/s",
            f"{r.acknowledged} acknowledged in {r.seconds:.1f} s on {cores} core(s); "
            f"missing {r.missing}, duplicates {r.duplicates}, integrity {r.integrity_check}",
        )
    ]


@benchmark("store.study_report")
def _report(ctx: BenchContext) -> list[BenchResult]:
    from core.store import open_store
    from core.store.analysis import analyse

    readers, cases, sentences = (4, 10, 5) if ctx.quick else (10, 100, 5)
    with tempfile.TemporaryDirectory() as d:
        store = open_store(f"sqlite:///{d}/bench.sqlite")
        n_reviews = _build_study(store, readers, cases, sentences)
        t0 = time.perf_counter()
        analyse(store.study_data("bench"))  # first call: imports statsmodels and pingouin
        first = time.perf_counter() - t0
        stats = time_call(
            lambda: analyse(store.study_data("bench")),
            repeat=min(ctx.repeat, 5),
            warmup=0,
        )
        store.close()
    return [
        BenchResult(
            f"store study report, {n_reviews} reviews",
            stats.median_ms / 1000,
            "s",
            f"{stats.describe()}; first call with library imports {first:.2f} s",
        )
    ]


def _build_study(store, readers: int, cases: int, sentences: int) -> int:  # type: ignore[no-untyped-def]
    """A finished two-arm study, ``readers x cases x 2 x sentences`` current reviews."""
    from sqlalchemy import insert

    from core.store import DEFAULT_ARMS
    from core.store.schema import EventRow, RatingRow, ReviewRow, utcnow
    from core.store.stress import _result

    rng = random.Random(0)
    shas = [f"{i:064x}" for i in range(1, cases + 1)]
    for sha in shas:
        store.ensure_case(sha, source="gazescope bench (synthetic)")
        result = _result(sha)
        result["sentences"] = result["sentences"][:sentences]
        store.save_prediction(sha, result, app_version="bench", seed=0)
    store.create_study("bench", case_sha256s=shas, arms=DEFAULT_ARMS, seed=0)
    reviews, events, ratings = [], [], []
    for r in range(readers):
        name = f"reader{r}"
        reader_id = store.ensure_reader(name).id
        for item in store.add_study_reader("bench", name):
            pred = store.get_prediction(item.prediction_id)
            for s in pred.sentences:
                action = rng.choice(("accept", "accept", "accept", "edit", "reject"))
                reviews.append(
                    {
                        "reader_id": reader_id,
                        "prediction_id": pred.id,
                        "sentence_id": s.id,
                        "action": action,
                        "edited_text": "Edited." if action == "edit" else None,
                        "error_category": None if action == "accept" else "other",
                        "significance": None if action == "accept" else "minor",
                        "client_request_id": f"{name}-{item.id}-{s.id}",
                        "assignment_id": item.id,
                        "created_at": utcnow(),
                    }
                )
            common = {
                "reader_id": reader_id,
                "case_id": store.get_case(item.case_sha256).id,
                "assignment_id": item.id,
                "created_at": utcnow(),
            }
            events.append(
                {**common, "kind": "time_on_case", "payload": {"seconds": rng.uniform(20, 120)}}
            )
            ratings.append(
                {
                    **common,
                    "usefulness": rng.randint(1, 5),
                    "trust": rng.randint(1, 5),
                    "scanpath_humanlike": rng.randint(1, 5),
                    "client_request_id": f"{name}-r{item.id}",
                }
            )
    with store._write_conn() as conn:
        conn.execute(insert(ReviewRow.__table__), reviews)
        conn.execute(insert(EventRow.__table__), events)
        conn.execute(insert(RatingRow.__table__), ratings)
    return len(reviews)
