"""Synthetic data in the vendors' own formats from a documented DGP with known truth (docs/DGP.md): the CSMAR and
IFR files (`dgp`) and the annual reports (`reports`)."""

__all__ = ["dgp", "keyword_contexts", "reports"]
