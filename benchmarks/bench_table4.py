"""Peak RSS and time of the Table 4 job (rule table4: `workflow.steps.tables.iv_table`) on a finished run.

Runs the step in this process on `<run>/results/data/analysis_panel.parquet` with the run's config (the
declared keys of rule table4), writes the CSV to `--out`, and prints the wall time and the process's peak
resident set (VmHWM, exact; the Snakemake benchmark file samples RSS now and then). Run each measurement in a
fresh process, e.g. under `/usr/bin/time -v`:

    PYTHONPATH=src python benchmarks/bench_table4.py /path/to/run --out /tmp/table4.csv
    python benchmarks/bench_table4.py --compare /path/to/run/results/tables/table4.csv /tmp/table4.csv

`--compare OLD NEW`: the largest relative difference of every numeric column (and equality of the text
columns), row by row.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(run_dir: Path, out: Path) -> None:
    import yaml

    from intelcap.workflow.runner import ConfigView, Job
    from intelcap.workflow.steps import tables

    cfg = yaml.safe_load((run_dir / "config" / "config.yaml").read_text())
    keys = ["tables.table4", "controls", "cluster", "heterogeneity.ar_level"]
    values = {
        "tables": {"table4": cfg["tables"]["table4"]},
        "controls": cfg["controls"],
        "cluster": cfg["cluster"],
        "heterogeneity": {"ar_level": cfg["heterogeneity"]["ar_level"]},
    }
    job = Job(
        input={"panel": str(run_dir / "results" / "data" / "analysis_panel.parquet")},
        output={"csv": str(out)},
        params={"table": "table4"},
        config=ConfigView.declared({"keys": keys, "values": values}, "table4"),
        rule="table4",
    )
    t0 = time.perf_counter()
    tables.iv_table(job)
    print(f"table4: {time.perf_counter() - t0:.1f} s wall, peak RSS {_peak_rss_mb():,.0f} MB -> {out}")


def compare(old: Path, new: Path) -> int:
    import numpy as np
    import pandas as pd

    a, b = pd.read_csv(old), pd.read_csv(new)
    if a.shape != b.shape or list(a.columns) != list(b.columns):
        print(f"shapes differ: {a.shape} vs {b.shape}")
        return 1
    worst = 0.0
    bad = 0
    for c in a.columns:
        if pd.api.types.is_numeric_dtype(a[c]) and pd.api.types.is_numeric_dtype(b[c]):
            x, y = a[c].to_numpy(float), b[c].to_numpy(float)
            same_nan = np.isnan(x) == np.isnan(y)
            with np.errstate(invalid="ignore", divide="ignore"):
                rel = np.abs(x - y) / np.maximum(np.abs(x), 1e-300)
            rel = np.where(np.isnan(x) & np.isnan(y), 0.0, rel)
            r = float(np.nanmax(np.where(same_nan, rel, np.inf))) if len(x) else 0.0
            worst = max(worst, r)
            print(f"{c:14s} max rel diff {r:.3g}")
        else:
            eq = (a[c].fillna("<NA>").astype(str) == b[c].fillna("<NA>").astype(str)).all()
            bad += not eq
            print(f"{c:14s} {'identical' if eq else 'DIFFERENT'}")
    print(f"worst numeric relative difference {worst:.3g}; text columns different: {bad}")
    return int(bad > 0 or worst > 1e-10)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("run_dir", nargs="?", type=Path)
    p.add_argument("--out", type=Path, default=Path("table4.csv"))
    p.add_argument("--compare", nargs=2, type=Path, metavar=("OLD", "NEW"))
    args = p.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    if args.run_dir is None:
        p.error("give the run directory (or --compare OLD NEW)")
    run(args.run_dir, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
