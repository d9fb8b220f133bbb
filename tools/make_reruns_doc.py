#!/usr/bin/env python3
"""Write docs/reruns.md: "you change X -> these jobs rerun", from the rule registry and Snakemake's own DAG.

Two sources, nothing typed by hand:

* the registry (src/intelcap/workflow/registry.py and its table, rules.yaml): the config keys each rule's step
  reads (`Rule.config`, its params.config), the keys that shape its inputs/outputs/jobs (`Rule.shape`) and the
  modules it runs (`modules_of`, its code inputs);
* the job graph Snakemake builds for `all robustness` on config/config.yaml (`snakemake -n --forceall`): every
  job with its wildcards, inputs and outputs; an edge joins the job writing a file to each job reading it (the
  rule graph of `snakemake --rulegraph` is this graph collapsed to rules: tests/test_reruns_doc.py checks it).

A config key X reruns a rule directly when X and one of the rule's keys are prefixes of one another
(`cu` and `cu.predictor` both reach a rule reading `cu.predictor`); a key with a `{wildcard}` reaches only the
jobs of that wildcard value (`csmar.FS_Combas` -> `read_table[FS_Combas]`). A file reruns the jobs that take
it as input; every such job must declare the file's key in the registry (paths.*, raw_dir), or this tool
fails.
Downstream jobs are the transitive closure over the job graph.

Usage: `python tools/make_reruns_doc.py [--out FILE]` from anywhere; writes docs/reruns.md by default.
Deterministic: the same workflow, registry and config give the same bytes.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from intelcap.workflow import registry  # noqa: E402  (this checkout's registry, not an installed copy)

TARGETS = ("all", "robustness")
SHAPE_MARK = "°"


@dataclass(frozen=True)
class Job:
    rule: str
    wildcards: tuple[tuple[str, str], ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    def label(self) -> str:
        return self.rule + (f"[{', '.join(f'{k}={v}' for k, v in self.wildcards)}]" if self.wildcards else "")


# ---- Snakemake's graph


def _snakemake(root: Path, *args: str) -> str:
    path = [str(root / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    cmd = [sys.executable, "-m", "snakemake", "--nolock", *args, "--", *TARGETS]
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        raise SystemExit(
            f"make_reruns_doc: `{' '.join(cmd[1:])}` failed in {root} (exit {proc.returncode}):\n{tail}"
        )
    return proc.stdout + "\n" + proc.stderr


_RULE_LINE = re.compile(r"^(?:local)?rule (\w+):$")
_FIELD = re.compile(r"^    (\w+): (.*)$")


def parse_dry_run(text: str) -> list[Job]:
    """The jobs of a `snakemake -n` listing: `rule NAME:`, then indented `input:`, `output:`, `wildcards:`."""
    jobs, current = [], None
    for line in text.splitlines() + [""]:
        m = _RULE_LINE.match(line)
        f = _FIELD.match(line) if current is not None else None
        if f:
            current[f.group(1)] = f.group(2)
            continue
        if current is not None:
            wildcards = tuple(tuple(w.split("=", 1)) for w in current.get("wildcards", "").split(", ") if w)
            jobs.append(
                Job(
                    current["rule"],
                    wildcards,
                    tuple(_split(current.get("input", ""))),
                    tuple(_split(current.get("output", ""))),
                )
            )
            current = None
        if m:
            current = {"rule": m.group(1)}
    if not jobs:
        raise SystemExit("make_reruns_doc: the dry run listed no jobs (Snakemake's output format changed?)")
    return jobs


def _split(field: str) -> list[str]:
    return [p for p in field.split(", ") if p]


def snakemake_jobs(root: Path = ROOT) -> list[Job]:
    """Every job of `all robustness`; target rules (no outputs: `all`, `robustness`) compute nothing."""
    return [j for j in parse_dry_run(_snakemake(root, "-n", "--forceall")) if j.outputs]


_NODE = re.compile(r'^\s*(\d+)\[label = "([^"\\]+)')
_EDGE = re.compile(r"^\s*(\d+) -> (\d+)")


def parse_rule_graph(dot: str) -> set[tuple[str, str]]:
    """Edges (upstream rule, downstream rule) of `snakemake --rulegraph` dot output."""
    names = {m.group(1): m.group(2) for m in map(_NODE.match, dot.splitlines()) if m}
    return {(names[m.group(1)], names[m.group(2)]) for m in map(_EDGE.match, dot.splitlines()) if m}


def snakemake_rule_graph(root: Path = ROOT) -> set[tuple[str, str]]:
    return parse_rule_graph(_snakemake(root, "--rulegraph"))


def job_children(jobs: list[Job]) -> dict[int, set[int]]:
    """Job i -> jobs reading a file job i writes (or a file inside a folder it writes)."""
    writer = {out: i for i, job in enumerate(jobs) for out in job.outputs}
    children: dict[int, set[int]] = defaultdict(set)
    for j, job in enumerate(jobs):
        for path in job.inputs:
            parts = Path(path).parts
            for k in range(len(parts), 0, -1):
                i = writer.get(str(Path(*parts[:k])))
                if i is not None:
                    children[i].add(j)
                    break
    return children


def rule_edges(jobs: list[Job]) -> set[tuple[str, str]]:
    children = job_children(jobs)
    return {
        (jobs[i].rule, jobs[j].rule) for i, js in children.items() for j in js if jobs[i].rule != jobs[j].rule
    }


def closure(start: set[int], children: dict[int, set[int]]) -> set[int]:
    seen, todo = set(start), list(start)
    while todo:
        for j in children.get(todo.pop(), ()):
            if j not in seen:
                seen.add(j)
                todo.append(j)
    return seen - start


# ---- config keys


def _resolve(schema: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        node = schema["definitions"][node["$ref"].split("/")[-1]]
    return node if isinstance(node, dict) else {}


def key_tree(schema: dict, node: dict, value) -> dict[str, dict]:
    """Children of a config node: the schema's properties (schema order), then keys only the config has
    (tables, scenarios, ...). Lists and scalars are leaves."""
    node = _resolve(schema, node)
    names = list(node.get("properties", {}))
    if isinstance(value, dict):
        names += [k for k in value if k not in names]
    elif not names:
        return {}
    extra = node.get("additionalProperties")
    out = {}
    for name in names:
        child = node.get("properties", {}).get(name, extra if isinstance(extra, dict) else {})
        out[name] = key_tree(schema, child, value.get(name) if isinstance(value, dict) else None)
    return out


_REF = re.compile(r"<([^<>]+)>")


def rule_keys(rule: str, config: dict, kind: str) -> list[str]:
    """A rule's declared keys (kind "config" or "shape") with `<a.b>` filled in; a key holding a reference
    also depends on the referenced key (changing it changes what the step reads)."""
    keys = []
    for key in getattr(registry.RULES[rule], kind):
        keys += _REF.findall(key) if kind == "config" else []
        keys.append(_REF.sub(lambda m: str(registry.lookup(config, m.group(1))), key))
    return keys


_WILD = re.compile(r"^\{(\w+)\}$")


def match(changed: str, declared: str) -> dict[str, str] | None:
    """None when changing `changed` cannot change `declared`; else the wildcard values it binds ({} = every
    job). Keys match when one is a prefix of the other, segment by segment; "" is the whole config."""
    a = changed.split(".") if changed else []
    b = declared.split(".") if declared else []
    bound = {}
    for x, y in zip(a, b, strict=False):  # a prefix either way
        w = _WILD.match(y)
        if w:
            bound[w.group(1)] = x
        elif x != y:
            return None
    return bound


def jobs_for_key(key: str, jobs: list[Job], config: dict) -> dict[int, str]:
    """Job index -> "config" (its params.config changes) or "shape" (its inputs, outputs or jobs may change).

    A key naming one wildcard value of a rule's config key (`robustness.spec_curve.winsor.p1_99`) addresses
    that value's jobs only: the rule's other jobs are not reached through a shape key either (the shape key
    `robustness.spec_curve.winsor` decides which jobs exist, by name; one entry's value is not a name)."""
    hit: dict[int, str] = {}
    for i, job in enumerate(jobs):
        wc = dict(job.wildcards)
        bindings = [b for d in rule_keys(job.rule, config, "config") if (b := match(key, d)) is not None]
        if any(all(wc.get(k) == v for k, v in b.items()) for b in bindings):
            hit[i] = "config"
            continue
        if any(b for b in bindings):  # the key addresses other wildcard values of this rule
            continue
        if any(match(key, d) is not None for d in rule_keys(job.rule, config, "shape")):
            hit[i] = "shape"
    return hit


def split_direct(hit: dict[int, str], children: dict[int, set[int]]) -> tuple[dict[int, str], set[int]]:
    """(direct, downstream): a job only shaped by the key that also follows from a job reading it is listed
    downstream, where it reruns anyway."""
    read = {i for i, kind in hit.items() if kind == "config"}
    after = closure(read, children)
    direct = {i: kind for i, kind in hit.items() if kind == "config" or i not in after}
    return direct, closure(set(direct), children)


# ---- files


def file_jobs(path: str, jobs: list[Job]) -> set[int]:
    """Jobs taking `path` as input, or a folder holding it."""
    p = Path(path)
    return {i for i, job in enumerate(jobs) for inp in job.inputs if p == Path(inp) or Path(inp) in p.parents}


def check_declared(path: str, key_options: list[str], hits: set[int], jobs: list[Job], config: dict) -> None:
    """Every job reading a file must declare (config or shape) one of the keys that name it."""
    for i in sorted(hits):
        rule = jobs[i].rule
        declared = rule_keys(rule, config, "config") + rule_keys(rule, config, "shape")
        if not any(match(k, d) is not None for k in key_options for d in declared):
            raise SystemExit(
                f"make_reruns_doc: rule {rule} takes {path} as input, but "
                f"registry.RULES['{rule}'] declares none of {key_options}: add "
                f"`{key_options[0]}` to its shape in src/intelcap/workflow/rules.yaml"
            )


# ---- rendering


def _natural(value: str):
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", value) if t]


def describe(
    hits: set[int],
    jobs: list[Job],
    order: list[str],
    kinds: dict[int, str] | None = None,
    each: dict[str, str] | None = None,
) -> str:
    """`rule` when all its jobs are hit, `rule[a, b]` / `rule[w=a, b]` when only those of some wildcard
    values are, `rule[w=..., v=...]` per job otherwise; ° when only shaped (not read) by the key. `each`
    replaces a rule's job list by a phrase ("the report's shard")."""
    if not hits:
        return "—"
    if len(hits) == len(jobs):
        return "every job"
    by_rule: dict[str, set[int]] = defaultdict(set)
    for i in hits:
        by_rule[jobs[i].rule].add(i)
    parts, n = [], 0
    for rule in order:
        if rule not in by_rule:
            continue
        sel, all_ = by_rule[rule], {i for i, j in enumerate(jobs) if j.rule == rule}
        if each and rule in each:
            text = f"{rule}[{each[rule]}]"
        elif sel == all_:
            text = rule
        else:
            text = _subset(rule, sel, all_, jobs)
        if kinds is not None and all(kinds[i] == "shape" for i in sel):
            text += SHAPE_MARK
        parts.append(f"`{text}`")
        n += 1 if each and rule in each else len(sel)
    return ", ".join(parts) + f" ({n} job{'s' if n > 1 else ''})"


def _subset(rule: str, sel: set[int], all_: set[int], jobs: list[Job]) -> str:
    names = [k for k, _ in jobs[next(iter(all_))].wildcards]
    for name in names:
        values = {dict(jobs[i].wildcards)[name] for i in sel}
        if sel == {i for i in all_ if dict(jobs[i].wildcards)[name] in values}:
            vals = ", ".join(sorted(values, key=_natural))
            return f"{rule}[{vals}]" if len(names) == 1 else f"{rule}[{name}={vals}]"
    return ", ".join(sorted((jobs[i].label() for i in sel), key=_natural))


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


INTRO = """\
# What reruns when you change something

Generated by `python tools/make_reruns_doc.py` from the rule registry (`src/intelcap/workflow/registry.py`)
and the job graph Snakemake builds for `snakemake all robustness` on `config/config.yaml`; do not edit by
hand (`tests/test_reruns_doc.py` fails when this file and the generator disagree).

## How the contract works

Snakemake reruns a job when its code, its parameters or its inputs change (and runs any job whose outputs are
missing); the workflow makes each of these say exactly what the job depends on:

* **Configuration** (`params.config`): every job carries the config keys its step reads, as sorted JSON, and
  nothing else (the step sees only those keys; reading any other raises). Changing a key reruns the jobs that
  read it; reordering YAML keys or editing comments reruns only `provenance` (it fingerprints the file). A
  key with a wildcard (`csmar.{table}`, `tables.{table}`, `robustness.monte_carlo.scenarios.{scenario}`)
  reruns only the jobs of that value.
* **Code inputs**: every job takes as inputs the files of the package modules it runs (its step, the method
  modules, and the glue every job runs: runner, registry, atomic writers, errors, the package `__init__`s).
  Editing a module reruns exactly the jobs that run it.
* **Files you provide**: raw CSMAR and IFR files and the mapping files under `config/` (`paths.*`) are inputs
  of the jobs reading them, with a fingerprint of their size and modification time in nanoseconds in
  `params.sources`, so a file replaced by different content reruns its readers even when the copy is older
  (`cp -p`, `rsync -t`, unzip). Annual reports are fingerprinted per shard (a shard holds every file of its
  firm-years): adding, removing or replacing one report reruns the extraction of its shard only.
* **Downstream**: a rerun job rewrites its outputs, so every job reading them reruns after it (second column).
* **Presentation** keys (`output.*`) and the labels file (`paths.labels`, `config/labels.yaml`) are read only
  by rendering jobs (md/tex/docx, figures) and by `provenance`: estimates are never recomputed for them.
* `provenance` hashes the whole resolved configuration and every input file, so it reruns for every change.

Check any change before running it: `snakemake -n` (dry run; `snakemake -n robustness` for the robustness
stage) lists the jobs that would run, each with its `reason:` (changed params, code or input files, updated
input, missing output); `snakemake --list-changes params` (or `code`, `input`) lists the results made with
different parameters, code or inputs than the current ones.

## Reading the tables

* `rule` — every job of the rule reruns; `rule[a, b]` — only the jobs of those wildcard values
  (`rule[w=a]` for a rule with several wildcards); "every job" — the whole workflow.
* `rule`{mark} — the key does not reach the rule's step but decides its inputs, outputs or number of jobs
  (`Rule.shape`): Snakemake reruns the jobs whose inputs or parameters changed and runs the new ones (raising
  `robustness.placebo.reps` adds shards and reruns only the aggregator); check with `snakemake -n`.
* The graph is that of the default configuration ({n_jobs} jobs, synthetic data: `raw_dir` empty). With
  your own data (`raw_dir` set), the rules writing the synthetic data are absent:
  {synth_rules}.
  A key they read then reruns only its other readers and what follows from those, and the text rules
  exist only when `raw_dir/reports/` does. Everything else holds as listed.
"""


def config_rows(jobs: list[Job], config: dict, schema: dict) -> list[tuple[str, dict[int, str]]]:
    """Every top-level key; below it, the children of a key whenever they do not all rerun the same jobs."""
    rows: list[tuple[str, dict[int, str]]] = []

    def walk(prefix: str, tree: dict, own: dict[int, str]) -> None:
        kids = [(f"{prefix}.{name}", sub) for name, sub in tree.items()]
        hits = [jobs_for_key(k, jobs, config) for k, _ in kids]
        if all(h == own for h in hits):
            return
        for (k, sub), h in zip(kids, hits, strict=True):
            rows.append((k, h))
            walk(k, sub, h)

    for name, sub in key_tree(schema, schema, config).items():
        own = jobs_for_key(name, jobs, config)
        rows.append((name, own))
        walk(name, sub, own)
    return rows


PRESENTATION, PRESENTATION_FILE, RENDER_STEPS = "output", "paths.labels", "workflow.steps.render"


def check_presentation(what: str, hits: set[int], jobs: list[Job]) -> None:
    """The document promises that presentation settings rerun renderings only (and provenance, which reads the
    whole configuration): fail, naming the rule, when the registry or the rules break that promise."""
    for rule in sorted({jobs[i].rule for i in hits}):
        r = registry.RULES[rule]
        if r.step_module != RENDER_STEPS and "" not in r.config:
            raise SystemExit(
                f"make_reruns_doc: changing {what} reruns {rule} ({r.step}), not a rendering "
                "step: presentation settings must rerun renderings only (docs/reruns.md); "
                "move the read into a rendering rule or fix its entry in "
                "src/intelcap/workflow/rules.yaml"
            )


def render(jobs: list[Job], config: dict, schema: dict, root: Path = ROOT) -> str:
    order = sorted({j.rule for j in jobs})
    unknown = sorted({j.rule for j in jobs} - set(registry.RULES))
    if unknown:
        raise SystemExit(
            f"make_reruns_doc: rules {unknown} are in the workflow but not in registry.RULES "
            "(src/intelcap/workflow/rules.yaml): add them"
        )
    children = job_children(jobs)
    synthetic = Path(config["synthetic_dir"])
    writers = sorted({j.rule for j in jobs if any(synthetic in Path(o).parents for o in j.outputs)})
    intro = INTRO.replace("{mark}", SHAPE_MARK).replace("{n_jobs}", str(len(jobs)))
    lines = [intro.replace("{synth_rules}", ", ".join(f"`{r}`" for r in writers) or "none")]

    def table(title: str, head: str, rows: list[tuple[str, str, str]], note: str = "") -> None:
        lines.append(f"## {title}\n")
        if note:
            lines.append(note + "\n")
        lines.append(f"| {head} | Reruns directly | Then reruns (downstream) |")
        lines.append("|---|---|---|")
        lines.extend(f"| {a} | {_cell(b)} | {_cell(c)} |" for a, b, c in rows)
        lines.append("")

    rows = []
    for key, hit in config_rows(jobs, config, schema):
        direct, down = split_direct(hit, children)
        if key.split(".")[0] == PRESENTATION:
            check_presentation(f"config key {key}", set(direct) | down, jobs)
        rows.append((f"`{key}`", describe(set(direct), jobs, order, direct), describe(down, jobs, order)))
    table(
        "Configuration keys (config/config.yaml)",
        "You change",
        rows,
        "Keys from `schemas/config.schema.yaml` and `config/config.yaml`; a block's keys are listed when\n"
        "they do not all rerun the same jobs.",
    )

    rows = []
    paths = config.get("paths", {})
    named = {str(Path(v)): k for k, v in paths.items()}
    config_files = sorted(
        {
            *named,
            *(str(p.relative_to(root)) for p in (root / "config").iterdir() if p.suffix in (".yaml", ".csv")),
        }
    )
    for path in config_files:
        hits = file_jobs(path, jobs)
        if path in named:
            check_declared(path, [f"paths.{named[path]}"], hits, jobs, config)
            if f"paths.{named[path]}" == PRESENTATION_FILE:
                check_presentation(path, hits | closure(hits, children), jobs)
            what = f"`{path}` (`paths.{named[path]}`)"
        else:
            what = f"`{path}` (its keys: see above)"
        rows.append((what, describe(hits, jobs, order), describe(closure(hits, children), jobs, order)))
    table("Configuration files", "You edit", rows)

    rows = []
    raw = Path(config["raw_dir"] or config["synthetic_dir"])
    raw_keys = ["raw_dir", "synthetic_dir"]

    def raw_file_row(what: str, path: str) -> tuple[str, str, str]:
        hits = file_jobs(path, jobs)
        check_declared(path, raw_keys, hits, jobs, config)
        return what, describe(hits, jobs, order), describe(closure(hits, children), jobs, order)

    for table_name, spec in config["csmar"].items():
        name = spec["file"][0] if isinstance(spec["file"], list) else spec["file"]
        what = f"CSMAR table `{table_name}` (`raw_dir/csmar/{name}`)"
        rows.append(raw_file_row(what, str(raw / "csmar" / name)))
    for key, rel in config["ifr"].items():
        if key.endswith("_file"):  # the others are code lists, not files
            rows.append(raw_file_row(f"IFR file `ifr.{key}` (`raw_dir/{rel}`)", str(raw / rel)))
    report = str(raw / "reports" / "<one report>")
    hits = file_jobs(report, jobs)
    check_declared(report, raw_keys, hits, jobs, config)
    # a wildcard rule reading the report folder runs one job per shard, each fingerprinted on its own files
    # (rules/common.smk): one report reruns one of them (`rep`) and what follows from that job only
    each = {jobs[i].rule: "the report's shard" for i in hits if jobs[i].wildcards}
    shard_jobs = sorted(i for i in hits if jobs[i].rule in each)
    start = {i for i in hits if jobs[i].rule not in each} | set(shard_jobs[:1])
    down = closure(start, children)
    rep = set(jobs[shard_jobs[0]].wildcards) if shard_jobs else set()
    partial = {
        jobs[i].rule
        for i in down
        if rep
        and rep <= set(jobs[i].wildcards)
        and len({k for k in down if jobs[k].rule == jobs[i].rule}) < sum(j.rule == jobs[i].rule for j in jobs)
    }
    rows.append(
        (
            "one annual report in `raw_dir/reports/`",
            describe(hits, jobs, order, each=each),
            describe(down, jobs, order, each={r: "the report's shard" for r in partial}),
        )
    )
    table(
        "Raw data (your `raw_dir`)",
        "You replace",
        rows,
        "Synthetic data (`raw_dir` empty) are outputs of the workflow: a changed generator or `synth.*`\n"
        "key reruns them and their readers, as listed above.",
    )

    rows = []
    pkg = root / "src" / "intelcap"
    for file in sorted(pkg.rglob("*.py"), key=lambda p: p.relative_to(pkg).parts):
        module = ".".join(file.relative_to(pkg).with_suffix("").parts)
        rules = {r for r in registry.RULES if module in registry.modules_of(r)}
        hits = {i for i, j in enumerate(jobs) if j.rule in rules}
        down = (
            describe(closure(hits, children), jobs, order)
            if hits
            else "— (run by no job: DAG-time or tooling)"
        )
        rows.append((f"`{file.relative_to(root)}`", describe(hits, jobs, order), down))
    table("Package modules (src/intelcap)", "You edit", rows)
    return "\n".join(lines).rstrip("\n") + "\n"


def build(root: Path = ROOT) -> str:
    config = yaml.safe_load((root / "config" / "config.yaml").read_text(encoding="utf-8"))
    schema = yaml.safe_load((root / "schemas" / "config.schema.yaml").read_text(encoding="utf-8"))
    return render(snakemake_jobs(root), config, schema, root)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "reruns.md")
    args = ap.parse_args(argv)
    text = build()
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
