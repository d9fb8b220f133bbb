"""Word (docx) writer of a table grid: a three-line table in Times New Roman / SimSun, with byte-deterministic
output (fixed core properties and fixed zip entry timestamps; python-docx would stamp 'now').
"""

from __future__ import annotations

import io
import math
import zipfile
from datetime import UTC, datetime
from typing import Any

from intelcap.outputs.grid import _Cell, _Grid

_DOCX_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

# A4 in twentieths of a point (Word's own unit in w:pgSz), margins of a Chinese journal manuscript.
A4_TWIPS = (11906, 16838)
MARGIN_TWIPS = 1418  # 2.5 cm
WIDE_MARGIN_TWIPS = 1134  # 2 cm, landscape pages of wide tables
CELL_PAD_TWIPS = 2 * 108  # Word's default left + right cell margins (0.075 in each)
FONT_SIZES = (10.5, 9.0, 8.0)  # 五号, then smaller until the table fits its page width


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


def text_width_twips(text: str, size_pt: float) -> int:
    """Width of one line of ``text`` in Times New Roman / SimSun at ``size_pt``, in twips: a CJK or full-width
    character is one em, a Latin character, digit or star half an em (Times digits are exactly 0.5 em, its
    letters average below), so the estimate errs wide."""
    ems = sum(1.0 if _is_wide_char(ch) else 0.5 for ch in text)
    return math.ceil(ems * size_pt * 20)


def _is_wide_char(ch: str) -> bool:
    o = ord(ch)
    return 0x2E80 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFF60 or 0x3000 <= o <= 0x303F


def column_widths(g: _Grid, size_pt: float, text_width: int) -> list[int] | None:
    """Twips per grid column so that no number or header wraps, or None when the table cannot fit
    ``text_width`` at ``size_pt``. Only the label column may wrap (down to a quarter of the text width)."""
    need = [0] * g.ncols
    for row in g.header + g.body:
        col = 0
        for c in row:
            if c.span == 1:
                need[col] = max(need[col], text_width_twips(c.plain, size_pt) + CELL_PAD_TWIPS)
            col += c.span
    # a spanning header (企业所属区域 over three columns) needs its text width over the span
    for row in g.header:
        col = 0
        for c in row:
            if c.span > 1:
                short = text_width_twips(c.plain, size_pt) + CELL_PAD_TWIPS - sum(need[col : col + c.span])
                for k in range(col, col + c.span):
                    need[k] += max(0, math.ceil(short / c.span))
            col += c.span
    rest = sum(need[1:])
    if rest + need[0] <= text_width:
        return need
    label = text_width - rest
    if label < text_width // 4:
        return None
    return [label, *need[1:]]


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
    from docx.shared import Twips

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

    sec = doc.sections[0]
    width, height = A4_TWIPS
    margin = MARGIN_TWIPS
    if g.ncols > 8:  # Table 6 has 11 columns: a landscape A4 page keeps it on one page, unwrapped
        sec.orientation = WD_ORIENT.LANDSCAPE
        width, height = height, width
        margin = WIDE_MARGIN_TWIPS
    sec.page_width, sec.page_height = Twips(width), Twips(height)
    sec.left_margin = sec.right_margin = sec.top_margin = sec.bottom_margin = Twips(margin)

    if g.title:
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _set_fonts(p.add_run(g.title), 10.5)
        p.runs[0].bold = True
        p.paragraph_format.keep_with_next = True
    return doc


def _docx_fill(table: Any, g: _Grid, rows: list[list[_Cell]], size_pt: float = 10.5) -> None:
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
            _write_cell(cell, c.plain, align, size_pt)
            col += c.span
        for empty in range(col, n):  # short rows (should not happen) still get a paragraph format
            _write_cell(row_cells[empty], "", WD_ALIGN_PARAGRAPH.CENTER, size_pt)


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


def _fix_widths(table: Any, widths: list[int]) -> None:
    """Fixed layout with explicit grid and cell widths: Word (and LibreOffice) then keep the columns as computed
    instead of autofitting them to the page, which wrapped 非国有企/业 in Table 6."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    table.autofit = False
    tbl_pr = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl_pr.append(layout)
    tbl_w = tbl_pr.find(qn("w:tblW"))
    if tbl_w is None:
        tbl_w = OxmlElement("w:tblW")
        tbl_pr.append(tbl_w)
    tbl_w.set(qn("w:w"), str(sum(widths)))
    tbl_w.set(qn("w:type"), "dxa")
    for gc, w in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
        gc.set(qn("w:w"), str(w))
    for row in table.rows:
        col = 0
        for tc in row._tr.findall(qn("w:tc")):
            span = tc.tcPr.find(qn("w:gridSpan")) if tc.tcPr is not None else None
            n = int(span.get(qn("w:val"))) if span is not None else 1
            tc.get_or_add_tcPr().get_or_add_tcW().set(qn("w:w"), str(sum(widths[col : col + n])))
            tc.tcPr.tcW.set(qn("w:type"), "dxa")
            col += n


def _keep_rows(table: Any, n_header: int) -> None:
    """No row splits across pages, and the header rows repeat if a long table does continue."""
    from docx.oxml import OxmlElement

    for ri, row in enumerate(table.rows):
        tr_pr = row._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:cantSplit"))
        if ri < n_header:
            tr_pr.append(OxmlElement("w:tblHeader"))


def _grid_docx(g: _Grid, stats_rule: bool = True) -> bytes:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Pt

    doc = _docx_document(g)
    sec = doc.sections[0]
    text_width = int(sec.page_width.twips - sec.left_margin.twips - sec.right_margin.twips)
    # the largest font size at which the table fits the text width unwrapped; else the smallest, label wrapping
    size, widths = FONT_SIZES[-1], None
    for size in FONT_SIZES:
        widths = column_widths(g, size, text_width)
        if widths is not None:
            break
    if widths is None:
        n = g.ncols
        widths = [text_width - (n - 1) * (text_width // (2 * (n - 1)))] + [text_width // (2 * (n - 1))] * (
            n - 1
        )
    rows = g.header + g.body
    table = doc.add_table(rows=len(rows), cols=g.ncols)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _docx_fill(table, g, rows, size)
    _fix_widths(table, widths)
    _keep_rows(table, len(g.header))
    _docx_rules(table, g, len(rows), stats_rule)

    for note in g.notes:
        p = doc.add_paragraph()
        p.paragraph_format.space_before = Pt(3)
        p.paragraph_format.space_after = Pt(0)
        _set_fonts(p.add_run(note), 9)

    buf = io.BytesIO()
    doc.save(buf)
    return _deterministic_zip(buf.getvalue())
