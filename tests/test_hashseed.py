"""Tables must be byte-identical whatever PYTHONHASHSEED is (unset, fixed, or random).

pyfixest 0.60 collects the fixed-effect terms of a formula in a `set` (pyfixest/estimation/formula/utils.py,
`_encode_fixed_effects`), so with two or more FE the demeaning order, and with it the last digits of every
estimate, followed the string hashes of the FE names. Each table is computed in a fresh interpreter per seed
(the hash seed is fixed at interpreter start) and the CSV bytes compared.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _factories import unbalanced_panel

HERE = Path(__file__).resolve()
SEEDS = [None, "0", "1", "123", "random", "random"]
CONTROLS = ["w1", "w2", "w3"]


def _panel(seed: int = 5, firms: int = 240, years: int = 9) -> pd.DataFrame:
    """Unbalanced firm-year panel (so alternating projections need many sweeps and their order matters)."""
    return unbalanced_panel(seed, firms, years, n_controls=3, n_provinces=6)


def _tables(out: Path) -> None:
    """The computations of workflow.steps.tables (regression_table, iv_table, heterogeneity_table)."""
    from intelcap import atomic
    from intelcap.econometrics import estimate

    df = _panel()
    two_way = [
        estimate.ModelSpec(name="(1)", depvar="y", regressors=["x"], controls=False, fe=["Stkcd", "year"]),
        estimate.ModelSpec(name="(2)", depvar="y", regressors=["x"], fe=["Stkcd", "year"]),
        estimate.ModelSpec(name="(3)", depvar="y", regressors=["x"], fe=["Stkcd", "year", "province^year"]),
        estimate.ModelSpec(name="(4)", depvar="y", regressors=["x"], fe=["Stkcd", "year"], sample="soe"),
    ]
    atomic.write_csv(estimate.regression_table(df, two_way, CONTROLS, "Stkcd"), out / "regression.csv")
    iv = [
        estimate.ModelSpec(name="(1)", depvar="x", regressors=["z"], fe=["Stkcd", "year"], stage="first"),
        estimate.ModelSpec(
            name="(2)",
            depvar="y",
            regressors=[],
            fe=["Stkcd", "year"],
            endog="x",
            instrument="z",
            stage="second",
        ),
    ]
    res = estimate.regression_table(df, iv, CONTROLS, "Stkcd")
    stats = [r for s in iv if s.endog for r in estimate.iv_statistics(df, s, CONTROLS, "Stkcd")]
    atomic.write_csv(
        pd.concat([res, pd.DataFrame(stats, columns=estimate.RESULT_COLUMNS)], ignore_index=True),
        out / "iv.csv",
    )
    diff = estimate.group_differences(
        df, [["non_soe", "soe"], ["east", "west"]], "y", "x", CONTROLS, "Stkcd", reps=49, seed=7
    )
    atomic.write_csv(diff, out / "differences.csv")


def _run(seed: str | None, out: Path) -> dict[str, str]:
    import intelcap

    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    if seed is not None:
        env["PYTHONHASHSEED"] = seed
    src = str(Path(intelcap.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
    out.mkdir(parents=True)
    proc = subprocess.run([sys.executable, str(HERE), str(out)], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"PYTHONHASHSEED={seed}: {proc.stderr[-3000:]}"
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob("*.csv"))}


def test_tables_do_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    digests = {f"{i}:{s}": _run(s, tmp_path / f"run{i}") for i, s in enumerate(SEEDS)}
    reference = digests["0:None"]
    assert sorted(reference) == ["differences.csv", "iv.csv", "regression.csv"]
    differing = {
        run: [name for name in reference if d[name] != reference[name]] for run, d in digests.items()
    }
    assert not any(differing.values()), f"CSV bytes differ from the PYTHONHASHSEED-unset run: {differing}"
    # the runs compared real tables, not empty files
    table = pd.read_csv(tmp_path / "run0" / "regression.csv")
    assert set(table["model"]) == {"(1)", "(2)", "(3)", "(4)"} and table["estimate"].notna().all()


def test_within_fit_r2_equals_dummy_regression() -> None:
    # FE models are fitted on data demeaned by us; R² and within R² must still be those of the dummy regression
    from intelcap.econometrics import estimate

    df = _panel(firms=60)
    spec = estimate.ModelSpec(name="(1)", depvar="y", regressors=["x"], fe=["Stkcd", "year"])
    res = estimate.regression_table(df, [spec], CONTROLS, "Stkcd").set_index("term")
    D = np.column_stack([pd.get_dummies(df["Stkcd"], dtype=float), pd.get_dummies(df["year"], dtype=float)])
    y, X = df["y"].to_numpy(), df[["x", *CONTROLS]].to_numpy()
    u = y - np.column_stack([X, D]) @ np.linalg.lstsq(np.column_stack([X, D]), y, rcond=None)[0]
    y_within = y - D @ np.linalg.lstsq(D, y, rcond=None)[0]
    assert res.loc["x", "nobs"] == len(df)  # no singletons in this panel: every firm has >= 2 years
    assert res.loc["x", "r2"] == pytest.approx(1 - u @ u / np.sum((y - y.mean()) ** 2), abs=1e-10)
    assert res.loc["x", "r2_within"] == pytest.approx(1 - u @ u / (y_within @ y_within), abs=1e-10)


def test_infinite_regressor_is_a_named_error() -> None:
    from intelcap.econometrics import estimate
    from intelcap.errors import EstimationError

    df = _panel(firms=60)
    df.loc[[3, 8], "w2"] = -np.inf
    spec = estimate.ModelSpec(name="(2)", depvar="y", regressors=["x"], fe=["Stkcd", "year"])
    with pytest.raises(
        EstimationError, match=r"model \(2\): variable\(s\) \['w2'\] are infinite in 2 firm-year"
    ):
        estimate.regression_table(df, [spec], CONTROLS, "Stkcd")


if __name__ == "__main__":
    _tables(Path(sys.argv[1]))
