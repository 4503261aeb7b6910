"""TEMPORARY stand-in for ``core.pipeline.ReadingPipeline`` until it lands on main.

Builds a CONTRACTS.md section 2 ``ReadingResult``-shaped object from ``core.anatomy.locate`` and
the ``abcdef`` baseline. It has no classifier and no report generator: findings are empty and
the sentences are placeholder normal statements per region so that the review UI can be built.
Delete this module when core/pipeline.py is merged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.anatomy import locate
from core.io import Radiograph, load_radiograph
from core.models import PredictionRequest, create_predictor


@dataclass
class _Result:
    radiograph: Radiograph
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return self.data


class ReadingPipeline:
    def __init__(self, *, k: int = 5, seed: int = 0, **_: Any) -> None:
        self.k, self.seed = k, seed
        self.scanpath = create_predictor("abcdef")

    def run_file(self, path: str | Path) -> _Result:
        return self(load_radiograph(path))

    def __call__(self, rg: Radiograph, **_: Any) -> _Result:
        t = {}
        t0 = time.perf_counter()
        an = locate(rg)
        t["anatomy"] = (time.perf_counter() - t0) * 1000
        pred = self.scanpath(PredictionRequest.from_radiograph(rg, k=self.k, seed=self.seed))
        regions = [
            {"id": r.id, "box": list(r.box), "polygon": r.polygon.tolist(), "confidence": r.confidence}
            for r in an.regions.values()
        ]
        meas = [
            {"id": m.id, "value": m.value, "unit": m.unit,
             "lines": [[list(a), list(b)] for a, b in m.lines],
             "points": [list(p) for p in m.points], "note": m.note}
            for m in an.measurements.values()
        ]
        sps = [[{"x": f.x, "y": f.y, "start_s": f.start_s, "duration_s": f.duration_s}
                for f in sp] for sp in pred.scanpaths]
        sentences = []
        for i, rid in enumerate(["right_upper_zone", "left_lower_zone", "cardiac_silhouette"]):
            if rid not in an.regions:
                continue
            fx = [[s, j] for s, sp in enumerate(pred.scanpaths) for j, f in enumerate(sp)
                  if rid in an.regions_at(f.x, f.y)]
            m = an.measurements.get("cardiothoracic_ratio") if rid == "cardiac_silhouette" else None
            sentences.append({
                "id": f"s{len(sentences)}", "text": f"PLACEHOLDER sentence about the {rid.replace('_', ' ')}.",
                "region_ids": [rid], "finding": None, "probability": None,
                "evidence": {"region_box": list(an.regions[rid].box), "attention_peak": None,
                             "fixations": fx, "dwell_s": 0.0,
                             "measurement": None if m is None else {"id": m.id, "value": m.value, "unit": m.unit}},
            })
        data = {
            "schema_version": 1,
            "image": {"sha256": rg.sha256, "source_name": rg.source_name, "width": rg.width,
                      "height": rg.height, "modality": rg.metadata.get("modality"),
                      "view": rg.metadata.get("view_position"), "spacing_mm": rg.spacing_mm},
            "anatomy": {"method": an.method, "confidence": an.confidence, "reasons": list(an.reasons),
                        "grid_shape": list(an.grid_shape), "regions": regions, "measurements": meas},
            "scanpaths": sps,
            "saliency": None,
            "findings": [],
            "attention": {},
            "sentences": sentences,
            "models": [{"role": "anatomy", "name": an.method, "version": "", "weights_sha256": None,
                        "training_data": "none (classical)"},
                       {"role": "scanpath", "name": "abcdef", "version": "1", "weights_sha256": None,
                        "training_data": "published population statistics only"}],
            "timings_ms": t,
        }
        return _Result(rg, data)
