"""Snakemake adapter for intelcap.steps.winsorize."""
from intelcap import runner, steps

runner.run(snakemake, steps.winsorize)  # noqa: F821 - injected by Snakemake
