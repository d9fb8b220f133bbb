"""Snakemake adapter for intelcap.steps_robustness.spec_curve_shard."""
from intelcap import runner, steps_robustness

runner.run(snakemake, steps_robustness.spec_curve_shard)  # noqa: F821 - injected by Snakemake
