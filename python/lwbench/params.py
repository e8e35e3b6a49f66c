"""Type checks of the Python API's parameters, before anything reaches the extension.

Each check raises TypeError naming the parameter and what it takes, so
`lwbench.run(size="big")` says "size must be an int or a list of ints, got 'big' (str)"
instead of a pybind11 cast error. Values (unknown names, out-of-range numbers)
are checked by the extension, which raises ValueError with the reason.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["name", "names", "ints", "integer", "flag", "directory"]


def _what(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def name(param: str, value: Any) -> str:
    """Exactly one non-empty name (str)."""
    if not isinstance(value, str) or not value:
        raise TypeError(f"{param} must be one name (a non-empty str), got {_what(value)}")
    return value


def names(param: str, value: Any, allow_none: bool = False) -> list:
    """A name or a list of names (a comma-separated string is a list too) -> list of str.

    allow_none: the whole parameter may be None (-> [None], "not applicable").
    """
    if value is None and allow_none:
        return [None]
    if isinstance(value, str):
        items = [x.strip() for x in value.split(",")] if "," in value else [value]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise TypeError(f"{param} must be a name or a list of names, got {_what(value)}")
    if not items:
        raise TypeError(f"{param} must not be an empty list")
    for item in items:
        if not isinstance(item, str) or not item:
            raise TypeError(f"{param} must contain only non-empty names (str), got {_what(item)} in {value!r}")
    return items


def ints(param: str, value: Any) -> list:
    """An int or a list of ints -> list of int."""
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not items:
        raise TypeError(f"{param} must not be an empty list")
    for item in items:
        if not _is_int(item):
            raise TypeError(f"{param} must be an int or a list of ints, got {_what(item)}"
                            + (f" in {value!r}" if isinstance(value, (list, tuple)) else ""))
    return items


def integer(param: str, value: Any, minimum: int | None = None) -> int:
    """One int (not bool); ValueError below `minimum`."""
    if not _is_int(value):
        raise TypeError(f"{param} must be an int, got {_what(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{param} must be at least {minimum}, got {value}")
    return value


def flag(param: str, value: Any) -> bool:
    """A bool (True / False only)."""
    if not isinstance(value, bool):
        raise TypeError(f"{param} must be True or False, got {_what(value)}")
    return value


def directory(param: str, value: Any):
    """None or a path (str / os.PathLike)."""
    if value is not None and not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{param} must be a folder path (str or pathlib.Path) or None, got {_what(value)}")
    return value
