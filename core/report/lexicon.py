"""The report lexicon: the one curated vocabulary of chest X-ray report wording.

Three pieces of GazeScope write or read report text, and they share this module so that what
one writes the other reads back:

- the report generator (:mod:`core.report.generate`) turns findings with probabilities into
  sentences with the phrasing, hedges, places and normal statements below;
- the rule-based labeller (:mod:`core.report.labeller`) recognises findings by
  :data:`SYNONYMS`, skips :data:`EXCLUSIONS` and reads :data:`NORMAL_STATEMENTS`;
- the simulated radiologists' dictation (``core.synth.dictation``) says findings with the
  certainty hedges and places below and the sections' normal statements.

What it holds:

- **Bands** (:data:`BANDS`, :func:`probability_band`): a calibrated probability in words,
  "unlikely" / "possible" / "likely" / "very likely". The thresholds sit half-way between the
  verbal anchors of REFLACX's certainty scale (:data:`core.vocabulary.REFLACX_CERTAINTY`:
  "unlikely" ~25 %, "possible" ~50 %, "likely" ~75 %, "consistent with" >90 %), so a band
  means what the same word meant to the REFLACX radiologists: 0.375, 0.625, 0.825.
- **Hedges** (:data:`BAND_HEDGES`, :func:`certainty_hedge`): the word that opens a hedged
  sentence. Every hedge is an uncertainty cue of the labeller (a test checks it): "possible"
  and "likely" read as uncertain (CheXpert's convention), an unhedged sentence as positive.
  Findings in the "unlikely" band are not written; the section's normal statement rules them
  out.
- **Places** (:data:`PLACE_PHRASES`, :func:`place_phrase`): region id -> "the right mid zone".
- **Findings** (:data:`FINDING_PHRASES`): per finding its wording, where it can be (candidate
  regions of :data:`core.anatomy.REGION_IDS` or the whole lung fields), how the generator
  picks among those regions, the report section it belongs to and the anatomy measurement
  that supports it.
- **Sections** (:data:`SECTIONS`): the order of a dictated report (devices, lungs, pleura,
  heart, mediastinum, bones, impression), each with its regions and its normal statements as
  a radiologist dictates them ("The lungs are clear.", "No pleural effusion or
  pneumothorax."), in full and terse style, and the findings that forbid each statement.
- **Thresholds**: the cardiothoracic ratio's upper limit of normal (0.50 on a PA film) and the
  anatomy confidence under which measurements are not quoted in the text.

Phrasing is a design choice written to read like common radiology dictation; it is not
learned from reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.vocabulary import FINDING_IDS, REFLACX_CERTAINTY

__all__ = [
    "BANDS",
    "BAND_HEDGES",
    "CTR_UPPER_NORMAL",
    "DEFAULT_LEXICON",
    "EXCLUSIONS",
    "FINDING_PHRASES",
    "LUNG_FIELD_FINDINGS",
    "MEASUREMENT_MIN_CONFIDENCE",
    "NORMAL_STATEMENTS",
    "PLACE_PHRASES",
    "SECTIONS",
    "SIDE_RATIO",
    "SYNONYMS",
    "FindingPhrase",
    "Lexicon",
    "NormalStatement",
    "Section",
    "certainty_hedge",
    "place_phrase",
    "probability_band",
]

# --- recognition: the labeller's phrase tables ----------------------------------------------

# finding id -> phrases; the first phrase is the canonical report wording for the finding.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "atelectasis": (
        "atelectasis",
        "atelecta*",
        "volume loss",
        "lobar collapse",
        "segmental collapse",
        "lobe collapse",
        "collapse lobe",
    ),
    "cardiomegaly": (
        "enlarged cardiac silhouette",
        "cardiomegaly",
        "cardiac enlargement",
        "enlargement cardiac silhouette",
        "enlargement heart",
        "enlarged heart",
        "heart enlarged",
        "heart size increased",
        "cardiac silhouette enlarged",
        "enlarged cardiac shadow",
    ),
    "consolidation": ("consolidation", "consolidat*", "air bronchogram*"),
    "lung_opacity": (
        "lung opacity",
        "opacit*",
        "opacif*",
        "infiltrat*",
        "ground glass",
        "groundglass",
        "haziness",
        "airspace disease",
        "air space disease",
    ),
    "edema": (
        "pulmonary edema",
        "edema",
        "oedema",
        "fluid overload",
        "kerley b lines",
    ),
    "pleural_effusion": (
        "pleural effusion",
        "effusion",
        "blunting costophrenic angle",
        "costophrenic angle blunting",
        "blunted costophrenic angle",
        "costophrenic angle blunted",
        "pleural fluid",
        "fluid pleural space",
        "hydrothorax",
        "layering fluid",
    ),
    "pleural_thickening": (
        "pleural thickening",
        "thickening pleura",
        "pleura thickened",
        "pleural plaque",
        "pleural calcification*",
        "apical cap*",
    ),
    "pleural_abnormality": ("pleural abnormality", "pleural disease"),
    "pneumothorax": ("pneumothorax", "pneumothora*", "ptx"),
    "nodule": ("nodule", "nodul*"),
    "mass": ("mass",),
    "lung_lesion": (
        "lung lesion",
        "pulmonary lesion",
        "lesion",
        "neoplasm",
        "tumor",
        "tumour",
        "malignancy",
        "carcinoma",
        "metasta*",
    ),
    "emphysema": (
        "emphysema",
        "emphysemat*",
        "hyperinflat*",
        "hyperexpan*",
        "hyperaera*",
        "copd",
        "chronic obstructive pulmonary disease",
        "bulla*",
        "bullous",
        "large lung volumes",
        "high lung volumes",
        "increased lung volumes",
        "flattening hemidiaphragm*",
        "flattened hemidiaphragm*",
    ),
    "fibrosis": (
        "fibrosis",
        "fibrotic",
        "interstitial lung disease",
        "ild",
        "honeycomb*",
        "reticular opacit*",
        "scarring",
        "scar",
    ),
    "pneumonia": ("pneumonia", "bronchopneumonia", "pneumonic", "infectious process", "infection"),
    "fracture": ("fracture", "fractur*", "fx"),
    "hiatal_hernia": ("hiatal hernia", "hiatus hernia", "hernia*"),
    "enlarged_hilum": (
        "enlarged hilum",
        "enlarged hil*",
        "hil* enlarged",
        "hilar enlargement",
        "enlargement hil*",
        "hilar prominence",
        "prominent hil*",
        "hil* prominent",
        "hilar adenopathy",
        "hilar lymphadenopathy",
        "hilar fullness",
    ),
    "mediastinal_abnormality": (
        "widened mediastinum",
        "mediastinal widening",
        "wide mediastinum",
        "mediastinum widened",
        "widening mediastinum",
        "enlarged cardiomediastinal silhouette",
        "cardiomediastinal silhouette enlarged",
        "abnormal mediastinal contour",
        "mediastinal mass",
        "mediastinal shift",
        "mediastinal lymphadenopathy",
    ),
    "support_devices": (
        "support devices",
        "support device",
        "monitoring devices",
        "endotracheal tube",
        "et tube",
        "nasogastric tube",
        "ng tube",
        "orogastric tube",
        "og tube",
        "enteric tube",
        "feeding tube",
        "dobhoff",
        "chest tube",
        "tracheostomy",
        "tube",
        "picc",
        "central venous catheter",
        "central line",
        "central venous line",
        "venous catheter",
        "catheter",
        "swan ganz",
        "pacemaker",
        "pacer",
        "defibrillator",
        "aicd",
        "icd",
        "pacer leads",
        "pacing leads",
        "ecg leads",
        "ekg leads",
        "monitoring leads",
        "sternotomy wires",
        "median sternotomy",
        "port a cath",
        "port",
        "stent",
        "drain",
    ),
}

# Phrases that look like a finding but are not one (removed before matching findings).
EXCLUSIONS: tuple[str, ...] = (
    "pericardial effusion",
    "joint effusion",
    "mass effect",
    "body mass",
    "lytic lesion",
    "osseous lesion",
    "bone lesion",
    "bony lesion",
    "sclerotic lesion",
    "blastic lesion",
    "skin lesion",
)

# (phrase, findings it rules out). Phrases match like SYNONYMS (gaps allowed). An empty tuple
# is a global "normal study" statement: it rules nothing out by itself.
NORMAL_STATEMENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("no acute cardiopulmonary process", ()),
    ("no acute cardiopulmonary abnormality", ()),
    ("no acute cardiopulmonary disease", ()),
    ("no acute intrathoracic process", ()),
    ("no acute findings", ()),
    ("no active disease", ()),
    ("normal chest radiograph", ()),
    ("normal chest x ray", ()),
    ("lungs are clear", ("lung_opacity", "consolidation", "edema", "pneumonia")),
    ("clear lungs", ("lung_opacity", "consolidation", "edema", "pneumonia")),
    ("heart size is normal", ("cardiomegaly",)),
    ("heart normal", ("cardiomegaly",)),
    ("normal heart", ("cardiomegaly",)),
    ("cardiac silhouette normal", ("cardiomegaly",)),
    ("normal cardiac silhouette", ("cardiomegaly",)),
    ("cardiomediastinal silhouette normal", ("cardiomegaly", "mediastinal_abnormality")),
    ("normal cardiomediastinal silhouette", ("cardiomegaly", "mediastinal_abnormality")),
    ("cardiomediastinal silhouette unremarkable", ("cardiomegaly", "mediastinal_abnormality")),
    ("cardiomediastinal contours normal", ("cardiomegaly", "mediastinal_abnormality")),
    ("mediastinal contours normal", ("mediastinal_abnormality",)),
    ("hilar contours normal", ("enlarged_hilum",)),
    ("costophrenic angles sharp", ("pleural_effusion",)),
    ("costophrenic angles clear", ("pleural_effusion",)),
    ("osseous structures intact", ("fracture",)),
    ("no osseous abnormality", ("fracture",)),
    ("no bony abnormality", ("fracture",)),
    ("pulmonary vasculature normal", ("edema",)),
)


# --- bands and hedges -----------------------------------------------------------------------


def _midpoint(a: int, b: int) -> float:
    return round((REFLACX_CERTAINTY[a] + REFLACX_CERTAINTY[b]) / 2.0, 4)


# (band, lowest probability in it), ascending; thresholds half-way between REFLACX anchors
BANDS: tuple[tuple[str, float], ...] = (
    ("unlikely", 0.0),
    ("possible", _midpoint(2, 3)),  # 0.375
    ("likely", _midpoint(3, 4)),  # 0.625
    ("very likely", _midpoint(4, 5)),  # 0.825
)
# the word opening a sentence in each band that is written ("" = stated plainly)
BAND_HEDGES: dict[str, str] = {"possible": "possible", "likely": "likely", "very likely": ""}


def certainty_hedge(certainty: int) -> str:
    """The hedge for a REFLACX certainty (1-5) a simulated reader dictates; "" = plainly.

    4 ("likely") and 5 ("consistent with") are dictated plainly, 3 as "possible", 1-2 as
    "questionable" (all uncertainty cues of the labeller).
    """
    if certainty <= 2:
        return "questionable"
    if certainty == 3:
        return "possible"
    return ""


# --- places ---------------------------------------------------------------------------------

_ZONE_WORD = {"upper": "upper", "middle": "mid", "lower": "lower"}
ZONES: tuple[str, ...] = tuple(
    f"{side}_{level}_zone" for level in ("upper", "middle", "lower") for side in ("right", "left")
)
PLACE_PHRASES: dict[str, str] = {
    **{z: f"the {z.split('_')[0]} {_ZONE_WORD[z.split('_')[1]]} zone" for z in ZONES},
    "right_hilum": "the right hilar region",
    "left_hilum": "the left hilar region",
    "right_costophrenic_angle": "the right lung base",
    "left_costophrenic_angle": "the left lung base",
    "cardiac_silhouette": "the retrocardiac region",
    "right_lung": "the right lung",
    "left_lung": "the left lung",
}


def place_phrase(location: str, side: str = "") -> str:
    """Where a finding is, in words: "the left mid zone", "the right hilar region", or "".

    ``location`` is a region id (or "" / a non-region location such as "lungs"); without a
    known place the side alone names the lung ("the right lung"; "both lungs" for bilateral).
    """
    if location in PLACE_PHRASES:
        return PLACE_PHRASES[location]
    if side in ("right", "left"):
        return PLACE_PHRASES[f"{side}_lung"]
    if side == "bilateral" and not location:
        return "both lungs"
    return ""


# --- findings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingPhrase:
    """How the generator words and places one finding.

    ``locate``: "zone" - the one candidate region holding the finding's attention peak, named
    in the sentence ("in the right lower zone"); "side" - the candidate regions whose
    attention reaches :data:`SIDE_RATIO` of the best, named by side ("left", "bilateral");
    "fixed" - all candidates, no place named. Without an attention map a "zone" finding is
    placed in the whole lung fields and a "side" finding on both sides, unnamed.
    """

    noun: str  # wording without article; recognised by the labeller as this finding
    regions: tuple[str, ...]  # candidate regions
    section: str  # id of the report section it belongs to
    locate: str = "fixed"
    article: bool = False  # countable: "A nodule in ..."
    plural: str = ""  # the bilateral form ("pleural effusions"); "" = the noun
    positive: str = ""  # the plain sentence when not "<Noun><place>" ("The heart is enlarged")
    measurement: str = ""  # anatomy measurement id; "costophrenic_angle" = the side's angle


LUNG_ZONES = ZONES
BOTH_LUNGS = ("right_lung", "left_lung")
ANGLES = ("right_costophrenic_angle", "left_costophrenic_angle")
HILA = ("right_hilum", "left_hilum")

FINDING_PHRASES: dict[str, FindingPhrase] = {
    "atelectasis": FindingPhrase("atelectasis", LUNG_ZONES, "lungs", "zone"),
    "cardiomegaly": FindingPhrase(
        "cardiomegaly",
        ("cardiac_silhouette",),
        "heart",
        positive="The heart is enlarged",
        measurement="cardiothoracic_ratio",
    ),
    "consolidation": FindingPhrase("consolidation", LUNG_ZONES, "lungs", "zone"),
    "lung_opacity": FindingPhrase("airspace opacity", LUNG_ZONES, "lungs", "zone"),
    "edema": FindingPhrase("pulmonary edema", BOTH_LUNGS, "lungs"),
    "pleural_effusion": FindingPhrase(
        "pleural effusion",
        ANGLES,
        "pleura",
        "side",
        plural="pleural effusions",
        measurement="costophrenic_angle",
    ),
    "pleural_thickening": FindingPhrase(
        "pleural thickening", (*LUNG_ZONES, *ANGLES), "pleura", "side"
    ),
    "pleural_abnormality": FindingPhrase(
        "pleural abnormality", (*LUNG_ZONES, *ANGLES), "pleura", "side"
    ),
    "pneumothorax": FindingPhrase("pneumothorax", LUNG_ZONES, "pleura", "side"),
    "nodule": FindingPhrase("nodule", LUNG_ZONES, "lungs", "zone", article=True),
    "mass": FindingPhrase("mass", LUNG_ZONES, "lungs", "zone", article=True),
    "lung_lesion": FindingPhrase("lung lesion", LUNG_ZONES, "lungs", "zone", article=True),
    "emphysema": FindingPhrase("emphysema", BOTH_LUNGS, "lungs"),
    "fibrosis": FindingPhrase("interstitial fibrosis", LUNG_ZONES, "lungs", "side"),
    "pneumonia": FindingPhrase("pneumonia", LUNG_ZONES, "lungs", "zone"),
    "fracture": FindingPhrase("fracture", ("bones",), "bones"),
    "hiatal_hernia": FindingPhrase(
        "hiatal hernia", ("cardiac_silhouette",), "mediastinum", article=True
    ),
    "enlarged_hilum": FindingPhrase("hilar enlargement", HILA, "mediastinum", "side"),
    "mediastinal_abnormality": FindingPhrase(
        "mediastinal widening",
        ("mediastinum", "aortic_knob"),
        "mediastinum",
        measurement="mediastinal_width",
    ),
    "support_devices": FindingPhrase(
        "support devices", ("trachea", "mediastinum", "soft_tissue"), "devices"
    ),
}
# findings of the lung fields: the lungs are only "otherwise" clear when one is reported
LUNG_FIELD_FINDINGS: frozenset[str] = frozenset(
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

# --- sections and their normal statements --------------------------------------------------


@dataclass(frozen=True)
class NormalStatement:
    """A normal statement, said when none of ``blocked_by`` is reported."""

    full: str
    terse: str  # telegraphic style; "" = not said in that style
    blocked_by: frozenset[str]


@dataclass(frozen=True)
class Section:
    """One part of a dictated report: its regions and its normal statements.

    ``normals`` are alternatives, most complete first; the first one none of whose
    ``blocked_by`` findings is reported is said ("No pleural effusion or pneumothorax." ->
    "No pneumothorax." when an effusion is reported).
    """

    id: str
    regions: tuple[str, ...]
    normals: tuple[NormalStatement, ...] = ()
    measurement: str = ""  # anatomy measurement quoted as the normal statement's evidence

    def normal_statement(self, reported: set[str] | frozenset[str], style: str = "full") -> str:
        """The normal statement for this section given the reported findings ("" if none)."""
        for statement in self.normals:
            if not statement.blocked_by & reported:
                return statement.full if style == "full" else statement.terse
        return ""


_ABNORMAL = frozenset(FINDING_IDS) - {"support_devices", "no_finding"}

SECTIONS: tuple[Section, ...] = (
    Section("devices", ("trachea", "mediastinum", "soft_tissue")),
    Section(
        "lungs",
        LUNG_ZONES,
        (
            NormalStatement(
                "The lungs are clear.", "Clear lungs.", LUNG_FIELD_FINDINGS | {"edema"}
            ),
            NormalStatement(
                "The lungs are otherwise clear.", "Otherwise clear lungs.", frozenset({"edema"})
            ),
        ),
        measurement="lung_area_ratio",
    ),
    Section(
        "pleura",
        (*ANGLES, "right_hemidiaphragm", "left_hemidiaphragm"),
        (
            NormalStatement(
                "No pleural effusion or pneumothorax.",
                "No pleural effusion or pneumothorax.",
                frozenset({"pleural_effusion", "pneumothorax"}),
            ),
            NormalStatement("No pneumothorax.", "No pneumothorax.", frozenset({"pneumothorax"})),
            NormalStatement(
                "No pleural effusion.", "No pleural effusion.", frozenset({"pleural_effusion"})
            ),
        ),
        measurement="costophrenic_angle",
    ),
    Section(
        "heart",
        ("cardiac_silhouette",),
        (
            NormalStatement(
                "Heart size is normal.", "Normal heart size.", frozenset({"cardiomegaly"})
            ),
        ),
        measurement="cardiothoracic_ratio",
    ),
    Section(
        "mediastinum",
        ("trachea", "mediastinum", "aortic_knob", *HILA),
        (
            NormalStatement(
                "The mediastinal and hilar contours are normal.",
                "",
                frozenset({"mediastinal_abnormality", "enlarged_hilum"}),
            ),
            NormalStatement("The hilar contours are normal.", "", frozenset({"enlarged_hilum"})),
            NormalStatement(
                "The mediastinal contours are normal.",
                "",
                frozenset({"mediastinal_abnormality"}),
            ),
        ),
        measurement="mediastinal_width",
    ),
    Section(
        "bones",
        ("spine", "bones"),
        (NormalStatement("The osseous structures are intact.", "", frozenset({"fracture"})),),
    ),
    Section(
        "impression",
        (),
        (NormalStatement("No acute cardiopulmonary process.", "", _ABNORMAL),),
    ),
)

# --- thresholds -----------------------------------------------------------------------------

CTR_UPPER_NORMAL = 0.50  # cardiothoracic ratio; PA convention (an AP film magnifies the heart)
# anatomy confidence under which measurements are not quoted in the text (the anatomy's own
# "do not trust" threshold, core.anatomy.CONFIDENCE_THRESHOLD; a test keeps them equal)
MEASUREMENT_MIN_CONFIDENCE = 0.5
SIDE_RATIO = 0.7  # a side (or region) is named when its attention peak is >= this x the best


@dataclass(frozen=True)
class Lexicon:
    """The pieces the generator reads, bundled so that a caller can swap one (tests, studies)."""

    bands: tuple[tuple[str, float], ...] = BANDS
    hedges: dict[str, str] = field(default_factory=lambda: dict(BAND_HEDGES))
    findings: dict[str, FindingPhrase] = field(default_factory=lambda: dict(FINDING_PHRASES))
    sections: tuple[Section, ...] = SECTIONS
    ctr_upper_normal: float = CTR_UPPER_NORMAL
    measurement_min_confidence: float = MEASUREMENT_MIN_CONFIDENCE
    side_ratio: float = SIDE_RATIO

    def __post_init__(self) -> None:
        lows = [lo for _, lo in self.bands]
        if lows != sorted(lows) or not lows or lows[0] != 0.0:
            raise ValueError(f"bands must start at 0 and ascend, got {self.bands}")

    def band(self, probability: float) -> str:
        """The band of a probability in [0, 1]."""
        p = float(probability)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"probability must be in [0, 1], got {probability}")
        name = self.bands[0][0]
        for band, lo in self.bands:
            if p >= lo:
                name = band
        return name

    def section(self, section_id: str) -> Section:
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(f"unknown report section {section_id!r}")


DEFAULT_LEXICON = Lexicon()


def probability_band(probability: float, lexicon: Lexicon = DEFAULT_LEXICON) -> str:
    """The band of a calibrated probability: unlikely, possible, likely or very likely."""
    return lexicon.band(probability)
