"""pyfixest behind one adapter, and the table fast path (our own OLS + CRV1 on exactly demeaned data) equal
to pyfixest's own fits (through the adapter) to 1e-10."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from intelcap.econometrics import estimate

SRC = Path(__file__).resolve().parents[1] / "src"
ADAPTER = SRC / "intelcap" / "econometrics" / "pyfixest_adapter.py"
_IMPORT = re.compile(r"^\s*(import\s+pyfixest\b|from\s+pyfixest\b)|import_module\(\s*['\"]pyfixest", re.M)
# attributes of pyfixest fit objects that are not public API (what the package read before the adapter)
_PRIVATE = re.compile(
    r"\.(_X|_Y|_Z|_beta_hat|_u_hat|_na_index|_coefnames|_clustervar|_ssc|_G|_N|_df_k|_df_t|_is_iv|_r2|"
    r"_r2_within|_adj_r2|_collin_vars|_collin_index|_vcov|_depvar|_fixef|_f_stat_1st_stage|_eff_F|_scores|"
    r"_tZX|_tZy|_data|_k_fe|_method|_has_fixef)\b"
)


def violations(path: Path, text: str) -> list[str]:
    """One message per pyfixest import outside the adapter and per private pyfixest attribute read."""
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        if path != ADAPTER and _IMPORT.search(line):
            out.append(f"{path}:{i}: pyfixest imported outside pyfixest_adapter.py: {line.strip()}")
        if _PRIVATE.search(line) or (path == ADAPTER and re.search(r"\bf\._[A-Za-z]", line)):
            out.append(f"{path}:{i}: private pyfixest attribute: {line.strip()}")
    return out


def test_only_the_adapter_imports_pyfixest_and_no_private_attributes() -> None:
    found = [v for p in sorted(SRC.rglob("*.py")) for v in violations(p, p.read_text(encoding="utf-8"))]
    assert not found, "\n".join(found)


def test_the_check_catches_a_planted_violation() -> None:
    other = SRC / "intelcap" / "econometrics" / "estimate.py"
    assert len(violations(other, "def g():\n    import pyfixest as pf\n")) == 1
    assert len(violations(other, "    from pyfixest.estimation import demean\n")) == 1
    assert len(violations(other, "n = int(fit._N)\n")) == 1
    assert len(violations(ADAPTER, "b = f._beta_hat\n")) == 1
    assert violations(ADAPTER, "import pyfixest as pf\n") == []
    assert violations(other, "n = int(fit.n_obs)  # pyfixest is not imported here\n") == []


def test_ols_table_job_imports_neither_pyfixest_nor_scipy_stats() -> None:
    code = (
        "import sys, numpy as np, pandas as pd\n"
        "from intelcap.econometrics import estimate\n"
        "rng = np.random.default_rng(0); f = np.repeat(np.arange(50), 4); t = np.tile(np.arange(4), 50)\n"
        "df = pd.DataFrame({'Stkcd': f, 'year': t, 'x': rng.normal(size=200), 'y': rng.normal(size=200)})\n"
        "specs = [estimate.ModelSpec('(1)', 'y', ['x'], fe=['Stkcd', 'year']), estimate.ModelSpec('(2)', 'y', ['x'])]\n"
        "res = estimate.regression_table(df, specs, [], 'Stkcd')\n"
        "assert res['std_error'].notna().all()\n"
        "print(sorted(m for m in ('pyfixest', 'scipy.stats') if m in sys.modules))\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(SRC)}
    )
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip() == "[]"


pf_adapter = pytest.importorskip("intelcap.econometrics.pyfixest_adapter")
if not pf_adapter.available():  # pragma: no cover
    pytest.skip("pyfixest not installed", allow_module_level=True)


def _panel(seed: int, firms: int = 120, years: int = 7) -> pd.DataFrame:
    """Unbalanced panel with singleton firms, firms nested in groups (grp), a cluster not nesting the firms
    (rnd), provinces."""
    rng = np.random.default_rng(seed)
    rows = []
    for f in range(firms):
        n = 1 if f % 17 == 0 else int(rng.integers(2, years + 1))
        yrs = np.sort(rng.choice(years, size=n, replace=False))
        a, prov = rng.normal(), int(rng.integers(0, 5))
        for y in yrs:
            x1, x2, w = rng.normal(size=3)
            rows.append(
                {
                    "Stkcd": f"{f:06d}",
                    "year": 2011 + int(y),
                    "grp": f % 23,
                    "rnd": int(rng.integers(0, 15)),
                    "province": f"P{prov}",
                    "x1": x1 + 0.3 * a,
                    "x2": x2 + 5.0,
                    "w": w,
                    "y": 0.5 * x1 - 0.2 * x2 + a + 0.1 * y + rng.normal() * (1 + abs(x1)) + 3.0,
                }
            )
    return pd.DataFrame(rows)


CASES = [
    (1, ["Stkcd", "year"], "Stkcd"),
    (2, ["year", "Stkcd"], "Stkcd"),
    (3, ["Stkcd", "year"], "grp"),  # firm FE nested in a coarser cluster
    (4, ["Stkcd", "year"], "rnd"),  # cluster that does not nest the firm FE
    (5, ["Stkcd", "year", "province^year"], "Stkcd"),
    (6, ["Stkcd"], "Stkcd"),
    (7, [], "Stkcd"),
    (8, [], "grp"),
]


@pytest.mark.parametrize(("seed", "fe", "cluster"), CASES)
def test_fast_path_equals_pyfixest(seed: int, fe: list[str], cluster: str) -> None:
    from scipy import stats

    df = _panel(seed)
    spec = estimate.ModelSpec("(1)", "y", ["x1", "x2"], controls=True, fe=fe)
    res = estimate.regression_table(df, [spec], ["w"], cluster).set_index("term")
    fres, d = estimate.fit(df, spec, ["w"], cluster)
    fml = "y ~ x1 + x2 + w" + (" | " + " + ".join(fe) if fe else "")
    # pyfixest with the FE in the formula, its own singleton drop and demeaning; K without FE levels, then
    # brought to reghdfe's K of the fast path (checked against dummy sandwiches in test_estimate.py)
    sub = df.loc[d.index]
    ref = pf_adapter.feols(fml, sub, cluster, fixef_tol=1e-14, k_fixef="none" if fe else None)
    names = ["x1", "x2", "w"] if fe else ["Intercept", "x1", "x2", "w"]
    assert ref.coefnames == names
    N, G = ref.n_obs, sub[cluster].nunique()
    assert res.loc["x1", "nobs"] == N and res.loc["x1", "n_clusters"] == G
    terms = [n if n != "Intercept" else "_cons" for n in names]
    se_ref = ref.se * np.sqrt((N - ref.k) / (N - fres.k))
    np.testing.assert_allclose(res.loc[terms, "estimate"], ref.coef, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(res.loc[terms, "std_error"], se_ref, rtol=1e-10)
    p_ref = 2 * stats.t.sf(np.abs(ref.coef / se_ref), G - 1)
    np.testing.assert_allclose(res.loc[terms, "p_value"], p_ref, rtol=1e-10, atol=1e-12)
    if not fe:  # no FE levels: pyfixest's own K, SEs and p-values unchanged
        assert fres.k == 4
        np.testing.assert_allclose(res.loc[terms, "p_value"], ref.pvalue, rtol=1e-10, atol=1e-12)
    y = sub["y"].to_numpy()
    ssr = float(ref.resid @ ref.resid)
    assert res.loc["x1", "r2"] == pytest.approx(1 - ssr / np.sum((y - y.mean()) ** 2), abs=1e-10)
    if fe:
        D = np.column_stack(
            [pd.get_dummies(sub[t.split("^")].astype(str).agg("|".join, axis=1), dtype=float) for t in fe]
        )
        yw = y - D @ np.linalg.lstsq(D, y, rcond=None)[0]
        assert res.loc["x1", "r2_within"] == pytest.approx(1 - ssr / (yw @ yw), abs=1e-10)
    else:
        assert np.isnan(res.loc["x1", "r2_within"])
    assert (len(df) - N > 0) == bool(fe)  # the singleton firms are dropped with firm FE only


def test_collinear_regressor_dropped_as_pyfixest_does() -> None:
    df = _panel(9).assign(w2=lambda d: 2.0 * d["w"], firmconst=lambda d: d["Stkcd"].str[-2:].astype(float))
    spec = estimate.ModelSpec("(1)", "y", ["x1", "firmconst"], controls=True, fe=["Stkcd", "year"])
    res = estimate.regression_table(df, [spec], ["w", "w2"], "Stkcd").set_index("term")
    fres, d = estimate.fit(df, spec, ["w", "w2"], "Stkcd")
    ref = pf_adapter.feols(
        "y ~ x1 + firmconst + w + w2 | Stkcd + year", df.loc[d.index], "Stkcd", fixef_tol=1e-14
    )
    assert fres.coefnames == ref.coefnames == ["x1", "w"]
    assert res.loc["stat:collinear_dropped", "text"] == "firmconst, w2"
    np.testing.assert_allclose(fres.b, ref.coef, rtol=1e-10, atol=1e-12)


def test_find_collinear_hand_case() -> None:
    X = np.column_stack([np.ones(5), np.arange(5.0), 2 * np.arange(5.0) + 1, [1.0, 0, 2, 0, 1]])
    assert estimate.find_collinear(X.T @ X).tolist() == [False, False, True, False]


def test_exact_projection_hand_case_and_equals_alternating_projections() -> None:
    from intelcap.econometrics.absorb import AbsorbedDesign

    # 2 firms x 2 years: x_it - x_i. - x_.t + x_.. by hand
    d = AbsorbedDesign(pd.DataFrame({"f": [0, 0, 1, 1], "t": [0, 1, 0, 1]}))
    x = np.array([1.0, 2.0, 3.0, 5.0])
    np.testing.assert_allclose(d.demean_exact(x), [0.25, -0.25, -0.25, 0.25], atol=1e-14)
    rng = np.random.default_rng(4)
    for firm_sorted in (False, True):
        f = rng.integers(0, 400, 5000)
        f = np.sort(f) if firm_sorted else f
        fe = pd.DataFrame({"f": f, "t": rng.integers(0, 9, 5000), "pt": rng.integers(0, 40, 5000)})
        d = AbsorbedDesign(fe, tol=1e-14)
        X = rng.normal(size=(d.n_obs, 3)) + 4.0
        assert d._exact() is not None and d._exact().sorted == firm_sorted
        ref = d.demean(X)
        np.testing.assert_allclose(d.demean_exact(X), ref, atol=1e-11)
        Y = X.copy()
        out = d.demean_exact(Y, overwrite=True)
        np.testing.assert_allclose(out, ref, atol=1e-11)
        assert np.shares_memory(out, Y) == firm_sorted  # in place only when already in firm order
