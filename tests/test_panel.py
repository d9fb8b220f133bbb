"""Winsorization follows Stata's percentile rule; sample construction counts every removal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from intelcap.errors import InputError
from intelcap.ingest import panel


def test_stata_percentile_rule_on_hand_computed_vector():
    x = np.arange(1.0, 11.0)  # n = 10
    # P = n p / 100. p = 10: P = 1 integer -> mean of x(1), x(2) = 1.5; numpy's default gives 1.9
    assert panel.stata_percentile(x, 10) == 1.5
    assert np.percentile(x, 10) == pytest.approx(1.9)
    # p = 90: P = 9 -> mean of x(9), x(10) = 9.5 (numpy default 9.1)
    assert panel.stata_percentile(x, 90) == 9.5
    # p = 25: P = 2.5 -> x(ceil 2.5) = x(3) = 3 (numpy default 3.25)
    assert panel.stata_percentile(x, 25) == 3.0
    assert np.percentile(x, 25) == pytest.approx(3.25)
    # NaN is ignored, as summarize does
    assert panel.stata_percentile(np.append(x, np.nan), 90) == 9.5


def test_winsor2_cuts_1_99_on_200_values():
    rng = np.random.default_rng(0)
    x = rng.permutation(np.arange(1.0, 201.0)) ** 2  # order statistics are k^2
    df = pd.DataFrame({"year": 2011, "v": x})
    out, cut = panel.winsorize(df, ["v"], (1, 99))
    # P = 200 * 0.01 = 2 -> (x(2) + x(3)) / 2 = (4 + 9) / 2; P = 198 -> (198^2 + 199^2) / 2
    assert cut.loc[0, "p_low"] == 6.5 and cut.loc[0, "p_high"] == (198**2 + 199**2) / 2
    assert out["v"].min() == 6.5 and out["v"].max() == (198**2 + 199**2) / 2
    assert (cut.loc[0, "n_below"], cut.loc[0, "n_above"]) == (2, 2)


def test_winsorize_by_year_uses_each_years_percentiles():
    df = pd.DataFrame({"year": [1] * 10 + [2] * 10, "v": list(range(1, 11)) + list(range(101, 111))})
    out, cut = panel.winsorize(df, ["v"], (10, 90), by_year=True)
    assert out.loc[df.year == 1, "v"].min() == 1.5 and out.loc[df.year == 2, "v"].max() == 109.5


def test_unknown_winsor_variable_is_named():
    with pytest.raises(InputError, match="Sizee"):
        panel.winsorize(pd.DataFrame({"year": [1], "Size": [1.0]}), ["Sizee"], (1, 99))


def test_attrition_counts_firm_years_and_firms():
    df = pd.DataFrame({"Stkcd": ["a", "a", "b", "c"], "year": [1, 2, 1, 1]})
    att = panel.Attrition()
    att.start(df, "all")
    df = att.apply(df, df["Stkcd"] == "b", "drop b")
    df = att.apply(df, df["year"] == 2, "drop year 2")
    f = att.frame()
    assert f["firm_years_removed"].tolist() == [0, 1, 1]
    assert f["firms_removed"].tolist() == [0, 1, 0]
    assert f["firm_years_remaining"].tolist() == [4, 3, 2]
    assert f["firms_remaining"].tolist() == [3, 2, 2]


def test_modal_industry_prefers_most_frequent_then_latest():
    prof = pd.DataFrame(
        {
            "Stkcd": ["1"] * 4 + ["2"] * 2,
            "year": [1, 2, 3, 4, 1, 2],
            "industry": ["C39", "C39", "C38", "", "C26", "C27"],
        }
    )
    m = panel.modal_industry(prof)
    assert m["1"] == "C39" and m["2"] == "C27"
