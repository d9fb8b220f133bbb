"""What a reader sees: tables in md/tex/docx/html (`tables`, printed through `grid`, `latex`, `word` and `html`;
`pdf` compiles the LaTeX), with the
display labels of `labels`), figures (`figures`, `rulegraph`, `fonts`) and the comparison with the paper
(`compare`)."""

__all__ = [
    "claims",
    "compare",
    "figures",
    "fonts",
    "framework",
    "grid",
    "html",
    "labels",
    "latex",
    "pdf",
    "rulegraph",
    "stata",
    "tables",
    "word",
]
