"""HTML writer of a table grid: a self-contained page (inline CSS, no scripts) with one three-line ``<table>``,
for the Snakemake report and a browser. The grid is the one `outputs.tables` builds for md/tex/docx, so every
number reads the same in all four formats.

Numbers in centred columns are aligned on the decimal point: each is split into an integer part (right-aligned)
and a fraction with its stars (left-aligned) in fixed-width spans; the cell's text stays the grid text.
"""

from __future__ import annotations

import html as _html
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from intelcap.atomic import write_text
from intelcap.errors import InputError
from intelcap.outputs.grid import _Cell, _Grid

__all__ = ["grid_html", "grid_page", "table_html", "write_table_html"]

_NUMBER_RE = re.compile(r"^(\(?-?\d+)(\.\d+\)?)$")

_CSS = """
body { font-family: "Times New Roman", "Noto Serif CJK SC", "SimSun", serif; font-size: 15px; margin: 1.5em; }
table.esttab { border-collapse: collapse; }
table.esttab caption { font-weight: bold; padding-bottom: 0.5em; }
table.esttab th, table.esttab td { padding: 0.15em 0.7em; white-space: nowrap; }
table.esttab th { font-weight: normal; text-align: center; }
table.esttab th.label, table.esttab td.label { text-align: left; }
table.esttab td.wrap { white-space: normal; max-width: 40em; text-align: left; }
table.esttab td.num { text-align: center; font-variant-numeric: tabular-nums; }
table.esttab span.i { display: inline-block; text-align: right; }
table.esttab span.f { display: inline-block; text-align: left; }
table.esttab thead tr:first-child > * { border-top: 2px solid #000; }
table.esttab thead tr:last-child > * { border-bottom: 1px solid #000; }
table.esttab tr.rule > * { border-top: 1px solid #000; }
table.esttab tbody tr:last-child > * { border-bottom: 2px solid #000; }
th.group { border-bottom: 1px solid #000; }
div.esttab { display: table; margin: 0 auto; }
div.esttab div.notes { display: table-caption; caption-side: bottom; font-size: 0.85em; text-align: left; }
div.esttab div.notes p { margin: 0.3em 0 0; }
""".strip()


def _esc(s: str) -> str:
    return _html.escape(s, quote=True)


def _widths(g: _Grid) -> dict[int, tuple[int, int]]:
    """Per centred column holding numbers: the widest integer part and fraction (with stars), in characters."""
    out: dict[int, tuple[int, int]] = {}
    for row in g.body:
        col = 0
        for c in row:
            m = _NUMBER_RE.match(c.text) if c.span == 1 and g.col_align(col) == "c" else None
            if m:
                i, f = out.get(col, (0, 0))
                out[col] = (max(i, len(m.group(1))), max(f, len(m.group(2)) + len(c.stars)))
            col += c.span
    return out


def _body_cell(c: _Cell, col: int, g: _Grid, widths: dict[int, tuple[int, int]]) -> str:
    span = f' colspan="{c.span}"' if c.span > 1 else ""
    align = g.col_align(col)
    if col == 0:
        return f'<td class="label"{span}>{_esc(c.plain)}</td>'
    if align == "L":
        return f'<td class="wrap"{span}>{_esc(c.plain)}</td>'
    m = _NUMBER_RE.match(c.text) if c.span == 1 else None
    if m and col in widths:
        wi, wf = widths[col]
        frac = _esc(m.group(2)) + (f"<sup>{_esc(c.stars)}</sup>" if c.stars else "")
        return (
            f'<td class="num"><span class="i" style="width:{wi}ch">{_esc(m.group(1))}</span>'
            f'<span class="f" style="width:{wf}ch">{frac}</span></td>'
        )
    text = _esc(c.text) + (f"<sup>{_esc(c.stars)}</sup>" if c.stars else "")
    return f'<td class="num"{span}>{text}</td>'


def grid_html(g: _Grid, stats_rule: bool = True, lang: str = "zh") -> str:
    """One table as a complete HTML page (UTF-8, inline CSS)."""
    widths = _widths(g)
    title = _esc(g.title or "")
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{title}</title>",
        f"<style>\n{_CSS}\n</style>",
        "</head>",
        "<body>",
        '<div class="esttab">',
        '<table class="esttab">',
    ]
    if g.title:
        out.append(f"<caption>{title}</caption>")
    out.append("<thead>")
    for row in g.header:
        cells = []
        for i, c in enumerate(row):
            cls = "label" if i == 0 else ("group" if c.span > 1 and c.text else "")
            attrs = (f' class="{cls}"' if cls else "") + (f' colspan="{c.span}"' if c.span > 1 else "")
            cells.append(f"<th{attrs}>{_esc(c.plain)}</th>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</thead>")
    out.append("<tbody>")
    for ri, row in enumerate(g.body):
        cells, col = [], 0
        for c in row:
            cells.append(_body_cell(c, col, g, widths))
            col += c.span
        cls = ' class="rule"' if stats_rule and ri in g.rule_before else ""
        out.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    out.append("</tbody>")
    out.append("</table>")
    if g.notes:
        # a bottom caption of the wrapper: starts at the table's left edge and wraps at its width without
        # widening it (a footer cell would stretch the columns to the note's length)
        out.append('<div class="notes">' + "".join(f"<p>{_esc(n)}</p>" for n in g.notes) + "</div>")
    out.append("</div>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


Kind = Literal["regression", "descriptive", "keywords", "frame"]


def _grid(kind: Kind, df: Any, style: Any) -> _Grid:
    # The grid builders live with the styles in outputs.tables (which imports this package's writers, not
    # this module): imported here so the dependency stays one way.
    from intelcap.outputs import tables

    if kind not in tables.GRID_BUILDERS:
        raise InputError(f"unknown table kind {kind!r}", hint=f"one of {sorted(tables.GRID_BUILDERS)}")
    return tables.table_grid(kind, df, style)


def grid_page(g: _Grid, kind: Kind, style: Any) -> str:
    """The HTML page of a table's grid (`tables.table_grid`): a job draws its md/tex/docx from the same grid."""
    from intelcap.outputs import tables

    return grid_html(g, tables.stats_rule(kind, style), style.lang)


def table_html(kind: Kind, df: Any, style: Any) -> str:
    """The HTML page of a table: same grid (labels, digits, stars) as its md/tex/docx renderings."""
    return grid_page(_grid(kind, df, style), kind, style)


def write_table_html(
    kind: Kind, df: Any | Mapping[str, Sequence[str]], path: str | os.PathLike, style: Any
) -> None:
    """Render and write ``path`` atomically."""
    write_text(path, table_html(kind, df, style))
