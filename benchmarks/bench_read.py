"""Benchmark of the CSMAR reader (`io.load_table`) and of `attributes.firm_attributes` at scale, new vs old.

    python benchmarks/bench_read.py [--firms 100000] [--copies 1,5] [--reps 3] [--old-max-copies 1]
                                    [--workdir /tmp/intelcap_bench_read]

Data: the package's own generator (`synth.write_all`, config/config.yaml + profiles/large/config.yaml, no
reports) at --firms firms (x 11 statement years; 100k firms = ~0.8M panel firm-years, EMP_Structure.csv ~6.2M
rows / 210 MB). Larger sizes without a 13 GB generator run: --copies k replicates that data k times under
distinct stock codes (EMP_Structure.csv as text, the firm_attributes inputs as frames), so k = 5 is the scale
run's size (~31M EMP_Structure rows / 1.05 GB, ~3.8M panel firm-years). Everything is written under --workdir.

Each timed run is its own subprocess (the peak RSS reported is that run's alone): wall and CPU seconds are
medians over --reps runs, peak RSS the maximum. "old" is the implementation before this optimisation, kept
verbatim as the test oracle (`tests/test_io_fast.py::_reference_load_table`, `tests/test_attributes.py`); it
only runs up to --old-max-copies (it took > 20 min on EMP_Structure at k = 5). Where both ran, the outputs
must be identical (sha256 of the written parquet / notes CSV).

Writes benchmarks/results/read.csv and benchmarks/results/read.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from _common import machine, machine_line

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
ATTR_TABLES = ["EN_EquityNatureAll", "QUA_Qualification", "PT_LCRDSPENDING", "FN_RegionRevenue"]
PANEL_TABLES = ["FS_Combas", "FS_Comins", "FS_Comscfd", "CG_Ybasic", "STK_LISTEDCOINFOANL"]


def load_config() -> dict:
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text(encoding="utf-8"))

    def merge(a: dict, b: dict) -> None:
        for k, v in b.items():
            if isinstance(v, dict) and isinstance(a.get(k), dict):
                merge(a[k], v)
            else:
                a[k] = v

    merge(cfg, yaml.safe_load((ROOT / "profiles/large/config.yaml").read_text(encoding="utf-8")))
    return cfg


def _config_csv(name: str) -> pd.DataFrame:
    return pd.read_csv(ROOT / "config" / name, dtype=str, keep_default_na=False)


# --------------------------------------------------------------------------------------------- data
def generate(work: Path, firms: int) -> Path:
    raw = work / f"raw_{firms}"
    if not (raw / "truth.json").exists():
        from intelcap.synthetic import dgp as synth

        cfg = load_config()
        cfg["synth"].update(n_firms=firms, reports=False)
        t = time.perf_counter()
        synth.write_all(cfg, raw, _config_csv("crosswalk_csrc_ifr.csv"))
        print(f"generated {firms} firms in {time.perf_counter() - t:.0f} s -> {raw}", flush=True)
    return raw


def code_maps(codes: list[str], copies: int, seed: int = 1) -> list[dict[str, str]]:
    """Copy 0 keeps the codes; copies 1.. get distinct unused six-digit codes (leading digit as synth's)."""
    used = set(codes)
    pool = np.array(
        [c for c in (f"{i:06d}" for i in range(1_000_000)) if c not in used and c[0] in "01345678"]
    )
    pick = np.random.default_rng(seed).choice(pool, (copies - 1) * len(codes), replace=False)
    return [dict(zip(codes, codes, strict=True))] + [
        dict(zip(codes, pick[(k - 1) * len(codes) : k * len(codes)], strict=True)) for k in range(1, copies)
    ]


def prepare(work: Path, raw: Path, copies: int) -> Path:
    """work/k<copies>/: EMP_Structure.csv and the firm_attributes inputs (panel + 4 tables as parquet)."""
    from intelcap.ingest import panel
    from intelcap.ingest import readers as io

    cfg = load_config()
    base = work / f"{raw.name}_k1"
    if not (base / "panel_clean.parquet").exists():
        base.mkdir(parents=True, exist_ok=True)
        tables = {}
        for name in PANEL_TABLES + ATTR_TABLES:
            df = io.load_table(raw / "csmar" / cfg["csmar"][name]["file"], cfg["csmar"][name], name)
            df.attrs["file"] = name
            tables[name] = df
        pnl, _ = panel.build_panel(
            {t: tables[t] for t in PANEL_TABLES},
            cfg,
            _config_csv("crosswalk_csrc_ifr.csv"),
            _config_csv("regions.csv"),
        )
        for name in ATTR_TABLES:
            tables[name].to_parquet(base / f"{name}.parquet")
        pnl.to_parquet(base / "panel_clean.parquet")
    out = work / f"{raw.name}_k{copies}"
    emp = raw / "csmar" / cfg["csmar"]["EMP_Structure"]["file"]
    if copies == 1:
        if not (base / "EMP_Structure.csv").exists():
            (base / "EMP_Structure.csv").symlink_to(emp)
        return base
    if (out / "panel_clean.parquet").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    frames = {n: pd.read_parquet(base / f"{n}.parquet") for n in ["panel_clean", *ATTR_TABLES]}
    lines = emp.read_bytes().split(b"\n")
    head, body = lines[:3], [line for line in lines[3:] if line]
    codes = sorted(
        set(pd.concat([f["Stkcd"] for f in frames.values()])) | {line[:6].decode() for line in body}
    )
    maps = code_maps(codes, copies)
    with open(out / "EMP_Structure.csv", "wb") as fh:
        fh.write(b"\n".join(head) + b"\n")
        for m in maps:
            mb = {a.encode(): b.encode() for a, b in m.items()}
            fh.write(b"\n".join(mb[line[:6]] + line[6:] for line in body) + b"\n")
    for name, df in frames.items():
        big = pd.concat([df.assign(Stkcd=df["Stkcd"].map(m).astype("str")) for m in maps], ignore_index=True)
        sort = [c for c in ("Stkcd", "year", "sign_year", "region") if c in big]
        big.sort_values(sort, kind="stable").reset_index(drop=True).to_parquet(out / f"{name}.parquet")
    return out


# ------------------------------------------------------------------------------------------- worker
def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def worker(step: str, impl: str, src: str, out: str) -> dict:
    """One timed run in this (fresh) process; the output is written to `out` for the equality check."""
    sys.path.insert(0, str(ROOT / "tests"))
    cfg = load_config()
    src_p, out_p = Path(src), Path(out)
    if step.startswith("read:"):
        table = step.split(":", 1)[1]
        from intelcap.ingest import readers as io

        if impl == "new":
            fn = io.load_table
        else:
            from test_io_fast import _reference_load_table as fn
        c0, w0 = time.process_time(), time.perf_counter()
        df = fn(src_p, cfg["csmar"][table], table)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        peak = _peak_rss_mb()  # before writing the output
        df.attrs["file"] = table  # the path differs between runs
        df.to_parquet(out_p)
        rows = len(df)
    else:
        from intelcap.measures import attributes

        if impl == "old":
            from test_attributes import _reference_export_demand, _reference_soe

            attributes.soe, attributes.export_demand = _reference_soe, _reference_export_demand
        pnl = pd.read_parquet(src_p / "panel_clean.parquet")
        tables = {n: pd.read_parquet(src_p / f"{n}.parquet") for n in ATTR_TABLES}
        classes = _config_csv("factor_intensity.csv")
        c0, w0 = time.process_time(), time.perf_counter()
        df, notes = attributes.firm_attributes(pnl, tables, classes, "factor_intensity.csv")
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        peak = _peak_rss_mb()
        df.to_parquet(out_p)
        notes.to_csv(out_p.with_suffix(".csv"), index=False)
        rows = len(df)
    sha = _sha(out_p) + (_sha(out_p.with_suffix(".csv")) if out_p.with_suffix(".csv").exists() else "")
    return dict(rows=rows, cpu=cpu, wall=wall, sha=sha, peak_rss_mb=peak)


def _peak_rss_mb() -> float:
    """This process' peak RSS. Not ru_maxrss: Linux carries it over exec from the parent (the driver holds the
    generated data), VmHWM belongs to this process image alone."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(step: str, impl: str, src: Path, work: Path, reps: int) -> dict:
    res = []
    for r in range(reps):
        out = work / f"out_{step.replace(':', '_')}_{impl}.parquet"
        p = subprocess.run(
            [sys.executable, __file__, "--worker", step, impl, str(src), str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
        res.append(json.loads(p.stdout.strip().splitlines()[-1]))
        print(
            f"  {step} {impl} rep {r + 1}: {res[-1]['wall']:.1f} s wall, {res[-1]['peak_rss_mb']:.0f} MB",
            flush=True,
        )
    return dict(
        rows=res[0]["rows"],
        wall_s=statistics.median(x["wall"] for x in res),
        cpu_s=statistics.median(x["cpu"] for x in res),
        peak_rss_mb=max(x["peak_rss_mb"] for x in res),
        sha=res[0]["sha"],
        runs=reps,
    )


# --------------------------------------------------------------------------------------------- main
def _fmt_md(df: pd.DataFrame, meta: dict) -> str:
    lines = [
        "# CSMAR reader and firm attributes at scale (`benchmarks/bench_read.py`)",
        "",
        f"{machine_line(meta)}, pandas {meta['pandas']}, "
        f"pyarrow {meta['pyarrow']}; load average at start {meta['load']}. Data: `synth.write_all` at "
        f"{meta['firms']:,} firms (large profile, no reports), replicated k times under distinct stock codes "
        "(k = 5 is the 500k-firm scale run). Wall/CPU: medians of the runs; peak RSS: max over runs, each run "
        "its own process (VmHWM; includes Python + pandas + pyarrow, ~110 MB, and for firm_attributes the "
        "loaded panel and tables). old = the implementation before this change (kept as the test oracle); "
        "identical = same sha256 of the output parquet (+ notes).",
        "",
        "| step | k | rows | impl | runs | wall (s) | CPU (s) | peak RSS (MB) | speedup (wall) | identical |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in df.iterrows():
        lines.append(
            f"| {r['step']} | {r['copies']} | {r['rows']:,} | {r['impl']} | {r['runs']} | {r['wall_s']:.1f} | "
            f"{r['cpu_s']:.1f} | {r['peak_rss_mb']:,.0f} | {r['speedup']} | {r['identical']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firms", type=int, default=100_000)
    ap.add_argument("--copies", default="1,5")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--old-reps", type=int, default=1)
    ap.add_argument("--old-max-copies", type=int, default=1)
    ap.add_argument("--all-tables", action="store_true", help="also time every other CSMAR table at k = 1")
    ap.add_argument("--workdir", default="/tmp/intelcap_bench_read")
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    import pyarrow

    from intelcap.atomic import write_csv, write_text

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    meta = dict(
        **machine(),
        pandas=pd.__version__,
        pyarrow=pyarrow.__version__,
        firms=args.firms,
        load=[round(x, 2) for x in os.getloadavg()],
    )
    raw = generate(work, args.firms)
    cfg = load_config()
    rows = []
    for k in (int(x) for x in args.copies.split(",")):
        data = prepare(work, raw, k)
        steps = [("read:EMP_Structure", data / "EMP_Structure.csv"), ("firm_attributes", data)]
        if k == 1 and args.all_tables:
            steps += [
                (f"read:{t}", raw / "csmar" / cfg["csmar"][t]["file"])
                for t in cfg["csmar"]
                if t != "EMP_Structure"
            ]
        for step, src in steps:
            res = {
                impl: run(step, impl, src, work, args.reps if impl == "new" else args.old_reps)
                for impl in (["new", "old"] if k <= args.old_max_copies else ["new"])
            }
            for impl, r in res.items():
                speed = f"{res['old']['wall_s'] / r['wall_s']:.0f}x" if impl == "new" and "old" in res else ""
                same = str(res["old"]["sha"] == r["sha"]) if impl == "new" and "old" in res else ""
                rows.append(dict(step=step, copies=k, impl=impl, speedup=speed, identical=same, **r))
    df = pd.DataFrame(rows)
    RESULTS.mkdir(exist_ok=True)
    write_csv(df, RESULTS / "read.csv")
    write_text(RESULTS / "read.md", _fmt_md(df, meta))
    print(_fmt_md(df, meta))


if __name__ == "__main__":
    main()
