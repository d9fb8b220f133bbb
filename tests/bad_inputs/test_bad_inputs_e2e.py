"""Four representative bad inputs end to end: Snakemake with `--config raw_dir=<folder with the bad file>` in a
scratch copy of the repository. The console must show the intelcap message (file / column / rows), no Python
traceback, and the failing rule must leave no output (nor atomic-write temporaries) behind."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from _factories import snakemake_cmd

from intelcap.synthetic import dgp as synth
from intelcap.workflow.scratch import copy_workflow

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def base_raw(tmp_path_factory) -> Path:
    """A small, complete raw_dir in the vendors' formats (no reports: no target below reads them)."""
    raw = tmp_path_factory.mktemp("raw_base")
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text(encoding="utf-8"))
    config["synth"].update(n_firms=60, reports=False)
    crosswalk = pd.read_csv(ROOT / "config/crosswalk_csrc_ifr.csv", dtype=str, keep_default_na=False)
    synth.write_all(config, raw, crosswalk)
    return raw


def _edit_text(
    path: Path, line_no: int, col: int, value: str, encoding: str = "utf-8-sig", sep: str = ","
) -> None:
    lines = path.read_text(encoding=encoding).split("\n")
    cells = lines[line_no].split(sep)
    cells[col] = value
    lines[line_no] = sep.join(cells)
    path.write_text("\n".join(lines), encoding=encoding)


def text_in_numeric(raw: Path) -> None:
    _edit_text(raw / "csmar/FS_Combas.csv", 5, 3, "abc")  # data row 3, field A001000000


def mixed_encodings(raw: Path) -> None:
    path = raw / "csmar/STK_LISTEDCOINFOANL.csv"
    text = path.read_text(encoding="utf-8-sig")
    lines = text.split("\n")
    half = len(lines) // 2
    path.write_bytes(
        "\n".join(lines[:half]).encode("utf-8") + b"\n" + "\n".join(lines[half:]).encode("gb18030")
    )


def restated_duplicate(raw: Path) -> None:
    path = raw / "csmar/CG_Ybasic.xlsx"
    df = pd.read_excel(path, dtype=str).iloc[2:]  # drop the Chinese-name and unit rows
    dup = df[df["Reptdt"].str.endswith("12-31")].iloc[[4]].copy()
    dup["Y0601b"] = "99999"
    synth.write_csmar(pd.concat([df, dup], ignore_index=True), path)


def ifr_missing_year(raw: Path) -> None:
    path = raw / "ifr/ifr_robots.csv"
    df = pd.read_csv(path, dtype=str)
    df[df["year"] != "2016"].to_csv(path, index=False)


CASES = [
    # id, corrupt, target, failing rule, its outputs, texts the console must show
    (
        "text_in_numeric",
        text_in_numeric,
        "results/data/csmar/FS_Combas.parquet",
        "read_table",
        ["results/data/csmar/FS_Combas.parquet"],
        [
            "FS_Combas.csv",
            "field A001000000 (total_assets)",
            "column: total_assets",
            "rows (first 1)",
            "what to do",
        ],
    ),
    (
        "mixed_encodings",
        mixed_encodings,
        "results/data/csmar/STK_LISTEDCOINFOANL.parquet",
        "read_table",
        ["results/data/csmar/STK_LISTEDCOINFOANL.parquet"],
        ["STK_LISTEDCOINFOANL.csv", "mixes encodings", "rows (first"],
    ),
    (
        "duplicate_restated",
        restated_duplicate,
        "results/data/csmar/CG_Ybasic.parquet",
        "read_table",
        ["results/data/csmar/CG_Ybasic.parquet"],
        ["CG_Ybasic.xlsx", "duplicate keys", "employees", "column: Stkcd, year", "latest restatement"],
    ),
    (
        "ifr_missing_year",
        ifr_missing_year,
        "results/measures/robots.parquet",
        "robot_exposure",
        ["results/measures/robots.parquet", "results/measures/robots_info.json"],
        ["ifr_robots.csv", "missing for", "2016", "column: operational_stock"],
    ),
]


@pytest.fixture(scope="module")
def runs(base_raw, tmp_path_factory) -> dict[str, tuple[Path, subprocess.CompletedProcess]]:
    """All cases at once (each its own scratch copy and raw_dir): Snakemake mostly waits between short jobs,
    so running them side by side costs little more than the longest one."""
    procs = {}
    for name, corrupt, target, *_ in CASES:
        tmp = tmp_path_factory.mktemp(name)
        work = copy_workflow(ROOT, tmp / "repo")
        raw = tmp / "raw"
        shutil.copytree(base_raw, raw)
        corrupt(raw)
        procs[name] = (
            work,
            subprocess.Popen(
                snakemake_cmd("--config", f"raw_dir={raw}", "--", target),
                cwd=work,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
    out = {}
    for name, (work, proc) in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        out[name] = (work, subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))
    return out


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_end_to_end(case, runs):
    name, corrupt, target, rule, outputs, must = case
    work, proc = runs[name]
    console = proc.stdout + proc.stderr
    assert proc.returncode != 0, console[-3000:]
    assert f"intelcap error in rule {rule}:" in proc.stderr, console[-3000:]
    for m in must:
        assert m in proc.stderr, f"{m!r} missing from the console:\n{proc.stderr[-3000:]}"
    assert "Traceback" not in console, console[-3000:]
    for out in outputs:
        assert not (work / out).exists(), f"{out} left behind by the failing rule"
    assert not list(work.glob("results/**/.*.tmp"))
