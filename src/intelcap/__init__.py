"""intelcap: industrial intelligence and firm capacity utilization — a reproducible replication workflow.

The library's main entry points are attributes of this package (`intelcap.regression_table`, ...), imported on
first use: `import intelcap` itself loads neither pandas nor pyfixest. The public API, by subpackage:
docs/api.md.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it; resolved by __getattr__ on first access (PEP 562)
_LAZY = {
    "ModelSpec": "intelcap.econometrics.estimate",
    "regression_table": "intelcap.econometrics.estimate",
    "iv_statistics": "intelcap.econometrics.estimate",
    "group_differences": "intelcap.econometrics.estimate",
    "descriptive_table": "intelcap.econometrics.estimate",
    "RESULT_COLUMNS": "intelcap.econometrics.estimate",
    "SAMPLES": "intelcap.econometrics.estimate",
    "IntelcapError": "intelcap.errors",
    "InputError": "intelcap.errors",
    "EstimationError": "intelcap.errors",
    "shipped": "intelcap.resources",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'intelcap' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
