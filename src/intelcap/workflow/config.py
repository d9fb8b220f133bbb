"""Friendly configuration checks that run before Snakemake's `validate()`.

`validate(config, schema=...)` with `additionalProperties: false` rejects a typo with a jsonschema message
("Additional properties are not allowed ('seeed' was unexpected)") buried in a long dump of the schema.
`check_config` walks the same schema and says, for each unknown key, where it is and which known key is
closest ("config key 'winsor.cut' is unknown: did you mean 'winsor.cuts'?"). It only reads the schema's
`properties`, `additionalProperties`, `$ref` and `items`; types, enums and ranges stay with `validate()`.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

from intelcap.errors import InputError
from intelcap.resources import shipped

DEFAULT_SCHEMA = shipped("config.schema.yaml")


def load_schema(path: str | Path | None = None) -> dict:
    path = Path(path) if path is not None else DEFAULT_SCHEMA
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


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


def unknown_keys(config: Any, schema: dict, root: dict | None = None, where: str = "") -> list[tuple[str, list[str]]]:
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


def check_config(config: dict, schema: dict | str | Path | None = None,
                 source: str = "config/config.yaml") -> None:
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
        fix = f"did you mean '{parent + '.' if parent else ''}{best}'?" if best else \
            f"known keys here: {', '.join(known)}"
        lines.append(f"'{path}' is unknown: {fix}")
    raise InputError(f"{len(problems)} unknown configuration key(s): " + "; ".join(lines), file=source,
                     column=", ".join(p for p, _ in problems),
                     hint="fix the spelling (keys are case-sensitive); every key is listed in "
                          "schemas/config.schema.yaml")
