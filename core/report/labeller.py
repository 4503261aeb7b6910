"""Rule-based report labeller: free report text -> ``{finding_id: 1 / 0 / 0.5}``.

A small, readable NegEx/CheXpert-style labeller over :data:`core.vocabulary.FINDING_IDS`:

1. Sections headed ``INDICATION:``, ``HISTORY:``, ``COMPARISON:``, ``TECHNIQUE:`` (...) are
   skipped: they ask questions, they do not report findings.
2. The text is split into sentences (``.``/``!``/``?`` followed by a space or the end, or a
   line break; "2.5 cm" is not a boundary), each sentence into clauses at ``;``, ``:`` and at
   scope terminators (:data:`TERMINATORS`: "but", "however", "although", "except", ...).
3. Findings are found by the phrases of :data:`SYNONYMS` (kept in :mod:`core.report.lexicon`,
   which the report generator and the simulated dictation share). A phrase matches its words in
   order with at most :data:`MAX_GAP` other words between them, so "heart enlarged" matches
   "heart is mildly enlarged" and "blunting costophrenic angle" matches "blunting of the left
   costophrenic angle". Words match with a plural "s"/"es"; ``word*`` is a prefix. Longer
   matches win over shorter ones they overlap. :data:`EXCLUSIONS` ("pericardial effusion",
   "mass effect", ...) are removed first.
4. Each mention gets a value from the nearest cue in its clause: a negation or uncertainty cue
   before it (:data:`PRE_NEGATION`, :data:`PRE_UNCERTAINTY`), after it (:data:`POST_NEGATION`,
   :data:`POST_UNCERTAINTY`: "... is not seen", "... cannot be excluded") or either side
   (:data:`BOTH_UNCERTAINTY`: "versus"); the closer cue wins, a pre-cue on a tie. A
   negation or uncertainty word *inside* a matched phrase ("heart is not enlarged", "heart
   may be enlarged") decides first. No cue: positive. :data:`PSEUDO_NEGATION` phrases ("no
   change in", "no interval change") are not negations, so "no change in the effusion" is
   positive; uncertainty phrases containing "not" ("cannot be excluded") are uncertain.
5. A finding mentioned several times is positive if any mention is, else uncertain if any
   is, else negative (CheXpert's aggregation).
6. :data:`NORMAL_STATEMENTS` ("lungs are clear", "heart size is normal", "costophrenic angles
   are sharp") make the findings they rule out negative, unless the finding is mentioned
   explicitly; "no acute cardiopulmonary process" style statements rule nothing specific out.
7. Derived labels (``derived=True``, the default): a parent (:data:`core.vocabulary.PARENTS`)
   gets the largest positive/uncertain value of its children (a negated child says nothing
   about its siblings, so negatives do not propagate); ``no_finding`` is 1 when no finding
   other than ``support_devices`` is positive or uncertain, else 0 (CheXpert's rule).

Findings never mentioned are absent from the result (not 0). Empty text gives ``{}``.
Known limits (rules, not a model): no coreference ("it has resolved"), negation scope runs to
the end of the clause so "no effusion, and the heart is enlarged" negates the heart, no
temporal reasoning beyond the pseudo-negations, English only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.report.lexicon import EXCLUSIONS, NORMAL_STATEMENTS, SYNONYMS
from core.vocabulary import FINDING_IDS, PARENTS

__all__ = [
    "BOTH_UNCERTAINTY",
    "EXCLUSIONS",
    "MAX_GAP",
    "NEGATIVE",
    "NORMAL_STATEMENTS",
    "POSITIVE",
    "POST_NEGATION",
    "POST_UNCERTAINTY",
    "PRE_NEGATION",
    "PRE_UNCERTAINTY",
    "PSEUDO_NEGATION",
    "SYNONYMS",
    "TERMINATORS",
    "UNCERTAIN",
    "Mention",
    "find_mentions",
    "label_report",
    "split_sentences",
]

POSITIVE, NEGATIVE, UNCERTAIN = 1.0, 0.0, 0.5
MAX_GAP = 3  # words allowed between consecutive words of a finding phrase


# Cue phrases match contiguously (no gaps).
PRE_NEGATION: tuple[str, ...] = (
    "no",
    "not",
    "without",
    "free of",
    "negative for",
    "clear of",
    "absence of",
    "resolution of",
    "removal of",
    "no longer",
    "rather than",
    "never",
    "nor",
)
POST_NEGATION: tuple[str, ...] = (
    "not seen",
    "not identified",
    "not visualized",
    "not appreciated",
    "not present",
    "not evident",
    "not demonstrated",
    "not detected",
    "not noted",
    "not visible",
    "no longer",
    "absent",
    "resolved",
    "ruled out",
    "excluded",
    "removed",
)
PRE_UNCERTAINTY: tuple[str, ...] = (
    "may",
    "might",
    "could",
    "possible",
    "possibly",
    "probable",
    "probably",
    "likely",
    "presumed",
    "presumably",
    "suspect",
    "suspected",
    "suspicious for",
    "suggestive of",
    "suggests",
    "suggesting",
    "concerning for",
    "concern for",
    "worrisome for",
    "questionable",
    "question of",
    "cannot exclude",
    "can not exclude",
    "cannot rule out",
    "can not rule out",
    "differential",
    "equivocal",
    "borderline",
    "indeterminate",
    "evaluate for",
    "evaluation for",
    "assess for",
    "rule out",
    "r o",
)
POST_UNCERTAINTY: tuple[str, ...] = (
    "cannot be excluded",
    "can not be excluded",
    "not be excluded",
    "not excluded",
    "cannot be ruled out",
    "can not be ruled out",
    "not be ruled out",
    "not ruled out",
    "is possible",
    "are possible",
    "is likely",
    "are likely",
    "is suspected",
    "are suspected",
    "is questioned",
)
# Uncertainty cues that reach both ways: "atelectasis versus pneumonia".
BOTH_UNCERTAINTY: tuple[str, ...] = ("versus", "vs", "or possibly")
PSEUDO_NEGATION: tuple[str, ...] = (
    "no change",
    "no significant change",
    "no interval change",
    "no significant interval change",
    "no definite change",
    "no substantial change",
    "not changed",
    "not significantly changed",
    "without change",
    "without interval change",
    "without significant change",
    "no increase",
    "no decrease",
    "no worsening",
    "no improvement",
    "no further",
    "not only",
)
TERMINATORS: tuple[str, ...] = (
    "but",
    "however",
    "although",
    "though",
    "except",
    "aside from",
    "apart from",
    "whereas",
    "while",
    "which",
    "there is",
    "there are",
)
_NEGATION_WORDS = frozenset({"no", "not", "without"})
_UNCERTAINTY_WORDS = frozenset(
    {
        "may",
        "might",
        "could",
        "possible",
        "possibly",
        "probable",
        "probably",
        "likely",
        "borderline",
        "questionable",
    }
)
# Findings that do not make a study abnormal for the ``no_finding`` rule.
_NOT_ABNORMAL = frozenset({"support_devices", "no_finding"})

_SECTION_RE = re.compile(
    r"\b(findings|impression|indication|indications|history|clinical history|comparison|"
    r"technique|examination|exam|reason for exam|clinical information)\s*:",
    re.IGNORECASE,
)
_SKIPPED_SECTIONS = frozenset(
    {
        "indication",
        "indications",
        "history",
        "clinical history",
        "comparison",
        "technique",
        "examination",
        "exam",
        "reason for exam",
        "clinical information",
    }
)
_SENTENCE_END_RE = re.compile(r"[.!?]+(?=\s|$)|\n+")
_TOKEN_RE = re.compile(r"[a-z0-9]+|[,;:()/]")


@dataclass(frozen=True)
class Mention:
    """One finding mention: which finding, its value, and where (character offsets in text)."""

    finding: str
    value: float  # POSITIVE, NEGATIVE or UNCERTAIN
    sentence: int  # index in split_sentences(text)
    start: int
    end: int
    text: str  # the matched words
    cue: str = ""  # the cue that decided the value ("" for positive without a cue)


@dataclass(frozen=True)
class _Token:
    word: str
    start: int
    end: int

    @property
    def is_word(self) -> bool:
        return self.word[0].isalnum()


_Phrase = tuple[str, ...]


def _phrase(text: str) -> _Phrase:
    return tuple(text.lower().replace("-", " ").split())


def _word_matches(pattern: str, word: str) -> bool:
    if pattern.endswith("*"):
        return word.startswith(pattern[:-1])
    return word == pattern or word == pattern + "s" or word == pattern + "es"


def _match(
    phrase: _Phrase, tokens: list[_Token], blocked: set[int], max_gap: int
) -> list[tuple[int, ...]]:
    """Token indices where ``phrase`` matches: its words in order, <= max_gap words apart.

    Blocked tokens cannot be part of a match; punctuation ends a gap.
    """
    matches = []
    n = len(tokens)
    for i in range(n):
        if i in blocked or not _word_matches(phrase[0], tokens[i].word):
            continue
        hit = [i]
        for word in phrase[1:]:
            nxt, gap = None, 0
            for m in range(hit[-1] + 1, n):
                if not tokens[m].is_word or m in blocked:
                    break
                if _word_matches(word, tokens[m].word):
                    nxt = m
                    break
                gap += 1
                if gap > max_gap:
                    break
            if nxt is None:
                break
            hit.append(nxt)
        if len(hit) == len(phrase):
            matches.append(tuple(hit))
    return matches


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (skipped sections left out)."""
    keep = [(0, len(text))]
    headers = list(_SECTION_RE.finditer(text))
    if headers:
        keep = [(0, headers[0].start())]
        for h, nxt in zip(headers, [*headers[1:], None], strict=True):
            name = " ".join(h.group(1).lower().split())
            if name not in _SKIPPED_SECTIONS:
                keep.append((h.end(), nxt.start() if nxt else len(text)))
    spans = []
    for lo, hi in keep:
        start = lo
        for m in _SENTENCE_END_RE.finditer(text, lo, hi):
            if text[start : m.start()].strip():
                spans.append((start, m.start()))
            start = m.end()
        if text[start:hi].strip():
            spans.append((start, hi))
    return spans


def _tokens(text: str, lo: int, hi: int) -> list[_Token]:
    low = text.lower()
    return [_Token(m.group(), m.start(), m.end()) for m in _TOKEN_RE.finditer(low, lo, hi)]


def _clauses(tokens: list[_Token]) -> list[list[_Token]]:
    terminators = [_phrase(t) for t in TERMINATORS]
    cut: set[int] = set()
    for i, tok in enumerate(tokens):
        if tok.word in (";", ":"):
            cut.add(i)
    ends: dict[int, int] = {}
    for term in terminators:
        for hit in _match(term, tokens, set(), 0):
            ends[hit[0]] = max(ends.get(hit[0], hit[0]), hit[-1] + 1)
    clauses, current, i = [], [], 0
    while i < len(tokens):
        if i in cut or i in ends:
            clauses.append(current)
            current = []
            i = ends.get(i, i + 1)
            continue
        current.append(tokens[i])
        i += 1
    clauses.append(current)
    return [c for c in clauses if c]


def _compiled(phrases: Iterable[str]) -> list[tuple[str, _Phrase]]:
    return [(p, _phrase(p)) for p in phrases]


_FINDING_PHRASES = [(fid, p) for fid, phrases in SYNONYMS.items() for p in _compiled(phrases)]
_CUES: list[tuple[str, str, _Phrase]] = [
    *(("pseudo", "pre", p) for _, p in _compiled(PSEUDO_NEGATION)),
    *(("unc", "post", p) for _, p in _compiled(POST_UNCERTAINTY)),
    *(("unc", "pre", p) for _, p in _compiled(PRE_UNCERTAINTY)),
    *(("unc", "both", p) for _, p in _compiled(BOTH_UNCERTAINTY)),
    *(("neg", "post", p) for _, p in _compiled(POST_NEGATION)),
    *(("neg", "pre", p) for _, p in _compiled(PRE_NEGATION)),
]
_EXCLUSIONS = [p for _, p in _compiled(EXCLUSIONS)]
_NORMALS = [(_phrase(p), rules) for p, rules in NORMAL_STATEMENTS]
_VALUE = {"neg": NEGATIVE, "unc": UNCERTAIN}


def _cues(clause: list[_Token]) -> list[tuple[str, str, int, int]]:
    """(kind, direction, start, end) cue spans; earlier kinds in ``_CUES`` claim tokens first."""
    claimed: set[int] = set()
    found = []
    for kind, direction, phrase in _CUES:
        for hit in _match(phrase, clause, claimed, 0):
            if claimed.intersection(hit):
                continue
            claimed.update(hit)
            if kind != "pseudo":
                found.append((kind, direction, hit[0], hit[-1] + 1))
    return found


def _finding_spans(clause: list[_Token]) -> list[tuple[str, int, int]]:
    """(finding, start, end) token spans; a match sharing a word with a longer one is dropped."""
    blocked: set[int] = set()
    for phrase in _EXCLUSIONS:
        for hit in _match(phrase, clause, blocked, 0):
            blocked.update(hit)
    candidates = [
        (fid, hit)
        for fid, (_, phrase) in _FINDING_PHRASES
        for hit in _match(phrase, clause, blocked, MAX_GAP)
    ]
    # more matched words first, then the tighter match, then reading order
    candidates.sort(key=lambda c: (-len(c[1]), c[1][-1] - c[1][0], c[1][0]))
    kept: list[tuple[str, tuple[int, ...]]] = []
    for fid, hit in candidates:
        if not any(set(hit) & set(k) and hit != k for _, k in kept) and (fid, hit) not in kept:
            kept.append((fid, hit))
    return sorted(((fid, hit[0], hit[-1] + 1) for fid, hit in kept), key=lambda c: c[1])


def _value(
    clause: list[_Token], i: int, j: int, cues: list[tuple[str, str, int, int]]
) -> tuple[float, str]:
    inner = {t.word for t in clause[i:j]}
    if inner & _NEGATION_WORDS:
        return NEGATIVE, "within phrase"
    if inner & _UNCERTAINTY_WORDS:
        return UNCERTAIN, "within phrase"
    best: tuple[int, int, str, int, int] | None = None  # (distance, pre-first, kind, ci, cj)
    for kind, direction, ci, cj in cues:
        if direction in ("pre", "both") and cj <= i:
            cand = (i - cj, 0, kind, ci, cj)
        elif direction in ("post", "both") and ci >= j:
            cand = (ci - j, 1, kind, ci, cj)
        else:
            continue
        if best is None or cand[:2] < best[:2]:
            best = cand
    if best is None:
        return POSITIVE, ""
    _, _, kind, ci, cj = best
    return _VALUE[kind], " ".join(t.word for t in clause[ci:cj])


def find_mentions(text: str) -> list[Mention]:
    """Every finding mention in ``text`` with its value, in reading order."""
    mentions = []
    for s_idx, (lo, hi) in enumerate(split_sentences(text)):
        for clause in _clauses(_tokens(text, lo, hi)):
            cues = _cues(clause)
            for fid, i, j in _finding_spans(clause):
                value, cue = _value(clause, i, j, cues)
                start, end = clause[i].start, clause[j - 1].end
                mentions.append(Mention(fid, value, s_idx, start, end, text[start:end], cue))
    return mentions


def _normal_findings(text: str) -> tuple[set[str], bool]:
    """Findings ruled out by normal statements, and whether any normal statement was made."""
    ruled_out: set[str] = set()
    any_normal = False
    for lo, hi in split_sentences(text):
        for clause in _clauses(_tokens(text, lo, hi)):
            for phrase, rules in _NORMALS:
                for hit in _match(phrase, clause, set(), MAX_GAP):
                    i, j = hit[0], hit[-1] + 1
                    inner = {t.word for t in clause[i:j]} - set(phrase)
                    before = clause[i - 1].word if i > 0 else ""
                    if inner & _NEGATION_WORDS or before in _NEGATION_WORDS:
                        continue  # "lungs are not clear"
                    any_normal = True
                    ruled_out.update(rules)
    return ruled_out, any_normal


def label_report(text: str, *, derived: bool = True) -> dict[str, float]:
    """``{finding_id: 1.0 / 0.0 / 0.5}`` for the findings ``text`` speaks about.

    ``derived`` adds parent labels and ``no_finding`` (module docstring, step 7).
    """
    labels: dict[str, float] = {}
    for m in find_mentions(text):
        prev = labels.get(m.finding)
        labels[m.finding] = m.value if prev is None else _combine(prev, m.value)
    ruled_out, _ = _normal_findings(text)
    for fid in ruled_out:
        labels.setdefault(fid, NEGATIVE)
    if derived and split_sentences(text):
        for child, parent in PARENTS.items():
            if labels.get(child, 0.0) > 0:
                labels[parent] = max(labels.get(parent, 0.0), labels[child])
        abnormal = any(v > 0 for fid, v in labels.items() if fid not in _NOT_ABNORMAL)
        labels["no_finding"] = NEGATIVE if abnormal else POSITIVE
    return {fid: labels[fid] for fid in FINDING_IDS if fid in labels}


def _combine(a: float, b: float) -> float:
    """Positive beats uncertain beats negative."""
    if POSITIVE in (a, b):
        return POSITIVE
    if UNCERTAIN in (a, b):
        return UNCERTAIN
    return NEGATIVE
