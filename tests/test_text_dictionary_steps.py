"""The text jobs that name words or categories (text_audit, text_variants) use the dictionary the index counts
(`text.dictionary`): with the curated dictionary, a word added by hand is audited under its category and a
rejected word is not."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from intelcap.errors import InputError
from intelcap.workflow.runner import Job
from intelcap.workflow.steps import measures as steps

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]


def _audit_job(tmp_path: Path, dictionary: str, counts: pd.DataFrame) -> Job:
    curation = tmp_path / "curation.yaml"
    curation.write_text(
        yaml.safe_dump(
            {
                "base": "paper",
                "decisions": [
                    {"keyword": "电动车", "decision": "rejected", "note": "two-wheelers"},
                    {"keyword": "工业互联网", "decision": "added", "category": "使用技术", "note": "policy"},
                ],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    counts.to_parquet(tmp_path / "counts.parquet", index=False)
    pd.DataFrame({"Stkcd": ["000001", "000002"], "year": [2015, 2015], "status": ["ok", "ok"]}).to_csv(
        tmp_path / "log.csv", index=False
    )
    return Job(
        input={
            "counts": str(tmp_path / "counts.parquet"),
            "log": str(tmp_path / "log.csv"),
            "keywords": str(ROOT / "config/keywords.yaml"),
            "curated": [str(ROOT / "config/keyword_seeds.yaml"), str(curation)],
        },
        output={"csv": str(tmp_path / "audit.csv")},
        params={},
        config={"text": {"dictionary": dictionary}},
    )


def _counts(words: dict[str, tuple[str, int]]) -> pd.DataFrame:
    rows = [
        {"Stkcd": s, "year": 2015, "category": cat, "keyword": kw, "count": n if s == "000001" else 0}
        for kw, (cat, n) in words.items()
        for s in ("000001", "000002")
    ]
    return pd.DataFrame(rows)


def test_audit_of_the_curated_dictionary_lists_the_hand_added_word(tmp_path):
    counts = _counts({"工业互联网": ("使用技术", 3), "机器人": ("设备及工具", 2)})
    steps.text_audit(_audit_job(tmp_path, "curated", counts))
    audit = pd.read_csv(tmp_path / "audit.csv")
    row = audit[(audit["level"] == "keyword") & (audit["keyword"] == "工业互联网")]
    assert row[["category", "count", "firms", "reports"]].values.tolist() == [["使用技术", 3, 1, 2]]
    assert "电动车" not in set(audit["keyword"].dropna())  # rejected: not a row of the audit
    cat = audit[(audit["level"] == "category") & (audit["category"] == "使用技术")]
    assert cat["count"].tolist() == [3]


def test_the_paper_dictionary_rejects_counts_of_a_word_it_does_not_hold(tmp_path):
    counts = _counts({"工业互联网": ("使用技术", 3)})
    with pytest.raises(InputError, match="not in the dictionary"):
        steps.text_audit(_audit_job(tmp_path, "paper", counts))
