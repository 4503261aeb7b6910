"""Draft reports against the simulated readers' dictations on a synthetic corpus split.

For each image of the split (default ``test``; nothing here is tuned on it) the generator
(:func:`core.report.generate_report`) writes a report from

- ``findings``: the findings source - "oracle" (the image's true findings from ``truth/``, each
  at probability :data:`ORACLE_PROBABILITY`, i.e. stated plainly) or a callable returning
  ``(findings, attention)`` for a radiograph (a classifier);
- ``attention``: with "truth" the oracle findings get their true masks as attention (what a
  perfect attention map would give the placing logic); "none" gives none; a classifier gives
  its own maps;
- the anatomy found on the image by :func:`core.anatomy.locate` (as the pipeline does),

and is compared with every dictation of the image (one pair per read, simulated readers incl.
the held-out one) by the metrics of :mod:`core.metrics.text`: ROUGE-L, clinical keyword recall
and precision, label F1 through the rule-based labeller (uncertain counts as positive) and
region grounding: a finding sentence is correct when its region ids meet the regions holding
at least :data:`TRUTH_REGION_SHARE` of the finding's true mask (or the region holding most of
it). Whole-lung ids are never true regions, so an unplaced finding counts as wrong; the large
background regions (bones, spine, soft tissue) are true only for the findings that live there
(fracture; support devices), so that they do not make every sentence about them right.
Unlocated findings (NIH labels without a box) are not graded.

The same metrics between the readers' own dictations of an image (each read against the other
reads) give the inter-reader reference. Caveat, said wherever the figures are: the simulated
dictation draws its wording from the same lexicon as the generator (``core.report.lexicon``), so
ROUGE-L and keyword figures against it are higher than against human reports would be.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.metrics.stats import bootstrap_ci
from core.metrics.text import grounding_hits, keyword_scores, label_scores, rouge_ls
from core.report import ReportSentence, generate_report, report_text

logger = logging.getLogger(__name__)

__all__ = [
    "ORACLE_PROBABILITY",
    "TRUTH_REGION_SHARE",
    "ImageReport",
    "ReportScores",
    "evaluate_reports",
    "reader_reference",
    "score_reports",
    "truth_regions",
]

ORACLE_PROBABILITY = 0.9  # "very likely": an oracle finding is stated plainly
TRUTH_REGION_SHARE = 0.1  # a region holding >= 10 % of a finding's true mask is a true region
_WHOLE_LUNGS = frozenset({"right_lung", "left_lung"})
_BACKGROUND = {"bones": {"fracture"}, "spine": {"fracture"}, "soft_tissue": {"support_devices"}}

FindingsSource = Callable[[object], tuple[Mapping[str, float], Mapping[str, np.ndarray]]]


@dataclass(frozen=True)
class ImageReport:
    """One image: its dictations, the generated sentences and where its findings truly are."""

    image_id: str
    source: str  # "phantom" or the real dataset's folder name
    references: tuple[str, ...]
    sentences: tuple[ReportSentence, ...]
    truth_regions: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def generated(self) -> str:
        return report_text(self.sentences)


@dataclass(frozen=True)
class ReportScores:
    """Corpus figures; per-image means carry a 95 % bootstrap CI over images."""

    n_images: int
    n_pairs: int
    rouge_l: tuple[float, float, float]  # mean, lo, hi
    keyword_recall: tuple[float, float, float]
    keyword_precision: tuple[float, float, float]
    label_micro_f1: float
    label_macro_f1: float
    grounding: tuple[float, float, float]
    n_grounded: int  # finding sentences graded for grounding

    def as_rows(self) -> list[tuple[str, str]]:
        def ci(v: tuple[float, float, float]) -> str:
            return f"{v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]" if math.isfinite(v[0]) else "n/a"

        return [
            ("images / report pairs", f"{self.n_images} / {self.n_pairs}"),
            ("ROUGE-L", ci(self.rouge_l)),
            ("keyword recall", ci(self.keyword_recall)),
            ("keyword precision", ci(self.keyword_precision)),
            ("label F1 (micro)", f"{self.label_micro_f1:.3f}"),
            ("label F1 (macro over findings)", f"{self.label_macro_f1:.3f}"),
            (
                "region grounding accuracy",
                f"{ci(self.grounding)} over {self.n_grounded} finding sentences",
            ),
        ]


def truth_regions(
    finding_masks: list[np.ndarray | None],
    finding_ids: list[str],
    region_masks: Mapping[str, np.ndarray],
) -> dict[str, frozenset[str]]:
    """Finding id -> atlas regions that hold its true mask (module docstring); located only."""
    out: dict[str, set[str]] = {}
    for fid, mask in zip(finding_ids, finding_masks, strict=True):
        if mask is None or not mask.any():
            continue
        shares = {}
        for rid, rmask in region_masks.items():
            if rid in _WHOLE_LUNGS or fid not in _BACKGROUND.get(rid, {fid}):
                continue
            m = _on_grid(mask, rmask.shape)
            total = m.sum()
            if total:
                shares[rid] = float((m & rmask).sum() / total)
        if not shares or max(shares.values()) == 0:
            continue
        keep = {r for r, s in shares.items() if s >= TRUTH_REGION_SHARE}
        keep.add(max(shares, key=lambda r: shares[r]))
        out.setdefault(fid, set()).update(keep)
    return {f: frozenset(r) for f, r in out.items()}


def _on_grid(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    h, w = mask.shape
    rows = np.minimum(((np.arange(shape[0]) + 0.5) * h / shape[0]).astype(int), h - 1)
    cols = np.minimum(((np.arange(shape[1]) + 0.5) * w / shape[1]).astype(int), w - 1)
    return mask[np.ix_(rows, cols)]


def score_reports(images: list[ImageReport], *, seed: int = 0) -> ReportScores:
    """The figures of generated reports against every dictation of their images."""
    refs, gens, per_image = [], [], {"rouge": [], "kw_r": [], "kw_p": [], "ground": []}
    n_grounded = 0
    for im in images:
        if not im.references:
            continue
        g = [im.generated] * len(im.references)
        refs += list(im.references)
        gens += g
        kw = keyword_scores(list(im.references), g)
        per_image["rouge"].append(float(np.mean(rouge_ls(list(im.references), g))))
        per_image["kw_r"].append(_nanmean(kw.recalls))
        per_image["kw_p"].append(_nanmean(kw.precisions))
        hits = grounding_hits(
            [(s.finding_id, s.region_ids) for s in im.sentences], im.truth_regions
        )
        graded = hits[np.isfinite(hits)]
        n_grounded += len(graded)
        per_image["ground"].append(float(graded.mean()) if len(graded) else math.nan)
    return _scores(refs, gens, per_image, n_grounded, seed)


def reader_reference(images: list[ImageReport], *, seed: int = 0) -> ReportScores:
    """The same figures between the readers' own dictations (each read vs the other reads)."""
    refs, gens, per_image = [], [], {"rouge": [], "kw_r": [], "kw_p": [], "ground": []}
    for im in images:
        texts = list(im.references)
        if len(texts) < 2:
            continue
        r = [a for i, a in enumerate(texts) for j in range(len(texts)) if j != i]
        g = [texts[j] for i in range(len(texts)) for j in range(len(texts)) if j != i]
        refs += r
        gens += g
        kw = keyword_scores(r, g)
        per_image["rouge"].append(float(np.mean(rouge_ls(r, g))))
        per_image["kw_r"].append(_nanmean(kw.recalls))
        per_image["kw_p"].append(_nanmean(kw.precisions))
        per_image["ground"].append(math.nan)
    return _scores(refs, gens, per_image, 0, seed)


def _nanmean(a: np.ndarray) -> float:
    a = a[np.isfinite(a)]
    return float(a.mean()) if len(a) else math.nan


def _scores(
    refs: list[str], gens: list[str], per: dict[str, list[float]], n_grounded: int, seed: int
) -> ReportScores:
    def ci(key: str) -> tuple[float, float, float]:
        m = bootstrap_ci(per[key], n_boot=2000, seed=seed)
        return (m.mean, m.lo, m.hi)

    labels = label_scores(refs, gens)
    return ReportScores(
        n_images=len(per["rouge"]),
        n_pairs=len(refs),
        rouge_l=ci("rouge"),
        keyword_recall=ci("kw_r"),
        keyword_precision=ci("kw_p"),
        label_micro_f1=labels.micro_f1,
        label_macro_f1=labels.macro_f1,
        grounding=ci("ground"),
        n_grounded=n_grounded,
    )


def evaluate_reports(
    root: str | Path,
    *,
    split: str = "test",
    findings: str | FindingsSource = "oracle",
    attention: str = "none",
    limit: int | None = None,
) -> list[ImageReport]:
    """Generate a report for every image of ``split`` of the corpus at ``root`` (docstring)."""
    from core.anatomy import locate
    from core.data.reflacx import read_reflacx
    from core.data.synth.corpus import load_truth, read_reader_table
    from core.io import load_radiograph

    if attention not in ("none", "truth"):
        raise ValueError(f"attention must be 'none' or 'truth', got {attention!r}")
    if attention == "truth" and findings != "oracle":
        raise ValueError("attention='truth' goes with the oracle findings only")
    root = Path(root)
    readers = read_reader_table(root / "synthetic_readers.csv")
    cases = read_reflacx(root, images_root=root / "images", reader_ids=readers, dataset="synthetic")
    out: list[ImageReport] = []
    for case in cases:
        if case.split != split:
            continue
        if limit is not None and len(out) >= limit:
            break
        truth = load_truth(root, case.case_id)
        ids = [f["id"] for f in truth["findings"]]
        regions = truth_regions(truth["finding_masks"], ids, truth["region_masks"])
        radiograph = load_radiograph(case.image.path)
        anatomy = locate(radiograph)
        if findings == "oracle":
            probs = {
                f: ORACLE_PROBABILITY
                for f, v in truth["labels"].items()
                if v is not None and v >= 1.0 and f != "no_finding"
            }
            maps = {}
            if attention == "truth":
                for fid, mask in zip(ids, truth["finding_masks"], strict=True):
                    if mask is not None and mask.any():
                        maps[fid] = np.maximum(maps.get(fid, 0.0), mask.astype(np.float64))
        else:
            probs, maps = findings(radiograph)
        sentences = generate_report(probs, anatomy, attention=maps)
        refs = tuple(
            r.report.text for r in case.reads if r.report is not None and r.report.text.strip()
        )
        out.append(ImageReport(case.case_id, str(truth["source"]), refs, tuple(sentences), regions))
    logger.info("report evaluation: %d %s images", len(out), split)
    return out
