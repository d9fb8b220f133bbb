"""What a reader sees: tables in md/tex/docx (`tables`), figures (`figures`, `fonts`) and the comparison with the
paper (`compare`)."""

__all__ = ["compare", "figures", "fonts", "tables"]
