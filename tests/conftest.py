"""Shared fixtures: the repository root, the default configuration and keyword dictionary."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="module")
def spec():
    """The repository's keyword dictionary (config/keywords.yaml), for the text tests; a module whose tests need
    another `spec` defines its own fixture, which takes precedence."""
    from intelcap.measures.text import load_keywords

    return load_keywords()


@pytest.fixture()
def config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))


def pytest_collection_modifyitems(config, items) -> None:
    """Every test not marked `e2e` (runs the workflow) is a `unit` test: `pytest -m unit` is the fast loop."""
    for item in items:
        if item.get_closest_marker("e2e") is None:
            item.add_marker(pytest.mark.unit)
