"""Fixed effects absorbed once (Frisch-Waugh-Lovell), so that many refits cost a few dot products each.

`AbsorbedDesign` drops singletons iteratively (reghdfe / pyfixest default), applies the within projection to
any columns (pyfixest's MAP demeaner through `pyfixest_adapter`, numpy fallback; `demean_exact`: the exact
one-pass projection `_ExactWithin` when all FE but the largest have few levels) and counts the FE degrees of freedom that CRV1 adds to K
(conventions: `intelcap.econometrics.inference`, module doc). `_TwoWayExact` is the exact one-pass within
projection for two FE when one has few levels (firm + year), used by the placebo fast path.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from intelcap.econometrics import pyfixest_adapter  # light: pyfixest itself is imported on first use
from intelcap.errors import EstimationError

ArrayLike = np.ndarray | pd.Series | pd.DataFrame | Sequence[float]

__all__ = [
    "AbsorbedDesign",
    "ArrayLike",
]


# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------
def _factorize(a: ArrayLike) -> tuple[np.ndarray, int]:
    codes, uniques = pd.factorize(pd.Series(np.asarray(a)), sort=True)
    if (codes < 0).any():
        raise EstimationError(
            "missing values in an id / cluster / fixed-effect variable; drop those rows first"
        )
    return codes.astype(np.int64), len(uniques)


def _as_2d(a: ArrayLike | None, n: int | None = None) -> np.ndarray:
    if a is None:
        return np.empty((n or 0, 0))
    arr = np.asarray(a, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    return arr


def _drop_singletons(codes: np.ndarray) -> np.ndarray:
    """Iterative singleton removal across all FE columns (reghdfe): a drop can create new singletons."""
    keep = np.ones(codes.shape[0], dtype=bool)
    while True:
        changed = False
        for j in range(codes.shape[1]):
            c = codes[keep, j]
            counts = np.bincount(c)
            single = counts[c] == 1
            if single.any():
                idx = np.flatnonzero(keep)
                keep[idx[single]] = False
                changed = True
        if not changed:
            return keep


# ----------------------------------------------------------------------------------------------
# absorbed fixed effects
# ----------------------------------------------------------------------------------------------
class AbsorbedDesign:
    """Fixed effects absorbed once; `.demean` applies the within projection to any columns.

    Parameters
    ----------
    fe : DataFrame / 2-D array of FE identifiers (one column per FE), a 1-D array for one FE, or
        None for "intercept only" (then demeaning is centering and `dof_fe` = 1, the intercept).
    weights : analytic weights (pyfixest `weights=`), or None.
    drop_singletons : iterative singleton removal, as reghdfe and pyfixest.
    tol : convergence tolerance of alternating projections, relative to each column's max |value|.
    """

    def __init__(
        self,
        fe: pd.DataFrame | np.ndarray | None,
        weights: ArrayLike | None = None,
        drop_singletons: bool = True,
        tol: float = 1e-10,
        maxiter: int = 100_000,
    ) -> None:
        if fe is None:
            self.n_input = None if weights is None else len(np.asarray(weights))
            raw = None
        else:
            raw = fe.to_numpy() if isinstance(fe, pd.DataFrame) else np.asarray(fe)
            if raw.ndim == 1:
                raw = raw[:, None]
            self.n_input = raw.shape[0]
        self.fe_names = list(fe.columns) if isinstance(fe, pd.DataFrame) else None
        self.tol = tol
        self.maxiter = maxiter
        if raw is None:
            self.n_fe = 0
            self._codes = np.empty((self.n_input or 0, 0), dtype=np.int64)
            self.keep = None if self.n_input is None else np.ones(self.n_input, dtype=bool)
        else:
            codes = np.column_stack([_factorize(raw[:, j])[0] for j in range(raw.shape[1])])
            keep = _drop_singletons(codes) if drop_singletons else np.ones(codes.shape[0], dtype=bool)
            if not keep.any():
                raise EstimationError("every observation is a singleton in some fixed effect")
            # re-code after the drop so that level counts are those of the estimation sample
            self._codes = np.column_stack(
                [_factorize(codes[keep, j])[0] for j in range(codes.shape[1])]
            ).astype(np.int64)
            self.keep = keep
            self.n_fe = codes.shape[1]
        self._n_kept = None if self.keep is None else int(self.keep.sum())
        self.n_levels = [int(self._codes[:, j].max()) + 1 for j in range(self.n_fe)]
        self._flist = np.ascontiguousarray(self._codes, dtype=np.uint64)
        self.weights = None if weights is None else self.subset(np.asarray(weights, dtype=float))
        if self.weights is not None and (self.weights <= 0).any():
            raise EstimationError("weights must be strictly positive")

    # -- sample -----------------------------------------------------------------------------
    @property
    def n_obs(self) -> int | None:
        return None if self.keep is None else int(self.keep.sum())

    @property
    def n_singletons(self) -> int:
        return 0 if self.keep is None else int((~self.keep).sum())

    @property
    def codes(self) -> np.ndarray:
        """FE codes (0..levels-1) on the estimation sample."""
        return self._codes

    def subset(self, a: ArrayLike) -> np.ndarray:
        """Rows of `a` on the estimation sample; accepts input-length or already-subset arrays."""
        arr = a.to_numpy() if isinstance(a, (pd.Series, pd.DataFrame)) else np.asarray(a)
        if self.keep is None:
            return arr
        if arr.shape[0] == self.n_input:
            return arr[self.keep]
        if arr.shape[0] == self.n_obs:
            return arr
        raise EstimationError(
            f"array has {arr.shape[0]} rows; expected {self.n_input} (input) or {self.n_obs} (after singletons)"
        )

    # -- projections ------------------------------------------------------------------------
    def demean(self, M: ArrayLike) -> np.ndarray:
        """Within transform (weighted if weights were given) of every column of M."""
        A = np.asarray(self.subset(M), dtype=float)
        one_d = A.ndim == 1
        A = _as_2d(A)
        if not np.isfinite(A).all():
            raise EstimationError("non-finite values in a regression variable; drop or impute them first")
        w = self.weights if self.weights is not None else np.ones(A.shape[0])
        if self.n_fe == 0:
            out = A - (w @ A) / w.sum()
        else:
            # scaling makes pyfixest's absolute convergence criterion a relative one
            scale = np.abs(A).max(axis=0)
            scale[scale == 0] = 1.0
            out = self._map(A / scale, w) * scale
        return out[:, 0] if one_d else out

    def demean_exact(self, M: ArrayLike, overwrite: bool = False) -> np.ndarray | None:
        """Within transform of every column of M by the exact one-pass projection (`_ExactWithin`), checked
        (every FE group mean of the result within 1e-10 of each column's max |value|); `demean` (alternating
        projections) where that does not apply: weights, or more than `_ExactWithin.MAX_SMALL_LEVELS` levels
        in the FE other than the largest, or a failed check. `overwrite=True` (M a float array on the
        estimation sample) demeans M in place when its rows are sorted by the largest FE, and then returns
        None if the check failed (M is overwritten: the caller rebuilds it and calls `demean`)."""
        if isinstance(M, np.ndarray) and self.keep is not None and M.shape[0] == self._n_kept:
            A = np.asarray(M, dtype=float)  # already on the estimation sample (no singletons: no copy)
        else:
            A = np.asarray(self.subset(M), dtype=float)
        one_d = A.ndim == 1
        A = _as_2d(A)
        exact = None if self.weights is not None or self.n_fe == 0 else self._exact()
        if exact is None or not np.isfinite(A).all():
            return self.demean(M)
        scale = np.abs(A).max(axis=0)
        scale[scale == 0] = 1.0
        in_place = overwrite and exact.sorted and A.flags.c_contiguous and np.shares_memory(A, M)
        out = exact.demean_sorted(A if in_place else A.copy() if exact.sorted else A[exact.order])
        if not exact.check_sorted(out, 1e-10 * scale):
            return None if in_place else self.demean(M)
        if not exact.sorted:
            unsorted = np.empty_like(out)
            unsorted[exact.order] = out
            out = unsorted
        return out[:, 0] if one_d else out

    def _exact(self) -> _ExactWithin | None:
        if not hasattr(self, "_exact_cache"):
            self._exact_cache = _ExactWithin.from_design(self)
        return self._exact_cache

    def _map(self, A: np.ndarray, w: np.ndarray) -> np.ndarray:

        res = pyfixest_adapter.demean(np.ascontiguousarray(A), self._flist, w, self.tol, self.maxiter)
        if res is None:  # pragma: no cover - pyfixest not installed
            return self._map_numpy(A, w)
        out, ok = res
        if not ok:
            raise EstimationError(f"fixed-effect demeaning did not converge in {self.maxiter} iterations")
        return out

    def _map_numpy(self, A: np.ndarray, w: np.ndarray) -> np.ndarray:
        out = A.copy()
        wsum = [np.bincount(self._codes[:, j], weights=w) for j in range(self.n_fe)]
        for _ in range(self.maxiter):
            prev = out.copy()
            for j in range(self.n_fe):
                c = self._codes[:, j]
                for col in range(out.shape[1]):
                    out[:, col] -= (np.bincount(c, weights=w * out[:, col]) / wsum[j])[c]
            if np.abs(out - prev).max() < self.tol:
                return out
        raise EstimationError("fixed-effect demeaning did not converge")

    @property
    def sqrt_w(self) -> np.ndarray | float:
        return 1.0 if self.weights is None else np.sqrt(self.weights)

    def transform(self, M: ArrayLike) -> np.ndarray:
        """Demeaned and multiplied by sqrt(weights): OLS on transformed data = WLS with the FE. Unweighted, by the
        checked exact projection where it applies (`demean_exact`), as the regression tables."""
        if self.weights is None:
            return self.demean_exact(M)
        out = self.demean(M)
        return out * (self.sqrt_w if out.ndim == 1 else self.sqrt_w[:, None])

    # -- degrees of freedom -----------------------------------------------------------------
    def nested_in(self, cluster: ArrayLike) -> list[bool]:
        """Which FE have every level inside a single cluster."""
        cl, _ = _factorize(self.subset(cluster))
        out = []
        for j in range(self.n_fe):
            # O(N): store one cluster per level (any of them); nested iff every row agrees with it
            c = self._codes[:, j]
            rep = np.empty(self.n_levels[j], dtype=cl.dtype)
            rep[c] = cl
            out.append(bool((rep[c] == cl).all()))
        return out

    def dof_fe(self, cluster: ArrayLike | None = None) -> int:
        """FE degrees of freedom added to K (pyfixest 0.60 `k_fixef="nonnested"`, see module doc)."""
        if self.n_fe == 0:
            return 1  # the intercept
        k = sum(self.n_levels) - (self.n_fe - 1)
        if cluster is None:
            return k
        nested = self.nested_in(cluster)
        if any(nested):
            k = k - sum(lv for lv, f in zip(self.n_levels, nested, strict=True) if f) + sum(nested)
        return k


# ----------------------------------------------------------------------------------------------
# exact two-way within projection (firm + year)
# ----------------------------------------------------------------------------------------------
class _TwoWayExact:
    """Exact within projection for two fixed effects when one has few levels (firm + year).

    FWL: M_{a+b} = M_a - P_{M_a D}, D the dummies of the small FE b (L levels). With rows sorted by a,
    M_a x is a segment-mean subtraction, D'M_a x are L sums, (D'M_a D)^+ is L x L (pseudo-inverse: the
    constant is in both spaces; also correct for disconnected designs) and M_a D c = c[b] - firm means of
    c[b]. One pass of O(N) work per column instead of iterated alternating projections, exact up to
    rounding (valid for unbalanced panels). Unweighted designs only.
    """

    MAX_SMALL_LEVELS = 2000

    def __init__(self, a: np.ndarray, b: np.ndarray, n_b: int) -> None:
        self.order = np.argsort(a, kind="stable")
        a_s, b_s = a[self.order], b[self.order]
        n = a_s.shape[0]
        self.counts = np.bincount(a_s).astype(float)
        if (self.counts == 0).any():
            raise EstimationError("FE codes are not contiguous")  # pragma: no cover - codes are re-factorized
        self.rep = self.counts.astype(np.int64)
        self.starts = np.r_[0, np.cumsum(self.rep)[:-1]]
        self.b = b_s
        self.a = a_s
        self.F = sp.csr_array((np.ones(n), (a_s, b_s)), shape=(len(self.counts), n_b))
        self.Dt = sp.csr_array((np.ones(n), (b_s, np.arange(n))), shape=(n_b, n))
        gram = np.diag(np.bincount(b_s, minlength=n_b).astype(float))
        Fs = self.F.multiply(1.0 / self.counts[:, None]).tocsr()
        gram -= (self.F.T @ Fs).toarray()
        self.gram_pinv = np.linalg.pinv(gram, rcond=1e-10, hermitian=True)

    @classmethod
    def from_design(cls, d: AbsorbedDesign) -> _TwoWayExact | None:
        if d.n_fe != 2 or d.weights is not None or d.keep is None:
            return None
        big = int(np.argmax(d.n_levels))
        small = 1 - big
        if d.n_levels[small] > cls.MAX_SMALL_LEVELS:
            return None
        return cls(d.codes[:, big], d.codes[:, small], d.n_levels[small])

    def sort(self, a: np.ndarray) -> np.ndarray:
        return a[self.order]

    def demean_rows(self, Xt: np.ndarray) -> np.ndarray:
        """Within transform of the ROWS of Xt (m x N, columns in `order`), in place; NaN-checked."""
        means = np.add.reduceat(Xt, self.starts, axis=1)
        means /= self.counts
        if not np.isfinite(means).all():
            raise EstimationError("a reassigned robot series is missing in some year of the receiving firm")
        # year sums of the firm-demeaned rows: D'x - F'means (bincount per row: no strided copy)
        L = self.gram_pinv.shape[0]
        r = np.stack([np.bincount(self.b, weights=Xt[j], minlength=L) for j in range(Xt.shape[0])], axis=1)
        r -= self.F.T @ means.T  # L x m
        c = self.gram_pinv @ r
        fc = (self.F @ c).T
        fc /= self.counts
        means -= fc  # x_dm = x - (means - fc)[a] - c[b]
        a = self.a
        for j in range(Xt.shape[0]):
            row = Xt[j]
            row -= means[j][a]
            row -= c[:, j][self.b]
        return Xt

    def demean_sorted(self, X: np.ndarray) -> np.ndarray:
        """Within transform of the columns of X (rows in `order`), in place."""
        means = np.add.reduceat(X, self.starts, axis=0)
        means /= self.counts[:, None]
        X -= np.repeat(means, self.rep, axis=0)
        c = self.gram_pinv @ (self.Dt @ X)
        fc = self.F @ c
        fc /= self.counts[:, None]
        X -= c[self.b]
        X += np.repeat(fc, self.rep, axis=0)
        return X


class _ExactWithin:
    """Exact within projection for any number of FE when all but the largest (a) have few levels together.

    FWL as `_TwoWayExact`, with D the stacked dummies of every other FE (L levels in all): M_all = M_a -
    P_{M_a D}, (D'M_a D)^+ by pseudo-inverse (D is collinear across FE and with a: the pseudo-inverse gives
    the projection all the same). Rows are sorted by a once; one pass of O(N) work per column. Unweighted.
    """

    MAX_SMALL_LEVELS = 5000

    def __init__(self, codes: np.ndarray, n_levels: list[int]) -> None:
        big = int(np.argmax(n_levels))
        small = [j for j in range(codes.shape[1]) if j != big]
        a = codes[:, big]
        # panels usually come sorted by firm: then no gather / scatter of the columns
        self.sorted = bool((np.diff(a) >= 0).all())
        self.order = np.arange(a.shape[0]) if self.sorted else np.argsort(a, kind="stable")
        self.a = a if self.sorted else a[self.order]
        n = self.a.shape[0]
        self.counts = np.bincount(self.a).astype(float)
        self.rep = self.counts.astype(np.int64)
        self.starts = np.r_[0, np.cumsum(self.rep)[:-1]]
        offsets = np.cumsum([0, *[n_levels[j] for j in small]])
        L = int(offsets[-1])
        self.L = L
        # codes of the small FE, offset into 0..L-1, in `order`
        self.bs = [(codes[self.order, j] + offsets[i]).astype(np.int64) for i, j in enumerate(small)]
        if L:
            b = np.concatenate(self.bs)
            self.small_counts = np.bincount(b, minlength=L).astype(float)
            rows = np.tile(np.arange(n), len(small))
            self.Dt = sp.csr_array((np.ones(b.shape[0]), (b, rows)), shape=(L, n))
            self.F = sp.csr_array(
                (np.ones(b.shape[0]), (np.tile(self.a, len(small)), b)), shape=(len(self.counts), L)
            )
            gram = np.diag(self.small_counts)
            for i, bi in enumerate(self.bs):  # off-diagonal blocks of D'D: co-occurrence of levels
                for bj in self.bs[i + 1 :]:
                    co = sp.csr_array((np.ones(n), (bi, bj)), shape=(L, L)).toarray()
                    gram += co + co.T
            Fs = self.F.multiply(1.0 / self.counts[:, None]).tocsr()
            gram -= (self.F.T @ Fs).toarray()
            self.gram_pinv = np.linalg.pinv(gram, rcond=1e-10, hermitian=True)

    @classmethod
    def from_design(cls, d: AbsorbedDesign) -> _ExactWithin | None:
        if d.n_fe == 0 or d.weights is not None:
            return None
        if sum(d.n_levels) - max(d.n_levels) > cls.MAX_SMALL_LEVELS:
            return None
        return cls(d.codes, d.n_levels)

    CHUNK = 1 << 16

    def demean_sorted(self, X: np.ndarray) -> np.ndarray:
        """Within transform of the columns of X (rows in `order`), in place: x - (m - F c / n_a)[a] - sum_j
        c[b_j], with m the means by a and c = (D'M_a D)^+ D'M_a x, D'M_a x = D'x - F'm (no N x K temporary:
        the subtraction runs over row chunks)."""
        means = np.add.reduceat(X, self.starts, axis=0)
        means /= self.counts[:, None]
        c = None
        if self.L:
            c = self.gram_pinv @ (self.Dt @ X - self.F.T @ means)
            fc = self.F @ c
            fc /= self.counts[:, None]
            means -= fc
        for s in range(0, X.shape[0], self.CHUNK):
            e = s + self.CHUNK
            X[s:e] -= means[self.a[s:e]]
            if c is not None:
                for b in self.bs:
                    X[s:e] -= c[b[s:e]]
        return X

    def check_sorted(self, X: np.ndarray, tol: np.ndarray) -> bool:
        """Every FE group mean of the demeaned columns X (rows in `order`) within `tol` (per column) of 0."""
        means = np.add.reduceat(X, self.starts, axis=0) / self.counts[:, None]
        if not (np.abs(means) <= tol).all():
            return False
        if self.L:
            means = (self.Dt @ X) / self.small_counts[:, None]
            return bool((np.abs(means) <= tol).all())
        return True
