"""Our result CSVs read as typed rows without pandas, for the rendering jobs: pandas is ~0.2 s of a job that
only reads one small CSV and prints its cells.

`read_rows(path)` gives the values `pd.read_csv(path, keep_default_na=False, na_values=[""])` gives, column by
column, for what our writers (`atomic.write_csv`, `atomic.write_records_csv`) produce:

- an empty cell is missing: `MISSING` (float NaN, what pandas gives, so `str()` of it reads "nan" as before and
  `outputs.stars.is_missing` is true);
- a column of integers (``-?[0-9]+``, within 64 bits) without empty cells -> `int`;
- a column of numbers (integers and floats as Python's repr writes them: ``-1.5``, ``1e-05``, ``2.5e+20``,
  ``inf``, ``-inf``), or of integers with empty cells -> `float` (Python's `float()`, the same double as pandas'
  parser for up to 17 significant digits: tests/test_render_light.py compares them);
- a column of True/False (also TRUE/FALSE, true/false), empty cells allowed -> `bool`;
- any other column -> `str`, every non-empty cell as written (numbers included, as pandas keeps them in a text
  column); True/False mixed with numbers is text too, as in pandas;
- a column without a non-empty cell -> every cell missing.

`int_gaps=True` is `read_frame`'s rule (the render step): a column of integers with empty cells keeps integers
(pandas' Int64; its float64 round trip included), so a count prints 10,035 and not 10,035.000.
`empty="text"` is `pd.read_csv(path, keep_default_na=False)`: an empty cell is the text "" (its column is text).

Where pandas' own number parser would decide and this reader could differ, the reader raises InputError naming
the file, column and line instead of guessing: a number in a form our writers never produce (" 1", "+1", "1E5",
".5", "Infinity", "1_000"), "nan" in a numeric column (pandas would make the whole column text), an integer
beyond 64 bits, more than 17 significant digits. Rows of another length than the header, lines of spaces and
duplicate or empty column names raise too (pandas would rename, shift or skip them silently). Blank lines are
skipped, as pandas does.

`as_rows` turns a pandas DataFrame (duck typed: `columns` and `to_dict`) into the same `Rows`, so that the
table renderers take either without importing pandas.
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from intelcap.errors import InputError

__all__ = ["MISSING", "Rows", "as_rows", "read_rows"]

# One object for every missing cell: tuples of cells holding it compare equal (NaN != NaN, but `is` holds).
MISSING = math.nan

_INT = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"-?(?:[0-9]+\.[0-9]+(?:e[+-][0-9]+)?|[0-9]+e[+-][0-9]+|inf)")
# pandas' C parser reads these three spellings (and no others) as booleans
_BOOL = {"True": True, "False": False, "TRUE": True, "FALSE": False, "true": True, "false": False}
_INT64 = (-(2**63), 2**63 - 1)
_MAX_DIGITS = 17  # a double's round trip; beyond it, two correct parsers may still round differently

_EMPTY, _INTK, _FLOATK, _BOOLK, _STR, _ODD = range(6)


@dataclass
class Rows:
    """A table's rows: `columns` in order, each row a dict holding every column (a missing cell is `MISSING`);
    `source` names the file in error messages."""

    columns: list[Any]
    rows: list[dict[Any, Any]]
    source: str | None = field(default=None, compare=False)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[Any, Any]]:
        return iter(self.rows)

    def column(self, name: Any) -> list[Any]:
        """The cells of column `name`, top to bottom."""
        self.require([name])
        return [r[name] for r in self.rows]

    def select(self, columns: Sequence[Any]) -> Rows:
        """Only `columns`, in that order (each must exist)."""
        self.require(columns)
        return Rows(list(columns), [{c: r[c] for c in columns} for r in self.rows], self.source)

    def drop(self, columns: Sequence[Any]) -> Rows:
        """Without `columns` (each must exist)."""
        self.require(columns)
        return self.select([c for c in self.columns if c not in set(columns)])

    def require(self, columns: Sequence[Any]) -> None:
        """InputError naming the file unless every one of `columns` is present."""
        absent = [c for c in columns if c not in self.columns]
        if absent:
            raise InputError(
                f"table lacks columns {absent}",
                file=self.source,
                hint=f"its columns are {self.columns}; rerun the job that writes it",
            )


def as_rows(data: Any) -> Rows:
    """`data` as `Rows`: Rows as they are; a pandas DataFrame (anything with `columns` and `to_dict`) by its
    records, whose cells pandas gives as Python scalars (missing: NaN, or pandas' NA in nullable columns)."""
    if isinstance(data, Rows):
        return data
    if hasattr(data, "columns") and hasattr(data, "to_dict"):
        columns = list(data.columns)
        dup = sorted({str(c) for c in columns if columns.count(c) > 1})
        if dup:
            raise InputError(f"table has duplicated columns {dup}", hint="give every column its own name")
        return Rows(columns, data.to_dict("records"))
    raise InputError(
        f"a table must be a pandas DataFrame or intelcap.outputs.csvrows.Rows, not {type(data).__name__}",
        hint="pass the estimation's frame, or read a result CSV with intelcap.outputs.csvrows.read_rows",
    )


def _digits(number: str) -> int:
    """Significant digits of an unsigned-or-negative digit string (no point, no exponent)."""
    return len(number.lstrip("-").lstrip("0").rstrip("0"))


def _kind(cell: str, empty_missing: bool) -> int:
    if cell == "":
        return _EMPTY if empty_missing else _STR
    if _INT.fullmatch(cell):
        return _INTK if _INT64[0] <= int(cell) <= _INT64[1] else _ODD
    if _FLOAT.fullmatch(cell):
        return _FLOATK if _digits(cell.split("e")[0].replace(".", "")) <= _MAX_DIGITS else _ODD
    if cell in _BOOL:
        return _BOOLK
    try:
        float(cell)  # a form Python reads as a number ("nan", " 1", "1E5"...): pandas may read it otherwise
    except ValueError:
        return _STR
    return _ODD


def read_rows(
    path: str | os.PathLike, *, int_gaps: bool = False, empty: Literal["missing", "text"] = "missing"
) -> Rows:
    """The rows of result CSV `path`, typed column by column as pandas types them (module docstring)."""
    source = os.fspath(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:  # pandas skips a byte-order mark too
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise InputError(
                "CSV file is empty (no header line)", file=source, hint="rerun the job that writes it"
            )
        _check_header(header, source)
        cells: list[list[str]] = []
        lines: list[int] = []
        start = reader.line_num + 1
        for record in reader:
            if not record:  # a blank line: pandas skips it
                start = reader.line_num + 1
                continue
            if len(record) != len(header) or (len(record) == 1 and record[0].strip() == "" and record[0]):
                raise InputError(
                    f"line {start} has {len(record)} fields, the header {len(header)}"
                    if len(record) != len(header)
                    else f"line {start} holds only spaces",
                    file=source,
                    hint="every line must have one field per column (rerun the job that writes the file)",
                )
            cells.append(record)
            lines.append(start)
            start = reader.line_num + 1
    empty_missing = empty == "missing"
    columns = [
        _column(source, name, [r[j] for r in cells], lines, empty_missing, int_gaps)
        for j, name in enumerate(header)
    ]
    rows = [dict(zip(header, values, strict=True)) for values in zip(*columns, strict=True)] if cells else []
    return Rows(list(header), rows, source)


def _check_header(header: list[str], source: str) -> None:
    dup = sorted({c for c in header if header.count(c) > 1})
    if dup or "" in header:
        raise InputError(
            f"CSV header has duplicated columns {dup}" if dup else "CSV header has a column without a name",
            file=source,
            hint="give every column one name of its own (pandas would rename them)",
        )


def _column(
    source: str, name: str, cells: list[str], lines: list[int], empty_missing: bool, int_gaps: bool
) -> list[Any]:
    kinds = [_kind(c, empty_missing) for c in cells]
    present = set(kinds) - {_EMPTY}
    if not present:
        return [MISSING] * len(cells)
    if _STR in present or (_BOOLK in present and len(present) > 1):
        return [MISSING if k == _EMPTY else c for c, k in zip(cells, kinds, strict=True)]
    if _ODD in present:
        i = kinds.index(_ODD)
        raise InputError(
            f"line {lines[i]}: cell {cells[i]!r} of a numeric column is not a number as our writers print it "
            "(pandas and this reader could read the column differently)",
            file=source,
            column=name,
            hint="write numbers as Python's repr (atomic.write_csv does), a missing value as an empty cell",
        )
    long_ints = [
        i
        for i, (c, k) in enumerate(zip(cells, kinds, strict=True))
        if k == _INTK and _digits(c) > _MAX_DIGITS
    ]
    if long_ints and (present != {_INTK} or _EMPTY in kinds):
        i = long_ints[0]
        raise InputError(
            f"line {lines[i]}: integer {cells[i]} of a column read as floats has more than {_MAX_DIGITS} "
            "significant digits (pandas and this reader could round it differently)",
            file=source,
            column=name,
            hint="write the number as a float (its repr), or make the column text",
        )
    if present == {_BOOLK}:
        return [MISSING if k == _EMPTY else _BOOL[c] for c, k in zip(cells, kinds, strict=True)]
    if present == {_INTK} and _EMPTY not in kinds:
        return [int(c) for c in cells]
    if present == {_INTK} and int_gaps:
        # pandas reads the column as float64 first, then makes it Int64: the same round trip
        return [MISSING if k == _EMPTY else int(float(c)) for c, k in zip(cells, kinds, strict=True)]
    return [MISSING if k == _EMPTY else float(c) for c, k in zip(cells, kinds, strict=True)]
