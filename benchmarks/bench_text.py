"""Benchmark of the text index: keyword counting throughput and PDF text extraction speed.

Run: ``python benchmarks/bench_text.py [--mb 100] [--runs 3]`` (needs ``pip install jieba pdfplumber``;
without them those rows are skipped). Writes benchmarks/results/text.csv and text.md.

Counting: MB = megabytes of the report text in UTF-8 (what a .txt report weighs on disk), counted per report as
the workflow calls it. Throughput is reported both per CPU second of this process (``time.process_time``: the
per-core figure, robust to other jobs on a shared machine) and per wall-clock second. Medians over runs.
- fast: ``intelcap.measures.text.count_keywords`` (table NFKC + numpy prefilter + pyahocorasick ``iter_long``).
- naive: ``unicodedata.normalize("NFKC")`` + whitespace split/join + 55 x ``str.count`` (substring semantics).
- jieba: the same normalization, then ``jieba.Tokenizer.lcut(HMM=False)`` with the 55 keywords as forced user
  words (freq 1e8), tokens counted. Slow, so it runs on a prefix of the corpus.
Equality check: on reports without negation traps, fast counts == jieba counts == planted counts. Where the
semantics differ (not checked): jieba has no negation rule; on overlapping keywords (大数据分析) jieba picks the
segmentation with the highest probability, leftmost-longest picks 大数据; naive str.count double counts nested
keywords (工业机器人 also as 机器人).

PDF: pages per CPU second of text extraction, pypdfium2 (``intelcap.measures.text.extract_report``) vs pdfplumber
(``page.extract_text()``), on the same synthetic multi-page PDFs; the keyword counts of both texts must agree.
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from intelcap.atomic import write_csv, write_text
from intelcap.measures.text import count_keywords, extract_report, load_keywords
from intelcap.synthetic import reports as rs

RESULTS = Path(__file__).resolve().parent / "results"


def timed(fn, runs: int) -> tuple[float, float]:
    """Median CPU seconds and median wall seconds of ``fn()`` over ``runs`` runs."""
    cpu, wall = [], []
    for _ in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall)


def make_corpus(n_distinct: int, target_mb: float, traps: bool, seed: int) -> tuple[list[str], list[dict]]:
    """Synthetic reports of ~120k characters (a real annual report has ~100k-300k), repeated to target_mb."""
    rng = np.random.default_rng(seed)
    keywords = rs.default_keywords()
    weights = rng.dirichlet(np.full(len(keywords), 0.5))
    texts, planted = [], []
    for _ in range(n_distinct):
        counts = rng.multinomial(int(rng.poisson(60)), weights)
        plan = {k: int(c) for k, c in zip(keywords, counts, strict=True) if c}
        text, full, _, _ = rs.compose_report(plan, rng, traps=traps, n_filler=4000)
        texts.append(text)
        planted.append(full)
    size = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    reps = max(1, int(round(target_mb / size)))
    return texts * reps, planted * reps


def naive_count(text: str, keywords: list[str]) -> dict[str, int]:
    s = "".join(unicodedata.normalize("NFKC", text).split())
    return {k: s.count(k) for k in keywords}


def jieba_counter(keywords: list[str]):
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    for k in keywords:
        tok.add_word(k, freq=10**8)
    tok.initialize()
    kwset = set(keywords)

    def count(text: str) -> dict[str, int]:
        s = "".join(unicodedata.normalize("NFKC", text).split())
        c = collections.Counter(w for w in tok.lcut(s, HMM=False) if w in kwset)
        return {k: c.get(k, 0) for k in keywords}

    return count


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=100.0, help="corpus size for fast/naive counting (MB UTF-8)")
    ap.add_argument("--jieba-mb", type=float, default=3.0, help="corpus prefix for jieba (MB UTF-8)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pdf-pages", type=int, default=200)
    args = ap.parse_args()
    spec = load_keywords()
    keywords = list(spec.keywords)
    rows: list[dict] = []

    def add(task: str, method: str, metric: str, value: float, unit: str, note: str = "") -> None:
        rows.append(
            {
                "task": task,
                "method": method,
                "metric": metric,
                "value": round(value, 3),
                "unit": unit,
                "runs": args.runs,
                "note": note,
            }
        )
        print(f"{task:9s} {method:22s} {metric:24s} {value:12.3f} {unit} {note}", flush=True)

    # ------------------------------------------------------------------------------------------ counting
    texts, _ = make_corpus(40, args.mb, traps=True, seed=1)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    add(
        "count",
        "corpus",
        "size",
        mb,
        "MB",
        f"{len(texts)} reports, median {int(np.median([len(t) for t in texts]))} chars",
    )
    count_keywords("预热", spec)  # build the NFKC tables outside the timing
    cpu, wall = timed(lambda: [count_keywords(t, spec) for t in texts], args.runs)
    add("count", "fast (intelcap)", "throughput_cpu", mb / cpu, "MB/s")
    add("count", "fast (intelcap)", "throughput_wall", mb / wall, "MB/s")
    sub = texts[: max(1, len(texts) // 5)]
    sub_mb = sum(len(t.encode("utf-8")) for t in sub) / 1e6
    cpu, wall = timed(lambda: [naive_count(t, keywords) for t in sub], args.runs)
    add("count", "naive NFKC+str.count", "throughput_cpu", sub_mb / cpu, "MB/s", f"on {sub_mb:.1f} MB")
    add("count", "naive NFKC+str.count", "throughput_wall", sub_mb / wall, "MB/s", f"on {sub_mb:.1f} MB")
    pre = ["".join(unicodedata.normalize("NFKC", t).split()) for t in sub]
    cpu, _ = timed(lambda: [{k: s.count(k) for k in keywords} for s in pre], args.runs)
    add("count", "55x str.count only", "throughput_cpu", sub_mb / cpu, "MB/s", "pre-normalized text, no NFKC")

    clean, planted = make_corpus(12, args.jieba_mb, traps=False, seed=2)
    clean_mb = sum(len(t.encode("utf-8")) for t in clean) / 1e6
    fast_clean = [count_keywords(t, spec) for t in clean]
    same_planted = all(
        {k: v for k, v in c.items() if v} == p for c, p in zip(fast_clean, planted, strict=True)
    )
    add("count", "fast (intelcap)", "equals_planted", float(same_planted), "bool", f"{len(clean)} reports")
    try:
        jc = jieba_counter(keywords)
    except ImportError:
        print("jieba not installed: skipping jieba rows", file=sys.stderr)
    else:
        jc(clean[0])
        cpu, wall = timed(lambda: [jc(t) for t in clean], args.runs)
        add("count", "jieba (user dict)", "throughput_cpu", clean_mb / cpu, "MB/s", f"on {clean_mb:.1f} MB")
        add("count", "jieba (user dict)", "throughput_wall", clean_mb / wall, "MB/s", f"on {clean_mb:.1f} MB")
        same = all(jc(t) == c for t, c in zip(clean, fast_clean, strict=True))
        add(
            "count",
            "fast vs jieba",
            "identical_counts",
            float(same),
            "bool",
            "reports without negation traps",
        )

    # ----------------------------------------------------------------------------------------------- PDF
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(3)
        pdfs, pages = [], 0
        i = 0
        while pages < args.pdf_pages:
            plan = {k: int(rng.integers(1, 4)) for k in rng.choice(keywords, size=10, replace=False)}
            text, _, _, _ = rs.compose_report(plan, rng, traps=True, n_filler=1200)
            path = Path(tmp) / f"{600000 + i:06d}_2015.pdf"
            pages += rs.write_pdf(path, text)
            pdfs.append(path)
            i += 1
        add("pdf", "corpus", "pages", pages, "pages", f"{len(pdfs)} PDFs")
        cpu, wall = timed(lambda: [extract_report(p) for p in pdfs], args.runs)
        fast_pps = pages / cpu
        add("pdf", "pypdfium2 (intelcap)", "pages_per_s_cpu", fast_pps, "pages/s")
        add("pdf", "pypdfium2 (intelcap)", "pages_per_s_wall", pages / wall, "pages/s")
        try:
            import pdfplumber
        except ImportError:
            print("pdfplumber not installed: skipping", file=sys.stderr)
        else:
            logging.getLogger("pdfminer").setLevel(logging.ERROR)

            def plumber(p: Path) -> str:
                with pdfplumber.open(p) as pdf:
                    return "\n".join(page.extract_text() or "" for page in pdf.pages)

            cpu, wall = timed(lambda: [plumber(p) for p in pdfs], args.runs)
            add("pdf", "pdfplumber", "pages_per_s_cpu", pages / cpu, "pages/s")
            add("pdf", "pdfplumber", "pages_per_s_wall", pages / wall, "pages/s")
            add("pdf", "pypdfium2 / pdfplumber", "speedup_cpu", fast_pps / (pages / cpu), "x")
            same = all(
                count_keywords(extract_report(p).text, spec) == count_keywords(plumber(p), spec) for p in pdfs
            )
            add("pdf", "pypdfium2 vs pdfplumber", "identical_counts", float(same), "bool")

    df = pd.DataFrame(rows)
    write_csv(df, RESULTS / "text.csv")
    load = os.getloadavg()
    lines = [
        "# Text index benchmark (`benchmarks/bench_text.py`)",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average at the end {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} "
        "(a shared machine: CPU-time figures are the per-core numbers, wall-clock ones depend on other jobs).",
        f"Medians of {args.runs} runs. MB = UTF-8 megabytes of report text. Targets: counting >= 200 MB/s per "
        "core; PDF >= 150 pages/s per core and >= 10x pdfplumber.",
        "",
        "| task | method | metric | value | unit | note |",
        "|---|---|---|---:|---|---|",
        *[
            f"| {r.task} | {r.method} | {r.metric} | {r.value:,.3f} | {r.unit} | {r.note} |"
            for r in df.itertuples()
        ],
        "",
        "Semantics: `fast` = leftmost-longest, non-overlapping, negation rule; `naive` = overlapping substring "
        "counts (nested keywords double-counted, no negation); jieba = forced user-dictionary segmentation "
        "(equal to leftmost-longest on texts without negations or overlapping keyword pairs, checked above).",
        "",
    ]
    write_text(RESULTS / "text.md", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
