"""The bad-input corpus: each case builds a small bad input in code (from `intelcap.synthetic.dgp` or small frames), runs
the module function where the behaviour lives, and checks the outcome:

* ``error``: an `InputError`/`EstimationError` whose message names the file / column / rows and what to do;
* ``decision``: the input is handled by a rule that is counted (a note, a status, a count attribute) and logged.

A case is registered under its id by the `@case(id, level, kind)` decorator or, for the common shapes, by a
constructor (`load_error`, `raising`, `config_error`, ...: a case from a few parameters; the reader errors that
are plain data are the entries of load_errors.yaml, read by `load_error_table`); what it feeds the workflow and
what the user sees are prose, in descriptions.yaml under the same id, whose order is the corpus's. `CASES` is
also read by `make_summary.py`, which writes docs/bad_inputs.md.
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
# what each case feeds the workflow and what the user sees, by id: the prose columns of docs/bad_inputs.md
DESCRIPTIONS: dict[str, dict[str, str]] = yaml.safe_load(
    (Path(__file__).with_name("descriptions.yaml")).read_text(encoding="utf-8")
)


def case(id: str, level: str, kind: str):
    """The decorated function `(tmp, caplog) -> None` is case `id`."""

    def deco(fn):
        register(id, level, kind, fn)
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
def register(id: str, level: str, kind: str, run: Callable) -> None:
    """Case `id` (its bad input and outcome from descriptions.yaml) runs `run(tmp, caplog)`."""
    CASES.append(Case(id, DESCRIPTIONS[id]["bad_input"], DESCRIPTIONS[id]["outcome"], level, kind, run))


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
    level: str,
    table: str,
    edit: Callable[[pd.DataFrame], pd.DataFrame] | None,
    must: tuple[str | Callable[[pd.DataFrame], str], ...],
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

    register(id, level, "error", run)


# the edits of a frame that an entry of load_errors.yaml names, by key: the edit made from the key's value
FRAME_EDITS: dict[str, Callable[..., Callable[[pd.DataFrame], pd.DataFrame]]] = {
    "cells": lambda spec: cells(spec["column"], spec["rows"], spec["values"]),
    "drop": lambda columns: lambda df: df.drop(columns=columns),
    "rename": lambda names: lambda df: df.rename(columns=names),
    "head": lambda n: lambda df: df.iloc[:n],
}


def load_error_table(path: Path) -> None:
    """A `load_error` case for each entry of `path` (load_errors.yaml; its header says what an entry holds)."""
    for id, entry in yaml.safe_load(path.read_text(encoding="utf-8")).items():
        entry = dict(entry)
        edits = [FRAME_EDITS[key](entry.pop(key)) for key in list(entry) if key in FRAME_EDITS]
        level, table, must = entry.pop("level"), entry.pop("table"), tuple(entry.pop("must"))
        names_path, write_kw = entry.pop("names_path", False), entry.pop("write", {})
        if entry or len(edits) > 1:
            raise ValueError(
                f"{path.name}, case {id}: unknown key(s) {sorted(entry)} or more than one edit of "
                f"{sorted(FRAME_EDITS)}"
            )
        load_error(id, level, table, edits[0] if edits else None, must, names_path, **write_kw)


def ifr_error(id: str, edit: Callable[[pd.DataFrame], pd.DataFrame], must: tuple[str, ...]) -> None:
    """An error case of the IFR reader: ifr_robots.csv (its frame changed by `edit`) next to a clean
    employment_base.csv fails to read with an InputError carrying every `must` text."""

    def run(tmp: Path, caplog) -> None:
        w = world()
        robots_ = edit(w["ifr_robots"])
        raises(InputError, lambda: io.read_ifr(*_write_ifr(tmp, robots_, w["employment_base"])), *must)

    register(id, "io.read_ifr", "error", run)


def exposure_error(id: str, ifr: Callable, employment: Callable, must: tuple[str, ...]) -> None:
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

    register(id, "robots.robot_exposure", "error", run)


def table_error(
    id: str,
    level: str,
    data: Callable[[], pd.DataFrame],
    model: dict,
    must: tuple[str, ...],
    controls: tuple[str, ...] = (),
    cls: type[Exception] = EstimationError,
) -> None:
    """An error case of estimation: estimate.regression_table on `data()` with the one model `_spec(**model)`
    (and the `controls`) raises `cls` carrying every `must` text."""

    def run(tmp: Path, caplog) -> None:
        d, s = data(), _spec(**model)
        raises(cls, lambda: estimate.regression_table(d, [s], list(controls), "Stkcd"), *must)

    register(id, level, "error", run)


def raising(
    id: str,
    level: str,
    action: Callable[[Path], object],
    must: tuple[str, ...],
    cls: type[Exception] = InputError,
) -> None:
    """An error case in one call: `action(tmp)` raises `cls` carrying every `must` text."""
    register(id, level, "error", lambda tmp, caplog: raises(cls, lambda: action(tmp), *must))


def dir_error(id: str, level: str, table: str, make: Callable[[Path], object], must: tuple[str, ...]) -> None:
    """An error case of what raw_dir/csmar holds: after `make(csmar folder)`, reading `table` from the folder
    (as the workflow does) raises an InputError carrying every `must` text."""

    def run(tmp: Path, caplog) -> None:
        make(csmar_dir(tmp))
        raises(InputError, lambda: load_dir(tmp, table), *must)

    register(id, level, "error", run)


def units_error(
    id: str,
    table: str,
    unit: str,
    field: str,
    must: tuple[str, ...],
    names_path: bool = False,
) -> None:
    """An error case of the units row: `table` whose units row gives `unit` for the vendor `field` fails to load
    with an InputError carrying every `must` text (and the file's path with `names_path`)."""

    def run(tmp: Path, caplog) -> None:
        path = _with_units(tmp, table, unit, [field])
        raises(InputError, lambda: load(path, table), *must, *([str(path)] if names_path else []))

    register(id, "io.load_table", "error", run)


def same_frame(
    id: str,
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

    register(id, level, "decision", run)


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
    level: str,
    edits: list[Callable[[dict], None]],
    must: tuple[str, ...],
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

    register(id, level, "error", run)


# ============================================================================ CSMAR reader: io.load_table
# the reader errors that are plain data; like every case, each takes its place in CASES from descriptions.yaml
load_error_table(Path(__file__).with_name("load_errors.yaml"))

raising(
    "missing_table",
    "io.load_table",
    lambda tmp: load(tmp / "csmar" / "FS_Combas.csv", "FS_Combas"),
    ("table file not found", "FS_Combas.csv", "csmar:"),
)


load_error(
    "text_in_numeric",
    "io.load_table",
    "FS_Combas",
    cells("A001000000", 7, "n/a"),
    (
        "non-numeric",
        "A001000000 (total_assets)",
        lambda df: a_firm_year(df, 7)[0],
        lambda df: a_firm_year(df, 7)[1][:4],
        "what to do",
    ),
    names_path=True,
)


@case("duplicate_exact", "io.load_table", "decision")
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
    "io.load_table",
    "FS_Combas",
    _restated,
    (
        "duplicate keys",
        "values differ",
        "total_assets",
        lambda df: a_firm_year(df, int(year_ends(df)[3]))[0],
        "latest restatement",
    ),
)


@case("empty_file", "io.load_table", "error")
def _(tmp, caplog):
    path = tmp / "FS_Comscfd.txt"
    path.write_bytes(b"")
    raises(InputError, lambda: load(path, "FS_Comscfd"), "file is empty", str(path), "re-download")


@case("gb18030_undeclared", "io.load_table", "decision")
def _(tmp, caplog):
    ref = load(write(tmp / "u", "STK_LISTEDCOINFOANL", encoding="utf-8"), "STK_LISTEDCOINFOANL")
    out = load(write(tmp / "g", "STK_LISTEDCOINFOANL", encoding="gb18030"), "STK_LISTEDCOINFOANL")
    pd.testing.assert_frame_equal(out, ref)
    assert out["province"].str.contains("省").any()
    logged(caplog, "decoded as GB18030")


@case("bom", "io.load_table", "decision")
def _(tmp, caplog):
    ref = load(write(tmp / "u", "FS_Combas", encoding="utf-8"), "FS_Combas")
    path = write(tmp / "b", "FS_Combas", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    pd.testing.assert_frame_equal(load(path, "FS_Combas"), ref)


@case("mixed_encodings", "io.decode_bytes via io.load_table", "error")
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


@case("lost_leading_zeros", "io.normalize_ids via io.load_table", "decision")
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
    "bad_date",
    "io.read_csmar_table",
    "FS_Combas",
    lambda df: cells("Accper", 4, df.iloc[4, 1].replace("-", "/"))(df),
    ("YYYY-MM-DD", "column: Accper", "rows (first 1): [8]"),
)


@case("corrupt_xlsx", "io.load_table", "error")
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


@case("split_numbered_parts", "io.table_files + io.load_table", "decision")
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


@case("split_parts_overlap", "io.load_table", "decision")
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


@case("split_keyless_overlap", "io.load_table", "decision")
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


@case("other_extension", "io.table_files", "decision")
def _(tmp, caplog):
    synth.write_csmar(world()["CG_Ybasic"], csmar_dir(tmp) / "CG_Ybasic.csv", ids_as_numbers=True)
    assert [p.name for p in io.table_files(tmp / "csmar", spec("CG_Ybasic"), "CG_Ybasic")] == [
        "CG_Ybasic.csv"
    ]
    pd.testing.assert_frame_equal(load_dir(tmp, "CG_Ybasic"), whole("CG_Ybasic"), check_exact=True)


@case("stem_without_extension", "io.table_files", "decision")
def _(tmp, caplog):
    df = world()["FS_Comscfd"]
    d = csmar_dir(tmp)
    synth.write_csmar(df.iloc[:300], d / "FS_Comscfd.txt", encoding="utf-8")
    synth.write_csmar(df.iloc[300:], d / "cashflow_2015_2019.xlsx")
    assert [p.name for p in io.table_files(d, {"file": "FS_Comscfd"})] == ["FS_Comscfd.txt"]
    out = load_dir(tmp, "FS_Comscfd", file=["FS_Comscfd", "cashflow_2015_2019.xlsx"])
    pd.testing.assert_frame_equal(out, whole("FS_Comscfd"), check_exact=True)


@case("browser_copy", "io.load_table", "decision")
def _(tmp, caplog):
    d = csmar_dir(tmp)
    synth.write_csmar(world()["FS_Combas"], d / "FS_Combas.csv")
    synth.write_csmar(world()["FS_Combas"], d / "FS_Combas (1).csv")
    out = load_dir(tmp, "FS_Combas")
    assert out.attrs["exact_duplicates_dropped"] == len(whole("FS_Combas"))
    pd.testing.assert_frame_equal(out, whole("FS_Combas"), check_exact=True)


dir_error(
    "zip_not_unpacked",
    "io.table_files",
    "FS_Combas",
    lambda d: (d / "FS_Combas.zip").write_bytes(b"PK\x03\x04"),
    ("FS_Combas.zip", "does not open", "unzip"),
)


dir_error(
    "no_file_similar_name",
    "io.table_files",
    "FS_Combas",
    lambda d: synth.write_csmar(world()["FS_Combas"], d / "FS_Combas_2019.csv"),
    ("table file not found", "fs_combas_2019.csv", "csmar.FS_Combas.file"),
)


def _workbook(path: Path, sheets: dict[str, pd.DataFrame], header: bool = True) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, df in sheets.items():
            df.to_excel(xw, index=False, header=header or name == next(iter(sheets)), sheet_name=name)


@case("xlsx_two_sheets", "io.load_table", "decision")
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
    "io.load_table",
    "CG_Ybasic",
    _sheet2_without_header,
    ("sheet 'sheet2' starts with data", "CG_Ybasic.xlsx"),
)


@case("unreadable_file", "io.load_table", "error")
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
    "io.load_table",
    "FS_Combas",
    lambda d: (d / "FS_Combas.csv").mkdir(),
    ("expected a file, found a folder",),
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


@case("units_wan_yuan", "io.load_table", "decision")
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


@case("units_every_money_unit", "io.load_table", "decision")
def _(tmp, caplog):
    ref = whole("FN_RegionRevenue")["revenue"].to_numpy()
    for unit, factor in (("千元", 1e3), ("百万元", 1e6), ("亿元", 1e8)):
        out = load(_with_units(tmp / unit, "FN_RegionRevenue", unit, ["Revenue"]), "FN_RegionRevenue")
        assert np.array_equal(out["revenue"].to_numpy(), ref * factor)


units_error(
    "units_unknown",
    "FS_Comins",
    "美元",
    "B001101000",
    ("'美元'", "B001101000 (revenue)", "rows (first 1): [3]", "'万元'"),
    names_path=True,
)


@case("units_count_field", "io.load_table", "error")
def _(tmp, caplog):
    path = csmar_dir(tmp) / "CG_Ybasic.csv"
    synth.write_csmar(world()["CG_Ybasic"], path)
    edit_lines(path, lambda lines: set_cell(lines, 3, 2, "万人"))
    raises(InputError, lambda: load(path, "CG_Ybasic"), "'万人'", "Y0601b (employees)", "'人'")


units_error(
    "units_percent_field",
    "PT_LCRDSPENDING",
    "没有单位",
    "RDPersonRatio",
    ("'没有单位'", "RDPersonRatio", "'%'"),
)


@case("units_declared", "io.load_table", "decision")
def _(tmp, caplog):
    path = write(tmp, "FS_Comscfd", header_rows=1)
    out = io.load_table(path, {**spec("FS_Comscfd"), "units": {"cash_paid_employees": "千元"}}, "FS_Comscfd")
    assert np.array_equal(
        out["cash_paid_employees"].to_numpy(), whole("FS_Comscfd")["cash_paid_employees"].to_numpy() * 1e3
    )


raising(
    "units_declared_contradiction",
    "io.load_table",
    lambda tmp: io.load_table(
        write(tmp, "FS_Combas"), {**spec("FS_Combas"), "units": {"total_assets": "万元"}}, "FS_Combas"
    ),
    ("units row says '元'", "config declares '万元'"),
)


@case("coded_written_differently", "io.apply_codes via io.load_table", "decision")
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


@case("state_type_spreadsheet", "io.apply_codes + attributes.humcap", "decision")
def _(tmp, caplog):
    df = world()["PT_LCRDSPENDING"].astype({"StateTypeCode": object})
    df["StateTypeCode"] = "1.0"
    out = load(write(tmp, "PT_LCRDSPENDING", df), "PT_LCRDSPENDING")
    ref = whole("PT_LCRDSPENDING")
    assert out["state_type"].eq("1").all()
    keys = ref[["Stkcd", "year"]]
    assert attributes.humcap(keys, out, []).equals(attributes.humcap(keys, ref, []))


def _exchange_suffixes(df: pd.DataFrame) -> pd.DataFrame:
    code = df["Stkcd"].astype(str)
    df["Stkcd"] = np.where(
        code.str.startswith("6"), code + ".SH", np.where(code.str.startswith("0"), "SZ" + code, code + ".SZ")
    )
    return df


same_frame("exchange_suffix_ids", "io.normalize_ids", "FS_Comscfd", _exchange_suffixes, "exchange suffix")


def _fullwidth_symbols(df: pd.DataFrame) -> pd.DataFrame:
    df["Symbol"] = df["Symbol"].map(
        lambda s: unicodedata.normalize("NFKC", s).translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    )
    return df


same_frame("fullwidth_ids", "io.normalize_ids", "STK_LISTEDCOINFOANL", _fullwidth_symbols)


def _two_infinite(df: pd.DataFrame) -> pd.DataFrame:
    return cells("A001000000", year_ends(df)[[2, 9]], ["inf", "1e999"])(df)


load_error(
    "infinite_money",
    "io.load_table",
    "FS_Combas",
    _two_infinite,
    (
        "2 non-finite",
        "A001000000 (total_assets)",
        lambda df: f"rows (first 2): {(year_ends(df)[[2, 9]] + 4).tolist()}",
    ),
)


@case("ifr_total_rows", "io.read_ifr", "decision")
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


@case("ifr_lowercase_code", "io.read_ifr", "decision")
def _(tmp, caplog):
    w = world()
    r = w["ifr_robots"].assign(industry=lambda x: x["industry"].replace({"D": "d"}))
    got, _ = io.read_ifr(*_write_ifr(tmp, r, w["employment_base"]), CONFIG["ifr"])
    pd.testing.assert_frame_equal(got, _ifr_clean(tmp)[0])
    logged(caplog, "read as the declared code")


ifr_error(
    "ifr_unknown_code",
    cells("industry", [4, 9], "C"),
    ("['C']", "rows (first 2): [6, 11]", "ifr.aggregate_codes"),
)


@case("ifr_empty_or_garbled", "io.read_ifr", "error")
def _(tmp, caplog):
    w = world()
    robots_, emp = _write_ifr(tmp, w["ifr_robots"], w["employment_base"])
    emp.write_bytes(b"")
    raises(InputError, lambda: io.read_ifr(robots_, emp), "file is empty", "employment_base.csv")
    robots_.write_bytes(bytes(range(256)) * 8)
    raises(InputError, lambda: io.read_ifr(robots_, emp), "ifr_robots.csv")


ifr_error(
    "ifr_infinite",
    cells("operational_stock", 6, "inf"),
    ("non-finite", "column: operational_stock", "rows (first 1): [8]"),
)


@case("crosswalk_gbk", "io.read_csv_config", "decision")
def _(tmp, caplog):
    path = tmp / "crosswalk.csv"
    path.write_bytes((ROOT / "config/crosswalk_csrc_ifr.csv").read_text(encoding="utf-8").encode("gbk"))
    pd.testing.assert_frame_equal(io.read_csv_config(path, ["csrc", "ifr"]), CROSSWALK)


@case("huge_single_line", "io.load_table", "error")
def _(tmp, caplog):
    path = csmar_dir(tmp) / "FS_Combas.csv"
    path.write_bytes(b"x" * (8 << 20))
    msg = raises(InputError, lambda: load(path, "FS_Combas"), "lacks field(s)")
    assert len(msg) < 3000


@case("gb18030_no_temp_copy", "io.load_table", "decision")
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
@case("nonpositive_before_log", "panel.build_panel", "decision")
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


@case("cu_nonpositive", "cu.estimate_cu", "error")
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


@case("all_missing_variable", "panel.build_panel", "error")
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


@case("year_without_firms", "panel.build_panel", "decision")
def _(tmp, caplog):
    t = parsed()
    for k in PANEL_TABLES:
        t[k] = t[k][t[k]["year"] != 2015].reset_index(drop=True)
    out, att = build(t)
    assert 2015 not in set(out["year"]) and len(out) > 0
    assert att.notes_frame()["item"].str.contains("year 2015: no firm").any()
    logged(caplog, "no firm-year in 2015")


@case("crosswalk_gap", "panel.build_panel", "decision")
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
    "panel.build_panel",
    lambda tmp: build(regions=REGIONS[REGIONS["province"] != "广东"]),
    ("provinces not in", "column: PROVINCE", "广东", "regions.csv"),
)


@case("lagged_assets_missing", "panel.build_panel", "decision")
def _(tmp, caplog):
    _, att = build()
    notes = att.notes_frame().set_index("item")
    assert notes.loc["lagged total assets missing: ROA uses year-end assets", "firm_years"] > 0


# ======================================================================== measures: IFR, SFA, DEA, text
exposure_error(
    "ifr_missing_year",
    lambda r: r[r["year"] != 2016],
    lambda e: e,
    ("missing for", "2016", "ifr_robots.csv", "every panel year"),
)


ifr_error(
    "ifr_missing_column",
    lambda r: r.drop(columns="operational_stock"),
    ("missing column(s) ['operational_stock']", "ifr_robots.csv"),
)


ifr_error(
    "ifr_text_in_numeric",
    cells("installations", 3, "n.a."),
    ("non-numeric", "column: installations", "rows (first 1): [5]"),
)


exposure_error(
    "ifr_base_employment_missing",
    lambda r: r,
    lambda e: e[e["country"] != "CHN"],
    ("base-year (2010) employment missing", "employment_base.csv", "_employment_base_year"),
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
    "cu.estimate_cu",
    lambda tmp: cu.estimate_cu(_sfa_panel("wrong"), "sfa_bc92"),
    ("positively skewed", "on_wrong_skew"),
    cls=EstimationError,
)


@case("sfa_wrong_skew_zero", "cu.estimate_cu", "decision")
def _(tmp, caplog):
    with pytest.warns(RuntimeWarning, match="positively skewed"):
        out, diag = cu.estimate_cu(_sfa_panel("wrong"), "sfa_bc92", on_wrong_skew="zero")
    assert diag["wrong_skew"] is True and np.allclose(out["CU"], 1.0)


@case("dea_zero_input", "dea.efficiency_panel", "error")
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


@case("unreadable_pdf", "text.count_reports + text.text_index", "decision")
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


@case("report_bad_encoding_or_name", "text.count_reports", "decision")
def _(tmp, caplog):
    files = sorted(_report_dir(tmp).iterdir())
    _, log = text.count_reports(files, text.load_keywords(ROOT / "config" / "keywords.yaml"))
    st = log.set_index("file")["status"]
    assert st["000004_2015.txt"] == "unreadable" and st["annual_report.txt"] == "bad_name"
    assert log["status"].value_counts()["unreadable"] == 3


@case("report_not_in_panel", "panel.merge_measure", "decision")
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
    "estimate.regression_table",
    lambda: regression_data().assign(SOE=0),
    {"sample": "soe"},
    ("no firm-year belongs to the sample 'soe'", "What to do"),
)


raising(
    "empty_subgroup_pair",
    "estimate.group_differences",
    lambda tmp: estimate.group_differences(
        regression_data().assign(SOE=0), [["non_soe", "soe"]], "lnCU", "lnINT", [], "Stkcd", 20, 1
    ),
    ("group 'soe' has no firm-year", "heterogeneity.pairs"),
    cls=EstimationError,
)


table_error(
    "all_missing_regressor",
    "estimate.estimation_sample",
    lambda: regression_data().assign(lnINT=np.nan),
    {},
    ("['lnINT'] are missing in all 240 firm-years",),
)


table_error("singletons_only", "estimate.fit", _singletons, {}, ("singletons", "What to do"))


@case("collinear_control", "estimate.tidy_model", "decision")
def _(tmp, caplog):
    d = regression_data().assign(Lev2=lambda x: 2 * x["Lev"])
    res = estimate.regression_table(d, [_spec(controls=True)], ["Lev", "Lev2"], "Stkcd")
    row = res[res["term"] == "stat:collinear_dropped"]
    assert len(row) == 1 and row["text"].iloc[0] == "Lev2"
    logged(caplog, "Lev2 collinear")


@case("iv_zero_first_stage", "estimate.fit / estimate.iv_statistics", "error")
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
    "estimate.fit",
    lambda: regression_data().assign(lnINTUS=1.0),
    {"regressors": [], "fe": [], "endog": "lnINT", "instrument": "lnINTUS", "stage": "second"},
    ("first stage is identically zero",),
)


# ============================================================================================ config
config_error(
    "config_typo",
    "config.check_config",
    [renamed("winsor.cuts", "cut"), updated({"seeed": 1})],
    ("did you mean 'winsor.cuts'?", "did you mean 'seed'?"),
)


config_error(
    "config_typo_in_model",
    "config.check_config",
    [renamed("tables.table2.0.regressors", "regresors")],
    ("did you mean 'tables.table2[0].regressors'?",),
)


@case("config_bad_enum", "config.validate", "error")
def _(tmp, caplog):
    from intelcap.workflow.config import load_schema, validate

    c = copy.deepcopy(CONFIG)
    c["cu"]["method"] = "sfa"
    with pytest.raises(InputError) as ei:
        validate(c, load_schema(SCHEMA))
    assert "'sfa' is not one of" in str(ei.value)
    assert "column: cu.method" in str(ei.value)


table_error(
    "unknown_variable",
    "estimate.validate_spec",
    regression_data,
    {"depvar": "lnCu"},
    ("'lnCu' is not in the analysis panel", "did you mean 'lnCU'?"),
    cls=InputError,
)


table_error(
    "unknown_control",
    "estimate.validate_spec",
    regression_data,
    {"controls": True},
    ("'Levv'", "did you mean 'Lev'?"),
    controls=("Levv",),
    cls=InputError,
)


raising(
    "unknown_winsor_var",
    "panel.winsorize",
    lambda tmp: panel.winsorize(regression_data().assign(Size=1.0), ["Sizee"], (1, 99)),
    ("'Sizee'", "did you mean 'Size'?"),
)


# the case modules register their @case functions into CASES when imported
import cases_config  # noqa: E402,F401
import cases_reports  # noqa: E402,F401

# the corpus runs, and docs/bad_inputs.md lists it, in the order of descriptions.yaml, whichever module or table
# registered a case
_ORDER = {id: i for i, id in enumerate(DESCRIPTIONS)}
CASES.sort(key=lambda c: _ORDER[c.id])
