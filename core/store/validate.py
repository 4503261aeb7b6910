"""Checks on everything a caller hands the store, before anything is written.

Each check returns the clean value or raises :class:`StoreInputError` with a one-line message
that names the field and the problem. Types are checked exactly (``True`` is not a Likert
score, ``"3"`` is not an id) because the app passes values straight from the browser.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection
from typing import Any

from core.store.errors import StoreInputError

__all__ = [
    "ACTIONS",
    "ERROR_CATEGORIES",
    "LIKERT",
    "MAX_PAYLOAD_BYTES",
    "MAX_TEXT",
    "ROLES",
    "SIGNIFICANCE",
]

ACTIONS: tuple[str, ...] = ("accept", "edit", "reject")
ERROR_CATEGORIES: tuple[str, ...] = (
    "false_finding",
    "omission",
    "wrong_location",
    "wrong_severity",
    "other",
)
SIGNIFICANCE: tuple[str, ...] = ("none", "minor", "major")
ROLES: tuple[str, ...] = ("reader", "radiologist", "resident", "student", "organiser")
LIKERT = range(1, 6)  # 1 (strongly disagree / not at all) .. 5 (strongly agree / very)
MAX_TEXT = 2000  # characters of an edited sentence or a result sentence
MAX_LABEL = 200  # characters of a case source, licence or display name
MAX_PAYLOAD_BYTES = 16_384  # an event's JSON payload

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_IDENT = re.compile(r"[a-z][a-z0-9_]{0,63}")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def username(value: object) -> str:
    if not isinstance(value, str) or not _USERNAME.fullmatch(value):
        raise StoreInputError(
            f"username must be 1-64 letters, digits or ._@+- (starting with a letter or digit), "
            f"got {value!r}"
        )
    return value


def sha256(value: object) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise StoreInputError(f"case id must be a lower-case hex SHA-256 (64 chars), got {value!r}")
    return value


def identifier(value: object, field: str) -> str:
    if not isinstance(value, str) or not _IDENT.fullmatch(value):
        raise StoreInputError(
            f"{field} must be a lower-case identifier (a-z, 0-9, _), got {value!r}"
        )
    return value


def request_id(value: object) -> str:
    if not isinstance(value, str) or not _REQUEST_ID.fullmatch(value):
        raise StoreInputError(
            f"client_request_id must be 1-128 characters of letters, digits or ._:-, got {value!r}"
        )
    return value


def text(value: object, field: str, *, max_len: int = MAX_TEXT, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise StoreInputError(f"{field} must be text, got {type(value).__name__}")
    if len(value) > max_len:
        raise StoreInputError(f"{field} is {len(value)} characters long; the limit is {max_len}")
    if _CONTROL.search(value):
        raise StoreInputError(f"{field} contains control characters")
    if not empty and not value.strip():
        raise StoreInputError(f"{field} must not be empty")
    return value


def choice(value: object, field: str, allowed: Collection[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise StoreInputError(f"{field} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def optional_choice(value: object, field: str, allowed: Collection[str]) -> str | None:
    return None if value is None else choice(value, field, allowed)


def integer(value: object, field: str, *, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise StoreInputError(f"{field} must be an integer, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise StoreInputError(f"{field} must be in [{lo}, {hi}], got {value}")
    return value


def likert(value: object, field: str) -> int:
    return integer(value, field, lo=LIKERT.start, hi=LIKERT.stop - 1)


def number(value: object, field: str, *, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StoreInputError(f"{field} must be a number, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and lo <= value <= hi):
        raise StoreInputError(f"{field} must be a finite number in [{lo}, {hi}], got {value}")
    return value


def json_payload(
    value: object, field: str, *, max_bytes: int = MAX_PAYLOAD_BYTES
) -> dict[str, Any]:
    """A JSON object (dict with string keys) of at most ``max_bytes`` once encoded."""
    if not isinstance(value, dict):
        raise StoreInputError(f"{field} must be a JSON object (dict), got {type(value).__name__}")
    try:
        encoded = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise StoreInputError(f"{field} is not JSON-serialisable: {err}") from err
    if len(encoded.encode()) > max_bytes:
        raise StoreInputError(f"{field} is {len(encoded)} bytes of JSON; the limit is {max_bytes}")
    return json.loads(encoded)


def mapping(value: object, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StoreInputError(f"{field} must be an object, got {type(value).__name__}")
    return value


def sequence(value: object, field: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise StoreInputError(f"{field} must be a list, got {type(value).__name__}")
    return list(value)
