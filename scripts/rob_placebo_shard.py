"""Snakemake adapter for intelcap.steps_robustness.placebo_shard."""
from intelcap import runner, steps_robustness

runner.run(snakemake, steps_robustness.placebo_shard)  # noqa: F821 - injected by Snakemake
