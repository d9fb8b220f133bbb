"""Text index: dictionary, normalization, counting, extraction, synthetic reports, bundled font.

Every count assertion is exact. The synthetic reports are written with known planted counts; the counter must
find exactly those, in TXT (three encodings) and in PDF, for the whole report and for the MD&A section.
"""

from __future__ import annotations

import random
import unicodedata
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from intelcap.errors import InputError
from intelcap.measures.text import (
    ReportUnreadable,
    count_extracted,
    count_keywords,
    count_reports,
    count_variants,
    extract_shard,
    load_keywords,
    mdna_diagnose,
    mdna_section,
    normalize,
    read_report,
    shard_reports,
    text_index,
)
from intelcap.synthetic import reports as rs

KEYWORDS_YAML = Path(__file__).resolve().parents[1] / "config" / "keywords.yaml"


@pytest.fixture(scope="module")
def spec():
    return load_keywords(KEYWORDS_YAML)


def hits(text: str, spec, **kw) -> dict[str, int]:
    return {k: v for k, v in count_keywords(text, spec, **kw).items() if v}


# ------------------------------------------------------------------------------------------ dictionary


def test_keyword_file_matches_table7(spec):
    assert list(spec.categories) == ["宏观政策", "范式特征", "使用技术", "设备及工具", "延伸领域"]
    assert [len(v) for v in spec.categories.values()] == [3, 9, 19, 5, 19]
    assert len(spec.keywords) == 55 == len(set(spec.keywords))
    assert spec.keywords[:3] == ("中国制造2025", "工业4.0", "互联网+")  # Table order kept, ASCII after NFKC
    assert spec.keywords[-1] == "充电桩"
    assert (spec.negations, spec.neg_window, spec.mode, spec.section) == (
        ("没", "无", "不"),
        2,
        "longest",
        "full",
    )


def test_keyword_validation(tmp_path):
    bad = tmp_path / "k.yaml"
    bad.write_text("categories:\n  a: [机器人, 云计算]\n  b: [机器人]\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate keyword '机器人'"):
        load_keywords(bad)
    bad.write_text("categories:\n  a: [工业4.0]\n  b: [工业４.０]\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate"):  # duplicates are detected after NFKC
        load_keywords(bad)
    bad.write_text("categories:\n  a: []\n", encoding="utf-8")
    with pytest.raises(InputError, match="no keyword list"):
        load_keywords(bad)
    bad.write_text("categories:\n  a: ['  ']\n", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        load_keywords(bad)
    bad.write_text("categories:\n  a: [机器人]\nmode: fuzzy\n", encoding="utf-8")
    with pytest.raises(InputError, match="mode"):
        load_keywords(bad)
    with pytest.raises(InputError, match="not found"):
        load_keywords(tmp_path / "missing.yaml")


# ------------------------------------------------------------------------------------------- counting


def test_methods_example(spec):
    got = count_keywords("公司推进工业机器人和机器人应用，不涉及大数据", spec)
    assert got["工业机器人"] == 1 and got["机器人"] == 1 and got["大数据"] == 0
    assert sum(got.values()) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("互联网+战略与互联网", {"互联网+": 1, "互联网": 1}),
        ("推进工业４.０与工业４．０及工业4.0", {"工业4.0": 3}),
        ("中国制造２０２５和３Ｄ打印", {"中国制造2025": 1, "3D打印": 1}),
        ("互联网＋", {"互联网+": 1}),
        ("人工\n智能", {"人工智能": 1}),
        ("人　工\r\n智 能", {"人工智能": 1}),  # full-width space, CRLF and space inside
        ("移动互联网和能源互联网", {"移动互联网": 1, "能源互联网": 1}),
        ("信息化管理与信息化", {"信息化管理": 1, "信息化": 1}),
        ("工业机器人机器人", {"工业机器人": 1, "机器人": 1}),
        ("大数据分析", {"大数据": 1}),  # leftmost wins over the later, equally long 数据分析
        ("高端装备制造业", {"高端装备制造": 1}),
        ("", {}),
    ],
)
def test_leftmost_longest(spec, text, expected):
    assert hits(text, spec) == expected


def test_substring_mode_counts_nested(spec):
    assert hits("工业机器人", spec, mode="substring") == {"工业机器人": 1, "机器人": 1}
    assert hits("移动互联网+", spec, mode="substring") == {"移动互联网": 1, "互联网": 1, "互联网+": 1}
    text = "工业机器人与机器人，移动互联网，信息化管理"
    s = normalize(text)
    assert count_keywords(text, spec, mode="substring") == {k: s.count(k) for k in spec.keywords}


def test_negation_window(spec):
    assert hits("不涉及大数据", spec) == {}  # two characters between: dropped
    assert hits("没有大数据", spec) == {}
    assert hits("无大数据", spec) == {}
    assert hits("不涉\n及大数据", spec) == {}  # the window is counted after whitespace removal
    assert hits("不涉及到大数据", spec) == {"大数据": 1}  # three characters between: beyond neg_window=2
    assert hits("公司不断加强大数据投入", spec) == {"大数据": 1}
    assert hits("大数据不", spec) == {"大数据": 1}  # only negations BEFORE the keyword count
    wide = spec.replace(neg_window=3)
    assert hits("不涉及到大数据", wide) == {}
    none = spec.replace(neg_window=0)
    assert hits("不涉及大数据", none) == {"大数据": 1} and hits("不大数据", none) == {}
    # a negated hit still consumes its characters (no fallback to the nested 机器人)
    assert hits("无工业机器人", spec) == {}


def test_normalize_equals_reference_nfkc():
    rng = random.Random(7)
    tricky = [
        0x3000,
        0xA0,
        0x2028,
        0x85,
        0x1100,
        0x1161,
        0x11A8,
        0xAC00,
        0x3131,
        0x314F,
        0x301,
        0x308,
        0xE9,
        0x212B,
        0x3231,
        0x2460,
        0xBD,
        0xFB01,
        0x2F08,
        0xF902,
        0x1F600,
        0x20000,
        0x0CC6,
        0x0CD5,
        0xFF0C,
        0xFF08,
        0x2002,
        0x200B,
        0xFEFF,
    ]
    pool = [chr(c) for c in [*range(0x20, 0x7F), *range(0xFF01, 0xFF5F), *tricky]] + list(
        "人工智能大数据。，\n\n\r\t "
    )
    for _ in range(5000):
        s = "".join(rng.choices(pool, k=rng.randint(0, 40)))
        assert normalize(s) == "".join(unicodedata.normalize("NFKC", s).split()), repr(s)


def _reference_count(text: str, spec, substring: bool = False) -> dict[str, int]:
    """Independent scanner: reference NFKC, then plain Python leftmost-longest (or all occurrences)."""
    s = "".join(unicodedata.normalize("NFKC", text).split())
    look = spec.neg_window + 1
    counts = dict.fromkeys(spec.keywords, 0)

    def negated(i: int) -> bool:
        return any(c in spec.negations for c in s[max(0, i - look) : i])

    if substring:
        for k in spec.keywords:
            i = s.find(k)
            while i >= 0:
                counts[k] += not negated(i)
                i = s.find(k, i + 1)
        return counts
    by_len = sorted(spec.keywords, key=len, reverse=True)
    i = 0
    while i < len(s):
        m = next((k for k in by_len if s.startswith(k, i)), None)
        if m is None:
            i += 1
            continue
        counts[m] += not negated(i)
        i += len(m)
    return counts


def test_automaton_equals_independent_scanner(spec):
    rng = random.Random(2024)
    pieces = list(spec.keywords) + [
        "工业４.０",
        "互联网＋",
        "３Ｄ打印",
        "人工\n智能",
        "数据",
        "互联",
        "智能",
        "网络",
        "工业",
        "机器",
        "不",
        "没有",
        "无",
        "，",
        "\n",
        " ",
        "　",
        "公司",
        "报告期内",
        "a",
        "1",
        "😀",
        "é",
        "ｅ\u0301",
    ]
    for trial in range(400):
        text = "".join(rng.choices(pieces, k=rng.randint(0, 60)))
        for substring in (False, True):
            mode = "substring" if substring else "longest"
            ref = _reference_count(text, spec, substring)
            assert count_keywords(text, spec, mode=mode) == ref, (trial, mode, text)
    # The prefilter+windows path equals one full iter_long scan (long text, many windows).
    from intelcap.measures.text import _normalize_units

    long_text = "".join(rng.choices(pieces, k=20000))
    u, astral = _normalize_units(long_text)
    full = spec._matcher.count_units(u, astral, prefilter=False)
    fast = spec._matcher.count_units(u, astral, prefilter=True)
    assert fast.tolist() == full.tolist()
    assert dict(zip(spec.keywords, fast.tolist(), strict=True)) == _reference_count(long_text, spec)


# ------------------------------------------------------------------------------------- synthetic reports


def test_filler_vocabulary_disjoint_from_keywords(spec):
    kw_chars = set("".join(spec.keywords))
    filler = set(
        "".join(rs.VOCAB) + "".join(rs.FRAMES) + "".join(f.replace("{k}", "") for f in rs.PLANT_FRAMES)
    )
    assert not filler & kw_chars
    assert not filler & set("没无不")
    rng = np.random.default_rng(0)
    text, full, mdna, negated = rs.compose_report({}, rng, traps=False)
    assert full == {} and mdna == {} and negated == {}
    assert sum(count_keywords(text, spec, mode="substring").values()) == 0


@pytest.fixture(scope="module")
def report_set(tmp_path_factory, spec):
    """~50 reports: explicit TXT encodings and PDFs (write_report) plus a panel with broken files."""
    d = tmp_path_factory.mktemp("reports")
    rng = np.random.default_rng(11)
    planted_full, planted_mdna = [], []
    formats = [("txt", "utf-8"), ("txt", "utf-8-sig"), ("txt", "gb18030"), ("pdf", "utf-8")]
    nested = [
        "工业机器人",
        "机器人",
        "移动互联网",
        "互联网",
        "能源互联网",
        "信息化管理",
        "信息化",
        "互联网+",
        "工业4.0",
        "人工智能",
        "中国制造2025",
        "3D打印",
    ]
    for i in range(16):
        planted = {k: int(rng.integers(1, 4)) for k in rng.choice(spec.keywords, size=6, replace=False)}
        planted.update({k: int(rng.integers(1, 3)) for k in rng.choice(nested, size=4, replace=False)})
        fmt, enc = formats[i % 4]
        stk, year = f"{100001 + i:06d}", 2011 + i % 9
        rep = rs.write_report(d / f"{stk}_{year}.{fmt}", planted, rng, fmt=fmt, encoding=enc)
        planted_full += [(stk, year, k, v) for k, v in rep.full.items()]
        planted_mdna += [(stk, year, k, v) for k, v in rep.mdna.items()]
    fy = [(f"{300001 + i:06d}", 2011 + i % 9, float(rng.uniform(0, 30))) for i in range(34)]
    panel = rs.write_reports_for_panel(d, fy, rng, pdf_share=0.15)
    planted_full += list(panel[["Stkcd", "year", "keyword", "count"]].itertuples(index=False, name=None))
    planted_mdna += [
        (s, y, k, c)
        for s, y, k, c in panel[["Stkcd", "year", "keyword", "count_mdna"]].itertuples(index=False)
        if c > 0
    ]
    (d / "notes.txt").write_text("not a report", encoding="utf-8")
    (d / "12345_2015.txt").write_text("公司", encoding="utf-8")
    cols = ["Stkcd", "year", "keyword", "count"]
    return {
        "dir": d,
        "full": pd.DataFrame(planted_full, columns=cols),
        "mdna": pd.DataFrame(planted_mdna, columns=cols),
        "unreadable": panel.attrs["unreadable_files"],
    }


def _as_dict(df: pd.DataFrame) -> dict[tuple[str, int, str], int]:
    return {
        (str(s), int(y), str(k)): int(c)
        for s, y, k, c in df[["Stkcd", "year", "keyword", "count"]].itertuples(index=False)
        if c
    }


def test_report_set_has_all_formats(report_set):
    names = [p.name for p in report_set["dir"].iterdir()]
    assert sum(n.endswith(".pdf") for n in names) >= 5
    assert 2 <= len(report_set["unreadable"]) <= 4
    raw = [(p.read_bytes()[:3]) for p in report_set["dir"].glob("1000*.txt")]
    assert any(r == b"\xef\xbb\xbf" for r in raw)  # a BOM file is among them


def test_counts_equal_planted(report_set, spec):
    paths = sorted(report_set["dir"].iterdir())
    counts, log = count_reports(paths, spec)
    assert _as_dict(counts) == _as_dict(report_set["full"])
    ok = log[log["status"] == "ok"]
    assert len(ok) == 50 - len(report_set["unreadable"])
    assert ok["n_pages"].notna().sum() >= 5  # PDFs report their page count
    # every readable report has all 55 keyword rows (zeros included); order is deterministic
    assert len(counts) == 55 * len(ok)
    assert counts.equals(counts.sort_values(["Stkcd", "year"], kind="stable").reset_index(drop=True))
    counts2, log2 = count_reports(reversed(paths), spec)
    pd.testing.assert_frame_equal(counts, counts2)
    pd.testing.assert_frame_equal(log, log2)


def test_mdna_counts_equal_planted(report_set, spec):
    counts, log = count_reports(sorted(report_set["dir"].iterdir()), spec, section="mdna")
    assert _as_dict(counts) == _as_dict(report_set["mdna"])
    assert set(log["status"]) == {"ok", "unreadable", "bad_name"}


def test_unreadable_and_bad_names_are_logged_not_counted(report_set, spec):
    counts, log = count_reports(sorted(report_set["dir"].iterdir()), spec)
    bad = log.set_index("file")
    for name in report_set["unreadable"]:
        assert bad.loc[name, "status"] == "unreadable"
        assert len(bad.loc[name, "reason"]) > 5
    reasons = " ".join(bad.loc[report_set["unreadable"], "reason"])
    assert "empty file" in reasons
    assert "PDF" in reasons
    assert bad.loc["notes.txt", "status"] == "bad_name"
    assert bad.loc["12345_2015.txt", "status"] == "bad_name"
    stems = {n.split(".")[0] for n in report_set["unreadable"]}
    keys = set(counts["Stkcd"] + "_" + counts["year"].astype(str))
    assert not keys & stems
    idx = text_index(counts, log)
    assert not (set(idx["Stkcd"] + "_" + idx["year"].astype(str)) & stems)
    assert len(idx) == (log["status"] == "ok").sum()


def test_broken_pdfs_raise_specific_reasons(tmp_path):
    rs.make_corrupt_pdf(tmp_path / "a.pdf")
    rs.make_encrypted_or_textless_pdf(tmp_path / "b.pdf", kind="encrypted")
    rs.make_encrypted_or_textless_pdf(tmp_path / "c.pdf", kind="textless")
    (tmp_path / "d.txt").write_bytes(b"")
    (tmp_path / "e.txt").write_bytes(bytes(range(256)) * 4)  # binary: neither UTF-8 nor GB18030 text
    (tmp_path / "f.txt").write_bytes("公司年报".encode("utf-16"))
    expected = {
        "a.pdf": "corrupt PDF",
        "b.pdf": "encrypted",
        "c.pdf": "no text layer",
        "d.txt": "empty file",
        "e.txt": "not decodable",
        "f.txt": "UTF-16",
    }
    for name, reason in expected.items():
        with pytest.raises(ReportUnreadable, match=reason):
            read_report(tmp_path / name)


def test_encodings_round_trip(tmp_path, spec):
    text = "第四节 管理层讨论与分析\n公司推进工业机器人，人工\n智能。\n"
    for enc in ("utf-8", "utf-8-sig", "gb18030"):
        p = tmp_path / f"x_{enc}.txt"
        p.write_bytes(text.encode(enc))
        assert read_report(p) == text
        assert hits(read_report(p), spec) == {"工业机器人": 1, "人工智能": 1}


def test_mdna_section_detection():
    body = "甲乙丙" * 10  # sections shorter than MDNA_MIN_CHARS (10) are stubs, not the MD&A
    text = (
        "目录\n第四节 管理层讨论与分析 .......... 12\n第一节 重要提示\n详见第四节管理层讨论与分析。\n"
        f"第四节 管理层讨论与分析\n{body}\n第五节 重要事项\n丁\n"
    )
    assert mdna_section(text) == f"\n{body}\n"
    old = f"第四节 董事会报告\n一、管理层讨论与分析\n{body}\n二、主要业务\n乙\n第五节 重要事项\n丙"
    assert mdna_section(old) == f"\n一、管理层讨论与分析\n{body}\n二、主要业务\n乙\n"  # longest section wins
    assert mdna_section(f"经营情况讨论与分析\n{body}") == f"\n{body}"
    assert mdna_section("没有这个标题的文本\n详见管理层讨论与分析部分") is None
    assert mdna_diagnose("没有这个标题的文本\n详见管理层讨论与分析部分") == (None, "no_heading")
    assert mdna_diagnose("第四节 管理层讨论与分析\n甲乙丙\n第五节 重要事项\n丁") == (None, "too_short")


def test_mdna_toc_entry_first_is_never_the_section():
    """A TOC whose entries stand alone (a PDF puts the page number on the next line), then the body. The TOC
    candidate's "section" would run over the whole report if the entries after it were not headings."""
    body = "公司持续推进产品研发。" * 5
    toc = "目录\n第三节 公司业务概要\n8\n第四节 经营情况讨论与分析\n.......... 12\n第五节 重要事项\n40\n"
    text = (
        toc + f"第三节 公司业务概要\n{body}\n第四节 经营情况讨论与分析\n{body}乙\n第五节 重要事项\n{body}\n"
    )
    assert mdna_section(text) == f"\n{body}乙\n"
    only_toc = "目录\n第四节 管理层讨论与分析 ........ 12\n第五节 重要事项 ........ 40\n" + body
    assert mdna_diagnose(only_toc) == (None, "toc_only")
    standalone_toc = "目录\n管理层讨论与分析\n12\n重要事项\n40\n" + body
    assert mdna_diagnose(standalone_toc) == (None, "toc_only")


def test_mdna_running_header_repeating_the_title_does_not_cut_it():
    page = "公司持续推进产品研发。" * 4
    pages = [
        f"华东股份有限公司2016年年度报告全文\n第四节 经营情况讨论与分析\n{page}\n{i}" for i in range(5, 9)
    ]
    text = "第四节 经营情况讨论与分析\n" + "\n".join(pages) + "\n第五节 重要事项\n丁\n"
    sec = mdna_section(text)
    assert sec is not None and sec.count(page) == 4 and "重要事项" not in sec
    bare = "管理层讨论与分析\n" + page + "\n管理层讨论与分析\n" + page + "\n四、重要事项\n" + page
    assert mdna_section(bare) == f"\n{page}\n管理层讨论与分析\n{page}\n"


def test_no_mdna_is_flagged(tmp_path, spec):
    (tmp_path / "000001_2015.txt").write_text("公司推进工业机器人。\n", encoding="utf-8")
    counts, log = count_reports([tmp_path / "000001_2015.txt"], spec, section="mdna")
    assert counts.empty and log["status"].tolist() == ["no_mdna"]
    counts, log = count_reports([tmp_path / "000001_2015.txt"], spec)
    assert log["status"].tolist() == ["ok"] and counts["count"].sum() == 1


def test_text_index_values(tmp_path, spec):
    (tmp_path / "000001_2015.txt").write_text("工业机器人，机器人，大数据，不涉及云计算。", encoding="utf-8")
    (tmp_path / "000002_2015.txt").write_text("报告期内公司收入增长。", encoding="utf-8")
    (tmp_path / "000003_2015.pdf").write_bytes(b"%PDF-1.4 broken")
    (tmp_path / "000001_2015.pdf").write_bytes(b"%PDF-1.4 broken")  # duplicate firm-year: .txt is used
    counts, log = count_reports(sorted(tmp_path.iterdir()), spec)
    assert dict(zip(log["file"], log["status"], strict=True)) == {
        "000001_2015.pdf": "duplicate",
        "000001_2015.txt": "ok",
        "000002_2015.txt": "ok",
        "000003_2015.pdf": "unreadable",
    }
    idx = text_index(counts, log)
    assert idx["Stkcd"].tolist() == ["000001", "000002"]
    assert idx["n_keywords"].tolist() == [3, 0]
    assert idx["IM"].tolist() == [np.log(4.0), 0.0]
    assert idx.loc[0, "设备及工具"] == 2 and idx.loc[0, "使用技术"] == 1
    assert list(idx.columns) == ["Stkcd", "year", "IM", "n_keywords", *spec.categories]


def test_count_pair_negation_on_and_off(spec):
    u = np.frombuffer(normalize("不涉及大数据，大数据；无机器人").encode("utf-16-le"), dtype=np.uint16)
    neg, raw = spec._matcher.count_units_pair(u, False)
    i, j = spec.keywords.index("大数据"), spec.keywords.index("机器人")
    assert (neg[i], raw[i], neg[j], raw[j]) == (1, 2, 0, 1)
    assert neg.sum() == 1 and raw.sum() == 3
    assert (spec._matcher.count_units(u, False) == neg).all()


def test_count_variants_on_the_planted_corpus(report_set, spec):
    """One pass gives count_extracted's counts and log for either section, and the variant columns equal
    the planted counts of both sections."""
    d = report_set["dir"]
    ex = extract_shard(sorted(d.iterdir()), d)
    for section in ("full", "mdna"):
        res = count_variants(ex, spec, section=section)
        counts, log = count_extracted(ex, spec, section)
        pd.testing.assert_frame_equal(res.counts, counts)
        pd.testing.assert_frame_equal(res.log, log)
    v = res.variants
    assert set(v["dictionary"]) == {"baseline"}
    full = v.rename(columns={"full": "count"})
    assert _as_dict(full) == _as_dict(report_set["full"])
    mdna = v[v["mdna"].notna()].rename(columns={"mdna": "count"})
    assert _as_dict(mdna.astype({"count": "int64"})) == _as_dict(report_set["mdna"])
    assert (v["full_noneg"] >= v["full"]).all() and (v["mdna_noneg"].dropna() >= v["mdna"].dropna()).all()


def test_shard_reports_is_a_deterministic_partition(report_set):
    files = sorted(p.name for p in report_set["dir"].iterdir())
    shards = shard_reports(report_set["dir"], 4)
    assert len(shards) == 4
    assert sorted(p.name for s in shards for p in s) == files
    assert shards == shard_reports(report_set["dir"], 4)
    assert max(map(len, shards)) - min(map(len, shards)) <= 1
    with pytest.raises(InputError):
        shard_reports(report_set["dir"], 0)


def test_jieba_equivalence(spec):
    jieba = pytest.importorskip("jieba")
    import logging

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    for k in spec.keywords:
        tok.add_word(k, freq=10**8)  # forced: a keyword token always beats a split
    rng = np.random.default_rng(5)
    for _ in range(8):
        planted = {str(k): int(rng.integers(1, 4)) for k in rng.choice(spec.keywords, size=12, replace=False)}
        text, full, _, _ = rs.compose_report(planted, rng, traps=False, n_filler=60)
        words = tok.lcut(normalize(text), HMM=False)
        via_jieba = {k: words.count(k) for k in spec.keywords if words.count(k)}
        assert via_jieba == full == hits(text, spec)


# ----------------------------------------------------------------------------------------------- font


def test_bundled_font_files():
    from intelcap.outputs import fonts

    path = fonts.cjk_font_path()
    assert path.stat().st_size < 1.5e6
    assert "SIL OPEN FONT LICENSE" in (path.parent / "OFL.txt").read_text(encoding="utf-8")
    text = KEYWORDS_YAML.read_text(encoding="utf-8") + rs.vocabulary_chars() + fonts.LABEL_CHARS
    assert fonts.missing_chars(text) == []
    assert {" ", "\u3000"} <= fonts.font_chars()  # empty glyphs, but they must exist (PDF text, labels)
    assert fonts.missing_chars("工业智能化𠀀") == ["𠀀"]  # the check itself can fail


def _draw(label: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        ax.set_title(label)
        ax.set_xlabel("年份")
        fig.canvas.draw()
        plt.close(fig)
    return [str(w.message) for w in caught if "missing" in str(w.message).lower()]


def test_matplotlib_renders_chinese_with_bundled_font():
    import matplotlib as mpl

    from intelcap.outputs import fonts

    with mpl.rc_context():
        mpl.rcParams["font.family"] = "sans-serif"
        mpl.rcParams["font.sans-serif"] = ["DejaVu Sans"]
        assert _draw("工业智能化"), "without the CJK font matplotlib should warn about missing glyphs"
    with mpl.rc_context():
        name = fonts.use_cjk_in_matplotlib()
        assert name == fonts.FAMILY_NAME
        assert _draw("工业智能化与产能利用率") == []


def test_synthetic_pdf_bytes_do_not_depend_on_the_clock(tmp_path):
    """The embedded font subset must not carry the build time (fontTools stamps head.modified by default),
    or the synthetic raw folder, and with it the provenance manifest, would differ between runs."""
    import time

    rs._pdf_font_bytes.cache_clear()
    rs.write_pdf(tmp_path / "a.pdf", "年度报告 工业机器人\n第二行")
    time.sleep(1.1)
    rs._pdf_font_bytes.cache_clear()
    rs.write_pdf(tmp_path / "b.pdf", "年度报告 工业机器人\n第二行")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
