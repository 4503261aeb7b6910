"""Synthetic chest radiograph phantoms with exact ground-truth anatomy and findings, the
simulated radiologists who read them, and the synthetic gaze corpus.

``generate_phantom(seed, findings=..., config=...)`` returns a ``Phantom``: the display image,
anatomy masks, the true cardiothoracic ratio and one ``PhantomFinding`` (mask, severity,
side, location, conspicuity) per finding. ``sample_findings`` draws a documented case mix for
corpora. See ``core.synth.phantom`` for the conventions.

``read_case(anatomy, findings, profile, seed)`` (``core.synth.readers``) simulates one
radiologist's read: fixations, labels, ellipses and a dictated report with word timestamps;
``DEFAULT_PANEL`` holds five distinct reader profiles. ``core.synth.corpus.write_corpus``
(``gazescope synth``) writes phantoms and real images read by the panel in the REFLACX layout;
``core.eval.gaze_realism`` (``gazescope synth-report``) compares it with real figures.
"""

from core.synth.findings import (
    DEFAULT_PREVALENCE,
    SEVERITY_MEANING,
    SYNTH_FINDINGS,
    FindingSpec,
    sample_findings,
)
from core.synth.phantom import (
    ANATOMY_MASKS,
    Phantom,
    PhantomConfig,
    PhantomFinding,
    cardiothoracic_ratio,
    generate_phantom,
)
from core.synth.readers import (
    DEFAULT_PANEL,
    CaseFinding,
    ReaderProfile,
    ReadingScene,
    SimulatedRead,
    read_case,
)

__all__ = [
    "ANATOMY_MASKS",
    "DEFAULT_PANEL",
    "CaseFinding",
    "ReaderProfile",
    "ReadingScene",
    "SimulatedRead",
    "read_case",
    "DEFAULT_PREVALENCE",
    "SEVERITY_MEANING",
    "SYNTH_FINDINGS",
    "FindingSpec",
    "Phantom",
    "PhantomConfig",
    "PhantomFinding",
    "cardiothoracic_ratio",
    "generate_phantom",
    "sample_findings",
]
