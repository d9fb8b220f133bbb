"""Publication tables in the layout Stata users know from esttab/outreg2: Markdown, LaTeX and Word.

Every renderer first builds one format-neutral grid of cell texts (``_Grid``); Markdown, LaTeX and
docx only differ in how they print that grid, so a number can never read differently across formats.

Input contract (produced by the estimation code): a long frame with one row per model x term and
columns ``model, depvar, term, estimate, std_error, t_value, p_value, nobs, n_clusters, r2_within,
fixed_effects, vcov, controls, sample`` plus optional ``stage``, ``column_title`` and ``text``.
Rows whose term starts with ``stat:`` carry model-level statistics in ``estimate`` (or ``text``).

Display rules, chosen to match esttab:
- stars come from the unrounded ``p_value`` (p < 0.01 -> ***), never from displayed numbers;
- rounding is half away from zero on the value's shortest repr (what the CSV shows), so 0.0125
  prints 0.013 whatever its binary expansion; a rounded negative zero prints without its sign;
- counts get a thousands separator (10,130) unless ``TableStyle.thousands`` is False.

All outputs are deterministic: the same input gives the same bytes (docx included: fixed core
properties and fixed zip timestamps).
"""

from __future__ import annotations

import io
import math
import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import pandas as pd

from intelcap.atomic import write_bytes, write_text
from intelcap.errors import InputError
from intelcap.outputs.labels import load_labels

__all__ = [
    "TableStyle",
    "label",
    "fmt_number",
    "fmt_count",
    "stars_for",
    "fmt_pct",
    "regression_markdown",
    "regression_latex",
    "regression_docx",
    "descriptive_markdown",
    "descriptive_latex",
    "descriptive_docx",
    "keywords_markdown",
    "keywords_latex",
    "keywords_docx",
    "frame_markdown",
    "frame_latex",
    "frame_docx",
    "latex_document",
    "latex_escape",
    "write_table",
]

Lang = Literal["zh", "en"]

REQUIRED_COLUMNS = (
    "model", "depvar", "term", "estimate", "std_error", "t_value", "p_value", "nobs", "n_clusters",
    "r2_within", "fixed_effects", "vcov", "controls", "sample",
)  # fmt: skip

# FE rows appear in this order unless TableStyle.fe_rows says otherwise; others follow by appearance.
_FE_ORDER = ("Stkcd", "year", "province^year", "industry^year")
_STAT_DIGITS_DEFAULT = {"stat:first_stage_F": 2, "stat:effective_F": 2}
_DOCX_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)



# ----------------------------------------------------------------------------------------------
# Style and labels
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableStyle:
    """How to print a table. Frozen so a style can be shared between rules without surprises.

    ``title`` is literal text or a key of ``titles`` in labels.yaml (e.g. "table2").
    ``notes``: None = automatic (stars + standard-error note for regressions, none otherwise);
    an empty sequence = no notes; otherwise the literal lines.
    ``stat_rows``: footer rows in order; "fe" marks where the FE rows go. None = controls, FE rows,
    N, within R², clusters, then every ``stat:`` term in order of first appearance.
    ``labels``: overrides by key, looked up before labels.yaml in every section.
    ``column_groups``: spanning header above the model numbers, ((label or groups key, n_cols), ...).
    ``term_digits``: per-term decimals, e.g. {"lnINTUS": 4} for a small first-stage coefficient.
    """

    lang: Lang = "zh"
    paren: Literal["se", "t"] = "se"
    digits: int = 3
    stars: tuple[tuple[float, str], ...] = ((0.1, "*"), (0.05, "**"), (0.01, "***"))
    keep: Sequence[str] | None = None
    order: Sequence[str] | None = None
    show_cons: bool = True
    fe_rows: Sequence[str] | None = None
    stat_rows: Sequence[str] | None = None
    stat_digits: Mapping[str, int] = field(default_factory=lambda: dict(_STAT_DIGITS_DEFAULT))
    term_digits: Mapping[str, int] = field(default_factory=dict)
    r2_digits: int = 3
    title: str | None = None
    notes: Sequence[str] | str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    yes_no: tuple[str, str] | None = None
    thousands: bool = True
    stats_rule: bool = True
    column_groups: Sequence[tuple[str, int]] | None = None
    title_from_sample: bool = True
    labels_path: str | os.PathLike | None = None

    def __post_init__(self) -> None:
        if self.lang not in ("zh", "en"):
            raise InputError(f"TableStyle.lang must be 'zh' or 'en', got {self.lang!r}")
        if self.paren not in ("se", "t"):
            raise InputError(f"TableStyle.paren must be 'se' or 't', got {self.paren!r}")
        if self.digits < 0 or self.r2_digits < 0:
            raise InputError("TableStyle digits must be >= 0")


def label(section: str, key: str, style: TableStyle, default: str | None = None) -> str:
    """Text for ``key`` in ``section`` and the style's language; overrides win, fallback is the key."""
    if key in style.labels:
        return style.labels[key]
    labels = load_labels(style.labels_path)
    key = labels.get("aliases", {}).get(key, key) if section == "variables" else key
    if key in style.labels:
        return style.labels[key]
    entry = (labels.get(section) or {}).get(key)
    if entry is None and section == "samples":
        entry = (labels.get(section) or {}).get(str(key).lower())
    if entry is None:
        return default if default is not None else str(key)
    if isinstance(entry, Mapping):
        return str(entry.get(style.lang, entry.get("en", key)))
    return str(entry)


def _yes_no(style: TableStyle) -> tuple[str, str]:
    if style.yes_no is not None:
        return style.yes_no
    words = (load_labels(style.labels_path).get("yes_no") or {}).get(style.lang) or {}
    # PyYAML turns unquoted yes/no keys into booleans; accept both spellings of the key.
    yes = words.get("yes", words.get(True, "Yes"))
    no = words.get("no", words.get(False, "No"))
    return str(yes), str(no)


def _title(style: TableStyle) -> str | None:
    if style.title is None:
        return None
    titles = load_labels(style.labels_path).get("titles") or {}
    if style.title in titles:
        return label("titles", style.title, style)
    return style.title


# ----------------------------------------------------------------------------------------------
# Number formatting
# ----------------------------------------------------------------------------------------------


def _is_missing(x: Any) -> bool:
    if x is None or x is pd.NA:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def fmt_number(x: Any, digits: int = 3) -> str:
    """Fixed decimals, half away from zero, no negative zero; '' for missing or non-finite."""
    if _is_missing(x):
        return ""
    xf = float(x)
    if not math.isfinite(xf):
        return ""
    q = Decimal(1).scaleb(-digits)
    d = Decimal(repr(xf)).quantize(q, rounding=ROUND_HALF_UP)
    if d == 0:
        d = abs(d)  # -0.0004 -> "0.000", as Stata prints it
    return f"{d:.{digits}f}"


def fmt_count(x: Any, thousands: bool = True) -> str:
    """Integer counts (N, clusters) with an optional thousands separator; '' for missing."""
    if _is_missing(x):
        return ""
    xf = float(x)
    if not math.isfinite(xf):
        return ""
    n = int(Decimal(repr(xf)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return f"{n:,}" if thousands else str(n)


def stars_for(p: Any, stars: Sequence[tuple[float, str]] = TableStyle.stars) -> str:
    """Star string for an unrounded p-value: strictly below a threshold earns its stars (esttab)."""
    if _is_missing(p):
        return ""
    pf = float(p)
    best = ""
    for level, symbol in sorted(stars, key=lambda s: -s[0]):
        if pf < level:
            best = symbol
    return best


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
# Regression tables
# ----------------------------------------------------------------------------------------------


@dataclass
class _Model:
    name: str
    info: dict[str, Any]
    coefs: dict[str, pd.Series]
    stats: dict[str, pd.Series]


def _models(df: pd.DataFrame) -> list[_Model]:
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(
            f"regression table lacks columns {missing}",
            hint="pass the long format: one row per model x term (see intelcap.outputs.tables docstring)",
        )
    if df.empty:
        raise InputError("regression table is empty")
    dup = df.duplicated(["model", "term"], keep=False)
    if dup.any():
        raise InputError(
            "regression table has duplicated model x term rows",
            rows=df.loc[dup, ["model", "term"]].itertuples(index=False, name=None),
            hint="each model must list each term once",
        )
    models: list[_Model] = []
    for name in pd.unique(df["model"]):  # order of first appearance
        sub = df[df["model"] == name]
        is_stat = sub["term"].astype(str).str.startswith("stat:")
        coef_rows = sub[~is_stat]
        # Model-level fields come from a coefficient row: stat rows may leave them empty.
        info_row = (coef_rows if not coef_rows.empty else sub).iloc[0]
        models.append(
            _Model(
                name=str(name),
                info=info_row.to_dict(),
                coefs={str(r["term"]): r for _, r in coef_rows.iterrows()},
                stats={str(r["term"]): r for _, r in sub[is_stat].iterrows()},
            )
        )
    return models


def _terms(models: list[_Model], style: TableStyle) -> list[str]:
    present: list[str] = []
    for m in models:
        for t in m.coefs:
            if t not in present:
                present.append(t)
    if style.keep is not None:
        unknown = [t for t in style.keep if t not in present]
        if unknown:
            raise InputError(
                f"TableStyle.keep names terms absent from every model: {unknown}",
                hint=f"terms present: {present}",
            )
        terms = list(dict.fromkeys(style.keep))
    else:
        # esttab puts the constant last whatever the estimation order.
        terms = [t for t in present if t != "_cons"] + (["_cons"] if "_cons" in present else [])
    if style.order is not None:
        first = [t for t in style.order if t in terms]
        terms = first + [t for t in terms if t not in first]
    if not style.show_cons:
        terms = [t for t in terms if t != "_cons"]
    return terms


def _fe_sets(models: list[_Model]) -> list[list[str]]:
    out = []
    for m in models:
        raw = m.info.get("fixed_effects")
        raw = "" if _is_missing(raw) else str(raw)
        out.append([f.strip() for f in raw.split("+") if f.strip()])
    return out


def _fe_rows(fe_sets: list[list[str]], style: TableStyle) -> list[str]:
    if style.fe_rows is not None:
        return list(style.fe_rows)
    seen = [f for fes in fe_sets for f in fes]
    known = [f for f in _FE_ORDER if f in seen]
    return known + list(dict.fromkeys(f for f in seen if f not in _FE_ORDER))


def _stat_keys(models: list[_Model], style: TableStyle) -> list[str]:
    if style.stat_rows is not None:
        return list(style.stat_rows)
    extra: list[str] = []
    for m in models:
        for k in m.stats:
            if k not in extra:
                extra.append(k)
    return ["controls", "fe", "nobs", "r2_within", "n_clusters", *extra]


def _info_text(m: _Model, key: str) -> str:
    v = m.info.get(key)
    return "" if _is_missing(v) else str(v)


def _stat_cell(m: _Model, key: str, style: TableStyle) -> str:
    yes, no = _yes_no(style)
    if key == "controls":
        v = _info_text(m, "controls").strip().lower()
        return yes if v in ("yes", "true", "1") else no if v in ("no", "false", "0") else ""
    if key == "nobs":
        return fmt_count(m.info.get("nobs"), style.thousands)
    if key == "n_clusters":
        return fmt_count(m.info.get("n_clusters"), style.thousands)
    if key == "r2_within":
        return fmt_number(m.info.get("r2_within"), style.r2_digits)
    row = m.stats.get(key)
    if row is None:
        return ""
    text = row.get("text") if "text" in row.index else None
    if not _is_missing(text) and str(text) != "":
        return str(text)  # text-valued stats (AR confidence set) print as given
    return fmt_number(row.get("estimate"), style.stat_digits.get(key, style.digits))


def _column_titles(models: list[_Model], style: TableStyle) -> list[str] | None:
    titles = [_info_text(m, "column_title") for m in models]
    if any(titles):
        return titles
    samples = [_info_text(m, "sample") for m in models]
    # Only worth a header row when the columns differ in sample; "all" everywhere says nothing.
    if style.title_from_sample and len(set(samples)) > 1:
        return [label("samples", s, style) if s else "" for s in samples]
    return None


def _vcov_note(models: list[_Model], style: TableStyle) -> str:
    vcovs = {_info_text(m, "vcov") for m in models}
    kind = "t" if style.paren == "t" else "se"
    if len(vcovs) == 1:
        v = vcovs.pop()
        head, _, arg = v.partition(":")
        if head.upper().startswith("CRV") and arg:
            levels = [label("clusters", c.strip(), style) for c in re.split(r"[+^,]", arg) if c.strip()]
            joiner = label("notes", "cluster_join", style)
            tmpl = label("notes", f"{kind}_cluster", style)
            return tmpl.format(cluster=joiner.join(levels))
        if head.lower() in ("hetero", "hc1", "hc2", "hc3", "robust"):
            return label("notes", f"{kind}_robust", style)
    return label("notes", f"{kind}_iid", style)


def _stars_note(style: TableStyle) -> str:
    ordered = sorted(style.stars, key=lambda s: -s[0])  # 10%, 5%, 1% as Chinese journals print
    sep = label("notes", "star_sep", style)
    symbols = sep.join(s for _, s in ordered)
    levels = sep.join(f"{fmt_pct(level)}%" for level, _ in ordered)
    return label("notes", "stars", style).format(stars=symbols, levels=levels)


def fmt_pct(level: float) -> str:
    """0.1 -> '10', 0.05 -> '5', 0.001 -> '0.1' (no float noise such as 10.000000000000002)."""
    return format(Decimal(repr(level)) * 100, "f").rstrip("0").rstrip(".")


def _notes(style: TableStyle, auto: list[str]) -> list[str]:
    if style.notes is None:
        return auto
    if isinstance(style.notes, str):
        return [style.notes] if style.notes else []
    return [str(n) for n in style.notes]


def _regression_header(df: pd.DataFrame, models: list[_Model], style: TableStyle) -> list[list[_Cell]]:
    """Column groups, model names, column titles, IV stages and dependent variables, top to bottom."""
    blank = _Cell("")
    header: list[list[_Cell]] = []
    if style.column_groups:
        total = sum(n for _, n in style.column_groups)
        if total != len(models):
            raise InputError(
                f"TableStyle.column_groups spans {total} columns but the table has {len(models)} models"
            )
        header.append([blank] + [_Cell(label("groups", g, style), span=n) for g, n in style.column_groups])
    header.append([_Cell(label("rows", "variable", style))] + [_Cell(m.name) for m in models])
    titles = _column_titles(models, style)
    if titles is not None:
        header.append([blank] + [_Cell(t) for t in titles])
    if "stage" in df.columns:
        stages = [_info_text(m, "stage") for m in models]
        if any(stages):
            header.append([blank] + [_Cell(label("stages", s, style) if s else "") for s in stages])
    header.append([blank] + [_Cell(label("variables", _info_text(m, "depvar"), style)) for m in models])
    return header


def _coefficient_rows(models: list[_Model], terms: list[str], style: TableStyle) -> list[list[_Cell]]:
    """Per term: the estimate with its stars, then its SE or t in parentheses."""
    blank = _Cell("")
    body: list[list[_Cell]] = []
    paren_col = "std_error" if style.paren == "se" else "t_value"
    for term in terms:
        coef_row = [_Cell(label("variables", term, style))]
        paren_row = [blank]
        for m in models:
            r = m.coefs.get(term)
            if r is None or _is_missing(r.get("estimate")):
                coef_row.append(blank)
                paren_row.append(blank)
                continue
            digits = style.term_digits.get(term, style.digits)
            coef_row.append(_Cell(fmt_number(r["estimate"], digits), stars_for(r["p_value"], style.stars)))
            p = fmt_number(r.get(paren_col), digits)
            paren_row.append(_Cell(f"({p})" if p else ""))
        body += [coef_row, paren_row]
    return body


def _statistic_rows(models: list[_Model], style: TableStyle) -> list[list[_Cell]]:
    """Controls, fixed-effect indicators, N, within R², clusters and model-level ``stat:`` rows; rows no model
    fills are left out."""
    fe_sets = _fe_sets(models)
    fe_rows = _fe_rows(fe_sets, style)
    body: list[list[_Cell]] = []
    for key in _stat_keys(models, style):
        if key == "fe":
            yes, no = _yes_no(style)
            for fe in fe_rows:
                cells = [yes if fe in fes else no for fes in fe_sets]
                body.append([_Cell(label("fixed_effects", fe, style))] + [_Cell(c) for c in cells])
            continue
        if key == "controls" and not any(_info_text(m, "controls") for m in models):
            continue
        cells = [_stat_cell(m, key, style) for m in models]
        if not any(cells):  # e.g. within R² of pooled OLS only, or a stat no model reports
            continue
        body.append([_Cell(label("rows", key, style))] + [_Cell(c) for c in cells])
    return body


def _regression_grid(df: pd.DataFrame, style: TableStyle) -> _Grid:
    models = _models(df)
    terms = _terms(models, style)
    header = _regression_header(df, models, style)
    body = _coefficient_rows(models, terms, style)
    stat_rows = _statistic_rows(models, style)
    rule_before: set[int] = {len(body)} if stat_rows and body else set()
    body += stat_rows

    auto = [
        label("notes", "prefix", style)
        + _stars_note(style)
        + label("notes", "clause_sep", style)
        + _vcov_note(models, style)
        + label("notes", "end", style)
    ]
    return _Grid(header, body, rule_before, _title(style), _notes(style, auto))


# ----------------------------------------------------------------------------------------------
# Descriptive, keyword and generic grids
# ----------------------------------------------------------------------------------------------


def _descriptive_grid(df: pd.DataFrame, style: TableStyle) -> _Grid:
    cols = ["variable", "n", "mean", "sd", "min", "max"]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(f"descriptive table lacks columns {missing}", hint=f"expected columns {cols}")
    header = [[_Cell(label("columns", c, style)) for c in cols]]
    body = [
        [_Cell(label("variables", str(r["variable"]), style)), _Cell(fmt_count(r["n"], style.thousands))]
        + [_Cell(fmt_number(r[c], style.digits)) for c in ("mean", "sd", "min", "max")]
        for _, r in df.iterrows()
    ]
    return _Grid(header, body, set(), _title(style), _notes(style, []))


def _keywords_grid(categories: Mapping[str, Sequence[str]], style: TableStyle) -> _Grid:
    # categories come already loaded and validated (intelcap.measures.text.load_keywords, or Table 7's CSV)
    sep = "、" if style.lang == "zh" else ", "
    header = [[_Cell(label("columns", "category", style)), _Cell(label("columns", "keywords", style))]]
    body = [
        [_Cell(label("keyword_categories", str(cat), style)), _Cell(sep.join(str(w) for w in words))]
        for cat, words in categories.items()
    ]
    return _Grid(header, body, set(), _title(style), _notes(style, []), align="lL")


def _frame_cell(v: Any, style: TableStyle) -> str:
    if _is_missing(v):
        return ""
    kind = getattr(getattr(v, "dtype", None), "kind", "")
    if isinstance(v, bool) or kind == "b":
        return _yes_no(style)[0 if v else 1]
    if isinstance(v, int) or kind in ("i", "u"):
        return fmt_count(v, style.thousands)
    if isinstance(v, float):
        return fmt_number(v, style.digits)
    return str(v)


def _frame_grid(df: pd.DataFrame, style: TableStyle) -> _Grid:
    header = [[_Cell(style.labels.get(str(c), str(c))) for c in df.columns]]
    body = [[_Cell(_frame_cell(v, style)) for v in row] for row in df.itertuples(index=False, name=None)]
    return _Grid(header, body, set(), _title(style), _notes(style, []))


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
    # Characters the default fonts may lack: spell them with LaTeX commands.
    "²": r"\textsuperscript{2}",
    "×": r"\texttimes{}",
    "–": "--",
    "—": "---",
}
_TEX_RE = re.compile("|".join(re.escape(k) for k in _TEX_SPECIALS))
_CJK_RE = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
_TITLE_RE = re.compile(r"^(?:表\s*|Table\s+)([A-Z]?\d+)[\s\u3000.:：]*(.*)$")


def latex_escape(s: str) -> str:
    """Escape LaTeX specials in one pass (so the backslash of \\& is not escaped again)."""
    return _TEX_RE.sub(lambda m: _TEX_SPECIALS[m.group(0)], s)


def _tex_cell(c: _Cell) -> str:
    text = latex_escape(c.text)
    if c.stars:
        text += r"\sym{" + c.stars + "}"
    return text


def _tex_caption(title: str) -> list[str]:
    m = _TITLE_RE.match(title)
    if m:
        # Keep the paper's number (表 2 / Table A1) whatever the document's table counter says.
        return [r"\renewcommand{\thetable}{" + latex_escape(m.group(1)) + "}",
                r"\caption{" + latex_escape(m.group(2)) + "}"]
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


def _grid_latex(g: _Grid, stats_rule: bool = True) -> str:
    n = g.ncols
    out = [
        "% Generated by intelcap.outputs.tables; \\sym gives esttab-style superscript stars.",
        r"\providecommand{\sym}[1]{\ensuremath{^{#1}}}",
        r"\begin{table}[htbp]",
        r"\centering",
    ]
    if g.title:
        out += _tex_caption(g.title)
    spec = {"l": "l", "c": "c", "L": r">{\raggedright\arraybackslash}p{0.7\linewidth}"}
    out.append(r"\begin{tabular}{" + "".join(spec[g.col_align(i)] for i in range(n)) + "}")
    out.append(r"\toprule")
    for r in g.header:
        out += _tex_header_row(r)
    out.append(r"\midrule")
    for i, r in enumerate(g.body):
        if stats_rule and i in g.rule_before:
            out.append(r"\midrule")
        out.append(" & ".join(_tex_cell(c) for c in r) + r" \\")
    out.append(r"\bottomrule")
    out.append(r"\end{tabular}")
    if g.notes:
        out.append(r"\par\smallskip")
        out.append(
            r"\parbox{\linewidth}{\footnotesize " + r"\\ ".join(latex_escape(x) for x in g.notes) + "}"
        )
    out.append(r"\end{table}")
    return "\n".join(out) + "\n"


def latex_document(body: str, lang: Lang = "zh") -> str:
    """A standalone compilable document around table bodies: ctexart + xelatex for zh, article for en.

    An English document that still contains CJK text (column titles, keywords) loads ctex too, so it
    must also be compiled with xelatex.
    """
    wide = max((line.count("&") for line in body.splitlines()), default=0) > 7
    if lang == "zh":
        head = [r"\documentclass[UTF8,zihao=5]{ctexart}"]
    else:
        head = [r"\documentclass[10pt]{article}"]
        if _CJK_RE.search(body):
            head.append(r"\usepackage[UTF8,scheme=plain]{ctex}")
    geometry = "a4paper,margin=2cm" + (",landscape" if wide else "")
    head += [
        r"\usepackage{booktabs}",
        r"\usepackage{array}",
        r"\usepackage[" + geometry + "]{geometry}",
        r"\usepackage{textcomp}",
        r"\providecommand{\sym}[1]{\ensuremath{^{#1}}}",
        r"\begin{document}",
    ]
    return "\n".join(head) + "\n" + body.rstrip("\n") + "\n" + r"\end{document}" + "\n"


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


# ----------------------------------------------------------------------------------------------
# Public renderers
# ----------------------------------------------------------------------------------------------

_DEFAULT_STYLE = TableStyle()


def regression_markdown(df: pd.DataFrame, style: TableStyle = _DEFAULT_STYLE) -> str:
    return _grid_markdown(_regression_grid(df, style))


def regression_latex(df: pd.DataFrame, style: TableStyle = _DEFAULT_STYLE) -> str:
    return _grid_latex(_regression_grid(df, style), style.stats_rule)


def regression_docx(df: pd.DataFrame, style: TableStyle = _DEFAULT_STYLE) -> bytes:
    return _grid_docx(_regression_grid(df, style), style.stats_rule)


def descriptive_markdown(df: pd.DataFrame, style: TableStyle = _DEFAULT_STYLE) -> str:
    return _grid_markdown(_descriptive_grid(df, style))


def descriptive_latex(df: pd.DataFrame, style: TableStyle = _DEFAULT_STYLE) -> str:
    return _grid_latex(_descriptive_grid(df, style))


def descriptive_docx(df: pd.DataFrame, style: TableStyle = _DEFAULT_STYLE) -> bytes:
    return _grid_docx(_descriptive_grid(df, style))


def keywords_markdown(categories: Mapping[str, Sequence[str]], style: TableStyle = _DEFAULT_STYLE) -> str:
    return _grid_markdown(_keywords_grid(categories, style))


def keywords_latex(categories: Mapping[str, Sequence[str]], style: TableStyle = _DEFAULT_STYLE) -> str:
    return _grid_latex(_keywords_grid(categories, style))


def keywords_docx(categories: Mapping[str, Sequence[str]], style: TableStyle = _DEFAULT_STYLE) -> bytes:
    return _grid_docx(_keywords_grid(categories, style))


def frame_markdown(df: pd.DataFrame, style: TableStyle = _DEFAULT_STYLE) -> str:
    return _grid_markdown(_frame_grid(df, style))


def frame_latex(df: pd.DataFrame, style: TableStyle = _DEFAULT_STYLE) -> str:
    return _grid_latex(_frame_grid(df, style))


def frame_docx(df: pd.DataFrame, style: TableStyle = _DEFAULT_STYLE) -> bytes:
    return _grid_docx(_frame_grid(df, style))


_RENDERERS = {
    "regression": (regression_markdown, regression_latex, regression_docx),
    "descriptive": (descriptive_markdown, descriptive_latex, descriptive_docx),
    "keywords": (keywords_markdown, keywords_latex, keywords_docx),
    "frame": (frame_markdown, frame_latex, frame_docx),
}


def write_table(
    kind: Literal["regression", "descriptive", "keywords", "frame"],
    df: pd.DataFrame | Mapping[str, Sequence[str]],
    outputs: Mapping[str, str | os.PathLike],
    style: TableStyle = _DEFAULT_STYLE,
    *,
    standalone_tex: bool = False,
) -> None:
    """Render ``df`` as ``kind`` into each of outputs {"md", "tex", "docx"} -> path, atomically.

    ``standalone_tex`` wraps the LaTeX in :func:`latex_document` (compilable on its own); the
    default writes the bare table float for ``\\input`` into a paper.
    """
    if kind not in _RENDERERS:
        raise InputError(f"unknown table kind {kind!r}", hint=f"one of {sorted(_RENDERERS)}")
    unknown = sorted(set(outputs) - {"md", "tex", "docx"})
    if unknown:
        raise InputError(f"unknown output formats {unknown}", hint="use keys md, tex, docx")
    md, tex, docx_ = _RENDERERS[kind]
    # Render everything before writing anything: a bad input must not leave a partial set of files.
    rendered: dict[str, str | bytes] = {}
    if "md" in outputs:
        rendered["md"] = md(df, style)  # type: ignore[arg-type]
    if "tex" in outputs:
        body = tex(df, style)  # type: ignore[arg-type]
        rendered["tex"] = latex_document(body, style.lang) if standalone_tex else body
    if "docx" in outputs:
        rendered["docx"] = docx_(df, style)  # type: ignore[arg-type]
    for fmt, content in rendered.items():
        if isinstance(content, bytes):
            write_bytes(outputs[fmt], content)
        else:
            write_text(outputs[fmt], content)
