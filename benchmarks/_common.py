"""What the benchmark scripts share: the load average recorded next to every timing, the scratch folder a run
works in, Snakemake's per-job benchmark files summed per rule, and the Markdown report under results/.

The scripts run as `python benchmarks/bench_x.py`, so Python finds this module in the script's own folder.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parent / "results"


def load() -> str:
    """The load average (1/5/15 min): the machine is shared, so every timing is reported with it."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> dict[str, object]:
    """Where a benchmark ran (CPUs, architecture, Python version), for its report's `machine_line`."""
    return {"cpus": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version()}


def machine_line(meta: Mapping[str, object]) -> str:
    """'Machine: 2 CPUs (x86_64), Python 3.11.7' from the keys of `machine()`."""
    return f"Machine: {meta['cpus']} CPUs ({meta['machine']}), Python {meta['python']}"


def snakemake_version() -> str:
    try:
        return subprocess.run(["snakemake", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


@contextlib.contextmanager
def scratch_folder(
    prefix: str, keep: bool, parent: Path | None = None, what: str = "temp folder"
) -> Iterator[Path]:
    """A new folder under `parent` (default $TMPDIR), removed afterwards unless `keep` (--keep: to inspect it)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield path
    finally:
        if keep:
            print(f"{what} kept: {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def run_summary(runs: pd.DataFrame, by: str, **more: tuple[str, object]) -> pd.DataFrame:
    """Repeated runs (rows with wall_s, cpu_s, load_before) per value of `by`, in first-seen order: n; wall,
    lo, hi (median, min, max of wall_s); cpu (median of cpu_s); loads (the load before each run, "; "-joined);
    and the further named aggregations `more` (as in DataFrame.agg)."""
    return runs.groupby(by, sort=False).agg(
        n=("wall_s", "size"),
        wall=("wall_s", "median"),
        lo=("wall_s", "min"),
        hi=("wall_s", "max"),
        cpu=("cpu_s", "median"),
        loads=("load_before", lambda s: "; ".join(s)),
        **more,
    )


def benchmark_jobs(workdir: Path, rules: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per `benchmark:` TSV that Snakemake wrote under <workdir>/benchmarks/out: rule, job, s,
    max_rss_mb, cpu_time_s (the TSV's last line: its latest run). A file's rule is `rules[<path relative to
    workdir>]` where given (one wildcard rule writes several files, two rules share a folder), else its folder
    name, or its own name at the top level."""
    out = workdir / "benchmarks" / "out"
    rows = []
    for f in sorted(out.rglob("*.tsv")):
        d = pd.read_csv(f, sep="\t")
        rel = f.relative_to(out).with_suffix("")
        rule = rel.parts[0] if len(rel.parts) > 1 else rel.name
        rows.append(
            {
                "rule": (rules or {}).get(f.relative_to(workdir).as_posix(), rule),
                "job": str(rel),
                "s": float(d["s"].iloc[-1]),
                "max_rss_mb": pd.to_numeric(d["max_rss"], errors="coerce").iloc[-1],
                "cpu_time_s": pd.to_numeric(d["cpu_time"], errors="coerce").iloc[-1]
                if "cpu_time" in d
                else None,
            }
        )
    return pd.DataFrame(rows)


def per_rule(jobs: pd.DataFrame) -> pd.DataFrame:
    """`benchmark_jobs` summed per rule, the most job time first: jobs, sum_s, max_s, max_rss_mb, cpu_s."""
    return (
        jobs.groupby("rule")
        .agg(
            jobs=("s", "size"),
            sum_s=("s", "sum"),
            max_s=("s", "max"),
            max_rss_mb=("max_rss_mb", "max"),
            cpu_s=("cpu_time_s", "sum"),
        )
        .sort_values("sum_s", ascending=False)
        .reset_index()
    )


def save_csv(df: pd.DataFrame, name: str) -> None:
    """results/<name>, without the index."""
    OUT.mkdir(parents=True, exist_ok=True)
    df.to_csv(OUT / name, index=False)


def md_head(title: str, *intro: str) -> list[str]:
    """A report's first lines: `# title`, then each intro paragraph, each followed by a blank line."""
    return [f"# {title}", "", *(line for para in intro for line in (para, ""))]


def md_table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """A Markdown table: the header, its rule, one line per row (cells as they are, through str)."""
    return [
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(str(v) for v in row) + " |" for row in rows),
    ]


def write_report(name: str, lines: list[str], end: str = "\n") -> None:
    """results/<name>: the report's lines (each ended by a newline, the last by `end`), also printed."""
    text = "\n".join(lines)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / name).write_text(text + end, encoding="utf-8")
    print(text)
