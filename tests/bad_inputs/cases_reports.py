"""Bad-input cases for the annual-report folder, as real downloads deliver it (registered into bad_cases.CASES by
the import at the end of bad_cases.py): cninfo names and versions, scans, saved web pages, nested folders."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from bad_cases import ROOT, case, raises

from intelcap.measures import text
from intelcap.measures import text_inventory as inv

__all__: list[str] = []  # cases register through @case; nothing to re-export into bad_cases

_BODY = "第四节 管理层讨论与分析\n公司推进工业机器人和智能制造。\n第五节 重要事项\n"  # 1 hit (工业机器人)
_LINE = "报告期内公司主营业务收入稳步增长，研发投入持续加大，产品结构不断优化。"


def _write(path: Path, body: str = _BODY) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path


def _log(folder: Path, pattern: str = "default", n_shards: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(log indexed by file, text index) as the text rules compute them (inventory, shards, counting)."""
    spec = text.load_keywords(ROOT / "config" / "keywords.yaml")
    ex = pd.concat(
        [
            text.extract_shard(fs, folder, pattern)
            for fs in inv.shard_inventory(folder, n_shards, pattern).values()
        ],
        ignore_index=True,
    )
    counts, log = text.count_extracted(ex, spec)
    return log.set_index("file"), text.text_index(counts, log)


@case("report_scanned_with_header", "text.extract_shard", "decision")
def _(tmp, caplog):
    from intelcap.synthetic import reports as rs

    d = tmp / "reports"
    d.mkdir()
    rs.write_pdf(
        d / "000001_2015.pdf",
        "\n".join(f"平安银行股份有限公司2015年年度报告 {i}" for i in range(1, 9)),
        lines_per_page=1,
    )
    _write(d / "000002_2015.txt")
    log, idx = _log(d)
    assert log.loc["000001_2015.pdf", "status"] == "unreadable"
    assert (
        "0 characters per page on average over 8 pages, not counting 1 running header"
        in log.loc["000001_2015.pdf", "reason"]
    )
    assert idx["Stkcd"].tolist() == ["000002"]


@case("report_html_error_page", "text.extract_shard", "decision")
def _(tmp, caplog):
    page = "<!DOCTYPE html>\n<html><head><title>登录</title></head><body><p>请先登录</p></body></html>\n"
    d = tmp / "reports"
    _write(d / "000001_2015.pdf", page)
    _write(d / "000002_2015.txt", page)
    _write(d / "000003_2015.txt")
    log, idx = _log(d)
    for f in ("000001_2015.pdf", "000002_2015.txt"):
        assert log.loc[f, "status"] == "unreadable" and log.loc[f, "reason"].startswith("HTML/XML markup"), f
    assert idx["Stkcd"].tolist() == ["000003"]


@case("report_cninfo_versions", "text.resolve_versions", "decision")
def _(tmp, caplog):
    d = tmp / "reports"
    stem = "000001_平安银行_2015年年度报告"
    _write(d / f"{stem}.txt", _BODY + "大数据\n")
    _write(d / f"{stem}（更正后）.txt", _BODY + "大数据\n云计算\n")
    for q in ("摘要", "（英文版）", "（已取消）"):
        _write(d / f"{stem}{q}.txt", "工业机器人\n" * 7)
    log, idx = _log(d, "cninfo")
    winner = f"{stem}（更正后）.txt"
    assert log["status"].to_dict() == {
        f"{stem}.txt": "superseded",
        winner: "ok",
        f"{stem}摘要.txt": "superseded",
        f"{stem}（英文版）.txt": "superseded",
        f"{stem}（已取消）.txt": "superseded",
    }
    assert all(winner in r for r in log.loc[log["status"] == "superseded", "reason"])
    assert idx["n_keywords"].tolist() == [3]  # 工业机器人, 大数据, 云计算


@case("report_summary_only", "text.resolve_versions", "decision")
def _(tmp, caplog):
    d = tmp / "reports"
    _write(d / "000001_平安银行_2015年年度报告摘要.pdf", "%PDF-1.4 never opened")
    _write(d / "000002_万科A_2015年年度报告.txt")
    log, idx = _log(d, "cninfo")
    assert log.loc["000001_平安银行_2015年年度报告摘要.pdf", "status"] == "excluded"
    assert "IM is missing" in log.loc["000001_平安银行_2015年年度报告摘要.pdf", "reason"]
    assert idx["Stkcd"].tolist() == ["000002"]


@case("report_unknown_cninfo_title", "text_inventory.list_reports", "decision")
def _(tmp, caplog):
    d = tmp / "reports"
    names = [
        "000001_平安银行_2015年半年度报告.pdf",
        "000001_平安银行_关于2015年年度报告的更正公告.pdf",
        "000001_平安银行_2015年年度报告（H股）.pdf",
    ]
    for n in names:
        _write(d / n)
    log, idx = _log(d, "cninfo")
    assert log["status"].to_dict() == dict.fromkeys(names, "bad_name")
    assert "text.name_pattern: cninfo" in log.loc[names[0], "reason"]
    assert "unrecognised: 'h股'" in log.loc[names[2], "reason"]
    assert idx.empty


@case("report_year_subfolders", "text_inventory.list_reports", "decision")
def _(tmp, caplog):
    d = tmp / "reports"
    _write(d / "2015" / "000001_2015.txt")
    _write(d / "2016" / "sub" / "000001_2016.txt")
    log, idx = _log(d)
    assert log["status"].to_dict() == {"2015/000001_2015.txt": "ok", "2016/sub/000001_2016.txt": "ok"}
    assert idx[["year", "n_keywords"]].values.tolist() == [[2015, 1], [2016, 1]]


@case("report_folder_debris", "text.extract_shard", "decision")
def _(tmp, caplog):
    d = tmp / "reports"
    d.mkdir()
    os.symlink(d / "gone.pdf", d / "000001_2015.pdf")
    (d / "000003_2015.pdf").mkdir()
    (d / "000004_2015.txt").write_bytes(b"")
    _write(d / "2015" / "000004_2015.txt")
    _write(d / "000005_2015.docx")
    _write(d / ".DS_Store", "\x00")
    log, idx = _log(d)
    assert log["status"].to_dict() == {
        "000001_2015.pdf": "unreadable",
        "000003_2015.pdf": "unreadable",
        "000004_2015.txt": "unreadable",
        "2015/000004_2015.txt": "ok",
        "000005_2015.docx": "unsupported",
        ".DS_Store": "skipped",
    }
    assert "2015/000004_2015.txt is used" in log.loc["000004_2015.txt", "reason"]
    assert idx["Stkcd"].tolist() == ["000004"]


@case("report_bad_name_pattern", "text_inventory.list_reports", "error")
def _(tmp, caplog):
    raises(
        ValueError,
        lambda: inv.list_reports(tmp, r"^(?P<Stkcd>\d{6}"),
        "not a valid regular expression",
        "text.name_pattern",
    )
    raises(
        ValueError, lambda: inv.list_reports(tmp, r"^(?P<Stkcd>\d{6})\.pdf$"), "['year']", "text.name_pattern"
    )
