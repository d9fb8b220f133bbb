"""Repeated refits against fixed controls, for placebos, permutations and bootstrap-style loops.

`FastRefit`: coefficient and CRV1 SE of one regressor refitted many times with the same controls (FWL,
controls orthonormalised once). `_SubsampleFWL`: slopes of firm + year FE regressions within any subsample
from per-firm cross-product (Gram) matrices, so a batch of permutations is one matrix product.
Tall-thin products run with single-threaded BLAS (`_one_blas_thread`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from intelcap.econometrics.absorb import ArrayLike, _as_2d, _factorize
from intelcap.econometrics.crv1 import _cluster_matrix, _solve_xtx, crv1_ssc
from intelcap.errors import EstimationError

try:  # BLAS thread control: multithreaded OpenBLAS is 5-50x slower on tall-thin products (N x 8)' (N x m)
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:  # pragma: no cover - optional dependency
    _threadpool_limits = None

__all__ = [
    "FastRefit",
    "RefitResult",
]


# ----------------------------------------------------------------------------------------------
# BLAS threads
# ----------------------------------------------------------------------------------------------
def _one_blas_thread():
    """Context: single-threaded BLAS (tall-thin products are memory-bound; threads only contend)."""
    if _threadpool_limits is None:  # pragma: no cover
        from contextlib import nullcontext

        return nullcontext()
    return _threadpool_limits(limits=1, user_api="blas")


# ----------------------------------------------------------------------------------------------
# FastRefit: many regressors / many outcomes against fixed controls
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RefitResult:
    coef: np.ndarray
    se: np.ndarray

    @property
    def tstat(self) -> np.ndarray:
        return self.coef / self.se


class FastRefit:
    """Coefficient and CRV1 SE of one regressor, refitted many times with the same controls W.

    By FWL the coefficient of x in y ~ x + W is x'y_perp / x'x_perp (perp = residual on W), the
    full-model residual is y_perp - b x_perp, and the x-row of (X'X)^-1 X' is x_perp'/x_perp'x_perp,
    so Var(b) = ssc * sum_g (x_perp_g' u_g)^2 / (x_perp'x_perp)^2. W is orthonormalised once (QR);
    each refit is then O(N p) plus one sparse cluster-sum, vectorised over columns.
    All inputs are on the estimation sample and already FE-demeaned.
    """

    def __init__(
        self,
        W_dm: ArrayLike | None,
        cluster: ArrayLike,
        k_fe: int,
        chunk_mb: float = 128.0,
    ) -> None:
        self.cl, self.G = _factorize(cluster)
        self.n = self.cl.shape[0]
        W = _as_2d(W_dm, self.n)
        if W.shape[0] != self.n:
            raise EstimationError("W and cluster must have the same number of rows")
        self.p = W.shape[1]
        if self.p:
            with _one_blas_thread():
                _solve_xtx(W)  # raises on collinear controls
                self.Q, _ = np.linalg.qr(W, mode="reduced")
        else:
            self.Q = np.empty((self.n, 0))
        # rows sorted by cluster (placebo fast path sorts by firm): contiguous segment sums, no sparse product
        self._starts = None
        if self.n and (np.diff(self.cl) >= 0).all():
            self._starts = np.flatnonzero(np.r_[True, self.cl[1:] != self.cl[:-1]])
        self.C = None if self._starts is not None else _cluster_matrix(self.cl, self.G)
        self.ssc = crv1_ssc(self.n, 1 + self.p + k_fe, self.G)
        self.chunk = max(1, int(chunk_mb * 2**20 / (8 * self.n)))

    def cluster_sums(self, E: np.ndarray) -> np.ndarray:
        """G x m cluster sums of the columns of E."""
        if self._starts is not None:
            return np.add.reduceat(E, self._starts, axis=0)
        return self.C @ E

    def partial(self, A: np.ndarray, overwrite: bool = False) -> np.ndarray:
        """Residual on W of each column (in place when `overwrite` and A is a writable float array)."""
        if not self.p:
            return A
        # single-threaded BLAS: multithreaded OpenBLAS is 5-50x slower on these tall-skinny products
        with _one_blas_thread():
            C = self.Q.T @ A
            if overwrite and A.flags.writeable and A.dtype == float:
                A -= self.Q @ C
                return A
            return A - self.Q @ C

    def _fit_block(self, Xp: np.ndarray, Yp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xx = np.einsum("ij,ij->j", Xp, Xp)
        if (xx <= 1e-14 * np.maximum(1.0, np.einsum("ij,ij->j", Yp, Yp))).any():
            raise EstimationError("a refitted regressor has no variation left after FE and controls")
        b = np.einsum("ij,ij->j", Xp, Yp) / xx
        E = Xp * b
        np.subtract(Yp, E, out=E)  # residuals, in place to bound memory
        E *= Xp  # scores
        S = self.cluster_sums(E)
        se = np.sqrt(self.ssc * np.einsum("gj,gj->j", S, S)) / xx
        return b, se

    def fit_rows(self, y_p: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """y ~ x_r + W for every ROW x_r of Xt (m x N, demeaned; overwritten). y_p = partial(y)."""
        if self.p:
            with _one_blas_thread():
                C = Xt @ self.Q  # m x p
                Xt -= C @ self.Q.T
        xx = np.einsum("ij,ij->i", Xt, Xt)
        if (xx <= 1e-14 * max(1.0, float(y_p @ y_p))).any():
            raise EstimationError("a refitted regressor has no variation left after FE and controls")
        with _one_blas_thread():
            b = (Xt @ y_p) / xx
        E = Xt * b[:, None]
        np.subtract(y_p, E, out=E)  # residuals
        E *= Xt  # scores
        if self._starts is not None:
            S = np.add.reduceat(E, self._starts, axis=1)
        else:
            S = (self.C @ E.T).T
        se = np.sqrt(self.ssc * np.einsum("ij,ij->i", S, S)) / xx
        return b, se

    def fit_many_x(self, y_dm: ArrayLike, X_alt: ArrayLike, overwrite: bool = False) -> RefitResult:
        """y ~ x_r + W for every column x_r of X_alt (demeaned). `overwrite`: X_alt may be used as scratch."""
        yp = self.partial(np.asarray(y_dm, dtype=float).reshape(-1, 1))
        X = _as_2d(X_alt)
        b, s = [], []
        for j0 in range(0, X.shape[1], self.chunk):
            Xp = self.partial(X[:, j0 : j0 + self.chunk], overwrite=overwrite)
            bj, sj = self._fit_block(Xp, np.broadcast_to(yp, Xp.shape))
            b.append(bj)
            s.append(sj)
        return RefitResult(np.concatenate(b), np.concatenate(s))

    def fit_many_y(self, Y_alt: ArrayLike, x_dm: ArrayLike) -> RefitResult:
        """y_r ~ x + W for every column y_r of Y_alt (demeaned)."""
        xp = self.partial(np.asarray(x_dm, dtype=float).reshape(-1, 1))
        Y = _as_2d(Y_alt)
        b, s = [], []
        for j0 in range(0, Y.shape[1], self.chunk):
            Yp = self.partial(Y[:, j0 : j0 + self.chunk])
            bj, sj = self._fit_block(np.repeat(xp, Yp.shape[1], axis=1), Yp)
            b.append(bj)
            s.append(sj)
        return RefitResult(np.concatenate(b), np.concatenate(s))


# ----------------------------------------------------------------------------------------------
# subsample regressions from per-firm cross-products
# ----------------------------------------------------------------------------------------------
class _SubsampleFWL:
    """Slope of x in firm + year FE regressions of y on [x, W] within any subsample, from cross-products.

    FWL with the firm FE absorbed exactly and year dummies as explicit regressors: within a subsample S,
    Z~'Z~ = sum_{S} z z' - sum_i s_i s_i' / n_i (s_i, n_i: firm i's sum and count in S), Z = [y, x, W, D].
    A subsample made of whole firms needs only per-firm cross-product matrices, computed once, so a
    batch of permutations is one matrix product (K x firms) @ (firms x q^2). Observation-level
    subsamples recompute the O(N q^2) sums per draw. Z is centred on full-sample firm means first
    (the within transform ignores per-firm constants; centring avoids cancellation). Equals iterated
    demeaning to rounding; singletons do not move slopes, so none are dropped per subsample.
    """

    CHUNK = 100_000

    def __init__(self, M: np.ndarray, firm: np.ndarray, yr: np.ndarray, per_firm: bool) -> None:
        self.n_firm = int(firm.max()) + 1
        self.n_year = int(yr.max()) + 1
        self.firm, self.yr = firm, yr
        D = np.eye(self.n_year)[yr]
        counts = np.bincount(firm, minlength=self.n_firm).astype(float)
        F = sp.csr_array((np.ones(len(firm)), (firm, np.arange(len(firm)))), shape=(self.n_firm, len(firm)))
        Z = np.column_stack([M, D])
        Z -= (F @ Z / counts[:, None])[firm]
        self.Z, self.F, self.q = Z, F, Z.shape[1]
        self.m = M.shape[1]
        # whole-firm draws only need per-firm Grams and per-firm year counts
        self.C = self._per_firm_gram(Z, firm) if per_firm else None
        self.year_counts = F @ D if per_firm else None  # firms x years

    def _per_firm_gram(self, Z: np.ndarray, firm: np.ndarray) -> np.ndarray:
        """Z_i'Z_i for every firm as one batched product: rows scattered into a zero-padded (firms x T_max x q)
        block (padding adds nothing to the sums), processed in chunks of firms to bound memory."""
        order = np.argsort(firm, kind="stable")
        fs = firm[order]
        counts = np.bincount(fs, minlength=self.n_firm)
        pos = np.arange(len(fs)) - np.repeat(np.cumsum(counts) - counts, counts)
        t_max = int(counts.max())
        C = np.empty((self.n_firm, self.q * self.q))
        step = max(1, self.CHUNK // t_max)
        starts = np.r_[0, np.cumsum(counts)]
        for f0 in range(0, self.n_firm, step):
            f1 = min(self.n_firm, f0 + step)
            lo, hi = starts[f0], starts[f1]
            P = np.zeros((f1 - f0, t_max, self.q))
            P[fs[lo:hi] - f0, pos[lo:hi]] = Z[order[lo:hi]]
            C[f0:f1] = np.matmul(P.transpose(0, 2, 1), P).reshape(f1 - f0, -1)
        return C

    def _gram_obs(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Zg = self.Z * g[:, None]
        s = self.F @ Zg
        n = self.F @ g
        pos = n > 0
        A = Zg.T @ self.Z - (s[pos].T / n[pos]) @ s[pos]
        return A, np.bincount(self.yr, weights=g, minlength=self.n_year)

    def _solve(self, A: np.ndarray, year_count: np.ndarray) -> np.ndarray:
        """Slopes of x for a stack of grams (draws x q x q); draws sharing the set of present years are
        solved in one batched call."""
        out = np.empty(A.shape[0])
        present = year_count > 0
        patterns, which = np.unique(present, axis=0, return_inverse=True)
        for j, pat in enumerate(patterns):
            years = np.flatnonzero(pat)
            cols = np.r_[np.arange(1, self.m), self.m + years[1:]]  # drop absent years + one reference
            idx = np.flatnonzero(which.ravel() == j)
            XX, Xy = A[np.ix_(idx, cols, cols)], A[np.ix_(idx, cols, [0])]
            try:
                out[idx] = np.linalg.solve(XX, Xy)[:, 0, 0]
            except np.linalg.LinAlgError:
                out[idx] = [np.linalg.lstsq(XX[i], Xy[i, :, 0], rcond=None)[0][0] for i in range(len(idx))]
        return out

    def betas(self, G: np.ndarray) -> np.ndarray:
        """(draws x 2) slopes for groups 0 and 1; G rows are 0/1 labels per firm (per_firm) or per row."""
        G = np.asarray(G, dtype=float)
        if self.C is not None and G.shape[1] == self.n_firm:
            A1 = (G @ self.C).reshape(-1, self.q, self.q)
            A0 = self.C.sum(axis=0).reshape(self.q, self.q) - A1
            Y1 = G @ self.year_counts
            Y0 = self.year_counts.sum(axis=0) - Y1
        else:
            grams = [[self._gram_obs(gv) for gv in (1.0 - row, row)] for row in G]
            A0, Y0 = np.stack([g[0][0] for g in grams]), np.stack([g[0][1] for g in grams])
            A1, Y1 = np.stack([g[1][0] for g in grams]), np.stack([g[1][1] for g in grams])
        return np.column_stack([self._solve(A0, Y0), self._solve(A1, Y1)])
