"""The version of the lwbench Python package (read by python/pyproject.toml too). It is the
project's version, `project(lwbench VERSION …)` in CMakeLists.txt; tests/python/test_package.py
checks that the two agree."""

__version__ = "0.1.0"
