"""Shared test factories: synthetic panels, the Snakemake command line and a subprocess runner.

Plain functions (not fixtures) so that tests, the bad-input corpus and scripts that tests start in a fresh
interpreter (tests/test_hashseed.py) can all call them; tests/ is on sys.path in each of those cases.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

# The FS_Combas spec of the reader tests: the vendor's field codes of the balance-sheet fields the panel uses.
COMBAS_SPEC = {
    "id": "Stkcd",
    "date": "Accper",
    "fields": {
        "Typrep": "Typrep",
        "total_assets": "A001000000",
        "fixed_assets": "A001212000",
        "total_liabilities": "A002000000",
    },
}


def unbalanced_panel(
    seed: int, firms: int, years: int, n_controls: int = 2, n_provinces: int = 5
) -> pd.DataFrame:
    """Unbalanced firm-year panel: x with an instrument z, controls w1..wK, subgroups SOE and Region (provinces
    P0 and P1 are East), errors heteroskedastic in the last control.

    Each firm draws its span of years, its effect, SOE and province; each firm-year z, then the controls."""
    rng = np.random.default_rng(seed)
    rows = []
    for f in range(firms):
        n = int(rng.integers(2, years + 1))
        first = int(rng.integers(0, years - n + 1))
        a, soe, prov = rng.normal(), int(rng.random() < 0.4), int(rng.integers(0, n_provinces))
        for t in range(first, first + n):
            z, w = rng.normal() + 0.1 * t, rng.normal(size=n_controls)
            x = 0.7 * z + 0.4 * a + 0.3 * w[0] + rng.normal()
            row = {"Stkcd": f"{600000 + f:06d}", "year": 2011 + t, "province": f"P{prov}", "SOE": soe}
            row.update(Region="East" if prov < 2 else "West", x=x, z=z)
            row.update({f"w{k + 1}": w[k] for k in range(n_controls)})
            noise = rng.normal() * (1 + abs(w[-1]))
            row["y"] = 0.05 * x - 0.2 * w[1] + a + 0.02 * t + (0.03 if soe else 0.0) * x + noise
            rows.append(row)
    return pd.DataFrame(rows)


def lnint_design(
    rng: np.random.Generator, nf: int, T: int, n_ind: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Balanced firm x year index arrays (firm, year 0..T-1, industry) and lnINT with the paper's structure: a
    firm constant plus an industry x year robot series (a random walk over the years)."""
    firm = np.repeat(np.arange(nf), T)
    yr = np.tile(np.arange(T), nf)
    ind = (np.arange(nf) % n_ind)[firm]
    g = rng.normal(size=(n_ind, T)).cumsum(1)
    lnint = rng.normal(size=nf)[firm] + g[ind, yr]
    return firm, yr, ind, lnint


def firm_years(n_firms: int, years: int) -> tuple[np.ndarray, pd.DataFrame]:
    """(firm number of each row, frame of Stkcd 600000.. x year 2011..): a balanced panel's keys."""
    firm = np.repeat(np.arange(n_firms), years)
    keys = pd.DataFrame(
        {
            "Stkcd": [f"{600000 + i:06d}" for i in firm],
            "year": np.tile(np.arange(2011, 2011 + years), n_firms),
        }
    )
    return firm, keys


def snakemake_cmd(*args: str, python: str | Path = sys.executable, cores: int | None = 2) -> list[str]:
    """`python -m snakemake --cores N args...` (no --cores with `cores=None`, as for --unlock): the command line
    of every test that runs the workflow."""
    return [str(python), "-m", "snakemake", *(["--cores", str(cores)] if cores else []), *args]


def run(cmd: list[str], cwd: Path, timeout: float | None = None, **kw) -> subprocess.CompletedProcess:
    """`cmd` in `cwd`, output captured as text; the caller checks the return code (and says what failed)."""
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, **kw)


def lncu_model(name: str = "(1)", regressors: tuple[str, ...] = ("lnINT",), fe=("Stkcd", "year"), **kw):
    """A model of lnCU without the control list (estimate.ModelSpec), firm and year FE unless `fe` says."""
    from intelcap.econometrics import estimate

    return estimate.ModelSpec(
        name=name,
        depvar=kw.pop("depvar", "lnCU"),
        regressors=list(regressors),
        controls=False,
        fe=list(fe),
        **kw,
    )


def degenerate_texts(res: pd.DataFrame) -> list[str]:
    """The texts of a regression table's stat:degenerate rows (one per flagged model or regressor)."""
    return res.loc[res["term"] == "stat:degenerate", "text"].tolist()


def small_workflow(dest: Path) -> Path:
    """A scratch copy of the workflow at `dest` with tests/small_config.yaml as small.yaml, for
    `--configfile config/config.yaml small.yaml`: the default rules and code paths at a test's size."""
    import shutil

    from intelcap.workflow.scratch import copy_workflow

    root = Path(__file__).resolve().parents[1]
    work = copy_workflow(root, dest)
    shutil.copy2(root / "tests" / "small_config.yaml", work / "small.yaml")
    return work
