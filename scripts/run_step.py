"""Snakemake adapter for every rule: runs the step that intelcap.workflow.registry names for the rule."""
from intelcap.workflow import runner

runner.run(snakemake)  # noqa: F821 - injected by Snakemake
