"""Failures that used to end in a stack trace end in a message naming the file and what to do: full disk and
read-only output folders (atomic writers), degenerate estimates (sigma_u = 0, a variable without variation)."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _factories import degenerate_texts, firm_years, lncu_model

from intelcap import atomic
from intelcap.errors import InputError


def _partial_then(code: int, message: str | None = None):
    """A write_text that leaves half a file on disk, then fails as the OS would."""

    def write_text(self: Path, text: str, encoding: str = "utf-8") -> int:
        with open(self, "w", encoding=encoding) as fh:
            fh.write(text[: len(text) // 2])
        raise OSError(code, message or os.strerror(code), str(self))

    return write_text


def test_disk_full_while_writing_names_target_and_action_and_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "results" / "tables" / "table2.csv"
    monkeypatch.setattr(Path, "write_text", _partial_then(errno.ENOSPC))
    with pytest.raises(InputError) as ei:
        atomic.write_text(target, "model,term\n(1),lnINT\n")
    msg = str(ei.value)
    assert f"cannot write {target}" in msg and "is full" in msg and "free space" in msg
    assert ei.value.file == str(target)
    assert isinstance(ei.value.__cause__, OSError) and ei.value.__cause__.errno == errno.ENOSPC
    assert sorted(p.name for p in target.parent.iterdir()) == []  # neither target nor temporary


def test_read_only_filesystem_at_rename_keeps_the_old_output(tmp_path, monkeypatch):
    target = tmp_path / "cu_fit.json"
    target.write_text("old", encoding="utf-8")

    def replace(src, dst):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(src), None, str(dst))

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(InputError, match="is not writable") as ei:
        atomic.write_text(target, "new")
    assert "fix the permissions of results/" in str(ei.value)
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cu_fit.json"]


def test_permission_denied_creating_the_folder(tmp_path, monkeypatch):
    target = tmp_path / "results" / "measures" / "cu.parquet"

    def mkdir(self, *a, **k):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(InputError, match=r"results/measures is not writable \(Permission denied\)"):
        atomic.write_parquet(pd.DataFrame({"a": [1]}), target)


def test_pyarrow_style_error_without_errno_is_recognised(tmp_path, monkeypatch):
    target = tmp_path / "panel.parquet"

    def to_parquet(self, path, **kw):
        Path(path).write_bytes(b"PAR1 half")
        raise OSError("IOError: [Errno 28] Error writing bytes to file. Detail: No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", to_parquet)
    with pytest.raises(InputError, match="is full"):
        atomic.write_parquet(pd.DataFrame({"a": [1]}), target)
    assert list(tmp_path.iterdir()) == []


def test_other_os_errors_pass_through_unchanged(tmp_path, monkeypatch):
    target = tmp_path / "x.txt"
    monkeypatch.setattr(Path, "write_text", _partial_then(errno.EIO))
    with pytest.raises(OSError) as ei:
        atomic.write_text(target, "abc")
    assert not isinstance(ei.value, InputError) and ei.value.errno == errno.EIO
    assert list(tmp_path.iterdir()) == []
    # an unreadable *input* read inside the block is the reader's error, not "results/ is not writable"
    with pytest.raises(PermissionError), atomic.atomic_path(tmp_path / "y.txt"):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "input.csv"))
    assert list(tmp_path.iterdir()) == []


# ---- degenerate estimates: flagged in cu_fit.json, the table CSV, its notes and the log


def _frontier_panel(wrong_skew: bool, n_f: int = 60, n_t: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    d = pd.DataFrame(
        {
            "Stkcd": np.repeat([f"{600000 + i:06d}" for i in range(n_f)], n_t),
            "year": np.tile(np.arange(2011, 2011 + n_t), n_f),
            "industry": "C39",
        }
    )
    lnK, lnL = rng.normal(18, 1, len(d)), rng.normal(7, 1, len(d))
    u = np.abs(rng.normal(0, 0.3, len(d)))
    lnY = 2 + 0.3 * lnK + 0.6 * lnL + rng.normal(0, 0.05, len(d)) + (u if wrong_skew else -u)
    return d.assign(Y=np.exp(lnY), K=np.exp(lnK), L=np.exp(lnL))


def test_wrong_skew_error_names_the_config_key():
    from intelcap.errors import EstimationError
    from intelcap.measures import cu

    with pytest.raises(EstimationError, match=r"set cu\.on_wrong_skew: zero in config/config\.yaml"):
        cu.estimate_cu(_frontier_panel(True), "sfa_bc92")


def test_sigma_u_zero_is_flagged_in_the_fit_and_the_log(caplog):
    from intelcap.measures import cu

    caplog.set_level(logging.WARNING, logger="intelcap")
    with pytest.warns(RuntimeWarning, match="positively skewed"):
        out, diag = cu.estimate_cu(_frontier_panel(True), "sfa_bc92", on_wrong_skew="zero")
    assert diag["sigma_u"] == 0.0 and (out["lnCU"] == 0.0).all()
    assert (
        diag["degenerate"].startswith("sigma_u = 0")
        and "cu.on_wrong_skew: zero was applied" in diag["degenerate"]
    )
    assert [r.levelname for r in caplog.records if "degenerate" in r.getMessage()] == ["WARNING"]
    _, fine = cu.estimate_cu(_frontier_panel(False), "sfa_bc92")
    assert fine["degenerate"] is None and fine["sigma_u"] > 0.1


def test_degenerate_rules_for_tiny_sigma_u_and_constant_cu():
    from intelcap.measures import cu

    tiny = cu._degenerate(np.array([0.99, 1.0]), {"method": "sfa_bc92", "sigma_u": 2e-9, "sigma_v": 0.05})
    assert tiny.startswith("sigma_u = 2e-09 is about 0 (sigma_v = 0.05)")
    assert (
        cu._degenerate(np.array([0.99, 1.0]), {"method": "sfa_bc92", "sigma_u": 1e-6, "sigma_v": 0.05})
        is None
    )
    const = cu._degenerate(np.full(4, 0.8), {"method": "cols"})
    assert const.startswith("CU = 0.8 for every firm-year (cols)")


def _regression_data(n_firms: int = 30, years: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    firm, d = firm_years(n_firms, years)
    d["lnINT"] = rng.normal(size=len(d))
    d["lnCU"] = 0.05 * d["lnINT"] + rng.normal(0, 0.1, len(d))
    d["Listed"] = (firm % 3).astype(float)  # constant within firm: no variation after firm FE
    return d


def test_constant_depvar_gives_a_degenerate_row_a_warning_and_no_crash(caplog):
    from intelcap.econometrics import estimate

    caplog.set_level(logging.WARNING)
    d = _regression_data().assign(lnCU=0.0)
    specs = [lncu_model(), lncu_model("(2)", ["Listed"], fe=[], depvar="lnINT")]
    res = estimate.regression_table(d, specs, [], "Stkcd")  # used to raise ZeroDivisionError (R², t of _cons)
    flag = res[res["term"] == "stat:degenerate"]
    assert flag["model"].tolist() == ["(1)"] and flag["estimate"].tolist() == [1.0]
    assert (
        flag["text"].iloc[0].startswith("lnCU is constant (0) in the estimation sample of model (1) (CU = 1")
    )
    assert "cu.on_wrong_skew: zero" in flag["text"].iloc[0]
    one = res[(res["model"] == "(1)") & (res["term"] == "lnINT")].iloc[0]
    assert one["estimate"] == 0.0 and np.isnan(one["r2"]) and np.isnan(one["r2_within"])
    assert sum("lnCU is constant" in r.getMessage() for r in caplog.records if r.levelname == "WARNING") == 1


def test_regressor_without_variation_after_fixed_effects_is_flagged():
    from intelcap.econometrics import estimate

    d = _regression_data()
    res = estimate.regression_table(d, [lncu_model("(3)", ["lnINT", "Listed"])], [], "Stkcd")
    assert degenerate_texts(res) == [
        "Listed has no variation left after the fixed effects Stkcd+year in model (3): a regressor "
        "without variation, so it has no estimate"
    ]
    assert "stat:collinear_dropped" in set(res["term"])


def test_degenerate_flag_is_printed_under_the_table_whatever_the_notes():
    from intelcap.econometrics import estimate
    from intelcap.outputs import tables

    d = _regression_data().assign(lnCU=0.0)
    res = estimate.regression_table(d, [lncu_model()], [], "Stkcd")
    for style in (tables.TableStyle(lang="en"), tables.TableStyle(lang="en", notes=[])):
        md = tables.regression_markdown(res, style)
        last = md.rstrip("\n").splitlines()[-1]
        assert last.startswith("Warning (degenerate estimate): lnCU is constant (0)")
        assert "| degenerate" not in md and "stat:degenerate" not in md  # a note, not a footer row
    tex = tables.regression_latex(res, tables.TableStyle(lang="en"))
    assert "Warning (degenerate estimate): lnCU is constant" in tex
    zh = tables.regression_markdown(res, tables.TableStyle(lang="zh"))
    assert "警告（退化估计）：第(1)列估计样本中被解释变量lnCU为常数" in zh
    clean = estimate.regression_table(_regression_data(), [lncu_model()], [], "Stkcd")
    assert "stat:degenerate" not in set(clean["term"])
    assert "Warning" not in tables.regression_markdown(clean, tables.TableStyle(lang="en"))
