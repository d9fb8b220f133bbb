"""Tail probabilities and quantiles of the t, F, chi-squared and normal distributions, from `scipy.special`.

`scipy.stats` costs ~0.75 s to import (its whole distribution catalogue), `scipy.special` ~0.3 s, and every job
is a fresh process that needs only these few functions. Each is the very `scipy.special` call that
`scipy.stats` makes for the same distribution method, so the values are identical to the last bit
(tests/test_distributions.py compares them with `scipy.stats` with ==).
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["chi2_ppf", "chi2_sf", "f_ppf", "f_sf", "norm_ppf", "norm_sf", "t_ppf", "t_sf"]


def _out(x):
    return x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x


def t_sf(x, df):
    """P(T > x) for Student's t with `df` degrees of freedom (scipy.stats.t.sf)."""
    return _out(special.stdtr(df, -np.asarray(x, dtype=float)))


def t_ppf(q, df):
    """The q-quantile of Student's t (scipy.stats.t.ppf)."""
    return _out(special.stdtrit(df, np.asarray(q, dtype=float)))


def f_sf(x, dfn, dfd):
    """P(F > x) for the F distribution (scipy.stats.f.sf)."""
    return _out(special.fdtrc(dfn, dfd, np.asarray(x, dtype=float)))


def f_ppf(q, dfn, dfd):
    """The q-quantile of the F distribution (scipy.stats.f.ppf)."""
    return _out(special.fdtri(dfn, dfd, np.asarray(q, dtype=float)))


def chi2_sf(x, df):
    """P(X > x) for chi-squared with `df` degrees of freedom (scipy.stats.chi2.sf)."""
    return _out(special.chdtrc(df, np.asarray(x, dtype=float)))


def chi2_ppf(q, df):
    """The q-quantile of chi-squared (scipy.stats.chi2.ppf: twice the inverse regularized gamma)."""
    return _out(2.0 * special.gammaincinv(np.asarray(df, dtype=float) / 2.0, np.asarray(q, dtype=float)))


def norm_sf(x):
    """P(Z > x) for the standard normal (scipy.stats.norm.sf)."""
    return _out(special.ndtr(-np.asarray(x, dtype=float)))


def norm_ppf(q):
    """The q-quantile of the standard normal (scipy.stats.norm.ppf)."""
    return _out(special.ndtri(np.asarray(q, dtype=float)))
