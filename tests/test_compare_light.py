"""The pandas-free path of the comparison job (rule compare_with_paper): (the CSV rows it reads are typed as
pandas.read_csv types them: tests/test_render_light.py) the rows it writes are the bytes the pandas writer writes, the claims and the
comparison computed on rows equal those computed on frames, and neither the modules nor the step up to the
Markdown view (`_frame_markdown`, rendered through outputs.tables) imports pandas."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from intelcap import atomic
from intelcap.errors import InputError
from intelcap.outputs import claims, compare
from intelcap.outputs.csvrows import read_rows

pytestmark = pytest.mark.unit


def test_records_writer_types_columns_as_pandas_and_writes_counts_as_int64(tmp_path):
    rows = [
        {"n": 1, "mix": 1, "gap": 2, "count": 10035, "flag": True, "text": 3, "none": None},
        {"n": 2, "mix": 0.5, "gap": None, "count": None, "flag": math.nan, "text": "x", "none": None},
        {"n": -3, "mix": -0.0, "count": 7, "flag": False, "text": 4.25},
    ]
    ours, theirs = tmp_path / "ours.csv", tmp_path / "pandas.csv"
    atomic.write_records_csv(rows, ours, integers=["count"])
    frame = pd.DataFrame(rows)
    frame["count"] = frame["count"].astype("Int64")
    atomic.write_csv(frame, theirs)
    assert (
        ours.read_text()
        == theirs.read_text()
        == ("n,mix,gap,count,flag,text,none\n1,1.0,2.0,10035,True,3,\n2,0.5,,,,x,\n-3,-0.0,,7,False,4.25,\n")
    )
    # no rows: the header of the given columns, as the frame with those columns writes it
    atomic.write_records_csv([], ours, columns=claims.COLUMNS)
    atomic.write_csv(pd.DataFrame([], columns=claims.COLUMNS), theirs)
    assert ours.read_text() == theirs.read_text() == ",".join(claims.COLUMNS) + "\n"
    with pytest.raises(TypeError, match="integer column 'mix' holds 0.5"):
        atomic.write_records_csv(rows, ours, integers=["mix"])


# ---- the ledger on tables built from the paper's own numbers (every table, model and term it prints)
def _write_tables(root: Path, folder: Path) -> dict[str, Path]:
    ledger = claims.load_ledger(root / "config" / "paper_claims.yaml")
    out = {}
    for name, rows in claims.paper_tables(ledger).items():
        df = pd.DataFrame(rows)
        if name != "table1":
            df = df[df["term"] != ""].copy()
            # ours differ from the paper's: every fifth estimate flips its sign, a p-value crosses a level
            df["estimate"] = [-v if i % 5 == 0 else v * 0.9 for i, v in enumerate(df["estimate"])]
            df["p_value"] = df["p_value"].fillna(0.2) * 1.7
            df["nobs"] = [math.nan if i == 1 else 10035 for i in range(len(df))]  # a count with a gap
            df["fixed_effects"] = ["Stkcd+year" if i % 2 else math.nan for i in range(len(df))]
            df["controls"] = "yes"
        out[name] = folder / f"{name}.csv"
        atomic.write_csv(df, out[name])
    out["table7"] = folder / "table7.csv"
    atomic.write_csv(
        pd.DataFrame(
            {"category": ["宏观政策", "宏观政策", "范式特征"], "order": [1, 2, 3], "keyword": ["a", "b", "c"]}
        ),
        out["table7"],
    )
    return out


SCRIPT = r"""
import json, sys
from pathlib import Path
from intelcap import atomic
from intelcap.outputs import claims, compare
from intelcap.outputs.csvrows import read_rows
from intelcap.workflow.runner import Job
from intelcap.workflow.steps import render

root, folder, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
render._frame_markdown = lambda *a, **k: None  # the Markdown view renders through outputs.tables (pandas)
tables = sorted(str(p) for p in folder.glob("table*.csv"))
inputs = {"tables": tables, "ledger": str(root / "config/paper_claims.yaml"), "truth": [sys.argv[4]],
          "ifr_global": str(root / "config/ifr_global_installations.csv"), "labels": str(root / "config/labels.yaml")}
outputs = {k: str(out / f"{k}.{'md' if k.endswith('md') else 'csv'}")
           for k in ("csv", "md", "implied", "claims_csv", "claims_md")}
render.compare_with_paper(Job(inputs, outputs, {}, {"output": {"lang": "en"}}))
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("pandas", "numpy"))))
"""


def test_the_job_on_rows_writes_the_frame_paths_bytes_without_pandas(root, tmp_path):
    folder, out = tmp_path / "tables", tmp_path / "out"
    paths = _write_tables(root, folder)
    truth = tmp_path / "truth.json"
    truth.write_text(
        json.dumps({"estimands": {"lnINT_on_lnCU_true": 0.034, "lnINT_on_Humcap": 0.01}}), "utf-8"
    )
    env = {"PYTHONPATH": str(root / "src"), "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(root), str(folder), str(out), str(truth)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1]) == []  # neither pandas nor numpy

    # the same job through frames (pd.read_csv, the frame functions, the pandas writer): the same bytes
    ledger = claims.load_ledger(root / "config" / "paper_claims.yaml")
    frames = {p.stem: pd.read_csv(p) for p in paths.values()}
    want = tmp_path / "want"
    paper = compare.paper_from_ledger(ledger)
    atomic.write_csv(
        compare.paper_vs_replication(paper, frames, json.loads(truth.read_text())), want / "c.csv"
    )
    atomic.write_csv(compare.implied_lncu_means(paper), want / "i.csv")
    frames["ifr_global"] = pd.read_csv(root / "config" / "ifr_global_installations.csv")
    result = claims.evaluate(ledger, frames, json.loads(truth.read_text()))
    atomic.write_csv(result, want / "claims.csv")
    assert (out / "csv.csv").read_bytes() == (want / "c.csv").read_bytes()
    assert (out / "implied.csv").read_bytes() == (want / "i.csv").read_bytes()
    assert (out / "claims_csv.csv").read_bytes() == (want / "claims.csv").read_bytes()
    assert (out / "claims_md.md").read_text(encoding="utf-8") == claims.to_markdown(result)
    # the fabricated tables give every status, and the count with a gap prints as an integer
    assert set(result["status"]) == {"holds", "fails", "no result", "not computable"}
    lines = (out / "csv.csv").read_text().splitlines()
    assert lines[0].split(",")[8] == "replication_nobs"
    assert {ln.split(",")[8] for ln in lines[1:]} >= {"10035", ""}


def test_cell_lookups_on_rows_equal_those_on_frames(tmp_path):
    frame = pd.DataFrame(
        {
            "model": ["(1)", "(1)", "(2)"],
            "term": ["lnINT", "_cons", "lnINT"],
            "estimate": [0.05, -0.2, 0.07],
            "p_value": [0.04, 0.5, math.nan],
            "nobs": [100, 100, 90],
            "fixed_effects": [math.nan, math.nan, "Stkcd+year"],
        }
    )
    path = tmp_path / "table2.csv"
    atomic.write_csv(frame, path)
    rows, frames = {"table2": read_rows(path)}, {"table2": pd.read_csv(path)}
    index = claims.Tables(rows)
    cells = [
        ({"table": "table2", "model": "(2)", "term": "lnINT"}, 0.07),
        ({"table": "table2", "model": "(1)", "term": "lnINT", "stat": "p_value"}, 0.04),
        ({"table": "table2", "model": "(2)", "term": "lnINT", "stat": "p_value"}, None),
        ({"table": "table2", "model": "(2)", "stat": "nobs"}, 90.0),
        ({"table": "table2", "model": "(1)", "term": "lnINT", "stat": "fixed_effects"}, ""),
        ({"table": "table2", "model": "(2)", "term": "lnINT", "stat": "fixed_effects"}, "Stkcd+year"),
        ({"table": "table2", "model": "(3)", "term": "lnINT"}, None),
        ({"table": "table9", "model": "(1)", "term": "lnINT"}, None),
    ]
    for cell, want in cells:
        got = claims.cell_value(index, cell)
        assert got == want and type(got) is type(want), (cell, got)
        assert claims.cell_value(frames, cell) == want
        assert claims.cell_value(rows, cell) == want


def test_a_repeated_ifr_year_is_an_error_not_a_guess():
    t = {"ifr_global": [{"year": 2021, "installations": 5, "vintage": "WR2022"}] * 2}
    with pytest.raises(InputError, match=r"ifr_global: vintage 'WR2022': year 2021 is missing, repeated"):
        claims.cell_value(t, {"table": "ifr_global", "year": 2021, "stat": "installations"})


def test_a_text_cell_in_the_ifr_series_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "ifr.csv"
    path.write_text("year,installations,vintage\n2020,384000,WR2022\n2021,NA,WR2022\n", encoding="utf-8")
    t = {"ifr_global": read_rows(path).rows}
    with pytest.raises(InputError, match=r"year 2021, installations 'NA': not a number"):
        claims.cell_value(t, {"table": "ifr_global", "year": 2021, "stat": "growth"})


def test_sign_and_growth_follow_numpy_without_it():
    assert [claims.sign(v) for v in (3, -0.5, 0, -0.0)] == [1.0, -1.0, 0.0, 0.0]
    assert math.isnan(claims.sign(math.nan))
    t = {"ifr_global": [{"year": 2020, "installations": 0}, {"year": 2021, "installations": 5}]}
    # numpy divides by zero to inf (the frame code did), Python would raise
    assert claims.cell_value(t, {"table": "ifr_global", "year": 2021, "stat": "growth"}) == math.inf
    assert claims.cell_value(t, {"table": "ifr_global", "first": 2019, "last": 2020, "stat": "n_years"}) == 1
