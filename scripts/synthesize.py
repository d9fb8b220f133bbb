"""Snakemake adapter for intelcap.steps.synthesize."""
from intelcap import runner, steps

runner.run(snakemake, steps.synthesize)  # noqa: F821 - injected by Snakemake
