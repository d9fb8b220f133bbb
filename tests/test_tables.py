"""intelcap.outputs.tables: exact rendered strings, star thresholds, cross-format equality, determinism."""

from __future__ import annotations

import io
import math
import shutil
import zipfile
from datetime import UTC, datetime

import docx
import pandas as pd
import pytest
from _factories import run

from intelcap.errors import InputError
from intelcap.outputs import latex as L
from intelcap.outputs import tables as T
from intelcap.outputs.tables import TableStyle

NAN = math.nan


def _row(model: str, term: str, est: float, se: float, p: float, **kw: object) -> dict:
    base: dict = dict(
        model=model,
        depvar="lnCU",
        term=term,
        estimate=est,
        std_error=se,
        t_value=est / se if se == se and se else NAN,
        p_value=p,
        nobs=10130,
        n_clusters=1520,
        r2_within=NAN,
        fixed_effects="",
        vcov="CRV1:Stkcd",
        controls="no",
        sample="all",
    )
    base.update(kw)
    return base


@pytest.fixture
def reg() -> pd.DataFrame:
    """Two models, three terms; model (2) has FE, within R², controls and a first-stage F stat."""
    m2 = dict(fixed_effects="Stkcd+year", controls="yes", r2_within=0.37935)
    return pd.DataFrame(
        [
            _row("(1)", "lnINT", 0.0474, 0.0041, 0.0009),
            _row("(1)", "_cons", -0.1774, 0.0112, 1e-9),
            _row("(2)", "_cons", -0.6345, 0.094, 0.06, **m2),  # out of order: _cons must go last
            _row("(2)", "lnINT", 0.0345, 0.0135, 0.01, **m2),
            _row("(2)", "Size", -0.0004, 0.0041, 0.92, **m2),
            _row("(2)", "stat:first_stage_F", 86.894, NAN, NAN, nobs=0, n_clusters=0, fixed_effects=""),
        ]
    )


# the coefficient rows, the same in both languages (Chinese and English differ in the labels around them)
COEFS = """\
|  | lnCU | lnCU |
| lnINT | 0.047*** | 0.035** |
|  | (0.004) | (0.014) |
| Size |  | 0.000 |
|  |  | (0.004) |
"""

EXPECTED_ZH = f"""\
表 2　基准回归结果

| 变量 | (1) | (2) |
|:---|:---:|:---:|
{COEFS}| _cons | -0.177*** | -0.635* |
|  | (0.011) | (0.094) |
| 控制变量 | 否 | 是 |
| 企业固定效应 | 否 | 是 |
| 年份固定效应 | 否 | 是 |
| 观测值 | 10,130 | 10,130 |
| 组内R² |  | 0.379 |
| 聚类数 | 1,520 | 1,520 |
| 第一阶段F值 |  | 86.89 |

注：*、**、*** 分别表示在 10%、5%、1% 水平上显著；括号内为聚类到企业层面的稳健标准误。
"""

EXPECTED_EN = f"""\
Table 2. Baseline regressions

| Variable | (1) | (2) |
|:---|:---:|:---:|
{COEFS}| Constant | -0.177*** | -0.635* |
|  | (0.011) | (0.094) |
| Controls | No | Yes |
| Firm FE | No | Yes |
| Year FE | No | Yes |
| Observations | 10,130 | 10,130 |
| Within R² |  | 0.379 |
| Clusters | 1,520 | 1,520 |
| First-stage F (KP rk Wald) |  | 86.89 |

Notes: *, **, *** denote significance at 10%, 5%, 1%; standard errors clustered by firm in parentheses.
"""


def test_regression_markdown_zh_exact(reg: pd.DataFrame) -> None:
    assert T.regression_markdown(reg, TableStyle(lang="zh", title="table2")) == EXPECTED_ZH


def test_regression_markdown_en_exact(reg: pd.DataFrame) -> None:
    assert T.regression_markdown(reg, TableStyle(lang="en", title="table2")) == EXPECTED_EN


@pytest.mark.parametrize(
    ("p", "stars"),
    [(0.0099, "***"), (0.01, "**"), (0.0499, "**"), (0.05, "*"), (0.0999, "*"), (0.1, ""), (NAN, "")],
)
def test_star_thresholds(p: float, stars: str) -> None:
    assert T.stars_for(p) == stars


def test_stars_use_unrounded_p(reg: pd.DataFrame) -> None:
    # p = 0.01004 displays as 0.010 but is not below 1%: two stars, as esttab gives.
    reg.loc[reg["term"].eq("lnINT") & reg["model"].eq("(1)"), "p_value"] = 0.01004
    assert "| lnINT | 0.047** | 0.035** |" in T.regression_markdown(reg, TableStyle())


def test_t_switch_and_note(reg: pd.DataFrame) -> None:
    md = T.regression_markdown(reg, TableStyle(paren="t"))
    assert "|  | (11.561) | (2.556) |" in md  # 0.0474/0.0041 = 11.5609..., 0.0345/0.0135 = 2.5556
    assert md.endswith(
        "注：*、**、*** 分别表示在 10%、5%、1% 水平上显著；括号内为 t 值（标准误聚类到企业层面）。\n"
    )


def test_custom_stars_change_note_and_yes_no(reg: pd.DataFrame) -> None:
    style = TableStyle(stars=((0.05, "†"), (0.01, "‡")), yes_no=("控制", "不控制"))
    md = T.regression_markdown(reg, style)
    assert "| lnINT | 0.047‡ | 0.035† |" in md
    assert "| 企业固定效应 | 不控制 | 控制 |" in md
    assert "†、‡ 分别表示在 5%、1% 水平上显著" in md


def test_keep_order_cons_and_errors(reg: pd.DataFrame) -> None:
    md = T.regression_markdown(reg, TableStyle(keep=["Size", "lnINT"], notes=[]))
    body = [ln.split(" | ")[0] for ln in md.splitlines() if ln.startswith("| ") and not ln.startswith("|  |")]
    assert body[:3] == ["| 变量", "| Size", "| lnINT"]
    assert "_cons" not in md and not md.rstrip().endswith("。")
    with pytest.raises(InputError, match="absent from every model"):
        T.regression_markdown(reg, TableStyle(keep=["lnINTT"]))
    with pytest.raises(InputError, match="duplicated"):
        T.regression_markdown(pd.concat([reg, reg.iloc[:1]]), TableStyle())
    with pytest.raises(InputError, match="lacks columns"):
        T.regression_markdown(reg.drop(columns="vcov"), TableStyle())


def test_number_formatting() -> None:
    assert T.fmt_number(0.0125) == "0.013"  # half away from zero on the shown value
    assert T.fmt_number(-0.0125) == "-0.013"
    assert T.fmt_number(2.675, 2) == "2.68"  # binary 2.67499999... would give 2.67 with round()
    assert T.fmt_number(-0.0004) == "0.000"  # no negative zero
    assert T.fmt_number(NAN) == "" and T.fmt_number(None) == "" and T.fmt_number(math.inf) == ""
    assert T.fmt_count(10130) == "10,130" and T.fmt_count(10130.0, thousands=False) == "10130"
    assert T.fmt_pct(0.1) == "10" and T.fmt_pct(0.001) == "0.1"


def test_column_titles_stage_groups_and_sample_fallback() -> None:
    iv = pd.DataFrame(
        [
            _row("(1)", "lnINTUS", 0.0003, 0.00005, 0.0001, depvar="lnINT", stage="first", sample="non_soe"),
            _row("(2)", "lnINT", 0.2285, 0.110, 0.04, stage="second", sample="SOE"),
            _row("(2)", "stat:ar_ci", NAN, NAN, NAN, text="[0.01, 0.45]"),
        ]
    )
    style = TableStyle(column_groups=[("ownership", 2)], notes=[], term_digits={"lnINTUS": 4})
    md = T.regression_markdown(iv, style)
    lines = md.splitlines()
    assert lines[0] == "|  | 企业所有制 |  |"
    assert lines[2:6] == [
        "| 变量 | (1) | (2) |",
        "|  | 非国有企业 | 国有企业 |",  # from `sample`, since column_title is absent
        "|  | 第一阶段 | 第二阶段 |",
        "|  | lnINT | lnCU |",
    ]
    assert "| lnINTUS | 0.0003*** |  |" in lines and "|  | (0.0001) |  |" in lines
    assert "| AR检验95%置信集 |  | [0.01, 0.45] |" in lines
    assert not any(ln.startswith("| 组内R²") for ln in lines)  # no model reports it: row dropped
    tex = T.regression_latex(iv, style)
    assert r"& \multicolumn{2}{c}{企业所有制} \\" in tex and r"\cmidrule(lr){2-3}" in tex
    with pytest.raises(InputError, match="spans 3 columns"):
        T.regression_markdown(iv, TableStyle(column_groups=[("ownership", 3)]))


def _md_cells(md: str) -> list[list[str]]:
    rows = [ln for ln in md.splitlines() if ln.startswith("|") and not ln.startswith("|:")]
    return [[c.strip() for c in ln.strip("|").split(" | ")] for ln in rows]


def test_docx_matches_markdown_and_is_deterministic(reg: pd.DataFrame) -> None:
    style = TableStyle(title="table2")
    data = T.regression_docx(reg, style)
    assert data == T.regression_docx(reg, style)
    document = docx.Document(io.BytesIO(data))
    cells = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert cells == _md_cells(T.regression_markdown(reg, style))
    assert document.paragraphs[0].text == "表 2　基准回归结果"
    assert document.paragraphs[-1].text.startswith("注：*、**、*** 分别表示")
    cp = document.core_properties
    assert (cp.author, cp.last_modified_by, cp.revision) == ("intelcap", "intelcap", 1)
    assert cp.created == cp.modified == datetime(2000, 1, 1, tzinfo=UTC)
    assert {i.date_time for i in zipfile.ZipFile(io.BytesIO(data)).infolist()} == {(1980, 1, 1, 0, 0, 0)}
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
    assert 'w:eastAsia="SimSun"' in xml and 'w:ascii="Times New Roman"' in xml
    assert xml.count('<w:top w:val="single" w:sz="12"') == 3  # top rule over the 3 header cells


def test_latex_escaping_and_booktabs(reg: pd.DataFrame) -> None:
    assert L.latex_escape("a_b 5% x^2 & #1 \\ {}") == (
        r"a\_b 5\% x\textasciicircum{}2 \& \#1 \textbackslash{} \{\}"
    )
    tex = T.regression_latex(reg, TableStyle(title="table2"))
    for needle in (
        r"\toprule",
        r"\midrule",
        r"\bottomrule",
        r"\begin{tabular}{lD{.}{.}{3.6}D{.}{.}{3.5}}",
        r"\renewcommand{\thetable}{2}",
        r"\caption{基准回归结果}",
        r"变量 & \multicolumn{1}{c}{(1)} & \multicolumn{1}{c}{(2)} \\",
        r"lnINT & 0.047\sym{***} & 0.035\sym{**} \\",
        r"\_cons & -0.177\sym{***} & -0.635\sym{*} \\",
        r"组内R\ensuremath{^{2}} &  & 0.379 \\",
        r"10\%、5\%、1\%",
    ):
        assert needle in tex, needle
    assert tex.count(r"\midrule") == 2  # under the header and before the statistics (esttab)
    doc = L.latex_document(tex, "zh")
    assert doc.startswith(r"\documentclass[UTF8,zihao=5]{ctexart}") and doc.endswith("\\end{document}\n")
    en = L.latex_document(T.regression_latex(reg, TableStyle(lang="en")), "en")
    assert r"\documentclass[10pt]{article}" in en and "ctex" not in en


@pytest.mark.skipif(shutil.which("xelatex") is None, reason="xelatex not installed")
def test_latex_zh_compiles(reg: pd.DataFrame, tmp_path) -> None:
    body = T.regression_latex(reg, TableStyle(title="table2")) + T.keywords_latex(
        {"宏观政策": ["中国制造2025", "互联网+"]}, TableStyle(title="table7")
    )
    (tmp_path / "t.tex").write_text(L.latex_document(body, "zh"), encoding="utf-8")
    res = run(["xelatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], tmp_path, timeout=120)
    assert res.returncode == 0, res.stdout[-2000:]
    assert (tmp_path / "t.pdf").stat().st_size > 1000


def test_descriptive_exact() -> None:
    desc = pd.DataFrame(
        {
            "variable": ["lnCU", "Effciency"],
            "n": [10130, 10130],
            "mean": [2.4144, 0.7171],
            "sd": [1.7275, 0.2351],
            "min": [-5.9204, 0.0],
            "max": [6.3989, 4.5365],
        }
    )
    assert T.descriptive_markdown(desc, TableStyle(title="table1")) == (
        "表 1　主要变量的描述性统计\n\n"
        "| 变量 | 观测值 | 均值 | 标准差 | 最小值 | 最大值 |\n"
        "|:---|:---:|:---:|:---:|:---:|:---:|\n"
        "| lnCU | 10,130 | 2.414 | 1.728 | -5.920 | 6.399 |\n"
        "| Efficiency | 10,130 | 0.717 | 0.235 | 0.000 | 4.537 |\n"  # paper's "Effciency" corrected
    )
    assert T.descriptive_markdown(desc, TableStyle(lang="en", thousands=False)).splitlines()[:3] == [
        "| Variable | N | Mean | SD | Min | Max |",
        "|:---|:---:|:---:|:---:|:---:|:---:|",
        "| lnCU | 10130 | 2.414 | 1.728 | -5.920 | 6.399 |",
    ]


def test_keywords_exact() -> None:
    cats = {"宏观政策": ["中国制造2025", "工业4.0", "互联网+"], "范式特征": ["自动化", "数字化"]}
    assert T.keywords_markdown(cats, TableStyle(title="table7")) == (
        "表 7　工业智能化的主题关键词集\n\n"
        "| 类别 | 关键词 |\n"
        "|:---|:---|\n"
        "| 宏观政策 | 中国制造2025、工业4.0、互联网+ |\n"
        "| 范式特征 | 自动化、数字化 |\n"
    )
    assert T.keywords_markdown(cats, TableStyle(lang="en")) == (
        "| Category | Keywords |\n"
        "|:---|:---|\n"
        "| Macro policy | 中国制造2025, 工业4.0, 互联网+ |\n"
        "| Paradigm features | 自动化, 数字化 |\n"
    )
    en_doc = L.latex_document(T.keywords_latex(cats, TableStyle(lang="en")), "en")
    assert r"\usepackage[UTF8,scheme=plain]{ctex}" in en_doc  # CJK keywords in an English document
    assert r"\begin{tabular}{l>{\raggedright\arraybackslash}p{0.7\linewidth}}" in en_doc  # long lists wrap


def test_frame_and_write_table(reg: pd.DataFrame, tmp_path) -> None:
    attrition = pd.DataFrame({"step": ["raw", "drop ST"], "firms": [1800, 1520], "share": [1.0, 0.84444]})
    assert T.frame_markdown(attrition, TableStyle(labels={"step": "步骤"})) == (
        "| 步骤 | firms | share |\n|:---|:---:|:---:|\n| raw | 1,800 | 1.000 |\n| drop ST | 1,520 | 0.844 |\n"
    )
    out = {"md": tmp_path / "t2.md", "tex": tmp_path / "sub" / "t2.tex", "docx": tmp_path / "t2.docx"}
    T.write_table("regression", reg, out, TableStyle(title="table2"))
    assert out["md"].read_text(encoding="utf-8") == EXPECTED_ZH
    assert out["tex"].read_text(encoding="utf-8").startswith("% Generated by intelcap.outputs.tables")
    assert out["docx"].read_bytes() == T.regression_docx(reg, TableStyle(title="table2"))
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "sub",
        "t2.docx",
        "t2.md",
        "t2.tex",
    ]  # no temp files
    with pytest.raises(InputError, match="unknown output formats"):
        T.write_table("regression", reg, {"pdf": tmp_path / "x.pdf"})
