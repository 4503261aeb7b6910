"""Training of the lung + heart segmenter (``core.models.segmenter``) on synthetic phantoms.

Data. ``n_phantoms`` seeded phantoms (``core.synth`` generator, 256 px, the default case mix
of findings and views) give images with *exact* masks; each epoch redraws a strong appearance
and geometry randomisation of every one of them (``augment``): zoom, aspect, rotation and shift
(patient size and positioning, field of view), tone curves and gamma (exposure and console
processing), windowing, edge enhancement, blur, noise, illumination gradients, collimation
bands and devices (wires, tubes, electrodes, burnt-in text). Real films differ from phantoms in
ways no randomisation covers, so real images can be added as *pseudo-labelled* examples
(self-training): the classical method's confident lung fields on a list of real images (only
the lungs and the air/body outside the thorax are trained there; the mediastinum, the heart
and a band around every lung border are ignored, because the classical heart outline is the
weak part the learned model is meant to fix). Which images were used is recorded in the card.

Loop. Accelerate (CPU), seeded (``accelerate.utils.set_seed`` plus per-example seeds from
``(seed, epoch, index)``, so a resumed run draws the same augmentations), AdamW with cosine
decay, validation Dice on a fixed randomised phantom set after every epoch, early stopping on
it, a resumable state file in ``work_dir``, and the best weights written with
``save_pretrained``.
"""

from __future__ import annotations

import logging
import math
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from scipy import ndimage as ndi

from core.io.geometry import resize_image
from core.models.segmenter import LABELS, SegmenterConfig, UNet, preprocess

logger = logging.getLogger(__name__)

__all__ = [
    "IGNORE",
    "SegmenterTrainConfig",
    "TrainResult",
    "augment",
    "dice_scores",
    "phantom_examples",
    "pseudo_label",
    "train_segmenter",
]

IGNORE = 255  # label of pixels that carry no loss
PHANTOM_PX = 256  # phantoms are drawn at this size, then brought to the network input size


@dataclass
class SegmenterTrainConfig:
    out_dir: Path
    work_dir: Path  # training state and data cache (resumable); not shipped
    n_phantoms: int = 800
    n_val: int = 64
    epochs: int = 4
    batch_size: int = 16
    lr: float = 3e-3
    weight_decay: float = 1e-4
    patience: int = 3  # epochs without a better validation Dice before stopping
    seed: int = 0
    threads: int = 1
    pseudo_images: tuple[Path, ...] = ()  # real films pseudo-labelled by the classical method
    pseudo_min_confidence: float = 0.7
    model: SegmenterConfig = field(default_factory=SegmenterConfig)
    name: str = "segmenter-unet-small"

    def __post_init__(self) -> None:
        self.out_dir, self.work_dir = Path(self.out_dir), Path(self.work_dir)
        if self.n_phantoms < 1 or self.n_val < 1 or self.epochs < 1 or self.batch_size < 1:
            raise ValueError("n_phantoms, n_val, epochs and batch_size must be positive")


@dataclass(frozen=True)
class TrainResult:
    out_dir: Path
    best_epoch: int
    val_dice: dict[str, float]  # per foreground class, on the randomised phantom validation set
    history: list[dict[str, float]]
    n_pseudo: int
    seconds: float


# ---------------------------------------------------------------------------- data


def phantom_examples(seeds: Sequence[int], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, size, size) float32 in [0, 1] and labels (N, size, size) uint8 from phantoms."""
    from core.synth.phantom import PhantomConfig, generate_phantom

    cfg = PhantomConfig(height_px=PHANTOM_PX, width_px=PHANTOM_PX)
    images = np.empty((len(seeds), size, size), np.float32)
    labels = np.empty((len(seeds), size, size), np.uint8)
    for i, seed in enumerate(seeds):
        p = generate_phantom(int(seed), config=cfg)
        lab = np.zeros(p.image.shape, np.uint8)
        for k, name in enumerate(("right_lung", "left_lung", "heart"), start=1):
            lab[p.anatomy[name]] = k
        images[i] = resize_image(p.image, size, size, order=1)
        labels[i] = _resize_labels(lab, size)
    return images, labels


def _resize_labels(lab: np.ndarray, size: int) -> np.ndarray:
    """Majority-vote downsampling of a label image (falls back to nearest when not integral)."""
    h, w = lab.shape
    if h % size or w % size:
        return resize_image(lab, size, size, order=0)
    fy, fx = h // size, w // size
    n = int(lab[lab != IGNORE].max(initial=0)) + 1
    blocks = lab.reshape(size, fy, size, fx)
    counts = np.stack([(blocks == k).sum(axis=(1, 3)) for k in (*range(n), IGNORE)])
    winners = np.argmax(counts, axis=0)
    return np.where(winners == n, IGNORE, winners).astype(np.uint8)


def pseudo_label(right: np.ndarray, left: np.ndarray, heart: np.ndarray, size: int) -> np.ndarray:
    """A partial label image from the classical method's masks (grid masks, any shape).

    Only what the classical method is reliably right about is labelled: the lung interiors
    and the background well away from the thorax. ``IGNORE`` covers a band of 4 % of the image
    width around each lung border, the convex hull of both lungs that is not lung (mediastinum,
    heart), the classical heart, and a strip of 10 % of the height under the lungs (the bases
    and costophrenic recesses, where the classical outline often stops short). Returned at
    ``size`` x ``size``.
    """
    from skimage.morphology import convex_hull_image

    gh, gw = right.shape
    lab = np.zeros(right.shape, np.uint8)
    lab[right], lab[left] = 1, 2
    lungs = right | left
    band = max(1, round(0.04 * gw))
    border = ndi.binary_dilation(lungs, iterations=band) & ~ndi.binary_erosion(
        lungs, iterations=band
    )
    hull = convex_hull_image(lungs) if lungs.any() else lungs
    below = np.zeros_like(lungs)
    rows, cols = np.nonzero(lungs.any(axis=1))[0], np.nonzero(lungs.any(axis=0))[0]
    if rows.size:
        below[rows[-1] : min(gh, rows[-1] + round(0.1 * gh)), cols[0] : cols[-1] + 1] = True
    lab[(hull & ~lungs) | heart | border | below] = IGNORE
    return resize_image(lab, size, size, order=0)


def _pseudo_examples(
    paths: Sequence[Path], size: int, min_confidence: float
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from core.anatomy import locate
    from core.io import load_radiograph

    images, labels, used = [], [], []
    for path in paths:
        radiograph = load_radiograph(path)
        anatomy = locate(radiograph, explain_failures=False)
        if anatomy.confidence < min_confidence:
            continue
        r = anatomy.regions
        lab = pseudo_label(
            r["right_lung"].mask, r["left_lung"].mask, r["cardiac_silhouette"].mask, size
        )
        images.append(resize_image(radiograph.image, size, size, order=1))
        labels.append(lab)
        used.append(Path(path).name)
    if not used:
        return np.zeros((0, size, size), np.float32), np.zeros((0, size, size), np.uint8), used
    return np.stack(images), np.stack(labels), used


# ---------------------------------------------------------------------------- augmentation


def augment(
    image: np.ndarray, label: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One random appearance and geometry draw of a (S, S) image in [0, 1] and its labels.

    Ranges are design choices, set wide so that the real films' variety (field of view,
    exposure, processing, devices) lies inside them.
    """
    s = image.shape[0]
    # geometry: patient size / field of view, aspect, positioning
    zoom = math.exp(rng.uniform(math.log(0.7), math.log(1.2)))
    aspect = math.exp(rng.uniform(-0.12, 0.12))
    angle = math.radians(rng.uniform(-8.0, 8.0))
    shift = rng.uniform(-0.08, 0.08, size=2) * s
    zy, zx = zoom * aspect, zoom / aspect
    c, si = math.cos(angle), math.sin(angle)
    # output -> input mapping (scipy affine_transform convention, (row, col))
    matrix = np.array([[c / zy, -si / zy], [si / zx, c / zx]])
    centre = np.array([(s - 1) / 2.0, (s - 1) / 2.0])
    offset = centre - matrix @ (centre + shift)
    if rng.random() < 0.5:
        img = ndi.affine_transform(image, matrix, offset, order=1, mode="nearest")
    else:
        fill = float(rng.uniform(0.0, 0.35))
        img = ndi.affine_transform(image, matrix, offset, order=1, mode="constant", cval=fill)
    lab = ndi.affine_transform(label, matrix, offset, order=0, mode="constant", cval=0)

    # tone: gamma, a random monotone curve, a window
    img = np.clip(img, 0.0, 1.0) ** math.exp(rng.uniform(math.log(0.5), math.log(2.0)))
    knots = np.sort(rng.uniform(0.0, 1.0, 4))
    alpha = rng.uniform(0.0, 0.6)
    curve_y = (1 - alpha) * np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0]) + alpha * np.r_[0, knots, 1]
    img = np.interp(img, np.linspace(0.0, 1.0, 6), curve_y)
    lo, hi = rng.uniform(0.0, 0.2), rng.uniform(0.8, 1.0)
    img = np.clip((img - lo) / (hi - lo), 0.0, 1.0)
    # processing: edge enhancement or blur, illumination gradient
    if rng.random() < 0.5:
        sigma = rng.uniform(1.0, 4.0) * s / 128
        img = img + rng.uniform(0.2, 1.5) * (img - ndi.gaussian_filter(img, sigma))
    if rng.random() < 0.4:
        img = ndi.gaussian_filter(img, rng.uniform(0.3, 1.0) * s / 128)
    if rng.random() < 0.3:
        yy, xx = np.mgrid[0:s, 0:s] / s
        t = rng.uniform(0, 2 * math.pi)
        img = img + rng.uniform(0.03, 0.12) * (math.cos(t) * (xx - 0.5) + math.sin(t) * (yy - 0.5))
    img = _devices(np.clip(img, 0.0, 1.0), rng)
    img = _collimation(img, rng)
    if rng.random() < 0.7:
        img = img + rng.normal(0.0, rng.uniform(0.005, 0.04), img.shape)
    return np.clip(img, 0.0, 1.0).astype(np.float32), lab.astype(np.uint8)


def _devices(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bright wires and tubes, ECG electrodes, burnt-in text blocks."""
    s = img.shape[0]
    if rng.random() > 0.6:
        return img
    canvas = Image.new("L", (s, s), 0)
    draw = ImageDraw.Draw(canvas)
    for _ in range(rng.integers(0, 4)):
        pts = np.cumsum(rng.normal(0, s * 0.12, (5, 2)), axis=0) + rng.uniform(0, s, 2)
        width = int(rng.integers(1, 3))
        draw.line([tuple(p) for p in pts], fill=int(rng.integers(180, 256)), width=width)
    for _ in range(rng.integers(0, 5)):
        x, y = rng.uniform(0.1, 0.9, 2) * s
        r = rng.uniform(1.5, 4.0) * s / 128
        draw.ellipse((x - r, y - r, x + r, y + r), outline=255, width=1)
    if rng.random() < 0.4:
        x0, y0 = rng.choice([0.02, 0.75]) * s, rng.choice([0.02, 0.9]) * s
        for k in range(int(rng.integers(2, 8))):
            draw.rectangle((x0 + 4 * k, y0, x0 + 4 * k + 2, y0 + 5), fill=255)
    marks = np.asarray(canvas, np.float32) / 255.0
    return np.maximum(img, marks)


def _collimation(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bands of constant value along some image edges (collimator shadows, padding)."""
    if rng.random() > 0.4:
        return img
    s = img.shape[0]
    out = img.copy()
    value = float(rng.choice([rng.uniform(0.0, 0.1), rng.uniform(0.8, 1.0)]))
    for side in range(4):
        if rng.random() < 0.5:
            continue
        k = int(rng.uniform(0.0, 0.12) * s)
        if k == 0:
            continue
        if side == 0:
            out[:k] = value
        elif side == 1:
            out[-k:] = value
        elif side == 2:
            out[:, :k] = value
        else:
            out[:, -k:] = value
    return out


class _AugmentedSet(torch.utils.data.Dataset):
    """Examples re-randomised per epoch from ``(seed, epoch, index)`` (resumable, reproducible)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, cfg: SegmenterConfig, seed: int):
        self.images, self.labels, self.cfg, self.seed = images, labels, cfg, seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([self.seed, self.epoch, i])
        img, lab = augment(self.images[i], self.labels[i], rng)
        x = preprocess(img, self.cfg)
        return torch.from_numpy(x)[None], torch.from_numpy(lab.astype(np.int64))


def _fixed_val(images: np.ndarray, labels: np.ndarray, cfg: SegmenterConfig, seed: int):
    """The validation phantoms, each under one fixed randomisation."""
    xs, ys = [], []
    for i in range(len(images)):
        img, lab = augment(images[i], labels[i], np.random.default_rng([seed, 10**6, i]))
        xs.append(preprocess(img, cfg))
        ys.append(lab)
    return torch.from_numpy(np.stack(xs))[:, None], torch.from_numpy(np.stack(ys).astype(np.int64))


# ---------------------------------------------------------------------------- metrics


def dice_scores(pred: np.ndarray, truth: np.ndarray, n_classes: int = len(LABELS)) -> np.ndarray:
    """Dice per foreground class (1..C-1) of two label images; 1.0 where both are empty."""
    out = []
    for k in range(1, n_classes):
        a, b = pred == k, truth == k
        denom = a.sum() + b.sum()
        out.append(1.0 if denom == 0 else 2.0 * (a & b).sum() / denom)
    return np.array(out, dtype=np.float64)


@torch.no_grad()
def _evaluate(model: UNet, x: torch.Tensor, y: torch.Tensor, batch: int) -> dict[str, float]:
    model.eval()
    preds = torch.cat([model(x[i : i + batch]).argmax(1) for i in range(0, len(x), batch)])
    scores = np.mean(
        [dice_scores(p.numpy(), t.numpy()) for p, t in zip(preds, y, strict=True)], axis=0
    )
    return {f"dice_{name}": float(v) for name, v in zip(LABELS[1:], scores, strict=True)}


# ---------------------------------------------------------------------------- loop


def _cached(path: Path, make: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    data = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **data)
    tmp.replace(path)
    return data


def train_segmenter(
    cfg: SegmenterTrainConfig,
    *,
    resume: bool = False,
    card: Callable[[TrainResult, dict], str] | None = None,
) -> TrainResult:
    """Train, validate, stop early and save the best weights to ``cfg.out_dir``.

    With ``resume`` the run continues from ``work_dir/state.pt`` (same config required).
    ``card(result, training_data)`` returns the model card text (default: a short one).
    """
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    from core.models.checkpoint import save_pretrained

    start = time.time()
    torch.set_num_threads(cfg.threads)
    set_seed(cfg.seed)
    accelerator = Accelerator(cpu=True)
    s = cfg.model.input_size
    train_seeds = list(range(cfg.seed * 10**6, cfg.seed * 10**6 + cfg.n_phantoms))
    val_seeds = list(range(cfg.seed * 10**6 + 900_000, cfg.seed * 10**6 + 900_000 + cfg.n_val))

    def make(seeds):
        return lambda: dict(zip(("images", "labels"), phantom_examples(seeds, s), strict=True))

    logger.info(
        "phantoms: %d train, %d val (cached in %s)", len(train_seeds), len(val_seeds), cfg.work_dir
    )
    train = _cached(
        cfg.work_dir / f"phantoms_{train_seeds[0]}_{len(train_seeds)}_{s}.npz", make(train_seeds)
    )
    val = _cached(
        cfg.work_dir / f"phantoms_{val_seeds[0]}_{len(val_seeds)}_{s}.npz", make(val_seeds)
    )
    images, labels = train["images"], train["labels"]
    used: list[str] = []
    if cfg.pseudo_images:
        names = "\n".join(sorted(p.name for p in cfg.pseudo_images))
        key = zlib.crc32(names.encode())

        def make_pseudo() -> dict[str, np.ndarray]:
            imgs, labs, names = _pseudo_examples(cfg.pseudo_images, s, cfg.pseudo_min_confidence)
            return {"images": imgs, "labels": labs, "names": np.array(names, dtype=str)}

        pseudo = _cached(
            cfg.work_dir / f"pseudo_{key}_{cfg.pseudo_min_confidence}_{s}.npz", make_pseudo
        )
        used = [str(n) for n in pseudo["names"]]
        images = np.concatenate([images, pseudo["images"]])
        labels = np.concatenate([labels, pseudo["labels"]])
        logger.info("pseudo-labelled real films: %d of %d", len(used), len(cfg.pseudo_images))

    dataset = _AugmentedSet(images, labels, cfg.model, cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=cfg.batch_size, shuffle=True, generator=generator, drop_last=True
    )
    model = UNet(cfg.model)
    optimiser = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * len(loader)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=cfg.lr, total_steps=steps, pct_start=0.1
    )
    model, optimiser, loader, scheduler = accelerator.prepare(model, optimiser, loader, scheduler)
    val_x, val_y = _fixed_val(val["images"], val["labels"], cfg.model, cfg.seed)

    state_path = cfg.work_dir / "state.pt"
    history: list[dict[str, float]] = []
    best, best_epoch, first_epoch = -1.0, -1, 0
    if resume and state_path.is_file():
        state = torch.load(state_path, weights_only=False)
        if state["config"] != _config_key(cfg):
            raise ValueError(f"{state_path}: saved for a different configuration; drop --resume")
        accelerator.unwrap_model(model).load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        history, best, best_epoch = state["history"], state["best"], state["best_epoch"]
        first_epoch = state["epoch"] + 1
        logger.info("resuming at epoch %d (best %.4f at %d)", first_epoch, best, best_epoch)

    for epoch in range(first_epoch, cfg.epochs):
        if best_epoch >= 0 and epoch - best_epoch > cfg.patience:
            logger.info("early stop: no better validation Dice since epoch %d", best_epoch)
            break
        dataset.epoch = epoch
        model.train()
        losses = []
        t0 = time.time()
        for x, y in loader:
            _, loss = model(x, y)
            optimiser.zero_grad()
            accelerator.backward(loss)
            optimiser.step()
            scheduler.step()
            losses.append(loss.detach().item())
        scores = _evaluate(accelerator.unwrap_model(model), val_x, val_y, cfg.batch_size)
        mean_dice = float(np.mean(list(scores.values())))
        row = {"epoch": epoch, "loss": float(np.mean(losses)), "val_dice_mean": mean_dice, **scores}
        row["seconds"] = time.time() - t0
        history.append(row)
        logger.info("epoch %d %s", epoch, {k: round(v, 4) for k, v in row.items()})
        if mean_dice > best:
            best, best_epoch = mean_dice, epoch
            _save(cfg, accelerator.unwrap_model(model), history, used, card, start, save_pretrained)
        torch.save(
            {
                "config": _config_key(cfg),
                "model": accelerator.unwrap_model(model).state_dict(),
                "optimiser": optimiser.state_dict(),
                "scheduler": scheduler.state_dict(),
                "generator": generator.get_state(),
                "history": history,
                "best": best,
                "best_epoch": best_epoch,
                "epoch": epoch,
            },
            state_path,
        )
    best_row = history[best_epoch - history[0]["epoch"]] if history else {}
    result = TrainResult(
        cfg.out_dir,
        best_epoch,
        {k[5:]: v for k, v in best_row.items() if k.startswith("dice_")},
        history,
        len(used),
        time.time() - start,
    )
    return result


def _config_key(cfg: SegmenterTrainConfig) -> dict:
    d = asdict(cfg)
    d.pop("out_dir"), d.pop("work_dir"), d.pop("threads")
    d["pseudo_images"] = sorted(Path(p).name for p in cfg.pseudo_images)
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()}


def _save(cfg, model, history, used, card, start, save_pretrained) -> None:
    best = history[-1]
    dice = {k[5:]: round(v, 4) for k, v in best.items() if k.startswith("dice_")}
    training_data = {
        "phantoms": {
            "generator": "core.synth.phantom.generate_phantom",
            "size_px": PHANTOM_PX,
            "train_seeds": [cfg.seed * 10**6, cfg.seed * 10**6 + cfg.n_phantoms - 1],
            "val_seeds": [cfg.seed * 10**6 + 900_000, cfg.seed * 10**6 + 900_000 + cfg.n_val - 1],
            "randomisation": "core.train.segmenter.augment, redrawn every epoch",
        },
        "pseudo_labelled_real": {
            "method": f"classical locate, confidence >= {cfg.pseudo_min_confidence:.2f}; lung "
            "interiors and far background only (heart, mediastinum, bases, borders ignored)",
            "images": used,
        },
    }
    result = TrainResult(cfg.out_dir, best["epoch"], dice, history, len(used), time.time() - start)
    text = card(result, training_data) if card else _default_card(cfg, result)
    save_pretrained(
        cfg.out_dir,
        model,
        cfg.model,
        model_type="segmenter",
        card=text,
        labels=LABELS,
        preprocessing={
            "input_size": cfg.model.input_size,
            "resize": "squash to square, bilinear with anti-aliasing",
            "intensity": f"percentiles {cfg.model.low_percentile}/{cfg.model.high_percentile} -> 0/1",
        },
        training_data=training_data,
        metrics={"val_dice_synthetic": dice, "epoch": best["epoch"]},
    )


def _default_card(cfg: SegmenterTrainConfig, result: TrainResult) -> str:
    return (
        f"# {cfg.name}\n\nLung and heart segmenter trained by `core.train.segmenter` on "
        f"{cfg.n_phantoms} synthetic phantoms ({result.n_pseudo} pseudo-labelled real films). "
        f"Validation Dice on randomised phantoms (synthetic): {result.val_dice}.\n"
    )


def segmenter_card(cfg: SegmenterTrainConfig, command: str) -> Callable[[TrainResult, dict], str]:
    """The model-card writer for a run started by ``command`` (the exact retrain command)."""

    def card(result: TrainResult, training_data: dict) -> str:
        dice = ", ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in result.val_dice.items())
        pseudo = (
            f"{result.n_pseudo} real NIH ChestX-ray14 films of the *tuning* half of the "
            "development sample (`core.eval.anatomy.nih_split`, seed "
            "`NIH_SPLIT_SEED`), pseudo-labelled by the classical method where it was confident "
            f"(>= {cfg.pseudo_min_confidence}): lung interiors and background far from the "
            "thorax only; the heart, mediastinum, lung bases and a band around each lung border "
            "carry no loss. The held-out half was never used."
            if result.n_pseudo
            else "none (phantoms only)"
        )
        return f"""# {cfg.name}

A small U-Net ({sum(cfg.model.widths)} channels over {len(cfg.model.widths)} levels, input
{cfg.model.input_size} x {cfg.model.input_size}) that segments the right lung, left lung and
heart of a frontal chest radiograph, for GazeScope's anatomy (`core.anatomy.locate(...,
method="learned"|"fused")`). Research software; no clinical use.

## Training data
- Synthetic phantoms with exact masks: {cfg.n_phantoms} (`core.synth.phantom`, seeds from
  {cfg.seed * 10**6}, drawn at {PHANTOM_PX} px with the default case mix of findings and
  views), each redrawn every epoch under strong appearance and geometry randomisation
  (`core.train.segmenter.augment`: zoom, aspect, rotation, shift, gamma, tone curves,
  windowing, edge enhancement, blur, noise, illumination gradients, collimation bands,
  wires/electrodes/text).
- Pseudo-labels (self-training): {pseudo}
- Validation: {cfg.n_val} other phantoms under one fixed randomisation (synthetic).

## Retrain
```
{command}
```
(AdamW, one-cycle learning rate {cfg.lr}, batch {cfg.batch_size}, at most {cfg.epochs}
epochs, early stopping after {cfg.patience} epochs without a better validation Dice; seeded
and resumable with `--resume`.) This run: best epoch {result.best_epoch}, {result.seconds / 60:.1f}
min wall time on this machine.

## Metrics
- Validation Dice on randomised phantoms (synthetic, printed by the command above): {dice}.
- On real films: `gazescope anatomy-eval --nih ../shared/data/nih-cxr14-sample --method all
  --split held_out` (CTR AUC, agreement with the classical method); figures in the README's
  anatomy section.

## Intended use and limits
- Input: one frontal (PA or AP) chest radiograph, any size, display convention (bone
  bright); the film is squashed to a square, so very non-square images lose detail.
- Output: softmax over background / right lung / left lung / heart; `core.anatomy` turns it
  into masks, checks plausibility and lowers the confidence with reasons when it is unsure.
- Trained on synthetic anatomy and on the classical method's own real-film outlines: it has
  never seen a human-drawn mask. Lung fields follow the
  phantom convention (the anatomical field, including opaque lung), not the aerated field.
- Not for lateral views, children, or any clinical decision.
"""

    return card


PHANTOM_EVAL_SEED = 7_000_000  # phantom seeds for evaluation: far from every training range


def phantom_anatomy_errors(
    n: int,
    locate_methods: Callable[[np.ndarray], dict],
    *,
    size_px: int = 512,
    seed: int = PHANTOM_EVAL_SEED,
) -> dict[str, dict[str, np.ndarray]]:
    """Dice per structure and CTR error against the phantoms' exact truth (synthetic).

    ``locate_methods(image) -> {method: Anatomy}`` (e.g. ``core.anatomy.locate_all`` with the
    segmenter). Returns ``{method: {"right_lung" | "left_lung" | "heart": Dices (n,),
    "ctr_error": (n,) signed CTR minus true CTR (nan where none), "confidence": (n,)}}``.
    """
    from core.synth.phantom import PhantomConfig, generate_phantom

    cfg = PhantomConfig(height_px=size_px, width_px=size_px)
    out: dict[str, dict[str, list[float]]] = {}
    for i in range(n):
        p = generate_phantom(seed + i, config=cfg)
        truth = np.zeros(p.image.shape, np.uint8)
        for k, name in enumerate(("right_lung", "left_lung", "heart"), start=1):
            truth[p.anatomy[name]] = k
        for method, anatomy in locate_methods(p.image).items():
            pred = anatomy.label_image(*p.image.shape)
            row = out.setdefault(method, {})
            for name, d in zip(
                ("right_lung", "left_lung", "heart"), dice_scores(pred, truth), strict=True
            ):
                row.setdefault(name, []).append(float(d))
            ctr = anatomy.measurements.get("cardiothoracic_ratio")
            row.setdefault("ctr_error", []).append(
                float(ctr.value - p.ctr) if ctr is not None else math.nan
            )
            row.setdefault("confidence", []).append(float(anatomy.confidence))
    return {m: {k: np.array(v) for k, v in row.items()} for m, row in out.items()}
