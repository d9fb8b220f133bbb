"""The workflow used as a Snakemake `module` from another folder (issue 15): another project includes it, renames
its rules with a prefix, and the DAG builds, with the module's own schema, code and rules files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rebuild import ROOT, snakemake

pytestmark = pytest.mark.e2e


def test_workflow_works_as_a_snakemake_module(tmp_path: Path) -> None:
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text(encoding="utf-8"))
    # the including project's config: the module's shipped config files by absolute path
    paths = {k: str(ROOT / v) for k, v in cfg["paths"].items()}
    (tmp_path / "paths.yaml").write_text(yaml.safe_dump({"paths": paths}), encoding="utf-8")
    (tmp_path / "Snakefile").write_text(
        f'configfile: "{ROOT / "config/config.yaml"}"\n'
        'configfile: "paths.yaml"\n\n\n'
        "module intelcap:\n"
        f'    snakefile:\n        "{ROOT / "Snakefile"}"\n'
        "    config:\n        config\n\n\n"
        "use rule * from intelcap as intelcap_*\n",
        encoding="utf-8",
    )
    proc = snakemake(tmp_path, "-n", "intelcap_all")
    out = proc.stdout + proc.stderr
    for rule in (
        "intelcap_synthesize",
        "intelcap_regression_table",
        "intelcap_render_table",
        "intelcap_provenance",
    ):
        assert rule in out, out[-3000:]
    assert not (tmp_path / "schemas").exists()  # nothing of the module is looked up in the including folder
