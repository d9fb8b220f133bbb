"""Word (docx) writer of a table grid: a three-line table in Times New Roman / SimSun, with byte-deterministic
output (fixed core properties and fixed zip entry timestamps; python-docx would stamp 'now').
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from typing import Any

from intelcap.outputs.grid import _Cell, _Grid

_DOCX_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


# ----------------------------------------------------------------------------------------------
# Word
# ----------------------------------------------------------------------------------------------


def _set_fonts(rpr_parent: Any, size_pt: float) -> None:
    """Times New Roman for Latin text, SimSun (宋体) for CJK: Word picks w:eastAsia for Chinese."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    font = rpr_parent.font
    font.name = "Times New Roman"
    font.size = Pt(size_pt)
    rpr = rpr_parent.element.get_or_add_rPr()
    rfonts = rpr.get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(attr), "Times New Roman")
    rfonts.set(qn("w:eastAsia"), "SimSun")


def _cell_border(cell: Any, edge: str, size: int) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    el = borders.find(qn(f"w:{edge}"))
    if el is None:
        el = OxmlElement(f"w:{edge}")
        borders.append(el)
    el.set(qn("w:val"), "single")
    el.set(qn("w:sz"), str(size))  # eighths of a point
    el.set(qn("w:space"), "0")
    el.set(qn("w:color"), "000000")


def _write_cell(cell: Any, text: str, align: Any, size_pt: float) -> None:
    from docx.shared import Pt

    para = cell.paragraphs[0]
    para.alignment = align
    para.paragraph_format.space_before = Pt(0)
    para.paragraph_format.space_after = Pt(0)
    run = para.add_run(text)
    _set_fonts(run, size_pt)


def _deterministic_zip(data: bytes) -> bytes:
    """Rewrite the package with fixed entry timestamps and attributes (python-docx stamps 'now')."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=_ZIP_EPOCH)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.create_system = 3
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, src.read(info.filename))
    return buf.getvalue()


def _docx_document(g: _Grid) -> Any:
    """A Word document with fixed core properties (deterministic bytes), landscape for wide tables, and the
    title paragraph."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    doc = Document()
    _set_fonts(doc.styles["Normal"], 10.5)  # 五号
    cp = doc.core_properties
    cp.author = "intelcap"
    cp.last_modified_by = "intelcap"
    cp.comments = ""
    cp.title = g.title or ""
    cp.revision = 1
    cp.created = _DOCX_EPOCH
    cp.modified = _DOCX_EPOCH

    if g.ncols > 8:  # Table 6 has 11 columns: landscape keeps it readable
        sec = doc.sections[0]
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = sec.page_height, sec.page_width

    if g.title:
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _set_fonts(p.add_run(g.title), 10.5)
        p.runs[0].bold = True
    return doc


def _docx_fill(table: Any, g: _Grid, rows: list[list[_Cell]]) -> None:
    """Cell texts, merged spans and alignment: header cells centred after the first, body by column."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    n = g.ncols
    for ri, row in enumerate(rows):
        col = 0
        # one row's cells fetched once: table.cell(r, c) rebuilds the whole grid per call (quadratic)
        row_cells = table.rows[ri].cells
        for ci, c in enumerate(row):
            cell = row_cells[col]
            if c.span > 1:
                cell = cell.merge(row_cells[col + c.span - 1])
            left = ci == 0 if ri < len(g.header) else g.col_align(col) in "lL"
            align = WD_ALIGN_PARAGRAPH.LEFT if left else WD_ALIGN_PARAGRAPH.CENTER
            _write_cell(cell, c.plain, align, 10.5)
            col += c.span
        for empty in range(col, n):  # short rows (should not happen) still get a paragraph format
            _write_cell(row_cells[empty], "", WD_ALIGN_PARAGRAPH.CENTER, 10.5)


def _docx_rules(table: Any, g: _Grid, n_rows: int, stats_rule: bool) -> None:
    nh = len(g.header)

    def rule(ri: int, edge: str, size: int) -> None:
        for cell in table.rows[ri].cells:
            _cell_border(cell, edge, size)

    # Three-line table: heavy top and bottom rules, a light rule under the header.
    rule(0, "top", 12)
    rule(nh - 1, "bottom", 6)
    if stats_rule:
        for i in sorted(g.rule_before):
            rule(nh + i, "top", 4)
    rule(n_rows - 1, "bottom", 12)


def _grid_docx(g: _Grid, stats_rule: bool = True) -> bytes:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Pt

    doc = _docx_document(g)
    rows = g.header + g.body
    table = doc.add_table(rows=len(rows), cols=g.ncols)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _docx_fill(table, g, rows)
    _docx_rules(table, g, len(rows), stats_rule)

    for note in g.notes:
        p = doc.add_paragraph()
        p.paragraph_format.space_before = Pt(3)
        p.paragraph_format.space_after = Pt(0)
        _set_fonts(p.add_run(note), 9)

    buf = io.BytesIO()
    doc.save(buf)
    return _deterministic_zip(buf.getvalue())
