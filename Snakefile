# intelcap: industrial intelligence (robot exposure) and firm capacity utilization.
# One DAG from vendor-format raw data to every table and figure of the paper. See README.md.
import os
import sys

from snakemake.utils import min_version, validate

from intelcap.config import check_config
from intelcap.errors import InputError

min_version("9.19")

# Jobs inherit this: pyfixest's results depend on string-hash order in their last digits, so a fixed seed is
# what makes two runs give byte-identical tables.
os.environ.setdefault("PYTHONHASHSEED", "0")


configfile: "config/config.yaml"


# A typo in a config key gets a "did you mean" before the schema's longer message.
try:
    check_config(config, "schemas/config.schema.yaml")
except InputError as err:
    sys.exit(f"intelcap config error:\n  {err}")


validate(config, schema="schemas/config.schema.yaml")


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/panel.smk"
include: "rules/measures.smk"
include: "rules/tables.smk"
include: "rules/figures.smk"
include: "rules/robustness.smk"
include: "rules/provenance.smk"


rule all:
    input:
        all_targets(),
    default_target: True
