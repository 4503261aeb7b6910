"""``gazescope study``: run a reading study from creation to report, without writing code.

    gazescope study create pilot --cases a.dcm b.png ... [--arm with_ai=scanpath,attention,findings,report,regions]
                                 [--arm without_ai=report] [--arm turing=turing] [--design crossover|split] [--seed 0]
    gazescope study create pilot --from-corpus /tmp/corpus --max-cases 20 --arm ... # human scanpaths: simulated readers
    gazescope study add-reader pilot alice [--role radiologist] [--years 12]
    gazescope study assign pilot alice          # alice's blinded order (what the app will show next)
    gazescope study progress pilot
    gazescope study report pilot [--out DIR] [--html]
    gazescope study export OUT_DIR
    gazescope study stress [--db URL] --writers 8 --seconds 10
    gazescope study list

Every sub-command takes ``--db URL`` (default: ``$GAZESCOPE_DB``, else ``./gazescope.sqlite``).
An arm is ``NAME=OVERLAY,...`` (overlays: scanpath, attention, findings, report, regions; empty
for image only) or ``NAME=turing``. Without ``--arm``: with_ai (every overlay) and without_ai
(the draft report only). ``create`` reads each image (``core.io``; cases are keyed by the
SHA-256 of the file, never a header value) and runs the reading pipeline once per case, so that
every reader reviews the same prediction (``--no-predict``: predictions stored already, or
saved by the app when first opened).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from core.errors import GazeScopeError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("study", help="reading studies: create, readers, progress, report, export")
    ss = p.add_subparsers(dest="study_command", metavar="STUDY_COMMAND")
    ss.required = True

    def add(name: str, help: str) -> argparse.ArgumentParser:
        q = ss.add_parser(name, help=help)
        q.add_argument("--db", metavar="URL", help="database URL (default $GAZESCOPE_DB)")
        return q

    q = add("create", "create a study from a case list with arms")
    q.add_argument("name", help="study name (lower-case identifier)")
    src = q.add_mutually_exclusive_group(required=True)
    src.add_argument("--cases", nargs="+", type=Path, metavar="FILE", help="image files")
    src.add_argument("--case-list", type=Path, metavar="TXT", help="file with one path a line")
    src.add_argument(
        "--from-corpus",
        type=Path,
        metavar="DIR",
        help="a synthetic corpus (gazescope synth): its images, and its simulated readers' "
        "scanpaths as the human side of Turing-test arms",
    )
    q.add_argument("--max-cases", type=int, metavar="N", help="with --from-corpus: first N images")
    q.add_argument("--arm", action="append", metavar="NAME=OVERLAYS", help="an arm (repeat)")
    q.add_argument("--design", choices=("crossover", "split"), default="crossover")
    q.add_argument("--seed", type=int, default=0, help="seed of every reader's order")
    q.add_argument("--description", default="", help="free text shown in the report")
    q.add_argument("--source", default="local files", help="where the images come from")
    q.add_argument("--licence", default="", help="the images' licence")
    q.add_argument("--no-predict", action="store_true", help="do not run the reading pipeline")
    q.set_defaults(func=_create)

    q = add("add-reader", "enrol a reader (creates their seeded, blinded order)")
    q.add_argument("study")
    q.add_argument("username")
    q.add_argument("--role", default="reader")
    q.add_argument("--years", type=float, metavar="Y", help="years of experience")
    q.set_defaults(func=_add_reader)

    q = add("assign", "show a reader's order (blinded: no Turing sources)")
    q.add_argument("study")
    q.add_argument("username")
    q.set_defaults(func=_assign)

    q = add("progress", "items done per reader")
    q.add_argument("study")
    q.set_defaults(func=_progress)

    q = add("report", "per-reader and pooled figures; CSV/JSON tables, --html for charts")
    q.add_argument("study")
    q.add_argument("--out", type=Path, help="folder for the tables (default study-report-NAME)")
    q.add_argument("--html", action="store_true", help="also write report.html (self-contained)")
    q.set_defaults(func=_report)

    q = add("export", "CSV + JSON of every table and a consistent SQLite copy")
    q.add_argument("out", type=Path, help="output folder")
    q.set_defaults(func=_export)

    q = add("stress", "concurrent writer processes, one SIGKILLed mid-transaction; checks")
    q.add_argument("--writers", type=int, default=8)
    q.add_argument("--seconds", type=float, default=10.0)
    q.add_argument("--no-kill", action="store_true", help="do not kill a writer")
    q.set_defaults(func=_stress)

    q = add("list", "the studies in the database")
    q.set_defaults(func=_list)


# --- sub-commands --------------------------------------------------------------------------


def _create(args: argparse.Namespace) -> int:
    from core.store import open_store

    arms = _parse_arms(args.arm)
    store = open_store(args.db)
    predict = None if args.no_predict else _predictor(args.seed)
    if args.from_corpus:
        shas = _cases_from_corpus(store, args.from_corpus, args.max_cases, predict)
    else:
        files = list(args.cases or []) or _read_case_list(args.case_list)
        shas = _cases_from_files(store, files, args.source, args.licence, predict)
    study = store.create_study(
        args.name,
        case_sha256s=shas,
        arms=arms,
        seed=args.seed,
        design=args.design,
        description=args.description,
    )
    arms_text = ", ".join(f"{a.name} ({a.kind}: {','.join(a.overlays) or '-'})" for a in study.arms)
    print(
        f"study {study.name}: {len(study.case_sha256s)} cases, arms {arms_text}, "
        f"design {study.design}, seed {study.seed}"
    )
    print(f"database: {store.url}")
    return 0


def _add_reader(args: argparse.Namespace) -> int:
    from core.store import open_store

    store = open_store(args.db)
    store.ensure_reader(args.username, role=args.role, years_experience=args.years)
    items = store.add_study_reader(args.study, args.username)
    print(f"{args.username} enrolled in {args.study}: {len(items)} items in a seeded order")
    return 0


def _assign(args: argparse.Namespace) -> int:
    from core.store import open_store

    store = open_store(args.db)
    items = store.reader_assignments(args.username, args.study)
    nxt = store.next_assignment(args.username, args.study)
    print(f"{args.username} in {args.study}: {sum(i.completed for i in items)}/{len(items)} done")
    for i in items:
        mark = "done" if i.completed else ("next" if nxt and i.id == nxt.id else "")
        print(f"  {i.position + 1:>4}  {i.case_sha256[:12]}  {i.arm.name:<14} {mark}")
    return 0


def _progress(args: argparse.Namespace) -> int:
    from core.store import open_store

    progress = open_store(args.db).study_progress(args.study)
    print(f"study {progress.name}: {progress.done}/{progress.total} items done")
    for r in progress.readers:
        print(f"  {r.username:<20} {r.done:>5}/{r.total:<5}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from core.store import open_store
    from core.store.analysis import analyse
    from core.store.figures import study_html

    store = open_store(args.db)
    t0 = time.perf_counter()
    report = analyse(store.study_data(args.study))
    seconds = time.perf_counter() - t0
    out = args.out or Path(f"study-report-{report.study}")
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in report.tables().items():
        _write_csv(out / f"{name}.csv", rows)
    (out / "report.json").write_text(
        json.dumps(_json_safe(report.to_dict()), indent=1, allow_nan=False), encoding="utf-8"
    )
    _print_report(report)
    if args.html:
        (out / "report.html").write_text(study_html(report), encoding="utf-8")
        print(f"\ncharts: {out / 'report.html'} (self-contained, plotly.js embedded)")
    print(f"tables: {out}/*.csv, report.json (analysis took {seconds:.2f} s)")
    return 0


def _export(args: argparse.Namespace) -> int:
    from core.store import open_store

    summary = open_store(args.db).export(args.out)
    print(f"exported schema revision {summary.revision} to {summary.folder}")
    for table, n in summary.rows.items():
        print(f"  {table:<24} {n:>8} rows")
    if summary.sqlite_copy:
        print(f"SQLite copy (backup API): {summary.sqlite_copy}")
    return 0


def _stress(args: argparse.Namespace) -> int:
    from core.store.db import database_url
    from core.store.stress import run_stress

    url = database_url(args.db) if args.db else None
    r = run_stress(url, writers=args.writers, seconds=args.seconds, kill=not args.no_kill)
    print(f"database:              {r.url}")
    print(
        f"writer processes:      {r.writers}"
        + (" (one SIGKILLed mid-transaction)" if r.killed else "")
    )
    print(f"acknowledged writes:   {r.acknowledged} in {r.seconds:.1f} s ({r.writes_per_s:.0f}/s)")
    print(f"rows found:            {r.found}")
    print(f"missing:               {r.missing}")
    print(f"duplicates:            {r.duplicates}")
    print(
        f"retried requests:      {r.retries} (same client request id; answered from the first row)"
    )
    print(f"killed txn rows seen:  {r.uncommitted_visible}")
    print(f"forked review chains:  {r.forked_chains}")
    print(f"foreign-key problems:  {r.foreign_key_violations}")
    print(f"PRAGMA integrity_check: {r.integrity_check}")
    print("PASS" if r.passed else "FAIL")
    return 0 if r.passed else 1


def _list(args: argparse.Namespace) -> int:
    from core.store import open_store

    for s in open_store(args.db).list_studies():
        print(
            f"{s.name:<20} {len(s.case_sha256s):>5} cases  {len(s.readers):>3} readers  "
            f"arms {', '.join(a.name for a in s.arms)}"
        )
    return 0


# --- helpers -------------------------------------------------------------------------------


def _parse_arms(specs: list[str] | None):  # type: ignore[no-untyped-def]
    from core.store import DEFAULT_ARMS, ArmView

    if not specs:
        return DEFAULT_ARMS
    arms = []
    for spec in specs:
        name, sep, rest = spec.partition("=")
        if not sep:
            raise GazeScopeError(f"--arm {spec!r}: expected NAME=OVERLAY,... or NAME=turing")
        if rest.strip() == "turing":
            arms.append(ArmView(name.strip(), "turing", ()))
        else:
            overlays = tuple(o.strip() for o in rest.split(",") if o.strip())
            arms.append(ArmView(name.strip(), "reading", overlays))
    return tuple(arms)


def _read_case_list(path: Path) -> list[Path]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        (path.parent / line.strip()) if not Path(line.strip()).is_absolute() else Path(line.strip())
        for line in lines
        if line.strip() and not line.startswith("#")
    ]


def _predictor(seed: int):  # type: ignore[no-untyped-def]
    """A function that runs the reading pipeline on a radiograph and stores the result."""
    from core import __version__
    from core.pipeline import ReadingPipeline

    pipeline = ReadingPipeline(seed=seed)

    def predict(store, radiograph) -> None:  # type: ignore[no-untyped-def]
        result = pipeline(radiograph)
        store.save_prediction(
            radiograph.sha256, result.to_dict(), app_version=__version__, seed=seed
        )

    return predict


def _cases_from_files(store, files, source, licence, predict) -> list[str]:  # type: ignore[no-untyped-def]
    """Load each image (core.io), add it as a case ("case N"), run the pipeline once."""
    from core.io import load_radiograph

    shas = []
    for i, path in enumerate(files):
        radiograph = load_radiograph(path)
        store.ensure_case(
            radiograph.sha256, source=source, licence=licence, display_name=f"case {i + 1}"
        )
        if predict is not None:
            predict(store, radiograph)
        shas.append(radiograph.sha256)
    return shas


def _cases_from_corpus(store, root: Path, max_cases: int | None, predict) -> list[str]:  # type: ignore[no-untyped-def]
    """The corpus's images as cases and its simulated readers' scanpaths as human references."""
    from core.data.reflacx import read_reflacx
    from core.data.synth.corpus import read_reader_table
    from core.io import load_radiograph

    readers = root / "synthetic_readers.csv"
    cases = read_reflacx(
        root,
        images_root=root / "images",
        dataset="synthetic",
        reader_ids=read_reader_table(readers) if readers.is_file() else None,
    )
    shas: list[str] = []
    for case in cases:
        if max_cases is not None and len(shas) >= max_cases:
            break
        if case.image.path is None:
            continue
        radiograph = load_radiograph(case.image.path)
        sha = radiograph.sha256
        store.ensure_case(
            sha,
            source=f"GazeScope synthetic corpus {root.name} (synthetic)",
            licence="see the corpus README.md",
            display_name=f"case {len(shas) + 1}",
        )
        if predict is not None:
            predict(store, radiograph)
        for read in case.reads:
            fixations = [
                {"x": f.x, "y": f.y, "start_s": f.start_s, "duration_s": f.duration_s}
                for f in read.scanpath.fixations
            ]
            if fixations:
                store.add_reference_scanpath(
                    sha,
                    fixations,
                    source=f"simulated reader {read.reader_id} (synthetic corpus {root.name})",
                    synthetic=True,
                )
        shas.append(sha)
    if not shas:
        raise GazeScopeError(f"{root}: no corpus case with an image found")
    return shas


def _json_safe(value: object) -> object:
    """NaN (an undefined statistic) as null, tuples as lists."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _write_csv(path: Path, rows: list[dict]) -> None:
    import csv

    with path.open("w", newline="", encoding="utf-8") as f:
        if not rows:
            return
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return "-" if v != v else f"{v:.3f}"
    return str(v)


def _print_rows(title: str, rows: list[dict], columns: list[str]) -> None:
    print(f"\n{title}")
    if not rows:
        print("  (no data)")
        return
    widths = [max(len(c), *(len(_fmt(r.get(c, ""))) for r in rows)) for c in columns]
    print("  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for r in rows:
        print(
            "  "
            + "  ".join(_fmt(r.get(c, "")).ljust(w) for c, w in zip(columns, widths, strict=True))
        )


def _print_report(report) -> None:  # type: ignore[no-untyped-def]
    print(
        f"study {report.study}: readers {', '.join(report.readers) or '-'}; arms {', '.join(report.arms)}"
    )
    _print_rows("progress", report.progress, ["reader", "done", "total"])
    pooled = lambda rows: [r for r in rows if r["scope"] == "all"]  # noqa: E731
    rate_cols = ["n", "accept_rate", "edit_rate", "reject_rate"]
    _print_rows(
        "review actions by finding (pooled)",
        pooled(report.actions_by_finding),
        ["arm", "finding", *rate_cols],
    )
    _print_rows(
        "review actions by region (pooled)",
        pooled(report.actions_by_region),
        ["arm", "region", *rate_cols],
    )
    _print_rows(
        "errors by category and significance (pooled)",
        pooled(report.errors),
        ["arm", "error_category", "significance", "n"],
    )
    _print_rows(
        "time per case (per reader and pooled)",
        report.time_per_case,
        ["scope", "arm", "cases", "mean_s", "median_s", "sd_s"],
    )
    _print_rows(
        "Turing test (per reader and pooled; 95% Wilson CI)",
        report.turing,
        ["scope", "n", "correct", "accuracy", "ci95_low", "ci95_high", "model_judged_human"],
    )
    if report.synthetic_humans:
        print(
            "  note: the human scanpaths are simulated readers' (synthetic corpus), not real ones"
        )
    _print_rows(
        "agreement between readers",
        report.agreement,
        ["measure", "of", "raters", "items", "value", "ci95_low", "ci95_high"],
    )
    print("\nper-reader rates: actions_by_finding.csv / actions_by_region.csv (scope = reader)")
