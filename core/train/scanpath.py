"""Training of the scanpath model (``core.models.scanpath``) with Hugging Face Accelerate.

``gazescope train scanpath --dataset {synthetic,reflacx,egd} --root DIR --out DIR`` calls
:func:`train`. Runs on the CPU by default; under ``accelerate launch`` on several GPUs/machines
the same code runs data-parallel (Accelerate shards the image batches).

Data: every image of the dataset with at least one read and a local image file becomes one
:class:`ScanpathExample` (the image preprocessed to the model's input, the anatomy features,
and each read's fixations, query and optional text embedding). Preparing means decoding each
image and running ``core.anatomy.locate`` once; the result is cached in a file
(``--cache``, default ``<out>/data_cache.pt``) keyed by the image ids and model input size, so
a resumed run, or another seed of the same ablation, starts at once.

Splits: the dataset's own (REFLACX / the synthetic corpus: ``train`` / ``validate`` /
``test``, by image, so all reads of an image - and, in the synthetic corpus and REFLACX, all
images of a patient - stay in one split). EGD-CXR has no split column: images are assigned by a
CRC-32 of the patient id (80 / 10 / 10), so a patient's images stay together. Training uses
``train``, early stopping ``validate``; ``test`` is never read here.

Batches are *images* (``batch_images``) with all their reads: the encoder runs once per image.
Each epoch ends with the validation loss (the same negative log-likelihood as training, without
dropout, query dropout off: reads decode without their query for a fair "no-hint" figure);
the best epoch is written with ``save_pretrained``; ``patience`` epochs without improvement stop
the run. ``resume=True`` continues from ``<out>/state`` (model, optimiser, scheduler, RNG
states via ``Accelerator.save_state``, plus ``<out>/state/progress.json``).
"""

from __future__ import annotations

import json
import logging
import math
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.data.case import GazeCase
from core.errors import GazeScopeError
from core.models.scanpath import (
    MODEL_TYPE,
    TEXT_DIM,
    ScanpathBatch,
    ScanpathConfig,
    ScanpathModel,
    anatomy_features,
    preprocess_image,
    query_vector,
)

logger = logging.getLogger(__name__)

__all__ = [
    "DATASETS",
    "ScanpathExample",
    "TrainConfig",
    "TrainResult",
    "collate",
    "load_training_cases",
    "prepare_examples",
    "split_examples",
    "train",
    "validation_loss",
]

DATASETS: tuple[str, ...] = ("synthetic", "reflacx", "egd")
_CACHE_VERSION = 1
_EGD_SPLIT = (("train", 0.8), ("validate", 0.1), ("test", 0.1))


@dataclass
class ScanpathRead:
    xy: np.ndarray  # (n, 2) float32 normalised
    log_duration: np.ndarray  # (n,) float32, log seconds
    query: np.ndarray  # (F,) multi-hot of the findings this reader reported
    text: np.ndarray | None = None  # (TEXT_DIM,) report embedding
    reader_id: str = ""


@dataclass
class ScanpathExample:
    """One image prepared for the model, with every read of it."""

    image_id: str
    split: str
    image: np.ndarray  # (S, S) float32, preprocess_image output
    regions: np.ndarray | None  # (R, G, G) float32 anatomy features
    reads: list[ScanpathRead] = field(default_factory=list)
    source: str = ""  # e.g. "phantom" / "nih" for the synthetic corpus


@dataclass
class TrainConfig:
    dataset: str
    root: Path
    out: Path
    images: Path | None = None
    epochs: int = 40
    batch_images: int = 16
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup_steps: int = 50
    grad_clip: float = 1.0
    patience: int = 6
    seed: int = 0
    threads: int = 1
    device: str = "cpu"  # "cpu", "cuda" or "auto" (CUDA when present)
    limit: int | None = None  # at most this many cases (tests, quick runs)
    cache: Path | None = None
    resume: bool = False
    progress: bool = True
    command: str = ""  # the command line, recorded in the model card


@dataclass
class TrainResult:
    out: Path
    best_epoch: int
    best_val: float
    epochs_run: int
    history: list[dict[str, float]]
    seconds: float


# --------------------------------------------------------------------------------------------
# Data


def load_training_cases(dataset: str, root: str | Path, *, images: str | Path | None = None,
                        limit: int | None = None) -> list[GazeCase]:
    """Read a dataset through the dataset registry (``core.data.datasets.load_cases``)."""
    from core.data.datasets import load_cases

    if dataset not in DATASETS:
        raise GazeScopeError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
    if not Path(root).is_dir():
        raise GazeScopeError(f"{root}: dataset folder not found")
    return load_cases(dataset, root, images=images, limit=limit)


def _split_of(case: GazeCase) -> str:
    if case.split:
        s = case.split.split("|")[0]
        return {"val": "validate", "validation": "validate"}.get(s, s)
    key = str(case.meta.get("patient_id") or case.meta.get("subject_id") or case.case_id)
    u = zlib.crc32(key.encode()) / 2**32
    acc = 0.0
    for name, frac in _EGD_SPLIT:
        acc += frac
        if u < acc:
            return name
    return _EGD_SPLIT[-1][0]


def _source_of(case: GazeCase, truth_sources: dict[str, str]) -> str:
    return truth_sources.get(case.case_id, case.dataset)


def _corpus_sources(root: Path) -> dict[str, str]:
    """``dicom_id -> "phantom" | "nih"`` from a synthetic corpus's ``cases.csv`` (if any)."""
    path = root / "cases.csv"
    if not path.is_file():
        return {}
    import csv

    with path.open(newline="") as f:
        return {row["dicom_id"]: row.get("source", "") for row in csv.DictReader(f)}


def prepare_examples(
    cases: Sequence[GazeCase],
    model_config: ScanpathConfig,
    *,
    cache: Path | None = None,
    sources: dict[str, str] | None = None,
    text_encoder: Any = None,
    write_cache: bool = True,
) -> list[ScanpathExample]:
    """Decode, preprocess and locate anatomy once per image (cached); attach every read.

    Cases without a local image or without any fixation are skipped (counted in the log).
    ``text_encoder``: a callable ``list[str] -> (n, TEXT_DIM)`` array, needed only when the
    model uses report text. ``write_cache=False`` (non-main processes of a distributed run)
    reads the cache but never writes it.
    """
    from core.anatomy import locate
    from core.io import load_radiograph

    size, grid = model_config.image_size, model_config.grid
    store: dict[str, dict[str, Any]] = {}
    key = {"version": _CACHE_VERSION, "size": size, "grid": grid,
           "regions": list(model_config.regions)}
    if cache is not None and cache.is_file():
        blob = torch.load(cache, weights_only=False)
        if blob.get("key") == key:
            store = blob["images"]
        else:
            logger.info("%s: cache made for other settings, rebuilding", cache)
    changed = False
    examples: list[ScanpathExample] = []
    n_no_image = n_no_fix = 0
    t0 = time.perf_counter()
    for case in cases:
        reads = [r for r in case.reads if len(r.scanpath) > 0]
        if not reads:
            n_no_fix += 1
            continue
        entry = store.get(case.case_id)
        need_regions = model_config.use_anatomy and (entry is None or entry.get("regions") is None)
        if entry is None or need_regions:
            if case.image.path is None:
                n_no_image += 1
                continue
            radiograph = load_radiograph(case.image.path)
            entry = {"image": preprocess_image(radiograph.image, size)[0].numpy().astype(np.float16)}
            if model_config.use_anatomy:
                entry["regions"] = anatomy_features(locate(radiograph), grid,
                                                    model_config.regions).astype(np.float16)
            store[case.case_id] = entry
            changed = True
        ex = ScanpathExample(
            case.case_id,
            _split_of(case),
            entry["image"].astype(np.float32),
            entry["regions"].astype(np.float32) if model_config.use_anatomy else None,
            source=(sources or {}).get(case.case_id, case.dataset),
        )
        for r in reads:
            a = r.scanpath.to_array()
            ex.reads.append(ScanpathRead(
                a[:, :2].astype(np.float32).clip(0.0, 1.0),
                np.log(np.maximum(a[:, 3], 0.01)).astype(np.float32),
                query_vector({f: v for f, v in r.labels.items() if f in model_config.labels},
                             model_config.labels),
                reader_id=r.reader_id,
            ))
        if model_config.use_text:
            texts = [r.report.text if r.report else "" for r in reads]
            emb = _embed_texts(texts, text_encoder)
            for rd, e in zip(ex.reads, emb, strict=True):
                rd.text = e
        examples.append(ex)
    if changed and cache is not None and write_cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"key": key, "images": store}, cache)
    logger.info("prepared %d image(s) in %.1f s; skipped %d without a local image, %d without "
                "fixations", len(examples), time.perf_counter() - t0, n_no_image, n_no_fix)
    return examples


def _embed_texts(texts: list[str], text_encoder: Any) -> np.ndarray:
    if text_encoder is None:
        from core.models.scanpath import text_embedding

        return text_embedding(texts)
    return np.asarray(text_encoder(texts), np.float32).reshape(len(texts), TEXT_DIM)


def split_examples(examples: Sequence[ScanpathExample]) -> dict[str, list[ScanpathExample]]:
    out: dict[str, list[ScanpathExample]] = {}
    for ex in examples:
        out.setdefault(ex.split, []).append(ex)
    return out


def collate(examples: Sequence[ScanpathExample], config: ScanpathConfig, *,
            rng: np.random.Generator | None = None) -> ScanpathBatch:
    """Images and their reads into one padded batch; with ``rng``, queries/texts are dropped
    at the config's rates (training); without, every query and text is dropped (validation
    measures the model reading without hints)."""
    L = config.max_fixations
    reads = [(i, r) for i, ex in enumerate(examples) for r in ex.reads]
    n = len(reads)
    xy = np.zeros((n, L, 2), np.float32)
    logd = np.full((n, L), config.log_duration_mean, np.float32)
    length = np.zeros(n, np.int64)
    query = np.zeros((n, len(config.labels)), np.float32)
    text = np.zeros((n, TEXT_DIM), np.float32)
    for j, (_, r) in enumerate(reads):
        m = min(len(r.xy), L)
        xy[j, :m], logd[j, :m], length[j] = r.xy[:m], r.log_duration[:m], len(r.xy)
        if rng is not None and rng.random() >= config.query_dropout:
            query[j] = r.query
        if r.text is not None and rng is not None and rng.random() >= config.text_dropout:
            text[j] = r.text
    regions = None
    if config.use_anatomy:
        regions = torch.from_numpy(np.stack([ex.regions for ex in examples]))
    return ScanpathBatch(
        image=torch.from_numpy(np.stack([ex.image for ex in examples]))[:, None],
        read_image=torch.tensor([i for i, _ in reads], dtype=torch.long),
        xy=torch.from_numpy(xy),
        log_duration=torch.from_numpy(logd),
        length=torch.from_numpy(length),
        regions=regions,
        query=torch.from_numpy(query) if config.use_query else None,
        text=torch.from_numpy(text) if config.use_text else None,
    )


class _ImageBatches(torch.utils.data.Dataset):
    def __init__(self, examples: Sequence[ScanpathExample]) -> None:
        self.examples = list(examples)

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> ScanpathExample:
        return self.examples[i]


class _Collate:
    """Picklable collate with its own seeded generator (query/text dropout)."""

    def __init__(self, config: ScanpathConfig, seed: int) -> None:
        self.config, self.rng = config, np.random.default_rng(seed)

    def __call__(self, examples: list[ScanpathExample]) -> ScanpathBatch:
        return collate(examples, self.config, rng=self.rng)


@torch.no_grad()
def validation_loss(model: ScanpathModel, examples: Sequence[ScanpathExample], *,
                    batch_images: int = 16, device: torch.device | str = "cpu"
                    ) -> dict[str, float]:
    """Loss terms averaged over the fixations of ``examples`` (eval mode, no hints)."""
    was = model.training
    model.eval()
    sums: dict[str, float] = {}
    weight = 0
    for i in range(0, len(examples), batch_images):
        batch = collate(examples[i: i + batch_images], model.config).to(device)
        out = model(batch)
        for k, v in out.losses.items():
            sums[k] = sums.get(k, 0.0) + v * out.n_fixations
        sums["loss"] = sums.get("loss", 0.0) + float(out.loss) * out.n_fixations
        weight += out.n_fixations
    model.train(was)
    return {k: v / max(weight, 1) for k, v in sums.items()}


# --------------------------------------------------------------------------------------------
# Training


def _lr_lambda(warmup: int, total: int) -> Any:
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        p = min(1.0, (step - warmup) / max(1, total - warmup))
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p))

    return f


def train(tc: TrainConfig, model_config: ScanpathConfig | None = None) -> TrainResult:
    """Train (or resume) a scanpath model; the best epoch is saved to ``tc.out``."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm

    from core.models.checkpoint import save_pretrained

    t_start = time.perf_counter()
    torch.set_num_threads(max(1, tc.threads))
    cpu = tc.device == "cpu" or (tc.device == "auto" and not torch.cuda.is_available())
    if tc.device == "cuda" and not torch.cuda.is_available():
        raise GazeScopeError("--device cuda: no CUDA device is available")
    accelerator = Accelerator(cpu=cpu)
    set_seed(tc.seed)
    out = Path(tc.out)
    state_dir = out / "state"
    model_config = model_config or ScanpathConfig()
    if tc.resume:
        if not (state_dir / "progress.json").is_file():
            raise GazeScopeError(f"{state_dir}: nothing to resume (no progress.json)")
        progress = json.loads((state_dir / "progress.json").read_text())
        model_config = ScanpathConfig(**progress["model_config"])
    cases = load_training_cases(tc.dataset, tc.root, images=tc.images, limit=tc.limit)
    examples = prepare_examples(cases, model_config, cache=tc.cache or out / "data_cache.pt",
                                sources=_corpus_sources(Path(tc.root)),
                                write_cache=accelerator.is_main_process)
    splits = split_examples(examples)
    train_ex, val_ex = splits.get("train", []), splits.get("validate", [])
    if not train_ex:
        raise GazeScopeError(
            f"{tc.root}: no training images with gaze and a local image file "
            f"(splits found: {sorted(splits) or 'none'}; pass --images if they live elsewhere)")
    if not val_ex:
        logger.warning("no validation split: early stopping watches the training loss")
    model = ScanpathModel(model_config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    g = torch.Generator().manual_seed(tc.seed)
    loader = torch.utils.data.DataLoader(
        _ImageBatches(train_ex), batch_size=tc.batch_images, shuffle=True, generator=g,
        collate_fn=_Collate(model_config, tc.seed), drop_last=False,
    )
    total_steps = tc.epochs * math.ceil(len(train_ex) / tc.batch_images)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer,
                                                  _lr_lambda(tc.warmup_steps, total_steps))
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    start_epoch, best, best_epoch, bad, history = 0, math.inf, -1, 0, []
    if tc.resume:
        accelerator.load_state(str(state_dir))
        start_epoch, best = progress["epoch"] + 1, progress["best"]
        best_epoch, bad, history = progress["best_epoch"], progress["bad"], progress["history"]
        logger.info("resumed from %s at epoch %d (best %.4f)", state_dir, start_epoch, best)
    logger.info("training %s: %d train / %d validation images, %d parameters, %d process(es)",
                MODEL_TYPE, len(train_ex), len(val_ex),
                accelerator.unwrap_model(model).num_parameters(), accelerator.num_processes)
    epoch = start_epoch - 1
    for epoch in range(start_epoch, tc.epochs):
        if bad >= tc.patience:
            break
        model.train()
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{tc.epochs}", leave=False,
                   disable=not (tc.progress and accelerator.is_local_main_process))
        run_loss, n_batches = 0.0, 0
        for batch in bar:
            out_b = model(batch.to(accelerator.device))
            accelerator.backward(out_b.loss)
            if tc.grad_clip:
                accelerator.clip_grad_norm_(model.parameters(), tc.grad_clip)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            run_loss += float(out_b.loss.detach())
            n_batches += 1
            bar.set_postfix(loss=f"{run_loss / n_batches:.3f}",
                            val=f"{best:.3f}" if math.isfinite(best) else "-")
        # every process saw its own shard of the batches: the epoch's loss is over all of them
        sums = accelerator.reduce(torch.tensor([run_loss, float(n_batches)], device=accelerator.device),
                                  reduction="sum")
        run_loss, n_batches = float(sums[0]), int(sums[1])
        unwrapped = accelerator.unwrap_model(model)
        val = validation_loss(unwrapped, val_ex or train_ex, batch_images=tc.batch_images,
                              device=accelerator.device)
        row = {"epoch": epoch + 1, "train_loss": run_loss / max(n_batches, 1),
               **{f"val_{k}": v for k, v in val.items()}}
        history.append(row)
        improved = val["loss"] < best - 1e-4
        if improved:
            best, best_epoch, bad = val["loss"], epoch + 1, 0
        else:
            bad += 1
        if accelerator.is_main_process:
            logger.info("epoch %d: train %.4f, val %.4f (xy %.4f, duration %.4f, stop %.4f)%s",
                        epoch + 1, row["train_loss"], val["loss"], val["xy"], val["duration"],
                        val["stop"], " *" if improved else "")
            if tc.progress:
                tqdm.write(f"epoch {epoch + 1}: train loss {row['train_loss']:.4f}, "
                           f"val loss {val['loss']:.4f} (xy {val['xy']:.3f})"
                           + ("  best" if improved else ""))
            if improved:
                save_pretrained(
                    out, unwrapped, model_config, model_type=MODEL_TYPE,
                    card=model_card(tc, model_config, train_ex, val_ex, history, best_epoch,
                                    unwrapped.num_parameters()),
                    labels=model_config.labels,
                    preprocessing=_preprocessing(model_config),
                    training_data=_training_data(tc, train_ex, val_ex),
                    metrics={"best_epoch": best_epoch, "val_loss": best,
                             **{k: v for k, v in row.items() if k.startswith("val_")}},
                )
        accelerator.wait_for_everyone()
        accelerator.save_state(str(state_dir))
        if accelerator.is_main_process:
            (state_dir / "progress.json").write_text(json.dumps({
                "epoch": epoch, "best": best, "best_epoch": best_epoch, "bad": bad,
                "history": history, "model_config": model_config.to_dict(),
                "processes": accelerator.num_processes,
            }, indent=1))
    return TrainResult(out, best_epoch, best, epoch + 1 - start_epoch if history else 0,
                       history, time.perf_counter() - t_start)


def _preprocessing(c: ScanpathConfig) -> dict[str, Any]:
    return {
        "input": "display image in [0, 1] (core.io.load_radiograph), whole image resized "
                 "(anti-aliased bilinear) to a square, then standardised per image",
        "image_size": c.image_size,
        "anatomy": "core.anatomy.locate region masks pooled to the token grid; zeros when "
                   "confidence < 0.5" if c.use_anatomy else None,
        "text": "all-MiniLM-L6-v2 mean-pooled sentence embedding" if c.use_text else None,
    }


def _training_data(tc: TrainConfig, train_ex: Sequence[ScanpathExample],
                   val_ex: Sequence[ScanpathExample]) -> dict[str, Any]:
    def count(exs: Sequence[ScanpathExample]) -> dict[str, int]:
        out: dict[str, int] = {}
        for ex in exs:
            out[ex.source] = out.get(ex.source, 0) + 1
        return out

    return {
        "dataset": tc.dataset,
        "root": Path(tc.root).name,
        "train_images": count(train_ex),
        "validate_images": count(val_ex),
        "train_reads": sum(len(ex.reads) for ex in train_ex),
        "readers": sorted({r.reader_id for ex in train_ex for r in ex.reads if r.reader_id}),
        "seed": tc.seed,
    }


def model_card(tc: TrainConfig, c: ScanpathConfig, train_ex: Sequence[ScanpathExample],
               val_ex: Sequence[ScanpathExample], history: list[dict[str, float]],
               best_epoch: int, n_params: int) -> str:
    """The model card (README.md) as training writes it: data, command, intended use, limits.
    Evaluation figures are added below it from the documented evaluation commands."""
    data = _training_data(tc, train_ex, val_ex)
    cond = [n for n, on in (("anatomy", c.use_anatomy), ("finding query", c.use_query),
                            ("report text", c.use_text)) if on]
    lines = [
        f"# {tc.out.name}: GazeScope scanpath model ({MODEL_TYPE})",
        "",
        "**Research prototype; no clinical claim.** Given a frontal chest radiograph it samples "
        "k scanpaths (fixation positions in normalised image coordinates, durations in "
        "seconds, its own length via a stop head) and a saliency map - where and for how long "
        "an expert *might* look. Architecture: `core/models/scanpath.py`.",
        "",
        "## Training",
        f"- data: `{tc.dataset}` at `{data['root']}`; training images {data['train_images']}, "
        f"validation images {data['validate_images']}; {data['train_reads']} training reads by "
        f"readers {', '.join(data['readers']) or '(not published)'}"
        + (" - **simulated radiologists (synthetic gaze)**" if tc.dataset == "synthetic" else ""),
        f"- retrain from scratch: `{tc.command or '(Python API)'}`",
        f"- {n_params:,} parameters; input {c.image_size} px; conditioning: "
        f"{', '.join(cond) or 'none'}; max {c.max_fixations} fixations",
        f"- best epoch {best_epoch} of {len(history)} run (validation loss "
        f"{min(h['val_loss'] for h in history):.4f}; early stopping patience {tc.patience})",
        "",
        "## Intended use and limits",
        "- Intended use: showing plausible expert-like reading order and dwell on a radiograph "
        "in GazeScope, and research on gaze models. Not for diagnosis, triage or any decision.",
        "- Trained on *simulated* readers' gaze (phantoms and real NIH images read by "
        "GazeScope's simulator), not on real radiologists: it imitates the simulator's "
        "checklist, detection and dwell rules, including their biases.",
        "- Frontal adult films (PA/AP) only; the anatomy input is zeroed when "
        "`core.anatomy.locate` is not confident (rotated, lateral, unusual framing).",
        "- The finding query and report text are inputs, not outputs: it does not detect "
        "findings; given none, it reads as a screening reader would.",
    ]
    return "\n".join(lines) + "\n"


def replace_config(c: ScanpathConfig, **changes: Any) -> ScanpathConfig:
    """A copy of ``c`` with ``changes`` (None values ignored)."""
    return replace(c, **{k: v for k, v in changes.items() if v is not None})
