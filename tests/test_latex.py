"""intelcap.outputs.latex and .pdf: math-mode symbols, true minus signs, decimal alignment (dcolumn), notes in a
threeparttable, standalone documents (pdflatex-safe in English), and compiled PDFs whose text holds the numbers
and every label glyph (pdftotext)."""

from __future__ import annotations

import math
import os
import shutil
import subprocess

import pandas as pd
import pytest

from intelcap.errors import InputError
from intelcap.outputs import latex as L
from intelcap.outputs import pdf as P
from intelcap.outputs import tables as T
from intelcap.outputs.tables import TableStyle

NAN = math.nan
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(tool: str) -> str:
    """The tool's path; skipped when missing outside CI, failed when missing in CI (the CI installs it)."""
    path = shutil.which(tool)
    if path is None:
        if IN_CI:
            pytest.fail(f"{tool} missing in CI: run tools/install_system_deps.sh")
        pytest.skip(f"{tool} not installed (tools/install_system_deps.sh)")
    return path


def _row(model: str, term: str, est: float, se: float, p: float, **kw: object) -> dict:
    base: dict = dict(
        model=model, depvar="lnCU", term=term, estimate=est, std_error=se, t_value=est / se if se else NAN,
        p_value=p, nobs=10130, n_clusters=1520, r2_within=0.37935, fixed_effects="Stkcd+year",
        vcov="CRV1:Stkcd", controls="yes", sample="all",
    )  # fmt: skip
    base.update(kw)
    return base


@pytest.fixture
def iv() -> pd.DataFrame:
    """Table 4's shape: two stages, a 4-decimal instrument, an AR p-value row whose label holds β."""
    return pd.DataFrame(
        [
            _row("(1)", "lnINTUS", 0.27675, 0.01373, 1e-9, depvar="lnINT", stage="first"),
            _row("(1)", "_cons", -10.5, 0.5, 1e-9, depvar="lnINT", stage="first"),
            _row("(2)", "lnINT", 0.0311, 0.0072, 0.004, stage="second"),
            _row("(2)", "Lev", -0.0384, 0.0051, 0.06, stage="second"),
            _row("(2)", "stat:ar_p_at_zero", 0.0004, NAN, NAN, stage="second"),
        ]
    )


def test_symbols_go_to_math_mode_and_sign_hyphens_become_minus() -> None:
    esc = L.latex_escape
    assert esc("AR (β = 0)") == r"AR (\ensuremath{\beta} = 0)"
    assert esc("组内R²") == r"组内R\ensuremath{^{2}}"
    assert esc("-0.021") == r"\ensuremath{-}0.021"
    assert esc("[-0.018, -.5]") == r"[\ensuremath{-}0.018, \ensuremath{-}.5]"
    # hyphens that are not signs stay hyphens; dashes are TeX ligatures
    assert esc("2011-2019 Kleibergen–Paap x-1") == "2011-2019 Kleibergen--Paap x-1"
    assert esc("a_b 5% {x}") == r"a\_b 5\% \{x\}"


def test_decimal_columns_stars_and_notes(iv: pd.DataFrame) -> None:
    tex = T.regression_latex(iv, TableStyle(title="table4", term_digits={"lnINTUS": 4}))
    # integer parts: "-10" is 1.6 + 2 = 3.6 -> 4 digits; decimals "2768***": 4 + 2.1 -> 7
    assert r"\begin{tabular}{lD{.}{.}{4.7}D{.}{.}{3.6}}" in tex
    for needle in (
        r"lnINTUS & 0.2768\sym{***} &  \\",  # half up on the shortest repr: 0.27675 -> 0.2768
        r" & (0.0137) &  \\",
        r"\_cons & -10.5000\sym{***} &  \\",  # column digits of lnINTUS; true minus
        r"Lev &  & -0.038\sym{*} \\",
        r"观测值 & \multicolumn{1}{c}{10,130} & \multicolumn{1}{c}{10,130} \\",  # counts centred as text
        r"企业固定效应 & \multicolumn{1}{c}{是} & \multicolumn{1}{c}{是} \\",
        r"AR检验p值（\ensuremath{\beta}=0） &  & 0.000 \\",
        r"组内R\ensuremath{^{2}} & 0.379 & 0.379 \\",
        r"\providecommand{\sym}[1]{\ifmmode^{#1}\else\ensuremath{^{#1}}\fi}",
    ):
        assert needle in tex, needle
    # the notes are part of the threeparttable: they start at the table's left edge, as wide as the table
    i_tab, i_notes = tex.index(r"\end{tabular}"), tex.index(r"\begin{tablenotes}[flushleft]")
    assert tex.index(r"\begin{threeparttable}") < i_tab < i_notes < tex.index(r"\end{threeparttable}")
    assert r"\item[] 注：*、**、*** 分别表示在 10\%、5\%、1\% 水平上显著" in tex
    assert r"\parbox" not in tex


def test_keyword_and_count_columns_stay_text() -> None:
    tex = T.keywords_latex({"宏观政策": ["中国制造2025", "互联网+"]}, TableStyle(title="table7"))
    assert r"\begin{tabular}{l>{\raggedright\arraybackslash}p{0.7\linewidth}}" in tex
    assert "D{.}" not in tex.split(r"\begin{tabular}", 1)[1]


def test_english_document_is_pdflatex_safe(iv: pd.DataFrame) -> None:
    en = L.latex_document(T.regression_latex(iv, TableStyle(lang="en", title="table4")), "en")
    assert en.startswith(r"\documentclass[10pt]{article}") and "ctex" not in en
    assert all(ord(ch) < 128 for ch in en), sorted({ch for ch in en if ord(ch) > 127})
    for pkg in L.PREAMBLE_PACKAGES:
        assert r"\usepackage{" + pkg + "}" in en
    # a character pdflatex cannot print is refused with its line, not left to vanish in the PDF
    with pytest.raises(InputError, match="pdflatex") as err:
        L.latex_document("Caf\u00e9 & 1 \\\\\n", "en")
    assert err.value.rows == [1]
    # CJK in an English table (Table 7's keywords) -> ctex, compiled with xelatex
    assert L.needs_xelatex("中国制造2025") and r"{ctex}" in L.latex_document("中国制造2025\n", "en")


def test_wide_tables_get_a_landscape_page() -> None:
    wide = "a" + " & x" * 10 + r" \\" + "\n"
    assert "landscape" in L.latex_document(wide, "zh")
    doc = L.tables_document(["t1 & 2 \\\\\n", wide], "zh")
    assert doc.count(r"\begin{landscape}") == 1 and doc.count(r"\clearpage") == 1
    assert r"\usepackage{pdflscape}" in doc


def test_missing_engine_names_the_debian_packages(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(P, "engine_path", lambda engine="xelatex": None)
    with pytest.raises(InputError) as err:
        P.compile_latex("x", tmp_path / "t.pdf")
    for pkg in (
        "texlive-xetex",
        "texlive-lang-chinese",
        "texlive-latex-extra",
        "tools/install_system_deps.sh",
    ):
        assert pkg in str(err.value)
    assert not (tmp_path / "t.pdf").exists()


def pdf_text(pdf) -> str:
    need("pdftotext")
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    # math minus and math-italic stars as pdftotext reports them -> the grid's ASCII
    return out.stdout.replace("\u2212", "-").replace("\u2217", "*")


def squeeze(text: str) -> str:
    """Text without whitespace: pdftotext puts spaces where xeCJK spaces Latin from CJK (AR 检验 p 值)."""
    return "".join(text.split())


def test_compiled_zh_table_holds_numbers_minus_signs_and_beta(iv: pd.DataFrame, tmp_path) -> None:
    need("xelatex")
    body = T.regression_latex(iv, TableStyle(title="table4", term_digits={"lnINTUS": 4}))
    P.compile_latex(L.latex_document(body, "zh"), tmp_path / "t4.pdf")
    raw = subprocess.run(
        ["pdftotext", str(tmp_path / "t4.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "\u2212" in raw  # a true minus sign, not a hyphen
    text = squeeze(pdf_text(tmp_path / "t4.pdf"))
    for s in ("0.2768", "(0.0137)", "-10.500", "-0.038", "10,130", "AR检验p值（β=0）", "两阶段最小二乘"):
        assert s in text, s


def test_english_standalone_compiles_with_pdflatex(iv: pd.DataFrame, tmp_path) -> None:
    need("pdflatex")
    body = T.regression_latex(iv, TableStyle(lang="en", title="table4", term_digits={"lnINTUS": 4}))
    P.compile_latex(L.latex_document(body, "en"), tmp_path / "t4.pdf", "pdflatex")
    text = squeeze(pdf_text(tmp_path / "t4.pdf"))
    for s in ("0.2768", "-0.038", "AR test p-value (β = 0)".replace(" ", ""), "Two-stage"):
        assert s in text, s


def test_compile_error_reports_the_tex_error(tmp_path) -> None:
    need("xelatex")
    with pytest.raises(InputError, match=r"Undefined control sequence"):
        P.compile_latex(
            "\\documentclass{article}\\begin{document}\\nosuchmacro\\end{document}\n", tmp_path / "x.pdf"
        )
    assert not (tmp_path / "x.pdf").exists()


def test_same_document_gives_the_same_pdf_bytes(iv: pd.DataFrame, tmp_path) -> None:
    need("xelatex")
    doc = L.latex_document(T.regression_latex(iv, TableStyle(title="table4")), "zh")
    P.compile_latex(doc, tmp_path / "a.pdf")
    P.compile_latex(doc, tmp_path / "b.pdf")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
