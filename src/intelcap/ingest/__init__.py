"""From raw downloads to the estimation sample: vendor-file readers (`readers`) and the paper's sample
construction, controls and winsorization (`panel`)."""

__all__ = ["check", "panel", "readers"]
