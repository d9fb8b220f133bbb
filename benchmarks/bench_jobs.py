"""Benchmark: the fixed cost of a job, per rule — interpreter start and the imports of the modules it runs.

    python benchmarks/bench_jobs.py                 # every rule, 5 fresh processes each
    python benchmarks/bench_jobs.py --reps 9 --rules regression_table table4

Every Snakemake job is a fresh Python process (`scripts/run_step.py`), so what a job imports is paid on every
run of it, however little it computes. For each rule of the registry this script starts fresh processes that
import exactly what the job imports before its step computes anything: the runner and every intelcap module the
rule lists (`registry.modules_of`), and reports

* `bare_s`: `python -c pass` (interpreter start, the floor), median;
* `import_s`: the rule's imports in a fresh process (median), and `import_over_bare` = import_s - bare_s;
* `heaviest`: the three third-party top-level packages with the largest cumulative import time
  (`python -X importtime`, one extra run).

Steps import heavy libraries (pyfixest, matplotlib, docx, pypdfium2) inside the functions that need them, so a
module's import cost is what every job of that rule pays even on paths that do not use them. A rule's
whole-job wall time is in benchmarks/out/<rule>.tsv of any run (Snakemake's `benchmark:`), for comparison.
Writes benchmarks/results/jobs.{csv,md}.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from _common import load, md_head, md_table, save_csv, write_report  # noqa: E402

from intelcap.workflow import registry  # noqa: E402


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as a job: compiled bytecode is cached after the first run
    return env


def import_code(rule: str) -> str:
    mods = [m.removesuffix(".__init__") for m in registry.modules_of(rule)]
    mods = sorted({f"intelcap.{m}" if m != "__init__" else "intelcap" for m in mods})
    step = registry.RULES[rule].step.split(":")[0]
    return "import intelcap.workflow.runner\n" + "".join(f"import {m}\n" for m in [*mods, f"intelcap.{step}"])


def wall(code: str, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=_env(), cwd=REPO)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def heaviest(code: str, n: int = 3) -> str:
    """Third-party packages by cumulative import time (`-X importtime`; a package that imports another
    includes it)."""
    res = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], env=_env(), cwd=REPO, capture_output=True, text=True
    )
    cum: dict[str, int] = {}
    stack: list[tuple[int, str]] = []  # (depth, top-level package) of the enclosing imports
    # -X importtime prints an import after the imports it triggered; reversed, parents come first
    for line in reversed(res.stderr.splitlines()):
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( +)(\S+)$", line)
        if not m:
            continue
        depth, top = len(m.group(2)) // 2, m.group(3).split(".")[0]
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parent = stack[-1][1] if stack else None
        # a third-party import triggered from outside its own package: its cumulative time counts for it
        if parent != top and top != "intelcap" and top not in sys.stdlib_module_names:
            cum[top] = cum.get(top, 0) + int(m.group(1))
        stack.append((depth, top))
    best = sorted(cum.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{k} {v / 1e6:.2f}s" for k, v in best)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rules", nargs="*", default=None)
    args = ap.parse_args()
    rules = args.rules or sorted(registry.RULES)
    wall("pass", 1)  # warm the page cache and bytecode
    load_before = load()
    bare = wall("pass", args.reps)
    rows = []
    for rule in rules:
        code = import_code(rule)
        wall(code, 1)  # compile bytecode once, as after a job's first run
        t = wall(code, args.reps)
        rows.append(
            {
                "rule": rule,
                "bare_s": round(bare, 3),
                "import_s": round(t, 3),
                "import_over_bare_s": round(t - bare, 3),
                "heaviest": heaviest(code),
            }
        )
        print(f"{rule:28s} {t:6.3f} s  (+{t - bare:.3f})  {rows[-1]['heaviest']}", flush=True)
    df = pd.DataFrame(rows).sort_values("import_s", ascending=False)
    save_csv(df, "jobs.csv")
    intro = (
        f"`python benchmarks/bench_jobs.py --reps {args.reps}`; medians of {args.reps} fresh processes; "
        f"load before {load_before}, after {load()}; `python -c pass` = {bare:.3f} s."
    )
    table = md_table(
        ("rule", "import s", "over bare s", "heaviest third-party imports"),
        ((r.rule, f"{r.import_s:.3f}", f"{r.import_over_bare_s:.3f}", r.heaviest) for r in df.itertuples()),
    )
    write_report(
        "jobs.md", [*md_head("Per-job fixed cost: interpreter start + imports, per rule", intro), *table]
    )


if __name__ == "__main__":
    main()
