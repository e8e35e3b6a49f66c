"""Where the lwbench checkout is: the one place that knows the repository layout.

Run from a checkout (python/ on sys.path), the checkout is two folders above
this file. Installed with pip (python/pyproject.toml), the package is a copy in
site-packages, and the build step records the checkout it was installed from in
``lwbench/_checkout.py`` (see python/setup.py). From the checkout the package
finds: the compiled extension (``<checkout>/build/<preset>/python``, or
``$LWBENCH_BUILD_DIR/python``), the plots package (``<checkout>/plots``), the
JavaScript for interactive pages (``<checkout>/web/node_modules``) and the
default results folder.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

__all__ = ["checkout", "build_python_dirs", "web_modules", "results_dir", "ensure_plots_importable"]


def checkout() -> Path | None:
    """The repository this package belongs to, or None when unknown."""
    try:
        from ._checkout import CHECKOUT  # written at install time
        return Path(CHECKOUT)
    except ImportError:
        pass
    here = Path(__file__).resolve().parents[2]
    return here if (here / "python" / "lwbench").is_dir() else None


def build_python_dirs() -> list:
    """Folders that may hold the extension, in search order: $LWBENCH_BUILD_DIR/python, then
    <checkout>/build/release/python, then the other <checkout>/build/*/python."""
    out = []
    env = os.environ.get("LWBENCH_BUILD_DIR")
    if env:
        out.append(Path(env) / "python")
    repo = checkout()
    if repo is not None:
        out.append(repo / "build" / "release" / "python")
        build = repo / "build"
        if build.is_dir():
            out += [d / "python" for d in sorted(build.iterdir()) if d.name != "release"]
    return out


def web_modules() -> Path | None:
    """<checkout>/web/node_modules (installed by scripts/setup-web.sh), or None."""
    repo = checkout()
    return repo / "web" / "node_modules" if repo is not None else None


def results_dir() -> Path:
    """The default folder for new result files: <checkout>/results, else ./results."""
    repo = checkout()
    return repo / "results" if repo is not None else Path.cwd() / "results"


def ensure_plots_importable() -> None:
    """Make lwbench_plots (in <checkout>/plots) importable when it is not installed."""
    if importlib.util.find_spec("lwbench_plots") is None:
        repo = checkout()
        if repo is not None and (repo / "plots" / "lwbench_plots").is_dir():
            sys.path.append(str(repo / "plots"))
