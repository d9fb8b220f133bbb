"""The layer rules of docs/architecture.md: what each package of intelcap may import, and no import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "intelcap"
CORE = {
    "errors",
    "atomic",
    "owned_dir",
    "resources",
    "distributions",
    "columns",
    "yamlfile",
    "schema_params",
    "__init__",
}
ALLOWED = {
    "core": {"core"},
    "ingest": {"core"},
    "measures": {"core", "ingest"},
    "outputs": {"core"},
    "synthetic": {"core", "ingest", "measures", "outputs.fonts"},
    "econometrics": {"core", "ingest", "measures", "synthetic"},
    "workflow": {"core", "ingest", "measures", "outputs", "synthetic", "econometrics", "workflow"},
}


def _module(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__") or "__init__"


def _layer(module: str) -> str:
    head = module.split(".")[0]
    return "core" if head in CORE else head


def _imports(path: Path) -> set[str]:
    """intelcap modules imported by a file (any depth: lazy imports inside functions count)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "intelcap":
            base = node.module[len("intelcap") :].lstrip(".")
            for alias in node.names:
                candidate = f"{base}.{alias.name}" if base else alias.name
                found.add(
                    candidate
                    if (SRC / candidate.replace(".", "/")).with_suffix(".py").exists()
                    or (SRC / candidate.replace(".", "/")).is_dir()
                    else base
                )
        elif isinstance(node, ast.Import):
            found |= {a.name[len("intelcap.") :] for a in node.names if a.name.startswith("intelcap.")}
    return {m for m in found if m}


def _graph() -> dict[str, set[str]]:
    return {_module(p): _imports(p) for p in SRC.rglob("*.py")}


def test_every_import_respects_the_layer_rules():
    bad = []
    for module, targets in sorted(_graph().items()):
        layer = _layer(module)
        for target in sorted(targets):
            tl = _layer(target)
            if (
                tl == layer
                or tl in ALLOWED[layer]
                or any(target.startswith(a) for a in ALLOWED[layer] if "." in a)
            ):
                continue
            bad.append(f"{module} ({layer}) imports {target} ({tl})")
    assert not bad, "\n".join(bad)


def test_no_import_cycles_between_modules():
    graph = {m: {t for t in ts if t in _graph_modules()} for m, ts in _graph().items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt) :] + [nxt]) if nxt in stack else nxt)
            elif state.get(nxt) is None:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            visit(node, [node])
    assert not cycles, cycles


def _graph_modules() -> set[str]:
    return {_module(p) for p in SRC.rglob("*.py")}


def test_the_checker_sees_a_violation(tmp_path, monkeypatch):
    """The rules can fail: an outputs module importing econometrics is reported."""
    fake = tmp_path / "intelcap"
    (fake / "outputs").mkdir(parents=True)
    (fake / "econometrics").mkdir()
    (fake / "econometrics" / "inference.py").write_text("")
    (fake / "outputs" / "figures.py").write_text("from intelcap.econometrics import inference\n")
    monkeypatch.setattr(__import__(__name__), "SRC", fake)
    import pytest

    with pytest.raises(AssertionError, match="outputs.figures .outputs. imports econometrics.inference"):
        test_every_import_respects_the_layer_rules()
