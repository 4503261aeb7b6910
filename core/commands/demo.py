"""``gazescope demo``: the reading pipeline on the bundled example cases, as a static page.

For every example in ``assets/examples`` (real NIH ChestX-ray14 PNGs and a real DICOM) the
:class:`core.pipeline.ReadingPipeline` runs - anatomy (lungs, heart, region atlas, CTR),
scanpath samples from the best installed scanpath model (the ``abcdef`` baseline until a trained
one exists), findings and report when those models are installed - and, where the image has
labels and trusted anatomy, three *simulated* radiologists (GazeScope's reader model, not real
gaze) read it on the pipeline's anatomy. One synthetic phantom is read the same way, its
simulated readers using its ground-truth anatomy. Everything lands in ``--out`` with an
``index.html`` (built by :mod:`core.export.html`). Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="run the reading pipeline on the bundled example cases (static HTML page)"
    )
    p.add_argument(
        "--examples",
        type=Path,
        default=_REPO / "assets" / "examples",
        help="folder in the NIH-sample layout (default: the bundled examples)",
    )
    p.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder")
    p.add_argument("--readers", type=int, default=3, help="simulated readers per image (1-5)")
    p.add_argument("--k", type=int, default=2, help="scanpath samples per image (default 2)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from core.anatomy import CONFIDENCE_THRESHOLD
    from core.data.nih import read_nih
    from core.errors import InputFileError
    from core.export.html import (
        anatomy_verdict,
        ctr_text,
        page,
        reads_section,
        result_section,
        skipped_section,
    )
    from core.io import summarize
    from core.io.radiograph import Radiograph
    from core.pipeline import ReadingPipeline
    from core.synth.cases import nih_case, phantom_case
    from core.synth.phantom import FindingSpec, generate_phantom
    from core.synth.readers import ReadingScene, default_panel, read_case

    t0 = time.perf_counter()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    panel = default_panel(max(1, min(args.readers, 5)))
    pipeline = ReadingPipeline(k=max(0, args.k), seed=args.seed)
    cases = {c.image.image_id: c for c in read_nih(args.examples)}
    files = sorted((args.examples / "images").glob("*.png")) + sorted(
        (args.examples / "dicom").glob("*.dcm")
    )
    sections: list[str] = []
    names = ", ".join(f"{m.role} {m.name}" for m in pipeline.models())
    print(f"GazeScope demo on {len(files)} example files + 1 phantom -> {out}/index.html")
    print(f"Pipeline: {names}.")
    print("Simulated readers are GazeScope's reader model, not real radiologists' gaze.\n")

    def simulated_reads(stem, image, prepared, labels: str) -> tuple[str, str]:
        scene = ReadingScene(
            prepared.anatomy, list(prepared.findings), (prepared.width_px, prepared.height_px)
        )
        reads = []
        for k, profile in enumerate(panel):
            read = read_case(scene, None, profile, seed=args.seed * 100 + k)
            reads.append((profile.reader_id, read.scanpath, read.report.text))
        status = ", ".join(f"{rid} {len(sp)} fix" for rid, sp, _ in reads)
        return reads_section(image, reads, out, stem, labels=labels), status

    for path in files:
        stem = path.stem
        try:
            result = pipeline.run_file(path)
        except InputFileError as err:  # a bad example file must not stop the demo
            print(f"  {path.name}: skipped ({err})")
            sections.append(skipped_section(path.name, str(err)))
            continue
        rad = result.radiograph
        section = result_section(result, out, stem, heading=path.name, summary=summarize(rad))
        case = cases.get(stem)
        status = "no labels: no simulated read"
        if case is not None and result.anatomy.confidence >= CONFIDENCE_THRESHOLD:
            labels = ", ".join(k for k, v in case.labels.items() if v >= 0.5) or "none"
            body, status = simulated_reads(
                stem, rad.image, nih_case(case, rad.image, result.anatomy), labels
            )
            section += body
        elif case is not None:
            status = "anatomy not trusted: no simulated read"
        sections.append(section)
        verdict = anatomy_verdict(result)
        print(f"  {path.name:28} {verdict[:60]:60} {ctr_text(result):10} {status}")

    ph = generate_phantom(
        args.seed + 7, findings=(FindingSpec("pleural_effusion", severity=0.7, side="left"),)
    )
    image = ph.image.astype(np.float32)
    phantom = Radiograph(image, hashlib.sha256(image.tobytes()).hexdigest(), "phantom.png")
    result = pipeline(phantom)
    section = result_section(
        result,
        out,
        "phantom",
        heading="Synthetic phantom (not a real radiograph)",
        note=f"True CTR {ph.ctr:.2f}, view {ph.view}; the simulated readers below use the "
        "phantom's ground-truth anatomy.",
    )
    body, status = simulated_reads(
        "phantom", image, phantom_case(ph), "pleural_effusion (left, severity 0.7)"
    )
    sections.append(section + body)
    print(f"  {'phantom (synthetic)':28} {anatomy_verdict(result)[:60]:60} {'':10} {status}")

    (out / "index.html").write_text(page(sections), encoding="utf-8")
    print(f"\nwrote {out / 'index.html'} in {time.perf_counter() - t0:.1f} s")
    return 0
