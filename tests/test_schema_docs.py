"""The configuration schema documents itself: every key has a description, every enum value is explained,
and every optional key has its default in the schema (Snakemake's validate() fills it), not in the code."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from intelcap.errors import InputError
from intelcap.workflow import config as config_checks

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = ROOT / "schemas" / "config.schema.yaml"

# Paths name schema nodes the way config keys are written: `a.b.c`; `*` = any key of a named map
# (additionalProperties), `[]` = any list item, `definitions.X` = a definition.
_SCENARIO = "robustness.monte_carlo.scenarios.*"
_INHERITS = (
    "absent = the scenario keeps the synth value; a default would override synth for every "
    "scenario, and Snakemake's default filler cannot enter a null scenario"
)

# Optional keys without a default, each with the reason why its absence must stay distinguishable.
NO_DEFAULT: dict[str, str] = {
    "definitions.model.endog": "absence marks an OLS model; a variable name cannot encode 'none'",
    "definitions.model.instrument": "absence marks an OLS model (endog and instrument come together)",
    "definitions.model.column_title": "absence = no title row; filling '' into every model would change the "
    "declared config of every table rule and rerun all of them",
    "definitions.model.stage": "absence = not an IV stage; same reason as column_title",
    f"{_SCENARIO}.n_firms": _INHERITS,
    f"{_SCENARIO}.beta_lnINT": _INHERITS,
    f"{_SCENARIO}.sigma_v": _INHERITS,
    f"{_SCENARIO}.sigma_industry_shock": _INHERITS,
    f"{_SCENARIO}.endogeneity": _INHERITS,
}

_VALUE_KEYS = {"default", "enum", "const", "examples", "required", "propertyNames"}


def load_schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def schema_nodes(node: Any, path: str = "") -> Iterator[tuple[str, dict]]:
    """Every subschema with its path; $ref is not followed (definitions are walked where they are defined)."""
    if not isinstance(node, dict):
        return
    yield path, node
    for name, sub in (node.get("definitions") or {}).items():
        yield from schema_nodes(sub, _join("definitions", name) if not path else _join(path, name))
    for name, sub in (node.get("properties") or {}).items():
        yield from schema_nodes(sub, _join(path, name))
    if isinstance(node.get("additionalProperties"), dict):
        yield from schema_nodes(node["additionalProperties"], _join(path, "*"))
    if isinstance(node.get("items"), dict):
        yield from schema_nodes(node["items"], path + "[]")
    for key in ("oneOf", "anyOf", "allOf"):
        for i, sub in enumerate(node.get(key) or []):
            yield from schema_nodes(sub, f"{path}<{key}{i}>")


def keyed_nodes(schema: dict) -> Iterator[tuple[str, dict, bool]]:
    """(path, subschema, required) for every config key: properties, values of named maps, definitions."""
    for path, node in schema_nodes(schema):
        required = set(node.get("required") or [])
        for name, sub in (node.get("properties") or {}).items():
            yield _join(path, name), sub, name in required
        if isinstance(node.get("additionalProperties"), dict):
            yield _join(path, "*"), node["additionalProperties"], True
    for name, sub in (schema.get("definitions") or {}).items():
        yield _join("definitions", name), sub, True


def undocumented(schema: dict) -> list[str]:
    """Paths of keys whose description is missing or blank."""
    return [
        p
        for p, sub, _ in keyed_nodes(schema)
        if not (isinstance(sub.get("description"), str) and sub["description"].strip())
    ]


def unexplained_enum_values(schema: dict) -> list[str]:
    """`path: value` for every non-empty enum value that the key's description does not mention as a word."""
    bad = []
    for p, sub, _ in keyed_nodes(schema):
        text = str(sub.get("description", ""))
        for value in [v for v in sub.get("enum") or [] if isinstance(v, str) and v]:
            if not re.search(rf"(?<![\w]){re.escape(value)}(?![\w])", text):
                bad.append(f"{p}: {value}")
    return bad


def missing_defaults(schema: dict, allowed: dict[str, str]) -> list[str]:
    """Paths of optional properties with neither a default nor an entry in `allowed`."""
    return [
        p
        for p, sub, required in keyed_nodes(schema)
        if not required and "default" not in sub and p not in allowed
    ]


# ---- the real schema


def test_every_key_has_a_description():
    assert undocumented(load_schema()) == []


def test_every_enum_value_is_explained_in_its_description():
    assert unexplained_enum_values(load_schema()) == []


def test_every_optional_key_has_a_default_or_a_stated_reason():
    assert missing_defaults(load_schema(), NO_DEFAULT) == []


def test_listed_exceptions_are_real_optional_keys_without_default():
    found = {p: (sub, required) for p, sub, required in keyed_nodes(load_schema())}
    stale = [p for p in NO_DEFAULT if p not in found or found[p][1] or "default" in found[p][0]]
    assert stale == [], f"remove these from NO_DEFAULT (unknown, required or defaulted): {stale}"
    assert all(len(reason.split()) >= 5 for reason in NO_DEFAULT.values())


def test_every_default_is_a_valid_value_of_its_key():
    schema = load_schema()
    bad = []
    for p, sub, _ in keyed_nodes(schema):
        if "default" in sub:
            check = {**sub, "definitions": schema["definitions"]}
            errors = [e.message for e in jsonschema.Draft202012Validator(check).iter_errors(sub["default"])]
            if errors:
                bad.append(f"{p}: {errors}")
    assert bad == []


def test_defaults_equal_what_the_code_does_without_the_key():
    from intelcap.econometrics import robustness
    from intelcap.econometrics.estimate import ModelSpec
    from intelcap.measures import robots
    from intelcap.outputs.tables import TableStyle
    from intelcap.synthetic import dgp as synth

    props = load_schema()["properties"]
    model = load_schema()["definitions"]["model"]["properties"]

    def code_default(cls, name):
        f = {f.name: f for f in dataclasses.fields(cls)}[name]
        return f.default_factory() if f.default is dataclasses.MISSING else f.default

    for key, sub in props["synth"]["properties"].items():
        assert sub["default"] == code_default(synth.SynthParams, key), f"synth.{key}"
    for key in ("controls", "fe", "extra", "sample"):
        assert model[key]["default"] == code_default(ModelSpec, key), f"model.{key}"
    for key in ("column_title", "stage"):  # no schema default (NO_DEFAULT); the code's is "", a valid value
        assert code_default(ModelSpec, key) == "" and ("" in model[key].get("enum", [""]))
    for key in ("lang", "paren", "digits"):
        assert props["output"]["properties"][key]["default"] == code_default(TableStyle, key), f"output.{key}"
    alloc = inspect.signature(robots.allocate_unspecified).parameters["allocate"].default
    assert props["robots"]["properties"]["allocate_unspecified"]["default"] is alloc
    form = inspect.signature(robustness.one_step_sfa).parameters["form"].default
    assert props["robustness"]["properties"]["one_step"]["properties"]["form"]["default"] == form


def _strip_defaults(cfg: Any, node: dict, root: dict, path: str, removed: dict) -> None:
    """Delete from `cfg` every key that has a schema default, recording (path -> default)."""
    while "$ref" in node:
        node = root["definitions"][node["$ref"].rsplit("/", 1)[1]]
    if isinstance(cfg, dict):
        props = node.get("properties") or {}
        for key in list(cfg):
            sub = props.get(key)
            if sub is not None and "default" in sub:
                removed[_join(path, key)] = sub["default"]
                del cfg[key]
            elif sub is not None:
                _strip_defaults(cfg[key], sub, root, _join(path, key), removed)
            elif isinstance(node.get("additionalProperties"), dict):
                _strip_defaults(cfg[key], node["additionalProperties"], root, _join(path, key), removed)
    elif isinstance(cfg, list) and isinstance(node.get("items"), dict):
        for i, item in enumerate(cfg):
            _strip_defaults(item, node["items"], root, f"{path}[{i}]", removed)


def _get(cfg: Any, path: str) -> Any:
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        cfg = cfg[int(part[1:-1])] if part.startswith("[") else cfg[part]
    return cfg


def test_snakemake_validate_fills_every_removed_default(config):
    from snakemake.utils import validate

    removed: dict[str, Any] = {}
    stripped = copy.deepcopy(config)
    _strip_defaults(stripped, load_schema(), load_schema(), "", removed)
    # the default config sets keys at every level: top-level blocks, nested objects, list items, $ref targets
    assert {
        "paths.crosswalk",
        "csmar.FS_Combas",
        "output.lang",
        "robots.weights",
        "synth.n_firms",
        "tables.table2[0].controls",
        "robustness.one_step.form",
    } <= set(removed)
    ours = copy.deepcopy(stripped)
    validate(stripped, str(SCHEMA_PATH))
    wrong = {p: _get(stripped, p) for p, d in removed.items() if _get(stripped, p) != d}
    assert wrong == {}
    # the Snakefile's own validate (schema read once, C parser) fills the same values in the same key order
    config_checks.validate(ours, load_schema(), source="config/config.yaml")
    assert json.dumps(ours) == json.dumps(stripped)


def test_validate_names_the_key_of_a_rejected_value(config):
    bad = copy.deepcopy(config)
    bad["tables"]["table2"][1]["controls"] = "yes"
    with pytest.raises(InputError) as err:
        config_checks.validate(bad, load_schema(), source="config/config.yaml, mine.yaml")
    text = str(err.value)
    assert "'yes' is not of type 'boolean'" in text
    assert "column: tables.table2[1].controls" in text
    assert "file: config/config.yaml, mine.yaml" in text


# ---- the checks themselves find what they are meant to find

_GAPPY = {
    "definitions": {
        "thing": {"description": "a thing", "type": "object", "properties": {"x": {"type": "string"}}}
    },
    "type": "object",
    "required": ["a", "c", "d", "m"],
    "properties": {
        "a": {"description": "documented, required", "type": "integer"},
        "b": {"description": "optional, defaulted", "type": "string", "enum": ["on", "off"], "default": "on"},
        "c": {
            "type": "object",
            "properties": {"deep": {"description": "optional, no default", "type": "number"}},
        },
        "d": {
            "description": "a list",
            "type": "array",
            "items": {"type": "object", "properties": {"e": {"type": "string", "default": ""}}},
        },
        "m": {"description": "a map", "type": "object", "additionalProperties": {"type": "string"}},
    },
}


def test_checker_reports_each_gap_by_its_config_path():
    assert sorted(undocumented(_GAPPY)) == ["c", "d[].e", "definitions.thing.x", "m.*"]
    assert sorted(missing_defaults(_GAPPY, {})) == ["c.deep", "definitions.thing.x"]
    assert missing_defaults(_GAPPY, {"c.deep": "why", "definitions.thing.x": "why"}) == []
    assert unexplained_enum_values(_GAPPY) == ["b: on", "b: off"]
    explained = copy.deepcopy(_GAPPY)
    explained["properties"]["b"]["description"] = "on = enabled; off = disabled"
    assert unexplained_enum_values(explained) == []
