"""``gazescope anatomy FILE``: lungs, heart, region atlas and measurements of one radiograph.

Reads the file with ``core.io.load_radiograph(path) -> Radiograph`` (display image in [0, 1],
bone bright, ``spacing_mm`` when the file has it; bad files raise ``InputFileError``).
``--method learned|fused`` runs the shipped segmenter (``core.models.segmenter``) and hands
its probabilities to ``core.anatomy.locate``; ``--masks`` writes the lungs and heart as a
label PNG at the image's own size.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "anatomy", help="find lungs, heart and the named regions; measure CTR, CP angles, ..."
    )
    p.add_argument("file", type=Path, help="DICOM or PNG/JPEG chest radiograph")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--png", type=Path, metavar="OUT", help="write an overlay PNG here")
    p.add_argument(
        "--masks",
        type=Path,
        metavar="OUT",
        help="write a label PNG at the image's size: 0 background, 1 right lung, 2 left lung, "
        "3 heart (patient's right on the image's left)",
    )
    p.add_argument(
        "--method",
        choices=("auto", "classical", "learned", "fused"),
        default="auto",
        help="classical (no weights), learned (the segmenter) or both fused; auto (default): "
        "fused when the segmenter's weights are on disk, else classical",
    )
    p.add_argument(
        "--checkpoint",
        help="segmenter checkpoint folder or name under trained_models/ (default: the shipped one)",
    )
    p.add_argument(
        "--spacing-mm",
        type=float,
        nargs=2,
        metavar=("ROW", "COL"),
        help="pixel spacing when the file does not carry it (e.g. PNG), for mm and cm2",
    )
    p.set_defaults(func=run)


def anatomy_to_dict(anatomy) -> dict:
    """Plain-JSON view of an ``Anatomy`` (boxes, confidences, area shares; no masks)."""
    gh, gw = anatomy.grid_shape
    return {
        "confidence": round(anatomy.confidence, 4),
        "reasons": list(anatomy.reasons),
        "method": anatomy.method,
        "grid_shape": [gh, gw],
        "regions": {
            rid: {
                "box": [round(v, 4) for v in r.box],
                "confidence": round(r.confidence, 4),
                "area_fraction": round(float(r.mask.sum()) / (gh * gw), 5),
            }
            for rid, r in anatomy.regions.items()
        },
        "measurements": {
            mid: {
                "value": round(m.value, 4),
                "unit": m.unit,
                "lines": [
                    [list(map(lambda v: round(v, 4), a)), list(map(lambda v: round(v, 4), b))]
                    for a, b in m.lines
                ],
                "points": [[round(x, 4), round(y, 4)] for x, y in m.points],
                "note": m.note,
                "confidence": round(m.confidence, 4),
            }
            for mid, m in anatomy.measurements.items()
        },
    }


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from PIL import Image

    from core.anatomy import CONFIDENCE_THRESHOLD, locate, render_overlay
    from core.io import load_radiograph

    radiograph = load_radiograph(args.file)
    if args.spacing_mm:
        radiograph = dataclasses.replace(
            radiograph, spacing_mm=tuple(args.spacing_mm), spacing_source="command line"
        )
    method = args.method
    if method == "auto":
        from core.pipeline import default_model

        have = args.checkpoint is not None or default_model("segmenter") is not None
        method = "fused" if have else "classical"
    if method == "classical":
        anatomy = locate(radiograph)
    else:
        from core.models.segmenter import load_segmenter

        anatomy = load_segmenter(args.checkpoint).locate(radiograph, method=method)
    if args.png:
        Image.fromarray(render_overlay(radiograph.image, anatomy)).save(args.png)
    if args.masks:
        labels = anatomy.label_image(radiograph.height, radiograph.width)
        Image.fromarray(labels).save(args.masks)
    if args.json:
        out = {"file": args.file.name, **anatomy_to_dict(anatomy)}
        print(json.dumps(out, indent=2))
        return 0
    verdict = "ok" if anatomy.confidence >= CONFIDENCE_THRESHOLD else "NOT TRUSTED"
    print(f"{args.file.name}: anatomy confidence {anatomy.confidence:.2f} ({verdict})")
    print(f"  method: {anatomy.method}")
    for reason in anatomy.reasons:
        print(f"  - {reason}")
    print("regions (normalised box x0 y0 x1 y1, confidence):")
    for rid, r in anatomy.regions.items():
        box = " ".join(f"{v:.3f}" for v in r.box)
        print(f"  {rid:<26} {box}  {r.confidence:.2f}")
    print("measurements:")
    for mid, m in anatomy.measurements.items():
        print(f"  {mid:<26} {m.value:9.3f} {m.unit:<8} confidence {m.confidence:.2f}  {m.note}")
    if args.png:
        print(f"overlay written to {args.png}")
    if args.masks:
        print(f"label image written to {args.masks} (0 background, 1 R lung, 2 L lung, 3 heart)")
    return 0
