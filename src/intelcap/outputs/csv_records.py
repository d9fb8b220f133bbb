"""Our result CSVs as rows of dicts, typed as `pandas.read_csv` types them, without importing pandas (a job that
only looks cells up would spend a third of its time importing it)."""

from __future__ import annotations

import csv
import math
import os
import re

from intelcap.errors import InputError

__all__ = ["read_rows"]

_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(
    r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|Inf|INF|Infinity)"
)
_BOOLS = {"True": True, "TRUE": True, "true": True, "False": False, "FALSE": False, "false": False}
# what pandas.read_csv reads as missing besides the empty cell (its default na_values)
_NA_TOKENS = {
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
    "NULL", "NaN", "None", "n/a", "nan", "null",
}  # fmt: skip
_INT64 = (-(2**63), 2**63 - 1)


def read_rows(path: str | os.PathLike) -> list[dict]:
    """The rows of a CSV with a header, each a dict in column order, typed column by column as
    `pandas.read_csv(path)` types them: the empty cell is missing (float NaN); a column whose every other cell
    is an integer holds ints (floats if the column has a missing cell); a column of numbers with any decimal
    point, exponent or inf holds floats; a column of True/TRUE/true/False/FALSE/false holds bools (NaN where
    missing); any other column holds its cells as str, numbers included.

    A cell pandas would read otherwise than this rule, or not at all, is an InputError naming the file, the
    column and the line, never a guess: pandas' other missing-value words (NA, nan, None, ...), a cell with
    spaces around it, an integer outside int64; and a header with an empty or repeated name, a row with another
    number of cells than the header. Blank lines are skipped, as pandas does. A header without rows gives [].
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            lines: list[int] = []
            cells: list[list[str]] = []
            for row in reader:
                if row:
                    cells.append(row)
                    lines.append(reader.line_num)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc}); write the file as UTF-8") from exc
    except csv.Error as exc:
        raise InputError(f"{path}: not a readable CSV ({exc}); rewrite it with its job") from exc
    if header is None:
        raise InputError(f"{path}: empty file, expected a header line; rerun the job that writes it")
    seen: set[str] = set()
    for name in header:
        if name == "" or name in seen:
            raise InputError(
                f"{path}: header line: column name {name!r} is {'empty' if not name else 'repeated'}; "
                "every column needs its own name"
            )
        seen.add(name)
    for row, line in zip(cells, lines, strict=True):
        if len(row) != len(header):
            raise InputError(f"{path}: line {line} has {len(row)} cells, the header has {len(header)}")
    columns = [_column(path, name, [row[j] for row in cells], lines) for j, name in enumerate(header)]
    return [dict(zip(header, values, strict=True)) for values in zip(*columns, strict=True)] if cells else []


def _column(path: str | os.PathLike, name: str, raw: list[str], lines: list[int]) -> list:
    for text, line in zip(raw, lines, strict=True):
        if text in _NA_TOKENS or (text != text.strip()):
            why = "a missing-value word" if text in _NA_TOKENS else "a cell with spaces around it"
            raise InputError(
                f"{path}: column {name!r}, line {line}: {text!r} is {why}, which pandas reads differently "
                "from this reader; write a missing cell empty and a value without surrounding spaces"
            )
    present = [t for t in raw if t != ""]
    gaps = len(present) < len(raw)
    if present and all(_INT.fullmatch(t) for t in present):
        ints = [int(t) for t in present]
        for t, line in zip(raw, lines, strict=True):
            if t != "" and not _INT64[0] <= int(t) <= _INT64[1]:
                raise InputError(
                    f"{path}: column {name!r}, line {line}: integer {t} is outside int64, which pandas reads "
                    "otherwise; write it as a decimal number"
                )
        it = iter(ints)
        return [math.nan if t == "" else (float(next(it)) if gaps else next(it)) for t in raw]
    if present and all(_FLOAT.fullmatch(t) for t in present):
        return [math.nan if t == "" else float(t) for t in raw]
    if present and all(t in _BOOLS for t in present):
        return [math.nan if t == "" else _BOOLS[t] for t in raw]
    return [math.nan if t == "" else t for t in raw]
