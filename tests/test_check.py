"""The data check (intelcap.ingest.check, rules/check.smk): every problem of a folder of raw inputs at once,
with severity and fix; nothing blocking on the synthetic data; the target fails only on blocking problems."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from _factories import run, snakemake_cmd

from intelcap.errors import InputError
from intelcap.ingest import check
from intelcap.ingest import readers as io
from intelcap.measures import text_inventory
from intelcap.synthetic import dgp
from intelcap.workflow.runner import Job
from intelcap.workflow.steps import check as steps

ROOT = Path(__file__).resolve().parents[1]


def _config() -> dict:
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text(encoding="utf-8"))
    cfg["synth"]["n_firms"] = 60
    return cfg


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """Synthetic vendor files (60 firms) and a small report folder: the clean case."""
    out = tmp_path_factory.mktemp("synthetic") / "raw"
    dgp.write_vendor_files(_config(), out, io.read_csv_config(ROOT / "config/crosswalk_csrc_ifr.csv"))
    (out / "reports").mkdir()
    for year in range(2011, 2020):
        (out / "reports" / f"000001_{year}.txt").write_text("年度报告 工业机器人", encoding="utf-8")
    return out


def _copy(synthetic: Path, tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(synthetic, raw)
    return raw


def _run(raw: Path, config: dict | None = None, config_files=()) -> check.CheckReport:
    return check.check_inputs(
        raw,
        config or _config(),
        raw / "reports",
        list_reports=text_inventory.list_reports,
        config_files=config_files,
    )


def _edit(path: Path, encoding: str, edit) -> None:
    """Apply `edit(lines) -> lines` to a text file in its own encoding (BOM kept)."""
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw[3 if bom else 0 :].decode(encoding)
    lines = edit(text.split("\n"))
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + "\n".join(lines).encode(encoding))


def _bad_folder(synthetic: Path, tmp_path: Path) -> Path:
    """Five problems in five places: a renamed field (FS_Combas), a restated firm-year (FS_Comins), an
    unmapped ownership code (EN_EquityNatureAll), a missing table (QUA_Qualification), a misnamed report."""
    raw = _copy(synthetic, tmp_path)
    csmar = raw / "csmar"
    _edit(csmar / "FS_Combas.csv", "utf-8", lambda ls: [ls[0].replace("A001000000", "A001000000X"), *ls[1:]])

    def restate(lines):
        # line 4 is the first data row (3 header rows): the same firm-year again with another net profit
        cells = lines[3].split(",")
        cells[-1] = "1.5"
        body = [ln for ln in lines if ln]
        return [*body, ",".join(cells), ""]

    _edit(csmar / "FS_Comins.csv", "gb18030", restate)
    _edit(
        csmar / "EN_EquityNatureAll.csv",
        "utf-8",
        lambda ls: [*ls[:4], ",".join([*ls[4].split(",")[:2], "9"]), *ls[5:]],
    )  # file line 5
    (csmar / "QUA_Qualification.csv").unlink()
    (raw / "reports" / "000002-2015.txt").write_text("年度报告", encoding="utf-8")
    return raw


def _by(report: check.CheckReport, table: str, severity: str = "blocking") -> list[check.Problem]:
    return [p for p in report.problems if p.table == table and p.severity == severity]


def test_every_problem_of_a_folder_is_reported_at_once(synthetic, tmp_path):
    report = _run(_bad_folder(synthetic, tmp_path))
    assert sorted(p.table for p in report.blocking) == [
        "EN_EquityNatureAll",
        "FS_Combas",
        "FS_Comins",
        "QUA_Qualification",
    ]
    (field,) = _by(report, "FS_Combas")
    assert field.field == "A001000000" and "lacks field" in field.message
    assert "did you mean A001000000X" in field.fix and "csmar.FS_Combas" in field.fix
    (dup,) = _by(report, "FS_Comins")
    assert "duplicate keys" in dup.message
    n_lines = len((tmp_path / "raw/csmar/FS_Comins.csv").read_bytes().rstrip(b"\n").split(b"\n"))
    assert dup.rows == f"4, {n_lines}"  # the first data line and the appended restatement
    (code,) = _by(report, "EN_EquityNatureAll")
    assert code.field == "EquityNatureID" and code.rows == "5" and "['9']" in code.message
    assert "csmar.EN_EquityNatureAll.codes.equity_nature.map" in code.fix
    (missing,) = _by(report, "QUA_Qualification")
    assert "not found" in missing.message and "csmar.QUA_Qualification.file" in missing.fix
    assert "FS_Combas.csv" in missing.message  # the names that are there
    (name,) = [p for p in _by(report, "reports", "warning") if "does not match" in p.message]
    assert name.file.endswith("000002-2015.txt") and "rename" in name.fix
    # the tables left intact are read to the end: rows and years
    ok = {t.table: t for t in report.tables}
    assert ok["FS_Comscfd"].status == "ok" and ok["FS_Comscfd"].years == (2009, 2019)
    assert ok["QUA_Qualification"].status == "missing" and ok["FS_Comins"].status == "unreadable"


def test_several_problems_in_one_table_are_all_reported(synthetic, tmp_path):
    """A renamed field does not hide an unmapped statement type in the same file: the table is read again
    without the missing field."""
    raw = _copy(synthetic, tmp_path)
    path = raw / "csmar/FS_Combas.csv"

    def edit(ls):
        cells = ls[5].split(",")
        cells[2] = "Z"
        return [ls[0].replace("A002000000", "A00200000"), *ls[1:5], ",".join(cells), *ls[6:]]

    _edit(path, "utf-8", edit)
    found = _by(_run(raw), "FS_Combas")
    assert [p.field for p in found] == ["A002000000", "Typrep"]
    assert found[1].rows == "6" and "['Z']" in found[1].message
    assert "csmar.FS_Combas.codes.Typrep.map" in found[1].fix


def test_clean_synthetic_data_has_no_blocking_problem(synthetic):
    report = _run(synthetic)
    assert report.blocking == []
    assert [t.status for t in report.tables] == ["ok"] * len(report.tables)
    assert [t.table for t in report.tables] == [
        *_config()["csmar"],
        "ifr_robots",
        "employment_base",
        "reports",
    ]
    # no table misses a sample year, and the report counts are those written
    assert not [p for p in report.problems if p.severity == "warning"]
    per_year = [p.message for p in report.problems if p.table == "reports" and p.message[:4].isdigit()]
    assert per_year == [f"{y}: 1 file(s) (txt 1)" for y in range(2011, 2020)]
    rows = {t.table: t.rows for t in report.tables}
    assert rows["FS_Combas"] == len(
        io.load_table(synthetic / "csmar/FS_Combas.csv", _config()["csmar"]["FS_Combas"], "FS_Combas")
    )


def test_years_not_covered_are_a_warning_naming_the_years(synthetic):
    cfg = _config()
    cfg["sample"]["first_year"], cfg["sample"]["last_year"] = 2011, 2021
    report = _run(synthetic, cfg)
    assert report.blocking == []
    combas = [p for p in _by(report, "FS_Combas", "warning")]
    assert len(combas) == 1 and "no rows for sample year(s) 2020–2021" in combas[0].message
    assert "sample.last_year" in combas[0].fix
    assert "2020–2021" in _by(report, "reports", "warning")[0].message


def test_yte_config_files_are_flagged(tmp_path, synthetic):
    plain = tmp_path / "plain.yaml"
    plain.write_text("raw_dir: ''\n# __use_yte__: true would make this code\n", encoding="utf-8")
    yte = tmp_path / "yte.yaml"
    yte.write_text("seed: 1\n__use_yte__: true\nraw_dir: ?f'{1}'\n", encoding="utf-8")
    flagged = check.flag_code_configs([plain, yte, tmp_path / "absent.yaml"])
    assert [(p.severity, p.file, p.rows) for p in flagged] == [("warning", str(yte), "2")]
    assert "as trusted as the Snakefile" in flagged[0].message
    report = _run(synthetic, config_files=[plain, yte])
    assert [p.file for p in report.problems if p.table == "config"] == [str(yte)]
    assert report.blocking == []


def _job(tmp_path: Path, raw: Path) -> Job:
    cfg = _config()
    return Job(
        input={"config_files": [str(ROOT / "config/config.yaml")]},
        output={"md": str(tmp_path / "out/data_report.md"), "csv": str(tmp_path / "out/data_report.csv")},
        params={"raw_dir": str(raw), "reports": str(raw / "reports")},
        config={"csmar": cfg["csmar"], "ifr": cfg["ifr"], "sample": cfg["sample"]},
        rule="check_data",
    )


def _check_report(data_job: Job) -> None:
    """The `check` rule's step on the report that `data_job` (a check_data job) wrote."""
    steps.check(
        Job(
            input={"md": data_job.output["md"], "csv": data_job.output["csv"]},
            output={},
            params={},
            config={},
            rule="check",
        )
    )


def test_steps_write_the_report_and_fail_only_on_blocking_problems(synthetic, tmp_path, capfd):
    bad = _bad_folder(synthetic, tmp_path)
    job = _job(tmp_path, bad)
    steps.check_data(job)  # finds problems, never fails on them
    df = pd.read_csv(job.output["csv"], dtype=str, keep_default_na=False)
    assert list(df.columns) == list(check.COLUMNS)
    assert (df["severity"] == "blocking").sum() == 4 and df["severity"].iloc[:4].eq("blocking").all()
    md = Path(job.output["md"]).read_text(encoding="utf-8")
    assert "4 blocking" in md and "| QUA_Qualification | missing |" in md
    with pytest.raises(InputError, match="4 blocking problem"):
        _check_report(job)
    assert "[blocking] FS_Combas" in capfd.readouterr().err
    clean = _job(tmp_path / "clean", synthetic)
    steps.check_data(clean)
    _check_report(clean)  # no blocking problem: no error
    assert "0 blocking" in capfd.readouterr().err


@pytest.mark.e2e
def test_snakemake_check_on_user_data_exits_non_zero_after_writing_the_report(synthetic, tmp_path):
    from intelcap.workflow.scratch import copy_workflow

    bad = _bad_folder(synthetic, tmp_path)
    work = copy_workflow(ROOT, tmp_path / "wf")
    cmd = snakemake_cmd(
        "--directory",
        str(work),
        "--snakefile",
        str(work / "Snakefile"),
        "check",
        "--config",
        f"raw_dir={bad}",
        cores=1,
    )
    proc = run(cmd, work)
    assert proc.returncode != 0
    assert "4 blocking" in proc.stderr and "[blocking] QUA_Qualification" in proc.stderr
    df = pd.read_csv(work / "results/check/data_report.csv", dtype=str, keep_default_na=False)
    assert sorted(df.loc[df["severity"] == "blocking", "table"]) == [
        "EN_EquityNatureAll",
        "FS_Combas",
        "FS_Comins",
        "QUA_Qualification",
    ]
    (bad / "csmar/QUA_Qualification.csv").write_bytes(
        (synthetic / "csmar/QUA_Qualification.csv").read_bytes()
    )
    for name in ("FS_Combas.csv", "FS_Comins.csv", "EN_EquityNatureAll.csv"):
        (bad / "csmar" / name).write_bytes((synthetic / "csmar" / name).read_bytes())
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=work)  # fixed: the check reruns, exit 0
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "0 blocking" in proc.stderr


def test_units_are_reported_and_a_unit_outside_the_list_is_blocking(synthetic, tmp_path):
    raw = _copy(synthetic, tmp_path)
    _edit(raw / "csmar/FS_Combas.csv", "utf-8", lambda ls: [*ls[:2], ls[2].replace("元", "万元"), *ls[3:]])
    _edit(raw / "csmar/FS_Comscfd.txt", "utf-8", lambda ls: [*ls[:2], ls[2].replace("元", "美元"), *ls[3:]])
    report = _run(raw)
    units = {t.table: t.units for t in report.tables}
    assert units["FS_Combas"].startswith("units row: A001000000 万元, A001212000 万元, A002000000 万元; ")
    assert "total_assets given in 万元: converted to 元" in units["FS_Combas"]
    (bad,) = report.blocking
    assert (bad.table, bad.field, bad.rows) == ("FS_Comscfd", "C001020000", "3") and "'美元'" in bad.message
    assert "csmar.FS_Comscfd.units.cash_paid_employees" in bad.fix
