"""Readers for vendor exports as downloaded: CSMAR tables (csv/xlsx/txt, 1- or 3-row headers, UTF-8 with or
without BOM or GB18030), IFR robots and base-year employment.

Every reader returns typed, keyed frames and raises `InputError` naming the file, the field and example rows
when something is wrong; nothing is coerced silently.
"""

from __future__ import annotations

import difflib
import io
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

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


def _read_raw_frame(path: Path) -> pd.DataFrame:
    """All cells as strings, first row as header; no further interpretation."""
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


def normalize_ids(values: pd.Series, path: str | Path, column: str) -> pd.Series:
    """Six-character zero-padded stock codes; spreadsheet artefacts like '2.0' are repaired, others refused."""
    s = values.astype(str).str.strip().str.replace(r"\.0+$", "", regex=True)
    bad = ~s.str.match(ID_PATTERN)
    if bad.any():
        rows = (np.flatnonzero(bad.to_numpy())[:5] + 2).tolist()
        raise InputError(f"stock codes that are not 1-6 digits, e.g. {s[bad].head(3).tolist()}", file=str(path),
                         column=column, rows=rows, hint="codes must be numeric six-digit A/B-share codes")
    padded = int((s.str.len() < 6).sum())
    if padded:
        log.info("%s: %d stock code(s) in %s had lost leading zeros (e.g. %s) and were zero-padded to 6 digits",
                 path, padded, column, s[s.str.len() < 6].iloc[0])
    return s.str.zfill(6)


def read_csmar_table(path: str | Path, spec: dict, table: str) -> pd.DataFrame:
    """Read one CSMAR table and return columns Stkcd, [date, year], then the configured fields renamed.

    `spec` is the table's block of config: `id`, `date` (or null) and `fields` {our name: vendor code}.
    The 2nd/3rd header rows (Chinese names, units) are recognised as rows whose ID cell is not a code.
    """
    path = Path(path)
    df = _read_raw_frame(path)
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    id_col, date_col, fields = spec["id"], spec.get("date"), spec["fields"]
    needed = [id_col] + ([date_col] if date_col else []) + list(fields.values())
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
    ids = df[id_col].astype(str).str.strip()
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
    out = pd.DataFrame({"Stkcd": normalize_ids(df[id_col], path, id_col)})
    if date_col:
        d = df[date_col].astype(str).str.strip().str[:10]
        ok = d.str.match(r"^\d{4}-\d{2}-\d{2}$")
        if not ok.all():
            rows = (np.flatnonzero(~ok.to_numpy())[:5] + lead + 2).tolist()
            raise InputError("dates not in YYYY-MM-DD form", file=str(path), column=date_col, rows=rows)
        out["date"] = d
        out["year"] = d.str[:4].astype(np.int64)
    for name, code in fields.items():
        out[name] = df[code].astype(str).str.strip()
    out.attrs["file"] = str(path)
    out.attrs["header_rows"] = 1 + lead
    return out


def to_numeric(df: pd.DataFrame, columns: list[str], file: str, codes: dict | None = None) -> pd.DataFrame:
    """Blank -> NaN; anything else must parse as a number (thousands separators tolerated).
    `codes` maps our names to the vendor field codes, for the error message."""
    codes = codes or {}
    df = df.copy()
    for c in columns:
        s = df[c].astype(str).str.strip().str.replace(",", "", regex=False)
        s = s.mask(s.isin(["", "nan", "NaN", "NA", "--", "null", "None"]))
        num = pd.to_numeric(s, errors="coerce")
        bad = num.isna() & s.notna()
        if bad.any():
            ex = df.loc[bad, ["Stkcd"] + (["year"] if "year" in df else [])].head(5).to_dict("records")
            field = f"field {codes[c]} ({c})" if c in codes else "field"
            raise InputError(f"{int(bad.sum())} non-numeric value(s) in numeric {field}, e.g. {s[bad].head(3).tolist()}",
                             file=file, column=c, rows=ex, hint="fix or blank these cells in the export")
        df[c] = num.astype(float)
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


def load_table(path: str | Path, spec: dict, table: str) -> pd.DataFrame:
    """Read, filter (statements) and type one CSMAR table; the result is what `read_tables` writes."""
    df = read_csmar_table(path, spec, table)
    file = str(path)
    if table.startswith("FS_"):
        df = annual_consolidated(df)
    elif "date" in df:
        df = df[df["date"].str.endswith("-12-31")].reset_index(drop=True)
    num = [c for c in NUMERIC_FIELDS.get(table, []) if c in df]
    df = to_numeric(df, num, file, spec.get("fields", {}))
    keys = KEYS.get(table, ["Stkcd", "year"])
    if keys:
        df = drop_exact_duplicates(df, file, table)
        check_unique(df, keys, file, table)
    df = df.drop(columns=[c for c in ("date",) if c in df])
    sort = [c for c in ("Stkcd", "year", "detail", "sign_year", "region") if c in df]
    return df.sort_values(sort, kind="stable").reset_index(drop=True)


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
