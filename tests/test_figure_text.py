"""The figures' display text: the shipped figure_text.yaml has a zh and an en string for every key the figure
code asks for and no other, both languages fill the same fields, and a broken file or a missing key is an
error that names the file (and the key)."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pandas as pd
import pytest

from intelcap.errors import InputError
from intelcap.outputs import figures as F

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "src" / "intelcap" / "data" / "figure_text.yaml"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_entry_has_a_zh_and_an_en_string_with_the_same_fields():
    texts = F._read_texts(SHIPPED)
    assert len(texts) == 28
    for key, entry in texts.items():
        assert set(entry) == {"zh", "en"}, key
        assert _fields(entry["zh"]) == _fields(entry["en"]), key


def test_the_file_holds_exactly_the_keys_the_figure_code_asks_for():
    from intelcap.econometrics.robustness import SPEC_REASONS

    code = Path(F.__file__).read_text(encoding="utf-8")
    literal = set(re.findall(r"""_t\(\s*["'](\w+)["']""", code))
    vintages = set(pd.read_csv(ROOT / "config" / "ifr_global_installations.csv")["vintage"])
    dynamic = {f"fig2_source_{v}" for v in vintages} | {f"spec_reason_{r}" for r in SPEC_REASONS}
    dynamic |= {"spec_sig", "spec_nonsig"}  # _draw_spec_estimates passes them through a tuple
    assert all(f'"{k}"' in code for k in ("spec_sig", "spec_nonsig"))
    assert {"fig2_title", "coef_pooled", "spec_reason_other", "cov_mcse"} <= literal
    assert set(F._read_texts(SHIPPED)) == literal | dynamic


def test_text_is_formatted_in_the_asked_language():
    assert F._t("coef_pooled", "en", b="0.034") == "Pooled estimate = 0.034"
    assert F._t("coef_pooled", "zh", b="0.034") == "全样本估计值 = 0.034"
    assert F._t("fig2_xlabel", "zh") == "年份"
    assert F._has_text("spec_reason_collinear") and not F._has_text("spec_reason_timeout")


def test_a_missing_key_names_the_file_and_the_key():
    with pytest.raises(InputError, match=r"figure text 'no_such_text' is missing") as err:
        F._t("no_such_text", "en")
    assert err.value.file == str(SHIPPED.resolve())
    assert "`no_such_text:`" in str(err.value.hint)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "must map text keys"),
        ("", "must map text keys"),
        ("a: {zh: x, en: y}\nb: {zh: x}\n", r"entries \['b'\] do not have exactly a zh and an en string"),
        ("a: {zh: x, en: y, fr: z}\n", r"entries \['a'\]"),
        ("a: {zh: x, en: 3}\nc: text\n", r"entries \['a', 'c'\]"),
        ("a: {zh: x, en: [y\n", "not valid YAML"),
    ],
)
def test_a_broken_file_is_an_error_naming_it(tmp_path: Path, text: str, message: str):
    path = tmp_path / "figure_text.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message) as err:
        F._read_texts(path)
    assert err.value.file == str(path)
