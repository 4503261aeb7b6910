"""Dictation of simulated reads: sentences for reported findings and normal statements, timed
word by word on REFLACX's clock (seconds from the start of the dictation audio).

Wording reuses the phrasing of the rule-based labeller (``core.report.labeller``: ``SYNONYMS``
and ``NORMAL_STATEMENTS``), so that ``label_report`` applied to a dictated report gives back
exactly what the reader reported: certainty 4-5 is said plainly (labeller: positive), 3 as
"Possible ..." and 2 as "Questionable ..." (labeller: uncertain). One sentence per reported
finding, naming its side and zone ("Moderate left pleural effusion.", "12 mm nodule in the
left mid zone."); normal statements for what was not reported ("The lungs are clear.", "No
pleural effusion or pneumothorax.", "Heart size is normal."); two styles: ``full`` sentences
and ``terse`` telegraphic ones ("Clear lungs.", "Normal heart size.").

Timing: a finding's sentence is ready an eye-voice lag after its dwell cluster ends (N(0.9,
0.25) s clipped to 0.3-2 s; Griffin & Bock 2000: ~0.9 s between fixating and naming), a normal
statement the same lag after its checklist stage ends (lungs after B, heart and mediastinum
after C, pleura after D, bones after E), findings without gaze (unlocated) and the impression
at the end of the search. Sentences are spoken in the order they are ready and never overlap
(0.3-0.8 s pauses). A word lasts ``(0.06 + 0.045 x letters) x 2.5 / words_per_s`` s (x 0.9-1.1),
with 50 ms gaps: about 2.5 words per second at the default rate (~150 words per minute; a
design choice - no published REFLACX figure). A sentence's full stop is its own zero-length
token, as REFLACX's ``timestamps_transcription.csv`` has it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from core.data.case import Report, Word
from core.vocabulary import finding

if TYPE_CHECKING:
    from core.synth.readers import ReaderProfile, ReportedFinding

__all__ = ["dictate", "finding_sentence", "normal_sentences", "place_phrase"]

_LUNG_FIELD = frozenset(
    {
        "consolidation",
        "lung_opacity",
        "nodule",
        "mass",
        "atelectasis",
        "pneumonia",
        "fibrosis",
        "emphysema",
        "lung_lesion",
    }
)
_ZONE_WORD = {"upper": "upper", "middle": "mid", "lower": "lower"}
_DEVICE_NAMES = {
    "et_tube": "endotracheal tube",
    "central_line": "central venous catheter",
    "ecg_leads": "ECG leads",
    "pacemaker": "pacemaker",
    "ng_tube": "nasogastric tube",
}
_LAG = (0.9, 0.25, 0.3, 2.0)  # eye-voice lag: mean, sd, min, max (s)


def place_phrase(location: str, side: str) -> str:
    """Where a finding is, in words: "the left mid zone", "the right hilar region", or ""."""
    parts = location.split("_")
    if location.endswith("_zone") and len(parts) == 3:
        return f"the {parts[0]} {_ZONE_WORD.get(parts[1], parts[1])} zone"
    if location.endswith("_hilum"):
        return f"the {parts[0]} hilar region"
    if location.endswith("_costophrenic_angle"):
        return f"the {parts[0]} lung base"
    if location == "cardiac_silhouette":
        return "the retrocardiac region"
    if side in ("right", "left"):
        return f"the {side} lung"
    if side == "bilateral" and not location:
        return "both lungs"
    return ""


def _grade(severity: float | None, words: tuple[str, str, str]) -> str:
    if severity is None:
        return ""
    return words[0] if severity < 0.35 else words[1] if severity < 0.7 else words[2]


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _noun_phrase(rep: ReportedFinding) -> tuple[str, bool]:
    """The finding as a noun phrase without article, and whether it takes "A"."""
    fid, sev, side = rep.id, rep.severity, rep.side
    side_word = side if side in ("right", "left", "bilateral") else ""
    where = place_phrase(rep.location, side)
    at = f"in {where}" if where else ""
    if fid == "pleural_effusion":
        grade = _grade(sev, ("small", "moderate", "large"))
        noun = "pleural effusions" if side == "bilateral" else "pleural effusion"
        return _join(grade, side_word, noun), False
    if fid == "pneumothorax":
        return _join(_grade(sev, ("small", "moderate", "large")), side_word, "pneumothorax"), False
    if fid == "consolidation":
        return _join(
            "extensive" if sev is not None and sev >= 0.7 else "", "consolidation", at
        ), False
    if fid == "lung_opacity":
        return _join("faint" if sev is not None and sev < 0.35 else "", "hazy opacity", at), False
    if fid == "nodule":
        size = f"{max(3, round(rep.size_mm))} mm" if rep.size_mm else ""
        return _join(size, "nodule", at), True
    if fid == "mass":
        size = f"{max(3, round(rep.size_mm / 10.0))} cm" if rep.size_mm else ""
        return _join(size, "mass", at), True
    if fid == "atelectasis":
        if rep.details.get("kind") == "lobar" and side in ("right", "left"):
            return f"{side} lower lobe collapse", False
        if rep.details.get("kind") == "plate":
            return _join("plate-like atelectasis", at), False
        return _join("atelectasis", at), False
    if fid == "edema":
        grade = _grade(sev, ("mild", "moderate", "severe"))
        kerley = "with Kerley B lines" if float(rep.details.get("kerley_lines", 0) or 0) > 0 else ""
        return _join(grade, "pulmonary edema", kerley), False
    if fid == "cardiomegaly":
        return _join(_grade(sev, ("mild", "moderate", "marked")), "cardiomegaly"), False
    if fid == "support_devices":
        kinds = [k for k in str(rep.details.get("devices", "")).split(",") if k]
        names = [_DEVICE_NAMES.get(k, k.replace("_", " ")) for k in kinds] or ["support devices"]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return listed + " in place", False
    if fid == "emphysema":
        return "hyperinflated lungs with emphysema", False
    if fid == "fibrosis":
        return _join("interstitial fibrosis", at), False
    if fid == "hiatal_hernia":
        return "hiatal hernia", True
    if fid == "pleural_thickening":
        return _join(
            side_word if side_word != "bilateral" else "bilateral", "pleural thickening"
        ), False
    if fid == "pneumonia":
        return _join("pneumonia", at), False
    return _join(finding(fid).name.lower(), at), False


def finding_sentence(rep: ReportedFinding, style: str = "full") -> str:
    """One sentence for a reported finding; hedged when its certainty is 3 or less."""
    if rep.id == "cardiomegaly" and rep.certainty >= 4 and style == "full":
        adverb = _grade(rep.severity, ("mildly ", "moderately ", "markedly "))
        return f"The heart is {adverb}enlarged."
    np_, countable = _noun_phrase(rep)
    if rep.certainty <= 2:
        text = f"questionable {np_}"
    elif rep.certainty == 3:
        text = f"possible {np_}"
    else:
        text = f"a {np_}" if countable and style == "full" else np_
    return text[0].upper() + text[1:] + "."


def normal_sentences(reported_ids: set[str], style: str = "full") -> dict[str, str]:
    """Normal statements for what was not reported, by checklist stage letter (and "end")."""
    full = style == "full"
    out: dict[str, str] = {}
    lung = reported_ids & _LUNG_FIELD
    if "edema" not in reported_ids:
        if lung:
            out["B"] = "The lungs are otherwise clear." if full else "Otherwise clear lungs."
        else:
            out["B"] = "The lungs are clear." if full else "Clear lungs."
    if "cardiomegaly" not in reported_ids:
        out["C"] = "Heart size is normal." if full else "Normal heart size."
    effusion, ptx = "pleural_effusion" in reported_ids, "pneumothorax" in reported_ids
    if not effusion and not ptx:
        out["D"] = "No pleural effusion or pneumothorax."
    elif not ptx:
        out["D"] = "No pneumothorax."
    elif not effusion:
        out["D"] = "No pleural effusion."
    if full:
        out["E"] = "The osseous structures are intact."
        if not reported_ids - {"support_devices"}:
            out["end"] = "No acute cardiopulmonary process."
    return out


def _lag(rng: np.random.Generator) -> float:
    mean, sd, lo, hi = _LAG
    return float(np.clip(rng.normal(mean, sd), lo, hi))


def dictate(
    reported: Sequence[ReportedFinding],
    ready: Sequence[float],
    stage_ends: Mapping[str, float],
    end_of_search: float,
    profile: ReaderProfile,
    rng: np.random.Generator,
) -> tuple[Report, list[float]]:
    """The dictated report and, per reported finding, the start of its sentence.

    ``ready[i]``: when finding ``i``'s dwell ended (nan: no gaze, said at the end);
    ``stage_ends``: when each checklist stage ended; ``end_of_search``: when the checklist and
    revisits were done.
    """
    queue: list[tuple[float, int, int, str]] = []  # (ready time, order, finding index, text)
    for i, (rep, t) in enumerate(zip(reported, ready, strict=True)):
        t_ready = end_of_search if math.isnan(t) else t
        queue.append((t_ready + _lag(rng), len(queue), i, finding_sentence(rep, profile.dictation)))
    for key, text in normal_sentences({r.id for r in reported}, profile.dictation).items():
        t0 = end_of_search + 0.5 if key == "end" else stage_ends.get(key, end_of_search)
        queue.append((t0 + _lag(rng), len(queue), -1, text))
    queue.sort()
    scale = 2.5 / profile.words_per_s
    words: list[Word] = []
    texts: list[str] = []
    starts = [math.nan] * len(reported)
    t_free = 0.0
    for t_ready, _, i, text in queue:
        t = max(t_ready, t_free + float(rng.uniform(0.3, 0.8)) if words else t_ready)
        for sentence in _sentences(text):
            if i >= 0 and math.isnan(starts[i]):
                starts[i] = t
            tokens = sentence.rstrip(".").split()
            for w in tokens:
                d = (0.06 + 0.045 * len(w)) * scale * float(rng.uniform(0.9, 1.1))
                words.append(Word(w, round(t, 3), round(t + d, 3)))
                t += d + 0.05 * scale
            end = words[-1].end_s
            words.append(Word(".", end, end))
            t = end + 0.15
        texts.append(text)
        t_free = t
    return Report(text=" ".join(texts), words=tuple(words)), starts


def _sentences(text: str) -> list[str]:
    return [s.strip() + "." for s in text.split(".") if s.strip()]
