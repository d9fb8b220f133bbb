"""The rule table (src/intelcap/workflow/rules.yaml) as registry.py loads it: groups spliced in order, every
rule's code inputs holding the table, and every malformed table refused with the file, line, rule and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from intelcap.workflow import registry
from intelcap.workflow.registry import Rule, RuleTableError, load_table

ROOT = Path(__file__).resolve().parents[1]

# line numbers below are those of this text (line 1 = "glue: ...")
BASE = """\
glue: [__init__, errors]
always_imports:
  measures.cu: [errors]
groups:
  est: [measures.cu]
  raw: [raw_dir, synthetic_dir]
rules:
  a:
    step: workflow.steps.data:a
    modules: [group:est]
    config: [cu, "csmar.{table}", "tables.<x.y>"]
    shape: [group:raw]
  b:
    step: workflow.steps.data:b
"""
MODULES = (
    "__init__",
    "errors",
    "workflow/__init__",
    "workflow/steps/__init__",
    "workflow/steps/data",
    "measures/__init__",
    "measures/cu",
)


@pytest.fixture
def package(tmp_path: Path) -> Path:
    pkg = tmp_path / "intelcap"
    for module in MODULES:
        (pkg / f"{module}.py").parent.mkdir(parents=True, exist_ok=True)
        (pkg / f"{module}.py").write_text("", encoding="utf-8")
    return pkg


def _load(package: Path, text: str):
    path = package / "workflow" / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path, load_table(path, package)


def test_a_valid_table_gives_its_rules(package):
    _, (glue, always, shipped, rules) = _load(package, BASE.replace("[cu, ", '["", cu, '))
    assert shipped == {}
    assert glue == ("__init__", "errors")
    assert always == {"measures.cu": ("errors",)}
    assert rules == {
        "a": Rule(
            "workflow.steps.data:a",
            ("measures.cu",),
            ("", "cu", "csmar.{table}", "tables.<x.y>"),
            ("raw_dir", "synthetic_dir"),
        ),
        "b": Rule("workflow.steps.data:b"),
    }


def _replace(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


BAD = {
    "unknown top-level key": (
        BASE + "extra: 1\n",
        15,
        "the table, key 'extra': unknown key (allowed: glue, always_imports, shipped_data, groups, rules)",
    ),
    "missing top-level key": (
        _replace("glue: [__init__, errors]\n", ""),
        1,
        "the table: key 'glue' is missing",
    ),
    "top-level value of the wrong type": (
        _replace("always_imports:\n  measures.cu: [errors]\n", "always_imports: [errors]\n"),
        2,
        "the table, key 'always_imports': must be a mapping; found list ['errors']",
    ),
    "unknown rule key": (
        _replace("    shape: [group:raw]", "    shap: [group:raw]"),
        12,
        "rule 'a', key 'shap': unknown key (allowed: step, modules, config, shape)",
    ),
    "missing step": (
        _replace("  b:\n    step: workflow.steps.data:b\n", "  b: {modules: []}\n"),
        13,
        "rule 'b': key 'step' is missing",
    ),
    "malformed step": (
        _replace("step: workflow.steps.data:b", "step: steps.data:b"),
        14,
        "rule 'b', key 'step': must be workflow.steps.<stage>:<function>; found str 'steps.data:b'",
    ),
    "step module that is not a file": (
        _replace("step: workflow.steps.data:b", "step: workflow.steps.plots:b"),
        14,
        "rule 'b', key 'step': 'workflow.steps.plots' is not a module of the package (no file ",
    ),
    "unknown group": (
        _replace("modules: [group:est]", "modules: [group:estimate]"),
        10,
        "rule 'a', key 'modules': unknown group 'estimate' (the groups are est, raw): define it under `groups`",
    ),
    "rule given twice": (
        _replace("  b:\n", "  a:\n"),
        13,
        "'a' is given twice in one mapping (also at line 8); YAML would keep only the second",
    ),
    "module that is not a file": (
        _replace("modules: [group:est]", "modules: [group:est, measures.dea]"),
        10,
        "rule 'a', key 'modules': 'measures.dea' is not a module of the package (no file ",
    ),
    "module of a group that is not a file": (
        _replace("est: [measures.cu]", "est: [measures.cuu]"),
        5,
        "rule 'a', key 'modules' (from group 'est'): 'measures.cuu' is not a module of the package",
    ),
    "config key group used as modules": (
        _replace("modules: [group:est]", "modules: [group:est, group:raw]"),
        6,
        "rule 'a', key 'modules' (from group 'raw'): 'raw_dir' is not a module of the package",
    ),
    "always_imports key that is not a module": (
        _replace("  measures.cu: [errors]", "  measures.cuu: [errors]"),
        3,
        "always_imports, key 'measures.cuu': 'measures.cuu' is not a module of the package",
    ),
    "list given as a string": (
        _replace("modules: [group:est]", "modules: group:est"),
        10,
        "rule 'a', key 'modules': must be a list of names; found str 'group:est'",
    ),
    "item that is not a string": (
        _replace("config: [cu, ", "config: [3, "),
        11,
        "rule 'a', key 'config': every item must be a name (a string); found int 3",
    ),
    "item listed twice": (
        _replace("modules: [group:est]", "modules: [group:est, group:est]"),
        10,
        "rule 'a', key 'modules': 'group:est' is listed 2 times: list it once",
    ),
    "malformed config key": (
        _replace("config: [cu, ", "config: [cu predictor, "),
        11,
        "rule 'a', key 'config': 'cu predictor' is not a config key",
    ),
    "whole configuration as a shape key": (
        _replace("shape: [group:raw]", 'shape: [group:raw, ""]'),
        12,
        "rule 'a', key 'shape': '' is not a config key",
    ),
    "group that contains itself": (
        _replace("est: [measures.cu]", "est: [measures.cu, group:est]"),
        5,
        "group 'est': group 'est' contains itself (est -> est)",
    ),
    "unused group": (
        _replace("  raw: [raw_dir, synthetic_dir]\n", "  raw: [raw_dir, synthetic_dir]\n  spare: [errors]\n"),
        7,
        "group 'spare' is used by no rule: use it or remove it",
    ),
    "rule that is not a mapping": (
        _replace("  b:\n    step: workflow.steps.data:b\n", "  b: [x]\n"),
        13,
        "rule 'b': must be a mapping with the keys step, modules, config, shape; found list ['x']",
    ),
    "rule name Snakemake refuses": (
        _replace("  b:\n", "  b-c:\n"),
        13,
        "rule 'b-c': not a Snakemake rule name",
    ),
    "key that is not a string": (
        _replace("  b:\n", "  1:\n"),
        13,
        "key 1 is a int; every key of the table is a name",
    ),
    "no rules": (BASE[: BASE.index("rules:")] + "rules: {}\n", 7, "the table, key 'rules': no rule"),
    "not a mapping": (
        "[]\n",
        1,
        "the table must be a mapping with the keys glue, always_imports, shipped_data, groups, rules",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_table_names_file_line_rule_and_key(package, case):
    text, line, message = BAD[case]
    path = package / "workflow" / "rules.yaml"
    with pytest.raises(RuleTableError) as err:
        _load(package, text)
    assert str(err.value).startswith(f"{path}, line {line}: {message}"), str(err.value)


def test_yaml_syntax_error_and_missing_file(package):
    path = package / "workflow" / "rules.yaml"
    with pytest.raises(RuleTableError) as err:
        _load(package, _replace("modules: [group:est]", "modules: [group:est"))
    assert str(err.value).startswith(f"{path}: not valid YAML: while parsing a flow sequence\n"), str(
        err.value
    )
    assert f'in "{path}", line 10, column 14' in str(err.value), str(err.value)
    with pytest.raises(RuleTableError, match="the rule table cannot be read: .*nothing.yaml"):
        load_table(path.with_name("nothing.yaml"), package)


def test_shipped_table_splices_groups_in_order_counting_a_shared_module_once():
    # group:robustness = robustness, group:inference (5 modules), wild, placebo, group:estimate (whose
    # pyfixest_adapter group:inference already brought in)
    assert registry.RULES["inference_table"].modules == (
        "econometrics.robustness",
        "econometrics.inference",
        "econometrics.absorb",
        "econometrics.crv1",
        "econometrics.fastrefit",
        "econometrics.pyfixest_adapter",
        "econometrics.wild",
        "econometrics.placebo",
        "econometrics.estimate",
        "econometrics.iv_extras",
    )
    assert registry.RULES["read_table"] == Rule(
        "workflow.steps.data:read_table",
        ("ingest.readers",),
        ("csmar.{table}",),
        ("raw_dir", "synthetic_dir"),
    )
    assert registry.RULES["provenance"].config == ("",)
    assert registry.load_table() == (
        registry.GLUE,
        registry.ALWAYS_IMPORTS,
        registry.SHIPPED_DATA,
        registry.RULES,
    )


def test_every_rule_takes_the_table_as_a_code_input():
    assert registry.code_files("check", "W") == [
        f"W/src/intelcap/{f}"
        for f in (
            "__init__.py",
            "atomic.py",
            "errors.py",
            "workflow/__init__.py",
            "workflow/registry.py",
            "workflow/runner.py",
            "workflow/steps/__init__.py",
            "workflow/steps/check.py",
            "workflow/rules.yaml",
        )
    ]
    for rule in registry.RULES:
        assert registry.code_files(rule, ROOT)[-1] == str(ROOT / "src/intelcap/workflow/rules.yaml"), rule
    assert registry.TABLE == ROOT / "src/intelcap/workflow/rules.yaml"


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml")
def test_the_table_is_read_with_the_c_parser():
    assert issubclass(registry._TableLoader, yaml.CSafeLoader)


def test_shipped_data_files_are_code_inputs_of_the_rules_running_their_module(package):
    (package / "data").mkdir()
    (package / "data" / "texts.yaml").write_text("a: b\n", encoding="utf-8")
    _, (_, _, shipped, _) = _load(package, BASE + "shipped_data:\n  measures.cu: [texts.yaml]\n")
    assert shipped == {"measures.cu": ("texts.yaml",)}
    with pytest.raises(
        RuleTableError, match=r"line 16: shipped_data, key 'measures.cu': 'text.yaml' is not a file"
    ):
        _load(package, BASE + "shipped_data:\n  measures.cu: [text.yaml]\n")
    # the shipped table: a figure that draws text redraws when the texts or the font change; a table does not
    figure2 = registry.code_files("figure2", "W")
    assert {"W/src/intelcap/data/figure_text.yaml", "W/src/intelcap/data/NotoSansSC-subset.ttf"} <= set(
        figure2
    )
    assert not any("/data/" in f for f in registry.code_files("regression_table", "W"))
