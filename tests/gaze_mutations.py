"""Seeded mutations of gaze-data tables (CSV) and JSON files, for the readers' fuzz tests.

Each mutation damages a file the way real files get damaged: a missing or renamed column, a
cell that is not a number (text, NaN, infinity, a huge value, empty), a truncated file, a
wrong encoding (UTF-16, Latin-1 bytes, NUL bytes), a line with too many or too few fields, a
broken quote; for JSON also wrong types, missing keys, non-finite numbers and deep nesting.
``mutate_file(path, rng)`` rewrites the file in place and returns what it did.
"""

from __future__ import annotations

import random
from pathlib import Path

BAD_CELLS = (
    "", "abc", "nan", "NaN", "inf", "-inf", "1e400", "-1e400", "1e308", "-1e308", "1e30",
    "9" * 400, "0x10", "1,5", "True", "None", "-1", "-0", "1e-320", '"', "é", "\u2212" + "1",
    "12 34", " ", "\t", "null",
)  # fmt: skip
BAD_JSON_VALUES = (
    "NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e308", '"abc"', "null", "true", "[]",
    "{}", '"\\ud800"', "-1", "0", "[1e999]", '["x"]', "[" * 5000 + "]" * 5000,
)  # fmt: skip


def mutate_file(path: Path, rng: random.Random) -> str:
    """Damage ``path`` in place (CSV or JSON by suffix); returns a description."""
    data = path.read_bytes()
    ops = ["truncate", "encoding", "bytes"]
    if path.suffix == ".json":
        ops += ["json-value"] * 4 + ["json-key"] * 2
    else:
        ops += ["cell"] * 5 + ["header"] * 2 + ["fields"] * 2 + ["quote"]
    op = rng.choice(ops)
    if op == "truncate":
        cut = rng.randrange(len(data)) if data else 0
        path.write_bytes(data[:cut])
        return f"truncate to {cut} bytes"
    if op == "encoding":
        text = data.decode("utf-8", "replace")
        kind = rng.choice(["utf-16", "latin-1 byte", "nul"])
        if kind == "utf-16":
            path.write_bytes(text.encode("utf-16"))
        else:
            at = rng.randrange(len(data) + 1)
            extra = b"\xe9" if kind == "latin-1 byte" else b"\x00"
            path.write_bytes(data[:at] + extra + data[at:])
        return f"encoding: {kind}"
    if op == "bytes":
        buf = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            if buf:
                buf[rng.randrange(len(buf))] = rng.randrange(256)
        path.write_bytes(bytes(buf))
        return "random bytes"
    text = data.decode("utf-8")
    if op in ("json-value", "json-key"):
        return _mutate_json(path, text, op, rng)
    lines = text.splitlines(keepends=True)
    if len(lines) < 1:
        return "empty file left alone"
    if op == "header":
        cells = lines[0].rstrip("\r\n").split(",")
        i = rng.randrange(len(cells))
        kind = rng.choice(["drop", "rename", "duplicate"])
        if kind == "drop":
            del cells[i]
        elif kind == "rename":
            cells[i] = cells[i] + "_x"
        else:
            cells.append(cells[i])
        lines[0] = ",".join(cells) + "\r\n"
        path.write_text("".join(lines), encoding="utf-8", newline="")
        return f"header: {kind} column {i}"
    if len(lines) < 2:
        return "no data row"
    row = rng.randrange(1, len(lines))
    cells = lines[row].rstrip("\r\n").split(",")
    if op == "cell":
        i = rng.randrange(len(cells))
        value = rng.choice(BAD_CELLS)
        cells[i] = value if value not in (",",) else value
        what = f"line {row + 1}, cell {i} -> {value[:12]!r}"
    elif op == "fields":
        if rng.random() < 0.5 and len(cells) > 1:
            del cells[rng.randrange(len(cells))]
            what = f"line {row + 1}: one field fewer"
        else:
            cells.insert(rng.randrange(len(cells) + 1), "1")
            what = f"line {row + 1}: one field more"
    else:
        cells[rng.randrange(len(cells))] = '"unterminated'
        what = f"line {row + 1}: unterminated quote"
    lines[row] = ",".join(cells) + "\r\n"
    path.write_text("".join(lines), encoding="utf-8", newline="")
    return what


def _mutate_json(path: Path, text: str, op: str, rng: random.Random) -> str:
    """Replace a scalar/array value or drop/rename a key, textually (any JSON layout)."""
    import re

    if op == "json-key":
        keys = [m for m in re.finditer(r'"([A-Za-z_]+)"\s*:', text)]
        if not keys:
            return "no key"
        m = rng.choice(keys)
        new = f'"{m.group(1)}_x":' if rng.random() < 0.7 else '"":'
        path.write_text(text[: m.start()] + new + text[m.end() :], encoding="utf-8")
        return f"key {m.group(1)!r} renamed"
    values = [
        m
        for m in re.finditer(r":\s*(-?\d[\d.eE+-]*|\[[^\[\]]*\]|\"[^\"]*\"|true|false|null)", text)
    ]
    values += [m for m in re.finditer(r"(?<=[\[,])\s*(-?\d[\d.eE+-]*)", text)]
    if not values:
        return "no value"
    m = rng.choice(values)
    new = rng.choice(BAD_JSON_VALUES)
    path.write_text(text[: m.start(1)] + new + text[m.end(1) :], encoding="utf-8")
    return f"value {m.group(1)[:12]!r} -> {new[:12]!r}"
