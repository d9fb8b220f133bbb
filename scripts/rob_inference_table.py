"""Snakemake adapter for intelcap.steps_robustness.inference_table."""
from intelcap import runner, steps_robustness

runner.run(snakemake, steps_robustness.inference_table)  # noqa: F821 - injected by Snakemake
