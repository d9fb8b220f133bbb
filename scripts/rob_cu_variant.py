"""Snakemake adapter for intelcap.steps_robustness.cu_variant."""
from intelcap import runner, steps_robustness

runner.run(snakemake, steps_robustness.cu_variant)  # noqa: F821 - injected by Snakemake
