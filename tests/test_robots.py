"""Robot exposure (docs/methods.md#robot-exposure): unspecified robots allocated pro rata; FE estimates do not
depend on the production-worker weights or the base-year employment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from intelcap.econometrics import estimate
from intelcap.errors import InputError
from intelcap.measures import robots

INDUSTRIES = ["24", "26-27", "29"]
YEARS = list(range(2011, 2017))


def _ifr(rng) -> pd.DataFrame:
    rows = []
    for c in ("CHN", "USA"):
        for j, ind in enumerate(INDUSTRIES):
            for t, y in enumerate(YEARS):
                rows.append(
                    (c, ind, y, 10, 1000 * (j + 1) * np.exp((0.1 + 0.1 * j) * t + rng.normal(0, 0.05)))
                )
        for y in YEARS:
            rows.append((c, "99", y, 5, 500.0))
    return pd.DataFrame(rows, columns=["country", "industry", "year", "installations", "operational_stock"])


def _emp(scale: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "country": ["CHN"] * 3 + ["USA"] * 3,
            "industry": INDUSTRIES * 2,
            "year": [2010] * 3 + [1990] * 3,
            "employment": np.array([5e5, 8e5, 3e5] * 2) * scale,
        }
    )


def _firms(rng, n=120):
    firms = [f"{i:06d}" for i in range(n)]
    ind = rng.choice(INDUSTRIES, n)
    panel = pd.DataFrame(
        [(f, y, j) for f, j in zip(firms, ind, strict=True) for y in YEARS if rng.random() < 0.85],
        columns=["Stkcd", "year", "ifr"],
    )
    pwp = rng.uniform(0.3, 0.9, n)
    es = pd.DataFrame(
        [
            (f, y, d, (p if d == "生产人员" else (1 - p) / 2) * 1000)
            for f, p in zip(firms, pwp, strict=True)
            for y in YEARS
            for d in ("生产人员", "技术人员", "其他")
        ],
        columns=["Stkcd", "year", "detail", "amount"],
    )
    return panel, es


# the whole `robots` block as a job sees it, schema defaults included (validate() fills them in the workflow)
CFG = {
    "base_year": 2011,
    "measure": "operational_stock",
    "cn_employment_base_year": 2010,
    "us_employment_base_year": 1990,
    "per_workers": 1000,
    "allocate_unspecified": True,
    "weights": "base",
}


def test_unspecified_robots_allocated_pro_rata():
    ifr = pd.DataFrame(
        {
            "country": "CHN",
            "industry": ["a", "b", "D", "99"],
            "year": 2015,
            "installations": 0,
            "operational_stock": [100.0, 300.0, 40.0, 60.0],
        }
    )
    out = robots.allocate_unspecified(ifr, "operational_stock").set_index("industry")["robots"]
    assert out["a"] == 125.0 and out["b"] == 375.0


def test_fe_coefficient_invariant_to_weights_and_base_employment():
    rng = np.random.default_rng(1)
    ifr = _ifr(rng)
    panel, es = _firms(rng)
    base, _ = robots.robot_exposure(panel, ifr, _emp(), es, CFG)
    ones, _ = robots.robot_exposure(panel, ifr, _emp(scale=7.3), es, CFG, weights_one=True)
    assert not np.allclose(base["lnINT"], ones["lnINT"])  # the levels do differ
    d = base.assign(lnINT_ones=ones["lnINT"].to_numpy())
    d["y"] = 0.3 * d["lnINT"] + rng.normal(0, 1, len(d)) + d["Stkcd"].str[-2:].astype(int) * 0.01
    coefs = []
    for x in ("lnINT", "lnINT_ones"):
        spec = estimate.ModelSpec(name=x, depvar="y", regressors=[x], controls=False, fe=["Stkcd", "year"])
        res = estimate.regression_table(d, [spec], [], "Stkcd").set_index("term")
        coefs.append((res.loc[x, "estimate"], res.loc[x, "std_error"]))
    assert coefs[0][0] == pytest.approx(coefs[1][0], abs=1e-10)
    assert coefs[0][1] == pytest.approx(coefs[1][1], abs=1e-10)


def test_weights_relative_to_base_year_median_and_lag_needs_previous_year():
    rng = np.random.default_rng(2)
    ifr = _ifr(rng)
    panel, es = _firms(rng, n=30)
    out, info = robots.robot_exposure(panel, ifr, _emp(), es, CFG)
    share = es[es.year == 2011].groupby("Stkcd")["amount"].sum()
    prod = es[(es.year == 2011) & (es.detail == "生产人员")].set_index("Stkcd")["amount"]
    med = np.median((prod / share).loc[sorted(panel.Stkcd.unique())])
    assert info["pwp_median_base_year"] == pytest.approx(med, rel=1e-12)
    gaps = out.groupby("Stkcd")["year"].diff() != 1
    assert out.loc[gaps, "L_lnINT"].isna().all()
    ok = ~gaps
    prev = out.groupby("Stkcd")["lnINT"].shift(1)
    np.testing.assert_allclose(out.loc[ok, "L_lnINT"], prev[ok])


def test_missing_ifr_year_is_an_error_naming_industry_years():
    rng = np.random.default_rng(3)
    ifr = _ifr(rng)
    ifr = ifr[~((ifr.country == "CHN") & (ifr.industry == "29") & (ifr.year == 2014))]
    panel, es = _firms(rng, n=40)
    with pytest.raises(InputError) as err:
        robots.robot_exposure(panel, ifr, _emp(), es, CFG)
    assert "29 2014" in str(err.value)


def test_industry_without_base_employment_is_named():
    rng = np.random.default_rng(4)
    panel, es = _firms(rng, n=40)
    emp = _emp()
    with pytest.raises(InputError, match=r"\['29'\]"):
        robots.robot_exposure(panel, _ifr(rng), emp[emp.industry != "29"], es, CFG)
