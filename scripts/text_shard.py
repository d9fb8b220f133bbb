"""Snakemake adapter for intelcap.steps.text_shard."""
from intelcap import runner, steps

runner.run(snakemake, steps.text_shard)  # noqa: F821 - injected by Snakemake
