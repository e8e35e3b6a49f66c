"""Locate and import the compiled extension ``_lwbench``.

The extension is built by CMake into ``<build>/python/`` (see python/CMakeLists.txt).
Search order: an already importable ``_lwbench``; then the folders of
``lwbench._paths.build_python_dirs()`` ($LWBENCH_BUILD_DIR/python, the checkout's
build/release/python, its other build/*/python). Importing this module never
fails: ``load()`` raises ImportError with the fix; ``problem()`` says why it would.
"""

from __future__ import annotations

import importlib
import sys

from . import _paths

_module = None


def load():
    """Return the ``_lwbench`` module, importing it on first use."""
    global _module
    if _module is not None:
        return _module
    try:
        _module = importlib.import_module("_lwbench")
        return _module
    except ImportError:
        pass
    tried = []
    for d in _paths.build_python_dirs():
        tried.append(str(d))
        if any(d.glob("_lwbench*.so")):
            sys.path.insert(0, str(d))
            _module = importlib.import_module("_lwbench")
            return _module
    raise ImportError(
        "the lwbench extension _lwbench is not built (looked in: " + (", ".join(tried) or "no checkout known") + "). "
        "Build it with: cmake --preset release && cmake --build --preset release "
        "(or set LWBENCH_BUILD_DIR to your build folder)"
    )


def problem() -> str | None:
    """None if the extension loads, else why not (``load()``'s message): what a caller
    that can do without it (a test's skip reason, an optional feature) reports."""
    try:
        load()
        return None
    except ImportError as e:
        return str(e)
