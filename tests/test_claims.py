"""The claims ledger (config/paper_claims.yaml) covers every number of the paper, and outputs/claims.py computes
each status from the result CSVs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from intelcap.errors import InputError
from intelcap.outputs import claims

# ---- what the paper prints, counted from its Tables 1-8 (the count derivation of the coverage test)
CONTROLS = ["ListAge", "Board", "Size", "ROA", "Lev", "Mfee", "Debcost", "Dual"]
# 表1 and its 续表: 13 rows x 观测值/均值/标准差/最小值/最大值
TABLE1_VARS = ["lnCU", "lnINT", *CONTROLS, "Efficiency", "Humcap", "ED"]
# table -> model -> printed coefficient rows (each printed with estimate, (SE) and stars)
TERMS = {
    "table2": {"(1)": ["lnINT", "_cons"], "(2)": ["lnINT", *CONTROLS, "_cons"], "(3)": ["lnINT", "_cons"],
               "(4)": ["lnINT", *CONTROLS, "_cons"]},
    "table3": {"(1)": ["lnINT", "_cons"], "(2)": ["lnINT", "_cons"], "(3)": ["L_lnINT", "_cons"],
               "(4)": ["lnINT", "Age2", "lnwage", "_cons"], "(5)": ["lnINT", "_cons"]},
    "table4": {"(1)": ["lnINTUS", "_cons"], "(2)": ["lnINT", "_cons"]},
    "table5": {f"({i})": ["lnINT", "_cons"] for i in range(1, 4)},
    "table6": {f"({i})": ["lnINT", "_cons"] for i in range(1, 11)},
    "table8": {"(1)": ["IM", "_cons"]},
}  # fmt: skip
# rows below the coefficients: 观测值, (组内) R2, and the 控制/不控制 rows (控制变量 is a row except in Table 2)
MODEL_ROWS = {
    "table2": ["nobs", "r2", "firm_fe", "year_fe"],
    "table3": ["nobs", "r2", "controls", "firm_fe", "year_fe", "region_year_fe", "industry_year_fe"],
    "table4": ["nobs", "r2", "controls", "firm_fe", "year_fe"],
    "table5": ["nobs", "r2", "controls", "firm_fe", "year_fe"],
    "table6": ["nobs", "r2", "controls", "firm_fe", "year_fe"],
    "table8": ["nobs", "r2", "controls", "firm_fe", "year_fe"],
}
EXTRA_TABLE_ROWS = [
    "table4.(1).first_stage_F",  # 第一阶段 F 值 86.89
    *(
        f"table7.{c}.count"
        for c in ("macro_policy", "paradigm", "technology", "equipment", "extension", "total")
    ),
]
# table notes and in-text claims, in the order of the paper
TEXT = [
    "notes.stars", *(f"notes.cluster.table{t}" for t in (2, 3, 4, 5, 6, 8)), "notes.table1.mechanism_vars",
    "text.table7.categories", "text.abstract.h1", "text.abstract.im", "text.abstract.larger_non_soe",
    "text.abstract.larger_west", "text.abstract.larger_non_high_tech", "text.abstract.larger_technology",
    "text.intro.cu_before_2015", "text.lit.exporters_cu_gap", "text.sample.years", "text.sample.winsor",
    "text.sample.min_revenue", "text.sample.firms", "text.fig2.installations_2021", "text.fig2.growth_2021",
    "text.fig2.years", "text.table1.lnint_min", "text.table1.lnint_max", "text.table1.lncu_max",
    "text.table1.lncu_min", "text.table1.lncu_negative", "text.t2.c1_value", "text.t2.c1_1pct",
    "text.t2.c3_value", "text.t2.c3_1pct", "text.t2.c3_below_c1", "text.t2.c2_value", "text.t2.c2_1pct",
    "text.t2.c4_value", "text.t2.c4_1pct", "text.t2.h1_positive", "text.t3.c1_positive", "text.t3.c2_consistent",
    "text.t3.c3_5pct", "text.t3.c4_robust", "text.t3.c5_1pct", "text.t4.f_value", "text.t4.f_gt_10",
    "text.t4.first_stage_positive", "text.t4.second_stage_positive", "text.t5.efficiency_1pct",
    "text.t5.humcap_value", "text.t5.humcap_positive", "text.t5.ed_5pct", "text.t6.non_soe_significant",
    "text.t6.soe_not_significant", "text.t6.west_5pct", "text.t6.central_5pct", "text.t6.east_not_significant",
    "text.t6.west_value", "text.t6.central_value", "text.t6.west_gt_central_gt_east",
    "text.t6.non_high_tech_significant", "text.t6.high_tech_not_significant", "text.t6.labor_not_significant",
    "text.t6.capital_10pct", "text.t6.technology_5pct", "text.t6.technology_gt_capital",
    "text.t6.capital_gt_labor", "text.t8.im_5pct", "text.t8.im_value",
]  # fmt: skip


def expected_ids() -> list[str]:
    ids = [f"table1.{v}.{s}" for v in TABLE1_VARS for s in ("n", "mean", "sd", "min", "max")]
    for table, models in TERMS.items():
        for model, terms in models.items():
            ids += [f"{table}.{model}.{t}.{s}" for t in terms for s in ("estimate", "std_error", "stars")]
            ids += [f"{table}.{model}.{r}" for r in MODEL_ROWS[table]]
    return ids + EXTRA_TABLE_ROWS + TEXT


@pytest.fixture(scope="module")
def ledger(root):
    return claims.load_ledger(root / "config" / "paper_claims.yaml")


def test_ledger_has_a_row_for_every_number_of_the_paper(ledger):
    want = expected_ids()
    # 65 (表1) + 88 (表2) + 71 (表3) + 23 (表4) + 33 (表5) + 110 (表6) + 6 (表7) + 11 (表8) table rows, 69 notes/text
    assert len(want) == len(set(want)) == 65 + 88 + 71 + 23 + 33 + 110 + 6 + 11 + 69 == 476
    have = {c["id"] for c in ledger}
    assert sorted(set(want) - have) == []
    assert sorted(have - set(want)) == []  # nothing in the ledger the derivation does not account for


def test_every_row_is_checkable_or_says_why_not(ledger):
    for c in ledger:
        if c["kind"] == "not_computable":
            assert len(c["reason"]) > 10, c["id"]
        else:
            assert "cell" in c or "cells" in c or c["kind"] == "stars_convention", c["id"]


def _frames(tmp_path: Path, rows: list[dict], name: str = "table6") -> dict[str, pd.DataFrame]:
    # written and read back as CSV, the way the rule reads our tables
    pd.DataFrame(rows).to_csv(tmp_path / f"{name}.csv", index=False)
    return {name: pd.read_csv(tmp_path / f"{name}.csv")}


def _row(model, est, p, se=0.01, **kw):
    return {
        "model": model,
        "term": "lnINT",
        "estimate": est,
        "std_error": se,
        "p_value": p,
        "nobs": 100,
        **kw,
    }


def _one(claim: dict, tables) -> tuple[str, object]:
    out = claims.evaluate([{"where": "test", **claim}], tables).iloc[0]
    return out["status"], out["ours"]


CELL5 = {"table": "table6", "model": "(5)", "term": "lnINT"}


@pytest.mark.parametrize(
    ("claim", "status"),
    [
        ({"id": "a", "kind": "value", "paper": 0.082, "tol": 0.01, "cell": {**CELL5, "stat": "estimate"}}, "holds"),
        ({"id": "a", "kind": "value", "paper": 0.082, "tol": 0.002, "cell": {**CELL5, "stat": "estimate"}}, "fails"),
        ({"id": "a", "kind": "stars", "paper": "**", "cell": {**CELL5, "stat": "p_value"}}, "holds"),
        ({"id": "a", "kind": "stars", "paper": "***", "cell": {**CELL5, "stat": "p_value"}}, "fails"),
        ({"id": "a", "kind": "significant", "level": 0.05, "sign": 1, "cell": CELL5}, "holds"),
        ({"id": "a", "kind": "significant", "level": 0.05, "sign": -1, "cell": CELL5}, "fails"),
        ({"id": "a", "kind": "significant", "level": 0.01, "cell": CELL5}, "fails"),
        ({"id": "a", "kind": "not_significant", "level": 0.10, "cell": {**CELL5, "model": "(3)"}}, "holds"),
        ({"id": "a", "kind": "not_significant", "level": 0.10, "cell": CELL5}, "fails"),
        ({"id": "a", "kind": "sign", "sign": 1, "cell": CELL5}, "holds"),
        ({"id": "a", "kind": "count", "paper": 100, "cell": {**CELL5, "stat": "nobs"}}, "holds"),
        ({"id": "a", "kind": "count", "paper": 101, "cell": {**CELL5, "stat": "nobs"}}, "fails"),
        ({"id": "a", "kind": "greater", "threshold": 0.08, "cell": {**CELL5, "stat": "estimate"}}, "holds"),
        ({"id": "a", "kind": "less", "threshold": 0.08, "cell": {**CELL5, "stat": "estimate"}}, "fails"),
        ({"id": "a", "kind": "ordering", "cells": [CELL5, {**CELL5, "model": "(4)"}, {**CELL5, "model": "(3)"}]},
         "holds"),
        ({"id": "a", "kind": "ordering", "cells": [{**CELL5, "model": "(3)"}, CELL5]}, "fails"),
        ({"id": "a", "kind": "ordering", "cells": [CELL5, {**CELL5, "model": "(9)"}]}, "no result"),
        ({"id": "a", "kind": "indicator", "token": "Stkcd", "present": True,
          "cell": {**CELL5, "stat": "fixed_effects"}}, "holds"),
        ({"id": "a", "kind": "indicator", "token": "province^year", "present": False,
          "cell": {**CELL5, "stat": "fixed_effects"}}, "holds"),
        ({"id": "a", "kind": "indicator", "token": "year", "present": False,
          "cell": {**CELL5, "stat": "fixed_effects"}}, "fails"),
        ({"id": "a", "kind": "not_computable", "reason": "cited literature [42]"}, "not computable"),
    ],
)  # fmt: skip
def test_each_predicate_on_a_tiny_fabricated_table(tmp_path, claim, status):
    fe = "Stkcd+year"
    tables = _frames(
        tmp_path,
        [
            _row("(3)", 0.018, 0.23, fixed_effects=fe),
            _row("(4)", 0.037, 0.03, fixed_effects=fe),
            _row("(5)", 0.085, 0.012, fixed_effects=fe),
        ],
    )
    assert _one(claim, tables)[0] == status


def test_changing_one_csv_cell_flips_the_status(tmp_path):
    claim = {"id": "west", "kind": "significant", "level": 0.05, "cell": CELL5}
    assert _one(claim, _frames(tmp_path, [_row("(5)", 0.08, 0.049)])) == ("holds", 0.049)
    assert _one(claim, _frames(tmp_path, [_row("(5)", 0.08, 0.051)])) == ("fails", 0.051)


def test_table1_table7_and_figure2_cells(tmp_path):
    t = {
        "table1": pd.DataFrame({"variable": ["lnINT"], "n": [10], "mean": [0.5], "sd": [1.0], "min": [-3.7],
                                "max": [3.9]}),
        "table7": pd.DataFrame({"category": ["宏观政策", "宏观政策", "范式特征"], "keyword": ["a", "b", "c"]}),
        "ifr_global": pd.DataFrame({"year": [2020, 2021, 2021], "installations": [400, 520, 999],
                                    "vintage": ["WR2022", "WR2022", "first_published"]}),
    }  # fmt: skip
    assert claims.cell_value(t, {"table": "table1", "variable": "lnINT", "stat": "min"}) == -3.7
    assert claims.cell_value(t, {"table": "table7", "category": "宏观政策", "stat": "count"}) == 2
    assert claims.cell_value(t, {"table": "table7", "stat": "count"}) == 3
    assert claims.cell_value(t, {"table": "table7", "stat": "n_categories"}) == 2
    assert claims.cell_value(t, {"table": "ifr_global", "year": 2021, "stat": "installations"}) == 520
    assert claims.cell_value(t, {"table": "ifr_global", "year": 2021, "stat": "growth"}) == pytest.approx(0.3)
    assert claims.cell_value(t, {"table": "ifr_global", "year": 2019, "stat": "growth"}) is None


def test_the_paper_contradicts_itself_exactly_twice(ledger):
    # evaluated on its own printed numbers: Table 2 col 3 is ** though the text says 1%; Table 6 puts capital-
    # intensive (0.071) above technology-intensive (0.036) though the text says the reverse
    tables = {t: pd.DataFrame(columns=["model", "term"]) for t in TERMS}
    out = claims.evaluate(ledger, tables)
    assert sorted(out.loc[out["paper_self"] == "fails", "id"]) == [
        "text.t2.c3_1pct",
        "text.t6.technology_gt_capital",
    ]
    assert (out.loc[out["kind"] == "stars", "paper_self"] == "holds").all()


def test_dgp_truth_on_synthetic_data(tmp_path, ledger):
    tables = _frames(tmp_path, [{**_row("(4)", 0.030, 0.001, se=0.002)}], "table2")
    truth = {"estimands": {"lnINT_on_lnCU_true": 0.034}}
    out = claims.evaluate(ledger, tables, truth).set_index("id")
    row = out.loc["text.t2.c4_value"]
    assert (row["status"], row["dgp_truth"]) == ("holds", 0.034)
    # |0.030 - 0.034| = 0.004 > 1.96 x 0.002: our interval misses the planted value
    assert row["truth_status"] == "holds; ours misses truth"
    assert out.loc["text.t2.h1_positive", "truth_status"] == "holds"
    assert out.loc["text.t6.soe_not_significant", "truth_status"] == ""


def test_markdown_counts_statuses(tmp_path, ledger):
    out = claims.evaluate(ledger, _frames(tmp_path, [_row("(4)", 0.034, 0.001)], "table2"))
    md = claims.to_markdown(out)
    assert f"{len(ledger)} claims" in md and f"not computable: {(out.status == 'not computable').sum()}" in md
    assert md.count("\n| ") == len(ledger) + 1


def test_bad_ledger_names_file_row_and_field(tmp_path):
    bad = tmp_path / "claims.yaml"
    bad.write_text(
        json.dumps({"claims": [{"id": "x", "where": "p", "kind": "value", "paper": 1, "cell": {}}]}), "utf-8"
    )
    with pytest.raises(
        InputError, match=r"claims\.yaml: claims\[1\] \(x\): kind value needs field\(s\) \['tol'\]"
    ):
        claims.load_ledger(bad)
    bad.write_text(json.dumps({"claims": [{"id": "x", "where": "p", "kind": "guess"}]}), "utf-8")
    with pytest.raises(InputError, match="kind 'guess' is not one of"):
        claims.load_ledger(bad)
