"""The synthetic-data generator writes only into a folder it created (marker file) and refuses any other."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
import yaml

from intelcap import owned_dir
from intelcap.errors import InputError
from intelcap.synthetic import dgp as synth

ROOT = Path(__file__).resolve().parents[1]
CROSSWALK = pd.read_csv(ROOT / "config" / "crosswalk_csrc_ifr.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def config() -> dict:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    cfg["synth"] = {**cfg.get("synth", {}), "n_firms": 25}
    return cfg


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every entry under a folder: content hash (or 'dir') and mtime in ns."""
    out = {}
    for p in sorted(folder.rglob("*")):
        key = p.relative_to(folder).as_posix()
        out[key] = ("dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
    return out


@pytest.fixture()
def user_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "my_data"
    (folder / "csmar").mkdir(parents=True)
    (folder / "csmar" / "FS_Combas.csv").write_text("Stkcd,Accper,A001000000\n000001,2015-12-31,1\n")
    (folder / "reports").mkdir()
    (folder / "reports" / "000001_2015.txt").write_text("我的年报\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("writer", [synth.write_vendor_files, synth.write_report_corpus, synth.write_all])
def test_user_folder_is_refused_and_untouched(user_folder, config, writer):
    before = snapshot(user_folder)
    with pytest.raises(InputError) as err:
        writer(config, user_folder, CROSSWALK)
    msg = str(err.value)
    assert str(user_folder) in msg and "synthetic_dir" in msg and owned_dir.MARKER in msg
    assert "csmar/FS_Combas.csv" in msg and "reports/000001_2015.txt" in msg
    assert snapshot(user_folder) == before  # nothing written, overwritten, deleted or touched


def test_missing_folder_is_created_with_marker(tmp_path, config):
    out = tmp_path / "new" / "synthetic"
    synth.write_all(config, out, CROSSWALK)
    assert (out / owned_dir.MARKER).read_text(encoding="utf-8") == owned_dir.MARKER_TEXT
    assert (out / "csmar" / config["csmar"]["FS_Combas"]["file"]).is_file()
    assert (out / "truth.json").is_file() and any((out / "reports").iterdir())


def test_empty_folder_and_snakemakes_empty_subfolders_are_claimed(tmp_path, config):
    out = tmp_path / "synthetic"
    (out / "csmar").mkdir(parents=True)  # Snakemake creates the output folders before the job starts
    (out / "ifr").mkdir()
    synth.write_vendor_files(config, out, CROSSWALK)
    assert (out / owned_dir.MARKER).is_file() and (out / "truth.json").is_file()


def test_marked_folder_is_regenerated(tmp_path, config):
    out = tmp_path / "synthetic"
    synth.write_all(config, out, CROSSWALK)
    first = snapshot(out)
    (out / "reports" / "stale_999999_2030.txt").write_text("from an older run\n")
    (out / "truth.json").write_text("{}\n")
    synth.write_all(config, out, CROSSWALK)
    assert not (out / "reports" / "stale_999999_2030.txt").exists()  # the reports folder is replaced
    again = snapshot(out)
    assert {k: v[0] for k, v in again.items()} == {k: v[0] for k, v in first.items()}  # same bytes


def test_parallel_jobs_may_both_claim_a_new_folder(tmp_path):
    out = tmp_path / "synthetic"
    assert owned_dir.claim_output_dir(out) == out
    (out / "csmar").mkdir()
    (out / "csmar" / ".FS_Combas.csv.tmp").write_text("half written by the other job")
    assert owned_dir.claim_output_dir(out) == out  # marked: the second job writes too
    assert (out / owned_dir.MARKER).read_text(encoding="utf-8") == owned_dir.MARKER_TEXT


def test_a_folder_claimed_by_the_other_job_during_the_check_is_accepted(tmp_path, monkeypatch):
    """The race of the two parallel synthesize jobs: job B creates the folder and its marker after job A saw no
    marker but before A listed the folder, which then holds B's marker (and its first files)."""
    out = tmp_path / "synthetic"
    out.mkdir()
    listing = owned_dir._holds_files

    def other_job_claims_meanwhile(folder):
        (folder / owned_dir.MARKER).write_text(owned_dir.MARKER_TEXT, encoding="utf-8")  # job B's claim
        (folder / "csmar").mkdir(exist_ok=True)
        (folder / "csmar" / "FS_Combas.csv").write_text("B's first file")
        return listing(folder)

    monkeypatch.setattr(owned_dir, "_holds_files", other_job_claims_meanwhile)
    owned_dir.check_output_dir(out)  # job A: the folder is the generator's now
    monkeypatch.setattr(owned_dir, "_holds_files", listing)
    (out / owned_dir.MARKER).unlink()  # the same files without a marker are still refused
    with pytest.raises(InputError, match="no .intelcap-synthetic marker"):
        owned_dir.check_output_dir(out)


def test_check_output_dir_touches_nothing(user_folder, tmp_path):
    before = snapshot(user_folder)
    with pytest.raises(InputError, match="synthetic_dir"):
        owned_dir.check_output_dir(user_folder)
    assert snapshot(user_folder) == before
    owned_dir.check_output_dir(tmp_path / "absent")
    assert not (tmp_path / "absent").exists()


def test_symlinked_folder_or_marker_is_refused(tmp_path, user_folder):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(InputError, match="not a plain folder"):
        owned_dir.claim_output_dir(link)
    (tmp_path / "fake_marker").write_text("x")
    (user_folder / owned_dir.MARKER).symlink_to(tmp_path / "fake_marker")
    with pytest.raises(InputError, match="no .intelcap-synthetic marker"):
        owned_dir.claim_output_dir(user_folder)


def test_a_symlinked_reports_folder_is_not_replaced(tmp_path, config):
    out = owned_dir.claim_output_dir(tmp_path / "synthetic")
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "keep.txt").write_text("keep\n")
    (out / "reports").symlink_to(theirs, target_is_directory=True)
    with pytest.raises(InputError, match="not a plain folder"):
        synth.write_report_corpus(config, out, CROSSWALK)
    assert (theirs / "keep.txt").read_text() == "keep\n"
