"""Table jobs read only the panel columns their models and samples name (memory at 4M rows)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from intelcap.econometrics import estimate
from intelcap.workflow.runner import Job
from intelcap.workflow.steps import tables


def _job(tmp_path: Path) -> Job:
    cols = ["Stkcd", "year", "province", "Region", "SOE", "lnCU", "lnINT", "Size", "ROA", "Humcap", "unused"]
    pd.DataFrame({c: [1] for c in cols}).to_parquet(tmp_path / "panel.parquet")
    pd.DataFrame({"Stkcd": [1], "year": [1], "Efficiency": [0.5]}).to_parquet(tmp_path / "dea.parquet")
    return Job(
        input={"panel": str(tmp_path / "panel.parquet"), "measures": [str(tmp_path / "dea.parquet")]},
        output={},
        params={},
        config={"controls": ["Size", "ROA"], "cluster": "Stkcd"},
    )


def _spec(**kw) -> estimate.ModelSpec:
    return estimate.ModelSpec.from_dict({"name": "(1)", "depvar": "lnCU", "regressors": ["lnINT"], **kw})


def test_model_columns_in_file_order(tmp_path: Path) -> None:
    job = _job(tmp_path)
    specs = [_spec(fe=["Stkcd", "province^year"], sample="soe"), _spec(depvar="Efficiency", controls=False)]
    got = tables._model_columns(job, specs, ["east"])
    assert got == ["Stkcd", "year", "province", "Region", "SOE", "lnCU", "lnINT", "Size", "ROA"]


def test_model_columns_fall_back_to_the_whole_panel(tmp_path: Path) -> None:
    job = _job(tmp_path)
    assert tables._model_columns(job, [_spec(regressors=["lnINTT"])], []) is None  # misspelt: full error
    assert tables._model_columns(job, [_spec(sample="new_sample")], []) is None  # unknown sample columns


def test_sample_columns_are_what_the_samples_read() -> None:
    frame = pd.DataFrame(
        {"Municipality": [0], "SOE": [1], "Region": ["East"], "HighTech": [0], "Intensity": ["labor"]}
    )
    for name, cols in tables._SAMPLE_COLUMNS.items():
        estimate.SAMPLES[name](frame[cols].set_axis(frame.index))  # KeyError if a sample reads another column
