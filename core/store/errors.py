"""Errors the store raises on purpose (all ``GazeScopeError``, so the CLI and app show them)."""

from __future__ import annotations

from core.errors import GazeScopeError

__all__ = ["StoreAccessError", "StoreError", "StoreInputError"]


class StoreError(GazeScopeError):
    """The database cannot be used: bad URL, missing folder, schema newer than this code."""


class StoreInputError(StoreError):
    """A request the store refuses (unknown case, bad category, over-long text, wrong type).

    Raised before anything is written; the transaction is rolled back.
    """


class StoreAccessError(StoreInputError):
    """A reader asked for, or tried to change, something that belongs to another reader."""
