"""Regression tables as data: formula-driven pyfixest fits under reghdfe conventions, returned in the long
result format every table writer reads (one row per model x term).

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
from scipy import stats

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
    "fit",
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

RESULT_COLUMNS = [
    "model",
    "depvar",
    "term",
    "estimate",
    "std_error",
    "t_value",
    "p_value",
    "nobs",
    "n_clusters",
    "r2_within",
    "r2",
    "fixed_effects",
    "vcov",
    "controls",
    "sample",
    "stage",
    "column_title",
    "text",
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

    def variables(self, controls: list[str]) -> list[str]:
        vs = [self.depvar, *self.regressors, *self.extra, *(controls if self.controls else [])]
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
    rhs = [*spec.regressors, *spec.extra, *(controls if spec.controls else [])]
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
    d = data[SAMPLES[spec.sample](data).to_numpy()]
    cols = list(dict.fromkeys(spec.variables(list(controls)) + spec.fe_vars() + [cluster]))
    n_sample = len(d)
    all_missing = [c for c in cols if n_sample and d[c].isna().all()]
    d = d[cols].dropna(subset=cols)
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


def _check_identified(d: pd.DataFrame, spec: ModelSpec, controls: list[str], design=None) -> None:
    """Refuse, with a reason, designs pyfixest would fail on obscurely (or, for IV, silently mis-estimate).
    `design`: the model's absorbed FE when the caller has built them already."""
    from intelcap.econometrics.absorb import AbsorbedDesign

    if spec.fe and design is None:
        design = _absorbed_design(d, spec)
    if not spec.endog:
        return
    design = design or AbsorbedDesign(None)
    exog = [*spec.regressors, *spec.extra, *(controls if spec.controls else [])]
    z = design.demean(d[spec.instrument].to_numpy(float))
    x = design.demean(d[spec.endog].to_numpy(float))
    if exog:
        W = design.demean(d[exog].to_numpy(float))
        z = z - W @ np.linalg.lstsq(W, z, rcond=None)[0]
        x = x - W @ np.linalg.lstsq(W, x, rcond=None)[0]
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
    rhs = [*spec.regressors, *spec.extra, *(controls if spec.controls else [])]
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


def fit(data: pd.DataFrame, spec: ModelSpec, controls: Sequence[str], cluster: str):
    """One pyfixest fit under reghdfe conventions; returns the fit object and the frame its rows index.

    With fixed effects, the FE are absorbed here (intelcap.econometrics.absorb.AbsorbedDesign, in the order of `spec.fe`)
    and pyfixest fits the demeaned variables without FE; the frame returned is then the raw estimation sample
    after reghdfe's singleton rule. pyfixest 0.60 would collect the FE terms of a formula in a `set`
    (estimation/formula/utils.py, `_encode_fixed_effects`), so its demeaning order, and the last digits of
    every estimate, would follow the process's string-hash seed.
    """
    import pyfixest as pf  # heavy import kept out of module import time

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
    _check_identified(d, spec, controls, design)
    fml, frame = formula(spec, controls), d
    if design is not None:
        if cluster in names:
            raise InputError(
                f"model {spec.name}: the cluster variable {cluster!r} is also a model variable",
                column="cluster",
                hint="cluster by an identifier (the firm id), not a regressor",
            )
        d = d[design.keep]
        frame = pd.DataFrame(design.demean(d[names].to_numpy(float)), columns=names, index=d.index)
        frame[cluster] = d[cluster].to_numpy()
        fml = within_formula(spec, controls)
    degenerate = degenerate_variables(d, frame, spec, names)
    for msg in degenerate:
        log.warning("%s (reported in the table notes as stat:degenerate)", msg)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*singleton.*")
        if degenerate:  # 0/0 t-values and R² of a constant variable: already reported above
            warnings.filterwarnings(
                "ignore", message=".*invalid value encountered.*", category=RuntimeWarning
            )
        try:
            fitted = pf.feols(
                fml,
                data=frame,
                vcov={"CRV1": cluster},
                fixef_rm="singleton",
                drop_intercept=design is not None,
            )
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - bare ValueErrors, and Rust panics (BaseException)
            raise EstimationError(
                f"model {spec.name} ({formula(spec, controls)}) failed: {type(exc).__name__}: {exc}"
            ) from exc
    fitted._intelcap_degenerate = degenerate  # read by tidy_model, which writes the table's rows
    return fitted, d


def _kept_rows(n: int, dropped) -> np.ndarray:
    """Positions pyfixest kept (it reports the dropped ones: NaN rows and singletons)."""
    keep = np.ones(n, dtype=bool)
    keep[np.fromiter(dropped, dtype=np.int64)] = False
    return np.flatnonzero(keep)


def reghdfe_constant(fit_obj, data: pd.DataFrame) -> tuple[float, float]:
    """_cons = ȳ − x̄'b on the estimation sample, with the CRV1 SE of the intercept in the regression of
    (ỹ + ȳ) on (X̃ + x̄, 1), which leaves the slope variances unchanged (xtreg/reghdfe's convention)."""
    X = np.asarray(fit_obj._X)
    Y = np.asarray(fit_obj._Y).ravel()
    b = np.asarray(fit_obj._beta_hat)
    # rows pyfixest dropped (singletons, NaN) by position in the frame it was given
    keep = _kept_rows(len(data), fit_obj._na_index)
    names = list(fit_obj._coefnames)
    raw = data.iloc[keep]
    xbar = np.array([raw[n].mean() for n in names])
    ybar = float(raw[fit_obj._depvar].mean())
    cons = ybar - xbar @ b
    A = np.column_stack([X + xbar, np.ones(len(Y))])
    u = np.asarray(fit_obj._u_hat).ravel()
    cl = pd.factorize(raw[fit_obj._clustervar[0]])[0]
    scores = A * u[:, None]
    meat_g = np.column_stack(
        [np.bincount(cl, weights=scores[:, j], minlength=cl.max() + 1) for j in range(scores.shape[1])]
    )
    bread = np.linalg.inv(A.T @ A)
    V = bread @ (meat_g.T @ meat_g) @ bread * float(np.asarray(fit_obj._ssc).ravel()[0])
    return float(cons), float(np.sqrt(V[-1, -1]))


def reghdfe_k(fit_obj, data: pd.DataFrame, spec: ModelSpec) -> int:
    """K of reghdfe's small-sample factor: slopes + FE levels not nested in the cluster (+ intercept)."""
    from intelcap.econometrics.absorb import AbsorbedDesign

    k = len(fit_obj._coefnames)
    if not spec.fe:
        return k
    keep = _kept_rows(len(data), fit_obj._na_index)
    d = data.iloc[keep]
    design = AbsorbedDesign(fe_frame(d, spec.fe), drop_singletons=False)
    return k + design.dof_fe(d[fit_obj._clustervar[0]].to_numpy())


def tidy_model(fit_obj, data: pd.DataFrame, spec: ModelSpec, stage: str = "") -> pd.DataFrame:
    """Long rows for one fitted model, including `_cons` for FE models.

    pyfixest's K is not reghdfe's (FE models are fitted on demeaned data, so pyfixest counts the slopes only;
    and pyfixest 0.60 itself would decide FE nesting by column position); the SEs are rescaled to reghdfe's K.
    """
    t = fit_obj.tidy()
    G = int(np.asarray(fit_obj._G).ravel()[0])
    N = int(fit_obj._N)
    scale = np.sqrt((N - int(fit_obj._df_k)) / (N - reghdfe_k(fit_obj, data, spec)))
    se_all = t["Std. Error"].to_numpy() * scale
    with np.errstate(divide="ignore", invalid="ignore"):  # SE 0 of a degenerate model: t is NaN, flagged
        tv = t["Estimate"].to_numpy() / se_all
    rows = pd.DataFrame(
        {
            "term": [n if n != "Intercept" else "_cons" for n in t.index],
            "estimate": t["Estimate"].to_numpy(),
            "std_error": se_all,
            "t_value": tv,
            "p_value": 2 * stats.t.sf(np.abs(tv), G - 1),
        }
    )
    if spec.fe and not fit_obj._is_iv:
        cons, se = reghdfe_constant(fit_obj, data)
        se *= scale
        tval = cons / se if se > 0 else float("nan")
        p = 2 * stats.t.sf(abs(tval), G - 1)
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
    rows["nobs"] = int(fit_obj._N)
    rows["n_clusters"] = G
    r2, r2_within = _r2(fit_obj, data, spec)
    rows["r2_within"] = r2_within
    rows["r2"] = r2
    rows["fixed_effects"] = "+".join(spec.fe)
    rows["vcov"] = f"CRV1:{fit_obj._clustervar[0]}"
    rows["controls"] = "yes" if spec.controls else "no"
    rows["sample"] = spec.sample
    rows["stage"] = stage
    rows["column_title"] = spec.column_title
    rows["text"] = ""
    dropped = list(getattr(fit_obj, "_collin_vars", None) or [])
    if dropped:
        log.warning(
            "model %s: %s collinear with the other regressors/fixed effects, dropped "
            "(reported in the table as stat:collinear_dropped)",
            spec.name,
            ", ".join(dropped),
        )
        # say so in the table: e.g. lnINT is collinear with industry x year FE when weights are time-invariant
        note = pd.DataFrame(
            [
                stat_row(
                    spec.name,
                    spec.depvar,
                    "collinear_dropped",
                    float(len(dropped)),
                    stage=stage,
                    text=", ".join(dropped),
                )
            ]
        )
        rows = pd.concat([rows[RESULT_COLUMNS], note[RESULT_COLUMNS]], ignore_index=True)
    degenerate = getattr(fit_obj, "_intelcap_degenerate", None) or []
    if degenerate:
        note = pd.DataFrame(
            [
                stat_row(
                    spec.name,
                    spec.depvar,
                    "degenerate",
                    float(len(degenerate)),
                    stage=stage,
                    text="; ".join(degenerate),
                )
            ]
        )
        rows = pd.concat([rows[RESULT_COLUMNS], note[RESULT_COLUMNS]], ignore_index=True)
    return rows[RESULT_COLUMNS]


def _r2(fit_obj, data: pd.DataFrame, spec: ModelSpec) -> tuple[float, float]:
    """(R², within R²) as pyfixest reports them for a FE model (1 − SSR / centred TSS of the raw depvar, and
    1 − SSR / sum of the squared demeaned depvar); FE models are fitted on demeaned data (see `fit`)."""
    if not spec.fe:
        return float(fit_obj._r2), float("nan")
    ssu = float(np.sum(np.asarray(fit_obj._u_hat) ** 2))
    y = data.iloc[_kept_rows(len(data), fit_obj._na_index)][spec.depvar].to_numpy(float)
    y_within = np.asarray(fit_obj._Y).ravel()
    tss, tss_within = float(np.sum((y - y.mean()) ** 2)), float(np.sum(y_within**2))
    # a constant depvar (flagged as stat:degenerate) has no R²
    return (1 - ssu / tss if tss > 0 else float("nan")), (
        1 - ssu / tss_within if tss_within > 0 else float("nan")
    )


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


def _format_ar(intervals: list[tuple[float, float]], digits: int = 3) -> str:
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
    _check_identified(d, spec, controls, design)
    W = d[[*spec.regressors, *spec.extra, *(controls if spec.controls else [])]].to_numpy(dtype=float)
    W = W if W.shape[1] else None
    args = (
        d[spec.depvar].to_numpy(float),
        d[spec.endog].to_numpy(float),
        d[spec.instrument].to_numpy(float),
        W,
        design,
        d[cluster].to_numpy(),
    )
    iv = inference.iv_2sls(*args)
    ar = inference.ar_confidence_set(*args, level=level)
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
            text=f"{_format_ar(lo_hi)} ({ar.kind})",
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
        args = (
            d[depvar].to_numpy(float),
            d[regressor].to_numpy(float),
            W,
            d[id].to_numpy(),
            d[time].to_numpy(),
            g,
        )
        inter = inference.interacted_difference(*args, cluster=d[cluster].to_numpy())
        firm_const = bool((pd.Series(g).groupby(d[id].to_numpy()).nunique() == 1).all())
        level = "firm" if firm_const else "obs"
        pair_seed = seed + zlib.crc32(f"{a}/{b}".encode()) % 100_000
        perm = inference.permutation_difference(*args, K=reps, seed=pair_seed, level=level)
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
