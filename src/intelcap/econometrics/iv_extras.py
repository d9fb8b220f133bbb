"""The 2SLS second stage's `_cons`, which `estimate.tidy_model` leaves out for IV models (Table 4 prints it).

With fixed effects the second stage is fitted on demeaned data without an intercept (`estimate.fit`). Its
`_cons` follows reghdfe's convention for OLS (`estimate.reghdfe_constant`): ȳ − x̄'b on the estimation sample,
and its standard error is the intercept's in the 2SLS regression of (ỹ + ȳ) on (X̃ + x̄, 1) instrumented by
(Z̃ + z̄, 1). That regression leaves the slopes, the residuals and so the slope variances unchanged; its CRV1
variance uses the same small-sample factor as the slopes (pyfixest's, rescaled to reghdfe's K as
`tidy_model` does).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["iv_constant", "iv_constant_rows"]


def iv_constant(
    Y: np.ndarray,
    X: np.ndarray,
    Z: np.ndarray,
    beta: np.ndarray,
    xbar: np.ndarray,
    zbar: np.ndarray,
    ybar: float,
    cluster: np.ndarray,
    ssc: float,
) -> tuple[float, float]:
    """(_cons, its CRV1 SE) of a 2SLS model fitted on FE-demeaned data without an intercept.

    `Y`, `X`, `Z`: demeaned outcome, regressors (endogenous and exogenous) and instruments (excluded and
    exogenous); `xbar`, `zbar`, `ybar`: their means on the raw estimation sample; `beta`: the 2SLS slopes;
    `ssc`: the small-sample factor applied to the CRV1 meat (G/(G−1)·(N−1)/(N−K))."""
    Y = np.asarray(Y, dtype=float).ravel()
    X = np.atleast_2d(np.asarray(X, dtype=float).reshape(len(Y), -1))
    Z = np.atleast_2d(np.asarray(Z, dtype=float).reshape(len(Y), -1))
    beta = np.asarray(beta, dtype=float).ravel()
    cons = float(ybar - np.asarray(xbar, dtype=float) @ beta)
    ones = np.ones((len(Y), 1))
    A = np.hstack([X + xbar, ones])
    B = np.hstack([Z + zbar, ones])
    # fitted regressors P_B A; the intercept column is its own fit
    A_hat = B @ np.linalg.lstsq(B, A, rcond=None)[0]
    u = Y - X @ beta
    codes = pd.factorize(np.asarray(cluster))[0]
    scores = A_hat * u[:, None]
    meat_g = np.column_stack(
        [np.bincount(codes, weights=scores[:, j], minlength=codes.max() + 1) for j in range(scores.shape[1])]
    )
    bread = np.linalg.inv(A_hat.T @ A_hat)
    V = bread @ (meat_g.T @ meat_g) @ bread * float(ssc)
    return cons, float(np.sqrt(V[-1, -1]))


def iv_constant_rows(
    data: pd.DataFrame, specs: Sequence, controls: Sequence[str], cluster: str, result: pd.DataFrame
) -> pd.DataFrame:
    """`_cons` rows (`estimate.RESULT_COLUMNS`) for every IV spec with fixed effects whose rows in `result`
    lack one; the model-level columns (N, R², FE, vcov...) are copied from the model's coefficient rows."""
    from intelcap.econometrics import estimate

    out = []
    for spec in specs:
        if not spec.endog or not spec.fe:
            continue
        mine = result[(result["model"] == spec.name) & ~result["term"].astype(str).str.startswith("stat:")]
        if mine.empty or (mine["term"] == "_cons").any():
            continue
        fit_obj, d = estimate.fit(data, spec, list(controls), cluster)
        keep = np.ones(len(d), dtype=bool)
        keep[np.fromiter(fit_obj._na_index, dtype=np.int64)] = False
        raw = d.iloc[np.flatnonzero(keep)]
        x_names = list(fit_obj._coefnames)
        z_names = list(fit_obj._coefnames_z)  # pyfixest orders Z's columns its own way (instrument first)
        cons, se = iv_constant(
            np.asarray(fit_obj._Y),
            np.asarray(fit_obj._X),
            np.asarray(fit_obj._Z),
            np.asarray(fit_obj._beta_hat),
            np.array([raw[n].mean() for n in x_names]),
            np.array([raw[n].mean() for n in z_names]),
            float(raw[spec.depvar].mean()),
            raw[cluster].to_numpy(),
            float(np.asarray(fit_obj._ssc).ravel()[0]),
        )
        # the slopes' SEs in `result` are rescaled to reghdfe's K; the intercept gets the same factor
        N, G = int(fit_obj._N), int(np.asarray(fit_obj._G).ravel()[0])
        se *= float(np.sqrt((N - int(fit_obj._df_k)) / (N - estimate.reghdfe_k(fit_obj, d, spec))))
        t = cons / se if se > 0 else float("nan")
        row = mine.iloc[0].to_dict()
        row.update(
            {
                "term": "_cons",
                "estimate": cons,
                "std_error": se,
                "t_value": t,
                "p_value": 2 * stats.t.sf(abs(t), G - 1),
            }
        )
        out.append(row)
    return pd.DataFrame(out, columns=result.columns)
