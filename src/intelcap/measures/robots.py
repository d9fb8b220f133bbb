"""Firm-level robot exposure lnINT and its US Bartik instrument lnINTUS (docs/methods.md#robot-exposure).

    PR_jt   = MR_jt / L_j,t0 * per_workers              industry robot density (IFR industry j)
    w_i     = PWP_i,b / median_k PWP_k,b                 production-worker weight, base year b
    lnINT   = ln(w_i * PR^CN_j(i),t);  lnINTUS = ln(w_i * PR^US_j(i),t)

With firm fixed effects only ln MR_jt varies within a firm, so FE coefficients do not depend on the weights,
the base-year employment or the units; tests pin that invariance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from intelcap.errors import InputError

UNSPECIFIED = ("D", "99")


def allocate_unspecified(ifr: pd.DataFrame, measure: str, allocate: bool = True) -> pd.DataFrame:
    """Spread 'unspecified' robots (IFR D and 99) over industries in proportion to the specified ones,
    within country-year (Acemoglu-Restrepo)."""
    spec = ifr[~ifr["industry"].isin(UNSPECIFIED)].copy()
    spec["robots"] = spec[measure].astype(float)
    if allocate:
        unspec = ifr[ifr["industry"].isin(UNSPECIFIED)].groupby(["country", "year"])[measure].sum()
        total = spec.groupby(["country", "year"])["robots"].transform("sum")
        add = pd.MultiIndex.from_frame(spec[["country", "year"]]).map(unspec.to_dict()).to_numpy(dtype=float)
        add = np.nan_to_num(add, nan=0.0)
        spec["robots"] = spec["robots"] * (1 + add / total.to_numpy())
    return spec[["country", "industry", "year", "robots"]]


def industry_density(
    ifr: pd.DataFrame,
    employment: pd.DataFrame,
    country: str,
    base_year: int,
    measure: str,
    per_workers: float,
    years: list[int],
    industries: list[str],
    allocate: bool = True,
    files: tuple[str, str] = ("ifr_robots.csv", "employment_base.csv"),
) -> pd.DataFrame:
    """PR_jt for one country; every (industry, year) the panel needs must be present, or it is an error."""
    rob = allocate_unspecified(ifr[ifr["country"] == country], measure, allocate)
    emp = employment[(employment["country"] == country) & (employment["year"] == base_year)]
    emp = emp.set_index("industry")["employment"]
    missing_emp = sorted(set(industries) - set(emp.index))
    if missing_emp:
        raise InputError(
            f"{country} base-year ({base_year}) employment missing for IFR industries {missing_emp}",
            file=files[1],
            column="employment",
            hint="add the rows or change robots.*_employment_base_year in config",
        )
    need = pd.MultiIndex.from_product([industries, years], names=["industry", "year"])
    have = rob.set_index(["industry", "year"])["robots"]
    gaps = need.difference(have.index)
    if len(gaps):
        raise InputError(
            f"{country} robot {measure} missing for {len(gaps)} industry-years",
            file=files[0],
            column=measure,
            rows=[f"{i} {y}" for i, y in gaps[:10]],
            hint="the IFR extract must cover every panel year for every mapped industry",
        )
    pr = have.reindex(need).to_numpy() / emp.reindex(need.get_level_values(0)).to_numpy() * per_workers
    if np.any(pr <= 0):
        bad = need[pr <= 0]
        raise InputError(
            f"{country} robot density is zero for some industry-years, its log is undefined",
            file=files[0],
            column=measure,
            rows=[f"{i} {y}" for i, y in bad[:10]],
        )
    return pd.DataFrame({"ifr": need.get_level_values(0), "year": need.get_level_values(1), "PR": pr})


def production_worker_share(emp_structure: pd.DataFrame, production_label: str = "生产人员") -> pd.DataFrame:
    """PWP = production staff / all staff, per firm-year, from the employee-structure table."""
    # one grouping pass over the long table (~6 rows per firm-year, 25M rows at scale); the label test runs
    # on the few distinct labels only. Adding the non-production rows as 0.0 leaves every sum unchanged.
    amount = emp_structure["amount"].fillna(0.0).to_numpy(dtype=float)
    codes, labels = pd.factorize(emp_structure["detail"])
    is_prod = np.append(pd.Index(labels).str.strip() == production_label, False)[codes]  # NaN label: code -1
    out = (
        pd.DataFrame(
            {
                "Stkcd": emp_structure["Stkcd"].array,  # as stored (Arrow strings): no Python objects
                "year": emp_structure["year"].array,
                "total": amount,
                "production": np.where(is_prod, amount, 0.0),
            }
        )
        .groupby(["Stkcd", "year"])[["total", "production"]]
        .sum()
    )
    out = out[out["total"] > 0]
    out["PWP"] = out["production"] / out["total"]
    return out.reset_index()[["Stkcd", "year", "PWP"]]


def robot_exposure(
    panel: pd.DataFrame,
    ifr: pd.DataFrame,
    employment: pd.DataFrame,
    emp_structure: pd.DataFrame,
    cfg: dict,
    weights_one: bool = False,
) -> tuple[pd.DataFrame, dict]:
    """lnINT, lnINTUS and L.lnINT for every panel firm-year; firms without any PWP get NaN (counted)."""
    years = sorted(panel["year"].unique().tolist())
    industries = sorted(panel["ifr"].unique().tolist())
    base = int(cfg["base_year"])
    pwp = production_worker_share(emp_structure)
    pwp = pwp[pwp["Stkcd"].isin(panel["Stkcd"])]
    # base-year share; firms listed later use their first available year (flagged)
    at_base = pwp[pwp["year"] == base].set_index("Stkcd")["PWP"]
    later = pwp[pwp["year"] > base].sort_values(["Stkcd", "year"]).drop_duplicates("Stkcd").set_index("Stkcd")
    firms = pd.Index(sorted(panel["Stkcd"].unique()), name="Stkcd")
    w = pd.DataFrame(index=firms)
    w["PWP_base"] = at_base.reindex(firms)
    w["base_year_imputed"] = w["PWP_base"].isna() & later["PWP"].reindex(firms).notna()
    w["PWP_base"] = w["PWP_base"].fillna(later["PWP"].reindex(firms))
    if at_base.empty:
        raise InputError(
            f"no firm has an employee structure in the base year {base}",
            column="EndDate",
            hint="set robots.base_year to a year the employee-structure table covers",
        )
    median = (
        float(np.median(at_base.reindex(firms).dropna()))
        if at_base.reindex(firms).notna().any()
        else float(np.median(at_base))
    )
    w["w"] = 1.0 if weights_one else w["PWP_base"] / median
    no_w = w["PWP_base"].isna() | (w["PWP_base"] <= 0)
    w.loc[no_w, "w"] = np.nan
    time_varying = cfg["weights"] == "current"

    measure = cfg["measure"]
    per = float(cfg["per_workers"])
    alloc = bool(cfg["allocate_unspecified"])
    pr_cn = industry_density(
        ifr, employment, "CHN", int(cfg["cn_employment_base_year"]), measure, per, years, industries, alloc
    )
    pr_us = industry_density(
        ifr, employment, "USA", int(cfg["us_employment_base_year"]), measure, per, years, industries, alloc
    )
    out = panel[["Stkcd", "year", "ifr"]].copy()
    out = out.merge(pr_cn.rename(columns={"PR": "PR_CN"}), on=["ifr", "year"], how="left", validate="m:1")
    out = out.merge(pr_us.rename(columns={"PR": "PR_US"}), on=["ifr", "year"], how="left", validate="m:1")
    out = out.merge(w[["PWP_base", "base_year_imputed", "w"]], left_on="Stkcd", right_index=True, how="left")
    if time_varying and not weights_one:
        # current-year production-worker share (base-year share where a year is missing): lnINT then varies
        # within industry-year, which identifies models with industry x year fixed effects
        cur = pwp.set_index(["Stkcd", "year"])["PWP"]
        pw_t = cur.reindex(pd.MultiIndex.from_frame(out[["Stkcd", "year"]])).to_numpy()
        out["w"] = np.where(np.isnan(pw_t) | (pw_t <= 0), out["w"], pw_t / median)
    out["INT"] = out["w"] * out["PR_CN"]
    out["INTUS"] = out["w"] * out["PR_US"]
    with np.errstate(divide="ignore"):
        out["lnINT"] = np.log(out["INT"].where(out["INT"] > 0))
        out["lnINTUS"] = np.log(out["INTUS"].where(out["INTUS"] > 0))
    # Stata's L. operator: missing unless the firm is observed in t-1
    out = out.sort_values(["Stkcd", "year"], kind="stable").reset_index(drop=True)
    prev_year = out.groupby("Stkcd")["year"].shift(1)
    out["L_lnINT"] = out.groupby("Stkcd")["lnINT"].shift(1).where(prev_year == out["year"] - 1)
    out["base_year_imputed"] = out["base_year_imputed"].fillna(False).astype(bool)
    info = {
        "pwp_median_base_year": median,
        "firms_without_pwp": int(no_w.sum()),
        "firm_years_without_pwp": int(out["w"].isna().sum()),
        "firms_base_year_imputed": int(w["base_year_imputed"].sum()),
    }
    cols = [
        "Stkcd",
        "year",
        "ifr",
        "PWP_base",
        "base_year_imputed",
        "w",
        "PR_CN",
        "PR_US",
        "INT",
        "lnINT",
        "INTUS",
        "lnINTUS",
        "L_lnINT",
    ]
    return out[cols], info
