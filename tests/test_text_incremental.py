"""Incremental text stage: stable firm-year shards, per-shard fingerprints, one place for duplicate versions,
and keyword counting from the extraction cache equal to counting the reports directly."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from intelcap.errors import InputError
from intelcap.measures import text_inventory as inv
from intelcap.measures.text import (
    ReportUnreadable,
    count_extracted,
    count_extracted_files,
    count_keywords,
    count_reports,
    extract_report,
    extract_shard,
    mdna_section,
    normalize,
    read_extracted,
    resolve_versions,
    text_index,
    write_extracted,
)
from intelcap.synthetic import reports as rs


def _txt(path: Path, text: str, mtime_s: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if mtime_s is not None:
        os.utime(path, ns=(mtime_s * 10**9, mtime_s * 10**9))
    return path


# ------------------------------------------------------------------------------------------------ shards


def test_shard_of_is_a_fixed_hash():
    # Expected values computed by hand: int.from_bytes(blake2b(b"000001_2015", digest_size=8), "big") is
    # 0x1a3bf4e7b7a3f684, which is 4 mod 8 and 1 mod 7; and so on.
    assert inv.shard_of("000001", 2015, 8) == 4
    assert inv.shard_of("000001", 2015, 7) == 1
    assert inv.shard_of("600000", 2010, 7) == 0
    assert inv.shard_of("300750", 2019, 16) == 5
    assert inv.shard_of("000002", 2011, 7) == 4
    assert inv.shard_of("000002", 2011, 1) == 0
    unmatched = inv.ReportFile("x/notes.txt", "notes.txt", None, None, "txt", 3, 0)
    assert inv.shard_of_file(unmatched, 8) == 2  # blake2b(b"unmatched:notes.txt") mod 8
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="text.shards"):
            inv.shard_of("000001", 2015, bad)
    # another process with another str-hash seed gives the same shards (hash() would not)
    code = "from intelcap.measures.text_inventory import shard_of; print(shard_of('000001', 2015, 8), shard_of('300750', 2019, 16))"
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["4", "5"]


def test_inventory_is_stdlib_only():
    code = (
        "import sys, intelcap.measures.text_inventory; "
        "print(sorted(m for m in ('pandas', 'numpy', 'ahocorasick', 'yaml', 'pyarrow') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_list_reports_recursive_sorted_with_keys(tmp_path):
    _txt(tmp_path / "b" / "600000_2010.TXT", "公司")
    _txt(tmp_path / "000001_2015.txt", "公司")
    _txt(tmp_path / "a" / "notes.md", "x")
    _txt(
        tmp_path / ".000002_2015.txt.tmp", "half-written"
    )  # an atomic writer's temporary: listed, not parsed
    _txt(tmp_path / ".hidden" / "000003_2015.txt", "x")  # a hidden folder: one entry, not walked
    listed = inv.list_reports(tmp_path)
    assert [(f.relpath, f.entry, f.Stkcd) for f in listed if f.entry == "hidden"] == [
        (".000002_2015.txt.tmp", "hidden", None),
        (".hidden", "hidden", None),
    ]
    files = inv.list_reports(tmp_path, include_hidden=False)
    assert [f.relpath for f in files] == ["000001_2015.txt", "a/notes.md", "b/600000_2010.TXT"]
    assert [f.relpath for f in listed if f.entry != "hidden"] == [f.relpath for f in files]
    assert inv.fingerprint(listed) == inv.fingerprint(files)  # temporaries never rerun a shard
    assert [(f.Stkcd, f.year, f.ext) for f in files] == [
        ("000001", 2015, "txt"),
        (None, None, "md"),
        ("600000", 2010, "txt"),
    ]
    assert files[0].size == len("公司".encode()) and files[0].path == str(tmp_path / "000001_2015.txt")
    custom = inv.list_reports(
        tmp_path, pattern=r"^(?P<Stkcd>\d{6})_(?P<year>\d{4})\.txt$", include_hidden=False
    )
    assert [f.Stkcd for f in custom] == ["000001", None, "600000"]
    with pytest.raises(ValueError, match="Stkcd"):
        inv.list_reports(tmp_path, pattern=r"^(?P<code>\d{6})_(?P<year>\d{4})")
    with pytest.raises(FileNotFoundError, match="report folder not found"):
        inv.list_reports(tmp_path / "missing")


def test_every_file_of_a_firm_year_in_one_shard(tmp_path):
    for rel in ("000001_2015.txt", "000001_2015.pdf", "revised/000001_2015.pdf", "000002_2011.txt"):
        _txt(tmp_path / rel, "公司")
    shards = inv.shard_inventory(tmp_path, 7)
    assert sorted(shards) == list(range(7))
    assert [f.relpath for f in shards[1]] == ["000001_2015.pdf", "000001_2015.txt", "revised/000001_2015.pdf"]
    assert [f.relpath for f in shards[4]] == ["000002_2011.txt"]
    assert sum(map(len, shards.values())) == 4
    assert inv.shard_inventory(tmp_path / "not_yet", 3, missing_ok=True) == {0: [], 1: [], 2: []}
    with pytest.raises(FileNotFoundError, match="not_yet"):
        inv.shard_fingerprints(tmp_path / "not_yet", 3)


def test_adding_editing_removing_a_report_changes_only_its_shard(tmp_path):
    for i in range(40):
        _txt(tmp_path / f"{100000 + i:06d}_{2011 + i % 8}.txt", "公司" * (i + 1), mtime_s=1_600_000_000)
    _txt(tmp_path / "notes.txt", "x", mtime_s=1_600_000_000)
    n = 8
    before = inv.shard_fingerprints(tmp_path, n)
    assert before == inv.shard_fingerprints(tmp_path, n)  # deterministic
    assert len(set(before.values())) == n  # (each shard holds files here, so digests differ)

    def changed() -> set[int]:
        after = inv.shard_fingerprints(tmp_path, n)
        return {i for i in range(n) if after[i] != before[i]}

    _txt(tmp_path / "200000_2015.txt", "新增", mtime_s=1_600_000_000)
    assert changed() == {inv.shard_of("200000", 2015, n)}
    before = inv.shard_fingerprints(tmp_path, n)
    _txt(tmp_path / "100003_2014.txt", "改过的内容", mtime_s=1_600_000_000)  # same mtime, other size
    assert changed() == {inv.shard_of("100003", 2014, n)}
    before = inv.shard_fingerprints(tmp_path, n)
    (tmp_path / "100005_2016.txt").unlink()
    assert changed() == {inv.shard_of("100005", 2016, n)}
    before = inv.shard_fingerprints(tmp_path, n)
    _txt(tmp_path / "sub" / "100006_2017.pdf", "另一版本", mtime_s=1_600_000_000)  # a second version
    assert changed() == {inv.shard_of("100006", 2017, n)}


def test_older_mtime_replacement_changes_the_fingerprint(tmp_path):
    p = _txt(tmp_path / "000001_2015.txt", "工业机器人", mtime_s=1_700_000_000)
    files = inv.list_reports(tmp_path)
    fp = inv.fingerprint(files)
    assert inv.fingerprint(inv.list_reports(tmp_path)) == fp
    _txt(p, "人工智能！", mtime_s=1_600_000_000)  # same size (15 bytes), other content, OLDER mtime
    files2 = inv.list_reports(tmp_path)
    assert files2[0].size == files[0].size and files2[0].mtime_ns < files[0].mtime_ns
    assert inv.fingerprint(files2) != fp
    assert inv.fingerprint(list(reversed(files2 + files))) == inv.fingerprint(files + files2)  # order-free
    assert inv.fingerprint([]) == inv.fingerprint([])


# ---------------------------------------------------------------------------------------------- versions


def test_resolve_versions_prefers_txt_then_shallowest(tmp_path):
    rels = [
        "sub/000001_2015.txt",
        "000001_2015.pdf",
        "000001_2015.txt",
        "a/000002_2011.pdf",
        "000002_2011.pdf",
        "notes.txt",
    ]
    for r in rels:
        _txt(tmp_path / r, "公司")
    files = inv.list_reports(tmp_path)
    used, superseded = resolve_versions(files)
    assert {k: f.relpath for k, f in used.items()} == {
        ("000001", 2015): "000001_2015.txt",
        ("000002", 2011): "000002_2011.pdf",
    }
    assert superseded == {
        "000001_2015.pdf": ("duplicate", "firm-year also in 000001_2015.txt; that file is used"),
        "sub/000001_2015.txt": ("duplicate", "firm-year also in 000001_2015.txt; that file is used"),
        "a/000002_2011.pdf": ("duplicate", "firm-year also in 000002_2011.pdf; that file is used"),
    }
    assert resolve_versions(reversed(files)) == (used, superseded)


def test_txt_and_pdf_of_one_firm_year_are_counted_once(tmp_path, spec):
    txt = "第四节 管理层讨论与分析\n公司推进工业机器人与大数据。\n第五节 重要事项\n"
    _txt(tmp_path / "000001_2015.txt", txt)
    rs.write_pdf(tmp_path / "000001_2015.pdf", txt + "公司推进人工智能与云计算。\n")
    _txt(tmp_path / "revised" / "000001_2015.txt", txt + "人工智能\n")
    shard = inv.shard_inventory(tmp_path, 8)[inv.shard_of("000001", 2015, 8)]
    assert len(shard) == 3
    ex = extract_shard(shard)
    assert ex["status"].tolist() == ["duplicate", "ok", "duplicate"]
    assert ex["file"].tolist() == ["000001_2015.pdf", "000001_2015.txt", "revised/000001_2015.txt"]
    assert ex.loc[1, "text"] == txt and ex.loc[1, "n_chars"] == len(txt)
    assert ex.loc[0, "text"] == "" and ex.loc[0, "norm"] == b""  # a superseded PDF is not even extracted
    counts, log = count_extracted(ex, spec)
    idx = text_index(counts, log)
    assert idx["n_keywords"].tolist() == [2]  # 工业机器人 + 大数据 of the .txt only
    dup = log[log["status"] == "duplicate"]
    assert dup["reason"].tolist() == ["firm-year also in 000001_2015.txt; that file is used"] * 2
    mcounts, mlog = count_extracted(ex, spec, section="mdna")
    assert int(mcounts["count"].sum()) == 2 and mlog["status"].tolist() == ["duplicate", "ok", "duplicate"]


def test_unmatched_names_and_dangling_symlinks_are_logged(tmp_path, spec):
    _txt(tmp_path / "notes.txt", "公司推进工业机器人")
    _txt(tmp_path / "12345_2015.txt", "公司推进工业机器人")
    _txt(tmp_path / "000001_2015.txt", "公司推进工业机器人")
    os.symlink(tmp_path / "gone.pdf", tmp_path / "000002_2015.pdf")
    (tmp_path / "dir").mkdir()
    os.symlink(tmp_path / "dir", tmp_path / "000003_2015.txt")
    files = inv.list_reports(tmp_path)
    by = {f.relpath: f for f in files}
    assert set(by) == {"notes.txt", "12345_2015.txt", "000001_2015.txt", "000002_2015.pdf", "000003_2015.txt"}
    assert by["000002_2015.pdf"].size == -1 and by["000002_2015.pdf"].key == ("000002", 2015)
    assert by["notes.txt"].key is None and by["12345_2015.txt"].Stkcd is None
    ex = pd.concat([extract_shard(s) for s in inv.shard_inventory(tmp_path, 3).values()], ignore_index=True)
    counts, log = count_extracted(ex, spec)
    st = dict(zip(log["file"], log["status"], strict=True))
    assert st == {
        "000001_2015.txt": "ok",
        "000002_2015.pdf": "unreadable",
        "000003_2015.txt": "unreadable",
        "12345_2015.txt": "bad_name",
        "notes.txt": "bad_name",
    }
    reason = dict(zip(log["file"], log["reason"], strict=True))
    assert "dangling symlink" in reason["000002_2015.pdf"] and "gone.pdf" in reason["000002_2015.pdf"]
    assert "folder" in reason["000003_2015.txt"]
    assert counts["Stkcd"].unique().tolist() == ["000001"] and int(counts["count"].sum()) == 1


def test_count_extracted_needs_the_cache_columns(spec):
    with pytest.raises(InputError, match="norm"):
        count_extracted(pd.DataFrame({"file": [], "status": []}), spec)


# ------------------------------------------------------------------- cache == counting the reports directly


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, spec):
    """Reports in every format (TXT in three encodings, PDFs), traps, broken files, duplicates, bad names."""
    d = tmp_path_factory.mktemp("inc_reports")
    rng = np.random.default_rng(3)
    formats = [("txt", "utf-8"), ("txt", "utf-8-sig"), ("txt", "gb18030"), ("pdf", "utf-8")]
    for i in range(12):
        planted = {str(k): int(rng.integers(1, 4)) for k in rng.choice(spec.keywords, size=8, replace=False)}
        fmt, enc = formats[i % 4]
        rs.write_report(d / f"{100001 + i:06d}_{2011 + i % 9}.{fmt}", planted, rng, fmt=fmt, encoding=enc)
    fy = [(f"{300001 + i:06d}", 2011 + i % 9, float(rng.uniform(0, 30))) for i in range(20)]
    rs.write_reports_for_panel(d, fy, rng, pdf_share=0.2)
    rs.write_report(d / "100001_2011.pdf", {"大数据": 5}, rng, fmt="pdf")  # duplicate of a .txt
    # astral characters and a combining mark right after the MD&A heading line and after its end
    (d / "100099_2015.txt").write_text(
        "目录\n第四节 管理层讨论与分析\n\u0301ｅ\u0301公司推进𠀀人工智能，不涉及大数据。\n"
        "第五节 重要事项\n\u0308云计算😀工业机器人\n",
        encoding="utf-8",
    )
    (d / "100098_2015.txt").write_text("公司推进工业机器人，没有管理层讨论的标题。\n", encoding="utf-8")
    (d / "notes.txt").write_text("not a report", encoding="utf-8")
    return d


def _legacy(paths: list[Path], spec, section: str) -> tuple[dict, list[tuple]]:
    """The algorithm count_reports had before the cache, from public pieces: name parse, .txt over .pdf,
    extract_report, mdna_section, count_keywords on the whole text."""
    import re

    name = re.compile(r"^(?P<Stkcd>\d{6})_(?P<year>\d{4})\.(?P<ext>txt|pdf)$", re.IGNORECASE)
    paths = sorted(paths, key=lambda p: (p.name, str(p)))
    chosen: dict = {}
    for p in paths:
        m = name.match(p.name)
        if m:
            key = (m["Stkcd"], int(m["year"]))
            if key not in chosen or (p.suffix.lower() == ".txt" and chosen[key].suffix.lower() != ".txt"):
                chosen[key] = p
    counts, log = {}, []
    for p in paths:
        m = name.match(p.name)
        if not m:
            log.append((p.name, None, None, "bad_name"))
            continue
        key = (m["Stkcd"], int(m["year"]))
        if chosen[key] != p:
            log.append((p.name, *key, "duplicate"))
            continue
        try:
            rep = extract_report(p)
        except ReportUnreadable:
            log.append((p.name, *key, "unreadable"))
            continue
        text = rep.text if section == "full" else mdna_section(rep.text)
        if text is None:
            log.append((p.name, *key, "no_mdna"))
            continue
        log.append((p.name, *key, "ok"))
        counts.update({(*key, k): v for k, v in count_keywords(text, spec).items()})
    return counts, sorted(log)


def _as_dicts(counts: pd.DataFrame, log: pd.DataFrame) -> tuple[dict, list[tuple]]:
    c = {
        (s, int(y), k): int(n)
        for s, y, k, n in counts[["Stkcd", "year", "keyword", "count"]].itertuples(index=False)
    }
    lg = [
        (f, None if s is pd.NA else s, None if y is pd.NA else int(y), st)
        for f, s, y, st in log[["file", "Stkcd", "year", "status"]].itertuples(index=False)
    ]
    return c, sorted(lg)


@pytest.mark.parametrize("section", ["full", "mdna"])
def test_count_extracted_equals_counting_the_reports(corpus, spec, section, tmp_path):
    paths = sorted(corpus.iterdir())
    old = _legacy(paths, spec, section)
    statuses = {s for *_, s in old[1]}
    assert statuses == (
        {"ok", "unreadable", "duplicate", "bad_name"} | ({"no_mdna"} if section == "mdna" else set())
    )
    assert sum(old[0].values()) > 100
    direct = count_reports(paths, spec, section=section)
    assert _as_dicts(*direct) == old
    # through the cache: 3 shards, each written to parquet and read back without the raw text
    parts = []
    for i, files in inv.shard_inventory(corpus, 3).items():
        write_extracted(extract_shard(files, corpus), tmp_path / f"shard_{i}.parquet")
        parts.append(read_extracted(tmp_path / f"shard_{i}.parquet"))
    assert "text" not in parts[0].columns
    assert read_extracted(tmp_path / "shard_0.parquet", text=True)["text"].str.len().sum() > 0
    cached = count_extracted(pd.concat(parts, ignore_index=True), spec, section=section)
    pd.testing.assert_frame_equal(cached[0], direct[0])
    pd.testing.assert_frame_equal(cached[1], direct[1])
    pd.testing.assert_frame_equal(text_index(*cached), text_index(*direct))
    assert isinstance(parts[0].loc[parts[0]["status"] == "ok", "norm"].iloc[0], np.ndarray)  # zero-copy views
    files = count_extracted_files([tmp_path / f"shard_{i}.parquet" for i in (2, 0, 1)], spec, section=section)
    pd.testing.assert_frame_equal(files[0], direct[0])
    pd.testing.assert_frame_equal(files[1], direct[1])


def test_a_keyword_change_needs_no_reextraction(corpus, spec):
    ex = extract_shard(inv.list_reports(corpus), corpus)
    cats = {**spec.categories, "新类别": ("增长", "年度报告")}  # filler words as keywords: many hits
    changed = spec.replace(categories=cats)
    cached = count_extracted(ex, changed)
    direct = count_reports(sorted(corpus.iterdir()), changed)
    pd.testing.assert_frame_equal(cached[0], direct[0])
    assert int(cached[0].loc[cached[0]["keyword"] == "增长", "count"].sum()) > 100
    sub = count_extracted(ex, spec.replace(mode="substring"))
    pd.testing.assert_frame_equal(
        sub[0], count_reports(sorted(corpus.iterdir()), spec.replace(mode="substring"))[0]
    )


def test_cached_norm_is_the_normalized_text(corpus):
    ex = extract_shard(
        inv.list_reports(corpus),
        corpus,
    )
    ok = ex[ex["status"] == "ok"]
    assert len(ok) >= 25 and ok["mdna_start"].notna().sum() >= 25
    for row in ok.itertuples(index=False):
        norm = row.norm.decode("utf-16-le", "surrogatepass")
        assert norm == "".join(unicodedata.normalize("NFKC", row.text).split())
        assert row.astral == any(ord(c) > 0xFFFF for c in norm)
        sec = mdna_section(row.text)
        if sec is None:
            assert row.mdna_start is pd.NA
            continue
        part = row.norm[2 * row.mdna_start : 2 * row.mdna_end].decode("utf-16-le", "surrogatepass")
        assert part == normalize(sec)
        assert row.mdna_astral == any(ord(c) > 0xFFFF for c in part)
    tricky = ok.set_index("file").loc["100099_2015.txt"]
    assert tricky["astral"] and tricky["mdna_astral"]
    assert ok.set_index("file").loc["100098_2015.txt", "mdna_start"] is pd.NA
