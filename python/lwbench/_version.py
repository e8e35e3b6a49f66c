"""The version of the lwbench Python package (read by python/pyproject.toml too: one source)."""

__version__ = "2.0.0"
