"""``gazescope anatomy-eval --nih DIR``: how ``locate`` does on the NIH development sample.

``--method all`` runs the shipped segmenter too and reports classical, learned and fused side
by side; ``--split held_out`` keeps the patient-level half that no threshold was tuned on;
``--review-seed`` writes a blind two-method review sheet, ``--verdicts`` scores it;
``--phantoms N`` adds Dice and CTR error against the exact truth of N synthetic phantoms.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "anatomy-eval",
        help="anatomy on the NIH sample: failure rate, CTR vs Cardiomegaly, heart-box IoU",
    )
    p.add_argument("--nih", type=Path, required=True, help="nih-cxr14-sample folder")
    p.add_argument("--out", type=Path, help="write overlay PNGs (and review sheets) here")
    p.add_argument("--limit", type=int, help="only the first N images (smoke runs)")
    p.add_argument(
        "--skip-orientation",
        action="store_true",
        help="skip the turned/inverted-image check (4 x 54 more runs)",
    )
    p.add_argument(
        "--method",
        choices=("classical", "all"),
        default="classical",
        help="classical only, or classical, learned and fused (runs the segmenter)",
    )
    p.add_argument("--checkpoint", help="segmenter checkpoint (default: the shipped one)")
    p.add_argument(
        "--split",
        choices=("all", "tune", "held_out"),
        default="all",
        help="patient-level half of the sample (core.eval.anatomy.nih_split)",
    )
    p.add_argument(
        "--review-seed",
        type=int,
        help="with --out and --method all: write a blind review sheet of --review-n images "
        "(classical and learned outlines, tiles numbered, methods shuffled)",
    )
    p.add_argument("--review-n", type=int, default=60)
    p.add_argument(
        "--verdicts",
        type=Path,
        help="CSV (tile, verdict ok|fail, note) of a reviewed sheet: failure and silent-failure "
        "rates per method (needs the same --review-seed, --review-n and --split)",
    )
    p.add_argument(
        "--phantoms",
        type=int,
        default=0,
        help="with --method all: Dice and CTR error on N synthetic phantoms (512 px)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.io import load_radiograph

    if args.method == "all":
        return report_methods(args, load_radiograph)
    return report(args, load_radiograph)


def report(args: argparse.Namespace, load) -> int:
    """Run the evaluation with ``load(path) -> Radiograph`` and print the figures."""
    import numpy as np
    from PIL import Image

    from core.anatomy import render_overlay
    from core.eval.anatomy import VISUAL_REVIEWS, evaluate_nih, orientation_pass_rates

    overlays: dict[str, np.ndarray] = {}
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)

    def save(name, radiograph, anatomies):
        anatomy = anatomies["classical"]
        if args.out:
            rgb = render_overlay(radiograph.image, anatomy, size=512)
            Image.fromarray(rgb).save(args.out / name)
            overlays[name] = render_overlay(radiograph.image, anatomy, size=256, detail="outline")

    split = None if args.split == "all" else args.split
    ev = evaluate_nih(args.nih, load, on_case=save, limit=args.limit, split=split)["classical"]
    n = len(ev.cases)
    print(f"anatomy-eval on {args.nih} ({n} images); confidence threshold {ev.threshold}")
    for view in (None, "PA", "AP"):
        k, m = ev.failure_rate(view)
        if m:
            print(
                f"  declined (confidence < {ev.threshold}) {view or 'all'}: {k}/{m} = {k / m:.1%}"
            )
    confidence = {c.image: c.confidence for c in ev.cases}
    pooled_n = pooled_failed = pooled_silent = 0
    reviewed = {f for r in VISUAL_REVIEWS for f in r["failed"]}
    if not reviewed <= set(confidence):
        print("  visual review: recorded on the full 322-image NIH sample only")
    for review in VISUAL_REVIEWS if reviewed <= set(confidence) else ():
        failed, n_review = review["failed"], int(review["n"])
        silent = [f for f in failed if confidence.get(f, 0.0) >= ev.threshold]
        pooled_n, pooled_failed, pooled_silent = (
            pooled_n + n_review,
            pooled_failed + len(failed),
            pooled_silent + len(silent),
        )
        print(
            f"  visual review by eye, sample default_rng({review['seed']}).choice(322, {n_review}) "
            f"over labels.csv rows: {len(failed)}/{n_review} failed = {len(failed) / n_review:.1%}, "
            f"of which {len(silent)} not declined (silent {len(silent) / n_review:.1%})"
        )
    if pooled_n:
        print(
            f"  visual review pooled: {pooled_failed}/{pooled_n} failed = "
            f"{pooled_failed / pooled_n:.1%}, silent {pooled_silent}/{pooled_n} = "
            f"{pooled_silent / pooled_n:.1%}"
        )
    print("cardiothoracic ratio, Cardiomegaly vs No Finding (ROC AUC, bootstrap 95 % CI):")
    for view in ("PA", None):
        for confident in (True, False):
            s = ev.separation("ctr", "Cardiomegaly", view, confident_only=confident)
            scope = "confident only" if confident else "all results"
            print(
                f"  {view or 'all views'}, {scope}: AUC {s['auc']:.3f} "
                f"[{s['ci_low']:.3f}, {s['ci_high']:.3f}]  n = {s['n_pos']} vs {s['n_neg']}"
            )
    print("largest costophrenic angle, Effusion vs No Finding (ROC AUC, bootstrap 95 % CI):")
    for view in ("PA", None):
        s = ev.separation("cp_angle_max", "Effusion", view)
        print(
            f"  {view or 'all views'}, confident only: AUC {s['auc']:.3f} "
            f"[{s['ci_low']:.3f}, {s['ci_high']:.3f}]  n = {s['n_pos']} vs {s['n_neg']}"
        )
    for label in ("No Finding", "Effusion"):
        values = [
            c.cp_angle_max
            for c in ev.cases
            if c.cp_angle_max is not None
            and c.confidence >= ev.threshold
            and (label in c.labels if label != "No Finding" else c.labels == (label,))
        ]
        if values:
            q25, q50, q75 = np.percentile(values, [25, 50, 75])
            print(
                f"  {label}: largest angle median {q50:.0f} deg (IQR {q25:.0f}-{q75:.0f}), "
                f"n = {len(values)}"
            )
    ious = ev.heart_box_ious()
    print(f"cardiac-silhouette box vs NIH Cardiomegaly box: n = {len(ious)}")
    for name, iou in ious:
        print(f"  {name}: IoU {iou:.3f}")
    if ious:
        print(
            f"  mean IoU {np.mean([v for _, v in ious]):.3f} (n = {len(ious)}: an anecdote, not a statistic)"
        )
    if not args.skip_orientation:
        print("wrongly presented images still passing (every 6th image; each pass is a miss):")
        for label, (k, m) in orientation_pass_rates(args.nih, load).items():
            print(f"  {label}: {k}/{m} = {k / max(m, 1):.1%}")
    if args.out:
        names = [c.image for c in ev.cases]  # labels.csv order
        for review in VISUAL_REVIEWS:
            rng = np.random.default_rng(int(review["seed"]))
            picked = rng.choice(len(names), min(int(review["n"]), len(names)), replace=False)
            sample = [names[i] for i in sorted(picked)]
            for k in range(0, len(sample), 8):
                tiles = [_pad(overlays[s], 256) for s in sample[k : k + 8]]
                tiles += [np.zeros_like(tiles[0])] * (8 - len(tiles))
                sheet = np.vstack([np.hstack(tiles[:4]), np.hstack(tiles[4:])])
                name = f"review_{review['seed']}_sheet_{k // 8}.png"
                Image.fromarray(sheet).save(args.out / name)
        print(f"overlays written to {args.out} ({len(names)} + review sheets of the seeded sample)")
    return 0


def _pad(rgb, side):
    """Pad an RGB tile to ``side`` x ``side`` (non-square images) for contact sheets."""
    import numpy as np

    out = np.zeros((side, side, 3), dtype=np.uint8)
    h, w = rgb.shape[:2]
    out[: min(h, side), : min(w, side)] = rgb[:side, :side]
    return out


def report_methods(args: argparse.Namespace, load) -> int:
    """Classical, learned and fused on the same images, side by side."""
    import numpy as np

    from core.anatomy import locate_all
    from core.eval.anatomy import blind_review_key, evaluate_nih
    from core.models.segmenter import load_segmenter

    segmenter = load_segmenter(args.checkpoint)
    split = None if args.split == "all" else args.split
    tiles: dict[tuple[str, str], np.ndarray] = {}
    names: list[str] = []
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)

    def keep(name, radiograph, anatomies):
        names.append(name)
        if args.out and args.review_seed is not None:
            for method in ("classical", "learned"):
                tiles[(name, method)] = _blind_tile(radiograph.image, anatomies[method])

    evs = evaluate_nih(
        args.nih, load, learned=segmenter.segment, on_case=keep, limit=args.limit, split=split
    )
    n = len(evs["classical"].cases)
    print(
        f"anatomy-eval on {args.nih}, split {args.split} ({n} images), segmenter "
        f"{segmenter.model_id}; confidence threshold {evs['classical'].threshold}"
    )
    print("declined (confidence < threshold):")
    for method, ev in evs.items():
        parts = []
        for view in (None, "PA", "AP"):
            k, m = ev.failure_rate(view)
            if m:
                parts.append(f"{view or 'all'} {k}/{m} = {k / m:.1%}")
        print(f"  {method:<9} " + ", ".join(parts))
    print("cardiothoracic ratio, Cardiomegaly vs No Finding (ROC AUC, bootstrap 95 % CI):")
    for method, ev in evs.items():
        for view in ("PA", None):
            for confident in (True, False):
                s = ev.separation("ctr", "Cardiomegaly", view, confident_only=confident)
                scope = "confident" if confident else "all results"
                print(
                    f"  {method:<9} {view or 'all views':<9} {scope:<11}: AUC {s['auc']:.3f} "
                    f"[{s['ci_low']:.3f}, {s['ci_high']:.3f}]  n = {s['n_pos']} vs {s['n_neg']}"
                )
    print("largest costophrenic angle, Effusion vs No Finding, confident (ROC AUC):")
    for method, ev in evs.items():
        s = ev.separation("cp_angle_max", "Effusion", None)
        print(
            f"  {method:<9} all views: AUC {s['auc']:.3f} [{s['ci_low']:.3f}, {s['ci_high']:.3f}]"
            f"  n = {s['n_pos']} vs {s['n_neg']}"
        )
    print("Dice against the classical masks where the classical result is confident:")
    for method in ("learned", "fused"):
        rows = [
            c.dice_vs_classical
            for c in evs[method].cases
            if c.classical_confidence is not None and c.classical_confidence >= 0.5
        ]
        for part in ("right_lung", "left_lung", "heart"):
            v = np.array([r[part] for r in rows])
            if v.size:
                q25, q50, q75 = np.percentile(v, [25, 50, 75])
                print(
                    f"  {method:<9} {part:<10}: median {q50:.3f} (IQR {q25:.3f}-{q75:.3f}), "
                    f"< 0.8 in {np.mean(v < 0.8):.1%}, n = {v.size}"
                )
    if args.review_seed is not None:
        key = blind_review_key(sorted(names), args.review_seed, args.review_n)
        if args.out:
            _write_sheets(args.out, args.review_seed, key, tiles)
            print(f"blind review sheets written to {args.out} ({len(key)} tiles)")
        if args.verdicts:
            _score_verdicts(args.verdicts, key, evs)
    if args.phantoms:
        from core.train.segmenter import phantom_anatomy_errors

        errors = phantom_anatomy_errors(
            args.phantoms, lambda image: locate_all(image, segmenter.segment(image))
        )
        print(f"synthetic phantoms (n = {args.phantoms}, 512 px, exact truth):")
        for method, row in errors.items():
            dice = "  ".join(
                f"{k} {np.median(row[k]):.3f}" for k in ("right_lung", "left_lung", "heart")
            )
            err = row["ctr_error"][np.isfinite(row["ctr_error"])]
            print(
                f"  {method:<9} median Dice {dice}; CTR error median |e| "
                f"{np.median(np.abs(err)):.3f}, mean e {np.mean(err):+.3f}, "
                f"95th pct |e| {np.percentile(np.abs(err), 95):.3f}; "
                f"declined {np.mean(row['confidence'] < 0.5):.1%}"
            )
    return 0


def _blind_tile(image, anatomy, side: int = 256):
    """Outlines of lungs and heart only, no confidence or reasons (which would give the
    method away)."""
    import numpy as np

    from core.anatomy import render_overlay

    rgb = render_overlay(image, anatomy, size=side, detail="outline")
    return np.ascontiguousarray(rgb[15:])  # drop the header line (confidence, first reason)


def _write_sheets(out, seed, key, tiles, per_sheet: int = 12) -> None:
    import numpy as np
    from PIL import Image, ImageDraw

    for start in range(0, len(key), per_sheet):
        cells = []
        for k in range(start, min(start + per_sheet, len(key))):
            tile = _pad(tiles[key[k]], 256)
            im = Image.fromarray(tile)
            ImageDraw.Draw(im).text((4, 240), f"tile {k}", fill=(255, 255, 0))
            cells.append(np.asarray(im))
        cells += [np.zeros_like(cells[0])] * (per_sheet - len(cells))
        rows = [np.hstack(cells[i : i + 4]) for i in range(0, per_sheet, 4)]
        Image.fromarray(np.vstack(rows)).save(out / f"blind_{seed}_sheet_{start // per_sheet}.png")


def _score_verdicts(path, key, evs) -> None:
    """Failure and silent-failure (failed but not declined) rates per method."""
    import csv

    with open(path, newline="") as fh:
        verdicts = {int(r["tile"]): r["verdict"].strip() for r in csv.DictReader(fh)}
    if set(verdicts) != set(range(len(key))):
        print(f"  {path}: verdicts do not cover tiles 0..{len(key) - 1}; not scored")
        return
    conf = {m: {c.image: c.confidence for c in ev.cases} for m, ev in evs.items()}
    print(f"blind visual review ({path.name}, {len(key) // 2} images, each method once):")
    for method in ("classical", "learned"):
        ks = [k for k, (_, m) in enumerate(key) if m == method]
        failed = [k for k in ks if verdicts[k] == "fail"]
        silent = [k for k in failed if conf[method][key[k][0]] >= 0.5]
        print(
            f"  {method:<9} failed {len(failed)}/{len(ks)} = {len(failed) / len(ks):.1%}, "
            f"silent (not declined) {len(silent)}/{len(ks)} = {len(silent) / len(ks):.1%}"
        )
