"""The only module that imports pyfixest; documented public API only (pyfixest 0.60: `pyfixest.feols`,
`pyfixest.MapDemeaner`, the result methods `coef`, `se`, `tstat`, `pvalue`, `resid`, and
`pyfixest.estimation.demean`, the alternating-projections demeaner of the API reference).

Everything else in the package works on `PyfixestFit`, a plain result of our own, so that an upgrade of
pyfixest can break this module only (tests/test_pyfixest_adapter.py fails on a private attribute or a pyfixest
import anywhere else in src/). pyfixest is imported inside the functions: the regression-table fast path
(`estimate.fit` for OLS) never loads it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["PyfixestFit", "available", "demean", "feols", "version"]


@dataclass(frozen=True)
class PyfixestFit:
    """What the package reads of one `pyfixest.feols` fit. `k` is pyfixest's K (the estimated coefficients;
    FE are absorbed by the caller), `resid` is on the rows of the frame given (no row is dropped: see `feols`)."""

    coefnames: list[str]
    coef: np.ndarray
    se: np.ndarray
    tstat: np.ndarray
    pvalue: np.ndarray
    resid: np.ndarray = field(repr=False)
    n_obs: int = 0

    @property
    def k(self) -> int:
        return len(self.coefnames)


def available() -> bool:
    try:
        import pyfixest  # noqa: F401
    except ImportError:
        return False
    return True


def version() -> str:
    import pyfixest as pf

    return str(pf.__version__)


def feols(
    fml: str,
    data: pd.DataFrame,
    cluster: str,
    *,
    drop_intercept: bool = False,
    fixef_tol: float | None = None,
    k_fixef: str | None = None,
) -> PyfixestFit:
    """`pyfixest.feols(fml, data, vcov={"CRV1": cluster})`; `fixef_tol` sets the MAP tolerance of formulas
        with fixed effects (`demeaner=pf.MapDemeaner(fixef_tol=...)`, pyfixest's default otherwise); `k_fixef`
    the FE degrees of freedom of its small-sample factor (`ssc=pf.ssc(k_fixef=...)`: "none", "full", "nonnested").

        Rows of `data` must be complete: a fit that drops rows (NaN, or singletons of a formula's FE) is refused,
        since `resid` would then not line up with `data`."""
    import pyfixest as pf

    kwargs = {} if fixef_tol is None else {"demeaner": pf.MapDemeaner(fixef_tol=fixef_tol)}
    if k_fixef is not None:
        kwargs["ssc"] = pf.ssc(k_fixef=k_fixef)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*singleton.*")
        f = pf.feols(fml, data=data, vcov={"CRV1": cluster}, drop_intercept=drop_intercept, **kwargs)
    resid = np.asarray(f.resid(), dtype=float).ravel()
    if resid.shape[0] != len(data):
        raise ValueError(
            f"pyfixest dropped {len(data) - resid.shape[0]} of {len(data)} rows of {fml!r} (missing values or "
            "singletons): drop them before the fit"
        )
    coef = f.coef()
    return PyfixestFit(
        coefnames=[str(n) for n in coef.index],
        coef=coef.to_numpy(dtype=float),
        se=f.se().to_numpy(dtype=float),
        tstat=f.tstat().to_numpy(dtype=float),
        pvalue=f.pvalue().to_numpy(dtype=float),
        resid=resid,
        n_obs=int(resid.shape[0]),
    )


def demean(
    x: np.ndarray, flist: np.ndarray, weights: np.ndarray, tol: float, maxiter: int
) -> tuple[np.ndarray, bool] | None:
    """`pyfixest.estimation.demean` (Rust alternating projections; absolute tolerance), or None when
    pyfixest is not installed (the caller then uses its numpy projections)."""
    try:
        from pyfixest.estimation import demean as _demean
    except ImportError:  # pragma: no cover - depends on the installed pyfixest
        return None
    out, ok = _demean(x, flist, weights, tol, maxiter)
    return np.asarray(out), bool(ok)
