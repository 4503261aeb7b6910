"""A reading sheet as one picture: anatomy with the report's regions, a scanpath, a heat map and
the report text, side by side (``gazescope predict --png``)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from core.anatomy.render import render_overlay
from core.anatomy.types import Anatomy
from core.gaze.render import render_scanpath
from core.gaze.scanpath import Scanpath
from core.report.sentence import ReportSentence

__all__ = ["render_heatmap", "render_reading_sheet"]

_BOX = (80, 200, 255)
_FINDING_BOX = (255, 80, 80)


def render_heatmap(
    image: np.ndarray, heat: np.ndarray, *, size: int = 512, title: str = ""
) -> np.ndarray:
    """RGB ``uint8`` of ``image`` with ``heat`` (any grid over the whole image) blended in red."""
    h, w = image.shape
    scale = size / max(h, w)
    ow, oh = max(1, round(w * scale)), max(1, round(h * scale))
    grey = np.asarray(
        Image.fromarray(np.clip(image * 255.0, 0, 255).astype(np.uint8)).resize((ow, oh)),
        dtype=np.float64,
    )
    a = np.nan_to_num(np.asarray(heat, dtype=np.float64), nan=0.0)
    a = a / a.max() if a.max() > 0 else a
    a = (
        np.asarray(
            Image.fromarray((a * 255).astype(np.uint8)).resize((ow, oh), Image.BILINEAR),
            dtype=np.float64,
        )
        / 255.0
    )
    rgb = np.stack([grey, grey, grey], axis=-1) * (1 - 0.6 * a[..., None])
    rgb[..., 0] += 255 * 0.6 * a
    canvas = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    if title:
        draw = ImageDraw.Draw(canvas)
        draw.rectangle((0, 0, ow, 14), fill=(0, 0, 0))
        draw.text((3, 1), title[: max(20, ow // 6)], fill=(255, 255, 255))
    return np.asarray(canvas)


def render_reading_sheet(
    image: np.ndarray,
    anatomy: Anatomy,
    sentences: Sequence[ReportSentence],
    *,
    scanpaths: Sequence[Scanpath] = (),
    heat: np.ndarray | None = None,
    heat_title: str = "",
    header: Sequence[str] = (),
    size: int = 512,
) -> np.ndarray:
    """RGB ``uint8`` sheet: anatomy + sentence boxes (numbered s0, s1, ...), the first scanpath
    sample, ``heat`` (attention or saliency), and a text panel with ``header`` lines and the
    report. Finding sentences' boxes are red, normal statements' blue."""
    panels = [_anatomy_panel(image, anatomy, sentences, size)]
    if scanpaths:
        panels.append(
            render_scanpath(image, scanpaths[0], size=size, title=f"scanpath 1 of {len(scanpaths)}")
        )
    if heat is not None:
        panels.append(render_heatmap(image, heat, size=size, title=heat_title))
    oh = max(p.shape[0] for p in panels)
    panels.append(_text_panel(header, sentences, size, oh))
    sheet = np.zeros((oh, sum(p.shape[1] for p in panels), 3), dtype=np.uint8)
    x = 0
    for p in panels:
        sheet[: p.shape[0], x : x + p.shape[1]] = p
        x += p.shape[1]
    return sheet


def _anatomy_panel(
    image: np.ndarray, anatomy: Anatomy, sentences: Sequence[ReportSentence], size: int
) -> np.ndarray:
    canvas = Image.fromarray(render_overlay(image, anatomy, size=size, detail="outline"))
    draw = ImageDraw.Draw(canvas)
    ow, oh = canvas.size
    for k, s in enumerate(sentences):
        box = s.evidence.region_box
        if box is None:
            continue
        colour = _FINDING_BOX if s.finding_id else _BOX
        x0, y0, x1, y1 = box[0] * ow, box[1] * oh, box[2] * ow, box[3] * oh
        draw.rectangle((x0, y0, x1, y1), outline=colour, width=2 if s.finding_id else 1)
        draw.text((x0 + 2, y0 + 2), f"s{k}", fill=colour)
        if s.evidence.attention_peak is not None:
            px, py = s.evidence.attention_peak[0] * ow, s.evidence.attention_peak[1] * oh
            draw.line((px - 6, py, px + 6, py), fill=colour, width=2)
            draw.line((px, py - 6, px, py + 6), fill=colour, width=2)
    return np.asarray(canvas.convert("RGB"))


def _text_panel(
    header: Sequence[str], sentences: Sequence[ReportSentence], width: int, height: int
) -> np.ndarray:
    canvas = Image.new("RGB", (width, height), (20, 20, 24))
    draw = ImageDraw.Draw(canvas)
    y = 6
    chars = max(20, width // 6 - 2)
    lines = [*header, ""]
    for k, s in enumerate(sentences):
        tag = f"s{k} "
        wrapped = textwrap.wrap(s.text, chars - len(tag)) or [""]
        lines.append(tag + wrapped[0])
        lines += [" " * len(tag) + w for w in wrapped[1:]]
    for line in lines:
        if y > height - 14:
            draw.text((6, y), "...", fill=(200, 200, 200))
            break
        draw.text((6, y), line, fill=(230, 230, 230))
        y += 13
    return np.asarray(canvas)
