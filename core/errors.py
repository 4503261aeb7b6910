"""Errors raised for bad input.

Every error a user can cause by handing GazeScope a file is a :class:`InputFileError`, a
``ValueError`` subclass whose message names the file and the problem in one line, so the CLI
and the app can show it and carry on.
"""

from __future__ import annotations

from pathlib import Path


class GazeScopeError(ValueError):
    """Base class of the errors GazeScope raises on purpose."""


class InputFileError(GazeScopeError):
    """A file that cannot be used; ``str(err)`` is ``"<file name>: <problem>"``."""

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = None if path is None else Path(path)
        self.problem = problem
        name = "<input>" if path is None else Path(path).name
        super().__init__(f"{name}: {problem}")


class EmptyFileError(InputFileError):
    """The file has zero bytes."""


class FileTooLargeError(InputFileError):
    """The file, or the image it decodes to, exceeds a configured cap (decompression bombs)."""


class NotAnImageError(InputFileError):
    """The bytes are not a format GazeScope reads (e.g. a text file named ``.dcm``)."""


class TruncatedFileError(InputFileError):
    """The file ends before its own headers say it should."""


class NoPixelDataError(InputFileError):
    """A DICOM object without an image (structured report, presentation state, ...)."""


class CorruptPixelDataError(InputFileError):
    """Pixel data that is present but cannot be decoded."""


class UnsupportedTransferSyntaxError(InputFileError):
    """A transfer syntax no installed pixel-data plugin decodes."""


class UnsupportedImageError(InputFileError):
    """An image GazeScope refuses: multi-frame, colour, wrong modality, ..."""


class GazeDataError(InputFileError):
    """A gaze or dataset table (CSV/JSON) that is missing columns or holds bad values."""


class MalformedHeaderError(InputFileError):
    """A header field that cannot be parsed or holds an impossible value.

    For example a DICOM element with an unknown Value Representation or a wrong length, Rows
    that are not a number, or a Rescale Slope of zero.
    """
