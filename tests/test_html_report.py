"""End to end on the small configuration: every paper table as a rendered HTML page, registered in the Snakemake
report under its paper section next to its CSV, and checked in a real headless browser (Chromium --dump-dom):
a `<table>` whose rows are exactly the Markdown rendering's (the same grid), with the CSV's numbers.

Skipped only when no Chromium is installed outside CI; with CI=true a missing browser fails.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml
from rebuild import small_config, snakemake

from intelcap.workflow.scratch import copy_workflow

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
TABLES = [f"table{i}" for i in range(1, 9)]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# the paper section (report category) and entry (subcategory) of each table, as rules/common.smk declares
SECTIONS = {
    "table1": "3 Research design",
    "table2": "4 Empirical analysis",
    "table3": "4 Empirical analysis",
    "table4": "4 Empirical analysis",
    "table5": "5 Mechanism analysis",
    "table6": "6 Heterogeneity analysis",
    "table7": "7 Further analysis",
    "table8": "7 Further analysis",
}

_RUN: dict[str, Path] = {}


def small_run(tmp_path_factory) -> Path:
    """One scratch workflow per session (shared with tests/test_latex_pdf.py): every paper table's renderings,
    tables.pdf when xelatex is installed, the figures, and the HTML report of them."""
    if "work" not in _RUN:
        work = copy_workflow(ROOT, tmp_path_factory.mktemp("formats"))
        (work / "config/config.yaml").write_text(
            yaml.safe_dump(small_config(), allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        targets = [f"results/tables/{t}.{ext}" for t in TABLES for ext in ("md", "html", "docx", "tex")]
        targets += ["results/figures/figure2.png", "results/figures/coefplot_table6.png"]
        if shutil.which("xelatex"):
            targets.append("results/paper/tables.pdf")
        snakemake(work, *targets)
        snakemake(work, *targets, "--report", "report.html")
        _RUN["work"] = work
    return _RUN["work"]


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return small_run(tmp_path_factory)


def browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    if IN_CI:
        pytest.fail("no Chromium in CI (CI=true): install it (tools/install_system_deps.sh)")
    pytest.skip("Chromium not installed (tools/install_system_deps.sh)")


def dump_dom(page: Path) -> str:
    proc = subprocess.run(
        [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


class _Tables(HTMLParser):
    """Rows of every <table> in a DOM: cell texts, a colspan cell followed by blanks (as the Markdown prints)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._span = 1

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell, self._span = [], int(dict(attrs).get("colspan") or 1)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            row = self.tables[-1][-1]
            row.append("".join(self._cell).strip())
            row.extend([""] * (self._span - 1))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def dom_tables(dom: str) -> list[list[list[str]]]:
    p = _Tables()
    p.feed(dom)
    return p.tables


def md_rows(md: str) -> list[list[str]]:
    """The table rows of a Markdown rendering (the alignment row left out, escaped bars restored)."""
    rows = []
    for line in md.splitlines():
        if line.startswith("|") and not re.fullmatch(r"\|(:?-+:?\|)+", line):
            cells = re.split(r"(?<!\\)\|", line.strip()[1:-1])
            rows.append([c.strip().replace("\\|", "|") for c in cells])
    return rows


def half_up(x: float, digits: int) -> str:
    d = Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{abs(d) if d == 0 else d:.{digits}f}"


def csv_numbers(work: Path, name: str) -> list[str]:
    """Numbers the CSV makes the table print, computed here from the CSV: the main coefficient (lnINT, lnINTUS, IM) and its
    standard error of every model (regression tables), the means (Table 1), the keywords (Table 7)."""
    df = pd.read_csv(work / f"results/tables/{name}.csv", keep_default_na=False, na_values=[""])
    if name == "table1":
        return [half_up(v, 3) for v in df["mean"]]
    if name == "table7":
        return [str(k) for k in df["keyword"]]
    out = []
    for _, r in df[df["term"].isin(["lnINT", "lnINTUS", "IM"])].iterrows():
        digits = (
            4 if name == "table4" else 3
        )  # Table 4 prints 4 decimals in every column (the paper's layout)
        if not math.isnan(r["estimate"]):
            out += [half_up(r["estimate"], digits), f"({half_up(r['std_error'], digits)})"]
    assert out, f"{name}: no lnINT rows in the CSV"
    return out


def report_data(work: Path) -> tuple[dict, dict]:
    """The report's `categories` and `results` objects (JSON embedded in report.html)."""
    text = (work / "report.html").read_text(encoding="utf-8")
    dec = json.JSONDecoder()
    out = []
    for name in ("categories", "results"):
        m = re.search(r"\bvar " + name + r" = (?=\{\")", text)
        assert m, f"report.html has no `{name}` object"
        out.append(dec.raw_decode(text, m.end())[0])
    return out[0], out[1]


def test_report_lists_every_rendered_table_under_its_section(work: Path) -> None:
    categories, results = report_data(work)
    for name in TABLES:
        section = categories[SECTIONS[name]]
        entry = [e for e, files in section.items() if f"results/tables/{name}.html" in files]
        assert len(entry) == 1, (name, section)
        # the rendered table and its full-precision CSV in one entry, the entry named after the paper's table
        assert f"results/tables/{name}.csv" in section[entry[0]]
        assert entry[0].startswith(f"Table {name[-1]} ")
        res = results[f"results/tables/{name}.html"]
        assert res["mime_type"] == "text/html" and "rendered" in res["caption"]
    # figures with their captions, under their sections too
    assert (
        "results/figures/figure2.png"
        in categories["3 Research design"]["Figure 2 Global robot installations"]
    )
    assert (
        "results/figures/coefplot_table6.png"
        in categories["6 Heterogeneity analysis"]["Table 6 Heterogeneity"]
    )
    assert results["results/figures/figure2.png"]["caption"]


def test_browser_renders_a_table_per_paper_table_with_its_numbers(work: Path, tmp_path: Path) -> None:
    _, results = report_data(work)
    for name in TABLES:
        # the page as the report embeds it (a data URI), byte for byte the rendered file
        uri = results[f"results/tables/{name}.html"]["data_uri"]
        head, _, payload = uri.partition(",")
        assert head.startswith("data:text/html") and head.endswith(";base64"), head
        page = base64.b64decode(payload)
        assert page == (work / f"results/tables/{name}.html").read_bytes(), name
        (tmp_path / f"{name}.html").write_bytes(page)

        tables = dom_tables(dump_dom(tmp_path / f"{name}.html"))
        assert len(tables) == 1, (name, len(tables))
        rows = tables[0]
        # the same grid as the Markdown: every row and cell reads the same
        expected = md_rows((work / f"results/tables/{name}.md").read_text(encoding="utf-8"))
        assert rows == expected, name
        cells = [c for row in rows for c in row]
        for number in csv_numbers(work, name):
            assert any(c == number or c.rstrip("*") == number for c in cells) or (
                name == "table7" and any(number in c for c in cells)
            ), (name, number)
