"""LaTeX writer of a table grid (booktabs, esttab-style superscript stars) and the standalone document
around table bodies (ctexart + xelatex for Chinese).
"""

from __future__ import annotations

import math
import re
from typing import Literal

from intelcap.errors import InputError
from intelcap.outputs.grid import _Cell, _Grid

Lang = Literal["zh", "en"]


# ----------------------------------------------------------------------------------------------
# LaTeX
# ----------------------------------------------------------------------------------------------

_TEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "–": "--",
    "—": "---",
    # Symbols in math mode: text fonts (lmroman under xelatex, T1 under pdflatex) lack them, math fonts never do.
    "²": r"\ensuremath{^{2}}",
    "³": r"\ensuremath{^{3}}",
    "×": r"\ensuremath{\times}",
    "±": r"\ensuremath{\pm}",
    "≤": r"\ensuremath{\leq}",
    "≥": r"\ensuremath{\geq}",
    "≠": r"\ensuremath{\neq}",
    "−": r"\ensuremath{-}",
    "∞": r"\ensuremath{\infty}",
    **{
        ch: r"\ensuremath{" + "\\" + name + "}"
        for ch, name in zip(
            "αβγδεζηθικλμνξπρστυφχψωΔΓΘΛΞΠΣΦΨΩ",
            "alpha beta gamma delta varepsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
            "upsilon phi chi psi omega Delta Gamma Theta Lambda Xi Pi Sigma Phi Psi Omega".split(),
            strict=True,
        )
    },
}
# A hyphen that is a sign (start of the text or after a space or bracket, before a digit) is a true minus
# sign; one between letters or digits (2011-2019, Kleibergen-Paap) stays a hyphen.
_MINUS = r"(?<![\w.)\]])-(?=\.?\d)"
_TEX_RE = re.compile(_MINUS + "|" + "|".join(re.escape(k) for k in _TEX_SPECIALS))
_CJK_RE = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
_TITLE_RE = re.compile(r"^(?:附表\s*|表\s*|Table\s+)([A-Z]?\d+)[\s\u3000.:：]*(.*)$")
# A cell printed in a decimal-aligned (dcolumn) column: a plain number, optionally in parentheses. Counts with a
# thousands separator and text (是/Yes, confidence sets) are centred over the column instead.
_DECIMAL_RE = re.compile(r"^\(?-?\d+(?:\.\d+)?\)?$")

# What a table fragment needs in the preamble (latex_document loads them; a paper must too).
PREAMBLE_PACKAGES = ("booktabs", "array", "dcolumn", "threeparttable")
_SYM = r"\providecommand{\sym}[1]{\ifmmode^{#1}\else\ensuremath{^{#1}}\fi}"


def latex_escape(s: str) -> str:
    """Escape LaTeX specials in one pass (so the backslash of \\& is not escaped again); symbols go to math
    mode and sign hyphens become true minus signs."""
    return _TEX_RE.sub(lambda m: r"\ensuremath{-}" if m.group(0) == "-" else _TEX_SPECIALS[m.group(0)], s)


def _tex_cell(c: _Cell) -> str:
    text = latex_escape(c.text)
    if c.stars:
        text += r"\sym{" + c.stars + "}"
    return text


def _decimal_cell(c: _Cell) -> str:
    """A body cell of a dcolumn column: numbers in math mode (true minus, aligned on the point, stars as
    superscripts after the decimals); anything else centred as text."""
    if not c.text:
        return ""
    if _DECIMAL_RE.match(c.text):
        return c.text + (r"\sym{" + c.stars + "}" if c.stars else "")
    return r"\multicolumn{1}{c}{" + _tex_cell(c) + "}"


def _column_cells(g: _Grid, i: int) -> list[_Cell]:
    out = []
    for r in g.body:
        col = 0
        for c in r:
            if col == i:
                out.append(c)
            col += c.span
    return out


def _decimal_spec(cells: list[_Cell]) -> str:
    """dcolumn's D{.}{.}{x.y} with x and y in digit widths: room for the widest integer part (a minus sign is
    about 1.6 digits wide, a parenthesis 0.8) and the widest decimals plus their superscript stars (0.7 each),
    so the column is no wider than its numbers and every point sits at the same place."""
    left = right = 0.0
    for c in cells:
        if not _DECIMAL_RE.match(c.text):
            continue
        whole, _, frac = c.text.partition(".")
        lw = sum(1.6 if ch == "-" else 0.8 if ch == "(" else 1.0 for ch in whole)
        rw = sum(0.8 if ch == ")" else 1.0 for ch in frac) + 0.7 * len(c.stars)
        left, right = max(left, lw), max(right, rw)
    return "D{.}{.}{" + f"{math.ceil(left)}.{math.ceil(right)}" + "}"


def _decimal_columns(g: _Grid) -> dict[int, str]:
    """Centred columns whose body holds at least one decimal number (and only single-column cells), with
    their dcolumn spec."""
    out: dict[int, str] = {}
    for i in range(1, g.ncols):
        if g.col_align(i) != "c":
            continue
        cells = _column_cells(g, i)
        if any(_DECIMAL_RE.match(c.text) and "." in c.text for c in cells) and all(
            c.span == 1 for c in cells
        ):
            out[i] = _decimal_spec(cells)
    return out


def _tex_caption(title: str) -> list[str]:
    m = _TITLE_RE.match(title)
    if m:
        # Keep the paper's number (表 2 / Table A1) whatever the document's table counter says.
        return [
            r"\renewcommand{\thetable}{" + latex_escape(m.group(1)) + "}",
            r"\caption{" + latex_escape(m.group(2)) + "}",
        ]
    return [r"\caption{" + latex_escape(title) + "}"]


def _tex_header_row(r: list[_Cell]) -> list[str]:
    """One header row: first cell as is, the others centred over their span, spans > 1 underlined."""
    cells, col, rules = [], 0, []
    for i, c in enumerate(r):
        if i == 0:
            cells.append(_tex_cell(c))
        else:
            cells.append(r"\multicolumn{" + str(c.span) + "}{c}{" + _tex_cell(c) + "}")
            if c.span > 1 and c.text:
                rules.append(r"\cmidrule(lr){" + f"{col + 1}-{col + c.span}" + "}")
        col += c.span
    return [" & ".join(cells) + r" \\"] + ([" ".join(rules)] if rules else [])


def _tex_body_row(r: list[_Cell], decimal: dict[int, str]) -> str:
    cells, col = [], 0
    for c in r:
        if c.span > 1:
            cells.append(r"\multicolumn{" + str(c.span) + "}{c}{" + _tex_cell(c) + "}")
        else:
            cells.append(_decimal_cell(c) if col in decimal else _tex_cell(c))
        col += c.span
    return " & ".join(cells) + r" \\"


def _grid_latex(g: _Grid, stats_rule: bool = True) -> str:
    n = g.ncols
    decimal = _decimal_columns(g)
    out = [
        "% Generated by intelcap.outputs.tables. Needs \\usepackage{" + ",".join(PREAMBLE_PACKAGES) + "};",
        "% \\sym gives esttab-style superscript stars, D{.}{.}{x.y} (dcolumn) aligns numbers on the decimal point.",
        _SYM,
        r"\begin{table}[htbp]",
        r"\centering",
    ]
    if n > 8:  # Table 6: eleven columns on a landscape page
        out += [r"\small", r"\setlength{\tabcolsep}{4pt}"]
    if g.title:
        out += _tex_caption(g.title)
    spec = {"l": "l", "c": "c", "L": r">{\raggedright\arraybackslash}p{0.7\linewidth}"}
    cols = "".join(decimal[i] if i in decimal else spec[g.col_align(i)] for i in range(n))
    # threeparttable: the notes take the table's own width and start at its left edge.
    out.append(r"\begin{threeparttable}")
    out.append(r"\begin{tabular}{" + cols + "}")
    out.append(r"\toprule")
    for r in g.header:
        out += _tex_header_row(r)
    out.append(r"\midrule")
    for i, r in enumerate(g.body):
        if stats_rule and i in g.rule_before:
            out.append(r"\midrule")
        out.append(_tex_body_row(r, decimal))
    out.append(r"\bottomrule")
    out.append(r"\end{tabular}")
    if g.notes:
        out.append(r"\begin{tablenotes}[flushleft]")
        out.append(r"\footnotesize")
        out += [r"\item[] " + latex_escape(x) for x in g.notes]
        out.append(r"\end{tablenotes}")
    out.append(r"\end{threeparttable}")
    out.append(r"\end{table}")
    return "\n".join(out) + "\n"


def is_wide(body: str) -> bool:
    """More than eight columns (Table 6): printed on a landscape page."""
    return max((line.count("&") for line in body.splitlines()), default=0) > 7


def needs_xelatex(body: str) -> bool:
    """CJK text needs ctex and xelatex; anything else compiles with pdflatex too."""
    return bool(_CJK_RE.search(body))


def _preamble(lang: Lang, bodies: str, geometry: str) -> list[str]:
    if lang == "zh":
        head = [r"\documentclass[UTF8,zihao=5]{ctexart}"]
    else:
        head = [r"\documentclass[10pt]{article}"]
        if needs_xelatex(bodies):
            head.append(r"\usepackage[UTF8,scheme=plain]{ctex}")
        else:
            _check_ascii(bodies)
    return head + [
        *(r"\usepackage{" + p + "}" for p in PREAMBLE_PACKAGES),
        r"\usepackage[" + geometry + "]{geometry}",
        _SYM,
    ]


def _check_ascii(body: str) -> None:
    """An English document without CJK must compile with pdflatex: no character its fonts lack."""
    bad = sorted({ch for ch in body if ord(ch) > 127})
    if bad:
        lines = [i + 1 for i, line in enumerate(body.splitlines()) if any(ch in line for ch in bad)]
        raise InputError(
            f"English LaTeX table holds characters pdflatex cannot print: {''.join(bad)!r}",
            rows=lines[:10],
            hint="spell them in ASCII in the labels file (config key `paths.labels`), or add them to "
            "intelcap.outputs.latex._TEX_SPECIALS",
        )


def latex_document(body: str, lang: Lang = "zh") -> str:
    """A standalone compilable document around table bodies: ctexart + xelatex for zh, article for en.

    An English document without CJK text compiles with pdflatex (T1, lmodern; InputError on any character
    pdflatex cannot print); one that still contains CJK text (keywords) loads ctex and needs xelatex.
    """
    geometry = "a4paper,margin=2cm" + (",landscape" if is_wide(body) else "")
    head = _preamble(lang, body, geometry)
    return (
        "\n".join([*head, r"\begin{document}"]) + "\n" + body.rstrip("\n") + "\n" + r"\end{document}" + "\n"
    )


def tables_document(bodies: list[str], lang: Lang = "zh") -> str:
    """All tables in one document, one per page; wide ones (Table 6) on a landscape page (pdflscape)."""
    head = _preamble(lang, "\n".join(bodies), "a4paper,margin=2cm")
    out = [*head, r"\usepackage{pdflscape}", r"\begin{document}"]
    for body in bodies:
        body = body.rstrip("\n")
        out += [r"\begin{landscape}", body, r"\end{landscape}"] if is_wide(body) else [body, r"\clearpage"]
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
