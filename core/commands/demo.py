"""``gazescope demo``: run what GazeScope has today on the bundled example cases.

For every example in ``assets/examples`` (real NIH ChestX-ray14 PNGs and a real DICOM): the
non-identifying file summary, the anatomy (lungs, heart, region atlas, CTR) with an overlay,
and - where the image has labels and trusted anatomy - the reads of three *simulated*
radiologists (GazeScope's reader model, not a learned predictor and not real gaze): numbered
fixations with durations and the report each dictated. One synthetic phantom with its
ground truth is read as well. Everything lands in ``--out`` with an ``index.html`` to browse.
No model is trained or needed; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import html
import time
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="run anatomy and simulated readers on the bundled example cases"
    )
    p.add_argument(
        "--examples",
        type=Path,
        default=_REPO / "assets" / "examples",
        help="folder in the NIH-sample layout (default: the bundled examples)",
    )
    p.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder")
    p.add_argument("--readers", type=int, default=3, help="simulated readers per image (1-5)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from PIL import Image

    from core.anatomy import CONFIDENCE_THRESHOLD, locate
    from core.anatomy.render import render_overlay
    from core.data.nih import read_nih
    from core.errors import InputFileError
    from core.gaze import Scanpath
    from core.gaze.render import render_scanpath
    from core.io import load_radiograph, summarize
    from core.synth.cases import nih_case, phantom_case
    from core.synth.phantom import FindingSpec, generate_phantom
    from core.synth.readers import ReadingScene, default_panel, read_case

    t0 = time.perf_counter()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    panel = default_panel(max(1, min(args.readers, 5)))
    cases = {c.image.image_id: c for c in read_nih(args.examples)}
    files = sorted((args.examples / "images").glob("*.png")) + sorted(
        (args.examples / "dicom").glob("*.dcm")
    )
    sections: list[str] = []
    print(f"GazeScope demo on {len(files)} example files + 1 phantom -> {out}/index.html")
    print("Simulated readers are GazeScope's reader model, not real radiologists' gaze.\n")

    def save(name: str, rgb) -> str:
        Image.fromarray(rgb).save(out / name)
        return name

    def reads_html(stem: str, image, scene, labels: str) -> tuple[str, str]:
        pictures, texts, line = [], [], []
        for k, profile in enumerate(panel):
            read = read_case(scene, None, profile, seed=args.seed * 100 + k)
            sp = read.scanpath
            title = f"{profile.reader_id}: {len(sp)} fixations, {sp.total_duration_s:.1f} s"
            name = save(f"{stem}_{profile.reader_id}.png", render_scanpath(image, sp, title=title))
            pictures.append(f'<img src="{name}" width="384" title="{html.escape(title)}">')
            texts.append(
                f"<li><b>{profile.reader_id}</b> ({len(sp)} fixations): "
                f"{html.escape(read.report.text)}</li>"
            )
            line.append(f"{profile.reader_id} {len(sp)} fix")
        body = (
            f"<p>Labels given to the simulated readers: {html.escape(labels)}</p>"
            + "".join(pictures)
            + f"<ul>{''.join(texts)}</ul>"
        )
        return body, ", ".join(line)

    for path in files:
        stem = path.stem
        try:
            rad = load_radiograph(path)
        except InputFileError as err:  # a bad example file must not stop the demo
            print(f"  {path.name}: skipped ({err})")
            sections.append(f"<h2>{html.escape(path.name)}</h2><p>{html.escape(str(err))}</p>")
            continue
        info = summarize(rad)
        anatomy = locate(rad)
        overlay = save(f"{stem}_anatomy.png", render_overlay(rad.image, anatomy, size=512))
        ctr = anatomy.measurements.get("cardiothoracic_ratio")
        ctr_text = f"CTR {ctr.value:.2f}" if ctr else "no CTR"
        verdict = f"anatomy confidence {anatomy.confidence:.2f}" + (
            f" ({'; '.join(anatomy.reasons)})" if anatomy.reasons else ""
        )
        summary = ", ".join(
            f"{k} {info[k]}"
            for k in ("modality", "photometric_interpretation", "rows", "columns")
            if k in info
        )
        section = (
            f"<h2>{html.escape(path.name)}</h2><p>{html.escape(summary)}; "
            f'{html.escape(verdict)}; {ctr_text}</p><img src="{overlay}" width="384">'
        )
        case = cases.get(stem)
        status = "no labels: anatomy only"
        if case is not None and anatomy.confidence >= CONFIDENCE_THRESHOLD:
            prepared = nih_case(case, rad.image, anatomy)
            scene = ReadingScene(
                prepared.anatomy, list(prepared.findings), (prepared.width_px, prepared.height_px)
            )
            labels = ", ".join(k for k, v in case.labels.items() if v >= 0.5) or "none"
            body, status = reads_html(stem, rad.image, scene, labels)
            section += body
        elif case is not None:
            status = "anatomy not trusted: no simulated read"
        sections.append(section)
        print(f"  {path.name:28} {verdict[:60]:60} {ctr_text:10} {status}")

    ph = generate_phantom(
        args.seed + 7, findings=(FindingSpec("pleural_effusion", severity=0.7, side="left"),)
    )
    prepared = phantom_case(ph)
    scene = ReadingScene(
        prepared.anatomy, list(prepared.findings), (prepared.width_px, prepared.height_px)
    )
    save("phantom.png", render_scanpath(ph.image, Scanpath(()), title="phantom (synthetic)"))
    body, status = reads_html("phantom", ph.image, scene, "pleural_effusion (left, severity 0.7)")
    sections.append(
        "<h2>Synthetic phantom (not a real radiograph)</h2>"
        f'<p>True CTR {ph.ctr:.2f}, view {ph.view}.</p><img src="phantom.png" width="384">' + body
    )
    print(f"  {'phantom (synthetic)':28} {'ground-truth anatomy':60} {'':10} {status}")

    (out / "index.html").write_text(_page(sections), encoding="utf-8")
    print(f"\nwrote {out / 'index.html'} in {time.perf_counter() - t0:.1f} s")
    return 0


def _page(sections: list[str]) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>GazeScope demo</title>"
        "<style>body{font-family:sans-serif;max-width:1240px;margin:auto;background:#111;"
        "color:#ddd} img{margin:2px} h2{border-top:1px solid #444;padding-top:8px}</style>"
        "</head><body><h1>GazeScope demo</h1><p>Research software, no clinical claim. Images: "
        "NIH Clinical Center ChestX-ray14 (Wang et al., CVPR 2017) and the SIIM-ACR sample; "
        "see assets/README.md. Scanpaths are from GazeScope's <b>simulated</b> radiologists "
        "(a reader model calibrated to published gaze statistics), not from real readers and "
        "not from a trained model.</p>" + "".join(sections) + "</body></html>"
    )
