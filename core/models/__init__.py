"""Every predictor GazeScope has: the ``Predictor`` interface, the registry, the baselines and
(one file each) the learned models, with their checkpoint format.

- :mod:`core.models.predictor`: ``Predictor``, ``PredictionRequest``, ``Prediction``.
- :mod:`core.models.registry`: ``register_predictor(name, kind=..., default_checkpoint=...)``,
  ``create_predictor``, ``list_predictors(kind=...)``, ``predictor_kind``,
  ``trained_models_dir``.
- :mod:`core.models.baselines`: reference predictors from published gaze statistics
  (kind ``"baseline"``).
- :mod:`core.models.checkpoint`: ``save_pretrained`` / ``load_pretrained`` (``config.json`` +
  ``model.safetensors`` + ``README.md`` model card). Imported on demand: it loads torch.

Importing this package is light (no torch, no scikit-image); the predictor modules are imported
by the first registry call.
"""

from core.models.predictor import CAPABILITIES, Prediction, PredictionRequest, Predictor
from core.models.registry import (
    KINDS,
    checkpoint_available,
    create_predictor,
    default_checkpoint_path,
    list_predictors,
    predictor_kind,
    register_predictor,
    trained_models_dir,
)

__all__ = [
    "CAPABILITIES",
    "KINDS",
    "Prediction",
    "PredictionRequest",
    "Predictor",
    "checkpoint_available",
    "create_predictor",
    "default_checkpoint_path",
    "list_predictors",
    "predictor_kind",
    "register_predictor",
    "trained_models_dir",
]
