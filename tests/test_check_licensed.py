"""tools/check_licensed.py on a throw-away git repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "check_licensed.py"
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def run(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), "--repo", str(repo), *args], capture_output=True, text=True)


@pytest.fixture()
def repo(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "config").mkdir()
    (tmp_path / "config/crosswalk.csv").write_text("csrc,ifr\nC13,10-12\n")
    (tmp_path / "README.md").write_text("Stkcd,Accper,A001000000 are CSMAR codes\n")
    (tmp_path / "small_ifr.csv").write_text("country,industry,year,installations\nCHN,10-12,2015,1\n")
    git(tmp_path, "add", ".")
    return tmp_path


def test_clean_repository_passes(repo):
    proc = run(repo)
    assert proc.returncode == 0, proc.stderr


def test_vendor_tables_and_row_level_files_fail_with_names(repo):
    (repo / "FS_Combas.csv").write_text("Stkcd,Accper,Typrep,A001000000\n000001,2015-12-31,A,1\n")
    (repo / "gov.txt").write_text("Stkcd\tReptdt\tY0601b\n000001\t2015-12-31\t10\n", encoding="gb18030")
    rows = "\n".join(f"CHN,10-12,{y},1,2" for y in range(1990, 2020))
    (repo / "robots.csv").write_text("country,industry,year,installations,operational_stock\n" + rows + "\n")
    (repo / "panel.parquet").write_bytes(b"PAR1")
    (repo / "results/tables").mkdir(parents=True)
    (repo / "results/tables/table2.csv").write_text("model,term\n")
    (repo / "untracked_FS_Comins.csv").write_text("Stkcd,Accper,B001101000\n000001,2015-12-31,1\n")
    git(repo, "add", "FS_Combas.csv", "gov.txt", "robots.csv", "panel.parquet", "results/tables/table2.csv")
    proc = run(repo)
    assert proc.returncode == 1
    for name in ("FS_Combas.csv", "gov.txt", "robots.csv", "panel.parquet", "results/tables/table2.csv"):
        assert name in proc.stderr, proc.stderr
    assert "untracked_FS_Comins.csv" not in proc.stderr  # only tracked (staged) files count
    assert "small_ifr.csv" not in proc.stderr and "README.md" not in proc.stderr


def test_allowlist_skips_fixtures(repo):
    (repo / "tests/fixtures").mkdir(parents=True)
    (repo / "tests/fixtures/FS_Combas.csv").write_text("Stkcd,Accper,A001000000\n000001,2015-12-31,1\n")
    git(repo, "add", ".")
    assert run(repo).returncode == 1
    (repo / "tools").mkdir()
    (repo / "tools/licensed_allowlist.txt").write_text("tests/fixtures/*.csv  # synthetic, 1 row\n")
    assert run(repo).returncode == 0
    assert run(repo, "--allowlist", str(repo / "nonexistent")).returncode == 1


def test_not_a_repository_exits_2(tmp_path):
    proc = run(tmp_path)
    assert proc.returncode == 2 and "cannot list tracked files" in proc.stderr
