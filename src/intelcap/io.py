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

from intelcap.errors import InputError

log = logging.getLogger("intelcap.io")

ID_PATTERN = re.compile(r"^\d{1,6}$")
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
        raise InputError("cannot decode file as UTF-8 or GB18030", file=str(path),
                         hint="re-export the table from CSMAR as UTF-8 CSV or xlsx") from exc
    bad = re.search(r"[\x80-\x9f\ue000-\uf8ff]", text)
    if bad:
        line = text[: bad.start()].count("\n") + 1
        raise InputError(f"file decodes as neither UTF-8 nor clean GB18030 (suspicious character at line {line})",
                         file=str(path), hint="check the file's encoding; re-export as UTF-8")
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
        raise InputError(f"file mixes encodings: {len(utf8)} line(s) are UTF-8 and {len(other)} are not "
                         f"(UTF-8 lines e.g. {utf8[:5]}; other lines e.g. {other[:5]})", file=str(path),
                         rows=other, hint="re-export the whole table in one encoding (UTF-8 CSV or xlsx); do not "
                                          "concatenate downloads made with different encodings")


def _read_raw_frame(path: Path, needed: list[str] | None = None, coded: frozenset[str] = frozenset()
                    ) -> pd.DataFrame:
    """All cells as strings, first row as header; no further interpretation.

    With `needed` (field codes), a UTF-8 or GB18030 .csv/.txt is read by pyarrow and only those columns come
    back, those in `coded` (repetitive text: codes, dates, labels) as categoricals of their strings; whenever
    that reader cannot promise pandas' exact result (see `_read_fast`), the whole file is read by pandas as
    before, all columns, as strings.
    """
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputError("table file not found", file=str(path),
                         hint="put the CSMAR download there or change its `file:` in config/config.yaml (csmar:)")
    if suffix == ".xlsx":
        try:
            return pd.read_excel(path, dtype=str, header=0, engine="openpyxl").fillna("")
        except Exception as exc:  # openpyxl raises many types for a broken workbook
            raise InputError(f"cannot read xlsx workbook ({type(exc).__name__}: {exc})", file=str(path)) from exc
    if suffix not in (".csv", ".txt"):
        raise InputError(f"unsupported file type {suffix!r}", file=str(path), hint="use .csv, .txt or .xlsx")
    if needed is not None:
        try:
            return _read_fast(path, needed, coded)
        except _Fallback as why:
            log.info("%s: read by pandas (%s)", path, why)
    return _read_text_frame(path)


def _read_text_frame(path: Path) -> pd.DataFrame:
    """The reference reader: the whole file decoded in memory and parsed by pandas' C parser, every column."""
    suffix = path.suffix.lower()
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError("file is empty", file=str(path), hint="re-download the table")
    text, encoding = decode_bytes(raw, path)
    if encoding == "gb18030":
        log.info("%s: no UTF-8, decoded as GB18030 (detected, no declaration needed)", path)
    sep = "\t" if suffix == ".txt" else ","
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, header=0)
    except pd.errors.ParserError as exc:
        raise InputError(f"malformed {suffix} table: {exc}", file=str(path)) from exc


# ------------------------------------------------------------------ fast path for large .csv/.txt tables
# At ~4M firm-years, EMP_Structure is ~33M rows (1 GB). Decoding it to one Python string and letting pandas'
# C parser build Python objects took >20 min and >8 GB. pyarrow parses the bytes straight into Arrow string
# columns (only the configured ones), in parallel, at a fraction of the memory. The encoding checks run in
# streamed blocks and give exactly `decode_bytes`' verdicts and messages; everything pyarrow and pandas could
# disagree on sends the file to the reference reader instead (`_Fallback`), so the result never changes.

_BLOCK = 32 << 20          # bytes per streamed block: bounded memory whatever the file size
_STR_DTYPE = pd.Series([""], dtype=str).dtype           # what `dtype=str` gives in this pandas version


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
    arr = pa.Array.from_buffers(pa.large_string(), 1,
                                [None, pa.py_buffer(np.array([0, len(data)], np.int64)), pa.py_buffer(data)])
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
            if utf8 and not (_valid_utf8(carry + block[:first]) and _valid_utf8(memoryview(block)[first:last])):
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
        raise InputError("cannot decode file as UTF-8 or GB18030", file=str(path),
                         hint="re-export the table from CSMAR as UTF-8 CSV or xlsx")
    if suspicious_line is not None:
        raise InputError("file decodes as neither UTF-8 nor clean GB18030 (suspicious character at line "
                         f"{suspicious_line})", file=str(path), hint="check the file's encoding; re-export as UTF-8")
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


def _arrow_frame(src: Path, path: Path, needed: list[str], coded: frozenset[str], quoted: bool,
                 encoding: str = "utf8") -> pd.DataFrame:
    """Parse `src` (the table `path`, UTF-8 or, with `encoding`, GB18030) with pyarrow, all cells as strings.
    Without any double quote in the file, no value can span lines: pyarrow then splits blocks in parallel.
    `coded` columns are dictionary-encoded while parsing: 33M stock codes, dates or labels then take ~4 bytes
    a row instead of ~20, and their string work runs once per distinct value (`_unique_map`)."""
    sep = "\t" if path.suffix.lower() == ".txt" else ","
    try:
        # pandas names the columns itself (\"Unnamed: 2\", deduplication): read just its header
        names = list(pd.read_csv(src, sep=sep, dtype=str, keep_default_na=False, header=0, nrows=0,
                                 encoding="utf-8-sig" if encoding == "utf8" else encoding).columns)
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
    types = {c: pa.dictionary(pa.int32(), pa.large_string()) if c in as_dict else pa.large_string()
             for c in include}
    try:
        table = pacsv.read_csv(
            src,
            # the header is row 0: pyarrow checks its width
            read_options=pacsv.ReadOptions(column_names=cols, encoding=encoding),
            parse_options=pacsv.ParseOptions(delimiter=sep, quote_char='"', double_quote=True,
                                             escape_char=False, newlines_in_values=quoted,
                                             ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(include_columns=include, column_types=types,
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        # rows of another width (pandas pads them or turns a column into the index), whitespace-only lines
        raise _Fallback(f"pyarrow: {str(exc)[:200]}") from exc
    if quoted and table.num_rows and _unterminated_quote(src, table.column(cols[last])[-1].as_py(), encoding):
        raise _Fallback("quote open at end of file")  # pandas refuses it ("EOF inside string"), pyarrow not
    table = table.slice(1).unify_dictionaries()  # row 0 is the header row
    return pd.DataFrame({names[i]: _categorical(table.column(cols[i])) if cols[i] in as_dict
                         else _str_values(table.column(cols[i])) for i in idx}, copy=False)


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
        return pd.Categorical.from_codes(np.zeros(0, np.int32), categories=pd.Index(_str_values(
            pa.chunked_array([], pa.large_string()))), validate=False)
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


def normalize_ids(values: pd.Series, path: str | Path, column: str) -> pd.Series:
    """Six-character zero-padded stock codes; spreadsheet artefacts like '2.0' are repaired, others refused."""
    # once per distinct code: the regex below runs in Python (a compiled pattern), ~1 us a row at 33M rows
    codes, uniq = _as_text(values)
    u = uniq.str.strip().str.replace(r"\.0+$", "", regex=True)
    bad = ~u.str.match(ID_PATTERN).to_numpy()[codes]
    if bad.any():
        at = np.flatnonzero(bad)
        rows = (at[:5] + 2).tolist()
        raise InputError(f"stock codes that are not 1-6 digits, e.g. {u.iloc[codes[at[:3]]].tolist()}",
                         file=str(path), column=column, rows=rows,
                         hint="codes must be numeric six-digit A/B-share codes")
    short = (u.str.len() < 6).to_numpy()[codes]
    padded = int(short.sum())
    if padded:
        log.info("%s: %d stock code(s) in %s had lost leading zeros (e.g. %s) and were zero-padded to 6 digits",
                 path, padded, column, u.iloc[codes[np.argmax(short)]])
    return _take(u.str.zfill(6), codes, values)


def read_csmar_table(path: str | Path, spec: dict, table: str) -> pd.DataFrame:
    """Read one CSMAR table and return columns Stkcd, [date, year], then the configured fields renamed.

    `spec` is the table's block of config: `id`, `date` (or null) and `fields` {our name: vendor code}.
    The 2nd/3rd header rows (Chinese names, units) are recognised as rows whose ID cell is not a code.
    """
    path = Path(path)
    id_col, date_col, fields = spec["id"], spec.get("date"), spec["fields"]
    needed = [id_col] + ([date_col] if date_col else []) + list(fields.values())
    # text columns (codes, dates, labels) are read as categoricals; numeric fields are mostly distinct values
    numeric = {fields[n] for n in NUMERIC_FIELDS.get(table, []) if n in fields}
    df = _read_raw_frame(path, needed, frozenset(c for c in needed if c not in numeric))
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        close = {m: [c for c in df.columns if c.lower() == m.lower()]
                 or difflib.get_close_matches(m, [str(c) for c in df.columns if c not in needed], n=1, cutoff=0.8)
                 for m in missing}
        hint = "; ".join(f"{m}: did you mean {close[m][0]}? (rename it in the file, or set the field code in "
                         f"config/config.yaml under csmar.{table})" for m in missing if close[m]) or (
            f"available fields: {', '.join(df.columns[:30])}; remap in config/config.yaml under csmar.{table}.fields")
        raise InputError(f"table {table} lacks field(s) {missing}", file=str(path), column=", ".join(missing),
                         hint=hint)
    # only the first two rows can be header rows: test just those
    ids = df[id_col].iloc[:2].astype(str).str.strip()
    looks_like_header = ~ids.str.match(r"^\d{1,6}(\.0+)?$")
    # CSMAR's rows 2-3 (Chinese names, units) are the only non-code rows allowed, and only at the top;
    # a bad code further down is an error reported by normalize_ids.
    lead = 0
    while lead < min(2, len(df)) and looks_like_header.iloc[lead]:
        lead += 1
    df = df.iloc[lead:].reset_index(drop=True)
    if df.empty:
        raise InputError(f"table {table} has a header but no data rows", file=str(path),
                         hint="re-download the table with data")
    # raw columns are handed over one at a time and released after their last use: at 33M rows each holds
    # ~0.5 GB, and keeping them all next to the typed copies doubled the peak memory
    uses = Counter(needed)
    raw = {c: df[c] for c in uses}
    del df

    def column(code: str) -> pd.Series:
        uses[code] -= 1
        return raw[code] if uses[code] else raw.pop(code)

    out = pd.DataFrame({"Stkcd": normalize_ids(column(id_col), path, id_col)})
    if date_col:
        # a few hundred distinct dates for millions of rows: parse each once
        codes, uniq = _as_text(column(date_col))
        d = uniq.str.strip().str[:10]
        ok = pd.Series(d.str.match(r"^\d{4}-\d{2}-\d{2}$").to_numpy()[codes])
        if not ok.all():
            rows = (np.flatnonzero(~ok.to_numpy())[:5] + lead + 2).tolist()
            raise InputError("dates not in YYYY-MM-DD form", file=str(path), column=date_col, rows=rows)
        out["date"] = _take(d, codes, out)
        out["year"] = d.str[:4].astype(np.int64).to_numpy()[codes]
    for name, code in fields.items():
        out[name] = _strip(column(code))
    out.attrs["file"] = str(path)
    out.attrs["header_rows"] = 1 + lead
    return out


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
    """Blank -> NaN; anything else must parse as a number (thousands separators tolerated).
    `codes` maps our names to the vendor field codes, for the error message."""
    return _to_numeric(df, columns, file, codes, stripped=False)


def _to_numeric(df: pd.DataFrame, columns: list[str], file: str, codes: dict | None, stripped: bool) -> pd.DataFrame:
    """`to_numeric`; `stripped`: the columns come from `read_csmar_table`, which strips them already (stripping
    twice changes nothing). On Arrow-backed strings, steps that would change nothing are skipped rather than
    copying tens of millions of strings for nothing."""
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
        bad = num.isna() & s.notna()
        if bad.any():
            ex = df.loc[bad, ["Stkcd"] + (["year"] if "year" in df else [])].head(5).to_dict("records")
            field = f"field {codes[c]} ({c})" if c in codes else "field"
            raise InputError(f"{int(bad.sum())} non-numeric value(s) in numeric {field}, e.g. {s[bad].head(3).tolist()}",
                             file=file, column=c, rows=ex, hint="fix or blank these cells in the export")
        df[c] = num
    return df


def check_unique(df: pd.DataFrame, keys: list[str], file: str, table: str) -> None:
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        ex = df.loc[dup, keys].drop_duplicates().head(5).to_dict("records")
        first = df.loc[dup].groupby(keys, sort=False).head(2)
        differ = [c for c in df.columns if c not in keys
                  and first.groupby([first[k] for k in keys], sort=False)[c].nunique(dropna=False).gt(1).any()]
        raise InputError(f"table {table} has {int(dup.sum())} rows with duplicate keys {keys} whose values differ"
                         + (f" (in {differ})" if differ else ""), file=file,
                         column=", ".join(keys), rows=ex,
                         hint="a restated statement appears twice: keep the latest restatement in the export")


def drop_exact_duplicates(df: pd.DataFrame, file: str, table: str) -> pd.DataFrame:
    """Rows identical in every field (a download appended twice) carry no information: drop and count them.
    Rows sharing a key with different values are restatements and stay for `check_unique` to refuse."""
    dup = df.duplicated(keep="first")
    n = int(dup.sum())
    if n:
        ex = df.loc[dup, [c for c in ("Stkcd", "year") if c in df]].head(5).to_dict("records")
        log.warning("%s (%s): dropped %d row(s) identical to an earlier row in every field, e.g. %s",
                    file, table, n, ex)
        df = df[~dup].reset_index(drop=True)
    df.attrs["exact_duplicates_dropped"] = n
    return df


def annual_consolidated(df: pd.DataFrame) -> pd.DataFrame:
    """Keep consolidated (Typrep A) year-end statements, as METHODS 4.1 prescribes."""
    keep = df["date"].str.endswith("-12-31")
    if "Typrep" in df:
        keep &= df["Typrep"].str.upper().eq("A")
    if keep.dtype == bool and keep.all():  # nothing to drop: no copy of every column (same frame otherwise)
        return df.drop(columns=[c for c in ("Typrep",) if c in df]).reset_index(drop=True)
    return df[keep].drop(columns=[c for c in ("Typrep",) if c in df]).reset_index(drop=True)


# Per-table typing: which fields are numeric, how rows are keyed, which rows are kept.
NUMERIC_FIELDS = {
    "FS_Combas": ["total_assets", "fixed_assets", "total_liabilities"],
    "FS_Comins": ["revenue", "total_operating_cost", "operating_cost", "admin_expense", "financial_expense",
                  "net_profit"],
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
    if len(key) < 2 or (key[1:] > key[:-1]).all():   # strictly increasing: the usual, sorted export
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


def load_table(path: str | Path, spec: dict, table: str) -> pd.DataFrame:
    """Read, filter (statements) and type one CSMAR table; the result is what `read_tables` writes."""
    df = read_csmar_table(path, spec, table)
    file = str(path)
    if table.startswith("FS_"):
        df = annual_consolidated(df)
    elif "date" in df:
        keep = df["date"].str.endswith("-12-31")
        df = (df if keep.dtype == bool and keep.all() else df[keep]).reset_index(drop=True)
    num = [c for c in NUMERIC_FIELDS.get(table, []) if c in df]
    df = _to_numeric(df, num, file, spec.get("fields", {}), stripped=True)
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
            check_unique(df, keys, file, table)
            key_of.clear()  # rows were dropped
        else:
            df.attrs["exact_duplicates_dropped"] = 0  # what drop_exact_duplicates records for none
    df = df.drop(columns=[c for c in ("date",) if c in df])
    key = key_of[tuple(sort)] if tuple(sort) in key_of else _order_key(df, sort)
    return _sort_stable(df, sort, key)


def read_ifr(robots_path: str | Path, employment_path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    robots = _read_plain_csv(robots_path, ["country", "industry", "year", "installations", "operational_stock"],
                             numeric=["year", "installations", "operational_stock"])
    emp = _read_plain_csv(employment_path, ["country", "industry", "year", "employment"],
                          numeric=["year", "employment"])
    check_unique(robots, ["country", "industry", "year"], str(robots_path), "ifr_robots")
    check_unique(emp, ["country", "industry", "year"], str(employment_path), "employment_base")
    return robots, emp


def _read_plain_csv(path: str | Path, columns: list[str], numeric: list[str]) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=str(path), hint="see DATA_CONTRACT: raw_dir/ifr/")
    text, _ = decode_bytes(path.read_bytes(), path)
    df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    df.columns = [c.strip() for c in df.columns]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"missing column(s) {missing}", file=str(path), column=", ".join(missing))
    df = df[columns].apply(lambda s: s.str.strip())
    for c in numeric:
        num = pd.to_numeric(df[c].str.replace(",", "", regex=False), errors="coerce")
        bad = num.isna()
        if bad.any():
            raise InputError("missing or non-numeric values", file=str(path), column=c,
                             rows=(np.flatnonzero(bad.to_numpy())[:5] + 2).tolist())
        df[c] = num
    df["year"] = df["year"].astype(np.int64)
    return df
