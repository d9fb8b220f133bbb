"""intelcap: industrial intelligence and firm capacity utilization — a reproducible replication workflow."""

__version__ = "0.1.0"
