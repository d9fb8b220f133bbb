"""Numerical inference for the fixed-effects regressions of Tables 4-6 and the robustness extension: 2SLS
with first-stage and effective F, the Anderson-Rubin set, shift-share (AKM) standard errors and group
differences (interacted model, permutation test).

Everything works on numpy arrays after the fixed effects have been projected out once
(Frisch-Waugh-Lovell), so that many refits (placebos, permutations, bootstrap draws, AR grids)
cost a few dot products each instead of a new `feols` call. The machinery lives in its own modules:
`absorb` (AbsorbedDesign: singletons, demeaning, FE degrees of freedom), `crv1` (OLS with CRV1),
`fastrefit` (FastRefit and per-firm Gram refits), `wild` (wild cluster bootstrap) and `placebo`
(placebo reassignment of lnINT).

Conventions (docs/methods.md#conventions):

* CRV1: V = G/(G-1) * (N-1)/(N-K) * bread * meat * bread, K = slopes + `AbsorbedDesign.dof_fe`.
  `dof_fe` copies pyfixest 0.60 `ssc(k_fixef="nonnested")`: sum of FE levels, minus (n_fe - 1)
  redundancies, minus the levels of every FE nested in the cluster variable, plus one per such FE
  (the absorbed intercept, which reghdfe also counts as `_cons`). For firm + year FE with firm
  clusters that is K = k + T, the reghdfe number. Departure from reghdfe: reghdfe counts the exact
  redundancies of the first two FEs from the connected components of their bipartite graph, pyfixest
  (and we) always subtract n_fe - 1. They differ when the graph is disconnected, e.g. firm + year x G
  FE in the fully interacted model (two components -> reghdfe K is one smaller).
* t reference distribution for clustered inference: t(G - 1), as pyfixest and reghdfe.
* Singletons are dropped iteratively (reghdfe / pyfixest default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

from intelcap import distributions
from intelcap.econometrics.absorb import AbsorbedDesign, ArrayLike, _as_2d, _factorize
from intelcap.econometrics.crv1 import (
    OLSResult,
    _cluster_matrix,
    _clusters,
    _prep,
    _solve_xtx,
    _t_pvalue,
    crv1_ssc,
    ols_crv1,
)
from intelcap.econometrics.fastrefit import _one_blas_thread, _SubsampleFWL
from intelcap.econometrics.placebo import permutation_pvalue
from intelcap.errors import EstimationError

__all__ = [
    "IVSample",
    "DemeanedIV",
    "IVResult",
    "IVStrength",
    "demeaned_columns",
    "iv_2sls",
    "iv_strength",
    "ARResult",
    "ar_confidence_set",
    "quadratic_set",
    "AKMResult",
    "akm_se",
    "akm_result",
    "residualize",
    "DiffResult",
    "GroupSample",
    "interacted_difference",
    "PermutationResult",
    "permutation_difference",
]


# ----------------------------------------------------------------------------------------------
# 1. 2SLS with absorbed FE
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IVResult:
    beta: float  # coefficient of the endogenous regressor
    se: float
    coef: np.ndarray  # [endogenous, W...]
    V: np.ndarray
    first_stage_coef: float
    first_stage_se: float
    first_stage_F: float  # cluster-robust Wald F = KP rk Wald F (one instrument, one endogenous)
    first_stage_p: float
    effective_F: float  # Olea-Pflueger, pyfixest formula; equals first_stage_F with one instrument
    n_obs: int
    n_clusters: int
    k: int

    @property
    def pvalue(self) -> float:
        return float(_t_pvalue(self.beta / self.se, self.n_clusters - 1))


class DemeanedIV(NamedTuple):
    """A just-identified IV sample after the fixed effects are projected out: y and the endogenous x (1-D),
    `ZW` the instrument in column 0 then the exogenous regressors, the cluster codes, their number G and the
    FE's degrees of freedom given them (`k_fe`)."""

    y: np.ndarray
    x: np.ndarray
    ZW: np.ndarray
    cl: np.ndarray
    G: int
    k_fe: int


@dataclass(frozen=True, eq=False)
class IVSample:
    """The data of one just-identified IV model with absorbed FE, as `iv_2sls` and `ar_confidence_set` take
    it: outcome `y`, one endogenous regressor `x_endog`, one instrument `z`, the exogenous regressors `W`
    (None: none), the absorbed fixed effects and the cluster variable, all of input length (`fe_design`
    drops the singletons). Demeaned once, on first use (`demeaned`), for every statistic asked of it."""

    y: ArrayLike
    x_endog: ArrayLike
    z: ArrayLike
    W: ArrayLike | None
    fe_design: AbsorbedDesign
    cluster: ArrayLike

    def __post_init__(self) -> None:
        shapes = {name: np.shape(getattr(self, name)) for name in ("x_endog", "z")}
        if any(shape[1:] not in ((), (1,)) for shape in shapes.values()):
            raise EstimationError(
                "IVSample holds one endogenous regressor and one instrument, got "
                + ", ".join(f"{name} of shape {shape}" for name, shape in shapes.items())
            )

    @cached_property
    def demeaned(self) -> DemeanedIV:
        """The sample within-transformed by `fe_design` (`_prep`), with the instrument and W stacked."""
        cl, G, k_fe, (yd, xd, zd, Wd) = _prep(
            self.fe_design, self.cluster, self.y, self.x_endog, self.z, self.W
        )
        ZW = np.column_stack([np.asarray(zd, dtype=float).reshape(-1), _as_2d(Wd, yd.shape[0])])
        return DemeanedIV(yd, np.asarray(xd, dtype=float).reshape(-1), ZW, cl, G, k_fe)


def iv_2sls(sample: IVSample) -> IVResult:
    """Just-identified 2SLS with absorbed FE and CRV1 (pyfixest / ivreghdfe small-sample factor).

    V = ssc * (X'PzX)^-1 sum_g Xhat_g'u_g u_g'Xhat_g (X'PzX)^-1, Xhat = Pz X, u = y - X b (structural
    residual), ssc with K = 1 + p + dof_fe. First stage x ~ z + W + FE with the same CRV1.
    """
    yd, xd, Z, cl, G, k_fe = sample.demeaned
    X = np.hstack([xd[:, None], Z[:, 1:]])
    n = X.shape[0]
    ZZinv = _solve_xtx(Z)
    Xhat = Z @ (ZZinv @ (Z.T @ X))
    bread = _solve_xtx(Xhat)
    beta = bread @ (Xhat.T @ yd)
    u = yd - X @ beta
    C = _cluster_matrix(cl, G)
    S = C @ (Xhat * u[:, None])
    k = X.shape[1] + k_fe
    V = crv1_ssc(n, k, G) * bread @ (S.T @ S) @ bread
    fs, F, eff = _first_stage(xd, Z, cl, k_fe)
    return IVResult(
        beta=float(beta[0]),
        se=float(np.sqrt(V[0, 0])),
        coef=beta,
        V=V,
        first_stage_coef=float(fs.beta[0]),
        first_stage_se=float(fs.se[0]),
        first_stage_F=F,
        first_stage_p=float(distributions.f_sf(F, 1, G - 1)),
        effective_F=eff,
        n_obs=n,
        n_clusters=G,
        k=k,
    )


def _first_stage(xd: np.ndarray, ZW: np.ndarray, cl: np.ndarray, k_fe: int) -> tuple[OLSResult, float, float]:
    """First stage x ~ (z, W) on demeaned data with CRV1 (K = 1 + p + k_fe): the fit, the cluster-robust F of
    the instrument (column 0 of ZW) and the Olea-Pflueger effective F as pyfixest computes it: Q_zz from the
    FE-demeaned instrument (not W-partialled); with one instrument Q_zz cancels and F_eff = F exactly."""
    fs = ols_crv1(xd, ZW, cl, k_fe)
    F = float((fs.beta[0] / fs.se[0]) ** 2)
    zd = ZW[:, :1]
    Qzz = zd.T @ zd
    pi = fs.beta[:1]
    eff = float(pi @ Qzz @ pi / np.trace(fs.V[:1, :1] @ Qzz))
    return fs, F, eff


def demeaned_columns(
    fe_design: AbsorbedDesign, cluster: ArrayLike, columns: list[ArrayLike]
) -> tuple[np.ndarray, int, int, np.ndarray]:
    """`_prep` for many 1-D columns at once: (cluster codes, G, dof_fe, the N x m within-transformed columns in
    one Fortran-ordered array). Column by column, so no N x m temporary beyond the result; the same numbers as
    `_prep` (the demeaner treats every column on its own, scaled by its own max |value|)."""
    cl, G, k_fe = _clusters(fe_design, cluster)
    out = np.empty((cl.shape[0], len(columns)), order="F")
    for j, a in enumerate(columns):
        out[:, j] = fe_design.transform(np.asarray(a, dtype=float).reshape(-1))
    return cl, G, k_fe, out


@dataclass(frozen=True)
class IVStrength:
    """The weak-IV-robust footer of one just-identified 2SLS model (`iv_strength`)."""

    first_stage_F: float
    effective_F: float
    ar: ARResult


def iv_strength(demeaned: DemeanedIV, level: float = 0.95, dist: Literal["chi2", "f"] = "chi2") -> IVStrength:
    """First-stage F, effective F (as `iv_2sls`) and the Anderson-Rubin set (as `ar_confidence_set`) from
    demeaned data, e.g. views of one `demeaned_columns` array (nothing is stacked). The 2SLS itself is not
    refitted."""
    _, F, eff = _first_stage(demeaned.x, demeaned.ZW, demeaned.cl, demeaned.k_fe)
    return IVStrength(F, eff, _ar_set(demeaned, level, dist))


# ----------------------------------------------------------------------------------------------
# 2. Anderson-Rubin confidence set
# ----------------------------------------------------------------------------------------------
Kind = Literal["bounded", "union_of_rays", "real_line", "empty"]


def quadratic_set(
    a: float, b: float, c: float, rtol: float = 1e-12
) -> tuple[list[tuple[float, float]], Kind]:
    """{t : a t^2 + b t + c <= 0} as a list of closed intervals (with +-inf) and its kind."""
    scale = max(abs(a), abs(b), abs(c), 1e-300)
    inf = float("inf")
    if abs(a) <= rtol * scale:  # degenerate: linear
        if abs(b) <= rtol * scale:
            return ([(-inf, inf)], "real_line") if c <= 0 else ([], "empty")
        r = -c / b
        return ([(-inf, r)] if b > 0 else [(r, inf)]), "union_of_rays"
    disc = b * b - 4 * a * c
    if disc < 0:
        return ([], "empty") if a > 0 else ([(-inf, inf)], "real_line")
    sq = np.sqrt(disc)
    # numerically stable roots
    q = -0.5 * (b + np.copysign(sq, b))
    r1, r2 = sorted([q / a, c / q if q != 0 else -b / (2 * a)])
    if a > 0:
        return [(float(r1), float(r2))], "bounded"
    return [(-inf, float(r1)), (float(r2), inf)], "union_of_rays"


@dataclass(frozen=True)
class ARResult:
    intervals: list[tuple[float, float]]
    kind: Kind
    stat_at_zero: float
    p_at_zero: float
    crit: float = float("nan")
    level: float = 0.95
    dist: str = "chi2"
    _num: tuple[float, float, float] = field(default=(0.0, 0.0, 0.0), repr=False)
    _den: tuple[float, float, float] = field(default=(0.0, 0.0, 0.0), repr=False)
    _df: int = field(default=1, repr=False)

    def stat(self, beta0: float | np.ndarray) -> np.ndarray:
        """AR statistic at beta0 (ratio of two quadratics)."""
        b = np.asarray(beta0, dtype=float)
        n0, n1, n2 = self._num
        d0, d1, d2 = self._den
        return (n0 + n1 * b + n2 * b * b) / (d0 + d1 * b + d2 * b * b)

    def pvalue(self, beta0: float | np.ndarray) -> np.ndarray:
        s = self.stat(beta0)
        return distributions.chi2_sf(s, 1) if self.dist == "chi2" else distributions.f_sf(s, 1, self._df)

    def contains(self, beta0: float) -> bool:
        return any(lo <= beta0 <= hi for lo, hi in self.intervals)


def ar_confidence_set(sample: IVSample, level: float = 0.95, dist: Literal["chi2", "f"] = "chi2") -> ARResult:
    """Cluster-robust Anderson-Rubin set for one endogenous regressor and one instrument.

    AR(b0) = Wald statistic (CRV1, K = 1 + p + dof_fe) of gamma = 0 in (y - b0 x) ~ z + W + FE.
    With z_perp = z residualised on W and e_y, e_x the residuals of y and x on (z, W):
        gamma(b0) = (z_perp'y - b0 z_perp'x) / z_perp'z_perp,
        score_g(b0) = z_perp_g'e_y,g - b0 z_perp_g'e_x,g,
    so AR(b0) * D(b0) = N(b0) with quadratics N, D and {AR <= crit} is N - crit*D <= 0: solved
    exactly. The leading coefficient is positive iff the first-stage robust F exceeds crit, hence a
    bounded set iff the instrument is "strong" at that level. crit = chi2_1 (ivreg2/weakiv) or
    F(1, G-1) (pyfixest's t(G-1) convention).
    """
    return _ar_set(sample.demeaned, level, dist)


def _ar_set(demeaned: DemeanedIV, level: float, dist: Literal["chi2", "f"]) -> ARResult:
    """`ar_confidence_set` on the demeaned sample."""
    yd, xd, ZW, cl, G, k_fe = demeaned
    zd, Wd = ZW[:, 0], ZW[:, 1:]
    n = yd.shape[0]
    _solve_xtx(ZW)
    if Wd.shape[1]:
        Qw, _ = np.linalg.qr(Wd, mode="reduced")
        zp = zd - Qw @ (Qw.T @ zd)
        del Qw
    else:
        zp = zd
    Qzw, _ = np.linalg.qr(ZW, mode="reduced")
    ey = yd - Qzw @ (Qzw.T @ yd)
    ex = xd - Qzw @ (Qzw.T @ xd)
    del Qzw
    zz = zp @ zp
    a1, a2 = zp @ yd / zz, zp @ xd / zz
    C = _cluster_matrix(cl, G)
    p = C @ (zp * ey)
    q = C @ (zp * ex)
    ssc = crv1_ssc(n, 1 + Wd.shape[1] + k_fe, G)
    # AR(b) = zz^2 (a1 - b a2)^2 / (ssc * sum_g (p_g - b q_g)^2)
    num = (zz**2 * a1 * a1, -2 * zz**2 * a1 * a2, zz**2 * a2 * a2)
    den = (ssc * (p @ p), -2 * ssc * (p @ q), ssc * (q @ q))
    crit = float(distributions.chi2_ppf(level, 1) if dist == "chi2" else distributions.f_ppf(level, 1, G - 1))
    coefs = [num[i] - crit * den[i] for i in range(3)]
    intervals, kind = quadratic_set(coefs[2], coefs[1], coefs[0])
    s0 = num[0] / den[0]
    p0 = float(distributions.chi2_sf(s0, 1) if dist == "chi2" else distributions.f_sf(s0, 1, G - 1))
    return ARResult(intervals, kind, float(s0), p0, crit, level, dist, num, den, G - 1)


# ----------------------------------------------------------------------------------------------
# 3. shift-share (AKM) standard errors
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AKMResult:
    beta: float
    se_akm: float
    p_akm: float
    ci_akm: tuple[float, float]
    se_akm0: float  # at beta0, null imposed
    p_akm0: float
    ci_akm0: list[tuple[float, float]]
    ci_akm0_kind: Kind
    beta0: float
    n_shocks: int


def residualize(fe_design: AbsorbedDesign, W: ArrayLike | None, *arrays: ArrayLike) -> list[np.ndarray]:
    """FE-demean and partial W out of each array (the 'double dot' variables of AKM)."""
    Wd = None if W is None else _as_2d(fe_design.demean(np.asarray(W, dtype=float)))
    out = []
    Q = np.linalg.qr(Wd, mode="reduced")[0] if Wd is not None and Wd.shape[1] else None
    for a in arrays:
        d = fe_design.demean(np.asarray(a, dtype=float))
        out.append(d if Q is None else d - Q @ (Q.T @ d))
    return out


def akm_se(
    y_res_dm: ArrayLike,
    x_dm: ArrayLike,
    shares: ArrayLike | sp.sparray,
    *,
    shock_cluster: ArrayLike | None = None,
    beta0: float = 0.0,
    alpha: float = 0.05,
) -> AKMResult:
    """Adao-Kolesar-Morales (2019) shift-share SE, as in their R package ShiftShareSE (`reg_ss`).

    Inputs are residualised on all controls and FE (y_res_dm = Y.., x_dm = X..). `shares` is an
    N x S share matrix (dense or scipy sparse) or a 1-D array of shock ids (each unit fully exposed to
    one shock: here shock = IFR industry x year). With X^_s the coefficients of X.. on the shares,
    R_s = sum_i s_is u_i (u = OLS residual) and RX = sum_i X..^2:
        se_AKM^2 = sum_s (X^_s R_s)^2 / RX^2       (shocks grouped by `shock_cluster` are summed first)
    AKM0 replaces u by the null-imposed residual Y.. - beta0 X..; its CI is the quadratic inequality
    (b - beta)^2 RX^2 <= z^2 sum_s (X^_s (R_s + (beta - b) W_s))^2, W_s = X^_s sum_i s_is X.._i.
    For 0/1 one-shock-per-unit shares and X.. constant within shock cells (balanced panel, no extra
    controls) se_AKM equals the CRV0 SE clustered by shock and BHJ's shock-level regression SE.
    No small-sample factor and normal critical values, as in ShiftShareSE.
    """
    Y = np.asarray(y_res_dm, dtype=float).ravel()
    X = np.asarray(x_dm, dtype=float).ravel()
    if sp.issparse(shares) or np.asarray(shares).ndim == 2:
        S = sp.csr_array(shares) if sp.issparse(shares) else sp.csr_array(np.asarray(shares, dtype=float))
    else:
        codes, n_s = _factorize(shares)
        S = sp.csr_array(
            (np.ones(codes.shape[0]), (np.arange(codes.shape[0]), codes)), shape=(len(codes), n_s)
        )
    RX = X @ X
    beta = float(X @ Y / RX)
    u = Y - beta * X
    StS = (S.T @ S).toarray()
    hX = np.linalg.lstsq(StS, S.T @ X, rcond=None)[0]
    cR = hX * (S.T @ u)
    cR0 = hX * (S.T @ (Y - beta0 * X))
    cW = hX * (S.T @ X)
    if shock_cluster is not None:
        sc, n_c = _factorize(shock_cluster)
        agg = _cluster_matrix(sc, n_c)
        cR, cR0, cW = agg @ cR, agg @ cR0, agg @ cW
    se = float(np.sqrt(cR @ cR) / RX)
    se0 = float(np.sqrt(cR0 @ cR0) / RX)
    z = float(distributions.norm_ppf(1 - alpha / 2))
    # AKM0 set in b: (beta - b)^2 RX^2 - z^2 sum (cR + (beta - b) cW)^2 <= 0; put d = beta - b
    a2 = RX**2 - z**2 * (cW @ cW)
    a1 = -2 * z**2 * (cR @ cW)
    a0 = -(z**2) * (cR @ cR)
    dset, kind = quadratic_set(a2, a1, a0)
    ci0 = sorted((beta - hi, beta - lo) for lo, hi in dset)
    return akm_result(beta, se, se0, z, beta0, ci0, kind, S.shape[1])


def akm_result(
    beta: float, se: float, se0: float, z: float, beta0: float, ci0: list, kind: str, n_shocks: int
) -> AKMResult:
    """AKM and AKM0 inference from their standard errors: normal p-values for H0: beta = beta0 and the AKM
    interval beta ± z·se (the AKM0 set `ci0` comes from its own quadratic)."""
    return AKMResult(
        beta=beta,
        se_akm=se,
        p_akm=float(2 * distributions.norm_sf(abs(beta - beta0) / se)),
        ci_akm=(beta - z * se, beta + z * se),
        se_akm0=se0,
        p_akm0=float(2 * distributions.norm_sf(abs(beta - beta0) / se0)),
        ci_akm0=ci0,
        ci_akm0_kind=kind,
        beta0=beta0,
        n_shocks=n_shocks,
    )


# ----------------------------------------------------------------------------------------------
# 4. group differences
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiffResult:
    delta: float
    se: float
    p: float
    beta_g0: float
    beta_g1: float
    groups: tuple
    n_obs: int
    n_clusters: int


def _binary(group: ArrayLike) -> tuple[np.ndarray, tuple]:
    codes, n = _factorize(group)
    if n != 2:
        raise EstimationError(f"group variable must have exactly 2 values, found {n}")
    labels = tuple(np.sort(pd.unique(np.asarray(group))))
    return codes.astype(float), labels


@dataclass(frozen=True, eq=False)
class GroupSample:
    """The data of one comparison of a slope between two groups of firm-years, as `interacted_difference` and
    `permutation_difference` take it: outcome `y`, regressor `x`, controls `W` (None: none), the firm and year
    ids and the group label of every firm-year (exactly two values; G1 = the larger label)."""

    y: ArrayLike
    x: ArrayLike
    W: ArrayLike | None
    firm_ids: ArrayLike
    year_ids: ArrayLike
    group: ArrayLike

    @cached_property
    def codes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
        """Firm codes, year codes, the group as 0.0/1.0 and the two group labels (computed once for both
        tests; a group variable without exactly two values raises EstimationError)."""
        g, labels = _binary(self.group)
        return _factorize(self.firm_ids)[0], _factorize(self.year_ids)[0], g, labels


def interacted_difference(sample: GroupSample, cluster: ArrayLike | None = None) -> DiffResult:
    """Chow test with full interactions: y = b x + d x*G + W'c + (W*G)'l + firm FE + year x G FE.

    d equals b_G1 - b_G0 of two separate firm + year FE regressions (same slopes, FE and sample
    split). CRV1 clustered by firm unless `cluster` is given.
    Note (module doc): pyfixest and this function count year x G as 2T - 1 FE df; reghdfe 2T - 2.
    """
    firm, yr, g, labels = sample.codes
    fe = np.column_stack([firm, yr * 2 + g.astype(np.int64)])
    design = AbsorbedDesign(fe)
    x = np.asarray(sample.x, dtype=float)
    Wr = _as_2d(sample.W, len(x))
    X = np.column_stack([x, x * g, Wr, Wr * g[:, None]])
    cl = sample.firm_ids if cluster is None else cluster
    cls, G, k_fe, (yd, Xd) = _prep(design, cl, sample.y, X)
    res = ols_crv1(yd, Xd, cls, k_fe)
    gk = design.subset(g)
    b0 = _group_beta(yd, Xd[:, [0] + list(range(2, 2 + Wr.shape[1]))], gk == 0)
    b1 = _group_beta(yd, Xd[:, [0] + list(range(2, 2 + Wr.shape[1]))], gk == 1)
    return DiffResult(
        float(res.beta[1]), float(res.se[1]), float(res.pvalue[1]), b0, b1, labels, res.n_obs, G
    )


def _group_beta(yd: np.ndarray, Xd: np.ndarray, m: np.ndarray) -> float:
    Xg = Xd[m]
    return float(np.linalg.solve(Xg.T @ Xg, Xg.T @ yd[m])[0])


@dataclass(frozen=True)
class PermutationResult:
    d_hat: float
    beta_g0: float
    beta_g1: float
    p_one_sided: float  # (1 + #{d* >= d}) / (K + 1) if d >= 0, (1 + #{d* <= d}) / (K + 1) otherwise
    p_two_sided: float  # (1 + #{|d*| >= |d|}) / (K + 1)
    d_perm: np.ndarray = field(repr=False)
    K: int = 0


def permutation_difference(
    sample: GroupSample,
    K: int = 1000,
    seed: int | None = None,
    level: Literal["firm", "obs"] = "firm",
    batch: int = 64,
) -> PermutationResult:
    """Fisher permutation test of b_G1 - b_G0 (Stata `bdiff`, Lian & Liao 2017).

    Group labels are permuted K times keeping group sizes: whole firms (default; the label must be
    constant within firm) or single observations. Each group is re-estimated with firm + year FE
    (exactly, through `_SubsampleFWL`: no iterative demeaning per permutation). The sample is fixed
    once (singletons of the firm x year design dropped before permuting). Permutations are drawn in
    the same order as a loop of `rng.permutation` calls, so results do not depend on `batch`.
    """
    firm, yr, g, _ = sample.codes
    keep = AbsorbedDesign(np.column_stack([firm, yr])).keep
    firm, yr, g = _factorize(firm[keep])[0], _factorize(yr[keep])[0], g[keep]
    M = np.column_stack(
        [
            np.asarray(sample.y, dtype=float)[keep],
            np.asarray(sample.x, dtype=float)[keep],
            _as_2d(sample.W, len(keep))[keep],
        ]
    )
    n_firm = int(firm.max()) + 1
    if level == "firm":
        gf = np.zeros(n_firm)
        gf[firm] = g
        if not np.array_equal(gf[firm], g):
            raise EstimationError("group varies within firm; use level='obs'")
    rng = np.random.default_rng(seed)
    d = np.empty(K)
    with _one_blas_thread():
        fwl = _SubsampleFWL(M, firm, yr, per_firm=level == "firm")
        b0, b1 = fwl.betas(g[None, :] if level == "obs" else gf[None, :])[0]
        for start in range(0, K, batch):
            stop = min(K, start + batch)
            base = gf if level == "firm" else g
            draws = np.stack([rng.permutation(base) for _ in range(start, stop)])
            b = fwl.betas(draws)
            d[start:stop] = b[:, 1] - b[:, 0]
    d_hat = b1 - b0
    # the one rule of every permutation test, (b + 1) / (m + 1): never 0 with finitely many draws
    p1 = permutation_pvalue(d, d_hat, "directional")
    p2 = permutation_pvalue(d, d_hat, "two-sided")
    return PermutationResult(d_hat, b0, b1, p1, p2, d, K)
