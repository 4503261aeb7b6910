"""A ``ReadingResult.to_dict()``-shaped result (CONTRACTS.md section 2) built by the store tests,
and a store opened on a fresh SQLite file."""

from __future__ import annotations

import hashlib
from typing import Any


def sha(name: str) -> str:
    """A deterministic case id for tests."""
    return hashlib.sha256(name.encode()).hexdigest()


def reading_result(
    case_sha256: str, *, n_sentences: int = 3, source_name: str = "case.png"
) -> dict[str, Any]:
    """A small result dict of schema_version 1 with findings, 2 scanpaths and sentences."""
    sentences = []
    regions = ["right_lower_zone", "cardiac_silhouette", "left_upper_zone", "mediastinum"]
    findings = [
        {"finding": "pleural_effusion", "probability": 0.81, "band": "very likely"},
        {"finding": "cardiomegaly", "probability": 0.55, "band": "likely"},
    ]
    for i in range(n_sentences):
        finding = findings[i]["finding"] if i < len(findings) else None
        sentences.append(
            {
                "id": f"s{i}",
                "text": f"Sentence {i} about {regions[i % len(regions)].replace('_', ' ')}.",
                "region_ids": [regions[i % len(regions)]],
                "finding": finding,
                "probability": findings[i]["probability"] if finding else None,
                "evidence": {
                    "region_box": [0.1, 0.2, 0.4, 0.6],
                    "attention_peak": [0.3, 0.4] if finding else None,
                    "fixations": [[0, 1], [1, 0]],
                    "dwell_s": 0.8,
                    "measurement": None,
                },
            }
        )
    fix = [
        {"x": 0.5, "y": 0.4, "start_s": 0.0, "duration_s": 0.3},
        {"x": 0.3, "y": 0.6, "start_s": 0.35, "duration_s": 0.25},
    ]
    return {
        "schema_version": 1,
        "image": {
            "sha256": case_sha256,
            "source_name": source_name,
            "width": 512,
            "height": 480,
            "modality": "DX",
            "view": "PA",
            "spacing_mm": [0.14, 0.14],
        },
        "anatomy": {
            "method": "classical",
            "confidence": 0.9,
            "reasons": [],
            "grid_shape": [4, 4],
            "regions": [
                {
                    "id": "right_lower_zone",
                    "box": [0.1, 0.5, 0.4, 0.8],
                    "polygon": [],
                    "confidence": 0.9,
                }
            ],
            "measurements": [],
        },
        "scanpaths": [fix, list(reversed(fix))],
        "saliency": {"shape": [2, 2], "data": [[0.1, 0.2], [0.3, 0.4]]},
        "findings": findings,
        "attention": {"pleural_effusion": {"shape": [2, 2], "data": [[0.0, 1.0], [0.5, 0.2]]}},
        "sentences": sentences,
        "models": [
            {
                "role": "scanpath",
                "name": "abcdef",
                "version": "1",
                "weights_sha256": None,
                "training_data": "none (rule-based)",
            },
            {
                "role": "classifier",
                "name": "tiny-clf",
                "version": "0.1",
                "weights_sha256": sha("w"),
                "training_data": "synthetic corpus",
            },
        ],
        "timings_ms": {"anatomy": 12.0, "scanpath": 3.0},
    }
