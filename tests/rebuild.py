"""Shared machinery of the rebuild-contract tests: a completed scratch workflow, Snakemake's job DAG as data,
and for every leaf key of the config schema another valid value.

The job DAG comes from `snakemake --dag` on the completed workspace: every job with its rule, wildcards and
dependencies, and whether it would run (jobs that would not are drawn dashed).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from intelcap.workflow import registry

ROOT = Path(__file__).resolve().parents[1]

# The robustness stage at a size a test can run in a minute (same rules and code paths).
SMALL_ROBUSTNESS = {
    "robustness": {
        "monte_carlo": {"reps": 2, "shard_size": 1, "bootstrap_reps": 99},
        "placebo": {"reps": 20, "shard_size": 10},
        "inference": {"bootstrap_reps": 99},
        "spec_curve": {
            "cu": ["sfa_bc92", "cols"],
            "winsor": {"none": [], "p1_99": [1, 99]},
            "fe": {"firm_year": ["Stkcd", "year"], "industry_year": ["Stkcd", "year", "industry^year"]},
        },
    },
}


# Every target of the workflow: the paper (all), the robustness stage, the data check, the keyword expansion and
# the Stata parity files; the aggregate rules among them run nothing themselves.
TARGETS = ("all", "robustness", "check", "expansion", "stata")
AGGREGATES = ("all", "robustness", "expansion", "stata")
# not counted as planned work: the aggregates, and `check`, which has no output and so runs whenever asked for
# (it prints the data report's summary)
UNCOUNTED = (*AGGREGATES, "check")
# what dry runs plan: every target but the data check, whose report job reads the loaded config files
# themselves (it flags files that enable YTE), so any --configfile overlay reruns it, by design
DRY_TARGETS = tuple(t for t in TARGETS if t != "check")


def merge(base: dict, over: dict) -> dict:
    """Snakemake's overlay rule: dicts merge key by key, everything else is replaced."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = (
            merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
        )
    return out


def small_config() -> dict:
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text(encoding="utf-8"))
    cfg = merge(cfg, yaml.safe_load((ROOT / "tests/small_config.yaml").read_text(encoding="utf-8")))
    for scenario in cfg["robustness"]["monte_carlo"]["scenarios"].values():
        if scenario:
            scenario.pop("n_firms", None)
    return merge(cfg, SMALL_ROBUSTNESS)


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--cores",
        "2",
        "--directory",
        str(workdir),
        "--snakefile",
        str(workdir / "Snakefile"),
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
        )
    return proc


@contextlib.contextmanager
def edited(path: Path, text: str):
    """`path` holds `text` inside the block; afterwards its old content and its old times: a test's edit must
    not leave a newer file behind, which every later dry run would (rightly) take as a change."""
    old, st = path.read_bytes(), path.stat()
    path.write_text(text, encoding="utf-8")
    try:
        yield path
    finally:
        path.write_bytes(old)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@dataclass(frozen=True)
class JobNode:
    rule: str
    wildcards: tuple[tuple[str, str], ...]
    runs: bool

    def label(self) -> str:
        return self.rule + "".join(f"[{k}={v}]" for k, v in self.wildcards)


_NODE = re.compile(r'^\s*(\d+)\[label = "([^"]*)".*style="([^"]*)"', re.M)
_EDGE = re.compile(r"^\s*(\d+) -> (\d+)", re.M)


@dataclass
class JobDag:
    nodes: dict[int, JobNode]
    children: dict[int, set[int]]  # dependency -> jobs that use its outputs
    parents: dict[int, set[int]]  # job -> its dependencies

    @classmethod
    def parse(cls, dot: str) -> JobDag:
        nodes = {}
        for m in _NODE.finditer(dot):
            rule, *wc = m.group(2).split("\\n")
            pairs = tuple(sorted(tuple(w.split(": ", 1)) for w in wc))
            nodes[int(m.group(1))] = JobNode(rule, pairs, "dashed" not in m.group(3))
        children: dict[int, set[int]] = {i: set() for i in nodes}
        parents: dict[int, set[int]] = {i: set() for i in nodes}
        for m in _EDGE.finditer(dot):
            children[int(m.group(1))].add(int(m.group(2)))
            parents[int(m.group(2))].add(int(m.group(1)))
        return cls(nodes, children, parents)

    def downstream(self, start: set[int]) -> set[int]:
        seen, todo = set(start), list(start)
        while todo:
            for child in self.children[todo.pop()]:
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return seen

    def running(self) -> Counter:
        return Counter(n.label() for n in self.nodes.values() if n.runs and n.rule not in UNCOUNTED)

    def identity(self, i: int) -> str:
        """A job's label with its dependencies' labels: unique even where a job's wildcards are all inherited
        (text_count[shard] from text_extract[shard])."""
        parents = sorted(self.nodes[p].label() for p in self.parents[i])
        return self.nodes[i].label() + "<" + ",".join(parents)

    def labels(self, ids) -> Counter:
        return Counter(self.nodes[i].label() for i in ids if self.nodes[i].rule not in UNCOUNTED)


def job_dag(workdir: Path, *args: str, targets: tuple[str, ...] = DRY_TARGETS) -> JobDag:
    proc = snakemake(workdir, *targets, "--dag", "--nolock", *args)  # targets first: --configfile takes many
    return JobDag.parse(proc.stdout)


# ------------------------------------------------------------------------------------------------ schema leaves
def _resolve(node: dict, root: dict) -> dict:
    while "$ref" in node:
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


@dataclass(frozen=True)
class Leaf:
    key: str
    schema: dict
    value: Any
    present: bool


def leaves(schema: dict, config: dict) -> list[Leaf]:
    """Every leaf key of the schema, with the configured value: object properties recursively (present or not),
    map entries (additionalProperties) for the keys the config has; arrays and scalars are leaves."""
    out: list[Leaf] = []

    def walk(node: dict, value: Any, present: bool, key: str) -> None:
        node = _resolve(node, schema)
        props = node.get("properties")
        extra = node.get("additionalProperties")
        is_object = props is not None or isinstance(extra, dict)
        if is_object and (isinstance(value, dict) or not present):
            value = value if isinstance(value, dict) else {}
            for name, sub in (props or {}).items():
                walk(sub, value.get(name), name in value, f"{key}.{name}" if key else name)
            if isinstance(extra, dict):
                for name in value:
                    if name not in (props or {}):
                        walk(extra, value[name], True, f"{key}.{name}")
            return
        out.append(Leaf(key, node, copy.deepcopy(value), present))

    walk(schema, config, True, "")
    return out


def _number(node: dict, value: float | None, integer: bool) -> float | int:
    """A valid number other than `value` (or than the schema default when the key is absent)."""

    def valid(x: float) -> bool:
        return (
            x >= node.get("minimum", -1e300)
            and x > node.get("exclusiveMinimum", -1e300)
            and x <= node.get("maximum", 1e300)
            and x < node.get("exclusiveMaximum", 1e300)
        )

    base = value if value is not None else node.get("default", node.get("minimum", 1))
    steps = (base + 1, base - 1) if integer else (base * 0.9, base * 1.05, base + 0.5)
    cand = next(x for x in steps if valid(x) and x != base)
    return int(cand) if integer else float(cand)


def _item_schema(node: dict, schema: dict) -> dict:
    items = node.get("items", {})
    return _resolve(items, schema) if isinstance(items, dict) else {}


def another_value(leaf: Leaf, schema: dict, special: dict) -> tuple[bool, Any]:
    """(True, a different valid value) for a leaf, or (False, None) when its schema allows no other value."""
    if not leaf.present and leaf.value is None and "default" in leaf.schema:
        # a key the config leaves out has its schema default: change from that
        leaf = dataclasses.replace(leaf, value=leaf.schema["default"])
    for pattern, fn in special.items():
        if re.fullmatch(pattern, leaf.key):
            return True, fn(leaf)
    node, v = leaf.schema, leaf.value
    types = node.get("type")
    types = types if isinstance(types, list) else [types]
    if "enum" in node:
        others = [e for e in node["enum"] if e != v and e != ""]
        return (True, others[0]) if others else (False, None)
    if "boolean" in types:
        return True, not v
    if "integer" in types:
        return True, _number(node, v, True)
    if "number" in types:
        return True, _number(node, v, False)
    if "array" in types:
        items = _item_schema(node, schema)
        v = list(v or [])
        if items.get("type") == "object":  # model specifications: rename the first column
            return True, [{**v[0], "name": v[0]["name"] + "*"}, *v[1:]]
        candidates = [v[:-1]] if len(v) > node.get("minItems", 0) else []
        if v and isinstance(v[0], (int, float)):
            candidates.append([v[0] + 1, *v[1:]])
        candidates += [[1, 99], v + ["lnINT"]]
        validator = jsonschema.Draft202012Validator({**node, "definitions": schema.get("definitions", {})})
        return True, next(c for c in candidates if c != v and validator.is_valid(c))
    if "string" in types:
        return True, (v + "x") if v else "EndDate"
    raise AssertionError(f"no alternative value for {leaf.key} (schema {node})")


def set_key(config: dict, key: str, value: Any) -> dict:
    """A minimal overlay (nested dicts) that sets `key` to `value`."""
    overlay: dict = {}
    node = overlay
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return overlay


# ------------------------------------------------------------------------------------------------ expectations
def _related(declared: str, key: str) -> bool:
    return (
        declared == "" or declared == key or key.startswith(declared + ".") or declared.startswith(key + ".")
    )


def declaring_jobs(dag: JobDag, key: str, config: dict, field: str = "config") -> set[int]:
    """Jobs whose rule declares `key` (or a block holding it, or a key inside it) in the registry."""
    found = set()
    for i, node in dag.nodes.items():
        rule = registry.RULES.get(node.rule)
        if rule is None:
            continue
        wc = dict(node.wildcards)
        for declared in getattr(rule, field):
            declared = registry._REF.sub(lambda m: str(registry.lookup(config, m.group(1))), declared)
            try:
                declared = declared.format(**wc)
            except KeyError:  # a wildcard dropped from the label (inherited): the rule declares it
                declared = declared.split(".{")[0]
            if _related(declared, key):
                found.add(i)
    return found
