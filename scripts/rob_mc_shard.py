"""Snakemake adapter for intelcap.steps_robustness.mc_shard."""
from intelcap import runner, steps_robustness

runner.run(snakemake, steps_robustness.mc_shard)  # noqa: F821 - injected by Snakemake
