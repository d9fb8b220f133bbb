"""Run every case of the bad-input corpus (bad_cases.CASES) at the module level where its behaviour lives."""

from __future__ import annotations

import logging

import pytest
from bad_cases import CASES, DESCRIPTIONS


def test_corpus_is_large_and_ids_unique():
    ids = [c.id for c in CASES]
    assert len(ids) >= 30 and len(set(ids)) == len(ids)
    assert sorted(DESCRIPTIONS) == sorted(ids), "descriptions.yaml and the registered cases differ"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    case.run(tmp_path, caplog)


def test_summary_doc_is_current():
    import make_summary

    assert (
        make_summary.ROOT.joinpath("docs/bad_inputs.md").read_text(encoding="utf-8") == make_summary.render()
    ), "docs/bad_inputs.md is stale: run python tests/bad_inputs/make_summary.py"


def test_load_error_table_rejects_an_entry_it_cannot_read(tmp_path):
    from bad_cases import load_error_table

    path = tmp_path / "load_errors.yaml"
    path.write_text("x:\n  level: io.load_table\n  table: FS_Combas\n  must: [a]\n  cell: {column: A}\n")
    with pytest.raises(ValueError, match=r"load_errors.yaml, case x: unknown key\(s\) \['cell'\]"):
        load_error_table(path)
