"""The bad-input corpus: each case builds a small bad input in code (from `intelcap.synthetic.dgp` or small frames), runs
the module function where the behaviour lives, and checks the outcome:

* ``error``: an `InputError`/`EstimationError` whose message names the file / column / rows and what to do;
* ``decision``: the input is handled by a rule that is counted (a note, a status, a count attribute) and logged.

`CASES` is also read by `make_summary.py`, which writes docs/bad_inputs.md.
"""

from __future__ import annotations

import copy
import functools
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from _factories import firm_years

from intelcap.econometrics import estimate
from intelcap.errors import EstimationError, InputError
from intelcap.ingest import panel
from intelcap.ingest import readers as io
from intelcap.measures import attributes, cu, dea, robots, text
from intelcap.synthetic import dgp as synth

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
CROSSWALK = pd.read_csv(ROOT / "config" / "crosswalk_csrc_ifr.csv", dtype=str, keep_default_na=False)
REGIONS = pd.read_csv(ROOT / "config" / "regions.csv", dtype=str, keep_default_na=False)
PANEL_TABLES = ["FS_Combas", "FS_Comins", "FS_Comscfd", "CG_Ybasic", "STK_LISTEDCOINFOANL"]
SCHEMA = ROOT / "schemas" / "config.schema.yaml"


@dataclass(frozen=True)
class Case:
    id: str
    bad_input: str
    outcome: str  # what the user sees
    level: str  # where the behaviour lives (module function)
    kind: str  # "error" or "decision"
    run: Callable


CASES: list[Case] = []


def case(id: str, bad_input: str, outcome: str, level: str, kind: str):
    def deco(fn):
        register(id, bad_input, outcome, level, kind, fn)
        return fn

    return deco


# ------------------------------------------------------------------------------------------------ helpers
@functools.lru_cache(maxsize=1)
def _world() -> dict[str, pd.DataFrame]:
    return synth.generate(synth.SynthParams(n_firms=60, reports=False, seed=11), CROSSWALK)


def world() -> dict[str, pd.DataFrame]:
    return {k: v.copy() for k, v in _world().items()}


def spec(table: str) -> dict:
    return copy.deepcopy(CONFIG["csmar"][table])


def write(tmp: Path, table: str, df: pd.DataFrame | None = None, **kw) -> Path:
    path = tmp / "csmar" / CONFIG["csmar"][table]["file"]
    opts = {**synth.WRITE_OPTIONS.get(table, {}), **kw}
    synth.write_csmar(world()[table] if df is None else df, path, **opts)
    return path


def load(path: Path, table: str) -> pd.DataFrame:
    return io.load_table(path, spec(table), table)


@functools.lru_cache(maxsize=1)
def _parsed() -> dict[str, pd.DataFrame]:
    tmp = Path(tempfile.mkdtemp(prefix="intelcap_bad_"))
    return {t: load(write(tmp, t), t) for t in CONFIG["csmar"]}


def parsed() -> dict[str, pd.DataFrame]:
    out = {}
    for k, v in _parsed().items():
        c = v.copy()
        c.attrs = dict(v.attrs)
        out[k] = c
    return out


def build(
    tables: dict | None = None, crosswalk: pd.DataFrame | None = None, regions: pd.DataFrame | None = None
):
    t = tables or parsed()
    return panel.build_panel(
        {k: t[k] for k in PANEL_TABLES},
        CONFIG,
        CROSSWALK if crosswalk is None else crosswalk,
        REGIONS if regions is None else regions,
    )


def raises(cls, fn, *must: str) -> str:
    """Run fn; it must raise exactly `cls` (not a bare Python error) with every `must` text in its message."""
    with pytest.raises(cls) as ei:
        fn()
    msg = str(ei.value)
    for m in must:
        assert m in msg, f"{m!r} not in error message:\n{msg}"
    return msg


def logged(caplog, *must: str) -> None:
    text_ = caplog.text
    for m in must:
        assert m in text_, f"{m!r} not logged:\n{text_[-2000:]}"


def a_firm_year(df: pd.DataFrame, i: int = 5) -> tuple[str, str]:
    row = df.iloc[i]
    return str(row.iloc[0]), str(row.iloc[1])


def year_ends(df: pd.DataFrame) -> np.ndarray:
    """Positions of a CSMAR statement table's rows that the reader keeps: annual (Typrep A), at 12-31."""
    return np.flatnonzero((df["Typrep"] == "A").to_numpy() & df["Accper"].str.endswith("12-31").to_numpy())


def regression_data(n_firms: int = 40, years: int = 6, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    firm, d = firm_years(n_firms, years)
    d["lnINT"] = rng.normal(size=len(d)) + 0.1 * firm
    d["Lev"] = rng.uniform(0.1, 0.9, len(d))
    d["lnCU"] = 0.03 * d["lnINT"] + 0.1 * d["Lev"] + rng.normal(0, 0.1, len(d))
    d["SOE"] = (firm % 2).astype(int)
    d["lnINTUS"] = d["lnINT"] + rng.normal(size=len(d))
    return d


# ---------------------------------------------------------------- constructors of the common case shapes
def register(id: str, bad_input: str, outcome: str, level: str, kind: str, run: Callable) -> None:
    CASES.append(Case(id, bad_input, outcome, level, kind, run))


def cells(column: str, rows: int | list[int], values) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """An edit of a frame: `values` put into `column` at the positional `rows` (the column made text first, so
    that a numeric column can take 'n/a')."""

    def edit(df: pd.DataFrame) -> pd.DataFrame:
        df = df.astype({column: object})
        df.iloc[rows, df.columns.get_loc(column)] = values
        return df

    return edit


def load_error(
    id: str,
    bad_input: str,
    outcome: str,
    level: str,
    table: str,
    edit: Callable[[pd.DataFrame], pd.DataFrame] | None,
    *must: str | Callable[[pd.DataFrame], str],
    names_path: bool = False,
    **write_kw,
) -> None:
    """An error case of the CSMAR reader: `table` written (its frame changed by `edit`; `write_kw` for the
    file's layout) fails to load with an InputError carrying every `must` text (a callable: the text it gives
    for the edited frame, such as the Stkcd of the edited row), and the file's path with `names_path`."""

    def run(tmp: Path, caplog) -> None:
        df = world()[table]
        df = df if edit is None else edit(df)
        path = write(tmp, table, df, **write_kw)
        texts = [m(df) if callable(m) else m for m in must] + ([str(path)] if names_path else [])
        raises(InputError, lambda: load(path, table), *texts)

    register(id, bad_input, outcome, level, "error", run)


def ifr_error(
    id: str, bad_input: str, outcome: str, edit: Callable[[pd.DataFrame], pd.DataFrame], *must: str
) -> None:
    """An error case of the IFR reader: ifr_robots.csv (its frame changed by `edit`) next to a clean
    employment_base.csv fails to read with an InputError carrying every `must` text."""

    def run(tmp: Path, caplog) -> None:
        w = world()
        robots_ = edit(w["ifr_robots"])
        raises(InputError, lambda: io.read_ifr(*_write_ifr(tmp, robots_, w["employment_base"])), *must)

    register(id, bad_input, outcome, "io.read_ifr", "error", run)


def exposure_error(
    id: str, bad_input: str, outcome: str, ifr: Callable, employment: Callable, *must: str
) -> None:
    """An error case of robot exposure on the clean panel: the IFR robots and base-year employment frames
    (changed by `ifr` and `employment`) make robots.robot_exposure raise an InputError with every `must`."""

    def run(tmp: Path, caplog) -> None:
        w, t = world(), parsed()
        pnl, _ = build(t)
        robots_, emp = ifr(w["ifr_robots"]), employment(w["employment_base"])
        raises(
            InputError,
            lambda: robots.robot_exposure(pnl, robots_, emp, t["EMP_Structure"], CONFIG["robots"]),
            *must,
        )

    register(id, bad_input, outcome, "robots.robot_exposure", "error", run)


def table_error(
    id: str,
    bad_input: str,
    outcome: str,
    level: str,
    data: Callable[[], pd.DataFrame],
    model: dict,
    *must: str,
    controls: tuple[str, ...] = (),
    cls: type[Exception] = EstimationError,
) -> None:
    """An error case of estimation: estimate.regression_table on `data()` with the one model `_spec(**model)`
    (and the `controls`) raises `cls` carrying every `must` text."""

    def run(tmp: Path, caplog) -> None:
        d, s = data(), _spec(**model)
        raises(cls, lambda: estimate.regression_table(d, [s], list(controls), "Stkcd"), *must)

    register(id, bad_input, outcome, level, "error", run)


def raising(
    id: str,
    bad_input: str,
    outcome: str,
    level: str,
    action: Callable[[Path], object],
    *must: str,
    cls: type[Exception] = InputError,
) -> None:
    """An error case in one call: `action(tmp)` raises `cls` carrying every `must` text."""
    register(
        id, bad_input, outcome, level, "error", lambda tmp, caplog: raises(cls, lambda: action(tmp), *must)
    )


def dir_error(
    id: str, bad_input: str, outcome: str, level: str, table: str, make: Callable[[Path], object], *must: str
) -> None:
    """An error case of what raw_dir/csmar holds: after `make(csmar folder)`, reading `table` from the folder
    (as the workflow does) raises an InputError carrying every `must` text."""

    def run(tmp: Path, caplog) -> None:
        make(csmar_dir(tmp))
        raises(InputError, lambda: load_dir(tmp, table), *must)

    register(id, bad_input, outcome, level, "error", run)


def units_error(
    id: str,
    bad_input: str,
    outcome: str,
    table: str,
    unit: str,
    field: str,
    *must: str,
    names_path: bool = False,
) -> None:
    """An error case of the units row: `table` whose units row gives `unit` for the vendor `field` fails to load
    with an InputError carrying every `must` text (and the file's path with `names_path`)."""

    def run(tmp: Path, caplog) -> None:
        path = _with_units(tmp, table, unit, [field])
        raises(InputError, lambda: load(path, table), *must, *([str(path)] if names_path else []))

    register(id, bad_input, outcome, "io.load_table", "error", run)


def same_frame(
    id: str,
    bad_input: str,
    outcome: str,
    level: str,
    table: str,
    edit: Callable[[pd.DataFrame], pd.DataFrame],
    noted: str | None = None,
) -> None:
    """A decision case of the CSMAR reader: `table` written with its frame changed by `edit` loads to exactly
    the frame of the clean file; with `noted`, a note of that text counts every row."""

    def run(tmp: Path, caplog) -> None:
        df = edit(world()[table])
        notes: list[dict] = []
        out = io.load_table(write(tmp, table, df), spec(table), table, notes)
        pd.testing.assert_frame_equal(out, whole(table), check_exact=True)
        if noted is not None:
            assert note_rows(notes, noted) == len(df)

    register(id, bad_input, outcome, level, "decision", run)


def _at(c: dict | list, dotted: str) -> tuple[dict | list, str | int]:
    """(container, key) of a dotted config path, list items by number: 'tables.table2.0.regressors'."""
    *parents, last = [int(k) if k.isdigit() else k for k in dotted.split(".")]
    for k in parents:
        c = c[k]
    return c, last


def renamed(dotted: str, new: str) -> Callable[[dict], None]:
    """A config edit: the key at `dotted` renamed to `new` (a typo of the user), its value kept."""

    def edit(c: dict) -> None:
        parent, key = _at(c, dotted)
        parent[new] = parent.pop(key)

    return edit


def updated(values: dict) -> Callable[[dict], None]:
    """A config edit: each dotted key set to its value."""

    def edit(c: dict) -> None:
        for dotted, v in values.items():
            parent, key = _at(c, dotted)
            parent[key] = v

    return edit


def config_error(
    id: str,
    bad_input: str,
    outcome: str,
    level: str,
    edits: list[Callable[[dict], None]],
    *must: str,
    then: Callable[[dict, str, Path], None] | None = None,
) -> None:
    """An error case of the configuration: the default config changed by `edits` fails the checks the workflow
    runs first (config.check_config, then config.check_values) with an InputError carrying every `must` text;
    `then(config, message, tmp)` checks more."""

    def run(tmp: Path, caplog) -> None:
        from intelcap.workflow.config import check_config, check_values

        c = copy.deepcopy(CONFIG)
        for edit in edits:
            edit(c)

        def checks() -> None:
            check_config(c, SCHEMA)
            check_values(c, SCHEMA)

        msg = raises(InputError, checks, *must)
        if then is not None:
            then(c, msg, tmp)

    register(id, bad_input, outcome, level, "error", run)


# ============================================================================ CSMAR reader: io.load_table
raising(
    "missing_table",
    "CSMAR table file absent from raw_dir/csmar/",
    "InputError: 'table file not found', file path, hint to download it or change `file:` in config",
    "io.load_table",
    lambda tmp: load(tmp / "csmar" / "FS_Combas.csv", "FS_Combas"),
    "table file not found",
    "FS_Combas.csv",
    "csmar:",
)


load_error(
    "missing_field",
    "FS_Combas without field A001212000",
    "InputError naming the field, the file and the available fields; remap in config",
    "io.load_table",
    "FS_Combas",
    lambda df: df.drop(columns="A001212000"),
    "lacks field(s) ['A001212000']",
    "available fields",
    "csmar.FS_Combas.fields",
    names_path=True,
)


load_error(
    "renamed_field",
    "CG_Ybasic field Y0601b renamed Y0601c by the vendor",
    "InputError: 'did you mean Y0601c?' and where to remap it in config",
    "io.load_table",
    "CG_Ybasic",
    lambda df: df.rename(columns={"Y0601b": "Y0601c"}),
    "Y0601b",
    "did you mean Y0601c?",
    "csmar.CG_Ybasic",
)


load_error(
    "renamed_field_case",
    "STK_LISTEDCOINFOANL field PROVINCE exported as Province",
    "InputError: 'did you mean Province?'",
    "io.load_table",
    "STK_LISTEDCOINFOANL",
    lambda df: df.rename(columns={"PROVINCE": "Province"}),
    "PROVINCE",
    "did you mean Province?",
)


load_error(
    "text_in_numeric",
    "FS_Combas total assets cell holds text ('n/a')",
    "InputError naming file, vendor field A001000000, example Stkcd/year rows; fix or blank the cells",
    "io.load_table",
    "FS_Combas",
    cells("A001000000", 7, "n/a"),
    "non-numeric",
    "A001000000 (total_assets)",
    lambda df: a_firm_year(df, 7)[0],
    lambda df: a_firm_year(df, 7)[1][:4],
    "what to do",
    names_path=True,
)


@case(
    "duplicate_exact",
    "FS_Comins with one firm-year row exported twice (identical)",
    "decision: the copy is dropped; count in attrs['exact_duplicates_dropped'] and a logged warning",
    "io.load_table",
    "decision",
)
def _(tmp, caplog):
    df = world()["FS_Comins"]
    df = pd.concat([df, df.iloc[[10]]], ignore_index=True)
    out = load(write(tmp, "FS_Comins", df), "FS_Comins")
    assert out.attrs["exact_duplicates_dropped"] == 1
    assert not out.duplicated(["Stkcd", "year"]).any()
    logged(caplog, "dropped 1 row(s) identical")


def _restated(df: pd.DataFrame) -> pd.DataFrame:
    """The 4th kept row again, at 1.1 times its total assets; the original row first."""
    dup = df.iloc[[year_ends(df)[3]]].copy()
    dup["A001000000"] = dup["A001000000"] * 1.1
    return pd.concat([df, dup], ignore_index=True)


load_error(
    "duplicate_restated",
    "FS_Combas: same firm-year twice with different total assets (restatement)",
    "InputError naming the duplicate Stkcd/year rows and the differing field; keep the latest restatement",
    "io.load_table",
    "FS_Combas",
    _restated,
    "duplicate keys",
    "values differ",
    "total_assets",
    lambda df: a_firm_year(df, int(year_ends(df)[3]))[0],
    "latest restatement",
)


@case(
    "empty_file",
    "FS_Comscfd.txt of 0 bytes",
    "InputError 'file is empty' with the path; re-download",
    "io.load_table",
    "error",
)
def _(tmp, caplog):
    path = tmp / "FS_Comscfd.txt"
    path.write_bytes(b"")
    raises(InputError, lambda: load(path, "FS_Comscfd"), "file is empty", str(path), "re-download")


load_error(
    "header_only",
    "FS_Combas with its three header rows and no data",
    "InputError 'has a header but no data rows'",
    "io.load_table",
    "FS_Combas",
    lambda df: df.iloc[:0],
    "header but no data rows",
    names_path=True,
)


load_error(
    "header_only_one_row",
    "EN_EquityNatureAll with only the field-code row",
    "InputError 'has a header but no data rows'",
    "io.load_table",
    "EN_EquityNatureAll",
    lambda df: df.iloc[:0],
    "header but no data rows",
    header_rows=1,
)


@case(
    "gb18030_undeclared",
    "STK_LISTEDCOINFOANL saved as GB18030, no BOM or declaration",
    "decision: detected and decoded (Chinese names intact), encoding logged",
    "io.load_table",
    "decision",
)
def _(tmp, caplog):
    ref = load(write(tmp / "u", "STK_LISTEDCOINFOANL", encoding="utf-8"), "STK_LISTEDCOINFOANL")
    out = load(write(tmp / "g", "STK_LISTEDCOINFOANL", encoding="gb18030"), "STK_LISTEDCOINFOANL")
    pd.testing.assert_frame_equal(out, ref)
    assert out["province"].str.contains("省").any()
    logged(caplog, "decoded as GB18030")


@case(
    "bom",
    "FS_Combas saved as UTF-8 with BOM",
    "decision: BOM stripped, first field read as Stkcd; same frame as without BOM",
    "io.load_table",
    "decision",
)
def _(tmp, caplog):
    ref = load(write(tmp / "u", "FS_Combas", encoding="utf-8"), "FS_Combas")
    path = write(tmp / "b", "FS_Combas", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    pd.testing.assert_frame_equal(load(path, "FS_Combas"), ref)


@case(
    "mixed_encodings",
    "STK_LISTEDCOINFOANL whose first half is UTF-8 and second half GB18030 (two downloads concatenated)",
    "InputError 'file mixes encodings', line numbers of each kind; re-export in one encoding",
    "io.decode_bytes via io.load_table",
    "error",
)
def _(tmp, caplog):
    df = world()["STK_LISTEDCOINFOANL"]
    a, b = (
        write(tmp / "a", "STK_LISTEDCOINFOANL", df.iloc[:200], encoding="utf-8"),
        write(tmp / "b", "STK_LISTEDCOINFOANL", df.iloc[200:], encoding="gb18030", header_rows=1),
    )
    body = b.read_bytes().split(b"\n", 1)[1]
    path = tmp / "STK_LISTEDCOINFOANL.csv"
    path.write_bytes(a.read_bytes() + body)
    raises(
        InputError,
        lambda: load(path, "STK_LISTEDCOINFOANL"),
        "mixes encodings",
        str(path),
        "rows (first",
        "one encoding",
    )


load_error(
    "utf16",
    "FS_Combas saved as UTF-16 (Excel 'Unicode text')",
    "InputError 'cannot decode file as UTF-8 or GB18030'; re-export as UTF-8 CSV or xlsx",
    "io.decode_bytes via io.load_table",
    "FS_Combas",
    None,
    "cannot decode",
    "UTF-8",
    names_path=True,
    encoding="utf-16",
)


@case(
    "lost_leading_zeros",
    "CG_Ybasic with stock codes stored as numbers (000002 -> 2)",
    "decision: repaired to 6-digit strings; count logged",
    "io.normalize_ids via io.load_table",
    "decision",
)
def _(tmp, caplog):
    df = world()["FS_Comscfd"]
    path = write(tmp, "FS_Comscfd", df, ids_as_numbers=True)
    codes = [line.split("\t")[0] for line in path.read_text(encoding="utf-8").splitlines()[3:]]
    assert any(len(c) < 6 for c in codes)  # the file really lost the zeros
    out = load(path, "FS_Comscfd")
    assert out["Stkcd"].str.fullmatch(r"\d{6}").all()
    assert set(out["Stkcd"]) <= set(df["Stkcd"])
    logged(caplog, "lost leading zeros", "zero-padded")


load_error(
    "bad_stock_code",
    "FS_Combas row 30 with Stkcd 'ABC123'",
    "InputError naming the column and the file row",
    "io.normalize_ids via io.load_table",
    "FS_Combas",
    cells("Stkcd", 30, "ABC123"),
    "not 1-6 digits",
    "column: Stkcd",
    "rows (first",
)


load_error(
    "bad_date",
    "FS_Combas Accper written 2015/12/31",
    "InputError 'dates not in YYYY-MM-DD form', column Accper, file rows",
    "io.read_csmar_table",
    "FS_Combas",
    lambda df: cells("Accper", 4, df.iloc[4, 1].replace("-", "/"))(df),
    "YYYY-MM-DD",
    "column: Accper",
    "rows (first 1): [8]",
)


@case(
    "corrupt_xlsx",
    "CG_Ybasic.xlsx that is not a workbook (truncated download)",
    "InputError 'cannot read xlsx workbook' with the path",
    "io.load_table",
    "error",
)
def _(tmp, caplog):
    path = tmp / "CG_Ybasic.xlsx"
    path.write_bytes(b"PK\x03\x04 truncated")
    raises(InputError, lambda: load(path, "CG_Ybasic"), "cannot read xlsx", str(path))


# ================================================ CSMAR reader: what real downloads contain (issue 12, item 1)
def csmar_dir(tmp: Path) -> Path:
    d = tmp / "csmar"
    d.mkdir(parents=True, exist_ok=True)
    return d


def load_dir(tmp: Path, table: str, notes: list | None = None, **spec_kw) -> pd.DataFrame:
    """The table read the way the workflow reads user data: its parts found in raw_dir/csmar by stem."""
    return io.load_table(csmar_dir(tmp), {**spec(table), **spec_kw}, table, notes)


def whole(table: str) -> pd.DataFrame:
    """The table as one clean file reads (the reference for split / respelled versions)."""
    return parsed()[table]


def edit_lines(path: Path, edit: Callable[[list[str]], None], encoding: str = "utf-8-sig") -> None:
    lines = path.read_text(encoding=encoding).split("\n")
    edit(lines)
    path.write_text("\n".join(lines), encoding=encoding)


def set_cell(lines: list[str], line_no: int, col: int, value: str, sep: str = ",") -> None:
    """Cell `col` of file line `line_no` (1-based, as an editor counts)."""
    cells = lines[line_no - 1].split(sep)
    cells[col] = value
    lines[line_no - 1] = sep.join(cells)


def note_rows(notes: list[dict], text_: str) -> int:
    return sum(n["rows"] for n in notes if text_ in n["item"])


@case(
    "split_numbered_parts",
    "FS_Combas downloaded in three numbered parts (FS_Combas.csv, FS_Combas1.csv, "
    "FS_Combas2.csv; one GB18030)",
    "decision: all parts read and combined, the frame equals the one-file read; "
    "note 'parts combined' with each part's rows",
    "io.table_files + io.load_table",
    "decision",
)
def _(tmp, caplog):
    df = world()["FS_Combas"]
    d = csmar_dir(tmp)
    thirds = np.array_split(np.arange(len(df)), 3)
    for k, (idx, enc) in enumerate(zip(thirds, ("utf-8-sig", "gb18030", "utf-8"), strict=True)):
        synth.write_csmar(df.iloc[idx], d / f"FS_Combas{k or ''}.csv", encoding=enc)
    notes: list[dict] = []
    out = load_dir(tmp, "FS_Combas", notes)
    pd.testing.assert_frame_equal(out, whole("FS_Combas"), check_exact=True)
    assert note_rows(notes, "parts combined") == len(df)
    logged(caplog, "3 parts combined", "FS_Combas1.csv", "FS_Combas2.csv")


@case(
    "split_parts_overlap",
    "FS_Comins parts overlapping by 40 rows (the same rows in both downloads)",
    "decision: the repeated rows dropped, counted in the notes and attrs['exact_duplicates_dropped']",
    "io.load_table",
    "decision",
)
def _(tmp, caplog):
    df = world()["FS_Comins"]
    d = csmar_dir(tmp)
    h = len(df) // 2
    synth.write_csmar(df.iloc[:h], d / "FS_Comins.csv", encoding="gb18030")
    synth.write_csmar(df.iloc[h - 40 :], d / "FS_Comins1.csv", encoding="gb18030")
    notes: list[dict] = []
    out = load_dir(tmp, "FS_Comins", notes)
    ref = whole("FS_Comins")
    pd.testing.assert_frame_equal(out, ref, check_exact=True)
    overlap = df.iloc[h - 40 : h]
    kept = int((overlap["Typrep"].eq("A") & overlap["Accper"].str.endswith("12-31")).sum())
    assert kept > 0 and out.attrs["exact_duplicates_dropped"] == kept
    assert note_rows(notes, "identical in every field") == kept


@case(
    "split_keyless_overlap",
    "FN_RegionRevenue (several rows per firm-year, no key) in two parts that share 25 rows",
    "decision: rows of the second part that repeat the first part dropped and counted; repeats "
    "inside one file are kept",
    "io.load_table",
    "decision",
)
def _(tmp, caplog):
    df = world()["FN_RegionRevenue"]
    d = csmar_dir(tmp)
    h = len(df) // 2
    synth.write_csmar(df.iloc[:h], d / "FN_RegionRevenue.csv")
    synth.write_csmar(df.iloc[h - 25 :], d / "FN_RegionRevenue_1.csv")
    notes: list[dict] = []
    out = load_dir(tmp, "FN_RegionRevenue", notes)
    pd.testing.assert_frame_equal(out, whole("FN_RegionRevenue"), check_exact=True)
    assert note_rows(notes, "earlier part") == int(df.iloc[h - 25 : h]["Accper"].str.endswith("12-31").sum())


@case(
    "other_extension",
    "config names CG_Ybasic.xlsx, the user saved CG_Ybasic.csv",
    "decision: the .csv is the table (any accepted format of the stem); same frame",
    "io.table_files",
    "decision",
)
def _(tmp, caplog):
    synth.write_csmar(world()["CG_Ybasic"], csmar_dir(tmp) / "CG_Ybasic.csv", ids_as_numbers=True)
    assert [p.name for p in io.table_files(tmp / "csmar", spec("CG_Ybasic"), "CG_Ybasic")] == [
        "CG_Ybasic.csv"
    ]
    pd.testing.assert_frame_equal(load_dir(tmp, "CG_Ybasic"), whole("CG_Ybasic"), check_exact=True)


@case(
    "stem_without_extension",
    "csmar.FS_Comscfd.file given as the stem FS_Comscfd, or as a list of two stems",
    "decision: FS_Comscfd.txt found; a list reads every stem's files",
    "io.table_files",
    "decision",
)
def _(tmp, caplog):
    df = world()["FS_Comscfd"]
    d = csmar_dir(tmp)
    synth.write_csmar(df.iloc[:300], d / "FS_Comscfd.txt", encoding="utf-8")
    synth.write_csmar(df.iloc[300:], d / "cashflow_2015_2019.xlsx")
    assert [p.name for p in io.table_files(d, {"file": "FS_Comscfd"})] == ["FS_Comscfd.txt"]
    out = load_dir(tmp, "FS_Comscfd", file=["FS_Comscfd", "cashflow_2015_2019.xlsx"])
    pd.testing.assert_frame_equal(out, whole("FS_Comscfd"), check_exact=True)


@case(
    "browser_copy",
    "the same download saved twice: FS_Combas.csv and 'FS_Combas (1).csv'",
    "decision: every row of the copy dropped as identical, count = the table's rows",
    "io.load_table",
    "decision",
)
def _(tmp, caplog):
    d = csmar_dir(tmp)
    synth.write_csmar(world()["FS_Combas"], d / "FS_Combas.csv")
    synth.write_csmar(world()["FS_Combas"], d / "FS_Combas (1).csv")
    out = load_dir(tmp, "FS_Combas")
    assert out.attrs["exact_duplicates_dropped"] == len(whole("FS_Combas"))
    pd.testing.assert_frame_equal(out, whole("FS_Combas"), check_exact=True)


dir_error(
    "zip_not_unpacked",
    "raw_dir/csmar holds FS_Combas.zip (the download, not unzipped)",
    "InputError naming the zip: the reader does not open it; unzip",
    "io.table_files",
    "FS_Combas",
    lambda d: (d / "FS_Combas.zip").write_bytes(b"PK\x03\x04"),
    "FS_Combas.zip",
    "does not open",
    "unzip",
)


dir_error(
    "no_file_similar_name",
    "FS_Combas saved as FS_Combas_2019.csv (not a numbered part)",
    "InputError 'table file not found', listing the similar name; set csmar.FS_Combas.file",
    "io.table_files",
    "FS_Combas",
    lambda d: synth.write_csmar(world()["FS_Combas"], d / "FS_Combas_2019.csv"),
    "table file not found",
    "fs_combas_2019.csv",
    "csmar.FS_Combas.file",
)


def _workbook(path: Path, sheets: dict[str, pd.DataFrame], header: bool = True) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, df in sheets.items():
            df.to_excel(xw, index=False, header=header or name == next(iter(sheets)), sheet_name=name)


@case(
    "xlsx_two_sheets",
    "CG_Ybasic.xlsx with the rows on two sheets (each with the header) and a sheet of field descriptions",
    "decision: both data sheets read, the description sheet ignored (logged); same frame",
    "io.load_table",
    "decision",
)
def _(tmp, caplog):
    df = world()["CG_Ybasic"]
    h = len(df) // 2
    _workbook(
        csmar_dir(tmp) / "CG_Ybasic.xlsx",
        {
            "sheet1": df.iloc[:h],
            "sheet2": df.iloc[h:],
            "说明": pd.DataFrame({"字段": ["Stkcd"], "含义": ["证券代码"]}),
        },
    )
    pd.testing.assert_frame_equal(load_dir(tmp, "CG_Ybasic"), whole("CG_Ybasic"), check_exact=True)
    logged(caplog, "['说明'] do not carry field Stkcd")


def _sheet2_without_header(d: Path) -> None:
    df = world()["CG_Ybasic"]
    _workbook(d / "CG_Ybasic.xlsx", {"sheet1": df.iloc[:100], "sheet2": df.iloc[100:]}, header=False)


dir_error(
    "xlsx_sheet_without_header",
    "CG_Ybasic.xlsx whose second sheet continues the data without a header row",
    "InputError naming the sheet: it starts with data; copy the header there",
    "io.load_table",
    "CG_Ybasic",
    _sheet2_without_header,
    "sheet 'sheet2' starts with data",
    "CG_Ybasic.xlsx",
)


@case(
    "unreadable_file",
    "FS_Combas.csv without read permission",
    "InputError 'cannot open the file (Permission denied)' with the path; make it readable",
    "io.load_table",
    "error",
)
def _(tmp, caplog):
    import builtins

    path = write(tmp, "FS_Combas")
    real_open = builtins.open

    def deny(file, *a, **kw):  # the tests may run as root, which chmod cannot lock out
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *a, **kw)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(builtins, "open", deny)
        raises(
            InputError,
            lambda: load(path, "FS_Combas"),
            "cannot open the file (Permission denied)",
            str(path),
            "readable",
        )


dir_error(
    "folder_named_like_table",
    "a folder called FS_Combas.csv in raw_dir/csmar",
    "InputError 'expected a file, found a folder'",
    "io.load_table",
    "FS_Combas",
    lambda d: (d / "FS_Combas.csv").mkdir(),
    "expected a file, found a folder",
)


def _with_units(tmp: Path, table: str, unit: str, fields: list[str]) -> Path:
    path = write(tmp, table)
    enc = synth.WRITE_OPTIONS.get(table, {}).get("encoding", "utf-8-sig")

    def edit(lines: list[str]) -> None:
        header = lines[0].lstrip("\ufeff").split(",")
        for f in fields:
            set_cell(lines, 3, header.index(f), unit)

    edit_lines(path, edit, enc)
    return path


@case(
    "units_wan_yuan",
    "FS_Combas downloaded in 万元 (units row)",
    "decision: money fields multiplied by 10,000; equal to the 元 download; note 'converted to 元'",
    "io.load_table",
    "decision",
)
def _(tmp, caplog):
    money = ["A001000000", "A001212000", "A002000000"]
    df = world()["FS_Combas"]
    df[money] = df[money] / 1e4
    same_numbers = load(write(tmp / "yuan", "FS_Combas", df), "FS_Combas")  # units row 元
    path = write(tmp, "FS_Combas", df)
    edit_lines(path, lambda lines: [set_cell(lines, 3, i, "万元") for i in (3, 4, 5)])
    notes: list[dict] = []
    out = io.load_table(path, spec("FS_Combas"), "FS_Combas", notes)
    for c in ("total_assets", "fixed_assets", "total_liabilities"):
        assert np.array_equal(out[c].to_numpy(), same_numbers[c].to_numpy() * 1e4, equal_nan=True)
    # and the 元 values of the clean download, up to the file's two decimals of 万元
    assert np.allclose(out["total_assets"], whole("FS_Combas")["total_assets"], rtol=0, atol=50)
    assert note_rows(notes, "total_assets given in 万元") == len(out)


@case(
    "units_every_money_unit",
    "FN_RegionRevenue Revenue in 千元, 百万元 and 亿元",
    "decision: factors 1e3, 1e6, 1e8 applied exactly",
    "io.load_table",
    "decision",
)
def _(tmp, caplog):
    ref = whole("FN_RegionRevenue")["revenue"].to_numpy()
    for unit, factor in (("千元", 1e3), ("百万元", 1e6), ("亿元", 1e8)):
        out = load(_with_units(tmp / unit, "FN_RegionRevenue", unit, ["Revenue"]), "FN_RegionRevenue")
        assert np.array_equal(out["revenue"].to_numpy(), ref * factor)


units_error(
    "units_unknown",
    "FS_Comins units row says 美元 for B001101000",
    "InputError naming the unit, field, file line 3 and the accepted units",
    "FS_Comins",
    "美元",
    "B001101000",
    "'美元'",
    "B001101000 (revenue)",
    "rows (first 1): [3]",
    "'万元'",
    names_path=True,
)


@case(
    "units_count_field",
    "CG_Ybasic (csv) employees Y0601b in 万人",
    "InputError: unit of Y0601b is not one of '人', '个', ...",
    "io.load_table",
    "error",
)
def _(tmp, caplog):
    path = csmar_dir(tmp) / "CG_Ybasic.csv"
    synth.write_csmar(world()["CG_Ybasic"], path)
    edit_lines(path, lambda lines: set_cell(lines, 3, 2, "万人"))
    raises(InputError, lambda: load(path, "CG_Ybasic"), "'万人'", "Y0601b (employees)", "'人'")


units_error(
    "units_percent_field",
    "PT_LCRDSPENDING RDPersonRatio with units '没有单位' (a share, not percent)",
    "InputError: the unit of RDPersonRatio must be %",
    "PT_LCRDSPENDING",
    "没有单位",
    "RDPersonRatio",
    "'没有单位'",
    "RDPersonRatio",
    "'%'",
)


@case(
    "units_declared",
    "EN_EquityNatureAll-style one-row header for FS_Comscfd (no units row) with "
    "csmar.FS_Comscfd.units: {cash_paid_employees: 千元}",
    "decision: the declared unit applied (x 1000)",
    "io.load_table",
    "decision",
)
def _(tmp, caplog):
    path = write(tmp, "FS_Comscfd", header_rows=1)
    out = io.load_table(path, {**spec("FS_Comscfd"), "units": {"cash_paid_employees": "千元"}}, "FS_Comscfd")
    assert np.array_equal(
        out["cash_paid_employees"].to_numpy(), whole("FS_Comscfd")["cash_paid_employees"].to_numpy() * 1e3
    )


raising(
    "units_declared_contradiction",
    "units row says 元 while config declares 万元 for total_assets",
    "InputError: the file's units row and config disagree; remove one",
    "io.load_table",
    lambda tmp: io.load_table(
        write(tmp, "FS_Combas"), {**spec("FS_Combas"), "units": {"total_assets": "万元"}}, "FS_Combas"
    ),
    "units row says '元'",
    "config declares '万元'",
)


@case(
    "coded_written_differently",
    "EquityNatureID written 1.0, 1、2, 1，2, 1;2, １ and ' 2 / 3 '",
    "decision: each mapped to the canonical codes (1, 1,2, ..., 2,3); SOE share identical to the clean file",
    "io.apply_codes via io.load_table",
    "decision",
)
def _(tmp, caplog):
    df = world()["EN_EquityNatureAll"]
    spelled = {"1": "1.0", "1,2": "1、2", "2,3": " 2 / 3 "}
    messy = df.assign(EquityNatureID=[spelled.get(v, v) for v in df["EquityNatureID"]])
    ones = np.flatnonzero(messy["EquityNatureID"].eq("1.0").to_numpy())
    messy.iloc[ones[:3], 2] = ["1，2", "1;2", "１"]
    out = load(write(tmp, "EN_EquityNatureAll", messy), "EN_EquityNatureAll")
    ref = whole("EN_EquityNatureAll")
    assert out["equity_nature"].tolist()[:0] == [] and set(out["equity_nature"]) <= {
        "1",
        "2",
        "3",
        "4",
        "1,2",
        "2,3",
    }
    keys = ref[["Stkcd", "year"]]
    assert attributes.soe(keys, out, []).tolist() == attributes.soe(keys, ref, []).tolist()
    assert attributes.soe(keys, out, []).mean() > 0.3


load_error(
    "coded_unmapped",
    "EquityNatureID values 5 and 国企 (not declared)",
    "InputError listing the values ['5', "
    "'国企'], field EquityNatureID, file lines; add them to csmar.EN_EquityNatureAll.codes",
    "io.apply_codes",
    "EN_EquityNatureAll",
    cells("EquityNatureID", [3, 10], ["5", "国企"]),
    "['5', '国企']",
    "EquityNatureID",
    "rows (first 2): [5, 12]",  # one header row: data row i is file line i + 2
    "csmar.EN_EquityNatureAll.codes.equity_nature.map",
)


load_error(
    "typrep_unmapped",
    "FS_Combas Typrep 'X' in one row",
    "InputError: coded field Typrep value ['X'] not declared, with its file line",
    "io.apply_codes",
    "FS_Combas",
    cells("Typrep", 20, "X"),
    "['X']",
    "Typrep",
    "rows (first 1): [24]",
)


@case(
    "state_type_spreadsheet",
    "PT_LCRDSPENDING StateTypeCode written 1.0 (a spreadsheet's float)",
    "decision: read as code 1 (consolidated); Humcap identical to the clean file",
    "io.apply_codes + attributes.humcap",
    "decision",
)
def _(tmp, caplog):
    df = world()["PT_LCRDSPENDING"].astype({"StateTypeCode": object})
    df["StateTypeCode"] = "1.0"
    out = load(write(tmp, "PT_LCRDSPENDING", df), "PT_LCRDSPENDING")
    ref = whole("PT_LCRDSPENDING")
    assert out["state_type"].eq("1").all()
    keys = ref[["Stkcd", "year"]]
    assert attributes.humcap(keys, out, []).equals(attributes.humcap(keys, ref, []))


load_error(
    "duality_unmapped",
    "CG_Ybasic Y1001b (chair = CEO, 1/2) holds 0",
    "InputError: value ['0'] of Y1001b not declared",
    "io.apply_codes",
    "CG_Ybasic",
    cells("Y1001b", 7, "0"),
    "['0']",
    "Y1001b (duality)",
)


def _exchange_suffixes(df: pd.DataFrame) -> pd.DataFrame:
    code = df["Stkcd"].astype(str)
    df["Stkcd"] = np.where(
        code.str.startswith("6"), code + ".SH", np.where(code.str.startswith("0"), "SZ" + code, code + ".SZ")
    )
    return df


same_frame(
    "exchange_suffix_ids",
    "Stkcd written 000002.SZ, 600519.SH and SZ000001",
    "decision: reduced to the 6-digit code, counted in a note and logged; same frame",
    "io.normalize_ids",
    "FS_Comscfd",
    _exchange_suffixes,
    "exchange suffix",
)


def _fullwidth_symbols(df: pd.DataFrame) -> pd.DataFrame:
    df["Symbol"] = df["Symbol"].map(
        lambda s: unicodedata.normalize("NFKC", s).translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    )
    return df


same_frame(
    "fullwidth_ids",
    "Symbol written in full-width digits (０００００２)",
    "decision: folded to ASCII digits; same frame (not a later 'industry missing')",
    "io.normalize_ids",
    "STK_LISTEDCOINFOANL",
    _fullwidth_symbols,
)


load_error(
    "bad_code_first_row",
    "one-row-header EN_EquityNatureAll whose first data row has Symbol 'ABC'",
    "InputError at file line 2 (the row is not taken for a header row and dropped)",
    "io.read_csmar_table",
    "EN_EquityNatureAll",
    cells("Symbol", 0, "ABC"),
    "not 1-6 digits",
    "rows (first 1): [2]",
)


load_error(
    "bad_code_line_number",
    "FS_Combas (three header rows) with Stkcd 'x1' in data row 31",
    "InputError rows [34]: file line counting the three header rows",
    "io.normalize_ids",
    "FS_Combas",
    cells("Stkcd", 30, "x1"),
    "rows (first 1): [34]",
)


def _two_infinite(df: pd.DataFrame) -> pd.DataFrame:
    return cells("A001000000", year_ends(df)[[2, 9]], ["inf", "1e999"])(df)


load_error(
    "infinite_money",
    "FS_Combas total assets 'inf' in one row, '1e999' in another",
    "InputError: 2 non-finite values in A001000000, file lines",
    "io.load_table",
    "FS_Combas",
    _two_infinite,
    "2 non-finite",
    "A001000000 (total_assets)",
    lambda df: f"rows (first 2): {(year_ends(df)[[2, 9]] + 4).tolist()}",
)


@case(
    "ifr_total_rows",
    "ifr_robots.csv with a TOTAL row per country-year (and 'Total' in some)",
    "decision: aggregate rows dropped, their number in the notes and a warning; robots equal the clean file",
    "io.read_ifr",
    "decision",
)
def _(tmp, caplog):
    w = world()
    r = w["ifr_robots"]
    tot = r.groupby(["country", "year"], as_index=False)[["installations", "operational_stock"]].sum()
    tot["industry"] = np.where(np.arange(len(tot)) % 2, "TOTAL", "Total")
    robots_, emp = _write_ifr(tmp, pd.concat([r, tot[r.columns]], ignore_index=True), w["employment_base"])
    notes: list[dict] = []
    got, _ = io.read_ifr(robots_, emp, CONFIG["ifr"], notes)
    pd.testing.assert_frame_equal(got, _ifr_clean(tmp)[0])
    assert note_rows(notes, "aggregate") == len(tot)


def _write_ifr(tmp: Path, robots_: pd.DataFrame, emp: pd.DataFrame) -> tuple[Path, Path]:
    (tmp / "ifr").mkdir(parents=True, exist_ok=True)
    robots_.to_csv(tmp / "ifr/ifr_robots.csv", index=False)
    emp.to_csv(tmp / "ifr/employment_base.csv", index=False)
    return tmp / "ifr/ifr_robots.csv", tmp / "ifr/employment_base.csv"


def _ifr_clean(tmp: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    w = world()
    return io.read_ifr(*_write_ifr(tmp / "clean", w["ifr_robots"], w["employment_base"]))


@case(
    "ifr_lowercase_code",
    "ifr_robots.csv industry 'd' (for D, unspecified manufacturing)",
    "decision: read as the declared code D (logged), not as a new industry",
    "io.read_ifr",
    "decision",
)
def _(tmp, caplog):
    w = world()
    r = w["ifr_robots"].assign(industry=lambda x: x["industry"].replace({"D": "d"}))
    got, _ = io.read_ifr(*_write_ifr(tmp, r, w["employment_base"]), CONFIG["ifr"])
    pd.testing.assert_frame_equal(got, _ifr_clean(tmp)[0])
    logged(caplog, "read as the declared code")


ifr_error(
    "ifr_unknown_code",
    "ifr_robots.csv industry 'C' (manufacturing subtotal) in 2 rows",
    "InputError: codes "
    "neither industries nor aggregates ['C'], file lines; declare in ifr.industry_codes/aggregate_codes",
    cells("industry", [4, 9], "C"),
    "['C']",
    "rows (first 2): [6, 11]",
    "ifr.aggregate_codes",
)


@case(
    "ifr_empty_or_garbled",
    "employment_base.csv of 0 bytes; ifr_robots.csv of random binary bytes",
    "InputError 'file is empty' / 'cannot decode' (no pandas traceback)",
    "io.read_ifr",
    "error",
)
def _(tmp, caplog):
    w = world()
    robots_, emp = _write_ifr(tmp, w["ifr_robots"], w["employment_base"])
    emp.write_bytes(b"")
    raises(InputError, lambda: io.read_ifr(robots_, emp), "file is empty", "employment_base.csv")
    robots_.write_bytes(bytes(range(256)) * 8)
    raises(InputError, lambda: io.read_ifr(robots_, emp), "ifr_robots.csv")


ifr_error(
    "ifr_infinite",
    "ifr_robots.csv operational_stock 'inf'",
    "InputError: non-finite values, column, file line",
    cells("operational_stock", 6, "inf"),
    "non-finite",
    "column: operational_stock",
    "rows (first 1): [8]",
)


@case(
    "crosswalk_gbk",
    "config/crosswalk_csrc_ifr.csv re-saved by Excel as GBK",
    "decision: decoded (GB18030), identical to the UTF-8 file",
    "io.read_csv_config",
    "decision",
)
def _(tmp, caplog):
    path = tmp / "crosswalk.csv"
    path.write_bytes((ROOT / "config/crosswalk_csrc_ifr.csv").read_text(encoding="utf-8").encode("gbk"))
    pd.testing.assert_frame_equal(io.read_csv_config(path, ["csrc", "ifr"]), CROSSWALK)


@case(
    "huge_single_line",
    "an 8 MB FS_Combas.csv without line breaks",
    "InputError whose message stays short (cells clipped), never the file echoed",
    "io.load_table",
    "error",
)
def _(tmp, caplog):
    path = csmar_dir(tmp) / "FS_Combas.csv"
    path.write_bytes(b"x" * (8 << 20))
    msg = raises(InputError, lambda: load(path, "FS_Combas"), "lacks field(s)")
    assert len(msg) < 3000


@case(
    "gb18030_no_temp_copy",
    "a GB18030 table read while the system temp folder is watched",
    "decision: decoded through a stream; no copy of the licensed file is written outside the results tree",
    "io.load_table",
    "decision",
)
def _(tmp, caplog):
    path = write(tmp, "FS_Comins")  # GB18030 in the synthetic layout
    made: list[str] = []

    def refuse(*a, **kw):
        made.append(str(a or kw))
        raise AssertionError("the reader asked for a temporary file")

    with pytest.MonkeyPatch.context() as m:
        m.setattr(tempfile, "tempdir", str(tmp / "systemp"))
        for fn in ("NamedTemporaryFile", "TemporaryFile", "mkstemp", "mkdtemp", "SpooledTemporaryFile"):
            m.setattr(tempfile, fn, refuse)
        out = load(path, "FS_Comins")
    assert len(out) > 0 and made == [] and not (tmp / "systemp").exists()
    logged(caplog, "decoded as GB18030")


# =========================================================================== sample: panel.build_panel
@case(
    "nonpositive_before_log",
    "FS_Comins revenue 0 and FS_Combas fixed assets negative for some firm-years",
    "decision: firm-years dropped at the 'missing or abnormal' step, counted in the attrition table and its note",
    "panel.build_panel",
    "decision",
)
def _(tmp, caplog):
    t = parsed()
    ref, ref_att = build(t)
    victims = ref[["Stkcd", "year"]].iloc[[0, 10, 20]]
    for name, col, val in (("FS_Comins", "revenue", 0.0), ("FS_Combas", "fixed_assets", -5.0)):
        m = (
            t[name]
            .merge(victims.assign(_v=True), on=["Stkcd", "year"], how="left")["_v"]
            .fillna(False)
            .to_numpy()
        )
        t[name].loc[m, col] = val
    out, att = build(t)
    assert len(out) == len(ref) - 3 and (out[["Y", "K"]] > 0).all().all()
    notes = att.notes_frame()
    assert notes.loc[notes["item"].str.startswith("non-positive"), "firm_years"].sum() >= 3
    step = att.frame().set_index("description")["firm_years_removed"]
    assert (
        step["missing or abnormal financial data"]
        == ref_att.frame().set_index("description")["firm_years_removed"][
            "missing or abnormal financial data"
        ]
        + 3
    )


@case(
    "cu_nonpositive",
    "capacity-utilization input with K = 0 for a firm-year (called directly)",
    "InputError: 'ln(K) is undefined', rows (Stkcd, year); drop them first",
    "cu.estimate_cu",
    "error",
)
def _(tmp, caplog):
    d = regression_data()
    d = d.assign(industry="C39", Y=np.exp(d["lnINT"] + 10), K=1e6, L=100.0)
    d.loc[3, "K"] = 0.0
    raises(
        InputError,
        lambda: cu.estimate_cu(d, "sfa_bc92"),
        "non-positive K",
        "ln(K) is undefined",
        d.loc[3, "Stkcd"],
        "what to do",
    )


@case(
    "all_missing_variable",
    "CG_Ybasic field Y0601b (employees) empty in every row",
    "InputError: employees "
    "missing for every firm-year, naming CG_Ybasic.xlsx and Y0601b; re-download or remap",
    "panel.build_panel",
    "error",
)
def _(tmp, caplog):
    t = parsed()
    t["CG_Ybasic"]["employees"] = np.nan
    t["CG_Ybasic"].attrs["file"] = "raw/csmar/CG_Ybasic.xlsx"
    raises(
        InputError,
        lambda: build(t),
        "employees (Y0601b) is missing for every",
        "CG_Ybasic.xlsx",
        "column: Y0601b",
        "csmar.CG_Ybasic.fields",
    )


@case(
    "year_without_firms",
    "every CSMAR table lacks the year 2015",
    "decision: panel built without 2015; a note "
    "'year 2015: no firm' in the sample notes and a logged warning",
    "panel.build_panel",
    "decision",
)
def _(tmp, caplog):
    t = parsed()
    for k in PANEL_TABLES:
        t[k] = t[k][t[k]["year"] != 2015].reset_index(drop=True)
    out, att = build(t)
    assert 2015 not in set(out["year"]) and len(out) > 0
    assert att.notes_frame()["item"].str.contains("year 2015: no firm").any()
    logged(caplog, "no firm-year in 2015")


@case(
    "crosswalk_gap",
    "CSRC industry C39 missing from config/crosswalk_csrc_ifr.csv",
    "decision: its firm-years "
    "dropped at 'industry not mapped'; a note lists C39 and the count; logged warning",
    "panel.build_panel",
    "decision",
)
def _(tmp, caplog):
    ref, ref_att = build()
    out, att = build(crosswalk=CROSSWALK[CROSSWALK["csrc"] != "C39"])
    n39 = int((ref["industry"] == "C39").sum())
    assert n39 > 0 and len(out) == len(ref) - n39
    noted = att.notes_frame().set_index("item")["firm_years"]["CSRC codes not in the IFR crosswalk: C39"]
    step = "industry missing or not mapped to an IFR industry"
    removed = att.frame().set_index("description")["firm_years_removed"][step]
    assert (
        noted >= n39
        and removed == ref_att.frame().set_index("description")["firm_years_removed"][step] + noted
    )
    logged(caplog, "['C39']", "not in the CSRC->IFR crosswalk")


raising(
    "province_unknown",
    "firm-profile province 广东省 missing from config/regions.csv",
    "InputError naming PROVINCE, example rows, the file; add it to regions.csv",
    "panel.build_panel",
    lambda tmp: build(regions=REGIONS[REGIONS["province"] != "广东"]),
    "provinces not in",
    "column: PROVINCE",
    "广东",
    "regions.csv",
)


@case(
    "lagged_assets_missing",
    "first statement year of a firm (no lagged balance sheet)",
    "decision: ROA/FAavg use year-end values; count in sample_notes",
    "panel.build_panel",
    "decision",
)
def _(tmp, caplog):
    _, att = build()
    notes = att.notes_frame().set_index("item")
    assert notes.loc["lagged total assets missing: ROA uses year-end assets", "firm_years"] > 0


# ======================================================================== measures: IFR, SFA, DEA, text
exposure_error(
    "ifr_missing_year",
    "ifr_robots.csv without the year 2016",
    "InputError: 'CHN robot operational_stock "
    "missing for N industry-years', rows like '10-12 2016', file ifr_robots.csv",
    lambda r: r[r["year"] != 2016],
    lambda e: e,
    "missing for",
    "2016",
    "ifr_robots.csv",
    "every panel year",
)


ifr_error(
    "ifr_missing_column",
    "ifr_robots.csv without operational_stock",
    "InputError naming the file and column",
    lambda r: r.drop(columns="operational_stock"),
    "missing column(s) ['operational_stock']",
    "ifr_robots.csv",
)


ifr_error(
    "ifr_text_in_numeric",
    "ifr_robots.csv installations cell 'n.a.'",
    "InputError naming file, column, row",
    cells("installations", 3, "n.a."),
    "non-numeric",
    "column: installations",
    "rows (first 1): [5]",
)


exposure_error(
    "ifr_base_employment_missing",
    "employment_base.csv without the China 2010 rows",
    "InputError: base-year "
    "employment missing for IFR industries; add rows or change robots.cn_employment_base_year",
    lambda r: r,
    lambda e: e[e["country"] != "CHN"],
    "base-year (2010) employment missing",
    "employment_base.csv",
    "_employment_base_year",
)


def _sfa_panel(skew: str) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n_f, n_t = 80, 6
    d = pd.DataFrame(
        {
            "Stkcd": np.repeat([f"{i:06d}" for i in range(1, n_f + 1)], n_t),
            "year": np.tile(np.arange(2011, 2011 + n_t), n_f),
            "industry": "C39",
        }
    )
    lnK, lnL = rng.normal(18, 1, len(d)), rng.normal(7, 1, len(d))
    u = np.abs(rng.normal(0, 0.3, len(d)))
    lnY = 2 + 0.3 * lnK + 0.6 * lnL + rng.normal(0, 0.05, len(d)) + (u if skew == "wrong" else -u)
    return d.assign(Y=np.exp(lnY), K=np.exp(lnK), L=np.exp(lnL))


raising(
    "sfa_wrong_skew",
    "frontier residuals skewed the wrong way (no one-sided inefficiency)",
    "EstimationError (cu.on_wrong_skew: error, the default) saying sigma_u = 0 and how to accept CU = 1",
    "cu.estimate_cu",
    lambda tmp: cu.estimate_cu(_sfa_panel("wrong"), "sfa_bc92"),
    "positively skewed",
    "on_wrong_skew",
    cls=EstimationError,
)


@case(
    "sfa_wrong_skew_zero",
    "same data with cu.on_wrong_skew: zero",
    "decision: CU = 1 for every firm-year, diagnostics wrong_skew = true (cu_fit.json), RuntimeWarning",
    "cu.estimate_cu",
    "decision",
)
def _(tmp, caplog):
    with pytest.warns(RuntimeWarning, match="positively skewed"):
        out, diag = cu.estimate_cu(_sfa_panel("wrong"), "sfa_bc92", on_wrong_skew="zero")
    assert diag["wrong_skew"] is True and np.allclose(out["CU"], 1.0)


@case(
    "dea_zero_input",
    "DEA input L = 0 for one firm-year",
    "InputError: DEA variable 'L' has 1 zero, negative or missing values, rows (Stkcd, year)",
    "dea.efficiency_panel",
    "error",
)
def _(tmp, caplog):
    d = _sfa_panel("right").assign(FAavg=lambda x: x["K"], TOC=lambda x: x["Y"] * 0.9)
    d.loc[7, "L"] = 0.0
    raises(InputError, lambda: dea.efficiency_panel(d), "'L' has 1 zero", "column: L", d.loc[7, "Stkcd"])


def _report_dir(tmp: Path) -> Path:
    from intelcap.synthetic import reports as reports_synth

    rdir = tmp / "reports"
    rdir.mkdir()
    (rdir / "000001_2015.txt").write_text(
        "第四节 管理层讨论与分析\n公司推进工业机器人和智能制造。\n", encoding="utf-8"
    )
    (rdir / "000002_2015.pdf").write_bytes(reports_synth._encrypted_pdf_bytes())
    (rdir / "000003_2015.pdf").write_bytes(b"%PDF-1.4\n%garbage, not a PDF body\n")
    (rdir / "000004_2015.txt").write_bytes("工业机器人".encode("utf-16"))
    (rdir / "annual_report.txt").write_text("工业机器人", encoding="utf-8")
    return rdir


@case(
    "unreadable_pdf",
    "an encrypted PDF and a corrupt PDF among the reports",
    "decision: status 'unreadable' "
    "with the reason (encrypted / corrupt) in text_log.csv and text_unreadable.csv; IM missing, never 0",
    "text.count_reports + text.text_index",
    "decision",
)
def _(tmp, caplog):
    files = sorted(_report_dir(tmp).iterdir())
    counts, log = text.count_reports(files, text.load_keywords(ROOT / "config" / "keywords.yaml"))
    st = log.set_index("file")
    assert (
        st.loc["000002_2015.pdf", "status"] == "unreadable"
        and "encrypted" in st.loc["000002_2015.pdf", "reason"]
    )
    assert (
        st.loc["000003_2015.pdf", "status"] == "unreadable"
        and "corrupt" in st.loc["000003_2015.pdf", "reason"]
    )
    index = text.text_index(counts, log)
    assert set(index["Stkcd"]) == {"000001"}  # unreadable firm-years get no IM row (missing, not zero)


@case(
    "report_bad_encoding_or_name",
    "a UTF-16 report and a file not named <Stkcd>_<year>",
    "decision: statuses 'unreadable' (UTF-16) and 'bad_name', counted in the text log",
    "text.count_reports",
    "decision",
)
def _(tmp, caplog):
    files = sorted(_report_dir(tmp).iterdir())
    _, log = text.count_reports(files, text.load_keywords(ROOT / "config" / "keywords.yaml"))
    st = log.set_index("file")["status"]
    assert st["000004_2015.txt"] == "unreadable" and st["annual_report.txt"] == "bad_name"
    assert log["status"].value_counts()["unreadable"] == 3


@case(
    "report_not_in_panel",
    "an annual report for firm 000001 that is not in the analysis panel",
    "decision: its "
    "row ignored, counted (attrs merge_notes: rows_outside_panel_ignored) and logged; panel firm-years "
    "without a report stay NaN",
    "panel.merge_measure",
    "decision",
)
def _(tmp, caplog):
    d = regression_data(n_firms=3, years=2)
    index = pd.DataFrame({"Stkcd": ["000001", d["Stkcd"].iloc[0]], "year": [2011, 2011], "IM": [1.0, 2.0]})
    out = panel.merge_measure(d, index, "text_index")
    assert len(out) == len(d) and out["IM"].notna().sum() == 1
    assert out.attrs["merge_notes"]["text_index"] == {
        "rows_outside_panel_ignored": 1,
        "panel_rows_without_measure": len(d) - 1,
    }
    logged(caplog, "1 row(s) for firm-years not in the analysis panel ignored", "000001")


# ============================================================================ estimation: estimate.*
def _singletons() -> pd.DataFrame:
    """Each of 100 firms in one year only."""
    d = regression_data(n_firms=100, years=1)
    d["year"] = 2011 + np.arange(100) % 5
    return d


def _spec(**kw) -> estimate.ModelSpec:
    base = {
        "name": "(1)",
        "depvar": "lnCU",
        "regressors": ["lnINT"],
        "controls": False,
        "fe": ["Stkcd", "year"],
    }
    return estimate.ModelSpec.from_dict({**base, **kw})


table_error(
    "empty_subgroup",
    "Table 6 column on the 'soe' sample when no firm is state-owned",
    "EstimationError: 'no firm-year belongs to the sample soe'; drop the column or the pair",
    "estimate.regression_table",
    lambda: regression_data().assign(SOE=0),
    {"sample": "soe"},
    "no firm-year belongs to the sample 'soe'",
    "What to do",
)


raising(
    "empty_subgroup_pair",
    "group-difference test non_soe vs soe with no SOE",
    "EstimationError: group 'soe' has "
    "no firm-year with complete data; remove the pair from heterogeneity.pairs",
    "estimate.group_differences",
    lambda tmp: estimate.group_differences(
        regression_data().assign(SOE=0), [["non_soe", "soe"]], "lnCU", "lnINT", [], "Stkcd", 20, 1
    ),
    "group 'soe' has no firm-year",
    "heterogeneity.pairs",
    cls=EstimationError,
)


table_error(
    "all_missing_regressor",
    "lnINT missing in every firm-year (e.g. no employee-structure data)",
    "EstimationError naming lnINT as missing in all firm-years",
    "estimate.estimation_sample",
    lambda: regression_data().assign(lnINT=np.nan),
    {},
    "['lnINT'] are missing in all 240 firm-years",
)


table_error(
    "singletons_only",
    "each firm observed in one year only, model with firm FE",
    "EstimationError: all observations are singletons (not a Rust panic from the demeaning library)",
    "estimate.fit",
    _singletons,
    {},
    "singletons",
    "What to do",
)


@case(
    "collinear_control",
    "a control that is an exact multiple of another (Lev2 = 2 Lev)",
    "decision: Lev2 dropped, reported as stat:collinear_dropped in the table CSV and logged",
    "estimate.tidy_model",
    "decision",
)
def _(tmp, caplog):
    d = regression_data().assign(Lev2=lambda x: 2 * x["Lev"])
    res = estimate.regression_table(d, [_spec(controls=True)], ["Lev", "Lev2"], "Stkcd")
    row = res[res["term"] == "stat:collinear_dropped"]
    assert len(row) == 1 and row["text"].iloc[0] == "Lev2"
    logged(caplog, "Lev2 collinear")


@case(
    "iv_zero_first_stage",
    "IV whose instrument is constant within firm (absorbed by the firm FE)",
    "EstimationError: instrument has no variation after the fixed effects, first stage identically zero",
    "estimate.fit / estimate.iv_statistics",
    "error",
)
def _(tmp, caplog):
    d = regression_data()
    d["lnINTUS"] = d.groupby("Stkcd")["lnINT"].transform("mean")
    s = _spec(regressors=[], endog="lnINT", instrument="lnINTUS", stage="second")
    raises(
        EstimationError,
        lambda: estimate.regression_table(d, [s], [], "Stkcd"),
        "'lnINTUS' has no variation",
        "first stage is identically zero",
    )
    raises(
        EstimationError, lambda: estimate.iv_statistics(d, s, [], "Stkcd"), "first stage is identically zero"
    )


table_error(
    "iv_constant_instrument_no_fe",
    "IV without FE whose instrument is a constant",
    "EstimationError (pyfixest would otherwise return a number)",
    "estimate.fit",
    lambda: regression_data().assign(lnINTUS=1.0),
    {"regressors": [], "fe": [], "endog": "lnINT", "instrument": "lnINTUS", "stage": "second"},
    "first stage is identically zero",
)


# ============================================================================================ config
config_error(
    "config_typo",
    "config key 'winsor.cut' (for cuts) and top-level 'seeed'",
    "InputError from "
    "intelcap.workflow.config.check_config: \"'winsor.cut' is unknown: did you mean 'winsor.cuts'?\"",
    "config.check_config",
    [renamed("winsor.cuts", "cut"), updated({"seeed": 1})],
    "did you mean 'winsor.cuts'?",
    "did you mean 'seed'?",
)


config_error(
    "config_typo_in_model",
    "model spec key 'regresors' in tables.table2",
    "InputError: did you mean 'tables.table2[0].regressors'?",
    "config.check_config",
    [renamed("tables.table2.0.regressors", "regresors")],
    "did you mean 'tables.table2[0].regressors'?",
)


@case(
    "config_bad_enum",
    "cu.method: sfa (not one of the methods)",
    "jsonschema ValidationError from Snakemake's validate() naming the allowed values",
    "snakemake.utils.validate",
    "error",
)
def _(tmp, caplog):
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    c = copy.deepcopy(CONFIG)
    c["cu"]["method"] = "sfa"
    with pytest.raises(WorkflowError) as ei:
        validate(c, str(SCHEMA))
    assert "'sfa' is not one of" in str(ei.value)


table_error(
    "unknown_variable",
    "Table 2 model with depvar 'lnCu' (for lnCU)",
    "InputError: variable 'lnCu' is not in the analysis panel, did you mean 'lnCU'?",
    "estimate.validate_spec",
    regression_data,
    {"depvar": "lnCu"},
    "'lnCu' is not in the analysis panel",
    "did you mean 'lnCU'?",
    cls=InputError,
)


table_error(
    "unknown_control",
    "controls list with 'Levv'",
    "InputError: did you mean 'Lev'?",
    "estimate.validate_spec",
    regression_data,
    {"controls": True},
    "'Levv'",
    "did you mean 'Lev'?",
    controls=("Levv",),
    cls=InputError,
)


raising(
    "unknown_winsor_var",
    "winsor.vars with 'Sizee'",
    "InputError: did you mean 'Size'?",
    "panel.winsorize",
    lambda tmp: panel.winsorize(regression_data().assign(Size=1.0), ["Sizee"], (1, 99)),
    "'Sizee'",
    "did you mean 'Size'?",
)


# the case modules register their @case functions into CASES when imported
import cases_config  # noqa: E402,F401
import cases_reports  # noqa: E402,F401
