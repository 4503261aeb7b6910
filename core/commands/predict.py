"""``gazescope predict FILE [--json] [--png OUT]``: the whole reading pipeline on one radiograph.

Runs :class:`core.pipeline.ReadingPipeline` (anatomy -> scanpath samples -> classifier ->
report) on a DICOM, PNG, JPEG or TIFF file. Without options it prints a summary (models,
findings with bands, the draft report with each sentence's regions, timings); ``--json`` prints
``ReadingResult.to_dict()`` (schema in docs/READING_RESULT.md); ``--png OUT`` writes a reading
sheet (anatomy with the report's regions, the first scanpath sample, the top finding's
attention or the saliency map, the report). A file that cannot be read ends with one line
naming it and exit code 2, as ``gazescope info`` does. Research use only: no clinical claim.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

_NONE = "none"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict", help="anatomy, scanpaths, findings and a draft report for one radiograph"
    )
    p.add_argument("file", type=Path, help="DICOM, PNG, JPEG or TIFF file")
    p.add_argument("--json", action="store_true", help="print the ReadingResult as JSON")
    p.add_argument("--png", type=Path, metavar="OUT", help="write a reading-sheet PNG here")
    p.add_argument("--k", type=int, default=8, help="scanpath samples (default 8)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    p.add_argument(
        "--scanpath", default="auto", help="scanpath predictor name (default: best available)"
    )
    p.add_argument(
        "--classifier",
        default="auto",
        help="classifier name, 'auto' (default: a trained one if shipped) or 'none'",
    )
    p.add_argument(
        "--segmenter",
        default="auto",
        help="anatomy: 'auto' (default: the shipped segmenter fused with the classical method), "
        "'none' (classical only) or a segmenter name",
    )
    p.add_argument("--device", default="cpu", help="torch device for learned models")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.pipeline import ReadingPipeline

    pipeline = ReadingPipeline(
        scanpath=args.scanpath,
        classifier=None if args.classifier == _NONE else args.classifier,
        segmenter=None if args.segmenter == _NONE else args.segmenter,
        k=args.k,
        seed=args.seed,
        device=args.device,
    )
    with warnings.catch_warnings():
        if not getattr(args, "verbose", 0):  # pydicom's warnings duplicate what io reports
            warnings.simplefilter("ignore")
        result = pipeline.run_file(args.file)
    data = result.to_dict()
    if args.png:
        _write_png(result, args.png)
    if args.json:
        print(json.dumps(data, indent=1, allow_nan=False))
        return 0
    _print_summary(data)
    if args.png:
        print(f"reading sheet: {args.png}")
    return 0


def _write_png(result: object, out: Path) -> None:
    from PIL import Image

    from core.report import probability_band
    from core.report.render import render_reading_sheet

    heat, title = result.saliency, "scanpath saliency"
    if result.findings:
        top = max(result.findings, key=lambda f: (result.findings[f], f))
        if top in result.attention:
            p = result.findings[top]
            heat, title = result.attention[top], f"attention: {top} {p:.2f} ({probability_band(p)})"
    names = ", ".join(f"{m.role} {m.name}" for m in result.models)
    header = [
        f"{result.image.source_name}  {result.image.width} x {result.image.height}",
        f"models: {names}",
        "research prototype - not for clinical use",
    ]
    sheet = render_reading_sheet(
        result.radiograph.image,
        result.anatomy,
        result.sentences,
        scanpaths=result.scanpaths,
        heat=heat,
        heat_title=title,
        header=header,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(out)


def _print_summary(d: dict) -> None:
    img = d["image"]
    print(f"{img['source_name']}: {img['width']} x {img['height']} px, sha256 {img['sha256'][:16]}")
    a = d["anatomy"]
    note = "" if a["confidence"] >= 0.5 else f"  (do not trust: {'; '.join(a['reasons'])})"
    print(f"anatomy confidence {a['confidence']:.2f}{note}")
    for m in d["models"]:
        print(f"  {m['role']:<10} {m['name']} {m['version']}  [{m['training_data']}]")
    if d["findings"]:
        print("findings:")
        for f in d["findings"]:
            print(f"  {f['finding']:<24} {f['probability']:.3f}  {f['band']}")
    else:
        print("findings: none (no classifier)")
    print(f"scanpaths: {len(d['scanpaths'])} samples")
    print("report:")
    for s in d["sentences"]:
        regions = ", ".join(s["region_ids"]) or "-"
        print(f"  {s['id']:>3}  {s['text']}  [{regions}]")
    t = d["timings_ms"]
    print("timings: " + ", ".join(f"{k} {v:.0f} ms" for k, v in t.items()))
