"""Text audit and Table 8 variants (docs/methods.md#text-audit): hand-computed counts on a tiny corpus."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from intelcap.errors import InputError
from intelcap.measures.text import (
    KeywordSpec,
    count_extracted,
    count_variants,
    extract_shard,
    text_index,
)
from intelcap.measures.text_audit import keyword_audit, variant_measures

pytestmark = pytest.mark.unit

SPEC = KeywordSpec(categories={"甲": ("机器人", "自动化"), "乙": ("大数据",)})
ALT = KeywordSpec(categories={"甲": ("机器人",), "丙": ("云计算",)})

# 2015: full report 机器人 3, 自动化 1, 大数据 2 (one negated: 不涉及大数据); MD&A 机器人 1, 自动化 1, 大数据 1
# (negated). 2016: no MD&A heading; 机器人 1, 云计算 1. Another firm, 2015: nothing.
REPORTS = {
    "000001_2015.txt": (
        "公司简介\n我们使用机器人和大数据。\n管理层讨论与分析\n公司推进自动化，不涉及大数据，机器人很多。\n"
        "第四节 重要事项\n机器人。\n"
    ),
    "000001_2016.txt": "公司简介\n机器人 与 云计算。\n",
    "000002_2015.txt": "公司简介\n本年度经营稳定。\n",
}
MDNA_CHARS = len("公司推进自动化，不涉及大数据，机器人很多。")  # 21: the normalized section, no whitespace
FULL_CHARS = {  # the lines without line breaks and spaces (第四节 重要事项 -> 第四节重要事项)
    ("000001", 2015): 4 + 12 + 8 + 21 + 7 + 4,
    ("000001", 2016): 4 + 8,  # 机器人与云计算。
    ("000002", 2015): 4 + 8,
}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    d = tmp_path_factory.mktemp("audit")
    for name, text in REPORTS.items():
        (d / name).write_text(text, encoding="utf-8")
    return extract_shard(sorted(d.iterdir()), d)


@pytest.fixture(scope="module")
def result(extracted):
    return count_variants(extracted, SPEC, {"alt": ALT})


def _cell(df, stk, year, dic, kw, col):
    row = df[(df.Stkcd == stk) & (df.year == year) & (df.dictionary == dic) & (df.keyword == kw)]
    assert len(row) == 1
    v = row[col].iloc[0]
    return None if v is pd.NA else int(v)


def test_variant_counts_hand_computed(result):
    v = result.variants
    # full report, with and without the negation rule
    assert [_cell(v, "000001", 2015, "baseline", k, "full") for k in SPEC.keywords] == [3, 1, 1]
    assert [_cell(v, "000001", 2015, "baseline", k, "full_noneg") for k in SPEC.keywords] == [3, 1, 2]
    # MD&A only
    assert [_cell(v, "000001", 2015, "baseline", k, "mdna") for k in SPEC.keywords] == [1, 1, 0]
    assert [_cell(v, "000001", 2015, "baseline", k, "mdna_noneg") for k in SPEC.keywords] == [1, 1, 1]
    # no MD&A heading: NA, not 0
    assert [_cell(v, "000001", 2016, "baseline", k, "mdna") for k in SPEC.keywords] == [None, None, None]
    assert [_cell(v, "000001", 2016, "baseline", k, "full") for k in SPEC.keywords] == [1, 0, 0]
    # the alternative dictionary, counted with the baseline's rules
    assert [_cell(v, "000001", 2016, "alt", k, "full") for k in ALT.keywords] == [1, 1]
    assert [_cell(v, "000001", 2015, "alt", k, "full") for k in ALT.keywords] == [3, 0]
    assert len(v) == 3 * (3 + 2)


def test_chars_hand_computed(result):
    ch = result.chars.set_index(["Stkcd", "year"])
    assert int(ch.loc[("000001", 2015), "chars_mdna"]) == MDNA_CHARS == 21
    assert ch.loc[("000001", 2016), "chars_mdna"] is pd.NA
    assert {k: int(ch.loc[k, "chars_full"]) for k in FULL_CHARS} == FULL_CHARS


@pytest.mark.parametrize("section", ["full", "mdna"])
def test_default_counts_and_log_unchanged(extracted, section):
    counts, log = count_extracted(extracted, SPEC, section)
    res = count_variants(extracted, SPEC, {"alt": ALT}, section)
    pd.testing.assert_frame_equal(res.counts, counts)
    pd.testing.assert_frame_equal(res.log, log)


def test_variant_measures(result):
    m, variants = variant_measures(result.variants, result.chars, "full")
    assert [x.column for x in variants] == [
        "IM",
        "IM_mdna",
        "IM_noneg",
        "IM_per10k",
        "IM_drop1",
        "IM_drop2",
        "IM_dict_alt",
    ]
    r = m.set_index(["Stkcd", "year"]).loc[("000001", 2015)]
    assert r["IM"] == np.log1p(5)
    assert r["IM_mdna"] == np.log1p(2)
    assert r["IM_noneg"] == np.log1p(6)
    assert r["IM_per10k"] == pytest.approx(5 / FULL_CHARS[("000001", 2015)] * 10_000, rel=1e-15)
    # leave one out = full minus the category: 甲 has 4 hits, 乙 1
    assert r["IM_drop1"] == np.log1p(5 - 4)
    assert r["IM_drop2"] == np.log1p(5 - 1)
    assert r["IM_dict_alt"] == np.log1p(3)
    r16 = m.set_index(["Stkcd", "year"]).loc[("000001", 2016)]
    assert np.isnan(r16["IM_mdna"]) and r16["IM"] == np.log1p(1) and r16["IM_dict_alt"] == np.log1p(2)
    # the baseline column is text_index's IM, bit for bit
    idx = text_index(result.counts, result.log)
    mm = idx.merge(m, on=["Stkcd", "year"], suffixes=("", "_v"))
    assert len(mm) == len(idx) == 3
    assert (mm["IM"].to_numpy() == mm["IM_v"].to_numpy()).all()


def test_variant_options_and_mdna_baseline(extracted):
    res = count_variants(extracted, SPEC, section="mdna")
    m, variants = variant_measures(
        res.variants, res.chars, "mdna", {"per_10k": False, "leave_one_out": False, "negation_off": True}
    )
    assert [x.column for x in variants] == ["IM", "IM_full", "IM_noneg"]
    r = m.set_index(["Stkcd", "year"]).loc[("000001", 2015)]
    assert (r["IM"], r["IM_full"], r["IM_noneg"]) == (np.log1p(2), np.log1p(5), np.log1p(3))
    idx = text_index(res.counts, res.log)  # only 000001 2015 has an MD&A: no row in text_index, NaN here
    assert len(idx) == 1 and np.isnan(m.set_index(["Stkcd", "year"]).loc[("000001", 2016), "IM"])


def test_audit_numbers_equal_counts(result):
    a = keyword_audit(result.counts, result.log)
    y15 = a[a.year == 2015].set_index(["level", "category", "keyword"])
    assert tuple(y15.loc[("all", "", ""), ["count", "firms", "reports"]]) == (5, 1, 2)
    assert tuple(y15.loc[("category", "甲", ""), ["count", "firms"]]) == (4, 1)
    assert tuple(y15.loc[("keyword", "乙", "大数据"), ["count", "firms", "share"]]) == (1, 1, 0.5)
    assert y15.loc[("keyword", "甲", "机器人"), "per_report"] == 1.5
    y16 = a[a.year == 2016].set_index(["level", "category", "keyword"])
    assert tuple(y16.loc[("keyword", "甲", "自动化"), ["count", "firms", "reports", "share"]]) == (
        0,
        0,
        1,
        0.0,
    )
    # every keyword row is the sum of its counts, every category row the sum of its keyword rows
    kw = a[a.level == "keyword"]
    c = result.counts.groupby(["year", "keyword"])["count"].sum()
    assert all(int(c[(r.year, r.keyword)]) == r.count for r in kw.itertuples())
    cat = kw.groupby(["year", "category"])["count"].sum()
    assert all(cat[(r.year, r.category)] == r.count for r in a[a.level == "category"].itertuples())
    assert list(a.columns) == [
        "year",
        "level",
        "category",
        "keyword",
        "count",
        "firms",
        "reports",
        "share",
        "per_report",
    ]
    assert len(a) == 2 * (1 + 2 + 3)


def test_audit_order_follows_the_dictionary(result):
    shuffled = result.counts.sort_values(["category", "keyword"], ascending=False, kind="stable")
    a = keyword_audit(shuffled, result.log, SPEC.categories)
    rows = a[a.year == 2015][["level", "category", "keyword"]].apply(tuple, axis=1).tolist()
    assert rows == [
        ("all", "", ""),
        ("category", "甲", ""),
        ("keyword", "甲", "机器人"),
        ("keyword", "甲", "自动化"),
        ("category", "乙", ""),
        ("keyword", "乙", "大数据"),
    ]
    with pytest.raises(InputError, match="not in the dictionary"):
        keyword_audit(result.counts, result.log, {"甲": ["机器人", "自动化"]})


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_figure_text_audit_is_deterministic(result, tmp_path, lang):
    from intelcap.outputs.figures import figure_text_audit

    a = keyword_audit(result.counts, result.log, SPEC.categories)
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        one = figure_text_audit(a, {"png": tmp_path / "a.png"}, lang=lang)["png"].read_bytes()
    assert not [w for w in caught if "missing from" in str(w.message)]  # every glyph in the bundled font
    two = figure_text_audit(a, {"png": tmp_path / "b.png"}, lang=lang)["png"].read_bytes()
    assert one[:8] == b"\x89PNG\r\n\x1a\n" and one == two
    with pytest.raises(InputError, match="no category rows"):
        figure_text_audit(a[a.level != "category"], {"png": tmp_path / "c.png"}, lang=lang)
