"""Annual reports as users download them: cninfo names and their versions (摘要, 英文版, 更正后, 已取消), one rule
for several files of a firm-year, unreadable scans and saved web pages (IM missing, never 0), and a log row
for every file under a messy, nested folder."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
import yaml

from intelcap.measures import text_inventory as inv
from intelcap.measures.text import (
    MIN_CHARS_PER_PAGE,
    ReportUnreadable,
    count_extracted,
    extract_report,
    extract_shard,
    resolve_versions,
    text_index,
)
from intelcap.synthetic import reports as rs

ROOT = Path(__file__).resolve().parents[1]
BODY = "第四节 管理层讨论与分析\n公司推进工业机器人与大数据。\n第五节 重要事项\n"  # 2 hits
HTML = (
    "<!DOCTYPE html>\n<html><head><title>404 Not Found</title><style>body{color:red}</style></head>\n"
    "<body><h1>404 Not Found</h1><p>nginx</p></body></html>\n"
)


def _txt(path: Path, text: str = BODY) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _run(
    folder: Path,
    spec,
    n_shards: int = 3,
    pattern: str = "default",
    min_chars_per_page: int = MIN_CHARS_PER_PAGE,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """What the text rules do: DAG-time inventory, one extraction per shard, counting, the index."""
    shards = inv.shard_inventory(folder, n_shards, pattern)
    ex = pd.concat(
        [extract_shard(fs, folder, pattern, min_chars_per_page) for fs in shards.values()], ignore_index=True
    )
    counts, log = count_extracted(ex, spec)
    return counts, log.set_index("file"), text_index(counts, log)


def _long_text(n: int = 40) -> str:
    line = "报告期内公司主营业务收入稳步增长，研发投入持续加大，产品结构不断优化。"
    return "第四节 管理层讨论与分析\n" + "\n".join([line] * n) + "\n公司推进工业机器人。\n"


# --------------------------------------------------------------------------------------------- names


CNINFO = {
    "000001_平安银行_2015年年度报告.pdf": (("000001", 2015), "full", "zh", "original"),
    "000001_平安银行_2015年年度报告摘要.pdf": (("000001", 2015), "summary", "zh", "original"),
    "000001_平安银行_2015年年度报告（英文版）.pdf": (("000001", 2015), "full", "en", "original"),
    "000001_平安银行_2015年年度报告(English).pdf": (("000001", 2015), "full", "en", "original"),
    "000001_平安银行_2015年年度报告（更正后）.pdf": (("000001", 2015), "full", "zh", "revised"),
    "000001_平安银行_2015年年度报告（修订版）.txt": (("000001", 2015), "full", "zh", "revised"),
    "000001_平安银行_2015年年度报告（更新后）.PDF": (("000001", 2015), "full", "zh", "revised"),
    "000001_平安银行_2015年年度报告（已取消）.pdf": (("000001", 2015), "full", "zh", "cancelled"),
    "000001_平安银行_2015年年度报告摘要（英文版）.pdf": (("000001", 2015), "summary", "en", "original"),
    "000001_平安银行_2015年年度报告全文.pdf": (("000001", 2015), "full", "zh", "original"),
    "600000_浦发银行_浦发银行：2016年年度报告.pdf": (("600000", 2016), "full", "zh", "original"),
    "600000_浦发银行_2016年度报告.pdf": (("600000", 2016), "full", "zh", "original"),
    "600000_2016年年报.txt": (("600000", 2016), "full", "zh", "original"),
    "000002_*ST万科_2011年年度报告.pdf": (("000002", 2011), "full", "zh", "original"),
}
NOT_ANNUAL = [
    "000001_平安银行_2015年半年度报告.pdf",  # semi-annual
    "000001_平安银行_2015年第三季度报告.pdf",  # quarterly
    "000001_平安银行_关于2015年年度报告的更正公告.pdf",  # a notice about the report
    "000001_平安银行_2015年年度报告的更正公告.pdf",
    "000001_平安银行_2015年年度报告（H股）.pdf",  # an unknown qualifier: not guessed
    "000001_平安银行_2015年年度报告.docx",
    "000001_2015.pdf",  # the default naming is not the cninfo preset
]


def test_cninfo_preset_reads_real_download_names(tmp_path):
    for name in [*CNINFO, *NOT_ANNUAL]:
        (tmp_path / name).write_bytes(b"x")
    got = {f.relpath: f for f in inv.list_reports(tmp_path, "cninfo")}
    assert set(got) == set(CNINFO) | set(NOT_ANNUAL)
    for name, (key, kind, lang, rev) in CNINFO.items():
        f = got[name]
        assert (f.key, f.kind, f.lang, f.revision) == (key, kind, lang, rev), name
    for name in NOT_ANNUAL:
        assert got[name].key is None and got[name].problem, name
    assert "unrecognised: 'h股'" in got["000001_平安银行_2015年年度报告（H股）.pdf"].problem
    assert "text.name_pattern: cninfo" in got["000001_2015.pdf"].problem


def test_custom_pattern_with_version_groups(tmp_path):
    pattern = r"^(?P<Stkcd>\d{6})-(?P<year>\d{4})(?:-(?P<kind>summary))?(?:-(?P<lang>en))?\.(?P<ext>txt|pdf)$"
    for name in ("000001-2015.txt", "000001-2015-summary.txt", "000001-2015-en.pdf", "000001_2015.txt"):
        _txt(tmp_path / name)
    got = {f.relpath: (f.key, f.kind, f.lang) for f in inv.list_reports(tmp_path, pattern)}
    assert got == {
        "000001-2015.txt": (("000001", 2015), "full", "zh"),
        "000001-2015-summary.txt": (("000001", 2015), "summary", "zh"),
        "000001-2015-en.pdf": (("000001", 2015), "full", "en"),
        "000001_2015.txt": (None, "full", "zh"),
    }


def test_bad_patterns_name_the_config_key(tmp_path):
    with pytest.raises(ValueError, match=r"not a valid regular expression.*text\.name_pattern"):
        inv.list_reports(tmp_path, r"^(?P<Stkcd>\d{6}_(?P<year>\d{4})")
    with pytest.raises(ValueError, match=r"lacks the named group\(s\) \['year'\].*text\.name_pattern"):
        inv.list_reports(tmp_path, r"^(?P<Stkcd>\d{6})\.txt$")
    assert (
        inv.resolve_pattern("cninfo") is inv.CNINFO_PATTERN
        and inv.resolve_pattern(None) is inv.DEFAULT_PATTERN
    )


# ------------------------------------------------------------------------------------------ versions


def test_one_rule_for_the_versions_of_a_firm_year(tmp_path, spec):
    stem = "000001_平安银行_2015年年度报告"
    _txt(tmp_path / f"{stem}.txt", BODY + "人工智能\n")  # original: 3 hits
    rs.write_pdf(tmp_path / f"{stem}（更正后）.pdf", _long_text())  # revised PDF: 1 hit
    _txt(tmp_path / f"{stem}摘要.txt", "工业机器人\n" * 5)
    _txt(tmp_path / f"{stem}（英文版）.txt", "industrial robots\n")
    _txt(tmp_path / f"{stem}（已取消）.txt", "工业机器人\n" * 9)
    _txt(tmp_path / "2015" / f"{stem}（更正后）.pdf", "a copy in a subfolder")  # same version, deeper
    files = inv.list_reports(tmp_path, "cninfo")
    used, losers = resolve_versions(files)
    winner = f"{stem}（更正后）.pdf"
    assert {k: f.relpath for k, f in used.items()} == {("000001", 2015): winner}
    assert losers == {
        f"{stem}.txt": (
            "superseded",
            f"superseded by the revised version {winner} (a revised full report wins "
            "over the original); that file is used",
        ),
        f"{stem}摘要.txt": (
            "superseded",
            f"a summary (摘要) is never counted; the full Chinese report {winner} is used",
        ),
        f"{stem}（英文版）.txt": (
            "superseded",
            f"an English version is never counted; the full Chinese report {winner} is used",
        ),
        f"{stem}（已取消）.txt": (
            "superseded",
            f"a cancelled version (已取消) is never counted; the full Chinese report {winner} is used",
        ),
        f"2015/{stem}（更正后）.pdf": ("duplicate", f"firm-year also in {winner}; that file is used"),
    }
    assert resolve_versions(list(reversed(files))) == (used, losers)  # independent of listing order
    _, log, idx = _run(tmp_path, spec, pattern="cninfo")
    assert log.loc[winner, "status"] == "ok" and log.loc[winner, "n_pages"] >= 1
    assert idx["n_keywords"].tolist() == [
        1
    ]  # the revised PDF's one hit, not the original's 3 or the summary's 5


def test_txt_beats_pdf_only_within_one_version(tmp_path, spec):
    _txt(tmp_path / "000001_2015年年度报告.txt")
    _txt(tmp_path / "000001_2015年年度报告.pdf", "%PDF-1.4 not used")
    _txt(tmp_path / "000001_2015年年度报告（修订版）.txt", "人工智能")
    _txt(tmp_path / "000001_2015年年度报告（修订版）.pdf", "%PDF-1.4 not used")
    used, losers = resolve_versions(inv.list_reports(tmp_path, "cninfo"))
    assert used[("000001", 2015)].relpath == "000001_2015年年度报告（修订版）.txt"
    assert {r: s for r, (s, _) in losers.items()} == {
        "000001_2015年年度报告.txt": "superseded",
        "000001_2015年年度报告.pdf": "superseded",
        "000001_2015年年度报告（修订版）.pdf": "duplicate",
    }


def test_summary_or_english_alone_is_never_counted(tmp_path, spec):
    _txt(tmp_path / "000001_平安银行_2015年年度报告摘要.txt", "工业机器人")
    _txt(tmp_path / "000002_万科A_2015年年度报告（英文版）.txt", "robots")
    _txt(tmp_path / "000003_国农科技_2015年年度报告（已取消）.txt", "工业机器人")
    _txt(tmp_path / "000004_世纪星源_2015年年度报告.txt", "工业机器人")
    _, log, idx = _run(tmp_path, spec, pattern="cninfo")
    assert log["status"].to_dict() == {
        "000001_平安银行_2015年年度报告摘要.txt": "excluded",
        "000002_万科A_2015年年度报告（英文版）.txt": "excluded",
        "000003_国农科技_2015年年度报告（已取消）.txt": "excluded",
        "000004_世纪星源_2015年年度报告.txt": "ok",
    }
    assert "IM is missing" in log.loc["000001_平安银行_2015年年度报告摘要.txt", "reason"]
    assert idx[["Stkcd", "n_keywords"]].values.tolist() == [["000004", 1]]  # no IM = 0 rows for the others


# ---------------------------------------------------------------------------------------- unreadable


def _scan_with_header(path: Path, pages: int) -> None:
    """A scanned report as a PDF: no text layer but the publisher's running header and page number."""
    # 20 non-space characters a page, every one in the synthetic PDF font (it has no glyph for 文 or 页)
    text = "\n".join(f"平安银行股份有限公司2015年年度报告 {i}" for i in range(1, pages + 1))
    assert rs.write_pdf(path, text, lines_per_page=1) == pages


def test_scanned_pdf_with_a_running_header_is_unreadable(tmp_path, spec):
    _scan_with_header(tmp_path / "000001_2015.pdf", 6)
    _scan_with_header(tmp_path / "000002_2015.pdf", 2)  # too few pages to tell a header: the average decides
    rs.write_pdf(tmp_path / "000003_2015.pdf", _long_text())
    _, log, idx = _run(tmp_path, spec)
    assert log["status"].to_dict() == {
        "000001_2015.pdf": "unreadable",
        "000002_2015.pdf": "unreadable",
        "000003_2015.pdf": "ok",
    }
    r1, r2 = log.loc["000001_2015.pdf", "reason"], log.loc["000002_2015.pdf", "reason"]
    assert "too little text per page: 0 characters per page on average over 6 pages" in r1
    assert "not counting 1 running header/footer line(s)" in r1 and "text.min_chars_per_page = 100" in r1
    assert "too little text per page: 20 characters per page on average over 2 pages" in r2
    assert idx["Stkcd"].tolist() == ["000003"]  # IM missing for the scans, never 0
    # the threshold is the config key's: 0 lets the header-only scans through
    _, log0, idx0 = _run(tmp_path, spec, min_chars_per_page=0)
    assert set(log0["status"]) == {"ok"} and idx0["n_keywords"].tolist() == [0, 0, 1]


def test_saved_web_pages_and_non_pdfs_are_unreadable(tmp_path, spec):
    _txt(tmp_path / "000001_2015.pdf", HTML)
    _txt(tmp_path / "000002_2015.txt", HTML)
    _txt(tmp_path / "000003_2015.txt", "年度报告\n" + '<div class="x"><span>工业机器人</span></div>\n' * 20)
    _txt(tmp_path / "000004_2015.pdf", '{"code": 404, "msg": "文件不存在"}')
    (tmp_path / "000005_2015.pdf").write_bytes(b"")
    _txt(
        tmp_path / "000006_2015.txt", "营业收入同比增长<10%，毛利率>20%，工业机器人。"
    )  # a "<" in prose is text
    _, log, idx = _run(tmp_path, spec)
    st, why = log["status"].to_dict(), log["reason"].to_dict()
    assert st == {
        "000001_2015.pdf": "unreadable",
        "000002_2015.txt": "unreadable",
        "000003_2015.txt": "unreadable",
        "000004_2015.pdf": "unreadable",
        "000005_2015.pdf": "unreadable",
        "000006_2015.txt": "ok",
    }
    assert why["000001_2015.pdf"].startswith("HTML/XML markup, not a report (starts with '<!DOCTYPE html>")
    assert why["000002_2015.txt"].startswith("HTML/XML markup")
    # per line 33 characters of tags (<divclass="x">, <span>, </span>, </div>) and 5 of text: 660 of 764
    assert why["000003_2015.txt"].startswith(
        "mostly HTML/XML markup, not report text (86% of its 764 characters"
    )
    assert why["000004_2015.pdf"].startswith('not a PDF: no %PDF header (starts with \'{"code"')
    assert why["000005_2015.pdf"].startswith("empty file (0 bytes)")
    assert idx[["Stkcd", "n_keywords"]].values.tolist() == [["000006", 1]]


def test_encrypted_and_corrupt_pdfs_keep_their_reasons(tmp_path):
    rs.make_encrypted_or_textless_pdf(tmp_path / "a.pdf", kind="encrypted")
    rs.make_corrupt_pdf(tmp_path / "b.pdf")
    rs.make_encrypted_or_textless_pdf(tmp_path / "c.pdf", kind="textless")
    for name, reason in {"a.pdf": "encrypted PDF", "b.pdf": "corrupt PDF", "c.pdf": "no text layer"}.items():
        with pytest.raises(ReportUnreadable, match=reason):
            extract_report(tmp_path / name)


# ------------------------------------------------------------------------------- every file, one row


def _messy(d: Path) -> None:
    _txt(d / "2015" / "000001_2015.txt")
    rs.write_pdf(d / "2016" / "000001_2016.pdf", _long_text())
    _txt(d / "2016" / "sub" / "000002_2016.txt")
    os.symlink(d / "gone.pdf", d / "000003_2015.pdf")  # dangling
    _txt(d / "000004_2015.pdf" / "inside.txt", "x")  # a folder named like a report, with a file in it
    (d / "000005_2015.txt").write_bytes(b"")  # zero bytes, next to a good PDF of the same firm-year
    rs.write_pdf(d / "2015" / "000005_2015.pdf", _long_text())
    _txt(d / "000006_2015.docx", "工业机器人")
    _txt(d / "README.md", "my downloads")
    _txt(d / "annual.txt", "工业机器人")
    _txt(d / ".DS_Store", "\x00\x01")
    _txt(d / "._000007_2015.pdf", "\x00 AppleDouble")
    (d / "linked").mkdir()
    os.symlink(d / "linked", d / "000008_2015.txt")  # a symlink to a folder


def _every_file(d: Path) -> list[str]:
    out = []
    for dirpath, dirs, files in os.walk(d):
        for name in files + [x for x in dirs if os.path.islink(os.path.join(dirpath, x))]:
            out.append(os.path.relpath(os.path.join(dirpath, name), d).replace(os.sep, "/"))
    return sorted(out)


def test_every_file_under_a_messy_folder_has_one_log_row(tmp_path, spec):
    _messy(tmp_path)
    every = _every_file(tmp_path)
    assert len(every) == 13
    _, log, idx = _run(tmp_path, spec, n_shards=4)
    rows = log.index.tolist()
    assert sorted(set(rows) - {"000004_2015.pdf"}) == every and len(rows) == len(set(rows)) == 14
    st = log["status"].to_dict()
    assert st == {
        "2015/000001_2015.txt": "ok",
        "2016/000001_2016.pdf": "ok",
        "2016/sub/000002_2016.txt": "ok",
        "000003_2015.pdf": "unreadable",
        "000004_2015.pdf": "unreadable",
        "000004_2015.pdf/inside.txt": "bad_name",
        "000005_2015.txt": "unreadable",
        "2015/000005_2015.pdf": "ok",
        "000006_2015.docx": "unsupported",
        "README.md": "unsupported",
        "annual.txt": "bad_name",
        ".DS_Store": "skipped",
        "._000007_2015.pdf": "skipped",
        "000008_2015.txt": "unreadable",
    }
    why = log["reason"].to_dict()
    assert "dangling symlink" in why["000003_2015.pdf"] and "gone.pdf" in why["000003_2015.pdf"]
    assert why["000004_2015.pdf"].startswith("a folder named like a report")
    assert why["000005_2015.txt"] == (
        "empty file (0 bytes): an aborted download? download the report again; "
        "2015/000005_2015.pdf is used for the firm-year"
    )
    assert "'.docx' is not read" in why["000006_2015.docx"] and "hidden" in why[".DS_Store"]
    assert "symlink to a folder" in why["000008_2015.txt"]
    assert idx[["Stkcd", "year"]].values.tolist() == [
        ["000001", 2015],
        ["000001", 2016],
        ["000002", 2016],
        ["000005", 2015],
    ]


def test_job_and_dag_see_the_same_files_whatever_the_shards(tmp_path, spec):
    _messy(tmp_path)
    _, log1, idx1 = _run(tmp_path, spec, n_shards=1)
    _, log7, idx7 = _run(tmp_path, spec, n_shards=7)
    pd.testing.assert_frame_equal(log1.sort_index(), log7.sort_index())
    pd.testing.assert_frame_equal(idx1, idx7)


# ------------------------------------------------------------------------------------------- config


def test_config_keys_are_declared_with_defaults():
    from intelcap.workflow import registry

    schema = yaml.safe_load((ROOT / "schemas" / "config.schema.yaml").read_text(encoding="utf-8"))
    props = schema["properties"]["text"]["properties"]
    assert props["name_pattern"]["default"] == "default" and props["min_chars_per_page"]["default"] == 100
    assert all(props[k]["description"] for k in ("name_pattern", "min_chars_per_page"))
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))["text"]
    assert cfg["name_pattern"] == "default" and cfg["min_chars_per_page"] == MIN_CHARS_PER_PAGE == 100
    assert set(registry.RULES["text_extract"].config) == {"text.name_pattern", "text.min_chars_per_page"}
    # the DAG-time inventory lists the folder with the same pattern as the step (whitespace aside: formatters)
    common = "".join((ROOT / "rules" / "common.smk").read_text(encoding="utf-8").split())
    assert 'text_inventory.shard_inventory(REPORTS,N_SHARDS,config["text"]["name_pattern"])' in common
