"""Firm capacity utilization (CU) from production frontiers (docs/methods.md#cu).

CU is actual output over the maximum output attainable with the firm's quasi-fixed inputs (K, L), i.e. a
technical-efficiency score on a K-L frontier, CU in (0, 1].

Estimators
----------
- ``fit_sfa_bc92``: Battese-Coelli (1992) time-varying stochastic frontier, the default (``sfa_bc92``).
- ``fit_sfa_bc95``: Battese-Coelli (1995) inefficiency-effects model (one-step robustness check).
- ``fit_cols``: corrected OLS, the frontier shifted up to the best residual in each group.
- ``estimate_cu``: panel in, (Stkcd, year, CU, lnCU) out, plus JSON-ready diagnostics.

Parametrization used by the likelihood functions (and by ``theta`` arguments)
-----------------------------------------------------------------------------
BC92: ``theta = [beta (k), ln sigma_u, ln sigma_v, eta, (mu if mu=True)]``.
BC95: ``theta = [beta (k), delta (m), ln sigma_u, ln sigma_v]``.
Logs of the standard deviations keep the search unconstrained; sigma_u is the scale of the pre-truncation
normal, not the standard deviation of u.

Both likelihoods are evaluated by one kernel, ``_composed_kernel``: a firm's BC92 likelihood depends on its
residuals only through the sums S_ee = sum e^2, S_ge = sum g e, S_gg = sum g^2, and a BC95 observation is the
special case T = 1, g = 1 with an observation-specific mean.  One set of closed-form partial derivatives then
serves both analytic gradients.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, special

from intelcap.errors import EstimationError, InputError

__all__ = [
    "SFAResult",
    "BC95Result",
    "COLSResult",
    "fit_sfa_bc92",
    "fit_sfa_bc95",
    "fit_cols",
    "bc92_loglik",
    "bc95_loglik",
    "design_matrix",
    "estimate_cu",
    "METHODS",
]

METHODS = ("sfa_bc92", "sfa_translog", "cols", "fa_turnover")

_LOG_2PI = math.log(2.0 * math.pi)
# Third central moment of a half-normal with unit scale: sqrt(2/pi) * (4/pi - 1).
_HN_M3 = math.sqrt(2.0 / math.pi) * (4.0 / math.pi - 1.0)
# An objective value the line search will always reject; inf/nan would abort L-BFGS-B instead.
_HUGE = 1e20


# ----------------------------------------------------------------------------------------------------------
# Result containers
# ----------------------------------------------------------------------------------------------------------
@dataclass
class SFAResult:
    """Fitted Battese-Coelli (1992) frontier; arrays are in the caller's row order.

    ``cu_period`` (default predictor) and ``cu_panel`` are E[exp(-u_it) | .], see ``fit_sfa_bc92``.
    ``se`` holds standard errors from the inverse numerical Hessian of the analytic gradient: beta and eta on
    their own scale, sigma_u / sigma_v by the delta method; empty when not computed or not invertible.
    """

    beta: np.ndarray
    sigma_u: float
    sigma_v: float
    eta: float
    mu: float
    loglik: float
    converged: bool
    n_iter: int
    cu_period: np.ndarray
    cu_panel: np.ndarray
    residuals: np.ndarray
    n_obs: int
    n_firms: int
    names: list[str]
    wrong_skew: bool = False
    ols_skewness: float = float("nan")
    message: str = ""
    se: dict[str, float] = field(default_factory=dict)

    @property
    def gamma(self) -> float:
        """sigma_u^2 / (sigma_u^2 + sigma_v^2), the Frontier-4.1 share of inefficiency variance."""
        return self.sigma_u**2 / (self.sigma_u**2 + self.sigma_v**2)

    @property
    def lambda_(self) -> float:
        """sigma_u / sigma_v."""
        return self.sigma_u / self.sigma_v


@dataclass
class BC95Result:
    """Fitted Battese-Coelli (1995) inefficiency-effects frontier; ``cu`` = E[exp(-u_it) | e_it]."""

    beta: np.ndarray
    delta: np.ndarray
    sigma_u: float
    sigma_v: float
    loglik: float
    converged: bool
    n_iter: int
    cu: np.ndarray
    residuals: np.ndarray
    n_obs: int
    message: str = ""
    se: dict[str, float] = field(default_factory=dict)


@dataclass
class COLSResult:
    """Corrected OLS: ``u = max_group(resid) - resid`` and ``cu = exp(-u)``."""

    beta: np.ndarray
    residuals: np.ndarray
    u: np.ndarray
    cu: np.ndarray
    sigma: float


# ----------------------------------------------------------------------------------------------------------
# Numerical building blocks
# ----------------------------------------------------------------------------------------------------------
def _mills(z: np.ndarray | float) -> np.ndarray:
    """phi(z) / Phi(z) computed in logs, so it stays finite for very negative z (where both underflow)."""
    z = np.asarray(z, dtype=float)
    return np.exp(-0.5 * z * z - 0.5 * _LOG_2PI - special.log_ndtr(z))


def _composed_kernel(
    s_ee: np.ndarray,
    s_ge: np.ndarray,
    s_gg: np.ndarray,
    n_t: np.ndarray | float,
    a: float,
    b: float,
    mu: np.ndarray | float,
    grad: bool,
) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
    """Log-likelihood contribution of each unit of the normal / truncated-normal model, and its partials.

    Unit i has residuals e (length n_t), v ~ N(0, b), u_it = g_it u_i with u_i ~ N+(mu, a).  Integrating u_i out
    gives (Battese & Coelli 1992, eq. for ln L_i):
        ln L_i = -n_t/2 ln 2pi - (n_t-1)/2 ln b - 1/2 ln D - S_ee/(2b) + z^2/2 + ln Phi(z) - r^2/2 - ln Phi(r)
    with D = b + a S_gg, z = mu*_i / sigma*_i = (mu b - a S_ge) / sqrt(a b D), r = mu / sqrt(a).
    Partials are with respect to S_ee, S_ge, S_gg, mu, a (= sigma_u^2) and b (= sigma_v^2).
    """
    d = b + a * s_gg
    sq = np.sqrt(a * b * d)
    z = (mu * b - a * s_ge) / sq
    sa = math.sqrt(a)
    r = mu / sa
    ll = (
        -0.5 * n_t * _LOG_2PI
        - 0.5 * (n_t - 1.0) * math.log(b)
        - 0.5 * np.log(d)
        - 0.5 * s_ee / b
        + 0.5 * z * z
        + special.log_ndtr(z)
        - 0.5 * r * r
        - special.log_ndtr(r)
    )
    if not grad:
        return ll, None
    hp = z + _mills(z)  # d/dz [z^2/2 + ln Phi(z)]
    lam_r = _mills(r)
    parts = {
        "ee": np.full_like(d, -0.5 / b),
        "ge": -hp * a / sq,
        "gg": -0.5 * a / d * (1.0 + hp * z),
        "mu": hp * b / sq - mu / a - lam_r / sa,
        "a": (
            -0.5 * s_gg / d
            + hp * (-s_ge / sq - 0.5 * z * (1.0 / a + s_gg / d))
            + 0.5 * mu * mu / (a * a)
            + 0.5 * lam_r * mu / (a * sa)
        ),
        "b": (
            -0.5 * (n_t - 1.0) / b
            - 0.5 / d
            + 0.5 * s_ee / (b * b)
            + hp * (mu / sq - 0.5 * z * (1.0 / b + 1.0 / d))
        ),
    }
    return ll, parts


def _log_bc88(eps: np.ndarray, mu: np.ndarray | float, su: np.ndarray | float, sv: float) -> np.ndarray:
    """ln E[exp(-u) | e] for e = v - u, v ~ N(0, sv^2), u ~ N+(mu, su^2) (Battese & Coelli 1988)."""
    s2 = su * su + sv * sv
    mstar = (mu * sv * sv - su * su * eps) / s2
    sstar = su * sv / np.sqrt(s2)
    out = special.log_ndtr(mstar / sstar - sstar) - special.log_ndtr(mstar / sstar) - mstar + 0.5 * sstar**2
    # The expectation of exp(-u), u >= 0, is <= 1 exactly; rounding can leave +1e-16, which would give CU > 1.
    return np.minimum(out, 0.0)


def _as_float_2d(X: np.ndarray, name: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise InputError(f"{name} must be a 2-D design matrix, got {X.ndim} dimensions")
    return X


def _check_finite(**arrays: np.ndarray) -> None:
    for name, arr in arrays.items():
        bad = ~np.isfinite(arr)
        if bad.any():
            rows = np.flatnonzero(bad.reshape(len(arr), -1).any(axis=1))
            raise InputError(
                f"{name} has {len(rows)} non-finite row(s)",
                rows=rows.tolist(),
                hint="drop or impute these rows before fitting the frontier",
            )


def _whitener(X: np.ndarray, name: str = "X") -> np.ndarray:
    """R^{-1} with R'R = X'X / n, so that the optimizer sees an orthonormal-like design.

    Translog squares and year/industry dummies make X'X badly scaled; in the rotated coordinates
    gamma = R beta the Hessian of the mean log-likelihood is close to I / sigma_v^2, which is what lets
    L-BFGS converge in tens rather than thousands of iterations.
    """
    n = X.shape[0]
    xtx = X.T @ X / n
    try:
        r = np.linalg.cholesky(xtx).T
    except np.linalg.LinAlgError as exc:
        raise EstimationError(
            f"{name} is rank deficient (collinear columns): drop a redundant column"
        ) from exc
    if np.linalg.cond(r) > 1e10:
        raise EstimationError(f"{name} is numerically rank deficient (condition number of R > 1e10)")
    return np.linalg.solve(r, np.eye(r.shape[0]))


def _ols_whitened(y: np.ndarray, X: np.ndarray, rinv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS through the Cholesky factor already computed: one X'y instead of an SVD of the n x k matrix
    (lstsq costs seconds at 1M rows; these are only starting values, accuracy ~cond(R) eps is plenty)."""
    beta = rinv @ (rinv.T @ (X.T @ y / X.shape[0]))
    return beta, y - X @ beta


def _ols(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    return beta, y - X @ beta


def _intercept_direction(X: np.ndarray) -> np.ndarray | None:
    """Coefficients c with X c = 1 (constant column, or dummies that span it); None if X has no intercept."""
    ones = np.all(X == 1.0, axis=0)
    if ones.any():
        c = np.zeros(X.shape[1])
        c[np.flatnonzero(ones)[0]] = 1.0
        return c
    c, *_ = np.linalg.lstsq(X, np.ones(X.shape[0]), rcond=None)
    return c if np.allclose(X @ c, 1.0, atol=1e-8) else None


def _moment_start(e: np.ndarray) -> tuple[float, float, float]:
    """Skewness-based method-of-moments sigma_u, sigma_v for a half-normal composed error (Olson et al. 1980).

    Returns (sigma_u, sigma_v, m3).  With m3 >= 0 (wrong skew) sigma_u is returned as nan.
    """
    ec = e - e.mean()
    m2 = float(np.mean(ec**2))
    m3 = float(np.mean(ec**3))
    if m3 >= 0.0:
        return float("nan"), math.sqrt(m2), m3
    su = (-m3 / _HN_M3) ** (1.0 / 3.0)
    sv2 = m2 - (1.0 - 2.0 / math.pi) * su * su
    # MoM often overshoots sigma_u in small or heavy-tailed samples; keep the start inside the parameter space.
    if sv2 <= 0.05 * m2:
        sv2 = 0.05 * m2
        su = math.sqrt(0.95 * m2 / (1.0 - 2.0 / math.pi))
    return su, math.sqrt(sv2), m3


def _minimize(fun, x0: np.ndarray, maxiter: int) -> optimize.OptimizeResult:
    return optimize.minimize(
        fun,
        x0,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": maxiter, "maxcor": 30, "ftol": 1e-14, "gtol": 1e-8, "maxls": 50},
    )


def _converged(res: optimize.OptimizeResult) -> bool:
    # L-BFGS-B may stop with "ABNORMAL" in the line search when the objective is already flat to machine
    # precision; a small gradient of the *mean* log-likelihood in whitened coordinates is the real test.
    return bool(res.success) or float(np.max(np.abs(res.jac))) < 1e-5


def _numerical_hessian(grad_fn, theta: np.ndarray) -> np.ndarray:
    """Forward differences of the analytic gradient (p + 1 gradient calls), symmetrized.

    Forward rather than central: at the optimum the gradient is ~0, so the one-sided error is O(h) ~ 1e-6
    relative, ample for standard errors, and it halves the cost, which dominates the fit at 1M rows.
    """
    p = theta.size
    h = 1e-6 * np.maximum(1.0, np.abs(theta))
    g0 = grad_fn(theta)
    hess = np.empty((p, p))
    for j in range(p):
        tp = theta.copy()
        tp[j] += h[j]
        hess[:, j] = (grad_fn(tp) - g0) / h[j]
    return 0.5 * (hess + hess.T)


def _standard_errors(
    hess_ll: np.ndarray, theta: np.ndarray, names: list[str], log_idx: dict[str, int]
) -> dict:
    """SEs from the inverse of minus the log-likelihood Hessian; ln-sigma entries mapped by the delta method."""
    try:
        cov = np.linalg.inv(-hess_ll)
    except np.linalg.LinAlgError:
        return {}
    var = np.diag(cov)
    if not np.all(np.isfinite(var)) or np.any(var <= 0):
        return {}
    se = np.sqrt(var)
    out = {nm: float(s) for nm, s in zip(names, se, strict=True)}
    for nm, j in log_idx.items():
        out[nm] = float(math.exp(theta[j]) * se[j])
    return out


# ----------------------------------------------------------------------------------------------------------
# BC92
# ----------------------------------------------------------------------------------------------------------
class _Panel:
    """Rows sorted by (firm, t) so every per-firm sum is one np.add.reduceat over contiguous blocks."""

    def __init__(self, y: np.ndarray, X: np.ndarray, firm: np.ndarray, t: np.ndarray) -> None:
        codes, _ = pd.factorize(pd.Series(firm), sort=True)
        if (codes < 0).any():
            raise InputError("firm identifier has missing values", rows=np.flatnonzero(codes < 0).tolist())
        t = np.asarray(t, dtype=float)
        order = np.lexsort((t, codes))
        self.order = order
        self.codes = codes[order]
        self.y = y[order]
        # Fortran order: X @ b and X.T @ w run several times faster on tall matrices with OpenBLAS.  Callers
        # usually pass rows already sorted, and skipping the gather then saves a full copy of X.
        in_order = bool(np.all(np.diff(order) == 1))
        self.X = np.asfortranarray(X if in_order else X.take(order, axis=0))
        self.t = t[order]
        if np.any((np.diff(self.codes) == 0) & (np.diff(self.t) == 0)):
            dup = np.flatnonzero((np.diff(self.codes) == 0) & (np.diff(self.t) == 0))
            raise InputError(
                "duplicate (firm, t) pairs: the BC92 panel needs one row per firm and period",
                rows=order[dup].tolist(),
            )
        self.starts = np.flatnonzero(np.r_[True, np.diff(self.codes) != 0])
        self.counts = np.diff(np.r_[self.starts, len(self.codes)])
        self.n_t = self.counts.astype(float)
        t_last = np.maximum.reduceat(self.t, self.starts)
        self.dt = self.t - np.repeat(t_last, self.counts)  # t - T_i <= 0
        self.n = len(self.y)
        self.k = X.shape[1]
        self.n_firms = len(self.starts)

    def sums(self, v: np.ndarray) -> np.ndarray:
        return np.add.reduceat(v, self.starts)

    def expand(self, v: np.ndarray) -> np.ndarray:
        return np.repeat(v, self.counts)


def _bc92_eval(theta: np.ndarray, P: _Panel, mu_flag: bool, grad: bool) -> tuple[float, np.ndarray | None]:
    k = P.k
    beta = theta[:k]
    lsu, lsv, eta = theta[k], theta[k + 1], theta[k + 2]
    mu = float(theta[k + 3]) if mu_flag else 0.0
    a, b = math.exp(2.0 * lsu), math.exp(2.0 * lsv)
    eps = P.y - P.X @ beta
    with np.errstate(over="ignore", invalid="ignore"):
        g = np.exp(-eta * P.dt)
        ge = g * eps
        gg = g * g
        ll_i, parts = _composed_kernel(P.sums(eps * eps), P.sums(ge), P.sums(gg), P.n_t, a, b, mu, grad)
    ll = float(np.sum(ll_i))
    if not grad:
        return ll, None
    f_ge_obs = P.expand(parts["ge"])
    w = -2.0 * parts["ee"][0] * eps - f_ge_obs * g
    g_beta = P.X.T @ w
    # dS_ge/deta = -sum dt g e, dS_gg/deta = -2 sum dt g^2
    g_eta = float(np.sum(f_ge_obs * (-P.dt * ge)) + np.sum(P.expand(parts["gg"]) * (-2.0 * P.dt * gg)))
    gr = [g_beta, [2.0 * a * float(np.sum(parts["a"])), 2.0 * b * float(np.sum(parts["b"])), g_eta]]
    if mu_flag:
        gr.append([float(np.sum(parts["mu"]))])
    return ll, np.concatenate(gr)


def bc92_loglik(
    theta: np.ndarray,
    y: np.ndarray,
    X: np.ndarray,
    firm: np.ndarray,
    t: np.ndarray,
    *,
    mu: bool = False,
    grad: bool = False,
) -> float | tuple[float, np.ndarray]:
    """BC92 panel log-likelihood at ``theta = [beta, ln sigma_u, ln sigma_v, eta, (mu)]``.

    With ``grad=True`` also returns the analytic gradient with respect to ``theta``.
    """
    X = _as_float_2d(X)
    theta = np.asarray(theta, dtype=float)
    if theta.size != X.shape[1] + 3 + int(mu):
        raise InputError(f"theta must have k + 3 + mu = {X.shape[1] + 3 + int(mu)} entries, got {theta.size}")
    P = _Panel(np.asarray(y, dtype=float), X, np.asarray(firm), np.asarray(t))
    ll, g = _bc92_eval(theta, P, mu, grad)
    return (ll, g) if grad else ll


def _bc92_predictors(
    P: _Panel, beta: np.ndarray, su: float, sv: float, eta: float, mu: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cu_period, cu_panel, residuals) in sorted order."""
    eps = P.y - P.X @ beta
    g = np.exp(-eta * P.dt)
    # (a) marginal model of period t alone: u_it ~ N+(g mu, g^2 su^2), BC88 applied to e_it.
    ln_period = _log_bc88(eps, g * mu, g * su, sv)
    # (b) u_i | e_i ~ N+(mu*_i, s*_i^2); E[exp(-g u_i)] = Phi(mu*/s* - g s*)/Phi(mu*/s*) exp(-g mu* + g^2 s*^2/2).
    a, b = su * su, sv * sv
    d = b + a * P.sums(g * g)
    mstar = (mu * b - a * P.sums(g * eps)) / d
    sstar = np.sqrt(a * b / d)
    m_o, s_o = P.expand(mstar), P.expand(sstar)
    ln_panel = (
        special.log_ndtr(m_o / s_o - g * s_o) - special.log_ndtr(m_o / s_o) - g * m_o + 0.5 * (g * s_o) ** 2
    )
    return np.exp(ln_period), np.exp(np.minimum(ln_panel, 0.0)), eps


def _unsort(v: np.ndarray, order: np.ndarray) -> np.ndarray:
    out = np.empty_like(v)
    out[order] = v
    return out


def fit_sfa_bc92(
    y: np.ndarray,
    X: np.ndarray,
    firm: np.ndarray,
    t: np.ndarray,
    mu: bool = False,
    *,
    names: list[str] | None = None,
    on_wrong_skew: Literal["error", "zero"] = "error",
    compute_se: bool = True,
    maxiter: int = 5000,
) -> SFAResult:
    """Battese-Coelli (1992) time-varying stochastic production frontier by maximum likelihood.

    Model: ``y_it = X_it'beta + v_it - u_it``, ``v ~ N(0, sigma_v^2)``, ``u_it = exp(-eta (t - T_i)) u_i``,
    ``u_i ~ N+(mu, sigma_u^2)`` (``mu=False``: half-normal, mu = 0), ``T_i`` = firm i's last observed period.
    ``y`` is ln output; ``X`` is the full dense design (constant and dummies included); the panel may be
    unbalanced and have gaps.  Rows may come in any order; returned arrays follow the input order.

    Estimation: analytic gradient, L-BFGS-B on ``[R beta, ln sigma_u, ln sigma_v, eta, (mu)]`` with
    ``R'R = X'X/n``, started at OLS plus skewness-based method-of-moments values (intercept shifted up by
    E[u] = sigma_u sqrt(2/pi)).  Memory is O(n k); per-firm sums use ``np.add.reduceat``.

    Predictors (both closed form, both in (0, 1]):

    - ``cu_period`` = E[exp(-u_it) | e_it] under the *marginal* law of u_it implied by the model,
      ``u_it ~ N+(g_it mu, g_it^2 sigma_u^2)``, i.e. the Battese-Coelli (1988) formula applied period by period.
    - ``cu_panel`` = E[exp(-u_it) | e_i1, ..., e_iT], the proper BC92 predictor given the firm's whole
      residual vector.

    ``cu_period`` is the default downstream: the second-stage regressions include firm fixed effects, and
    ``cu_panel`` varies within a firm only through the deterministic ``g_it = exp(-eta (t - T_i))`` (the
    posterior of u_i is one distribution per firm).  After the firm FE is absorbed, its within-firm variation is
    a smooth firm-specific time trend, so it cannot respond to anything that happens to the firm in a given
    year.  ``cu_period`` moves with that year's residual and can carry within-firm effects.

    Wrong skew: if OLS residuals are positively skewed the MLE of sigma_u is 0 (no inefficiency).  With
    ``on_wrong_skew="error"`` an ``EstimationError`` is raised; with ``"zero"`` the OLS fit is returned with
    sigma_u = 0, CU = 1, ``wrong_skew=True`` and a warning.
    """
    y = np.asarray(y, dtype=float).ravel()
    X = _as_float_2d(X)
    n, k = X.shape
    if len(y) != n or len(firm) != n or len(t) != n:
        raise InputError(
            f"y, X, firm and t must have the same number of rows (got {len(y)}, {n}, {len(firm)}, {len(t)})"
        )
    if n <= k + 3:
        raise EstimationError(f"BC92 needs more observations than parameters: n = {n}, k + 3 = {k + 3}")
    _check_finite(y=y, X=X, t=np.asarray(t, dtype=float))
    if on_wrong_skew not in ("error", "zero"):
        raise InputError(f"on_wrong_skew must be 'error' or 'zero', got {on_wrong_skew!r}")
    names = list(names) if names is not None else [f"x{j}" for j in range(k)]
    if len(names) != k:
        raise InputError(f"names has {len(names)} entries but X has {k} columns")

    P = _Panel(y, X, np.asarray(firm), np.asarray(t))
    rinv = _whitener(P.X)
    beta_ols, e_ols = _ols_whitened(P.y, P.X, rinv)
    su0, sv0, m3 = _moment_start(e_ols)
    skew = m3 / float(np.mean((e_ols - e_ols.mean()) ** 2)) ** 1.5

    if not np.isfinite(su0):
        msg = (
            f"OLS residuals are positively skewed (skewness = {skew:.4f}): the data show no one-sided "
            "inefficiency, so the ML estimate of sigma_u is 0 and CU is 1 for every firm"
        )
        if on_wrong_skew == "error":
            raise EstimationError(
                msg + "; pass on_wrong_skew='zero' to accept CU = 1, or change the specification"
            )
        warnings.warn(msg + "; returning sigma_u = 0, CU = 1", RuntimeWarning, stacklevel=2)
        sv = math.sqrt(float(np.mean(e_ols**2)))
        ll = float(-0.5 * n * (_LOG_2PI + 2.0 * math.log(sv) + 1.0))
        return SFAResult(
            beta=beta_ols,
            sigma_u=0.0,
            sigma_v=sv,
            eta=0.0,
            mu=0.0,
            loglik=ll,
            converged=True,
            n_iter=0,
            cu_period=np.ones(n),
            cu_panel=np.ones(n),
            residuals=_unsort(e_ols, P.order),
            n_obs=n,
            n_firms=P.n_firms,
            names=names,
            wrong_skew=True,
            ols_skewness=skew,
            message=msg,
        )

    beta0 = beta_ols.copy()
    c = _intercept_direction(P.X)
    if c is not None:
        beta0 = beta0 + c * su0 * math.sqrt(2.0 / math.pi)
    theta0 = np.r_[beta0, math.log(su0), math.log(sv0), 0.0]
    if mu:
        theta0 = np.r_[theta0, 0.0]
    p = theta0.size

    def to_natural(x: np.ndarray) -> np.ndarray:
        th = x.copy()
        th[:k] = rinv @ x[:k]
        return th

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        th = to_natural(x)
        ll, gr = _bc92_eval(th, P, mu, True)
        if not np.isfinite(ll) or not np.all(np.isfinite(gr)):
            return _HUGE, np.zeros(p)
        gx = gr.copy()
        gx[:k] = rinv.T @ gr[:k]
        return -ll / n, -gx / n

    x0 = theta0.copy()
    x0[:k] = np.linalg.solve(rinv, theta0[:k])
    res = _minimize(objective, x0, maxiter)
    theta = to_natural(res.x)
    beta = theta[:k]
    su, sv, eta = math.exp(theta[k]), math.exp(theta[k + 1]), float(theta[k + 2])
    mu_hat = float(theta[k + 3]) if mu else 0.0
    ll = float(-res.fun * n)

    se: dict[str, float] = {}
    if compute_se:
        pnames = [*names, "sigma_u", "sigma_v", "eta"] + (["mu"] if mu else [])
        hess = _numerical_hessian(lambda th: _bc92_eval(th, P, mu, True)[1], theta)
        se = _standard_errors(hess, theta, pnames, {"sigma_u": k, "sigma_v": k + 1})

    converged = _converged(res)
    if not converged:
        warnings.warn(
            f"BC92 optimizer did not converge after {res.nit} iterations ({res.message}); "
            "CU is returned but check the specification",
            RuntimeWarning,
            stacklevel=2,
        )
    cu_period, cu_panel, eps = _bc92_predictors(P, beta, su, sv, eta, mu_hat)
    return SFAResult(
        beta=beta,
        sigma_u=su,
        sigma_v=sv,
        eta=eta,
        mu=mu_hat,
        loglik=ll,
        converged=converged,
        n_iter=int(res.nit),
        cu_period=_unsort(cu_period, P.order),
        cu_panel=_unsort(cu_panel, P.order),
        residuals=_unsort(eps, P.order),
        n_obs=n,
        n_firms=P.n_firms,
        names=names,
        wrong_skew=False,
        ols_skewness=skew,
        message=str(res.message),
        se=se,
    )


# ----------------------------------------------------------------------------------------------------------
# BC95
# ----------------------------------------------------------------------------------------------------------
def _bc95_eval(
    theta: np.ndarray, y: np.ndarray, X: np.ndarray, Z: np.ndarray, grad: bool
) -> tuple[float, np.ndarray | None]:
    k, m = X.shape[1], Z.shape[1]
    beta, delta = theta[:k], theta[k : k + m]
    a, b = math.exp(2.0 * theta[k + m]), math.exp(2.0 * theta[k + m + 1])
    eps = y - X @ beta
    mu_it = Z @ delta
    # One observation per unit: S_ee = e^2, S_ge = e, S_gg = 1, T = 1.
    ll_i, parts = _composed_kernel(eps * eps, eps, np.ones_like(eps), 1.0, a, b, mu_it, grad)
    ll = float(np.sum(ll_i))
    if not grad:
        return ll, None
    w = -2.0 * parts["ee"] * eps - parts["ge"]
    return ll, np.concatenate(
        [
            X.T @ w,
            Z.T @ parts["mu"],
            [2.0 * a * float(np.sum(parts["a"])), 2.0 * b * float(np.sum(parts["b"]))],
        ]
    )


def bc95_loglik(
    theta: np.ndarray, y: np.ndarray, X: np.ndarray, Z: np.ndarray, *, grad: bool = False
) -> float | tuple[float, np.ndarray]:
    """BC95 log-likelihood at ``theta = [beta, delta, ln sigma_u, ln sigma_v]`` (optionally with gradient)."""
    X, Z = _as_float_2d(X), _as_float_2d(Z, "Z")
    theta = np.asarray(theta, dtype=float)
    if theta.size != X.shape[1] + Z.shape[1] + 2:
        raise InputError(
            f"theta must have k + m + 2 = {X.shape[1] + Z.shape[1] + 2} entries, got {theta.size}"
        )
    ll, g = _bc95_eval(theta, np.asarray(y, dtype=float).ravel(), X, Z, grad)
    return (ll, g) if grad else ll


def fit_sfa_bc95(
    y: np.ndarray,
    X: np.ndarray,
    Z: np.ndarray,
    *,
    names: list[str] | None = None,
    z_names: list[str] | None = None,
    compute_se: bool = True,
    maxiter: int = 5000,
) -> BC95Result:
    """Battese-Coelli (1995) inefficiency-effects frontier in one step.

    ``y_it = X_it'beta + v_it - u_it``, ``v ~ N(0, sigma_v^2)``, ``u_it ~ N+(Z_it'delta, sigma_u^2)``
    independent over i and t.  ``Z`` should contain a constant if the truncation point is to have an intercept.
    Analytic gradient, L-BFGS-B on whitened ``beta`` and ``delta``; start at OLS + half-normal MoM, delta = 0.
    ``cu`` = E[exp(-u_it) | e_it] (BC88 with observation-specific mean).
    """
    y = np.asarray(y, dtype=float).ravel()
    X = _as_float_2d(X)
    Z = _as_float_2d(Z, "Z")
    n, k = X.shape
    m = Z.shape[1]
    if len(y) != n or Z.shape[0] != n:
        raise InputError(f"y, X and Z must have the same number of rows (got {len(y)}, {n}, {Z.shape[0]})")
    if n <= k + m + 2:
        raise EstimationError(f"BC95 needs more observations than parameters: n = {n}, p = {k + m + 2}")
    _check_finite(y=y, X=X, Z=Z)
    names = list(names) if names is not None else [f"x{j}" for j in range(k)]
    z_names = list(z_names) if z_names is not None else [f"z{j}" for j in range(m)]

    X, Z = np.asfortranarray(X), np.asfortranarray(Z)
    rx, rz = _whitener(X), _whitener(Z, "Z")
    beta_ols, e_ols = _ols_whitened(y, X, rx)
    su0, sv0, _ = _moment_start(e_ols)
    if not np.isfinite(su0):
        # With observation-specific truncation points the OLS skew need not be negative; start mid-range.
        su0 = sv0 = math.sqrt(0.5) * sv0
    c = _intercept_direction(X)
    beta0 = beta_ols + (c * su0 * math.sqrt(2.0 / math.pi) if c is not None else 0.0)
    theta0 = np.r_[beta0, np.zeros(m), math.log(su0), math.log(sv0)]
    p = theta0.size

    def to_natural(x: np.ndarray) -> np.ndarray:
        th = x.copy()
        th[:k] = rx @ x[:k]
        th[k : k + m] = rz @ x[k : k + m]
        return th

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        ll, gr = _bc95_eval(to_natural(x), y, X, Z, True)
        if not np.isfinite(ll) or not np.all(np.isfinite(gr)):
            return _HUGE, np.zeros(p)
        gx = gr.copy()
        gx[:k] = rx.T @ gr[:k]
        gx[k : k + m] = rz.T @ gr[k : k + m]
        return -ll / n, -gx / n

    x0 = theta0.copy()
    x0[:k] = np.linalg.solve(rx, theta0[:k])
    res = _minimize(objective, x0, maxiter)
    theta = to_natural(res.x)
    beta, delta = theta[:k], theta[k : k + m]
    su, sv = math.exp(theta[k + m]), math.exp(theta[k + m + 1])

    se: dict[str, float] = {}
    if compute_se:
        pnames = [*names, *[f"delta_{z}" for z in z_names], "sigma_u", "sigma_v"]
        hess = _numerical_hessian(lambda th: _bc95_eval(th, y, X, Z, True)[1], theta)
        se = _standard_errors(hess, theta, pnames, {"sigma_u": k + m, "sigma_v": k + m + 1})

    eps = y - X @ beta
    cu = np.exp(_log_bc88(eps, Z @ delta, su, sv))
    return BC95Result(
        beta=beta,
        delta=delta,
        sigma_u=su,
        sigma_v=sv,
        loglik=float(-res.fun * n),
        converged=_converged(res),
        n_iter=int(res.nit),
        cu=cu,
        residuals=eps,
        n_obs=n,
        message=str(res.message),
        se=se,
    )


# ----------------------------------------------------------------------------------------------------------
# COLS
# ----------------------------------------------------------------------------------------------------------
def fit_cols(y: np.ndarray, X: np.ndarray, group: np.ndarray | None = None) -> COLSResult:
    """Corrected OLS: u = max of the OLS residuals within ``group`` minus the residual; CU = exp(-u).

    ``group=None`` takes the maximum over the whole sample.  The best firm of each group gets CU = 1 exactly.
    """
    y = np.asarray(y, dtype=float).ravel()
    X = _as_float_2d(X)
    if len(y) != X.shape[0]:
        raise InputError(f"y and X must have the same number of rows (got {len(y)}, {X.shape[0]})")
    if len(y) <= X.shape[1]:
        raise EstimationError(f"COLS needs more observations than regressors: n = {len(y)}, k = {X.shape[1]}")
    _check_finite(y=y, X=X)
    beta, e = _ols(y, X)
    if group is None:
        emax = np.full_like(e, e.max())
    else:
        codes, _ = pd.factorize(pd.Series(np.asarray(group)), sort=True)
        if (codes < 0).any():
            raise InputError("group has missing values", rows=np.flatnonzero(codes < 0).tolist())
        gmax = np.full(codes.max() + 1, -np.inf)
        np.maximum.at(gmax, codes, e)
        emax = gmax[codes]
    u = emax - e
    sigma = math.sqrt(float(e @ e) / (len(y) - X.shape[1]))
    return COLSResult(beta=beta, residuals=e, u=u, cu=np.exp(-u), sigma=sigma)


# ----------------------------------------------------------------------------------------------------------
# Panel-level interface
# ----------------------------------------------------------------------------------------------------------
def _check_panel(panel: pd.DataFrame, cols: list[str]) -> None:
    missing = [c for c in cols if c not in panel.columns]
    if missing:
        raise InputError(f"panel lacks column(s) {missing}", hint=f"expected columns {cols}")


def _check_positive(panel: pd.DataFrame, cols: list[str]) -> None:
    """Guard: logs of Y, K, L must exist; the caller is expected to filter, so any bad row is an error."""
    for col in cols:
        v = pd.to_numeric(panel[col], errors="coerce").to_numpy(dtype=float)
        bad = ~(np.isfinite(v) & (v > 0))
        if bad.any():
            ex = panel.loc[bad]
            rows = (
                list(zip(ex["Stkcd"].astype(str), ex["year"].astype(int), strict=True))
                if {"Stkcd", "year"} <= set(panel.columns)
                else ex.index.tolist()
            )
            raise InputError(
                f"{int(bad.sum())} row(s) have missing or non-positive {col}; ln({col}) is undefined",
                column=col,
                rows=rows,
                hint=f"drop firm-years with {col} <= 0 or missing before estimating CU",
            )


def design_matrix(
    panel: pd.DataFrame,
    form: Literal["cobb_douglas", "translog"] = "cobb_douglas",
    year_col: str | None = "year",
    industry_col: str | None = "industry",
) -> tuple[np.ndarray, list[str]]:
    """Dense frontier design: const, lnK, lnL, [1/2 lnK^2, 1/2 lnL^2, lnK lnL], year and industry dummies.

    Dummies drop the first level of the *sorted* levels, so the columns do not depend on row order.
    ``year_col`` / ``industry_col`` = None omits that block.
    """
    if form not in ("cobb_douglas", "translog"):
        raise InputError(f"form must be 'cobb_douglas' or 'translog', got {form!r}")
    need = ["K", "L"] + [c for c in (year_col, industry_col) if c is not None]
    _check_panel(panel, need)
    _check_positive(panel, ["K", "L"])
    lnk = np.log(panel["K"].to_numpy(dtype=float))
    lnl = np.log(panel["L"].to_numpy(dtype=float))
    cols = [np.ones(len(panel)), lnk, lnl]
    names = ["const", "lnK", "lnL"]
    if form == "translog":
        cols += [0.5 * lnk * lnk, 0.5 * lnl * lnl, lnk * lnl]
        names += ["half_lnK2", "half_lnL2", "lnK_lnL"]
    blocks: list[tuple[np.ndarray, int]] = []
    for col, prefix in ((year_col, "year"), (industry_col, "ind")):
        if col is None:
            continue
        vals = panel[col]
        if vals.isna().any():
            raise InputError(
                f"{col} has missing values", column=col, rows=np.flatnonzero(vals.isna()).tolist()
            )
        # Integer codes of the sorted levels: comparing codes is far cheaper than comparing 1M strings per level.
        codes, levels = pd.factorize(vals, sort=True)
        blocks.append((codes, len(levels)))
        names += [f"{prefix}_{lev}" for lev in levels[1:]]
    X = np.zeros((len(panel), len(names)), order="F")
    for j, c in enumerate(cols):
        X[:, j] = c
    j0 = len(cols)
    for codes, n_lev in blocks:
        rows = np.flatnonzero(codes > 0)
        X[rows, j0 + codes[rows] - 1] = 1.0
        j0 += n_lev - 1
    return X, names


def _plain(x: float | int | bool) -> float | int | bool | None:
    if isinstance(x, bool | np.bool_):
        return bool(x)
    if isinstance(x, int | np.integer):
        return int(x)
    x = float(x)
    return x if math.isfinite(x) else None


def estimate_cu(
    panel: pd.DataFrame,
    method: str,
    *,
    predictor: Literal["period", "panel"] = "period",
    mu: bool = False,
    on_wrong_skew: Literal["error", "zero"] = "error",
) -> tuple[pd.DataFrame, dict]:
    """Firm-year capacity utilization from a (Stkcd, year, industry, Y, K, L) panel.

    Methods: ``sfa_bc92`` (Cobb-Douglas BC92 frontier, year + industry dummies), ``sfa_translog`` (same, translog),
    ``cols`` (corrected OLS on the Cobb-Douglas design, max residual within year), ``fa_turnover``
    (CU = Y/K, lnCU = ln(Y/K), the paper's lnCU*; not bounded by 1).  ``predictor`` picks ``cu_period``
    (default; see ``fit_sfa_bc92``) or ``cu_panel`` for the SFA methods.

    Returns (frame with Stkcd, year, CU, lnCU sorted by Stkcd, year; diagnostics dict of plain Python
    numbers, non-finite values as None, so ``json.dumps(diag, allow_nan=False)`` works).
    """
    if method not in METHODS:
        raise InputError(f"unknown CU method {method!r}", hint=f"choose one of {list(METHODS)}")
    if predictor not in ("period", "panel"):
        raise InputError(f"predictor must be 'period' or 'panel', got {predictor!r}")
    _check_panel(panel, ["Stkcd", "year", "industry", "Y", "K", "L"])
    _check_positive(panel, ["Y", "K", "L"])
    df = panel.copy()
    df["Stkcd"] = df["Stkcd"].astype(str)
    df["year"] = df["year"].astype(int)
    dup = df.duplicated(["Stkcd", "year"], keep=False)
    if dup.any():
        ex = df.loc[dup, ["Stkcd", "year"]]
        raise InputError(
            f"{int(dup.sum())} rows share a (Stkcd, year) key",
            rows=list(zip(ex["Stkcd"], ex["year"], strict=True)),
            hint="deduplicate the panel to one row per firm-year",
        )
    df = df.sort_values(["Stkcd", "year"], kind="mergesort").reset_index(drop=True)
    y = np.log(df["Y"].to_numpy(dtype=float))
    diag: dict = {
        "method": method,
        "n_obs": len(df),
        "n_firms": int(df["Stkcd"].nunique()),
        "years": [int(v) for v in sorted(df["year"].unique())],
    }

    if method == "fa_turnover":
        cu = df["Y"].to_numpy(dtype=float) / df["K"].to_numpy(dtype=float)
        ln_cu = np.log(cu)
        diag.update(converged=True)
    elif method == "cols":
        X, names = design_matrix(df, "cobb_douglas")
        r = fit_cols(y, X, group=df["year"].to_numpy())
        cu, ln_cu = r.cu, -r.u
        diag.update(
            converged=True,
            group="year",
            params={nm: _plain(v) for nm, v in zip(names, r.beta, strict=True)},
            sigma=_plain(r.sigma),
            share_cu_eq_1=_plain(float(np.mean(r.u == 0.0))),
        )
    else:
        form = "translog" if method == "sfa_translog" else "cobb_douglas"
        X, names = design_matrix(df, form)
        r = fit_sfa_bc92(
            y, X, df["Stkcd"].to_numpy(), df["year"].to_numpy(), mu, names=names, on_wrong_skew=on_wrong_skew
        )
        cu = r.cu_period if predictor == "period" else r.cu_panel
        ln_cu = np.log(cu)
        diag.update(
            form=form,
            predictor=predictor,
            mu_estimated=bool(mu),
            loglik=_plain(r.loglik),
            converged=bool(r.converged),
            n_iter=int(r.n_iter),
            optimizer_message=r.message,
            wrong_skew=bool(r.wrong_skew),
            ols_skewness=_plain(r.ols_skewness),
            params={nm: _plain(v) for nm, v in zip(names, r.beta, strict=True)},
            sigma_u=_plain(r.sigma_u),
            sigma_v=_plain(r.sigma_v),
            eta=_plain(r.eta),
            mu=_plain(r.mu),
            gamma=_plain(r.gamma),
            se={nm: _plain(v) for nm, v in r.se.items()},
        )
    diag.update(mean_CU=_plain(float(np.mean(cu))), mean_lnCU=_plain(float(np.mean(ln_cu))))
    out = pd.DataFrame(
        {"Stkcd": df["Stkcd"].to_numpy(), "year": df["year"].to_numpy(), "CU": cu, "lnCU": ln_cu}
    )
    return out, diag
