"""Bad-input cases of the configuration, of output folders that cannot be written, and of degenerate estimates.
Registered into `bad_cases.CASES` by @case and the constructors of bad_cases.py (their prose in descriptions.yaml);
bad_cases.py imports this module on its last line."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _factories import degenerate_texts, lncu_model
from bad_cases import (
    CONFIG,
    SCHEMA,
    _sfa_panel,
    case,
    config_error,
    logged,
    raises,
    raising,
    regression_data,
    renamed,
    updated,
)

from intelcap import atomic
from intelcap.econometrics import estimate
from intelcap.errors import EstimationError, InputError
from intelcap.measures import cu

# ============================================================================================ config
config_error(
    "config_table_key_typo",
    "config.check_config",
    [renamed("tables.table2", "tabel2")],
    ("'tables.tabel2' is unknown: did you mean 'tables.table2'?", "file: config/config.yaml"),
)


def _schema_rejects_empty_list(c: dict, msg: str, tmp: Path) -> None:
    from intelcap.workflow.config import load_schema, validate

    with pytest.raises(InputError, match="should be non-empty"):
        validate(c, load_schema(SCHEMA))


config_error(
    "config_empty_model_list",
    "config.check_values",
    [updated({"tables.table2": []})],
    ("'tables.table2' has 0 item(s) but needs at least 1", "column: tables.table2", "depvar: lnCU"),
    then=_schema_rejects_empty_list,
)


def _no_data_file_blamed(c: dict, msg: str, tmp: Path) -> None:
    assert "STK_LISTEDCOINFOANL" not in msg


config_error(
    "config_sample_years_reversed",
    "config.check_values",
    [updated({"sample.first_year": 2019, "sample.last_year": 2011})],
    ("sample.first_year (2019) is after sample.last_year (2011)", "column: sample.first_year"),
    then=_no_data_file_blamed,
)


config_error(
    "config_synth_years_reversed",
    "config.check_values",
    [updated({"synth.first_year": 2019, "synth.last_year": 2009})],
    ("synth.first_year (2019) is after synth.last_year (2009)",),
)


def _accepted_with_raw_dir(c: dict, msg: str, tmp: Path) -> None:
    from intelcap.workflow.config import check_values

    check_values({**c, "raw_dir": str(tmp)}, SCHEMA)


config_error(
    "config_sample_outside_synth",
    "config.check_values",
    [updated({"synth.last_year": 2016})],
    ("sample.last_year (2019) is after synth.last_year (2016)", "set synth.last_year to 2019"),
    then=_accepted_with_raw_dir,
)


# ============================================================================== outputs that cannot be written
@case("results_disk_full", "atomic.atomic_path", "error")
def _(tmp, caplog):
    target = tmp / "results" / "tables" / "table2.csv"

    def to_csv(self, path, **kw):
        Path(path).write_text("model,term\n(1),ln", encoding="utf-8")  # half written, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pd.DataFrame, "to_csv", to_csv)
        raises(
            InputError,
            lambda: atomic.write_csv(pd.DataFrame({"a": [1]}), target),
            f"cannot write {target}",
            "is full",
            "what to do: free space",
        )
    assert list(target.parent.iterdir()) == []


@case("results_read_only", "atomic.atomic_path", "error")
def _(tmp, caplog):
    target = tmp / "results" / "measures" / "cu_fit.json"
    target.parent.mkdir(parents=True)
    target.write_text("{}", encoding="utf-8")

    def replace(src, dst):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(src), None, str(dst))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(atomic.os, "replace", replace)
        raises(
            InputError,
            lambda: atomic.write_text(target, '{"new": 1}'),
            "is not writable (Read-only file system)",
            "fix the permissions of results/",
        )
    assert [p.name for p in target.parent.iterdir()] == ["cu_fit.json"] and target.read_text() == "{}"


# ================================================================================== degenerate estimates
raising(
    "sfa_wrong_skew_hint_names_config_key",
    "cu.estimate_cu",
    lambda tmp: cu.estimate_cu(_sfa_panel("wrong"), "sfa_bc92"),
    ("set cu.on_wrong_skew: zero in config/config.yaml",),
    cls=EstimationError,
)


@case("sfa_degenerate_recorded", "steps.measures.capacity_utilization", "decision")
def _(tmp, caplog):
    from intelcap.workflow.runner import Job
    from intelcap.workflow.steps import measures

    panel = _sfa_panel("wrong")
    panel.to_parquet(tmp / "panel.parquet", index=False)
    job = Job(
        input={"panel": str(tmp / "panel.parquet")},
        output={"cu": str(tmp / "cu.parquet"), "fit": str(tmp / "cu_fit.json")},
        params={},
        config={"cu": {**CONFIG["cu"], "on_wrong_skew": "zero"}},
    )
    with pytest.warns(RuntimeWarning, match="positively skewed"):
        measures.capacity_utilization(job)
    fit = json.loads((tmp / "cu_fit.json").read_text(encoding="utf-8"))
    assert fit["sigma_u"] == 0.0 and fit["degenerate"].startswith("sigma_u = 0")
    assert (pd.read_parquet(tmp / "cu.parquet")["lnCU"] == 0.0).all()
    logged(caplog, "WARNING", "capacity utilization is degenerate: sigma_u = 0")


@case("table_constant_depvar", "estimate.fit", "decision")
def _(tmp, caplog):
    from intelcap.outputs import tables

    d = regression_data().assign(lnCU=0.0)
    res = estimate.regression_table(d, [lncu_model(fe=[]), lncu_model("(2)")], [], "Stkcd")
    assert res.loc[res["term"] == "stat:degenerate", "model"].tolist() == ["(1)", "(2)"]
    texts = degenerate_texts(res)
    assert all(t.startswith("lnCU is constant (0)") and "cu.on_wrong_skew: zero" in t for t in texts)
    logged(caplog, "WARNING", "lnCU is constant (0) in the estimation sample of model (2)")
    md = tables.regression_markdown(res, tables.TableStyle(lang="en"))
    assert md.count("Warning (degenerate estimate): lnCU is constant (0)") == 2


@case("regressor_no_variation_after_fe", "estimate.fit", "decision")
def _(tmp, caplog):
    d = regression_data()
    d["Listed"] = (d["Stkcd"].str[-1].astype(int) % 2).astype(float)
    res = estimate.regression_table(d, [lncu_model(regressors=["lnINT", "Listed"])], [], "Stkcd")
    assert degenerate_texts(res) == [
        "Listed has no variation left after the fixed effects Stkcd+year in model (1): a regressor "
        "without variation, so it has no estimate"
    ]
    assert np.isfinite(res.loc[res["term"] == "lnINT", "estimate"]).all()
    logged(caplog, "Listed has no variation left")


config_error(
    "config_model_ref_missing",
    "config.check_values",
    [updated({"robustness.inference.baseline.table": "table7"})],
    (
        "robustness.inference.baseline.table names 'table7', which is not under tables",
        "column: robustness.inference.baseline.table",
    ),
)
