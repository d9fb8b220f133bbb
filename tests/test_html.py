"""intelcap.outputs.html: the exact page of a small grid (escaping, spans, rules, notes), the same grid as the
Markdown, and in a real headless browser the decimal points of a column at one x position.

The browser test is skipped only when Chromium is missing outside CI (CI=true: it fails)."""

from __future__ import annotations

import math
import re
import subprocess

import pandas as pd
import pytest
from test_html_report import browser, dom_tables, md_rows

from intelcap.errors import InputError
from intelcap.outputs import html as H
from intelcap.outputs import tables as T
from intelcap.outputs.grid import _Cell, _Grid
from intelcap.outputs.tables import TableStyle

NAN = math.nan


@pytest.fixture
def reg() -> pd.DataFrame:
    def row(model, term, est, se, p):
        return dict(model=model, depvar="lnCU", term=term, estimate=est, std_error=se, t_value=est / se,
                    p_value=p, nobs=10130, n_clusters=1520, r2_within=0.37935, fixed_effects="Stkcd+year",
                    vcov="CRV1:Stkcd", controls="yes", sample="all")  # fmt: skip

    return pd.DataFrame(
        [
            row("(1)", "lnINT", 0.0474, 0.0041, 0.0009),
            row("(1)", "_cons", -10.1774, 0.0112, 1e-9),
            row("(2)", "lnINT", -0.0345, 0.0135, 0.04),
            row("(2)", "_cons", 0.6345, 0.094, 0.6),
        ]
    )


def test_cells_spans_rules_and_escaping() -> None:
    g = _Grid(
        header=[[_Cell(""), _Cell("A & B", span=2)], [_Cell("变量"), _Cell("(1)"), _Cell("(2)")]],
        body=[
            [_Cell("x<y"), _Cell("-0.021", "**"), _Cell("(0.004)")],
            [_Cell("N"), _Cell("10,130"), _Cell("是")],
        ],
        rule_before={1},
        title="表 2　基准回归结果",
        notes=["注：a < b"],
    )
    page = H.grid_html(g)
    for needle in (
        '<html lang="zh-CN">',
        "<caption>表 2　基准回归结果</caption>",
        '<tr><th class="label"></th><th class="group" colspan="2">A &amp; B</th></tr>',
        # integer part and fraction (with its stars) in spans as wide as the column's widest: "-0", ".021**"
        '<td class="label">x&lt;y</td><td class="num"><span class="i" style="width:2ch">-0</span>'
        '<span class="f" style="width:6ch">.021<sup>**</sup></span></td>',
        '<td class="num"><span class="i" style="width:2ch">(0</span><span class="f" style="width:5ch">.004)</span>',
        '<tr class="rule"><td class="label">N</td><td class="num">10,130</td><td class="num">是</td></tr>',
        '<div class="notes"><p>注：a &lt; b</p></div>',
    ):
        assert needle in page, needle
    assert "<script" not in page  # self-contained and static: the report shows it in an iframe
    en = H.grid_html(g, lang="en")
    assert '<html lang="en">' in en


def test_same_grid_as_markdown(reg: pd.DataFrame) -> None:
    style = TableStyle(title="table2")
    rows = dom_tables(H.table_html("regression", reg, style))[0]
    assert rows == md_rows(T.regression_markdown(reg, style))
    assert ["_cons", "-10.177***", "0.635"] in rows
    with pytest.raises(InputError, match="unknown table kind"):
        H.table_html("pie", reg, style)  # type: ignore[arg-type]


def test_browser_aligns_decimal_points(reg: pd.DataFrame, tmp_path) -> None:
    exe = browser()
    page = H.table_html("regression", reg, TableStyle(title="table2"))
    # measured by the browser itself: the left edge of every fraction span (the decimal point), per column
    probe = """<script>
    const xs = {};
    document.querySelectorAll("tbody tr").forEach(tr => tr.querySelectorAll("td").forEach((td, i) => {
      const f = td.querySelector("span.f");
      if (f) (xs[i] = xs[i] || []).push(f.getBoundingClientRect().left.toFixed(2));
    }));
    document.body.setAttribute("data-points", JSON.stringify(xs));
    </script>"""
    (tmp_path / "t.html").write_text(page.replace("</body>", probe + "</body>"), encoding="utf-8")
    dom = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", (tmp_path / "t.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
    ).stdout
    m = re.search(r'data-points="([^"]*)"', dom)
    assert m, dom[-2000:]
    import html
    import json

    points = json.loads(html.unescape(m.group(1)))
    # columns (1) and (2): 0.047***, (0.004), -10.177***, (0.011), R² 0.379 ... all at one x each
    assert set(points) == {"1", "2"}
    for col, xs in points.items():
        assert len(xs) >= 5 and len(set(xs)) == 1, (col, xs)
