"""Every rendered table of a small-config run (all + robustness) is in one language: the Chinese md/tex hold no
Latin letter outside variable names and a few statistical symbols, the English ones no CJK character; and
Table 3 shows the paper's rows by default and every term with output.layout: full."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from rebuild import ROOT, small_config, snakemake

from intelcap.workflow.scratch import copy_workflow

pytestmark = pytest.mark.e2e

# Latin tokens a Chinese table may hold besides variable names: the statistics' symbols as the paper prints
# them (R², F, p, t, AR test) and the paper's own title "两阶段最小二乘(2SLS)".
ZH_SYMBOLS = {"R", "F", "p", "t", "AR", "2SLS"}
TOKEN = re.compile(r"[A-Za-z0-9_.]*[A-Za-z][A-Za-z0-9_.]*")
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")

# Preamble-like commands whose whole line is markup, and environments whose next brace group is a column spec.
_MARKUP_LINES = re.compile(
    r"^\s*\\(documentclass|usepackage|providecommand|newcommand|renewcommand|sisetup|setCJK\w*|newcolumntype|"
    r"DeclareRobustCommand|definecolor|setlength|pagestyle|geometry|captionsetup|PassOptionsToPackage)\b"
)
_TABULAR = re.compile(
    r"\\begin\{(tabular\*?|tabularx|longtable|tblr)\}(\{[^{}]*\})?(\{(?:[^{}]|\{[^{}]*\})*\})"
)


def tex_text(tex: str) -> str:
    """The printed text of a LaTeX table: comments, preamble lines, environments, column specs and commands
    removed; command arguments (captions, cells, notes) kept."""
    lines = [re.sub(r"(?<!\\)%.*$", "", ln) for ln in tex.splitlines()]
    s = "\n".join(ln for ln in lines if not _MARKUP_LINES.match(ln))
    s = _TABULAR.sub(" ", s)
    s = re.sub(r"\\(?:begin|end)\{[^}]*\}(\[[^\]]*\])?", " ", s)
    s = re.sub(r"\\multicolumn\{\d+\}\{[^{}]*\}", " ", s)
    s = re.sub(r"\\(?:cmidrule|cline)(\([^)]*\))?\{[^}]*\}", " ", s)
    s = re.sub(r"\\(?:parbox|makebox|resizebox)(\[[^\]]*\])?\{[^{}]*\}", " ", s)
    s = re.sub(r"\\(?:hspace|vspace)\*?\{[^}]*\}", " ", s)
    s = s.replace("\\_", "_").replace("\\%", "%").replace("\\&", "&")
    s = re.sub(r"\\[A-Za-z]+\*?(\[[^\]]*\])?", " ", s)
    return re.sub(r"[{}$^\\]", " ", s)


def allowed_tokens(root: Path) -> set[str]:
    labels = yaml.safe_load((root / "config/labels.yaml").read_text(encoding="utf-8"))
    names = set(labels["variables"]) | set(labels.get("aliases", {}))
    for entry in labels["variables"].values():
        names |= set(TOKEN.findall(str(entry["zh"] if isinstance(entry, dict) else entry)))
    keywords = yaml.safe_load((root / "config/keywords.yaml").read_text(encoding="utf-8"))["categories"]
    words = {t for ws in keywords.values() for w in ws for t in TOKEN.findall(str(w))}  # 3D打印, 工业4.0
    return names | words | ZH_SYMBOLS


def _keywords(root: Path) -> list[str]:
    cats = yaml.safe_load((root / "config/keywords.yaml").read_text(encoding="utf-8"))["categories"]
    return sorted([*cats, *(str(w) for ws in cats.values() for w in ws)], key=len, reverse=True)


# Diagnostic reports, not tables of the paper: the claims ledger quotes the paper's own words next to
# machine-checkable cell references, and the MD&A coverage log names files and miss reasons; both are written
# the same in either language.
DIAGNOSTICS = {"claims.md", "text_coverage.md"}


def _collect(work: Path) -> dict[str, str]:
    out = {}
    for p in sorted((work / "results/tables").iterdir()):
        if p.suffix in (".md", ".tex") and p.name not in DIAGNOSTICS:
            text = p.read_text(encoding="utf-8")
            out[p.name] = tex_text(text) if p.suffix == ".tex" else text
    return out


def _overlay(work: Path, name: str, overlay: dict) -> list[str]:
    path = work / "overlays" / f"{name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(overlay, allow_unicode=True), encoding="utf-8")
    return ["--configfile", str(work / "config/config.yaml"), str(path)]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, dict[str, str]]:
    work = copy_workflow(ROOT, tmp_path_factory.mktemp("language"))
    (work / "config/config.yaml").write_text(
        yaml.safe_dump(small_config(), allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    snakemake(work, "all", "robustness")
    out = {"zh": _collect(work)}
    snakemake(work, "all", "robustness", *_overlay(work, "en", {"output": {"lang": "en"}}))
    out["en"] = _collect(work)
    snakemake(work, "results/tables/table3.md", *_overlay(work, "full", {"output": {"layout": "full"}}))
    out["full"] = {"table3.md": (work / "results/tables/table3.md").read_text(encoding="utf-8")}
    return out


def test_every_rendered_table_is_covered(rendered) -> None:
    names = set(rendered["zh"])
    want = {f"table{i}.{e}" for i in range(1, 9) for e in ("md", "tex")}
    want |= {"sample_attrition.md", "table6_differences.md", "paper_vs_replication.md", "inference.md"}
    want |= {"inference.tex", "placebo.md", "coverage.md", "one_step_sfa.md"}
    assert want <= names, sorted(want - names)
    assert set(rendered["en"]) == names


def test_chinese_tables_hold_no_latin_text_outside_variable_names(rendered) -> None:
    allowed = allowed_tokens(ROOT)
    bad = {
        name: sorted({t for t in TOKEN.findall(text) if t not in allowed})
        for name, text in rendered["zh"].items()
    }
    assert {k: v for k, v in bad.items() if v} == {}


def test_english_tables_hold_no_cjk(rendered) -> None:
    keywords = _keywords(ROOT)  # Table 7's keywords are never translated
    bad = {}
    for name, text in rendered["en"].items():
        # Table 7 and the keyword audit list the dictionary itself
        if name.startswith(("table7.", "table7_", "text_audit_keywords.")):
            for k in keywords:
                text = text.replace(k, "")
        hits = sorted(set(CJK.findall(text)))
        if hits:
            bad[name] = "".join(hits)
    assert bad == {}


def _labels(md: str) -> list[str]:
    return [
        ln.split("|")[1].strip() for ln in md.splitlines() if ln.startswith("| ") and ln.split("|")[1].strip()
    ]


def test_table3_paper_layout_by_default_and_full_layout_on_switch(rendered) -> None:
    controls = ["ListAge", "Board", "Size", "ROA", "Lev", "Mfee", "Debcost", "Dual"]
    paper = _labels(rendered["zh"]["table3.md"])
    terms = ["lnINT", "L.lnINT", "Age2", "lnwage", "_cons"]  # the paper's Table 3 rows
    assert paper[1 : 1 + len(terms)] == terms
    assert paper[1 + len(terms)] == "控制变量" and not set(controls) & set(paper)
    full = _labels(rendered["full"]["table3.md"])
    assert set(controls) <= set(full) and "聚类数" in full
