"""Readers for vendor exports as downloaded: CSMAR tables (csv/xlsx/txt, 1- or 3-row headers, UTF-8 with or
without BOM or GB18030), IFR robots and base-year employment.

Every reader returns typed, keyed frames and raises `InputError` naming the file, the field and example rows
when something is wrong; nothing is coerced silently.
"""

from __future__ import annotations

import copy
import difflib
import io
import logging
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from intelcap.errors import InputError, clip

# the file names of a table (no pandas: the DAG's process uses them); table_stems is re-exported for the check
from intelcap.ingest.files import ACCEPTED_SUFFIXES, table_files, table_stems  # noqa: F401
from intelcap.ingest.files import os_error as _os_error

log = logging.getLogger("intelcap.ingest.readers")

ID_PATTERN = re.compile(r"^[0-9]{1,6}$")
ENCODINGS = ("utf-8-sig", "gb18030")


def decode_bytes(raw: bytes, path: str | Path) -> tuple[str, str]:
    """Decode with the first encoding that round-trips: UTF-8 (BOM optional), then GB18030.

    GB18030 can decode almost any byte string, so UTF-8 is tried first and GB18030 accepted only when the
    result holds no C1 control characters or private-use code points, the sign of a wrong guess.
    """
    try:
        return raw.decode("utf-8-sig"), "utf-8-sig"
    except UnicodeDecodeError:
        pass
    _refuse_mixed(raw, path)
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise InputError(
            "cannot decode file as UTF-8 or GB18030",
            file=str(path),
            hint="re-export the table from CSMAR as UTF-8 CSV or xlsx",
        ) from exc
    bad = re.search(r"[\x80-\x9f\ue000-\uf8ff]", text)
    if bad:
        line = text[: bad.start()].count("\n") + 1
        raise InputError(
            f"file decodes as neither UTF-8 nor clean GB18030 (suspicious character at line {line})",
            file=str(path),
            hint="check the file's encoding; re-export as UTF-8",
        )
    return text, "gb18030"


def _refuse_mixed(raw: bytes, path: str | Path) -> None:
    """A file whose non-ASCII lines are partly valid UTF-8 and partly not mixes encodings (e.g. rows pasted from
    a GB18030 export into a UTF-8 one): no single decoding is right, so refuse and name the lines."""
    utf8, other = [], []
    for i, line in enumerate(raw.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8.append(i)
        except UnicodeDecodeError:
            other.append(i)
    if utf8 and other:
        raise InputError(
            f"file mixes encodings: {len(utf8)} line(s) are UTF-8 and {len(other)} are not "
            f"(UTF-8 lines e.g. {utf8[:5]}; other lines e.g. {other[:5]})",
            file=str(path),
            rows=other,
            hint="re-export the whole table in one encoding (UTF-8 CSV or xlsx); do not "
            "concatenate downloads made with different encodings",
        )


# which files make a table: intelcap.ingest.files (standard library only, for the DAG's process)
def _resolve_parts(source: str | Path | list, spec: dict, table: str) -> list[Path]:
    """The files of one table: a folder (parts found by `table_files`), one file (it and the other parts of
    its stem next to it), or an explicit list of files (exactly those)."""
    if isinstance(source, str | os.PathLike):
        p = Path(source)
        if p.is_dir():
            return table_files(p, spec, table)
        stem = p.stem if p.suffix.lower() in ACCEPTED_SUFFIXES else p.name
        try:
            parts = table_files(p.parent, [stem], table)
        except InputError:
            if p.suffix and p.suffix.lower() not in ACCEPTED_SUFFIXES and p.exists():
                raise InputError(
                    f"unsupported file type {p.suffix!r}", file=str(p), hint="use .csv, .txt or .xlsx"
                ) from None
            raise
        if p.exists() and p not in parts:  # a name outside the part pattern, given explicitly
            parts = [p]
        if len(parts) > 1 or parts[0] != p:
            log.info("%s: read as the table's files: %s", p, [q.name for q in parts])
        return parts
    parts = [Path(x) for x in source]
    if not parts:
        raise InputError(
            f"no file given for table {table}", hint=f"check csmar.{table}.file in config/config.yaml"
        )
    return list(dict.fromkeys(parts))


def _check_readable(path: Path, hint_missing: str) -> None:
    """Refuse, with a message, what `open` would raise on: absent, a folder, no permission."""
    try:
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        raise InputError("table file not found", file=str(path), hint=hint_missing) from None
    except IsADirectoryError:
        raise InputError("expected a file, found a folder", file=str(path), hint=hint_missing) from None
    except OSError as exc:
        raise _os_error(
            exc,
            "cannot open the file",
            path,
            "make it readable by the user running the workflow (e.g. chmod u+r), and close "
            "any program that holds it locked",
        ) from None


_MISSING_HINT = "put the CSMAR download there or change its `file:` in config/config.yaml (csmar:)"


def _read_raw_frames(
    path: Path,
    needed: list[str] | None = None,
    coded: frozenset[str] = frozenset(),
    id_col: str | None = None,
) -> list[tuple[str, pd.DataFrame]]:
    """(label, frame) for each part of one file, all cells as strings, first row as header: the file itself,
    or each sheet of a workbook whose first row holds `id_col` (the label names the sheet when the workbook
    has several).

    With `needed` (field codes), a UTF-8 or GB18030 .csv/.txt is read by pyarrow and only those columns come
    back, those in `coded` (repetitive text: codes, dates, labels) as categoricals of their strings; whenever
    that reader cannot promise pandas' exact result (see `_read_fast`), the whole file is read by pandas as
    before, all columns, as strings.
    """
    suffix = path.suffix.lower()
    _check_readable(path, _MISSING_HINT)
    if suffix == ".xlsx":
        try:
            sheets = pd.read_excel(path, dtype=str, header=0, engine="openpyxl", sheet_name=None)
        except Exception as exc:  # openpyxl raises many types for a broken workbook
            raise InputError(
                f"cannot read xlsx workbook ({type(exc).__name__}: {clip(exc, 300)})",
                file=str(path),
                hint="re-download the table (a truncated download is not a workbook)",
            ) from exc
        frames = [(str(name), df.fillna("")) for name, df in sheets.items()]
        if len(frames) == 1 or id_col is None:
            return [(str(path), frames[0][1])]
        keep, skipped = [], []
        for name, df in frames:
            cols = [str(c).strip().lstrip("\ufeff") for c in df.columns]
            if id_col in cols:
                keep.append((f"{path} [sheet {name}]", df))
                continue
            if cols and _code_like(pd.Series([cols[0]], dtype=str)).iloc[0]:
                raise InputError(
                    f"sheet {name!r} starts with data (stock code {clip(cols[0], 20)!r}) instead of "
                    f"the field-code row",
                    file=str(path),
                    column=id_col,
                    rows=[1],
                    hint=f"copy the header row ({id_col}, ...) to the top of sheet {name!r}, or save "
                    "each sheet as its own numbered file",
                )
            skipped.append(name)
        if not keep:
            return [(str(path), frames[0][1])]  # the caller reports the missing fields
        if skipped:
            log.info(
                "%s: sheet(s) %s do not carry field %s in row 1: not part of the table", path, skipped, id_col
            )
        return keep
    if suffix not in (".csv", ".txt"):
        raise InputError(f"unsupported file type {suffix!r}", file=str(path), hint="use .csv, .txt or .xlsx")
    if needed is not None:
        try:
            return [(str(path), _read_fast(path, needed, coded))]
        except _Fallback as why:
            log.info("%s: read by pandas (%s)", path, why)
    return [(str(path), _read_text_frame(path))]


def _read_text_frame(path: Path) -> pd.DataFrame:
    """The reference reader: the whole file decoded in memory and parsed by pandas' C parser, every column."""
    suffix = path.suffix.lower()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _os_error(
            exc, "cannot read the file", path, "make it readable by the user running the workflow"
        ) from None
    if not raw.strip():
        raise InputError("file is empty", file=str(path), hint="re-download the table")
    text, encoding = decode_bytes(raw, path)
    if encoding == "gb18030":
        log.info("%s: no UTF-8, decoded as GB18030 (detected, no declaration needed)", path)
    sep = "\t" if suffix == ".txt" else ","
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, header=0)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"malformed {suffix} table: {clip(exc, 300)}", file=str(path)) from exc


# ------------------------------------------------------------------ fast path for large .csv/.txt tables
# At ~4M firm-years, EMP_Structure is ~33M rows (1 GB). Decoding it to one Python string and letting pandas'
# C parser build Python objects took >20 min and >8 GB. pyarrow parses the bytes straight into Arrow string
# columns (only the configured ones), in parallel, at a fraction of the memory. The encoding checks run in
# streamed blocks and give exactly `decode_bytes`' verdicts and messages; everything pyarrow and pandas could
# disagree on sends the file to the reference reader instead (`_Fallback`), so the result never changes.

_BLOCK = 32 << 20  # bytes per streamed block: bounded memory whatever the file size
_STR_DTYPE = pd.Series([""], dtype=str).dtype  # what `dtype=str` gives in this pandas version


class _Fallback(Exception):
    """The fast reader cannot guarantee the reference reader's result for this file."""


def _line_blocks(path: Path, size: int | None = None) -> Iterator[bytes]:
    """The file in blocks of about `size` bytes, each ending just after a newline (the last one may not).

    Byte 0x0A never occurs inside a multi-byte UTF-8 or GB18030 character, so every block decodes (or fails
    to) exactly as it would inside the whole file, and line numbers add up across blocks.
    """
    with open(path, "rb") as fh:
        rest = b""
        while block := fh.read(size or _BLOCK):
            cut = block.rfind(b"\n") + 1
            if not cut:
                rest += block
                continue
            yield b"".join((rest, memoryview(block)[:cut]))  # one copy
            rest = block[cut:]
        if rest:
            yield rest


def _valid_utf8(data: bytes | memoryview) -> bool:
    """Whether `data` decodes as strict UTF-8. Arrow's validator (no copy, no decoded string) agrees with
    Python's on well-formedness (overlongs, surrogates, > U+10FFFF are invalid in both); Python decides when
    Arrow objects, so a file is only ever called UTF-8 when Python's decoder would accept it."""
    arr = pa.Array.from_buffers(
        pa.large_string(), 1, [None, pa.py_buffer(np.array([0, len(data)], np.int64)), pa.py_buffer(data)]
    )
    try:
        arr.validate(full=True)
        return True
    except pa.ArrowInvalid:
        try:
            bytes(data).decode("utf-8")
            return True
        except UnicodeDecodeError:
            return False


def _scan_utf8(path: Path) -> tuple[bool, bool, bool]:
    """(blank, utf8, quoted): whether the file is only ASCII whitespace, whether all of it is valid UTF-8 and
    (if so) whether it holds a double quote anywhere. Blocks are checked up to their last newline (never inside
    a character), the partial line carried into the next check."""
    blank, utf8, quoted = True, True, False
    carry = b""
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            if blank and block.strip():
                blank = False
            quoted = quoted or b'"' in block
            first, last = block.find(b"\n") + 1, block.rfind(b"\n") + 1
            if not first:
                carry += block
                continue
            if utf8 and not (
                _valid_utf8(carry + block[:first]) and _valid_utf8(memoryview(block)[first:last])
            ):
                utf8 = False
            carry = block[last:]
            if not utf8 and not blank:
                break
    if carry:
        utf8 = utf8 and _valid_utf8(carry)
        blank = blank and not carry.strip()
    return blank, utf8, quoted


def _has_utf8_line(block: bytes) -> bool:
    """Whether a line of the block holds non-ASCII bytes that are valid UTF-8 (with `_refuse_mixed`'s split),
    for all lines at once: decoding with errors="replace" puts U+FFFD into exactly the lines that are not
    valid UTF-8 (a newline is never part of a sequence), found with numpy instead of one `decode` per line."""
    b = np.frombuffer(block, np.uint8)
    if not (b >= 0x80).any():
        return False
    if b"\xef\xbf\xbd" in block:  # a genuine U+FFFD would pass for a replacement: decide line by line
        return any(not line.isascii() and _decodes(line) for line in block.split(b"\n"))
    e = np.frombuffer(block.decode("utf-8", "replace").encode("utf-8"), np.uint8)
    starts = np.concatenate(([0], np.flatnonzero(e == 0x0A) + 1))
    starts = starts[starts < len(e)]
    # per byte 0 ASCII, 1 other non-ASCII, 2 start of a U+FFFD (EF BF BD): a line whose maximum is 1 is valid
    # UTF-8 with non-ASCII characters
    level = (e >= 0x80).view(np.int8).copy()
    level[:-2] += (e[:-2] == 0xEF) & (e[1:-1] == 0xBF) & (e[2:] == 0xBD)
    return bool((np.maximum.reduceat(level, starts) == 1).any())


def _decodes(line: bytes) -> bool:
    try:
        line.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


# Characters `decode_bytes` takes as the sign of a wrong GB18030 guess (C1 controls U+0080-U+009F, private use
# U+E000-U+F8FF), as they start in UTF-8: C2 80-9F, EE, EF 80-A3
def _first_suspicious(enc: bytes) -> int | None:
    """Byte offset of the first suspicious character in UTF-8 `enc`, or None."""
    e = np.frombuffer(enc, np.uint8)
    at = np.flatnonzero((e == 0xC2) | (e == 0xEE) | (e == 0xEF))  # rare in Chinese text: check those only
    nxt = np.append(e, np.uint8(0))[at + 1]
    lead = e[at]
    hit = ((lead == 0xC2) & (nxt >= 0x80) & (nxt <= 0x9F)) | (lead == 0xEE) | ((lead == 0xEF) & (nxt <= 0xA3))
    return int(at[hit][0]) if hit.any() else None


def _gb18030_to_utf8(path: Path, out: BinaryIO | None = None) -> bool:
    """Check a file that is not UTF-8 as GB18030, block by block, raising exactly the errors `decode_bytes`
    raises for it (mixed encodings first, then undecodable, then suspicious characters); with `out`, also
    write its UTF-8 re-encoding there. Returns whether the text holds a double quote."""
    mixed = failed = quoted = False
    lines, suspicious_line = 0, None
    for block in _line_blocks(path):
        # the file is not valid UTF-8, so it has a non-UTF-8 line: one valid non-ASCII UTF-8 line makes it mixed
        if _has_utf8_line(block):
            mixed = True
            break
        if not failed:
            try:
                text = block.decode("gb18030")
            except UnicodeDecodeError:
                failed = True
            else:
                enc = text.encode("utf-8")
                if suspicious_line is None and (bad := _first_suspicious(enc)) is not None:
                    suspicious_line = lines + enc.count(b"\n", 0, bad) + 1
                quoted = quoted or b'"' in enc
                if out is not None:
                    out.write(enc)
        lines += block.count(b"\n")
    if mixed:
        _refuse_mixed(path.read_bytes(), path)  # builds the exact message (line lists) and raises
        raise _Fallback("mixed-encoding check disagrees")  # pragma: no cover - _refuse_mixed raised
    if failed:
        raise InputError(
            "cannot decode file as UTF-8 or GB18030",
            file=str(path),
            hint="re-export the table from CSMAR as UTF-8 CSV or xlsx",
        )
    if suspicious_line is not None:
        raise InputError(
            "file decodes as neither UTF-8 nor clean GB18030 (suspicious character at line "
            f"{suspicious_line})",
            file=str(path),
            hint="check the file's encoding; re-export as UTF-8",
        )
    return quoted


def _read_fast(path: Path, needed: list[str], coded: frozenset[str]) -> pd.DataFrame:
    """`_read_text_frame`'s frame restricted to the `needed` columns, via pyarrow; `_Fallback` if not exact.

    A GB18030 file is checked in one streamed pass, then parsed by pyarrow through its own streaming
    transcoder (Python's gb18030 codec, so the same text): no decoded copy of the licensed file is ever
    written to disk, where a killed process would leave it behind."""
    blank, utf8, quoted = _scan_utf8(path)
    if blank:
        raise InputError("file is empty", file=str(path), hint="re-download the table")
    if utf8:
        return _arrow_frame(path, path, needed, coded, quoted)
    quoted = _gb18030_to_utf8(path)
    df = _arrow_frame(path, path, needed, coded, quoted, encoding="gb18030")
    # logged once read (a fallback logs it itself), as the reference reader does
    log.info("%s: no UTF-8, decoded as GB18030 (detected, no declaration needed)", path)
    return df


def _arrow_frame(
    src: Path, path: Path, needed: list[str], coded: frozenset[str], quoted: bool, encoding: str = "utf8"
) -> pd.DataFrame:
    """Parse `src` (the table `path`, UTF-8 or, with `encoding`, GB18030) with pyarrow, all cells as strings.
    Without any double quote in the file, no value can span lines: pyarrow then splits blocks in parallel.
    `coded` columns are dictionary-encoded while parsing: 33M stock codes, dates or labels then take ~4 bytes
    a row instead of ~20, and their string work runs once per distinct value (`_unique_map`)."""
    sep = "\t" if path.suffix.lower() == ".txt" else ","
    try:
        # pandas names the columns itself (\"Unnamed: 2\", deduplication): read just its header
        names = list(
            pd.read_csv(
                src,
                sep=sep,
                dtype=str,
                keep_default_na=False,
                header=0,
                nrows=0,
                encoding="utf-8-sig" if encoding == "utf8" else encoding,
            ).columns
        )
    except Exception as exc:  # a header pandas cannot parse: let the reference reader report it
        raise _Fallback(f"header: {type(exc).__name__}") from exc
    clean = [str(c).strip().lstrip("\ufeff") for c in names]
    want = list(dict.fromkeys(needed))
    if len(names) < 2 or any(clean.count(c) != 1 for c in want):
        raise _Fallback("fields missing or ambiguous")  # the reference reader's messages cover these
    idx = [clean.index(c) for c in want]
    last = len(names) - 1
    cols = [f"f{i}" for i in range(len(names))]
    include = [cols[i] for i in sorted(set(idx) | ({last} if quoted else set()))]
    as_dict = {cols[i] for i in idx if clean[i] in coded}
    # large_string is what pandas' str dtype holds: no conversion copy afterwards
    types = {
        c: pa.dictionary(pa.int32(), pa.large_string()) if c in as_dict else pa.large_string()
        for c in include
    }
    try:
        table = pacsv.read_csv(
            src,
            # the header is row 0: pyarrow checks its width
            read_options=pacsv.ReadOptions(column_names=cols, encoding=encoding),
            parse_options=pacsv.ParseOptions(
                delimiter=sep,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=quoted,
                ignore_empty_lines=True,
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=include,
                column_types=types,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        # rows of another width (pandas pads them or turns a column into the index), whitespace-only lines
        raise _Fallback(f"pyarrow: {str(exc)[:200]}") from exc
    if quoted and table.num_rows and _unterminated_quote(src, table.column(cols[last])[-1].as_py(), encoding):
        raise _Fallback("quote open at end of file")  # pandas refuses it ("EOF inside string"), pyarrow not
    table = table.slice(1).unify_dictionaries()  # row 0 is the header row
    return pd.DataFrame(
        {
            names[i]: _categorical(table.column(cols[i]))
            if cols[i] in as_dict
            else _str_values(table.column(cols[i]))
            for i in idx
        },
        copy=False,
    )


def _unterminated_quote(src: Path, last_value: str, encoding: str = "utf8") -> bool:
    """Whether the file may end inside a quoted field: pyarrow then returns everything after the opening quote
    as the last value, so the file ends with that quote and the value re-escaped. Conservative (a closed
    empty quoted field at EOF also matches): a match only costs the reference reader."""
    tail = ('"' + last_value.replace('"', '""')).encode(encoding)
    with open(src, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        if size < len(tail):
            return False
        fh.seek(size - len(tail))
        return fh.read() == tail


def _str_values(col: pa.ChunkedArray) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """An Arrow string column as the array pandas' `dtype=str` reading gives (pyarrow-backed str in pandas 3,
    Python objects in pandas 2)."""
    if isinstance(_STR_DTYPE, np.dtype):
        return col.to_numpy(zero_copy_only=False)
    return pd.array(col, dtype=_STR_DTYPE)


def _categorical(col: pa.ChunkedArray) -> pd.Categorical:
    """A dictionary-encoded Arrow column (one dictionary for all chunks) as a Categorical of its strings."""
    if col.num_chunks == 0:
        return pd.Categorical.from_codes(
            np.zeros(0, np.int32),
            categories=pd.Index(_str_values(pa.chunked_array([], pa.large_string()))),
            validate=False,
        )
    codes = np.concatenate([np.asarray(c.indices, dtype=np.int32) for c in col.chunks])
    categories = pd.Index(_str_values(pa.chunked_array([col.chunk(0).dictionary])))
    return pd.Categorical.from_codes(codes, categories=categories, validate=False)


def _unique_map(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(codes, uniques) of a column, NaN included as a value: element-wise string work is done once per
    distinct value (a few hundred thousand stock codes or dates for tens of millions of rows) and mapped back
    with `_take`, which gives exactly the element-wise result. Uniques are values that occur (a categorical's
    unused categories, e.g. the header labels sliced off, are dropped: they might not even parse)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = np.asarray(values.cat.codes)
        categories = values.cat.categories
        if (codes < 0).any():  # NaN, as one more distinct value
            categories = categories.append(pd.Index([np.nan], dtype=categories.dtype))
            codes = np.where(codes < 0, len(categories) - 1, codes)
        used = np.bincount(codes, minlength=len(categories)) > 0
        if not used.all():
            codes = (np.cumsum(used) - 1)[codes]
            categories = categories[used]
        return codes, pd.Series(categories.array)
    codes, uniques = pd.factorize(values.array, use_na_sentinel=False)
    return codes, pd.Series(uniques)


def _as_text(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """`_unique_map(values.astype(str))`, without first turning a categorical into one string per row."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = _unique_map(values)
        return codes, uniques.astype(str)
    return _unique_map(values.astype(str))


def _strip(values: pd.Series) -> pd.Series:
    """`values.astype(str).str.strip()`; once per distinct value for a categorical."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = _as_text(values)
        return _take(uniques.str.strip(), codes, values)
    return values.astype(str).str.strip()


def _take(uniques: pd.Series, codes: np.ndarray, like: pd.Series | pd.DataFrame) -> pd.Series:
    """The per-row values of `uniques` (see `_unique_map`), indexed (and named) like `like`."""
    return pd.Series(uniques.array.take(codes), index=like.index, name=getattr(like, "name", None))


# A stock code as vendors and spreadsheets write it: 1-6 digits (leading zeros may be lost), a spreadsheet's
# '.0', an exchange suffix or prefix (000002.SZ, SH600519, 600519.XSHG). Full-width digits are folded to ASCII
# (NFKC) first. Anything else is refused, never guessed.
_EXCHANGES = "SZ|SH|BJ|SS|SZSE|SSE|BSE|XSHE|XSHG|XBSE"
_CODE = re.compile(
    rf"^(?:(?:{_EXCHANGES})[.:]?)?([0-9]{{1,6}})(?:\.0+)?(?:\.(?:{_EXCHANGES}))?$", re.IGNORECASE
)
_PLAIN_CODE = re.compile(r"^[0-9]{1,6}(?:\.0+)?$")


def _fold(values: pd.Series) -> pd.Series:
    """NFKC (full-width digits, letters and punctuation to ASCII; U+3000 to a space), then stripped."""
    return values.str.normalize("NFKC").str.strip()


def _code_like(values: pd.Series) -> pd.Series:
    """Whether each string is a stock code in one of the accepted spellings (see `_CODE`)."""
    return _fold(values.astype(str)).str.match(_CODE)


def normalize_ids(
    values: pd.Series, path: str | Path, column: str, first_line: int = 2, notes: list[dict] | None = None
) -> pd.Series:
    """Six-character zero-padded stock codes; spreadsheet artefacts like '2.0', full-width digits and exchange
    suffixes/prefixes ('000002.SZ') are repaired and counted, anything else refused. `first_line` is the file
    line of the first value (the rows of an error are file lines)."""
    # once per distinct code: the regex below runs in Python (a compiled pattern), ~1 us a row at 33M rows
    codes, uniq = _as_text(values)
    s = uniq.str.strip()
    u = s.str.replace(r"\.0+$", "", regex=True)
    plain = u.str.match(ID_PATTERN).to_numpy()
    if not plain.all():  # the rare spellings: folded and matched only where the plain pattern fails
        fixed = _fold(s).str.extract(_CODE, expand=False)
        ok = fixed.notna().to_numpy()
        bad = ~(plain | ok)[codes]
        if bad.any():
            at = np.flatnonzero(bad)
            rows = (at[:5] + first_line).tolist()
            shown = [clip(x, 30) if isinstance(x, str) else x for x in u.iloc[codes[at[:3]]]]
            raise InputError(
                f"stock codes that are not 1-6 digits, e.g. {shown}",
                file=str(path),
                column=column,
                rows=rows,
                hint="codes must be numeric six-digit A/B-share codes",
            )
        repaired = ~plain & ok
        n = int(repaired[codes].sum())
        example = s.iloc[int(np.argmax(repaired))]
        log.info(
            "%s: %d stock code(s) in %s written with an exchange suffix/prefix or full-width digits (e.g. %r) "
            "reduced to their digits",
            path,
            n,
            column,
            example,
        )
        if notes is not None:
            notes.append(
                {
                    "item": f"{column}: stock codes with exchange suffix/prefix or full-width digits "
                    f"(e.g. {clip(example, 20)}) reduced to the 6-digit code",
                    "rows": n,
                    "decision": "kept; code normalised",
                }
            )
        u = u.where(plain, fixed)
    short = (u.str.len() < 6).to_numpy()[codes]
    padded = int(short.sum())
    if padded:
        log.info(
            "%s: %d stock code(s) in %s had lost leading zeros (e.g. %s) and were zero-padded to 6 digits",
            path,
            padded,
            column,
            u.iloc[codes[np.argmax(short)]],
        )
    return _take(u.str.zfill(6), codes, values)


# Row 2 (Chinese field names) and row 3 (units) of a CSMAR export are recognised by their ID cell: not a code
# and without any digit (a data row with a broken code, e.g. 'ABC123', stays data and is refused as such).
_NO_UNIT = {"没有单位", "无单位", "无", "", "no unit", "none", "n/a"}


def _header_like(row: pd.Series, id_col: str) -> bool:
    """Whether a row below the field codes is a header row: its ID cell is a label (no code, no digit) and no
    cell starts like a number or date (a data row whose code is broken, e.g. 'ABC', is data, refused later)."""
    c = unicodedata.normalize("NFKC", str(row[id_col])).strip()
    if not c or _CODE.match(c) or re.search(r"[0-9]", c):
        return False
    return not any(re.match(r"^[-+]?\.?[0-9]", unicodedata.normalize("NFKC", str(v)).strip()) for v in row)


def _units_row(lead_rows: pd.DataFrame, id_col: str, numeric_codes: list[str]) -> int | None:
    """Which of the (one or two) header rows below the field codes is the units row, if any: CSMAR's third
    row, or a single extra row whose ID cell says 'no unit' or whose numeric fields hold unit labels."""
    if len(lead_rows) == 2:
        return 1
    if len(lead_rows) == 1:
        row = lead_rows.iloc[0]
        if unicodedata.normalize("NFKC", str(row[id_col])).strip().lower() in _NO_UNIT - {""}:
            return 0
        known = set().union(*UNIT_LABELS.values()) - {""}
        if any(unicodedata.normalize("NFKC", str(row[c])).strip() in known for c in numeric_codes):
            return 0
    return None


def read_csmar_table(path: str | Path, spec: dict, table: str) -> pd.DataFrame:
    """Read one CSMAR file (the first part carrying the header) and return columns Stkcd, [date, year], then
    the configured fields renamed, as strings. See `load_table` for a whole table (parts, units, codes)."""
    path = Path(path)
    out, _, _ = _read_part(_read_raw_frames(path, *_needed(spec, table), id_col=spec["id"])[:1], spec, table)
    out.pop("_line")
    return out


def _needed(spec: dict, table: str) -> tuple[list[str], frozenset[str]]:
    id_col, date_col, fields = spec["id"], spec.get("date"), spec["fields"]
    needed = [id_col] + ([date_col] if date_col else []) + list(fields.values())
    # text columns (codes, dates, labels) are read as categoricals; numeric fields are mostly distinct values
    numeric = {fields[n] for n in NUMERIC_FIELDS.get(table, []) if n in fields}
    return needed, frozenset(c for c in needed if c not in numeric)


def _read_part(
    pieces: list[tuple[str, pd.DataFrame]], spec: dict, table: str, notes: list[dict] | None = None
) -> tuple[pd.DataFrame, dict[str, float], str]:
    """The first raw part (a file or a sheet) of `pieces`, taken out of the list (so its raw columns can be
    released as they are used), as Stkcd, [date, year], the configured fields (strings) and `_line` (the
    file line of each row); the unit factor of each numeric field (units row or config); its label."""
    file, df = pieces.pop(0)
    id_col, date_col, fields = spec["id"], spec.get("date"), spec["fields"]
    needed = [id_col] + ([date_col] if date_col else []) + list(fields.values())
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        names = [clip(c, 40) for c in df.columns[:200]]
        close = {
            m: [c for c in names if c.lower() == m.lower()]
            or difflib.get_close_matches(m, [c for c in names if c not in needed], n=1, cutoff=0.8)
            for m in missing
        }
        hint = "; ".join(
            f"{m}: did you mean {close[m][0]}? (rename it in the file, or set the field code in "
            f"config/config.yaml under csmar.{table})"
            for m in missing
            if close[m]
        ) or (
            f"available fields: {', '.join(names[:30])}; remap in config/config.yaml under csmar.{table}.fields"
        )
        if len(df.columns) == 1:
            seps = [
                n
                for s, n in (("\t", "tabs"), (",", "commas"), (";", "semicolons"), ("|", "bars"))
                if s in str(df.columns[0])
            ]
            if seps:
                hint = (
                    f"the header is one field holding {seps[0]}: the file is not separated the way its "
                    "extension says (.csv: commas, .txt: tabs); save it with the matching extension"
                )
        raise InputError(
            f"table {table} lacks field(s) {missing}", file=file, column=", ".join(missing), hint=hint
        )
    # only the first two rows can be header rows: test just those
    top = df[list(dict.fromkeys(needed))].iloc[:2]
    lead = 0
    while lead < len(top) and _header_like(top.iloc[lead], id_col):
        lead += 1
    del top  # a slice still holds the whole raw columns
    numeric = [n for n in NUMERIC_FIELDS.get(table, []) if n in fields]
    unit_at = _units_row(df.iloc[:lead], id_col, [fields[n] for n in numeric]) if lead else None
    units_line = None if unit_at is None else unit_at + 2
    units = (
        {n: unicodedata.normalize("NFKC", str(df[fields[n]].iloc[unit_at])).strip() for n in numeric}
        if unit_at is not None
        else {}
    )
    factors = _unit_factors(table, spec, units, file, units_line)
    df = df.iloc[lead:].reset_index(drop=True)
    if df.empty:
        raise InputError(
            f"table {table} has a header but no data rows", file=file, hint="re-download the table with data"
        )
    first_line = lead + 2
    # raw columns are handed over one at a time and released after their last use: at 33M rows each holds
    # ~0.5 GB, and keeping them all next to the typed copies doubled the peak memory
    uses = Counter(needed)
    raw = {c: df[c] for c in uses}
    n_rows = len(df)
    del df

    def column(code: str) -> pd.Series:
        uses[code] -= 1
        return raw[code] if uses[code] else raw.pop(code)

    out = pd.DataFrame({"Stkcd": normalize_ids(column(id_col), file, id_col, first_line, notes)})
    if date_col:
        # a few hundred distinct dates for millions of rows: parse each once
        codes, uniq = _as_text(column(date_col))
        d = _fold(uniq).str[:10]
        ok = pd.Series(d.str.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$").to_numpy()[codes])
        if not ok.all():
            rows = (np.flatnonzero(~ok.to_numpy())[:5] + first_line).tolist()
            raise InputError("dates not in YYYY-MM-DD form", file=file, column=date_col, rows=rows)
        out["date"] = _take(d, codes, out)
        out["year"] = d.str[:4].astype(np.int64).to_numpy()[codes]
    for name, code in fields.items():
        out[name] = _strip(column(code))
    out["_line"] = np.arange(first_line, first_line + n_rows, dtype=np.int32)  # 4 bytes a row at 33M rows
    out.attrs["file"] = file
    out.attrs["header_rows"] = 1 + lead
    return out, factors, file


# Plain decimals ("-1234.56") parse to the same double in pyarrow as in pd.to_numeric (both correctly rounded;
# checked on millions of values up to 18+18 digits): pyarrow casts those ~15x faster; every other string
# (exponents, blanks, text, huge numbers) still goes through pd.to_numeric.
_PLAIN_DECIMAL = r"^-?[0-9]{1,18}(\.[0-9]{1,18})?$"


def _arrow_backed(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow"


def _parse_numbers(s: pd.Series) -> pd.Series:
    """pd.to_numeric(s, errors="coerce").astype(float), faster on Arrow-backed strings."""
    if not _arrow_backed(s):
        return pd.to_numeric(s, errors="coerce").astype(float)
    arr = s.array.__arrow_array__()
    plain = pc.fill_null(pc.match_substring_regex(arr, _PLAIN_DECIMAL), False)
    if pc.all(plain).as_py() is not False:  # every value plain (or none at all)
        return pd.Series(np.asarray(pc.cast(arr, pa.float64()), dtype=float), index=s.index, name=s.name)
    num = np.full(len(s), np.nan)
    is_plain = np.asarray(plain, dtype=bool)
    num[is_plain] = np.asarray(pc.cast(arr.filter(plain), pa.float64()), dtype=float)
    rest = ~is_plain
    num[rest] = pd.to_numeric(s[rest], errors="coerce").astype(float).to_numpy()
    return pd.Series(num, index=s.index, name=s.name)


_NA_TOKENS = ["", "nan", "NaN", "NA", "--", "null", "None"]


def to_numeric(df: pd.DataFrame, columns: list[str], file: str, codes: dict | None = None) -> pd.DataFrame:
    """Blank -> NaN; anything else must parse as a finite number (thousands separators tolerated).
    `codes` maps our names to the vendor field codes, for the error message."""
    return _to_numeric(df, columns, file, codes, stripped=False)


def _to_numeric(
    df: pd.DataFrame,
    columns: list[str],
    file: str,
    codes: dict | None,
    stripped: bool,
    labels: list[str] | None = None,
) -> pd.DataFrame:
    """`to_numeric`; `stripped`: the columns come from `read_csmar_table`, which strips them already (stripping
    twice changes nothing). On Arrow-backed strings, steps that would change nothing are skipped rather than
    copying tens of millions of strings for nothing. With `_line` in `df`, error rows are file lines (of the
    part in `labels`), and the message gives example firm-years."""
    codes = codes or {}
    df = df.copy()
    for c in columns:
        s = df[c].astype(str)
        fast = _arrow_backed(s)
        if not (stripped and fast):
            s = s.str.strip()
        if not fast or s.str.contains(",", regex=False).any():
            s = s.str.replace(",", "", regex=False)
        na = s.isin(_NA_TOKENS)
        if not fast or na.any():
            s = s.mask(na)
        num = _parse_numbers(s)
        field = f"field {codes[c]} ({c})" if c in codes else "field"
        for bad, what in ((num.isna() & s.notna(), "non-numeric"), (np.isinf(num), "non-finite (infinite)")):
            bad = bad.to_numpy()
            if not bad.any():
                continue
            ex = df.loc[bad, ["Stkcd"] + (["year"] if "year" in df else [])].head(5).to_dict("records")
            if "_line" in df:
                where, rows = _locate(df, bad, labels or [file])
                msg = f", firm-years e.g. {ex}"
            else:
                where, rows, msg = file, ex, ""
            raise InputError(
                f"{int(bad.sum())} {what} value(s) in numeric {field}, e.g. "
                f"{[clip(v, 30) for v in s[bad].head(3).tolist()]}{msg}",
                file=where,
                column=c,
                rows=rows,
                hint="fix or blank these cells in the export",
            )
        df[c] = num
    return df


_BOOKKEEPING = ("_line", "_part")


def _data_columns(df: pd.DataFrame) -> list:
    return [c for c in df.columns if c not in _BOOKKEEPING]


def check_unique(
    df: pd.DataFrame, keys: list[str], file: str, table: str, labels: list[str] | None = None
) -> None:
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        ex = df.loc[dup, keys].drop_duplicates().head(5).to_dict("records")
        first = df.loc[dup].groupby(keys, sort=False).head(2)
        differ = [
            c
            for c in _data_columns(df)
            if c not in keys
            and first.groupby([first[k] for k in keys], sort=False)[c].nunique(dropna=False).gt(1).any()
        ]
        rows: list = ex
        if "_line" in df:
            at = np.flatnonzero(dup.to_numpy())
            lines = df["_line"].to_numpy()[at]
            if "_part" in df and labels and len(labels) > 1:
                part = df["_part"].to_numpy()[at]
                rows = [f"{Path(labels[p]).name}:{ln}" for p, ln in zip(part, lines, strict=True)]
            else:
                rows = lines.tolist()
        raise InputError(
            f"table {table} has {int(dup.sum())} rows with duplicate keys {keys} whose values differ"
            + (f" (in {differ})" if differ else "")
            + (f", e.g. {ex}" if "_line" in df else ""),
            file=file,
            column=", ".join(keys),
            rows=rows,
            hint="a restated statement appears twice: keep the latest restatement in the export",
        )


def drop_exact_duplicates(df: pd.DataFrame, file: str, table: str) -> pd.DataFrame:
    """Rows identical in every field (a download appended twice, or the same rows in two parts) carry no
    information: drop and count them. Rows sharing a key with different values are restatements and stay for
    `check_unique` to refuse."""
    dup = df.duplicated(_data_columns(df), keep="first")
    n = int(dup.sum())
    if n:
        ex = df.loc[dup, [c for c in ("Stkcd", "year") if c in df]].head(5).to_dict("records")
        log.warning(
            "%s (%s): dropped %d row(s) identical to an earlier row in every field, e.g. %s",
            file,
            table,
            n,
            ex,
        )
        df = df[~dup].reset_index(drop=True)
    df.attrs["exact_duplicates_dropped"] = n
    return df


def _drop_cross_part_copies(df: pd.DataFrame, file: str, table: str) -> tuple[pd.DataFrame, int]:
    """For tables without a key (several rows per firm-year are legitimate): a row found in an earlier part
    is an overlap of two downloads; every copy outside the first part holding it is dropped and counted.
    Repeats within one file are the vendor's and stay."""
    cols = _data_columns(df)
    first = df.groupby(cols, dropna=False, sort=False)["_part"].transform("min")
    copy_ = (df["_part"] != first).to_numpy()
    n = int(copy_.sum())
    if n:
        log.warning(
            "%s (%s): dropped %d row(s) that repeat a row of an earlier part of the table", file, table, n
        )
        df = df[~copy_].reset_index(drop=True)
    return df, n


def annual_consolidated(df: pd.DataFrame) -> pd.DataFrame:
    """Keep consolidated (Typrep A) year-end statements (docs/methods.md#sample)."""
    keep = df["date"].str.endswith("-12-31")
    if "Typrep" in df:
        keep &= df["Typrep"].str.upper().eq("A")
    if keep.dtype == bool and keep.all():  # nothing to drop: no copy of every column (same frame otherwise)
        return df.drop(columns=[c for c in ("Typrep",) if c in df]).reset_index(drop=True)
    return df[keep].drop(columns=[c for c in ("Typrep",) if c in df]).reset_index(drop=True)


# Per-table typing: which fields are numeric, how rows are keyed, which rows are kept.
NUMERIC_FIELDS = {
    "FS_Combas": ["total_assets", "fixed_assets", "total_liabilities"],
    "FS_Comins": [
        "revenue",
        "total_operating_cost",
        "operating_cost",
        "admin_expense",
        "financial_expense",
        "net_profit",
    ],
    "FS_Comscfd": ["cash_paid_employees"],
    "CG_Ybasic": ["employees", "board_size", "duality"],
    "PT_LCRDSPENDING": ["rd_person_ratio"],
    "EMP_Structure": ["amount"],
    "QUA_Qualification": ["sign_year"],
    "FN_RegionRevenue": ["revenue"],
}
KEYS = {
    "EMP_Structure": ["Stkcd", "year", "detail"],
    "QUA_Qualification": None,
    "FN_RegionRevenue": None,
    "PT_LCRDSPENDING": ["Stkcd", "year", "state_type"],
}


# ------------------------------------------------------------------ units (CSMAR's third header row)
# Each numeric field has a kind; a unit label outside its kind's list is an error, never ignored: a table
# downloaded in 万元 read as 元 turned mean ROA into 411 with exit status 0.
MONEY_UNITS = {"元": 1.0, "千元": 1e3, "万元": 1e4, "百万元": 1e6, "亿元": 1e8}
UNIT_LABELS: dict[str, dict[str, float]] = {
    "money": MONEY_UNITS,
    "count": {"人": 1.0, "个": 1.0, "名": 1.0, "没有单位": 1.0, "": 1.0},
    "percent": {"%": 1.0},
    "code": {"没有单位": 1.0, "": 1.0, "年": 1.0},
}
UNIT_KINDS = {
    "FS_Combas": {"total_assets": "money", "fixed_assets": "money", "total_liabilities": "money"},
    "FS_Comins": {c: "money" for c in NUMERIC_FIELDS["FS_Comins"]},
    "FS_Comscfd": {"cash_paid_employees": "money"},
    "CG_Ybasic": {"employees": "count", "board_size": "count", "duality": "code"},
    "PT_LCRDSPENDING": {"rd_person_ratio": "percent"},
    "EMP_Structure": {"amount": "count"},
    "QUA_Qualification": {"sign_year": "code"},
    "FN_RegionRevenue": {"revenue": "money"},
}


def _unit_factors(
    table: str, spec: dict, units: dict[str, str], file: str, units_line: int | None
) -> dict[str, float]:
    """The factor to yuan (or 1) for each numeric field, from the file's units row, else from
    `csmar.<TABLE>.units` (default 元 for money). A unit the kind does not list, or a units row that
    contradicts the declared unit, is an error naming the file, field and line."""
    fields, declared = spec["fields"], spec.get("units") or {}
    out: dict[str, float] = {}
    for name, kind in UNIT_KINDS.get(table, {}).items():
        if name not in fields:
            continue
        allowed = UNIT_LABELS[kind]
        code = fields[name]
        if name in units:
            label = units[name]
            if name in declared and declared[name] != label:
                raise InputError(
                    f"field {code} ({name}): the file's units row says {clip(label, 20)!r}, "
                    f"config declares {declared[name]!r}",
                    file=file,
                    column=code,
                    rows=[units_line],
                    hint=f"remove csmar.{table}.units.{name} (the units row decides) or fix the file",
                )
            where = f"units row (line {units_line})"
        else:
            label = str(declared.get(name, "元" if kind == "money" else next(iter(allowed))))
            where = f"csmar.{table}.units"
        if label not in allowed:
            shown = ", ".join(repr(k) for k in allowed if k)
            raise InputError(
                f"unit {clip(label, 30)!r} of field {code} ({name}) in the {where} is not one of {shown}",
                file=file,
                column=code,
                rows=[units_line] if name in units else None,
                hint=f"re-download the table in one of these units, or (file without a units row) "
                f"declare the unit as csmar.{table}.units.{name} in config/config.yaml",
            )
        out[name] = allowed[label]
    if not units and any(UNIT_KINDS.get(table, {}).get(n) == "money" for n in fields) and not declared:
        log.info("%s: no units row; money fields taken in 元 (declare csmar.%s.units otherwise)", file, table)
    return out


# ------------------------------------------------------------------ coded fields
# Every coded field is read through a declared mapping {value as written: canonical code}; a value the
# mapping lacks is an error naming file, field, values and lines (an unmapped EquityNatureID written '1、2'
# once silently became 'private'). Values are folded (NFKC: full-width digits and punctuation), stripped and
# looked up case-insensitively; a spreadsheet's '1.0' is '1'. `split: true` fields hold several codes
# ('1,2', '1、2', '1；2', '1/2', '1 2'), each mapped and joined with ','. Blank stays blank (missing).
# config/config.yaml declares these under csmar.<TABLE>.codes; DEFAULT_CODES is the same declaration for a
# spec without `codes` (a test keeps the two equal).
DEFAULT_CODES: dict[str, dict] = {
    "Typrep": {"map": {"A": "A", "B": "B", "C": "C", "D": "D"}},
    "equity_nature": {"split": True, "map": {"1": "1", "2": "2", "3": "3", "4": "4"}},
    "state_type": {"map": {"1": "1", "2": "2"}},
    "duality": {"map": {"1": "1", "2": "2"}},
}
_CODE_SEPARATORS = re.compile(r"\s*[,;、/|]\s*|\s+")


def code_tokens(value: str) -> list[str]:
    """The codes of a multi-valued coded cell as written ('1、2', '1；2', '１,２'), folded and stripped."""
    v = unicodedata.normalize("NFKC", str(value)).strip()
    return [t for t in _CODE_SEPARATORS.split(v) if t] if v else []


def _canonical(value: str, rule: dict, lookup: dict[str, str]) -> tuple[str | None, list[str]]:
    """(canonical value or None, unmapped tokens) of one distinct cell."""
    v = unicodedata.normalize("NFKC", str(value)).strip()
    if not v:
        return "", []
    tokens = code_tokens(v) if rule.get("split") else [v]
    out, bad = [], []
    for t in tokens:
        key = re.sub(r"^([0-9]+)\.0+$", r"\1", t).casefold()
        if key in lookup:
            if lookup[key] not in out:
                out.append(lookup[key])
        else:
            bad.append(t)
    return (",".join(out) if not bad else None), bad


def apply_codes(df: pd.DataFrame, spec: dict, table: str, labels: list[str]) -> pd.DataFrame:
    """Map every coded field of the table through its declaration (spec `codes`, else DEFAULT_CODES);
    `labels` are the part files (for `_part`). Unmapped values raise `InputError` with their file lines."""
    declared = {**DEFAULT_CODES, **(spec.get("codes") or {})}
    for name, rule in declared.items():
        if name not in df or name not in spec["fields"]:
            continue
        lookup = {str(k).casefold(): str(v) for k, v in rule["map"].items()}
        codes, uniq = _as_text(df[name])
        mapped = [_canonical(u, rule, lookup) for u in uniq]
        bad_u = np.array([m[0] is None for m in mapped])
        if bad_u.any():
            bad = bad_u[codes]
            values = sorted({t for m in mapped if m[0] is None for t in m[1]})
            file, rows = _locate(df, bad, labels)
            code = spec["fields"][name]
            raise InputError(
                f"{int(bad.sum())} value(s) of coded field {code} ({name}) not in its declared "
                f"mapping: {[clip(v, 30) for v in values[:10]]}",
                file=file,
                column=code,
                rows=rows,
                hint=f"add them to csmar.{table}.codes.{name}.map in config/config.yaml (value as "
                f"written: code), or correct the export; declared: {sorted(rule['map'])}",
            )
        canon = pd.Series([m[0] for m in mapped], dtype=str)
        if not (canon.to_numpy() == uniq.to_numpy()).all():
            df[name] = _take(canon, codes, df[name])
    return df


def _locate(df: pd.DataFrame, mask: np.ndarray, labels: list[str]) -> tuple[str, list]:
    """(file, file lines) of the rows in `mask`: the first part holding any, its lines; with `_line`
    absent (a frame not from `load_table`) the Stkcd/year of the rows instead."""
    at = np.flatnonzero(mask)
    if "_line" not in df:
        rows = df.iloc[at[:5]][[c for c in ("Stkcd", "year") if c in df]].to_dict("records")
        return (labels[0] if labels else None), rows
    lines = df["_line"].to_numpy()
    if "_part" in df:
        part = df["_part"].to_numpy()[at]
        first = int(part[0])
        others = sorted({labels[int(p)] for p in np.unique(part) if p != first})
        at = at[part == first]
        file = labels[first] + (f" (also in {[Path(o).name for o in others]})" if others else "")
        return file, lines[at[:10]].tolist()
    return labels[0], lines[at[:10]].tolist()


def _order_key(df: pd.DataFrame, cols: list[str]) -> np.ndarray | None:
    """One int64 per row whose order is `sort_values(cols)`'s (NaN last) and whose equality is `duplicated`'s:
    each column factorized in sorted order, as pandas itself does, then combined. None if it would overflow."""
    key = np.zeros(len(df), np.int64)
    span = 1
    for c in cols:
        codes, uniques = pd.factorize(df[c], sort=True)
        n = len(uniques) + 1
        span *= n
        if span >= 2**62:
            return None
        if (codes < 0).any():
            codes = np.where(codes < 0, n - 1, codes)
        key *= n
        key += codes
    return key


def _has_duplicate_keys(df: pd.DataFrame, keys: list[str], key: np.ndarray | None) -> bool:
    if key is None:
        return bool(df.duplicated(keys).any())
    if len(key) < 2 or (key[1:] > key[:-1]).all():  # strictly increasing: the usual, sorted export
        return False
    k = np.sort(key)
    return bool((k[1:] == k[:-1]).any())


def _sort_stable(df: pd.DataFrame, cols: list[str], key: np.ndarray | None) -> pd.DataFrame:
    """`df.sort_values(cols, kind="stable").reset_index(drop=True)` without re-hashing the string columns,
    and without moving any data when the export is already in order. Consumes `df` (its columns are moved)."""
    if key is None:
        return df.sort_values(cols, kind="stable").reset_index(drop=True)
    if len(key) < 2 or (key[1:] >= key[:-1]).all():
        return df.reset_index(drop=True)
    order = np.argsort(key, kind="stable")
    # column by column, each unsorted column released once copied: one column's worth of extra memory
    # instead of a second copy of the whole table
    out = pd.DataFrame({c: df.pop(c).array.take(order) for c in list(df.columns)}, copy=False)
    out.attrs = copy.deepcopy(df.attrs)
    return out


def load_table(
    path: str | Path | list, spec: dict, table: str, notes: list[dict] | None = None
) -> pd.DataFrame:
    """Read, filter (statements) and type one CSMAR table; the result is what `read_tables` writes.

    `path` is one file (read with the other parts of its stem beside it, see `table_files`), a folder (the
    table's parts found there by `spec["file"]`) or a list of files (exactly those). Parts and the sheets of a
    workbook that carry the header are combined; rows repeated across parts are dropped. Units rows are
    applied, coded fields mapped (`apply_codes`), numbers must be finite. Every removed row and every repair
    is logged and, with `notes` (a list), appended to it as {"table", "item", "rows", "decision"}: the
    step writes them next to the parquet for the sample notes."""
    parts = _resolve_parts(path, spec, table)
    needed, coded = _needed(spec, table)
    own: list[dict] = []
    frames, labels, factors = [], [], []
    for p in parts:
        pieces = _read_raw_frames(p, needed, coded, id_col=spec["id"])
        while pieces:
            frames.append(None)
            frames[-1], f, label = _read_part(pieces, spec, table, own)  # no other name holds the frame
            labels.append(label)
            factors.append(f)
    if len(frames) == 1:
        df = frames.pop()
        file = labels[0]
    else:
        sizes = [len(f) for f in frames]
        file = f"{labels[0]} (+{len(labels) - 1} more part(s))"
        header_rows = frames[0].attrs["header_rows"]
        df = pd.concat(frames, ignore_index=True)
        df["_part"] = np.repeat(np.arange(len(frames), dtype=np.int16), sizes)
        df.attrs = {"file": file, "header_rows": header_rows}
        desc = ", ".join(f"{_short(lb)} ({n:,} rows)" for lb, n in zip(labels, sizes, strict=True))
        log.info("%s: %d parts combined: %s", table, len(frames), desc)
        own.append({"item": f"parts combined: {desc}", "rows": int(sum(sizes)), "decision": "read"})
    del frames
    df = apply_codes(df, spec, table, labels)
    if table.startswith("FS_"):
        df = annual_consolidated(df)
    elif "date" in df:
        keep = df["date"].str.endswith("-12-31")
        df = (df if keep.dtype == bool and keep.all() else df[keep]).reset_index(drop=True)
    num = [c for c in NUMERIC_FIELDS.get(table, []) if c in df]
    df = _to_numeric(df, num, file, spec.get("fields", {}), stripped=True, labels=labels)
    _apply_units(df, factors, table, own)
    # Arrow's allocator keeps freed blocks for reuse; hand the raw and intermediate columns back to the OS
    # before the sort allocates its copies (the process' peak RSS is what the scheduler has to grant)
    pa.default_memory_pool().release_unused()
    keys = KEYS.get(table, ["Stkcd", "year"])
    sort = [c for c in ("Stkcd", "year", "detail", "sign_year", "region") if c in df]
    key_of: dict[tuple[str, ...], np.ndarray | None] = {}
    if keys:
        key_of[tuple(keys)] = _order_key(df, keys)
        # unique keys imply no row repeated in every field: the two full checks below only run when needed
        if _has_duplicate_keys(df, keys, key_of[tuple(keys)]):
            df = drop_exact_duplicates(df, file, table)
            check_unique(df, keys, file, table, labels)
            key_of.clear()  # rows were dropped
            if df.attrs["exact_duplicates_dropped"]:
                own.append(
                    {
                        "item": "rows identical in every field to an earlier row (same file or another part) "
                        "dropped",
                        "rows": df.attrs["exact_duplicates_dropped"],
                        "decision": "dropped",
                    }
                )
        else:
            df.attrs["exact_duplicates_dropped"] = 0  # what drop_exact_duplicates records for none
    elif "_part" in df:
        df, n = _drop_cross_part_copies(df, file, table)
        if n:
            key_of.clear()
            own.append(
                {
                    "item": "rows repeating a row of an earlier part (overlapping downloads) dropped",
                    "rows": n,
                    "decision": "dropped",
                }
            )
    for c in ("date", *_BOOKKEEPING):
        if c in df:
            del df[c]
    if notes is not None:
        notes.extend({"table": table, **n} for n in own)
    key = key_of[tuple(sort)] if tuple(sort) in key_of else _order_key(df, sort)
    return _sort_stable(df, sort, key)


def _short(label: str) -> str:
    """A part's label without its folder: 'FS_Combas1.csv', 'CG_Ybasic.xlsx [sheet sheet2]'."""
    path, sep, sheet = label.partition(" [sheet ")
    return Path(path).name + (sep + sheet if sep else "")


def _apply_units(df: pd.DataFrame, factors: list[dict[str, float]], table: str, notes: list[dict]) -> None:
    """Numeric fields to yuan: each part's factor (from its units row) applied to its rows, in place."""
    for name in NUMERIC_FIELDS.get(table, []):
        per_part = np.array([f.get(name, 1.0) for f in factors])
        if name not in df or (per_part == 1.0).all():
            continue
        scale = per_part[df["_part"].to_numpy()] if "_part" in df else per_part[0]
        df[name] = df[name].to_numpy() * scale
        units = sorted({k for k, v in MONEY_UNITS.items() if v in per_part and v != 1.0}, key=MONEY_UNITS.get)
        log.info("%s: %s given in %s, converted to 元", table, name, "/".join(units))
        rows = int(np.count_nonzero(np.broadcast_to(scale, len(df)) != 1.0))
        notes.append(
            {
                "item": f"{name} given in {'/'.join(units)}: converted to 元",
                "rows": rows,
                "decision": "kept; converted",
            }
        )


def read_csv_config(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A small CSV shipped in config/ (crosswalk, regions, classes), as strings: UTF-8 (BOM optional) or
    GB18030 (a crosswalk edited in Excel on a Chinese Windows), with errors naming the file."""
    path = Path(path)
    _check_readable(
        path,
        "restore the file from the repository (git checkout config/) or fix its path in "
        "config/config.yaml (paths:)",
    )
    df = _read_small_csv(path, "restore it from the repository")
    df.columns = [str(c).strip() for c in df.columns]
    _require_columns(df, columns or [], path)
    return df


def _read_small_csv(path: Path, empty_hint: str, hint: str | None = None) -> pd.DataFrame:
    """A small CSV, every cell a string, columns as pandas names them; `hint` goes with a parse error."""
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError("file is empty", file=str(path), hint=empty_hint)
    text, _ = decode_bytes(raw, path)
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"malformed CSV: {clip(exc, 300)}", file=str(path), hint=hint) from exc


def _require_columns(df: pd.DataFrame, columns: list[str], path: Path, hint: str = "") -> None:
    """Refuse a frame that lacks any of `columns`, listing those present (then `hint`, if any)."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"missing column(s) {missing}",
            file=str(path),
            column=", ".join(missing),
            hint=f"columns present: {[clip(c, 30) for c in df.columns[:20]]}" + (f"; {hint}" if hint else ""),
        )


# ------------------------------------------------------------------ IFR robots and base-year employment
# Industry codes are declared (config ifr.industry_codes / ifr.aggregate_codes; these are the defaults):
# a listed industry is kept, an aggregate (a TOTAL row per country-year) dropped and counted, anything
# else refused; codes are matched after folding case and width ('d' is D).
IFR_INDUSTRY_CODES = [
    "10-12",
    "13-15",
    "16",
    "17-18",
    "19-22",
    "23",
    "24",
    "25",
    "26-27",
    "28",
    "29",
    "30",
    "91",
    "D",
    "99",
]
IFR_AGGREGATE_CODES = ["TOTAL", "ALL", "ALL INDUSTRIES"]


def read_ifr(
    robots_path: str | Path,
    employment_path: str | Path,
    spec: dict | None = None,
    notes: list[dict] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """IFR robots and base-year employment, typed and keyed by (country, industry, year). `spec` is config
    `ifr` (its `industry_codes` / `aggregate_codes`, defaults above); removed aggregate rows are logged and,
    with `notes`, appended as {"table", "item", "rows", "decision"}."""
    spec = spec or {}
    industries = [str(c) for c in spec.get("industry_codes", IFR_INDUSTRY_CODES)]
    aggregates = [str(c) for c in spec.get("aggregate_codes", IFR_AGGREGATE_CODES)]
    out = []
    for path, name, key, columns, numeric in (
        (
            robots_path,
            "ifr_robots",
            "robots_file",
            ["country", "industry", "year", "installations", "operational_stock"],
            ["year", "installations", "operational_stock"],
        ),
        (
            employment_path,
            "employment_base",
            "employment_file",
            ["country", "industry", "year", "employment"],
            ["year", "employment"],
        ),
    ):
        df = _read_plain_csv(path, columns, numeric, key)
        df = _ifr_industries(df, str(path), name, industries, aggregates, notes)
        check_unique(df.drop(columns="_line"), ["country", "industry", "year"], str(path), name)
        out.append(df.drop(columns="_line"))
    return out[0], out[1]


def _ifr_industries(
    df: pd.DataFrame,
    file: str,
    table: str,
    industries: list[str],
    aggregates: list[str],
    notes: list[dict] | None,
) -> pd.DataFrame:
    fold = {unicodedata.normalize("NFKC", c).strip().upper(): c for c in industries}
    agg = {unicodedata.normalize("NFKC", c).strip().upper() for c in aggregates}
    key = df["industry"].str.normalize("NFKC").str.strip().str.upper()
    is_agg = key.isin(agg).to_numpy()
    known = key.isin(list(fold)).to_numpy()
    bad = ~(is_agg | known)
    if bad.any():
        values = sorted(set(df.loc[bad, "industry"]))
        raise InputError(
            f"{int(bad.sum())} row(s) with IFR industry codes that are neither declared industries "
            f"nor aggregates: {[clip(v, 30) for v in values[:10]]}",
            file=file,
            column="industry",
            rows=df.loc[bad, "_line"].head(10).tolist(),
            hint="add them to ifr.industry_codes (kept) or ifr.aggregate_codes (dropped) in "
            "config/config.yaml, or correct the file",
        )
    canon = key.map(fold)
    recoded = known & (canon != df["industry"]).to_numpy()
    if recoded.any():
        log.info(
            "%s: %d industry code(s) written in another case or width (e.g. %r) read as the declared code",
            file,
            int(recoded.sum()),
            df.loc[recoded, "industry"].iloc[0],
        )
    if is_agg.any():
        n = int(is_agg.sum())
        seen = sorted(set(df.loc[is_agg, "industry"]))
        log.warning("%s: dropped %d aggregate row(s) (industry %s), not industries", file, n, seen)
        if notes is not None:
            notes.append(
                {
                    "table": table,
                    "item": f"IFR aggregate rows (industry {seen}) dropped",
                    "rows": n,
                    "decision": "dropped",
                }
            )
    if recoded.any():
        df["industry"] = df["industry"].where(~recoded, canon)
    return df[~is_agg].reset_index(drop=True) if is_agg.any() else df


def _read_plain_csv(
    path: str | Path, columns: list[str], numeric: list[str], key: str = "robots_file"
) -> pd.DataFrame:
    path = Path(path)
    hint = f"see docs/data_contract.md (raw_dir/ifr/); the file name is ifr.{key} in config/config.yaml"
    if not path.exists():
        raise InputError("file not found", file=str(path), hint=hint)
    _check_readable(path, hint)
    df = _read_small_csv(path, "re-create the IFR extract (see docs/data_contract.md)", hint)
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    _require_columns(df, columns, path, hint)
    df = df[columns].apply(lambda s: s.str.strip())
    lines = np.arange(2, len(df) + 2)
    for c in numeric:
        num = pd.to_numeric(df[c].str.normalize("NFKC").str.replace(",", "", regex=False), errors="coerce")
        for bad, what in ((num.isna(), "missing or non-numeric"), (np.isinf(num), "non-finite")):
            bad = bad.to_numpy()
            if bad.any():
                raise InputError(
                    f"{what} values, e.g. {[clip(v, 30) for v in df.loc[bad, c].head(3)]}",
                    file=str(path),
                    column=c,
                    rows=lines[bad][:5].tolist(),
                    hint="fill or correct these cells",
                )
        df[c] = num
    frac = (df["year"] % 1 != 0).to_numpy()
    if frac.any():
        raise InputError(
            "years that are not whole numbers", file=str(path), column="year", rows=lines[frac][:5].tolist()
        )
    df["year"] = df["year"].astype(np.int64)
    df["_line"] = lines
    return df
