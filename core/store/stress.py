"""The store's concurrency check: real writer processes, one killed with SIGKILL mid-transaction.

``run_stress`` starts ``writers`` separate Python processes (``python -m core.store.stress``),
each writing reviews through ``Store.add_review`` - the function the app calls - as its own
reader, and retrying about one request in ten with the same client request id (a network
retry). A writer appends a request id to its acknowledgement file only after ``add_review``
returned, i.e. after the commit. With ``kill=True`` the last writer, a third of the way in,
opens a write transaction, inserts rows, flushes them and signals; the parent then kills it
with SIGKILL while the transaction is open (it holds SQLite's write lock; the others wait).

Afterwards the parent checks the database: every acknowledged request id present, no request
id stored twice, none of the killed transaction's rows visible, every (reader, sentence) chain
of superseding reviews linear, ``PRAGMA integrity_check`` "ok" and no foreign-key violation.
The same machinery measures sustained writes per second for ``gazescope bench``.
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from core.store.schema import ReviewRow
from core.store.store import open_store

logger = logging.getLogger(__name__)

__all__ = ["StressResult", "run_stress"]

N_SENTENCES = 12
RETRY_SHARE = 0.1  # share of requests re-sent with the previous request id
UNCOMMITTED_PREFIX = "killed-uncommitted-"
STARTUP_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class StressResult:
    url: str
    writers: int
    seconds: float  # from the first writer's start to the last writer's last write
    acknowledged: int  # distinct request ids acknowledged by writers
    found: int  # of those, rows in the database
    missing: int
    duplicates: int  # request ids stored more than once
    retries: int  # requests re-sent with an id already acknowledged
    uncommitted_visible: int  # rows of the killed transaction found (must be 0)
    forked_chains: int  # (reader, sentence) with more than one unsuperseded head
    integrity_check: str
    foreign_key_violations: int
    killed: bool

    @property
    def writes_per_s(self) -> float:
        return self.acknowledged / self.seconds if self.seconds > 0 else 0.0

    @property
    def passed(self) -> bool:
        return (
            self.missing == 0
            and self.duplicates == 0
            and self.uncommitted_visible == 0
            and self.forked_chains == 0
            and self.integrity_check == "ok"
            and self.foreign_key_violations == 0
            and self.acknowledged > 0
        )


def run_stress(
    url: str | None = None, *, writers: int = 8, seconds: float = 5.0, kill: bool = True
) -> StressResult:
    """Run the check on ``url`` (default: a fresh SQLite file in a temporary folder)."""
    if writers < 1 or (kill and writers < 2):
        raise ValueError("stress needs at least 1 writer (2 with kill)")
    with tempfile.TemporaryDirectory(prefix="gazescope-stress-") as tmp:
        work = Path(tmp)
        url = url or f"sqlite:///{work / 'stress.sqlite'}"
        store = open_store(url)
        case = "5" * 64
        store.ensure_case(case, source="gazescope study stress (synthetic)")
        pred = store.save_prediction(case, _result(case), app_version="stress", seed=0)
        run_tag = f"{os.getpid()}-{time.time_ns()}"
        names = [f"stress-{run_tag}-w{i}" for i in range(writers)]
        for name in names:
            store.ensure_reader(name)
        go = work / "go"
        procs = []
        for i, name in enumerate(names):
            victim = kill and i == writers - 1
            args = {
                "url": url,
                "username": name,
                "prediction_id": pred.id,
                "sentence_ids": [s.id for s in pred.sentences],
                "seconds": seconds,
                "go": str(go),
                "ack": str(work / f"{name}.ack"),
                "stats": str(work / f"{name}.stats"),
                "ready": str(work / f"{name}.ready"),
                "victim": victim,
                "seed": i,
            }
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "core.store.stress", json.dumps(args)],
                    env={**os.environ, "PYTHONPATH": _pythonpath()},
                )
            )
        _wait_for([work / f"{n}.ready" for n in names], procs)
        go.touch()
        killed = False
        if kill:
            victim_proc, victim_name = procs[-1], names[-1]
            in_txn = work / f"{victim_name}.ack.in-transaction"
            _wait_for([in_txn], [victim_proc], timeout=seconds + STARTUP_TIMEOUT_S)
            os.kill(victim_proc.pid, signal.SIGKILL)
            victim_proc.wait()
            killed = victim_proc.returncode == -signal.SIGKILL
            logger.info("writer %s killed mid-transaction", victim_name)
        for p in procs:
            p.wait()
        failed = [p.returncode for p in procs[: len(procs) - int(kill)] if p.returncode != 0]
        if failed:
            raise RuntimeError(f"{len(failed)} writer process(es) failed: exit codes {failed}")
        acked: set[str] = set()
        retries = 0
        starts, ends = [], []
        for name in names:
            acked |= set((work / f"{name}.ack").read_text().split())
            stats = work / f"{name}.stats"
            if stats.is_file():  # the killed writer leaves none
                st = json.loads(stats.read_text())
                retries += st["retries"]
                starts.append(st["start"])
                ends.append(st["end"])
        elapsed = max(ends) - min(starts) if starts else 0.0
        store.close()
        return _check(url, acked, retries, writers, elapsed, killed, names)


def _check(
    url: str,
    acked: set[str],
    retries: int,
    writers: int,
    elapsed: float,
    killed: bool,
    names: list[str],
) -> StressResult:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            ids = {
                r[0]
                for r in conn.execute(
                    text(
                        "SELECT client_request_id FROM reviews JOIN readers ON readers.id = "
                        "reviews.reader_id WHERE readers.username LIKE :p"
                    ),
                    {"p": names[0].rsplit("-w", 1)[0] + "-w%"},
                )
            }
            duplicates = conn.execute(
                text(
                    "SELECT COUNT(*) FROM (SELECT client_request_id FROM reviews "
                    "GROUP BY client_request_id HAVING COUNT(*) > 1) AS d"
                )
            ).scalar_one()
            uncommitted = conn.execute(
                text("SELECT COUNT(*) FROM reviews WHERE client_request_id LIKE :p"),
                {"p": UNCOMMITTED_PREFIX + "%"},
            ).scalar_one()
            forked = conn.execute(
                text(
                    "SELECT COUNT(*) FROM (SELECT reader_id, sentence_id FROM reviews "
                    "WHERE supersedes_id IS NULL GROUP BY reader_id, sentence_id "
                    "HAVING COUNT(*) > 1) AS f"
                )
            ).scalar_one()
            if engine.dialect.name == "sqlite":
                integrity = conn.execute(text("PRAGMA integrity_check")).scalar_one()
                fk = len(conn.execute(text("PRAGMA foreign_key_check")).all())
            else:
                integrity, fk = "ok (not SQLite: constraints enforced by the server)", 0
    finally:
        engine.dispose()
    found = len(acked & ids)
    return StressResult(
        url=url,
        writers=writers,
        seconds=elapsed,
        acknowledged=len(acked),
        found=found,
        missing=len(acked) - found,
        duplicates=duplicates,
        retries=retries,
        uncommitted_visible=uncommitted,
        forked_chains=forked,
        integrity_check=str(integrity),
        foreign_key_violations=fk,
        killed=killed,
    )


def _wait_for(
    paths: list[Path], procs: list[subprocess.Popen], timeout: float = STARTUP_TIMEOUT_S
) -> None:
    deadline = time.monotonic() + timeout
    while not all(p.exists() for p in paths):
        dead = [p.returncode for p in procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"a writer process exited early (exit code {dead[0]})")
        if time.monotonic() > deadline:
            raise RuntimeError(f"writers not ready after {timeout:.0f} s")
        time.sleep(0.01)


def _pythonpath() -> str:
    root = str(Path(__file__).resolve().parents[2])
    rest = os.environ.get("PYTHONPATH", "")
    return root + (os.pathsep + rest if rest else "")


def _result(case: str) -> dict[str, object]:
    """A minimal ReadingResult.to_dict() with ``N_SENTENCES`` sentences to review."""
    return {
        "schema_version": 1,
        "image": {"sha256": case, "width": 512, "height": 512, "modality": "", "view": ""},
        "findings": [],
        "scanpaths": [],
        "sentences": [
            {"id": f"s{i}", "text": f"Stress sentence {i}.", "region_ids": ["mediastinum"]}
            for i in range(N_SENTENCES)
        ],
        "models": [],
        "timings_ms": {},
    }


# --- the writer process --------------------------------------------------------------------


def _writer(args: dict) -> None:
    store = open_store(args["url"])
    rng = random.Random(args["seed"])
    ack = os.open(args["ack"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    Path(args["ready"]).touch()
    go = Path(args["go"])
    while not go.exists():
        time.sleep(0.005)
    start = time.time()
    deadline = time.monotonic() + args["seconds"]
    kill_at = time.monotonic() + args["seconds"] / 3 if args["victim"] else None
    last: str | None = None
    n = retries = 0
    while time.monotonic() < deadline:
        if kill_at is not None and time.monotonic() >= kill_at:
            _open_transaction_and_wait(store, args)
        if last is not None and rng.random() < RETRY_SHARE:
            request, retries = last, retries + 1
        else:
            request, n = f"{args['username']}-{n}", n + 1
        action = rng.choice(("accept", "edit", "reject"))
        store.add_review(
            args["username"],
            args["prediction_id"],
            rng.choice(args["sentence_ids"]),
            action=action,
            edited_text="Edited under stress." if action == "edit" else None,
            error_category="other" if action == "reject" else None,
            client_request_id=request,
        )
        os.write(ack, f"{request}\n".encode())  # only after add_review returned (committed)
        last = request
    os.close(ack)
    Path(args["stats"]).write_text(
        json.dumps({"writes": n, "retries": retries, "start": start, "end": time.time()})
    )


def _open_transaction_and_wait(store, args: dict) -> None:  # type: ignore[no-untyped-def]
    """Insert rows in an open write transaction, tell the parent, and wait to be killed."""
    with store._write() as session:
        reader_id = session.execute(
            text("SELECT id FROM readers WHERE username = :u"), {"u": args["username"]}
        ).scalar_one()
        for k in range(10):
            session.add(
                ReviewRow(
                    reader_id=reader_id,
                    prediction_id=args["prediction_id"],
                    sentence_id=args["sentence_ids"][0],
                    action="accept",
                    client_request_id=f"{UNCOMMITTED_PREFIX}{k}",
                )
            )
        session.flush()  # the rows are written to the database file's journal, not committed
        Path(args["ack"] + ".in-transaction").touch()
        time.sleep(3600)


if __name__ == "__main__":
    _writer(json.loads(sys.argv[1]))
