"""Locate and import the compiled extension ``_lwbench``.

The extension is built by CMake into ``<build>/python/`` (see python/CMakeLists.txt).
Search order: an already importable ``_lwbench``; ``$LWBENCH_BUILD_DIR/python``;
``<repo>/build/release/python``; any other ``<repo>/build/*/python``.
Importing this module never fails: ``load()`` raises ImportError with the fix.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
_module = None


def _candidates():
    env = os.environ.get("LWBENCH_BUILD_DIR")
    if env:
        yield Path(env) / "python"
    yield _REPO / "build" / "release" / "python"
    build = _REPO / "build"
    if build.is_dir():
        for d in sorted(build.iterdir()):
            if d.name != "release":
                yield d / "python"


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
    for d in _candidates():
        tried.append(str(d))
        if any(d.glob("_lwbench*.so")):
            sys.path.insert(0, str(d))
            _module = importlib.import_module("_lwbench")
            return _module
    raise ImportError(
        "the lwbench extension _lwbench is not built (looked in: " + ", ".join(tried) + "). "
        "Build it with: cmake --preset release && cmake --build --preset release "
        "(or set LWBENCH_BUILD_DIR to your build folder)"
    )
