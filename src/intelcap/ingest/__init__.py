"""From raw downloads to the estimation sample: which files make a table (`files`), vendor-file readers
(`readers`), the data check (`check`) and the paper's sample construction, controls and winsorization
(`panel`)."""

__all__ = ["check", "files", "panel", "readers"]
