"""``gazescope report-eval``: draft reports vs the simulated readers' dictations and NIH labels.

- ``--root CORPUS``: for a split of a synthetic corpus (``gazescope synth``; default ``test``),
  the generated reports' ROUGE-L, keyword recall/precision, label F1 and region grounding
  against every dictation of each image, per image source and overall, next to the same
  figures between the readers' own dictations (:mod:`core.eval.report`). Findings come from the
  ORACLE (the true labels) unless ``--classifier`` names a classifier: then the report is the
  pipeline's own (anatomy, classifier findings and attention, generator), and real NIH images
  are kept only when their patient is in the classifier's test part
  (``core.train.classifier_data.patient_split``). SYNTHETIC DATA: the references are
  simulated readers.
- ``--nih DIR --classifier NAME``: on the real NIH sample's patient-disjoint held-out part (the
  classifier's test patients), label F1 of the generated report against the NIH labels, next
  to the classifier's probabilities thresholded at the lowest written band.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report-eval",
        help="draft reports vs simulated dictations (synthetic corpus) and NIH labels",
    )
    p.add_argument("--root", type=Path, help="synthetic corpus folder")
    p.add_argument("--nih", type=Path, help="nih-cxr14-sample folder (needs --classifier)")
    p.add_argument("--split", default="test", help="corpus split (default: test)")
    p.add_argument(
        "--classifier",
        help="a registered classifier (its shipped checkpoint); default: oracle findings",
    )
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

    if args.root is None and args.nih is None:
        raise GazeScopeError("give --root CORPUS and/or --nih DIR")
    if args.nih is not None and args.classifier is None:
        raise GazeScopeError("--nih needs --classifier: NIH labels are the only reference there")
    if args.classifier is not None and args.attention != "none":
        raise GazeScopeError("--attention truth goes with the oracle findings only")
    reading = _reading(args.classifier) if args.classifier else None
    if args.root is not None:
        if not (args.root / "synthetic_readers.csv").is_file():
            raise GazeScopeError(f"{args.root}: not a synthetic corpus (no synthetic_readers.csv)")
        _synthetic(args, reading)
    if args.nih is not None:
        _nih(args, reading)
    return 0


def _reading(name: str):
    """The pipeline with classifier ``name`` and no scanpath samples (they do not enter text)."""
    from core.pipeline import ReadingPipeline

    return ReadingPipeline(classifier=name, k=0)


def _held_out(image_id: str) -> bool:
    """An NIH image whose patient is in the classifier's test part."""
    from core.train.classifier_data import patient_split

    return patient_split(str(int(image_id.split("_")[0]))) == "test"


def _synthetic(args: argparse.Namespace, reading) -> None:
    from core.eval.report import evaluate_reports, reader_reference, score_reports

    keep = None
    if reading is not None:

        def keep(image_id: str, source: str) -> bool:
            return source == "phantom" or _held_out(image_id)

    images = evaluate_reports(
        args.root,
        split=args.split,
        reading=reading,
        attention=args.attention,
        keep=keep,
        limit=args.limit,
    )
    if reading is None:
        source = (
            "the ORACLE findings (true labels, stated plainly), attention: "
            f"{args.attention}, anatomy by core.anatomy.locate"
        )
    else:
        models = ", ".join(f"{m.role}={m.name} {m.version}" for m in reading.models())
        source = f"the pipeline ({models}); real images only from the classifier's test patients"
    print(
        f"SYNTHETIC DATA - {args.root} split {args.split!r}: generated reports from {source}. "
        "References: every simulated reader's dictation of the image."
    )
    groups = {"all": images}
    for src in sorted({im.source for im in images}):
        groups[src] = [im for im in images if im.source == src]
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


def _nih(args: argparse.Namespace, reading) -> None:
    from core.eval.report import evaluate_nih_reports

    s = evaluate_nih_reports(args.nih, reading, keep=_held_out, limit=args.limit)
    models = ", ".join(f"{m.role}={m.name} {m.version}" for m in reading.models())
    print(
        f"\nREAL NIH images, held-out part (the classifier's test patients): {s.n_images} images; "
        f"{models}.\nLabel F1 vs NIH labels: the generated report read back by the labeller "
        f"(uncertain = positive) and the classifier thresholded at p >= {s.threshold} "
        "(the lowest band the report writes)."
    )
    print(f"  {'finding':<22} {'positives':>9} {'report F1':>10} {'classifier F1':>14}")
    for f, n, rf, cf in zip(s.findings, s.supports, s.report_f1s, s.classifier_f1s, strict=True):
        print(f"  {f:<22} {n:>9} {_f(rf):>10} {_f(cf):>14}")
    print(
        f"  {'micro':<22} {int(s.supports.sum()):>9} {_f(s.report_micro_f1):>10} "
        f"{_f(s.classifier_micro_f1):>14}"
    )
    print(
        f"  {'macro (defined labels)':<22} {'':>9} {_f(s.report_macro_f1):>10} "
        f"{_f(s.classifier_macro_f1):>14}"
    )


def _f(v: float) -> str:
    return "n/a" if not math.isfinite(v) else f"{v:.3f}"
