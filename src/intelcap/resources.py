"""The one resolver for files shipped with the package: the CJK font, the paper's keyword dictionary, the
default labels, the figures' display text, the IFR global-installation figures and the configuration schema.

They live in `intelcap/data/` (in the repository, labels, IFR figures and schema are links to the workflow's
own `config/` and `schemas/` files, so there is one copy to edit), so library functions find them in an editable
checkout, a wheel or a site-packages install alike.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def shipped(name: str) -> Path:
    """Path of a shipped file by name (`labels.yaml`, `paper_keywords.yaml`, `config.schema.yaml`, ...)."""
    path = DATA / name
    if not path.is_file():
        from intelcap.errors import InputError

        raise InputError(
            f"shipped file {name!r} is missing from the installed package",
            file=str(path),
            hint="reinstall intelcap (pip install .) or restore src/intelcap/data/ from git",
        )
    return path
