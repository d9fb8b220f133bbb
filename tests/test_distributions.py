"""intelcap.distributions equals scipy.stats to the last bit (the same scipy.special calls, without the
0.75 s import of scipy.stats in every job)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from intelcap import distributions as D

X = np.array([-40.0, -3.2, -1.96, -0.5, 0.0, 1e-9, 0.7, 1.645, 2.576, 9.0, 35.0])
Q = np.array([1e-12, 0.001, 0.025, 0.05, 0.3, 0.5, 0.8, 0.95, 0.975, 0.995, 1 - 1e-9])
DF = [1, 2.5, 7, 29, 159, 1187, 1e6]


@pytest.mark.parametrize("df", DF)
def test_t_and_chi2_equal_scipy_stats(df: float) -> None:
    assert np.array_equal(D.t_sf(X, df), stats.t.sf(X, df))
    assert np.array_equal(D.t_ppf(Q, df), stats.t.ppf(Q, df))
    pos = np.abs(X)
    assert np.array_equal(D.chi2_sf(pos, df), stats.chi2.sf(pos, df))
    assert np.array_equal(D.chi2_ppf(Q, df), stats.chi2.ppf(Q, df))


@pytest.mark.parametrize("dfn,dfd", [(1, 30), (2, 1187), (5, 10.5), (40, 1e5)])
def test_f_equals_scipy_stats(dfn: float, dfd: float) -> None:
    pos = np.abs(X)
    assert np.array_equal(D.f_sf(pos, dfn, dfd), stats.f.sf(pos, dfn, dfd))
    assert np.array_equal(D.f_ppf(Q, dfn, dfd), stats.f.ppf(Q, dfn, dfd))


def test_normal_and_scalars() -> None:
    assert np.array_equal(D.norm_sf(X), stats.norm.sf(X))
    assert np.array_equal(D.norm_ppf(Q), stats.norm.ppf(Q))
    # scalars in, Python-float-like scalars out (table cells, not 0-d arrays)
    assert D.t_sf(1.96, 1187) == stats.t.sf(1.96, 1187) and np.ndim(D.t_sf(1.96, 1187)) == 0
    assert D.norm_ppf(0.975) == pytest.approx(1.959963984540054, abs=1e-15)
    assert D.t_ppf(0.975, 1) == pytest.approx(12.706204736174705, rel=1e-12)  # published table value 12.706
