"""CSV/JSON plumbing shared by the dataset readers: strict headers, typed cells, clear errors.

Every problem raises :class:`core.errors.GazeDataError` whose message names the file, the line
(the header is line 1) and the column, e.g. ``fixations.csv: line 7, column 'x_position':
expected a number, got 'abc' (case P102R123456)``.

Readers take ``on_error`` (see ``error_handler``): ``"raise"`` stops at the first problem,
``"skip"`` logs it as one warning line and drops only the unit it belongs to (a row, a read, a
case, a record), so that one bad file or cell never loses the rest of a dataset.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Literal

from core.errors import GazeDataError

__all__ = [
    "MAX_ABS_VALUE",
    "CsvTable",
    "OnError",
    "error_handler",
    "read_json",
    "read_json_records",
]

logger = logging.getLogger(__name__)

# Gaze tables hold seconds, pixels and screen fractions: a magnitude above this is corruption
# (a flipped exponent, a tick counter in a seconds column), and would overflow later arithmetic
# (differences, products with screen sizes) into infinities.
MAX_ABS_VALUE = 1e9

OnError = Literal["raise", "skip"] | Callable[[GazeDataError], None]


def error_handler(on_error: OnError) -> Callable[[GazeDataError], None]:
    """What a reader does with a ``GazeDataError`` it can recover from (the unit is skipped).

    ``"raise"`` re-raises it; ``"skip"`` logs it as one warning line; a callable receives it
    (and may raise it, or collect it).
    """
    if on_error == "raise":

        def handle(err: GazeDataError) -> None:
            raise err

        return handle
    if on_error == "skip":

        def handle(err: GazeDataError) -> None:
            logger.warning("%s; skipped", err)

        return handle
    if callable(on_error):
        return on_error
    raise ValueError(f"on_error must be 'raise', 'skip' or a callable, got {on_error!r}")


class CsvTable:
    """A CSV file opened for strict, streaming reading.

    ``required`` columns must all be present; ``prefix`` columns must be the first ones, in that
    order (for layouts that fix their column order). ``context`` (e.g. a case id) is appended to
    every error so that one of many same-named files is identified.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        required: Sequence[str] = (),
        prefix: Sequence[str] = (),
        context: str = "",
    ) -> None:
        self.path = Path(path)
        self.context = context
        if not self.path.is_file():
            raise GazeDataError(self.path, self._with_context("file not found"))
        self._file = self.path.open(newline="", encoding="utf-8-sig")
        self._reader = csv.reader(self._file)
        try:
            header = next(self._reader)
        except StopIteration:
            self._file.close()
            raise GazeDataError(self.path, self._with_context("empty file, no header")) from None
        except UnicodeDecodeError:
            self._file.close()
            raise GazeDataError(self.path, self._with_context(_not_utf8(self.path))) from None
        except csv.Error as err:
            self._file.close()
            raise GazeDataError(self.path, self._with_context(f"not a CSV file ({err})")) from None
        self.header = [h.strip() for h in header]
        if len(set(self.header)) != len(self.header):
            dup = sorted({h for h in self.header if self.header.count(h) > 1})
            self._fail(1, f"duplicate column(s) {dup}")
        if list(self.header[: len(prefix)]) != list(prefix):
            self._fail(1, f"wrong header: expected it to start with {list(prefix)}, got {header}")
        missing = [c for c in required if c not in self.header]
        if missing:
            self._fail(1, f"missing column(s) {missing}")
        self.index = {name: i for i, name in enumerate(self.header)}

    def _with_context(self, problem: str) -> str:
        return f"{problem} ({self.context})" if self.context else problem

    def _fail(self, line: int, problem: str) -> None:
        self.close()
        raise GazeDataError(self.path, self._with_context(f"line {line}: {problem}"))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> CsvTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def rows(self) -> Iterator[Row]:
        """Data rows in order; blank lines are skipped, short or long rows are errors."""
        n = len(self.header)
        try:
            for cells in self._reader:
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue
                if len(cells) != n:
                    self._fail(self._reader.line_num, f"expected {n} fields, got {len(cells)}")
                yield Row(self, self._reader.line_num, cells)
        except UnicodeDecodeError:
            self.close()
            raise GazeDataError(self.path, self._with_context(_not_utf8(self.path))) from None
        except csv.Error as err:
            self._fail(self._reader.line_num, f"malformed CSV ({err})")
        finally:
            self.close()


class Row:
    """One data row; typed getters raise ``GazeDataError`` naming file, line and column."""

    __slots__ = ("cells", "line", "table")

    def __init__(self, table: CsvTable, line: int, cells: list[str]) -> None:
        self.table = table
        self.line = line
        self.cells = cells

    def fail(self, column: str, problem: str) -> GazeDataError:
        return GazeDataError(
            self.table.path,
            self.table._with_context(f"line {self.line}, column {column!r}: {problem}"),
        )

    def text(self, column: str) -> str:
        return self.cells[self.table.index[column]].strip()

    def has(self, column: str) -> bool:
        return column in self.table.index

    def number(self, column: str, *, empty: float | None = None, finite: bool = True) -> float:
        """The cell as a float; ``empty`` is returned for an empty cell (else it is an error).

        With ``finite`` (the default) NaN, infinities and magnitudes above ``MAX_ABS_VALUE``
        are errors too.
        """
        raw = self.text(column)
        if raw == "" and empty is not None:
            return empty
        try:
            value = float(raw)
        except ValueError:
            raise self.fail(column, f"expected a number, got {_cell(raw)}") from None
        if finite and not math.isfinite(value):
            raise self.fail(column, f"expected a finite number, got {_cell(raw)}")
        if finite and abs(value) > MAX_ABS_VALUE:
            raise self.fail(
                column, f"{_cell(raw)} is beyond +-{MAX_ABS_VALUE:g}, not a plausible value"
            )
        return value

    def integer(self, column: str) -> int:
        """The cell as an integer (``"12"`` or ``"12.0"``)."""
        value = self.number(column)
        if value != int(value):
            raise self.fail(column, f"expected an integer, got {self.text(column)!r}")
        return int(value)

    def flag(self, column: str) -> bool:
        """``True``/``False`` as pandas writes them (also ``1``/``0``)."""
        raw = self.text(column)
        low = raw.lower()
        if low in ("true", "1", "1.0"):
            return True
        if low in ("false", "0", "0.0"):
            return False
        raise self.fail(column, f"expected True or False, got {_cell(raw)}")


def _cell(raw: str, limit: int = 40) -> str:
    """A cell quoted for a one-line message, shortened (a corrupt cell can be megabytes)."""
    text = repr(raw)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _not_utf8(path: Path) -> str:
    """Where a file stops being UTF-8: ``"line 4: not UTF-8 text (byte 0xf6 at column 3) ..."``.

    The text layer decodes in chunks, so its error position is not the file's; the file is
    scanned again line by line to name the line.
    """
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if number == 1 and raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
                return "line 1: not UTF-8 text (a UTF-16 file); save it as UTF-8"
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as err:
                byte = raw[err.start]
                return (
                    f"line {number}: not UTF-8 text (byte 0x{byte:02x} at column {err.start + 1}); "
                    "save the file as UTF-8"
                )
    return "not UTF-8 text"


def read_json(path: str | Path, *, context: str = "") -> object:
    """Parse a JSON file; a missing or malformed file raises ``GazeDataError``."""
    path = Path(path)
    suffix = f" ({context})" if context else ""
    if not path.is_file():
        raise GazeDataError(path, f"file not found{suffix}")
    try:
        with path.open(encoding="utf-8-sig") as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise GazeDataError(
            path, f"line {err.lineno}: malformed JSON ({err.msg}){suffix}"
        ) from None
    except UnicodeDecodeError:
        raise GazeDataError(path, f"{_not_utf8(path)}{suffix}") from None
    except RecursionError:
        raise GazeDataError(path, f"malformed JSON (nested too deeply){suffix}") from None


def read_json_records(path: str | Path) -> list[tuple[int, object]]:
    """A JSON file holding a list, as ``(line, element)`` pairs (line where each one starts).

    Errors as ``read_json``; a file that is not a list raises ``GazeDataError``.
    """
    path = Path(path)
    data = read_json(path)
    if not isinstance(data, list):
        raise GazeDataError(path, f"expected a JSON list of records, got {type(data).__name__}")
    text = path.read_text(encoding="utf-8-sig")
    decoder = json.JSONDecoder()
    lines = []
    pos = text.index("[") + 1
    line, counted = 1, 0
    for _ in data:
        while text[pos] in " \t\r\n,":
            pos += 1
        line += text.count("\n", counted, pos)
        counted = pos
        lines.append(line)
        _, pos = decoder.raw_decode(text, pos)
    return list(zip(lines, data, strict=True))
