"""DEA efficiency (docs/methods.md#dea): hand-solved examples, equality with the full-LP loop, invariance,
input errors, and the column-generation verification."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from intelcap.errors import InputError
from intelcap.measures.dea import DEAProblem, DEAResult, dea_loop, dea_scores, efficiency_panel

# ---------------------------------------------------------------------------------------------
# hand-solvable examples


def test_one_input_one_output_crs_is_ratio_over_best_ratio() -> None:
    x = np.array([2.0, 4.0, 3.0, 5.0, 8.0])
    y = np.array([1.0, 3.0, 2.0, 2.0, 1.0])
    ratio = y / x  # 0.5, 0.75, 0.6667, 0.4, 0.125 -> DMU 1 is best, DMU 2 second best
    for orientation in ("input", "output"):
        std = dea_scores(x, y, orientation=orientation, super_efficiency=False)
        np.testing.assert_allclose(std.scores, ratio / ratio.max(), rtol=0, atol=1e-12)
        sup = dea_scores(x, y, orientation=orientation, super_efficiency=True)
        expected = ratio / ratio.max()
        expected[1] = 0.75 / (2.0 / 3.0)  # best ratio over the second best: 1.125
        np.testing.assert_allclose(sup.scores, expected, rtol=0, atol=1e-12)
        assert (sup.status == "optimal").all()


# Classic 2-input / 1-output textbook example (Cooper, Seiford & Tone, "Data Envelopment Analysis",
# ch. 3; DMUs A-F, every DMU produces y = 1):
#        A    B    C    D    E    F
#   x1   4    7    8    4    2   10
#   x2   3    3    1    2    4    1
# The unit isoquant is E(2,4) - D(4,2) - C(8,1), then horizontal from C (F lies on it, with 2 units
# of x1 slack, so F is radially -- "weakly" -- efficient).
#   A: the ray x2/x1 = 3/4 meets segment E-D, E + t(D-E) = (2+2t, 4-2t): 3(2+2t) = 4(4-2t) gives
#      t = 5/7, point (24/7, 18/7), so theta_A = (24/7)/4 = 6/7.
#   B: the ray 3/7 meets segment D-C, D + t(C-D) = (4+4t, 2-t): 3(4+4t) = 7(2-t) gives t = 2/19,
#      point (84/19, 36/19), so theta_B = (84/19)/7 = 12/19.
# Super-efficiency (own DMU removed):
#   C: best mix of D and F with weights 1-f, f: max((4+6f)/8, 2-f) is minimal at f = 6/7: 8/7.
#   D: segment E-C (A lies on it) meets the ray 1/2 at (5, 5/2): theta_D = 5/4.
#   E: every other DMU has x1 >= 4 per unit of y, and E's x1 is 2: theta_E = 4/2 = 2.
#   F: C still dominates it: theta_F = 1.
CST_X = np.array([[4, 3], [7, 3], [8, 1], [4, 2], [2, 4], [10, 1]], dtype=float)
CST_Y = np.ones((6, 1))
CST_STD = np.array([6 / 7, 12 / 19, 1, 1, 1, 1])
CST_SUPER = np.array([6 / 7, 12 / 19, 8 / 7, 5 / 4, 2, 1])


@pytest.mark.parametrize("orientation", ["input", "output"])
def test_textbook_two_input_example(orientation: str) -> None:
    std = dea_scores(CST_X, CST_Y, orientation=orientation, super_efficiency=False)
    np.testing.assert_allclose(std.scores, CST_STD, rtol=0, atol=1e-9)
    sup = dea_scores(CST_X, CST_Y, orientation=orientation, super_efficiency=True)
    np.testing.assert_allclose(sup.scores, CST_SUPER, rtol=0, atol=1e-9)
    for backend in ("linprog", "highs"):
        ref = dea_loop(
            DEAProblem(CST_X, CST_Y, orientation=orientation, super_efficiency=True), backend=backend
        )
        np.testing.assert_allclose(ref.scores, CST_SUPER, rtol=0, atol=1e-9)
    # A is projected onto E-D, B onto D-C: two peers each
    assert sup.n_peers[0] == 2 and sup.n_peers[1] == 2


# ---------------------------------------------------------------------------------------------
# equality with the reference loop


def _firm_like(n: int, s: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    size = rng.normal(0.0, 1.5, n)
    lx = size[:, None] + rng.normal(0.0, 0.6, (n, 3))
    ly = 0.3 * (lx - size[:, None]).sum(1) + 0.98 * size - np.abs(rng.normal(0.0, 0.4, n))
    return np.exp(lx), np.exp(ly[:, None] + rng.normal(0.0, 0.3, (n, s)))


def _assert_same(fast: DEAResult, ref: DEAResult) -> None:
    assert list(fast.status) == list(ref.status)
    ok = ref.status == "optimal"
    assert np.isnan(fast.scores[~ok]).all()
    np.testing.assert_allclose(fast.scores[ok], ref.scores[ok], rtol=0, atol=1e-9)


DATA = {s: _firm_like(300, s, seed=10 + s) for s in (1, 2)}


@pytest.mark.parametrize("s", [1, 2])
@pytest.mark.parametrize("rts", ["crs", "vrs"])
@pytest.mark.parametrize("orientation", ["input", "output"])
@pytest.mark.parametrize("super_eff", [False, True])
def test_equals_full_lp_loop(s: int, rts: str, orientation: str, super_eff: bool) -> None:
    X, Y = DATA[s]
    kw = dict(rts=rts, orientation=orientation, super_efficiency=super_eff)
    fast = dea_scores(X, Y, **kw)
    ref = dea_loop(DEAProblem(X, Y, **kw), backend="highs")
    _assert_same(fast, ref)
    if rts == "vrs" and super_eff:
        # the infeasible branch must actually be exercised, and reported as NaN, never 0
        assert (ref.status == "infeasible").sum() >= 1
    if not super_eff:
        assert np.nanmax(fast.scores) <= 1 + 1e-12
    if rts == "crs" and super_eff:
        assert np.nanmax(fast.scores) > 1


@pytest.mark.parametrize(
    "rts,orientation,s", [("vrs", "input", 2), ("crs", "output", 1), ("vrs", "output", 1)]
)
def test_equals_linprog_loop(rts: str, orientation: str, s: int) -> None:
    # the loop on scipy.optimize.linprog shares no code with the HiGHS model used by dea_scores
    X, Y = DATA[s]
    kw = dict(rts=rts, orientation=orientation, super_efficiency=True)
    _assert_same(dea_scores(X, Y, **kw), dea_loop(DEAProblem(X, Y, **kw), backend="linprog"))


def test_crs_output_is_input() -> None:
    X, Y = DATA[2]
    a = dea_scores(X, Y, rts="crs", orientation="input")
    b = dea_scores(X, Y, rts="crs", orientation="output")
    np.testing.assert_allclose(a.scores, b.scores, rtol=0, atol=1e-9)


@pytest.mark.parametrize("rts", ["crs", "vrs"])
def test_tiny_initial_reference_still_exact(rts: str) -> None:
    # A deliberately useless starting pool (one arbitrary, dominated DMU) and no basis re-use:
    # every score then hinges on the dual check against all DMUs adding the missing columns.
    X, Y = DATA[2]
    worst = int(
        np.argmin(dea_loop(DEAProblem(X, Y, rts="crs", super_efficiency=False), backend="highs").scores)
    )
    ref = dea_loop(DEAProblem(X, Y, rts=rts), backend="highs")
    for cache in (False, True):
        fast = dea_scores(X, Y, rts=rts, initial_reference=[worst], use_ray_cache=cache)
        _assert_same(fast, ref)
        assert fast.stats["pool_size"] > 1  # columns were generated
        assert fast.stats["lp_solves"] > 0


def test_scale_invariance() -> None:
    X, Y = DATA[2]
    for rts in ("crs", "vrs"):
        base = dea_scores(X, Y, rts=rts)
        for col, c in ((0, 1000.0), (1, 1e-3), (2, 7.5)):
            Xc = X.copy()
            Xc[:, col] *= c
            moved = dea_scores(Xc, Y, rts=rts)
            assert list(moved.status) == list(base.status)
            ok = base.status == "optimal"
            np.testing.assert_allclose(moved.scores[ok], base.scores[ok], rtol=0, atol=1e-9)


# ---------------------------------------------------------------------------------------------
# edge cases and bad input


def test_vrs_super_infeasible_is_nan_not_zero() -> None:
    # DMU 2 has the largest output: no convex combination of the others reaches it
    X = np.array([[1.0], [2.0], [3.0]])
    Y = np.array([[1.0], [2.0], [5.0]])
    res = dea_scores(X, Y, rts="vrs", super_efficiency=True)
    assert res.status[2] == "infeasible" and np.isnan(res.scores[2])
    assert (res.status[:2] == "optimal").all()


def test_single_dmu_super_has_no_reference() -> None:
    res = dea_scores([[1.0]], [[1.0]], super_efficiency=True)
    assert res.status[0] == "no_reference" and np.isnan(res.scores[0])
    assert dea_scores([[1.0]], [[1.0]], super_efficiency=False).scores[0] == pytest.approx(1.0, abs=1e-12)


def test_zero_input_raises_with_column_and_rows() -> None:
    X, Y = DATA[1]
    X = X.copy()
    X[[7, 42], 1] = 0.0
    with pytest.raises(InputError) as e:
        dea_scores(X, Y)
    assert e.value.column == "X[:, 1]" and e.value.rows == [7, 42]


def _panel(n_firms: int = 40, years: tuple[int, ...] = (2015, 2016, 2017)) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    rows = []
    for y in years:
        X, Y = _firm_like(n_firms, 1, seed=y)
        for i in range(n_firms):
            rows.append(
                {
                    "Stkcd": f"{600000 + i:06d}",
                    "year": y,
                    "industry": "C3" if i % 2 else "C2",
                    "FAavg": X[i, 0],
                    "L": X[i, 1],
                    "TOC": X[i, 2],
                    "Y": Y[i, 0],
                }
            )
    df = pd.DataFrame(rows)
    return df.sample(frac=1.0, random_state=int(rng.integers(1000))).reset_index(drop=True)


def test_panel_per_year_matches_direct_scores() -> None:
    df = _panel()
    out = efficiency_panel(df)
    assert list(out.columns) == [
        "Stkcd",
        "year",
        "Efficiency",
        "dea_peers",
        "dea_status",
        "dea_frontier_size",
    ]
    assert out[["Stkcd", "year"]].equals(
        out[["Stkcd", "year"]].sort_values(["Stkcd", "year"]).reset_index(drop=True)
    )
    for year, g in df.groupby("year"):
        g = g.sort_values("Stkcd")
        ref = dea_loop(
            DEAProblem(g[["FAavg", "L", "TOC"]].to_numpy(), g[["Y"]].to_numpy()), backend="linprog"
        )
        got = out[out.year == year].set_index("Stkcd").loc[g["Stkcd"], "Efficiency"].to_numpy()
        np.testing.assert_allclose(got, ref.scores, rtol=0, atol=1e-9)
    assert (out["dea_frontier_size"] == 40).all() and (out["dea_status"] == "optimal").all()
    pd.testing.assert_frame_equal(out, efficiency_panel(df))  # deterministic
    by_ind = efficiency_panel(df, frontier="industry_year")
    assert (by_ind["dea_frontier_size"] == 20).all()
    # a smaller comparison group can only raise (never lower) each score
    assert (by_ind["Efficiency"].to_numpy() >= out["Efficiency"].to_numpy() - 1e-12).all()
    pooled = efficiency_panel(df, frontier="pooled")
    assert (pooled["dea_frontier_size"] == 120).all()


def test_panel_bad_values_raise_or_are_flagged() -> None:
    df = _panel()
    df.loc[df.index[3], "L"] = 0.0
    df.loc[df.index[9], "Y"] = np.nan
    with pytest.raises(InputError) as e:
        efficiency_panel(df)
    assert e.value.column == "L"
    assert e.value.rows == [(df.loc[df.index[3], "Stkcd"], df.loc[df.index[3], "year"])]
    out = efficiency_panel(df, nonpositive="drop")
    bad = out["dea_status"] == "invalid_input"
    assert bad.sum() == 2 and out.loc[bad, "Efficiency"].isna().all()
    assert out.loc[bad, "dea_peers"].isna().all()
    assert out.loc[~bad, "Efficiency"].notna().all()
    assert out.attrs["dea_invalid_rows"] == 2


def test_panel_missing_frontier_key_raises() -> None:
    df = _panel()
    df["industry"] = df["industry"].astype(object)
    df.loc[df.index[0], "industry"] = None
    with pytest.raises(InputError) as e:
        efficiency_panel(df, frontier="industry_year")
    assert e.value.column == "industry" and len(e.value.rows) == 1
    assert len(efficiency_panel(df, frontier="year")) == len(df)  # the key is unused there


def test_dea_problem_checks_options_and_matrices_once_for_both_solvers() -> None:
    with pytest.raises(InputError, match="unknown orientation 'both'"):
        DEAProblem([[1.0]], [[1.0]], orientation="both")
    with pytest.raises(InputError, match="Y has 2 rows but X has 1"):
        DEAProblem([[1.0]], [[1.0], [2.0]])
    problem = DEAProblem([1.0, 2.0, 4.0], [1.0, 1.0, 3.0], rts="crs", super_efficiency=False)
    assert problem.X.shape == (3, 1) and problem.n == 3
    # CRS with one input and one output: theta = (y/x) / max(y/x), ratios 1, 0.5, 0.75
    for res in (dea_loop(problem, backend="highs"), dea_scores(problem.X, problem.Y, super_efficiency=False)):
        np.testing.assert_allclose(res.scores, [1.0, 0.5, 0.75], rtol=1e-9)
        assert (res.rts, res.orientation, res.super_efficiency) == ("crs", "input", False)


def test_bad_options_raise() -> None:
    with pytest.raises(InputError):
        dea_scores([[1.0]], [[1.0]], rts="drs")
    with pytest.raises(InputError):
        efficiency_panel(_panel(), frontier="month")
