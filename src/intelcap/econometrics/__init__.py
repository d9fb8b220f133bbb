"""Estimation with Stata reghdfe/ivreghdfe conventions (`estimate`), inference beyond the defaults
(`inference`) and the robustness stage (`robustness`)."""

__all__ = ["estimate", "inference", "robustness"]
