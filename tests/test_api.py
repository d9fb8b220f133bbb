"""The public API: the estimation functions work on any panel (the id, time and cluster columns are arguments,
never the CSMAR names), `__all__` lists what each module offers, and `import intelcap` stays light.

Every estimate on a panel whose columns are renamed Stkcd -> gvkey, year -> fyear (a Compustat-style panel),
clustered by gvkey, must equal the one on the original names (to 1e-12). That the original-name numbers are
right is tests/test_estimate.py's job (hand-computed sandwiches); here they are the reference.
"""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _factories import unbalanced_panel

import intelcap
from intelcap.econometrics import estimate, inference
from intelcap.errors import InputError

SRC = Path(__file__).resolve().parents[1] / "src"
CONTROLS = ["w1", "w2"]
NUMERIC = ["estimate", "std_error", "t_value", "p_value", "nobs", "n_clusters", "r2_within", "r2"]
RENAME = {"Stkcd": "gvkey", "year": "fyear"}


def _panel(seed: int = 11, firms: int = 150, years: int = 8) -> pd.DataFrame:
    """Unbalanced firm-year panel with an instrument, two subgroups (SOE, Region) and a province."""
    rows = unbalanced_panel(seed, firms, years).to_dict("records")
    # one singleton firm: dropped by reghdfe's rule under either naming
    rows.append(
        {
            "Stkcd": "999999",
            "year": 2012,
            "province": "P0",
            "SOE": 0,
            "Region": "East",
            "x": 1.0,
            "z": 0.5,
            "w1": 0.0,
            "w2": 0.0,
            "y": 3.0,
        }
    )
    return pd.DataFrame(rows)


def _gvkey_panel(df: pd.DataFrame, recode: bool) -> pd.DataFrame:
    """The same panel under Compustat-style names; `recode`: integer gvkeys in the reverse order of the
    Stkcd codes and fyear = year - 2000, so the FE levels are also coded in another order."""
    out = df.rename(columns=RENAME)
    if recode:
        out["gvkey"] = 999_999 - out["gvkey"].astype(int)
        out["fyear"] = out["fyear"] - 2000
    assert not {"Stkcd", "year"} & set(out.columns)
    return out


def _spec(fe: list[str], names: dict[str, str], **kw) -> estimate.ModelSpec:
    fe = ["^".join(names.get(v, v) for v in term.split("^")) for term in fe]
    return estimate.ModelSpec(
        name=kw.pop("name", "(1)"),
        depvar=kw.pop("depvar", "y"),
        regressors=kw.pop("regressors", ["x"]),
        fe=fe,
        **kw,
    )


def _assert_same_rows(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a["term"]) == list(b["term"])
    assert len(a) > 0
    for col in NUMERIC:
        np.testing.assert_allclose(
            b[col].to_numpy(float), a[col].to_numpy(float), rtol=1e-12, atol=1e-12, err_msg=col
        )


OLS_FES = [["Stkcd", "year"], ["Stkcd", "year", "province^year"], ["Stkcd"], []]


@pytest.mark.parametrize("recode", [False, True], ids=["renamed", "renamed+recoded"])
def test_ols_with_fixed_effects_on_a_gvkey_fyear_panel(recode):
    df = _panel()
    gv = _gvkey_panel(df, recode)
    specs = [_spec(fe, {}, name=f"({i})") for i, fe in enumerate(OLS_FES)]
    specs += [_spec(["Stkcd", "year"], {}, name="(soe)", sample="soe")]
    specs_gv = [_spec(fe, RENAME, name=f"({i})") for i, fe in enumerate(OLS_FES)]
    specs_gv += [_spec(["Stkcd", "year"], RENAME, name="(soe)", sample="soe")]
    ref = estimate.regression_table(df, specs, CONTROLS, "Stkcd")
    got = estimate.regression_table(gv, specs_gv, CONTROLS, cluster="gvkey")
    _assert_same_rows(ref, got)
    assert set(got["vcov"]) == {"CRV1:gvkey"}
    assert got.loc[got["model"] == "(1)", "fixed_effects"].iloc[0] == "gvkey+fyear+province^fyear"
    # the singleton firm is gone in the FE models and kept in the pooled one, under both namings
    n = got.drop_duplicates("model").set_index("model")["nobs"]
    assert n["(0)"] == len(df) - 1 and n["(3)"] == len(df)


def test_the_issue_example_runs_without_controls():
    """`regression_table(df, [ModelSpec(..., fe=["gvkey", "fyear"])], cluster="gvkey")` (issue 15): a KeyError
    on 'Stkcd' before; now the same numbers as the CSMAR names."""
    df = _panel()
    got = estimate.regression_table(
        _gvkey_panel(df, recode=True),
        [estimate.ModelSpec("(1)", "y", ["x", "w1"], fe=["gvkey", "fyear"])],
        cluster="gvkey",
    )
    ref = estimate.regression_table(
        df, [estimate.ModelSpec("(1)", "y", ["x", "w1"], fe=["Stkcd", "year"])], [], "Stkcd"
    )
    _assert_same_rows(ref, got)


@pytest.mark.parametrize("recode", [False, True], ids=["renamed", "renamed+recoded"])
def test_iv_path_on_a_gvkey_fyear_panel(recode):
    df = _panel()
    gv = _gvkey_panel(df, recode)

    def iv(names):
        return [
            _spec(["Stkcd", "year"], names, name="(1)", depvar="x", regressors=["z"], stage="first"),
            _spec(
                ["Stkcd", "year"], names, name="(2)", regressors=[], endog="x", instrument="z", stage="second"
            ),
        ]

    ref = estimate.regression_table(df, iv({}), CONTROLS, "Stkcd")
    got = estimate.regression_table(gv, iv(RENAME), CONTROLS, cluster="gvkey")
    _assert_same_rows(ref, got)
    ref_stats = estimate.iv_statistics(df, iv({})[1], CONTROLS, "Stkcd")
    got_stats = estimate.iv_statistics(gv, iv(RENAME)[1], CONTROLS, cluster="gvkey")
    assert [r["term"] for r in got_stats] == [
        "stat:first_stage_F",
        "stat:effective_F",
        "stat:ar_ci",
        "stat:ar_p_at_zero",
    ]
    for r, g in zip(ref_stats, got_stats, strict=True):
        np.testing.assert_allclose(
            g["estimate"], r["estimate"], rtol=1e-12, equal_nan=True, err_msg=r["term"]
        )
        assert g["text"] == r["text"]
    assert got_stats[0]["estimate"] > 10  # a strong instrument: the comparison is not of two NaNs


def test_descriptive_table_on_a_gvkey_fyear_panel():
    df = _panel()
    ref = estimate.descriptive_table(df, ["y", "x", "year"])
    got = estimate.descriptive_table(_gvkey_panel(df, recode=False), ["y", "x", "fyear"])
    assert list(got["variable"]) == ["y", "x", "fyear"]
    for col in ["n", "mean", "sd", "min", "max"]:
        np.testing.assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(float), rtol=1e-12, atol=0)
    assert got.loc[2, "min"] == 2011 and got.loc[0, "n"] == len(df)


@pytest.mark.parametrize("recode", [False, True], ids=["renamed", "renamed+recoded"])
def test_group_differences_on_a_gvkey_fyear_panel(recode):
    df = _panel()
    pairs = [["non_soe", "soe"], ["east", "west"]]
    ref = estimate.group_differences(df, pairs, "y", "x", CONTROLS, "Stkcd", reps=19, seed=3)
    got = estimate.group_differences(
        _gvkey_panel(df, recode),
        pairs,
        "y",
        "x",
        CONTROLS,
        "gvkey",
        reps=19,
        seed=3,
        id="gvkey",
        time="fyear",
    )
    assert list(got.columns) == list(ref.columns) and len(got) == 2
    pd.testing.assert_frame_equal(
        got[["group_a", "group_b", "permutation_level", "reps", "seed", "nobs"]],
        ref[["group_a", "group_b", "permutation_level", "reps", "seed", "nobs"]],
    )
    for col in ["beta_a", "beta_b", "delta", "se_delta", "p_interacted"]:
        np.testing.assert_allclose(
            got[col].to_numpy(float), ref[col].to_numpy(float), rtol=1e-12, atol=1e-12, err_msg=col
        )
    if not recode:
        # the permutation draws give labels to firms in the sorted order of their ids, which the recoding
        # reverses: same seed, other draws, other (equally valid) p-values; under a plain rename they match
        for col in ["p_permutation_one_sided", "p_permutation_two_sided"]:
            np.testing.assert_array_equal(got[col].to_numpy(float), ref[col].to_numpy(float))
    assert got["permutation_level"].tolist() == ["firm", "firm"]  # SOE, Region constant within firm


def test_missing_cluster_or_id_column_is_a_clear_error():
    gv = _gvkey_panel(_panel(), recode=False)
    spec = _spec(["Stkcd", "year"], RENAME)
    with pytest.raises(InputError, match=r"cluster variable 'Stkcd' is not a column(.|\n)*cluster=") as exc:
        estimate.regression_table(gv, [spec], CONTROLS)  # the default cluster is the CSMAR name
    assert exc.value.column == "cluster"
    with pytest.raises(InputError, match=r"cluster variable 'gvky'(.|\n)*did you mean 'gvkey'"):
        estimate.regression_table(gv, [spec], CONTROLS, cluster="gvky")
    with pytest.raises(
        InputError, match=r"\['Stkcd', 'year'\] are not in the panel(.|\n)*id=\.\.\. and time="
    ):
        estimate.group_differences(gv, [["non_soe", "soe"]], "y", "x", CONTROLS, "gvkey", reps=9, seed=1)


# ------------------------------------------------------------------------------------------------
# __all__ and the lazy top-level package
# ------------------------------------------------------------------------------------------------
SUBPACKAGES = ["synthetic", "ingest", "measures", "econometrics", "outputs", "workflow", "workflow.steps"]


@pytest.mark.parametrize("pkg", SUBPACKAGES)
def test_subpackage_all_names_its_modules(pkg):
    mod = importlib.import_module(f"intelcap.{pkg}")
    folder = SRC / "intelcap" / pkg.replace(".", "/")
    on_disk = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    on_disk |= {p.name for p in folder.iterdir() if (p / "__init__.py").is_file()}
    assert on_disk, folder
    assert on_disk <= set(mod.__all__), (
        f"modules missing from intelcap.{pkg}.__all__: {on_disk - set(mod.__all__)}"
    )
    for name in mod.__all__:
        assert name in on_disk or callable(getattr(mod, name)), name


@pytest.mark.parametrize("module", [estimate, inference], ids=["estimate", "inference"])
def test_module_all_lists_every_public_function_and_class(module):
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    public = {
        n.name
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.ClassDef) and not n.name.startswith("_")
    }
    assert public - set(module.__all__) == set()
    for name in module.__all__:
        assert hasattr(module, name), name


def test_top_level_names_resolve_to_their_modules():
    assert intelcap.regression_table is estimate.regression_table
    assert intelcap.ModelSpec is estimate.ModelSpec
    assert intelcap.InputError is InputError
    for name in intelcap.__all__:
        assert getattr(intelcap, name) is not None, name
    assert set(intelcap.__all__) <= set(dir(intelcap))
    with pytest.raises(AttributeError, match="no attribute 'regresion_table'"):
        intelcap.regresion_table  # noqa: B018


def test_import_intelcap_loads_no_heavy_dependency():
    code = (
        "import sys, intelcap\n"
        "heavy = sorted(m for m in ('pandas', 'numpy', 'pyfixest', 'scipy', 'snakemake') if m in sys.modules)\n"
        "print('before', heavy)\n"
        "intelcap.regression_table\n"
        "print('after', 'pandas' in sys.modules, 'intelcap.econometrics.estimate' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines() == ["before []", "after True True"]


def test_docs_api_example_runs_and_gives_the_numbers_it_states():
    """docs/api.md's example is executed as written; the numbers its text quotes are checked against it."""
    doc = (SRC.parent / "docs" / "api.md").read_text(encoding="utf-8")
    code = doc.split("```python\n", 1)[1].split("```", 1)[0]
    ns: dict = {}
    exec(compile(code, "docs/api.md", "exec"), ns)  # noqa: S102 - the repository's own documentation
    res = ns["res"].set_index(["model", "term"])
    quoted = {("(1)", "rd"): ("0.3045", "0.0189"), ("(2)", "rd"): ("0.3159", "0.0306")}
    for key, (b, se) in quoted.items():
        assert f"`rd` is {b}" in doc or f"{b} (SE {se})" in doc
        assert (f"{res.loc[key, 'estimate']:.4f}", f"{res.loc[key, 'std_error']:.4f}") == (b, se), key
    assert set(ns["res"]["vcov"]) == {"CRV1:gvkey"} and set(ns["res"]["n_clusters"]) == {200}
    ar = next(r for r in ns["stats"] if r["term"] == "stat:ar_ci")["text"]
    assert ar.startswith("[0.256, 0.376]") and "[0.256, 0.376]" in doc
