"""The findings vocabulary: one list of labels every dataset trains and evaluates against.

Each dataset's native label names map to vocabulary ids through the tables below, which are the
documentation of the mapping (``gazescope vocabulary`` prints them). A native label mapped to
``None`` is deliberately outside the vocabulary (kept only in a case's raw labels).

Values are *certainties* in [0, 1]; ``nan`` means "not annotated by this source" (so a loss or a
metric can mask it, as torchxrayvision does). A child finding implies its parent
(``PARENTS``): after mapping, a parent's certainty is at least the largest of its children's.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

logger = logging.getLogger(__name__)

__all__ = [
    "CHEXPERT",
    "EGD_CXR",
    "FINDINGS",
    "FINDING_IDS",
    "GAZESEARCH",
    "NIH",
    "PARENTS",
    "REGION_IDS",
    "REFLACX_CERTAINTY",
    "REFLACX_PHASE_1",
    "REFLACX_PHASE_2_3",
    "FindingLabel",
    "to_vocabulary",
]


@dataclass(frozen=True)
class FindingLabel:
    id: str
    name: str  # display name used in reports and the UI
    description: str


FINDINGS: tuple[FindingLabel, ...] = (
    FindingLabel(
        "atelectasis", "Atelectasis", "Volume loss, linear/patchy or lobar/segmental collapse."
    ),
    FindingLabel("cardiomegaly", "Cardiomegaly", "Enlarged cardiac silhouette."),
    FindingLabel("consolidation", "Consolidation", "Airspace consolidation."),
    FindingLabel(
        "lung_opacity",
        "Lung opacity",
        "Any parenchymal opacity: infiltration, ground glass, NOS opacity.",
    ),
    FindingLabel("edema", "Pulmonary edema", "Interstitial or alveolar pulmonary edema."),
    FindingLabel("pleural_effusion", "Pleural effusion", "Fluid in the pleural space."),
    FindingLabel(
        "pleural_thickening",
        "Pleural thickening",
        "Pleural thickening or other non-effusion pleural disease.",
    ),
    FindingLabel(
        "pleural_abnormality", "Pleural abnormality", "Effusion or thickening (parent label)."
    ),
    FindingLabel("pneumothorax", "Pneumothorax", "Air in the pleural space."),
    FindingLabel("nodule", "Nodule", "Focal opacity up to 3 cm."),
    FindingLabel("mass", "Mass", "Focal opacity over 3 cm."),
    FindingLabel("lung_lesion", "Nodule or mass", "Nodule or mass (parent label)."),
    FindingLabel("emphysema", "Emphysema", "Emphysema or high lung volumes / hyperaeration."),
    FindingLabel("fibrosis", "Fibrosis", "Fibrosis or interstitial lung disease."),
    FindingLabel(
        "pneumonia", "Pneumonia", "Pneumonia (a diagnosis inferred from opacity and context)."
    ),
    FindingLabel("fracture", "Fracture", "Rib, clavicle or other bony fracture."),
    FindingLabel("hiatal_hernia", "Hiatal hernia", "Hiatal (or other) hernia."),
    FindingLabel("enlarged_hilum", "Enlarged hilum", "Hilar enlargement."),
    FindingLabel(
        "mediastinal_abnormality",
        "Mediastinal abnormality",
        "Wide mediastinum, abnormal mediastinal contour, enlarged cardiomediastinum.",
    ),
    FindingLabel("support_devices", "Support devices", "Tubes, lines, pacemakers, other devices."),
    FindingLabel("no_finding", "No finding", "Read as normal."),
)
FINDING_IDS: tuple[str, ...] = tuple(f.id for f in FINDINGS)
_BY_ID = {f.id: f for f in FINDINGS}

# The region atlas: the anatomical regions every model, report sentence and overlay speaks about
# (core.anatomy builds them on an image). Order is the order of a systematic ABCDEF read.
REGION_IDS: tuple[str, ...] = (
    "trachea",
    "right_upper_zone",
    "left_upper_zone",
    "right_middle_zone",
    "left_middle_zone",
    "right_lower_zone",
    "left_lower_zone",
    "right_hilum",
    "left_hilum",
    "mediastinum",
    "aortic_knob",
    "cardiac_silhouette",
    "right_hemidiaphragm",
    "left_hemidiaphragm",
    "right_costophrenic_angle",
    "left_costophrenic_angle",
    "spine",
    "bones",
    "soft_tissue",
)

PARENTS: dict[str, str] = {
    "nodule": "lung_lesion",
    "mass": "lung_lesion",
    "pleural_effusion": "pleural_abnormality",
    "pleural_thickening": "pleural_abnormality",
    "consolidation": "lung_opacity",
}

# REFLACX certainty scale (0 absent, 1 unlikely ... 5 consistent with) -> probability-like
# certainty, following the verbal anchors of the REFLACX paper (<10 %, ~25 %, ~50 %, ~75 %, >90 %).
REFLACX_CERTAINTY: dict[int, float] = {0: 0.0, 1: 0.1, 2: 0.25, 3: 0.5, 4: 0.75, 5: 0.9}

REFLACX_PHASE_1: dict[str, str | None] = {
    "Airway wall thickening": None,
    "Atelectasis": "atelectasis",
    "Consolidation": "consolidation",
    "Emphysema": "emphysema",
    "Enlarged cardiac silhouette": "cardiomegaly",
    "Fibrosis": "fibrosis",
    "Fracture": "fracture",
    "Groundglass opacity": "lung_opacity",
    "Mass": "mass",
    "Nodule": "nodule",
    "Pleural effusion": "pleural_effusion",
    "Pleural thickening": "pleural_thickening",
    "Pneumothorax": "pneumothorax",
    "Pulmonary edema": "edema",
    "Quality issue": None,
    "Support devices": "support_devices",
    "Wide mediastinum": "mediastinal_abnormality",
}

REFLACX_PHASE_2_3: dict[str, str | None] = {
    "Abnormal mediastinal contour": "mediastinal_abnormality",
    "Acute fracture": "fracture",
    "Atelectasis": "atelectasis",
    "Consolidation": "consolidation",
    "Enlarged cardiac silhouette": "cardiomegaly",
    "Enlarged hilum": "enlarged_hilum",
    "Groundglass opacity": "lung_opacity",
    "Hiatal hernia": "hiatal_hernia",
    "High lung volume / emphysema": "emphysema",
    "Interstitial lung disease": "fibrosis",
    "Lung nodule or mass": "lung_lesion",
    "Pleural abnormality": "pleural_abnormality",
    "Pneumothorax": "pneumothorax",
    "Pulmonary edema": "edema",
    "Support devices": "support_devices",
}

CHEXPERT: dict[str, str | None] = {
    "No Finding": "no_finding",
    "Enlarged Cardiomediastinum": "mediastinal_abnormality",
    "Cardiomegaly": "cardiomegaly",
    "Lung Opacity": "lung_opacity",
    "Lung Lesion": "lung_lesion",
    "Edema": "edema",
    "Consolidation": "consolidation",
    "Pneumonia": "pneumonia",
    "Atelectasis": "atelectasis",
    "Pneumothorax": "pneumothorax",
    "Pleural Effusion": "pleural_effusion",
    "Pleural Other": "pleural_thickening",  # CheXpert: thickening, fibrosis, calcification
    "Fracture": "fracture",
    "Support Devices": "support_devices",
}

# EGD-CXR master_sheet.csv condition columns; its 14 CheXpert columns ("<name>__chx") map
# through CHEXPERT (see ``to_vocabulary``).
EGD_CXR: dict[str, str | None] = {
    "Normal": "no_finding",
    "CHF": None,  # a diagnosis, not a radiographic finding
    "pneumonia": "pneumonia",
    "consolidation": "consolidation",
    "enlarged_cardiac_silhouette": "cardiomegaly",
    "linear__patchy_atelectasis": "atelectasis",
    "lobar__segmental_collapse": "atelectasis",
    "not_otherwise_specified_opacity___pleural__parenchymal_opacity__": "lung_opacity",
    "pleural_effusion_or_thickening": "pleural_abnormality",
    "pulmonary_edema__hazy_opacity": "edema",
    "normal_anatomically": "no_finding",
    "elevated_hemidiaphragm": None,
    "hyperaeration": "emphysema",
    "vascular_redistribution": None,  # a sign of congestion, not edema itself
}

NIH: dict[str, str | None] = {
    "No Finding": "no_finding",
    "Atelectasis": "atelectasis",
    "Cardiomegaly": "cardiomegaly",
    "Consolidation": "consolidation",
    "Edema": "edema",
    "Effusion": "pleural_effusion",
    "Emphysema": "emphysema",
    "Fibrosis": "fibrosis",
    "Hernia": "hiatal_hernia",
    "Infiltration": "lung_opacity",
    "Infiltrate": "lung_opacity",  # spelling used in NIH BBox_List_2017
    "Mass": "mass",
    "Nodule": "nodule",
    "Pleural_Thickening": "pleural_thickening",
    "Pneumonia": "pneumonia",
    "Pneumothorax": "pneumothorax",
    "Lung Opacity": "lung_opacity",  # RSNA 2018 pneumonia challenge boxes
}

# GazeSearch task names are CheXpert-style finding names.
GAZESEARCH: dict[str, str | None] = dict(CHEXPERT)

_SOURCES: dict[str, Mapping[str, str | None]] = {
    "reflacx-1": REFLACX_PHASE_1,
    "reflacx-2": REFLACX_PHASE_2_3,
    "reflacx-3": REFLACX_PHASE_2_3,
    "chexpert": CHEXPERT,
    "egd-cxr": EGD_CXR,
    "nih": NIH,
    "gazesearch": GAZESEARCH,
}
_EGD_CHX_SUFFIX = "__chx"


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


_CHEXPERT_BY_NORM = {_norm(k): v for k, v in CHEXPERT.items()}


def finding(finding_id: str) -> FindingLabel:
    """The vocabulary entry for ``finding_id`` (``KeyError`` names the unknown id)."""
    try:
        return _BY_ID[finding_id]
    except KeyError:
        raise KeyError(
            f"unknown finding id {finding_id!r}; known: {', '.join(FINDING_IDS)}"
        ) from None


def map_name(source: str, native: str) -> str | None:
    """Vocabulary id for one native label of ``source`` (None: outside the vocabulary).

    Raises ``KeyError`` for a name the source's table does not list, so a typo or a new
    dataset release is noticed instead of silently dropped.
    """
    if source not in _SOURCES:
        raise KeyError(f"unknown label source {source!r}; known: {', '.join(_SOURCES)}")
    table = _SOURCES[source]
    if native in table:
        return table[native]
    if source == "egd-cxr" and native.endswith(_EGD_CHX_SUFFIX):
        key = _norm(native[: -len(_EGD_CHX_SUFFIX)])
        if key in _CHEXPERT_BY_NORM:
            return _CHEXPERT_BY_NORM[key]
    raise KeyError(f"{source}: label {native!r} is not in the mapping table")


def to_vocabulary(
    source: str, native: Mapping[str, float], *, strict: bool = False
) -> dict[str, float]:
    """Map native ``{label: certainty}`` of ``source`` to ``{finding_id: certainty}``.

    Several native labels mapping to one id combine by maximum (ignoring nan). Unknown native
    labels raise ``KeyError`` when ``strict``, else are logged and skipped. Parents get at least
    the maximum certainty of their children. Ids the source never annotates are absent.
    """
    out: dict[str, float] = {}
    for name, value in native.items():
        try:
            fid = map_name(source, name)
        except KeyError:
            if strict:
                raise
            logger.debug("%s: label %r is not in the vocabulary mapping; skipped", source, name)
            continue
        if fid is None:
            continue
        v = float(value)
        if not (math.isnan(v) or 0.0 <= v <= 1.0):
            raise ValueError(f"{source}: certainty of {name!r} must be in [0, 1] or nan, got {v}")
        prev = out.get(fid, math.nan)
        out[fid] = v if math.isnan(prev) else (prev if math.isnan(v) else max(prev, v))
    for child, parent in PARENTS.items():
        if child in out and not math.isnan(out[child]):
            prev = out.get(parent, math.nan)
            out[parent] = out[child] if math.isnan(prev) else max(prev, out[child])
    return out
