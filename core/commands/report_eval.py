"""``gazescope report-eval --root CORPUS``: draft reports vs the simulated readers' dictations.

Prints, for the test split of a synthetic corpus (``gazescope synth``), the generated reports'
ROUGE-L, keyword recall/precision, label F1 and region grounding against every dictation of
each image, per image source and overall, next to the same figures between the readers' own
dictations (:mod:`core.eval.report`). SYNTHETIC DATA: the references are simulated readers.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report-eval",
        help="draft reports vs the simulated readers' dictations on a synthetic corpus split",
    )
    p.add_argument("--root", type=Path, required=True, help="synthetic corpus folder")
    p.add_argument("--split", default="test", help="corpus split (default: test)")
    p.add_argument(
        "--attention",
        choices=("none", "truth"),
        default="none",
        help="oracle findings placed without attention, or with their true masks as attention",
    )
    p.add_argument("--limit", type=int, help="only the first N images (smoke runs)")
    p.add_argument("--examples", type=int, default=0, help="print N generated reports")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.errors import GazeScopeError
    from core.eval.report import evaluate_reports, reader_reference, score_reports

    if not (args.root / "synthetic_readers.csv").is_file():
        raise GazeScopeError(f"{args.root}: not a synthetic corpus (no synthetic_readers.csv)")
    images = evaluate_reports(args.root, split=args.split, attention=args.attention, limit=args.limit)
    print(
        f"SYNTHETIC DATA - {args.root} split {args.split!r}: generated reports from the ORACLE "
        f"findings (true labels, stated plainly), attention: {args.attention}, anatomy by "
        "core.anatomy.locate. References: every simulated reader's dictation of the image."
    )
    groups = {"all": images}
    for source in sorted({im.source for im in images}):
        groups[source] = [im for im in images if im.source == source]
    for name, group in groups.items():
        gen, ref = score_reports(group), reader_reference(group)
        print(f"\n[{name}]  generated vs dictations  |  reader vs reader")
        for (label, g), (_, r) in zip(gen.as_rows(), ref.as_rows(), strict=True):
            print(f"  {label:<34} {g:<44} | {r}")
    for im in images[: args.examples]:
        print(f"\n{im.image_id} ({im.source})\n  generated: {im.generated}")
        for text in im.references:
            print(f"  dictated:  {text}")
    print(
        "\nCaveat: the simulated dictation and the generator share one lexicon "
        "(core.report.lexicon), so wording overlap (ROUGE-L, keywords) is higher than it would "
        "be against human reports."
    )
    return 0
