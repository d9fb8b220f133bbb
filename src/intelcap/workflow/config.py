"""Friendly configuration checks, then the schema's own validation with its defaults filled in.

`validate(config, schema=...)` with `additionalProperties: false` rejects a typo with a jsonschema message
("Additional properties are not allowed ('seeed' was unexpected)") buried in a long dump of the schema.
`check_config` walks the same schema and says, for each unknown key, where it is and which known key is
closest ("config key 'winsor.cut' is unknown: did you mean 'winsor.cuts'?"). It only reads the schema's
`properties`, `additionalProperties`, `$ref` and `items`; types, enums and ranges stay with `validate()`.
`check_values` then names the key of what `validate()` would report without one, or not at all: an empty
model list (`tables.table2: []`, any list under its `minItems`) and impossible year ranges (first after last;
on synthetic data, a sample outside the generated years), so a config choice is never blamed on a data file,
and references to a model of `tables` that is not there (`robustness.inference.baseline`).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from intelcap import yamlfile
from intelcap.errors import InputError, clip
from intelcap.resources import shipped

DEFAULT_SCHEMA = shipped("config.schema.yaml")


def load_schema(path: str | Path | None = None) -> dict:
    path = Path(path) if path is not None else DEFAULT_SCHEMA
    with open(path, encoding="utf-8") as fh:
        return yamlfile.safe_load(fh)


def _resolve(node: dict, root: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return {}
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node = target
    return node if isinstance(node, dict) else {}


def unknown_keys(
    config: Any, schema: dict, root: dict | None = None, where: str = ""
) -> list[tuple[str, list[str]]]:
    """Every key the schema does not allow, as (dotted path, known keys at that level)."""
    root = root if root is not None else schema
    node = _resolve(schema, root)
    found: list[tuple[str, list[str]]] = []
    if isinstance(config, dict):
        props = node.get("properties", {}) or {}
        extra = node.get("additionalProperties", True)
        for key, value in config.items():
            path = f"{where}.{key}" if where else str(key)
            if key in props:
                found += unknown_keys(value, props[key], root, path)
            elif extra is False:
                found.append((path, sorted(props)))
            elif isinstance(extra, dict):
                found += unknown_keys(value, extra, root, path)
    elif isinstance(config, list) and isinstance(node.get("items"), dict):
        for i, item in enumerate(config):
            found += unknown_keys(item, node["items"], root, f"{where}[{i}]")
    return found


def suggest(key: str, known: list[str]) -> str | None:
    """The closest known key (difflib), case-insensitive first."""
    lower = {k.lower(): k for k in known}
    if key.lower() in lower:
        return lower[key.lower()]
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(key.lower(), list(lower), n=1, cutoff=0.6)
        close = [lower[c] for c in close]
    return close[0] if close else None


def check_config(
    config: dict, schema: dict | str | Path | None = None, source: str = "config/config.yaml"
) -> None:
    """Raise `InputError` listing every unknown config key with the closest known key as suggestion."""
    if not isinstance(schema, dict):
        schema = load_schema(schema)
    problems = unknown_keys(config, schema)
    if not problems:
        return
    lines = []
    for path, known in problems:
        leaf = path.rsplit(".", 1)[-1].split("[")[0]
        parent = path[: -len(leaf)].rstrip(".")
        best = suggest(leaf, known)
        fix = (
            f"did you mean '{parent + '.' if parent else ''}{best}'?"
            if best
            else f"known keys here: {', '.join(known)}"
        )
        lines.append(f"'{path}' is unknown: {fix}")
    raise InputError(
        f"{len(problems)} unknown configuration key(s): " + "; ".join(lines),
        file=source,
        column=", ".join(p for p, _ in problems),
        hint="fix the spelling (keys are case-sensitive); every key is listed in schemas/config.schema.yaml",
    )


def short_lists(
    config: Any, schema: dict, root: dict | None = None, where: str = ""
) -> list[tuple[str, int, int]]:
    """Every list shorter than its schema's `minItems`, as (dotted path, items given, minimum)."""
    root = root if root is not None else schema
    node = _resolve(schema, root)
    found: list[tuple[str, int, int]] = []
    if isinstance(config, dict):
        props = node.get("properties", {}) or {}
        extra = node.get("additionalProperties", True)
        for key, value in config.items():
            path = f"{where}.{key}" if where else str(key)
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if isinstance(sub, dict):
                found += short_lists(value, sub, root, path)
    elif isinstance(config, list):
        minimum = node.get("minItems")
        if isinstance(minimum, int) and len(config) < minimum:
            found.append((where, len(config), minimum))
        if isinstance(node.get("items"), dict):
            for i, item in enumerate(config):
                found += short_lists(item, node["items"], root, f"{where}[{i}]")
    return found


def _year(config: dict, block: str, key: str) -> int | None:
    value = (config.get(block) or {}).get(key) if isinstance(config.get(block), dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def year_problems(config: dict) -> list[str]:
    """Year ranges that cannot give a panel: first after last, or (synthetic data) a sample outside the
    generated years. A message names the keys, so the data files are never blamed for a config choice."""
    problems = []
    for block in ("sample", "synth"):
        y0, y1 = _year(config, block, "first_year"), _year(config, block, "last_year")
        if y0 is not None and y1 is not None and y0 > y1:
            problems.append(
                f"{block}.first_year ({y0}) is after {block}.last_year ({y1}): set "
                f"{block}.first_year <= {block}.last_year"
            )
    if config.get("raw_dir", "") in ("", None):  # synthetic data: the generator's years bound the sample
        s0, s1 = _year(config, "sample", "first_year"), _year(config, "sample", "last_year")
        g0, g1 = _year(config, "synth", "first_year"), _year(config, "synth", "last_year")
        if s0 is not None and g0 is not None and s0 < g0:
            problems.append(
                f"sample.first_year ({s0}) is before synth.first_year ({g0}), the first year of the "
                f"synthetic data (raw_dir is empty): set synth.first_year to {s0 - 1} (one year "
                "earlier, for the lags) or raise sample.first_year"
            )
        if s1 is not None and g1 is not None and s1 > g1:
            problems.append(
                f"sample.last_year ({s1}) is after synth.last_year ({g1}), the last year of the "
                f"synthetic data (raw_dir is empty): set synth.last_year to {s1} or lower "
                "sample.last_year"
            )
    return problems


# Config keys that name a model of `tables` ({table, model}); the schema only checks their shape.
MODEL_REFS = ("robustness.inference.baseline", "robustness.inference.iv")


def model_ref_problems(config: dict) -> list[str]:
    """References to a table or model that `tables` does not have, by the key that holds them."""
    tables = config.get("tables") if isinstance(config.get("tables"), dict) else {}
    problems = []
    for key in MODEL_REFS:
        node: Any = config
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or "table" not in node:
            continue
        table, model = node.get("table"), node.get("model")
        if table not in tables:
            problems.append(
                f"{key}.table names {table!r}, which is not under tables (known: {', '.join(sorted(tables))})"
            )
            continue
        names = [m.get("name") for m in tables[table] or [] if isinstance(m, dict)]
        if model is not None and model not in names:
            problems.append(
                f"{key}.model names {model!r}, which is not a model of tables.{table} (models: "
                f"{', '.join(map(str, names))})"
            )
    return problems


def check_values(
    config: dict, schema: dict | str | Path | None = None, source: str = "config/config.yaml"
) -> None:
    """Raise `InputError` listing every empty list that must not be empty (`tables.table2: []`), every
    impossible year range and every reference to a missing table or model, each by its config key. Run after `check_config`, before `validate()`,
    whose messages for these cases do not say which key to change."""
    if not isinstance(schema, dict):
        schema = load_schema(schema)
    short = short_lists(config, schema)
    problems = [
        f"'{path}' has {n} item(s) but needs at least {m}"
        + (
            ': give the table at least one model, e.g. {name: "(1)", depvar: lnCU, regressors: [lnINT]}'
            if path.startswith("tables.")
            else ""
        )
        for path, n, m in short
    ]
    keys = [path for path, _, _ in short]
    more = year_problems(config) + model_ref_problems(config)
    keys += [p.split(" ", 1)[0] for p in more]
    problems += more
    if problems:
        raise InputError(
            f"{len(problems)} configuration value(s) cannot work: " + "; ".join(problems),
            file=source,
            column=", ".join(dict.fromkeys(keys)),
            hint="change these keys in the config file (or in the --config / --configfile "
            "override that sets them); schemas/config.schema.yaml describes each key",
        )


def validate(config: dict, schema: dict, source: str = "config/config.yaml") -> None:
    """Check `config` against the JSON schema (draft 2020-12) and fill in every default the schema declares,
    in place: what `snakemake.utils.validate(config, path, set_default=True)` does (same defaults, same order,
    tests/test_schema_docs.py compares the two), on the schema the Snakefile has already read with the C YAML
    parser. Snakemake's `validate` reads the file again with a pure-Python parser (~80 ms of every
    `snakemake` start) and reports a failure as a dump of the schema; this raises `InputError` with the key."""
    import jsonschema
    from jsonschema import Draft202012Validator, validators

    check_properties = Draft202012Validator.VALIDATORS["properties"]

    def properties_with_defaults(validator, properties, instance, subschema):
        # as in Snakemake and the jsonschema FAQ: a default fills an absent key before the key is checked
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if "default" in sub:
                    instance.setdefault(key, sub["default"])
        yield from check_properties(validator, properties, instance, subschema)

    filling = validators.extend(Draft202012Validator, {"properties": properties_with_defaults})
    try:
        filling(schema).validate(config)
    except jsonschema.ValidationError as err:
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path).lstrip(".")
        raise InputError(
            f"configuration value rejected by the schema: {clip(err.message, 500)}",
            file=source,
            column=key or "(the whole configuration)",
            hint="change this key in the config file (or in the --config / --configfile override that sets "
            "it); schemas/config.schema.yaml describes each key, its type, allowed values and default",
        ) from None
