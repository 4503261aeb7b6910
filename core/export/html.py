"""HTML for ``gazescope demo``: one section per :class:`~core.pipeline.ReadingResult`, with
pictures written next to the page.

A section shows the non-identifying file summary, the anatomy overlay (lungs, heart, region
atlas, cardiothoracic ratio) with its confidence, the scanpath samples of the pipeline's
scanpath model, findings and report sentences when the pipeline has them, and which models ran
(with what they were trained on) and how long each stage took. Simulated radiologists' reads
(:mod:`core.synth`) can be added below it with :func:`reads_section`. Every text is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from core.anatomy.render import render_overlay
from core.gaze.render import render_scanpath
from core.gaze.scanpath import Scanpath
from core.pipeline import ReadingResult

__all__ = [
    "anatomy_verdict",
    "ctr_text",
    "page",
    "reads_section",
    "result_section",
    "skipped_section",
]

_PICTURE_WIDTH = 384
_SUMMARY_KEYS = ("modality", "photometric_interpretation", "rows", "columns")


def _save(out_dir: Path, name: str, rgb: np.ndarray) -> str:
    Image.fromarray(rgb).save(out_dir / name)
    return name


def _img(name: str, title: str = "") -> str:
    return f'<img src="{html.escape(name)}" width="{_PICTURE_WIDTH}" title="{html.escape(title)}">'


def anatomy_verdict(result: ReadingResult) -> str:
    """``anatomy confidence 0.87`` plus the reasons when the method doubts itself."""
    a = result.anatomy
    return f"anatomy confidence {a.confidence:.2f}" + (
        f" ({'; '.join(a.reasons)})" if a.reasons else ""
    )


def ctr_text(result: ReadingResult) -> str:
    ctr = result.anatomy.measurements.get("cardiothoracic_ratio")
    return f"CTR {ctr.value:.2f}" if ctr else "no CTR"


def result_section(
    result: ReadingResult,
    out_dir: Path,
    stem: str,
    *,
    heading: str,
    summary: Mapping[str, Any] | None = None,
    note: str = "",
) -> str:
    """The HTML of one result; writes ``<stem>_anatomy.png`` and ``<stem>_<model>_<i>.png``."""
    image = result.radiograph.image if result.radiograph is not None else None
    facts = ""
    if summary:
        facts = ", ".join(f"{k} {summary[k]}" for k in _SUMMARY_KEYS if summary.get(k) is not None)
        facts = html.escape(facts) + "; "
    parts = [
        f"<h2>{html.escape(heading)}</h2>",
        f"<p>{facts}{html.escape(anatomy_verdict(result))}; {html.escape(ctr_text(result))}</p>",
    ]
    if note:
        parts.append(f"<p>{html.escape(note)}</p>")
    scanpath_model = next((m for m in result.models if m.role == "scanpath"), None)
    if image is not None:
        overlay = _save(
            out_dir, f"{stem}_anatomy.png", render_overlay(image, result.anatomy, size=512)
        )
        pictures = [_img(overlay, "anatomy")]
        label = scanpath_model.name if scanpath_model else "scanpath"
        for i, sp in enumerate(result.scanpaths):
            title = f"{label} sample {i + 1}: {len(sp)} fixations, {sp.total_duration_s:.1f} s"
            name = _save(
                out_dir, f"{stem}_{label}_{i + 1}.png", render_scanpath(image, sp, title=title)
            )
            pictures.append(_img(name, title))
        parts.append("".join(pictures))
    if result.findings:
        items = "".join(
            f"<li>{html.escape(f)}: {p:.2f}</li>"
            for f, p in sorted(result.findings.items(), key=lambda kv: -kv[1])
        )
        parts.append(f"<p>Findings (probabilities):</p><ul>{items}</ul>")
    elif any(m.role == "classifier" for m in result.models):
        parts.append("<p>Findings: the classifier returned none.</p>")
    else:
        parts.append("<p>Findings: none (no trained classifier is installed).</p>")
    if result.sentences:
        items = "".join(f"<li>{html.escape(s.text)}</li>" for s in result.sentences)
        parts.append(f"<p>Draft report:</p><ol>{items}</ol>")
    models = "".join(
        f"<li>{html.escape(m.role)}: {html.escape(m.name)} {html.escape(m.version)}"
        f" - trained on: {html.escape(m.training_data or 'not stated')}</li>"
        for m in result.models
    )
    timings = ", ".join(f"{k} {v:.0f} ms" for k, v in result.timings_ms.items())
    parts.append(f"<ul>{models}</ul><p>Timings: {html.escape(timings)}</p>")
    return "".join(parts)


def skipped_section(name: str, problem: str) -> str:
    """A file the pipeline could not read: its name and why."""
    return f"<h2>{html.escape(name)}</h2><p>skipped: {html.escape(problem)}</p>"


def reads_section(
    image: np.ndarray,
    reads: Sequence[tuple[str, Scanpath, str]],
    out_dir: Path,
    stem: str,
    *,
    labels: str,
) -> str:
    """Simulated readers' scanpaths and dictations, ``(reader id, scanpath, report text)`` each;
    writes ``<stem>_<reader id>.png``."""
    pictures, texts = [], []
    for reader_id, sp, text in reads:
        title = f"{reader_id}: {len(sp)} fixations, {sp.total_duration_s:.1f} s"
        name = _save(out_dir, f"{stem}_{reader_id}.png", render_scanpath(image, sp, title=title))
        pictures.append(_img(name, title))
        texts.append(
            f"<li><b>{html.escape(reader_id)}</b> ({len(sp)} fixations): {html.escape(text)}</li>"
        )
    return (
        "<h3>Simulated radiologists (GazeScope's reader model, not real gaze)</h3>"
        f"<p>Labels given to the simulated readers: {html.escape(labels)}</p>"
        + "".join(pictures)
        + f"<ul>{''.join(texts)}</ul>"
    )


def page(sections: Sequence[str], *, title: str = "GazeScope demo") -> str:
    """The whole page: the research-use note, the image sources, then the sections."""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:1240px;margin:auto;background:#111;"
        "color:#ddd} img{margin:2px} h2{border-top:1px solid #444;padding-top:8px}</style>"
        f"</head><body><h1>{html.escape(title)}</h1><p>Research software, no clinical claim. "
        "Images: NIH Clinical Center ChestX-ray14 (Wang et al., CVPR 2017) and the SIIM-ACR "
        "sample; see assets/README.md. Scanpath samples come from the pipeline's scanpath model "
        "(a baseline built from published gaze statistics until a trained model is installed); "
        "the reads under them are GazeScope's <b>simulated</b> radiologists (a reader model "
        "calibrated to published gaze statistics), not real readers.</p>"
        + "".join(sections)
        + "</body></html>"
    )
