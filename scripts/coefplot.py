"""Snakemake adapter for intelcap.steps.coefplot."""
from intelcap import runner, steps

runner.run(snakemake, steps.coefplot)  # noqa: F821 - injected by Snakemake
