"""What a reader sees: tables in md/tex/docx/html (`tables`, printed through `grid`, `latex`, `word` and `html`;
`pdf` compiles the LaTeX; `csvrows` reads result CSVs without pandas), with the display labels of `labels` and the
significance stars of `stars`; figures (`figures`, `framework`, `rulegraph`, `fonts`) and the comparison with the
paper (`compare`, `claims`)."""

__all__ = [
    "claims",
    "compare",
    "csvrows",
    "figures",
    "fonts",
    "framework",
    "grid",
    "html",
    "labels",
    "latex",
    "pdf",
    "rulegraph",
    "stars",
    "stata",
    "tables",
    "word",
]
