"""Snakemake adapter for intelcap.steps_robustness.mc_coverage."""
from intelcap import runner, steps_robustness

runner.run(snakemake, steps_robustness.mc_coverage)  # noqa: F821 - injected by Snakemake
