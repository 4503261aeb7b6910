"""Metrics: pure numpy/scipy functions comparing predictions with human data.

Scanpath comparison, saliency, classification and report text. Conventions for every metric,
degenerate inputs included: ``core/metrics/CONVENTIONS.md``. Per-item results are plural
(``NSSs``, ``multimatches``, ``rouge_ls``), aggregates singular; :func:`bootstrap_ci`
aggregates values with NaN handling.
"""

from core.metrics.classification import (
    ClassificationMetrics,
    classification_metrics,
    precision_recall_f1,
    roc_auc,
    roc_aucs,
    two_group_auc,
    two_group_auc_ci,
)
from core.metrics.distance import dtw_distance, dtw_distances, frechet_distance, frechet_distances
from core.metrics.multimatch import (
    MULTIMATCH_DIMENSIONS,
    MultiMatchResult,
    dmm,
    mm,
    multimatch,
    multimatches,
)
from core.metrics.saliency import (
    CC,
    NSS,
    SIM,
    AUC_Judd,
    KLDiv,
    NSSs,
    medgaze_cc,
    medgaze_iou,
    sAUC,
    sAUCs,
)
from core.metrics.scanmatch import (
    scanmatch,
    scanmatch_sequence,
    scanmatch_substitution_matrix,
    scanmatch_threshold,
    scanmatches,
)
from core.metrics.sequence import (
    FixationClusters,
    fit_fixation_clusters,
    region_symbols,
    sequence_score,
    sequence_scores,
)
from core.metrics.stats import MeanCI, bootstrap_ci
from core.metrics.text import (
    KeywordScores,
    LabelScores,
    box_iou,
    corpus_bleu,
    grounding_accuracy,
    grounding_box_accuracy,
    grounding_hits,
    grounding_ious,
    keyword_scores,
    label_scores,
    report_keywords,
    rouge_l,
    rouge_ls,
    sentence_bleus,
)

__all__ = [
    # scanpath
    "MULTIMATCH_DIMENSIONS",
    "FixationClusters",
    "MeanCI",
    "MultiMatchResult",
    "bootstrap_ci",
    "dmm",
    "dtw_distance",
    "dtw_distances",
    "fit_fixation_clusters",
    "frechet_distance",
    "frechet_distances",
    "mm",
    "multimatch",
    "multimatches",
    "region_symbols",
    "scanmatch",
    "scanmatch_sequence",
    "scanmatch_substitution_matrix",
    "scanmatch_threshold",
    "scanmatches",
    "sequence_score",
    "sequence_scores",
    # saliency
    "AUC_Judd",
    "CC",
    "KLDiv",
    "NSS",
    "NSSs",
    "SIM",
    "medgaze_cc",
    "medgaze_iou",
    "sAUC",
    "sAUCs",
    # classification
    "ClassificationMetrics",
    "classification_metrics",
    "precision_recall_f1",
    "roc_auc",
    "roc_aucs",
    "two_group_auc",
    "two_group_auc_ci",
    # report text
    "KeywordScores",
    "LabelScores",
    "box_iou",
    "corpus_bleu",
    "grounding_accuracy",
    "grounding_box_accuracy",
    "grounding_hits",
    "grounding_ious",
    "keyword_scores",
    "label_scores",
    "report_keywords",
    "rouge_l",
    "rouge_ls",
    "sentence_bleus",
]
