"""Readers: every container/encoding/header variant of a CSMAR export loads to the identical frame."""

from __future__ import annotations

import pandas as pd
import pytest

from intelcap import io
from intelcap.errors import InputError
from intelcap.synth import write_csmar

SPEC = {"id": "Stkcd", "date": "Accper",
        "fields": {"Typrep": "Typrep", "total_assets": "A001000000", "fixed_assets": "A001212000",
                   "total_liabilities": "A002000000"}}


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "Stkcd": ["000002", "000002", "600519", "300750", "300750"],
        "Accper": ["2018-12-31", "2019-12-31", "2019-12-31", "2019-12-31", "2019-06-30"],
        "Typrep": ["A", "A", "A", "A", "A"],
        "A001000000": [1.5e9, 1.75e9, 2.25e10, 1.0e8, 9.0e7],
        "A001212000": [3.0e8, 3.5e8, 1.5e9, 2.0e7, 2.0e7],
        "A002000000": [6.0e8, 7.0e8, 5.0e9, 5.0e7, 4.0e7],
    })


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
    df.loc[1, "Accper"] = "2018-12-31"   # a restated 2018 statement appears twice
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
    df = pd.concat([_frame(), _frame().assign(Typrep="B"),
                    _frame().assign(Accper=lambda d: d["Accper"].str[:4] + "-01-01")])
    path = tmp_path / "t.csv"
    write_csmar(df, path)
    assert len(io.load_table(path, SPEC, "FS_Combas")) == 4
