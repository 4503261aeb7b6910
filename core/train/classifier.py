"""Training and evaluation of the gaze-supervised classifier (:mod:`core.models.classifier`).

``train_classifier`` runs on Hugging Face Accelerate (CPU by default; ``accelerate launch``
shards each batch across processes): seeded, resumable from ``<out>/state`` (model, optimiser
and RNG state plus ``trainer_state.json``, written every epoch), a tqdm bar showing the loss and
the validation AUC, early stopping on the validation macro AUC of the *real* NIH validation
images, then a temperature fitted on the same validation images (``fit_temperature``). The test
split is never looked at here.

``evaluate_classifier`` scores a model on any subset: per-label and macro ROC AUC with bootstrap
CIs over cases (:func:`core.metrics.classification.classification_metrics`), attention-vs-gaze
CC per image (:func:`core.metrics.saliency.CC` of each positive label's attention against the
readers' fixation density, averaged over the image's positive labels), and on phantoms the
pointing accuracy: the share of (image, located finding) pairs whose attention peak cell lies in
a cell the finding's exact mask touches.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.metrics.classification import ClassificationMetrics, classification_metrics
from core.metrics.saliency import CC
from core.metrics.stats import bootstrap_ci
from core.models.classifier import ClassifierConfig, GazeClassifier, fit_temperature
from core.train.classifier_data import ClassifierData

logger = logging.getLogger(__name__)

__all__ = [
    "CHEXNET_AUC",
    "ClassifierEvaluation",
    "TrainConfig",
    "TrainResult",
    "auc_table",
    "evaluate_classifier",
    "predict_arrays",
    "ablation_table",
    "run_ablation",
    "save_classifier",
    "train_classifier",
]

# CheXNet's published per-label test AUCs as GazeScope's reference notes quote them
# (shared/reference/GAZE_FACTS.md: "CheXNet (DenseNet-121, 2017; retrained 2022) ... test AUCs,
# e.g. Cardiomegaly 0.91, Effusion 0.88, Edema 0.89, Mass 0.84, Pneumothorax 0.88"); labels the
# notes do not quote are left out rather than filled in from memory.
CHEXNET_AUC: dict[str, float] = {
    "cardiomegaly": 0.91,
    "pleural_effusion": 0.88,
    "edema": 0.89,
    "mass": 0.84,
    "pneumothorax": 0.88,
}
CARD_METRICS_BEGIN = "<!-- classifier-eval: begin -->"
CARD_METRICS_END = "<!-- classifier-eval: end -->"

REAL_SOURCES = ("nih-512", "nih-64")


@dataclass
class TrainConfig:
    epochs: int = 30  # at most; early stopping usually ends sooner
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    patience: int = 6  # epochs without a better validation macro AUC before stopping
    seed: int = 0
    train_fraction: float = 1.0  # share of training patients used (seeded; the ablation sizes)
    max_shift_px: int = 8  # random translation of image and gaze map together (augmentation)
    progress: bool = True


@dataclass
class TrainResult:
    model: GazeClassifier
    config: ClassifierConfig
    history: list[dict[str, float]]
    best_epoch: int
    val_macro_auc: float
    temperature: float
    n_train: int
    seconds: float  # wall-clock of this call (a resumed run counts only its own part)


@dataclass
class ClassifierEvaluation:
    metrics: ClassificationMetrics
    attention_cc: float  # mean over images with gaze of the per-image CC (nan: none)
    attention_cc_ci: tuple[float, float]
    n_gaze_images: int
    pointing_accuracy: float  # phantoms only (nan: no located finding among the cases)
    n_pointing: int
    probabilities: np.ndarray = field(repr=False)

    def summary(self) -> dict[str, Any]:
        m = self.metrics
        return {
            "macro_auc": m.macro_auc,
            "macro_auc_ci": list(m.cis.get("macro_auc", (math.nan, math.nan))),
            "aucs": {k: float(v) for k, v in zip(m.labels, m.aucs, strict=True)},
            "auc_cis": {
                k: [float(a), float(b)] for k, (a, b) in zip(m.labels, m.auc_cis, strict=True)
            },
            "positives": {k: int(v) for k, v in zip(m.labels, m.supports, strict=True)},
            "annotated": {k: int(v) for k, v in zip(m.labels, m.n_annotated, strict=True)},
            "attention_cc": self.attention_cc,
            "attention_cc_ci": list(self.attention_cc_ci),
            "n_gaze_images": self.n_gaze_images,
            "pointing_accuracy": self.pointing_accuracy,
            "n_pointing": self.n_pointing,
        }


# --------------------------------------------------------------------------------------------
# Inference helpers


@torch.no_grad()
def predict_arrays(
    model: GazeClassifier, images: np.ndarray, *, batch_size: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated probabilities (N, K) and attention densities (N, K, h, w) for images (N, 1, S, S)."""
    model.eval()
    device = next(model.parameters()).device
    probs, att = [], []
    for start in range(0, len(images), batch_size):
        x = torch.from_numpy(images[start : start + batch_size]).to(device)
        out = model(x)
        probs.append(out.probabilities.cpu().numpy())
        att.append(out.attention.cpu().numpy())
    return np.concatenate(probs), np.concatenate(att)


@torch.no_grad()
def _logits(model: GazeClassifier, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    model.eval()
    device = next(model.parameters()).device
    return np.concatenate(
        [
            model(torch.from_numpy(images[s : s + batch_size]).to(device)).logits.cpu().numpy()
            for s in range(0, len(images), batch_size)
        ]
    )


def evaluate_classifier(
    model: GazeClassifier,
    data: ClassifierData,
    idx: np.ndarray,
    *,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> ClassifierEvaluation:
    """Scores of ``model`` on the cases ``idx`` of ``data`` (see the module docstring)."""
    probs, att = predict_arrays(model, data.images[idx])
    y = data.labels[idx]
    metrics = classification_metrics(
        y, probs, data.labels_order, n_bootstrap=n_bootstrap, seed=seed
    )
    ccs = []
    for row, i in enumerate(idx):
        if not data.has_gaze[i]:
            continue
        pos = np.flatnonzero(np.nan_to_num(y[row], nan=0.0) > 0.5)
        vals = [CC(att[row, k], data.gaze[i]) for k in pos]
        vals = [v for v in vals if np.isfinite(v)]
        if vals:
            ccs.append(float(np.mean(vals)))
    cc = bootstrap_ci(np.asarray(ccs, dtype=np.float64), n_boot=1000, seed=seed)
    hits = []
    for row, i in enumerate(idx):
        for k, cells in data.finding_cells.get(int(i), []):
            peak = np.unravel_index(int(np.argmax(att[row, k])), cells.shape)
            hits.append(bool(cells[peak]))
    return ClassifierEvaluation(
        metrics=metrics,
        attention_cc=cc.mean,
        attention_cc_ci=(cc.lo, cc.hi),
        n_gaze_images=cc.n_valid,
        pointing_accuracy=float(np.mean(hits)) if hits else math.nan,
        n_pointing=len(hits),
        probabilities=probs,
    )


# --------------------------------------------------------------------------------------------
# Training


def _train_indices(data: ClassifierData, fraction: float, seed: int) -> np.ndarray:
    """Training cases of a seeded ``fraction`` of the training patients (all their images)."""
    idx = data.select(split="train")
    if not 0 < fraction <= 1:
        raise ValueError(f"train_fraction must be in (0, 1], got {fraction}")
    if fraction == 1:
        return idx
    patients = sorted({data.patients[i] for i in idx})
    rng = np.random.default_rng(seed)
    keep = set(rng.permutation(patients)[: max(1, round(fraction * len(patients)))].tolist())
    return np.asarray([i for i in idx if data.patients[i] in keep], dtype=np.int64)


def _pos_weights(labels: np.ndarray, cap: float) -> tuple[float, ...]:
    """neg/pos per label over the annotated training entries, capped (1 where no positive)."""
    pos = np.nansum(labels == 1, axis=0)
    neg = np.nansum(labels == 0, axis=0)
    return tuple(float(min(cap, n / p)) if p > 0 else 1.0 for p, n in zip(pos, neg, strict=True))


def _shift(
    x: torch.Tensor, g: torch.Tensor, max_px: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Translate each image and its gaze map by the same whole number of grid cells' pixels.

    The shift is a multiple of the grid stride (8 px) so the gaze map moves exactly with the
    image; vacated pixels and cells are zero (the image is standardised, so 0 is its mean).
    """
    if max_px < 8:
        return x, g
    cells = max_px // 8
    x, g = x.clone(), g.clone()
    for b in range(len(x)):
        dy, dx = (int(v) for v in rng.integers(-cells, cells + 1, size=2))
        if dy == 0 and dx == 0:
            continue
        x[b] = torch.roll(x[b], shifts=(dy * 8, dx * 8), dims=(-2, -1))
        g[b] = torch.roll(g[b], shifts=(dy, dx), dims=(-2, -1))
        _zero_wrapped(x[b], dy * 8, dx * 8)
        _zero_wrapped(g[b], dy, dx)
        s = g[b].sum()
        if s > 0:
            g[b] /= s
    return x, g


def _zero_wrapped(t: torch.Tensor, dy: int, dx: int) -> None:
    if dy > 0:
        t[..., :dy, :] = 0
    elif dy < 0:
        t[..., dy:, :] = 0
    if dx > 0:
        t[..., :, :dx] = 0
    elif dx < 0:
        t[..., :, dx:] = 0


def _val_auc(model: GazeClassifier, data: ClassifierData, idx: np.ndarray) -> float:
    probs, _ = predict_arrays(model, data.images[idx])
    return classification_metrics(data.labels[idx], probs, n_bootstrap=0).macro_auc


def train_classifier(
    data: ClassifierData,
    model_config: ClassifierConfig,
    train_config: TrainConfig,
    *,
    state_dir: str | Path | None = None,
    resume: bool = False,
    cpu: bool = True,
) -> TrainResult:
    """Train on ``data``'s train split; early-stop and calibrate on its real validation images.

    ``state_dir``: where the per-epoch training state goes (``resume=True`` continues from it).
    ``cpu=False`` lets Accelerate pick CUDA when present.
    """
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm

    tc = train_config
    t0 = time.perf_counter()
    if tuple(data.labels_order) != tuple(model_config.labels):
        raise ValueError("data and model config disagree on the label order")
    set_seed(tc.seed)
    train_idx = _train_indices(data, tc.train_fraction, tc.seed)
    val_idx = data.select(split="val", sources=REAL_SOURCES)
    if len(train_idx) == 0 or len(val_idx) == 0:
        raise ValueError("classifier training needs training and real validation images")
    config = replace(
        model_config,
        pos_weights=_pos_weights(data.labels[train_idx], model_config.pos_weight_max),
    )
    model = GazeClassifier(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, tc.epochs))
    accelerator = Accelerator(cpu=cpu)
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    state = {"epoch": 0, "best_auc": -math.inf, "best_epoch": -1, "bad_epochs": 0, "history": []}
    best_weights: dict[str, torch.Tensor] | None = None
    state_path = Path(state_dir) if state_dir is not None else None
    if resume:
        if state_path is None or not (state_path / "trainer_state.json").is_file():
            raise ValueError(f"nothing to resume in {state_path}")
        accelerator.load_state(str(state_path / "last"))
        state = json.loads((state_path / "trainer_state.json").read_text())
        best_weights = torch.load(state_path / "best.pt", weights_only=True)
        logger.info("resuming at epoch %d (best val AUC %.3f)", state["epoch"], state["best_auc"])
    device = accelerator.device
    rank, world = accelerator.process_index, accelerator.num_processes
    bar = tqdm(
        range(state["epoch"], tc.epochs),
        desc="classifier",
        disable=not (tc.progress and accelerator.is_main_process),
        initial=state["epoch"],
        total=tc.epochs,
    )
    for epoch in bar:
        if state["bad_epochs"] >= tc.patience:
            break
        model.train()
        rng = np.random.default_rng([tc.seed, epoch])  # data order depends on (seed, epoch) only
        order = rng.permutation(train_idx)
        losses = []
        for start in range(0, len(order), tc.batch_size):
            batch = order[start : start + tc.batch_size]
            if len(batch) < 2 * world:  # BatchNorm needs two per process; all processes skip
                continue
            batch = batch[rank::world]  # each process its share of the batch
            x = torch.from_numpy(data.images[batch])
            g = torch.from_numpy(data.gaze[batch])
            x, g = _shift(x, g, tc.max_shift_px, rng)
            out = model(
                x.to(device),
                torch.from_numpy(data.labels[batch]).to(device),
                g.to(device),
                torch.from_numpy(data.has_gaze[batch]).to(device),
            )
            optimizer.zero_grad()
            accelerator.backward(out.loss)
            optimizer.step()
            losses.append(out.terms["total"])
        scheduler.step()
        unwrapped = accelerator.unwrap_model(model)
        auc = _val_auc(unwrapped, data, val_idx)
        record = {"epoch": epoch + 1, "loss": float(np.mean(losses)), "val_macro_auc": auc}
        state["history"].append(record)
        if auc > state["best_auc"]:
            state.update(best_auc=auc, best_epoch=epoch + 1, bad_epochs=0)
            best_weights = {k: v.detach().clone() for k, v in unwrapped.state_dict().items()}
        else:
            state["bad_epochs"] += 1
        state["epoch"] = epoch + 1
        bar.set_postfix(
            loss=f"{record['loss']:.3f}", val_auc=f"{auc:.3f}", best=f"{state['best_auc']:.3f}"
        )
        logger.info("epoch %d: loss %.4f, val macro AUC %.4f", epoch + 1, record["loss"], auc)
        if state_path is not None and accelerator.is_main_process:
            state_path.mkdir(parents=True, exist_ok=True)
            accelerator.save_state(str(state_path / "last"))
            torch.save(best_weights, state_path / "best.pt")
            (state_path / "trainer_state.json").write_text(json.dumps(state, indent=1))
    bar.close()
    model = accelerator.unwrap_model(model)
    if best_weights is not None:
        model.load_state_dict(best_weights)
    temperature = fit_temperature(_logits(model, data.images[val_idx]), data.labels[val_idx])
    model.temperature.fill_(temperature)
    temperature = float(model.temperature)  # the float32 value the checkpoint stores
    logger.info("temperature %.3f fitted on %d validation images", temperature, len(val_idx))
    return TrainResult(
        model=model.cpu(),
        config=config,
        history=state["history"],
        best_epoch=int(state["best_epoch"]),
        val_macro_auc=float(state["best_auc"]),
        temperature=temperature,
        n_train=len(train_idx),
        seconds=time.perf_counter() - t0,
    )


# --------------------------------------------------------------------------------------------
# Gaze-loss ablation


def run_ablation(
    data: ClassifierData,
    model_config: ClassifierConfig,
    train_config: TrainConfig,
    *,
    fractions: tuple[float, ...],
    seeds: tuple[int, ...],
) -> list[dict[str, Any]]:
    """Train with and without the gaze loss for every (fraction, seed); score on the test split.

    One row per run: ``fraction, seed, gaze (bool), n_train, macro_auc`` on the real test
    images, ``cc_real`` (attention vs simulated gaze on real test images that were read),
    ``cc_phantom``, ``pointing`` (phantom test images), ``val_macro_auc``, ``epochs``.
    Both arms see identical data, order, initialisation and early stopping; only
    ``gaze_weight`` differs. The test split is scored, never used to choose anything.
    """
    gaze_weight = model_config.gaze_weight if model_config.gaze_weight > 0 else 1.0
    real_test = data.select(split="test", sources=REAL_SOURCES)
    phantom_test = data.select(split="test", sources=["phantom"])
    rows = []
    for fraction in fractions:
        for seed in seeds:
            for use_gaze in (False, True):
                cfg = replace(model_config, gaze_weight=gaze_weight if use_gaze else 0.0)
                tc = replace(train_config, seed=seed, train_fraction=fraction)
                result = train_classifier(data, cfg, tc)
                real = evaluate_classifier(result.model, data, real_test, n_bootstrap=0)
                phantom = evaluate_classifier(result.model, data, phantom_test, n_bootstrap=0)
                row = {
                    "fraction": fraction,
                    "seed": seed,
                    "gaze": use_gaze,
                    "n_train": result.n_train,
                    "macro_auc": real.metrics.macro_auc,
                    "cc_real": real.attention_cc,
                    "cc_phantom": phantom.attention_cc,
                    "pointing": phantom.pointing_accuracy,
                    "phantom_macro_auc": phantom.metrics.macro_auc,
                    "val_macro_auc": result.val_macro_auc,
                    "epochs": len(result.history),
                }
                logger.info("ablation %s", row)
                rows.append(row)
    return rows


def ablation_table(rows: list[dict[str, Any]]) -> str:
    """Markdown: mean +- sd over seeds per (fraction, gaze), and the paired gain per fraction."""
    keys = ("macro_auc", "cc_real", "cc_phantom", "pointing", "phantom_macro_auc")
    head = (
        "real test macro AUC",
        "CC real",
        "CC phantom",
        "pointing (phantom)",
        "phantom macro AUC",
    )
    lines = [
        "| train fraction (images) | gaze loss | seeds | " + " | ".join(head) + " |",
        "|---|---|---|" + "---|" * len(keys),
    ]
    for fraction in sorted({r["fraction"] for r in rows}):
        arms = {
            g: [r for r in rows if r["fraction"] == fraction and r["gaze"] == g]
            for g in (False, True)
        }
        for g in (False, True):
            rs = arms[g]
            if not rs:
                continue
            cells = []
            for k in keys:
                v = np.array([r[k] for r in rs], dtype=np.float64)
                v = v[np.isfinite(v)]
                cells.append(
                    "n/a"
                    if len(v) == 0
                    else f"{v.mean():.3f} +- {v.std(ddof=1) if len(v) > 1 else 0:.3f}"
                )
            n = int(np.mean([r["n_train"] for r in rs]))
            lines.append(
                f"| {fraction:g} ({n}) | {'with' if g else 'without'} | {len(rs)} | "
                + " | ".join(cells)
                + " |"
            )
        paired = {r["seed"]: r for r in arms[False]}
        diffs = {
            k: [r[k] - paired[r["seed"]][k] for r in arms[True] if r["seed"] in paired]
            for k in keys
        }
        cells = []
        for k in keys:
            v = np.array(diffs[k], dtype=np.float64)
            v = v[np.isfinite(v)]
            cells.append(
                "n/a" if len(v) == 0 else f"{v.mean():+.3f} ({int((v > 0).sum())}/{len(v)} up)"
            )
        lines.append(f"| {fraction:g} | gain (paired) | | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Reporting and saving


def auc_table(evaluation: ClassifierEvaluation, *, title: str) -> str:
    """Markdown table: per-label AUC with 95 % CI, positives / cases, CheXNet's figure."""
    m = evaluation.metrics
    lines = [
        f"{title}",
        "",
        "| label | AUC | 95 % CI | positives / cases | CheXNet (published) |",
        "|---|---|---|---|---|",
    ]
    for k, auc, (lo, hi), pos, n in zip(
        m.labels, m.aucs, m.auc_cis, m.supports, m.n_annotated, strict=True
    ):
        ref = CHEXNET_AUC.get(k)
        lines.append(
            f"| {k} | {_f(auc)} | {_f(lo)}-{_f(hi)} | {int(pos)} / {int(n)} | "
            f"{'' if ref is None else f'{ref:.2f}'} |"
        )
    lo, hi = m.cis.get("macro_auc", (math.nan, math.nan))
    lines.append(
        f"| **macro** (labels with both classes) | **{_f(m.macro_auc)}** | {_f(lo)}-{_f(hi)} | | |"
    )
    return "\n".join(lines)


def _f(v: float) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.3f}"


def save_classifier(
    out_dir: str | Path,
    result: TrainResult,
    data: ClassifierData,
    train_config: TrainConfig,
    *,
    command: str,
    sources: dict[str, str],
    val: ClassifierEvaluation,
) -> Path:
    """Write the checkpoint (config.json + model.safetensors) and its model card to ``out_dir``."""
    from core.models.checkpoint import save_pretrained
    from core.models.classifier import MODEL_TYPE

    summary = data.describe()
    card = _model_card(result, train_config, command=command, summary=summary, val=val)
    return save_pretrained(
        out_dir,
        result.model,
        result.config,
        model_type=MODEL_TYPE,
        card=card,
        labels=result.config.labels,
        preprocessing={
            "input": "display image in [0, 1], whole image resized (area) to image_size square",
            "normalisation": "per-image standardisation (mean 0, sd 1)",
            "image_size": result.config.image_size,
            "attention_grid": list(result.config.grid_shape),
        },
        training_data={
            "summary": f"real NIH ChestX-ray14 + synthetic phantoms; {summary}",
            "sources": sources,
            "splits": "real: crc32(patient id) % 100 < 60 train, < 75 val, else test; "
            "phantoms: corpus split",
            "train_config": asdict(train_config),
            "n_train": result.n_train,
        },
        metrics={
            "val_macro_auc": result.val_macro_auc,
            "best_epoch": result.best_epoch,
            "temperature": result.temperature,
            "history": result.history,
            "val": val.summary(),
        },
    )


def _model_card(
    result: TrainResult, tc: TrainConfig, *, command: str, summary: str, val: ClassifierEvaluation
) -> str:
    c = result.config
    gaze = "on" if c.gaze_weight > 0 else "off"
    return f"""# gaze-classifier-nih: gaze-supervised chest X-ray finding classifier (research use only)

A small residual CNN ({sum(p.numel() for p in result.model.parameters()):,} parameters,
{c.image_size} px input) with one attention-pooling map per finding
(`core/models/classifier.py`). Loss: BCE + gaze-attention loss ({gaze}: MSE {c.w_mse}, KL {c.w_kl},
1-CC {c.w_cc}, centre of mass {c.w_com}, weight {c.gaze_weight}) toward the fixation density of
**simulated** radiologists; supervised-contrastive weight {c.supcon_weight}. Probabilities are
temperature-calibrated on the validation split (T = {result.temperature:.3f}).
**No clinical claim. Not for diagnosis.**

## Data
{summary}.
- `nih-512`: `../shared/data/nih-cxr14-sample` (real NIH ChestX-ray14, 512 px, NIH labels; gaze
  of the simulated readers of the synthetic corpus, not of real radiologists).
- `nih-64`: `../shared/data/nih-cxr14-64px` (real NIH ChestX-ray14 at 64 px, upsampled; no gaze).
- `phantom`: the synthetic corpus's phantoms (`gazescope synth --n 600 --readers 3 --seed 0`):
  exact labels and finding masks, simulated gaze. **Synthetic.**
- Splits: real images by patient, `crc32(patient id) % 100` < 60 train, < 75 validation, else
  test (both NIH sets together); phantoms keep the corpus split. Validation: early stopping on
  the real validation images' macro AUC and the temperature. **Test: never used in training,
  early stopping or calibration.** Labels are NIH's text-mined labels (noisy).

## Retrain (from scratch)
From the repository root, with `../shared/data` next to it and the synthetic corpus made first
(`gazescope synth --out ../corpus/synth --n 600 --readers 3 --seed 0 --workers 2 --real
../shared/data/nih-cxr14-sample`):
```
{command}
```
This run took {result.seconds / 60:.0f} min (1 torch thread on a 2-core machine shared with
other jobs; data loading not included).
Best epoch {result.best_epoch} of {len(result.history)} run; validation macro AUC
{result.val_macro_auc:.3f} (real validation images, the early-stopping data - not an unbiased
estimate).

## Intended use
Research and teaching demos of gaze-supervised attention in GazeScope: the findings and
attention maps that the report generator phrases and the app overlays. Not a diagnostic device;
trained on ~900 real images (CheXNet used 78k) - expect weak AUCs.

## Limits
- Tiny training set, noisy NIH labels, 64 px images upsampled; some labels have only a handful
  of positive test cases (see n below), so their AUCs are very uncertain.
- The gaze it learned from is simulated (`core/synth/readers.py`), not real eye tracking.
- Only the 15 labels NIH annotates (vocabulary ids); no fracture, devices or mediastinum.
- Input is the whole image resized to a square: aspect ratio is not kept.

## Test metrics
{CARD_METRICS_BEGIN}
Not yet computed: run `gazescope classifier-eval --checkpoint <this folder> --update-card`.
{CARD_METRICS_END}
"""
