"""End to end: results/paper/tables.pdf on the small configuration. pdftotext reads each page (one table a
page) and finds every number the table prints (its Markdown rendering: the same grid) and every glyph of its
labels, title and notes, β included; and the DAG-time check keeps tables.pdf out of `all` without xelatex.

Skipped only when xelatex or pdftotext is missing outside CI; with CI=true a missing tool fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from test_html_report import TABLES, md_rows, small_run

pytestmark = pytest.mark.e2e

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_NUMBER = re.compile(r"^\(?-?[\d,]*\.?\d+\)?\**$")


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        if IN_CI:
            pytest.fail(f"{tool} missing in CI (CI=true): tools/install_system_deps.sh installs it")
        pytest.skip(f"{tool} not installed (tools/install_system_deps.sh)")


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    need("xelatex")
    need("pdftotext")
    return small_run(tmp_path_factory)


def page_text(pdf: Path, page: int) -> str:
    out = subprocess.run(
        ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # TeX's math minus and math stars, as pdftotext reports them, in the grid's ASCII
    out = out.replace("\u2212", "-").replace("\u2217", "*")
    # the fonts' Latin ligatures (Eﬃciency), which pdftotext reports as one character
    for lig, letters in {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
    }.items():
        out = out.replace(lig, letters)
    return out


def expected(md: str) -> tuple[Counter, set[str]]:
    """Numbers (stars stripped, with multiplicity) and the glyphs of every other text of a Markdown table."""
    numbers: Counter = Counter()
    glyphs: set[str] = set()
    for row in md_rows(md):
        for cell in row:
            if _NUMBER.match(cell):
                numbers[cell.rstrip("*")] += 1
            else:
                glyphs |= set(cell)
    # title and notes: the lines outside the table
    for line in md.splitlines():
        if not line.startswith("|"):
            glyphs |= set(line)
    # what TeX prints differently: ² is a math superscript 2; whitespace is not a glyph
    glyphs = {"2" if g == "²" else g for g in glyphs if not g.isspace()}
    return numbers, glyphs


def test_tables_pdf_holds_every_number_and_label_glyph(work: Path) -> None:
    pdf = work / "results/paper/tables.pdf"
    pages = int(
        re.search(
            r"Pages:\s+(\d+)",
            subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout,
        ).group(1)
    )
    assert pages == len(TABLES)  # one table a page: none spills onto a second page
    for i, name in enumerate(TABLES, start=1):
        text = page_text(pdf, i)
        numbers, glyphs = expected((work / f"results/tables/{name}.md").read_text(encoding="utf-8"))
        assert sum(numbers.values()) > 0 or name == "table7", name
        found = Counter(tok.rstrip("*") for tok in text.split())
        missing = numbers - found
        assert not missing, (name, dict(missing))
        lacking = glyphs - set(text)
        assert not lacking, (name, sorted(lacking))
    assert "β" in page_text(pdf, TABLES.index("table4") + 1)  # the AR p-value row (β = 0)


def test_minus_signs_are_true_minus_signs(work: Path) -> None:
    raw = subprocess.run(
        ["pdftotext", str(work / "results/paper/tables.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    negatives = re.findall(
        r"(?<![\w.])-\d",
        "\n".join((work / f"results/tables/{t}.md").read_text(encoding="utf-8") for t in TABLES),
    )
    assert negatives, "the small run prints no negative number: the check would be empty"
    assert "\u2212" in raw
    # no hyphen directly before a digit outside words (a sign printed as a hyphen)
    assert not re.findall(r"(?<![\w.\-])-\d", raw)


def test_all_needs_tables_pdf_only_with_xelatex(work: Path, tmp_path: Path) -> None:
    """The DAG-time check of rules/common.smk: with no xelatex on PATH `all` plans no tables_pdf job and says
    why; asked for by name, the job fails naming the Debian packages."""
    from rebuild import snakemake

    bindir = tmp_path / "bin"
    bindir.mkdir()
    # a PATH with everything but TeX: the python running snakemake is called by absolute path
    for tool in ("dot", "git"):
        if shutil.which(tool):
            (bindir / tool).symlink_to(shutil.which(tool))
    env_path = os.environ["PATH"]
    os.environ["PATH"] = str(bindir)
    try:
        dry = snakemake(work, "-n", "all", "--forceall")
        forced = snakemake(work, "results/paper/tables.pdf", "--force", check=False)
    finally:
        os.environ["PATH"] = env_path
    out = dry.stdout + dry.stderr
    assert "xelatex not found -> results/paper/tables.pdf left out of `all`" in out
    assert "tables_pdf" not in out.split("Job stats:")[-1]
    assert forced.returncode != 0
    log = forced.stdout + forced.stderr + (work / "logs/tables_pdf.log").read_text(encoding="utf-8")
    for pkg in ("texlive-xetex", "texlive-lang-chinese", "texlive-latex-extra", "texlive-latex-recommended"):
        assert pkg in log, pkg
