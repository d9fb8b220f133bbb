"""What a reader sees: tables in md/tex/docx (`tables`, printed through `grid`, `latex` and `word`, with the
display labels of `labels`), figures (`figures`, `rulegraph`, `fonts`) and the comparison with the paper
(`compare`)."""

__all__ = ["compare", "figures", "fonts", "grid", "labels", "latex", "rulegraph", "tables", "word"]
