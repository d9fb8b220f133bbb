"""Snakemake adapter for every rule: runs the step that intelcap.workflow.registry names for the rule.

The package is imported from this workflow's own checkout (`<workflow>/src`), never from another clone or an
installed copy: the code Snakemake tracks as the rule's inputs is the code that runs.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parent / "src"))  # noqa: F821 - injected
# keep compiled bytecode even under PYTHONDONTWRITEBYTECODE (Docker images, CI): else each job recompiles the
# package's modules it imports, ~0.07 s a job (docs/performance.md)
sys.dont_write_bytecode = False

from intelcap.workflow import runner  # noqa: E402

runner.run(snakemake)  # noqa: F821 - injected by Snakemake
runner.exit_now()  # only after success: a failed step raised above, with its traceback and exit code
