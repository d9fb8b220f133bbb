"""Real-size synthetic reports (synth.report_size: real) and the MD&A extraction on them: every heading variant
of 2011-2019, the table-of-contents trap, running headers, ~200-page PDFs; the counts must equal the planted
truth exactly, and text_coverage must find the MD&A in every readable report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from intelcap.measures.text import (
    count_extracted,
    count_keywords,
    extract_report,
    extract_shard,
    mdna_coverage,
    mdna_diagnose,
    mdna_section,
    read_for_coverage,
    write_extracted,
)
from intelcap.synthetic import reports as rs


def _plan(rng: np.random.Generator, n: int = 45) -> dict[str, int]:
    kw = rs.default_keywords()
    counts = rng.multinomial(n, np.full(len(kw), 1 / len(kw)))
    return {k: int(c) for k, c in zip(kw, counts, strict=True) if c}


def _seed_for(year: int, style: str) -> int:
    """A seed whose report of ``year`` has numbering ``style`` (write_report draws the company name, then
    compose_real_report draws heading_style)."""
    for seed in range(1000):
        rng = np.random.default_rng(seed)
        rng.integers(0, len(rs._COMPANY_PREFIX), size=2)
        if rs.heading_style(year, rng)[1] == style:
            return seed
    raise AssertionError(f"no seed gives style {style}")


def _hits(text: str, spec) -> dict[str, int]:
    return {k: v for k, v in count_keywords(text, spec).items() if v}


TITLE_OF = {2011: "董事会报告", 2013: "董事会报告", 2014: "管理层讨论与分析", 2015: "管理层讨论与分析"}


@pytest.mark.parametrize("style", ["jie", "bare", "shift"])
@pytest.mark.parametrize("year", [2011, 2013, 2014, 2015, 2016, 2019])
def test_mdna_of_every_heading_variant_equals_the_planted_truth(tmp_path, spec, year, style):
    seed = _seed_for(year, style)
    rng = np.random.default_rng(seed)
    plan = _plan(np.random.default_rng(seed + 1))
    rep = rs.write_report(tmp_path / f"000001_{year}.txt", plan, rng, size="real")
    text = extract_report(rep.path).text
    assert 150 <= rep.n_pages <= 250 and 150_000 <= rep.n_chars <= 400_000
    title = TITLE_OF.get(year, "经营情况讨论与分析")
    heading = title if style == "bare" else f"第{'三' if style == 'shift' else '四'}节 {title}"
    toc_line = next(ln for ln in text.splitlines() if ln.startswith(heading + " ..."))  # the TOC trap
    assert text.count(f"\n{heading}\n") >= 1 and text.index(toc_line) < text.index(f"\n{heading}\n")
    assert _hits(text, spec) == rep.full
    (start, end), reason = mdna_diagnose(text)
    assert reason == "" and start > text.index(toc_line)  # never the table of contents
    assert _hits(text[start:end], spec) == rep.mdna
    assert sum(rep.mdna.values()) > 0 and rep.mdna != rep.full


def test_running_headers_repeat_the_section_heading_and_do_not_cut_it(tmp_path, spec):
    """Find a report whose running header repeats the section heading on every page (header style 'section');
    its MD&A spans many pages and must still equal the planted MD&A."""
    for seed in range(50):
        pages, full, mdna, _ = rs.compose_real_report(
            _plan(np.random.default_rng(seed)), np.random.default_rng(seed)
        )
        text = "\n".join(pages)
        heading = next(ln for ln in text.splitlines()[3:] if ln.endswith(rs.MDNA_TITLES) and "..." not in ln)
        if text.count(f"\n{heading}\n") > 10:
            break
    else:
        raise AssertionError("no report with section running headers in 50 seeds")
    sec = mdna_section(text)
    assert sec.count(f"\n{heading}\n") > 8  # the running headers are inside the section
    assert _hits(sec, spec) == mdna


@pytest.mark.parametrize("year", [2012, 2017])
def test_pdf_of_about_200_pages_extracts_to_the_truth(tmp_path, spec, year):
    rng = np.random.default_rng(year)
    rep = rs.write_report(tmp_path / f"000002_{year}.pdf", _plan(rng), rng, fmt="pdf", size="real")
    got = extract_report(rep.path)
    assert got.n_pages == rep.n_pages and 150 <= got.n_pages <= 250
    assert _hits(got.text, spec) == rep.full
    assert _hits(mdna_section(got.text), spec) == rep.mdna


def test_real_size_panel_coverage_is_complete_and_mdna_counts_exact(tmp_path, spec):
    fy = [(f"{600000 + i:06d}", 2011 + i % 9, 30.0) for i in range(14)]
    truth = rs.write_reports_for_panel(tmp_path, fy, np.random.default_rng(3), pdf_share=0.2, size="real")
    ex = extract_shard(sorted(tmp_path.iterdir()))
    cov, miss = mdna_coverage([ex])
    bad = truth.attrs["unreadable_files"]
    assert sorted(miss["file"]) == bad and set(miss["miss"]) == {"unreadable"}
    allrow = cov.iloc[-1]
    assert allrow["year"] is pd.NA and allrow["reports"] == 14 and allrow["read"] == 14 - len(bad)
    assert (cov.loc[cov["read"] > 0, "hit_rate"] == 1.0).all() and allrow["mdna_found"] == 14 - len(bad)
    assert cov.loc[cov["read"] == 0, "hit_rate"].isna().all()  # a year of unreadable files only: no rate
    counts, _ = count_extracted(ex, spec, section="mdna")
    got = counts[counts["count"] > 0].set_index(["Stkcd", "year", "keyword"])["count"].to_dict()
    want = truth[truth["count_mdna"] > 0].set_index(["Stkcd", "year", "keyword"])["count_mdna"].to_dict()
    assert {(str(s), int(y), str(k)): int(v) for (s, y, k), v in got.items()} == {
        (str(s), int(y), str(k)): int(v) for (s, y, k), v in want.items()
    }


def test_coverage_names_the_reason_of_each_miss(tmp_path):
    body = "公司持续推进产品研发。" * 5
    files = {
        "000001_2015.txt": f"第四节 管理层讨论与分析\n{body}\n第五节 重要事项\n{body}\n",
        "000002_2015.txt": f"公司简介\n{body}\n",
        "000003_2016.txt": f"目录\n第四节 经营情况讨论与分析 ...... 9\n第五节 重要事项 ...... 30\n{body}\n",
        "000004_2016.txt": f"第四节 经营情况讨论与分析\n甲乙\n第五节 重要事项\n{body}\n",
        "000005_2016.txt": "",
    }
    for name, t in files.items():
        (tmp_path / name).write_text(t, encoding="utf-8")
    ex = extract_shard(sorted(tmp_path.iterdir()))
    cov, miss = mdna_coverage([ex])
    assert miss["miss"].tolist() == ["no_heading", "toc_only", "too_short", "unreadable"]
    write_extracted(ex, tmp_path / "cache.parquet")  # what the text_coverage rule reads: the same result
    cached = read_for_coverage(tmp_path / "cache.parquet")
    assert (cached["text"] != "").sum() == 3  # the raw text of the three readable misses only
    cov2, miss2 = mdna_coverage([cached])
    pd.testing.assert_frame_equal(cov2, cov)
    pd.testing.assert_frame_equal(miss2, miss)
    by_year = cov.set_index(cov["year"].astype(object).where(cov["year"].notna(), "all"))
    assert by_year.loc[2015, ["reports", "read", "mdna_found", "no_heading"]].tolist() == [2, 2, 1, 1]
    assert by_year.loc[2015, "hit_rate"] == 0.5
    assert by_year.loc[
        2016, ["reports", "read", "mdna_found", "toc_only", "too_short", "unreadable"]
    ].tolist() == [
        3,
        2,
        0,
        1,
        1,
        1,
    ]
    assert by_year.loc["all", "mdna_found"] == 1 and by_year.loc["all", "reports"] == 5


def test_report_size_is_validated(tmp_path):
    with pytest.raises(ValueError, match="synth.report_size"):
        rs.write_report(tmp_path / "000001_2015.txt", {}, np.random.default_rng(0), size="huge")


def test_pdf_page_of_many_short_lines_extracts_line_by_line(tmp_path):
    """A page of 95 table rows: the lines must not overlap (PDFium would merge overlapping lines, and a
    heading merged with its neighbour is no heading any more)."""
    rows = [f"货币资金 {i},000.00 {i + 1}.5%" for i in range(94)]
    page = "\n".join(["第四节 经营情况讨论与分析", *rows])
    rs.write_pdf_pages(tmp_path / "a.pdf", [page, "公司简介"], atomic=True)
    got = extract_report(tmp_path / "a.pdf", min_chars_per_page=1).text
    assert [ln.strip() for ln in got.splitlines()][:95] == page.split("\n")
