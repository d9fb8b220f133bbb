"""Snakemake adapter for intelcap.steps_robustness.spec_curve."""
from intelcap import runner, steps_robustness

runner.run(snakemake, steps_robustness.spec_curve)  # noqa: F821 - injected by Snakemake
