"""The fast CSMAR reader (pyarrow, streamed encoding checks, per-distinct-value string work, integer sort keys)
against the reference implementation it replaced: same frame (values, dtypes, order, attrs), same logged
decisions, same error messages, for every container/encoding/header variant and for randomised messy files.

`_reference_*` below are the pre-optimisation functions of `intelcap.ingest.readers`, kept verbatim as the oracle.
"""

from __future__ import annotations

import copy
import io as _io
import logging
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from _factories import COMBAS_SPEC

from intelcap.errors import InputError
from intelcap.ingest import readers as io
from intelcap.synthetic import dgp as synth

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
CROSSWALK = pd.read_csv(ROOT / "config" / "crosswalk_csrc_ifr.csv", dtype=str, keep_default_na=False)


# ----------------------------------------------------------------------------- the reference implementation
def _reference_read_raw_frame(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputError(
            "table file not found",
            file=str(path),
            hint="put the CSMAR download there or change its `file:` in config/config.yaml (csmar:)",
        )
    if suffix == ".xlsx":
        try:
            return pd.read_excel(path, dtype=str, header=0, engine="openpyxl").fillna("")
        except Exception as exc:
            raise InputError(
                f"cannot read xlsx workbook ({type(exc).__name__}: {exc})", file=str(path)
            ) from exc
    if suffix not in (".csv", ".txt"):
        raise InputError(f"unsupported file type {suffix!r}", file=str(path), hint="use .csv, .txt or .xlsx")
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError("file is empty", file=str(path), hint="re-download the table")
    text, encoding = io.decode_bytes(raw, path)
    if encoding == "gb18030":
        io.log.info("%s: no UTF-8, decoded as GB18030 (detected, no declaration needed)", path)
    sep = "\t" if suffix == ".txt" else ","
    try:
        return pd.read_csv(_io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, header=0)
    except pd.errors.ParserError as exc:
        raise InputError(f"malformed {suffix} table: {exc}", file=str(path)) from exc


def _reference_normalize_ids(values: pd.Series, path, column: str) -> pd.Series:
    s = values.astype(str).str.strip().str.replace(r"\.0+$", "", regex=True)
    bad = ~s.str.match(io.ID_PATTERN)
    if bad.any():
        rows = (np.flatnonzero(bad.to_numpy())[:5] + 2).tolist()
        raise InputError(
            f"stock codes that are not 1-6 digits, e.g. {s[bad].head(3).tolist()}",
            file=str(path),
            column=column,
            rows=rows,
            hint="codes must be numeric six-digit A/B-share codes",
        )
    padded = int((s.str.len() < 6).sum())
    if padded:
        io.log.info(
            "%s: %d stock code(s) in %s had lost leading zeros (e.g. %s) and were zero-padded to 6 digits",
            path,
            padded,
            column,
            s[s.str.len() < 6].iloc[0],
        )
    return s.str.zfill(6)


# independent oracle (deliberate copy): the pre-optimisation reader, frozen; its messages must stay equal
def _reference_read_csmar_table(path, spec: dict, table: str) -> pd.DataFrame:
    import difflib

    path = Path(path)
    df = _reference_read_raw_frame(path)
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    id_col, date_col, fields = spec["id"], spec.get("date"), spec["fields"]
    needed = [id_col] + ([date_col] if date_col else []) + list(fields.values())
    missing = [c for c in needed if c not in df.columns]
    if missing:
        close = {
            m: [c for c in df.columns if c.lower() == m.lower()]
            or difflib.get_close_matches(m, [str(c) for c in df.columns if c not in needed], n=1, cutoff=0.8)
            for m in missing
        }
        hint = "; ".join(
            f"{m}: did you mean {close[m][0]}? (rename it in the file, or set the field code in "
            f"config/config.yaml under csmar.{table})"
            for m in missing
            if close[m]
        ) or (
            f"available fields: {', '.join(df.columns[:30])}; remap in config/config.yaml under csmar.{table}.fields"
        )
        raise InputError(
            f"table {table} lacks field(s) {missing}", file=str(path), column=", ".join(missing), hint=hint
        )
    ids = df[id_col].astype(str).str.strip()
    looks_like_header = ~ids.str.match(r"^\d{1,6}(\.0+)?$")
    lead = 0
    while lead < min(2, len(df)) and looks_like_header.iloc[lead]:
        lead += 1
    df = df.iloc[lead:].reset_index(drop=True)
    if df.empty:
        raise InputError(
            f"table {table} has a header but no data rows",
            file=str(path),
            hint="re-download the table with data",
        )
    out = pd.DataFrame({"Stkcd": _reference_normalize_ids(df[id_col], path, id_col)})
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


def _reference_to_numeric(df: pd.DataFrame, columns: list[str], file: str, codes: dict | None = None):
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
            raise InputError(
                f"{int(bad.sum())} non-numeric value(s) in numeric {field}, e.g. {s[bad].head(3).tolist()}",
                file=file,
                column=c,
                rows=ex,
                hint="fix or blank these cells in the export",
            )
        df[c] = num.astype(float)
    return df


def _reference_load_table(path, spec: dict, table: str) -> pd.DataFrame:
    df = _reference_read_csmar_table(path, spec, table)
    file = str(path)
    if table.startswith("FS_"):
        df = io.annual_consolidated(df)
    elif "date" in df:
        df = df[df["date"].str.endswith("-12-31")].reset_index(drop=True)
    num = [c for c in io.NUMERIC_FIELDS.get(table, []) if c in df]
    df = _reference_to_numeric(df, num, file, spec.get("fields", {}))
    keys = io.KEYS.get(table, ["Stkcd", "year"])
    if keys:
        df = io.drop_exact_duplicates(df, file, table)
        io.check_unique(df, keys, file, table)
    df = df.drop(columns=[c for c in ("date",) if c in df])
    sort = [c for c in ("Stkcd", "year", "detail", "sign_year", "region") if c in df]
    return df.sort_values(sort, kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------------------------- harness
# messages the reference never wrote: which reader ran, and the units decision (issue 12: units rows read)
_NEW_LOGS = ("read by pandas", "no units row")


def _outcome(fn, caplog) -> tuple:
    """(kind, frame or error text, io log messages) of one reader call."""
    caplog.clear()
    try:
        res = ("frame", fn())
    except Exception as exc:  # compare whatever the reference raises, InputError or not
        res = ("error", f"{type(exc).__name__}: {exc}")
    logs = [
        r.getMessage()
        for r in caplog.records
        if r.name == "intelcap.ingest.readers" and not any(m in r.getMessage() for m in _NEW_LOGS)
    ]
    return res + (logs,)


def _pandas_only(path: Path, spec: dict, table: str, monkeypatch) -> str:
    """The error text of `io.load_table` with the fast reader disabled (the reference reader inside)."""

    def no_fast(*args, **kw):
        raise io._Fallback("disabled")

    with monkeypatch.context() as m:
        m.setattr(io, "_read_fast", no_fast)
        try:
            io.load_table(path, spec, table)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
    raise AssertionError("the pandas-only reader did not fail")


def _same(path: Path, spec: dict, table: str, caplog, monkeypatch=None) -> tuple:
    """Frames: identical to the verbatim reference. Errors: the reference fails too, with the same exception
    type, and the message is exactly the one the pandas-only path gives (the messages themselves changed on
    purpose since the reference: file lines instead of firm-years, issue 12)."""
    caplog.set_level(logging.INFO, logger="intelcap.ingest.readers")
    ref = _outcome(lambda: _reference_load_table(path, spec, table), caplog)
    new = _outcome(lambda: io.load_table(path, spec, table), caplog)
    assert new[0] == ref[0], (new[1], ref[1])
    if ref[0] == "frame":
        pd.testing.assert_frame_equal(new[1], ref[1], check_exact=True)
        assert new[1].attrs == ref[1].attrs
        assert new[2] == ref[2]
    else:
        assert new[1].split(":")[0] == ref[1].split(":")[0]
        if monkeypatch is not None:
            assert new[1] == _pandas_only(path, spec, table, monkeypatch)
    return ref


def _fast_path_used(caplog) -> bool:
    return not any("read by pandas" in r.getMessage() for r in caplog.records)


@pytest.fixture(scope="module")
def world() -> dict[str, pd.DataFrame]:
    return synth.generate(synth.SynthParams(n_firms=40, reports=False, seed=5), CROSSWALK)


# ----------------------------------------------------------------------- every table x every file variant
FILE_VARIANTS = {
    "utf8_csv": (".csv", {"encoding": "utf-8"}),
    "bom_csv": (".csv", {"encoding": "utf-8-sig"}),
    "gb18030_csv": (".csv", {"encoding": "gb18030"}),
    "gb18030_txt": (".txt", {"encoding": "gb18030"}),
    "tab_txt": (".txt", {"encoding": "utf-8"}),
    "one_row_header": (".csv", {"encoding": "utf-8", "header_rows": 1}),
    "lost_zeros_gb18030": (".csv", {"encoding": "gb18030", "ids_as_numbers": True}),
    "xlsx": (".xlsx", {}),
}


# xlsx goes through the reference reader (and the new per-value string work): two tables suffice
TABLE_VARIANTS = [
    (t, v)
    for t in sorted(CONFIG["csmar"])
    for v in sorted(FILE_VARIANTS)
    if v != "xlsx" or t in ("CG_Ybasic", "QUA_Qualification")
]


@pytest.mark.parametrize(("table", "variant"), TABLE_VARIANTS)
def test_every_table_and_variant_matches_reference(tmp_path, world, caplog, table, variant):
    suffix, opts = FILE_VARIANTS[variant]
    path = tmp_path / f"{table}{suffix}"
    synth.write_csmar(world[table], path, **opts)
    kind, frame, _ = _same(path, copy.deepcopy(CONFIG["csmar"][table]), table, caplog)
    assert kind == "frame" and len(frame) > 0
    assert _fast_path_used(caplog)  # every variant the generator writes takes the pyarrow path


# ------------------------------------------------------------------------------------------ randomised files
SPEC = COMBAS_SPEC
HEADER = ["Stkcd", "Accper", "Typrep", "A001000000", "A001212000", "A002000000", "Remark"]
LABELS = [
    ["证券代码", "会计期间", "报表类型", "资产总计", "固定资产净额", "负债合计", "备注"],
    ["没有单位", "没有单位", "没有单位", "元", "元", "元", "没有单位"],
]


def _messy_file(rng: random.Random) -> tuple[str, bytes]:  # noqa: C901 - a random choice per messiness kind
    """A small FS_Combas export with a random selection of the things real downloads contain."""
    sep = rng.choice([",", ",", "\t"])
    suffix = ".txt" if sep == "\t" else ".csv"
    nl = rng.choice(["\n", "\n", "\r\n"])
    # each firm written one way in the file (codes that lost zeros, spreadsheet '.0', padding)
    firms = {
        "000002": rng.choice(["000002", "2", "2.0", " 000002 "]),
        "600519": rng.choice(["600519", "600519.00"]),
        "000519": rng.choice(["000519", "519"]),
        "300750": "300750",
    }
    keys = [(f, y, p) for f in firms for y in (2017, 2018, 2019) for p in ("12-31", "06-30", "01-01")]
    rows = []
    for firm, year, period in rng.sample(keys, rng.randint(0, 14)):
        code, date = firms[firm], f"{year}-{period}"
        nums = [
            rng.choice(
                [
                    "1500000.25",
                    "-3.5",
                    "",
                    "0",
                    "12,345.60",
                    "1e5",
                    "--",
                    "NaN",
                    " 7 ",
                    "1.23456789012345678901",
                ]
            )
            for _ in range(3)
        ]
        rows.append(
            [code, date, rng.choice(["A", "A", "B", "a"]), *nums, rng.choice(["", "正常", "x,y", 'say "hi"'])]
        )
    header = list(HEADER)
    if rng.random() < 0.1:
        header[6] = "A001000000"  # a duplicated column name (pandas renames it A001000000.1)
    if rng.random() < 0.1:
        header[6] = ""  # an unnamed column
    if rng.random() < 0.1:
        header[2] = " Typrep "  # padded field code
    if rng.random() < 0.05:
        header[4] = "a001212000"  # a missing field
    lines = [header] + (LABELS if rng.random() < 0.6 else []) + rows
    if rows and rng.random() < 0.1:
        lines.append(list(lines[-1]))  # a row exported twice
    if rows and rng.random() < 0.1:
        dup = list(lines[-1])
        dup[3] = "999"
        lines.append(dup)  # a restatement
    quote_all = rng.random() < 0.2

    def cell(v: str) -> str:
        needs = sep in v or '"' in v or "\n" in v
        if quote_all or needs or rng.random() < 0.05:
            return '"' + v.replace('"', '""') + '"'
        return v

    if rng.random() < 0.05 and len(lines) > 1:
        lines[-1][6] = "two\nlines"
    out = [sep.join(cell(v) for v in line) for line in lines]
    r = rng.random()
    if r < 0.05 and len(out) > 1:
        out[-1] = out[-1].rsplit(sep, 1)[0]  # a short row
    elif r < 0.10 and len(out) > 1:
        out[-1] = out[-1] + sep + "extra"  # a long row
    elif r < 0.14:
        out.insert(rng.randint(1, len(out)), "   ")  # a whitespace-only line
    elif r < 0.20:
        out.insert(rng.randint(1, len(out)), "")  # a blank line
    elif r < 0.24:
        out.append('600519,"2019-12-31')  # a quote open at end of file
    elif r < 0.27:
        out = [line + sep for line in out]  # a trailing delimiter on every line
    elif r < 0.30 and len(out) > 3:
        out[3] = "ABC" + out[3]  # a bad stock code
    text = nl.join(out) + (nl if rng.random() < 0.8 else "")
    enc = rng.choice(["utf-8", "utf-8-sig", "gb18030"])
    data = text.encode(enc)
    r = rng.random()
    if r < 0.04:
        data = data + "000002,2019-12-31,A,1,2,3,混合\n".encode("utf-8" if enc == "gb18030" else "gb18030")
    elif r < 0.06:
        data = data + b"000002,2019-12-31,A,1,2,3,\xff\xfe\n"  # undecodable in both encodings
    elif r < 0.08:
        data = data + b"000002,2019-12-31,A,1,2,3,\xa1\x40\n"  # GB18030 user-defined area (private use)
    elif r < 0.09:
        data = b" \n\t\r\n"  # blank file
    return suffix, data


@pytest.mark.parametrize("seed", range(250))
def test_randomised_messy_files_match_reference(tmp_path, caplog, monkeypatch, seed):
    suffix, data = _messy_file(random.Random(seed))
    path = tmp_path / f"FS_Combas{suffix}"
    path.write_bytes(data)
    _same(path, copy.deepcopy(SPEC), "FS_Combas", caplog, monkeypatch)


@pytest.mark.parametrize("block", [1, 7, 64])
@pytest.mark.parametrize("seed", range(0, 250, 5))
def test_streamed_blocks_do_not_change_the_result(tmp_path, caplog, monkeypatch, seed, block):
    """Files larger than one block: the encoding checks and the GB18030 copy work block by block."""
    monkeypatch.setattr(io, "_BLOCK", block)
    suffix, data = _messy_file(random.Random(seed))
    path = tmp_path / f"FS_Combas{suffix}"
    path.write_bytes(data)
    _same(path, copy.deepcopy(SPEC), "FS_Combas", caplog, monkeypatch)


HAND_MADE = {
    "gb18030_bom_quoted_header": (
        '\ufeff"Stkcd",Accper,Typrep,A001000000,A001212000,A002000000\n000002,2019-12-31,A,1,2,3\n',
        "gb18030",
        ".csv",
    ),
    "utf8_bom_quoted_header": (
        '\ufeff"Stkcd",Accper,Typrep,A001000000,A001212000,A002000000\r\n000002,2019-12-31,A,1,2,3\r\n',
        "utf-8",
        ".csv",
    ),
    "all_quoted_tab": (
        '"Stkcd"\t"Accper"\t"Typrep"\t"A001000000"\t"A001212000"\t"A002000000"\n'
        '"2"\t"2019-12-31"\t"A"\t"1,5"\t"2"\t"3"\n',
        "utf-8",
        ".txt",
    ),
    "literal_replacement_char_gb18030": (
        "Stkcd,Accper,Typrep,A001000000,A001212000,A002000000,备注\n000002,2019-12-31,A,1,2,3,\ufffd坏\n",
        "gb18030",
        ".csv",
    ),
    "ideographic_spaces": (
        "Stkcd,Accper,Typrep,A001000000,A001212000,A002000000\n"
        "\u3000000002\u3000,2019-12-31\u3000,A\u3000,\u30001\u3000,2,3\n",
        "utf-8",
        ".csv",
    ),
    "fullwidth_digits": (
        "Stkcd,Accper,Typrep,A001000000,A001212000,A002000000\n０００００２,2019-12-31,A,１,2,3\n",
        "utf-8",
        ".csv",
    ),
    "only_header_rows": (
        "Stkcd,Accper,Typrep,A001000000,A001212000,A002000000\n证券代码,会计期间,报表类型,资产,固定,负债\n"
        "没有单位,没有单位,没有单位,元,元,元\n",
        "gb18030",
        ".csv",
    ),
    "quote_in_last_field_at_eof": (
        'Stkcd,Accper,Typrep,A001000000,A001212000,A002000000\n000002,2019-12-31,A,1,2,""',
        "utf-8",
        ".csv",
    ),
}


@pytest.mark.parametrize("case", sorted(HAND_MADE))
def test_hand_made_edge_files_match_reference(tmp_path, caplog, case):
    text, enc, suffix = HAND_MADE[case]
    path = tmp_path / f"FS_Combas{suffix}"
    path.write_bytes(text.encode(enc))
    _same(path, copy.deepcopy(SPEC), "FS_Combas", caplog)


def test_fast_reader_falls_back_only_when_it_must(tmp_path, caplog, world):
    caplog.set_level(logging.INFO, logger="intelcap.ingest.readers")
    path = tmp_path / "FS_Combas.csv"
    synth.write_csmar(world["FS_Combas"], path, encoding="gb18030")
    path.write_bytes(path.read_bytes() + b'000002,"2019-12-31')  # pandas refuses: quote open at EOF
    with pytest.raises(InputError, match="EOF inside string"):
        io.load_table(path, CONFIG["csmar"]["FS_Combas"], "FS_Combas")
    assert not _fast_path_used(caplog)


# ------------------------------------------------------------------------------------ pieces in isolation
def _reference_has_utf8_line(block: bytes) -> bool:
    for line in block.split(b"\n"):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            return True
        except UnicodeDecodeError:
            pass
    return False


@pytest.mark.parametrize("seed", range(30))
def test_mixed_encoding_line_scan_matches_line_by_line_decoding(seed):
    rng = random.Random(seed)
    pieces = ["abc", "证券", "证券".encode("gb18030").decode("latin-1"), "\r", "", "é", "\ufeff"]
    lines = []
    for _ in range(rng.randint(1, 30)):
        enc = rng.choice(["utf-8", "gb18030", "ascii"])
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 4)))
        lines.append(
            text.encode(enc, errors="ignore") + rng.choice([b"", b"\xff", b"\xe8\xaf"]) * (rng.random() < 0.2)
        )
    block = b"\n".join(lines) + rng.choice([b"", b"\n"])
    assert io._has_utf8_line(block) == _reference_has_utf8_line(block)


EDGE_BYTES = [
    0x00,
    0x0A,
    0x22,
    0x41,
    0x7F,
    0x80,
    0x8F,
    0x90,
    0x9F,
    0xA0,
    0xA3,
    0xA4,
    0xBD,
    0xBF,
    0xC0,
    0xC1,
    0xC2,
    0xDF,
    0xE0,
    0xE1,
    0xEC,
    0xED,
    0xEE,
    0xEF,
    0xF0,
    0xF1,
    0xF3,
    0xF4,
    0xF5,
    0xF8,
    0xFE,
    0xFF,
]


def _random_line(rng: random.Random) -> bytes:
    if rng.random() < 0.3:  # byte soup around the UTF-8 boundaries
        line = bytes(
            rng.choice(EDGE_BYTES) if rng.random() < 0.8 else rng.randrange(256)
            for _ in range(rng.randint(0, 9))
        )
    else:  # real text in either encoding, sometimes cut short
        text = "".join(
            rng.choice(["证券代码", "a,b", "é", "\U0001f600", "\ue000", "\x85", " ", "，", "\ufffd"])
            for _ in range(rng.randint(0, 4))
        )
        line = text.encode(rng.choice(["utf-8", "gb18030", "gb18030", "gb18030"]))
        if line and rng.random() < 0.3:
            line = line[: rng.randrange(len(line))]
    return line.replace(b"\n", b"")


def test_utf8_line_scan_matches_python_decoder():
    """`_has_utf8_line` answers exactly what decoding each line with Python's strict decoder answers."""
    rng = random.Random(1)
    for _ in range(4000):
        lines = [_random_line(rng) for _ in range(rng.randint(1, 6))]
        block = b"\n".join(lines) + rng.choice([b"", b"\n"])
        assert io._has_utf8_line(block) == _reference_has_utf8_line(block), block


def test_suspicious_character_search_matches_regex():
    import re

    rng = random.Random(0)
    pool = [
        "a",
        "证",
        "\n",
        "\x7f",
        "\x80",
        "\x9f",
        "\xa0",
        "\u07ff",
        "\ud7ff",
        "\ue000",
        "\uefff",
        "\uf000",
        "\uf8ff",
        "\uf900",
        "\uffff",
        "\U00010000",
    ]
    for _ in range(3000):
        text = "".join(rng.choice(pool) if rng.random() < 0.3 else "x" for _ in range(rng.randint(0, 12)))
        m = re.search(r"[\x80-\x9f\ue000-\uf8ff]", text)
        enc = text.encode("utf-8")
        at = io._first_suspicious(enc)
        assert (m is None) == (at is None), text
        if m:
            assert enc.count(b"\n", 0, at) == text.count("\n", 0, m.start())


def test_number_parsing_matches_pandas():
    values = [
        "1500000.25",
        "-0",
        "-0.00",
        "007",
        "1e5",
        "1E-3",
        "+5",
        ".5",
        "5.",
        "inf",
        "-Infinity",
        "0x1A",
        "１２",
        "1_000",
        "123456789012345678.123456789012345678",
        "9" * 19,
        "9" * 30,
        "1" * 400,
        "0." + "0" * 330 + "1",
        "abc",
        None,
        "  ",
        "4.9406564584124654e-324",
    ]
    s = pd.Series(values, dtype="str")
    expected = pd.to_numeric(s, errors="coerce").astype(float)
    pd.testing.assert_series_equal(io._parse_numbers(s), expected, check_exact=True)
    rng = np.random.default_rng(0)
    many = pd.Series(
        [f"{x:.{d}f}" for x, d in zip(rng.lognormal(15, 4, 20000), rng.integers(0, 12, 20000), strict=True)],
        dtype="str",
    )
    pd.testing.assert_series_equal(
        io._parse_numbers(many), pd.to_numeric(many).astype(float), check_exact=True
    )


def test_normalize_ids_matches_reference(caplog):
    caplog.set_level(logging.INFO, logger="intelcap.ingest.readers")
    good = pd.Series(
        ["2", "000002", " 600519", "519.0", np.nan, "2"],
        dtype="str",
        name="Symbol",
        index=[5, 6, 7, 8, 9, 10],
    ).iloc[[0, 1, 2, 3, 5]]
    pd.testing.assert_series_equal(
        io.normalize_ids(good, "f", "Symbol"), _reference_normalize_ids(good, "f", "Symbol")
    )
    for bad in (
        pd.Series(["000002", "ABC", "1234567", "x"], dtype="str"),
        pd.Series(["1", np.nan], dtype="str"),
    ):
        with pytest.raises(InputError) as new:
            io.normalize_ids(bad, "f", "Symbol")
        with pytest.raises(InputError) as ref:
            _reference_normalize_ids(bad, "f", "Symbol")
        assert str(new.value) == str(ref.value)
