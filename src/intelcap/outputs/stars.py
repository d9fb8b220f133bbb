"""Significance stars (esttab's rule): one function for the tables, the claims ledger and Figure 1. No pandas,
so that a figure job that only reads a few CSV cells does not import it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["STARS", "is_missing", "stars_for"]

# (threshold, symbol): p strictly below 0.10 earns *, below 0.05 **, below 0.01 ***
STARS: tuple[tuple[float, str], ...] = ((0.1, "*"), (0.05, "**"), (0.01, "***"))


def is_missing(x: Any) -> bool:
    """A missing table cell: None, NaN of any float type, pandas' NA or NaT (what `pd.isna` says of a scalar),
    without pandas; a container is not a missing cell."""
    if x is None:
        return True
    try:
        return bool(x != x)  # NaN and NaT are the values unequal to themselves
    except TypeError:  # pandas.NA: comparisons give NA, whose truth value is undefined
        return True
    except ValueError:  # an array or Series: elementwise, no single truth value
        return False


def stars_for(p: Any, stars: Sequence[tuple[float, str]] = STARS) -> str:
    """Star string for an unrounded p-value: strictly below a threshold earns its stars (esttab)."""
    if is_missing(p):
        return ""
    pf = float(p)
    best = ""
    for level, symbol in sorted(stars, key=lambda s: -s[0]):
        if pf < level:
            best = symbol
    return best
