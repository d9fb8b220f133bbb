#!/usr/bin/env python3
"""Fail if a tracked or staged blob holds licensed vendor data or row-level firm-year data.

Licensed CSMAR/IFR extracts and firm-year outputs must never be committed (README: data availability). The
guard judges content, never names (docs/licensed_data.md):

* the blobs are read from git's index (``git show :path``), never from the working copy: every tracked file
  in the version the next commit records, or with ``--staged`` only the index blobs that differ from HEAD;
  ``--dir DIR`` checks a plain folder instead;
* each blob's real format is sniffed from its bytes: gzip/bzip2/xz/zstd are decompressed, zip (also xlsx and
  docx) and tar archives unpacked (nested up to ``MAX_DEPTH``), parquet, feather/Arrow IPC, SQLite, Stata
  and JSON read into rows, text decoded as UTF-8, GB18030 or UTF-16/32 (BOM or NUL pattern) and cut into
  tables (comma, tab, semicolon, pipe/Markdown, whitespace/.dat, HTML);
* a table is flagged for CSMAR field codes in a header row (``Stkcd``/``Accper``/``A001000000``/``Y0601b``,
  any case), CSMAR's Chinese header names (证券代码, 会计期间, ...), 6-digit stock codes paired with years or
  dates across many rows (long or wide), or IFR robot tables (industry/country by year with numeric cells,
  long or wide); a text with many stock-code/year pairs on its lines is flagged even when it is no table;
* pickles are never unpickled (that would run code): one holding a pandas/numpy object is flagged because
  it cannot be inspected, and so is a container the guard recognises but cannot read (fail closed).

Aggregated outputs (regression tables, summary statistics, config/*.csv) pass. Small, deliberately synthetic
fixtures may be allowed by glob pattern in ``tools/licensed_allowlist.txt`` (read from the same tree as the
blobs) or with ``--allow PATTERN``.

Usage: ``python tools/check_licensed.py [--repo DIR] [--staged] [--dir DIR]``; exit 0 clean, 1 flagged
blobs (each named on stderr with the reason), 2 not a git repository / git missing.
"""

from __future__ import annotations

import argparse
import bz2
import csv
import fnmatch
import io
import json
import lzma
import os
import pickle
import pickletools
import re
import subprocess
import sys
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

DEFAULT_ALLOWLIST = "tools/licensed_allowlist.txt"
MAX_BLOB = 64 << 20  # larger blobs (raw or decompressed) are flagged: they cannot be checked in full
MAX_TEXT = 16 << 20  # decoded text analysed in full up to this size
MAX_DEPTH = 4  # archives and compressed streams inside each other
MAX_MEMBERS = 2000  # members of one archive
MAX_ROWS = 5000  # rows per table used to type its columns
HEADER_ROWS = 5  # leading rows of a table tried as its header (CSMAR exports carry 3)
FIRM_YEARS = 20  # distinct (stock code, year) pairs that make a table row-level
FIRMS_ONLY = 50  # distinct stock codes (no year) with numeric columns that make a table firm-level
csv.field_size_limit(MAX_TEXT)

# CSMAR field codes (compared in lower case) and the vendor's numeric field codes
ID_FIELDS = {"stkcd", "symbol", "scode", "secucode", "stockcode", "stock_code", "firm_id"}
DATE_FIELDS = {"accper", "enddate", "reptdt", "sgnyear", "declaredate", "trddt", "annodt", "year", "fyear"}
CSMAR_FIELDS = (
    {
        "typrep",
        "equitynatureid",
        "listingdate",
        "establishdate",
        "rdpersonratio",
        "employdetail",
        "statetypecode",
        "protype",
        "indcd",
        "nnindcd",
        "industrycode",
        "shortname",
        "stknme",
        "markettype",
        "province",
        "region",
        "revenue",
        "amount",
    }
    | ID_FIELDS
    | DATE_FIELDS
)
VENDOR_CODE = re.compile(r"^(?:[abc]\d{9}|[abc]0\d{2,8}[a-z]?|y\d{4}[a-z])$", re.I)
# CSMAR's Chinese header row (the only header of a "Chinese names" export)
CN_ID = {"证券代码", "股票代码", "公司代码", "证券代码_stkcd"}
CN_DATE = {
    "会计期间",
    "统计截止日期",
    "截止日期",
    "会计年度",
    "报告期",
    "认定年度",
    "年度",
    "年份",
    "交易日期",
}
CN_FIELDS = (
    {
        "报表类型",
        "资产总计",
        "固定资产净额",
        "负债合计",
        "营业收入",
        "营业总成本",
        "营业成本",
        "管理费用",
        "财务费用",
        "净利润",
        "支付给职工以及为职工支付的现金",
        "员工人数",
        "董事人数",
        "董事长与总经理兼任情况",
        "股票简称",
        "行业代码",
        "所属省份",
        "成立日期",
        "上市日期",
        "股权性质编码",
        "报表类型编码",
        "研发人员数量占比",
        "员工构成明细",
        "人数",
        "认定项目类型",
        "地区",
    }
    | CN_ID
    | CN_DATE
)
CN_GENERIC = {"地区", "人数", "年度", "年份", "截止日期"}
COUNTRY_NAMES = {"country", "iso", "iso3", "country_code", "countrycode", "国家", "国家代码"}
INDUSTRY_NAMES = {
    "industry",
    "ifr",
    "ifr_industry",
    "industry_code",
    "ifr_code",
    "sector",
    "行业",
    "行业代码",
}
ISO3 = {
    "CHN",
    "USA",
    "DEU",
    "JPN",
    "KOR",
    "FRA",
    "ITA",
    "GBR",
    "ESP",
    "CAN",
    "MEX",
    "BRA",
    "IND",
    "TWN",
    "THA",
    "SWE",
    "CZE",
    "POL",
    "NLD",
    "AUT",
    "CHE",
    "BEL",
    "RUS",
    "TUR",
    "SGP",
    "AUS",
    "VNM",
    "MYS",
    "IDN",
}

STOCK = re.compile(r"^(?:(?:sz|sh|bj)\.?)?(\d{6})(?:\.(?:sz|sh|bj))?$", re.I)
SHORT_INT = re.compile(r"^\d{1,6}$")  # a stock code whose leading zeros a spreadsheet removed
YEARISH = re.compile(r"^(?:19[89]\d|20[0-4]\d)(?:(?:[-/.]\d{1,2}){1,2}|\d{4}|年)?(?:[ T]\S*)?$")
YEAR_LABEL = re.compile(r"^(?:y|yr|year|fy)?[_ ]?((?:19[89]|20[0-4])\d)(?:年)?$", re.I)
IFR_CODE = re.compile(r"^(?:\d{2}(?:-\d{2})?|[a-z](?:-[a-z])?|99|all)$", re.I)
NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
LINE_ID = re.compile(r"(?<![0-9A-Za-z_.])(?:(?:sz|sh|bj)\.?)?(\d{6})(?![0-9A-Za-z_])", re.I)
REPORT_NAME = re.compile(r"\d{6}_(?:19|20)\d{2}\.(?:txt|pdf|html?)\b", re.I)
LINE_YEAR = re.compile(r"(?<![0-9A-Za-z_])((?:19[89]|20[0-4])\d)(?![0-9A-Za-z_])")


# ----------------------------------------------------------------- tables
def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        if v != v:
            return ""
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace").strip()
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v).strip()


def _frac(values: list[str], pattern: re.Pattern) -> float:
    return sum(1 for v in values if pattern.match(v)) / len(values) if values else 0.0


class _Column:
    """Cells of one column below the header candidates, and the header cells above them."""

    def __init__(self, names: list[str], values: list[str]) -> None:
        self.names = {n.strip().strip("`\"'").lower() for n in names if n}
        self.label = next((n for n in names if n and not NUMBER.match(n)), "")
        self.values = [v for v in values if v != ""]
        vals = self.values
        self.named_id = bool(self.names & (ID_FIELDS | CN_ID))
        self.is_year = len(vals) >= 3 and _frac(vals, YEARISH) >= 0.9
        self.is_number = len(vals) >= 3 and _frac(vals, NUMBER) >= 0.9
        stock = [m.group(1) for v in vals if (m := STOCK.match(v))]
        self.is_id = False
        if len(vals) >= 3 and len(stock) >= 0.9 * len(vals):
            # six digits alone could be counts (166000 robots); a stock code shows a leading zero, a code
            # column's name, or the same firm in several rows
            repeated = len(stock) >= 1.5 * len(set(stock))
            self.is_id = self.named_id or repeated or any(s[0] == "0" for s in stock)
        elif self.named_id and len(vals) >= 3 and _frac(vals, SHORT_INT) >= 0.9:
            self.is_id = True
        self.ids = [m.group(1) if (m := STOCK.match(v)) else v.zfill(6) for v in vals] if self.is_id else []
        self.is_country = bool(self.names & COUNTRY_NAMES) or (
            len(vals) >= 3 and sum(v in ISO3 for v in vals) >= 0.9 * len(vals)
        )
        self.is_industry = bool(self.names & INDUSTRY_NAMES) or (
            len(vals) >= 3 and _frac(vals, IFR_CODE) >= 0.9 and any("-" in v for v in vals)
        )


def _is_data_row(row: list[str]) -> bool:
    cells = [c for c in row if c]
    return bool(cells) and 2 * sum(1 for c in cells if NUMBER.match(c) or YEARISH.match(c)) >= len(cells)


def _header_reason(header: list[str], body: list[list[str]]) -> str | None:
    """CSMAR field codes or Chinese CSMAR names in a header row with at least one data row below it."""
    cells = [c.strip().strip("`\"'").strip() for c in header]
    low = [c.lower() for c in cells]
    ids = [c for c, lc in zip(cells, low, strict=True) if lc in ID_FIELDS]
    dates = [c for c, lc in zip(cells, low, strict=True) if lc in DATE_FIELDS - {"year", "fyear"}]
    codes = [c for c in cells if VENDOR_CODE.match(c)]
    named = [c for c, lc in zip(cells, low, strict=True) if lc in CSMAR_FIELDS - ID_FIELDS - DATE_FIELDS]
    cn = [c for c in cells if c in CN_FIELDS]
    cn_id = [c for c in cn if c in CN_ID]
    if not any(any(ch.isdigit() for c in row for ch in c) for row in body):
        return None
    if (ids and (dates or codes or len(named) >= 2)) or len(set(codes)) >= 2:  # distinct: prose repeats one
        shown = ids + dates + codes + named
        return f"CSMAR field codes in a header row ({', '.join(shown[:6])})"
    if (cn_id and len(cn) >= 2) or len(set(cn) - CN_GENERIC) >= 3:
        return f"CSMAR Chinese header names ({', '.join(cn[:6])})"
    return None


def judge_table(  # noqa: C901 - one early return per kind of row-level table
    rows: list[list[str]], n_rows: int | None = None, ifr_max_rows: int = 20
) -> str | None:
    """Why a table (first row first) looks like licensed or row-level data, or None."""
    rows = rows[: MAX_ROWS + HEADER_ROWS]
    n_rows = len(rows) if n_rows is None else n_rows
    if len(rows) < 2:
        return None
    for h in range(min(HEADER_ROWS, len(rows) - 1)):
        reason = _header_reason(rows[h], rows[h + 1 :])
        if reason:
            return f"{reason} with {n_rows - h - 1} data row(s)"
    width = max(len(r) for r in rows)
    if width < 2 or len(rows) < 4:
        return None
    head = rows[:HEADER_ROWS]
    # the first row that looks like data ends the header (CSMAR: codes, Chinese names, units)
    body_start = next((i for i, r in enumerate(rows[: HEADER_ROWS + 1]) if _is_data_row(r)), 1)
    cols = [
        _Column(
            [r[j] if j < len(r) else "" for r in rows[:body_start]],
            [r[j] for r in rows[body_start:] if j < len(r)],
        )
        for j in range(width)
    ]
    for j, c in enumerate(cols):
        c.label = c.label or f"#{j + 1}"
    n_body = n_rows - body_start
    years = [c for c in cols if c.is_year]
    ids = [c for c in cols if c.is_id]
    numbers = [c for c in cols if c.is_number and not c.is_year and not c.is_id]
    year_labels = [j for j in range(width) if any(j < len(r) and YEAR_LABEL.match(r[j]) for r in head)]
    # long firm-year panel: a stock-code column and a year/date column
    for ic in ids:
        for yc in years:
            if yc is ic:
                continue
            pairs = {
                (i, m.group(0)[:4])
                for i, y in zip(ic.values, yc.values, strict=False)
                if (m := YEARISH.match(y))
            }
            firms = {i for i, _ in pairs}
            if len(pairs) >= FIRM_YEARS and len(firms) >= 3:
                least = "at least " if n_body > len(rows) - body_start else ""
                return (
                    f"row-level firm-year data: {least}{len(pairs)} distinct (stock code, year) pairs in columns "
                    f"'{ic.label}' and '{yc.label}' ({n_body} rows)"
                )
    # wide firm panel: one row per firm, one column per year
    if ids and len(year_labels) >= 3:
        firms = set(ids[0].ids)
        if len(firms) >= 3 and len(firms) * len(year_labels) >= FIRM_YEARS:
            return (
                f"row-level firm-year data (wide): {len(firms)} stock codes in column '{ids[0].label}' by "
                f"{len(year_labels)} year columns"
            )
    # wide firm panel transposed: one column per firm
    code_labels = [c for c in rows[0] if STOCK.match(c)]
    if len(code_labels) >= 5 and years:
        return f"row-level firm-year data (wide): {len(code_labels)} stock-code columns by year rows"
    if ids and numbers and len(set(ids[0].ids)) >= FIRMS_ONLY:
        return f"row-level firm data: {len(set(ids[0].ids))} distinct stock codes in column '{ids[0].label}'"
    # IFR robots: industry (and country) by year with numeric cells, long or wide
    industry = [c for c in cols if c.is_industry and not c.is_year]
    country = [c for c in cols if c.is_country]
    if industry and years and numbers and n_body > ifr_max_rows:
        key = ", ".join(f"'{c.label}'" for c in (country[:1] + industry[:1] + years[:1]))
        return (
            f"IFR-style robot table (long): {key} with numeric column(s) "
            f"{', '.join(repr(c.label) for c in numbers[:3])}, {n_body} rows"
        )
    if (industry or country) and len(year_labels) >= 4:
        cells = sum(1 for r in rows[body_start:] for j in year_labels if j < len(r) and NUMBER.match(r[j]))
        if cells > 2 * ifr_max_rows:
            return (
                f"IFR-style robot table (wide): {len(year_labels)} year columns, {cells} numeric cells by "
                f"{'industry' if industry else 'country'}"
            )
    ind_labels = [c for c in rows[0] if re.match(r"^\d{2}-\d{2}$", c)]
    if years and len(ind_labels) >= 4 and len(rows) - 1 > ifr_max_rows // 4:
        return f"IFR-style robot table (wide): {len(ind_labels)} IFR industry columns by year rows"
    return None


def line_pairs_reason(text: str) -> str | None:
    """Stock codes and years on the same lines of a text that is no table (SQL dump, log, YAML, prose)."""
    pairs: set[tuple[str, str]] = set()
    for line in text.splitlines():
        if "_" in line:
            line = REPORT_NAME.sub(" ", line)  # names of public annual reports (manifests, logs) are no data
        m_id = LINE_ID.search(line)
        if not m_id:
            continue
        rest = line[: m_id.start()] + " " + line[m_id.end() :]
        m_year = LINE_YEAR.search(rest)
        if m_year:
            pairs.add((m_id.group(1), m_year.group(1)))
    if len(pairs) < max(FIRM_YEARS, 30):
        return None
    firms = {i for i, _ in pairs}
    zeros = sum(1 for i in firms if i[0] == "0")
    if len(firms) >= 5 and (zeros >= 0.1 * len(firms) or len(pairs) >= 2 * len(firms)):
        return f"row-level firm-year data: {len(pairs)} distinct (stock code, year) pairs on its lines"
    return None


# ----------------------------------------------------------------- text
def decode(data: bytes) -> str | None:
    """Text of a blob, or None for binary data."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return data.decode("utf-32", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    head = data[:4096]
    if b"\x00" in head:
        even, odd = head[0::2], head[1::2]
        enc = None
        if odd and odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
            enc = "utf-16-le"
        elif even and even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
            enc = "utf-16-be"
        if enc is None:
            return None
        text = data.decode(enc, errors="replace")
        sample = text[:2000]
        # binary tables (fonts, images) can show the same NUL pattern; UTF-16 text is printable
        return (
            text if sum(ch.isprintable() or ch in "\r\n\t" for ch in sample) >= 0.95 * len(sample) else None
        )
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _runs(rows: Iterator[list[str]]) -> Iterator[list[list[str]]]:
    """Maximal runs of consecutive rows with the same number (>= 2) of cells."""
    run: list[list[str]] = []
    for row in rows:
        if run and len(row) == len(run[0]):
            run.append(row)
            continue
        if len(run) >= 2:
            yield run
        run = [row] if len(row) >= 2 else []
    if len(run) >= 2:
        yield run


def text_tables(text: str) -> Iterator[list[list[str]]]:
    lines = text.splitlines()
    for delim in (",", "\t", ";", "|"):
        if delim not in text:
            continue
        reader = csv.reader(lines, delimiter=delim, skipinitialspace=True)
        cleaned = ([c.strip() for c in row] for row in _safe_rows(reader))
        if delim == "|":  # Markdown: drop the outer pipes and the |---| rule
            cleaned = (r[1:-1] if len(r) > 2 and r[0] == "" and r[-1] == "" else r for r in cleaned)
            cleaned = (r for r in cleaned if not all(re.match(r"^:?-{2,}:?$", c) for c in r if c))
        yield from _runs(cleaned)
    yield from _runs(line.split() for line in lines)
    if "<td" in text or "<th" in text:
        rows = []
        for tr in re.split(r"<tr[\s>]", text, flags=re.I)[1:]:
            cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, flags=re.I | re.S)
            rows.append([re.sub(r"<[^>]+>", "", c).strip() for c in cells])
        yield from _runs(iter(rows))


def _safe_rows(reader) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error:
        return


def json_tables(obj, depth: int = 0) -> Iterator[list[list[str]]]:
    """Record lists, column dicts, pandas' split/index/columns/table orients, lists of lists."""
    if depth > 4:
        return
    if isinstance(obj, list) and obj:
        if all(isinstance(x, dict) for x in obj[:50]):
            keys: list[str] = []
            for x in obj[:MAX_ROWS]:
                keys += [k for k in x if k not in keys][:200]
            yield [keys] + [
                [_cell(x.get(k)) if isinstance(x, dict) else "" for k in keys] for x in obj[:MAX_ROWS]
            ]
        elif all(isinstance(x, list) for x in obj[:50]):
            yield [[_cell(c) for c in x] for x in obj[: MAX_ROWS + 1]]
        for x in obj[:20]:
            if isinstance(x, dict | list):
                yield from json_tables(x, depth + 1)
    elif isinstance(obj, dict) and obj:
        if isinstance(obj.get("columns"), list) and isinstance(obj.get("data"), list):
            yield [[_cell(c) for c in obj["columns"]]] + [
                [_cell(c) for c in r] if isinstance(r, list) else [] for r in obj["data"][:MAX_ROWS]
            ]
        values = list(obj.values())
        if all(isinstance(v, list) for v in values) and len(values) >= 2:
            n = min(len(v) for v in values)
            yield [[str(k) for k in obj]] + [[_cell(v[i]) for v in values] for i in range(min(n, MAX_ROWS))]
        if all(isinstance(v, dict) for v in values) and len(values) >= 2:
            inner = list(dict.fromkeys(k for v in values[:MAX_ROWS] for k in v))[:MAX_ROWS]
            # orient="index": outer keys are rows; orient="columns": outer keys are columns
            yield [["_key"] + inner] + [
                [str(k)] + [_cell(v.get(c)) for c in inner] for k, v in list(obj.items())[:MAX_ROWS]
            ]
            yield [["_key"] + [str(k) for k in obj]] + [
                [str(c)] + [_cell(v.get(c)) for v in values] for c in inner
            ]
        for v in values[:50]:
            if isinstance(v, dict | list):
                yield from json_tables(v, depth + 1)


def text_reasons(text: str, ifr_max_rows: int) -> Iterator[str]:
    if len(text) > MAX_TEXT:
        yield f"text of {len(text) >> 20} MiB is too large to check (limit {MAX_TEXT >> 20} MiB)"
        return
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] in "[{":
        docs = []
        try:
            docs = [json.loads(stripped)]
        except ValueError:
            try:  # JSON lines
                docs = [[json.loads(line) for line in stripped.splitlines() if line.strip()]]
            except ValueError:
                pass
        for doc in docs:
            for table in json_tables(doc):
                reason = judge_table(table, ifr_max_rows=ifr_max_rows)
                if reason:
                    yield f"JSON: {reason}"
                    return
    for table in text_tables(text):
        reason = judge_table(table, ifr_max_rows=ifr_max_rows)
        if reason:
            yield reason
            return
    reason = line_pairs_reason(text)
    if reason:
        yield reason


# ----------------------------------------------------------------- binary formats
def _frame_rows(names: list[str], columns: list[list]) -> list[list[str]]:
    n = min((len(c) for c in columns), default=0)
    return [[str(x) for x in names]] + [[_cell(c[i]) for c in columns] for i in range(n)]


def parquet_tables(data: bytes) -> Iterator[tuple[list[list[str]], int]]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(io.BytesIO(data))
    batch = next(pf.iter_batches(batch_size=MAX_ROWS), None)
    names = pf.schema_arrow.names
    cols = [batch.column(i).to_pylist() for i in range(batch.num_columns)] if batch is not None else []
    yield _frame_rows(names, cols), pf.metadata.num_rows + 1


def arrow_tables(data: bytes) -> Iterator[tuple[list[list[str]], int]]:
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.ipc as ipc

    if data.startswith(b"ARROW1"):
        table = ipc.open_file(pa.BufferReader(data)).read_all()
    elif data.startswith(b"FEA1"):
        table = feather.read_table(pa.BufferReader(data))
    else:
        table = ipc.open_stream(pa.BufferReader(data)).read_all()
    head = table.slice(0, MAX_ROWS)
    yield _frame_rows(table.column_names, [c.to_pylist() for c in head.columns]), table.num_rows + 1


def sqlite_tables(data: bytes) -> Iterator[tuple[list[list[str]], int]]:
    import sqlite3

    con = sqlite3.connect(":memory:")  # deserialised in memory: no temporary file anywhere
    try:
        con.deserialize(data)
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
        for name in names[:50]:
            quoted = '"' + name.replace('"', '""') + '"'
            cur = con.execute(f"SELECT * FROM {quoted} LIMIT {MAX_ROWS}")  # noqa: S608 - name from the file
            header = [d[0] for d in cur.description]
            rows = [[_cell(v) for v in r] for r in cur.fetchall()]
            n = con.execute(f"SELECT COUNT(*) FROM {quoted}").fetchone()[0]  # noqa: S608
            yield [header] + rows, n + 1
    finally:
        con.close()


def xlsx_tables(data: bytes) -> Iterator[tuple[list[list[str]], int]]:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for ws in wb.worksheets[:50]:
            rows = []
            for r in ws.iter_rows(values_only=True):
                rows.append([_cell(v) for v in r])
                if len(rows) > MAX_ROWS + HEADER_ROWS:
                    break
            yield rows, max(ws.max_row or 0, len(rows))
    finally:
        wb.close()


def docx_text_and_tables(xml: str) -> tuple[str, list[list[list[str]]]]:
    tables = []
    for tbl in re.findall(r"<w:tbl>.*?</w:tbl>", xml, flags=re.S):
        rows = []
        for tr in re.findall(r"<w:tr[ >].*?</w:tr>", tbl, flags=re.S):
            cells = re.findall(r"<w:tc>.*?</w:tc>", tr, flags=re.S)
            rows.append(["".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", c)) for c in cells])
        tables.append(rows)
    text = "\n".join(
        "".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", p))
        for p in re.findall(r"<w:p[ >].*?</w:p>", xml, flags=re.S)
    )
    return text, tables


class _NoGlobals(pickle.Unpickler):
    """Unpickles plain containers only: a pickle that names any class or function is never executed."""

    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"{module}.{name}")


def pickle_reasons(data: bytes, ifr_max_rows: int) -> Iterator[str]:
    strings: list[str] = []
    globals_: list[str] = []
    try:
        for op, arg, _ in pickletools.genops(data):
            if isinstance(arg, str):
                (globals_ if op.name in ("GLOBAL", "INST") else strings).append(arg)
            elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                globals_.append(f"{strings[-2]}.{strings[-1]}")
    except Exception:  # noqa: BLE001 - a truncated pickle still gave its leading opcodes
        pass
    header = _header_reason(strings, [["1"]])
    codes = {m.group(1) for s in strings if (m := STOCK.match(s))}
    objects = sorted(
        {g for g in globals_ if g.split(".")[0] in ("pandas", "numpy")},
        key=lambda g: (not g.startswith("pandas.core.frame"), not g.startswith("pandas"), g),
    )
    if header:
        yield f"pickle: {header}"
    elif len(codes) >= FIRM_YEARS:
        yield f"pickle: {len(codes)} distinct stock codes among its strings"
    elif objects:
        yield (
            f"pickled {objects[0]} object: a pickle cannot be inspected without running it; keep row-level "
            "data out of git and save aggregated tables as CSV"
        )
    elif globals_:
        yield f"pickle referencing {sorted(set(globals_))[0]}: cannot be inspected without running it"
    else:
        try:
            obj = _NoGlobals(io.BytesIO(data)).load()
        except Exception as exc:  # noqa: BLE001
            yield f"pickle that cannot be read safely ({type(exc).__name__})"
            return
        for table in json_tables(obj):
            reason = judge_table(table, ifr_max_rows=ifr_max_rows)
            if reason:
                yield f"pickle: {reason}"
                return


OPAQUE = [  # recognised row-level containers the guard cannot read: flagged (fail closed)
    (b"\x89HDF\r\n\x1a\n", "HDF5"),
    (b"$FL2", "SPSS .sav"),
    (b"$FL3", "SPSS .sav"),
    (b"RDX2\n", "R .RData"),
    (b"RDX3\n", "R .RData"),
    (b"X\n\x00\x00\x00", "R .rds"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE2 (.xls/.doc)"),
    (b"\x93NUMPY", "NumPy .npy"),
    (b"ORC\x0a", "ORC"),
    (b"ORC\x0d", "ORC"),
    (b"Obj\x01", "Avro"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip"),
    (b"Rar!\x1a\x07", "RAR"),
]
SAS_MAGIC = bytes.fromhex("000000000000000000000000c2ea8160b31411cfbd92080009c7318c181f1011")


def _decompress(data: bytes, kind: str) -> bytes:
    """Bounded decompression: more than MAX_BLOB bytes raises ValueError."""
    if kind == "zstd":
        import pyarrow as pa

        stream = pa.CompressedInputStream(pa.BufferReader(data), "zstd")
        out = stream.read(MAX_BLOB + 1)
    elif kind == "gzip":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = d.decompress(data, MAX_BLOB + 1)
        while d.unused_data.startswith(b"\x1f\x8b") and len(out) <= MAX_BLOB:  # concatenated members
            rest = d.unused_data
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out += d.decompress(rest, MAX_BLOB + 1 - len(out))
        if not d.eof and len(out) <= MAX_BLOB:
            raise ValueError("truncated gzip stream")
    else:
        d = bz2.BZ2Decompressor() if kind == "bzip2" else lzma.LZMADecompressor()
        out = d.decompress(data, MAX_BLOB + 1)
        if not d.eof and len(out) <= MAX_BLOB:
            raise ValueError(f"truncated {kind} stream")
    if len(out) > MAX_BLOB:
        raise ValueError(f"decompresses to more than {MAX_BLOB >> 20} MiB")
    return out


def blob_reasons(  # noqa: C901 - one branch per file format sniffed
    data: bytes, ifr_max_rows: int = 20, depth: int = 0
) -> Iterator[str]:
    """Reasons (possibly prefixed with the member path inside an archive) why a blob looks licensed."""
    if len(data) > MAX_BLOB:
        yield f"{len(data) >> 20} MiB: too large to check (limit {MAX_BLOB >> 20} MiB); data files stay out of git"
        return
    compressed = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"\x28\xb5\x2f\xfd": "zstd"}
    kind = next((k for magic, k in compressed.items() if data.startswith(magic)), None)
    if kind == "bzip2" and data[4:10] != b"1AY&SY":  # "BZh" alone could open a text
        kind = None
    if kind or data.startswith((b"PK\x03\x04", b"PK\x05\x06")) or data[257:262] == b"ustar":
        if depth >= MAX_DEPTH:
            yield f"archive nested deeper than {MAX_DEPTH} levels: cannot be checked"
            return
    if kind:
        try:
            inner = _decompress(data, kind)
        except (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error) as exc:
            yield f"{kind} data that cannot be decompressed ({exc})"
            return
        yield from (f"{kind} -> {r}" for r in blob_reasons(inner, ifr_max_rows, depth + 1))
        return
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        yield from zip_reasons(data, ifr_max_rows, depth)
        return
    if data[257:262] == b"ustar":
        try:
            with tarfile.open(fileobj=io.BytesIO(data)) as tf:
                members = [m for m in tf.getmembers() if m.isfile()][:MAX_MEMBERS]
                for m in members:
                    fh = tf.extractfile(m)
                    inner = fh.read(MAX_BLOB + 1) if fh else b""
                    yield from (
                        f"tar member {m.name}: {r}" for r in blob_reasons(inner, ifr_max_rows, depth + 1)
                    )
        except tarfile.TarError as exc:
            yield f"tar archive that cannot be read ({exc})"
        return
    readers = [
        (b"PAR1", "parquet", parquet_tables),
        (b"ARROW1", "Arrow/feather", arrow_tables),
        (b"FEA1", "feather v1", arrow_tables),
        (b"\xff\xff\xff\xff", "Arrow stream", arrow_tables),
        (b"SQLite format 3\x00", "SQLite", sqlite_tables),
    ]
    for magic, name, reader in readers:
        if data.startswith(magic):
            yield from _tables_reasons(name, reader, data, ifr_max_rows)
            return
    if (
        data.startswith(b"<stata_dta>")
        or data[:1] in (b"\x71", b"\x72", b"\x73")
        and data[1:2] in (b"\x01", b"\x02")
    ):
        yield from _tables_reasons("Stata", _stata_tables, data, ifr_max_rows)
        return
    for magic, name in OPAQUE:
        if data.startswith(magic):
            yield f"{name} data file: cannot be inspected here; row-level statistical data never belongs in git"
            return
    if data.startswith(SAS_MAGIC):
        yield "SAS data file: cannot be inspected here; row-level statistical data never belongs in git"
        return
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        yield from pickle_reasons(data, ifr_max_rows)
        return
    text = decode(data)
    if text is not None:
        yield from text_reasons(text, ifr_max_rows)


def _stata_tables(data: bytes) -> Iterator[tuple[list[list[str]], int]]:
    import pandas as pd

    df = pd.read_stata(io.BytesIO(data), convert_categoricals=False)
    yield _frame_rows(list(df.columns), [df[c].head(MAX_ROWS).tolist() for c in df.columns]), len(df) + 1


def _tables_reasons(name: str, reader, data: bytes, ifr_max_rows: int) -> Iterator[str]:
    try:
        for rows, n in reader(data):
            reason = judge_table(rows, n, ifr_max_rows)
            if reason:
                yield f"{name}: {reason}"
                return
    except Exception as exc:  # noqa: BLE001 - an unreadable container is flagged, never passed
        yield f"{name} data that cannot be read ({type(exc).__name__}: {str(exc)[:80]}); fail closed"


def zip_reasons(data: bytes, ifr_max_rows: int, depth: int) -> Iterator[str]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        yield f"zip archive that cannot be read ({exc})"
        return
    with zf:
        names = zf.namelist()
        if "xl/workbook.xml" in names:
            yield from _tables_reasons("xlsx", xlsx_tables, data, ifr_max_rows)
            return
        if "word/document.xml" in names:
            text, tables = docx_text_and_tables(
                zf.read("word/document.xml").decode("utf-8", errors="replace")
            )
            for rows in tables:
                reason = judge_table(rows, ifr_max_rows=ifr_max_rows)
                if reason:
                    yield f"docx table: {reason}"
                    return
            yield from (f"docx text: {r}" for r in text_reasons(text, ifr_max_rows))
            return
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_MEMBERS:
            yield f"zip archive with {len(infos)} members: too many to check (limit {MAX_MEMBERS})"
            return
        for info in infos:
            if info.flag_bits & 0x1:
                yield f"zip member {info.filename}: encrypted, cannot be checked"
                continue
            if info.file_size > MAX_BLOB:
                yield f"zip member {info.filename}: {info.file_size >> 20} MiB, too large to check"
                continue
            try:
                with zf.open(info) as fh:
                    inner = fh.read(MAX_BLOB + 1)
            except (zipfile.BadZipFile, OSError, NotImplementedError, zlib.error) as exc:
                yield f"zip member {info.filename}: cannot be read ({exc})"
                continue
            yield from (
                f"zip member {info.filename}: {r}" for r in blob_reasons(inner, ifr_max_rows, depth + 1)
            )


# ----------------------------------------------------------------- sources
def _git(repo: Path, *args: str, data: bytes | None = None) -> bytes:
    proc = subprocess.run(["git", "-C", str(repo), *args], input=data, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode(errors="replace").strip() or f"git {args[0]} failed")
    return proc.stdout


def git_blobs(repo: Path, staged_only: bool = False) -> dict[str, list[str]]:
    """Blob id -> paths of the index (`git show :path`: what the next commit records), never the working copy.

    Every tracked file is in the index, with its staged version if one is staged. ``staged_only`` keeps the
    blobs that differ from HEAD (added or modified in the commit being made).
    """
    head: dict[str, str] = {}
    if (
        staged_only
        and subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "-q", "--verify", "HEAD"], capture_output=True
        ).returncode
        == 0
    ):
        for rec in _git(repo, "ls-tree", "-r", "-z", "--full-tree", "HEAD").split(b"\0"):
            if rec:
                meta, path = rec.split(b"\t", 1)
                head[path.decode("utf-8", errors="surrogateescape")] = meta.decode().split()[2]
    blobs: dict[str, list[str]] = {}
    for rec in _git(repo, "ls-files", "-s", "-z").split(b"\0"):
        if rec:
            meta, path = rec.split(b"\t", 1)
            mode, sha, _stage = meta.decode().split()
            rel = path.decode("utf-8", errors="surrogateescape")
            if mode in ("160000", "120000") or (staged_only and head.get(rel) == sha):
                continue  # submodules and symlinks hold no data
            blobs.setdefault(sha, []).append(rel)
    return blobs


def read_blobs(repo: Path, shas: list[str]) -> Iterator[tuple[str, bytes]]:
    """Contents of many blobs through one `git cat-file --batch`."""
    if not shas:
        return
    out = _git(repo, "cat-file", "--batch", data=("\n".join(shas) + "\n").encode())
    pos = 0
    for sha in shas:
        nl = out.index(b"\n", pos)
        size = int(out[pos:nl].split()[2])
        yield sha, out[nl + 1 : nl + 1 + size]
        pos = nl + 1 + size + 1


def index_text(repo: Path, rel: str) -> str | None:
    """A file as staged in the index (`git show :path`), or None."""
    proc = subprocess.run(["git", "-C", str(repo), "show", f":{rel}"], capture_output=True)
    return proc.stdout.decode("utf-8", errors="replace") if proc.returncode == 0 else None


def parse_allowlist(text: str | None) -> list[str]:
    out = []
    for line in (text or "").splitlines():
        pattern = line.split("#", 1)[0].strip()
        if pattern:
            out.append(pattern)
    return out


def check_blob(data: bytes, ifr_max_rows: int = 20) -> str | None:
    """The first reason a blob looks licensed, or None."""
    return next(blob_reasons(data, ifr_max_rows), None)


def check_repo(
    repo: Path, allow: list[str], ifr_max_rows: int = 20, staged_only: bool = False
) -> list[tuple[str, str]]:
    blobs = git_blobs(repo, staged_only)
    todo = {
        sha: [p for p in paths if not any(fnmatch.fnmatch(p, pat) for pat in allow)]
        for sha, paths in blobs.items()
    }
    todo = {sha: paths for sha, paths in todo.items() if paths}
    flagged = []
    for sha, data in read_blobs(repo, sorted(todo)):
        reason = check_blob(data, ifr_max_rows)
        if reason:
            flagged += [(p, reason) for p in todo[sha]]
    return sorted(flagged)


def check_dir(root: Path, allow: list[str], ifr_max_rows: int = 20) -> list[tuple[str, str]]:
    flagged = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink() or any(fnmatch.fnmatch(rel, pat) for pat in allow):
                continue
            if path.stat().st_size > MAX_BLOB:
                flagged.append((rel, f"{path.stat().st_size >> 20} MiB: too large to check"))
                continue
            reason = check_blob(path.read_bytes(), ifr_max_rows)
            if reason:
                flagged.append((rel, reason))
    return flagged


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", default=".", help="repository root (default: current directory)")
    ap.add_argument("--staged", action="store_true", help="only index blobs that differ from HEAD")
    ap.add_argument("--dir", default=None, help="check a plain folder instead of a git repository")
    ap.add_argument("--allow", action="append", default=[], help="glob of paths to skip (repeatable)")
    ap.add_argument(
        "--allowlist",
        default=None,
        help=f"allowlist file (default: {DEFAULT_ALLOWLIST} as staged in the index, or in --dir)",
    )
    ap.add_argument("--ifr-max-rows", type=int, default=20)
    args = ap.parse_args(argv)
    if args.dir:
        root = Path(args.dir).resolve()
        listed = Path(args.allowlist) if args.allowlist else root / DEFAULT_ALLOWLIST
        allow = args.allow + parse_allowlist(listed.read_text(encoding="utf-8") if listed.is_file() else None)
        flagged = check_dir(root, allow, args.ifr_max_rows)
        where = f"file(s) under {root}"
    else:
        repo = Path(args.repo).resolve()
        try:
            listed = (
                (Path(args.allowlist).read_text(encoding="utf-8") if Path(args.allowlist).is_file() else None)
                if args.allowlist
                else index_text(repo, DEFAULT_ALLOWLIST)
            )
            allow = args.allow + parse_allowlist(listed)
            flagged = check_repo(repo, allow, args.ifr_max_rows, args.staged)
        except (OSError, RuntimeError) as exc:
            print(f"check_licensed: cannot list tracked files in {repo}: {exc}", file=sys.stderr)
            return 2
        where = "staged file(s)" if args.staged else "tracked or staged file(s)"
    if flagged:
        print(
            f"check_licensed: {len(flagged)} {where} look like licensed vendor data or row-level firm-year "
            "data; remove them from git (git rm --cached FILE) or, for a small synthetic test fixture, add "
            f"a pattern to {DEFAULT_ALLOWLIST} (docs/licensed_data.md):",
            file=sys.stderr,
        )
        for rel, reason in flagged:
            print(f"  {rel}: {reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
