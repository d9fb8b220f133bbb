"""Estimation with Stata reghdfe/ivreghdfe conventions (`estimate`), inference beyond the defaults
(`inference`, on the machinery of `absorb`, `crv1` and `fastrefit`; `wild` and `placebo` for the few-cluster
bootstrap and the placebo reassignment) and the robustness stage (`robustness`)."""

__all__ = [
    "absorb",
    "crv1",
    "estimate",
    "fastrefit",
    "inference",
    "iv_extras",
    "placebo",
    "robustness",
    "wild",
]
