"""Dataset readers (REFLACX, EGD-CXR, GazeSearch, NIH sample) in house units.

Every reader yields ``GazeCase`` records in house units.
"""

from core.data.case import Annotation, GazeCase, ImageRef, Read, Report, Word

__all__ = ["Annotation", "GazeCase", "ImageRef", "Read", "Report", "Word"]
