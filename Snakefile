# intelcap: industrial intelligence (robot exposure) and firm capacity utilization.
# One DAG from vendor-format raw data to every table and figure of the paper. See README.md.
import gc
import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.19")

# The workflow runs its own code: this checkout's src/ comes first for the DAG (registry, config checks), and
# scripts/run_step.py does the same in every job, whatever other clone or copy of intelcap is installed.
# this Snakefile's folder, also when the workflow is used as a Snakemake `module` (workflow.basedir is then the
# including workflow's)
WORKFLOW_DIR = Path(workflow.current_basedir).resolve()
sys.path.insert(0, str(WORKFLOW_DIR / "src"))
# Compiled bytecode is kept (src/intelcap/**/__pycache__) also where PYTHONDONTWRITEBYTECODE is set, as in
# Docker images and CI: otherwise this process and every job recompile the package's modules (~0.07 s a job).
sys.dont_write_bytecode = False
for _name in [m for m in sys.modules if m == "intelcap" or m.startswith("intelcap.")]:
    del sys.modules[
        _name
    ]  # an installed intelcap imported before this line must not be used

from intelcap.workflow.config import check_config, check_values, load_schema, validate
from intelcap.errors import InputError


configfile: "config/config.yaml"


# A typo in a config key gets a "did you mean", an empty model list or an impossible year range the key to
# change, before the schema's own checks.
_schema = load_schema(
    WORKFLOW_DIR / "schemas/config.schema.yaml"
)  # read once for the three checks
_sources = ", ".join(
    ["config/config.yaml", *map(str, workflow.overwrite_configfiles or [])]
)
# validate() then fills every default the schema declares: steps read defaults from here, never from code.
try:
    check_config(config, _schema, source=_sources)
    check_values(config, _schema, source=_sources)
    validate(config, _schema, source=_sources)
except InputError as err:
    sys.exit(f"intelcap config error:\n  {err}")


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/panel.smk"
include: "rules/measures.smk"
include: "rules/tables.smk"
include: "rules/figures.smk"
include: "rules/robustness.smk"
include: "rules/provenance.smk"
include: "rules/check.smk"


# The paper: every table (CSV + md/tex/docx), figure, the comparison with the paper, the manifest. (A comment,
# not a docstring: snakefmt 2.1 moves default_target above a docstring and then cannot parse the rule.)
rule all:
    default_target: True
    input:
        all_targets(),


# Everything built so far (imported packages, rules) lives until the process ends: frozen, the garbage
# collector stops walking it, and the interpreter's exit no longer frees it object by object (~0.3 s of a
# no-op run). end_of_run() freezes the rest when a run that started jobs is over.
gc.freeze()


onsuccess:
    end_of_run()


onerror:
    end_of_run()
