"""Regression tables as data: models under reghdfe conventions, returned in the long result format every
table writer reads (one row per model x term). OLS is computed here on the exactly FE-demeaned data (`fit`);
2SLS of FE models likewise (`_iv_reghdfe`, from the cross products of the demeaned variables: ivreghdfe's
numbers without N x K copies); pooled 2SLS and 2SLS with a collinear column to drop by pyfixest through
`pyfixest_adapter` (the only module importing pyfixest).

Conventions (docs/methods.md#conventions): CRV1 by firm, no singletons, K = slopes + FE levels not nested in
the cluster; `_cons` reported as reghdfe does (ȳ − x̄'b on the estimation sample, with its sandwich SE).
All formula strings are built here, from validated variable names only.

Any panel works: the fixed effects are the columns a `ModelSpec.fe` names, the clusters the column `cluster`
names, and `group_differences` takes its firm and year columns as `id=` and `time=`; no column name of the
paper's data is assumed except by the named subsamples of `SAMPLES` (`"all"` needs none). API: docs/api.md.
"""

from __future__ import annotations

import difflib
import logging
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from intelcap.columns import RESULT_COLUMNS
from intelcap.econometrics import iv_extras, pyfixest_adapter  # light: pyfixest is imported on first use
from intelcap.errors import EstimationError, InputError

log = logging.getLogger("intelcap.econometrics.estimate")

__all__ = [
    "RESULT_COLUMNS",
    "SAMPLES",
    "FIT_TOL",
    "ModelSpec",
    "validate_spec",
    "formula",
    "within_formula",
    "estimation_sample",
    "degenerate_variables",
    "FitResult",
    "fit",
    "find_collinear",
    "tidy_model",
    "reghdfe_constant",
    "reghdfe_k",
    "regression_table",
    "stat_row",
    "descriptive_table",
    "fe_frame",
    "iv_statistics",
    "group_differences",
]


# Named estimation samples; config refers to them by name, so no user text is ever evaluated.
SAMPLES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "all": lambda d: pd.Series(True, index=d.index),
    "no_municipalities": lambda d: d["Municipality"] == 0,
    "non_soe": lambda d: d["SOE"] == 0,
    "soe": lambda d: d["SOE"] == 1,
    "east": lambda d: d["Region"] == "East",
    "central": lambda d: d["Region"] == "Central",
    "west": lambda d: d["Region"] == "West",
    "high_tech": lambda d: d["HighTech"] == 1,
    "non_high_tech": lambda d: d["HighTech"] == 0,
    "labor": lambda d: d["Intensity"] == "labor",
    "capital": lambda d: d["Intensity"] == "capital",
    "technology": lambda d: d["Intensity"] == "technology",
}

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class ModelSpec:
    name: str
    depvar: str
    regressors: list[str]
    controls: bool = True
    fe: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)  # added controls (e.g. lnwage, Age2)
    sample: str = "all"
    endog: str | None = None  # IV: endogenous regressor ...
    instrument: str | None = None  # ... and its excluded instrument
    column_title: str = ""
    stage: str = ""  # IV tables: "first" or "second"

    @classmethod
    def from_dict(cls, d: dict) -> ModelSpec:
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise InputError(
                f"unknown key(s) {sorted(unknown)} in a model spec {d.get('name', '')!r}",
                column="tables",
                hint=f"allowed keys: {sorted(known)}",
            )
        return cls(**d)

    def exogenous(self, controls: list[str]) -> list[str]:
        """The right-hand side apart from an endogenous regressor: regressors, extra terms, the controls if on."""
        return [*self.regressors, *self.extra, *(controls if self.controls else [])]

    def variables(self, controls: list[str]) -> list[str]:
        vs = [self.depvar, *self.exogenous(controls)]
        if self.endog:
            vs += [self.endog, self.instrument]
        return vs

    def fe_vars(self) -> list[str]:
        return [v for term in self.fe for v in term.split("^")]


def validate_spec(spec: ModelSpec, controls: list[str], columns: list[str]) -> None:
    """Every name must be a plain identifier the analysis panel has; samples must be known."""
    for v in spec.variables(controls) + spec.fe_vars():
        if not _NAME.match(v):
            raise InputError(f"model {spec.name}: {v!r} is not a variable name", column="tables")
        if v not in columns:
            close = [c for c in columns if c.lower() == v.lower()] or difflib.get_close_matches(
                v, [str(c) for c in columns], n=1, cutoff=0.6
            )
            raise InputError(
                f"model {spec.name}: variable {v!r} is not in the analysis panel",
                column="tables",
                hint=(f"did you mean {close[0]!r}? " if close else "")
                + f"known variables: {sorted(columns)}",
            )
    if spec.sample not in SAMPLES:
        raise InputError(
            f"model {spec.name}: unknown sample {spec.sample!r}",
            column="tables",
            hint=f"samples: {sorted(SAMPLES)}",
        )
    if (spec.endog is None) != (spec.instrument is None):
        raise InputError(f"model {spec.name}: IV needs both endog and instrument", column="tables")


def formula(spec: ModelSpec, controls: list[str]) -> str:
    rhs = spec.exogenous(controls)
    f = f"{spec.depvar} ~ {' + '.join(rhs) if rhs else '1'}"
    if spec.fe:
        f += " | " + " + ".join(spec.fe)
    elif spec.endog:
        f += " | 0"
    if spec.endog:
        f += f" | {spec.endog} ~ {spec.instrument}"
    return f


def estimation_sample(
    data: pd.DataFrame, spec: ModelSpec, controls: Sequence[str], cluster: str
) -> pd.DataFrame:
    """Rows of the named sample with every model variable present (what Stata's listwise deletion keeps):
    the model's variables, its FE columns and the cluster column, in that order."""
    _check_cluster(spec, cluster, data.columns)
    mask = SAMPLES[spec.sample](data).to_numpy()
    d = data if mask.all() else data[mask]  # "all": no copy of the whole panel
    cols = list(dict.fromkeys(spec.variables(list(controls)) + spec.fe_vars() + [cluster]))
    n_sample = len(d)
    all_missing = [c for c in cols if n_sample and d[c].isna().all()]
    d = d[cols]
    if d.isna().to_numpy().any():
        d = d.dropna(subset=cols)
    if d.empty:
        if n_sample == 0:
            why = f"no firm-year belongs to the sample {spec.sample!r}"
            todo = (
                "drop this column from config tables (or the pair from heterogeneity.pairs), or check the data "
                "that define the subgroup"
            )
        elif all_missing:
            why = f"variable(s) {all_missing} are missing in all {n_sample} firm-years of the sample {spec.sample!r}"
            todo = (
                "check the measure or raw field behind them (see the rule logs), or remove them from the spec"
            )
        else:
            why = f"no firm-year of the sample {spec.sample!r} has every model variable {cols}"
            todo = "check which variables are missing (results/tables/sample_notes.csv)"
        raise EstimationError(f"model {spec.name}: the estimation sample is empty: {why}. What to do: {todo}")
    return d


def _check_cluster(spec: ModelSpec, cluster: str, columns) -> None:
    if not isinstance(cluster, str) or cluster not in columns:
        close = difflib.get_close_matches(str(cluster), [str(c) for c in columns], n=1, cutoff=0.6)
        raise InputError(
            f"model {spec.name}: cluster variable {cluster!r} is not a column of the panel",
            column="cluster",
            hint=(f"did you mean {close[0]!r}? " if close else "")
            + 'pass cluster=<the panel\'s firm identifier column>, e.g. cluster="gvkey"',
        )


def _absorbed_design(d: pd.DataFrame, spec: ModelSpec, tol: float = 1e-10):
    """The model's fixed effects absorbed (singletons dropped, reghdfe's rule), in the order of `spec.fe`."""
    from intelcap.econometrics.absorb import AbsorbedDesign

    try:
        design = AbsorbedDesign(fe_frame(d, spec.fe), tol=tol)
    except EstimationError as exc:
        raise EstimationError(
            f"model {spec.name}: all {len(d)} observations are singletons of the fixed effects {spec.fe} "
            f"(e.g. every firm observed once), so nothing is left after reghdfe's singleton rule ({exc}). "
            "What to do: use a panel with repeated firm-years, or drop the firm fixed effect"
        ) from None
    if design.n_singletons:
        log.info(
            "model %s: %d singleton observation(s) dropped (reghdfe's rule)", spec.name, design.n_singletons
        )
    return design


def _check_identified(
    d: pd.DataFrame,
    spec: ModelSpec,
    controls: list[str],
    design=None,
    demeaned: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
) -> None:
    """Refuse, with a reason, designs pyfixest would fail on obscurely (or, for IV, silently mis-estimate).
    `design`: the model's absorbed FE when the caller has built them already; `demeaned`: the instrument, the
    endogenous regressor and the exogenous ones (or None) already within-transformed by it (not demeaned
    again here)."""
    from intelcap.econometrics.absorb import AbsorbedDesign

    if spec.fe and design is None and demeaned is None:
        design = _absorbed_design(d, spec)
    if not spec.endog:
        return
    if demeaned is None:
        design = design or AbsorbedDesign(None)
        exog = spec.exogenous(controls)
        z = design.demean(d[spec.instrument].to_numpy(float))
        x = design.demean(d[spec.endog].to_numpy(float))
        W = design.demean(d[exog].to_numpy(float)) if exog else None
    else:
        z, x, W = demeaned
    if W is not None and W.shape[1]:
        coef = np.linalg.lstsq(W, np.column_stack([z, x]), rcond=None)[0]  # one copy of W for both
        z = z - W @ coef[:, 0]
        x = x - W @ coef[:, 1]
    raw_scale = float(np.std(d[spec.instrument].to_numpy(float))) or 1.0
    if float(np.std(z)) <= 1e-10 * raw_scale:
        raise EstimationError(
            f"model {spec.name}: instrument {spec.instrument!r} has no variation left after the fixed effects "
            f"{spec.fe or ['constant']} and exogenous regressors: the first stage is identically zero and the IV "
            "estimate is not identified. What to do: use an instrument that varies within firm and year"
        )
    corr = float(np.dot(z, x) / (np.linalg.norm(z) * np.linalg.norm(x) or 1.0))
    if abs(corr) <= 1e-10:
        raise EstimationError(
            f"model {spec.name}: the first stage is zero: instrument {spec.instrument!r} is uncorrelated with "
            f"{spec.endog!r} after the fixed effects and controls, so the IV estimate is not identified. "
            "What to do: check the instrument's construction (robots.* in config)"
        )


# FE demeaning tolerance, relative to each column's max |value|: tight enough that SEs match an exact
# dummy-variable sandwich to 1e-8 (pyfixest's default 1e-8 is not)
FIT_TOL = 1e-12


def within_formula(spec: ModelSpec, controls: list[str]) -> str:
    """The formula pyfixest fits on the FE-demeaned variables: no FE part and no intercept (`drop_intercept`)."""
    rhs = spec.exogenous(controls)
    f = f"{spec.depvar} ~ {' + '.join(rhs) if rhs else '1'}"
    if spec.endog:
        f += f" | {spec.endog} ~ {spec.instrument}"
    return f


# Why a constant variable is constant, where the workflow knows (shown with the table's note).
_CONSTANT_HINTS = {
    "lnCU": "CU = 1 for every firm-year, i.e. sigma_u = 0, as after cu.on_wrong_skew: zero; "
    "see degenerate in results/measures/cu_fit.json"
}


def degenerate_variables(
    raw: pd.DataFrame, within: pd.DataFrame, spec: ModelSpec, names: list[str]
) -> list[str]:
    """One message per model variable without variation in the estimation sample (`raw`), or after the fixed
    effects are absorbed (`within`: the demeaned columns; `raw` itself without FE). A constant dependent
    variable makes every coefficient 0.000 (0.000): the table must say so, not look like a precise zero."""
    out = []
    for v in names:
        x, w = raw[v].to_numpy(float), within[v].to_numpy(float)
        scale = max(1.0, float(np.max(np.abs(x)))) if len(x) else 1.0
        if len(x) and float(np.ptp(x)) <= 1e-12 * scale:
            why = f"{v} is constant ({float(x[0]):.6g}) in the estimation sample of model {spec.name}"
        elif spec.fe and len(w) and float(np.std(w)) <= 1e-10 * scale:
            why = (
                f"{v} has no variation left after the fixed effects {'+'.join(spec.fe)} in model {spec.name}"
            )
        else:
            continue
        role = (
            "the dependent variable, so every estimate of the model is 0 or undefined"
            if v == spec.depvar
            else "a regressor without variation, so it has no estimate"
        )
        hint = f" ({_CONSTANT_HINTS[v]})" if v in _CONSTANT_HINTS else ""
        out.append(f"{why}{hint}: {role}")
    return out


@dataclass
class FitResult:
    """One fitted model of a table, under reghdfe conventions: `se` and `p` already use reghdfe's K (`k`:
    slopes + FE levels not nested in the cluster, or + intercept), t(G-1) p-values. `cons`/`cons_se`:
    reghdfe's `_cons` of a FE model (NaN otherwise); `collinear`: regressors dropped as collinear;
    `degenerate`: the messages of `degenerate_variables`; `resid` on the rows of the frame `fit` returns."""

    depvar: str
    cluster: str
    coefnames: list[str]
    b: np.ndarray
    se: np.ndarray
    p: np.ndarray
    n_obs: int
    n_clusters: int
    k: int
    r2: float
    r2_within: float
    cons: float = float("nan")
    cons_se: float = float("nan")
    is_iv: bool = False
    collinear: list[str] = field(default_factory=list)
    degenerate: list[str] = field(default_factory=list)
    resid: np.ndarray = field(default=None, repr=False)

    @property
    def t(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):  # SE 0 of a degenerate model: NaN, flagged
            return self.b / self.se


def _t_pvalue(t: np.ndarray, df: int) -> np.ndarray:
    """Two-sided p of t(df); scipy.special (not scipy.stats: ~0.3 s of imports per table job)."""
    from scipy.special import stdtr

    return 2.0 * stdtr(df, -np.abs(t))


def find_collinear(XtX: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """Columns dropped as collinear: pyfixest's rule (fixest's): a Cholesky of X'X in column order, a
    column whose remaining diagonal falls below `tol` (absolute, as pyfixest's `collin_tol`) is dropped."""
    K = XtX.shape[0]
    R = np.zeros((K, K))
    drop = np.zeros(K, dtype=bool)
    for j in range(K):
        keep = ~drop[:j]
        r = XtX[j, j] - float(R[:j, j][keep] @ R[:j, j][keep])
        if r < tol:
            drop[j] = True
            continue
        r = np.sqrt(r)
        R[j, j] = r
        for i in range(j + 1, K):
            R[j, i] = (XtX[i, j] - float(R[:j, i][keep] @ R[:j, j][keep])) / r
    return drop


def _cluster_sums(codes: np.ndarray, G: int, S: np.ndarray) -> np.ndarray:
    """G x k cluster sums of the rows of S (one sparse product, one pass over S)."""
    import scipy.sparse as sp

    n = codes.shape[0]
    return sp.csr_array((np.ones(n), (codes, np.arange(n))), shape=(G, n)) @ S


def _ols_reghdfe(
    y: np.ndarray,
    X: np.ndarray,
    names: list[str],
    cl: np.ndarray,
    G: int,
    k_fe: int,
    means: tuple[float, np.ndarray] | None,
) -> dict:
    """OLS with CRV1 (K = kept columns + k_fe) on (demeaned) y, X; `means` = (ȳ, x̄) of the raw sample for
    reghdfe's `_cons` (FE models): the intercept of (ỹ + ȳ) on (X̃ + x̄, 1), whose cross products and
    cluster scores follow from those of X̃ (no N x K copy)."""
    XtX = X.T @ X
    drop = find_collinear(XtX) if X.shape[1] else np.zeros(0, dtype=bool)
    keep = np.flatnonzero(~drop)
    if drop.any():
        X, XtX = X[:, keep], XtX[np.ix_(keep, keep)]
    n = y.shape[0]
    if keep.size:
        b = np.linalg.solve(XtX, X.T @ y)
        u = y - X @ b
    else:
        b, u = np.zeros(0), y.copy()
    K = keep.size + k_fe
    ssc = G / (G - 1) * (n - 1) / (n - K)
    out = {"collinear": [names[j] for j in np.flatnonzero(drop)], "names": [names[j] for j in keep]}
    scores = np.empty((n, keep.size + 1))
    np.multiply(X, u[:, None], out=scores[:, :-1])
    scores[:, -1] = u
    meat = _cluster_sums(cl, G, scores)  # G x (k + 1): X̃'u and u by cluster
    del scores
    if keep.size:
        bread = np.linalg.inv(XtX)
        Sx = meat[:, :-1]
        V = bread @ (Sx.T @ Sx) @ bread * ssc
        se = np.sqrt(np.diag(V))
    else:
        se = np.zeros(0)
    out.update(b=b, se=se, u=u, k=K)
    if means is not None:
        ybar, xbar = means[0], means[1][keep]
        s = X.sum(axis=0)
        k = keep.size
        AtA = np.empty((k + 1, k + 1))
        AtA[:k, :k] = XtX + np.outer(s, xbar) + np.outer(xbar, s) + n * np.outer(xbar, xbar)
        AtA[:k, k] = AtA[k, :k] = s + n * xbar
        AtA[k, k] = n
        Sa = meat.copy()
        Sa[:, :-1] += meat[:, -1:] * xbar  # cluster sums of (x̃ + x̄) u
        bread = np.linalg.inv(AtA)
        V = bread @ (Sa.T @ Sa) @ bread * ssc
        out["cons"], out["cons_se"] = float(ybar - xbar @ b), float(np.sqrt(V[-1, -1]))
    return out


def fit(
    data: pd.DataFrame, spec: ModelSpec, controls: Sequence[str], cluster: str
) -> tuple[FitResult, pd.DataFrame]:
    """One model under reghdfe conventions; returns its `FitResult` and the frame its rows index (the
    estimation sample after reghdfe's singleton rule).

    The FE are absorbed here (intelcap.econometrics.absorb.AbsorbedDesign, in the order of `spec.fe`; exact
    one-pass projection where it applies). OLS is computed here (coefficients, CRV1 with reghdfe's K, `_cons`,
    R², within R²), so a table of OLS models loads neither pyfixest nor scipy.stats; so is the 2SLS of a FE
    model (`_iv_reghdfe`), unless a column is collinear: then, and for pooled 2SLS, pyfixest fits it on the
    demeaned variables (`pyfixest_adapter.feols`), its SEs rescaled to reghdfe's K. pyfixest 0.60
    would collect the FE terms of a formula in a `set` (estimation/formula/utils.py, `_encode_fixed_effects`),
    so its demeaning order, and the last digits of every estimate, would follow the string-hash seed.
    """
    controls = list(controls)
    d = estimation_sample(data, spec, controls, cluster)
    names = list(dict.fromkeys(spec.variables(controls)))
    infinite = [v for v in names if not np.isfinite(d[v].to_numpy(float)).all()]
    if infinite:
        n_rows = int((~np.isfinite(d[infinite].to_numpy(float))).any(axis=1).sum())
        raise EstimationError(
            f"model {spec.name}: variable(s) {infinite} are infinite in {n_rows} firm-year(s) "
            "of the estimation sample (e.g. the log of zero). What to do: fix the measure "
            "behind them (see the rule logs), or remove them from the spec"
        )
    design = _absorbed_design(d, spec, tol=FIT_TOL) if spec.fe else None
    if design is None:
        _check_identified(d, spec, controls, design)  # with FE: on the demeaned columns below
    if design is not None and cluster in names:
        raise InputError(
            f"model {spec.name}: the cluster variable {cluster!r} is also a model variable",
            column="cluster",
            hint="cluster by an identifier (the firm id), not a regressor",
        )
    if design is not None and design.n_singletons:
        d = d[design.keep]
    raw = np.empty((len(d), len(names)))
    for j, v in enumerate(names):  # column by column: no pandas block interleave
        raw[:, j] = d[v].to_numpy(float)
    col_means = raw.mean(axis=0)  # x̄, ȳ for reghdfe's _cons, before raw is demeaned in place
    yr = raw[:, 0]
    tss = float(np.sum((yr - col_means[0]) ** 2))
    within = raw
    if design is not None:
        within = design.demean_exact(raw, overwrite=True)
        if within is None:  # the exact projection failed its check: alternating projections
            within = design.demean(np.column_stack([d[v].to_numpy(float) for v in names]))
    del raw, yr
    if design is not None and spec.endog:
        _check_identified(d, spec, controls, design, demeaned=_iv_columns(within, names, spec, controls))
    frame = pd.DataFrame(within, columns=names, index=d.index, copy=False)
    degenerate = degenerate_variables(d, frame, spec, names)
    for msg in degenerate:
        log.warning("%s (reported in the table notes as stat:degenerate)", msg)
    cl_raw = d[cluster].to_numpy()
    if design is not None and cluster in spec.fe:
        cl = design.codes[:, spec.fe.index(cluster)]  # already factorized
    else:
        cl = pd.factorize(cl_raw)[0]
    G = int(cl.max()) + 1
    if G < 2:
        raise EstimationError(
            f"model {spec.name}: CRV1 by {cluster!r} needs at least 2 clusters, the estimation sample has {G}"
        )
    k_fe = design.dof_fe(cl) if design is not None else 0
    y = within[:, 0]
    rhs = spec.exogenous(controls)
    n = len(d)
    with np.errstate(divide="ignore", invalid="ignore"):  # R² of a constant depvar: NaN, flagged
        if spec.endog:
            res = _fit_iv(spec, controls, cluster, frame, d, design, cl, G, k_fe, within, col_means)
        else:
            idx = [names.index(v) for v in rhs]
            # a view when the regressors are consecutive columns (the usual case): no N x K copy
            X = (
                within[:, idx[0] : idx[-1] + 1]
                if idx and idx == list(range(1, len(idx) + 1))
                else within[:, idx]
            )
            if design is None:
                X = np.column_stack([np.ones(n), X])
                xnames = ["Intercept", *rhs]
            else:
                xnames = rhs
            means = None
            if design is not None:
                means = (float(col_means[0]), col_means[idx])
            o = _ols_reghdfe(y, X, xnames, cl, G, k_fe, means)
            res = _fit_result(
                spec, cluster, o, o["names"], G, tss, float(y @ y) if design is not None else None
            )
    res.degenerate = degenerate
    return res, d


def _iv_columns(
    within: np.ndarray, names: list[str], spec: ModelSpec, controls: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The instrument, the endogenous and the exogenous regressors (None if none) as columns of `within`
    (views where the exogenous ones are consecutive, the usual case)."""
    exog = spec.exogenous(controls)
    idx = [names.index(v) for v in exog]
    W = None
    if idx:
        W = (
            within[:, idx[0] : idx[-1] + 1]
            if idx == list(range(idx[0], idx[0] + len(idx)))
            else within[:, idx]
        )
    return within[:, names.index(spec.instrument)], within[:, names.index(spec.endog)], W


def _iv_layout(spec: ModelSpec, controls: list[str], names: list[str]) -> tuple[list[int], list[int]] | None:
    """Columns of `fit`'s `within` array (`names`) of the 2SLS regressors (exogenous, then the endogenous one:
    pyfixest's coefficient order) and of the instruments (exogenous, then the excluded one); None when the
    names overlap (e.g. the endogenous variable also listed as a control): pyfixest's path handles that."""
    rhs = spec.exogenous(controls)
    if names != [spec.depvar, *rhs, spec.endog, spec.instrument]:
        return None
    p = len(rhs)
    return list(range(1, p + 2)), [*range(1, p + 1), p + 2]


def _iv_reghdfe(
    within: np.ndarray,
    xi: list[int],
    zi: list[int],
    cl: np.ndarray,
    G: int,
    k_fe: int,
    means: np.ndarray,
) -> dict | None:
    """Just- or over-identified 2SLS with CRV1 (K = regressors + k_fe, ivreghdfe's G/(G-1)·(N-1)/(N-K)) on the
    FE-demeaned columns of `within` (column 0 the outcome, `xi` the regressors, `zi` the instruments), with
    reghdfe's `_cons` and its SE (`means`: the raw sample's column means of `within`). None when a regressor
    or instrument is collinear (pyfixest's rule, `find_collinear`): the caller fits by pyfixest, which drops it.

    Everything is computed from the cross products of `within` and the cluster sums of Z̃·u and u, so the only
    N-row temporaries are vectors: b = (X'Pz X)⁻¹ X'Pz y, Π = (Z'Z)⁻¹Z'X, V = ssc·B (S'S) B with B = (X'Pz X)⁻¹
    and S_g = Π' Z̃_g'u_g (the cluster sums of X̂u, X̂ = ZΠ), as pyfixest's Feiv (bread H'DH, scores Z·u)."""
    n = within.shape[0]
    y = within[:, 0]
    M = within.T @ within
    XX, ZZ = M[np.ix_(xi, xi)], M[np.ix_(zi, zi)]
    if find_collinear(XX).any() or find_collinear(ZZ).any():
        return None
    ZX, Zy = M[np.ix_(zi, xi)], M[zi, 0]
    Pi = np.linalg.solve(ZZ, ZX)  # first-stage coefficients of every regressor
    XPX = ZX.T @ Pi
    XPX = (XPX + XPX.T) / 2
    bread = np.linalg.inv(XPX)
    b = bread @ (Pi.T @ Zy)
    u = y - within[:, xi[0] : xi[-1] + 1] @ b  # the regressors are consecutive columns (`_iv_layout`)
    k = len(xi)
    K = k + k_fe
    ssc = G / (G - 1) * (n - 1) / (n - K)
    # cluster sums of Z̃u and u; one N-vector at a time, accumulated in row order
    Szu = np.empty((G, len(zi) + 1))
    for j, c in enumerate(zi):
        Szu[:, j] = np.bincount(cl, weights=within[:, c] * u, minlength=G)
    Szu[:, -1] = np.bincount(cl, weights=u, minlength=G)
    Sx = Szu[:, :-1] @ Pi
    V = bread @ (Sx.T @ Sx) @ bread * ssc
    cons, cons_se = iv_extras.iv_constant_moments(M, within.sum(axis=0), n, xi, zi, b, means, Szu, ssc)
    return {"b": b, "se": np.sqrt(np.diag(V)), "u": u, "k": K, "cons": cons, "cons_se": cons_se}


def _fit_iv(spec, controls, cluster, frame, d, design, cl, G, k_fe, within=None, col_means=None) -> FitResult:
    """2SLS with reghdfe's K: our own on the demeaned variables (`_iv_reghdfe`) for FE models without collinear
    columns, else by pyfixest (through the adapter), its SEs rescaled to reghdfe's K."""
    layout = _iv_layout(spec, controls, list(frame.columns)) if within is not None else None
    if design is not None and layout is not None:
        o = _iv_reghdfe(within, *layout, cl, G, k_fe, col_means)
        if o is not None:
            return _iv_result(spec, cluster, d, within, o, [frame.columns[j] for j in layout[0]], G)
    frame = frame.copy()
    frame[cluster] = d[cluster].to_numpy()
    fml = within_formula(spec, controls) if design is not None else formula(spec, controls)
    with warnings.catch_warnings():
        if frame[spec.depvar].std() == 0:
            warnings.filterwarnings(
                "ignore", message=".*invalid value encountered.*", category=RuntimeWarning
            )
        try:
            f = pyfixest_adapter.feols(fml, frame, cluster, drop_intercept=design is not None)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - bare ValueErrors, and Rust panics (BaseException)
            raise EstimationError(
                f"model {spec.name} ({formula(spec, controls)}) failed: {type(exc).__name__}: {exc}"
            ) from exc
    n = f.n_obs
    K = f.k + (k_fe if design is not None else 0)
    se = f.se * np.sqrt((n - f.k) / (n - K))
    expected = [
        v
        for v in [
            *([] if design is not None else ["Intercept"]),
            *spec.regressors,
            *spec.extra,
            *(controls if spec.controls else []),
            spec.endog,
        ]
        if v
    ]
    u = f.resid
    ssu = float(u @ u)
    yr = d[spec.depvar].to_numpy(float)
    tss = float(np.sum((yr - yr.mean()) ** 2))
    y_w = frame[spec.depvar].to_numpy(float)
    tss_w = float(y_w @ y_w)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = f.coef / se
    cons = cons_se = float("nan")
    if design is not None:  # reghdfe's _cons of the second stage (the pooled model has its Intercept)
        cons, cons_se = _iv_constant(spec, controls, f, frame, d, cl, G, n, K)
    return FitResult(
        depvar=spec.depvar,
        cluster=cluster,
        coefnames=f.coefnames,
        b=f.coef,
        se=se,
        p=_t_pvalue(t, G - 1),
        n_obs=n,
        n_clusters=G,
        k=K,
        r2=1 - ssu / tss if tss > 0 else float("nan"),
        r2_within=(1 - ssu / tss_w if tss_w > 0 else float("nan")) if design is not None else float("nan"),
        cons=cons,
        cons_se=cons_se,
        is_iv=True,
        collinear=[v for v in expected if v not in f.coefnames],
        resid=u,
    )


def _iv_result(spec, cluster, d, within, o: dict, coefnames: list[str], G: int) -> FitResult:
    """`FitResult` of `_iv_reghdfe`'s 2SLS (R² from the raw outcome as the pyfixest path computes it)."""
    yr = d[spec.depvar].to_numpy(float)
    tss = float(np.sum((yr - yr.mean()) ** 2))
    y_w = within[:, 0]
    return _fit_result(spec, cluster, {**o, "collinear": []}, coefnames, G, tss, float(y_w @ y_w), is_iv=True)


def _fit_result(
    spec: ModelSpec,
    cluster: str,
    o: dict,
    coefnames: list[str],
    G: int,
    tss: float,
    tss_w: float | None,
    is_iv: bool = False,
) -> FitResult:
    """`FitResult` of our own OLS or 2SLS fit (`o`: b, se, k, u, collinear, optional cons/cons_se): t-based
    p-values with G - 1 df, R² against `tss`, within R² against `tss_w` (None: no FE, NaN)."""
    u = o["u"]
    ssu = float(u @ u)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = o["b"] / o["se"]
    return FitResult(
        depvar=spec.depvar,
        cluster=cluster,
        coefnames=coefnames,
        b=o["b"],
        se=o["se"],
        p=_t_pvalue(t, G - 1),
        n_obs=u.shape[0],
        n_clusters=G,
        k=o["k"],
        r2=1 - ssu / tss if tss > 0 else float("nan"),
        r2_within=(1 - ssu / tss_w if tss_w > 0 else float("nan")) if tss_w is not None else float("nan"),
        cons=o.get("cons", float("nan")),
        cons_se=o.get("cons_se", float("nan")),
        is_iv=is_iv,
        collinear=o["collinear"],
        resid=u,
    )


def _iv_constant(spec, controls, f, frame, d, cl, G: int, n: int, K: int) -> tuple[float, float]:
    """(_cons, SE) of a FE 2SLS: `econometrics.iv_extras.iv_constant` on the demeaned second stage, with the
    raw sample's means and reghdfe's small-sample factor G/(G-1)·(N-1)/(N-K)."""
    exog = [v for v in f.coefnames if v != spec.endog]
    z_names = [*exog, spec.instrument]
    raw = d[[*f.coefnames, spec.instrument, spec.depvar]].astype(float)
    return iv_extras.iv_constant(
        frame[spec.depvar].to_numpy(float),
        frame[f.coefnames].to_numpy(float),
        frame[z_names].to_numpy(float),
        f.coef,
        raw[f.coefnames].mean().to_numpy(),
        raw[z_names].mean().to_numpy(),
        float(raw[spec.depvar].mean()),
        np.asarray(cl),
        G / (G - 1) * (n - 1) / (n - K),
    )


def reghdfe_constant(fit_obj: FitResult, data: pd.DataFrame) -> tuple[float, float]:
    """_cons = ȳ − x̄'b on the estimation sample, with the CRV1 SE (reghdfe's K) of the intercept in the
    regression of (ỹ + ȳ) on (X̃ + x̄, 1), which leaves the slope variances unchanged (xtreg/reghdfe's
    convention; for 2SLS instrumented by (Z̃ + z̄, 1)). NaN for models without FE (their intercept is a
    coefficient)."""
    return float(fit_obj.cons), float(fit_obj.cons_se)


def reghdfe_k(fit_obj: FitResult, data: pd.DataFrame, spec: ModelSpec) -> int:
    """K of reghdfe's small-sample factor: slopes + FE levels not nested in the cluster (+ intercept)."""
    return int(fit_obj.k)


def tidy_model(fit_obj: FitResult, data: pd.DataFrame, spec: ModelSpec, stage: str = "") -> pd.DataFrame:
    """Long rows for one fitted model (`fit`), including `_cons` for FE models (reghdfe's)."""
    G = int(fit_obj.n_clusters)
    rows = pd.DataFrame(
        {
            "term": [n if n != "Intercept" else "_cons" for n in fit_obj.coefnames],
            "estimate": fit_obj.b,
            "std_error": fit_obj.se,
            "t_value": fit_obj.t,
            "p_value": fit_obj.p,
        }
    )
    if spec.fe:
        cons, se = reghdfe_constant(fit_obj, data)
        tval = cons / se if se > 0 else float("nan")
        p = float(_t_pvalue(np.array([tval]), G - 1)[0])
        rows = pd.concat(
            [
                rows,
                pd.DataFrame(
                    [{"term": "_cons", "estimate": cons, "std_error": se, "t_value": tval, "p_value": p}]
                ),
            ],
            ignore_index=True,
        )
    rows.insert(0, "model", spec.name)
    rows.insert(1, "depvar", spec.depvar)
    rows["nobs"] = int(fit_obj.n_obs)
    rows["n_clusters"] = G
    rows["r2_within"] = fit_obj.r2_within
    rows["r2"] = fit_obj.r2
    rows["fixed_effects"] = "+".join(spec.fe)
    rows["vcov"] = f"CRV1:{fit_obj.cluster}"
    rows["controls"] = "yes" if spec.controls else "no"
    rows["sample"] = spec.sample
    rows["stage"] = stage
    rows["column_title"] = spec.column_title
    rows["text"] = ""
    dropped = list(fit_obj.collinear)
    if dropped:
        log.warning(
            "model %s: %s collinear with the other regressors/fixed effects, dropped "
            "(reported in the table as stat:collinear_dropped)",
            spec.name,
            ", ".join(dropped),
        )
        # say so in the table: e.g. lnINT is collinear with industry x year FE when weights are time-invariant
        rows = _with_note(rows, spec, stage, "collinear_dropped", dropped, ", ")
    degenerate = fit_obj.degenerate
    if degenerate:
        rows = _with_note(rows, spec, stage, "degenerate", degenerate, "; ")
    return rows[RESULT_COLUMNS]


def _with_note(
    rows: pd.DataFrame, spec: ModelSpec, stage: str, stat: str, items: Sequence[str], sep: str
) -> pd.DataFrame:
    """`rows` and one stat row saying how many `items` there are, the items joined by `sep` as its text."""
    note = pd.DataFrame(
        [stat_row(spec.name, spec.depvar, stat, float(len(items)), stage=stage, text=sep.join(items))]
    )
    return pd.concat([rows[RESULT_COLUMNS], note[RESULT_COLUMNS]], ignore_index=True)


def regression_table(
    data: pd.DataFrame, specs: Sequence[ModelSpec], controls: Sequence[str] = (), cluster: str = "Stkcd"
) -> pd.DataFrame:
    """Fit every model of a table and stack the long rows (`RESULT_COLUMNS`; model order as given).

    `controls`: the control variables of every spec with `controls=True`; `cluster`: the column of the CRV1
    clusters (the firm identifier). Fixed effects are the columns each spec's `fe` names, so any panel works:
    `regression_table(df, [ModelSpec("(1)", "y", ["x"], fe=["gvkey", "fyear"])], cluster="gvkey")`.
    """
    controls = list(controls)
    out = []
    for spec in specs:
        validate_spec(spec, controls, list(data.columns))
        f, d = fit(data, spec, controls, cluster)
        out.append(tidy_model(f, d, spec, stage=spec.stage))
    return pd.concat(out, ignore_index=True)


def stat_row(model: str, depvar: str, name: str, value: float, **extra) -> dict:
    """A model-level statistic in the long format (term 'stat:<name>')."""
    row = dict.fromkeys(RESULT_COLUMNS, np.nan)
    row.update(
        {
            "model": model,
            "depvar": depvar,
            "term": f"stat:{name}",
            "estimate": value,
            "fixed_effects": "",
            "vcov": "",
            "controls": "",
            "sample": "",
            "stage": "",
            "column_title": "",
            "text": "",
        }
    )
    row.update(extra)
    return row


def descriptive_table(data: pd.DataFrame, variables: Sequence[str]) -> pd.DataFrame:
    """Table 1: n, mean, sd (n-1), min, max per variable, as Stata's `summarize`."""
    rows = []
    for v in variables:
        x = data[v].dropna().astype(float)
        rows.append(
            {
                "variable": v,
                "n": int(x.size),
                "mean": float(x.mean()),
                "sd": float(x.std(ddof=1)),
                "min": float(x.min()),
                "max": float(x.max()),
            }
        )
    return pd.DataFrame(rows)


def fe_frame(d: pd.DataFrame, fe: list[str]) -> pd.DataFrame:
    """Integer codes of each FE term; an interaction a^b is the pair of its factors' codes."""
    out = {}
    for term in fe:
        codes = [pd.factorize(d[v], sort=True)[0].astype(np.int64) for v in term.split("^")]
        combined = codes[0]
        for c in codes[1:]:
            combined = combined * (int(c.max()) + 1) + c
        out[term] = combined
    return pd.DataFrame(out, index=d.index)


def _format_set(intervals: list[tuple[float, float]], digits: int = 3) -> str:
    """A union of closed intervals as printed in tables: '[a, b] ∪ [c, +inf]', or 'empty'."""

    def f(x: float) -> str:
        return "-inf" if x == -np.inf else "+inf" if x == np.inf else f"{x:.{digits}f}"

    if not intervals:
        return "empty"
    return " ∪ ".join(f"[{f(a)}, {f(b)}]" for a, b in intervals)


def iv_statistics(
    data: pd.DataFrame,
    spec: ModelSpec,
    controls: Sequence[str] = (),
    cluster: str = "Stkcd",
    level: float = 0.95,
) -> list[dict]:
    """Rows for the IV footer: first-stage cluster-robust F (= Kleibergen-Paap rk Wald F with one
    instrument), Olea-Pflueger effective F, and the weak-IV-robust Anderson-Rubin confidence set."""
    from intelcap.econometrics import inference
    from intelcap.econometrics.absorb import AbsorbedDesign

    controls = list(controls)
    d = estimation_sample(data, spec, controls, cluster)
    design = _absorbed_design(d, spec) if spec.fe else AbsorbedDesign(None)
    exog = spec.exogenous(controls)
    # one demeaned N x m array (y, x, z, W), read through views: the numbers of inference.iv_2sls and
    # ar_confidence_set, without the copy in which an IVSample stacks the demeaned z and W
    cols = [spec.depvar, spec.endog, spec.instrument, *exog]
    cl, G, k_fe, A = inference.demeaned_columns(
        design, d[cluster].to_numpy(), [d[c].to_numpy(float) for c in cols]
    )
    _check_identified(d, spec, controls, design, demeaned=(A[:, 2], A[:, 1], A[:, 3:] if exog else None))
    del d
    iv = inference.iv_strength(inference.DemeanedIV(A[:, 0], A[:, 1], A[:, 2:], cl, G, k_fe), level=level)
    ar = iv.ar
    lo_hi = [(float(a), float(b)) for a, b in ar.intervals]
    return [
        stat_row(spec.name, spec.depvar, "first_stage_F", float(iv.first_stage_F), stage=spec.stage),
        stat_row(spec.name, spec.depvar, "effective_F", float(iv.effective_F), stage=spec.stage),
        stat_row(
            spec.name,
            spec.depvar,
            "ar_ci",
            float("nan"),
            stage=spec.stage,
            text=f"{_format_set(lo_hi)} ({ar.kind})",
        ),
        stat_row(spec.name, spec.depvar, "ar_p_at_zero", float(ar.p_at_zero), stage=spec.stage),
    ]


def group_differences(
    data: pd.DataFrame,
    pairs: Sequence[Sequence[str]],
    depvar: str,
    regressor: str,
    controls: Sequence[str],
    cluster: str,
    reps: int,
    seed: int,
    *,
    id: str = "Stkcd",
    time: str = "year",
) -> pd.DataFrame:
    """Table 6's missing tests: for each pair of subsamples, δ = β_b − β_a from the fully interacted model
    (firm-clustered) and bdiff-style permutation p-values (firm-level labels when constant within firm).

    Each group's model has `id` (firm) and `time` (year) fixed effects; the pairs name `SAMPLES`."""
    import zlib

    from intelcap.econometrics import inference

    controls = list(controls)
    missing = [c for c in dict.fromkeys([id, time, cluster]) if c not in data.columns]
    if missing:
        raise InputError(
            f"group differences: column(s) {missing} are not in the panel",
            column=", ".join(missing),
            hint="pass the panel's firm and year columns as id=... and time=..., and its firm "
            "identifier as cluster",
        )
    rows = []
    for a, b in pairs:
        ma, mb = SAMPLES[a](data).to_numpy(), SAMPLES[b](data).to_numpy()
        if (ma & mb).any():
            raise InputError(f"heterogeneity pair {a}/{b} overlaps", column="heterogeneity.pairs")
        cols = list(dict.fromkeys([depvar, regressor, *controls, id, time, cluster]))
        d = data.loc[ma | mb, cols].assign(_g=mb[ma | mb].astype(int)).dropna()
        g = d.pop("_g").to_numpy()
        if g.sum() == 0 or g.sum() == len(g):
            empty = a if g.sum() == len(g) else b
            raise EstimationError(
                f"heterogeneity pair {a}/{b}: group {empty!r} has no firm-year with complete "
                f"data ({int(len(g))} in the other group). What to do: remove the pair from "
                "config heterogeneity.pairs, or check the data that define the subgroup"
            )
        W = d[controls].to_numpy(float) if controls else None
        sample = inference.GroupSample(
            d[depvar].to_numpy(float),
            d[regressor].to_numpy(float),
            W,
            d[id].to_numpy(),
            d[time].to_numpy(),
            g,
        )
        inter = inference.interacted_difference(sample, cluster=d[cluster].to_numpy())
        firm_const = bool((pd.Series(g).groupby(d[id].to_numpy()).nunique() == 1).all())
        level = "firm" if firm_const else "obs"
        pair_seed = seed + zlib.crc32(f"{a}/{b}".encode()) % 100_000
        perm = inference.permutation_difference(sample, K=reps, seed=pair_seed, level=level)
        rows.append(
            {
                "group_a": a,
                "group_b": b,
                "beta_a": inter.beta_g0,
                "beta_b": inter.beta_g1,
                "delta": inter.delta,
                "se_delta": inter.se,
                "p_interacted": inter.p,
                "p_permutation_one_sided": perm.p_one_sided,
                "p_permutation_two_sided": perm.p_two_sided,
                "permutation_level": level,
                "reps": reps,
                "seed": pair_seed,
                "nobs": len(d),
            }
        )
    return pd.DataFrame(rows)
