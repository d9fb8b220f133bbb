"""Parameter classes whose fields and defaults are the properties of a block of the configuration schema, so
that the schema (schemas/config.schema.yaml, shipped as intelcap/data/config.schema.yaml) is the one place of
their defaults.

`schema_params(block)` is a class decorator that makes the class a frozen dataclass with one field per property
of the config block, in schema order, typed from the JSON-schema type and defaulting to the key's `default`;
an object value, given or default, gets the defaults of its omitted properties. That is what Snakemake's
`validate()` fills in, so a library call (`SynthParams(n_firms=80, seed=3)`) and a workflow run
(`SynthParams.from_config(config)` on the validated config) draw from the same values. The class keeps its
docstring and methods.

The schema is parsed once per process, with libyaml's C parser (`intelcap.yamlfile`): ~7 ms, paid by the
first module that builds a parameter class.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from intelcap import yamlfile
from intelcap.errors import InputError
from intelcap.resources import shipped

__all__ = ["block_properties", "schema_params"]

SCHEMA_FILE = "config.schema.yaml"

_TYPES: dict[str, type] = {
    "integer": int,
    "number": float,
    "boolean": bool,
    "string": str,
    "object": dict,
    "array": list,
}

C = TypeVar("C", bound=type)


@functools.cache
def _schema() -> dict:
    with open(shipped(SCHEMA_FILE), encoding="utf-8") as fh:
        return yamlfile.safe_load(fh)


def _top(key: str) -> dict:
    node = (_schema().get("properties") or {}).get(key)
    if not isinstance(node, dict):
        raise InputError(
            f"the configuration schema has no top-level key `{key}`",
            file=str(shipped(SCHEMA_FILE)),
            hint="restore schemas/config.schema.yaml from git, or reinstall intelcap (pip install .)",
        )
    return node


def block_properties(block: str) -> dict[str, dict]:
    """The properties of the top-level config block `block` (`synth`, `expansion`), in schema order."""
    return dict(_top(block).get("properties") or {})


def _filled(value: Any, node: Mapping) -> Any:
    """`value` with the defaults of the omitted properties of `node` filled in, at every depth of objects, as
    Snakemake's `validate()` fills them; `value` itself is not changed."""
    props = node.get("properties")
    if not (isinstance(value, dict) and isinstance(props, dict)):
        return value
    out = dict(value)
    for key, sub in props.items():
        if key not in out and "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
        if key in out:
            out[key] = _filled(out[key], sub)
    return out


def _plain(value: Any) -> Any:
    """A copy of `value` made of plain dicts and lists: a job's config hands its blocks over as dict subclasses
    that guard reads (`workflow.runner.ConfigView`), which `dataclasses.asdict` cannot rebuild, and a parameter
    object must not share a mutable value with the config it came from."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _type(node: Mapping) -> Any:
    t = node.get("type")
    return _TYPES.get(t, Any) if isinstance(t, str) else Any


def _field(node: Mapping) -> Any:
    if "default" not in node:
        return dataclasses.field()  # required: the config must give it
    # the literal default, as validate() sets it; an object's omitted properties are filled in __post_init__
    default = node["default"]
    if isinstance(default, dict | list):
        return dataclasses.field(default_factory=functools.partial(copy.deepcopy, default))
    return dataclasses.field(default=default)


def schema_params(
    block: str, *, top_level: Sequence[str] = (), exclude: Sequence[str] = ()
) -> Callable[[C], C]:
    """Class decorator: a frozen dataclass with a field per property of config block `block` (but `exclude`),
    after a field per top-level key of `top_level` (first, since a key without a default makes a required
    field and those go before the defaulted ones). Object and array values are stored as plain dict and list
    copies, an object's omitted properties filled with their defaults as `validate()` fills them
    (`SynthParams(seed=1, gamma={"ROA": -1.0})` keeps the other two loadings).

    Raises InputError naming the schema file when `block` or a `top_level` key is not in it, or when an
    `exclude` name is not in the block or a `top_level` key is in it too (a renamed key must not silently
    drop or shadow a field).
    """

    def build(cls: C) -> C:
        props = block_properties(block)
        wrong = sorted(set(exclude) - set(props)) + sorted(set(top_level) & set(props))
        if wrong or cls.__dict__.get("__annotations__"):
            raise InputError(
                f"{cls.__name__} cannot be built from config block `{block}`: keys {wrong} are not in the "
                "block (exclude) or are in it too (top_level), or the class declares fields itself",
                file=str(shipped(SCHEMA_FILE)),
                hint=f"correct the schema_params() call of {cls.__module__}.{cls.__name__}",
            )
        nodes = {key: _top(key) for key in top_level}
        nodes |= {k: v for k, v in props.items() if k not in exclude}
        cls.__annotations__ = {k: _type(v) for k, v in nodes.items()}
        for key, node in nodes.items():
            setattr(cls, key, _field(node))
        containers = {k: v for k, v in nodes.items() if v.get("type") in ("object", "array")}
        if containers:

            def __post_init__(self: Any) -> None:
                for key, node in containers.items():  # frozen: set through object
                    object.__setattr__(self, key, _plain(_filled(getattr(self, key), node)))

            cls.__post_init__ = __post_init__  # type: ignore[attr-defined]
        return dataclasses.dataclass(frozen=True)(cls)

    return build
