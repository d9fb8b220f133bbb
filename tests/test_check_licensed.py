"""tools/check_licensed.py: the licensed-data guard judges content (disguised vendor tables), reads the index."""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import lzma
import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from intelcap.synthetic import dgp as synth

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "check_licensed.py"
HOOK = ROOT / "tools" / "pre-commit"
CROSSWALK = pd.read_csv(ROOT / "config" / "crosswalk_csrc_ifr.csv", dtype=str, keep_default_na=False)
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")

_spec = importlib.util.spec_from_file_location("check_licensed", TOOL)
guard = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(guard)


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
    )


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def world() -> dict[str, pd.DataFrame]:
    return synth.generate(synth.SynthParams(n_firms=30, reports=False, seed=5), CROSSWALK)


def csmar_file(tmp: Path, df: pd.DataFrame, name: str, **opts) -> bytes:
    path = tmp / "_src" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    synth.write_csmar(df, path, **opts)
    return path.read_bytes()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _tar_bz2(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _parquet(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def _sqlite(df: pd.DataFrame) -> bytes:
    con = sqlite3.connect(":memory:")
    df.to_sql("t1", con, index=False)
    data = con.serialize()
    con.close()
    return data


def _markdown(df: pd.DataFrame) -> bytes:
    lines = ["# Notes", "", "| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return ("\n".join(lines) + "\n\nSee above.\n").encode()


def disguises(tmp: Path, world: dict[str, pd.DataFrame]) -> dict[str, tuple[bytes, str]]:
    """Path -> (bytes, a word the reason must contain): licensed or row-level data under other names."""
    combas, comins = world["FS_Combas"], world["FS_Comins"]
    plain = csmar_file(tmp, combas, "FS_Combas.csv")
    ifr = world["ifr_robots"]
    panel = world["_truth"][["Stkcd", "year", "lnINT", "u", "lnCU_true"]].rename(columns={"Stkcd": "firm"})
    chinese = combas.rename(
        columns={
            "Stkcd": "证券代码",
            "Accper": "会计期间",
            "Typrep": "报表类型",
            "A001000000": "资产总计",
            "A001212000": "固定资产净额",
            "A002000000": "负债合计",
        }
    )
    lower = combas.rename(columns=str.lower)
    wide_ifr = ifr.pivot(
        index=["country", "industry"], columns="year", values="operational_stock"
    ).reset_index()
    wide_firm = (
        comins.assign(year=comins["Accper"].str[:4])
        .pivot_table(index="Stkcd", columns="year", values="B001101000", aggfunc="first")
        .reset_index()
    )
    wide_firm.columns = ["id"] + [f"y{c}" for c in wide_firm.columns[1:]]
    buf = io.BytesIO()
    combas.reset_index(drop=True).to_feather(buf)
    feather = buf.getvalue()
    buf = io.BytesIO()
    panel.to_stata(buf, write_index=False, version=118)
    stata = buf.getvalue()
    xlsx = csmar_file(tmp, world["CG_Ybasic"], "CG_Ybasic.xlsx", ids_as_numbers=True)
    sql = "".join(
        f"INSERT INTO fs VALUES ('{r.Stkcd}', '{r.Accper}', {r.A001000000:.2f});\n"
        for r in combas.itertuples()
    )
    html = (
        "<table>"
        + "".join(
            f"<tr><td>{r.Stkcd}</td><td>{r.Accper}</td><td>{r.A001000000:.0f}</td></tr>"
            for r in combas.itertuples()
        )
        + "</table>"
    )
    numeric_ids = panel.rename(columns={"firm": "Stkcd"}).assign(Stkcd=lambda d: d["Stkcd"].astype(int))
    return {
        "data/FS_Combas.csv": (plain, "CSMAR field codes"),
        "notes/balance.dat": (combas.to_string(index=False).encode(), "CSMAR field codes"),
        "backup/FS_Combas.csv.gz": (gzip.compress(plain, mtime=0), "gzip"),
        "backup/bundle.zip": (_zip({"inner/FS_Combas.csv": plain}), "zip member inner/FS_Combas.csv"),
        "cache/model.bin": (_parquet(combas), "parquet"),
        "cache/frame.pkl.cache": (pickle.dumps(combas), "pickle"),
        "web/records.json": (combas.to_json(orient="records").encode(), "JSON"),
        "web/split.json": (lower.to_json(orient="split", index=False).encode(), "JSON"),
        "web/rows.jsonl": (comins.to_json(orient="records", lines=True).encode(), "JSON"),
        "db/notes.idx": (_sqlite(comins), "SQLite"),
        "docs/appendix.md": (_markdown(combas.head(40)), "CSMAR field codes"),
        "results/analysis_panel.csv": (panel.to_csv(index=False).encode(), "firm-year"),
        "results/panel_numeric_ids.tsv": (numeric_ids.to_csv(index=False, sep="\t").encode(), "firm-year"),
        "raw/chinese_only.csv": (chinese.to_csv(index=False).encode("gb18030"), "Chinese"),
        "raw/utf16.txt": (plain.decode("utf-8-sig").encode("utf-16"), "CSMAR field codes"),
        "raw/utf16le_nobom.csv": (lower.to_csv(index=False).encode("utf-16-le"), "CSMAR field codes"),
        "raw/lower_codes.csv": (lower.to_csv(index=False).encode(), "CSMAR field codes"),
        "ifr/wide.csv": (wide_ifr.to_csv(index=False).encode(), "IFR-style robot table (wide)"),
        "ifr/long.txt": (ifr.to_csv(index=False, sep="\t").encode(), "IFR-style robot table (long)"),
        "ifr/long.csv.xz": (lzma.compress(ifr.to_csv(index=False).encode()), "IFR"),
        "sheets/export.tmp": (xlsx, "xlsx"),
        "cache/frame.arrow": (feather, "Arrow/feather"),
        "cache/panel.bak": (stata, "Stata"),
        "archive/nested.tar.bz2": (
            _tar_bz2({"a/b.zip": _zip({"c.csv.gz": gzip.compress(plain, mtime=0)})}),
            "bzip2 -> tar member a/b.zip: zip member c.csv.gz: gzip -> CSMAR",
        ),
        "wide/revenue_by_year.csv": (wide_firm.to_csv(index=False).encode(), "wide"),
        "dump/fs.sql": (sql.encode(), "firm-year"),
        "web/table.html": (html.encode(), "firm-year"),
    }


def test_every_disguise_is_flagged_with_path_and_reason(tmp_path, world):
    cases = disguises(tmp_path, world)
    assert len(cases) >= 18
    target = tmp_path / "tree"
    for rel, (data, _) in cases.items():
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        (target / rel).write_bytes(data)
    flagged = dict(guard.check_dir(target, []))
    missed = sorted(set(cases) - set(flagged))
    assert not missed, f"not flagged: {missed}"
    wrong = {rel: flagged[rel] for rel, (_, word) in cases.items() if word not in flagged[rel]}
    assert not wrong, wrong
    proc = run("--dir", str(target))
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()[1:]
    assert len(lines) == len(cases)
    for rel in cases:  # one line per file: its path, a colon, the reason
        assert any(line.startswith(f"  {rel}: ") and len(line) > len(rel) + 20 for line in lines), rel


def test_aggregated_outputs_pass(tmp_path):
    """The project's own results/tables kinds of output and tables of counts by year are no row-level data."""
    terms = ["lnINT", "ListAge", "Board", "Size", "ROA", "Lev", "Mfee", "Debcost", "Dual"]
    reg = pd.DataFrame(
        [
            {
                "model": f"({m})",
                "depvar": "lnCU",
                "term": t,
                "estimate": 0.01 * k,
                "std_error": 0.002,
                "nobs": 435120,
                "n_clusters": 54390,
                "fixed_effects": "Stkcd+year",
                "vcov": "CRV1:Stkcd",
            }
            for m in range(1, 7)
            for k, t in enumerate(terms)
        ]
    )
    cutoffs = pd.DataFrame(
        [
            {"variable": v, "year": y, "p_low": -0.1, "p_high": 0.2, "n_below": 100, "n_above": 99}
            for v in ("Size", "ROA", "Lev")
            for y in range(2011, 2020)
        ]
    )
    files = {
        "tables/table2.csv": reg.to_csv(index=False).encode(),
        "tables/table2.parquet": _parquet(reg),
        "tables/table2.json": reg.to_json(orient="records").encode(),
        "tables/winsor_cutoffs.csv": cutoffs.to_csv(index=False).encode(),
        "tables/table1.md": _markdown(
            pd.DataFrame({"variable": ["lnCU", "lnINT"], "n": [10035, 10035], "mean": [-0.17, -0.06]})
        ),
        "tables/text_unreadable.csv": b"file,status,reason\n002110_2016.pdf,unreadable,encrypted PDF\n"
        b"600536_2015.txt,unreadable,empty file\n",
        "tables/robots_by_industry.csv": (
            "industry,year,installations\n"
            + "".join(f"{j},{y},{100 + y}\n" for j in ("10-12", "13-15") for y in range(2011, 2021))
        ).encode(),
        "manifest.json": json.dumps(
            {
                f"data/synthetic/reports/{c:06d}_{y}.txt": {"sha256": "ab" * 32}
                for c in range(1, 40)
                for y in range(2011, 2020)
            },
            indent=2,
        ).encode(),
    }
    for name in (
        "crosswalk_csrc_ifr.csv",
        "regions.csv",
        "factor_intensity.csv",
        "ifr_global_installations.csv",
    ):
        files[f"config/{name}"] = (ROOT / "config" / name).read_bytes()
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    assert guard.check_dir(tmp_path, []) == []


def test_thresholds_on_hand_counted_tables():
    firms = ["000001", "000002", "600000", "300750"]
    rows = [["Stkcd", "year", "value"]] + [[f, str(y), "1.5"] for f in firms for y in range(2011, 2016)]
    reason = guard.judge_table(rows)  # 4 firms x 5 years = 20 firm-years: the threshold
    assert (
        reason == "row-level firm-year data: 20 distinct (stock code, year) pairs in columns 'Stkcd' and "
        "'year' (20 rows)"
    )
    assert guard.judge_table(rows[:-1]) is None  # 19 firm-years
    ifr = [["country", "industry", "year", "installations"]] + [
        ["CHN", j, str(y), "7"] for j in ("10-12", "29") for y in range(2000, 2011)
    ]
    assert guard.judge_table(ifr).endswith(", 22 rows")  # more than --ifr-max-rows (20)
    assert guard.judge_table(ifr[:21]) is None  # 20 rows
    assert guard.judge_table(ifr, ifr_max_rows=25) is None
    # a one-row vendor extract is still a vendor extract; the header alone (a data dictionary) is not
    assert guard.judge_table([["stkcd", "accper", "a001000000"], ["000001", "2015-12-31", "1"]]).startswith(
        "CSMAR field codes in a header row (stkcd, accper, a001000000) with 1 data row"
    )
    assert (
        guard.judge_table([["field", "meaning"], ["Stkcd", "stock code"], ["A001000000", "total assets"]])
        is None
    )


def test_unreadable_containers_fail_closed():
    assert "cannot be read" in guard.check_blob(b"PAR1 truncated")
    assert "cannot be decompressed" in guard.check_blob(b"\x1f\x8b\x08\x00garbage")
    assert "cannot be inspected" in guard.check_blob(b"\x89HDF\r\n\x1a\n" + bytes(100))
    assert guard.check_blob(pickle.dumps({"a": [1, 2, 3]})) is None  # plain data: read without running code
    assert "cannot be inspected without running it" in guard.check_blob(
        pickle.dumps(pd.DataFrame({"x": [1]}))
    )
    assert guard.check_blob(bytes(range(256)) * 4) is None  # unknown binary (fonts, images) is no table
    onion = b"x,y\n1,2\n"
    for _ in range(guard.MAX_DEPTH + 1):
        onion = gzip.compress(onion, mtime=0)
    assert guard.check_blob(onion).endswith(
        f"archive nested deeper than {guard.MAX_DEPTH} levels: cannot be checked"
    )


@needs_git
def test_current_repository_passes():
    proc = run("--repo", str(ROOT))
    assert proc.returncode == 0, proc.stderr


@pytest.fixture()
def repo(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "tools").mkdir()
    shutil.copy(TOOL, tmp_path / "tools" / "check_licensed.py")
    shutil.copy(HOOK, tmp_path / "tools" / "pre-commit")
    (tmp_path / "README.md").write_text("Stkcd,Accper,A001000000 are CSMAR codes\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "init")
    return tmp_path


@needs_git
def test_index_is_checked_not_the_working_copy(repo, world, tmp_path):
    plain = csmar_file(tmp_path, world["FS_Combas"], "FS_Combas.csv")
    (repo / "notes.dat").write_bytes(gzip.compress(plain, mtime=0))
    git(repo, "add", "notes.dat")
    (repo / "notes.dat").write_text("clean notes\n")  # the working copy hides what is staged
    (repo / "untracked.csv").write_bytes(plain)  # not staged: not committed, not checked
    for extra in ((), ("--staged",)):
        proc = run("--repo", str(repo), *extra)
        assert proc.returncode == 1, proc.stderr
        assert "notes.dat: gzip -> CSMAR field codes" in proc.stderr and "untracked" not in proc.stderr
    hook = repo / ".git" / "hooks" / "pre-commit"
    shutil.copy(repo / "tools" / "pre-commit", hook)
    hook.chmod(0o755)
    env = {**os.environ, "PYTHON": sys.executable}
    commit = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert commit.returncode != 0 and "notes.dat" in commit.stderr, commit.stderr
    git(repo, "add", "notes.dat")  # stage the clean version: now the commit goes through
    commit = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert commit.returncode == 0, commit.stderr


@needs_git
def test_allowlist_is_read_from_the_index(repo):
    (repo / "tests/fixtures").mkdir(parents=True)
    (repo / "tests/fixtures/FS_Combas.csv").write_text("Stkcd,Accper,A001000000\n000001,2015-12-31,1\n")
    git(repo, "add", ".")
    assert run("--repo", str(repo)).returncode == 1
    (repo / "tools/licensed_allowlist.txt").write_text("tests/fixtures/*.csv  # synthetic, 1 row\n")
    assert run("--repo", str(repo)).returncode == 1  # not staged yet
    git(repo, "add", "tools/licensed_allowlist.txt")
    assert run("--repo", str(repo)).returncode == 0
    assert run("--repo", str(repo), "--allowlist", str(repo / "nonexistent")).returncode == 1


def test_not_a_repository_exits_2(tmp_path):
    proc = run("--repo", str(tmp_path))
    assert proc.returncode == 2 and "cannot list tracked files" in proc.stderr
