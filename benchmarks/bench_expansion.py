"""Benchmark of the keyword expansion (measures.keyword_expansion): segmentation MB/s of rjieba against jieba on
the same text, word2vec training time, and the rerun after a seed-word change.

Run: ``python benchmarks/bench_expansion.py [--reports 40] [--filler 3000] [--runs 3]``. Writes
benchmarks/results/expansion.csv and expansion.md.

Corpus: synthetic reports with planted category contexts (``write_reports_for_panel(contexts=...)``), extracted
and normalized as the workflow does (``text.extract_shard``); MB = megabytes of the normalized text in UTF-8.
Segmentation runs through ``keyword_expansion.Segmenter`` (dictionary terms forced, the spans between them to the
segmenter), so both segmenters see exactly the same spans; the tokens are compared sentence by sentence and the
differing sentences counted. Throughput per CPU second of this process (``time.process_time``, robust to other
jobs on a shared machine), medians over ``--runs``; the ratio is taken within the same run. Peak RSS of the
process at the end (``resource.getrusage``).

Rerun after a seed change: the expansion alone (read the vectors and statistics, expand, recall) against the
whole chain it would otherwise take (segment + train + statistics + expand), both timed here.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from intelcap.atomic import write_csv, write_text
from intelcap.measures import keyword_expansion as ke
from intelcap.measures import text
from intelcap.synthetic import reports

RESULTS = Path(__file__).resolve().parent / "results"
SEEDS = dataclasses.replace(
    ke.load_seeds(Path(__file__).resolve().parents[1] / "config/keyword_seeds.yaml"), recall_k=(20,)
)


def cpu_timed(fn, runs: int):
    times, out = [], None
    for _ in range(runs):
        c0 = time.process_time()
        out = fn()
        times.append(time.process_time() - c0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=40, help="number of synthetic reports")
    ap.add_argument("--filler", type=int, default=3000, help="filler sentences per report (~45 chars each)")
    ap.add_argument("--contexts", type=int, default=300, help="planted context sentences per report")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=5)
    a = ap.parse_args()

    spec = text.load_keywords()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "reports"
        fy = [(f"{600000 + i:06d}", 2011 + i % 9, 20.0) for i in range(a.reports)]
        reports.write_reports_for_panel(
            d, fy, np.random.default_rng(1), pdf_share=0.0, n_filler=a.filler, contexts=a.contexts
        )
        ex = text.extract_shard(sorted(d.iterdir()), d)
        ok = ex[ex["status"] == "ok"]
        texts = [ke._norm_text(n) for n in ok["norm"]]
        mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6

        rows = []
        segs = {name: ke.Segmenter(spec.keywords, name) for name in ke.SEGMENTERS}
        for s in segs.values():
            s.sentences(texts[0][:2000])  # load the dictionary outside the timing
        outs = {}
        for name, s in segs.items():
            sec, outs[name] = cpu_timed(lambda s=s: [s.sentences(t) for t in texts], a.runs)
            rows.append({"measure": f"segmentation {name}", "value": mb / sec, "unit": "MB/s per CPU second"})
        ratio = rows[0]["value"] / rows[1]["value"]
        rows.append({"measure": "segmentation rjieba / jieba", "value": ratio, "unit": "ratio (same run)"})
        n_sent = sum(len(x) for x in outs["rjieba"])
        diff = sum(
            x != y
            for da, db in zip(outs["rjieba"], outs["jieba"], strict=True)
            for x, y in zip(da, db, strict=False)
        ) + sum(len(da) != len(db) for da, db in zip(outs["rjieba"], outs["jieba"], strict=True))
        rows.append({"measure": "sentences with different tokens", "value": diff, "unit": f"of {n_sent}"})

        seg_path = Path(tmp) / "seg.parquet"
        t0 = time.process_time()
        ke.segment_shard(ex, segs["rjieba"]).to_parquet(seg_path, index=False)
        seg_sec = time.process_time() - t0
        params = ke.TrainParams(epochs=a.epochs)
        train_sec, (kv, corp) = cpu_timed(lambda: ke.train_vectors([seg_path], spec.keywords, params), 1)
        n_tok = sum(len(s) for s in corp)
        rows.append(
            {"measure": "word2vec training (Phrases + build_vocab + train)", "value": train_sec, "unit": "s"}
        )
        rows.append(
            {
                "measure": "word2vec tokens per second x epochs",
                "value": n_tok * a.epochs / train_sec,
                "unit": "tokens/s",
            }
        )
        t0 = time.process_time()
        stats = ke.corpus_stats(corp, kv.index_to_key)
        stats_sec = time.process_time() - t0
        vec, voc = Path(tmp) / "v.bin", Path(tmp) / "v.parquet"
        ke.write_vectors(kv, vec)
        stats.to_parquet(voc, index=False)

        def rerun():
            c = ke.expand(ke.read_vectors(vec), SEEDS, pd.read_parquet(voc), dictionary=spec.category_of)
            return ke.recall_at_k(c, spec.categories, SEEDS)

        exp_sec, recall = cpu_timed(rerun, a.runs)
        chain = seg_sec + train_sec + stats_sec + exp_sec
        rows.append(
            {"measure": "rerun after a seed change (keyword_expansion only)", "value": exp_sec, "unit": "s"}
        )
        rows.append(
            {
                "measure": "the chain it avoids (segment + train + statistics + expand)",
                "value": chain,
                "unit": "s",
            }
        )
        rows.append({"measure": "rerun speed-up", "value": chain / exp_sec, "unit": "ratio (same run)"})
        for cat, r in recall.set_index("category")["recall"].items():
            rows.append({"measure": f"recall@20 {cat}", "value": r, "unit": "share of Table 7 words"})
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append({"measure": "peak RSS", "value": rss, "unit": "MB"})

    df = pd.DataFrame(rows)
    RESULTS.mkdir(exist_ok=True)
    write_csv(df, RESULTS / "expansion.csv")
    from importlib.metadata import version

    import gensim
    import jieba
    import rjieba  # noqa: F401

    head = (
        f"# Keyword expansion benchmark\n\n{a.reports} synthetic reports, {mb:.1f} MB normalized text (UTF-8), "
        f"{n_tok:,} tokens; medians of {a.runs} runs (CPU seconds of one process). Python "
        f"{sys.version.split()[0]}, {platform.machine()}, gensim {gensim.__version__}, jieba {jieba.__version__}, "
        f"rjieba {version('rjieba')}.\nCommand: `python benchmarks/bench_expansion.py --reports {a.reports} "
        f"--filler {a.filler} --contexts {a.contexts} --runs {a.runs} --epochs {a.epochs}`\n\n"
    )
    table = "| measure | value | unit |\n|---|---:|---|\n" + "".join(
        f"| {r.measure} | {r.value:,.3g} | {r.unit} |\n" for r in df.itertuples()
    )
    write_text(RESULTS / "expansion.md", head + table)
    print(head + table)


if __name__ == "__main__":
    main()
