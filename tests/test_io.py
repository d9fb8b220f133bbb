"""Readers: every container/encoding/header variant of a CSMAR export loads to the identical frame."""

from __future__ import annotations

import pandas as pd
import pytest
from _factories import COMBAS_SPEC

from intelcap.errors import InputError
from intelcap.ingest import readers as io
from intelcap.synthetic.dgp import write_csmar

SPEC = COMBAS_SPEC


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Stkcd": ["000002", "000002", "600519", "300750", "300750"],
            "Accper": ["2018-12-31", "2019-12-31", "2019-12-31", "2019-12-31", "2019-06-30"],
            "Typrep": ["A", "A", "A", "A", "A"],
            "A001000000": [1.5e9, 1.75e9, 2.25e10, 1.0e8, 9.0e7],
            "A001212000": [3.0e8, 3.5e8, 1.5e9, 2.0e7, 2.0e7],
            "A002000000": [6.0e8, 7.0e8, 5.0e9, 5.0e7, 4.0e7],
        }
    )


VARIANTS = {
    "bom_csv": ("t.csv", {"encoding": "utf-8-sig"}),
    "gb18030_csv": ("t.csv", {"encoding": "gb18030"}),
    "plain_utf8_csv": ("t.csv", {"encoding": "utf-8"}),
    "xlsx": ("t.xlsx", {}),
    "tab_txt": ("t.txt", {"encoding": "utf-8"}),
    "one_row_header": ("t.csv", {"encoding": "utf-8", "header_rows": 1}),
    "ids_lost_zeros_xlsx": ("t.xlsx", {"ids_as_numbers": True}),
    "ids_lost_zeros_csv": ("t.csv", {"encoding": "gb18030", "ids_as_numbers": True}),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_reader_variant_loads_identically(tmp_path, variant):
    name, opts = VARIANTS[variant]
    path = tmp_path / name
    write_csmar(_frame(), path, **opts)
    got = io.load_table(path, SPEC, "FS_Combas")
    reference = tmp_path / "ref.csv"
    write_csmar(_frame(), reference, encoding="utf-8-sig")
    expected = io.load_table(reference, SPEC, "FS_Combas")
    pd.testing.assert_frame_equal(got, expected)
    # the half-year row is dropped, ids keep their zeros, numbers are floats
    assert got["Stkcd"].tolist() == ["000002", "000002", "300750", "600519"]
    assert got["year"].tolist() == [2018, 2019, 2019, 2019]
    assert got.loc[0, "total_assets"] == 1.5e9


def test_header_rows_detected(tmp_path):
    path = tmp_path / "t.csv"
    write_csmar(_frame(), path, encoding="utf-8-sig")
    assert io.read_csmar_table(path, SPEC, "FS_Combas").attrs["header_rows"] == 3
    write_csmar(_frame(), path, encoding="utf-8-sig", header_rows=1)
    assert io.read_csmar_table(path, SPEC, "FS_Combas").attrs["header_rows"] == 1


def test_gb18030_text_decodes_and_is_not_mistaken_for_utf8(tmp_path):
    text = "证券代码,名称\n000001,平安银行\n"
    path = tmp_path / "g.csv"
    path.write_bytes(text.encode("gb18030"))
    decoded, enc = io.decode_bytes(path.read_bytes(), path)
    assert enc == "gb18030" and decoded == text


def test_duplicate_firm_year_is_an_error_naming_rows(tmp_path):
    df = _frame()
    df.loc[1, "Accper"] = "2018-12-31"  # a restated 2018 statement appears twice
    path = tmp_path / "dup.csv"
    write_csmar(df, path)
    with pytest.raises(InputError) as err:
        io.load_table(path, SPEC, "FS_Combas")
    msg = str(err.value)
    assert "duplicate" in msg and "dup.csv" in msg and "000002" in msg and "2018" in msg


def test_text_in_numeric_field_names_file_column_and_row(tmp_path):
    df = _frame().astype({"A001000000": object})
    df.loc[2, "A001000000"] = "n.a."
    path = tmp_path / "bad.csv"
    write_csmar(df, path)
    with pytest.raises(InputError) as err:
        io.load_table(path, SPEC, "FS_Combas")
    # data row 3 of a file with 3 header rows is file line 6; the message names the firm-year
    assert err.value.column == "total_assets" and err.value.rows == [6]
    assert "'Stkcd': '600519', 'year': 2019" in str(err.value)


def test_missing_field_suggests_remapping(tmp_path):
    path = tmp_path / "t.csv"
    write_csmar(_frame().rename(columns={"A001212000": "a001212000"}), path)
    with pytest.raises(InputError) as err:
        io.load_table(path, SPEC, "FS_Combas")
    assert "A001212000" in str(err.value) and "did you mean a001212000" in str(err.value)


def test_parent_company_and_opening_rows_are_dropped(tmp_path):
    df = pd.concat(
        [
            _frame(),
            _frame().assign(Typrep="B"),
            _frame().assign(Accper=lambda d: d["Accper"].str[:4] + "-01-01"),
        ]
    )
    path = tmp_path / "t.csv"
    write_csmar(df, path)
    assert len(io.load_table(path, SPEC, "FS_Combas")) == 4


# ------------------------------------------------------------------------- parts, units, codes (issue 12)
def test_table_files_finds_every_part_of_the_stem_in_part_order(tmp_path):
    for name in (
        "FS_Combas2.csv",
        "FS_Combas.xlsx",
        "FS_Combas1.txt",
        "fs_combas (3).CSV",
        "FS_Combas.csv",
        "FS_Combas[DES][csv].txt",
        "FS_Combas_2019.csv",
        "FS_Comins.csv",
        "~$FS_Combas.xlsx",
    ):
        (tmp_path / name).write_text("x")
    got = [p.name for p in io.table_files(tmp_path, {"file": "FS_Combas.xlsx"})]
    assert got == ["FS_Combas.csv", "FS_Combas.xlsx", "FS_Combas1.txt", "FS_Combas2.csv", "fs_combas (3).CSV"]
    assert [p.name for p in io.table_files(tmp_path, ["FS_Comins", "FS_Combas2.csv"])] == [
        "FS_Comins.csv",
        "FS_Combas2.csv",
    ]  # FS_Combas2 is a stem of its own here: its parts would be FS_Combas21...


def test_a_single_path_reads_the_other_parts_beside_it(tmp_path):
    df = _frame()
    write_csmar(df.iloc[:2], tmp_path / "t.csv")
    write_csmar(df.iloc[2:], tmp_path / "t1.xlsx")
    ref = tmp_path / "ref" / "t.csv"
    ref.parent.mkdir()
    write_csmar(df, ref)
    notes: list[dict] = []
    got = io.load_table(tmp_path / "t.csv", SPEC, "FS_Combas", notes)
    pd.testing.assert_frame_equal(got, io.load_table(ref, SPEC, "FS_Combas"), check_exact=True)
    assert notes == [
        {
            "table": "FS_Combas",
            "item": "parts combined: t.csv (2 rows), t1.xlsx (3 rows)",
            "rows": 5,
            "decision": "read",
        }
    ]
    # an explicit list reads exactly those files
    assert len(io.load_table([tmp_path / "t.csv"], SPEC, "FS_Combas")) == 2


@pytest.mark.parametrize(
    ("unit", "factor"), [("元", 1), ("千元", 1e3), ("万元", 1e4), ("百万元", 1e6), ("亿元", 1e8)]
)
def test_units_row_is_applied(tmp_path, unit, factor):
    path = tmp_path / "t.csv"
    write_csmar(_frame(), path, encoding="utf-8")
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2].replace("元", unit)
    path.write_text("\n".join(lines), encoding="utf-8")
    got = io.load_table(path, SPEC, "FS_Combas")
    # 000002 2018 total assets 1.5e9 in the file's unit
    assert got.loc[0, "total_assets"] == 1.5e9 * factor and got.loc[0, "fixed_assets"] == 3.0e8 * factor


def test_unknown_unit_and_units_without_units_row(tmp_path):
    path = tmp_path / "t.csv"
    write_csmar(_frame(), path, encoding="utf-8")
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text(
        "\n".join([lines[0], lines[1], lines[2].replace("元", "USD", 1)] + lines[3:]), encoding="utf-8"
    )
    with pytest.raises(InputError) as err:
        io.load_table(path, SPEC, "FS_Combas")
    assert err.value.column == "A001000000" and err.value.rows == [3] and err.value.file == str(path)
    write_csmar(_frame(), path, encoding="utf-8", header_rows=1)
    got = io.load_table(path, {**SPEC, "units": {"total_assets": "亿元"}}, "FS_Combas")
    assert got.loc[0, "total_assets"] == 1.5e17 and got.loc[0, "fixed_assets"] == 3.0e8


def test_a_units_row_alone_is_recognised(tmp_path):
    path = tmp_path / "t.csv"
    write_csmar(_frame(), path, encoding="utf-8")
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join([lines[0], lines[2].replace("元", "万元")] + lines[3:]), encoding="utf-8")
    got = io.load_table(path, SPEC, "FS_Combas")
    assert got.attrs["header_rows"] == 2 and got.loc[0, "total_assets"] == 1.5e13


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("1", "1"),
        ("1.0", "1"),
        ("1、2", "1,2"),
        ("1，2", "1,2"),
        ("1;2", "1,2"),
        ("1；2", "1,2"),
        (" 2 / 1 ", "2,1"),
        ("１", "1"),
        ("1,1", "1"),
        ("", ""),
    ],
)
def test_multi_valued_codes_are_canonical(written, canonical):
    rule = io.DEFAULT_CODES["equity_nature"]
    lookup = {k.casefold(): v for k, v in rule["map"].items()}
    assert io._canonical(written, rule, lookup) == (canonical, [])
    assert io._canonical("1 or 2", rule, lookup) == (None, ["or"])


def test_config_declares_the_default_codes():
    from pathlib import Path

    import yaml

    config = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "config/config.yaml").read_text(encoding="utf-8")
    )
    declared = {}
    for table in config["csmar"].values():
        for name, rule in (table.get("codes") or {}).items():
            declared[name] = {
                "map": {str(k): str(v) for k, v in rule["map"].items()},
                **({"split": True} if rule.get("split") else {}),
            }
    assert declared == io.DEFAULT_CODES
    assert config["ifr"]["industry_codes"] == io.IFR_INDUSTRY_CODES
    assert config["ifr"]["aggregate_codes"] == io.IFR_AGGREGATE_CODES


def test_lower_case_typrep_is_consolidated_and_unknown_typrep_is_refused(tmp_path):
    df = _frame().assign(Typrep=["a", "A", "A", "A", "A"])
    path = tmp_path / "t.csv"
    write_csmar(df, path)
    assert len(io.load_table(path, SPEC, "FS_Combas")) == 4
    write_csmar(df.assign(Typrep=["A", "A", "合并", "A", "A"]), path)
    with pytest.raises(InputError) as err:
        io.load_table(path, SPEC, "FS_Combas")
    assert err.value.rows == [6] and "['合并']" in str(err.value)


@pytest.mark.parametrize("code", ["000002.SZ", "000002.sz", "SZ000002", "sz.000002", "２", "000002.XSHE"])
def test_stock_code_spellings(tmp_path, code):
    df = _frame().astype({"Stkcd": object})
    df.loc[0, "Stkcd"] = code
    path = tmp_path / "t.csv"
    write_csmar(df, path)
    assert io.load_table(path, SPEC, "FS_Combas")["Stkcd"].tolist() == [
        "000002",
        "000002",
        "300750",
        "600519",
    ]


@pytest.mark.parametrize("code", ["0000002", "000002.SZ.SZ", "A000002", "00000２X", "000002.HK"])
def test_stock_code_spellings_refused_with_file_line(tmp_path, code):
    df = _frame().astype({"Stkcd": object})
    df.loc[1, "Stkcd"] = code
    path = tmp_path / "t.csv"
    write_csmar(df, path)
    with pytest.raises(InputError) as err:
        io.load_table(path, SPEC, "FS_Combas")
    assert err.value.rows == [5] and err.value.column == "Stkcd"


@pytest.mark.parametrize("value", ["inf", "-inf", "1e999", "Infinity"])
def test_non_finite_money_is_an_error(tmp_path, value):
    df = _frame().astype({"A002000000": object})
    df.loc[3, "A002000000"] = value
    path = tmp_path / "t.csv"
    write_csmar(df, path)
    with pytest.raises(InputError, match="non-finite") as err:
        io.load_table(path, SPEC, "FS_Combas")
    assert err.value.rows == [7] and err.value.column == "total_liabilities"


def test_error_lines_name_the_part(tmp_path):
    df = _frame().astype({"A001000000": object})
    df.loc[3, "A001000000"] = "n.a."
    write_csmar(df.iloc[:2], tmp_path / "t.csv")
    write_csmar(df.iloc[2:], tmp_path / "t1.csv", header_rows=1)
    with pytest.raises(InputError) as err:
        io.load_table(tmp_path / "t.csv", SPEC, "FS_Combas")
    assert err.value.file == str(tmp_path / "t1.csv") and err.value.rows == [3]


def test_ifr_aggregates_dropped_and_codes_declared(tmp_path):
    robots = tmp_path / "r.csv"
    emp = tmp_path / "e.csv"
    robots.write_text(
        "country,industry,year,installations,operational_stock\n"
        "CHN,10-12,2015,5,50\nCHN,d,2015,1,10\nCHN,TOTAL,2015,6,60\nCHN,total,2016,6,60\n"
        "USA,99,2015,2,20\n",
        encoding="utf-8",
    )
    emp.write_text(
        "country,industry,year,employment\nCHN,10-12,2010,1000\nCHN,All,2010,1000\n", encoding="utf-8"
    )
    notes: list[dict] = []
    r, e = io.read_ifr(robots, emp, notes=notes)
    assert r["industry"].tolist() == ["10-12", "D", "99"] and r["operational_stock"].tolist() == [50, 10, 20]
    assert e["industry"].tolist() == ["10-12"]
    assert [n["rows"] for n in notes] == [2, 1]
    robots.write_text(
        "country,industry,year,installations,operational_stock\nCHN,10-12,2015,5,50\n"
        "CHN,Manufacturing,2015,6,60\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        io.read_ifr(robots, emp)
    assert err.value.rows == [3] and "Manufacturing" in str(err.value)
    r, _ = io.read_ifr(robots, emp, {"aggregate_codes": ["manufacturing", "all"]})
    assert r["industry"].tolist() == ["10-12"]
