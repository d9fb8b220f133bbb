"""The rule registry: for every rule of the workflow, the step function it runs, the package modules that step
runs and the configuration keys it reads.

The table itself is data, `rules.yaml` next to this file (`TABLE`); this module loads it, checks it and
answers from it. It is the one source of three things that must agree for `snakemake -n` to tell the truth:

* `code` inputs (`code_files`): the files of the modules a rule runs, always with the glue (runner, registry,
  atomic writers, errors, the step module) and the table, so that editing any code a job executes reruns
  exactly that job, and editing the table reruns every job;
* `params.config` (`declared_config`): the configuration blocks a step reads, as canonical JSON, so that a
  config change reruns exactly the rules that read the key; the job sees nothing else (`runner.ConfigView`
  raises on any other key);
* `docs/reruns.md` ("you change X -> these jobs rerun"), generated from it by `tools/make_reruns_doc.py`.

Tests check the table against reality: every job logs the intelcap modules it imported (must equal
`modules` + glue), and a schema-wide test changes every config key and dry-runs the workflow.

The table (`rules.yaml`):

* `glue`: the modules every job runs, whatever its step;
* `always_imports`: core modules a method module imports at its top (a rule running the one runs the others);
* `groups`: named lists of modules or config keys; `group:<name>` in any list stands for the group's items
  (a group may name other groups; a module or key two groups share is counted once);
* `rules`: `<rule>: {step, modules, config, shape}`: `step` is `workflow.steps.<stage>:<function>`, the others
  are lists (left out = empty): `modules` the method modules the step runs (its import closure, glue
  excluded), `config` the keys its step reads (in this order), `shape` the keys that decide its inputs,
  outputs or number of jobs in `rules/*.smk` without being read by its step (a changed input path or a new
  shard reruns those jobs through Snakemake's own input and missing-output triggers).

Modules are named `a.b` for src/intelcap/a/b.py (`workflow.__init__` for a package's `__init__.py`). Key
templates: `{name}` is a wildcard of the job (`csmar.{table}`), `<a.b>` the configured value at `a.b`
(`tables.<robustness.inference.baseline.table>`), "" the whole configuration. The loader refuses, naming the
file, line, rule and key: an unknown or missing key, a wrong type, a rule or mapping key given twice, an
unknown, circular or unused group, a module that is not a file of the package, a malformed step or config key.

Standard library and PyYAML only: the Snakefile imports this module while Snakemake builds the DAG (Snakemake
imports PyYAML itself); libyaml's C parser reads the table when PyYAML has it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from intelcap.errors import IntelcapError

PACKAGE = Path(__file__).resolve().parents[1]  # src/intelcap of the checkout that holds this file
TABLE_FILE = Path("workflow", "rules.yaml")  # the rule table, relative to the package
TABLE = PACKAGE / TABLE_FILE


@dataclass(frozen=True)
class Rule:
    step: str  # "workflow.steps.<stage>:<function>"
    modules: tuple[str, ...] = ()  # method modules the step runs (its import closure), glue excluded
    config: tuple[str, ...] = ()  # config keys its step reads (the job sees these and nothing else)
    shape: tuple[str, ...] = ()  # config keys that shape the rule's inputs/outputs/jobs in rules/*.smk

    @property
    def step_module(self) -> str:
        return self.step.split(":")[0]


def module_file(module: str, package: Path = PACKAGE) -> Path:
    """`workflow.runner` -> <package>/workflow/runner.py; `workflow.__init__` -> <package>/workflow/__init__.py."""
    return package.joinpath(*module.split(".")).with_suffix(".py")


class RuleTableError(IntelcapError):
    """The rule table is malformed; the message names its file, line, rule and key."""


class _Problem(Exception):
    """A problem at a line of the table (the loader adds the file)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class _Mapping(dict):
    """A YAML mapping that remembers the line of each of its keys, for the loader's messages."""

    line = 0
    lines: dict[str, int]


class _TableLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (libyaml's C parser when PyYAML has it), with mappings that refuse a key given twice
    (PyYAML would keep the last one silently) and remember their lines."""


def _construct_mapping(loader: _TableLoader, node: yaml.MappingNode) -> _Mapping:
    out = _Mapping()
    out.line, out.lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise _Problem(line, f"key {key!r} is a {type(key).__name__}; every key of the table is a name")
        if key in out:
            raise _Problem(
                line,
                f"'{key}' is given twice in one mapping (also at line {out.lines[key]}); YAML would keep "
                "only the second: remove or rename one",
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = line
    return out


_TableLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_TOP_KEYS = ("glue", "always_imports", "shipped_data", "groups", "rules")
_RULE_KEYS = ("step", "modules", "config", "shape")
_GROUP = "group:"
_NAME = re.compile(r"[A-Za-z_]\w*")
_MODULE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_STEP = re.compile(r"(workflow\.steps\.[A-Za-z_]\w*):[A-Za-z_]\w*")
_PART = r"(?:[A-Za-z_]\w*|\{[A-Za-z_]\w*\}|<[A-Za-z_][\w.]*>)"
_KEY = re.compile(rf"{_PART}(?:\.{_PART})*")


def _type(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"[:120]


def _via(where: str, line: int, origin: tuple[str, int]) -> tuple[int, str]:
    """Where an item of a list stands (line, description): the list itself, or the group that brought it in."""
    return (line, where) if origin[0] == where else (origin[1], f"{where} (from {origin[0]})")


class _Checker:
    """Checks the parsed table and builds the registry's objects from it; raises _Problem."""

    def __init__(self, data: Any, package: Path) -> None:
        if not isinstance(data, _Mapping):
            raise _Problem(
                1, f"the table must be a mapping with the keys {', '.join(_TOP_KEYS)}; found {_type(data)}"
            )
        self.data, self.package = data, package
        self._expect_keys(data, "the table", _TOP_KEYS, tuple(k for k in _TOP_KEYS if k != "shipped_data"))
        self.groups = self._mapping(data, "groups", "the table")
        self.used: set[str] = set()
        self.files: dict[str, bool] = {}

    def _expect_keys(
        self, m: _Mapping, where: str, allowed: tuple[str, ...], required: tuple[str, ...]
    ) -> None:
        for key in m:
            if key not in allowed:
                raise _Problem(
                    m.lines[key], f"{where}, key '{key}': unknown key (allowed: {', '.join(allowed)})"
                )
        for key in required:
            if key not in m:
                raise _Problem(m.line, f"{where}: key '{key}' is missing")

    def _mapping(self, parent: _Mapping, key: str, where: str) -> _Mapping:
        value = parent[key]
        if not isinstance(value, _Mapping):
            raise _Problem(
                parent.lines[key], f"{where}, key '{key}': must be a mapping; found {_type(value)}"
            )
        return value

    def items(
        self, value: Any, where: str, line: int, chain: tuple[str, ...] = ()
    ) -> list[tuple[str, tuple[str, int]]]:
        """A list with its groups spliced in, each item with the list it came from (where, line); an item that
        two groups bring in counts once."""
        if not isinstance(value, list):
            raise _Problem(line, f"{where}: must be a list of names; found {_type(value)}")
        out: dict[str, tuple[str, int]] = {}
        for item in value:
            if not isinstance(item, str):
                raise _Problem(line, f"{where}: every item must be a name (a string); found {_type(item)}")
            if value.count(item) > 1:
                raise _Problem(line, f"{where}: '{item}' is listed {value.count(item)} times: list it once")
            if not item.startswith(_GROUP):
                out.setdefault(item, (where, line))
                continue
            name = item[len(_GROUP) :]
            if name not in self.groups:
                raise _Problem(
                    line,
                    f"{where}: unknown group '{name}' (the groups are {', '.join(self.groups)}): "
                    "define it under `groups` or fix the name",
                )
            if name in chain:
                raise _Problem(
                    line, f"{where}: group '{name}' contains itself ({' -> '.join((*chain, name))})"
                )
            self.used.add(name)
            for sub, origin in self.items(
                self.groups[name], f"group '{name}'", self.groups.lines[name], (*chain, name)
            ):
                out.setdefault(sub, origin)
        return list(out.items())

    def modules(self, value: Any, where: str, line: int) -> tuple[str, ...]:
        found = self.items(value, where, line)
        for module, origin in found:
            self.module(module, *_via(where, line, origin))
        return tuple(m for m, _ in found)

    def module(self, module: str, line: int, where: str) -> None:
        if module not in self.files:
            self.files[module] = (
                bool(_MODULE.fullmatch(module)) and module_file(module, self.package).is_file()
            )
        if not self.files[module]:
            raise _Problem(
                line,
                f"{where}: '{module}' is not a module of the package (no file "
                f"{module_file(module, self.package)}): name a module `a.b` for src/intelcap/a/b.py",
            )

    def keys(self, value: Any, where: str, line: int, whole: bool) -> tuple[str, ...]:
        found = self.items(value, where, line)
        for key, origin in found:
            if not (_KEY.fullmatch(key) or (whole and key == "")):
                at, what = _via(where, line, origin)
                whole_config = ', or "" for all of it' if whole else ""
                raise _Problem(
                    at,
                    f"{what}: '{key}' is not a config key (dotted names, `{{wildcard}}` or `<a.b>` parts"
                    f"{whole_config})",
                )
        return tuple(k for k, _ in found)

    def rule(self, name: str, entry: Any, line: int) -> Rule:
        where = f"rule '{name}'"
        if not _NAME.fullmatch(name):
            raise _Problem(line, f"{where}: not a Snakemake rule name (letters, digits, _)")
        if not isinstance(entry, _Mapping):
            raise _Problem(
                line,
                f"{where}: must be a mapping with the keys {', '.join(_RULE_KEYS)}; found {_type(entry)}",
            )
        self._expect_keys(entry, where, _RULE_KEYS, ("step",))
        step = entry["step"]
        match = _STEP.fullmatch(step) if isinstance(step, str) else None
        if match is None:
            raise _Problem(
                entry.lines["step"],
                f"{where}, key 'step': must be workflow.steps.<stage>:<function>; found {_type(step)}",
            )
        self.module(match.group(1), entry.lines["step"], f"{where}, key 'step'")

        def at(key: str) -> tuple[Any, str, int]:
            return entry.get(key, []), f"{where}, key '{key}'", entry.lines.get(key, line)

        return Rule(
            step,
            self.modules(*at("modules")),
            self.keys(*at("config"), whole=True),
            self.keys(*at("shape"), whole=False),
        )

    def shipped_data(self) -> dict[str, tuple[str, ...]]:
        """module -> the files of the package's data/ folder it reads (absent section: none)."""
        if "shipped_data" not in self.data:
            return {}
        table = self._mapping(self.data, "shipped_data", "the table")
        out: dict[str, tuple[str, ...]] = {}
        for module, files in table.items():
            where, line = f"shipped_data, key '{module}'", table.lines[module]
            self.module(module, line, where)
            names = tuple(name for name, _ in self.items(files, where, line))
            for name in names:
                if not (self.package / "data" / name).is_file():
                    raise _Problem(
                        line,
                        f"{where}: '{name}' is not a file of {self.package / 'data'}: name a shipped file",
                    )
            out[module] = names
        return out

    def build(
        self,
    ) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]], dict[str, tuple[str, ...]], dict[str, Rule]]:
        data = self.data
        glue = self.modules(data["glue"], "glue", data.lines["glue"])
        always: dict[str, tuple[str, ...]] = {}
        table = self._mapping(data, "always_imports", "the table")
        for module, imported in table.items():
            where = f"always_imports, key '{module}'"
            self.module(module, table.lines[module], where)
            always[module] = self.modules(imported, where, table.lines[module])
        shipped = self.shipped_data()
        rules_table = self._mapping(data, "rules", "the table")
        rules = {name: self.rule(name, entry, rules_table.lines[name]) for name, entry in rules_table.items()}
        if not rules:
            raise _Problem(rules_table.line, "the table, key 'rules': no rule")
        unused = [name for name in self.groups if name not in self.used]
        if unused:
            raise _Problem(
                self.groups.lines[unused[0]], f"group '{unused[0]}' is used by no rule: use it or remove it"
            )
        return glue, always, shipped, rules


def load_table(
    path: Path = TABLE, package: Path = PACKAGE
) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]], dict[str, tuple[str, ...]], dict[str, Rule]]:
    """The rule table at `path`, checked against the modules and data files of `package`: (glue,
    always_imports, shipped_data, rules).
    Raises RuleTableError naming the file, line, rule and key of the first problem."""
    try:
        with path.open("rb") as stream:  # a stream, so that PyYAML's messages name the file
            loader = _TableLoader(stream)
            try:
                data = loader.get_single_data()
            finally:
                loader.dispose()
        return _Checker(data, package).build()
    except _Problem as problem:
        raise RuleTableError(f"{path}, line {problem.line}: {problem}") from None
    except yaml.YAMLError as err:
        raise RuleTableError(f"{path}: not valid YAML: {err}") from None
    except OSError as err:
        raise RuleTableError(f"the rule table cannot be read: {err}") from None


# GLUE: run by every job, whatever its step (a change to one of these reruns everything). ALWAYS_IMPORTS: core
# modules that a method module imports at its top, so that every rule running it runs them too. SHIPPED_DATA:
# the files of src/intelcap/data/ a module reads (the figures' texts, the font), code inputs like the module.
GLUE, ALWAYS_IMPORTS, SHIPPED_DATA, RULES = load_table()


def modules_of(rule: str) -> list[str]:
    """Every intelcap module a rule's job runs: glue, its step module, its method modules and what those
    always import (sorted)."""
    r = RULES[rule]
    modules = {*GLUE, r.step_module, *r.modules}
    modules |= {m for listed in list(modules) for m in ALWAYS_IMPORTS.get(listed, ())}
    packages = {f"{m.rsplit('.', 1)[0]}.__init__" for m in modules if "." in m and not m.endswith("__init__")}
    return sorted(modules | packages)


def code_files(rule: str, root: str | os.PathLike = "") -> list[str]:
    """The `code` inputs of a rule, relative to the workflow folder (`root`, the Snakefile's folder): the
    files of its modules, the shipped data files those read, and the rule table."""
    base = Path(root) / "src" / "intelcap"
    modules = modules_of(rule)
    data = sorted({name for m in modules for name in SHIPPED_DATA.get(m, ())})
    return (
        [str(module_file(m, base)) for m in modules]
        + [str(base / "data" / name) for name in data]
        + [str(base / TABLE_FILE)]
    )


_REF = re.compile(r"<([^<>]+)>")


def lookup(config: dict, key: str) -> Any:
    """The value at a dotted key ("" = the whole config). Raises KeyError naming the key."""
    node: Any = config
    for part in key.split(".") if key else []:
        if not isinstance(node, dict) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node


def config_keys(rule: str, config: dict, wildcards: dict | None = None) -> list[str]:
    """The rule's declared config keys with wildcards and `<a.b>` references filled in."""
    keys = []
    for key in RULES[rule].config:
        key = _REF.sub(lambda m: str(lookup(config, m.group(1))), key)
        keys.append(key.format(**(wildcards or {})))
    return keys


def subset(config: dict, keys: list[str]) -> dict:
    """The nested part of `config` holding exactly `keys` (each a dotted path; "" = everything)."""
    if "" in keys:
        return config
    out: dict = {}
    for key in keys:
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = lookup(config, key)
    return out


def declared_config(rule: str, config: dict, wildcards: dict | None = None) -> dict:
    """{"keys": [...], "values": {...}}: what the rule's step may read (its `params.config`, as JSON)."""
    keys = config_keys(rule, config, wildcards)
    return {"keys": keys, "values": subset(config, keys)}


def canonical(value: Any) -> str:
    """A value as sorted JSON: reordering keys in a YAML file is not a change, so it must not rerun anything
    (Snakemake compares params by their text)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def fingerprint(paths: list[str] | str) -> str:
    """Size and modification time (ns) of each file, hashed: changes whenever a file's content is replaced,
    even by an older file (`cp -p`, `rsync -t`, unzip), at the cost of one stat per file.

    A file that does not exist yet (an output of an earlier rule) contributes nothing: only sources the user
    provides are fingerprinted (see rules/common.smk)."""
    h = hashlib.blake2b(digest_size=12)
    for p in [paths] if isinstance(paths, str) else sorted(paths):
        try:
            st = os.stat(p)
        except FileNotFoundError:
            h.update(f"{p}\0missing\n".encode())
            continue
        h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def step_function(rule: str):
    """The function that runs a rule's job."""
    import importlib

    module, name = RULES[rule].step.split(":")
    return getattr(importlib.import_module(f"intelcap.{module}"), name)
