"""Firm attributes for mechanisms and heterogeneity: SOE, HighTech, Intensity, Humcap, ED (docs/methods.md).

Each missing-value decision is counted in the returned notes (they join the sample notes table).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from intelcap.errors import InputError
from intelcap.ingest.readers import code_tokens

# Region-revenue rows that are overseas: the vendor's free text (docs/methods.md#ed) or a foreign place name.
OVERSEAS = re.compile(
    r"境外|海外|国外|外销|出口|国际|港澳台|香港|澳门|台湾|美国|美洲|北美|南美|拉美|欧洲|欧盟|德国|英国|法国|意大利|"
    r"西班牙|俄罗斯|日本|韩国|东南亚|南亚|印度|中东|非洲|澳洲|澳大利亚|大洋洲|加拿大|巴西|墨西哥|越南|泰国|"
    r"新加坡|马来西亚|印尼|印度尼西亚|菲律宾|土耳其|其他国家"
)
HIGH_TECH = "高新技术企业"
CERTIFICATE_YEARS = 3


def _note(notes: list[dict], item: str, count: int, decision: str) -> None:
    notes.append({"item": item, "firm_years": int(count), "decision": decision})


def _per_unique(values: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """`fn(values)` for an element-wise `fn`, evaluated once per distinct value: a handful of distinct codes or
    region names for millions of firm-years. Same values and dtype (`fn` sees the same set of values)."""
    codes, uniques = pd.factorize(values.array, use_na_sentinel=False)
    mapped = fn(pd.Series(uniques))
    return pd.Series(mapped.array.take(codes), index=values.index, name=values.name)


# The canonical codes `io.load_table` writes (csmar.<TABLE>.codes): EquityNatureID 1 = state, StateTypeCode
# 1 = consolidated. Cells are split and folded the way the reader does ('1、2', '１', '1.0'), so a table read
# by any path is interpreted alike.
STATE_OWNED = "1"
CONSOLIDATED = "1"


def _codes(s) -> list[str]:
    return [re.sub(r"^([0-9]+)\.0+$", r"\1", t) for t in code_tokens(s)]


def _equity_soe(s) -> int | float:
    codes = _codes(s)
    return int(STATE_OWNED in codes) if codes else np.nan


def soe(keys: pd.DataFrame, equity: pd.DataFrame, notes: list[dict]) -> pd.Series:
    """SOE = 1 if '1' (state) is among the EquityNatureID codes; a missing year takes the firm's nearest
    reported year (ownership is persistent), otherwise stays missing."""
    e = equity[["Stkcd", "year", "equity_nature"]].copy()
    e["SOE"] = _per_unique(e["equity_nature"].fillna(""), lambda u: u.map(_equity_soe))
    out = keys.merge(e[["Stkcd", "year", "SOE"]], on=["Stkcd", "year"], how="left")
    miss = out["SOE"].isna()
    # within firm, in row order: previous reported year first, else the next one. Grouped ffill then bfill
    # is what a per-firm `s.ffill().bfill()` does, without a Python call per firm (hours at 500k firms).
    if len(out):
        by_firm = out["Stkcd"]
        out["SOE"] = out["SOE"].groupby(by_firm).ffill().groupby(by_firm).bfill()
    else:  # no firm-year: keep pandas' own (float64) result for an empty transform
        out["SOE"] = out.groupby("Stkcd")["SOE"].transform(lambda s: s.ffill().bfill())
    _note(
        notes,
        "ownership (EquityNatureID) missing in the year: nearest year of the firm used",
        int((miss & out["SOE"].notna()).sum()),
        "kept",
    )
    _note(
        notes,
        "ownership missing in every year: SOE missing (dropped from ownership subsamples only)",
        int(out["SOE"].isna().sum()),
        "kept; SOE NaN",
    )
    return out["SOE"]


def high_tech(keys: pd.DataFrame, qualifications: pd.DataFrame) -> pd.Series:
    """HighTech = 1 if a 高新技术企业 certificate issued in year s is valid in t: s <= t <= s + 2."""
    q = qualifications[qualifications["protype"].fillna("").str.contains(HIGH_TECH, regex=False)]
    q = q.dropna(subset=["sign_year"])
    valid = pd.DataFrame(
        {
            "Stkcd": np.repeat(q["Stkcd"].to_numpy(), CERTIFICATE_YEARS),
            "year": (
                np.repeat(q["sign_year"].to_numpy(), CERTIFICATE_YEARS)
                + np.tile(np.arange(CERTIFICATE_YEARS), len(q))
            ).astype(np.int64),
        }
    )
    valid = valid.drop_duplicates().assign(HighTech=1)
    out = keys.merge(valid, on=["Stkcd", "year"], how="left")
    return out["HighTech"].fillna(0).astype(np.int64)


def intensity(keys: pd.DataFrame, industry: pd.Series, classes: pd.DataFrame, file: str) -> pd.Series:
    m = classes.set_index("csrc")["intensity"]
    out = industry.map(m)
    if out.isna().any():
        missing = sorted(industry[out.isna()].unique())
        raise InputError(
            f"industries without a factor-intensity class: {missing}",
            file=file,
            column="csrc",
            hint="add them to the factor-intensity CSV",
        )
    return out


def humcap(keys: pd.DataFrame, rd: pd.DataFrame, notes: list[dict]) -> pd.Series:
    """R&D staff share in percent (RDPersonRatio); consolidated rows (StateTypeCode 1) preferred; missing -> 0
    as the paper does (Table 1 min 0)."""
    r = rd.copy()
    r["pref"] = _per_unique(
        r["state_type"].astype(str), lambda u: u.map(lambda v: _codes(v) != [CONSOLIDATED])
    ).astype(int)
    r = r.sort_values(["Stkcd", "year", "pref"], kind="stable").drop_duplicates(["Stkcd", "year"])
    out = keys.merge(r[["Stkcd", "year", "rd_person_ratio"]], on=["Stkcd", "year"], how="left")
    miss = out["rd_person_ratio"].isna()
    _note(notes, "R&D staff share missing: Humcap set to 0 (paper's convention)", int(miss.sum()), "kept; 0")
    return out["rd_person_ratio"].fillna(0.0).astype(float)


def export_demand(keys: pd.DataFrame, region: pd.DataFrame, notes: list[dict]) -> pd.Series:
    """ED = ln(1 + overseas revenue in yuan); firm-years without an overseas row -> 0 (paper's convention)."""
    r = region.copy()
    # OVERSEAS is a compiled pattern, which pandas runs in Python row by row: match each distinct text once
    r["overseas"] = _per_unique(r["region"].fillna(""), lambda u: u.str.contains(OVERSEAS))
    neg = r["overseas"] & (r["revenue"] < 0)
    if neg.any():
        ex = r.loc[neg, ["Stkcd", "year"]].head(5).to_dict("records")
        raise InputError(
            "negative overseas revenue",
            column="Revenue",
            rows=ex,
            file=region.attrs.get("file"),
            hint="check the region-revenue rows",
        )
    os_rev = r[r["overseas"]].groupby(["Stkcd", "year"])["revenue"].sum().rename("overseas_revenue")
    out = keys.merge(os_rev.reset_index(), on=["Stkcd", "year"], how="left")
    miss = out["overseas_revenue"].isna()
    _note(notes, "no overseas revenue row: ED set to 0 (paper's convention)", int(miss.sum()), "kept; 0")
    return np.log1p(out["overseas_revenue"].fillna(0.0))


def firm_attributes(
    panel: pd.DataFrame, tables: dict[str, pd.DataFrame], classes: pd.DataFrame, classes_file: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    keys = panel[["Stkcd", "year"]].reset_index(drop=True)
    notes: list[dict] = []
    out = keys.copy()
    out["SOE"] = soe(keys, tables["EN_EquityNatureAll"], notes).to_numpy()
    out["HighTech"] = high_tech(keys, tables["QUA_Qualification"]).to_numpy()
    out["Intensity"] = intensity(
        keys, panel["industry"].reset_index(drop=True), classes, classes_file
    ).to_numpy()
    out["Humcap"] = humcap(keys, tables["PT_LCRDSPENDING"], notes).to_numpy()
    out["ED"] = export_demand(keys, tables["FN_RegionRevenue"], notes).to_numpy()
    return out, pd.DataFrame(notes, columns=["item", "firm_years", "decision"])
