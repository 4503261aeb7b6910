"""``gazescope synth-report``: how realistic a synthetic gaze corpus is.

    gazescope synth-report --root /tmp/corpus [--split test] [--limit 200] [--workers 2]

Prints, per part of the corpus (phantoms; real NIH images when the corpus has them), the
simulated figures next to the published real ones with the real source named on each row
(``core/eval/gaze_realism.py``), then the inter-reader consistency (human ceiling of
``core.eval``: MultiMatch MM and D-MM, saliency CC leave-one-reader-out, ...) on the
chosen split - the ceiling any model can reach on this corpus.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

_CEILING_METRICS = (
    "MM",
    "D-MM",
    "MM (simplified)",
    "ScanMatch",
    "MedGaze IoU",
    "NSS",
    "CC",
    "KL",
    "SIM",
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth-report",
        help="realism report of a synthetic gaze corpus (simulated vs published real figures)",
    )
    p.add_argument("--root", type=Path, required=True, help="corpus folder (gazescope synth)")
    p.add_argument(
        "--split",
        default="test",
        help="split for the inter-reader consistency ('all' for every image; default test)",
    )
    p.add_argument("--limit", type=int, metavar="N", help="at most N images for the consistency")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--no-consistency", action="store_true", help="skip the inter-reader part")
    p.set_defaults(func=run)


def _v(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.3f}" if abs(x) < 10 else f"{x:.1f}"


def run(args: argparse.Namespace) -> int:
    import json

    from core.errors import GazeScopeError
    from core.eval import HUMAN
    from core.eval.gaze_realism import consistency, gaze_statistics
    from core.tables import text_table

    root = args.root
    manifest = root / "corpus.json"
    if not manifest.is_file():
        raise GazeScopeError(f"{root}: no corpus.json - not a gazescope synth corpus")
    info = json.loads(manifest.read_text(encoding="utf-8"))
    counts = info.get("counts", {})
    print(
        f"Synthetic corpus {root} (generator {info.get('generator')} {info.get('version')}, seed "
        f"{info.get('config', {}).get('seed')}): {counts.get('images')} images, {counts.get('reads')} reads"
    )
    parts = [s for s in ("phantom", "nih") if counts.get("by_source", {}).get(s)]
    for source in parts:
        stats = gaze_statistics(root, source=source)
        title = "phantoms" if source == "phantom" else "real NIH images"
        print(f"\n== {title}: {stats.n_images} images, {stats.n_reads} reads ==")
        header = ("figure", "sim: full reads", "sim: search subset", "real", "real source")
        rows = [
            (
                r.name,
                _v(r.full),
                _v(r.search),
                _v(r.real),
                r.source if not math.isnan(r.real) else "no published real figure",
            )
            for r in stats.rows
        ]
        print(text_table(header, rows))
        for note in stats.notes:
            print(f"  note: {note}")
        if args.no_consistency:
            continue
        split = None if args.split == "all" else args.split
        result = consistency(
            root, source=source, split=split, limit=args.limit, workers=max(1, args.workers)
        )
        label = f"split {args.split}" if split else "all splits"
        print(
            f"\n  Inter-reader consistency ({label}, {result.protocol.get('n_images', 0)} images; "
            "each reader vs the other readers of the image, saliency leave-one-reader-out; "
            "core.eval human ceiling, 95 % bootstrap CI over images):"
        )
        got = False
        for m in _CEILING_METRICS:
            try:
                row = result.get(HUMAN, m)
            except KeyError:
                continue
            got = True
            print(f"    {m:<16} {row.mean:.3f} [{row.lo:.3f}, {row.hi:.3f}]  n={row.n}")
        if not got:
            print("    not available (no image with 2 or more readers in this part)")
        else:
            print(
                "    (no published inter-reader figure for REFLACX in GAZE_FACTS; this is the ceiling for models on this corpus)"
            )
    return 0
