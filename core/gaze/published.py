"""Published gaze figures and display geometry shared by the baselines, the simulator and the
evaluation, with the fixation-duration distribution fitted to them.

Figures (GAZE_FACTS section 2, from the public GazeSearch scanpaths of REFLACX / EGD-CXR
radiologists: 4,875 scanpaths): fixation durations median 0.28 s, mean 0.32 s, 5-95 %
0.13-0.63 s; saccade amplitudes median 0.17 image widths (25-75 % 0.10-0.31, 95 % 0.56);
on-image fixation positions mean (0.52, 0.48), SD (0.22, 0.17) of the image; first fixation
mean (0.52, 0.47); EGD-CXR's roughly 45 fixations per full read (~49k fixations over 1,083
reads).

Display geometry (EGD-CXR's): a 1920 x 1080 screen seen at an assumed 40 screen pixels per
degree (1920 px across a ~53 cm (24") monitor at ~65 cm; EGD-CXR does not publish the viewing
geometry). One degree of visual angle is then :data:`DEGREE_OF_HEIGHT` of an image shown at the
full screen height (portrait chest films on a landscape screen are); REFLACX's own pixels per
degree give similar values (~100 image px/degree on ~2,500-3,000 px tall images).

This module sits low (``core.gaze``) so that readers, the simulator and the models take these
numbers from one place without importing each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "AMPLITUDE_QUANTILES_W",
    "DEFAULT_N_FIXATIONS",
    "DEFAULT_SCREEN_PPD",
    "DEGREE_OF_HEIGHT",
    "DURATION_MEAN_S",
    "DURATION_MEDIAN_S",
    "DURATION_Q05_S",
    "DURATION_Q95_S",
    "EGD_SCREEN_PX",
    "FIRST_FIXATION_MEAN",
    "FIXATION_DURATION",
    "FIXATION_POSITION_MEAN",
    "FIXATION_POSITION_SD",
    "LogNormal",
    "fit_lognormal",
]

DURATION_MEDIAN_S, DURATION_MEAN_S = 0.28, 0.32
DURATION_Q05_S, DURATION_Q95_S = 0.13, 0.63
FIXATION_POSITION_MEAN: tuple[float, float] = (0.52, 0.48)  # (x, y) of the image
FIXATION_POSITION_SD: tuple[float, float] = (0.22, 0.17)
FIRST_FIXATION_MEAN: tuple[float, float] = (0.52, 0.47)  # (x, y) of the image
# saccade amplitudes in image widths (isotropic frame): quantiles 25 %, 50 %, 75 %, 95 %
AMPLITUDE_QUANTILES_W: dict[int, float] = {25: 0.10, 50: 0.17, 75: 0.31, 95: 0.56}
DEFAULT_N_FIXATIONS = 45  # EGD-CXR: ~49k fixations over 1,083 full reads

EGD_SCREEN_PX = (1920, 1080)
DEFAULT_SCREEN_PPD = 40.0  # assumed screen pixels per degree (see the module docstring)
# One degree of visual angle as a fraction of the image height, for recordings without pixels
# per degree (the image fills the screen height)
DEGREE_OF_HEIGHT = DEFAULT_SCREEN_PPD / EGD_SCREEN_PX[1]


@dataclass(frozen=True)
class LogNormal:
    """``exp(N(mu, sigma^2))`` in seconds."""

    mu: float
    sigma: float

    def __repr__(self) -> str:
        return f"LogNormal(mu={self.mu:.4f}, sigma={self.sigma:.4f})"

    @property
    def median(self) -> float:
        return math.exp(self.mu)

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)

    def quantile(self, q: float) -> float:
        from scipy.special import ndtri

        return math.exp(self.mu + self.sigma * float(ndtri(q)))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.lognormal(self.mu, self.sigma, size=n)


def fit_lognormal(median: float, mean: float, q05: float, q95: float) -> LogNormal:
    """The lognormal closest to four published statistics, least squares on their logarithms.

    log median = mu, log mean = mu + sigma^2 / 2, log q = mu +/- 1.645 sigma: four equations,
    two unknowns; each statistic weighs the same in relative terms.
    """
    from scipy.optimize import least_squares
    from scipy.stats import norm

    z = float(norm.ppf(0.95))
    target = np.log([median, mean, q05, q95])

    def residuals(p: np.ndarray) -> np.ndarray:
        mu, s = p
        return np.array([mu, mu + s * s / 2, mu - z * s, mu + z * s]) - target

    fit = least_squares(residuals, x0=[math.log(median), 0.5], bounds=([-10, 1e-6], [10, 10]))
    return LogNormal(float(fit.x[0]), float(fit.x[1]))


# mu = -1.2575, sigma = 0.4800: median 0.284 s, mean 0.319 s, 5 % 0.129 s, 95 % 0.626 s
# (``python -m core.models.baselines`` prints the fit next to the published figures)
FIXATION_DURATION = fit_lognormal(
    DURATION_MEDIAN_S, DURATION_MEAN_S, DURATION_Q05_S, DURATION_Q95_S
)
