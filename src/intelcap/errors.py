"""Errors that speak to the user: which file, which column, which rows, and what to do."""

from __future__ import annotations

from collections.abc import Iterable


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
        self.rows = list(rows)[:10] if rows is not None else None
        self.hint = hint
        parts = [message]
        if file is not None:
            parts.append(f"file: {file}")
        if column is not None:
            parts.append(f"column: {column}")
        if self.rows:
            parts.append(f"rows (first {len(self.rows)}): {self.rows}")
        if hint:
            parts.append(f"what to do: {hint}")
        super().__init__("\n  ".join(parts))


class EstimationError(IntelcapError):
    """A model that cannot be estimated as specified (empty sample, no variation, no instrument power)."""
