"""Write constraints.txt: the exact versions of intelcap's dependency closure (with the test extra) as installed
in this environment. CI installs with `pip install -c constraints.txt -e ".[test]"`, so every run gets the
versions the project was tested with; pyproject.toml keeps the ranges a user's install may resolve to.

    pip install -e ".[test]" && python tools/lock_constraints.py
"""

from __future__ import annotations

import importlib.metadata as md
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement


def closure(name: str, extras: tuple[str, ...] = ()) -> dict[str, str]:
    """Name -> installed version of every distribution `name[extras]` requires, transitively."""
    seen: dict[str, str] = {}

    def walk(dist_name: str, wanted: tuple[str, ...]) -> None:
        try:
            dist = md.distribution(dist_name)
        except md.PackageNotFoundError:
            return
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in seen and not wanted:
            return
        seen[key] = dist.version
        for text in dist.requires or []:
            req = Requirement(text)
            envs = [{**default_environment(), "extra": e} for e in ("", *wanted)]
            if req.marker is None or any(req.marker.evaluate(env) for env in envs):
                walk(req.name, tuple(req.extras))

    walk(name, extras)
    seen.pop(name, None)
    return seen


if __name__ == "__main__":
    versions = closure("intelcap", ("test",))
    out = Path(__file__).resolve().parents[1] / "constraints.txt"
    out.write_text(
        '# Exact versions CI installs (pip install -c constraints.txt -e ".[test]"); regenerate with\n'
        "# python tools/lock_constraints.py after a deliberate upgrade.\n"
        + "".join(f"{k}=={v}\n" for k, v in sorted(versions.items())),
        encoding="utf-8",
    )
    print(f"{len(versions)} pins -> {out}")
