"""Benchmark of the incremental text stage: what a keyword-dictionary change costs before and after the
extraction cache, and what the DAG-time inventory costs.

Run: ``nice -n 10 python benchmarks/bench_text_incremental.py [--reports 1000] [--runs 3] [--count-runs 5]``
(``--reports 60 --runs 1`` for a quick check). Writes benchmarks/results/text_incremental.{csv,md}.

Corpus (seeded, in a temporary folder deleted at the end): ``--reports`` synthetic annual reports of 150k-400k
characters (reports_synth filler sentences, keywords planted with all its traps), ``--pdf-share`` of them
text-layer PDFs of ~200 pages (280k-340k characters), the rest UTF-8 .txt.
- (a) baseline, what a keyword change costs today: every shard rerun = extraction + counting of every report,
  timed with ``legacy_count_reports`` (a copy of count_reports before the cache) on the changed dictionary.
- cold new path (once): ``extract_shard`` per shard written to parquet, as the ``text_extract`` rule will.
- (b) new path after a keyword change: ``count_extracted_files`` (``read_extracted`` + ``count_extracted``,
  one shard at a time) over the cached shard files. Its counts must equal (a)'s. Ratio a/b (target >= 50x).
- (c) PDF extraction pages/s (``extract_report`` on the PDFs of the corpus, up to 20).
- incremental: one report added, and one edited: number of shards whose fingerprint changes (must be 1), and
  the cost of rerunning that shard (extract + count).
- (d) DAG-time cost: ``text_inventory.shard_fingerprints`` over a folder of ``--inventory-files`` small files,
  and the import time of text_inventory (fresh interpreter).
Times are medians over runs, wall clock and process CPU, in one process: interpreter start-up of the
Snakemake jobs (~1-2 s each, the same before and after) is not included. Peak RSS (ru_maxrss, monotone) is
printed after each phase.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from intelcap.atomic import write_csv, write_text
from intelcap.measures import text_inventory as inv
from intelcap.measures.text import (
    ReportUnreadable,
    _assemble_counts,
    _normalize_units,
    count_extracted,
    count_extracted_files,
    extract_report,
    extract_shard,
    load_keywords,
    mdna_section,
    read_extracted,
    text_index,
    write_extracted,
)
from intelcap.synthetic import reports as rs

RESULTS = Path(__file__).resolve().parent / "results"
_NAME = re.compile(r"^(?P<Stkcd>\d{6})_(?P<year>\d{4})\.(?P<ext>txt|pdf)$", re.IGNORECASE)


def legacy_count_reports(paths, spec, section=None):
    """count_reports as it was before the extraction cache (commit 5822acb), reduced to what it computed:
    extraction and counting of every report in one pass."""
    section = section or spec.section
    paths = sorted((Path(p) for p in paths), key=lambda p: (p.name, str(p)))

    def parse(name):
        m = _NAME.match(name)
        return (m["Stkcd"], int(m["year"])) if m else None

    chosen = {}
    for p in paths:
        key = parse(p.name)
        if key is not None and (
            key not in chosen or (p.suffix.lower() == ".txt" and chosen[key].suffix.lower() != ".txt")
        ):
            chosen[key] = p
    log_rows, count_rows, keys = [], [], []
    for p in paths:
        key = parse(p.name)
        if key is None:
            log_rows.append(
                (p.name, None, None, "bad_name", "file name is not <Stkcd 6 digits>_<year>.txt|pdf", 0, None)
            )
            continue
        stk, year = key
        if chosen[key] != p:
            log_rows.append(
                (
                    p.name,
                    stk,
                    year,
                    "duplicate",
                    f"firm-year also in {chosen[key].name}; that file is used",
                    0,
                    None,
                )
            )
            continue
        try:
            rep = extract_report(p)
        except ReportUnreadable as e:
            log_rows.append((p.name, stk, year, "unreadable", e.reason, 0, None))
            continue
        text = rep.text
        if section == "mdna":
            sec = mdna_section(text)
            if sec is None:
                log_rows.append(
                    (p.name, stk, year, "no_mdna", "no MD&A heading found", len(rep.text), rep.n_pages)
                )
                continue
            text = sec
        count_rows.append(
            spec._matcher.count_units(*_normalize_units(text), substring=(spec.mode == "substring"))
        )
        keys.append(key)
        log_rows.append((p.name, stk, year, "ok", "", len(rep.text), rep.n_pages))
    return _assemble_counts(spec, keys, count_rows, log_rows)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, runs: int):
    """(median wall s, median CPU s, all wall times, last result)."""
    wall, cpu, out = [], [], None
    for _ in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(wall), statistics.median(cpu), wall, out


def make_corpus(folder: Path, n: int, pdf_share: float, seed: int) -> dict:
    """``n`` reports; returns planted totals per firm-year and corpus statistics."""
    rng = np.random.default_rng(seed)
    keywords = rs.default_keywords()
    weights = rng.dirichlet(np.full(len(keywords), 0.5))
    # filler sentences average ~29 characters; aim each report's length with n_filler
    planted, chars, pages = {}, [], []
    for i in range(n):
        stk, year = f"{100000 + i:06d}", 2011 + i % 10
        is_pdf = rng.random() < pdf_share
        target = rng.uniform(280_000, 340_000) if is_pdf else rng.uniform(150_000, 400_000)
        counts = rng.multinomial(int(rng.poisson(40)), weights)
        plan = {k: int(c) for k, c in zip(keywords, counts, strict=True) if c}
        text, full, _, _ = rs.compose_report(plan, rng, n_filler=int(target / 29), year=year)
        p = folder / f"{stk}_{year}.{'pdf' if is_pdf else 'txt'}"
        if is_pdf:
            pages.append(rs.write_pdf(p, text, atomic=False))
        else:
            p.write_bytes(text.encode("utf-8"))
        planted[(stk, year)] = sum(full.values())
        chars.append(len(text))
    return {"planted": planted, "chars": chars, "pages": pages}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--pdf-share", type=float, default=0.2)
    ap.add_argument("--shards", type=int, default=16)
    ap.add_argument("--runs", type=int, default=3, help="runs of the (slow) baseline")
    ap.add_argument("--count-runs", type=int, default=5, help="runs of the cached counting and inventory")
    ap.add_argument("--inventory-files", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--frequent-keywords", action="store_true")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    rows: list[dict] = []

    def add(task: str, metric: str, value: float, unit: str, note: str = "") -> None:
        rows.append(
            {"task": task, "metric": metric, "value": round(float(value), 4), "unit": unit, "note": note}
        )
        print(f"{task:14s} {metric:34s} {value:14.4f} {unit:8s} {note}", flush=True)

    spec = load_keywords()
    # A dictionary change: one keyword dropped and a category of three new keywords; every shard's counts
    # change, the extracted text does not. (--frequent-keywords adds words of the filler text instead, which
    # makes every counting run, old and new, scan many more windows.)
    cats = {c: tuple(k for k in ks if k != "云计算") for c, ks in spec.categories.items()}
    new_words = ("年度报告", "净利润") if args.frequent_keywords else ("数字经济", "区块链", "智能制造")
    changed = spec.replace(categories={**cats, "新增类别": new_words})
    tmp = Path(tempfile.mkdtemp(prefix="bench_textinc_"))
    try:
        reports, cache = tmp / "reports", tmp / "extracted"
        reports.mkdir()
        cache.mkdir()
        t0 = time.perf_counter()
        info = make_corpus(reports, args.reports, args.pdf_share, args.seed)
        files = sorted(reports.iterdir())
        mb = sum(p.stat().st_size for p in files) / 1e6
        add(
            "corpus",
            "reports",
            len(files),
            "files",
            f"{len(info['pages'])} PDFs, written in {time.perf_counter() - t0:.0f} s",
        )
        add(
            "corpus",
            "chars_median",
            statistics.median(info["chars"]),
            "chars",
            f"min {min(info['chars'])}, max {max(info['chars'])}",
        )
        if info["pages"]:
            add(
                "corpus",
                "pdf_pages_median",
                statistics.median(info["pages"]),
                "pages",
                f"min {min(info['pages'])}, max {max(info['pages'])}, total {sum(info['pages'])}",
            )
        add("corpus", "size_on_disk", mb, "MB")
        add("corpus", "peak_rss", rss_mb(), "MB")

        # (a) today: a keyword change reruns every shard = extraction + counting of every report
        a_wall, a_cpu, a_all, (a_counts, a_log) = timed(
            lambda: legacy_count_reports(files, changed), args.runs
        )
        add("a_today", "wall_median", a_wall, "s", "runs " + " ".join(f"{w:.1f}" for w in a_all))
        add("a_today", "cpu_median", a_cpu, "s")
        add("a_today", "peak_rss", rss_mb(), "MB")

        # cold new path: extraction into the cache, shard by shard (the text_extract rule)
        shards = inv.shard_inventory(reports, args.shards)

        def extract_all() -> None:
            for i, fs in shards.items():
                write_extracted(extract_shard(fs, reports), cache / f"shard_{i}.parquet")

        e_wall, e_cpu, _, _ = timed(extract_all, 1)
        cache_mb = sum(p.stat().st_size for p in cache.iterdir()) / 1e6
        add("extract", "wall", e_wall, "s", f"{args.shards} shards, once (cold run of the new rules)")
        add("extract", "cpu", e_cpu, "s")
        add("extract", "cache_size", cache_mb, "MB", "parquet: text zstd + normalized UTF-16 lz4")
        add("extract", "peak_rss", rss_mb(), "MB")

        # (b) after a keyword change: count from the cache only
        paths = [cache / f"shard_{i}.parquet" for i in range(args.shards)]

        def read_only() -> None:
            for p in paths:
                read_extracted(p)

        b_wall, b_cpu, b_all, (b_counts, b_log) = timed(
            lambda: count_extracted_files(paths, changed), args.count_runs
        )
        r_wall, _, _, _ = timed(read_only, args.count_runs)
        add("b_cached", "wall_median", b_wall, "s", "runs " + " ".join(f"{w:.2f}" for w in b_all))
        add("b_cached", "cpu_median", b_cpu, "s")
        add("b_cached", "of_which_read_parquet", r_wall, "s")
        add("b_cached", "peak_rss", rss_mb(), "MB")
        add("ratio", "a_over_b_wall", a_wall / b_wall, "x", "target >= 50")
        add("ratio", "a_over_b_cpu", a_cpu / b_cpu, "x")
        same = a_counts.equals(b_counts) and a_log.drop(columns="reason").equals(b_log.drop(columns="reason"))
        add("check", "counts_equal_a_b", float(same), "bool", "after the keyword change")
        idx = text_index(b_counts, b_log)
        base = pd.concat([count_extracted(read_extracted(p), spec)[0] for p in paths], ignore_index=True)
        got = base.groupby(["Stkcd", "year"])["count"].sum()
        planted = pd.Series(info["planted"]).rename_axis(["Stkcd", "year"])
        add(
            "check",
            "counts_equal_planted",
            float(got.sort_index().to_dict() == planted.sort_index().to_dict()),
            "bool",
            f"{len(idx)} firm-years, original dictionary",
        )

        # (c) PDF extraction speed
        pdfs = [p for p in files if p.suffix == ".pdf"][:20]
        if pdfs:
            n_pages = sum(extract_report(p).n_pages for p in pdfs)
            c_wall, c_cpu, _, _ = timed(lambda: [extract_report(p) for p in pdfs], args.runs)
            add(
                "c_pdf", "pages_per_s_wall", n_pages / c_wall, "pages/s", f"{len(pdfs)} PDFs, {n_pages} pages"
            )
            add("c_pdf", "pages_per_s_cpu", n_pages / c_cpu, "pages/s")

        # incremental: add one report, then edit one; exactly one shard's fingerprint changes
        before = {i: inv.fingerprint(fs) for i, fs in shards.items()}
        rng = np.random.default_rng(args.seed + 1)
        new = reports / "999999_2020.txt"
        text, _, _, _ = rs.compose_report({"人工智能": 3}, rng, n_filler=9000, year=2020)
        new.write_text(text, encoding="utf-8")
        after = inv.shard_fingerprints(reports, args.shards)
        changed_shards = [i for i in range(args.shards) if after[i] != before[i]]
        add(
            "incremental",
            "shards_changed_add",
            len(changed_shards),
            "shards",
            f"shard {changed_shards} (shard_of = {inv.shard_of('999999', 2020, args.shards)})",
        )
        edit = files[len(files) // 2]
        edit.write_bytes(edit.read_bytes() + "公司。\n".encode())
        after2 = inv.shard_fingerprints(reports, args.shards)
        edited = [i for i in range(args.shards) if after2[i] != after[i]]
        add("incremental", "shards_changed_edit", len(edited), "shards", f"{edit.name} -> shard {edited}")
        one = inv.shard_inventory(reports, args.shards)[changed_shards[0]]

        def rerun_one():
            ex = extract_shard(one, reports)
            return count_extracted(ex, changed)

        i_wall, _, _, _ = timed(rerun_one, args.runs)
        add(
            "incremental",
            "one_shard_rerun_wall",
            i_wall,
            "s",
            f"{len(one)} reports of {len(files) + 1}: extract + count",
        )
        shutil.rmtree(reports)

        # (d) DAG-time cost of the inventory on a large folder of small files
        big = tmp / "inventory"
        big.mkdir()
        for i in range(args.inventory_files):
            (big / f"{i // 10:06d}_{2011 + i % 10}.{'pdf' if i % 5 == 0 else 'txt'}").write_bytes(
                b"x" * (i % 97)
            )
        d_wall, d_cpu, d_all, fps = timed(lambda: inv.shard_fingerprints(big, args.shards), args.count_runs)
        add(
            "d_inventory",
            "shard_fingerprints_wall",
            d_wall,
            "s",
            f"{args.inventory_files} files, {args.shards} shards; runs "
            + " ".join(f"{w * 1000:.0f}" for w in d_all)
            + " ms",
        )
        add("d_inventory", "shard_fingerprints_cpu", d_cpu, "s")
        code = "import time; t = time.perf_counter(); import intelcap.measures.text_inventory; print(time.perf_counter() - t)"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        imp = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(args.count_runs)
        ]
        add("d_inventory", "import_text_inventory", statistics.median(imp) * 1000, "ms", "fresh interpreter")
        add("all", "peak_rss", rss_mb(), "MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    df = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(df, args.out / "text_incremental.csv")
    load = os.getloadavg()
    lines = [
        "# Incremental text stage benchmark (`benchmarks/bench_text_incremental.py`)",
        "",
        f"Command: `python benchmarks/bench_text_incremental.py {' '.join(sys.argv[1:])}`. Machine: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; load average at "
        f"the end {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} (shared machine). Medians of {args.runs} runs of "
        f"the baseline, {args.count_runs} of the cached counting and the inventory.",
        "",
        "| task | metric | value | unit | note |",
        "|---|---|---:|---|---|",
        *(f"| {r['task']} | {r['metric']} | {r['value']:.4f} | {r['unit']} | {r['note']} |" for r in rows),
        "",
        "a_today = `legacy_count_reports` (extraction + counting of every report: what any keyword change cost, "
        "since every shard reran); b_cached = `read_extracted` + `count_extracted` of every cached shard after "
        "the same change (one more category, one keyword dropped). Counts of a and b are compared exactly.",
    ]
    write_text(args.out / "text_incremental.md", "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
