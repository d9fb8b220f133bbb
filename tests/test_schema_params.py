"""Parameter classes built from the configuration schema (`intelcap.schema_params`): SynthParams and
TrainParams have exactly the keys of their config blocks as fields, in schema order, with the schema's
defaults; the decorator types fields from JSON-schema types and refuses a call that would drop or shadow a
key."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path
from typing import Any

import pytest
import yaml

from intelcap import schema_params as sp
from intelcap.errors import InputError
from intelcap.measures import keyword_expansion as ke
from intelcap.synthetic import dgp

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "schemas" / "config.schema.yaml").read_text(encoding="utf-8"))


def _defaults(cls: type) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


def test_synth_params_are_the_seed_and_the_synth_block_with_its_defaults():
    synth = SCHEMA["properties"]["synth"]["properties"]
    assert [f.name for f in dataclasses.fields(dgp.SynthParams)] == ["seed", *synth]
    assert _defaults(dgp.SynthParams) == {k: v["default"] for k, v in synth.items()}
    # gamma's default is {}: an instance gets its properties' defaults, as validate() fills them
    assert synth["gamma"]["default"] == {}
    loadings = {k: v["default"] for k, v in synth["gamma"]["properties"].items()}
    assert dgp.SynthParams(seed=1).gamma == loadings == {"ROA": -2.0, "Lev": 0.25, "Mfee": 0.012}
    assert len(synth) == 24  # 13 keys before the frontier, inefficiency and sample-filter knobs joined them


def test_train_params_are_the_expansion_block_without_corpus_and_segmenter():
    expansion = SCHEMA["properties"]["expansion"]["properties"]
    names = [k for k in expansion if k not in ("corpus", "segmenter")]
    assert [f.name for f in dataclasses.fields(ke.TrainParams)] == names
    assert _defaults(ke.TrainParams) == {k: expansion[k]["default"] for k in names}


def test_the_current_calls_keep_working():
    p = dgp.SynthParams(n_firms=80, reports=False, seed=3)
    assert (p.seed, p.n_firms, p.reports, p.last_year, p.beta_K, p.sigma_c) == (3, 80, False, 2019, 0.3, 0.2)
    assert p.gamma == {"ROA": -2.0, "Lev": 0.25, "Mfee": 0.012}
    assert ke.TrainParams(epochs=1).epochs == 1 and ke.TrainParams().sample == 0.001
    assert pickle.loads(pickle.dumps(p)) == p  # chunks of large panels run in processes
    assert "Knobs of the DGP" in dgp.SynthParams.__doc__ and "Word2Vec" in ke.TrainParams.__doc__


def test_instances_are_frozen_and_share_no_default_dict():
    a, b = dgp.SynthParams(seed=1), dgp.SynthParams(seed=2)
    a.gamma["ROA"] = 9.0
    assert b.gamma["ROA"] == -2.0 and dgp.SynthParams(seed=3).gamma["ROA"] == -2.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.n_firms = 5  # type: ignore[misc]


class _View(dict):
    """Like a job's ConfigView: a dict subclass whose constructor takes more than a mapping."""

    def __init__(self, values: dict, rule: str) -> None:
        super().__init__(values)


def test_container_values_are_stored_as_plain_copies():
    given = {"ROA": -1.0, "Lev": 0.5, "Mfee": 0.0}
    p = dgp.SynthParams.from_config({"seed": 1, "synth": _View({"gamma": _View(given, "x")}, "synthesize")})
    given["ROA"] = 7.0
    assert type(p.gamma) is dict and p.gamma == {"ROA": -1.0, "Lev": 0.5, "Mfee": 0.0}
    assert dataclasses.asdict(p)["gamma"] == p.gamma  # what truth.json holds


def test_an_object_given_in_part_keeps_the_defaults_of_the_rest_as_validate_does():
    assert dgp.SynthParams(seed=1, gamma={"ROA": -1.0}).gamma == {"ROA": -1.0, "Lev": 0.25, "Mfee": 0.012}
    p = dgp.SynthParams.from_config({"seed": 1, "synth": {"gamma": {"Mfee": 0.5}}})
    assert p.gamma == {"ROA": -2.0, "Lev": 0.25, "Mfee": 0.5}


def test_synth_from_config_takes_the_top_level_seed_and_ignores_unknown_keys():
    p = dgp.SynthParams.from_config({"seed": "7", "synth": {"n_firms": 50, "no_such_knob": 1}, "sample": {}})
    assert (p.seed, p.n_firms, p.first_year) == (7, 50, 2009)
    with pytest.raises(InputError, match="no top-level `seed`"):
        dgp.SynthParams.from_config({"synth": {"n_firms": 50}})


def test_train_from_config_ignores_corpus_and_segmenter_and_refuses_other_keys():
    t = ke.TrainParams.from_config({"corpus": "mdna", "segmenter": "jieba", "window": 3})
    assert (t.window, t.epochs) == (3, 5)
    with pytest.raises(InputError, match=r"unknown expansion settings \['windw'\]"):
        ke.TrainParams.from_config({"windw": 3})


_FAKE = {
    "properties": {
        "seed": {"type": "integer"},
        "block": {
            "type": "object",
            "properties": {
                "n": {"type": "integer", "default": 3},
                "x": {"type": "number", "default": 0.5},
                "flag": {"type": "boolean", "default": False},
                "name": {"type": "string", "default": "a"},
                "loads": {
                    "type": "object",
                    "default": {"a": 1.0},
                    "properties": {"a": {"type": "number"}, "b": {"type": "number", "default": 2.0}},
                },
                "odd": {"type": ["string", "null"], "default": None},
                "skip": {"type": "string", "default": ""},
            },
        },
    }
}


@pytest.fixture
def fake_schema(monkeypatch):
    monkeypatch.setattr(sp, "_schema", lambda: _FAKE)


def test_the_decorator_types_defaults_and_required_fields(fake_schema):
    @sp.schema_params("block", top_level=("seed",), exclude=("skip",))
    class P:
        """doc"""

    fields = {f.name: f for f in dataclasses.fields(P)}
    assert list(fields) == ["seed", "n", "x", "flag", "name", "loads", "odd"]
    assert {k: f.type for k, f in fields.items()} == {
        "seed": int, "n": int, "x": float, "flag": bool, "name": str, "loads": dict, "odd": Any,
    }  # fmt: skip
    assert P(seed=1).loads == {
        "a": 1.0,
        "b": 2.0,
    }  # a default object gets its properties' defaults, as validate()
    assert P(seed=1, n=4).n == 4 and P.__doc__ == "doc" and P.__module__ == __name__
    with pytest.raises(TypeError, match="seed"):
        P()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"exclude": ("nope",)}, r"keys \['nope'\] are not in the block"),
        ({"top_level": ("n",)}, r"keys \['n'\]"),
    ],
)
def test_the_decorator_refuses_a_key_it_would_drop_or_shadow(fake_schema, kwargs, message):
    with pytest.raises(InputError, match=message) as err:
        sp.schema_params("block", **kwargs)(type("P", (), {}))
    assert err.value.file.endswith("config.schema.yaml")


def test_an_unknown_block_names_the_schema_file(fake_schema):
    with pytest.raises(InputError, match="no top-level key `synht`") as err:
        sp.schema_params("synht")(type("P", (), {}))
    assert err.value.file.endswith("config.schema.yaml")


def test_every_synth_key_is_named_in_the_dgp_doc():
    text = (ROOT / "docs" / "DGP.md").read_text(encoding="utf-8")
    assert [k for k in SCHEMA["properties"]["synth"]["properties"] if f"synth.{k}" not in text] == []
