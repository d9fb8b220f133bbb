"""intelcap.outputs.word: A4 pages, fixed column widths that fit the text width without wrapping a number or a
header (Table 6's 非国有企业 on a landscape page), rows that do not split; and, end to end, every paper table's
docx is A4 and holds the numbers of its Markdown rendering and its CSV. Widths are read from the docx XML."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from intelcap.outputs import tables as T
from intelcap.outputs import word as W
from intelcap.outputs.tables import TableStyle

A4 = {(11906, 16838), (16838, 11906)}  # twips, portrait or landscape
GROUPS = (("ownership", 2), ("region", 3), ("industry", 2), ("intensity", 3))
SAMPLES = ["non_soe", "soe", "east", "central", "west", "high_tech", "non_high_tech", "labor", "capital",
           "technology"]  # fmt: skip


def layout(data: bytes) -> dict:
    """Page size, margins, grid column widths and the font size of the table, from word/document.xml."""
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode("utf-8")
    pg = re.search(r'<w:pgSz w:w="(\d+)" w:h="(\d+)"', xml)
    mar = re.search(r'<w:pgMar w:top="(\d+)" w:right="(\d+)" w:bottom="(\d+)" w:left="(\d+)"', xml)
    tbl = xml[xml.index("<w:tbl>") : xml.index("</w:tbl>")]
    return {
        "page": (int(pg.group(1)), int(pg.group(2))),
        "text_width": int(pg.group(1)) - int(mar.group(2)) - int(mar.group(4)),
        "grid": [int(w) for w in re.findall(r'<w:gridCol w:w="(\d+)"', tbl)],
        "fixed": '<w:tblLayout w:type="fixed"/>' in tbl,
        "sizes": {int(s) / 2 for s in re.findall(r'<w:sz w:val="(\d+)"/>', tbl)},
        "cant_split": tbl.count("<w:cantSplit/>"),
        "repeat_header": tbl.count("<w:tblHeader/>"),
        "xml": tbl,
    }


@pytest.fixture
def table6() -> pd.DataFrame:
    """Table 6's shape: ten subsamples, lnINT and a constant, controls, firm and year FE."""
    rows = []
    for i, s in enumerate(SAMPLES, start=1):
        for term, est in (("lnINT", -0.0421 + i / 1000), ("_cons", -0.2474)):
            rows.append(dict(model=f"({i})", depvar="lnCU", term=term, estimate=est, std_error=0.0123,
                             t_value=est / 0.0123, p_value=0.001, nobs=6677, n_clusters=807, r2_within=0.237,
                             fixed_effects="Stkcd+year", vcov="CRV1:Stkcd", controls="yes", sample=s))  # fmt: skip
    return pd.DataFrame(rows)


def test_text_width_estimate_by_hand() -> None:
    # 5 CJK characters at 10.5 pt = 52.5 pt = 1050 twips; 8 Latin characters at half an em = 840 twips
    assert W.text_width_twips("非国有企业", 10.5) == 1050
    assert W.text_width_twips("0.037***", 10.5) == 840
    # full-width brackets are one em, β = 0 three half ems: (1 + 1.5 + 1) em x 10 pt x 20
    assert W.text_width_twips("（β=0）", 10) == 700


def test_table6_is_a4_landscape_and_its_columns_fit_unwrapped(table6: pd.DataFrame) -> None:
    data = T.regression_docx(table6, TableStyle(title="table6", column_groups=GROUPS))
    lay = layout(data)
    assert lay["page"] == (16838, 11906)  # A4 landscape
    assert lay["fixed"] and len(lay["grid"]) == 11
    assert sum(lay["grid"]) <= lay["text_width"] == 16838 - 2 * W.WIDE_MARGIN_TWIPS
    assert lay["sizes"] == {10.5}  # it fits at 五号: no shrinking needed
    # column (1) holds 非国有企业 (5 CJK characters) on one line, plus Word's cell margins
    assert lay["grid"][1] == 1050 + W.CELL_PAD_TWIPS
    # the widest number, -0.041*** (9 half-em characters), fits in every column
    assert min(lay["grid"][1:]) == 9 * 105 + W.CELL_PAD_TWIPS
    # the four group headers span their columns
    assert (
        lay["xml"].count('<w:gridSpan w:val="3"/>') == 2 and lay["xml"].count('<w:gridSpan w:val="2"/>') == 2
    )
    # no row splits across a page; the header rows repeat if the table continues
    n_rows = lay["xml"].count("<w:tr>") + lay["xml"].count("<w:tr ")
    assert lay["cant_split"] == n_rows and lay["repeat_header"] == 4
    # all rows fit on one landscape page at single spacing (1.15 lines of 10.5 pt a row, title and notes)
    text_height = 11906 - 2 * W.WIDE_MARGIN_TWIPS
    assert (n_rows + 3) * 10.5 * 1.15 * 20 <= text_height


def test_portrait_tables_are_a4_and_too_wide_tables_shrink(table6: pd.DataFrame) -> None:
    two = table6[table6["model"].isin(["(1)", "(2)"])]
    lay = layout(T.regression_docx(two, TableStyle(title="table2")))
    assert lay["page"] == (11906, 16838)  # A4 portrait, not US Letter (12240 x 15840)
    assert sum(lay["grid"]) <= lay["text_width"] == 11906 - 2 * W.MARGIN_TWIPS
    # seven number columns of -0.04x*** need 7 x (945 + 216) = 8127 twips at 10.5 pt; with the label column
    # (企业固定效应: 1260 + 216) that exceeds 9070, and 9070 - 8127 = 943 is less than a quarter of the text
    # width (2267): the font steps down to 9 pt, where 1296 + 7 x 1026 = 8478 fits
    seven = table6[table6["model"].isin([f"({i})" for i in range(1, 8)])].copy()
    seven["sample"] = "all"
    lay = layout(T.regression_docx(seven, TableStyle(title="table3")))
    assert lay["sizes"] == {9.0}
    assert lay["grid"] == [6 * 180 + W.CELL_PAD_TWIPS] + [9 * 90 + W.CELL_PAD_TWIPS] * 7
    assert sum(lay["grid"]) <= lay["text_width"]


def test_column_widths_refuse_what_cannot_fit() -> None:
    from intelcap.outputs.grid import _Cell, _Grid

    g = _Grid([[_Cell("变量")] + [_Cell("很长的列标题很长") for _ in range(9)]], [])
    # nine columns of 8 CJK characters at 10.5 pt (1680 + 216 twips each) exceed a 9000-twip text width
    assert W.column_widths(g, 10.5, 9000) is None
    widths = W.column_widths(g, 10.5, 20000)
    assert widths == [2 * 210 + 216] + [1680 + 216] * 9


@pytest.mark.e2e
def test_every_paper_docx_is_a4_with_the_markdown_and_csv_numbers(tmp_path_factory) -> None:
    import docx
    from test_html_report import TABLES, csv_numbers, md_rows, small_run

    work = small_run(tmp_path_factory)
    for name in TABLES:
        data = (work / f"results/tables/{name}.docx").read_bytes()
        lay = layout(data)
        assert lay["page"] in A4, name
        assert sum(lay["grid"]) <= lay["text_width"], name
        document = docx.Document(io.BytesIO(data))
        (table,) = document.tables
        rows = [[c.text for c in row.cells] for row in table.rows]
        md = md_rows(Path(work / f"results/tables/{name}.md").read_text(encoding="utf-8"))
        # merged header cells repeat their text in python-docx; compare body rows cell by cell
        assert rows[-len(md) + 1 :] == md[-len(rows) + 1 :], name
        cells = {c for row in rows for c in row}
        for number in csv_numbers(work, name):
            assert (
                number in cells
                or number + "*" in cells
                or number + "**" in cells
                or (number + "***" in cells or any(number in c for c in cells if name == "table7"))
            ), (name, number)
