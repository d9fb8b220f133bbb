"""The paper's measures: capacity utilization (`cu`), robot exposure and its instrument (`robots`), DEA
efficiency (`dea`), firm attributes (`attributes`) and the text index (`text`, `text_inventory`)."""

__all__ = ["attributes", "cu", "dea", "keyword_expansion", "robots", "text", "text_audit", "text_inventory"]
