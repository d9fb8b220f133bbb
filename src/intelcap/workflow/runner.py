"""The one place where a Snakemake job meets the package: logging, clean errors, plain arguments.

Every rule runs `scripts/run_step.py`, which calls `run(snakemake)`: the rule's step function comes from the
registry (`intelcap.workflow.registry`), and it receives dicts of input/output paths, the rule's params and a
`ConfigView` of exactly the configuration keys the rule declares, so every step is also callable from tests
without Snakemake, and a step that reads an undeclared key fails instead of going stale.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from intelcap.errors import IntelcapError


class UndeclaredConfigError(KeyError):
    """A step read a configuration key its rule does not declare (the job would not rerun when it changes)."""

    def __str__(self) -> str:
        return str(self.args[0])


class ConfigView(dict):
    """The part of the configuration a rule declares; reading anything else raises `UndeclaredConfigError`.

    `complete` is True where a whole block is declared (then a missing key is a plain KeyError, as in the
    full config); in a partly declared block, every undeclared key raises, through [], get() and `in`.
    """

    def __init__(self, values: dict, rule: str, complete: bool, path: str = "", complete_paths=()) -> None:
        self._rule, self._path, self._complete = rule, path, complete
        super().__init__()
        for key, value in values.items():
            sub = f"{path}.{key}" if path else str(key)
            if isinstance(value, dict):
                whole = complete or sub in complete_paths
                value = ConfigView(value, rule, whole, sub, complete_paths)
            super().__setitem__(key, value)

    @classmethod
    def declared(cls, declared: dict, rule: str) -> ConfigView:
        keys = declared["keys"]
        return cls(declared["values"], rule, "" in keys, "", set(keys))

    def _undeclared(self, key) -> UndeclaredConfigError:
        where = f"{self._path}.{key}" if self._path else str(key)
        return UndeclaredConfigError(
            f"rule {self._rule} read config key '{where}', which it does not declare: add it to the rule's "
            "`config` in src/intelcap/workflow/rules.yaml (otherwise changing it would not rerun the rule)"
        )

    def __missing__(self, key):
        if self._complete:
            raise KeyError(key)
        raise self._undeclared(key)

    def get(self, key, default=None):
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        if self._complete:
            return default
        raise self._undeclared(key)

    def __contains__(self, key) -> bool:
        if dict.__contains__(self, key) or self._complete:
            return dict.__contains__(self, key)
        raise self._undeclared(key)


class Job:
    """Plain view of a Snakemake job: named inputs/outputs as dicts of str (lists where a name holds many)."""

    def __init__(
        self,
        input: dict,
        output: dict,
        params: dict,
        config: dict,
        log: list[str] | None = None,
        threads: int = 1,
        wildcards: dict | None = None,
        rule: str = "",
    ) -> None:
        self.input = input
        self.output = output
        self.params = params
        self.config = config
        self.log = log or []
        self.threads = threads
        self.wildcards = wildcards or {}
        self.rule = rule


def _named(namedlist) -> dict[str, Any]:
    out = {}
    for name, value in namedlist.items():
        out[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
    return out


def from_snakemake(smk) -> Job:
    """The job's view: its params, and as config only what `params.config` declares (registry)."""
    params = dict(smk.params.items())
    declared = json.loads(params.pop("config", '{"keys": [], "values": {}}'))
    return Job(
        input=_named(smk.input),
        output=_named(smk.output),
        params=params,
        config=ConfigView.declared(declared, smk.rule),
        log=[str(x) for x in smk.log],
        threads=int(smk.threads),
        wildcards=dict(smk.wildcards.items()),
        rule=smk.rule,
    )


def _thread_limit(threads: int):
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=max(1, threads))


def intelcap_modules() -> list[str]:
    """The intelcap modules imported in this process, as registry names (`workflow.runner`, `cu`, ...)."""
    names = []
    for name, mod in sys.modules.items():
        if (name == "intelcap" or name.startswith("intelcap.")) and getattr(mod, "__file__", None):
            rel = name[len("intelcap.") :] if name != "intelcap" else ""
            names.append(
                f"{rel}.__init__" if Path(mod.__file__).name == "__init__.py" and rel else rel or "__init__"
            )
    return sorted(names)


def check_own_code(scriptdir: str) -> None:
    """The job must run the package of the checkout that holds the Snakefile (`<workflow>/src`), never
    another clone's or an installed copy: otherwise edits tracked as inputs would never execute."""
    import intelcap

    expected = (Path(scriptdir).resolve().parent / "src" / "intelcap").resolve()
    actual = Path(intelcap.__file__).resolve().parent
    if actual != expected:
        raise IntelcapError(
            f"this job imported intelcap from {actual}, not from the workflow's own checkout "
            f"{expected}; scripts/run_step.py puts <workflow>/src first on sys.path: run the "
            "rules through it"
        )


def exit_now() -> None:
    """End a finished job's process without the interpreter's teardown: with pandas, pyarrow and matplotlib
    loaded, freeing every module costs ~0.15 s, a fifth of a small job. Everything the job wrote is closed
    (atomic writers close their files); the log and the standard streams are flushed here."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    os._exit(0)


def run(smk, step: Callable[[Job], None] | None = None) -> None:
    """Run one rule's step under Snakemake with stderr/stdout in the rule's log and a readable error on
    failure. The step is the registry's for `smk.rule` unless given."""
    job = from_snakemake(smk)
    log_path = job.log[0] if job.log else None
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        fh = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the job
        sys.stderr = sys.stdout = fh
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True
    )
    # A job gets the cores Snakemake gave it and no more: BLAS/OpenMP/Rayon pools default to every core,
    # and two such jobs on two cores spend their time contending (tall-thin X'X ran 5x slower).
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
        os.environ[var] = str(max(1, job.threads))
    try:
        check_own_code(smk.scriptdir)
        if step is None:
            from intelcap.workflow.registry import step_function

            step = step_function(smk.rule)
        with _thread_limit(job.threads):
            step(job)
        # read by tests/test_rebuild_contract.py: the modules this job ran must be the registry's for its rule
        logging.getLogger("intelcap").info(
            "rule %s ran intelcap modules: %s", smk.rule, " ".join(intelcap_modules())
        )
    except (IntelcapError, UndeclaredConfigError) as exc:
        # a user-facing error: its message names file, column and rows; a stack trace would only bury it
        msg = f"intelcap error in rule {smk.rule}:\n  {exc}\n"
        sys.stderr.write(msg)
        sys.__stderr__.write(msg)
        sys.stderr.flush()
        raise SystemExit(1) from None
    except Exception:
        sys.stderr.write(traceback.format_exc())
        sys.__stderr__.write(f"unexpected error in rule {smk.rule}; see {log_path}\n")
        raise
    finally:
        sys.stderr.flush()
