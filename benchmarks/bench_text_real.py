"""Benchmark of the text stage on real-size synthetic reports (synth.report_size: real; 150-250 pages each).

Run: ``nice -n 10 python benchmarks/bench_text_real.py [--n 1000] [--pdf-share 0.2] [--shards 4] [--runs 3]``.
Writes benchmarks/results/text_real.csv and text_real.md.

1. Generation: ``write_reports_for_panel(size="real")`` into a temporary folder; characters per second.
2. Extraction speed in this process, medians over ``--runs``: PDF pages per CPU second (pypdfium2,
   ``extract_report``) and .txt characters per CPU second, on a sample of the corpus.
3. The text stage end to end, each job in its own child process as the workflow runs it (text_extract per
   shard -> text_count per shard -> text_index -> text_coverage), with the child's CPU time, wall time and
   peak RSS from ``os.wait4`` (so every job's RSS is its own, not the benchmark's).
4. Extrapolation to 10,000 and 40,000 reports: CPU seconds scale with the number of reports (per-report
   cost of each job measured here); wall time on 2 cores = the parallel jobs' CPU / 2 + the serial jobs';
   the peak RSS of a shard job scales with the reports per shard (one shard's texts in memory), so the
   table gives the reports per shard that keep every job within 4 GB and the shards that takes.
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
    from intelcap.measures import text, text_inventory

    work = Path(args.work)
    if args.child == "noop":  # interpreter + imports: the fixed cost of every job, not scaled by reports
        return 0
    if args.child == "extract":
        files = text_inventory.shard_inventory(args.reports, args.shards)[args.shard]
        text.write_extracted(text.extract_shard(files, args.reports), work / f"ex_{args.shard}.parquet")
    elif args.child == "count":
        spec = text.load_keywords()
        counts, log = text.count_extracted(text.read_extracted(work / f"ex_{args.shard}.parquet"), spec)
        counts.to_parquet(work / f"counts_{args.shard}.parquet")
        log.to_csv(work / f"log_{args.shard}.csv", index=False)
    elif args.child == "index":
        import pandas as pd

        counts = pd.concat([pd.read_parquet(work / f"counts_{i}.parquet") for i in range(args.shards)])
        logs = [pd.read_csv(work / f"log_{i}.csv", dtype={"Stkcd": str}) for i in range(args.shards)]
        text.text_index(counts, pd.concat(logs)).to_parquet(work / "index.parquet")
    elif args.child == "coverage":
        cov, _ = text.mdna_coverage(
            text.read_for_coverage(work / f"ex_{i}.parquet") for i in range(args.shards)
        )
        cov.to_csv(work / "coverage.csv", index=False)
    return 0


def run_job(kind: str, shard: int, ns: argparse.Namespace, work: Path, reports: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--shard", str(shard), "--shards", str(ns.shards)]
    cmd += ["--work", str(work), "--reports", str(reports)]
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
    ap.add_argument("--child")
    ap.add_argument("--shard", type=int, default=0)
    ap.add_argument("--work")
    ap.add_argument("--reports")
    ns = ap.parse_args()
    if ns.child:
        return child(ns)

    import pandas as pd

    from intelcap.atomic import write_csv, write_text
    from intelcap.measures.text import extract_report
    from intelcap.synthetic import reports as rs

    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench_text_real_") as tmp:
        reports, work = Path(tmp) / "reports", Path(tmp) / "work"
        work.mkdir()
        fy = [(f"{100000 + i:06d}", 2011 + i % 9, 40.0) for i in range(ns.n)]
        c0, w0 = time.process_time(), time.perf_counter()
        truth = rs.write_reports_for_panel(
            reports, fy, np.random.default_rng(1), pdf_share=ns.pdf_share, size="real"
        )
        gen_cpu, gen_wall = time.process_time() - c0, time.perf_counter() - w0
        files = sorted(reports.iterdir())
        bad = set(truth.attrs["unreadable_files"])
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
        jobs = [run_job("extract", i, ns, work, reports) for i in range(ns.shards)]
        jobs += [run_job("count", i, ns, work, reports) for i in range(ns.shards)]
        jobs += [run_job("index", 0, ns, work, reports), run_job("coverage", 0, ns, work, reports)]
        noop = [run_job("noop", 0, ns, work, reports) for _ in range(3)]
        fixed_cpu = statistics.median(j["cpu_s"] for j in noop)
        base = statistics.median(j["rss_mb"] for j in noop)
        n_chars = int(
            sum(
                pd.read_parquet(work / f"ex_{i}.parquet", columns=["n_chars"])["n_chars"].sum()
                for i in range(ns.shards)
            )
        )
        cov = pd.read_csv(work / "coverage.csv")
        hit = float(cov.iloc[-1]["hit_rate"])
    jdf = pd.DataFrame(jobs)
    per = jdf.groupby("job").agg(cpu_s=("cpu_s", "sum"), wall_s=("wall_s", "sum"), rss_mb=("rss_mb", "max"))
    n = ns.n
    per_shard_reports = n / ns.shards
    for kind in ("extract", "count", "index", "coverage"):
        r = per.loc[kind]
        rows.append(
            {
                "item": f"job_{kind}",
                "value": r["cpu_s"],
                "unit": "CPU s",
                "note": f"wall {r['wall_s']:.1f} s, peak RSS {r['rss_mb']:.0f} MB (max over jobs)",
            }
        )
    rss_shard = jdf[jdf["job"].isin(["extract", "count"])].groupby("job")["rss_mb"].max()
    # RSS of a shard job = the no-op child's RSS (interpreter, numpy, pandas, pyarrow) + a per-report part
    slope = max(float((rss_shard.max() - base) / per_shard_reports), 1e-6)
    fit = int((4000 - base) / slope)
    rows.append(
        {"item": "mdna_hit_rate", "value": hit, "unit": "share", "note": "text_coverage over all years"}
    )
    rows.append(
        {
            "item": "rss_per_report_in_shard",
            "value": slope,
            "unit": "MB per report",
            "note": f"max shard job RSS {rss_shard.max():.0f} MB at {per_shard_reports:.0f} reports per shard",
        }
    )
    n_jobs = per.loc[["extract", "count"]].shape[0] * ns.shards
    par = (per.loc[["extract", "count"], "cpu_s"].sum() - n_jobs * fixed_cpu) / n
    ser = (per.loc[["index", "coverage"], "cpu_s"].sum() - 2 * fixed_cpu) / n
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
    for target in (10_000, 40_000):
        wall2 = (par * target) / 2 + ser * target
        shards = max(1, -(-target // fit))
        rows.append(
            {
                "item": f"extrapolated_{target}",
                "value": wall2 / 60,
                "unit": "min on 2 cores",
                "note": f"CPU {par * target / 60:.0f} min in shard jobs + {ser * target / 60:.1f} min serial; >= {shards} shards keep each shard job < 4 GB ({fit} reports per shard)",
            }
        )
        rows.append(
            {
                "item": f"per_shard_{target}",
                "value": par * fit / 60,
                "unit": f"min per SLURM shard job ({fit} reports)",
                "note": f"{shards} shards",
            }
        )
    out = pd.DataFrame(rows)
    RESULTS.mkdir(exist_ok=True)
    write_csv(out, RESULTS / "text_real.csv")
    jdf.to_csv(RESULTS / "text_real_jobs.csv", index=False)
    md = [
        "# Text stage on real-size reports",
        "",
        f"`python benchmarks/bench_text_real.py --n {n} --pdf-share {ns.pdf_share} --shards {ns.shards} --runs {ns.runs}`"
        f" on {platform.processor() or platform.machine()}, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}.",
        "",
        "| item | value | unit | note |",
        "|---|---|---|---|",
        *(f"| {r.item} | {r.value:.4g} | {r.unit} | {r.note} |" for r in out.itertuples(index=False)),
        "",
        "Jobs (child processes; CPU and peak RSS from os.wait4):",
        "",
        "| job | shard | CPU s | wall s | peak RSS MB |",
        "|---|---|---|---|---|",
        *(
            f"| {r.job} | {r.shard} | {r.cpu_s:.2f} | {r.wall_s:.2f} | {r.rss_mb:.0f} |"
            for r in jdf.itertuples(index=False)
        ),
        "",
    ]
    write_text(RESULTS / "text_real.md", "\n".join(md))
    print("\n".join(md))
    print(json.dumps({"hit_rate": hit}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
