"""intelcap as a wheel: built from the repository, installed (not editable) into a fresh venv, used from a folder
outside the repository.

What this proves:
* the wheel is complete for library use: the shipped files (labels, IFR figures, schema) that are symlinks in
  src/intelcap/data are real files in the wheel, and `intelcap.resources.shipped` finds them, the keyword
  dictionary and the CJK font inside site-packages, from any working directory, with no checkout on sys.path;
* `regression_table` from the installed copy gives the numbers the checkout gives;
* the workflow runs with an interpreter whose intelcap is that non-editable install (no editable install or
  PYTHONPATH needed). Its jobs still import the workflow checkout's own src, by design (scripts/run_step.py,
  enforced in every job by `runner.check_own_code`): the code Snakemake tracks as a rule's input is the code
  that runs, and the installed copy cannot shadow it. The wheel alone does not carry the workflow (Snakefile,
  rules/, config/): that is a checkout, copied here with `copy_workflow`.

The venv uses `--system-site-packages` for the dependencies (the wheel is installed with --no-deps, offline);
its own site-packages comes before the system one on sys.path, so the wheel's intelcap wins over the
developer's editable install.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from _factories import small_workflow, snakemake_cmd

from intelcap.econometrics import estimate

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
LINKED = {
    "labels.yaml": ROOT / "config" / "labels.yaml",
    "ifr_global_installations.csv": ROOT / "config" / "ifr_global_installations.csv",
    "config.schema.yaml": ROOT / "schemas" / "config.schema.yaml",
}
# what the build reads: the packaging files, the package, and the targets of src/intelcap/data's symlinks
BUILD_INPUTS = ("pyproject.toml", "README.md", "LICENSE", "src", "config", "schemas")

LIBRARY_CHECK = r"""
import hashlib, json, sys, sysconfig
from pathlib import Path
import intelcap
light = not any(m in sys.modules for m in ("pandas", "pyfixest"))
import pandas as pd
from intelcap import ModelSpec, regression_table, shipped
from intelcap.measures.text import load_keywords
from intelcap.outputs.fonts import cjk_font_path
from intelcap.outputs.tables import load_labels
from intelcap.workflow.config import load_schema

site = Path(sysconfig.get_paths()["purelib"]).resolve()
font = cjk_font_path()
df = pd.read_csv(sys.argv[1], dtype={"gvkey": str})
res = regression_table(df, [ModelSpec("(1)", "y", ["x"], fe=["gvkey", "fyear"])], ["w"], cluster="gvkey")
print(json.dumps({
    "file": intelcap.__file__, "site": str(site), "light": light,
    "shipped": {n: str(shipped(n)) for n in ("labels.yaml", "ifr_global_installations.csv", "config.schema.yaml",
                                              "paper_keywords.yaml")},
    "labels": load_labels(), "keywords": {k: list(v) for k, v in load_keywords().categories.items()},
    "schema": load_schema(), "font": str(font), "font_sha256": hashlib.sha256(font.read_bytes()).hexdigest(),
    "table": res[["term", "estimate", "std_error", "nobs", "n_clusters"]].to_dict("list"),
}))
"""


def _clean_env(venv: Path) -> dict[str, str]:
    """The venv's interpreter first on PATH; no PYTHONPATH (it would put a checkout's src before the wheel)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "INTELCAP_LABELS", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f"{' '.join(map(str, cmd))} failed in {cwd}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc.stdout


def _panel(seed: int = 4, firms: int = 40, years: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for f in range(firms):
        a = rng.normal()
        for t in range(years):
            x, w = rng.normal() + 0.3 * a, rng.normal()
            rows.append(
                {
                    "gvkey": f"{1000 + f:06d}",
                    "fyear": 2001 + t,
                    "x": x,
                    "w": w,
                    "y": 0.4 * x - 0.1 * w + a + 0.05 * t + rng.normal(),
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> tuple[Path, Path]:
    """(the wheel, a venv with it installed)."""
    tmp = tmp_path_factory.mktemp("wheel")
    # build from a copy: setuptools writes build/ and *.egg-info into the source tree it builds, and a stale
    # build/lib of an earlier build would leak deleted modules into the wheel
    tree = tmp / "tree"
    tree.mkdir()
    for name in BUILD_INPUTS:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(
                src, tree / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            shutil.copy2(src, tree / name)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp / "dist"), str(tree)], cwd=tmp)
    (wheel,) = (tmp / "dist").glob("intelcap-*.whl")
    env_dir = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(env_dir)], cwd=tmp)
    _run(
        [
            str(env_dir / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--force-reinstall",
            str(wheel),
        ],
        cwd=tmp,
        env=_clean_env(env_dir),
    )
    return wheel, env_dir


def test_wheel_holds_the_shipped_files_as_real_files(venv):
    wheel, _ = venv
    with zipfile.ZipFile(wheel) as z:
        info = {i.filename: i for i in z.infolist()}
        for name, target in LINKED.items():
            entry = info[f"intelcap/data/{name}"]
            mode = entry.external_attr >> 16
            assert not (mode & 0o170000) == 0o120000, f"{name} is a symlink in the wheel"
            assert z.read(entry) == target.read_bytes(), f"{name} in the wheel differs from {target}"
        for name in ("paper_keywords.yaml", "NotoSansSC-subset.ttf", "OFL.txt"):
            assert z.read(f"intelcap/data/{name}") == (ROOT / "src" / "intelcap" / "data" / name).read_bytes()
        assert "intelcap/econometrics/estimate.py" in info and "intelcap/workflow/steps/tables.py" in info
        # the registry's table (pyproject.toml package-data): without it intelcap.workflow.registry cannot import
        table = ROOT / "src" / "intelcap" / "workflow" / "rules.yaml"
        assert z.read("intelcap/workflow/rules.yaml") == table.read_bytes()


def test_installed_library_works_outside_the_repository(venv, tmp_path):
    _, env_dir = venv
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    panel = _panel()
    panel.to_csv(outside / "panel.csv", index=False)
    out = _run(
        [str(env_dir / "bin" / "python"), "-c", LIBRARY_CHECK, "panel.csv"],
        cwd=outside,
        env=_clean_env(env_dir),
    )
    got = json.loads(out)
    site = Path(got["site"])
    assert site.is_relative_to(env_dir.resolve()), got["site"]
    assert Path(got["file"]).resolve() == site / "intelcap" / "__init__.py"
    assert got["light"], "import intelcap loaded pandas or pyfixest"
    for name, path in got["shipped"].items():
        p = Path(path)
        assert p.resolve().parent == site / "intelcap" / "data" and not p.is_symlink(), (name, path)
    assert got["labels"] == yaml.safe_load(LINKED["labels.yaml"].read_text(encoding="utf-8"))
    paper = yaml.safe_load(
        (ROOT / "src" / "intelcap" / "data" / "paper_keywords.yaml").read_text(encoding="utf-8")
    )
    assert set(got["keywords"]) == set(paper["categories"]) and sum(map(len, got["keywords"].values())) > 10
    assert got["schema"] == yaml.safe_load(LINKED["config.schema.yaml"].read_text(encoding="utf-8"))
    assert Path(got["font"]).resolve().parent == site / "intelcap" / "data"
    font = ROOT / "src" / "intelcap" / "data" / "NotoSansSC-subset.ttf"
    assert got["font_sha256"] == hashlib.sha256(font.read_bytes()).hexdigest()
    # the installed copy's numbers are the checkout's
    ref = estimate.regression_table(
        panel.astype({"gvkey": str}),
        [estimate.ModelSpec("(1)", "y", ["x"], fe=["gvkey", "fyear"])],
        ["w"],
        cluster="gvkey",
    )
    assert got["table"]["term"] == list(ref["term"]) == ["x", "w", "_cons"]
    for col in ("estimate", "std_error"):
        np.testing.assert_allclose(got["table"][col], ref[col].to_numpy(float), rtol=1e-12, atol=1e-14)
    assert got["table"]["nobs"][0] == 200 and got["table"]["n_clusters"][0] == 40


def test_workflow_runs_under_the_installed_wheel(venv, tmp_path):
    _, env_dir = venv
    work = small_workflow(tmp_path / "workflow")
    _run(
        snakemake_cmd(
            "--configfile",
            "config/config.yaml",
            "small.yaml",
            "--",
            "results/tables/table2.csv",
            python=env_dir / "bin" / "python",
        ),
        cwd=work,
        env=_clean_env(env_dir),
        timeout=900,
    )
    table = pd.read_csv(work / "results" / "tables" / "table2.csv")
    lnint = table[table["term"] == "lnINT"]
    assert len(lnint) == table["model"].nunique() >= 2
    assert np.isfinite(lnint["estimate"]).all() and (lnint["std_error"] > 0).all()
    # each job checked it ran the copy's own src (runner.check_own_code) and logged the modules it ran
    log = (work / "logs" / "table2.log").read_text(encoding="utf-8")
    assert "rule regression_table ran intelcap modules:" in log and "econometrics.estimate" in log
