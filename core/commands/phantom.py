"""``gazescope phantom``: render synthetic chest radiographs and compare them with real films.

    gazescope phantom --seed 3 --findings cardiomegaly,pleural_effusion --out img.png \\
        --masks masks.png --json truth.json
    gazescope phantom --seed 0 --montage 6 --out montage.png
    gazescope phantom --compare-real ../shared/data/nih-cxr14-sample/images --n 60
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from core.errors import GazeScopeError

# anatomy outlines drawn on the mask overlay (RGB)
_OUTLINE_COLOURS = {
    "body": (90, 90, 90),
    "right_lung": (0, 200, 255),
    "left_lung": (0, 120, 255),
    "heart": (255, 60, 60),
    "mediastinum": (255, 170, 0),
    "aortic_knob": (255, 0, 200),
    "trachea": (0, 255, 120),
    "bronchi": (0, 180, 90),
    "spine": (200, 200, 0),
    "right_hemidiaphragm": (170, 90, 255),
    "left_hemidiaphragm": (120, 60, 200),
    "clavicles": (255, 255, 255),
}
_FINDING_COLOURS = [(255, 40, 40), (40, 255, 40), (255, 200, 0), (255, 0, 255), (0, 255, 255)]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "phantom",
        help="render a synthetic chest radiograph with ground truth, or compare phantoms with real films",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--findings",
        help="comma-separated vocabulary ids (e.g. cardiomegaly,pleural_effusion); "
        "'none' for a normal film; omitted: drawn from the default case mix",
    )
    p.add_argument("--severity", type=float, help="severity in [0, 1] for every listed finding")
    p.add_argument("--view", choices=("PA", "AP"), help="projection (default: drawn, 20 %% AP)")
    p.add_argument("--size", type=int, default=512, help="image size in pixels (default 512)")
    p.add_argument("--out", type=Path, help="PNG to write the image to")
    p.add_argument("--masks", type=Path, help="PNG to write an overlay of the ground truth to")
    p.add_argument("--json", type=Path, help="JSON file for the ground truth (without masks)")
    p.add_argument(
        "--montage", type=int, metavar="K", help="write K phantoms (seeds S..S+K-1) as one grid PNG"
    )
    p.add_argument(
        "--compare-real",
        type=Path,
        metavar="DIR",
        help="print grey-level statistics of phantoms next to those of the real images in DIR",
    )
    p.add_argument(
        "--n", type=int, default=60, help="images per side for --compare-real (default 60)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from core.synth.findings import SYNTH_FINDINGS, FindingSpec
    from core.synth.phantom import PhantomConfig, generate_phantom

    if args.compare_real is not None:
        return _compare(args)
    if args.out is None and args.masks is None and args.json is None:
        raise GazeScopeError("nothing to write: give --out, --masks, --json or --compare-real")
    if not 64 <= args.size <= 4096:
        raise GazeScopeError(f"--size must be within [64, 4096], got {args.size}")
    findings = None
    if args.findings is not None:
        names = [f.strip() for f in args.findings.split(",") if f.strip()]
        if names == ["none"]:
            names = []
        bad = [n for n in names if n not in SYNTH_FINDINGS]
        if bad:
            raise GazeScopeError(
                f"--findings: cannot synthesise {', '.join(bad)}; choose from {', '.join(SYNTH_FINDINGS)}"
            )
        if args.severity is not None and not 0.0 <= args.severity <= 1.0:
            raise GazeScopeError(f"--severity must be in [0, 1], got {args.severity}")
        findings = [FindingSpec(n, severity=args.severity) for n in names]
    cfg = PhantomConfig(height_px=args.size, width_px=args.size)

    if args.montage:
        if args.out is None:
            raise GazeScopeError("--montage needs --out")
        k = max(1, args.montage)
        tiles = []
        for i in range(k):
            ph = generate_phantom(args.seed + i, findings=findings, config=cfg, view=args.view)
            tiles.append(ph.image)
            print(_summary(ph))
        cols = min(k, 4)
        rows = math.ceil(k / cols)
        h, w = tiles[0].shape
        grid = np.zeros((rows * h, cols * w), np.float32)
        for i, t in enumerate(tiles):
            r, c = divmod(i, cols)
            grid[r * h : (r + 1) * h, c * w : (c + 1) * w] = t
        _save_gray(args.out, grid)
        print(f"wrote {args.out}")
        return 0

    ph = generate_phantom(args.seed, findings=findings, config=cfg, view=args.view)
    print(_summary(ph))
    if args.out is not None:
        _save_gray(args.out, ph.image)
        print(f"wrote {args.out}")
    if args.masks is not None:
        _save_overlay(args.masks, ph)
        print(f"wrote {args.masks}")
    if args.json is not None:
        args.json.write_text(json.dumps(_truth(ph), indent=2))
        print(f"wrote {args.json}")
    return 0


def _summary(ph) -> str:
    lines = [f"seed {ph.seed}: {ph.view}, CTR {ph.ctr:.3f}, {len(ph.findings)} finding(s)"]
    for f in ph.findings:
        lines.append(
            f"  {f.id:<17} side {f.side or '-':<9} {f.location:<26} severity {f.severity:.2f}  "
            f"conspicuity {f.conspicuity:.2f}  contrast {f.contrast:+.3f}  size {f.size_mm:.0f} mm"
        )
    return "\n".join(lines)


def _truth(ph) -> dict:
    return {
        "seed": ph.seed,
        "view": ph.view,
        "ctr": ph.ctr,
        "ctr_lines": ph.ctr_lines,
        "spacing_mm": ph.spacing_mm,
        "landmarks": ph.landmarks,
        "labels": {k: (None if math.isnan(v) else v) for k, v in ph.labels.items()},
        "findings": [
            {
                "id": f.id,
                "severity": f.severity,
                "conspicuity": f.conspicuity,
                "side": f.side,
                "location": f.location,
                "regions": list(f.regions),
                "box": f.box,
                "centroid": f.centroid,
                "contrast": f.contrast,
                "cnr": f.cnr,
                "size_mm": f.size_mm,
                "details": f.details,
            }
            for f in ph.findings
        ],
        "patient": ph.patient.__dict__,
    }


def _save_gray(path: Path, image) -> None:
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)).save(path)


def _save_overlay(path: Path, ph) -> None:
    import numpy as np
    from PIL import Image, ImageDraw
    from scipy import ndimage as ndi

    g = (np.clip(ph.image, 0, 1) * 255).astype(np.float32)
    rgb = np.stack([g, g, g], axis=-1)
    for i, f in enumerate(ph.findings):
        colour = np.array(_FINDING_COLOURS[i % len(_FINDING_COLOURS)], np.float32)
        rgb[f.mask] = 0.55 * rgb[f.mask] + 0.45 * colour
    for name, colour in _OUTLINE_COLOURS.items():
        m = ph.anatomy[name]
        edge = m & ~ndi.binary_erosion(m)
        rgb[edge] = colour
    img = Image.fromarray(rgb.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    h, w = ph.image.shape
    for (x0, y0), (x1, y1) in ph.ctr_lines:
        draw.line([(x0 * w, y0 * h), (x1 * w, y1 * h)], fill=(255, 255, 0), width=1)
    for i, f in enumerate(ph.findings):
        if f.box[2] > f.box[0]:
            draw.text(
                (f.box[0] * w + 2, f.box[1] * h + 2),
                f.id,
                fill=_FINDING_COLOURS[i % len(_FINDING_COLOURS)],
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def _compare(args: argparse.Namespace) -> int:
    import numpy as np

    from core.synth.phantom import PhantomConfig, generate_phantom
    from core.synth.realism import STAT_NAMES, image_statistics, load_gray, summarise

    d = args.compare_real
    if not d.is_dir():
        raise GazeScopeError(f"{d}: not a directory")
    files = sorted(p for p in d.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))[
        : args.n
    ]
    if not files:
        raise GazeScopeError(f"{d}: no PNG/JPEG images")
    real = summarise(image_statistics(load_gray(p)) for p in files)
    cfg = PhantomConfig(height_px=args.size, width_px=args.size)
    phantoms = [generate_phantom(args.seed + i, config=cfg) for i in range(args.n)]
    synth = summarise(image_statistics(ph.image) for ph in phantoms)
    print(
        f"grey-level statistics, mean ± sd over images: {len(files)} real ({d}) vs {len(phantoms)} phantoms"
    )
    print(f"  {'statistic':<24} {'real':>15} {'phantom':>15}")
    for k in (*STAT_NAMES, *[k for k in real if k.startswith("hist_")]):
        label = (
            k
            if not k.startswith("hist_")
            else f"hist [{int(k[5:]) / 10:.1f}, {int(k[5:]) / 10 + 0.1:.1f})"
        )
        print(
            f"  {label:<24} {real[k][0]:>7.3f} ± {real[k][1]:.3f} {synth[k][0]:>7.3f} ± {synth[k][1]:.3f}"
        )
    lung = [
        float(ph.image[ph.anatomy["right_lung"] | ph.anatomy["left_lung"]].mean())
        for ph in phantoms
    ]
    med = [float(ph.image[ph.anatomy["mediastinum"]].mean()) for ph in phantoms]
    print("phantoms, on their true masks:")
    print(
        f"  lung-field mean {np.mean(lung):.3f} ± {np.std(lung):.3f}, mediastinum mean {np.mean(med):.3f} ± {np.std(med):.3f}"
    )
    return 0
