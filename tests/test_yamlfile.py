"""The one YAML reader: the same objects as PyYAML's safe loader on every shipped file, and the same error."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

from intelcap import yamlfile

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted([*ROOT.glob("config/*.yaml"), *ROOT.glob("schemas/*.yaml"), *ROOT.glob("profiles/*/*.yaml")])
BROKEN = "a: 1\nb:\n  - x\n  y: 2\nc: [1, 2\n"


def test_uses_the_c_parser_where_pyyaml_has_it():
    assert (yamlfile._FAST is yaml.CSafeLoader) == bool(yaml.__with_libyaml__)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_same_objects_as_the_safe_loader(path):
    text = path.read_text(encoding="utf-8")
    assert yamlfile.safe_load(text) == yaml.safe_load(text)
    with open(path, encoding="utf-8") as fh:
        assert yamlfile.safe_load(fh) == yaml.safe_load(text)


def test_scalars_resolve_as_yaml_1_1():
    doc = yamlfile.safe_load("a: yes\nb: 0x1F\nc: 1e3\nd: 2019-12-31\ne: '007'\nf: ~\ng: 1_000\n")
    assert doc == yaml.safe_load("a: yes\nb: 0x1F\nc: 1e3\nd: 2019-12-31\ne: '007'\nf: ~\ng: 1_000\n")
    assert doc["a"] is True and doc["b"] == 31 and doc["e"] == "007" and doc["f"] is None and doc["g"] == 1000


@pytest.mark.parametrize("as_stream", [False, True])
def test_a_broken_document_gets_the_pure_python_error(as_stream):
    with pytest.raises(yaml.YAMLError) as expected:
        yaml.safe_load(io.StringIO(BROKEN) if as_stream else BROKEN)
    with pytest.raises(yaml.YAMLError) as got:
        yamlfile.safe_load(io.StringIO(BROKEN) if as_stream else BROKEN)
    assert str(got.value) == str(expected.value)
    assert "line 4" in str(got.value)


def test_read_file_names_the_file_and_the_remedy(tmp_path):
    from intelcap.errors import InputError

    good = tmp_path / "good.yaml"
    good.write_text("a: [1, 2]\n", encoding="utf-8")
    assert yamlfile.read_file(good, "labels file", "fix it") == {"a": [1, 2]}
    bad = tmp_path / "bad.yaml"
    bad.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(yaml.YAMLError) as expected, open(bad, encoding="utf-8") as fh:
        yaml.safe_load(fh)  # the parser's message, which names the file and the line
    with pytest.raises(InputError) as got:
        yamlfile.read_file(bad, "labels file", "point config key `paths.labels` at another one")
    text = str(got.value)
    assert text.startswith(f"labels file is not valid YAML: {expected.value}")
    assert f"file: {bad}" in text and "what to do: point config key `paths.labels` at another one" in text
