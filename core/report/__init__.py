"""Report tooling: the shared lexicon, the draft-report generator, the rule-based labeller.

``generate_report(findings, anatomy, ...)`` writes region-linked ``ReportSentence``s;
``probability_band(p)`` names a calibrated probability; ``label_report(text)`` reads findings
back from text. All three draw their wording from :mod:`core.report.lexicon`.
"""

from core.report.generate import generate_report, report_text
from core.report.labeller import Mention, find_mentions, label_report, split_sentences
from core.report.lexicon import DEFAULT_LEXICON, Lexicon, probability_band
from core.report.sentence import SENTENCE_REGION_IDS, ReportSentence, SentenceEvidence

__all__ = [
    "DEFAULT_LEXICON",
    "SENTENCE_REGION_IDS",
    "Lexicon",
    "Mention",
    "ReportSentence",
    "SentenceEvidence",
    "find_mentions",
    "generate_report",
    "label_report",
    "probability_band",
    "report_text",
    "split_sentences",
]
