"""Compile LaTeX table documents to PDF (xelatex; the Debian packages it needs are named when it is missing).

The document text comes from `outputs.latex` (`tables_document`, `latex_document`); this module only runs the
engine in a scratch folder and moves the PDF into place atomically, so a failed run leaves no partial PDF. The same document gives the
same bytes (SOURCE_DATE_EPOCH fixes the dates and the file ID).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from intelcap import atomic
from intelcap.errors import InputError

__all__ = ["LATEX_DEBIAN_PACKAGES", "engine_path", "compile_latex"]

# What `tools/install_system_deps.sh` installs for the tables: xelatex, ctex (with its Fandol fonts), booktabs,
# pdflscape and geometry, threeparttable; dcolumn and array come with texlive-latex-base (a dependency).
LATEX_DEBIAN_PACKAGES = (
    "texlive-xetex",
    "texlive-latex-recommended",
    "texlive-latex-extra",
    "texlive-lang-chinese",
)


def engine_path(engine: str = "xelatex") -> str | None:
    """The engine's executable on PATH, or None."""
    return shutil.which(engine)


def missing_engine_message(engine: str = "xelatex") -> str:
    return (
        f"{engine} not found on PATH: results/paper/tables.pdf needs it. Install the Debian packages "
        + " ".join(LATEX_DEBIAN_PACKAGES)
        + " (bash tools/install_system_deps.sh), or build without it: `all` leaves tables.pdf out when "
        f"{engine} is missing"
    )


def compile_latex(tex: str, pdf_out: str | os.PathLike, engine: str = "xelatex", *, runs: int = 1) -> None:
    """Compile document text ``tex`` with ``engine`` and write the PDF to ``pdf_out`` atomically.

    Raises InputError naming the missing Debian packages when the engine is absent, and the engine's first
    error lines (with the .tex line) when compilation fails.
    """
    exe = engine_path(engine)
    if exe is None:
        raise InputError(missing_engine_message(engine), hint="bash tools/install_system_deps.sh")
    with tempfile.TemporaryDirectory(prefix="intelcap-tex-") as tmp:
        atomic.write_text(Path(tmp, "doc.tex"), tex)
        for _ in range(runs):
            proc = subprocess.run(
                [exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "doc.tex"],
                cwd=tmp,
                capture_output=True,
                text=True,
                errors="replace",
                # deterministic bytes: dates and the trailer /ID from a fixed epoch, not the clock
                env={**os.environ, "SOURCE_DATE_EPOCH": "946684800", "FORCE_SOURCE_DATE": "1"},
            )
            if proc.returncode != 0:
                log = Path(tmp, "doc.log")
                text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else proc.stdout
                errors = [i for i, line in enumerate(text.splitlines()) if line.startswith("!")]
                lines = text.splitlines()
                excerpt = "\n".join(lines[errors[0] : errors[0] + 6]) if errors else text[-1500:]
                raise InputError(
                    f"{engine} failed (exit {proc.returncode}):\n{excerpt}",
                    file=str(pdf_out),
                    hint="a missing .sty names the TeX Live package to install (tools/install_system_deps.sh)",
                )
        atomic.write_bytes(pdf_out, Path(tmp, "doc.pdf").read_bytes())
