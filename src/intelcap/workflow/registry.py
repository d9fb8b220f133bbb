"""The rule registry: for every rule of the workflow, the step function it runs, the package modules that step
runs and the configuration keys it reads.

This table is the one source of three things that must agree for `snakemake -n` to tell the truth:

* `code` inputs (`code_files`): the files of the modules a rule runs, always with the glue (runner, registry,
  atomic writers, errors, the step module), so that editing any code a job executes reruns exactly that job;
* `params.config` (`declared_config`): the configuration blocks a step reads, as canonical JSON, so that a
  config change reruns exactly the rules that read the key; the job sees nothing else (`runner.ConfigView`
  raises on any other key);
* `docs/reruns.md` ("you change X -> these jobs rerun"), generated from it by `tools/make_reruns_doc.py`.

Tests check the table against reality: every job logs the intelcap modules it imported (must equal
`modules` + glue), and a schema-wide test changes every config key and dry-runs the workflow.

Standard library only: the Snakefile imports this module while Snakemake builds the DAG.

Key templates: `{name}` is a wildcard of the job (`csmar.{table}`), `<a.b>` the configured value at `a.b`
(`tables.<robustness.inference.baseline.table>`). `shape` lists keys that decide a rule's inputs, outputs or
number of jobs in `rules/*.smk` without being read by its step (a changed input path or a new shard reruns
those jobs through Snakemake's own input and missing-output triggers).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parents[1]  # src/intelcap of the checkout that holds this file

# Run by every job, whatever its step: a change here reruns everything.
GLUE = (
    "__init__",
    "errors",
    "atomic",
    "workflow.__init__",
    "workflow.runner",
    "workflow.registry",
    "workflow.steps.__init__",
)


@dataclass(frozen=True)
class Rule:
    step: str  # "workflow.steps.<stage>:<function>"
    modules: tuple[str, ...] = ()  # method modules the step runs (its import closure), glue excluded
    config: tuple[str, ...] = ()  # config keys its step reads (the job sees these and nothing else)
    shape: tuple[str, ...] = ()  # config keys that shape the rule's inputs/outputs/jobs in rules/*.smk

    @property
    def step_module(self) -> str:
        return self.step.split(":")[0]


# the robustness module runs the whole inference stack (absorb -> crv1 -> fastrefit -> inference, wild, placebo)
_INF = (
    "econometrics.inference",
    "econometrics.absorb",
    "econometrics.crv1",
    "econometrics.fastrefit",
    "econometrics.pyfixest_adapter",
)
# estimate always loads its IV `_cons` helper and the pyfixest adapter (both light; pyfixest loads on use)
_EST = ("econometrics.estimate", "econometrics.iv_extras", "econometrics.pyfixest_adapter")
_ROB = (
    "econometrics.robustness",
    *_INF,
    "econometrics.wild",
    "econometrics.placebo",
    *_EST,
)
_RAW = ("raw_dir", "synthetic_dir")
# an OLS regression table (Tables 2, 3, 5 and the Table 8 variants): estimate with its absorbed FE, on the panel
_REGRESSION = (*_EST, "econometrics.absorb", "ingest.panel")
# every text step: the keyword dictionary loader and the report inventory (resources: the shipped dictionary)
_TEXT = ("measures.text", "measures.text_inventory", "resources")
_EXPANSION = (*_TEXT, "measures.keyword_expansion")
# every figure: the figure module and the bundled CJK font (resources finds it)
_FIGURE = ("outputs.figures", "outputs.fonts", "resources")
# the table renderers (md, tex, docx) and the labels they print
_RENDER = ("outputs.tables", "outputs.grid", "outputs.latex", "outputs.word", "outputs.labels", "resources")
# the ledger evaluator reads star levels from outputs.tables, which imports the renderers
_CLAIMS = ("outputs.claims", *_RENDER)

RULES: dict[str, Rule] = {
    # ---- data (rules/data.smk)
    "synthesize": Rule(
        "workflow.steps.data:synthesize",
        ("synthetic.dgp", "ingest.readers", "owned_dir"),
        ("synth", "seed", "csmar", "ifr"),
        shape=("synthetic_dir", "paths.crosswalk"),
    ),
    "synthesize_reports": Rule(
        "workflow.steps.data:synthesize_reports",
        (
            "synthetic.dgp",
            "synthetic.reports",
            "synthetic.keyword_contexts",
            "outputs.fonts",
            *_TEXT,
            "ingest.readers",
            "owned_dir",
        ),
        ("synth", "seed"),
        shape=("synthetic_dir", "paths.crosswalk"),
    ),
    "read_table": Rule("workflow.steps.data:read_table", ("ingest.readers",), ("csmar.{table}",), shape=_RAW),
    "read_ifr": Rule("workflow.steps.data:read_ifr", ("ingest.readers",), ("ifr",), shape=_RAW),
    # ---- panel (rules/panel.smk)
    "build_panel": Rule(
        "workflow.steps.panel:build_panel",
        ("ingest.panel", "ingest.readers"),
        ("sample",),
        shape=(*_RAW, "csmar", "paths.crosswalk", "paths.regions"),
    ),
    "firm_attributes": Rule(
        "workflow.steps.panel:firm_attributes",
        ("measures.attributes", "ingest.readers"),
        (),
        shape=("paths.factor_intensity",),
    ),
    "winsorize": Rule("workflow.steps.panel:winsorize", ("ingest.panel",), ("winsor",)),
    "analysis_panel": Rule("workflow.steps.panel:analysis_panel", ("ingest.panel",), ()),
    # ---- measures (rules/measures.smk)
    "capacity_utilization": Rule("workflow.steps.measures:capacity_utilization", ("measures.cu",), ("cu",)),
    "robot_exposure": Rule("workflow.steps.measures:robot_exposure", ("measures.robots",), ("robots",)),
    "dea_efficiency": Rule("workflow.steps.measures:dea_efficiency", ("measures.dea",), ("dea",)),
    "text_extract": Rule(
        "workflow.steps.measures:text_extract",
        _TEXT,
        ("text.name_pattern", "text.min_chars_per_page"),
        shape=(*_RAW, "text.shards"),
    ),
    "text_count": Rule(
        "workflow.steps.measures:text_count",
        _EXPANSION,
        ("text.dictionary", "text.variants.dictionaries"),
        shape=("text.shards", "paths.keywords", "paths.keyword_seeds", "paths.keyword_curation"),
    ),
    "text_segment": Rule(
        "workflow.steps.measures:text_segment",
        _EXPANSION,
        ("expansion.corpus", "expansion.segmenter"),
        shape=("text.shards", "paths.keywords"),
    ),
    "keyword_vectors": Rule(
        "workflow.steps.measures:keyword_vectors",
        _EXPANSION,
        tuple(
            f"expansion.{k}"
            for k in ("vector_size", "window", "min_count", "epochs", "sg", "negative", "sample", "seed")
        )
        + ("expansion.phrases_min_count", "expansion.phrases_threshold"),
        shape=("text.shards", "paths.keywords"),
    ),
    "keyword_expansion": Rule(
        "workflow.steps.measures:keyword_expansion",
        _EXPANSION,
        (),
        shape=("paths.keywords", "paths.keyword_seeds", "paths.keyword_curation"),
    ),
    "text_variants": Rule(
        "workflow.steps.measures:text_variants",
        (*_EXPANSION, "measures.text_audit"),
        ("text.variants", "text.dictionary"),
        shape=("text.shards", "paths.keywords", "paths.keyword_seeds", "paths.keyword_curation"),
    ),
    "text_audit": Rule(
        "workflow.steps.measures:text_audit",
        (*_EXPANSION, "measures.text_audit"),
        ("text.dictionary",),
        shape=("paths.keywords", "paths.keyword_seeds", "paths.keyword_curation"),
    ),
    "text_index": Rule(
        "workflow.steps.measures:text_index",
        _TEXT,
        (),
        shape=("text.shards",),
    ),
    "text_coverage": Rule(
        "workflow.steps.measures:text_coverage",
        _TEXT,
        (),
        shape=("text.shards",),
    ),
    # ---- tables (rules/tables.smk): estimation writes the full-precision CSV; rendering is its own job
    "table1": Rule("workflow.steps.tables:table1", (*_EST, "ingest.panel"), ()),
    "regression_table": Rule(
        "workflow.steps.tables:regression_table",
        _REGRESSION,
        ("tables.{table}", "controls", "cluster"),
    ),
    "table4": Rule(
        "workflow.steps.tables:iv_table",
        (*_EST, *_INF, "ingest.panel"),
        ("tables.table4", "controls", "cluster", "heterogeneity.ar_level"),
    ),
    "table6": Rule(
        "workflow.steps.tables:heterogeneity_table",
        (*_EST, "econometrics.placebo", *_INF, "ingest.panel"),
        (
            "tables.table6",
            "controls",
            "cluster",
            "heterogeneity.pairs",
            "heterogeneity.permutation_reps",
            "seed",
        ),
    ),
    "table8_variants": Rule(
        "workflow.steps.tables:table8_variants",
        _REGRESSION,
        ("tables.table8", "controls", "cluster"),
    ),
    "table7": Rule(
        "workflow.steps.tables:keyword_table",
        _EXPANSION,
        ("text.dictionary",),
        shape=("paths.keywords", "paths.keyword_seeds", "paths.keyword_curation"),
    ),
    "render_table": Rule(
        "workflow.steps.render:render_table",
        (*_RENDER, "outputs.html"),
        ("output", "controls"),  # controls: the terms the paper layout summarises as a 控制变量 row
        shape=("paths.labels",),
    ),
    "render_frame": Rule(
        "workflow.steps.render:render_frame",
        _RENDER,
        ("output",),
        shape=("paths.labels",),
    ),
    "coefplot": Rule(
        "workflow.steps.render:coefplot",
        (*_FIGURE, "distributions", "outputs.labels"),  # distributions: t critical values of the intervals
        ("output.lang",),
        shape=("paths.labels",),
    ),
    # ---- figures and comparison (rules/figures.smk)
    "rulegraph": Rule("workflow.steps.figures:rulegraph", (), ("raw_dir", "synth.reports")),
    "rulegraph_figure": Rule(
        "workflow.steps.render:rulegraph_figure",
        ("outputs.rulegraph", *_FIGURE),
        ("output.lang",),
    ),
    "figure1": Rule(
        "workflow.steps.render:figure1",
        ("outputs.framework", *_FIGURE, *_RENDER),
        ("output.lang",),
        shape=("paths.framework",),
    ),
    "figure2": Rule(
        "workflow.steps.render:figure2",
        _FIGURE,
        ("output.lang",),
        shape=("paths.ifr_global",),
    ),
    "tables_pdf": Rule(
        "workflow.steps.render:tables_pdf",
        ("outputs.latex", "outputs.grid", "outputs.pdf"),
        ("output.lang",),
    ),
    "render_text_audit": Rule(
        "workflow.steps.render:render_text_audit",
        (*_FIGURE, *_RENDER),
        ("output.lang",),
        shape=("paths.labels",),
    ),
    "paper_vs_replication": Rule(
        "workflow.steps.render:paper_vs_replication",
        ("outputs.compare", *_CLAIMS),
        ("output",),  # its Markdown, as render_frame writes the other frames
        shape=(*_RAW, "paths.paper_claims", "paths.labels"),
    ),
    "claims": Rule(
        "workflow.steps.figures:claims",
        _CLAIMS,
        (),
        shape=(*_RAW, "paths.paper_claims", "paths.ifr_global", "synth.reports"),
    ),
    # ---- robustness (rules/robustness.smk): never depends on presentation settings
    "inference_table": Rule(
        "workflow.steps.robustness:inference_table",
        _ROB,
        (
            "robustness.inference",
            "tables.<robustness.inference.baseline.table>",
            "tables.<robustness.inference.iv.table>",
            "controls",
            "cluster",
            "seed",
        ),
    ),
    "mc_shard": Rule(
        "workflow.steps.robustness:mc_shard",
        (
            *_ROB,
            "synthetic.dgp",
            "ingest.readers",
            "ingest.panel",
            "measures.robots",
            "measures.cu",
            "owned_dir",
        ),
        (
            "seed",
            "robustness.monte_carlo.shard_size",
            "robustness.monte_carlo.scenarios.{scenario}",
            "robustness.monte_carlo.bootstrap_reps",
            "robustness.monte_carlo.level",
            "synth",
            "cu",
            "winsor",
            "robots",
            "sample",
            "csmar",
            "controls",
            "cluster",
        ),
        shape=(
            "paths.crosswalk",
            "paths.regions",
            "robustness.monte_carlo.reps",
            "robustness.monte_carlo.scenarios",
        ),
    ),
    "mc_coverage": Rule(
        "workflow.steps.robustness:mc_coverage",
        _ROB,
        ("robustness.monte_carlo.reps",),
        shape=("robustness.monte_carlo.shard_size", "robustness.monte_carlo.scenarios"),
    ),
    "placebo_shard": Rule(
        "workflow.steps.robustness:placebo_shard",
        _ROB,
        (
            "seed",
            "robustness.placebo.shard_size",
            "robustness.inference.baseline",
            "robustness.inference.industry",
            "tables.<robustness.inference.baseline.table>",
            "controls",
            "cluster",
        ),
        shape=("robustness.placebo.reps", "robustness.placebo.modes"),
    ),
    "placebo": Rule(
        "workflow.steps.robustness:placebo",
        _ROB,
        ("robustness.placebo.reps",),
        shape=("robustness.placebo.shard_size", "robustness.placebo.modes"),
    ),
    "cu_variant": Rule(
        "workflow.steps.robustness:cu_variant",
        ("measures.cu",),
        ("cu.predictor", "cu.on_wrong_skew"),
        shape=("robustness.spec_curve.cu",),
    ),
    "spec_curve_shard": Rule(
        "workflow.steps.robustness:spec_curve_shard",
        (*_ROB, "ingest.panel"),
        (
            "robustness.spec_curve.winsor.{winsor}",
            "robustness.spec_curve.controls",
            "robustness.spec_curve.fe",
            "robustness.spec_curve.samples",
            "robustness.spec_curve.level",
            "winsor.vars",
            "winsor.by_year",
            "controls",
            "cluster",
        ),
        shape=("robustness.spec_curve.cu", "robustness.spec_curve.winsor"),
    ),
    "spec_curve": Rule(
        "workflow.steps.robustness:spec_curve",
        (),
        (),
        shape=("robustness.spec_curve.cu", "robustness.spec_curve.winsor"),
    ),
    "one_step_sfa": Rule(
        "workflow.steps.robustness:one_step_sfa",
        (*_ROB, "measures.cu"),
        ("robustness.one_step", "robustness.inference.baseline", "controls"),
    ),
    "coverage_figure": Rule(
        "workflow.steps.render:coverage_figure",
        _FIGURE,
        (
            "output.lang",
            "robustness.monte_carlo.level",
            "robustness.monte_carlo.figure_estimator",
            "robustness.monte_carlo.figure_target",
        ),
    ),
    "placebo_figure": Rule(
        "workflow.steps.render:placebo_figure",
        _FIGURE,
        ("output.lang",),
        shape=("robustness.placebo.modes",),
    ),
    "spec_curve_figure": Rule(
        "workflow.steps.render:spec_curve_figure",
        _FIGURE,  # the spec curve's CSV carries its intervals: no t critical values
        ("output.lang",),
    ),
    # ---- data check (rules/check.smk): not part of the default target; `snakemake check`
    "check_data": Rule(
        "workflow.steps.check:check_data",
        ("ingest.check", "ingest.readers", "measures.text_inventory"),
        ("csmar", "ifr", "sample.first_year", "sample.last_year"),
        shape=(*_RAW, "text.shards"),
    ),
    "check": Rule("workflow.steps.check:check", ()),
    # ---- Stata parity (rules/provenance.smk)
    "stata_export": Rule(
        "workflow.steps.stata:stata_export",
        ("outputs.stata", "outputs.labels", "resources"),
        (),
        shape=("paths.labels",),
    ),
    "stata_dofile": Rule(
        "workflow.steps.stata:stata_dofile", ("outputs.stata",), ("tables", "controls", "cluster", "winsor")
    ),
    # ---- provenance (rules/provenance.smk): hashes the whole resolved configuration
    "provenance": Rule(
        "workflow.steps.provenance:provenance",
        ("workflow.manifest",),
        ("",),
        shape=(*_RAW, "csmar", "ifr", "paths"),
    ),
}


def module_file(module: str, package: Path = PACKAGE) -> Path:
    """`workflow.runner` -> <package>/workflow/runner.py; `workflow.__init__` -> <package>/workflow/__init__.py."""
    return package.joinpath(*module.split(".")).with_suffix(".py")


# Core modules that a method module imports at its top, so that every rule running it runs them too.
ALWAYS_IMPORTS: dict[str, tuple[str, ...]] = {
    "econometrics.estimate": ("columns",),
    "econometrics.crv1": ("distributions",),
    "econometrics.inference": ("distributions", "econometrics.placebo"),  # its permutation p-value rule
    "econometrics.robustness": ("distributions",),
    "outputs.figures": ("columns",),
    # the one YAML reader (C parser when PyYAML has it)
    "outputs.labels": ("yamlfile",),
    "outputs.claims": ("yamlfile",),
    "outputs.framework": ("yamlfile",),
    "measures.text": ("yamlfile",),
    "measures.keyword_expansion": ("yamlfile",),
}


def modules_of(rule: str) -> list[str]:
    """Every intelcap module a rule's job runs: glue, its step module, its method modules and what those
    always import (sorted)."""
    r = RULES[rule]
    modules = {*GLUE, r.step_module, *r.modules}
    modules |= {m for listed in list(modules) for m in ALWAYS_IMPORTS.get(listed, ())}
    packages = {f"{m.rsplit('.', 1)[0]}.__init__" for m in modules if "." in m and not m.endswith("__init__")}
    return sorted(modules | packages)


def code_files(rule: str, root: str | os.PathLike = "") -> list[str]:
    """The `code` inputs of a rule: relative to the workflow folder (`root`, the Snakefile's folder)."""
    base = Path(root) / "src" / "intelcap"
    return [str(module_file(m, base)) for m in modules_of(rule)]


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
