"""A small U-Net that segments the right lung, left lung and heart of a frontal chest film.

One file, nanoGPT style: ``SegmenterConfig`` (a dataclass), ``UNet`` (the ``nn.Module``),
``preprocess`` (the one input contract: any 2-D grey image in [0, 1], bone bright, squashed to
``input_size`` x ``input_size`` and scaled by its 1st/99th percentiles - the same for training
and inference), ``predict_probabilities`` (softmax on the anatomy's working grid) and the
``Segmenter`` predictor adapter registered as ``kind="segmenter"``.

Classes (``LABELS``): 0 background, 1 right lung, 2 left lung, 3 heart; the patient's right
is on the image's left. The network only produces masks: ``core.anatomy.locate(...,
method="learned"|"fused", learned=...)`` judges them and builds the atlas (the anatomy layer
never imports this module; the adapter calls it).

Training: ``core.train.segmenter`` (``gazescope train segmenter``), on synthetic phantoms
with exact masks under strong appearance randomisation, optionally plus the classical
method's confident lung fields on part of the real NIH sample as pseudo-labels.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.anatomy import (
    MASK_LABELS,
    Anatomy,
    LearnedSegmentation,
    locate,
    locate_all,
    working_grid,
)
from core.io.geometry import resize_image
from core.io.radiograph import Radiograph
from core.models.predictor import Prediction, PredictionRequest, Predictor
from core.models.registry import register_predictor, trained_models_dir

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_CHECKPOINT",
    "DEFAULT_METHOD",
    "LABELS",
    "MODEL_TYPE",
    "Segmenter",
    "SegmenterConfig",
    "UNet",
    "load_segmenter",
    "predict_probabilities",
    "preprocess",
]

MODEL_TYPE = "gazescope-segmenter-unet"
LABELS: tuple[str, ...] = MASK_LABELS  # background, right lung, left lung, heart


@dataclass
class SegmenterConfig:
    input_size: int = 128  # square network input; the film is squashed to it (aspect ignored)
    widths: tuple[int, ...] = (8, 16, 32, 64, 128)  # channels per level; len = depth
    n_classes: int = len(LABELS)
    low_percentile: float = 1.0  # intensity scaling of the input (preprocessing contract)
    high_percentile: float = 99.0

    def __post_init__(self) -> None:
        self.widths = tuple(int(w) for w in self.widths)
        if len(self.widths) < 2 or min(self.widths) < 1:
            raise ValueError(f"widths must hold at least two positive ints, got {self.widths}")
        if self.input_size % 2 ** (len(self.widths) - 1):
            raise ValueError(
                f"input_size {self.input_size} must be divisible by 2^{len(self.widths) - 1}"
            )


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """Encoder of double 3x3 convolutions with 2x max-pooling, decoder with bilinear
    upsampling and skip concatenation, 1x1 head to ``n_classes`` logits."""

    def __init__(self, config: SegmenterConfig):
        super().__init__()
        self.config = config
        w = config.widths
        self.down = nn.ModuleList(
            _block(c_in, c_out) for c_in, c_out in zip((1, *w[:-1]), w, strict=True)
        )
        self.up = nn.ModuleList(_block(w[i + 1] + w[i], w[i]) for i in reversed(range(len(w) - 1)))
        self.head = nn.Conv2d(w[0], config.n_classes, 1)

    def forward(self, x: torch.Tensor, targets: torch.Tensor | None = None):
        """``x`` (B, 1, S, S) -> logits (B, C, S, S); with ``targets`` (B, S, S) long (255 =
        ignore) also the loss: cross-entropy plus soft Dice over the foreground classes."""
        skips = []
        for i, down in enumerate(self.down):
            if i:
                x = F.max_pool2d(x, 2)
            x = down(x)
            skips.append(x)
        for up, skip in zip(self.up, reversed(skips[:-1]), strict=True):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = up(torch.cat([x, skip], dim=1))
        logits = self.head(x)  # (B, C, S, S)
        if targets is None:
            return logits
        return logits, segmentation_loss(logits, targets)


def segmentation_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy + (1 - mean soft Dice of classes 1..C-1), both ignoring label 255."""
    ce = F.cross_entropy(logits, targets, ignore_index=255)
    valid = (targets != 255).unsqueeze(1)  # (B, 1, S, S)
    probs = logits.softmax(dim=1) * valid
    onehot = F.one_hot(targets.clamp(max=logits.shape[1] - 1), logits.shape[1])
    onehot = onehot.permute(0, 3, 1, 2).to(probs.dtype) * valid  # (B, C, S, S)
    inter = (probs * onehot).sum(dim=(0, 2, 3))[1:]
    denom = (probs + onehot).sum(dim=(0, 2, 3))[1:]
    dice = (2 * inter + 1.0) / (denom + 1.0)
    return ce + (1.0 - dice.mean())


def preprocess(image: np.ndarray, config: SegmenterConfig) -> np.ndarray:
    """(H, W) grey image in [0, 1] -> (S, S) float32 network input (squashed, percentile-scaled)."""
    s = config.input_size
    g = resize_image(np.asarray(image, dtype=np.float32), s, s, order=1)
    lo, hi = np.percentile(g, [config.low_percentile, config.high_percentile])
    return np.clip((g - lo) / max(float(hi - lo), 1e-6), 0.0, 1.0).astype(np.float32)


@torch.no_grad()
def predict_probabilities(
    module: UNet, image: np.ndarray, grid_shape: tuple[int, int]
) -> np.ndarray:
    """Softmax probabilities (C, gh, gw) float32 on a grid spanning the whole image.

    The logits are resized to ``grid_shape`` (bilinear) before the softmax, so the masks follow
    the image's own aspect ratio again.
    """
    module.eval()
    x = torch.from_numpy(preprocess(image, module.config))[None, None]
    logits = module(x)
    logits = F.interpolate(logits, size=tuple(grid_shape), mode="bilinear", align_corners=False)
    return logits.softmax(dim=1)[0].numpy().astype(np.float32)


DEFAULT_CHECKPOINT = "segmenter-unet-small"
DEFAULT_METHOD = "fused"  # what locate() uses unless told otherwise (README: anatomy figures)


@register_predictor(DEFAULT_CHECKPOINT, kind="segmenter", default_checkpoint=DEFAULT_CHECKPOINT)
class Segmenter(Predictor):
    """The trained network as a predictor: image in, ``LearnedSegmentation`` (``segment``) or a
    whole ``Anatomy`` (``locate``, through ``core.anatomy.locate``) out.

    ``checkpoint``: a ``save_pretrained`` folder (``create_predictor`` passes the shipped one);
    ``None`` builds an untrained network from ``config`` overrides (tests). ``method``: what
    ``locate`` uses by default, ``"learned"`` or ``"fused"``.
    """

    name = DEFAULT_CHECKPOINT
    version = "1"
    needs_image = True
    capabilities: frozenset[str] = frozenset()

    def __init__(
        self,
        checkpoint: str | Path | None = None,
        *,
        method: str = DEFAULT_METHOD,
        device: str = "cpu",
        **config: object,
    ) -> None:
        if method not in ("learned", "fused"):
            raise ValueError(f"segmenter method must be 'learned' or 'fused', got {method!r}")
        if device != "cpu":
            raise ValueError(f"the segmenter runs on the CPU only, got device={device!r}")
        if checkpoint is None:
            self.model = UNet(SegmenterConfig(**config))  # type: ignore[arg-type]
            self.meta = {}
        else:
            from core.models.checkpoint import load_pretrained

            if config:
                raise ValueError(f"config overrides {sorted(config)} need checkpoint=None")
            self.model, _, meta = load_pretrained(Path(checkpoint), UNet, SegmenterConfig)
            self.meta = meta
        self.model.eval()
        self.config = self.model.config
        self.method = method

    @property
    def model_id(self) -> str:
        sha = str(self.meta.get("weights_sha256") or "untrained")
        return f"{self.name} v{self.version} (weights {sha[:12]})"

    def segment(self, x: Radiograph | np.ndarray) -> LearnedSegmentation:
        """Softmax probabilities on the anatomy's working grid for one image."""
        image = x.image if isinstance(x, Radiograph) else np.asarray(x, dtype=np.float32)
        if image.ndim != 2:
            raise ValueError(f"the segmenter expects a 2-D grey image, got shape {image.shape}")
        probs = predict_probabilities(self.model, image, working_grid(*image.shape))
        return LearnedSegmentation(probs, self.model_id)

    def locate(self, x: Radiograph | np.ndarray, *, method: str | None = None) -> Anatomy:
        """``core.anatomy.locate`` with this network's masks (``method`` "classical", "learned"
        or "fused"; default: the one given at construction)."""
        method = method or self.method
        if method == "classical":
            return locate(x)
        if method == "fused":
            return self.locate_all(x)["fused"]
        return locate(x, method=method, learned=self.segment(x))

    def locate_all(self, x: Radiograph | np.ndarray) -> dict[str, Anatomy]:
        """``{"classical", "learned", "fused"}`` -> ``Anatomy`` for one image, each computed once.

        One after the other: in paired runs on the 2-core machine, the classical method in a
        thread beside the network bought nothing with torch on one thread, and with torch on
        both cores it cost 10-50 ms an image (the GIL and four threads on two cores)."""
        return locate_all(x, self.segment(x))

    def predict(self, request: PredictionRequest) -> Prediction:
        """No gaze or findings: the located ``Anatomy`` travels in ``meta["anatomy"]``."""
        anatomy = self.locate(request.radiograph)
        return Prediction(request.image.image_id, meta={"anatomy": anatomy})


def load_segmenter(checkpoint: str | Path | None = None) -> Segmenter:
    """The shipped segmenter (or the ``checkpoint`` folder, or a folder name under
    ``trained_models/``), loaded once per process; ``CheckpointError`` names a missing folder."""
    path = Path(checkpoint) if checkpoint is not None else Path(DEFAULT_CHECKPOINT)
    if not path.is_dir() and not path.is_absolute():
        path = trained_models_dir() / path
    key = str(path.resolve())
    if key not in _LOADED:
        _LOADED[key] = Segmenter(path)
    return _LOADED[key]


_LOADED: dict[str, Segmenter] = {}
