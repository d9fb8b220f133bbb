"""Figures of the paper and of the replication report, in Chinese (zh) or English (en).

- Figure 1: the workflow's own rule graph, in :mod:`intelcap.outputs.rulegraph` (parsing and layout are a
  responsibility of their own); it draws with the style and saving helpers of this module.
- Figure 2: global annual industrial-robot installations 2011-2021 (IFR World Robotics 2022).
- Coefficient plot for Table 6, placebo histogram, specification curve and Monte Carlo coverage chart.

Every writer takes ``out_paths``: a mapping of format ("png", "pdf", "svg") to target path, and writes each
file atomically. Output is byte-deterministic: no timestamps or software versions in the metadata, a fixed
dpi, figure sizes that depend only on the data, and a fixed ``svg.hashsalt`` (SVG element ids are otherwise
random). Figures are built on ``matplotlib.figure.Figure`` directly, not pyplot, so no global figure state
or GUI backend is involved.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from intelcap.atomic import atomic_path
from intelcap.columns import STAT_COLUMNS
from intelcap.errors import InputError
from intelcap.resources import shipped

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DPI",
    "FORMATS",
    "coef_intervals",
    "figure_coefplot",
    "figure_coverage",
    "figure_installations",
    "figure_placebo",
    "figure_spec_curve",
    "figure_text_audit",
    "read_installations",
]

Lang = Literal["zh", "en"]
OutPaths = Mapping[str, str | os.PathLike]

DPI = 200
FORMATS = ("png", "pdf", "svg")

# Metadata that would otherwise embed a timestamp or the matplotlib version (which changes bytes across
# upgrades without any change in content). None removes the key.
_METADATA: dict[str, dict[str, None]] = {
    "png": {"Software": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
    "svg": {"Date": None, "Creator": None},
}

_BASE_RC: dict[str, Any] = {
    "svg.hashsalt": "intelcap",  # SVG clip-path/glyph ids are random unless salted
    "svg.fonttype": "path",  # glyphs as paths: the SVG renders without the font installed
    "pdf.fonttype": 42,  # TrueType text in PDFs: searchable, and CJK embeds as a subset
    "pdf.compression": 6,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.8,
    "legend.frameon": False,
    "legend.fontsize": 8,
}

_DEFAULT_INSTALLATIONS = shipped("ifr_global_installations.csv")

BAR_COLOR = "#3b6ea5"
POINT_COLOR = "#1f3b5a"
MUTED_COLOR = "#9aa7b4"
ACCENT_COLOR = "#c0392b"

# Display text, zh and en, one entry per key: a shipped data file, read on the first figure drawn.
_TEXT_FILE = "figure_text.yaml"
_LANGS = ("zh", "en")


_TEXT_HINT = "restore src/intelcap/data/figure_text.yaml from git, or reinstall intelcap (pip install .)"


@functools.cache
def _texts() -> dict[str, dict[str, str]]:
    return _read_texts(shipped(_TEXT_FILE))


def _read_texts(path: Path) -> dict[str, dict[str, str]]:
    """The entries of a figure text file, checked: a mapping of keys to exactly a zh and an en string."""
    from intelcap import yamlfile  # yaml loads with the first figure, not with this module

    data = yamlfile.read_file(path, "figure text file", _TEXT_HINT)
    if not isinstance(data, dict):
        raise InputError("figure text file must map text keys to {zh, en}", file=str(path), hint=_TEXT_HINT)
    bad = [
        str(k)
        for k, v in data.items()
        if not (isinstance(v, dict) and set(v) == set(_LANGS) and all(isinstance(x, str) for x in v.values()))
    ]
    if bad:
        raise InputError(
            f"figure text entries {bad} do not have exactly a zh and an en string",
            file=str(path),
            hint=_TEXT_HINT,
        )
    return data


def _has_text(key: str) -> bool:
    return key in _texts()


def _t(key: str, lang: Lang, **fmt: Any) -> str:
    try:
        text = _texts()[key][lang]
    except KeyError:
        raise InputError(
            f"figure text {key!r} is missing",
            file=str(shipped(_TEXT_FILE)),
            hint=f"add `{key}:` with zh and en strings to src/intelcap/data/figure_text.yaml; {_TEXT_HINT}",
        ) from None
    return text.format(**fmt) if fmt else text


def _check_lang(lang: str) -> Lang:
    if lang not in ("zh", "en"):
        raise InputError(
            f"unknown figure language {lang!r}",
            hint="set output.lang: zh or en in config/config.yaml (lang= in the library call)",
        )
    return lang  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------------------
# Style, fonts and deterministic saving
# ---------------------------------------------------------------------------------------------------------


def _use_cjk_font(lang: Lang) -> None:
    """Make the bundled CJK font the default. Chinese figures must not silently fall back to tofu boxes, so a
    missing font is an error for lang='zh'; English figures can do with matplotlib's DejaVu Sans."""
    try:
        from intelcap.outputs.fonts import use_cjk_in_matplotlib

        name = use_cjk_in_matplotlib()
        # Glyph fallback in matplotlib works across the *families* of font.family, not across the
        # font.sans-serif list that "sans-serif" resolves to (only its first hit is used). Listing DejaVu Sans
        # as a second family lets glyphs the subset lacks (space, β, −, ≈) fall back instead of going missing.
        mpl.rcParams["font.family"] = [name, "DejaVu Sans"]
    except (ImportError, FileNotFoundError, InputError) as exc:  # InputError: shipped font missing
        if lang == "zh":
            raise InputError(
                "Chinese figures need the bundled CJK font (intelcap.outputs.fonts)",
                hint=f"{exc}. Or set output.lang: en in config/config.yaml (lang='en' in the library call).",
            ) from exc


@contextlib.contextmanager
def _style(lang: Lang) -> Iterator[None]:
    # rc_context restores every rcParam on exit, including those use_cjk_in_matplotlib changes, so a figure
    # call never leaks settings into the caller's matplotlib state.
    with mpl.rc_context(_BASE_RC):
        _use_cjk_font(lang)
        yield


def _check_out_paths(out_paths: OutPaths) -> dict[str, Path]:
    if not out_paths:
        raise InputError("no output files given", hint=f"pass out_paths={{fmt: path}} with fmt in {FORMATS}")
    paths: dict[str, Path] = {}
    for fmt, path in out_paths.items():
        if fmt not in FORMATS:
            raise InputError(f"unsupported figure format {fmt!r}", hint=f"use one of {FORMATS}")
        paths[fmt] = Path(path)
    return paths


def _save(fig: Figure, out_paths: OutPaths) -> dict[str, Path]:
    """Write ``fig`` to every requested format atomically; return {fmt: path}."""
    paths = _check_out_paths(out_paths)
    for fmt in sorted(paths):
        with atomic_path(paths[fmt]) as tmp:
            # format= explicitly: the temporary file's suffix is ".tmp", not the format.
            fig.savefig(tmp, format=fmt, dpi=DPI, metadata=_METADATA[fmt])
    return paths


def _fmt_num(x: float, digits: int = 3) -> str:
    # Hyphen-minus, not U+2212: the bundled font has no MINUS SIGN (see intelcap.outputs.fonts).
    s = f"{x:.{digits}f}"
    return "0." + "0" * digits if s == "-0." + "0" * digits else s


# ---------------------------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------------------------


def _lookup(labels: Mapping[str, Any], section: str, key: str, lang: Lang) -> str | None:
    """labels.yaml entry, matching keys loosely (non_soe == non-SOE) because sample names come from config
    and from other modules with different spelling habits."""
    entries = labels.get(section) or {}

    def norm(s: str) -> str:
        return re.sub(r"[\s_\-]+", "-", str(s)).lower()

    entry = entries.get(key)
    if entry is None:
        by_norm = {norm(k): v for k, v in entries.items()}
        entry = by_norm.get(norm(key))
    if entry is None:
        return None
    if isinstance(entry, Mapping):
        value = entry.get(lang)
        return None if value is None else str(value)
    return str(entry)


# ---------------------------------------------------------------------------------------------------------
# Figure 2: global robot installations
# ---------------------------------------------------------------------------------------------------------

_INSTALL_COLUMNS = ("year", "installations", "vintage", "source", "note")


def read_installations(
    csv_path: str | os.PathLike = _DEFAULT_INSTALLATIONS, vintage: str = "WR2022"
) -> pd.DataFrame:
    """Rows of one vintage of config/ifr_global_installations.csv, sorted by year, validated."""
    import pandas as pd

    df = pd.read_csv(csv_path, dtype={"vintage": str, "source": str, "note": str}, keep_default_na=False)
    missing = [c for c in _INSTALL_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(
            f"missing columns {missing}", file=str(csv_path), hint=f"columns: {_INSTALL_COLUMNS}"
        )
    sub = df[df["vintage"] == vintage].copy()
    if sub.empty:
        raise InputError(
            f"no rows for vintage {vintage!r}",
            file=str(csv_path),
            column="vintage",
            hint=f"available: {sorted(df['vintage'].unique())}",
        )
    sub["year"] = pd.to_numeric(sub["year"], errors="raise").astype(int)
    sub["installations"] = pd.to_numeric(sub["installations"], errors="raise").astype(float)
    dup = sub.loc[sub["year"].duplicated(), "year"]
    if not dup.empty:
        raise InputError(f"duplicate years in vintage {vintage!r}", file=str(csv_path), rows=dup.tolist())
    bad = sub.loc[~(sub["installations"] > 0), "year"]
    if not bad.empty:
        raise InputError("installations must be positive unit counts", file=str(csv_path), rows=bad.tolist())
    return sub.sort_values("year").reset_index(drop=True)


def figure_installations(
    csv_path: str | os.PathLike,
    out_paths: OutPaths,
    lang: Lang = "zh",
    vintage: str = "WR2022",
    title: str | None = None,
    source: str | None = None,
) -> dict[str, Path]:
    """Figure 2: bar chart of global annual industrial-robot installations, labelled in thousand units.

    Thousand units (千台) rather than the paper's 万台 text: the WR2022 chart is in thousands, so no rounding
    is added. Title and source line sit below the plot, as in the paper. ``title``/``source`` override the
    defaults ("" hides them). Returns {fmt: path}.
    """
    lang = _check_lang(lang)
    df = read_installations(csv_path, vintage)
    years = df["year"].to_numpy()
    thousands = df["installations"].to_numpy() / 1000.0
    if title is None:
        title = _t("fig2_title", lang, y0=int(years[0]), y1=int(years[-1]))
    if source is None:
        key = f"fig2_source_{vintage}"
        source = _t(key, lang) if _has_text(key) else f"{_t('fig2_source_WR2022', lang)} ({vintage})"

    with _style(lang):
        fig = Figure(figsize=(6.4, 4.2))
        # Fixed margins (no tight/constrained layout): the title and source line sit outside the axes.
        ax = fig.add_axes((0.11, 0.24, 0.86, 0.70))
        x = np.arange(len(years))
        ax.bar(x, thousands, width=0.62, color=BAR_COLOR, zorder=2)
        top = float(thousands.max())
        # Values the source gives only as a bound or an approximation keep that qualifier on the bar.
        marks = [
            "≥" if n.lower().startswith("lower bound") else "≈" if n.lower().startswith("approx") else ""
            for n in df["note"].astype(str)
        ]
        for xi, v, mark in zip(x, thousands, marks, strict=True):
            ax.text(xi, v + top * 0.012, f"{mark}{v:.0f}", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(x, [str(y) for y in years])
        ax.set_ylim(0, top * 1.12)
        ax.set_xlim(-0.6, len(years) - 0.4)
        ax.set_ylabel(_t("fig2_ylabel", lang))
        ax.set_xlabel(_t("fig2_xlabel", lang))
        ax.yaxis.grid(True, color="#e3e6ea", linewidth=0.6, zorder=0)
        if source:
            fig.text(0.11, 0.085, source, ha="left", va="center", fontsize=8)
        if title:
            fig.text(0.5, 0.03, title, ha="center", va="center", fontsize=10)
        return _save(fig, out_paths)


# ---------------------------------------------------------------------------------------------------------
# Coefficient plot (Table 6)
# ---------------------------------------------------------------------------------------------------------


def _t_crit(df: float, level: float) -> float:
    """Two-sided critical value: t with ``df`` degrees of freedom, or normal if df is missing/infinite."""
    from intelcap import distributions  # scipy.special: only the interval plots pay its import

    q = 0.5 + level / 2
    if df is None or not np.isfinite(df) or df <= 0:
        return float(distributions.norm_ppf(q))
    return float(distributions.t_ppf(q, df))


def coef_intervals(long_df: pd.DataFrame, term: str = "lnINT", level: float = 0.95) -> pd.DataFrame:
    """One row per model for ``term``: estimate ± t_{G−1, (1+level)/2} · SE, G = number of clusters.

    G − 1 degrees of freedom is what Stata's reghdfe and pyfixest use for cluster-robust inference (the CSV's
    p-values are computed that way), so the interval matches the table's stars. Rows of a first IV stage are
    dropped (the plot is about the structural coefficient). Columns added: df, crit, ci_low, ci_high.
    """
    import pandas as pd

    need = ["model", "term", "estimate", "std_error"]
    missing = [c for c in need if c not in long_df.columns]
    if missing:
        raise InputError(f"long-format results lack columns {missing}")
    df = long_df[long_df["term"] == term].copy()
    if "stage" in df.columns:
        df = df[df["stage"].isna() | (df["stage"].astype(str) != "first")]
    if df.empty:
        raise InputError(f"no rows with term == {term!r}", column="term")
    g = pd.to_numeric(df["n_clusters"], errors="coerce") if "n_clusters" in df.columns else np.nan
    df["df"] = (g - 1).astype(float) if isinstance(g, pd.Series) else np.nan
    df["crit"] = [_t_crit(d, level) for d in df["df"]]
    df["ci_low"] = df["estimate"] - df["crit"] * df["std_error"]
    df["ci_high"] = df["estimate"] + df["crit"] * df["std_error"]
    return df.reset_index(drop=True)


def _model_label(row: pd.Series, labels: Mapping[str, Any], lang: Lang) -> str:
    text = None
    title = row.get("column_title")
    if isinstance(title, str) and title.strip():
        text = _lookup(labels, "samples", title, lang) or title
    elif isinstance(row.get("sample"), str) and row["sample"]:
        text = _lookup(labels, "samples", row["sample"], lang) or row["sample"]
    model = str(row["model"])
    return f"{model} {text}" if text and text != model else model


def figure_coefplot(
    long_df: pd.DataFrame,
    out_paths: OutPaths,
    lang: Lang = "zh",
    term: str = "lnINT",
    pooled: float | None = None,
    level: float = 0.95,
    title: str | None = None,
    labels_path: str | os.PathLike | None = None,
) -> dict[str, Path]:
    """Coefficient plot: one point per subsample model with its CI (see :func:`coef_intervals`), models top
    to bottom in table order, a dashed line at 0 and a solid line at the pooled estimate if given."""
    lang = _check_lang(lang)
    ci = coef_intervals(long_df, term=term, level=level)
    from intelcap.outputs.labels import load_labels  # coefplot only: the other figures have no labels

    labels = load_labels(labels_path)
    names = [_model_label(r, labels, lang) for _, r in ci.iterrows()]
    n = len(ci)
    y = np.arange(n)[::-1]
    pct = f"{level * 100:g}"
    with _style(lang):
        height = round(1.5 + 0.34 * n, 2)
        fig = Figure(figsize=(6.4, height))
        ax = fig.add_axes((0.30, 0.95 / height, 0.66, 1 - 1.55 / height))
        ax.axvline(0, color=MUTED_COLOR, linestyle="--", linewidth=0.8, zorder=1)
        if pooled is not None and np.isfinite(pooled):
            ax.axvline(
                pooled,
                color=ACCENT_COLOR,
                linewidth=1.0,
                zorder=1,
                label=_t("coef_pooled", lang, b=_fmt_num(pooled)),
            )
        ax.errorbar(
            ci["estimate"],
            y,
            xerr=[ci["estimate"] - ci["ci_low"], ci["ci_high"] - ci["estimate"]],
            fmt="o",
            color=POINT_COLOR,
            ecolor=POINT_COLOR,
            elinewidth=1.2,
            capsize=3,
            markersize=4,
            zorder=3,
            label=_t("coef_ci", lang, level=pct),
        )
        ax.set_yticks(y, names)
        ax.set_ylim(-0.7, n - 0.3)
        ax.set_xlabel(_t("coef_xlabel", lang, term=term))
        ax.xaxis.grid(True, color="#eceff2", linewidth=0.6, zorder=0)
        handles, texts = ax.get_legend_handles_labels()
        # Legend in the bottom margin (figure coordinates), below the x label, so it never hides a point.
        fig.legend(
            handles, texts, loc="lower center", bbox_to_anchor=(0.5, 0.08 / height), ncol=2, fontsize=7.5
        )
        if title is None:
            title = _t("coef_title", lang, term=term)
        if title:
            fig.text(0.5, 1 - 0.3 / height, title, ha="center", va="center", fontsize=10)
        return _save(fig, out_paths)


# ---------------------------------------------------------------------------------------------------------
# Placebo distribution
# ---------------------------------------------------------------------------------------------------------


def figure_placebo(
    coefs: Sequence[float] | np.ndarray,
    actual: float,
    out_paths: OutPaths,
    lang: Lang = "zh",
    term: str = "lnINT",
    *,
    p_value: float,
    bins: int = 40,
    title: str | None = None,
) -> dict[str, Path]:
    """Histogram of placebo coefficients with the actual estimate marked; the legend carries the empirical
    p-value the estimation computed (`intelcap.econometrics.placebo.placebo_pvalue`): figures draw numbers,
    they do not compute them."""
    lang = _check_lang(lang)
    b = np.asarray(coefs, dtype=float)
    b = b[np.isfinite(b)]
    p = float(p_value)
    with _style(lang):
        fig = Figure(figsize=(6.4, 4.0))
        ax = fig.add_axes((0.11, 0.13, 0.85, 0.74))
        lo, hi = min(float(b.min()), actual), max(float(b.max()), actual)
        pad = 0.05 * (hi - lo if hi > lo else 1.0)
        edges = np.linspace(lo - pad, hi + pad, bins + 1)
        ax.hist(
            b,
            bins=edges,
            color=MUTED_COLOR,
            edgecolor="white",
            linewidth=0.4,
            label=_t("placebo_hist", lang, n=b.size),
        )
        ax.axvline(
            actual,
            color=ACCENT_COLOR,
            linewidth=1.4,
            label=_t("placebo_actual", lang, b=_fmt_num(actual), p=_fmt_num(p)),
        )
        ax.set_xlabel(_t("placebo_xlabel", lang))
        ax.set_ylabel(_t("placebo_ylabel", lang))
        ax.legend(loc="upper left")
        if title is None:
            title = _t("placebo_title", lang, term=term)
        if title:
            ax.set_title(title)
        return _save(fig, out_paths)


# ---------------------------------------------------------------------------------------------------------
# Specification curve
# ---------------------------------------------------------------------------------------------------------

_NON_CHOICE = {*STAT_COLUMNS, "ci_low", "ci_high", "df", "crit", "stage", "vcov", "spec_id", "column_title"}


def _spec_intervals(df: pd.DataFrame, term: str, level: float) -> pd.DataFrame:
    """Rows of ``term`` with ci_low/ci_high (computed from std_error with t_{G−1} when not given)."""
    import pandas as pd

    d = df.copy()
    if "term" in d.columns:
        d = d[d["term"] == term]
    if d.empty or "estimate" not in d.columns:
        raise InputError("specification results need rows with an 'estimate' column")
    if not {"ci_low", "ci_high"} <= set(d.columns):
        if "std_error" not in d.columns:
            raise InputError("need ci_low/ci_high or std_error to draw intervals")
        g = (
            pd.to_numeric(d["n_clusters"], errors="coerce")
            if "n_clusters" in d.columns
            else pd.Series(np.nan, index=d.index)
        )
        crit = np.array([_t_crit(v - 1, level) for v in g])
        d["ci_low"] = d["estimate"] - crit * d["std_error"]
        d["ci_high"] = d["estimate"] + crit * d["std_error"]
    return d


def _spec_choices(d: pd.DataFrame) -> list[str]:
    """Default choice columns: every non-numeric column outside the results schema that varies."""
    import pandas as pd

    return [
        c
        for c in d.columns
        if c not in _NON_CHOICE and not pd.api.types.is_float_dtype(d[c]) and d[c].nunique(dropna=False) > 1
    ]


def _draw_spec_estimates(ax: Any, d: pd.DataFrame, x: np.ndarray, lang: Lang) -> None:
    sig = (d["ci_low"] > 0) | (d["ci_high"] < 0)
    ax.axhline(0, color=MUTED_COLOR, linestyle="--", linewidth=0.8)
    for mask, color, key in ((sig, POINT_COLOR, "spec_sig"), (~sig, MUTED_COLOR, "spec_nonsig")):
        if mask.any():
            ax.errorbar(
                x[mask],
                d.loc[mask, "estimate"],
                yerr=[
                    d.loc[mask, "estimate"] - d.loc[mask, "ci_low"],
                    d.loc[mask, "ci_high"] - d.loc[mask, "estimate"],
                ],
                fmt="o",
                markersize=3,
                color=color,
                ecolor=color,
                elinewidth=0.8,
                label=_t(key, lang),
            )
    ax.set_ylabel(_t("spec_ylabel", lang))
    ax.legend(loc="upper left")
    ax.tick_params(axis="x", labelbottom=False)


def _draw_spec_matrix(
    axm: Any, d: pd.DataFrame, x: np.ndarray, rows: list[tuple[str, str]], lang: Lang
) -> None:
    for r, (c, v) in enumerate(rows):
        on = (d[c].astype(str) == v).to_numpy()
        yy = len(rows) - 1 - r
        axm.scatter(x[~on], np.full((~on).sum(), yy), s=6, color="#e1e5ea", linewidths=0)
        axm.scatter(x[on], np.full(on.sum(), yy), s=10, color=POINT_COLOR, linewidths=0)
    axm.set_yticks([len(rows) - 1 - r for r in range(len(rows))], [f"{c}: {v}" for c, v in rows], fontsize=7)
    axm.set_ylim(-0.6, len(rows) - 0.4)
    axm.set_xlim(-0.8, len(d) - 0.2)
    axm.set_xlabel(_t("spec_xlabel", lang))
    axm.spines["left"].set_visible(False)
    axm.tick_params(axis="y", length=0)


def figure_spec_curve(
    df: pd.DataFrame,
    out_paths: OutPaths,
    lang: Lang = "zh",
    choices: Sequence[str] | None = None,
    term: str = "lnINT",
    level: float = 0.95,
    title: str | None = None,
    missing: Mapping[str, int] | None = None,
) -> dict[str, Path]:
    """Specification curve: estimates sorted ascending with CIs (top) and which option of each choice every
    specification uses (dot matrix, bottom).

    ``missing``: specifications without an estimate, counted by reason (the ``reason`` keys of
    `econometrics.robustness.SPEC_REASONS`); when any, a line under the figure says how many and why.

    ``df``: one row per specification with ``estimate`` and either ``ci_low``/``ci_high`` or ``std_error``
    (with ``n_clusters`` for t_{G−1} intervals; normal otherwise). If ``df`` has a ``term`` column only rows of
    ``term`` are used. ``choices``: the columns describing the specification; default: every non-numeric
    column not in the results schema.
    """
    lang = _check_lang(lang)
    d = _spec_intervals(df, term, level)
    choices = list(_spec_choices(d) if choices is None else choices)
    # Stable sort (mergesort) with the original order as tie-break: identical estimates keep input order.
    d = d.reset_index(drop=True)
    d = d.iloc[np.argsort(d["estimate"].to_numpy(), kind="mergesort")].reset_index(drop=True)
    # (choice column, option) from top to bottom of the dot matrix
    rows = [(c, v) for c in choices for v in sorted(d[c].astype(str).unique())]
    n = len(d)
    x = np.arange(n)
    with _style(lang):
        note = _spec_missing_note(n, missing or {}, lang)
        foot = 0.25 if note else 0.0  # room for the line on the missing specifications
        h_top, h_bot = 2.6, max(0.22 * len(rows), 0.6)
        height = round(h_top + h_bot + 1.1 + foot, 2)
        width = round(min(max(6.4, 0.09 * n + 2.6), 16.0), 2)
        fig = Figure(figsize=(width, height))
        left, w = 2.2 / width, 1 - 2.4 / width
        ax = fig.add_axes((left, (h_bot + 0.75 + foot) / height, w, h_top / height))
        axm = fig.add_axes((left, (0.45 + foot) / height, w, h_bot / height), sharex=ax)
        _draw_spec_estimates(ax, d, x, lang)
        _draw_spec_matrix(axm, d, x, rows, lang)
        if title is None:
            title = _t("spec_title", lang, term=term)
        if title:
            fig.text(0.5, 1 - 0.22 / height, title, ha="center", va="center", fontsize=10)
        if note:
            fig.text(0.5, 0.08 / height, note, ha="center", va="bottom", fontsize=7, color=MUTED_COLOR)
        return _save(fig, out_paths)


def _spec_missing_note(shown: int, missing: Mapping[str, int], lang: Lang) -> str:
    counts = {str(k): int(v) for k, v in missing.items() if int(v) > 0}
    if not counts:
        return ""
    sep = "；" if lang == "zh" else "; "
    parts = [
        _t(f"spec_reason_{k}", lang, n=v)
        if _has_text(f"spec_reason_{k}")
        else _t("spec_reason_other", lang, n=v, reason=k)
        for k, v in counts.items()
    ]
    total = shown + sum(counts.values())
    return _t(
        "spec_missing", lang, total=total, shown=shown, missing=sum(counts.values()), reasons=sep.join(parts)
    )


# ---------------------------------------------------------------------------------------------------------
# Monte Carlo coverage
# ---------------------------------------------------------------------------------------------------------


def figure_coverage(
    df: pd.DataFrame,
    out_paths: OutPaths,
    lang: Lang = "zh",
    nominal: float = 0.95,
    group: str | None = None,
    title: str | None = None,
) -> dict[str, Path]:
    """Bar chart of empirical coverage by inference method with the nominal level as a line.

    ``df`` columns: ``method``, ``coverage`` (share in [0, 1]); optional ``n_reps`` (adds ±1.96 Monte Carlo
    s.e. = sqrt(p(1−p)/R) error bars) and a grouping column (``group``; default "scenario" or "design" if
    present) that gives grouped bars.
    """
    lang = _check_lang(lang)
    for c in ("method", "coverage"):
        if c not in df.columns:
            raise InputError(f"coverage results lack column {c!r}")
    if group is None:
        group = next((g for g in ("scenario", "design") if g in df.columns), None)
    d = df.copy()
    methods = list(dict.fromkeys(d["method"].astype(str)))  # first-appearance order: the caller's order
    groups = list(dict.fromkeys(d[group].astype(str))) if group else [""]
    nm, ng = len(methods), len(groups)
    width = 0.8 / ng
    palette = [BAR_COLOR, "#e08e45", "#6a9f58", "#8e6bb0", "#b5525c", "#5a9fb5"]
    with _style(lang):
        fig = Figure(figsize=(round(max(6.4, 0.9 * nm + 2.0), 2), 4.0))
        ax = fig.add_axes((0.11, 0.26, 0.86, 0.64))
        lo = 1.0
        for gi, gname in enumerate(groups):
            sub = d if not group else d[d[group].astype(str) == gname]
            cov = sub.set_index(sub["method"].astype(str))["coverage"].reindex(methods).astype(float)
            xs = np.arange(nm) - 0.4 + width * (gi + 0.5)
            yerr = None
            if "n_reps" in sub.columns:
                reps = sub.set_index(sub["method"].astype(str))["n_reps"].reindex(methods).astype(float)
                yerr = 1.96 * np.sqrt(cov * (1 - cov) / reps)
            ax.bar(
                xs,
                cov,
                width=width * 0.92,
                color=palette[gi % len(palette)],
                yerr=yerr,
                error_kw={"elinewidth": 0.8, "capsize": 2},
                label=gname or None,
                zorder=2,
            )
            lo = min(lo, float(np.nanmin((cov - (yerr if yerr is not None else 0)).to_numpy())))
        ax.axhline(
            nominal,
            color=ACCENT_COLOR,
            linestyle="--",
            linewidth=1.0,
            zorder=3,
            label=_t("cov_nominal", lang, level=f"{nominal:g}"),
        )
        ax.set_xticks(np.arange(nm), methods)
        ax.set_ylim(max(0.0, math.floor((min(lo, nominal) - 0.05) * 20) / 20), 1.0)
        ax.set_ylabel(_t("cov_ylabel", lang))
        ax.yaxis.grid(True, color="#eceff2", linewidth=0.6, zorder=0)
        handles, texts = ax.get_legend_handles_labels()
        # Legend below the axes: bars reach the nominal line, so any inside corner may hide one.
        fig.legend(handles, texts, loc="center", bbox_to_anchor=(0.54, 0.1), ncol=min(ng + 1, 5))
        if "n_reps" in d.columns:
            fig.text(0.11, 0.03, _t("cov_mcse", lang), ha="left", va="center", fontsize=7.5)
        if title is None:
            title = _t("cov_title", lang)
        if title:
            ax.set_title(title)
        return _save(fig, out_paths)


# ---------------------------------------------------------------------------------------------------------
# Text audit: category frequencies by year
# ---------------------------------------------------------------------------------------------------------

_AUDIT_LINE_COLORS = ("#3b6ea5", "#c0392b", "#2e8b57", "#d4a017", "#6a4c93", "#1f3b5a", "#9aa7b4")


def figure_text_audit(
    audit: pd.DataFrame,
    out_paths: OutPaths,
    lang: Lang = "zh",
    labels_path: str | os.PathLike | None = None,
) -> dict[str, Path]:
    """Two panels of the category rows of the text audit (``text_audit.keyword_audit``) by year: hits per
    report (left) and the share of reports mentioning the category (right), one line per category in
    dictionary order. Texts from the ``text_audit`` and ``keyword_categories`` sections of labels.yaml."""
    lang = _check_lang(lang)
    need = ["year", "level", "category", "per_report", "share"]
    missing = [c for c in need if c not in audit.columns]
    if missing:
        raise InputError(f"text audit table lacks columns {missing}", hint="rerun the text_audit rule")
    cat = audit[audit["level"] == "category"]
    if cat.empty:
        raise InputError("text audit table has no category rows", hint="rerun the text_audit rule")
    from intelcap.outputs.labels import load_labels

    labels = load_labels(labels_path)

    def text(key: str) -> str:
        value = _lookup(labels, "text_audit", key, lang)
        if value is None:
            raise InputError(
                f"labels file has no text_audit.{key}",
                file=str(labels_path) if labels_path else None,
                hint="add it (see the shipped config/labels.yaml); config key `paths.labels`",
            )
        return value

    cats = list(dict.fromkeys(cat["category"].astype(str)))
    years = sorted(int(y) for y in cat["year"].unique())
    with _style(lang):
        fig = Figure(figsize=(8.0, 3.9))
        axes = [fig.add_axes((0.08, 0.30, 0.38, 0.60)), fig.add_axes((0.58, 0.30, 0.38, 0.60))]
        for ax, col, ylabel in zip(
            axes, ("per_report", "share"), ("ylabel_per_report", "ylabel_share"), strict=True
        ):
            for i, c in enumerate(cats):
                d = cat[cat["category"].astype(str) == c].sort_values("year")
                ax.plot(
                    d["year"].astype(int),
                    d[col].astype(float),
                    marker="o",
                    markersize=3,
                    linewidth=1.2,
                    color=_AUDIT_LINE_COLORS[i % len(_AUDIT_LINE_COLORS)],
                    label=_lookup(labels, "keyword_categories", c, lang) or c,
                )
            ax.set_xticks(years, [str(y) for y in years], rotation=45 if len(years) > 6 else 0)
            ax.set_xlabel(text("xlabel"))
            ax.set_ylabel(text(ylabel))
            ax.set_ylim(bottom=0)
            ax.yaxis.grid(True, color="#e3e6ea", linewidth=0.6, zorder=0)
        axes[1].set_ylim(0, 1.02)
        handles, texts = axes[0].get_legend_handles_labels()
        fig.legend(handles, texts, loc="lower center", bbox_to_anchor=(0.5, 0.07), ncol=min(len(cats), 5))
        fig.text(0.5, 0.03, text("title"), ha="center", va="center", fontsize=10)
        return _save(fig, out_paths)
