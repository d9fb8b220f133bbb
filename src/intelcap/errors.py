"""Errors that speak to the user: which file, which column, which rows, and what to do."""

from __future__ import annotations

from collections.abc import Iterable

# A message echoes cells of the user's file; a file without line breaks (or a wrong delimiter) makes one cell
# the whole file. Every part is cut to this many characters so an error never prints megabytes.
MAX_PART_CHARS = 2000


def clip(text: object, limit: int = 80) -> str:
    """`text` as a string of at most about `limit` characters, saying how much was cut."""
    s = str(text)
    return s if len(s) <= limit else f"{s[:limit]}... ({len(s) - limit:,} more characters)"


class IntelcapError(Exception):
    """Base class for every error the workflow raises on purpose."""


class InputError(IntelcapError):
    """Bad raw input or configuration, reported with its location and a remedy."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        rows: Iterable | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = file
        self.column = column
        self.rows = (
            [clip(r, 200) if isinstance(r, str) else r for r in list(rows)[:10]] if rows is not None else None
        )
        self.hint = hint
        parts = [clip(message, MAX_PART_CHARS)]
        if file is not None:
            parts.append(f"file: {file}")
        if column is not None:
            parts.append(f"column: {clip(column, 200)}")
        if self.rows:
            parts.append(f"rows (first {len(self.rows)}): {self.rows}")
        if hint:
            parts.append(f"what to do: {clip(hint, MAX_PART_CHARS)}")
        super().__init__("\n  ".join(parts))


class EstimationError(IntelcapError):
    """A model that cannot be estimated as specified (empty sample, no variation, no instrument power)."""
