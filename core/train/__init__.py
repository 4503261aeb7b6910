"""Training loops of the learned models (``core/train/<model>.py``, ``gazescope train ...``).

The models themselves live in :mod:`core.models`; everything that scores is in :mod:`core.eval`.
"""
