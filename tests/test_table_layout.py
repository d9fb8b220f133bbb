"""Table layouts from config (output.layout / output.layouts / output.tables), the R² rows, the digits rule,
translated frames, the one permutation p-value rule, Table 4's 2SLS `_cons` and the spec curve's reasons."""

from __future__ import annotations

import io
import math
import re

import docx
import numpy as np
import pandas as pd
import pytest
import yaml

from intelcap.errors import EstimationError, InputError
from intelcap.outputs import tables as T
from intelcap.outputs.tables import TableStyle

NAN = math.nan
CONTROLS = ["ListAge", "Board", "Size", "ROA", "Lev", "Mfee", "Debcost", "Dual"]


@pytest.fixture(scope="module")
def output_cfg(root) -> dict:
    return yaml.safe_load((root / "config" / "config.yaml").read_text(encoding="utf-8"))["output"]


def _row(model: str, term: str, est: float, se: float, p: float, **kw: object) -> dict:
    base: dict = dict(
        model=model, depvar="lnCU", term=term, estimate=est, std_error=se, t_value=est / se, p_value=p,
        nobs=10130, n_clusters=1520, r2_within=0.385, r2=0.9, fixed_effects="Stkcd+year", vcov="CRV1:Stkcd",
        controls="yes", sample="all",
    )  # fmt: skip
    base.update(kw)
    return base


@pytest.fixture
def table3() -> pd.DataFrame:
    """Two FE models with controls, as Table 3 prints them: lnINT, the controls, _cons."""
    rows = []
    for m, b in (("(1)", 0.050), ("(2)", 0.041)):
        rows.append(_row(m, "lnINT", b, 0.014, 0.001))
        rows += [_row(m, c, 0.01 * (i + 1), 0.01, 0.5) for i, c in enumerate(CONTROLS)]
        rows.append(_row(m, "_cons", -0.719, 0.102, 1e-6))
    return pd.DataFrame(rows)


def _md_row_labels(md: str) -> list[str]:
    out = []
    for line in md.splitlines():
        if line.startswith("| ") and not line.startswith("|:"):
            first = line.split("|")[1].strip()
            if first:
                out.append(first)
    return out


def _tex_row_labels(tex: str) -> list[str]:
    out = []
    for line in tex.splitlines():
        if "&" in line and line.rstrip().endswith("\\\\"):
            first = line.split("&")[0].strip()
            if first:
                out.append(_tex_plain(first))
    return out


def _tex_plain(s: str) -> str:
    """A LaTeX cell as text: escaped underscores, and R² however the LaTeX writer spells the square."""
    s = s.replace("\\_", "_")
    s = re.sub(r"\$?R\^\{?2\}?\$?", "R²", s)
    s = re.sub(r"\\textsuperscript\{2\}|\\ensuremath\{\^\{?2\}?\}|\$\^\{?2\}?\$", "²", s)
    return s


def _docx_row_labels(data: bytes) -> list[str]:
    table = docx.Document(io.BytesIO(data)).tables[0]
    return [r.cells[0].text.strip() for r in table.rows if r.cells[0].text.strip()]


PAPER_ROWS = ["变量", "lnINT", "_cons", "控制变量", "企业固定效应", "年份固定效应", "观测值", "组内R²"]


def test_paper_layout_shows_lnint_and_cons_plus_indicator_rows_in_every_format(table3, output_cfg) -> None:
    kw = T.layout_style("table3", output_cfg, CONTROLS)
    assert kw["drop"] == CONTROLS
    style = TableStyle(lang="zh", title="table3", **kw)
    assert _md_row_labels(T.regression_markdown(table3, style)) == PAPER_ROWS
    assert _tex_row_labels(T.regression_latex(table3, style)) == PAPER_ROWS
    assert _docx_row_labels(T.regression_docx(table3, style)) == PAPER_ROWS


def test_full_layout_is_one_switch_away(table3, output_cfg) -> None:
    full = {**output_cfg, "layout": "full"}
    style = TableStyle(lang="zh", title="table3", **T.layout_style("table3", full, CONTROLS))
    want = [
        "变量",
        "lnINT",
        *CONTROLS,
        "_cons",
        "控制变量",
        "企业固定效应",
        "年份固定效应",
        "观测值",
        "组内R²",
    ]
    want += ["含固定效应R²", "聚类数"]
    for labels in (
        _md_row_labels(T.regression_markdown(table3, style)),
        _tex_row_labels(T.regression_latex(table3, style)),
        _docx_row_labels(T.regression_docx(table3, style)),
    ):
        assert labels == want
    # and per table: output.tables.<t>.layout
    one = {**output_cfg, "tables": {"table3": {"layout": "full"}}}
    assert T.layout_style("table3", one, CONTROLS)["drop"] == []
    assert T.layout_style("table5", one, CONTROLS)["drop"] == CONTROLS


def test_layout_merge_order_and_errors(output_cfg) -> None:
    # Table 2 keeps its controls (as the paper prints it); Table 4 has 4 decimals and F first
    assert T.layout_style("table2", output_cfg, CONTROLS)["drop"] == []
    t4 = T.layout_style("table4", output_cfg, CONTROLS)
    assert t4["digits"] == 4 and t4["stat_rows"][0] == "stat:first_stage_F"
    # validate() fills nulls: they inherit
    cfg = {**output_cfg, "tables": {"table5": {"keep": ["lnINT"], "digits": None, "layout": None}}}
    kw = T.layout_style("table5", cfg, CONTROLS)
    assert kw["keep"] == ["lnINT"] and "digits" not in kw
    with pytest.raises(InputError, match="output.layout"):
        T.layout_style("table3", {**output_cfg, "layout": "journal"}, CONTROLS)
    with pytest.raises(InputError, match=r"output.tables.table3 has unknown entries \['dorp'\]"):
        T.layout_style("table3", {**output_cfg, "tables": {"table3": {"dorp": []}}}, CONTROLS)


def test_keep_naming_an_absent_term_names_the_config_key(table3) -> None:
    with pytest.raises(InputError, match=r"output.tables.table3.keep names terms absent .*\['IM'\]"):
        T.regression_markdown(table3, TableStyle(keep=["lnINT", "IM"], title="table3"))


def test_r2_rows_pooled_within_and_overall() -> None:
    df = pd.DataFrame(
        [
            _row("(1)", "lnINT", 0.047, 0.004, 0.001, fixed_effects="", r2=0.01516, r2_within=NAN),
            _row("(2)", "lnINT", 0.034, 0.013, 0.001, r2=0.92151, r2_within=0.37935),
        ]
    )
    style = TableStyle(lang="en", stat_rows=["r2", "r2_within", "r2_overall"], notes=[])
    lines = T.regression_markdown(df, style).splitlines()
    assert "| R² | 0.015 |  |" in lines
    assert "| Within R² |  | 0.379 |" in lines
    assert "| R² (incl. FE) |  | 0.922 |" in lines


def test_digits_rule_by_column_and_by_term() -> None:
    df = pd.DataFrame(
        [
            _row("(1)", "lnINTUS", 0.27675, 0.01373, 1e-9, depvar="lnINT"),
            _row("(1)", "_cons", 0.76382, 0.16803, 1e-6, depvar="lnINT"),
            _row("(2)", "lnINT", 0.03135, 0.00678, 1e-6),
            _row("(2)", "_cons", -0.08434, 0.05803, 0.15),
        ]
    )
    col = T.regression_markdown(df, TableStyle(term_digits={"lnINTUS": 4}, notes=[], stat_rows=[]))
    # column (1) shows lnINTUS, so all of it has 4 decimals; column (2) keeps 3
    assert "| lnINTUS | 0.2768*** |  |" in col and "| _cons | 0.7638*** | -0.084 |" in col
    assert "|  | (0.1680) | (0.058) |" in col
    term = T.regression_markdown(
        df, TableStyle(term_digits={"lnINTUS": 4}, digits_by="term", notes=[], stat_rows=[])
    )
    assert "| lnINTUS | 0.2768*** |  |" in term and "| _cons | 0.764*** | -0.084 |" in term


def test_indicate_rows_summarise_terms() -> None:
    df = pd.DataFrame(
        [
            _row("(1)", "lnINT", 0.03, 0.01, 0.01),
            _row("(2)", "lnINT", 0.03, 0.01, 0.01),
            _row("(2)", "Age2", 0.01, 0.004, 0.01),
            _row("(2)", "lnwage", 0.05, 0.02, 0.02),
        ]
    )
    style = TableStyle(
        lang="zh", indicate={"extra": ["Age2", "lnwage"]}, stat_rows=["extra"], labels={"extra": "遗漏变量"}
    )
    md = T.regression_markdown(df, style)
    assert "| 遗漏变量 | 否 | 是 |" in md.splitlines() and "Age2" not in md


@pytest.mark.parametrize(
    ("lang", "want"), [("zh", "[0.018, 0.045]（有界）"), ("en", "[0.018, 0.045] (bounded)")]
)
def test_ar_set_kind_in_the_table_language(lang: str, want: str) -> None:
    df = pd.DataFrame(
        [
            _row("(2)", "lnINT", 0.031, 0.007, 1e-6),
            {**_row("(2)", "stat:ar_ci", NAN, NAN, NAN), "text": "[0.018, 0.045] (bounded)"},
        ]
    )
    md = T.regression_markdown(df, TableStyle(lang=lang, stat_rows=["stat:ar_ci"], notes=[]))
    assert md.splitlines()[-1].endswith(f"| {want} |")


def test_degenerate_warning_is_translated() -> None:
    msg = (
        "lnINT has no variation left after the fixed effects Stkcd+year+industry^year in model (5): "
        "a regressor without variation, so it has no estimate"
    )
    df = pd.DataFrame(
        [
            _row("(5)", "_cons", -0.067, 0.061, 0.3),
            {**_row("(5)", "stat:degenerate", 1.0, NAN, NAN), "text": msg},
        ]
    )
    md = T.regression_markdown(df, TableStyle(lang="zh"))
    assert (
        "警告（退化估计）：第(5)列中lnINT在控制企业固定效应、年份固定效应、年份-行业固定效应后没有剩余变异"
        in md
    )
    assert msg in T.regression_markdown(df, TableStyle(lang="en"))
    # two messages, the first with the lnCU hint (which holds a colon and a semicolon of its own)
    two = (
        "lnCU is constant (0) in the estimation sample of model (1) (CU = 1 for every firm-year, i.e. sigma_u = 0, "
        "as after cu.on_wrong_skew: zero; see degenerate in results/measures/cu_fit.json): the dependent variable, "
        "so every estimate of the model is 0 or undefined; Size is constant (2.5) in the estimation sample of "
        "model (1): a regressor without variation, so it has no estimate"
    )
    df2 = df.assign(text=["", two], model="(1)")
    last = T.regression_markdown(df2, TableStyle(lang="zh")).splitlines()[-1]
    assert last == (
        "警告（退化估计）：第(1)列估计样本中被解释变量lnCU为常数（0），该列所有估计值均为0或无定义（所有企业-年度的"
        "产能利用率均为1，即随机前沿的无效率项方差为0，见产能利用率估计的拟合报告）；第(1)列估计样本中Size为常数（2.5），"
        "无法估计其系数"
    )


def test_frames_translate_headers_and_cells() -> None:
    diff = pd.DataFrame(
        {
            "group_a": ["non_soe"],
            "group_b": ["soe"],
            "p_permutation_two_sided": [0.002],
            "permutation_level": ["firm"],
        }
    )
    zh = T.frame_markdown(diff, TableStyle(lang="zh", frame="table6_differences"))
    assert zh.splitlines()[0] == "| 组别甲 | 组别乙 | 置换检验双侧p值 | 置换层级 |"
    assert zh.splitlines()[2] == "| 非国有企业 | 国有企业 | 0.002 | 企业 |"
    en = T.frame_markdown(diff, TableStyle(lang="en", frame="table6_differences"))
    assert en.splitlines()[2] == "| Non-SOE | SOE | 0.002 | firm |"
    att = pd.DataFrame({"step": [6], "description": ["operating revenue below 20,000,000 yuan"]})
    assert "| 6 | 主营业务收入不足20,000,000元 |" in T.frame_markdown(
        att, TableStyle(frame="sample_attrition")
    )
    assert "| 6 | operating revenue below 20,000,000 yuan |" in T.frame_markdown(
        att, TableStyle(lang="en", frame="sample_attrition")
    )


def test_frame_without_translation_keeps_text_and_logs(caplog) -> None:
    att = pd.DataFrame({"step": [9], "description": ["a new step nobody translated"]})
    with caplog.at_level("WARNING"):
        md = T.frame_markdown(att, TableStyle(frame="sample_attrition"))
    assert "a new step nobody translated" in md
    assert "attrition_steps has no entry for 'a new step nobody translated'" in caplog.text


# ---------------------------------------------------------------------------------------------- p-values
def test_one_plus_one_rule_hand_computed() -> None:
    from intelcap.econometrics.placebo import permutation_pvalue, placebo_pvalue, plus_one_pvalue

    assert plus_one_pvalue(0, 500) == 1 / 501
    assert plus_one_pvalue(42, 500) == 43 / 501
    # draws -3, -1, 0, 1, 2 against 2: |-3| and |2| are as extreme (two-sided), only 2 directionally
    assert permutation_pvalue([-3, -1, 0, 1, 2], 2.0) == 3 / 6
    assert permutation_pvalue([-3, -1, 0, 1, 2], 2.0, "directional") == 2 / 6
    assert permutation_pvalue([-3, -1, 0, 1, 2], -1.0, "directional") == 3 / 6  # -3, -1 and the +1
    assert placebo_pvalue([-3, -1, 0, 1, 2], 2.0) == permutation_pvalue([-3, -1, 0, 1, 2], 2.0)
    with pytest.raises(EstimationError):
        plus_one_pvalue(3, 2)


def test_table6_permutation_p_uses_the_same_rule() -> None:
    """inference.permutation_difference (Table 6's group differences) reports (b + 1) / (m + 1), as the placebo:
    with m draws every p times (m + 1) is a whole number >= 1, and it equals permutation_pvalue of its draws."""
    from intelcap.econometrics.inference import GroupSample, permutation_difference
    from intelcap.econometrics.placebo import permutation_pvalue

    rng = np.random.default_rng(3)
    n_f, n_t = 40, 5
    f = np.repeat(np.arange(n_f), n_t)
    t = np.tile(np.arange(n_t), n_f)
    G = (f % 2).astype(int)
    x = rng.normal(size=f.size)
    y = 0.5 * x + 3.0 * x * G + rng.normal(size=f.size) * 0.1  # a large difference: no draw as extreme
    w = pd.DataFrame({"w": rng.normal(size=f.size)})
    r = permutation_difference(
        GroupSample(pd.Series(y), pd.Series(x), w, pd.Series(f), pd.Series(t), pd.Series(G)), K=99, seed=1
    )
    assert r.p_two_sided == permutation_pvalue(r.d_perm, r.d_hat, "two-sided")
    assert r.p_one_sided == permutation_pvalue(r.d_perm, r.d_hat, "directional")
    assert r.p_two_sided == 1 / 100  # b = 0 of 99 draws: (0 + 1) / (99 + 1), never 0.000


# ---------------------------------------------------------------------------------------------- Table 4 _cons
def test_iv_constant_equals_pyfixest_intercept_of_pooled_2sls() -> None:
    """On demeaned data by the grand mean, the formula must reproduce pyfixest's own 2SLS intercept and SE."""
    import pyfixest as pf

    from intelcap.econometrics.iv_extras import iv_constant

    rng = np.random.default_rng(3)
    n, g = 600, 60
    z, w, e = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    x = 0.8 * z + 0.3 * w + 0.5 * e + rng.normal(size=n)
    df = pd.DataFrame(
        {"y": 1.5 + 0.4 * x - 0.2 * w + e, "x": x, "w": w, "z": z, "cl": np.repeat(np.arange(g), n // g)}
    )
    fit = pf.feols("y ~ w | x ~ z", data=df, vcov={"CRV1": "cl"})
    X, Z = df[["w", "x"]].to_numpy(), df[["w", "z"]].to_numpy()
    y = df["y"].to_numpy()
    cons, se = iv_constant(
        y - y.mean(), X - X.mean(0), Z - Z.mean(0), fit.coef()[["w", "x"]].to_numpy(), X.mean(0), Z.mean(0),
        y.mean(), df["cl"].to_numpy(), g / (g - 1) * (n - 1) / (n - 3),  # pyfixest CRV1: G/(G-1)(N-1)/(N-K)
    )  # fmt: skip
    assert cons == pytest.approx(fit.coef()["Intercept"], rel=1e-10)
    assert se == pytest.approx(fit.se()["Intercept"], rel=1e-8)


# ---------------------------------------------------------------------------------------------- spec curve
def _absorbed_panel(nf: int = 40, T: int = 5, n_ind: int = 4, seed: int = 1) -> pd.DataFrame:
    """lnINT = firm constant + industry-year series: absorbed exactly by firm + industry x year FE."""
    rng = np.random.default_rng(seed)
    firm, yr = np.repeat(np.arange(nf), T), np.tile(np.arange(T), nf)
    ind = (np.arange(nf) % n_ind)[firm]
    lnint = rng.normal(size=nf)[firm] + rng.normal(size=(n_ind, T))[ind, yr]
    df = pd.DataFrame(
        {
            "Stkcd": (firm + 600000).astype(str),
            "year": yr + 2011,
            "industry": [f"C{13 + j}" for j in ind],
            "province": rng.choice(["北京", "江苏", "四川"], nf * T),
            "lnINT": lnint,
        }
    )
    df["Municipality"] = (df["province"] == "北京").astype(int)
    for c in CONTROLS:
        df[c] = rng.normal(size=len(df))
    df["lnCU"] = 0.3 * lnint + rng.normal(size=len(df))
    return df


def test_spec_curve_says_why_a_specification_has_no_estimate() -> None:
    from intelcap.econometrics import robustness as R

    cfg = {
        "controls": ["none", "paper"],
        "fe": {"firm_year": ["Stkcd", "year"], "industry_year": ["Stkcd", "year", "industry^year"]},
        "samples": ["all"],
    }
    out = R.spec_curve_shard(_absorbed_panel(), "a", "none", cfg, CONTROLS, "Stkcd").set_index(
        ["controls", "fe"]
    )
    assert (
        out.loc[("none", "firm_year"), "status"] == "ok" and out.loc[("paper", "firm_year"), "reason"] == ""
    )
    for ctrl in ("none", "paper"):  # without controls pyfixest raised a ValueError with a blank first line
        row = out.loc[(ctrl, "industry_year")]
        assert row["reason"] == "absorbed_by_fe"
        assert row["status"] == (
            "collinear: lnINT has no variation left after the fixed effects Stkcd+year+industry^year (it varies "
            "only across what they absorb), so its coefficient is not identified"
        )
        assert math.isnan(row["estimate"])


def test_spec_curve_failure_keeps_the_whole_message() -> None:
    from intelcap.econometrics import robustness as R
    from intelcap.econometrics.estimate import ModelSpec

    spec = ModelSpec(name="s", depvar="lnCU", regressors=["lnINT"], controls=False, fe=["Stkcd", "year"])
    exc = EstimationError("model s failed: ValueError: \n   All variables are collinear.\n  ")
    status, reason = R._no_estimate(_absorbed_panel(), spec, CONTROLS, "Stkcd", ["Stkcd", "year"], exc)
    assert (status, reason) == (
        "failed: model s failed: ValueError: All variables are collinear.",
        "estimation_error",
    )


def test_spec_curve_figure_note_counts_missing_specifications() -> None:
    from intelcap.outputs.figures import _spec_missing_note

    note = _spec_missing_note(96, {"absorbed_by_fe": 48}, "en")
    assert note == "144 specifications, 96 estimated; 48 missing: 48 lnINT absorbed by the FE"
    zh = _spec_missing_note(96, {"absorbed_by_fe": 40, "estimation_error": 8}, "zh")
    assert zh == "共 144 个规格，96 个有估计值；48 个缺失：40 个因 lnINT 被固定效应完全吸收；8 个估计失败"
    assert _spec_missing_note(144, {}, "zh") == ""


# ---------------------------------------------------------------------------------------------- integers
def test_comparison_counts_print_as_integers(tmp_path) -> None:
    from intelcap.outputs import compare
    from intelcap.workflow.steps.render import read_frame

    paper = {"models": {"table2": {"(1)": {"nobs": 10130, "terms": {"lnINT": [0.047, 0.004]}}}}}
    ours = {"table2": pd.DataFrame({"model": ["(1)"], "term": ["lnINT"], "estimate": [0.03], "std_error": [0.01],
                                    "nobs": [10035.0]})}  # fmt: skip
    out = compare.paper_vs_replication(paper, ours, None)
    path = tmp_path / "cmp.csv"
    out.to_csv(path, index=False)
    assert path.read_text().splitlines()[1].split(",")[8] == "10035"
    md = T.frame_markdown(read_frame(str(path)), TableStyle(frame="paper_vs_replication"))
    assert re.search(r"\| 10,130 \| 0\.030 \| 0\.010 \| 10,035 \|", md), md
