"""Placebo reassignment of lnINT: the distribution of the x coefficient when robot exposure is reassigned at
random across firms or industries, refitted with `FastRefit`, and its empirical p-value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from intelcap.econometrics.absorb import AbsorbedDesign, ArrayLike, _as_2d, _factorize, _TwoWayExact
from intelcap.econometrics.crv1 import _prep
from intelcap.econometrics.fastrefit import FastRefit
from intelcap.errors import EstimationError

__all__ = [
    "PlaceboResult",
    "placebo_coefficients",
    "placebo_pvalue",
    "permutation_pvalue",
    "plus_one_pvalue",
]


# ----------------------------------------------------------------------------------------------
# placebo reassignment
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlaceboResult:
    coefs: np.ndarray
    ses: np.ndarray
    coef_observed: float
    p_two_sided: float  # (1 + #|b_r| >= |b_observed|) / (1 + #draws), `permutation_pvalue`
    x_draws: np.ndarray | None = field(default=None, repr=False)  # first `keep_draws` raw x_r


def _industry_series(x: np.ndarray, firm: np.ndarray, ind: np.ndarray, yr: np.ndarray, T: int) -> np.ndarray:
    """Recover g[j, t] in x_it = a_i + g_{j(i),t} (up to an industry constant, absorbed by firm FE).

    Within-firm differences between consecutive observed years identify g_j,t - g_j,t'; solve the
    small least-squares problem per industry and check the model holds exactly.
    """
    J = int(ind.max()) + 1
    g = np.full((J, T), np.nan)
    order = np.lexsort((yr, firm))
    f_o, y_o, x_o, j_o = firm[order], yr[order], x[order], ind[order]
    same = f_o[1:] == f_o[:-1]
    for j in range(J):
        m = same & (j_o[1:] == j)
        t_obs = np.unique(yr[ind == j])
        if m.sum() == 0:
            g[j, t_obs] = 0.0
            continue
        pos = np.full(T, -1, dtype=np.int64)
        pos[t_obs] = np.arange(len(t_obs))
        # normal equations of the difference design (rows e_t - e_s): a small Laplacian, built by
        # bincount instead of an (obs x years) dense matrix; + the normalisation row g_j,first = 0
        nt = len(t_obs)
        hi, lo = pos[y_o[1:][m]], pos[y_o[:-1][m]]
        dx = x_o[1:][m] - x_o[:-1][m]
        AtA = (
            np.bincount(hi * nt + hi, minlength=nt * nt)
            + np.bincount(lo * nt + lo, minlength=nt * nt)
            - np.bincount(hi * nt + lo, minlength=nt * nt)
            - np.bincount(lo * nt + hi, minlength=nt * nt)
        )
        AtA = AtA.reshape(nt, nt).astype(float)
        AtA[0, 0] += 1.0
        Atb = np.bincount(hi, weights=dx, minlength=nt) - np.bincount(lo, weights=dx, minlength=nt)
        g[j, t_obs] = np.linalg.lstsq(AtA, Atb, rcond=None)[0]
    a = x - g[ind, yr]
    by_firm = pd.Series(a).groupby(firm)
    spread = (by_firm.max() - by_firm.min()).to_numpy()
    if np.nanmax(spread) > 1e-8 * max(1.0, np.abs(x).max()):
        raise EstimationError(
            "x is not a firm constant plus an industry x year series (firm switches industry, or x has "
            "firm-specific time variation): industry reassignment is undefined"
        )
    return g


def _finite(a: np.ndarray) -> np.ndarray:
    if not np.isfinite(a).all():
        raise EstimationError("a reassigned robot series is missing in some year of the receiving firm")
    return a


@dataclass(frozen=True)
class _Reassignment:
    """One way of drawing placebo x: each draw is a permutation (`new_perm()`, consumes the RNG) and a row-wise
    gather (`values(perm, rows)`, rows = index arrays of the estimation sample in any row order), so that the
    fast path can build draws directly in its own row order with the same random stream. A draw of x is
    `base + values(perm, rows)`."""

    base: np.ndarray
    new_perm: Callable[[], np.ndarray]
    values: Callable[[np.ndarray, dict], np.ndarray]
    rows: dict


def _industry_reassignment(
    xk: np.ndarray,
    firm: np.ndarray,
    ind: np.ndarray,
    yr: np.ndarray,
    T: int,
    reassign: str,
    rng: np.random.Generator,
) -> _Reassignment:
    """x = a_i + g_{j(i),t}: a reassigned path is another unit's robot series, defined in every year the series
    exists (a_i is absorbed by the firm FE), so unbalanced panels need no strata."""
    n_firm = int(firm.max()) + 1
    gser = _industry_series(xk, firm, ind, yr, T)
    base = xk - gser[ind, yr]
    gflat = gser.ravel()
    rows = {"firm": firm, "yr": yr, "ind": ind}
    if reassign == "firm":
        ind_of_firm = np.zeros(n_firm, dtype=np.int64)
        ind_of_firm[firm] = ind

        def new_perm() -> np.ndarray:
            return ind_of_firm[rng.permutation(n_firm)]

        def values(perm: np.ndarray, rows: dict) -> np.ndarray:
            return gflat[perm[rows["firm"]] * T + rows["yr"]]

        return _Reassignment(base, new_perm, values, rows)
    J = gser.shape[0]

    def new_perm_ind() -> np.ndarray:
        return rng.permutation(J)

    def values_ind(perm: np.ndarray, rows: dict) -> np.ndarray:
        return gflat[perm[rows["ind"]] * T + rows["yr"]]

    return _Reassignment(base, new_perm_ind, values_ind, rows)


def _path_reassignment(
    xk: np.ndarray, firm: np.ndarray, yr: np.ndarray, T: int, rng: np.random.Generator
) -> _Reassignment:
    """Generic x: permute whole paths among firms observed in exactly the same years."""
    n_firm = int(firm.max()) + 1
    wide = np.full((n_firm, T), np.nan)
    wide[firm, yr] = xk
    wflat = wide.ravel()
    pattern = _factorize(["".join("1" if v else "0" for v in row) for row in ~np.isnan(wide)])[0]
    strata = [np.flatnonzero(pattern == s) for s in range(pattern.max() + 1)]
    if max(len(s) for s in strata) < 2:
        raise EstimationError("no two firms share the same years: pass industry_ids to reassign paths")

    def new_perm() -> np.ndarray:
        perm = np.arange(n_firm)
        for s in strata:
            perm[s] = rng.permutation(s)
        return perm

    def values(perm: np.ndarray, rows: dict) -> np.ndarray:
        return wflat[perm[rows["firm"]] * T + rows["yr"]]

    return _Reassignment(np.zeros_like(xk), new_perm, values, {"firm": firm, "yr": yr, "ind": None})


@dataclass
class _Draws:
    """Placebo coefficients and SEs by block, and the first `keep_draws` raw x_r."""

    coefs: list[np.ndarray] = field(default_factory=list)
    ses: list[np.ndarray] = field(default_factory=list)
    kept: list[np.ndarray] = field(default_factory=list)


@dataclass(frozen=True)
class _Plan:
    """What both refit engines draw: K reassignments from `r` in blocks of `chunk`, keeping the first
    `keep_draws` raw x_r."""

    r: _Reassignment
    K: int
    chunk: int | None
    keep_draws: int


def _placebo_iterative(
    d: AbsorbedDesign,
    y: ArrayLike,
    x: ArrayLike,
    W: ArrayLike | None,
    cluster: ArrayLike,
    plan: _Plan,
) -> tuple[float, _Draws]:
    """Any design: each block of draws is re-demeaned by alternating projections and refitted with FastRefit."""
    r, K, keep_draws = plan.r, plan.K, plan.keep_draws
    out = _Draws()
    cl, G, k_fe, (yd, xd, Wd) = _prep(d, cluster, y, x, W)
    Wd = _as_2d(Wd, yd.shape[0])
    fr = FastRefit(Wd if Wd.shape[1] else None, cl, k_fe)
    observed = fr.fit_many_x(yd, xd).coef[0]
    step = plan.chunk or fr.chunk
    for k0 in range(0, K, step):
        Xr = np.column_stack(
            [_finite(r.base + r.values(r.new_perm(), r.rows)) for _ in range(min(step, K - k0))]
        )
        if k0 < keep_draws:
            out.kept.append(Xr[:, : keep_draws - k0].copy())
        res = fr.fit_many_x(yd, d.transform(Xr), overwrite=True)
        out.coefs.append(res.coef)
        out.ses.append(res.se)
    return float(observed), out


def _sorted_demeaned(
    d: AbsorbedDesign, tw: _TwoWayExact, y: ArrayLike, xk: np.ndarray, W: ArrayLike | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """y, x and W on rows sorted by the large FE, demeaned exactly (`_TwoWayExact`)."""
    o = tw.order
    ys = tw.demean_sorted(np.asarray(d.subset(np.asarray(y, dtype=float)), dtype=float)[o][:, None])[:, 0]
    xs = tw.demean_sorted(xk[o][:, None])[:, 0]
    Ws = None
    if W is not None:
        Wa = _as_2d(d.subset(np.asarray(W.to_numpy() if isinstance(W, pd.DataFrame) else W, dtype=float)))
        if Wa.shape[1]:
            Ws = tw.demean_sorted(np.ascontiguousarray(Wa[o]))
    if not (np.isfinite(ys).all() and np.isfinite(xs).all() and (Ws is None or np.isfinite(Ws).all())):
        raise EstimationError("non-finite values in a regression variable; drop or impute them first")
    return ys, xs, Ws


def _placebo_two_way(
    d: AbsorbedDesign,
    tw: _TwoWayExact,
    y: ArrayLike,
    xk: np.ndarray,
    W: ArrayLike | None,
    cluster: ArrayLike,
    plan: _Plan,
) -> tuple[float, _Draws]:
    """Fast path (same draws in the same order): rows sorted by the large FE, everything demeaned exactly in one
    pass (_TwoWayExact), draws built directly in sorted order as rows of a (draws x N) block, controls
    partialled out with single-threaded BLAS, cluster sums as contiguous segment sums when the clusters are
    sorted too (firm clusters)."""
    r, K, keep_draws = plan.r, plan.K, plan.keep_draws
    out = _Draws()
    cl, G, k_fe, _ = _prep(d, cluster)
    o = tw.order
    ys, xs, Ws = _sorted_demeaned(d, tw, y, xk, W)
    frs = FastRefit(Ws, cl[o], k_fe)
    yp = frs.partial(ys[:, None])[:, 0]
    observed = frs.fit_many_x(ys, xs).coef[0]
    rows_s = {k: (None if v is None else v[o]) for k, v in r.rows.items()}
    step = plan.chunk or frs.chunk
    for k0 in range(0, K, step):
        m = min(step, K - k0)
        Xt = np.empty((m, ys.shape[0]))
        for j in range(m):
            perm = r.new_perm()
            if k0 + j < keep_draws:
                out.kept.append(_finite(r.base + r.values(perm, r.rows))[:, None])
            Xt[j] = r.values(perm, rows_s)  # the firm constant a_i is absorbed exactly: not added
        tw.demean_rows(Xt)
        b, se = frs.fit_rows(yp, Xt)
        out.coefs.append(b)
        out.ses.append(se)
    return float(observed), out


def placebo_coefficients(
    y: ArrayLike,
    x: ArrayLike,
    W: ArrayLike | None,
    fe_design: AbsorbedDesign,
    cluster: ArrayLike,
    reassign: Literal["firm", "industry"],
    K: int,
    seed: int | None,
    firm_ids: ArrayLike,
    industry_ids: ArrayLike | None = None,
    *,
    year_ids: ArrayLike,
    chunk: int | None = None,
    keep_draws: int = 0,
    fast: bool = True,
) -> PlaceboResult:
    """Placebo distribution of the x coefficient under random reassignment of lnINT.

    With industry_ids, x must be a firm constant plus an industry x year series (lnINT; checked):
    reassign="firm" gives each firm the series of a randomly permuted firm (= another firm's whole
    x path up to its constant, which the firm FE absorb; defined in every year, so unbalanced panels
    are fine); reassign="industry" permutes the industries' series, x_r = x - g_{j(i),t} +
    g_{pi(j(i)),t}. Without industry_ids (firm only) whole x paths are permuted among firms observed
    in exactly the same years (a plain permutation in a balanced panel). Refits use FastRefit on the
    estimation sample of `fe_design`; x_r is re-demeaned in chunks to bound memory.

    `fast` (default): with two unweighted FE, one of them with few levels (firm + year), each block of
    draws is demeaned exactly in one pass (FWL: firm demeaning + a T x T year projection) on rows sorted
    by firm, and cluster sums are contiguous segment sums; same draws and results (to rounding) as
    `fast=False`, which re-demeans the draws by alternating projections.
    """
    rng = np.random.default_rng(seed)
    d = fe_design
    if reassign not in ("firm", "industry"):
        raise ValueError(f"reassign must be 'firm' or 'industry', not {reassign!r}")
    firm = _factorize(d.subset(np.asarray(firm_ids)))[0]
    yr = _factorize(d.subset(np.asarray(year_ids)))[0]
    xk = np.asarray(d.subset(np.asarray(x, dtype=float)), dtype=float)
    T = int(yr.max()) + 1
    if industry_ids is not None:
        ind = _factorize(d.subset(np.asarray(industry_ids)))[0]
        r = _industry_reassignment(xk, firm, ind, yr, T, reassign, rng)
    elif reassign == "firm":
        r = _path_reassignment(xk, firm, yr, T, rng)
    else:
        raise EstimationError("industry reassignment needs industry_ids")
    tw = _TwoWayExact.from_design(d) if fast else None
    plan = _Plan(r, K, chunk, keep_draws)
    if tw is None:
        observed, draws = _placebo_iterative(d, y, x, W, cluster, plan)
    else:
        observed, draws = _placebo_two_way(d, tw, y, xk, W, cluster, plan)
    c = np.concatenate(draws.coefs)
    return PlaceboResult(
        c,
        np.concatenate(draws.ses),
        observed,
        permutation_pvalue(c, observed) if np.isfinite(c).any() else float("nan"),
        np.column_stack(draws.kept) if draws.kept else None,
    )


def plus_one_pvalue(n_extreme: int, n_draws: int) -> float:
    """The one p-value rule of every permutation and placebo test: (b + 1) / (m + 1) for b of m draws at least
    as extreme as the observed statistic.

    The +1 counts the actual assignment as one of the permutations (Phipson & Smyth 2010), so p is never 0
    with a finite number of draws: with 500 draws the smallest p is 1/501 ≈ 0.002."""
    b, m = int(n_extreme), int(n_draws)
    if m < 1 or not 0 <= b <= m:
        raise EstimationError(f"permutation p-value needs 0 <= extreme draws <= draws >= 1, got {b} of {m}")
    return (b + 1) / (m + 1)


def permutation_pvalue(
    draws: Sequence[float] | np.ndarray,
    observed: float,
    alternative: Literal["two-sided", "directional"] = "two-sided",
) -> float:
    """`plus_one_pvalue` of a statistic's permutation draws: two-sided counts |d_r| >= |observed|;
    directional counts d_r >= observed for observed >= 0, else d_r <= observed. Non-finite draws are left
    out (and so not counted in m)."""
    d = np.asarray(draws, dtype=float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        raise EstimationError("no finite permutation or placebo draws")
    if alternative == "two-sided":
        extreme = np.abs(d) >= abs(observed)
    elif alternative == "directional":
        extreme = d >= observed if observed >= 0 else d <= observed
    else:
        raise ValueError(f"alternative must be 'two-sided' or 'directional', not {alternative!r}")
    return plus_one_pvalue(int(extreme.sum()), d.size)


def placebo_pvalue(coefs: Sequence[float] | np.ndarray, actual: float, two_sided: bool = True) -> float:
    """Empirical placebo p-value (1 + #{draws at least as extreme}) / (1 + #draws): `permutation_pvalue`."""
    return permutation_pvalue(coefs, actual, "two-sided" if two_sided else "directional")
