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
serves both analytic gradients; ``_kernel_hessian`` adds the second partials behind BC92's analytic Hessian
(Newton-Raphson fit and observed-information standard errors).
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, special

from intelcap.errors import EstimationError, InputError

log = logging.getLogger("intelcap")

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
# Rows per block of whole firms in the BC92 likelihood: n-length temporaries of 256 kB stay in L2/L3.
_BLOCK_ROWS = 1 << 15
# BC92 counts as converged at this relative gradient; Newton iterates on to 1e-11 (one more step is cheap).
_CONVERGED_RELGRAD = 1e-8
# The likelihoods are evaluated only for |ln sigma_u|, |ln sigma_v| <= this.  Beyond it the kernel's powers of
# a = sigma^2 leave double range: a Newton step from a start where -H is not negative definite can move
# ln sigma by hundreds (ln sigma_u = -208 in one Monte Carlo draw), a^2 then underflows to 0 and the Python
# float divisions of the kernel raise; past ln sigma = 354.9 exp(2 ln sigma) overflows.  A scale of e^-100
# (4e-44) is zero to working precision next to residuals of order 1e-2, so nothing estimable lies outside.
_LN_SIGMA_MAX = 100.0


# ----------------------------------------------------------------------------------------------------------
# Result containers
# ----------------------------------------------------------------------------------------------------------
@dataclass
class SFAResult:
    """Fitted Battese-Coelli (1992) frontier; arrays are in the caller's row order.

    ``cu_period`` (default predictor) and ``cu_panel`` are E[exp(-u_it) | .], see ``fit_sfa_bc92``.
    ``se`` holds standard errors from the observed information (inverse of minus the analytic Hessian): beta
    and eta on their own scale, sigma_u / sigma_v by the delta method; empty when not computed or not
    invertible.  ``grad_norm_rel`` is the relative gradient at the returned optimum (see ``fit_sfa_bc92``),
    ``n_eval`` the number of likelihood evaluations.
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
    grad_norm_rel: float = float("nan")
    n_eval: int = 0
    se_method: str = ""

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


def _ln_sigmas_representable(*ln_sigma: float) -> bool:
    """True if every ln sigma is within +-_LN_SIGMA_MAX (False for nan)."""
    return all(abs(v) <= _LN_SIGMA_MAX for v in ln_sigma)


def _unrepresentable(model: str, ln_su: float, ln_sv: float) -> EstimationError:
    return EstimationError(
        f"{model} log-likelihood requested at ln sigma_u = {ln_su:.6g}, ln sigma_v = {ln_sv:.6g}: outside "
        f"+-{_LN_SIGMA_MAX:g}, where sigma^2 = exp(2 ln sigma) under- or overflows double precision, so ln L "
        "is not evaluated there (the fits treat such trial points as rejected steps)"
    )


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
    """Rows sorted by (firm, t) so every per-firm sum is one np.add.reduceat over contiguous blocks.

    The design is a dense block ``X`` (n x k0) followed by categorical effects: integer codes 0..L-1 per
    row, level 0 the base, each contributing L - 1 dummy columns.  ``X @ beta`` of the dummy part is a gather
    and ``X'w`` a bincount, so year and industry dummies never exist as n x L columns (at 1M rows the dense
    22-column design cost ~1 s to build and made every X @ b / X'w ~7x wider than the 3 real regressors).
    """

    def __init__(
        self,
        y: np.ndarray,
        X: np.ndarray,
        firm: np.ndarray,
        t: np.ndarray,
        effects: tuple[np.ndarray, ...] = (),
    ) -> None:
        codes, _ = pd.factorize(pd.Series(firm), sort=True)
        if (codes < 0).any():
            raise InputError("firm identifier has missing values", rows=np.flatnonzero(codes < 0).tolist())
        t = np.asarray(t, dtype=float)
        # Callers usually pass rows already sorted; then the sort and every gather are skipped.
        in_order = bool(np.all(np.diff(codes) >= 0)) and bool(np.all((np.diff(codes) > 0) | (np.diff(t) > 0)))
        order = np.arange(len(codes)) if in_order else np.lexsort((t, codes))
        self.order = order
        self.codes = codes if in_order else codes[order]
        self.y = y if in_order else y[order]
        # Fortran order: X @ b and X.T @ w run several times faster on tall matrices with OpenBLAS.
        self.X = np.asfortranarray(X if in_order else X.take(order, axis=0))
        self.t = t if in_order else t[order]
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
        self.k0 = X.shape[1]
        self.n_firms = len(self.starts)
        self.eff: list[np.ndarray] = []
        self.levels: list[int] = []
        for c in effects:
            c = np.asarray(c)
            c = (c if in_order else c[order]).astype(np.intp, copy=False)
            self.eff.append(c)
            self.levels.append(int(c.max()) + 1 if len(c) else 1)
        # Firm x level cell of each row: per-firm sums of a dummy block are one bincount.
        self.cell = [
            self.codes.astype(np.intp) * lev + c for c, lev in zip(self.eff, self.levels, strict=True)
        ]
        self.k = self.k0 + sum(lev - 1 for lev in self.levels)
        self._gram: np.ndarray | None = None
        self._blocks: list[_Panel] | None = None

    def blocks(self) -> list[_Panel]:
        """Views of consecutive whole firms, ~_BLOCK_ROWS rows each (self alone if the panel is small)."""
        if self._blocks is None:
            cuts = np.unique(
                np.r_[self.starts[np.searchsorted(self.starts, np.arange(0, self.n, _BLOCK_ROWS))], self.n]
            )
            if len(cuts) <= 2:
                self._blocks = [self]
            else:
                fcuts = np.searchsorted(self.starts, cuts[:-1]).tolist() + [self.n_firms]
                self._blocks = [
                    self._view(r0, r1, f0, f1)
                    for r0, r1, f0, f1 in zip(cuts[:-1], cuts[1:], fcuts[:-1], fcuts[1:], strict=True)
                ]
        return self._blocks

    def _view(self, r0: int, r1: int, f0: int, f1: int) -> _Panel:
        v = object.__new__(_Panel)
        v.order = None
        v.codes = self.codes[r0:r1] - f0
        v.y, v.X, v.t, v.dt = self.y[r0:r1], self.X[r0:r1], self.t[r0:r1], self.dt[r0:r1]
        v.starts = self.starts[f0:f1] - r0
        v.counts, v.n_t = self.counts[f0:f1], self.n_t[f0:f1]
        v.n, v.k0, v.k, v.n_firms = r1 - r0, self.k0, self.k, f1 - f0
        v.eff = [c[r0:r1] for c in self.eff]
        v.levels = self.levels
        v.cell = [c[r0:r1] - f0 * lev for c, lev in zip(self.cell, self.levels, strict=True)]
        v._gram, v._blocks = None, [v]
        return v

    def gram(self) -> np.ndarray:
        if self._gram is None:
            self._gram = self.xtx()
        return self._gram

    def sums(self, v: np.ndarray) -> np.ndarray:
        return np.add.reduceat(v, self.starts)

    def expand(self, v: np.ndarray) -> np.ndarray:
        return np.repeat(v, self.counts)

    def xb(self, beta: np.ndarray) -> np.ndarray:
        out = self.X @ beta[: self.k0] if self.k0 else np.zeros(self.n)
        j = self.k0
        for c, lev in zip(self.eff, self.levels, strict=True):
            out += np.r_[0.0, beta[j : j + lev - 1]][c]
            j += lev - 1
        return out

    def xtw(self, w: np.ndarray) -> np.ndarray:
        parts = [self.X.T @ w]
        for c, lev in zip(self.eff, self.levels, strict=True):
            parts.append(np.bincount(c, weights=w, minlength=lev)[1:])
        return np.concatenate(parts)

    def firm_xsum(self, v: np.ndarray) -> np.ndarray:
        """(n_firms x k) matrix of sum_t X_it v_it."""
        out = np.empty((self.n_firms, self.k))
        out[:, : self.k0] = np.add.reduceat(self.X * v[:, None], self.starts, axis=0)
        j = self.k0
        for cell, lev in zip(self.cell, self.levels, strict=True):
            blk = np.bincount(cell, weights=v, minlength=self.n_firms * lev).reshape(self.n_firms, lev)
            out[:, j : j + lev - 1] = blk[:, 1:]
            j += lev - 1
        return out

    def xtx(self) -> np.ndarray:
        """X'X of the full (dense + dummy) design, without forming the dummies."""
        k0, k = self.k0, self.k
        out = np.empty((k, k))
        out[:k0, :k0] = self.X.T @ self.X
        offs = np.cumsum([k0] + [lev - 1 for lev in self.levels])
        for e, (c, lev) in enumerate(zip(self.eff, self.levels, strict=True)):
            s = slice(offs[e], offs[e + 1])
            for j in range(k0):
                out[j, s] = out[s, j] = np.bincount(c, weights=self.X[:, j], minlength=lev)[1:]
            for f in range(e, len(self.eff)):
                c2, lev2 = self.eff[f], self.levels[f]
                blk = np.bincount(c * lev2 + c2, minlength=lev * lev2).reshape(lev, lev2)[1:, 1:]
                s2 = slice(offs[f], offs[f + 1])
                out[s, s2] = blk
                out[s2, s] = blk.T
        return out


# Kernel variables for second derivatives: V = (S_ge, S_gg, a, b, mu).
_GE, _GG, _A, _B, _MU = range(5)


def _kernel_hessian(
    s_ee: np.ndarray, s_ge: np.ndarray, s_gg: np.ndarray, n_t: np.ndarray, a: float, b: float, mu: float
) -> tuple[np.ndarray, np.ndarray]:
    """First (5, m) and second (5, 5, m) partials of ``_composed_kernel``'s ln L_i in V = (S_ge, S_gg, a, b, mu).

    ln L_i = const - (n_t-1)/2 ln b - S_ee/(2b) - 1/2 ln d + h(z) + m(r) with d = b + a S_gg,
    z = N / sqrt(Q), N = mu b - a S_ge, Q = a b d, r = mu / sqrt(a), h(z) = z^2/2 + ln Phi(z),
    m(r) = -r^2/2 - ln Phi(r).  N, Q and d are polynomials in V, so z's partials follow from theirs:
    z_x = N_x / sqrt(Q) - z Q_x / (2Q),
    z_xy = N_xy / sqrt(Q) - (N_x Q_y + N_y Q_x) / (2 Q sqrt(Q)) - z Q_xy / (2Q) + 3 z Q_x Q_y / (4 Q^2).
    (S_ee enters only through -S_ee/(2b); its cross terms with beta are added by the caller.)
    """
    m = len(s_ge)
    zero, one = np.zeros(m), np.ones(m)
    d = b + a * s_gg
    q = a * b * d
    sq = np.sqrt(q)
    z = (mu * b - a * s_ge) / sq
    lam = _mills(z)
    h1 = z + lam
    h2 = 1.0 - lam * h1  # h'' = 1 + lambda'(z), lambda' = -lambda (z + lambda)
    sa = math.sqrt(a)
    r = mu / sa
    lam_r = float(_mills(r))
    m1 = -(r + lam_r)
    m2 = -(1.0 - lam_r * (r + lam_r))
    nx = [zero - a, zero, -s_ge, zero + mu, zero + b]
    qx = [zero, zero + a * a * b, b * b + 2.0 * a * b * s_gg, 2.0 * a * b + a * a * s_gg, zero]
    dx = [zero, zero + a, s_gg, one, zero]
    rx = [0.0, 0.0, -0.5 * mu / (a * sa), 0.0, 1.0 / sa]
    nxy = {(_GE, _A): -1.0, (_B, _MU): 1.0}
    qxy = {
        (_A, _A): 2.0 * b * s_gg,
        (_A, _B): 2.0 * b + 2.0 * a * s_gg,
        (_B, _B): zero + 2.0 * a,
        (_GG, _A): zero + 2.0 * a * b,
        (_GG, _B): zero + a * a,
    }
    dxy = {(_GG, _A): 1.0}
    rxy = {(_A, _A): 0.75 * mu / (a * a * sa), (_A, _MU): -0.5 / (a * sa)}
    zx = [nx[i] / sq - 0.5 * z * qx[i] / q for i in range(5)]
    k1 = np.empty((5, m))
    for i in range(5):
        k1[i] = -0.5 * dx[i] / d + h1 * zx[i] + m1 * rx[i]
    k1[_B] += -0.5 * (n_t - 1.0) / b + 0.5 * s_ee / (b * b)
    k2 = np.empty((5, 5, m))
    for i in range(5):
        for j in range(i, 5):
            key = (i, j)
            zxy = (
                nxy.get(key, 0.0) / sq
                - 0.5 * (nx[i] * qx[j] + nx[j] * qx[i]) / (q * sq)
                - 0.5 * z * qxy.get(key, 0.0) / q
                + 0.75 * z * qx[i] * qx[j] / (q * q)
            )
            v = (
                -0.5 * (dxy.get(key, 0.0) / d - dx[i] * dx[j] / (d * d))
                + h2 * zx[i] * zx[j]
                + h1 * zxy
                + m2 * rx[i] * rx[j]
                + m1 * rxy.get(key, 0.0)
            )
            k2[i, j] = k2[j, i] = v
    k2[_B, _B] += 0.5 * (n_t - 1.0) / (b * b) - s_ee / (b * b * b)
    return k1, k2


def _bc92_eval(
    theta: np.ndarray, P: _Panel, mu_flag: bool, order: int
) -> tuple[float, np.ndarray | None, np.ndarray | None]:
    """ln L (order 0), gradient (order >= 1), Hessian (order 2): sums over blocks of whole firms.

    Blocks of ~32k rows keep every n-length temporary (~10 per evaluation) in cache and recycled by malloc;
    one pass over 1M-row temporaries instead page-faulted ~130k fresh 4 kB pages per fit (see
    docs/performance.md).  X'X / b, the one term that is not a per-firm sum, is added once.
    Outside the representable range of ln sigma (``_LN_SIGMA_MAX``) ln L is reported as -inf and not evaluated:
    the line search then halves the step, as Stata's ``ml`` backs up from a missing ln L.
    """
    if not _ln_sigmas_representable(theta[P.k], theta[P.k + 1]):
        return -math.inf, None, None
    blocks = P.blocks()
    if len(blocks) == 1:
        ll, grad, hess = _bc92_eval_block(theta, P, mu_flag, order)
    else:
        ll, grad, hess = 0.0, None, None
        for B in blocks:
            llb, gb, hb = _bc92_eval_block(theta, B, mu_flag, order)
            ll += llb
            if not math.isfinite(ll):
                return ll, None, None
            if order >= 1:
                grad = gb if grad is None else grad + gb
            if order == 2:
                hess = hb if hess is None else hess + hb
    if order == 2 and math.isfinite(ll):
        hess[: P.k, : P.k] -= P.gram() / math.exp(2.0 * theta[P.k + 1])
    return ll, grad, hess


def _bc92_eval_block(
    theta: np.ndarray, P: _Panel, mu_flag: bool, order: int
) -> tuple[float, np.ndarray | None, np.ndarray | None]:
    """ln L (order 0), its gradient (order >= 1) and Hessian (order 2) in theta = [beta, ln su, ln sv, eta, (mu)].

    Chain rule through the per-firm sums: beta enters via S_ee (d/dbeta = -2 X_i'e, d2 = 2 X_i'X_i) and S_ge
    (d/dbeta = -q_i, q_i = X_i'g); eta via S_ge and S_gg (dg/deta = -dt g).  Hence
    H_bb = -X'X / b + sum_i K_ge,ge q_i q_i'  (S_ee enters linearly with coefficient -1/(2b)), and the
    other blocks are sums over firms of the kernel partials times the per-firm derivatives of V.
    """
    k = P.k
    beta = theta[:k]
    lsu, lsv, eta = theta[k], theta[k + 1], theta[k + 2]
    mu = float(theta[k + 3]) if mu_flag else 0.0
    a, b = math.exp(2.0 * lsu), math.exp(2.0 * lsv)
    eps = P.y - P.xb(beta)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        g = np.exp(-eta * P.dt)
        s_ee, s_ge, s_gg = P.sums(eps * eps), P.sums(g * eps), P.sums(g * g)
        ll_i, parts = _composed_kernel(s_ee, s_ge, s_gg, P.n_t, a, b, mu, order >= 1)
    ll = float(np.sum(ll_i))
    if order == 0 or not math.isfinite(ll):
        return ll, None, None
    f_ge_obs = P.expand(parts["ge"])
    dtg = P.dt * g
    g_beta = P.xtw(eps / b - f_ge_obs * g)  # -2 K_ee e - K_ge g with K_ee = -1/(2b)
    e1 = P.sums(-dtg * eps)  # dS_ge/deta
    g1 = P.sums(-2.0 * dtg * g)  # dS_gg/deta
    g_eta = float(parts["ge"] @ e1 + parts["gg"] @ g1)
    gr = [g_beta, [2.0 * a * float(np.sum(parts["a"])), 2.0 * b * float(np.sum(parts["b"])), g_eta]]
    if mu_flag:
        gr.append([float(np.sum(parts["mu"]))])
    grad = np.concatenate(gr)
    if order == 1:
        return ll, grad, None

    e2 = P.sums(P.dt * dtg * eps)  # d2S_ge/deta2
    g2 = P.sums(4.0 * P.dt * dtg * g)  # d2S_gg/deta2
    k1, k2 = _kernel_hessian(s_ee, s_ge, s_gg, P.n_t, a, b, mu)
    q = P.firm_xsum(g)
    pm = P.firm_xsum(dtg)  # d2S_ge/dbeta deta
    nphi = 3 + int(mu_flag)
    # dV/dphi per firm for phi = (ln su, ln sv, eta, mu): shape (nphi, 5, n_firms)
    dv = np.zeros((nphi, 5, P.n_firms))
    dv[0, _A] = 2.0 * a
    dv[1, _B] = 2.0 * b
    dv[2, _GE] = e1
    dv[2, _GG] = g1
    if mu_flag:
        dv[3, _MU] = 1.0
    kv = np.einsum("vwn,pwn->pvn", k2, dv)  # K2 dV/dphi
    hess = np.empty((k + nphi, k + nphi))
    hess[:k, :k] = q.T @ (k2[_GE, _GE][:, None] * q)  # + -X'X / b, added by _bc92_eval
    # d grad_beta / dphi = -sum_i q_i (K2 dV)_ge  + second-derivative terms of S_ge and S_ee
    hb = -q.T @ kv[:, _GE].T
    hb[:, 1] -= 2.0 / b * P.xtw(eps)  # K_ee,b dS_ee/dbeta db/dlnsv
    hb[:, 2] += pm.T @ k1[_GE]
    hess[:k, k:] = hb
    hess[k:, :k] = hb.T
    hpp = np.einsum("pvn,qvn->pq", dv, kv)
    hpp[0, 0] += 4.0 * a * float(np.sum(k1[_A]))
    hpp[1, 1] += 4.0 * b * float(np.sum(k1[_B]))
    hpp[2, 2] += float(k1[_GE] @ e2 + k1[_GG] @ g2)
    hess[k:, k:] = hpp
    return ll, grad, hess


def _relgrad(grad: np.ndarray, theta: np.ndarray, ll: float) -> float:
    """Scale-free gradient norm: max_j |g_j| max(|theta_j|, 1) / max(|ln L|, 1) (Dennis & Schnabel 1983)."""
    return float(np.max(np.abs(grad) * np.maximum(np.abs(theta), 1.0)) / max(abs(ll), 1.0))


@dataclass
class _NewtonResult:
    x: np.ndarray
    ll: float
    grad: np.ndarray
    hess: np.ndarray
    nit: int
    nfev: int
    relgrad: float
    message: str


def _newton_direction(g: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Solve (-H + lam D) d = g on the diagonally scaled system, lam = 0 or raised (1e-6, x10) until Cholesky
    succeeds (Levenberg-Marquardt where -H is not positive definite)."""
    a = -h
    dg = np.sqrt(np.maximum(np.abs(np.diag(a)), 1e-300))
    a_s = a / dg[:, None] / dg[None, :]
    lam = 0.0
    while True:
        try:
            c = np.linalg.cholesky(a_s + lam * np.eye(len(g)))
            break
        except np.linalg.LinAlgError:
            lam = 1e-6 if lam == 0.0 else lam * 10.0
            if lam > 1e12:
                raise EstimationError("BC92 Newton step: the Hessian could not be regularized") from None
    return np.linalg.solve(c.T, np.linalg.solve(c, g / dg)) / dg


def _line_search(fun, x: np.ndarray, step: np.ndarray, ll: float, gain: float, noise: float):
    """Step halving from t = 1 (at most 60 halvings) until ln L does not fall by the Armijo rule, or the predicted
    gain is below rounding. Returns (accepted, t, x_t, ln L, gradient, Hessian, evaluations); gradient and
    Hessian are None when the accepted point was evaluated without derivatives (t < 1)."""
    t = 1.0
    evals = 0
    for _ in range(60):
        xt = x + t * step
        llt, gt, ht = fun(xt, 2 if t == 1.0 else 0)
        evals += 1
        if math.isfinite(llt) and (llt >= ll + 1e-4 * t * gain or t * gain <= noise):
            return True, t, xt, llt, gt, ht, evals
        t *= 0.5
    return False, t, xt, llt, gt, ht, evals


def _newton(fun, x0: np.ndarray, maxiter: int, tol: float = 1e-11) -> _NewtonResult:
    """Newton-Raphson with step halving on an analytic Hessian (what Stata's ``ml`` does for ``frontier``).

    Where minus the Hessian is not positive definite, the step solves (-H + lam D) d = g with D its diagonal
    (Levenberg-Marquardt), lam raised until Cholesky succeeds.  A trial point is accepted when ln L does not
    fall (Armijo, c = 1e-4), or outright when the predicted gain is below the rounding of ln L itself (there the
    comparison is noise and the gradient is the test).  Stops at relative gradient <= ``tol``.
    """
    x = np.asarray(x0, dtype=float).copy()
    ll, g, h = fun(x, 2)
    nfev = 1
    if not (math.isfinite(ll) and np.all(np.isfinite(g)) and np.all(np.isfinite(h))):
        raise EstimationError("BC92 log-likelihood is not finite at the starting values")
    msg = f"maximum number of iterations ({maxiter}) reached"
    nit = 0
    for nit in range(1, maxiter + 1):
        if _relgrad(g, x, ll) <= tol:
            msg, nit = "relative gradient below tolerance", nit - 1
            break
        step = _newton_direction(g, h)
        gain = float(g @ step)
        noise = 1e-12 * max(abs(ll), 1.0)
        accepted, t, xt, llt, gt, ht, evals = _line_search(fun, x, step, ll, gain, noise)
        nfev += evals
        if not accepted:
            msg = "line search failed: no ascent along the Newton direction"
            break
        if gt is None:
            llt, gt, ht = fun(xt, 2)
            nfev += 1
        if not (np.all(np.isfinite(gt)) and np.all(np.isfinite(ht))):
            msg = "non-finite gradient or Hessian"
            break
        rel_new = _relgrad(gt, xt, llt)
        stalled = t * gain <= noise and (rel_new >= _relgrad(g, x, ll) or rel_new <= _CONVERGED_RELGRAD)
        x, ll, g, h = xt, llt, gt, ht
        if stalled:
            # ln L is flat to rounding and the gradient no longer falls (or is already below the convergence
            # threshold): further steps would only chase rounding error.
            msg = "no further progress at floating-point precision"
            break
    else:
        nit = maxiter
    if _relgrad(g, x, ll) <= tol:
        msg = "relative gradient below tolerance"
    return _NewtonResult(x, ll, g, h, nit, nfev, _relgrad(g, x, ll), msg)


def _check_effects(effects, n: int) -> tuple[np.ndarray, ...]:
    out = []
    for j, c in enumerate(effects):
        c = np.asarray(c)
        if c.shape != (n,) or not np.issubdtype(c.dtype, np.integer):
            raise InputError(
                f"effects[{j}] must be an integer code array of length n = {n}, got {c.dtype} {c.shape}"
            )
        if len(c) and c.min() < 0:
            raise InputError(f"effects[{j}] has negative codes", rows=np.flatnonzero(c < 0).tolist())
        out.append(c)
    return tuple(out)


def bc92_loglik(
    theta: np.ndarray,
    y: np.ndarray,
    X: np.ndarray,
    firm: np.ndarray,
    t: np.ndarray,
    *,
    mu: bool = False,
    grad: bool = False,
    hess: bool = False,
    effects: tuple[np.ndarray, ...] = (),
) -> float | tuple[float, np.ndarray] | tuple[float, np.ndarray, np.ndarray]:
    """BC92 panel log-likelihood at ``theta = [beta, ln sigma_u, ln sigma_v, eta, (mu)]``.

    With ``grad=True`` also returns the analytic gradient, with ``hess=True`` gradient and analytic Hessian.
    ``effects`` as in ``fit_sfa_bc92`` (their coefficients follow X's in ``beta``).  ``EstimationError`` if
    |ln sigma_u| or |ln sigma_v| exceeds 100, where sigma^2 leaves double range.
    """
    X = _as_float_2d(X)
    effects = _check_effects(effects, X.shape[0])
    P = _Panel(np.asarray(y, dtype=float), X, np.asarray(firm), np.asarray(t), effects)
    theta = np.asarray(theta, dtype=float)
    if theta.size != P.k + 3 + int(mu):
        raise InputError(f"theta must have k + 3 + mu = {P.k + 3 + int(mu)} entries, got {theta.size}")
    if not _ln_sigmas_representable(theta[P.k], theta[P.k + 1]):
        raise _unrepresentable("BC92", theta[P.k], theta[P.k + 1])
    if hess:
        return _bc92_eval(theta, P, mu, 2)
    ll, g, _ = _bc92_eval(theta, P, mu, 1 if grad else 0)
    return (ll, g) if grad else ll


def _bc92_predictors(
    P: _Panel, beta: np.ndarray, su: float, sv: float, eta: float, mu: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cu_period, cu_panel, residuals) in sorted order."""
    eps = P.y - P.xb(beta)
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


def _one_blas_thread():
    """Single-threaded BLAS for the fit: its products are n x k0 (k0 ~ 3) and memory-bound, and on a shared
    2-core machine a 2-thread OpenBLAS call stalls whenever one of its threads is descheduled."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - declared dependency
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


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
    maxiter: int = 200,
    effects: tuple[np.ndarray, ...] | list[np.ndarray] = (),
) -> SFAResult:
    """Battese-Coelli (1992) time-varying stochastic production frontier by maximum likelihood.

    Model: ``y_it = X_it'beta + v_it - u_it``, ``v ~ N(0, sigma_v^2)``, ``u_it = exp(-eta (t - T_i)) u_i``,
    ``u_i ~ N+(mu, sigma_u^2)`` (``mu=False``: half-normal, mu = 0), ``T_i`` = firm i's last observed period.
    ``y`` is ln output; ``X`` is the dense part of the design (constant included); ``effects`` are categorical
    regressors given as integer codes 0..L-1 per row, each adding the dummies of levels 1..L-1 (level 0 the
    base) after X's columns, without forming them (``names`` covers X's columns and then the dummies).  The
    panel may be unbalanced and have gaps.  Rows may come in any order; returned arrays follow the input order.

    Estimation: Newton-Raphson with step halving on the analytic gradient and Hessian of ln L in
    ``[beta, ln sigma_u, ln sigma_v, eta, (mu)]``, started at OLS plus skewness-based method-of-moments values
    (intercept shifted up by E[u] = sigma_u sqrt(2/pi)), iterated to a relative gradient
    max_j |g_j| max(|theta_j|, 1) / |ln L| <= 1e-11 (``converged`` requires <= 1e-8).  ``se`` are from the
    observed information, the inverse of minus the analytic Hessian at the optimum, as Stata's ``frontier`` /
    ``xtfrontier``.  Memory is O(n k0 + n_firms k).

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
    n, k0 = X.shape
    if len(y) != n or len(firm) != n or len(t) != n:
        raise InputError(
            f"y, X, firm and t must have the same number of rows (got {len(y)}, {n}, {len(firm)}, {len(t)})"
        )
    effects = _check_effects(effects, n)
    _check_finite(y=y, X=X, t=np.asarray(t, dtype=float))
    if on_wrong_skew not in ("error", "zero"):
        raise InputError(f"on_wrong_skew must be 'error' or 'zero', got {on_wrong_skew!r}")
    with _one_blas_thread():
        P = _Panel(y, X, np.asarray(firm), np.asarray(t), effects)
        k = P.k
        if n <= k + 3:
            raise EstimationError(f"BC92 needs more observations than parameters: n = {n}, k + 3 = {k + 3}")
        names = list(names) if names is not None else [f"x{j}" for j in range(k)]
        if len(names) != k:
            raise InputError(f"names has {len(names)} entries but the design has {k} columns")
        return _fit_bc92_sorted(P, mu, names, on_wrong_skew, compute_se, maxiter)


def _ols_start(P: _Panel) -> tuple[np.ndarray, np.ndarray, float, float, float]:
    """OLS on the panel design, the moment-based start of sigma_u and sigma_v and the residual skewness."""
    n = P.n
    xtx = P.gram()
    try:
        chol = np.linalg.cholesky(xtx / n)
    except np.linalg.LinAlgError as exc:
        raise EstimationError("X is rank deficient (collinear columns): drop a redundant column") from exc
    if np.linalg.cond(chol) > 1e10:
        raise EstimationError("X is numerically rank deficient (condition number of R > 1e10)")
    beta_ols = np.linalg.solve(chol.T, np.linalg.solve(chol, P.xtw(P.y) / n))
    e_ols = P.y - P.xb(beta_ols)
    su0, sv0, m3 = _moment_start(e_ols)
    skew = m3 / float(np.mean((e_ols - e_ols.mean()) ** 2)) ** 1.5
    return beta_ols, e_ols, su0, sv0, skew


def _ols_loglik(n: int, sv: float) -> float:
    """Normal log-likelihood of the OLS fit, sigma_v^2 = e'e / n: the BC92 ln L's limit as sigma_u^2 -> 0.

    With mu = 0 and a = sigma_u^2 -> 0: z = -sqrt(a) S_ge / sqrt(b D) -> 0 and r = 0, so
    z^2/2 + ln Phi(z) - r^2/2 - ln Phi(r) -> ln(1/2) - ln(1/2) = 0 and D -> b, leaving
    ln L_i -> -n_i/2 ln 2pi - n_i/2 ln b - S_ee/(2b), the normal likelihood; its maximum over (beta, b) is OLS.
    """
    return float(-0.5 * n * (_LOG_2PI + 2.0 * math.log(sv) + 1.0))


def _wrong_skew_result(
    P: _Panel, beta_ols: np.ndarray, e_ols: np.ndarray, skew: float, names: list[str], on_wrong_skew: str
) -> SFAResult:
    """Positive OLS skew: raise (``on_wrong_skew="error"``) or return the OLS fit with sigma_u = 0, CU = 1."""
    n = P.n
    msg = (
        f"OLS residuals are positively skewed (skewness = {skew:.4f}): the data show no one-sided "
        "inefficiency, so the ML estimate of sigma_u is 0 and CU is 1 for every firm"
    )
    if on_wrong_skew == "error":
        raise EstimationError(
            msg
            + "; to accept CU = 1 set cu.on_wrong_skew: zero in config/config.yaml, or change the frontier "
            "(cu.method)"
        )
    # stacklevel 4: the warning points at the caller of fit_sfa_bc92
    warnings.warn(msg + "; returning sigma_u = 0, CU = 1", RuntimeWarning, stacklevel=4)
    sv = math.sqrt(float(np.mean(e_ols**2)))
    ll = _ols_loglik(n, sv)
    return _bc92_result(
        P,
        names,
        skew,
        np.ones(n),
        np.ones(n),
        e_ols,
        beta=beta_ols,
        sigma_u=0.0,
        sigma_v=sv,
        eta=0.0,
        mu=0.0,
        loglik=ll,
        converged=True,
        n_iter=0,
        wrong_skew=True,
        message=msg,
    )


def _bc92_result(
    P: _Panel,
    names: list[str],
    skew: float,
    cu_period: np.ndarray,
    cu_panel: np.ndarray,
    residuals: np.ndarray,
    **fit: Any,
) -> SFAResult:
    """An SFAResult with the per-row vectors (computed in firm order) put back in input order."""
    return SFAResult(
        cu_period=_unsort(cu_period, P.order),
        cu_panel=_unsort(cu_panel, P.order),
        residuals=_unsort(residuals, P.order),
        n_obs=P.n,
        n_firms=P.n_firms,
        names=names,
        ols_skewness=skew,
        **fit,
    )


def _bc92_start(P: _Panel, beta_ols: np.ndarray, su0: float, sv0: float, mu: bool) -> np.ndarray:
    """theta0 = [beta, ln sigma_u, ln sigma_v, eta = 0, (mu = 0)], the intercept shifted up by E[u]."""
    beta0 = beta_ols.copy()
    c = _intercept_direction(P.X)
    if c is not None:
        beta0[: P.k0] += c * su0 * math.sqrt(2.0 / math.pi)
    theta0 = np.r_[beta0, math.log(su0), math.log(sv0), 0.0]
    if mu:
        theta0 = np.r_[theta0, 0.0]
    return theta0


def _check_interior(res: _NewtonResult, su: float, sv: float, ll_ols: float, skew: float) -> None:
    """EstimationError if the fit gained nothing over sigma_u = 0 (ln L <= ln L_OLS up to rounding).

    The supremum of ln L is then the OLS likelihood, its limit as sigma_u^2 -> 0 (``_ols_loglik``), reached only
    as ln sigma_u -> -inf, where Newton drifts until the gradient 2 sigma_u^2 dlnL/dsigma_u^2 vanishes: the
    returned sigma_u only says where the drift stopped and CU would be 1 up to it.  (A point below ln L_OLS that
    is not such a drift is at best a local maximum worse than no inefficiency.)  An interior MLE with any
    inefficiency has ln L > ln L_OLS, so it never stops here and its estimates are unchanged.
    """
    if res.ll > ll_ols + 1e-12 * max(abs(ll_ols), 1.0):
        return
    raise EstimationError(
        f"BC92: sigma_u -> 0, the likelihood is maximized at the boundary of no inefficiency: after {res.nit} "
        f"Newton iterations ({res.message}) ln L = {res.ll:.10g} at sigma_u = {su:.3g}, sigma_v = {sv:.3g} does "
        f"not exceed ln L = {ll_ols:.10g} of OLS, its limit as sigma_u^2 -> 0 (difference "
        f"{res.ll - ll_ols:.2g}; OLS residual skewness {skew:.4f}). The sample shows no inefficiency given this "
        "frontier, so the CU measure is not identified; change the frontier (cu.method, e.g. cols or "
        "fa_turnover) or the sample"
    )


def _fit_bc92_sorted(
    P: _Panel, mu: bool, names: list[str], on_wrong_skew: str, compute_se: bool, maxiter: int
) -> SFAResult:
    k = P.k
    beta_ols, e_ols, su0, sv0, skew = _ols_start(P)
    if not np.isfinite(su0):
        return _wrong_skew_result(P, beta_ols, e_ols, skew, names, on_wrong_skew)

    theta0 = _bc92_start(P, beta_ols, su0, sv0, mu)
    res = _newton(lambda th, order: _bc92_eval(th, P, mu, order), theta0, maxiter)
    theta = res.x
    beta = theta[:k]
    su, sv, eta = math.exp(theta[k]), math.exp(theta[k + 1]), float(theta[k + 2])
    mu_hat = float(theta[k + 3]) if mu else 0.0
    _check_interior(res, su, sv, _ols_loglik(P.n, math.sqrt(float(np.mean(e_ols**2)))), skew)

    se: dict[str, float] = {}
    if compute_se:
        pnames = [*names, "sigma_u", "sigma_v", "eta"] + (["mu"] if mu else [])
        se = _standard_errors(res.hess, theta, pnames, {"sigma_u": k, "sigma_v": k + 1})

    converged = res.relgrad <= _CONVERGED_RELGRAD
    if not converged:
        warnings.warn(
            f"BC92 optimizer did not converge after {res.nit} iterations ({res.message}; relative gradient "
            f"{res.relgrad:.2e}); CU is returned but check the specification",
            RuntimeWarning,
            stacklevel=3,
        )
    cu_period, cu_panel, eps = _bc92_predictors(P, beta, su, sv, eta, mu_hat)
    return _bc92_result(
        P,
        names,
        skew,
        cu_period,
        cu_panel,
        eps,
        beta=beta,
        sigma_u=su,
        sigma_v=sv,
        eta=eta,
        mu=mu_hat,
        loglik=res.ll,
        converged=converged,
        n_iter=res.nit,
        wrong_skew=False,
        message=res.message,
        se=se,
        grad_norm_rel=res.relgrad,
        n_eval=res.nfev,
        se_method="observed information (analytic Hessian)" if se else "",
    )


# ----------------------------------------------------------------------------------------------------------
# BC95
# ----------------------------------------------------------------------------------------------------------
def _bc95_eval(
    theta: np.ndarray, y: np.ndarray, X: np.ndarray, Z: np.ndarray, grad: bool
) -> tuple[float, np.ndarray | None]:
    k, m = X.shape[1], Z.shape[1]
    if not _ln_sigmas_representable(theta[k + m], theta[k + m + 1]):
        return -math.inf, None  # fit_sfa_bc95's objective rejects it like any non-finite ln L
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
    """BC95 log-likelihood at ``theta = [beta, delta, ln sigma_u, ln sigma_v]`` (optionally with gradient).

    ``EstimationError`` if |ln sigma_u| or |ln sigma_v| exceeds 100, where sigma^2 leaves double range.
    """
    X, Z = _as_float_2d(X), _as_float_2d(Z, "Z")
    theta = np.asarray(theta, dtype=float)
    if theta.size != X.shape[1] + Z.shape[1] + 2:
        raise InputError(
            f"theta must have k + m + 2 = {X.shape[1] + Z.shape[1] + 2} entries, got {theta.size}"
        )
    if not _ln_sigmas_representable(theta[-2], theta[-1]):
        raise _unrepresentable("BC95", theta[-2], theta[-1])
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


def _design_parts(
    panel: pd.DataFrame,
    form: Literal["cobb_douglas", "translog"],
    year_col: str | None,
    industry_col: str | None,
) -> tuple[np.ndarray, list[tuple[np.ndarray, int]], list[str]]:
    """(dense block: const, lnK, lnL[, translog terms]; [(codes, n_levels)] of year, industry; all names)."""
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
        blocks.append((codes.astype(np.intp), len(levels)))
        names += [f"{prefix}_{lev}" for lev in levels[1:]]
    dense = np.empty((len(panel), len(cols)), order="F")
    for j, c in enumerate(cols):
        dense[:, j] = c
    return dense, blocks, names


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
    dense, blocks, names = _design_parts(panel, form, year_col, industry_col)
    X = np.zeros((len(panel), len(names)), order="F")
    X[:, : dense.shape[1]] = dense
    j0 = dense.shape[1]
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


# sigma_u below this share of sigma_v leaves no inefficiency to predict: CU is 1 up to rounding.
_SIGMA_U_ZERO = 1e-6


def _degenerate(cu: np.ndarray, diag: dict) -> str | None:
    """Why the CU estimates carry no information (None if they do): every regression on a constant lnCU
    prints 0.000 (0.000), so the tables must say so rather than look like a precise zero effect."""
    if diag.get("wrong_skew"):
        return (
            "sigma_u = 0: the frontier residuals are skewed the wrong way and cu.on_wrong_skew: zero was "
            "applied, so CU = 1 and lnCU = 0 for every firm-year; every regression on lnCU is degenerate "
            "(set cu.on_wrong_skew: error to stop here, or change cu.method)"
        )
    su, sv = diag.get("sigma_u"), diag.get("sigma_v")
    if su is not None and sv and su <= _SIGMA_U_ZERO * sv:
        return (
            f"sigma_u = {su:.3g} is about 0 (sigma_v = {sv:.3g}): the frontier finds no inefficiency, so CU "
            "is about 1 for every firm-year and regressions on lnCU are degenerate (change cu.method)"
        )
    if len(cu) and float(np.ptp(cu)) <= 1e-12 * max(1.0, float(np.max(np.abs(cu)))):
        return (
            f"CU = {float(cu[0]):.6g} for every firm-year ({diag['method']}): regressions on lnCU are "
            "degenerate (change cu.method)"
        )
    return None


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
    numbers, non-finite values as None, so ``json.dumps(diag, allow_nan=False)`` works). ``diag["degenerate"]``
    says why CU carries no information (sigma_u = 0, e.g. after ``on_wrong_skew="zero"``; CU constant), logged
    as a warning; None otherwise.
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
        # Year and industry dummies stay integer codes (fit_sfa_bc92's ``effects``): same model and names
        # as design_matrix(df, form), without its n x 22 dense matrix.
        dense, blocks, names = _design_parts(df, form, "year", "industry")
        # Firm codes from the (Arrow-backed) column directly: a 1M-element object array of str costs more.
        firm_codes, _ = pd.factorize(df["Stkcd"], sort=True)
        r = fit_sfa_bc92(
            y,
            dense,
            firm_codes,
            df["year"].to_numpy(),
            mu,
            names=names,
            on_wrong_skew=on_wrong_skew,
            effects=[c for c, _ in blocks],
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
            se_method=r.se_method,
            grad_norm_rel=_plain(r.grad_norm_rel),
            n_eval=int(r.n_eval),
        )
    diag.update(mean_CU=_plain(float(np.mean(cu))), mean_lnCU=_plain(float(np.mean(ln_cu))))
    diag["degenerate"] = _degenerate(cu, diag)
    if diag["degenerate"]:
        log.warning("capacity utilization is degenerate: %s", diag["degenerate"])
    out = pd.DataFrame(
        {"Stkcd": df["Stkcd"].to_numpy(), "year": df["year"].to_numpy(), "CU": cu, "lnCU": ln_cu}
    )
    return out, diag
