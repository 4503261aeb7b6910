"""Rows for predictors that say what is on the image: findings (classification) and report
sentences (text similarity, labels read back from the text, box grounding)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from core.data.case import GazeCase
from core.eval.protocol import EvaluationConfig
from core.eval.results import Collector, MetricRow
from core.metrics import (
    bootstrap_ci,
    classification_metrics,
    grounding_ious,
    keyword_scores,
    rouge_ls,
    sentence_bleus,
)
from core.models import Prediction
from core.report.labeller import label_report
from core.vocabulary import FINDING_IDS

__all__ = ["classification_rows", "report_rows"]


def _binary_labels(labels: Mapping[str, float], threshold: float) -> dict[str, float]:
    return {k: (math.nan if math.isnan(v) else float(v >= threshold)) for k, v in labels.items()}


def classification_rows(
    name: str,
    pairs: list[tuple[dict[str, float], dict[str, float]]],
    cfg: EvaluationConfig,
    notes: list[str],
) -> list[MetricRow]:
    """AUC/F1 rows of one predictor's findings against the cases' labels (bootstrap over cases)."""
    if not pairs:
        return []
    predicted = sorted({f for _, scores in pairs for f in scores}, key=FINDING_IDS.index)
    labels = [f for f in predicted if any(f in truth for truth, _ in pairs)]
    if not labels:
        notes.append(
            f"{name}: its findings and the cases' labels share no finding - no classification rows"
        )
        return []
    y_true = np.full((len(pairs), len(labels)), np.nan)
    y_score = np.zeros((len(pairs), len(labels)))
    for i, (truth, scores) in enumerate(pairs):
        t = _binary_labels(truth, cfg.label_threshold)
        for j, f in enumerate(labels):
            y_true[i, j] = t.get(f, math.nan)
            y_score[i, j] = scores.get(f, 0.0)
            if f not in scores and f in t:
                y_true[i, j] = math.nan  # not predicted for this case: not scored
    cm = classification_metrics(
        y_true, y_score, labels, threshold=0.5, n_bootstrap=1000, seed=cfg.seed
    )
    n = len(pairs)
    rows = [
        MetricRow(name, "AUC macro", cm.macro_auc, *cm.cis["macro_auc"], n),
        MetricRow(name, "AUC micro", cm.micro_auc, *cm.cis["micro_auc"], n),
        MetricRow(name, "F1 macro", cm.macro_f1, *cm.cis["macro_f1"], n),
        MetricRow(name, "F1 micro", cm.micro_f1, *cm.cis["micro_f1"], n),
    ]
    for j, f in enumerate(labels):
        rows.append(
            MetricRow(
                name,
                f"AUC {f}",
                float(cm.aucs[j]),
                *map(float, cm.auc_cis[j]),
                int(cm.n_annotated[j]),
            )
        )
    undefined = [f for j, f in enumerate(labels) if not math.isfinite(cm.aucs[j])]
    if undefined:
        notes.append(
            f"{name}: AUC undefined (one class only among the cases) for {', '.join(undefined)}"
        )
    return rows


def report_rows(
    name: str,
    pairs: list[tuple[GazeCase, Prediction]],
    cfg: EvaluationConfig,
    col: Collector,
    notes: list[str],
) -> list[MetricRow]:
    """Text, label and grounding rows of one predictor's sentences against the reports."""
    if not pairs:
        return []
    per: dict[str, list[float]] = {
        m: [] for m in ("ROUGE-L", "BLEU-4", "keyword recall", "keyword precision")
    }
    y_true, y_gen, grounding = [], [], []
    n_without = 0
    for case, pred in pairs:
        refs = [r.report.text for r in case.reads if r.report is not None and r.report.text.strip()]
        generated = " ".join(s.text for s in pred.sentences)
        truth_boxes: dict[str, list[tuple[float, float, float, float]]] = {}
        for ann in (*case.annotations, *(a for r in case.reads for a in r.annotations)):
            if ann.kind == "finding":
                for f in ann.labels:
                    truth_boxes.setdefault(f, []).append((ann.x0, ann.y0, ann.x1, ann.y1))
        boxed = [(s.finding_id, s.evidence.region_box) for s in pred.sentences]
        ious = grounding_ious(boxed, truth_boxes) if truth_boxes else np.zeros(0)
        graded = ious[np.isfinite(ious)]
        if len(graded):
            grounding.append(float(np.mean(graded >= 0.5)))
            col.add(name, "grounding box acc@0.5", case.case_id, grounding[-1])
        if not refs:
            n_without += 1
            continue
        gens = [generated] * len(refs)
        kw = keyword_scores(refs, gens)
        values = {
            "ROUGE-L": float(np.mean(rouge_ls(refs, gens))),
            "BLEU-4": float(np.mean(sentence_bleus(refs, gens))),
            "keyword recall": kw.macro_recall,
            "keyword precision": kw.macro_precision,
        }
        for m, v in values.items():
            per[m].append(v)
            col.add(name, m, case.case_id, v)
        ref_labels = [label_report(t) for t in refs]
        gen_labels = label_report(generated)
        y_true.append(
            [
                float(np.mean([lab.get(f, 0.0) >= 0.5 for lab in ref_labels]) >= 0.5)
                for f in FINDING_IDS
            ]
        )
        y_gen.append([float(gen_labels.get(f, 0.0) >= 0.5) for f in FINDING_IDS])
    rows = []
    if n_without:
        notes.append(
            f"{name}: {n_without} image(s) without a reference report: no text metrics for them"
        )
    for m, vs in per.items():
        if vs:
            rows.append(MetricRow(name, m, *bootstrap_ci(vs, n_boot=cfg.n_boot, seed=cfg.seed)))
    if y_true:
        cm = classification_metrics(
            np.array(y_true), np.array(y_gen), FINDING_IDS, n_bootstrap=1000, seed=cfg.seed
        )
        rows.append(
            MetricRow(name, "label F1 micro", cm.micro_f1, *cm.cis["micro_f1"], len(y_true))
        )
        rows.append(
            MetricRow(name, "label F1 macro", cm.macro_f1, *cm.cis["macro_f1"], len(y_true))
        )
    if grounding:
        rows.append(
            MetricRow(
                name,
                "grounding box acc@0.5",
                *bootstrap_ci(grounding, n_boot=cfg.n_boot, seed=cfg.seed),
            )
        )
    else:
        notes.append(
            f"{name}: no sentence could be graded for grounding (needs a region box and a finding "
            "with a true box); region-id grounding needs core.anatomy and is not computed"
        )
    return rows
