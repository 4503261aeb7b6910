"""Reference predictors built from published population statistics - no training data.

Every baseline produces ``k`` seeded scanpath samples and a saliency map, so any learned model
can be put next to them in the same table. What they know, and where it comes from
(:mod:`core.gaze.published`: GAZE_FACTS section 2, figures from the public GazeSearch
scanpaths of REFLACX/EGD-CXR radiologists):

=================  ==========================================================================
``centre``         every fixation at the image centre (0.5, 0.5); saliency: one Gaussian there
                   with the evaluation's 1-degree fallback sigma (:data:`DEGREE_OF_HEIGHT`)
``centre-bias``    fixations drawn independently (no saccade model) from the real fixation
                   spread: mean (0.52, 0.48), SD (0.22, 0.17) of the image, a normal truncated
                   to the image whose parameters are fitted so that the *truncated* mean/SD are
                   the published ones (the published figures describe on-image fixations);
                   saliency: that density integrated over each grid cell
``abcdef``         a fixed systematic-search template (:data:`ABCDEF_TEMPLATE`): airway, lungs
                   upper to lower alternating right/left, hila and heart, hemidiaphragms and
                   costophrenic angles, then bones and soft tissue; each fixation jittered by
                   :data:`ABCDEF_JITTER` image widths; saliency: the Gaussian mixture of the
                   stations visited
``uniform``        positions uniform over the image; saliency: the uniform density
=================  ==========================================================================

Durations (all baselines): a lognormal fitted by least squares in log space to the published
median 0.28 s, mean 0.32 s and 5-95 % range 0.13-0.63 s (:func:`fit_lognormal`): mu = -1.2575,
sigma = 0.4800, i.e. median 0.284 s, mean 0.319 s, 5 % 0.129 s, 95 % 0.626 s - every statistic
within 2 % of the published one (``python -m core.models.baselines`` prints the fit). Fixation
``k`` starts when fixation ``k - 1`` ends (saccade time unknown, counted as zero).

Scanpath length: ``config.n_fixations`` when set, else the request's ``n_fixations`` (the
evaluation runner passes the median human scanpath length of the image, so length alone does
not decide MultiMatch/ScanMatch), else :data:`DEFAULT_N_FIXATIONS` (EGD-CXR's roughly 45
fixations per full read).

Sides: image x grows to the right; on a frontal film in radiological convention the
*patient's* right lung is on the image's left (small x).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from scipy.optimize import least_squares
from scipy.special import ndtr, ndtri
from scipy.stats import truncnorm

from core.data.case import ImageRef
from core.gaze.maps import gaussian_heatmap
from core.gaze.published import (
    DEFAULT_N_FIXATIONS,
    DEGREE_OF_HEIGHT,
    DURATION_MEAN_S,
    DURATION_MEDIAN_S,
    DURATION_Q05_S,
    DURATION_Q95_S,
    FIXATION_DURATION,
    FIXATION_POSITION_MEAN,
    FIXATION_POSITION_SD,
    LogNormal,
    fit_lognormal,
)
from core.gaze.scanpath import Scanpath
from core.models.predictor import Prediction, PredictionRequest, Predictor
from core.models.registry import register_predictor

__all__ = [
    "ABCDEF_JITTER",
    "ABCDEF_TEMPLATE",
    "DEFAULT_N_FIXATIONS",
    "DEGREE_OF_HEIGHT",
    "FIXATION_DURATION",
    "FIXATION_POSITION_MEAN",
    "FIXATION_POSITION_SD",
    "AbcdefBaseline",
    "BaselineConfig",
    "CentreBaseline",
    "CentreBiasBaseline",
    "LogNormal",
    "UniformBaseline",
    "fit_lognormal",
    "fit_truncated_normal",
]


# --------------------------------------------------------------------------------------------
# Fitted distributions


def fit_truncated_normal(
    mean: float, sd: float, lo: float = 0.0, hi: float = 1.0
) -> tuple[float, float]:
    """``(mu, sigma)`` of the normal whose truncation to ``[lo, hi]`` has this mean and SD."""

    def residuals(p: np.ndarray) -> np.ndarray:
        mu, s = p
        a, b = (lo - mu) / s, (hi - mu) / s
        return np.array(
            [
                truncnorm.mean(a, b, loc=mu, scale=s) - mean,
                truncnorm.std(a, b, loc=mu, scale=s) - sd,
            ]
        )

    fit = least_squares(residuals, x0=[mean, sd], bounds=([lo - 1, 1e-4], [hi + 1, 10]))
    return float(fit.x[0]), float(fit.x[1])


@lru_cache(maxsize=1)
def _position_normal() -> tuple[tuple[float, float], tuple[float, float]]:
    """Untruncated ``(mu, sigma)`` per axis giving the published on-image mean and SD."""
    fx = fit_truncated_normal(FIXATION_POSITION_MEAN[0], FIXATION_POSITION_SD[0])
    fy = fit_truncated_normal(FIXATION_POSITION_MEAN[1], FIXATION_POSITION_SD[1])
    return fx, fy


def _truncated_sample(rng: np.random.Generator, mu: float, s: float, n: int) -> np.ndarray:
    """Inverse-CDF samples of N(mu, s) truncated to [0, 1] (one uniform per sample)."""
    lo, hi = ndtr((0.0 - mu) / s), ndtr((1.0 - mu) / s)
    u = lo + rng.uniform(size=n) * (hi - lo)
    return np.clip(mu + s * ndtri(u), 0.0, 1.0)


def _truncated_cell_mass(mu: float, s: float, n_cells: int) -> np.ndarray:
    """Mass of N(mu, s) truncated to [0, 1] in each of ``n_cells`` equal cells."""
    edges = ndtr((np.linspace(0.0, 1.0, n_cells + 1) - mu) / s)
    mass = np.diff(edges)
    return mass / mass.sum()


# --------------------------------------------------------------------------------------------
# The ABCDEF template

# Stations of a systematic read of a frontal film, in order, as (region id, x, y) normalised to
# the image. Hand-placed on the mean of the 322 NIH ChestX-ray14 sample radiographs
# (shared/data/nih-cxr14-sample, 512 px) and checked on nine normal PA films of that sample:
# they fit a well-centred adult PA film and miss on rotated, AP or unusually framed ones.
# Region ids follow core.anatomy.REGION_IDS ("bones" and "soft_tissue" for E/F).
ABCDEF_TEMPLATE: tuple[tuple[str, float, float], ...] = (
    # A - airway
    ("trachea", 0.50, 0.15),
    # B - breathing: lungs upper to lower, the patient's right (image left) then left
    ("right_upper_zone", 0.30, 0.22),
    ("left_upper_zone", 0.70, 0.22),
    ("right_middle_zone", 0.28, 0.38),
    ("left_middle_zone", 0.72, 0.38),
    ("right_lower_zone", 0.28, 0.52),
    ("left_lower_zone", 0.72, 0.52),
    # C - circulation: aortic knob, hila, cardiac silhouette
    ("aortic_knob", 0.56, 0.27),
    ("right_hilum", 0.40, 0.40),
    ("left_hilum", 0.60, 0.40),
    ("cardiac_silhouette", 0.55, 0.55),
    # D - diaphragm and costophrenic angles
    ("right_hemidiaphragm", 0.30, 0.63),
    ("right_costophrenic_angle", 0.14, 0.68),
    ("left_hemidiaphragm", 0.70, 0.66),
    ("left_costophrenic_angle", 0.86, 0.70),
    # E/F - everything else: clavicles, lateral ribs, spine, soft tissue below the diaphragm
    ("bones", 0.28, 0.12),
    ("bones", 0.72, 0.12),
    ("bones", 0.10, 0.40),
    ("bones", 0.90, 0.40),
    ("spine", 0.50, 0.45),
    ("soft_tissue", 0.70, 0.80),
)
ABCDEF_JITTER = 0.03  # SD of the per-fixation jitter, in image widths (about 1 degree)


def abcdef_stations(n: int) -> np.ndarray:
    """Template index of each of ``n`` fixations: fewer than 21 visit evenly spaced stations in
    order, more dwell on each station in turn (consecutive refixations)."""
    return np.floor(np.arange(n) * len(ABCDEF_TEMPLATE) / n).astype(np.intp)


# --------------------------------------------------------------------------------------------
# Predictors


@dataclass(frozen=True)
class BaselineConfig:
    """Options shared by the baselines."""

    n_fixations: int | None = None  # per sample; None: request.n_fixations, else 45
    saliency_shape: tuple[int, int] = (64, 64)  # (gh, gw) when the request asks for none
    durations: LogNormal = FIXATION_DURATION

    def __post_init__(self) -> None:
        if self.n_fixations is not None and self.n_fixations < 1:
            raise ValueError(f"n_fixations must be >= 1 or None, got {self.n_fixations}")


class _Baseline(Predictor):
    version = "1"
    needs_image = False
    training_data = "none: published gaze statistics (core.gaze.published)"
    capabilities = frozenset({"scanpath", "saliency"})

    def __init__(self, config: BaselineConfig | None = None, **overrides: object) -> None:
        self.config = replace(config or BaselineConfig(), **overrides)

    def _positions(self, rng: np.random.Generator, n: int, image: ImageRef) -> np.ndarray:
        raise NotImplementedError

    def _saliency(self, shape: tuple[int, int], image: ImageRef, n: int) -> np.ndarray:
        raise NotImplementedError

    def n_fixations(self, request: PredictionRequest) -> int:
        return self.config.n_fixations or request.n_fixations or DEFAULT_N_FIXATIONS

    def predict(self, request: PredictionRequest) -> Prediction:
        n = self.n_fixations(request)
        scanpaths = []
        for i in range(request.k):
            # independent streams per sample (sample i is the same whatever k is) and for
            # positions and durations (every baseline draws the same durations for a seed)
            xy = self._positions(np.random.default_rng([request.seed, i, 0]), n, request.image)
            durations = self.config.durations.sample(np.random.default_rng([request.seed, i, 1]), n)
            starts = np.concatenate([[0.0], np.cumsum(durations)[:-1]])
            scanpaths.append(
                Scanpath.from_arrays(
                    xy[:, 0],
                    xy[:, 1],
                    starts,
                    durations,
                    reader_id=f"{self.name}#{i}",
                    source=self.name,
                    image_id=request.image.image_id,
                )
            )
        shape = request.saliency_shape or self.config.saliency_shape
        saliency = self._saliency(shape, request.image, n)
        return Prediction(
            image_id=request.image.image_id,
            scanpaths=scanpaths,
            saliency=saliency / saliency.sum(),
            meta={"n_fixations": n, "trained_on": "published population statistics only"},
        )


def _aspect(image: ImageRef) -> float:
    """Height over width of the original image (1 when unknown)."""
    return image.height_px / image.width_px if image.width_px > 0 else 1.0


@register_predictor("centre", kind="baseline")
class CentreBaseline(_Baseline):
    """Every fixation at the image centre."""

    name = "centre"

    def _positions(self, rng: np.random.Generator, n: int, image: ImageRef) -> np.ndarray:
        return np.full((n, 2), 0.5)

    def _saliency(self, shape: tuple[int, int], image: ImageRef, n: int) -> np.ndarray:
        sigma = np.array([[DEGREE_OF_HEIGHT * _aspect(image), DEGREE_OF_HEIGHT]])  # circular
        return gaussian_heatmap(np.array([[0.5, 0.5]]), shape, sigma)


@register_predictor("centre-bias", kind="baseline")
class CentreBiasBaseline(_Baseline):
    """Independent fixations from the published on-image fixation spread."""

    name = "centre-bias"

    def _positions(self, rng: np.random.Generator, n: int, image: ImageRef) -> np.ndarray:
        (mx, sx), (my, sy) = _position_normal()
        x = _truncated_sample(rng, mx, sx, n)
        y = _truncated_sample(rng, my, sy, n)
        return np.stack([x, y], axis=1)

    def _saliency(self, shape: tuple[int, int], image: ImageRef, n: int) -> np.ndarray:
        (mx, sx), (my, sy) = _position_normal()
        gh, gw = shape
        return np.outer(_truncated_cell_mass(my, sy, gh), _truncated_cell_mass(mx, sx, gw))


@register_predictor("abcdef", kind="baseline")
class AbcdefBaseline(_Baseline):
    """The ABCDEF checklist as a fixed template path, jittered per fixation."""

    name = "abcdef"

    def _positions(self, rng: np.random.Generator, n: int, image: ImageRef) -> np.ndarray:
        template = np.array([(x, y) for _, x, y in ABCDEF_TEMPLATE])
        xy = template[abcdef_stations(n)]
        jitter = rng.normal(size=(n, 2)) * ABCDEF_JITTER * np.array([1.0, 1.0 / _aspect(image)])
        return np.clip(xy + jitter, 0.0, 1.0)

    def _saliency(self, shape: tuple[int, int], image: ImageRef, n: int) -> np.ndarray:
        template = np.array([(x, y) for _, x, y in ABCDEF_TEMPLATE])
        stations = abcdef_stations(n)
        sigma = np.array([ABCDEF_JITTER, ABCDEF_JITTER / _aspect(image)])
        return gaussian_heatmap(
            template[stations], shape, np.broadcast_to(sigma, (n, 2)), normalise=None
        )


@register_predictor("uniform", kind="baseline")
class UniformBaseline(_Baseline):
    """Positions uniform over the image; the uniform density as saliency."""

    name = "uniform"

    def _positions(self, rng: np.random.Generator, n: int, image: ImageRef) -> np.ndarray:
        return rng.uniform(size=(n, 2))

    def _saliency(self, shape: tuple[int, int], image: ImageRef, n: int) -> np.ndarray:
        return np.full(shape, 1.0 / (shape[0] * shape[1]))


def describe_fits() -> str:
    """The fitted distributions next to the published figures they come from."""
    d = FIXATION_DURATION
    (mx, sx), (my, sy) = _position_normal()
    lines = [
        f"fixation duration: lognormal mu={d.mu:.4f} sigma={d.sigma:.4f}",
        f"  median {d.median:.3f} s (published {DURATION_MEDIAN_S}), mean {d.mean:.3f} s "
        f"({DURATION_MEAN_S}), 5 % {d.quantile(0.05):.3f} s ({DURATION_Q05_S}), "
        f"95 % {d.quantile(0.95):.3f} s ({DURATION_Q95_S})",
        f"fixation position: normal truncated to [0, 1], x mu={mx:.4f} sigma={sx:.4f}, "
        f"y mu={my:.4f} sigma={sy:.4f}",
        f"  -> on-image mean ({FIXATION_POSITION_MEAN[0]}, {FIXATION_POSITION_MEAN[1]}), "
        f"SD ({FIXATION_POSITION_SD[0]}, {FIXATION_POSITION_SD[1]}) as published",
        f"fallback 1-degree sigma: {DEGREE_OF_HEIGHT:.4f} of the image height",
    ]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - prints the fits for the documentation
    import sys

    sys.stdout.write(describe_fits() + "\n")
