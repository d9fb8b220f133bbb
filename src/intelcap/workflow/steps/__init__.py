"""Workflow steps, one module per `rules/<stage>.smk`: each function reads its rule's inputs, calls the method
modules and writes its outputs atomically. Which rule runs which step: `intelcap.workflow.registry`."""
