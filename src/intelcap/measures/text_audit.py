"""Text audit (docs/methods.md#text-audit): keyword and category frequencies by year, and the IM variants of
Table 8 (MD&A only vs full report, negation rule off, intensity per 10,000 characters, one category left
out, alternative dictionaries).

Both read what ``text_count`` wrote (``text.count_variants``): nothing here opens a report or scans text, so
a change of the variants or of the audit reruns no counting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from intelcap.errors import InputError
from intelcap.measures.text import BASELINE, CHARS_COLUMNS, COUNT_COLUMNS, SECTIONS, VARIANT_COLUMNS

AUDIT_COLUMNS = ["year", "level", "category", "keyword", "count", "firms", "reports", "share", "per_report"]
# Defaults of config `text.variants` (schemas/config.schema.yaml)
DEFAULT_OPTIONS = {"section": True, "negation_off": True, "per_10k": True, "leave_one_out": True}


@dataclass(frozen=True)
class Variant:
    """One IM variant: its column in text_variants.parquet and its column title in Table 8 variants."""

    column: str
    title: str


def _check(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"{what} lacks columns {missing}",
            hint="it was written by another version: delete results/text/counts/ and rerun text_count",
        )


def variant_measures(
    variants: pd.DataFrame,
    chars: pd.DataFrame,
    section: str = "full",
    options: Mapping[str, object] | None = None,
) -> tuple[pd.DataFrame, list[Variant]]:
    """IM and its variants per readable report (Stkcd, year, one float column per variant; NaN = missing).

    ``section`` is the baseline's (``section`` of the keyword file). Columns, in Table 8 variants order:
    ``IM`` (= text_index's IM: ln(1 + hits), negation rule on); ``IM_mdna`` (or ``IM_full`` when the
    baseline is the MD&A): the other section, missing without an MD&A heading; ``IM_noneg``: no negation
    rule; ``IM_per10k``: hits per 10,000 characters of the normalized section text (a level, not a log);
    ``IM_drop<i>``: ln(1 + hits outside the i-th category); ``IM_dict_<name>``: ln(1 + hits of dictionary
    <name>). ``options`` switches the groups off (config `text.variants`; default all on); every alternative
    dictionary in ``variants`` gets a column."""
    if section not in SECTIONS:
        raise InputError(f"section must be one of {SECTIONS}, got {section!r}")
    _check(variants, VARIANT_COLUMNS, "variant counts")
    _check(chars, CHARS_COLUMNS, "character counts")
    opts = {**DEFAULT_OPTIONS, **{k: v for k, v in (options or {}).items() if k != "dictionaries"}}
    unknown = sorted(set(opts) - set(DEFAULT_OPTIONS))
    if unknown:
        raise InputError(
            f"unknown variant options {unknown}", hint=f"config `text.variants`: {list(DEFAULT_OPTIONS)}"
        )
    other = "mdna" if section == "full" else "full"
    keys = ["Stkcd", "year"]
    v = variants.astype({"Stkcd": "string", "year": "int64"})
    out = chars[keys].astype({"Stkcd": "string", "year": "int64"}).sort_values(keys, kind="stable")
    out = out.reset_index(drop=True)
    n_chars = chars.astype({"Stkcd": "string", "year": "int64"}).set_index(keys)[f"chars_{section}"]

    def totals(frame: pd.DataFrame, col: str) -> pd.Series:
        # min_count=1: an MD&A count is NA for every keyword of a report without one; the sum stays NA
        s = frame.groupby(keys, sort=True)[col].sum(min_count=1).astype("Float64")
        return s.reindex(pd.MultiIndex.from_frame(out[keys])).to_numpy(dtype=float, na_value=np.nan)

    def log1p(x: np.ndarray) -> np.ndarray:
        return np.log1p(x)

    base = v[v["dictionary"] == BASELINE]
    cols: dict[str, np.ndarray] = {}
    found: list[Variant] = []
    tot = totals(base, section)
    cols["IM"] = log1p(tot)
    found.append(Variant("IM", "Baseline"))
    if opts["section"]:
        name = f"IM_{other}"
        cols[name] = log1p(totals(base, other))
        found.append(Variant(name, "MD&A only" if other == "mdna" else "Full report"))
    if opts["negation_off"]:
        cols["IM_noneg"] = log1p(totals(base, f"{section}_noneg"))
        found.append(Variant("IM_noneg", "Negation off"))
    if opts["per_10k"]:
        nc = n_chars.reindex(pd.MultiIndex.from_frame(out[keys])).astype("Float64")
        nc = nc.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            cols["IM_per10k"] = np.where(nc > 0, tot / nc * 10_000.0, np.nan)
        found.append(Variant("IM_per10k", "Per 10,000 characters"))
    if opts["leave_one_out"]:
        for i, cat in enumerate(dict.fromkeys(base["category"].tolist()), start=1):
            name = f"IM_drop{i}"
            cols[name] = log1p(tot - totals(base[base["category"] == cat], section))
            found.append(Variant(name, f"Without {cat}"))
    for dic in dict.fromkeys(v["dictionary"].tolist()):
        if dic == BASELINE:
            continue
        name = f"IM_dict_{dic}"
        cols[name] = log1p(totals(v[v["dictionary"] == dic], section))
        found.append(Variant(name, f"Dictionary: {dic}"))
    for name, values in cols.items():
        out[name] = values
    return out, found


def keyword_audit(
    counts: pd.DataFrame, log: pd.DataFrame, categories: Mapping[str, Sequence[str]] | None = None
) -> pd.DataFrame:
    """Keyword and category frequencies by year (AUDIT_COLUMNS), from the counts behind IM.

    Per year: one ``all`` row (every keyword), then each category followed by its keywords (dictionary
    order: ``categories``, e.g. ``KeywordSpec.categories``, else as first seen in ``counts``, which
    text_index sorts by name). ``count``: total hits; ``firms``: firms with at least one hit (one report per firm-year, so also
    reports mentioning it); ``reports``: reports read that year (log status ok); ``share`` = firms / reports;
    ``per_report`` = count / reports."""
    _check(counts, COUNT_COLUMNS, "keyword counts")
    _check(log, ["Stkcd", "year", "status"], "report log")
    ok = log[log["status"] == "ok"].astype({"Stkcd": "string"})
    ok = ok.assign(year=ok["year"].astype("int64"))
    reports = ok.groupby("year")["Stkcd"].nunique()
    c = counts.astype({"Stkcd": "string", "year": "int64", "category": "string", "keyword": "string"})
    if categories is None:
        cats = list(dict.fromkeys(c["category"].tolist()))
        kws = {cat: list(dict.fromkeys(c.loc[c["category"] == cat, "keyword"].tolist())) for cat in cats}
    else:
        cats, kws = list(categories), {str(k): [str(x) for x in v] for k, v in categories.items()}
        unknown = sorted(
            set(zip(c["category"], c["keyword"], strict=True)) - {(k, x) for k in cats for x in kws[k]}
        )
        if unknown:
            raise InputError(
                f"keyword counts hold keywords not in the dictionary: {unknown[:5]}",
                hint="the counts are from another paths.keywords: rerun text_count",
            )

    def freq(by: list[str]) -> pd.DataFrame:
        per_firm = c.groupby(["year", *by, "Stkcd"], sort=False)["count"].sum()
        g = per_firm.groupby(level=["year", *by], sort=False)
        return pd.DataFrame({"count": g.sum(), "firms": g.apply(lambda x: int((x > 0).sum()))})

    f_all, f_cat, f_kw = freq([]), freq(["category"]), freq(["category", "keyword"])
    rows = []
    for year in sorted(reports.index.tolist()):
        n = int(reports[year])
        items = [("all", "", "", f_all, year)]
        for cat in cats:
            items.append(("category", cat, "", f_cat, (year, cat)))
            items += [("keyword", cat, kw, f_kw, (year, cat, kw)) for kw in kws[cat]]
        for level, cat, kw, frame, key in items:
            total, firms = (int(x) for x in frame.loc[key]) if key in frame.index else (0, 0)
            rows.append(
                (
                    year,
                    level,
                    cat,
                    kw,
                    total,
                    firms,
                    n,
                    firms / n if n else np.nan,
                    total / n if n else np.nan,
                )
            )
    out = pd.DataFrame(rows, columns=AUDIT_COLUMNS)
    return out.astype({"year": "int64", "count": "int64", "firms": "int64", "reports": "int64"})
