"""Snakemake adapter for intelcap.manifest.step (rule provenance)."""
from intelcap import manifest, runner

runner.run(snakemake, manifest.step)  # noqa: F821 - injected by Snakemake
