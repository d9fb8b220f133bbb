"""Wild cluster restricted (null imposed) bootstrap-t for one coefficient with absorbed FE (Roodman et al.
2019 algebra: every piece of t*(h0) is affine in h0, so test inversion is cheap), and its cluster weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from intelcap.econometrics.absorb import AbsorbedDesign, ArrayLike, _as_2d
from intelcap.econometrics.crv1 import _cluster_matrix, _prep, _solve_xtx, crv1_ssc
from intelcap.errors import EstimationError

__all__ = [
    "WildBootResult",
    "bootstrap_weights",
    "wild_cluster_bootstrap",
]


# ----------------------------------------------------------------------------------------------
# wild cluster restricted bootstrap
# ----------------------------------------------------------------------------------------------
_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def bootstrap_weights(
    G: int,
    B: int,
    kind: Literal["rademacher", "webb"] = "rademacher",
    seed: int | None = None,
    enumerate_all: bool = True,
) -> tuple[np.ndarray, bool]:
    """G x B' matrix of cluster weights; all 2^G Rademacher sign vectors when 2^G <= B."""
    if kind == "rademacher" and enumerate_all and G < 31 and 2**G <= B:
        v = ((np.arange(2**G)[None, :] >> np.arange(G)[:, None]) & 1) * 2.0 - 1.0
        return v, True
    rng = np.random.default_rng(seed)
    if kind == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=(G, B)), False
    if kind == "webb":
        return rng.choice(_WEBB, size=(G, B)), False
    raise ValueError(f"unknown bootstrap weights {kind!r}")


@dataclass(frozen=True)
class WildBootResult:
    coef: float
    t_stat: float  # CRV1 t of (coef - h0)
    p_value: float  # share of |t*| >= |t|
    h0: float
    ci: tuple[float, float] | None
    n_boot: int
    enumerated: bool
    t_boot: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)


class _WCRCore:
    """Pre-computed pieces of the WCR bootstrap t*(h0), linear in h0 (Roodman et al. 2019 algebra).

    Bootstrap DGP: y* = restricted fit + v_g * u_r, re-estimated with the FE (= demeaning y*). With
    z = x_perp / x_perp'x_perp and D the FE projection:
        b* - h0 = sum_h v_h z_h'u_r,h,
        cluster score of b* in cluster g: q_g = sum_h v_h Q_gh,
        Q_gh = z_g'[D(u_r 1_h)]_g - (X_g'z_g)'(X'X)^-1 (X_h'u_r,h).
    When every FE is nested in the clusters D(u_r 1_h) = u_r 1_h (block diagonal, no N x G work);
    otherwise D is applied to the G columns u_r 1_h once (memory N x G).
    u_r(h0) = M_W y - h0 M_W x, so every piece is affine in h0 and test inversion is cheap.
    """

    def __init__(
        self,
        yd: np.ndarray,
        X: np.ndarray,
        cl: np.ndarray,
        G: int,
        ssc: float,
        design: AbsorbedDesign,
        nested: bool,
    ) -> None:
        n = X.shape[0]
        self.ssc = ssc
        x, Wd = X[:, 0], X[:, 1:]
        if Wd.shape[1]:
            Qw, _ = np.linalg.qr(Wd, mode="reduced")
            perp = lambda a: a - Qw @ (Qw.T @ a)  # noqa: E731
        else:
            perp = lambda a: a  # noqa: E731
        xp = perp(x)
        z = xp / (xp @ xp)
        A = _solve_xtx(X)
        C = _cluster_matrix(cl, G)
        self.beta = float(z @ yd)
        resid = yd - X @ (A @ (X.T @ yd))
        s = C @ (X * resid[:, None])
        self.se = float(np.sqrt(ssc * ((s @ (A[:, 0])) ** 2).sum()))
        F = C @ (X * z[:, None])  # G x k rows X_g'z_g
        FA = F @ A
        self.parts = []
        for u in (perp(yd), perp(x)):  # u_r(h0) = ua - h0 ub
            num = C @ (z * u)
            S = C @ (X * u[:, None])  # G x k rows X_h'u_h
            if nested:
                Q1 = np.diag(num)
            else:
                if n * G > 2e8:
                    raise EstimationError(
                        f"wild bootstrap with FE not nested in {G} clusters needs an N x G matrix ({n}x{G}); "
                        "cluster more coarsely or nest the FE in the clusters"
                    )
                Uh = sp.csc_array((u, (np.arange(n), cl)), shape=(n, G)).toarray()
                Q1 = C @ (design.demean(Uh) * z[:, None])
            self.parts.append((num, Q1 - FA @ S.T))

    def tstar(self, h0: float, V: np.ndarray) -> np.ndarray:
        (na, Qa), (nb, Qb) = self.parts
        num = (na - h0 * nb) @ V
        q = (Qa - h0 * Qb) @ V
        return num / np.sqrt(self.ssc * np.einsum("gb,gb->b", q, q))

    def t(self, h0: float) -> float:
        return (self.beta - h0) / self.se

    def pvalue(self, h0: float, V: np.ndarray) -> float:
        return float(np.mean(np.abs(self.tstar(h0, V)) >= abs(self.t(h0)) * (1 - 1e-12)))


def wild_cluster_bootstrap(
    y: ArrayLike,
    x: ArrayLike,
    W: ArrayLike | None,
    fe_design: AbsorbedDesign,
    cluster: ArrayLike,
    param: str | int = "x",
    h0: float = 0.0,
    B: int = 9999,
    weights: Literal["rademacher", "webb"] = "rademacher",
    seed: int | None = None,
    ci: bool = False,
    level: float = 0.95,
    enumerate_all: bool = True,
) -> WildBootResult:
    """Wild cluster restricted (null imposed) bootstrap-t for one coefficient, symmetric p-value.

    `param` = "x" (the coefficient of x), or a column name / integer index of W (then that column
    takes x's role and x becomes a control). Rademacher weights are fully enumerated when 2^G <= B.
    `ci=True` inverts the test by bisection on h0 with the same weight draws.
    """
    if fe_design.weights is not None:
        raise EstimationError("wild_cluster_bootstrap does not support regression weights")
    cl, G, k_fe, (yd, xd, Wd) = _prep(fe_design, cluster, y, x, W)
    Wd = _as_2d(Wd, yd.shape[0])
    X = np.column_stack([xd, Wd])
    if param != "x":
        names = list(W.columns) if isinstance(W, pd.DataFrame) else []
        j = 1 + (names.index(param) if isinstance(param, str) else int(param))
        X = X[:, [j] + [i for i in range(X.shape[1]) if i != j]]
    nested = all(fe_design.nested_in(cl)) if fe_design.n_fe else False
    ssc = crv1_ssc(X.shape[0], X.shape[1] + k_fe, G)
    core = _WCRCore(yd, X, cl, G, ssc, fe_design, nested)
    V, enumerated = bootstrap_weights(G, B, weights, seed, enumerate_all)
    tb = core.tstar(h0, V)
    p = float(np.mean(np.abs(tb) >= abs(core.t(h0)) * (1 - 1e-12)))
    interval = _invert(core, V, 1 - level) if ci else None
    return WildBootResult(core.beta, float(core.t(h0)), p, h0, interval, V.shape[1], enumerated, tb, V)


def _invert(core: _WCRCore, V: np.ndarray, alpha: float) -> tuple[float, float]:
    """Bootstrap CI {h0: p(h0) > alpha} by bisection from the estimate outwards."""
    b, se = core.beta, core.se

    def bound(direction: float) -> float:
        inner, step = b, 2.0 * se
        outer = b + direction * step
        for _ in range(60):  # widen until rejected
            if core.pvalue(outer, V) <= alpha:
                break
            inner, step = outer, step * 2
            outer = b + direction * step
        else:
            return direction * float("inf")
        for _ in range(100):
            mid = 0.5 * (inner + outer)
            if core.pvalue(mid, V) > alpha:
                inner = mid
            else:
                outer = mid
            if abs(outer - inner) <= 1e-10 * max(1.0, abs(b), se):
                break
        return 0.5 * (inner + outer)

    return bound(-1.0), bound(1.0)
