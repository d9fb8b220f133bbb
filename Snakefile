# intelcap: industrial intelligence (robot exposure) and firm capacity utilization.
# One DAG from vendor-format raw data to every table and figure of the paper. See README.md.
from snakemake.utils import min_version, validate

min_version("9.19")


configfile: "config/config.yaml"


validate(config, schema="schemas/config.schema.yaml")


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/panel.smk"
include: "rules/measures.smk"
include: "rules/tables.smk"
include: "rules/figures.smk"
include: "rules/robustness.smk"


rule all:
    input:
        all_targets(),
    default_target: True
