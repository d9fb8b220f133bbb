"""Exact, scalable DEA efficiency scores (docs/methods.md#dea).

Two solvers give the same numbers:

* :func:`dea_loop` is the textbook reference: one LP per DMU against all n DMUs
  (what R ``Benchmarking``, Stata ``dea`` and pyDEA do). O(n) LPs with n columns each.
* :func:`dea_scores` is exact but solves each DMU against a small *screened* reference set and
  proves optimality against every DMU through LP duality:

  1. A non-dominated (Pareto) filter gives the verification set V. Any DMU outside V is dominated by
     a DMU in V, and with non-negative input/output prices the reduced cost of a dominated column
     is never better than that of its dominator, so checking the dual prices against V checks them
     against all n DMUs. With super-efficiency, V also holds the second Pareto layer so that it
     stays sufficient after the evaluated DMU removes itself.
  2. Column generation: each DMU is solved (HiGHS dual simplex, hot-started model modifications)
     against a growing pool of columns. Its dual prices are checked against V in one batched
     matrix product; DMUs with a violated reduced cost get those columns added and are re-solved.
  3. Basis re-use: a verified optimal basis is a dual-feasible *ray* for every DMU. For a new DMU
     the best cached ray gives a lower bound; solving the same basis for that DMU's data (a tiny
     dense system, batched in numpy) gives a primal solution. If it is feasible, primal and dual
     objectives coincide, so the score is certified optimal without calling the LP solver.

Both solve a :class:`DEAProblem` (the checked matrices and the options): ``dea_scores(X, Y, ...)`` builds
one, ``dea_loop`` takes one, so a comparison hands both solvers the same problem.

Orientation and scores: input orientation reports θ (≤ 1 without super-efficiency); output
orientation solves for φ ≥ 1 and reports **1/φ**, so that higher is always better. Under CRS the two
coincide. Super-efficiency (Andersen–Petersen) removes DMU o from its own reference set; under VRS
that LP can be infeasible, which is reported as status ``"infeasible"`` with score NaN.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from intelcap.errors import InputError

RTS = Literal["crs", "vrs"]
Orientation = Literal["input", "output"]
Frontier = Literal["year", "industry_year", "pooled"]

OPTIMAL = "optimal"
INFEASIBLE = "infeasible"
INVALID_INPUT = "invalid_input"
NO_REFERENCE = "no_reference"

# HiGHS's defaults (1e-7) would let a basis stop while a reduced cost is still -1e-8, which is
# visible at the 1e-9 agreement the tests demand; 1e-10 is the tightest value HiGHS accepts.
_LP_TOL = 1e-10
# A reduced cost counts as violated when it beats zero by more than this share of its terms' size.
_RC_TOL = 1e-9
# λ above this counts as a peer (reported in n_peers only; scores do not depend on it).
_PEER_TOL = 1e-9


@dataclass(frozen=True)
class DEAResult:
    """Scores and diagnostics of one DEA frontier.

    scores:    efficiency per DMU, higher is better (θ for input, 1/φ for output orientation);
               NaN where status is not "optimal".
    n_peers:   number of λ_j > 1e-9 in the optimal solution found (-1 if not optimal). Under
               degeneracy another optimal λ may use a different number of peers.
    status:    "optimal", "infeasible" (VRS super-efficiency) or "no_reference" (a lone DMU
               with super-efficiency has nothing to be compared with).
    ref_size:  number of λ columns in the LP that certified the score (n or n-1 for dea_loop,
               the screened pool size for dea_scores).
    """

    scores: np.ndarray
    n_peers: np.ndarray
    status: np.ndarray
    ref_size: np.ndarray
    rts: str
    orientation: str
    super_efficiency: bool
    stats: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# input handling


def _check_options(rts: str, orientation: str) -> None:
    if rts not in ("crs", "vrs"):
        raise InputError(
            f"unknown returns to scale {rts!r}",
            hint="set dea.rts: crs or vrs in config/config.yaml (rts= in the library call)",
        )
    if orientation not in ("input", "output"):
        raise InputError(
            f"unknown orientation {orientation!r}",
            hint="set dea.orientation: input or output in config/config.yaml (orientation= in the library call)",
        )


def _as_matrix(a: np.ndarray | Sequence, name: str, n: int | None = None) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise InputError(f"{name} must be a 2-D array (DMUs x variables), got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise InputError(f"{name} has {arr.shape[0]} rows but X has {n}")
    bad = ~np.isfinite(arr) | (arr <= 0)
    if bad.any():
        r, c = np.nonzero(bad)
        raise InputError(
            f"{name} must be finite and > 0 (DEA radial scores are undefined otherwise)",
            column=f"{name}[:, {int(c[0])}]",
            rows=[int(i) for i in r],
            hint="drop or fix those DMUs before calling DEA",
        )
    return arr


@dataclass(frozen=True, eq=False)
class DEAProblem:
    """One DEA frontier as both solvers take it: the (n, m) inputs X and (n, s) outputs Y of its DMUs (anything
    `np.asarray` reads; a 1-D array is one column) and the model's options. Checked when built: an unknown
    option, or a matrix that is not 2-D, finite and > 0, raises InputError naming it."""

    X: np.ndarray
    Y: np.ndarray
    rts: RTS = "crs"
    orientation: Orientation = "input"
    super_efficiency: bool = True

    def __post_init__(self) -> None:
        _check_options(self.rts, self.orientation)
        X = _as_matrix(self.X, "X")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "Y", _as_matrix(self.Y, "Y", X.shape[0]))

    @property
    def n(self) -> int:
        return self.X.shape[0]

    def result(
        self, scores: np.ndarray, n_peers: np.ndarray, status: np.ndarray, ref_size: np.ndarray, stats: dict
    ) -> DEAResult:
        """A solver's per-DMU arrays as the DEAResult of this problem."""
        return DEAResult(
            scores, n_peers, status, ref_size, self.rts, self.orientation, self.super_efficiency, stats
        )


def _scaled(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Radial scores are invariant to rescaling any column; dividing by the geometric mean keeps
    # the LP entries near 1, which matters for lognormal firm data spanning 10 orders of magnitude.
    return X / np.exp(np.log(X).mean(0)), Y / np.exp(np.log(Y).mean(0))


def _highs_core() -> ModuleType:
    """The pybind11 HiGHS bindings: public ``highspy`` if installed, else SciPy's vendored copy."""
    try:
        return importlib.import_module("highspy._core")
    except ImportError:
        # SciPy >= 1.15 ships the same bindings privately; they are what linprog(method="highs") runs.
        return importlib.import_module("scipy.optimize._highspy._core")


# --------------------------------------------------------------------------------------------
# screening


def _pareto_min(Z: np.ndarray, block: int = 2048) -> np.ndarray:
    """Indices (sorted) of rows of Z not strictly dominated (<= everywhere, < somewhere) by another row.

    Rows are visited in order of their coordinate sum (floating-point sums are monotone, so a
    dominator always comes first); each block is compared with the front found so far and then
    with itself. Cost is O(n * |front| * d), done in boolean numpy blocks.
    """
    n, d = Z.shape
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    keys = tuple(Z[:, k] for k in range(d - 1, -1, -1)) + (Z.sum(1),)
    order = np.lexsort(keys)
    Zs = Z[order]
    front = np.empty((0, d))
    kept: list[np.ndarray] = []

    def dominated(F: np.ndarray, B: np.ndarray) -> np.ndarray:
        le = np.ones((len(F), len(B)), dtype=bool)
        lt = np.zeros((len(F), len(B)), dtype=bool)
        for k in range(d):
            fk, bk = F[:, k][:, None], B[:, k][None, :]
            le &= fk <= bk
            lt |= fk < bk
        return (le & lt).any(0)

    chunk = 256
    for b0 in range(0, n, block):
        B = Zs[b0 : b0 + block]
        bi = np.arange(b0, min(n, b0 + block))
        # Compare with the front in small chunks, newest first: recently added front points have
        # similar coordinate sums (similar firm size), so they kill most of the block early and the
        # survivors meet the rest of the front in ever smaller arrays.
        for f1 in range(len(front), 0, -chunk):
            if len(B) == 0:
                break
            keep = ~dominated(front[max(0, f1 - chunk) : f1], B)
            B, bi = B[keep], bi[keep]
        if len(B):
            keep = ~dominated(B, B)
            B, bi = B[keep], bi[keep]
            front = np.vstack([front, B])
            kept.append(bi)
    return np.sort(order[np.concatenate(kept)]) if kept else np.zeros(0, dtype=np.intp)


def _dominance_space(X: np.ndarray, Y: np.ndarray, rts: str) -> np.ndarray:
    if rts == "crs":
        # Under CRS, k covers j if t*x_k <= x_j and t*y_k >= y_j for some t > 0; dividing by the
        # first output turns that into plain dominance in m+s-1 dimensions (a smaller front).
        y1 = Y[:, :1]
        return np.hstack([X / y1, -Y[:, 1:] / y1])
    return np.hstack([X, -Y])


# --------------------------------------------------------------------------------------------
# LP worker: one HiGHS model, hot-started from DMU to DMU


class _LPWorker:
    """min c*score  s.t. rows [inputs; outputs; (convexity)], columns [score, λ_pool...].

    Input orientation:  Σλx - θ x_o <= 0,  Σλy >= y_o          (cost +1 on θ)
    Output orientation: Σλx <= x_o,        Σλy - φ y_o >= 0    (cost -1 on φ)
    Only the score column's coefficients and some row bounds change from DMU to DMU, so HiGHS
    keeps its basis and usually needs a handful of dual simplex iterations.
    """

    def __init__(self, core: ModuleType, X: np.ndarray, Y: np.ndarray, rts: str, orientation: str):
        self.core, self.X, self.Y = core, X, Y
        self.m, self.s = X.shape[1], Y.shape[1]
        self.vrs = rts == "vrs"
        self.input = orientation == "input"
        self.nrow = self.m + self.s + int(self.vrs)
        self.inf = core.kHighsInf
        h = core._Highs()
        for key, val in (
            ("output_flag", False),
            ("presolve", "off"),
            ("solver", "simplex"),
            ("primal_feasibility_tolerance", _LP_TOL),
            ("dual_feasibility_tolerance", _LP_TOL),
        ):
            h.setOptionValue(key, val)
        inf = self.inf
        if self.input:
            lo = np.r_[np.full(self.m, -inf), np.zeros(self.s)]
            hi = np.r_[np.zeros(self.m), np.full(self.s, inf)]
        else:
            lo = np.r_[np.full(self.m, -inf), np.zeros(self.s)]
            hi = np.r_[np.ones(self.m), np.full(self.s, inf)]
        if self.vrs:
            lo, hi = np.r_[lo, 1.0], np.r_[hi, 1.0]
        h.addRows(self.nrow, lo, hi, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
        self.score_rows = np.arange(self.m) if self.input else np.arange(self.m, self.m + self.s)
        self.bound_rows = np.arange(self.m, self.m + self.s) if self.input else np.arange(self.m)
        k = len(self.score_rows)
        h.addCol(1.0 if self.input else -1.0, -inf, inf, k, self.score_rows.astype(np.int32), -np.ones(k))
        self.h = h
        self.cols: list[int] = []  # DMU index of LP column 1 + i
        self.pos: dict[int, int] = {}
        self.pos_arr = np.full(len(X), len(X) + 1, dtype=np.int64)  # same as pos, n+1 = absent

    def add(self, dmus: np.ndarray) -> None:
        new = [int(j) for j in dmus if int(j) not in self.pos]
        if not new:
            return
        idx = np.asarray(new)
        A = np.hstack([self.X[idx], self.Y[idx]] + ([np.ones((len(idx), 1))] if self.vrs else []))
        K = len(idx)
        starts = (np.arange(K) * self.nrow).astype(np.int32)
        rows = np.tile(np.arange(self.nrow, dtype=np.int32), K)
        self.h.addCols(
            K, np.zeros(K), np.zeros(K), np.full(K, self.inf), K * self.nrow, starts, rows, A.ravel()
        )
        for j in new:
            self.pos[j] = len(self.cols) + 1
            self.pos_arr[j] = len(self.cols) + 1
            self.cols.append(j)

    def solve(self, o: int, exclude_self: bool):
        """Return (status, score value, row duals, basic DMUs, their λ, tight-row mask)."""
        h, core = self.h, self.core
        a = self.X[o] if self.input else self.Y[o]
        for r, v in zip(self.score_rows, a, strict=True):
            h.changeCoeff(int(r), 0, -float(v))
        b = self.Y[o] if self.input else self.X[o]
        # row by row: SciPy's vendored bindings lack the vectorised changeRowsBounds
        for r, v in zip(self.bound_rows, b, strict=True):
            if self.input:
                h.changeRowBounds(int(r), float(v), self.inf)
            else:
                h.changeRowBounds(int(r), -self.inf, float(v))
        own = self.pos.get(o) if exclude_self else None
        if own is not None:
            h.changeColBounds(own, 0.0, 0.0)
        h.run()
        ms = h.getModelStatus()
        if own is not None:
            h.changeColBounds(own, 0.0, self.inf)
        if ms == core.HighsModelStatus.kInfeasible:
            return INFEASIBLE, np.nan, None, None, None, None
        if ms != core.HighsModelStatus.kOptimal:
            # Bounded by construction; anything else means HiGHS hit a numerical limit.
            raise RuntimeError(f"HiGHS returned {h.modelStatusToString(ms)} for DMU {o}")
        sol = h.getSolution()
        col = np.asarray(sol.col_value)
        pi = np.asarray(sol.row_dual)
        _, basic = h.getBasicVariables()
        basic = np.asarray(basic)
        bcols = basic[basic > 0]  # column 0 is the score, always basic since θ, φ > 0
        tight = np.ones(self.nrow, dtype=bool)
        tight[-1 - basic[basic < 0]] = False
        dmus = np.asarray([self.cols[c - 1] for c in bcols], dtype=np.intp)
        return OPTIMAL, float(col[0]), pi, dmus, col[bcols], tight


# --------------------------------------------------------------------------------------------
# helpers shared by the fast solver


def _score_from_value(v: np.ndarray | float, orientation: str):
    # φ >= 1 means "could expand outputs by φ"; 1/φ puts output scores on the same higher-is-better
    # scale as θ (and equal to θ under CRS).
    return v if orientation == "input" else 1.0 / np.asarray(v)


def _clip_duals(pi: np.ndarray, m: int, s: int) -> np.ndarray:
    # ≤ rows (inputs) have duals ≤ 0 and ≥ rows (outputs) ≥ 0 for a minimisation; round-off signs
    # would break the dominance argument, so clip them.
    pi = np.array(pi, dtype=float, copy=True)
    pi[..., :m] = np.minimum(pi[..., :m], 0.0)
    pi[..., m : m + s] = np.maximum(pi[..., m : m + s], 0.0)
    return pi


def _reduced_gain(pi: np.ndarray, XV: np.ndarray, YV: np.ndarray, vrs: bool) -> tuple[np.ndarray, np.ndarray]:
    """g_j = x_j'π_x + y_j'π_y (+π_w): a λ column with g_j > 0 has negative reduced cost.

    Returns g (b x |V|) and the size of its terms, for a relative tolerance."""
    m, s = XV.shape[1], YV.shape[1]
    gx = pi[:, :m] @ XV.T
    gy = pi[:, m : m + s] @ YV.T
    g = gx + gy
    scale = np.abs(gx) + np.abs(gy)
    if vrs:
        w = pi[:, m + s][:, None]
        g = g + w
        scale = scale + np.abs(w)
    return g, scale


class _RayCache:
    """Verified optimal bases, re-used as certificates for other DMUs (see module docstring).

    A basis is stored as an (nrow x nrow) template: column 0 is the score column (filled in per
    DMU), then the basic λ columns, then ±unit columns for rows whose slack is basic. Solving the
    template for a DMU's data is one batched ``np.linalg.solve`` over many DMUs at once.
    """

    # kinds of basis columns
    _SCORE, _LAMBDA, _SLACK = 0, 1, 2

    def __init__(self, X: np.ndarray, Y: np.ndarray, rts: str, orientation: str, super_eff: bool):
        self.X, self.Y = X, Y
        self.m, self.s = X.shape[1], Y.shape[1]
        self.vrs = rts == "vrs"
        self.input = orientation == "input"
        self.super = super_eff
        self.nrow = self.m + self.s + int(self.vrs)
        # row type: +1 for "activity <= b" rows, -1 for ">= b" rows, 0 for the VRS equality
        self.row_sign = np.r_[np.ones(self.m), -np.ones(self.s), np.zeros(int(self.vrs))]
        self.keys: set = set()
        self._pi: list[np.ndarray] = []
        self._tmpl: list[np.ndarray] = []
        self._kind: list[np.ndarray] = []
        self._dmu: list[np.ndarray] = []
        self._stack: tuple | None = None

    def __len__(self) -> int:
        return len(self._pi)

    def add(self, pi: np.ndarray, dmus: np.ndarray, tight: np.ndarray) -> None:
        key = (tuple(sorted(int(d) for d in dmus)), tuple(np.flatnonzero(tight)))
        if key in self.keys:
            return
        nr = self.nrow
        slack_rows = np.flatnonzero(~tight)
        if 1 + len(dmus) + len(slack_rows) != nr:
            return  # not a square basis (should not happen); simply do not cache it
        self.keys.add(key)
        T = np.zeros((nr, nr))
        kind = np.full(nr, self._SCORE)
        dmu = np.full(nr, -1, dtype=np.intp)
        k = 1 + len(dmus)
        T[: self.m, 1:k] = self.X[dmus].T
        T[self.m : self.m + self.s, 1:k] = self.Y[dmus].T
        if self.vrs:
            T[-1, 1:k] = 1.0
        kind[1:k] = self._LAMBDA
        dmu[1:k] = dmus
        for c, r in enumerate(slack_rows, start=k):
            # activity + slack = b for <= rows, activity - surplus = b for >= rows
            T[r, c] = self.row_sign[r] if self.row_sign[r] != 0 else 1.0
            kind[c] = self._SLACK
            dmu[c] = -2 - r  # remembers the row (used to require a zero slack on equalities)
        self._pi.append(np.asarray(pi, dtype=float))
        self._tmpl.append(T)
        self._kind.append(kind)
        self._dmu.append(dmu)
        self._stack = None

    def _row_data(self, os_: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score-column coefficients a_s(o) and right-hand sides b(o), both (len(os_), nrow)."""
        k = len(os_)
        a = np.zeros((k, self.nrow))
        b = np.zeros((k, self.nrow))
        m, s = self.m, self.s
        if self.input:
            a[:, :m] = -self.X[os_]
            b[:, m : m + s] = self.Y[os_]
        else:
            a[:, m : m + s] = -self.Y[os_]
            b[:, :m] = self.X[os_]
        if self.vrs:
            b[:, -1] = 1.0
        return a, b

    def certify(self, os_: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Try to certify DMUs by the best cached basis. Returns (accepted mask, LP values, n_peers)."""
        k = len(os_)
        ok = np.zeros(k, dtype=bool)
        val = np.full(k, np.nan)
        peers = np.full(k, -1)
        if not self._pi or k == 0:
            return ok, val, peers
        if self._stack is None:
            self._stack = (
                np.vstack(self._pi),
                np.stack(self._tmpl),
                np.stack(self._kind),
                np.stack(self._dmu),
            )
        P, TM, KD, DM = self._stack
        a, b = self._row_data(os_)
        cost = 1.0 if self.input else -1.0
        # Scaling ray π by cost / (a_s(o)'π) > 0 restores the score column's dual constraint; the
        # scaled dual objective is a lower bound on cost * value, tight for the optimal basis.
        den = a @ P.T
        num = b @ P.T
        with np.errstate(divide="ignore", invalid="ignore"):
            lb = np.where(den * cost > 0, cost * num / den, -np.inf)
        best = lb.argmax(1)
        lb_best = lb[np.arange(k), best]
        kind, dmu = KD[best], DM[best]
        usable = np.isfinite(lb_best)
        if self.super:
            # the basis may use the very DMU that super-efficiency must exclude
            usable &= ~(dmu == os_[:, None]).any(1)
        M = TM[best]
        M[:, :, 0] = a
        # a singular basis for some DMU must not sink the whole batch
        det_ok = np.abs(np.linalg.det(M)) > 1e-300
        usable &= det_ok
        z = np.zeros((k, self.nrow))
        if usable.any():
            z[usable] = np.linalg.solve(M[usable], b[usable][:, :, None])[:, :, 0]
        lam = np.where(kind == self._LAMBDA, z, 0.0)
        slack = np.where(kind == self._SLACK, z, 0.0)
        eq_slack = (
            (kind == self._SLACK) & (dmu == -2 - (self.nrow - 1)) if self.vrs else np.zeros_like(z, bool)
        )
        scale = 1.0 + np.abs(b).max(1, keepdims=True) + np.abs(a * z[:, :1]).max(1, keepdims=True)
        feas = (lam >= -_LP_TOL).all(1)
        feas &= (slack >= -_LP_TOL * scale).all(1)
        feas &= (np.abs(np.where(eq_slack, slack, 0.0)) <= _LP_TOL * scale).all(1)
        # strong duality as a bookkeeping check: the basis's primal value equals the dual bound
        agree = np.abs(cost * z[:, 0] - lb_best) <= 1e-9 * np.maximum(1.0, np.abs(z[:, 0]))
        acc = usable & feas & agree & (z[:, 0] > 0)
        ok[acc] = True
        val[acc] = z[acc, 0]
        peers[acc] = (lam[acc] > _PEER_TOL).sum(1)
        return ok, val, peers


# --------------------------------------------------------------------------------------------
# public solvers


def _verification_set(Z: np.ndarray, super_efficiency: bool) -> tuple[np.ndarray, np.ndarray]:
    """Step 1 (screening): the non-dominated DMUs C and the verification set V (with super-efficiency, V
    adds the second Pareto layer so that it stays sufficient after the evaluated DMU removes itself)."""
    C = _pareto_min(Z)
    if not super_efficiency:
        return C, C
    rest = np.setdiff1d(np.arange(Z.shape[0]), C)
    return C, np.union1d(C, rest[_pareto_min(Z[rest])])


def _seed_columns(Z: np.ndarray, C: np.ndarray, initial_reference, n: int) -> np.ndarray:
    """The starting column pool: the caller's, or the extreme points of C along each coordinate."""
    if initial_reference is None:
        ZC = Z[C]
        return np.unique(np.r_[C[ZC.argmin(0)], C[np.argsort(ZC.sum(1))[:1]]])
    seeds = np.unique(np.asarray(initial_reference, dtype=np.intp))
    if seeds.size and (seeds.min() < 0 or seeds.max() >= n):
        raise InputError("initial_reference holds indices outside 0..n-1")
    return seeds


class _ColumnGeneration:
    """State of one `dea_scores` run: the results filled in so far, the column pool (`worker`), the ray
    cache, and the verification set V. Each round takes a batch of DMUs through the three steps of the
    module docstring: certify from cached rays, solve against the pool, verify the duals against V."""

    def __init__(
        self,
        Xs: np.ndarray,
        Ys: np.ndarray,
        rts: str,
        orientation: str,
        super_efficiency: bool,
        V: np.ndarray,
        seeds: np.ndarray,
        stats: dict,
    ) -> None:
        n = Xs.shape[0]
        self.Xs, self.Ys, self.rts, self.orientation = Xs, Ys, rts, orientation
        self.se = super_efficiency
        self.V, self.XV, self.YV = V, Xs[V], Ys[V]
        self.m, self.s, self.vrs = Xs.shape[1], Ys.shape[1], rts == "vrs"
        self.scores = np.full(n, np.nan)
        self.n_peers = np.full(n, -1, dtype=np.int64)
        self.status = np.full(n, OPTIMAL, dtype=object)
        self.ref_size = np.zeros(n, dtype=np.int64)
        self.stats = stats
        self.core = _highs_core()
        self.worker = _LPWorker(self.core, Xs, Ys, rts, orientation)
        self.worker.add(seeds)
        self.cache = _RayCache(Xs, Ys, rts, orientation, super_efficiency)
        self.full_worker: _LPWorker | None = None

    def _accept(self, o: int, v: float, lam: np.ndarray, ref_size: int) -> None:
        self.scores[o] = _score_from_value(v, self.orientation)
        self.n_peers[o] = int((lam > _PEER_TOL).sum())
        self.ref_size[o] = ref_size

    def certify(self, batch: np.ndarray) -> np.ndarray:
        """Step 3 (basis re-use): score what the cached rays certify; return the DMUs still to solve."""
        ok, val, peers = self.cache.certify(batch)
        done = batch[ok]
        self.scores[done] = _score_from_value(val[ok], self.orientation)
        self.n_peers[done] = peers[ok]
        self.ref_size[done] = len(self.worker.cols)
        self.stats["ray_certified"] += int(ok.sum())
        return batch[~ok]

    def _solve_full(self, o: int) -> None:
        """Infeasible against the pool is not proof: confirm against V (sufficient, see top)."""
        if self.full_worker is None:
            self.full_worker = _LPWorker(self.core, self.Xs, self.Ys, self.rts, self.orientation)
            self.full_worker.add(self.V)
        self.stats["fallback_full"] += 1
        st, v, pi, dmus, lam, tight = self.full_worker.solve(o, self.se)
        ref_size = len(self.V) - int(o in self.full_worker.pos)
        if st == INFEASIBLE:
            self.status[o] = INFEASIBLE
            self.ref_size[o] = ref_size
            return
        # V holds everything needed, so this solution is exact; share its columns
        self.worker.add(dmus)
        self._accept(o, v, lam, ref_size)

    def solve(self, todo: np.ndarray, retry: list[int]) -> tuple[list[int], list, list, list[int]]:
        """Step 2a: solve each DMU against the pool; returns the solved DMUs with their duals, solutions and
        pool size at solve time (the pool may grow within a batch). DMUs to re-solve go to `retry`."""
        solved, pis, infos = [], [], []
        solve_len: list[int] = []
        for o in todo:
            o = int(o)
            st, v, pi, dmus, lam, tight = self.worker.solve(o, self.se)
            self.stats["lp_solves"] += 1
            if st == INFEASIBLE:
                if not self.se and o not in self.worker.pos:
                    # Standard VRS always has λ_o = 1; the pool just lacked a column covering o.
                    self.worker.add(np.array([o]))
                    retry.append(o)
                    continue
                self._solve_full(o)
                continue
            solved.append(o)
            pis.append(pi)
            infos.append((v, dmus, lam, tight))
            solve_len.append(len(self.worker.cols))
        return solved, pis, infos, solve_len

    def verify(
        self, solved: list[int], pis: list, infos: list, solve_len: list[int], retry: list[int]
    ) -> None:
        """Step 2b (pricing): check every solved DMU's duals against V in one matrix product. A violated
        reduced cost adds the most violated columns to the pool and queues the DMU again; otherwise the
        score is final and its basis joins the ray cache."""
        V = self.V
        P = _clip_duals(np.vstack(pis), self.m, self.s)
        g, scale = _reduced_gain(P, self.XV, self.YV, self.vrs)
        viol = g > _RC_TOL * np.maximum(scale, 1e-300)
        in_lp = self.worker.pos_arr[V][None, :] <= np.asarray(solve_len)[:, None]
        own = np.asarray(solved)[:, None] == V[None, :]
        # columns that were in the LP are HiGHS's business (checked at its tolerance); the own
        # column is exempt under super-efficiency
        viol_out = viol & ~in_lp
        if self.se:
            viol_out &= ~own
        add_cols: set[int] = set()
        for i, o in enumerate(solved):
            row = np.flatnonzero(viol_out[i])
            v, dmus, lam, tight = infos[i]
            if len(row):
                # the most violated few: typically the frontier DMUs the LP is missing
                top = row[np.argsort(-g[i, row] / np.maximum(scale[i, row], 1e-300))[:4]]
                add_cols.update(int(j) for j in V[top])
                retry.append(o)
                continue
            self._accept(o, v, lam, len(self.worker.cols) - int(self.se and o in self.worker.pos))
            # a ray is reusable for others only if it is also feasible for o's own column
            if not self.se or not (viol[i] & own[i]).any():
                self.cache.add(P[i], dmus, tight)
        if add_cols:
            self.worker.add(np.array(sorted(add_cols)))


def dea_scores(
    X: np.ndarray | Sequence,
    Y: np.ndarray | Sequence,
    *,
    rts: RTS = "crs",
    orientation: Orientation = "input",
    super_efficiency: bool = True,
    initial_reference: np.ndarray | Sequence[int] | None = None,
    use_ray_cache: bool = True,
    batch_size: int = 4096,
) -> DEAResult:
    """Exact DEA scores via screening + column generation + dual verification.

    X: (n, m) inputs > 0; Y: (n, s) outputs > 0 (1-D arrays are read as one column).
    rts: "crs" (CCR) or "vrs" (BCC). orientation: "input" reports θ = min radial input
    contraction; "output" reports 1/φ where φ = max radial output expansion, so that higher is
    better in both orientations. super_efficiency: Andersen–Petersen, DMU o excluded from its own
    reference set (efficient units score > 1; VRS may be infeasible -> NaN, status "infeasible").

    initial_reference: DMU indices of the starting column pool (default: the extreme points of the
    non-dominated set along each coordinate). Any start gives the same scores, because every score
    is verified against all DMUs; a poor start only costs more column-generation rounds.
    use_ray_cache: re-use verified optimal bases as certificates (exact; see module docstring).
    """
    problem = DEAProblem(X, Y, rts, orientation, super_efficiency)
    n = problem.n
    stats = {"n": n, "lp_solves": 0, "ray_certified": 0, "cg_rounds": 0, "fallback_full": 0}
    if n == 0 or (super_efficiency and n == 1):
        status = np.full(n, NO_REFERENCE if n else OPTIMAL, dtype=object)
        return problem.result(
            np.full(n, np.nan), np.full(n, -1, dtype=np.int64), status, np.zeros(n, dtype=np.int64), stats
        )

    Xs, Ys = _scaled(problem.X, problem.Y)
    Z = _dominance_space(Xs, Ys, rts)
    C, V = _verification_set(Z, super_efficiency)
    stats.update(n_nondominated=len(C), n_verify=len(V))
    cg = _ColumnGeneration(
        Xs, Ys, rts, orientation, super_efficiency, V, _seed_columns(Z, C, initial_reference, n), stats
    )

    # Non-dominated DMUs first: their LPs pull the frontier into the pool (and the cache) early,
    # after which the dominated majority are mostly certified without an LP.
    queue = np.r_[C, np.setdiff1d(np.arange(n), C)]
    pos = 0
    retry: list[int] = []
    bsz = 64
    while pos < n or retry:
        take = queue[pos : pos + bsz]
        pos += len(take)
        batch = np.r_[np.asarray(retry, dtype=np.intp), take].astype(np.intp)
        retry = []
        bsz = min(batch_size, bsz * 2)
        stats["cg_rounds"] += 1
        todo = cg.certify(batch) if use_ray_cache and len(cg.cache) else batch
        solved, pis, infos, solve_len = cg.solve(todo, retry)
        if solved:
            cg.verify(solved, pis, infos, solve_len, retry)

    stats.update(pool_size=len(cg.worker.cols), n_rays=len(cg.cache))
    return problem.result(cg.scores, cg.n_peers, cg.status, cg.ref_size, stats)


def dea_loop(
    problem: DEAProblem,
    *,
    dmus: np.ndarray | Sequence[int] | None = None,
    backend: Literal["linprog", "highs"] = "linprog",
) -> DEAResult:
    """Reference implementation: one full LP per DMU with all n DMUs as columns (DMU o's own λ
    fixed at 0 under super-efficiency); no screening, no verification needed.

    backend="linprog": a fresh ``scipy.optimize.linprog(method="highs")`` call per DMU, the textbook
    reference of docs/methods.md#dea and what pyDEA-style code does. backend="highs": one HiGHS model with all
    n columns, modified and hot-started from DMU to DMU (what R Benchmarking does with lpSolveAPI) —
    a faster, fairer baseline. Same conventions as :func:`dea_scores`, whose arguments X, Y, rts, orientation
    and super_efficiency `problem` holds. ``dmus`` restricts which DMUs are evaluated (the frontier is always
    all n); the others stay NaN with status "not_solved".
    """
    if backend not in ("linprog", "highs"):
        raise InputError(f"unknown backend {backend!r}", hint="use 'linprog' or 'highs'")
    n = problem.n
    scores = np.full(n, np.nan)
    n_peers = np.full(n, -1, dtype=np.int64)
    status = np.full(n, OPTIMAL, dtype=object)
    ref_size = np.full(n, n - int(problem.super_efficiency), dtype=np.int64)
    evaluate = np.arange(n) if dmus is None else np.asarray(dmus, dtype=np.intp)
    if dmus is not None:
        status[:] = "not_solved"
    result = problem.result(scores, n_peers, status, ref_size, {"lp_solves": 0, "backend": backend})
    if problem.super_efficiency and n == 1:
        status[evaluate] = NO_REFERENCE
        return result

    if backend == "highs":
        _loop_highs(problem.X, problem.Y, evaluate, result)
    else:
        _loop_linprog(problem.X, problem.Y, evaluate, result)
    return result


def _loop_highs(X: np.ndarray, Y: np.ndarray, evaluate: np.ndarray, result: DEAResult) -> None:
    """One HiGHS model with all n columns, modified and hot-started from DMU to DMU; fills `result`."""
    rts, orientation, super_efficiency = result.rts, result.orientation, result.super_efficiency
    worker = _LPWorker(_highs_core(), X, Y, rts, orientation)
    worker.add(np.arange(X.shape[0]))
    for o in evaluate:
        st, v, _pi, _dmus, lam, _tight = worker.solve(int(o), super_efficiency)
        result.stats["lp_solves"] += 1
        result.status[o] = st
        if st == OPTIMAL:
            result.scores[o] = _score_from_value(v, orientation)
            result.n_peers[o] = int((lam > _PEER_TOL).sum())


def _loop_linprog(X: np.ndarray, Y: np.ndarray, evaluate: np.ndarray, result: DEAResult) -> None:
    """A fresh ``scipy.optimize.linprog`` call per DMU (the textbook reference); fills `result`."""
    rts, orientation, super_efficiency = result.rts, result.orientation, result.super_efficiency
    scores, n_peers, status, stats = result.scores, result.n_peers, result.status, result.stats
    n, m, s = X.shape[0], X.shape[1], Y.shape[1]
    inp = orientation == "input"
    # variables [score, λ_1..λ_n]; inequalities written as A_ub z <= b_ub
    A = np.zeros((m + s, n + 1))
    A[:m, 1:] = X.T
    A[m:, 1:] = -Y.T
    c = np.zeros(n + 1)
    c[0] = 1.0 if inp else -1.0
    A_eq = np.r_[0.0, np.ones(n)][None, :] if rts == "vrs" else None
    b_eq = np.ones(1) if rts == "vrs" else None
    bounds = np.zeros((n + 1, 2))
    bounds[:, 1] = np.inf
    bounds[0] = (-np.inf, np.inf)
    opts = {"primal_feasibility_tolerance": _LP_TOL, "dual_feasibility_tolerance": _LP_TOL}
    for o in evaluate:
        o = int(o)
        A[:, 0] = 0.0
        if inp:
            A[:m, 0] = -X[o]
            b = np.r_[np.zeros(m), -Y[o]]
        else:
            A[m:, 0] = Y[o]
            b = np.r_[X[o], np.zeros(s)]
        if super_efficiency:
            bounds[1 + o, 1] = 0.0
        res = linprog(c, A_ub=A, b_ub=b, A_eq=A_eq, b_eq=b_eq, bounds=bounds, method="highs", options=opts)
        stats["lp_solves"] += 1
        if super_efficiency:
            bounds[1 + o, 1] = np.inf
        if res.status == 2:
            status[o] = INFEASIBLE
            continue
        if res.status != 0:
            raise RuntimeError(f"linprog failed for DMU {o}: {res.message}")
        status[o] = OPTIMAL
        scores[o] = _score_from_value(res.x[0], orientation)
        n_peers[o] = int((res.x[1:] > _PEER_TOL).sum())


# --------------------------------------------------------------------------------------------
# panel interface


def efficiency_panel(
    df: pd.DataFrame,
    *,
    inputs: Sequence[str] = ("FAavg", "L", "TOC"),
    outputs: Sequence[str] = ("Y",),
    frontier: Frontier = "year",
    rts: RTS = "crs",
    orientation: Orientation = "input",
    super_efficiency: bool = True,
    nonpositive: Literal["raise", "drop"] = "raise",
) -> pd.DataFrame:
    """DEA efficiency for a firm-year panel, one frontier per group.

    df needs Stkcd, year, the input and output columns, and industry for frontier="industry_year".
    Returns Stkcd, year, Efficiency, dea_peers, dea_status, dea_frontier_size sorted by (Stkcd, year);
    dea_frontier_size is the number of valid DMUs that span the DMU's frontier group.
    Zero, negative or missing inputs/outputs raise InputError (column and example rows named)
    unless nonpositive="drop": then those rows get Efficiency NaN and status "invalid_input".
    """
    if frontier not in ("year", "industry_year", "pooled"):
        raise InputError(
            f"unknown frontier {frontier!r}",
            hint="set dea.frontier: year, industry_year or pooled in config/config.yaml",
        )
    if nonpositive not in ("raise", "drop"):
        raise InputError(f"unknown nonpositive policy {nonpositive!r}", hint="use 'raise' or 'drop'")
    _check_options(rts, orientation)
    inputs, outputs = list(inputs), list(outputs)
    if not inputs or not outputs:
        raise InputError("DEA needs at least one input and one output column")
    keys = {"year": ["year"], "industry_year": ["industry", "year"], "pooled": []}[frontier]
    need = ["Stkcd", "year", *keys, *inputs, *outputs]
    missing = [c for c in dict.fromkeys(need) if c not in df.columns]
    if missing:
        raise InputError(f"DEA input frame lacks columns {missing}", column=missing[0])
    if df.duplicated(["Stkcd", "year"]).any():
        dup = df.loc[df.duplicated(["Stkcd", "year"], keep=False), ["Stkcd", "year"]]
        raise InputError(
            "duplicate (Stkcd, year) rows in DEA input",
            rows=list(dup.itertuples(index=False, name=None)),
            hint="aggregate or deduplicate firm-years first",
        )

    for key in dict.fromkeys(["Stkcd", "year", *keys]):
        # groupby would silently drop rows whose frontier key is missing
        if df[key].isna().any():
            raise InputError(
                f"DEA frontier key {key!r} is missing in {int(df[key].isna().sum())} rows",
                column=key,
                rows=list(df.loc[df[key].isna(), ["Stkcd", "year"]].itertuples(index=False, name=None)),
                hint="fill the key (e.g. the industry code) or drop those rows first",
            )
    d = df.sort_values(["Stkcd", "year"], kind="mergesort").reset_index(drop=True)
    vals = d[inputs + outputs].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(vals) | (vals <= 0)
    invalid = bad.any(1)
    if invalid.any() and nonpositive == "raise":
        col = int(np.flatnonzero(bad.any(0))[0])
        name = (inputs + outputs)[col]
        rows = d.loc[bad[:, col], ["Stkcd", "year"]]
        raise InputError(
            f"DEA variable {name!r} has {int(bad[:, col].sum())} zero, negative or missing values",
            column=name,
            rows=list(rows.itertuples(index=False, name=None)),
            hint="fix the raw data, or pass nonpositive='drop' to score those rows NaN with status 'invalid_input'",
        )

    valid = np.flatnonzero(~invalid)
    groups = d.iloc[valid].groupby(keys, sort=True).indices if keys else {(): np.arange(len(valid))}
    eff = np.full(len(d), np.nan)
    peers = np.full(len(d), -1, dtype=np.int64)
    stat = np.full(len(d), INVALID_INPUT, dtype=object)
    size = np.full(len(d), -1, dtype=np.int64)
    ni = len(inputs)
    for key in sorted(groups):
        rows = valid[np.asarray(groups[key])]
        res = dea_scores(
            vals[rows, :ni],
            vals[rows, ni:],
            rts=rts,
            orientation=orientation,
            super_efficiency=super_efficiency,
        )
        eff[rows] = res.scores
        peers[rows] = res.n_peers
        stat[rows] = res.status
        size[rows] = len(rows)
    out = pd.DataFrame(
        {
            "Stkcd": d["Stkcd"].to_numpy(),
            "year": d["year"].to_numpy(),
            "Efficiency": eff,
            "dea_peers": pd.array(np.where(peers >= 0, peers, 0), dtype="Int64"),
            "dea_status": stat.astype(str),
            "dea_frontier_size": pd.array(np.where(size >= 0, size, 0), dtype="Int64"),
        }
    )
    # -1 marks "no LP solution" (invalid input, infeasible): a missing count, not zero peers
    out.loc[peers < 0, "dea_peers"] = pd.NA
    out.loc[size < 0, "dea_frontier_size"] = pd.NA
    out.attrs["dea_invalid_rows"] = int(invalid.sum())
    return out
