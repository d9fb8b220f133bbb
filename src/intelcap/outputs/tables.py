"""Publication tables in the layout Stata users know from esttab/outreg2: Markdown, LaTeX and Word.

Every renderer first builds one format-neutral grid of cell texts (``_Grid``, `outputs.grid`); Markdown
(`outputs.grid`), LaTeX (`outputs.latex`) and docx (`outputs.word`) only differ in how they print that grid, so
a number can never read differently across formats. This module holds the display style, label lookup, number
formatting and the grid builders of each table kind.

Input contract (produced by the estimation code): a long frame with one row per model x term and
columns ``model, depvar, term, estimate, std_error, t_value, p_value, nobs, n_clusters, r2_within,
fixed_effects, vcov, controls, sample`` plus optional ``stage``, ``column_title`` and ``text``.
Rows whose term starts with ``stat:`` carry model-level statistics in ``estimate`` (or ``text``).
A table is a pandas DataFrame or `csvrows.Rows` (its CSV read without pandas, as the rendering jobs do):
`table_grid` turns a DataFrame into the same rows, and the grid builders read rows only, so this module
never imports pandas.

Display rules, chosen to match esttab:
- stars come from the unrounded ``p_value`` (p < 0.01 -> ***), never from displayed numbers;
- rounding is half away from zero on the value's shortest repr (what the CSV shows), so 0.0125
  prints 0.013 whatever its binary expansion; a rounded negative zero prints without its sign;
- counts get a thousands separator (10,130) unless ``TableStyle.thousands`` is False.

All outputs are deterministic: the same input gives the same bytes (docx included: fixed core
properties and fixed zip timestamps).
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Literal

from intelcap.atomic import write_bytes, write_text
from intelcap.errors import InputError
from intelcap.outputs.csvrows import Rows, as_rows
from intelcap.outputs.grid import _Cell, _Grid, _grid_markdown
from intelcap.outputs.labels import load_labels
from intelcap.outputs.latex import _grid_latex, latex_document
from intelcap.outputs.stars import STARS, stars_for
from intelcap.outputs.stars import is_missing as _is_missing
from intelcap.outputs.word import _grid_docx

if TYPE_CHECKING:  # the renderers take a DataFrame without importing pandas (a rendering job never loads it)
    import pandas as pd

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
    "write_table",
    "table_grid",
    "draw_grid",
    "stats_rule",
    "write_files",
    "layout_style",
]

Lang = Literal["zh", "en"]

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = (
    "model", "depvar", "term", "estimate", "std_error", "t_value", "p_value", "nobs", "n_clusters",
    "r2_within", "fixed_effects", "vcov", "controls", "sample",
)  # fmt: skip

# FE rows appear in this order unless TableStyle.fe_rows says otherwise; others follow by appearance.
_FE_ORDER = ("Stkcd", "year", "province^year", "industry^year")
_STAT_DIGITS_DEFAULT = {"stat:first_stage_F": 2, "stat:effective_F": 2}


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
    ``digits_by``: how a per-term override combines with ``digits`` (one rule for every table):
    "column" (default) = each column prints all its coefficients and SEs with the same decimals, the
    table's ``digits`` raised to the largest override among the terms it shows (so ``0.2767`` never sits in a
    3-decimal column); "term" = the override applies to that term's rows only.
    ``keep`` (esttab keep()): exactly these terms, in this order; ``drop`` (esttab drop()): terms not shown,
    e.g. the controls, which the "controls" row then summarises as an indicator (esttab indicate()).
    ``indicate``: further indicator rows, {row label key: terms}: "yes" in a model that has any of the terms.
    Statistic rows (``stat_rows``): "controls", "fe", "nobs", "r2" (R² of pooled models), "r2_within" (FE
    models), "r2_overall" (R² with the FE, FE models), "n_clusters", an ``indicate`` key, any ``stat:`` term,
    and "stats" = every ``stat:`` term not listed elsewhere, in order of first appearance.
    """

    lang: Lang = "zh"
    paren: Literal["se", "t"] = "se"
    digits: int = 3
    stars: tuple[tuple[float, str], ...] = STARS
    keep: Sequence[str] | None = None
    drop: Sequence[str] = ()
    indicate: Mapping[str, Sequence[str]] = field(default_factory=dict)
    digits_by: Literal["column", "term"] = "column"
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
    # plain result tables (frame kind): the `frames.<frame>` entry of labels.yaml translates headers and cells
    frame: str | None = None

    def __post_init__(self) -> None:
        if self.lang not in ("zh", "en"):
            raise InputError(f"TableStyle.lang must be 'zh' or 'en', got {self.lang!r}")
        if self.paren not in ("se", "t"):
            raise InputError(f"TableStyle.paren must be 'se' or 't', got {self.paren!r}")
        if self.digits < 0 or self.r2_digits < 0:
            raise InputError("TableStyle digits must be >= 0")
        if self.digits_by not in ("column", "term"):
            raise InputError(f"TableStyle.digits_by must be 'column' or 'term', got {self.digits_by!r}")


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
# Layouts from config `output` (esttab keep()/drop()/indicate())
# ----------------------------------------------------------------------------------------------

LAYOUT_KEYS = ("keep", "drop", "order", "stats", "digits", "term_digits", "digits_by", "indicate")
# In drop/indicate lists, this word stands for the config `controls` list.
CONTROLS_TOKEN = "controls"


def layout_style(table: str, output: Mapping[str, Any], controls: Sequence[str] = ()) -> dict[str, Any]:
    """TableStyle keyword arguments of `table` under config `output`.

    The layout is `output.tables.<table>.layout` if set, else `output.layout`; its entries come from
    `output.layouts.<layout>.default`, then `output.layouts.<layout>.<table>`, then `output.tables.<table>`,
    each non-null key overriding the one before. In `drop` and `indicate`, the word "controls" stands for
    the config `controls` list (the paper's "控制变量 是" row summarises them)."""
    own = dict((output.get("tables") or {}).get(table) or {})
    name = own.pop("layout", None) or output.get("layout", "paper")
    layouts = output.get("layouts") or {}
    if name not in layouts:
        raise InputError(
            f"table layout {name!r} is not defined",
            hint=f"config key output.layout (or output.tables.{table}.layout) must be one of "
            f"{sorted(layouts)}, the entries of output.layouts",
        )
    merged: dict[str, Any] = {}
    for where, entry in (
        (f"output.layouts.{name}.default", layouts[name].get("default")),
        (f"output.layouts.{name}.{table}", layouts[name].get(table)),
        (f"output.tables.{table}", own),
    ):
        # validate() fills `layout: null` into every entry; only output.tables.<table> may set it
        unknown = sorted(set(entry or {}) - set(LAYOUT_KEYS) - {"layout"})
        if (entry or {}).get("layout") is not None and entry is not own:
            unknown.append("layout")
        if unknown:
            raise InputError(f"config key {where} has unknown entries {unknown}", hint=f"use {LAYOUT_KEYS}")
        merged.update({k: v for k, v in (entry or {}).items() if v is not None})

    def expand(terms: Sequence[str]) -> list[str]:
        out: list[str] = []
        for t in terms:
            out += list(controls) if t == CONTROLS_TOKEN else [str(t)]
        return list(dict.fromkeys(out))

    kw: dict[str, Any] = {}
    if "keep" in merged:
        kw["keep"] = [str(t) for t in merged["keep"]]
    if "drop" in merged:
        kw["drop"] = expand(merged["drop"])
    if "order" in merged:
        kw["order"] = [str(t) for t in merged["order"]]
    if "stats" in merged:
        kw["stat_rows"] = [str(k) for k in merged["stats"]]
    if "digits" in merged:
        kw["digits"] = int(merged["digits"])
    if "term_digits" in merged:
        kw["term_digits"] = {str(k): int(v) for k, v in merged["term_digits"].items()}
    if "digits_by" in merged:
        kw["digits_by"] = str(merged["digits_by"])
    if "indicate" in merged:
        kw["indicate"] = {str(k): expand(v) for k, v in merged["indicate"].items()}
    return kw


# ----------------------------------------------------------------------------------------------
# Number formatting
# ----------------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------------
# Regression tables
# ----------------------------------------------------------------------------------------------


@dataclass
class _Model:
    name: str
    info: dict[str, Any]
    coefs: dict[str, dict[str, Any]]
    stats: dict[str, dict[str, Any]]


def _models(table: Rows) -> list[_Model]:
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(
            f"regression table lacks columns {missing}",
            file=table.source,
            hint="pass the long format: one row per model x term (see intelcap.outputs.tables docstring)",
        )
    if not table.rows:
        raise InputError("regression table is empty", file=table.source)
    unnamed = [i for i, r in enumerate(table.rows) if _is_missing(r["model"]) or _is_missing(r["term"])]
    if unnamed:
        raise InputError(
            "regression table has rows without a model or a term",
            file=table.source,
            rows=unnamed,
            hint="every row names its model and term",
        )
    counts: dict[tuple[Any, Any], int] = {}
    for r in table.rows:
        counts[r["model"], r["term"]] = counts.get((r["model"], r["term"]), 0) + 1
    if any(n > 1 for n in counts.values()):
        raise InputError(
            "regression table has duplicated model x term rows",
            file=table.source,
            rows=[(r["model"], r["term"]) for r in table.rows if counts[r["model"], r["term"]] > 1],
            hint="each model must list each term once",
        )
    by_model: dict[Any, list[dict[str, Any]]] = {}
    for r in table.rows:  # models in order of first appearance
        by_model.setdefault(r["model"], []).append(r)
    models: list[_Model] = []
    for name, sub in by_model.items():
        coef_rows = [r for r in sub if not str(r["term"]).startswith("stat:")]
        # Model-level fields come from a coefficient row: stat rows may leave them empty.
        info_row = (coef_rows or sub)[0]
        models.append(
            _Model(
                name=str(name),
                info=info_row,
                coefs={str(r["term"]): r for r in coef_rows},
                stats={str(r["term"]): r for r in sub if str(r["term"]).startswith("stat:")},
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
            where = f"config key output.tables.{style.title}.keep" if style.title else "TableStyle.keep"
            raise InputError(
                f"{where} names terms absent from every model: {unknown}",
                hint=f"terms present: {present}; remove the others from {where}",
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
    # drop() names terms a table may lack (Table 2's column (1) has no controls): absent ones are no error.
    dropped = set(style.drop) | {t for ts in style.indicate.values() for t in ts}
    return [t for t in terms if t not in dropped]


def _column_digits(models: list[_Model], terms: list[str], style: TableStyle) -> list[int]:
    """Decimals of each column under the "column" rule: the table's digits raised to the largest per-term
    override among the terms the column shows."""
    out = []
    for m in models:
        shown = [style.term_digits[t] for t in terms if t in style.term_digits and t in m.coefs]
        out.append(max([style.digits, *shown]))
    return out


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
            if k not in extra and k not in NOTE_STATS:
                extra.append(k)
    return ["controls", *style.indicate, "fe", "nobs", "r2", "r2_within", "n_clusters", *extra]


def _expand_stat_keys(keys: list[str], models: list[_Model]) -> list[str]:
    """The key "stats" stands for every model-level ``stat:`` row not named elsewhere in the list."""
    if "stats" not in keys:
        return keys
    named = set(keys)
    rest: list[str] = []
    for m in models:
        rest += [k for k in m.stats if k not in named and k not in NOTE_STATS and k not in rest]
    i = keys.index("stats")
    return keys[:i] + rest + [k for k in keys[i + 1 :] if k != "stats"]


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
    has_fe = bool(_info_text(m, "fixed_effects").strip())
    if key == "r2_within":
        return fmt_number(m.info.get("r2_within"), style.r2_digits) if has_fe else ""
    if key in ("r2", "r2_overall"):
        # R² of a pooled model; with FE, the R² including the FE ("overall") has its own row.
        return fmt_number(m.info.get("r2"), style.r2_digits) if has_fe == (key == "r2_overall") else ""
    if key in style.indicate:
        return yes if any(t in m.coefs for t in style.indicate[key]) else no
    row = m.stats.get(key)
    if row is None:
        return ""
    text = row.get("text")
    if not _is_missing(text) and str(text) != "":
        return _stat_text(key, str(text), style)
    return fmt_number(row.get("estimate"), style.stat_digits.get(key, style.digits))


_AR_KIND = re.compile(r"^(?P<set>.*?)\s*\((?P<kind>[A-Za-z_ -]+)\)$")


def _stat_text(key: str, text: str, style: TableStyle) -> str:
    """Text-valued stats in the table's language: the AR set's "(bounded)" and "empty" come from the
    estimation in English (`stat_texts` in labels.yaml translates them)."""
    if key != "stat:ar_ci":
        return text
    m = _AR_KIND.match(text)
    body, kind = (m.group("set"), m.group("kind")) if m else (text, None)
    if body == "empty":
        body = label("stat_texts", "empty", style)
    body = body.replace("-inf", "−∞").replace("+inf", "+∞")
    if kind is None:
        return body
    kind_text = label("stat_texts", kind, style)
    return f"{body}（{kind_text}）" if style.lang == "zh" else f"{body} ({kind_text})"


def _column_titles(models: list[_Model], style: TableStyle) -> list[str] | None:
    titles = [_info_text(m, "column_title") for m in models]
    if any(titles):
        # titles the estimation writes in English (Table 8 variants) through labels `column_titles`; a
        # title from the user's config matches no pattern and prints as written
        patterns = load_labels(style.labels_path).get("column_titles") or []
        return [(_translate_pattern(patterns, t, style) or t) if t else t for t in titles]
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


# Model-level stat rows printed as notes under the table, not as footer rows: their text is a sentence, and
# a warning must show whatever notes the style chose. The prefix is labels.yaml's notes.<name> if present.
NOTE_STATS = {"stat:degenerate": {"zh": "警告（退化估计）：", "en": "Warning (degenerate estimate): "}}


def _stat_notes(models: list[_Model], style: TableStyle) -> list[str]:
    out = []
    for key, prefix in NOTE_STATS.items():
        head = label("notes", key.split(":", 1)[1], style, default=prefix.get(style.lang, prefix["en"]))
        for m in models:
            row = m.stats.get(key)
            text = None if row is None else row.get("text")
            if text is not None and not _is_missing(text) and str(text):
                out.append(f"{head}{_note_text(key, str(text), style)}")
    return out


# the estimation joins one message per variable with "; " (a message's own hint may contain "; ")
_NOTE_SPLIT = re.compile(r"; (?=\S+ (?:is constant|has no variation))")


def _note_text(key: str, text: str, style: TableStyle) -> str:
    """A warning written by the estimation in English, in the table's language: each message through the
    patterns of labels section `note_texts.<stat name>` (kept as written, and logged, without a match)."""
    patterns = ((load_labels(style.labels_path).get("note_texts") or {}).get(key.split(":", 1)[1])) or []
    parts = []
    for msg in _NOTE_SPLIT.split(text):
        got = _translate_pattern(patterns, msg, style)
        if got is None:
            log.warning(
                "labels note_texts.%s has no pattern for %r (kept as it is)", key.split(":", 1)[1], msg
            )
        parts.append(msg if got is None else got)
    return label("notes", "clause_sep", style).join(parts) if parts else text


def _notes(style: TableStyle, auto: list[str], models: list[_Model] | None = None) -> list[str]:
    warn = _stat_notes(models, style) if models else []
    if style.notes is None:
        return auto + warn
    if isinstance(style.notes, str):
        return ([style.notes] if style.notes else []) + warn
    return [str(n) for n in style.notes] + warn


def _regression_header(table: Rows, models: list[_Model], style: TableStyle) -> list[list[_Cell]]:
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
    if "stage" in table.columns:
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
    col_digits = _column_digits(models, terms, style)
    for term in terms:
        coef_row = [_Cell(label("variables", term, style))]
        paren_row = [blank]
        for m, m_digits in zip(models, col_digits, strict=True):
            r = m.coefs.get(term)
            if r is None or _is_missing(r.get("estimate")):
                coef_row.append(blank)
                paren_row.append(blank)
                continue
            digits = m_digits if style.digits_by == "column" else style.term_digits.get(term, style.digits)
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
    for key in _expand_stat_keys(_stat_keys(models, style), models):
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


def _regression_grid(table: Rows, style: TableStyle) -> _Grid:
    models = _models(table)
    terms = _terms(models, style)
    header = _regression_header(table, models, style)
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
    return _Grid(header, body, rule_before, _title(style), _notes(style, auto, models))


# ----------------------------------------------------------------------------------------------
# Descriptive, keyword and generic grids
# ----------------------------------------------------------------------------------------------


def _descriptive_grid(table: Rows, style: TableStyle) -> _Grid:
    cols = ["variable", "n", "mean", "sd", "min", "max"]
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise InputError(
            f"descriptive table lacks columns {missing}", file=table.source, hint=f"expected columns {cols}"
        )
    header = [[_Cell(label("columns", c, style)) for c in cols]]
    body = [
        [_Cell(label("variables", str(r["variable"]), style)), _Cell(fmt_count(r["n"], style.thousands))]
        + [_Cell(fmt_number(r[c], style.digits)) for c in ("mean", "sd", "min", "max")]
        for r in table.rows
    ]
    return _Grid(header, body, set(), _title(style), _notes(style, []))


# Marks of a keyword's origin in Table 7 (keyword_expansion.curated_spec); the paper's own words are unmarked.
_ORIGIN_MARKS = {"paper": "", "seed": "*", "expanded": "†", "hand": "‡"}
_ORIGIN_NOTES = {
    "zh": {"seed": "* 种子词", "expanded": "† 词向量扩展后经人工审核保留", "hand": "‡ 人工添加"},
    "en": {
        "seed": "* seed word",
        "expanded": "† from the word-vector expansion, kept on review",
        "hand": "‡ added by hand",
    },
}


def _keywords_grid(categories: Mapping[str, Sequence[Any]], style: TableStyle) -> _Grid:
    # categories come already loaded and validated (intelcap.measures.text.load_keywords, or Table 7's CSV);
    # a keyword may be a (keyword, origin) pair (origin: paper, seed, expanded, hand), marked after the word
    sep = "、" if style.lang == "zh" else ", "
    header = [[_Cell(label("columns", "category", style)), _Cell(label("columns", "keywords", style))]]
    used: list[str] = []

    def mark(w: Any) -> str:
        if isinstance(w, str):
            return w
        word, origin = w
        if origin not in _ORIGIN_MARKS:
            raise ValueError(f"keyword {word!r}: unknown origin {origin!r} (one of {sorted(_ORIGIN_MARKS)})")
        if origin != "paper" and origin not in used:
            used.append(origin)
        return f"{word}{_ORIGIN_MARKS[origin]}"

    body = [
        [_Cell(label("keyword_categories", str(cat), style)), _Cell(sep.join(mark(w) for w in words))]
        for cat, words in categories.items()
    ]
    notes_of = _ORIGIN_NOTES["zh" if style.lang == "zh" else "en"]
    auto = (
        [("；" if style.lang == "zh" else "; ").join(notes_of[o] for o in ORIGIN_ORDER if o in used)]
        if used
        else []
    )
    return _Grid(header, body, set(), _title(style), _notes(style, auto), align="lL")


ORIGIN_ORDER = ("seed", "expanded", "hand")


def _frame_cell(v: Any, style: TableStyle) -> str:
    # Python scalars (csvrows, or a DataFrame's records); numpy scalars by their dtype kind
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


def _frame_spec(style: TableStyle) -> dict:
    if style.frame is None:
        return {}
    spec = (load_labels(style.labels_path).get("frames") or {}).get(style.frame)
    if spec is None:
        log.warning(
            "labels file has no frames.%s entry: table %s prints its raw column names",
            style.frame,
            style.frame,
        )
        return {}
    return spec


def _translate_pattern(patterns: Sequence[Mapping[str, str]], text: str, style: TableStyle) -> str | None:
    for p in patterns:
        m = re.fullmatch(str(p["match"]), text)
        if m:
            tmpl = str(p.get(style.lang, p.get("en", "{0}")))
            groups = {k: v or "" for k, v in m.groupdict().items()}
            if "fe" in groups:  # a group named fe lists fixed effects "a+b": each by its label
                joiner = "、" if style.lang == "zh" else ", "
                groups["fe"] = joiner.join(label("fixed_effects", f, style) for f in groups["fe"].split("+"))
            sections = load_labels(style.labels_path)
            for k, v in groups.items():  # a group named after a labels section prints that section's label
                if k != "fe" and isinstance(sections.get(k), Mapping):
                    groups[k] = label(k, v, style)
            return tmpl.format(m.group(0), **groups)
    return None


def _frame_value(text: str, section: str, style: TableStyle) -> str:
    """A cell of a frame column translated through labels section `section` (a mapping, or a list of
    {match, zh, en} patterns); untranslatable cells keep their text and are logged."""
    entries = load_labels(style.labels_path).get(section)
    if isinstance(entries, list):
        out = _translate_pattern(entries, text, style)
    else:
        out = label(section, text, style, default="\0") if section else text
        out = None if out == "\0" else out
    if out is None:
        log.warning("labels section %s has no entry for %r (kept as it is)", section, text)
        return text
    return out


def _frame_grid(table: Rows, style: TableStyle) -> _Grid:
    spec = _frame_spec(style)
    columns = spec.get("columns") or {}
    values = spec.get("values") or {}
    header_cells = []
    for c in table.columns:
        c = str(c)
        entry = columns.get(c)
        if c in style.labels:
            text = style.labels[c]
        elif isinstance(entry, Mapping):
            text = str(entry.get(style.lang, entry.get("en", c)))
        else:
            text = c if entry is None else str(entry)
            if entry is None and spec:
                log.warning("labels frames.%s.columns has no entry for column %r", style.frame, c)
        header_cells.append(_Cell(text))
    body = []
    for row in table.rows:
        cells = []
        for c in table.columns:
            text = _frame_cell(row[c], style)
            if str(c) in values and text:
                text = _frame_value(text, str(values[c]), style)
            cells.append(_Cell(text))
        body.append(cells)
    return _Grid([header_cells], body, set(), _title(style), _notes(style, []))


# ----------------------------------------------------------------------------------------------
# Public renderers
# ----------------------------------------------------------------------------------------------

_DEFAULT_STYLE = TableStyle()


GRID_BUILDERS = {
    "regression": _regression_grid,
    "descriptive": _descriptive_grid,
    "keywords": _keywords_grid,
    "frame": _frame_grid,
}
FORMATS = ("md", "tex", "docx")


def table_grid(kind: str, data: Any, style: TableStyle = _DEFAULT_STYLE) -> _Grid:
    """The format-neutral grid of a table (`kind`: regression, descriptive, keywords, frame) that every
    renderer (md, tex, docx, html) draws. `data`: the keyword categories for "keywords"; else a pandas
    DataFrame or `csvrows.Rows` (a result CSV read without pandas), the builders reading it as records."""
    if kind not in GRID_BUILDERS:
        raise ValueError(f"unknown table kind {kind!r}: one of {sorted(GRID_BUILDERS)}")
    return GRID_BUILDERS[kind](data if kind == "keywords" else as_rows(data), style)


def stats_rule(kind: str, style: TableStyle) -> bool:
    """Whether the rule above a table's statistics rows is drawn: `TableStyle.stats_rule` for a regression
    table; always for the other kinds."""
    return style.stats_rule if kind == "regression" else True


def draw_grid(
    grid: _Grid,
    kind: str,
    formats: Collection[str],
    style: TableStyle = _DEFAULT_STYLE,
    *,
    standalone_tex: bool = False,
) -> dict[str, str | bytes]:
    """`grid` (of a `kind` table, `table_grid`) drawn in each of `formats` (md, tex, docx), by format: a job
    builds a table's grid once for all its files. ``standalone_tex`` wraps the LaTeX in `latex_document`."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise InputError(f"unknown output formats {unknown}", hint="use keys md, tex, docx")
    drawn: dict[str, str | bytes] = {}
    if "md" in formats:
        drawn["md"] = _grid_markdown(grid)
    if "tex" in formats:
        body = _grid_latex(grid, stats_rule(kind, style))
        drawn["tex"] = latex_document(body, style.lang) if standalone_tex else body
    if "docx" in formats:
        drawn["docx"] = _grid_docx(grid, stats_rule(kind, style))
    return drawn


def _renderers(kind: str) -> tuple[Callable[..., str], Callable[..., str], Callable[..., bytes]]:
    """The md, tex and docx renderers of a table kind: its grid (`table_grid`) drawn by each writer. A
    regression table's rule above the statistics rows follows `TableStyle.stats_rule`; other kinds draw it."""

    def markdown(data: Any, style: TableStyle = _DEFAULT_STYLE) -> str:
        return _grid_markdown(table_grid(kind, data, style))

    def latex(data: Any, style: TableStyle = _DEFAULT_STYLE) -> str:
        return _grid_latex(table_grid(kind, data, style), stats_rule(kind, style))

    def docx(data: Any, style: TableStyle = _DEFAULT_STYLE) -> bytes:
        return _grid_docx(table_grid(kind, data, style), stats_rule(kind, style))

    for f, fmt in ((markdown, "markdown"), (latex, "latex"), (docx, "docx")):
        f.__name__ = f.__qualname__ = f"{kind}_{fmt}"
        f.__doc__ = f"The {kind} table (`table_grid({kind!r}, data, style)`) as {fmt}."
    return markdown, latex, docx


_RENDERERS = {kind: _renderers(kind) for kind in GRID_BUILDERS}
regression_markdown, regression_latex, regression_docx = _RENDERERS["regression"]
descriptive_markdown, descriptive_latex, descriptive_docx = _RENDERERS["descriptive"]
keywords_markdown, keywords_latex, keywords_docx = _RENDERERS["keywords"]
frame_markdown, frame_latex, frame_docx = _RENDERERS["frame"]


def write_table(
    kind: Literal["regression", "descriptive", "keywords", "frame"],
    df: pd.DataFrame | Rows | Mapping[str, Sequence[str]],
    outputs: Mapping[str, str | os.PathLike],
    style: TableStyle = _DEFAULT_STYLE,
    *,
    standalone_tex: bool = False,
) -> None:
    """Render ``df`` as ``kind`` into each of outputs {"md", "tex", "docx"} -> path, atomically, all from one
    grid (`table_grid`).

    ``standalone_tex`` wraps the LaTeX in :func:`latex_document` (compilable on its own); the
    default writes the bare table float for ``\\input`` into a paper.
    """
    if kind not in GRID_BUILDERS:
        raise InputError(f"unknown table kind {kind!r}", hint=f"one of {sorted(GRID_BUILDERS)}")
    if not outputs:
        return
    # Render everything before writing anything (draw_grid refuses an unknown format): a bad input must not
    # leave a partial set of files.
    drawn = draw_grid(table_grid(kind, df, style), kind, outputs, style, standalone_tex=standalone_tex)
    write_files({outputs[fmt]: content for fmt, content in drawn.items()})


def write_files(files: Mapping[str | os.PathLike, str | bytes]) -> None:
    """Each path's text (UTF-8) or bytes, atomically: what a job writes once everything is rendered."""
    for path, content in files.items():
        if isinstance(content, bytes):
            write_bytes(path, content)
        else:
            write_text(path, content)
