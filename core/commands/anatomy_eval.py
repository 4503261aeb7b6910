"""``gazescope anatomy-eval --nih DIR``: how ``locate`` does on the NIH development sample."""

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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.io import load_radiograph

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

    def save(name, radiograph, anatomy):
        if args.out:
            rgb = render_overlay(radiograph.image, anatomy, size=512)
            Image.fromarray(rgb).save(args.out / name)
            overlays[name] = render_overlay(radiograph.image, anatomy, size=256, detail="outline")

    ev = evaluate_nih(args.nih, load, on_case=save, limit=args.limit)
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
