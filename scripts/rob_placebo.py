"""Snakemake adapter for intelcap.steps_robustness.placebo_summary."""
from intelcap import runner, steps_robustness

runner.run(snakemake, steps_robustness.placebo_summary)  # noqa: F821 - injected by Snakemake
