"""Sample construction, control variables and Stata-rule winsorization (docs/methods.md#sample, #variables).

`build_panel` applies the paper's filters in order and counts what each removes; nothing leaves the sample
without a row in the attrition table.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from intelcap.errors import InputError

log = logging.getLogger("intelcap.ingest.panel")

MANUFACTURING = r"^C(1[3-9]|[23]\d|4[0-3])$"

# Fields a firm-year must have for the baseline model (lnCU inputs and the eight controls).
REQUIRED = {
    "total_assets": "total assets (A001000000)",
    "fixed_assets": "net fixed assets (A001212000)",
    "total_liabilities": "total liabilities (A002000000)",
    "revenue": "operating revenue (B001101000)",
    "total_operating_cost": "total operating cost (B001200000)",
    "admin_expense": "admin expense (B001210000)",
    "financial_expense": "financial expense (B001211000)",
    "net_profit": "net profit (B002000000)",
    "employees": "employees (Y0601b)",
    "board_size": "board size (Y1101a)",
    "duality": "duality (Y1001b)",
    "listing_year": "listing date (LISTINGDATE)",
}


# The CSMAR table each required field comes from (for error messages).
REQUIRED_TABLE = {
    "total_assets": "FS_Combas",
    "fixed_assets": "FS_Combas",
    "total_liabilities": "FS_Combas",
    "revenue": "FS_Comins",
    "total_operating_cost": "FS_Comins",
    "admin_expense": "FS_Comins",
    "financial_expense": "FS_Comins",
    "net_profit": "FS_Comins",
    "employees": "CG_Ybasic",
    "board_size": "CG_Ybasic",
    "duality": "CG_Ybasic",
    "listing_year": "STK_LISTEDCOINFOANL",
}


@dataclass
class Attrition:
    """Step-by-step record of the sample: firm-years and firms removed and remaining."""

    rows: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)

    def start(self, df: pd.DataFrame, description: str) -> None:
        self.rows.append(
            {
                "step": 0,
                "description": description,
                "firm_years_removed": 0,
                "firms_removed": 0,
                "firm_years_remaining": len(df),
                "firms_remaining": df["Stkcd"].nunique(),
            }
        )

    def apply(self, df: pd.DataFrame, drop: pd.Series, description: str) -> pd.DataFrame:
        kept = df[~drop.to_numpy()]
        prev = self.rows[-1]
        self.rows.append(
            {
                "step": len(self.rows),
                "description": description,
                "firm_years_removed": int(drop.sum()),
                "firms_removed": int(prev["firms_remaining"] - kept["Stkcd"].nunique()),
                "firm_years_remaining": len(kept),
                "firms_remaining": int(kept["Stkcd"].nunique()),
            }
        )
        return kept.reset_index(drop=True)

    def note(self, item: str, count: int, decision: str) -> None:
        self.notes.append({"item": item, "firm_years": int(count), "decision": decision})

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)

    def notes_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.notes, columns=["item", "firm_years", "decision"])


def modal_industry(profile: pd.DataFrame) -> pd.Series:
    """A firm's CSRC code fixed at its most frequent non-empty value (ties: the latest year's code)."""
    p = profile[profile["industry"].str.len() > 0][["Stkcd", "year", "industry"]]
    p = p.assign(code=p["industry"].str.strip().str.upper().str[:3])
    counts = p.groupby(["Stkcd", "code"]).agg(n=("year", "size"), last=("year", "max")).reset_index()
    counts = counts.sort_values(["Stkcd", "n", "last"], ascending=[True, False, False], kind="stable")
    return counts.drop_duplicates("Stkcd").set_index("Stkcd")["code"]


def _province_short(s: pd.Series) -> pd.Series:
    return s.str.strip().str.replace(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区)$", "", regex=True)


def build_panel(
    tables: dict[str, pd.DataFrame], config: dict, crosswalk: pd.DataFrame, regions: pd.DataFrame
) -> tuple[pd.DataFrame, Attrition]:
    """Merge the CSMAR tables into firm-years and apply the paper's filters (docs/methods.md#sample)."""
    sample = config["sample"]
    y0, y1 = int(sample["first_year"]), int(sample["last_year"])
    att = Attrition()

    prof = tables["STK_LISTEDCOINFOANL"]
    check_keys(prof, "STK_LISTEDCOINFOANL")
    df = prof[(prof["year"] >= y0) & (prof["year"] <= y1)].copy()
    if df.empty:
        raise InputError(
            f"the firm-profile table has no firm-years in {y0}-{y1}",
            file=prof.attrs.get("file"),
            column="EndDate",
        )
    att.start(df, f"firm-years {y0}-{y1} in the firm-profile table (STK_LISTEDCOINFOANL)")
    empty_years = sorted(set(range(y0, y1 + 1)) - set(df["year"].astype(int)))
    for y in empty_years:
        log.warning(
            "%s: no firm-year in %d; the panel has a gap in that year (check the download)",
            prof.attrs.get("file"),
            y,
        )
        att.note(
            f"year {y}: no firm in the firm-profile table (STK_LISTEDCOINFOANL)",
            0,
            "year absent from the panel; check the download",
        )

    prefixes = tuple(sample["a_share_prefixes"])
    df = att.apply(df, ~df["Stkcd"].str.startswith(prefixes), "not a Shanghai/Shenzhen A share")

    df["industry_code"] = df["Stkcd"].map(modal_industry(prof))
    has_code = df["industry_code"].notna()
    not_manuf = has_code & ~df["industry_code"].fillna("").str.match(MANUFACTURING)
    df = att.apply(df, not_manuf, "not manufacturing (CSRC 2012 C13-C43)")

    st = df["short_name"].str.contains(r"ST|PT", regex=True, na=False)
    df = att.apply(df, st, "ST, *ST or PT (financial distress / delisting risk)")

    df = _merge_financials(df, tables)
    missing_any = pd.Series(False, index=df.index)
    for col, label in REQUIRED.items():
        miss = df[col].isna()
        if len(df) and miss.all():
            table = REQUIRED_TABLE.get(col)
            file = tables[table].attrs.get("file") if table in tables else None
            raise InputError(
                f"{label} is missing for every one of the {len(df)} firm-years left after the "
                "sample filters; no firm-year could be kept",
                file=file,
                column=label.split("(")[-1].rstrip(")"),
                hint=f"the field is empty in the download (or its rows do not match on Stkcd and "
                f"year): re-download {table} with this field, or remap it in "
                f"config/config.yaml (csmar.{table}.fields)",
            )
        if miss.any():
            att.note(
                f"missing {label}", int((miss & ~missing_any).sum()), "firm-year dropped (step: missing data)"
            )
        missing_any |= miss
    abnormal = ~missing_any & (
        (df["total_assets"] <= 0)
        | (df["revenue"] <= 0)
        | (df["fixed_assets"] <= 0)
        | (df["employees"] <= 0)
        | (df["total_liabilities"] <= 0)
    )
    if abnormal.any():
        att.note(
            "non-positive assets, revenue, fixed assets, employees or liabilities",
            int(abnormal.sum()),
            "firm-year dropped (step: missing data)",
        )
    df = att.apply(df, missing_any | abnormal, "missing or abnormal financial data")

    xw = crosswalk.set_index("csrc")["ifr"]
    df["ifr"] = df["industry_code"].map(xw)
    unmapped = df["industry_code"].notna() & df["ifr"].isna()
    if unmapped.any():
        codes = sorted(df.loc[unmapped, "industry_code"].unique())
        log.warning(
            "CSRC industry codes %s (%d firm-years) are not in the CSRC->IFR crosswalk; those firm-years "
            "are dropped. Add them to config/crosswalk_csrc_ifr.csv to keep them",
            codes,
            int(unmapped.sum()),
        )
        att.note(
            f"CSRC codes not in the IFR crosswalk: {', '.join(codes)}",
            int(unmapped.sum()),
            "firm-year dropped (step: industry not mapped); add the codes to config/crosswalk_csrc_ifr.csv",
        )
    no_ind = df["industry_code"].isna() | df["ifr"].isna()
    df = att.apply(df, no_ind, "industry missing or not mapped to an IFR industry")

    small = df["revenue"] < float(sample["min_revenue"])
    df = att.apply(df, small, f"operating revenue below {float(sample['min_revenue']):,.0f} yuan")

    df = _variables(df, att)
    reg = regions.set_index("province")
    df["province"] = _province_short(df["province_raw"])
    unknown = ~df["province"].isin(reg.index)
    if unknown.any():
        ex = df.loc[unknown, ["Stkcd", "year", "province_raw"]].head(5).to_dict("records")
        raise InputError(
            "provinces not in config/regions.csv",
            file=prof.attrs.get("file"),
            column="PROVINCE",
            rows=ex,
            hint="add the province to config/regions.csv",
        )
    df["Region"] = df["province"].map(reg["region"])
    df["Municipality"] = df["province"].map(reg["municipality"]).astype(np.int64)
    df["industry"] = df["industry_code"]
    keep = [
        "Stkcd",
        "year",
        "industry",
        "ifr",
        "province",
        "Region",
        "Municipality",
        "Y",
        "K",
        "L",
        "TA",
        "TOC",
        "FAavg",
        "ListAge",
        "Board",
        "Size",
        "ROA",
        "Lev",
        "Mfee",
        "Debcost",
        "Dual",
        "lnwage",
        "Age2",
        "lnCU_star",
    ]
    return df[keep].sort_values(["Stkcd", "year"], kind="stable").reset_index(drop=True), att


def check_keys(df: pd.DataFrame, table: str) -> None:
    dup = df.duplicated(["Stkcd", "year"], keep=False)
    if dup.any():
        raise InputError(
            f"{table}: duplicate firm-years",
            file=df.attrs.get("file"),
            column="Stkcd, year",
            rows=df.loc[dup, ["Stkcd", "year"]].head(5).to_dict("records"),
        )


def _merge_financials(df: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    bal = tables["FS_Combas"]
    inc = tables["FS_Comins"]
    cf = tables["FS_Comscfd"]
    gov = tables["CG_Ybasic"]
    lagged = (
        bal[["Stkcd", "year", "total_assets", "fixed_assets"]]
        .assign(year=lambda d: d["year"] + 1)
        .rename(columns={"total_assets": "total_assets_lag", "fixed_assets": "fixed_assets_lag"})
    )
    out = (
        df.merge(bal, on=["Stkcd", "year"], how="left", validate="1:1")
        .merge(lagged, on=["Stkcd", "year"], how="left", validate="1:1")
        .merge(inc, on=["Stkcd", "year"], how="left", validate="1:1")
        .merge(cf, on=["Stkcd", "year"], how="left", validate="1:1")
        .merge(gov, on=["Stkcd", "year"], how="left", validate="1:1")
    )
    out["province_raw"] = out["province"]
    out["listing_year"] = pd.to_numeric(out["listing_date"].str[:4], errors="coerce")
    out["establish_year"] = pd.to_numeric(out["establish_date"].str[:4], errors="coerce")
    return out


def _variables(df: pd.DataFrame, att: Attrition) -> pd.DataFrame:
    """Controls exactly as docs/methods.md#variables defines them."""
    df = df.copy()
    df["Y"] = df["revenue"]
    df["K"] = df["fixed_assets"]
    df["L"] = df["employees"]
    df["TA"] = df["total_assets"]
    df["TOC"] = df["total_operating_cost"]
    no_lag_fa = df["fixed_assets_lag"].isna()
    att.note("lagged fixed assets missing: FAavg uses the year-end value", int(no_lag_fa.sum()), "kept")
    df["FAavg"] = np.where(no_lag_fa, df["fixed_assets"], (df["fixed_assets"] + df["fixed_assets_lag"]) / 2)
    no_lag_ta = df["total_assets_lag"].isna()
    att.note("lagged total assets missing: ROA uses year-end assets", int(no_lag_ta.sum()), "kept")
    avg_ta = np.where(no_lag_ta, df["total_assets"], (df["total_assets"] + df["total_assets_lag"]) / 2)
    age = df["year"] - df["listing_year"] + 1
    pre = age < 1
    att.note("firm-years before the listing year: ListAge set to ln(1)=0", int(pre.sum()), "kept")
    df["ListAge"] = np.log(age.clip(lower=1))
    df["Board"] = np.log(df["board_size"])
    df["Size"] = np.log(df["total_assets"])
    df["ROA"] = df["net_profit"] / avg_ta
    df["Lev"] = df["total_liabilities"] / df["total_assets"]
    df["Mfee"] = 100 * df["admin_expense"] / df["revenue"]
    df["Debcost"] = df["financial_expense"] / df["revenue"]
    df["Dual"] = (df["duality"] == 1).astype(np.int64)
    wage = df["cash_paid_employees"]
    bad_wage = ~(wage > 0)
    att.note(
        "cash paid to employees missing or non-positive: lnwage missing (Table 3 col 4 only)",
        int(bad_wage.sum()),
        "kept; lnwage NaN",
    )
    df["lnwage"] = np.log(wage.where(wage > 0))
    df["Age2"] = (df["year"] - df["establish_year"] + 1) ** 2
    df["lnCU_star"] = np.log(df["revenue"] / df["fixed_assets"])
    return df


def stata_percentile(x: np.ndarray, q: float) -> float:
    """Stata's `_pctile`/`summarize, detail` rule: P = n q/100; integer P -> mean of x(P), x(P+1); else x(ceil P)."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return float("nan")
    return float(np.percentile(x, q, method="averaged_inverted_cdf"))


def winsorize(
    df: pd.DataFrame,
    variables: list[str],
    cuts: tuple[float, float],
    by_year: bool = False,
    year_col: str = "year",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """winsor2 `cuts(lo hi) replace` [by(year)]; returns the frame and the cutoffs used per variable (and year)."""
    lo, hi = cuts
    if not 0 <= lo < hi <= 100:
        raise InputError(f"winsor.cuts must satisfy 0 <= low < high <= 100, got {cuts}", column="winsor.cuts")
    out = df.copy()
    records = []
    for var in variables:
        if var not in out:
            close = difflib.get_close_matches(var, [str(c) for c in out.columns], n=1, cutoff=0.6)
            raise InputError(
                f"winsor.vars names {var!r}, which the panel does not have",
                column="winsor.vars",
                hint=(f"did you mean {close[0]!r}? " if close else "")
                + f"choose among {sorted(out.columns)}",
            )
    for var in variables:
        out[var] = out[var].astype(float)
        groups = out.groupby(year_col) if by_year else [(None, out)]
        for key, g in groups:
            vals = g[var].to_numpy(dtype=float, copy=True)
            p_lo, p_hi = stata_percentile(vals, lo), stata_percentile(vals, hi)
            out.loc[g.index, var] = np.clip(vals, p_lo, p_hi)
            n_lo = int(np.sum(vals < p_lo))
            n_hi = int(np.sum(vals > p_hi))
            records.append(
                {
                    "variable": var,
                    "year": key if key is not None else "pooled",
                    "p_low": p_lo,
                    "p_high": p_hi,
                    "n_below": n_lo,
                    "n_above": n_hi,
                }
            )
    return out, pd.DataFrame(records)


def merge_measure(panel: pd.DataFrame, measure: pd.DataFrame, name: str) -> pd.DataFrame:
    """Left-join a firm-year measure onto the panel, counting what does not match instead of dropping it silently:
    measure rows for firm-years outside the panel (e.g. a report of a firm the sample filters removed) are
    ignored and logged; panel firm-years without a measure get NaN (never 0) and are logged.
    The counts are returned in ``out.attrs["merge_notes"][name]``."""
    keys = ["Stkcd", "year"]
    missing = [k for k in keys if k not in measure.columns]
    if missing:
        raise InputError(f"measure {name} lacks key column(s) {missing}", column=", ".join(missing))
    dup = measure.duplicated(keys, keep=False)
    if dup.any():
        raise InputError(
            f"measure {name} has {int(dup.sum())} rows with duplicate firm-years",
            column="Stkcd, year",
            rows=measure.loc[dup, keys].head(5).to_dict("records"),
        )
    cols = keys + [c for c in measure.columns if c not in panel.columns]
    tagged = measure[cols].assign(_in_measure=True)
    out = panel.merge(tagged, on=keys, how="left", validate="1:1")
    pk = pd.MultiIndex.from_frame(panel[keys].astype({"Stkcd": str, "year": np.int64}))
    mk = pd.MultiIndex.from_frame(measure[keys].astype({"Stkcd": str, "year": np.int64}))
    outside = int((~mk.isin(pk)).sum())
    unmatched = int(out["_in_measure"].isna().sum())
    out = out.drop(columns="_in_measure")
    if outside:
        ex = measure.loc[~mk.isin(pk), keys].head(3).to_dict("records")
        log.warning(
            "%s: %d row(s) for firm-years not in the analysis panel ignored (e.g. %s)", name, outside, ex
        )
    if unmatched:
        log.warning(
            "%s: %d panel firm-year(s) have no %s row: left missing (NaN), not zero", name, unmatched, name
        )
    notes = dict(panel.attrs.get("merge_notes", {}))
    notes[name] = {"rows_outside_panel_ignored": outside, "panel_rows_without_measure": unmatched}
    out.attrs["merge_notes"] = notes
    return out
