"""Provenance manifest: streaming hashes, deterministic content, change warning, no git needed."""

from __future__ import annotations

import json

from intelcap.workflow import manifest


def _raw(tmp):
    (tmp / "raw/csmar").mkdir(parents=True)
    (tmp / "raw/reports").mkdir()
    (tmp / "raw/csmar/FS_Combas.csv").write_text("Stkcd,Accper\n000001,2015-12-31\n")
    for i in range(3):
        (tmp / f"raw/reports/00000{i}_2015.txt").write_text(f"report {i}")
    (tmp / "raw/reports/.000009_2015.txt.abcdefgh.tmp").write_text("partial")  # hidden temp: skipped
    (tmp / "config.yaml").write_text("seed: 1\n")
    return [tmp / "raw/csmar/FS_Combas.csv", tmp / "raw/reports"], [tmp / "config.yaml"]


def test_manifest_content_and_determinism(tmp_path, capfd):
    raw, cfg = _raw(tmp_path)
    config = {"seed": 7, "cu": {"method": "sfa_bc92"}}
    out1, out2 = tmp_path / "m1.json", tmp_path / "m2.json"
    manifest.write_manifest(out1, raw, cfg, config, base=tmp_path, commit=None)
    manifest.write_manifest(
        out2, raw, cfg, {"cu": {"method": "sfa_bc92"}, "seed": 7}, base=tmp_path, commit=None
    )
    assert out1.read_bytes() == out2.read_bytes()  # no timestamps; config hash independent of key order
    m = json.loads(out1.read_text())
    assert sorted(m["raw_inputs"]) == ["raw/csmar/FS_Combas.csv"] + [
        f"raw/reports/00000{i}_2015.txt" for i in range(3)
    ]
    assert m["raw_inputs"]["raw/csmar/FS_Combas.csv"]["sha256"] == manifest.sha256_file(raw[0])
    assert m["seeds"] == {"seed": 7} and m["git_commit"] is None
    assert set(manifest.PACKAGES) <= set(m["packages"]) and m["packages"]["pandas"]
    assert "config.yaml" in m["config_files"]
    assert capfd.readouterr().err == ""  # first manifest: nothing to warn about


def test_changed_file_warns_but_does_not_fail(tmp_path, capfd, caplog):
    raw, cfg = _raw(tmp_path)
    target = tmp_path / "results/manifest.json"
    manifest.write_manifest(target, raw, cfg, {"seed": 1}, base=tmp_path)
    (tmp_path / "raw/reports/000001_2015.txt").write_text("restated report")
    (tmp_path / "raw/reports/000002_2015.txt").unlink()
    # Snakemake deletes a job's output before running it: the hidden copy still holds the previous manifest
    target.unlink()
    diff = manifest.write_manifest(target, raw, cfg, {"seed": 1}, base=tmp_path)
    assert diff == {
        "changed": ["raw/reports/000001_2015.txt"],
        "added": [],
        "removed": ["raw/reports/000002_2015.txt"],
    }
    err = capfd.readouterr().err
    assert "raw/reports/000001_2015.txt" in err and "intelcap warning" in err
    assert "raw/reports/000001_2015.txt" in caplog.text
    assert target.exists()


def test_git_commit_is_none_outside_a_repository(tmp_path):
    assert manifest.git_commit(tmp_path) is None


def test_streaming_hash_of_a_large_file(tmp_path):
    import hashlib

    big = tmp_path / "big.bin"
    data = b"x" * (3 * manifest.CHUNK + 17)
    big.write_bytes(data)
    assert manifest.sha256_file(big) == hashlib.sha256(data).hexdigest()
