"""Gaze-supervised multi-label chest X-ray classifier with one attention map per finding.

The idea of *Eyes on the Image* (2025) and Saab et al. (2021), at the scale of a CPU: a small
residual CNN whose class scores are attention-pooled, so every finding has a spatial map that
says where its evidence was taken from; during training that map is pulled toward where the
(simulated) radiologists looked.

Architecture (all written here, no torchvision)::

    image (B, 1, S, S), standardised per image
    -> stem conv 3x3/2 -> residual blocks (stride 2, 2, 1) -> features F (B, C, S/8, S/8)
    -> attention logits a = conv1x1(F) (B, K, h, w), alpha_k = softmax over the h*w cells
    -> evidence       e = conv1x1(F) (B, K, h, w)
    -> logit_k = sum_cells alpha_k * e_k         (attention pooling, one map per finding)

``alpha_k`` is a density over a grid spanning the whole image (the image is resized as a whole,
never cropped), which is what the gaze loss compares with the readers' fixation density and
what the app overlays (divided by its maximum, so values lie in [0, 1]).

Loss (:func:`classifier_loss`) = masked BCE (nan labels do not count)
+ ``gaze_weight`` x gaze-attention loss, averaged over each case's *positive* labels (a normal
case's positive label is ``no_finding``): ``w_mse * MSE + w_kl * KL(gaze || attention) +
w_cc * (1 - CC) + w_com * |centre of mass difference|`` (:func:`gaze_attention_terms`);
cases without gaze contribute the BCE only + optional ``supcon_weight`` x a supervised
contrastive term on a projection of the pooled features, positives weighted by the Jaccard
overlap of the two cases' label sets (:func:`supcon_loss`).

Calibration: one temperature ``T`` divides every logit; it is fitted on the validation split
after training (:func:`fit_temperature`, minimum masked BCE over a log grid) and stored in the
weights as the buffer ``temperature``, so the probabilities a checkpoint gives are calibrated.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.models.predictor import Prediction, PredictionRequest, Predictor
from core.models.registry import register_predictor
from core.vocabulary import NIH

logger = logging.getLogger(__name__)

__all__ = [
    "CLASSIFIER_LABELS",
    "DEFAULT_CHECKPOINT",
    "MODEL_TYPE",
    "ClassifierConfig",
    "ClassifierPredictor",
    "ClassifierOutput",
    "GazeClassifier",
    "classifier_loss",
    "fit_temperature",
    "gaze_attention_terms",
    "preprocess_image",
    "supcon_loss",
]

# every vocabulary id an NIH label maps to, in vocabulary order of first appearance: the labels
# with real training data (phantoms annotate a subset of them exactly)
MODEL_TYPE = "gaze-classifier"
DEFAULT_CHECKPOINT = "gaze-classifier-nih"  # folder under trained_models/
CLASSIFIER_LABELS: tuple[str, ...] = tuple(dict.fromkeys(v for v in NIH.values() if v))
_EPS = 1e-8


@dataclass
class ClassifierConfig:
    labels: tuple[str, ...] = CLASSIFIER_LABELS
    image_size: int = 128  # input side in pixels; the attention grid is image_size / 8
    channels: tuple[int, ...] = (16, 32, 48, 64)  # stem, then one residual block per entry after
    dropout: float = 0.2
    projection_dim: int = 32  # supervised-contrastive projection head
    # loss weights
    gaze_weight: float = 1.0  # 0 switches the gaze-attention loss off (the ablation)
    w_mse: float = 1.0
    w_kl: float = 0.1  # KL and 1-CC are O(1); MSE on cell-count-scaled densities is O(1) too
    w_cc: float = 1.0
    w_com: float = 1.0  # centre-of-mass distance in normalised image units (<= sqrt 2)
    supcon_weight: float = 0.0  # optional supervised-contrastive term (off by default)
    supcon_temperature: float = 0.1
    pos_weight_max: float = 10.0  # cap on BCE positive weights (rare labels)
    pos_weights: tuple[float, ...] = field(default_factory=tuple)  # set by training from counts

    def __post_init__(self) -> None:
        self.labels = tuple(self.labels)
        self.channels = tuple(int(c) for c in self.channels)
        self.pos_weights = tuple(float(w) for w in self.pos_weights)
        if len(self.channels) != 4:
            raise ValueError(f"channels must have 4 entries (stem + 3 blocks), got {self.channels}")
        if self.image_size % 8:
            raise ValueError(f"image_size must be a multiple of 8, got {self.image_size}")
        if self.pos_weights and len(self.pos_weights) != len(self.labels):
            raise ValueError("pos_weights must have one entry per label")

    @property
    def grid_shape(self) -> tuple[int, int]:
        return (self.image_size // 8, self.image_size // 8)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ClassifierOutput:
    logits: torch.Tensor  # (B, K) before temperature
    attention: torch.Tensor  # (B, K, h, w) densities, each sums to 1
    embedding: torch.Tensor  # (B, D) L2-normalised projection (supervised contrastive)
    probabilities: torch.Tensor  # (B, K) sigmoid(logits / temperature)
    loss: torch.Tensor | None = None
    terms: dict[str, float] = field(default_factory=dict)


class _Block(nn.Module):
    """conv3x3(stride) - BN - ReLU - conv3x3 - BN, plus a (projected) shortcut, then ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class GazeClassifier(nn.Module):
    """The CNN with per-finding attention pooling; ``forward(x, labels, gaze)`` adds the loss."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        c0, c1, c2, c3 = config.channels
        k = len(config.labels)
        self.stem = nn.Sequential(
            nn.Conv2d(1, c0, 3, 2, 1, bias=False), nn.BatchNorm2d(c0), nn.ReLU()
        )  # S/2
        self.blocks = nn.Sequential(_Block(c0, c1, 2), _Block(c1, c2, 2), _Block(c2, c3, 1))  # S/8
        self.dropout = nn.Dropout2d(config.dropout)
        self.attend = nn.Conv2d(c3, k, 1)
        self.evidence = nn.Conv2d(c3, k, 1)
        self.project = nn.Sequential(
            nn.Linear(c3, c3), nn.ReLU(), nn.Linear(c3, config.projection_dim)
        )
        self.register_buffer("temperature", torch.ones(()))
        pw = config.pos_weights or (1.0,) * k
        self.register_buffer("pos_weight", torch.tensor(pw, dtype=torch.float32))

    def forward(
        self,
        x: torch.Tensor,
        labels: torch.Tensor | None = None,
        gaze: torch.Tensor | None = None,
        has_gaze: torch.Tensor | None = None,
    ) -> ClassifierOutput:
        """``x`` (B, 1, S, S) from :func:`preprocess_image`; ``labels`` (B, K) 0/1/nan;
        ``gaze`` (B, h, w) fixation densities and ``has_gaze`` (B,) bool, for the loss."""
        f = self.dropout(self.blocks(self.stem(x)))  # (B, C, h, w)
        b, _, h, w = f.shape
        a = self.attend(f).flatten(2)  # (B, K, h*w)
        alpha = torch.softmax(a, dim=-1)
        e = self.evidence(f).flatten(2)  # (B, K, h*w)
        logits = (alpha * e).sum(-1)  # (B, K)
        z = F.normalize(self.project(f.mean(dim=(2, 3))), dim=-1)  # (B, D)
        out = ClassifierOutput(
            logits=logits,
            attention=alpha.view(b, -1, h, w),
            embedding=z,
            probabilities=torch.sigmoid(logits / self.temperature),
        )
        if labels is not None:
            out.loss, out.terms = classifier_loss(
                out, labels, gaze, has_gaze, self.config, self.pos_weight
            )
        return out


# --------------------------------------------------------------------------------------------
# Losses


def masked_bce(
    logits: torch.Tensor, labels: torch.Tensor, pos_weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean BCE over the annotated (non-nan) entries of ``labels`` (0 when none is annotated)."""
    mask = ~torch.isnan(labels)
    if not mask.any():
        return logits.sum() * 0.0
    target = torch.nan_to_num(labels, nan=0.0)
    loss = F.binary_cross_entropy_with_logits(
        logits, target, pos_weight=pos_weight, reduction="none"
    )
    return loss[mask].mean()


def _centre_of_mass(p: torch.Tensor) -> torch.Tensor:
    """(N, h, w) densities -> (N, 2) centres of mass ``(x, y)`` in normalised image units."""
    _, h, w = p.shape
    ys = (torch.arange(h, dtype=p.dtype, device=p.device) + 0.5) / h
    xs = (torch.arange(w, dtype=p.dtype, device=p.device) + 0.5) / w
    mass = p.sum(dim=(1, 2)).clamp_min(_EPS)
    cx = (p.sum(dim=1) * xs).sum(-1) / mass
    cy = (p.sum(dim=2) * ys).sum(-1) / mass
    return torch.stack([cx, cy], dim=-1)


def gaze_attention_terms(attention: torch.Tensor, gaze: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-pair terms between attention maps and gaze maps, both ``(N, h, w)``.

    Each map is first divided by its sum (a density over the grid). Returns ``(N,)`` tensors:

    - ``mse``: mean squared difference of the densities times ``h*w`` squared, i.e. of the maps
      scaled so a uniform map is 1 everywhere (the value does not shrink with the grid size);
    - ``kl``: ``KL(gaze || attention) = sum g log((g + eps) / (a + eps))``, eps = 1e-8;
    - ``one_minus_cc``: 1 - Pearson correlation over cells (1 when either map is constant);
    - ``com``: Euclidean distance between the centres of mass, in normalised image units.
    """
    if attention.shape != gaze.shape or attention.dim() != 3:
        raise ValueError(
            f"attention and gaze must both be (N, h, w), got {tuple(attention.shape)} and "
            f"{tuple(gaze.shape)}"
        )
    n, h, w = attention.shape
    a = attention / attention.sum(dim=(1, 2), keepdim=True).clamp_min(_EPS)
    g = gaze / gaze.sum(dim=(1, 2), keepdim=True).clamp_min(_EPS)
    cells = h * w
    mse = ((a - g) * cells).pow(2).mean(dim=(1, 2))
    kl = (g * torch.log((g + _EPS) / (a + _EPS))).sum(dim=(1, 2))
    af, gf = a.reshape(n, -1), g.reshape(n, -1)
    ac, gc = af - af.mean(-1, keepdim=True), gf - gf.mean(-1, keepdim=True)
    den = torch.sqrt((ac * ac).sum(-1) * (gc * gc).sum(-1))
    cc = torch.where(den > _EPS, (ac * gc).sum(-1) / den.clamp_min(_EPS), torch.zeros_like(den))
    com = torch.linalg.vector_norm(_centre_of_mass(a) - _centre_of_mass(g), dim=-1)
    return {"mse": mse, "kl": kl, "one_minus_cc": 1.0 - cc, "com": com}


def supcon_loss(embedding: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al. 2020) with multi-label soft positives.

    For anchor i, every other case j is a positive with weight ``Jaccard(labels_i, labels_j)``
    (positive labels, nan counted as 0); the loss is ``-sum_j w_ij log softmax_j(z_i . z_j /
    temperature) / sum_j w_ij`` averaged over anchors with at least one positive; 0 when none.
    """
    y = torch.nan_to_num(labels, nan=0.0).clamp(0, 1)
    b = len(y)
    inter = y @ y.T
    union = y.sum(-1, keepdim=True) + y.sum(-1) - inter
    wpos = torch.where(union > 0, inter / union.clamp_min(_EPS), torch.zeros_like(inter))
    eye = torch.eye(b, dtype=torch.bool, device=y.device)
    wpos = wpos.masked_fill(eye, 0.0)
    sim = (embedding @ embedding.T) / temperature
    logp = torch.log_softmax(sim.masked_fill(eye, -1e9), dim=-1)
    norm = wpos.sum(-1)
    keep = norm > 0
    if not keep.any():
        return embedding.sum() * 0.0
    per_anchor = -(wpos * logp).sum(-1)[keep] / norm[keep]
    return per_anchor.mean()


def classifier_loss(
    out: ClassifierOutput,
    labels: torch.Tensor,
    gaze: torch.Tensor | None,
    has_gaze: torch.Tensor | None,
    config: ClassifierConfig,
    pos_weight: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss and its terms (floats, for logging); see the module docstring."""
    bce = masked_bce(out.logits, labels, pos_weight)
    total = bce
    terms = {"bce": float(bce.detach())}
    if config.gaze_weight > 0 and gaze is not None and has_gaze is not None and has_gaze.any():
        positive = torch.nan_to_num(labels, nan=0.0) > 0.5  # (B, K)
        pairs = positive & has_gaze[:, None]
        if pairs.any():
            bi, ki = pairs.nonzero(as_tuple=True)
            t = gaze_attention_terms(out.attention[bi, ki], gaze[bi])
            gaze_loss = (
                config.w_mse * t["mse"]
                + config.w_kl * t["kl"]
                + config.w_cc * t["one_minus_cc"]
                + config.w_com * t["com"]
            ).mean()
            total = total + config.gaze_weight * gaze_loss
            terms["gaze"] = float(gaze_loss.detach())
            terms.update({k: float(v.detach().mean()) for k, v in t.items()})
    if config.supcon_weight > 0:
        sc = supcon_loss(out.embedding, labels, config.supcon_temperature)
        total = total + config.supcon_weight * sc
        terms["supcon"] = float(sc.detach())
    terms["total"] = float(total.detach())
    return total, terms


# --------------------------------------------------------------------------------------------
# Calibration and preprocessing


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature ``T`` minimising the masked BCE of ``sigmoid(logits / T)`` on ``labels``.

    A log-spaced grid over [0.05, 20] (400 points) then a golden-section refinement between the
    grid neighbours of the best point: deterministic, no optimiser state, and a constant or
    unannotated input falls back to 1.0 (nothing to calibrate).
    """
    z = np.asarray(logits, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=np.float64).ravel()
    if z.shape != y.shape:
        raise ValueError(f"logits and labels differ in size: {z.shape} vs {y.shape}")
    m = ~np.isnan(y)
    z, y = z[m], y[m]
    if len(z) == 0 or len(np.unique(y)) < 2 or np.allclose(z, 0):
        return 1.0

    def nll(t: float) -> float:
        s = z / t
        return float(np.mean(np.logaddexp(0.0, s) - y * s))

    grid = np.exp(np.linspace(math.log(0.05), math.log(20.0), 400))
    losses = np.array([nll(t) for t in grid])
    i = int(np.argmin(losses))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    phi = (math.sqrt(5) - 1) / 2
    for _ in range(60):
        a, b = hi - phi * (hi - lo), lo + phi * (hi - lo)
        if nll(a) < nll(b):
            hi = b
        else:
            lo = a
    return float((lo + hi) / 2)


def preprocess_image(image: np.ndarray, size: int) -> torch.Tensor:
    """Display image (H, W) in [0, 1] -> (1, 1, size, size) float32, standardised per image.

    The whole image is resized (area averaging, aspect not kept), so the attention grid spans
    the whole original image; per-image standardisation makes PNG, DICOM and phantom intensity
    ranges comparable.
    """
    a = np.asarray(image, dtype=np.float32)
    if a.ndim != 2 or a.size == 0:
        raise ValueError(f"image must be a non-empty 2-D array, got shape {a.shape}")
    t = torch.from_numpy(np.ascontiguousarray(a))[None, None]
    if t.shape[-2:] != (size, size):
        shrink = t.shape[-2] >= size and t.shape[-1] >= size
        mode = "area" if shrink else "bilinear"
        t = F.interpolate(
            t, size=(size, size), mode=mode, **({} if shrink else {"align_corners": False})
        )
    std = t.std()
    return (t - t.mean()) / (std if std > 1e-6 else 1.0)


# --------------------------------------------------------------------------------------------
# Predictor adapter


@register_predictor(MODEL_TYPE, kind="classifier", default_checkpoint=DEFAULT_CHECKPOINT)
class ClassifierPredictor(Predictor):
    """Findings (calibrated probabilities) and one attention map per finding for an image.

    ``checkpoint``: a folder written by ``gazescope train classifier`` (default: the shipped
    ``trained_models/gaze-classifier-nih``); ``None`` builds an untrained model from
    ``**config`` with fixed-seed weights (tests). ``device``: ``"cuda"`` when available unless
    given. Attention maps lie on the model's grid (``image_size / 8`` square) spanning the whole
    original image, divided by their maximum so values are in [0, 1].
    """

    name = MODEL_TYPE
    version = "1"
    needs_image = True
    capabilities = frozenset({"findings", "attention"})

    def __init__(
        self, checkpoint: str | Path | None = None, device: str | None = None, **config: Any
    ) -> None:
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.meta: dict[str, Any] = {}
        if checkpoint is not None:
            if config:
                raise ValueError(f"config overrides {sorted(config)} do not apply to a checkpoint")
            from core.models.checkpoint import load_pretrained

            self.model, self.config, self.meta = load_pretrained(
                checkpoint, GazeClassifier, ClassifierConfig, device=self.device
            )
        else:
            self.config = ClassifierConfig(**config)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                self.model = GazeClassifier(self.config)
            self.model.to(self.device).eval()

    @torch.no_grad()
    def predict(self, request: PredictionRequest) -> Prediction:
        x = preprocess_image(request.radiograph.image, self.config.image_size).to(self.device)
        out = self.model.eval()(x)
        probs = out.probabilities[0].double().cpu().numpy()
        att = out.attention[0].double().cpu().numpy()  # (K, h, w)
        peak = att.reshape(len(att), -1).max(axis=1)
        return Prediction(
            image_id=request.image.image_id,
            findings={k: float(p) for k, p in zip(self.config.labels, probs, strict=True)},
            attention={
                k: a / m if m > 0 else a
                for k, a, m in zip(self.config.labels, att, peak, strict=True)
            },
            meta={
                "weights_sha256": self.meta.get("weights_sha256"),
                "training_data": self.meta.get("training_data", {}).get("summary", ""),
                "temperature": float(self.model.temperature),
            },
        )
