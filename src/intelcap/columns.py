"""The columns of a long result table (one row per model x term), shared by the estimators that write it and
the figures that read it; core, so both layers may import it."""

from __future__ import annotations

__all__ = ["RESULT_COLUMNS", "STAT_COLUMNS"]

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

# a model's identity, estimate and fit statistics: the columns that are no specification choice
STAT_COLUMNS = RESULT_COLUMNS[:11]
