"""Configuration safety: strict schema, safe YAML, no eval/exec, formulas from known names, atomic writers."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from intelcap.workflow.config import check_config

ROOT = Path(__file__).resolve().parents[1]
SRC = sorted((ROOT / "src" / "intelcap").rglob("*.py"))  # with the workflow package (runner, registry, steps)
CODE = SRC + sorted((ROOT / "scripts").glob("*.py")) + sorted((ROOT / "tools").glob("*.py"))


def _objects(node, path="$"):
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            yield path, node
        for k, v in node.items():
            yield from _objects(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _objects(v, f"{path}[{i}]")


def test_schema_objects_forbid_unknown_keys():
    schema = yaml.safe_load((ROOT / "schemas/config.schema.yaml").read_text(encoding="utf-8"))
    open_objects = [
        p
        for p, node in _objects(schema)
        if "properties" in node and node.get("additionalProperties", True) is not False
    ]
    assert not open_objects, f"schema objects that accept unknown keys: {open_objects}"


def test_default_config_passes_the_friendly_check():
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text(encoding="utf-8"))
    check_config(config, ROOT / "schemas/config.schema.yaml")


def test_no_eval_or_exec_in_code():
    pattern = re.compile(r"(?<![\w.])(eval|exec)\s*\(")
    hits = [
        f"{f.relative_to(ROOT)}:{i}"
        for f in CODE
        for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line.split("#", 1)[0])
    ]
    assert not hits, hits


def test_yaml_is_only_safe_loaded():
    pattern = re.compile(r"yaml\.(load|unsafe_load|full_load|load_all)\s*\(")
    hits = [
        str(f.relative_to(ROOT))
        for f in CODE + sorted((ROOT / "tests").rglob("*.py"))
        if pattern.search(f.read_text(encoding="utf-8"))
    ]
    assert not hits, hits


def test_formula_names_are_validated_before_any_fit():
    import pandas as pd
    import pytest

    from intelcap.econometrics import estimate
    from intelcap.errors import InputError

    d = pd.DataFrame({"Stkcd": ["000001"], "year": [2011], "lnCU": [0.0], "lnINT": [0.0]})
    for bad in ("lnINT + I(__import__('os').system('x'))", "lnINT; rm", "C(lnINT)"):
        spec = estimate.ModelSpec(name="x", depvar="lnCU", regressors=[bad], controls=False)
        with pytest.raises(InputError, match="not a variable name"):
            estimate.validate_spec(spec, [], list(d.columns))


def test_every_writer_goes_through_intelcap_atomic():
    """Write calls in the package must target an atomic temporary (`tmp`, or an ExcelWriter `xw` on it), an
    in-memory buffer (`buf`) or return a string (keyword-only to_csv);
    the runner's streaming job log is the one exception (a log must survive the crash it documents)."""
    writes = re.compile(
        r"(\w+)\.(to_csv|to_parquet|to_excel|savefig|save|write_text|write_bytes)\(([^,)]*)|"
        r"open\(([^,]*),\s*[\"'](w|wb|a|ab)[\"']"
    )
    bad = []
    for f in SRC:
        if f.name == "atomic.py":
            continue
        for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            for m in writes.finditer(line):
                obj, arg = m.group(1) or "", (m.group(3) or m.group(4) or "").strip()
                ok = (
                    obj in ("atomic", "tmp")
                    or arg in ("tmp", "buf", "xw", "")
                    or "=" in arg
                    or (f.name == "runner.py" and arg == "log_path")
                )
                if not ok:
                    bad.append(f"{f.name}:{i}: {line.strip()}")
    assert not bad, bad


def _check(c):
    import pytest

    from intelcap.errors import InputError
    from intelcap.workflow.config import check_config, check_values

    with pytest.raises(InputError) as ei:
        check_config(c, ROOT / "schemas/config.schema.yaml")
        check_values(c, ROOT / "schemas/config.schema.yaml")
    return ei.value


def test_misspelled_table_key_gets_did_you_mean(config):
    config["tables"]["tabel2"] = config["tables"].pop("table2")
    err = _check(config)
    assert (
        "'tables.tabel2' is unknown: did you mean 'tables.table2'?" in str(err)
        and err.column == "tables.tabel2"
    )
    config["tables"]["table9"] = config["tables"].pop("tabel2")
    assert "'tables.table9' is unknown: did you mean 'tables.table" in str(_check(config))


def test_empty_model_list_names_the_key(config):
    config["tables"]["table2"] = []
    err = _check(config)
    assert "'tables.table2' has 0 item(s) but needs at least 1" in str(err)
    # the robustness baseline (Table 2 col 4) is gone with it, and says so
    assert err.column == "tables.table2, robustness.inference.baseline.model"


def test_schema_itself_rejects_unknown_and_empty_tables(config):
    import jsonschema

    schema = yaml.safe_load((ROOT / "schemas/config.schema.yaml").read_text(encoding="utf-8"))
    node = {**schema["properties"]["tables"], "definitions": schema["definitions"]}
    assert list(jsonschema.Draft202012Validator(node).iter_errors(config["tables"])) == []
    for bad in ({**config["tables"], "tabel2": []}, {**config["tables"], "table2": []}):
        assert len(list(jsonschema.Draft202012Validator(node).iter_errors(bad))) == 1


def test_impossible_year_ranges_name_their_keys(config):
    c = {**config, "sample": {**config["sample"], "first_year": 2019, "last_year": 2011}}
    err = _check(c)
    assert "sample.first_year (2019) is after sample.last_year (2011)" in str(err)
    assert err.column == "sample.first_year" and err.file == "config/config.yaml"
    c = {**config, "synth": {**config["synth"], "first_year": 2015, "last_year": 2012}}
    msg = str(_check(c))
    assert "synth.first_year (2015) is after synth.last_year (2012)" in msg
    assert "sample.first_year (2011) is before synth.first_year (2015)" in msg  # and the sample is outside
    assert "sample.last_year (2019) is after synth.last_year (2012)" in msg
    assert msg.startswith("3 configuration value(s) cannot work")


def test_sample_outside_synthetic_years_only_matters_on_synthetic_data(config):
    from intelcap.workflow.config import check_values

    config["synth"]["last_year"] = 2017
    assert "set synth.last_year to 2019 or lower sample.last_year" in str(_check(config))
    config["raw_dir"] = "/data/csmar_downloads"  # the user's own data: synth is not used
    check_values(config, ROOT / "schemas/config.schema.yaml")


def test_reference_to_a_missing_table_or_model_names_the_key(config):
    config["robustness"]["inference"]["baseline"]["table"] = "table7"
    config["robustness"]["inference"]["iv"]["model"] = "(9)"
    msg = str(_check(config))
    assert (
        "robustness.inference.baseline.table names 'table7', which is not under tables (known: table2, "
        in msg
    )
    assert (
        "robustness.inference.iv.model names '(9)', which is not a model of tables.table4 (models: (1), (2))"
        in msg
    )
