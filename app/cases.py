"""The cases the worklist offers: bundled examples, synthetic phantoms and uploads.

Every case is a file on disk identified by the SHA-256 of its bytes (the same key as
``Radiograph.sha256`` and the store's ``Case``), never by a patient identifier. Phantoms are
generated once by ``core``'s phantom code into the cache folder (16-bit PNG) and reused.
Uploads are copied into the cache under their hash, so the original upload path is never kept.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = REPO / "assets" / "examples"
NIH_LICENCE = "NIH ChestX-ray14, unrestricted use (NIH Clinical Center; Wang et al., CVPR 2017)"
SIIM_LICENCE = "SIIM-ACR sample via torchxrayvision test files (Apache-2.0)"
PHANTOM_LICENCE = "synthetic (GazeScope phantom generator)"
# (seed, findings) of the bundled phantoms: a normal film and two findings the anatomy can show
PHANTOMS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (7, ()),
    (3, ("cardiomegaly",)),
    (5, ("pleural_effusion",)),
)


@dataclass(frozen=True)
class CaseEntry:
    """One worklist case: where its file is and how it is described."""

    sha256: str
    name: str  # shown in the worklist
    path: Path
    source: str  # "example", "phantom" or "upload"
    licence: str = ""
    note: str = ""  # e.g. the dataset's labels, shown as a tooltip


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _example_labels(examples: Path) -> dict[str, str]:
    table = examples / "labels.csv"
    if not table.exists():
        return {}
    with open(table, newline="") as f:
        return {row["image"]: row["finding_labels"] for row in csv.DictReader(f)}


def phantom_file(cache_dir: Path, seed: int, findings: tuple[str, ...]) -> Path:
    """Generate (once) the phantom ``seed`` with ``findings`` as a 16-bit PNG in the cache."""
    tag = "-".join(findings) or "normal"
    path = cache_dir / "phantoms" / f"phantom-{seed}-{tag}.png"
    if not path.exists():
        from core.synth.phantom import generate_phantom

        path.parent.mkdir(parents=True, exist_ok=True)
        ph = generate_phantom(seed, findings=list(findings), view="PA")
        tmp = path.with_suffix(".tmp.png")
        Image.fromarray(np.rint(ph.image * 65535).astype(np.uint16)).save(tmp)
        tmp.replace(path)
        logger.info("generated phantom %s", path.name)
    return path


class CaseLibrary:
    """Ordered cases: the bundled examples, then phantoms, then uploads (newest last)."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        examples_dir: Path | None = EXAMPLES_DIR,
        phantoms: tuple[tuple[int, tuple[str, ...]], ...] = PHANTOMS,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self._cases: dict[str, CaseEntry] = {}
        if examples_dir is not None and examples_dir.exists():
            labels = _example_labels(examples_dir)
            for p in sorted((examples_dir / "images").glob("*.png")):
                note = f"NIH labels: {labels[p.name]}" if p.name in labels else ""
                self._add(CaseEntry(file_sha256(p), f"NIH {p.stem}", p, "example", NIH_LICENCE, note))
            for p in sorted((examples_dir / "dicom").glob("*.dcm")):
                self._add(CaseEntry(file_sha256(p), f"DICOM {p.stem}", p, "example", SIIM_LICENCE))
        for seed, findings in phantoms:
            p = phantom_file(self.cache_dir, seed, findings)
            what = ", ".join(f.replace("_", " ") for f in findings) or "normal"
            self._add(
                CaseEntry(
                    file_sha256(p), f"Phantom {seed} ({what})", p, "phantom", PHANTOM_LICENCE,
                    "synthetic chest radiograph with known ground truth",
                )
            )
        uploads = self.cache_dir / "uploads"
        for p in sorted(uploads.glob("*"), key=lambda q: q.stat().st_mtime) if uploads.exists() else []:
            name = p.name.split("__", 1)[-1]
            self._add(CaseEntry(p.name.split("__", 1)[0], name, p, "upload"))

    def _add(self, entry: CaseEntry) -> CaseEntry:
        self._cases.setdefault(entry.sha256, entry)
        return self._cases[entry.sha256]

    def entries(self) -> list[CaseEntry]:
        return list(self._cases.values())

    def get(self, sha256: str) -> CaseEntry | None:
        return self._cases.get(sha256)

    def add_upload(self, src: Path, display_name: str) -> CaseEntry:
        """Copy an uploaded file into the cache under its hash and list it (idempotent)."""
        sha = file_sha256(src)
        if sha in self._cases:
            return self._cases[sha]
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(display_name).name)[:80]
        dest = self.cache_dir / "uploads" / f"{sha}__{safe or 'upload'}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        return self._add(CaseEntry(sha, safe or "upload", dest, "upload"))

    def forget(self, sha256: str) -> None:
        """Drop an upload that turned out unreadable (its copy is deleted)."""
        entry = self._cases.get(sha256)
        if entry is not None and entry.source == "upload":
            del self._cases[sha256]
            entry.path.unlink(missing_ok=True)
