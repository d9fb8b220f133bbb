"""The format-neutral table grid: every renderer of `intelcap.outputs.tables` first builds one grid of cell
texts; Markdown (here), LaTeX (`outputs.latex`) and Word (`outputs.word`) only differ in how they print it, so a
number can never read differently across formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# ----------------------------------------------------------------------------------------------
# The format-neutral grid
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cell:
    text: str
    stars: str = ""
    span: int = 1

    @property
    def plain(self) -> str:
        return self.text + self.stars


@dataclass
class _Grid:
    header: list[list[_Cell]]
    body: list[list[_Cell]]
    # Indices of body rows that start a new block (a rule is drawn above them when stats_rule).
    rule_before: set[int] = field(default_factory=set)
    title: str | None = None
    notes: list[str] = field(default_factory=list)
    # Per-column alignment of body cells: l(eft), c(enter), L = left, wrapping paragraph (long text).
    # Missing entries default to esttab's: label column left, the rest centred.
    align: str = ""

    @property
    def ncols(self) -> int:
        rows = self.header + self.body
        return max(sum(c.span for c in r) for r in rows) if rows else 0

    def col_align(self, i: int) -> str:
        return self.align[i] if i < len(self.align) else ("l" if i == 0 else "c")


def _expand(row: list[_Cell]) -> list[str]:
    """Row as one string per grid column (a spanning cell in its first column, blanks after)."""
    out: list[str] = []
    for c in row:
        out.append(c.plain)
        out.extend([""] * (c.span - 1))
    return out


# ----------------------------------------------------------------------------------------------
# Markdown
# ----------------------------------------------------------------------------------------------


def _md_cell(s: str) -> str:
    # Stars stay unescaped (readable raw text; a trailing run cannot open emphasis in CommonMark).
    return s.replace("|", "\\|").replace("\n", " ")


def _grid_markdown(g: _Grid) -> str:
    n = g.ncols
    rows = [_expand(r) for r in g.header + g.body]
    lines: list[str] = []
    if g.title:
        lines += [g.title, ""]
    lines.append("| " + " | ".join(_md_cell(c) for c in rows[0]) + " |")
    lines.append("|" + "|".join(":---:" if g.col_align(i) == "c" else ":---" for i in range(n)) + "|")
    for r in rows[1:]:
        lines.append("| " + " | ".join(_md_cell(c) for c in r) + " |")
    if g.notes:
        lines.append("")
        lines += g.notes
    return "\n".join(lines) + "\n"
