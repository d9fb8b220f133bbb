"""Snakemake adapter for intelcap.steps_robustness.one_step_sfa."""
from intelcap import runner, steps_robustness

runner.run(snakemake, steps_robustness.one_step_sfa)  # noqa: F821 - injected by Snakemake
