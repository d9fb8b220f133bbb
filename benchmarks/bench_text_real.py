"""Benchmark of the text stage on real-size synthetic reports (synth.report_size: real; 150-250 pages each),
including the seed-word expansion.

Run: ``nice -n 10 python benchmarks/bench_text_real.py [--n 1000] [--pdf-share 0.2] [--shards 4] [--runs 3]
[--epochs 5] [--seg-sample 8]``; ``--corpus DIR --generate-only`` generates once, ``--corpus DIR
--skip-generation`` reuses it, ``--from-raw DIR/raw.json`` recomputes the tables from a run's measurements.
Writes benchmarks/results/text_real.csv, .md, _jobs.csv, _extrapolation.csv and _segdiff.csv.

1. Generation: ``write_reports_for_panel(size="real")``; characters per CPU second.
2. Extraction speed in this process, medians over ``--runs``: PDF pages per CPU second (pypdfium2) and .txt
   characters per CPU second, on a sample of the corpus.
3. Every job of the text stage in its own child process, with the library calls of workflow.steps.measures:
   text_extract, text_count, text_segment per shard; text_index, text_coverage, keyword_vectors (its phases
   timed), keyword_expansion; then keyword_expansion again after a seed change (the rerun it costs), and the
   serial jobs on the largest shard alone (RSS growth with the corpus). CPU time and peak RSS from ``os.wait4``.
4. rjieba against jieba through ``keyword_expansion.Segmenter`` on the same reports of the corpus: MB/s per CPU
   second and every sentence whose tokens differ.
5. The whole stage: the sum of CPU and the DAG list-scheduled on 2 cores; every job extrapolated to 10,000 and
   40,000 reports (CPU per report; keyword_vectors' training scaled to the config's 5 epochs), the shards that
   keep each job < 4 GB, the time per SLURM shard and the serial jobs after it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent


def child(args: argparse.Namespace) -> int:
    """One workflow job (the same library calls as workflow.steps.measures), run in a child process."""
    from intelcap import atomic
    from intelcap.measures import keyword_expansion as ke
    from intelcap.measures import text, text_inventory

    work = Path(args.work)
    # --one-shard: the job on one shard's part of the corpus (how its RSS grows with the corpus)
    shards = [args.one_shard] if args.one_shard >= 0 else range(args.shards)
    if args.child == "noop":  # interpreter + imports: the fixed cost of every job, not scaled by reports
        return 0
    if args.child == "extract":
        files = text_inventory.shard_inventory(args.reports, args.shards)[args.shard]
        text.write_extracted(text.extract_shard(files, args.reports), work / f"ex_{args.shard}.parquet")
    elif args.child == "count":  # workflow.steps.measures.text_count with no dictionary variants
        res = text.count_variants(
            text.read_extracted(work / f"ex_{args.shard}.parquet"), text.load_keywords()
        )
        atomic.write_parquet(res.counts, work / f"counts_{args.shard}.parquet")
        atomic.write_csv(res.log, work / f"log_{args.shard}.csv")
        atomic.write_parquet(res.variants, work / f"variants_{args.shard}.parquet")
        atomic.write_parquet(res.chars, work / f"chars_{args.shard}.parquet")
    elif args.child == "index":
        import pandas as pd

        counts = pd.concat([pd.read_parquet(work / f"counts_{i}.parquet") for i in shards])
        logs = [pd.read_csv(work / f"log_{i}.csv", dtype={"Stkcd": str}) for i in shards]
        text.text_index(counts, pd.concat(logs)).to_parquet(work / "index.parquet")
    elif args.child == "coverage":
        cov, _ = text.mdna_coverage(text.read_for_coverage(work / f"ex_{i}.parquet") for i in shards)
        cov.to_csv(work / "coverage.csv", index=False)
    elif args.child == "segment":  # workflow.steps.measures.text_segment
        seg = ke.Segmenter(text.load_keywords().keywords, "rjieba")
        out = ke.segment_shard(text.read_extracted(work / f"ex_{args.shard}.parquet"), seg, "full")
        atomic.write_parquet(out, work / f"seg_{args.shard}.parquet")
    elif args.child == "vectors":  # workflow.steps.measures.keyword_vectors, its phases timed
        from gensim.models import Word2Vec
        from gensim.models.phrases import Phrases

        timing: dict[str, float] = {}

        def timed(cls, name: str, key: str) -> None:
            f = getattr(cls, name)

            def wrapper(self, *a, **k):
                c0 = time.process_time()
                out = f(self, *a, **k)
                timing[key] = timing.get(key, 0.0) + time.process_time() - c0
                if key == "train":
                    timing["raw_tokens"] = float(self.corpus_total_words)
                return out

            setattr(cls, name, wrapper)

        timed(Phrases, "add_vocab", "phrases")
        timed(Word2Vec, "build_vocab", "build_vocab")
        timed(Word2Vec, "train", "train")
        params = ke.TrainParams(epochs=args.epochs)
        segs = [work / f"seg_{i}.parquet" for i in shards]
        kv, corpus = ke.train_vectors(segs, text.load_keywords().keywords, params)
        suffix = "_part" if args.one_shard >= 0 else ""
        ke.write_vectors(kv, work / f"vectors{suffix}.bin")
        c0 = time.process_time()
        atomic.write_parquet(ke.corpus_stats(corpus, kv.index_to_key), work / f"vocab{suffix}.parquet")
        timing["stats"] = time.process_time() - c0
        timing["vocab"] = float(len(kv))
        (work / f"vectors_timing{suffix}.json").write_text(json.dumps(timing))
    elif args.child == "expansion":  # workflow.steps.measures.keyword_expansion
        import pandas as pd

        seeds = ke.load_seeds(args.seeds)
        curation = ke.load_curation(ROOT / "config/keyword_curation.yaml")
        paper = text.load_keywords()
        cand = ke.expand(
            ke.read_vectors(work / "vectors.bin"),
            seeds,
            pd.read_parquet(work / "vocab.parquet"),
            dictionary=paper.category_of,
            decisions={kw: dec for kw, dec, *_ in curation.decisions},
        )
        recall = ke.recall_at_k(cand, paper.categories, seeds)
        atomic.write_csv(cand, work / "candidates.csv")
        atomic.write_csv(recall, work / "recall.csv")
    return 0


def generate(reports: Path, ns: argparse.Namespace) -> dict:
    """The corpus and its generation cost; generation.json next to the reports folder lets a later run reuse
    them (--skip-generation)."""
    from intelcap.synthetic import reports as rs

    if reports.exists() and any(reports.iterdir()):
        raise SystemExit(f"{reports} is not empty: reuse it with --skip-generation or pick another --corpus")
    fy = [(f"{100000 + i:06d}", 2011 + i % 9, 40.0) for i in range(ns.n)]
    c0, w0 = time.process_time(), time.perf_counter()
    truth = rs.write_reports_for_panel(
        reports, fy, np.random.default_rng(1), pdf_share=ns.pdf_share, size="real"
    )
    gen = {
        "n": ns.n,
        "pdf_share": ns.pdf_share,
        "cpu_s": time.process_time() - c0,
        "wall_s": time.perf_counter() - w0,
        "load": os.getloadavg()[0],
        "unreadable_files": sorted(truth.attrs["unreadable_files"]),
    }
    (reports.parent / "generation.json").write_text(json.dumps(gen, indent=1))
    return gen


def run_job(kind: str, shard: int, ns: argparse.Namespace, work: Path, reports: Path, *extra: str) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--shard", str(shard), "--shards", str(ns.shards)]
    cmd += ["--work", str(work), "--reports", str(reports), "--epochs", str(ns.epochs), *extra]
    w0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - w0
    if status != 0:
        raise SystemExit(f"child {kind} {shard} failed with status {status}")
    return {
        "job": kind,
        "shard": shard,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "wall_s": wall,
        "rss_mb": ru.ru_maxrss / 1024,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--pdf-share", type=float, default=0.2)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sample", type=int, default=10, help="reports of each kind timed in-process")
    ap.add_argument("--corpus", help="folder to generate the corpus into and keep (default: a temporary one)")
    ap.add_argument(
        "--skip-generation", action="store_true", help="reuse the corpus an earlier run left in --corpus"
    )
    ap.add_argument("--generate-only", action="store_true", help="generate into --corpus and stop")
    ap.add_argument(
        "--epochs", type=int, default=5, help="word2vec epochs of keyword_vectors (default: config's 5)"
    )
    ap.add_argument("--seg-sample", type=int, default=8, help="reports segmented by both rjieba and jieba")
    ap.add_argument(
        "--md-only", action="store_true", help="rebuild text_real.md from the CSVs of the last run"
    )
    ap.add_argument(
        "--from-raw", help="raw.json of an earlier run (in its --corpus): recompute the tables only"
    )
    ap.add_argument("--child")
    ap.add_argument("--one-shard", type=int, default=-1)
    ap.add_argument("--seeds", default=str(ROOT / "config/keyword_seeds.yaml"))
    ap.add_argument("--shard", type=int, default=0)
    ap.add_argument("--work")
    ap.add_argument("--reports")
    ns = ap.parse_args()
    if ns.child:
        return child(ns)
    if ns.md_only:
        print(write_md((RESULTS / "text_real.md").read_text(encoding="utf-8").splitlines()[2]))
        return 0

    import pandas as pd

    from intelcap.measures.text import extract_report

    rows: list[dict] = []
    load0 = os.getloadavg()[0]
    corpus = Path(ns.corpus) if ns.corpus else None
    if ns.skip_generation and corpus is None:
        raise SystemExit("--skip-generation needs --corpus DIR (a folder an earlier run generated)")
    if ns.from_raw:  # the measurements of an earlier run: recompute the table and extrapolation only
        raw = json.loads(Path(ns.from_raw).read_text(encoding="utf-8"))
        for k in ("n", "pdf_share", "shards", "runs", "epochs", "seg_sample", "corpus", "skip_generation"):
            setattr(ns, k, raw["ns"][k])
    else:
        with tempfile.TemporaryDirectory(prefix="bench_text_real_") as tmp:
            base_dir = corpus or Path(tmp)
            reports, work = base_dir / "reports", Path(tmp) / "work"
            work.mkdir()
            gen = (
                generate(reports, ns)
                if not ns.skip_generation
                else json.loads((base_dir / "generation.json").read_text())
            )
            if ns.generate_only:
                return 0
            ns.n, ns.pdf_share = gen["n"], gen["pdf_share"]
            gen_cpu, gen_wall = gen["cpu_s"], gen["wall_s"]
            bad = set(gen["unreadable_files"])
            files = sorted(reports.iterdir())
            pdfs = [p for p in files if p.suffix == ".pdf" and p.name not in bad]
            txts = [p for p in files if p.suffix == ".txt" and p.name not in bad]
            n_chars_txt = sum(len(extract_report(p).text) for p in txts[: ns.sample])
            pages = [extract_report(p).n_pages for p in pdfs[: ns.sample]]
            mb = sum(p.stat().st_size for p in files) / 1e6
            rows.append(
                {
                    "item": "generation",
                    "value": gen_cpu,
                    "unit": "CPU s",
                    "note": f"{len(files)} files, {mb:.0f} MB on disk, {len(pdfs)} PDFs, wall {gen_wall:.1f} s",
                }
            )

            def med_cpu(fn) -> float:
                out = []
                for _ in range(ns.runs):
                    c = time.process_time()
                    fn()
                    out.append(time.process_time() - c)
                return statistics.median(out)

            t_pdf = med_cpu(lambda: [extract_report(p) for p in pdfs[: ns.sample]])
            t_txt = med_cpu(lambda: [extract_report(p) for p in txts[: ns.sample]])
            rows.append(
                {
                    "item": "pdf_extraction",
                    "value": sum(pages) / t_pdf,
                    "unit": "pages per CPU s",
                    "note": f"{len(pages)} PDFs, median {statistics.median(pages):.0f} pages, pypdfium2",
                }
            )
            rows.append(
                {
                    "item": "txt_extraction",
                    "value": n_chars_txt / t_txt / 1e6,
                    "unit": "M chars per CPU s",
                    "note": f"{ns.sample} .txt reports (decode + checks)",
                }
            )
            S = range(ns.shards)
            jobs = [run_job("extract", i, ns, work, reports) for i in S]
            jobs += [run_job("count", i, ns, work, reports) for i in S]
            jobs += [run_job("index", 0, ns, work, reports), run_job("coverage", 0, ns, work, reports)]
            jobs += [run_job("segment", i, ns, work, reports) for i in S]
            jobs.append(run_job("vectors", 0, ns, work, reports))
            vt = json.loads((work / "vectors_timing.json").read_text())
            seeds, swapped = corpus_seeds(work)
            spare = swapped.pop("_spare")
            jobs.append(run_job("expansion", 0, ns, work, reports, "--seeds", str(work / "seeds.yaml")))
            recall = pd.read_csv(work / "recall.csv")
            hit = float(
                pd.read_csv(work / "coverage.csv").iloc[-1]["hit_rate"]
            )  # the extra runs overwrite it
            # a seed change: the category with the most seeds loses its last one; only keyword_expansion reruns
            import yaml

            cat = max(seeds["categories"], key=lambda c: len(seeds["categories"][c]))
            dropped = seeds["categories"][cat].pop() if len(seeds["categories"][cat]) > 1 else None
            if (
                dropped is None
            ):  # every category has one seed: add a second, the category's next frequent word
                seeds["categories"][cat].append(spare.get(cat, seeds["categories"][cat][0]))
            changed = work / "seeds_changed.yaml"
            changed.write_text(yaml.safe_dump(seeds, allow_unicode=True), encoding="utf-8")
            extra = [
                {**run_job("expansion", 0, ns, work, reports, "--seeds", str(changed)), "run": "seed change"}
                for _ in range(ns.runs)
            ]
            # the serial jobs on the largest shard only (the same largest shard as the whole run reads, so the
            # difference is the corpus part): how their RSS grows with the corpus
            import pyarrow.parquet as pq

            big = max(S, key=lambda i: (work / f"seg_{i}.parquet").stat().st_size)
            n_part = pq.ParquetFile(work / f"ex_{big}.parquet").metadata.num_rows
            part = ("--one-shard", str(big), "--epochs", "1")
            extra += [
                {**run_job(k, 0, ns, work, reports, *part), "run": f"shard {big} only"}
                for k in ("index", "coverage", "vectors")
            ]
            vt_part = json.loads((work / "vectors_timing_part.json").read_text())
            extra += [{**run_job("noop", 0, ns, work, reports), "run": "no-op"} for _ in range(3)]
            seg = segmentation_compare(work, ns)
            n_chars, utf8_mb = seg.pop("n_chars"), seg.pop("utf8_mb")
            raw = {k: v for k, v in locals().items() if k in RAW_KEYS}
            raw |= {"recall": recall.to_dict("records"), "seg_rows": seg["rows"]}
            raw |= {"seg_diff": seg["diff"].to_dict("records"), "ns": vars(ns)}
            (base_dir / "raw.json").write_text(
                json.dumps(raw, ensure_ascii=False, default=float), encoding="utf-8"
            )
    return tables(raw, ns)


def tables(raw: dict, ns: argparse.Namespace) -> int:
    """The table, the extrapolation and the md from a run's measurements (``raw``, also saved as raw.json)."""
    import pandas as pd

    from intelcap.atomic import write_csv

    _, rows, jobs, extra, vt, vt_part, hit, swapped, cat, dropped, n_chars, utf8_mb, gen_cpu, load0 = (
        raw[k] for k in RAW_KEYS
    )
    recall = pd.DataFrame(raw["recall"])
    seg = {
        "rows": raw["seg_rows"],
        "diff": pd.DataFrame(raw["seg_diff"], columns=["file", "sentence", "rjieba", "jieba"]),
    }
    jdf = pd.DataFrame(jobs).assign(run="stage")
    xdf = pd.DataFrame(extra)
    noop = xdf[xdf["run"] == "no-op"]
    fixed_cpu = float(noop["cpu_s"].median())
    base = float(noop["rss_mb"].median())
    n = ns.n
    per_shard_reports = n / ns.shards
    # keyword_vectors at the config's 5 epochs: the training pass scales with epochs x tokens
    vec_cpu = float(jdf.loc[jdf["job"] == "vectors", "cpu_s"].iloc[0])
    vec5 = vec_cpu - vt["train"] + vt["train"] * 5 / ns.epochs
    jdf["cpu5_s"] = np.where(jdf["job"] == "vectors", vec5, jdf["cpu_s"])
    per = jdf.groupby("job", sort=False).agg(
        cpu_s=("cpu_s", "sum"), cpu5_s=("cpu5_s", "sum"), wall_s=("wall_s", "sum"), rss_mb=("rss_mb", "max")
    )
    notes = {
        "segment": f"rjieba, corpus full: {utf8_mb / (per.loc['segment', 'cpu_s'] - ns.shards * fixed_cpu):.2f}"
        f" MB/s per CPU s over the whole corpus ({utf8_mb:.0f} MB UTF-8)",
        "vectors": f"epochs {ns.epochs}: Phrases {vt['phrases']:.0f} s, build_vocab {vt['build_vocab']:.0f} s, "
        f"train {vt['train']:.0f} s, statistics {vt['stats']:.0f} s, the rest (phrase spool, imports, writes) "
        f"{vec_cpu - vt['phrases'] - vt['build_vocab'] - vt['train'] - vt['stats']:.0f} s; "
        f"{vt['raw_tokens'] / 1e6:.1f} M tokens, "
        f"{vt['vocab']:.0f} words",
        "expansion": "read vectors + vocabulary, expand, recall",
    }
    for kind, r in per.iterrows():
        rows.append(
            {
                "item": f"job_{kind}",
                "value": r["cpu_s"],
                "unit": "CPU s",
                "note": f"wall {r['wall_s']:.1f} s, peak RSS {r['rss_mb']:.0f} MB (max over jobs)"
                + (f"; {notes[kind]}" if kind in notes else ""),
            }
        )
    rows.append(
        {"item": "mdna_hit_rate", "value": hit, "unit": "share", "note": "text_coverage over all years"}
    )
    rows += seg["rows"]
    train_rate = vt["raw_tokens"] * ns.epochs / vt["train"]
    rows.append(
        {
            "item": "word2vec_training",
            "value": train_rate,
            "unit": "tokens x epochs per CPU s",
            "note": f"Word2Vec.train alone, skip-gram, 1 worker, {ns.epochs} epochs over {vt['raw_tokens'] / 1e6:.1f} M"
            f" tokens: {vt['train']:.0f} s",
        }
    )
    rows.append(
        {
            "item": "keyword_vectors_5_epochs",
            "value": vec5,
            "unit": "CPU s",
            "note": "the config's epochs: 5"
            + (
                ""
                if ns.epochs == 5
                else f"; measured at {ns.epochs}, the training pass scaled by 5/{ns.epochs}"
            ),
        }
    )
    rerun = xdf[xdf["run"] == "seed change"]
    chain = per.loc["segment", "cpu5_s"] + vec5
    rerun_cpu = float(rerun["cpu_s"].median())
    rows.append(
        {
            "item": "rerun_after_seed_change",
            "value": rerun_cpu,
            "unit": "CPU s",
            "note": f"keyword_expansion alone, median of {len(rerun)}, wall {rerun['wall_s'].median():.1f} s,"
            f" peak RSS {rerun['rss_mb'].max():.0f} MB; the chain it avoids (text_segment x {ns.shards} +"
            f" keyword_vectors at 5 epochs) {chain:.0f} CPU s: {chain / rerun_cpu:.0f}x",
        }
    )
    r20 = recall[recall["k"] == 20]
    rows.append(
        {
            "item": "recall_at_20",
            "value": float(r20["recall"].mean()),
            "unit": "share (mean over categories)",
            "note": "; ".join(f"{c} {r:.2f}" for c, r in zip(r20["category"], r20["recall"], strict=True))
            + " (no planted contexts in real-size reports: a check that it runs, not of quality)"
            + (
                "; seeds without a vector replaced: " + ", ".join(f"{a} -> {b}" for a, b in swapped.items())
                if swapped
                else ""
            )
            + f"; seed change: {cat} "
            + (f"without {dropped}" if dropped else "with a second seed"),
        }
    )
    # the whole stage: every job's CPU; on 2 cores, the DAG list-scheduled with CPU seconds as durations
    cpu = {
        f"{r.job}_{r.shard}" if r.job in SHARD_JOBS else r.job: r.cpu5_s for r in jdf.itertuples(index=False)
    }
    span, crit = schedule(cpu, dag(ns.shards), cores=2)
    rows.append(
        {
            "item": "text_stage_cpu",
            "value": sum(cpu.values()),
            "unit": "CPU s",
            "note": f"sum over the {len(cpu)} jobs (keyword_vectors at 5 epochs); without the expansion "
            f"{sum(v for k, v in cpu.items() if not k.startswith(('segment', 'vectors', 'expansion'))):.0f} s",
        }
    )
    rows.append(
        {
            "item": "text_stage_2_cores",
            "value": span,
            "unit": "s on 2 cores",
            "note": f"the DAG list-scheduled on 2 cores (CPU s as durations); critical path {crit:.0f} s",
        }
    )
    # RSS: a shard job = the no-op child's RSS + a part per report of its shard; a serial job grows linearly
    # between the first shard and the whole corpus (an upper bound for the vocabulary, which grows slower)
    rss_shard = jdf[jdf["job"].isin(SHARD_JOBS)]["rss_mb"].max()
    slope = max(float((rss_shard - base) / per_shard_reports), 1e-6)
    fit = int((4000 - base) / slope)
    rows.append(
        {
            "item": "rss_per_report_in_shard",
            "value": slope,
            "unit": "MB per report",
            "note": f"max shard job RSS {rss_shard:.0f} MB at {per_shard_reports:.0f} reports per shard",
        }
    )
    first = xdf[xdf["run"].str.endswith(" only")].set_index("job")
    n_first = raw["n_part"]  # the files of the largest shard
    growth = {
        k: max(0.0, (per.loc[k, "rss_mb"] - first.loc[k, "rss_mb"]) / (n - n_first))
        for k in ("index", "coverage", "vectors")
    }
    rows.append(
        {
            "item": "rss_growth_vectors",
            "value": growth["vectors"] * 1000,
            "unit": "MB per 1,000 reports",
            "note": f"keyword_vectors {first.loc['vectors', 'rss_mb']:.0f} MB on its largest shard alone ({n_first} files, "
            f"{vt_part['vocab']:.0f} words), {per.loc['vectors', 'rss_mb']:.0f} MB on all ({vt['vocab']:.0f} words)",
        }
    )
    rows.append(
        {
            "item": "generation_speed",
            "value": n_chars / gen_cpu / 1e6,
            "unit": "M chars per CPU s",
            "note": f"{n_chars / 1e6:.0f} M characters of readable reports",
        }
    )
    rows.append(
        {
            "item": "job_fixed_cost",
            "value": fixed_cpu,
            "unit": "CPU s",
            "note": f"a no-op child (imports only), RSS {base:.0f} MB; subtracted before scaling",
        }
    )
    n_jobs = jdf["job"].value_counts()
    per_report = {k: max(0.0, (per.loc[k, "cpu5_s"] - n_jobs[k] * fixed_cpu) / n) for k in per.index}
    per_report["expansion"] = 0.0  # its cost follows the vocabulary, not the reports: kept as measured
    # keyword_vectors reads one segmented shard at a time: a part of its RSS follows the reports per shard
    # (upper bound: all of its first-shard RSS above the no-op's), the rest the corpus (growth above)
    vec_slope = max(float((first.loc["vectors", "rss_mb"] - base) / n_first), 1e-6)

    def vec_rss(target: int, per_shard: float) -> float:
        return (
            per.loc["vectors", "rss_mb"]
            + growth["vectors"] * (target - n)
            + vec_slope * (per_shard - n_first)
        )

    ext: list[dict] = []
    for target in (10_000, 40_000):
        fit_vec = int(n_first + (4000 - vec_rss(target, n_first)) / vec_slope)
        # below a few reports per shard the corpus part decides: then no shard count keeps it < 4 GB
        vec_shards = -(-target // fit_vec) if fit_vec >= 50 else 0
        shards = max(2, -(-target // fit), vec_shards)
        dur = {}
        for k in per.index:
            if k in SHARD_JOBS:
                dur.update({f"{k}_{i}": per_report[k] * target / shards + fixed_cpu for i in range(shards)})
            else:
                dur[k] = per_report[k] * target + (fixed_cpu if k != "expansion" else per.loc[k, "cpu_s"])
        span_t, crit_t = schedule(dur, dag(shards), cores=2)
        shard_job = sum(dur[f"{k}_0"] for k in SHARD_JOBS)
        rss = {k: per.loc[k, "rss_mb"] + growth[k] * (target - n) for k in growth}
        rss["vectors"] = vec_rss(target, target / shards)
        for k in per.index:
            one = dur[f"{k}_0"] if k in SHARD_JOBS else dur[k]
            if k in SHARD_JOBS:
                k_rss = base + (per.loc[k, "rss_mb"] - base) / per_shard_reports * target / shards
            else:
                k_rss = rss.get(k, per.loc[k, "rss_mb"])  # keyword_expansion: the vocabulary's, as measured
            ext.append(
                {
                    "reports": target,
                    "job": k,
                    "jobs": shards if k in SHARD_JOBS else 1,
                    "cpu_min_per_job": one / 60,
                    "cpu_min_total": one * (shards if k in SHARD_JOBS else 1) / 60,
                    "peak_rss_mb": k_rss,
                }
            )
        rows.append(
            {
                "item": f"extrapolated_{target}",
                "value": span_t / 60,
                "unit": "min on 2 cores",
                "note": f"CPU {sum(dur.values()) / 60:.0f} min in {len(dur)} jobs, {shards} shards of {target // shards}"
                f" reports; critical path {crit_t / 60:.0f} min, keyword_vectors {dur['vectors'] / 60:.0f} min"
                f" (5 epochs, 1 worker)",
            }
        )
        rows.append(
            {
                "item": f"per_shard_{target}",
                "value": shard_job / 60,
                "unit": "min per SLURM shard (extract + count + segment)",
                "note": f"{shards} shards of {target // shards} reports (<= {fit} keep a shard job < 4 GB; "
                + (
                    f"<= {fit_vec} keep keyword_vectors"
                    if vec_shards
                    else "no shard size keeps keyword_vectors"
                )
                + " < 4 GB); then "
                f"serially text_index {dur['index'] / 60:.1f}, text_coverage {dur['coverage'] / 60:.1f}, "
                f"keyword_vectors {dur['vectors'] / 60:.0f}, keyword_expansion {dur['expansion'] / 60:.2f} min",
            }
        )
        rows.append(
            {
                "item": f"peak_rss_{target}",
                "value": max([*rss.values(), base + slope * target / shards]),
                "unit": "MB (max over jobs)",
                "note": f"shard jobs {base + slope * target / shards:.0f}, text_index {rss['index']:.0f}, "
                f"text_coverage {rss['coverage']:.0f}, keyword_vectors {rss['vectors']:.0f} MB (linear in the corpus and"
                " the reports per shard)",
            }
        )
    out = pd.DataFrame(rows)
    RESULTS.mkdir(exist_ok=True)
    write_csv(out, RESULTS / "text_real.csv")
    alljobs = pd.concat([jdf, xdf], ignore_index=True)
    write_csv(alljobs, RESULTS / "text_real_jobs.csv")
    write_csv(seg["diff"], RESULTS / "text_real_segdiff.csv")
    write_csv(pd.DataFrame(ext), RESULTS / "text_real_extrapolation.csv")
    cmd = (
        f"python benchmarks/bench_text_real.py --n {n} --pdf-share {ns.pdf_share} --shards {ns.shards} "
        f"--runs {ns.runs} --epochs {ns.epochs} --seg-sample {ns.seg_sample}"
    )
    if (
        ns.skip_generation
    ):  # the corpus of an earlier --generate-only run (its generation cost is in the table)
        cmd = f"{cmd.replace(f'--n {n} --pdf-share {ns.pdf_share} ', '')} --corpus DIR --skip-generation"
    head = (
        f"`{cmd}` on {platform.processor() or platform.machine()}, Python {platform.python_version()}, load "
        f"{load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (1-minute average; 2 cores shared). "
        "CPU seconds are the child's user + system time (os.wait4), robust to the other users' load; wall "
        "seconds are not."
    )
    print(write_md(head))
    return 0


def write_md(head: str) -> str:
    """text_real.md from the three CSVs of a run (``--md-only`` rebuilds it, keeping the run's header line)."""
    import pandas as pd

    from intelcap.atomic import write_text

    out = pd.read_csv(RESULTS / "text_real.csv", keep_default_na=False)
    alljobs = pd.read_csv(RESULTS / "text_real_jobs.csv", keep_default_na=False)
    diff = pd.read_csv(RESULTS / "text_real_segdiff.csv", keep_default_na=False)
    ext = pd.read_csv(RESULTS / "text_real_extrapolation.csv")
    md = [
        "# Text stage on real-size reports",
        "",
        head,
        "",
        "| item | value | unit | note |",
        "|---|---|---|---|",
        *(f"| {r.item} | {float(r.value):.4g} | {r.unit} | {r.note} |" for r in out.itertuples(index=False)),
        "",
        "Jobs (child processes; CPU and peak RSS from os.wait4):",
        "",
        "| job | shard | run | CPU s | wall s | peak RSS MB |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r.job} | {r.shard} | {r.run} | {r.cpu_s:.2f} | {r.wall_s:.2f} | {r.rss_mb:.0f} |"
            for r in alljobs.itertuples(index=False)
        ),
        "",
        "Every job extrapolated (CPU per report of this run, minus the no-op child's fixed cost, times the"
        " reports; keyword_vectors at 5 epochs; RSS as in the peak_rss rows):",
        "",
        "| reports | job | jobs | CPU min per job | CPU min total | peak RSS MB per job |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r.reports:,} | {r.job} | {r.jobs} | {r.cpu_min_per_job:.2f} | {r.cpu_min_total:.1f} | "
            f"{r.peak_rss_mb:.0f} |"
            for r in ext.itertuples(index=False)
        ),
        "",
        f"Sentences where rjieba and jieba differ ({len(diff)}; the first 10, all in text_real_segdiff.csv):",
        "",
        "| file | sentence | rjieba | jieba |",
        "|---|---|---|---|",
        *(
            f"| {r.file} | {r.sentence} | {r.rjieba} | {r.jieba} |"
            for r in diff.head(10).itertuples(index=False)
        ),
        "",
        *reading(out.set_index("item")),
    ]
    text = "\n".join(md)
    write_text(RESULTS / "text_real.md", text)
    return text


def reading(t) -> list[str]:
    """The "reading the numbers" paragraph, its figures from the table."""
    v = {k: float(x) for k, x in t["value"].items()}
    note = t["note"].to_dict()
    max_rss = max(float(x.split("peak RSS ")[1].split(" MB")[0]) for k, x in note.items() if "peak RSS " in x)
    vec40 = float(note["peak_rss_40000"].split("keyword_vectors ")[1].split(" MB")[0])
    words = note["rss_growth_vectors"].split("(")[-1].split(")")[0].split(", ")[-1]
    return [
        "Reading the numbers:",
        "",
        f"- Extraction runs at {v['pdf_extraction']:.0f} PDF pages per CPU second (one core) and "
        f"{v['txt_extraction']:.0f} M characters per CPU second for .txt reports.",
        f"- Segmentation: rjieba {v['segmentation_rjieba']:.1f} MB/s against jieba {v['segmentation_jieba']:.2f}"
        f" MB/s per CPU second on the same reports of this corpus, {v['segmentation_ratio']:.1f}x (target >= 10x);"
        f" {note['segmentation_ratio'].split(' (')[0]}. The text_segment jobs as a whole (read the cache, decode,"
        " segment, write Parquet) are in the job_segment row.",
        f"- keyword_vectors: {note['job_vectors'].split('; ', 1)[1]}. Word2Vec training is linear in tokens x"
        " epochs, so the 5-epoch figure scales the measured training pass by 5 / epochs; Phrases, the vocabulary"
        " scan and the statistics are one pass each. The phrased corpus is spooled to TMPDIR once (about the size"
        " of the segmented shards), so the passes after Phrases split strings instead of re-phrasing per token.",
        f"- The whole stage: {v['text_stage_cpu']:.0f} CPU s, {v['text_stage_2_cores']:.0f} s on 2 cores"
        f" ({note['text_stage_2_cores'].split('; ')[1]}); keyword_vectors is one job with one worker"
        " (byte-identical vectors), so it is most of the critical path.",
        f"- A seed change reruns keyword_expansion only: {v['rerun_after_seed_change']:.1f} CPU s, against "
        f"{note['rerun_after_seed_change'].split('avoids ')[1]}.",
        f"- 10,000 / 40,000 reports: {v['extrapolated_10000']:.0f} / {v['extrapolated_40000']:.0f} min on 2 cores;"
        " the shard jobs spread over SLURM, keyword_vectors does not (a single one-worker job,"
        f" {note['extrapolated_40000'].split('keyword_vectors ')[1].split(' min')[0]} min at 40,000), so with SLURM"
        " the stage takes about one shard job plus keyword_vectors. Fewer epochs or `expansion.corpus: mdna` cut"
        " it proportionally to epochs x tokens.",
        f"- Memory: the largest job here is {max_rss:.0f} MB. A shard job's RSS follows the reports in its shard"
        f" ({v['rss_per_report_in_shard']:.1f} MB per report), so the shard count keeps it < 4 GB"
        f" ({note['per_shard_40000'].split(' (')[0]} at 40,000). keyword_vectors reads the segmented shards 8"
        " reports at a time (keyword_expansion.READ_BATCH) and holds Phrases' counts, the vocabulary and the"
        " vectors: its growth with the corpus (its largest shard alone against the whole corpus, extrapolated"
        f" linearly) gives {vec40:.0f} MB at 40,000, " + ("over" if vec40 > 4000 else "within") + " 4 GB. The"
        f" synthetic reports draw on a small vocabulary ({words}), so this understates a real corpus: there"
        " Word2Vec needs ~0.8 KB per word with a vector (1 M words ~ 0.8 GB) and gensim's Phrases counts every"
        " unigram and bigram up to max_vocab_size = 40 M entries, which gensim puts at ~3.6 GB: on 40,000 real"
        " reports keyword_vectors can pass 4 GB unless Phrases' max_vocab_size is bounded lower (deterministic,"
        " but a different phrase set once pruning starts). What grows here is mostly not the corpus: Phrases'"
        " counts have ~26,000 entries on one shard of this corpus and ~28,000 on all four, while reading the"
        " token column of a segmented shard (one row group, as text_segment writes it) peaks at ~340 MB above"
        " the interpreter per 250 reports, and pyarrow's default pool (mimalloc) keeps part of it from shard to"
        " shard (reading the four shards alone: 400 MB after the first, 570 MB after all; 410 / 450 MB with"
        " the system pool; measured apart from this script). So the 40,000 figure is an upper bound; smaller"
        " row groups in the segmented shards would cut the per-shard part.",
        "",
    ]


SHARD_JOBS = ("extract", "count", "segment")
RAW_KEYS = (
    "n_part",
    "rows",
    "jobs",
    "extra",
    "vt",
    "vt_part",
    "hit",
    "swapped",
    "cat",
    "dropped",
    "n_chars",
    "utf8_mb",
    "gen_cpu",
    "load0",
)


def dag(shards: int) -> dict[str, list[str]]:
    """The text stage's jobs and what each waits for (rules/measures.smk)."""
    deps: dict[str, list[str]] = {}
    for i in range(shards):
        deps[f"extract_{i}"] = []
        deps[f"count_{i}"] = [f"extract_{i}"]
        deps[f"segment_{i}"] = [f"extract_{i}"]
    deps["index"] = [f"count_{i}" for i in range(shards)]
    deps["coverage"] = [f"extract_{i}" for i in range(shards)]
    deps["vectors"] = [f"segment_{i}" for i in range(shards)]
    deps["expansion"] = ["vectors"]
    return deps


def schedule(dur: dict[str, float], deps: dict[str, list[str]], cores: int) -> tuple[float, float]:
    """(makespan, critical path) of the DAG on ``cores`` single-threaded workers, list scheduling with the
    longest remaining path first (what a scheduler does at best without preemption)."""
    children: dict[str, list[str]] = {j: [] for j in deps}
    for j, ds in deps.items():
        for d in ds:
            children[d].append(j)
    tail: dict[str, float] = {}

    def rest(j: str) -> float:
        if j not in tail:
            tail[j] = dur[j] + max((rest(c) for c in children[j]), default=0.0)
        return tail[j]

    crit = max(rest(j) for j in deps)
    done: set[str] = set()
    started: set[str] = set()
    running: list[tuple[float, str]] = []
    t = 0.0
    while len(done) < len(deps):
        ready = sorted(
            (j for j in deps if j not in started and all(d in done for d in deps[j])), key=lambda j: -rest(j)
        )
        while ready and len(running) < cores:
            j = ready.pop(0)
            started.add(j)
            running.append((t + dur[j], j))
        running.sort()
        t, j = running.pop(0)
        done.add(j)
    return t, crit


def corpus_seeds(work: Path) -> tuple[dict, dict]:
    """config/keyword_seeds.yaml with every seed missing from the vectors' vocabulary replaced by the most
    frequent dictionary word of its category that has a vector (the synthetic reports plant the keywords
    with Dirichlet weights, so a rare seed can miss min_count); written to work/seeds.yaml."""
    import pandas as pd
    import yaml

    from intelcap.measures import text

    seeds = yaml.safe_load((ROOT / "config/keyword_seeds.yaml").read_text(encoding="utf-8"))
    vocab = pd.read_parquet(work / "vocab.parquet", columns=["word", "frequency"])
    freq = dict(zip(vocab["word"], vocab["frequency"], strict=True))
    cats = text.load_keywords().categories
    swapped: dict = {"_spare": {}}
    for cat, ss in seeds["categories"].items():
        have = [s for s in ss if s in freq]
        pool = sorted(
            (w for w in cats.get(cat, ()) if w in freq and w not in ss), key=lambda w: (-freq[w], w)
        )
        for s in ss:
            if s not in freq and pool:
                swapped[s] = pool.pop(0)
                have.append(swapped[s])
        if not have:
            raise SystemExit(f"no word of category {cat} has a vector: use a larger corpus (--n)")
        seeds["categories"][cat] = have
        if pool:
            swapped["_spare"][cat] = pool[0]
    (work / "seeds.yaml").write_text(yaml.safe_dump(seeds, allow_unicode=True), encoding="utf-8")
    return seeds, swapped


def utf8_bytes(u: np.ndarray) -> int:
    """UTF-8 size of UTF-16 code units (a surrogate pair counts 2 + 2 = 4 bytes, as in UTF-8)."""
    return int(len(u) + (u >= 0x80).sum() + ((u >= 0x800) & ((u < 0xD800) | (u > 0xDFFF))).sum())


def segmentation_compare(work: Path, ns: argparse.Namespace) -> dict:
    """rjieba against jieba on the same reports of the corpus (a sample spread over the shards), through
    ``keyword_expansion.Segmenter`` as text_segment runs it: MB/s per CPU second (medians of --runs), tokens,
    and every sentence whose tokens differ. Also the corpus's characters and UTF-8 megabytes."""
    from intelcap.measures import keyword_expansion as ke
    from intelcap.measures import text

    per = -(-ns.seg_sample // ns.shards)
    texts, names, n_chars, nbytes = [], [], 0, 0
    for i in range(ns.shards):
        ex = text.read_extracted(work / f"ex_{i}.parquet")
        ok = ex[ex["status"] == "ok"]
        for file, norm in zip(ok["file"], ok["norm"], strict=True):
            n_chars += len(norm)
            nbytes += utf8_bytes(np.asarray(norm))
            if len(texts) < ns.seg_sample and sum(1 for f in names if f.startswith(f"{i}:")) < per:
                texts.append(ke._norm_text(norm))
                names.append(f"{i}:{file}")
        del ex, ok
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    terms = text.load_keywords().keywords
    segs = {name: ke.Segmenter(terms, name) for name in ke.SEGMENTERS}
    for s in segs.values():
        s.sentences(texts[0][:2000])  # the dictionaries load outside the timing
    sec, outs = {}, {}
    for name, s in segs.items():
        times = []
        for _ in range(ns.runs):
            c0 = time.process_time()
            outs[name] = [s.sentences(t) for t in texts]
            times.append(time.process_time() - c0)
        sec[name] = statistics.median(times)
    diff = []
    for f, da, db in zip(names, outs["rjieba"], outs["jieba"], strict=True):
        for k in range(max(len(da), len(db))):
            a = da[k] if k < len(da) else []
            b = db[k] if k < len(db) else []
            if a != b:
                diff.append((f.split(":", 1)[1], k, " ".join(a), " ".join(b)))
    diff_df = pd_frame(diff, ["file", "sentence", "rjieba", "jieba"])
    n_sent = sum(len(x) for x in outs["rjieba"])
    tok = {k: sum(len(s) for d in v for s in d) for k, v in outs.items()}
    rows = [
        {
            "item": f"segmentation_{name}",
            "value": mb / sec[name],
            "unit": "MB/s per CPU s",
            "note": f"{len(texts)} reports of the corpus, {mb:.1f} MB UTF-8, median of {ns.runs}; {tok[name]:,} tokens",
        }
        for name in segs
    ]
    rows.append(
        {
            "item": "segmentation_ratio",
            "value": sec["jieba"] / sec["rjieba"],
            "unit": "rjieba / jieba (same run)",
            "note": f"{len(diff)} of {n_sent:,} sentences with different tokens (text_real_segdiff.csv)",
        }
    )
    return {"rows": rows, "diff": diff_df, "n_chars": n_chars, "utf8_mb": nbytes / 1e6}


def pd_frame(rows: list[tuple], cols: list[str]):
    import pandas as pd

    return pd.DataFrame(rows, columns=cols)


if __name__ == "__main__":
    raise SystemExit(main())
